// Small reductions inline: a sum or max computed in place by each kernel that reads it — a few
// loads added to a consumer instead of a kernel, a dispatch and a store of its own:
//  - over a non-last axis of at most SMALL_REDUCTION elements (FPET's and ToMe's mean of the keys
//    over 4 heads), for any consumer that computes what it reads;
//  - over the last axis of at most SMALL_ROW_REDUCTION elements when only matmul operands read it
//    (through elementwise ops and views: the token metric's norm in the cosine scores), where it
//    is per row of the operand, computed once per lane row (hoisted out of the k loop). Elsewhere
//    last-axis reductions are the row kernels' (fuse-row-reductions), which read each row once.

import { OPS } from '../../src/core/ir/ops.ts';
import type { FusionPass, FusionState } from './plan.ts';

/** Reductions over at most this many elements of a non-last axis are computed where they are read. */
export const SMALL_REDUCTION = 4;
/** Last-axis reductions over at most this many elements are computed in the matmuls that read them. */
export const SMALL_ROW_REDUCTION = 16;

/** Consumers that compute what they read through KernelBuilder.value (elementwise chains, views, matmul operands, reductions). */
const COMPUTES_INPUTS: ReadonlySet<string> = new Set(['elementwise', 'view', 'index', 'literal', 'gradient', 'contraction', 'reduction']);

/**
 * Whether node `id` is cheap to compute where it is read: stored, or views, elementwise ops and
 * reductions already inlined over stored nodes, at most `ops` computing nodes deep.
 */
function cheapOverStored(s: FusionState, id: number, ops: number): boolean {
  const n = s.graph.node(id);
  if (s.plan.isMaterialized(id)) return true;
  const kind = OPS[n.op].kind;
  if (kind === 'view' || kind === 'literal' || kind === 'gradient') return n.inputs.every((i) => cheapOverStored(s, i, ops));
  if (ops === 0 || !(kind === 'elementwise' || n.op === 'sum' || n.op === 'reduceMax')) return false;
  return n.inputs.every((i) => cheapOverStored(s, i, ops - 1));
}
/** Computing nodes a small reduction's input may take (its cost is paid once per reduced element). */
const INPUT_OPS = 3;

/** Whether only matmul operands read node `id`: through elementwise ops, views and gathers computed in place. */
function onlyMatmulsRead(s: FusionState, id: number): boolean {
  return s.consumers[id]!.every((c) => {
    const n = s.graph.node(c);
    if (n.op === 'matmul') return !s.inAttention.has(c);
    const kind = OPS[n.op].kind;
    return (kind === 'elementwise' || kind === 'view' || kind === 'index' || kind === 'gradient') && !s.plan.isMaterialized(c) && !s.outputs.has(c) && onlyMatmulsRead(s, c);
  });
}

/** Whether the kernel of root `id` computes other stored nodes too (row reductions joined to it, siblings, a second product). */
function hostsOthers(plan: FusionState['plan'], id: number): boolean {
  return [...plan.rowFused.values()].includes(id) || [...plan.matmulRowReductions.values()].includes(id) || plan.siblings.has(id) || plan.secondProduct.has(id);
}

function inlineSmallReductions(s: FusionState): void {
  const { graph, plan, outputs, consumers, claimed } = s;
  for (const n of graph.nodes) {
    if (n.op !== 'sum' && n.op !== 'reduceMax') continue;
    const x = graph.node(n.inputs[0]!);
    const axis = n.attrs.axis, extent = x.type.shape[axis]!;
    const last = axis === x.type.shape.length - 1;
    if (extent > (last ? SMALL_ROW_REDUCTION : SMALL_REDUCTION) || n.type.dtype !== 'f32') continue;
    if (!plan.isMaterialized(n.id) || outputs.has(n.id) || claimed.has(n.id) || plan.rowFused.has(n.id) || plan.anchorOf.has(n.id) || hostsOthers(plan, n.id)) continue;
    if (plan.matmulRowReductions.has(n.id) || !cheapOverStored(s, x.id, last ? INPUT_OPS : 0)) continue;
    const readers = last
      ? onlyMatmulsRead(s, n.id)
      : consumers[n.id]!.every((c) => COMPUTES_INPUTS.has(OPS[graph.node(c).op].kind) && !s.inAttention.has(c));
    if (readers) plan.materialized.delete(n.id);
  }
}

export const INLINE_SMALL_REDUCTIONS: FusionPass = { name: 'inline-small-reductions', run: inlineSmallReductions };
