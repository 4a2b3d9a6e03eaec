// Small reductions inline: a sum or max computed in place by each kernel that reads it — a few
// loads added to a consumer instead of a kernel, a dispatch and a store of its own:
//  - over a non-last axis of at most SMALL_REDUCTION elements (FPET's and ToMe's mean of the keys
//    over 4 heads), for any consumer that computes what it reads;
//  - over the last axis of at most SMALL_ROW_REDUCTION elements when only matmul operands read it
//    (through elementwise ops and views: the token metric's norm in the cosine scores), where it
//    is per row of the operand, computed once per lane row (hoisted out of the k loop). Elsewhere
//    last-axis reductions are the row kernels' (fuse-row-reductions), which read each row once.

import { OPS } from '../../src/core/ir/ops.ts';
import type { AdapterClass } from '../../kernels/matmul-variants.ts';
import type { FusionPass, FusionState } from './plan.ts';

/** Reductions over at most this many elements of a non-last axis are computed where they are read (CPU adapters). */
export const SMALL_REDUCTION = 4;
/** Last-axis reductions over at most this many elements are computed in the matmuls that read them (CPU adapters). */
export const SMALL_ROW_REDUCTION = 16;

/**
 * What "small" means per adapter class. On CPU adapters every load costs (SMALL_REDUCTION,
 * SMALL_ROW_REDUCTION, ROW_REDUCTION_BUDGET). On GPUs, where a launch costs ~25 µs, loads from
 * cache are cheap and the kernels after a token merge are small: the keys' mean over 12 heads
 * and the metric's norm over 64 values (ViT-B's FPET and ToMe) are recomputed where read.
 */
export const SMALL_REDUCTIONS: Readonly<Record<AdapterClass, { readonly axis: number; readonly row: number; readonly rowBudget: number }>> = {
  cpu: { axis: SMALL_REDUCTION, row: SMALL_ROW_REDUCTION, rowBudget: 48 },
  gpu: { axis: 16, row: 64, rowBudget: 256 },
};

/** Consumers that compute what they read through KernelBuilder.value (elementwise chains, views, matmul operands, reductions). */
const COMPUTES_INPUTS: ReadonlySet<string> = new Set(['elementwise', 'view', 'index', 'literal', 'gradient', 'contraction', 'reduction']);

/**
 * What computing one element of node `id` in place costs: a load per stored element read, an op per
 * elementwise node, an inlined reduction its extent times its input's cost; undefined when a node on
 * the way (a matmul, gather, anything with a kernel of its own) cannot be computed in place.
 */
function inlineCost(s: FusionState, id: number): number | undefined {
  if (s.plan.isMaterialized(id)) return 1;
  const n = s.graph.node(id);
  const kind = OPS[n.op].kind;
  const own = kind === 'elementwise' ? 1 : kind === 'view' || kind === 'literal' || kind === 'gradient' ? 0 : undefined;
  const inputs = n.inputs.map((i) => inlineCost(s, i));
  if (inputs.some((c) => c === undefined)) return undefined;
  const total = inputs.reduce<number>((a, c) => a + c!, 0);
  if (own !== undefined) return own + total;
  if (n.op === 'sum' || n.op === 'reduceMax') return s.graph.node(n.inputs[0]!).type.shape[n.attrs.axis]! * total;
  return undefined;
}
/*
 * Loads and ops a last-axis reduction may cost per row where it is computed in place (rowBudget):
 * on CPU adapters the metric's squared norm (16 elements, a load and a multiply each) fits; a norm
 * over the mean of 4 heads computed in place (5 loads and ops per element) does not — each of a
 * matmul tile's rows would repeat 16 × 4 loads, and the kernel's text grows ~4×, for one kernel saved.
 */

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
  const small = SMALL_REDUCTIONS[s.opts.adapterClass ?? 'cpu'];
  for (const n of graph.nodes) {
    if (n.op !== 'sum' && n.op !== 'reduceMax') continue;
    const x = graph.node(n.inputs[0]!);
    const axis = n.attrs.axis, extent = x.type.shape[axis]!;
    const last = axis === x.type.shape.length - 1;
    if (extent > (last ? small.row : small.axis) || n.type.dtype !== 'f32') continue;
    if (!plan.isMaterialized(n.id) || outputs.has(n.id) || claimed.has(n.id) || plan.rowFused.has(n.id) || plan.anchorOf.has(n.id) || hostsOthers(plan, n.id)) continue;
    if (plan.matmulRowReductions.has(n.id) || plan.epilogueGranules.has(n.id)) continue;
    const cost = inlineCost(s, x.id);
    if (cost === undefined || cost > (last ? small.rowBudget / extent : 1)) continue;
    const readers = last
      ? onlyMatmulsRead(s, n.id)
      : consumers[n.id]!.every((c) => COMPUTES_INPUTS.has(OPS[graph.node(c).op].kind) && !s.inAttention.has(c));
    if (readers) plan.materialized.delete(n.id);
  }
}

export const INLINE_SMALL_REDUCTIONS: FusionPass = { name: 'inline-small-reductions', run: inlineSmallReductions };
