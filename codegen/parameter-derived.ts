// Work that depends on parameters only: a kernel that reads nothing but parameters, constants and
// what other such kernels wrote (a 1-bit adapter's weight statistics, say) computes the same
// values at every step until one of those parameters is written. The plan launches these kernels
// first, in dispatches of their own, and keeps what they write alive across steps; the runtime
// runs them again only after one of their parameters changed (Program.encode). At inference that
// takes them off every step; in training they run again after each update of what they read.

/** What the analysis needs of a kernel: the tensors (storage ids) it reads and writes. */
export interface KernelAccess {
  readonly reads: ReadonlySet<number>;
  readonly writes: ReadonlySet<number>;
}

/** What a tensor read by a kernel is: a parameter, a constant, or anything else (inputs, kernel outputs). */
export type LeafKind = 'param' | 'constant' | undefined;

/**
 * The kernels (by index into `kernels`, given in a valid launch order) whose values depend on
 * parameters only, each with the parameters (storage ids) they depend on, directly or through
 * other such kernels. A tensor also written by another kernel is not parameter-derived, nor is
 * anything that reads it.
 */
export function parameterDerived(kernels: readonly KernelAccess[], leafKind: (tensor: number) => LeafKind): Map<number, ReadonlySet<number>> {
  const mixed = new Set<number>(); // tensors with a writer that is not parameter-derived
  for (;;) {
    const derived = new Map<number, ReadonlySet<number>>();
    const derivedTensors = new Map<number, Set<number>>();
    kernels.forEach((k, i) => {
      if ([...k.writes].some((t) => mixed.has(t))) return;
      const params = new Set<number>();
      for (const t of k.reads) {
        if (k.writes.has(t)) continue;
        const kind = leafKind(t);
        if (kind === 'param') params.add(t);
        else if (kind === undefined) {
          const from = derivedTensors.get(t);
          if (!from) return;
          for (const p of from) params.add(p);
        }
      }
      derived.set(i, params);
      for (const t of k.writes) derivedTensors.set(t, new Set([...(derivedTensors.get(t) ?? []), ...params]));
    });
    let changed = false;
    kernels.forEach((k, i) => {
      if (derived.has(i)) return;
      for (const t of k.writes) if (derivedTensors.has(t) && !mixed.has(t)) (mixed.add(t), (changed = true));
    });
    if (!changed) return derived;
  }
}

/** The leaf kind of a graph node by its op: parameters and constants; anything else is undefined. */
export function leafKind(op: string): LeafKind {
  return op === 'param' ? 'param' : op === 'constant' ? 'constant' : undefined;
}
