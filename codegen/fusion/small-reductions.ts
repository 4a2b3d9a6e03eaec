// Small reductions inline: a sum or max over a non-last axis of at most SMALL_REDUCTION elements
// (FPET's and ToMe's mean of the keys over 4 heads, a gradient summed over heads) is computed in
// place by each kernel that reads it — a few loads added to a consumer instead of a kernel, a
// dispatch and a store of its own. Last-axis reductions are the row kernels' (fuse-row-reductions).

import { OPS } from '../../src/core/ir/ops.ts';
import type { FusionPass, FusionState } from './plan.ts';

/** Reductions over at most this many elements are computed where they are read. */
export const SMALL_REDUCTION = 4;

/** Consumers that compute what they read through KernelBuilder.value (elementwise chains, views, matmul operands, reductions). */
const COMPUTES_INPUTS: ReadonlySet<string> = new Set(['elementwise', 'view', 'index', 'literal', 'gradient', 'contraction', 'reduction']);

/** Whether every path from node `id` through views ends in a stored node (its input costs loads only). */
function readsStoredThroughViews(s: FusionState, id: number): boolean {
  const n = s.graph.node(id);
  if (s.plan.isMaterialized(id)) return true;
  return OPS[n.op].kind === 'view' && n.inputs.every((i) => readsStoredThroughViews(s, i));
}

function inlineSmallReductions(s: FusionState): void {
  const { graph, plan, outputs, consumers, claimed } = s;
  for (const n of graph.nodes) {
    if (n.op !== 'sum' && n.op !== 'reduceMax') continue;
    const x = graph.node(n.inputs[0]!);
    const axis = n.attrs.axis;
    if (axis === x.type.shape.length - 1 || x.type.shape[axis]! > SMALL_REDUCTION || n.type.dtype !== 'f32') continue;
    if (!plan.isMaterialized(n.id) || outputs.has(n.id) || claimed.has(n.id) || plan.rowFused.has(n.id) || plan.anchorOf.has(n.id)) continue;
    if (plan.matmulRowReductions.has(n.id) || !readsStoredThroughViews(s, x.id)) continue;
    if (!consumers[n.id]!.every((c) => COMPUTES_INPUTS.has(OPS[graph.node(c).op].kind) && !plan.attention.has(c))) continue;
    plan.materialized.delete(n.id);
  }
}

export const INLINE_SMALL_REDUCTIONS: FusionPass = { name: 'inline-small-reductions', run: inlineSmallReductions };
