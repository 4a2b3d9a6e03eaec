// LayerNorm as a matmul prologue: a normalised row operand that only one matmul reads is neither
// stored by a row kernel of its own nor fed by a kernel of statistics; the matmul computes its
// rows' statistics before its k loop and normalises the rows as it loads them. One kernel (and
// one launch) fewer per norm, and the normalised copy is never written.

import type { Node } from '../../src/core/ir/graph.ts';
import { numel, sameShape } from '../../src/core/ir/shape.ts';
import { kVaryingReads, rowOperandOf } from './prologues.ts';
import { GRANULE } from '../../kernels/matmul-tiled.ts';
import { ANCHORS, ELEMENTWISE, type FusionPass, type FusionPlan, type FusionState } from './plan.ts';

/**
 * A last-axis reduction over the operand's rows: over the rows themselves, or over a shorter
 * tensor with the same rows (the per-granule sums codegen/granule-statistics.ts writes).
 */
const isRowReduction = (plan: FusionPlan, n: Node, domain: readonly number[]) => {
  if ((n.op !== 'sum' && n.op !== 'reduceMax') || n.attrs.axis !== domain.length - 1) return false;
  const inShape = plan.graph.node(n.inputs[0]!).type.shape;
  if (sameShape(inShape, domain)) return true;
  return inShape.length === domain.length && sameShape(inShape.slice(0, -1), domain.slice(0, -1)) && readsGranuleSums(plan, n.inputs[0]!);
};

/** Whether `id` is computed (in place) from granule sums a matmul epilogue writes. */
function readsGranuleSums(plan: FusionPlan, id: number, depth = 0): boolean {
  if (plan.epilogueGranules.has(id)) return true;
  if (plan.isMaterialized(id) || depth > 6) return false;
  return plan.graph.node(id).inputs.some((i) => readsGranuleSums(plan, i, depth + 1));
}

/** The matmul's row operand, through reshapes that keep its rows' length, and the kernel root of the matmul. */
function rowOperand(plan: FusionPlan, m: Node): { target: Node; root: number } | undefined {
  const target = rowOperandOf(plan.graph, (id) => plan.isMaterialized(id), m);
  const root = [...plan.anchorOf].find(([, mm]) => mm === m.id)?.[0] ?? (plan.isMaterialized(m.id) ? m.id : undefined);
  return root === undefined ? undefined : { target, root };
}

/**
 * The row reductions the operand is computed from (over its own rows: LayerNorm's Σx and
 * Σ(x − mean)²), found through what is computed in place and through the reductions' own inputs;
 * undefined when it reads another kind of reduction or anchor.
 */
function statistics(plan: FusionPlan, target: Node): Set<number> | undefined {
  const graph = plan.graph, domain = target.type.shape;
  const found = new Set<number>(), seen = new Set<number>();
  let ok = true;
  const visit = (id: number, top: boolean) => {
    if (seen.has(id) || !ok) return;
    seen.add(id);
    const n = graph.node(id);
    if (!top && isRowReduction(plan, n, domain) && (plan.isMaterialized(id) || plan.rowFused.get(id) === target.id)) found.add(id);
    else if (!top && plan.isMaterialized(id)) return; // a buffer it reads
    else if (!top && ANCHORS.has(n.op)) {
      ok = false; // another reduction, or a matmul, computed in place: not a norm
      return;
    }
    for (const i of n.inputs) visit(i, false);
  };
  visit(target.id, true);
  // One domain for all (the template reduces them over one row length).
  const lengths = new Set([...found].map((id) => graph.node(graph.node(id).inputs[0]!).type.shape.at(-1)));
  return ok && lengths.size <= 1 ? found : undefined;
}

/** The length the statistics reduce over (their rows'), when they read fewer values per row than the operand has. */
const statisticsLength = (plan: FusionPlan, stats: ReadonlySet<number>): number => plan.graph.node(plan.graph.node([...stats][0]!).inputs[0]!).type.shape.at(-1)!;

/** The stored tensors the kernel of `root` would read with `target` and `stats` computed in it. */
function readsAfter(plan: FusionPlan, root: number, target: Node, stats: ReadonlySet<number>): Set<number> {
  const gone = new Set([target.id, ...stats]);
  const reads = new Set(plan.members(root).reads);
  for (const id of [target.id, ...stats]) if (plan.isMaterialized(id)) for (const r of plan.members(id).reads) reads.add(r);
  return new Set([...reads].filter((id) => !gone.has(id)));
}

/** Stored rows a prologue's statistics may be computed from (see fuseNormPrologues). */
const MAX_STATISTICS_SOURCES = 2;

/**
 * GPUs: the statistics are recomputed for each column tile, re-reading the tile's rows (about
 * half again the bytes the k loop reads, from cache). Worth the kernel it removes (a launch of
 * ~25 µs and a round trip of the normalised rows through memory) while the matmul is small:
 * up to 8 GFLOP, ~250 µs at 30 TFLOP/s, where a tenth of it costs what the kernel did
 * (ViT-B/16 at batch 1 and 8 fuse, at batch 32 not).
 */
export const GPU_NORM_PROLOGUE_MAX_FLOPS = 8e9;

/**
 * An elementwise row operand computed from row reductions over its own rows (a LayerNorm),
 * read, with those reductions, by this matmul's kernel only, is computed in that kernel: the
 * reductions per row before the k loop (FusionPlan.matmulRowReductions). The vec4 and subgroup
 * variants compute them per lane for the rows it reads; the tiled one with all its threads for
 * the tile's rows (kernels/reduce.ts emitTileRowStatistics).
 */
function fuseNormPrologues({ graph, plan, opts, outputs, inAttention }: FusionState, gpuMaxFlops: number): void {
  const gpu = opts.adapterClass === 'gpu';
  for (const m of graph.nodes) {
    if (m.op !== 'matmul' || inAttention.has(m.id)) continue;
    const found = rowOperand(plan, m);
    if (!found) continue;
    const { target, root } = found;
    // Rows read as vec4s along k (the variants' k loop without a scalar tail).
    const K = target.type.shape[target.type.shape.length - 1]!;
    if (K % 4 !== 0 || outputs.has(target.id) || !ELEMENTWISE.has(target.op) || plan.aliasOf.has(target.id)) continue;
    const stats = statistics(plan, target);
    if (!stats?.size || [...stats].some((r) => outputs.has(r))) continue;
    // Statistics combined from a few partials per row (granule sums) cost little in every column tile.
    const fromPartials = statisticsLength(plan, stats) * GRANULE <= K;
    if (gpu && !fromPartials && 2 * numel(m.type.shape) * K > gpuMaxFlops) continue;
    // The statistics are recomputed in every column tile: from at most two stored rows (the
    // residual stream; FPET's merged tokens), not from an expression over more (block 0's
    // cls | patches + pos: its qkv took 13.2 ms against 7.5 in the other blocks and 6.4 plain,
    // vit-mnist b100 on lavapipe).
    // GPUs, where compiling is cheap: a row gather's indices are not reads along k (kVaryingReads).
    const readsOf = (id: number) => (plan.isMaterialized(id) ? 1 : kVaryingReads(graph, plan.materialized, graph.node(id), !gpu));
    if ([...stats].some((r) => readsOf(graph.node(r).inputs[0]!) > MAX_STATISTICS_SOURCES)) continue;
    const moved = new Set([target.id, ...stats]);
    // The kernels writing what moves go away. Statistics other kernels read too (a training
    // step's backward) stay stored, written by this kernel; the normalised operand may not be.
    const others = plan.roots().filter((k) => !moved.has(k.id) && plan.writer(k.id) !== root);
    const otherReads = new Set(others.flatMap((k) => [...plan.members(k.id).reads]));
    const readElsewhere = new Set([...moved].filter((id) => otherReads.has(id)));
    if (readElsewhere.has(target.id)) continue;
    if ([...moved].some((id) => plan.isMaterialized(id) && !moved.has(plan.writer(id)))) continue;
    if (readsAfter(plan, root, target, stats).size + plan.outputsOf(root) + readElsewhere.size > opts.maxBindings) continue;
    for (const id of moved) {
      plan.unjoin(id);
      plan.rowFused.delete(id);
      if (!readElsewhere.has(id)) plan.materialized.delete(id);
    }
    for (const r of stats) plan.matmulRowReductions.set(r, root);
    for (const r of readElsewhere) plan.join(root, r);
  }
}

/** The pass with another limit for GPUs (Infinity: every norm it can; bench/device/norm-ab.ts compares). */
export const normProloguesUpTo = (gpuMaxFlops: number): FusionPass => ({ name: 'fuse-norm-prologues', run: (s) => fuseNormPrologues(s, gpuMaxFlops) });

export const FUSE_NORM_PROLOGUES: FusionPass = normProloguesUpTo(GPU_NORM_PROLOGUE_MAX_FLOPS);
