// Memory planning: tensors whose lifetimes (first and last kernel that touch them) do not overlap
// may share bytes. Placement is greedy, largest first, at the lowest offset that does not collide
// with an already-placed tensor whose lifetime overlaps; offsets respect the storage-binding
// alignment so every tensor can be bound on its own.

export interface Lifetime {
  readonly key: number;
  readonly bytes: number;
  /** First and last step (inclusive) at which the tensor must hold its value. */
  readonly first: number;
  readonly last: number;
}

/** Where the memory plan put one tensor (keyed by its node id): byte offset in the work arena, and size. */
export interface Placement {
  readonly key: number;
  readonly offset: number;
  readonly bytes: number;
}

/** The work arena's layout: tensors whose lifetimes do not overlap share bytes. */
export interface MemoryPlan {
  readonly placements: ReadonlyMap<number, Placement>;
  /** Size of the arena: the planned peak. */
  readonly arenaBytes: number;
  /** What the same tensors need with no reuse at all. */
  readonly noReuseBytes: number;
}

export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export function planMemory(items: readonly Lifetime[], alignment: number): MemoryPlan {
  const order = [...items].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.key - b.key);
  const placed: (Lifetime & { offset: number })[] = [];
  const placements = new Map<number, Placement>();
  let arenaBytes = 0;
  for (const t of order) {
    if (t.last < t.first) throw new Error(`tensor ${t.key}: lifetime ends (${t.last}) before it starts (${t.first})`);
    const size = alignUp(Math.max(t.bytes, 4), alignment);
    const busy = placed
      .filter((p) => p.first <= t.last && t.first <= p.last)
      .map((p) => [p.offset, p.offset + alignUp(Math.max(p.bytes, 4), alignment)] as const)
      .sort((a, b) => a[0] - b[0]);
    let offset = 0;
    for (const [s, e] of busy) {
      if (offset + size <= s) break;
      offset = Math.max(offset, e);
    }
    placed.push({ ...t, offset });
    placements.set(t.key, { key: t.key, offset, bytes: t.bytes });
    arenaBytes = Math.max(arenaBytes, offset + size);
  }
  const noReuseBytes = items.reduce((s, t) => s + alignUp(Math.max(t.bytes, 4), alignment), 0);
  return { placements, arenaBytes, noReuseBytes };
}
