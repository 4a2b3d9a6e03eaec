// Aliases: tensors that share a buffer with another. A stored reshape of a stored result used
// only by it is the same bytes (no copy kernel); an update the caller writes back over a
// parameter after every step is written there directly by its kernel (no copy at all).

import { sameShape } from '../../src/core/ir/shape.ts';
import { BUFFER_LEAVES, ELEMENTWISE, type FusionPass, type FusionPlan, type FusionState } from './plan.ts';

/** A stored reshape of a stored result used only by it is the same bytes: no copy kernel. */
function aliasStoredReshapes({ graph, plan, consumers, outputs }: FusionState): void {
  const mat = plan.materialized;
  for (const n of graph.nodes) {
    const src = n.inputs[0];
    if (n.op !== 'reshape' || !mat.has(n.id) || src === undefined || !mat.has(src)) continue;
    const x = graph.node(src);
    if (BUFFER_LEAVES.has(x.op) || outputs.has(src) || consumers[src]!.length !== 1 || plan.aliasOf.has(src)) continue;
    plan.aliasOf.set(n.id, src);
  }
}

export const ALIAS_STORED_RESHAPES: FusionPass = { name: 'alias-stored-reshapes', run: aliasStoredReshapes };

/** The outputs of the kernel writing `id`: its root and the roots joined to it. */
const kernelOutputs = (plan: FusionPlan, id: number): number[] => {
  const root = plan.writer(id);
  return [root, ...(plan.siblings.get(root) ?? [])];
};

/**
 * Whether output `x` may be written over parameter `p`'s buffer by its kernel: every other kernel
 * reading p comes before x's kernel in launch order (the batch scheduler keeps a kernel writing a
 * buffer after every earlier reader of it, codegen/batch.ts), and x's kernel reads p only to
 * compute x, elementwise at x's own index (each element is read before it is overwritten, by the
 * invocation that overwrites it). `lastReader`: per parameter, the position of the last kernel
 * reading it among the kernel roots `roots`.
 */
function canWriteOver(plan: FusionPlan, x: number, p: number, roots: readonly number[], lastReader: ReadonlyMap<number, number>): boolean {
  const graph = plan.graph;
  const own = kernelOutputs(plan, x);
  if ((lastReader.get(p) ?? -1) > roots.indexOf(plan.writer(x))) return false;
  for (const o of own) {
    const { computed, reads } = plan.members(o);
    if (o !== x) {
      if (reads.has(p)) return false;
      continue;
    }
    const readsP = (id: number): boolean => graph.node(id).inputs.some((i) => i === p || (computed.has(i) && readsP(i)));
    const sameIndex = (c: number) => sameShape(graph.node(c).type.shape, graph.node(x).type.shape) && ELEMENTWISE.has(graph.node(c).op);
    if ([...computed].some((c) => readsP(c) && !sameIndex(c))) return false;
  }
  return true;
}

/**
 * Write-back in place: an output copied over a parameter after every step (AdamW's new
 * parameter and moments, FusionOptions.writeBack) is written over the parameter by its kernel,
 * where canWriteOver allows. The step then needs no copy commands (a training step of the main
 * job had 42, ViT-B/16 with AdaptFormer 78).
 */
function writeBackInPlace({ graph, plan, opts, outputs }: FusionState): void {
  if (!opts.writeBack?.length) return;
  const params = new Map(graph.params.map((n) => [n.attrs.name, n.id] as const));
  const roots = plan.kernelRoots().map((k) => k.id);
  const lastReader = new Map<number, number>();
  roots.forEach((k, i) => {
    for (const o of kernelOutputs(plan, k)) for (const r of plan.members(o).reads) if (BUFFER_LEAVES.has(graph.node(r).op)) lastReader.set(r, i);
  });
  const taken = new Set<number>();
  for (const [outName, paramName] of opts.writeBack) {
    const x = graph.outputs.get(outName), p = params.get(paramName);
    if (x === undefined || p === undefined || taken.has(p) || outputs.has(p)) continue;
    const xn = graph.node(x), pn = graph.node(p);
    if (!plan.isMaterialized(x) || BUFFER_LEAVES.has(xn.op) || plan.aliasOf.has(x) || [...plan.aliasOf.values()].includes(x)) continue;
    if (xn.type.dtype !== pn.type.dtype || !sameShape(xn.type.shape, pn.type.shape) || !canWriteOver(plan, x, p, roots, lastReader)) continue;
    plan.writtenOver.set(x, p);
    taken.add(p);
  }
}

export const WRITE_BACK_IN_PLACE: FusionPass = { name: 'write-back-in-place', run: writeBackInPlace };
