// Reductions. `reduceKernel`: one thread per output, looping over the reduced axis (any axis;
// coalesced when the axis is not the last). `rowKernel`: the row reductions fused into a kernel
// (LayerNorm statistics, softmax max and sum, their backward sums), then the root: a reduction, or
// an elementwise output over the row. Two shapes:
//  - one row per lane (CPU adapters, or many rows): each lane loops over its row with vec4 reads,
//    reductions that do not depend on each other share one loop (LayerNorm's Σx and a backward
//    pass's two sums), no workgroup memory and no barrier;
//  - one workgroup per row (GPUs, or few long rows): strided loops and a tree reduction in
//    workgroup memory.

import type { Node } from '../src/core/ir/graph.ts';
import { numel } from '../src/core/ir/shape.ts';
import { add, bool, bounded, canonicalIndex, compare, div, f32, ge, indexKey, laneMax, laneSum, load, max, min, mod, mul, splat, sub, u32, type Index } from './alu.ts';
import { F32, type Buf, type Expr } from './ir.ts';
import { expectOp, flatWorkgroup, FusionError, groupsAtRunTime, nextPow2, spread, type FusionView, type KernelBuilder, type TemplateInput, type TemplateOutput, type Variable } from './template.ts';

const LOWEST_F32 = -3.4028234663852886e38;

function combiner(r: Node): { init: Expr; step: (acc: Expr, v: Expr) => Expr } {
  return expectOp(r, 'sum', 'reduceMax').op === 'sum'
    ? { init: f32(0), step: (a, v) => add(a, v) }
    : { init: f32(LOWEST_F32), step: (a, v) => max(a, v) };
}

const axisOf = (r: Node) => expectOp(r, 'sum', 'reduceMax').attrs.axis;

/**
 * `flat·WG + lid`, the thread's element, returned once the threads past `count` (read at run
 * time from `sizedBy` where the plan allows: `live`) have exited.
 */
function threadIndex(w: KernelBuilder, WG: number, count: number, sizedBy: readonly number[], hint: string): { g: Expr; live: Expr } {
  const g = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), hint);
  const live = w.runtimeCount(count, sizedBy);
  w.exitIf(ge(g, live));
  return { g: bounded(g, count), live };
}

/** A reduction along any axis: one thread per output element, looping over the reduced axis. */
export function reduceKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const x = graph.node(root.inputs[0]!);
  const axis = axisOf(root);
  const n = x.type.shape[axis]!;
  const outN = numel(root.type.shape);
  const out = w.buffer(root.id, true);
  const { g, live } = threadIndex(w, WG, outN, [root.id], 'g');
  const idx = w.unflatten(g, root.type.shape);
  const { init, step } = combiner(root);
  const acc = w.variable(init);
  // A sum over the rows (a bias gradient) loops over a row count: read at run time where it can be.
  const steps = w.runtimeCount(n, [x.id]);
  const loopOps = w.loop('k', 0, steps, 1, (k) => {
    w.assign(acc, step(acc.ref, w.value(x.id, idx.map((e, i) => (i === axis ? k : e)))));
  });
  w.store(out, g, acc.ref);
  return {
    kind: 'reduce',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(outN / WG), limits),
    flops: outN * n * (loopOps + 1),
    config: `wg${WG} loop${n}`,
    ...groupsAtRunTime(w, live, WG),
  };
}

/** A row kernel (row reductions fused, then the root), one row per lane or one workgroup per row by adapter and row count. */
export function rowKernel(t: TemplateInput): TemplateOutput {
  const { graph, root, limits } = t;
  const domain = root.op === 'sum' || root.op === 'reduceMax' ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const rows = numel(domain.slice(0, -1));
  // Lanes need enough rows to fill workgroups on every core, unless the rows are little work in
  // all (a loss, a weight's statistics): a workgroup's tree reduction would then cost more to
  // compile (lavapipe: barriers in loops, ~0.4 s a kernel) than it saves. A GPU wants coalesced row reads.
  const lanes = rows >= 16 || rows * domain.at(-1)! <= SMALL_ROW_WORK;
  return limits.adapterClass === 'cpu' && lanes ? rowLaneKernel(t) : rowGroupKernel(t);
}

/** Elements a row kernel's rows may hold in all for one lane per row on CPU adapters, however few the rows. */
const SMALL_ROW_WORK = 16_384;

/** Groups the kernel's row reductions into passes: each pass only needs results of earlier passes (the root is computed, not read). */
function reductionPasses(plan: FusionView, reductions: readonly Node[], root: Node): Node[][] {
  const level = new Map<number, number>();
  const passes: Node[][] = [];
  for (const r of reductions) {
    // The pass after the latest reduction r reads (through nodes computed in place).
    let lv = 0;
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      const l = level.get(id);
      if (l !== undefined) {
        lv = Math.max(lv, l + 1);
        return;
      }
      if (plan.stored(id) && id !== root.id) return;
      for (const i of plan.graph.node(id).inputs) visit(i);
    };
    visit(r.inputs[0]!);
    level.set(r.id, lv);
    (passes[lv] ??= []).push(r);
  }
  return passes;
}

/**
 * Whether row reduction `r` reads the kernel's (elementwise) root: one the planner hosts in the
 * kernel that writes its input (codegen/fusion/row-reductions.ts). The root is then written in
 * that reduction's loop, which reads it as computed there.
 */
function readsRoot(plan: FusionView, r: Node, root: Node): boolean {
  if (r.id === root.id) return false;
  const seen = new Set<number>();
  const visit = (id: number): boolean => {
    if (id === root.id) return true;
    if (seen.has(id) || plan.stored(id)) return false;
    seen.add(id);
    return plan.graph.node(id).inputs.some(visit);
  };
  return visit(r.inputs[0]!);
}

/** Σ(x − c·Σx)² over a row: the reduction `centred`, its x and Σx, and c. */
interface CentredMoment {
  readonly centred: number;
  readonly sum: number;
  readonly x: number;
  readonly scale: number;
  /** The mean node c·Σx (computed as x₀ + c·Σ(x − x₀): far from 0, c·Σx in f32 would lose the digits that matter). */
  readonly mean: number;
}

/**
 * Whether row reduction `r` is Σ(x − c·S)² with S = Σx another reduction of the kernel (how
 * src/core/ir/nn.ts writes LayerNorm's variance: mean = S·(1/n), xc = x − mean, Σ xc·xc).
 */
function centredMoment(graph: TemplateInput['graph'], plan: FusionView, r: Node, reductions: readonly Node[]): CentredMoment | undefined {
  if (r.op !== 'sum') return undefined;
  const sq = graph.node(r.inputs[0]!);
  if (sq.op !== 'mul' || sq.inputs[0] !== sq.inputs[1] || plan.stored(sq.id)) return undefined;
  const d = graph.node(sq.inputs[0]!);
  if (d.op !== 'sub' || plan.stored(d.id)) return undefined;
  const x = graph.node(d.inputs[0]!);
  const m = graph.node(d.inputs[1]!);
  if (plan.stored(m.id)) return undefined;
  // m = S·c (either order) or S / n.
  const literal = (id: number) => {
    const n = graph.node(id);
    return n.op === 'fill' && n.type.dtype === 'f32' ? n.attrs.value : undefined;
  };
  let sumId: number | undefined, scale: number | undefined;
  if (m.op === 'mul') {
    for (const [a, b] of [[0, 1], [1, 0]] as const) {
      const c = literal(m.inputs[b]!);
      if (c !== undefined) [sumId, scale] = [m.inputs[a]!, c];
    }
  } else if (m.op === 'div') {
    const c = literal(m.inputs[1]!);
    if (c !== undefined && c !== 0) [sumId, scale] = [m.inputs[0]!, 1 / c];
  }
  if (sumId === undefined || scale === undefined) return undefined;
  const S = graph.node(sumId);
  if (S.op !== 'sum' || S.inputs[0] !== x.id || !reductions.some((q) => q.id === S.id) || !sameShapeArr(S.type.shape, r.type.shape)) return undefined;
  return { centred: r.id, sum: S.id, x: x.id, scale, mean: m.id };
}

const sameShapeArr = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

const hcombine = (r: Node, v: Expr): Expr => (r.op === 'sum' ? laneSum(v) : laneMax(v));

/** One row per lane: reductions in passes over the row (vec4 reads), then the root over the row. */
export function rowLaneKernel(t: TemplateInput): TemplateOutput {
  const k = rowLanes(t);
  const { n, rows, WG, vec, reductions } = k;
  // Centred second moments (LayerNorm's Σ(x − c·Σx)²) come from the first pass: two moments of
  // x shifted by its row's first element (accurate while that element is near the mean).
  const moments = new Map(reductions.map((r) => [r.id, centredMoment(t.graph, t.plan, r, reductions)] as const).filter((e): e is [number, CentredMoment] => e[1] !== undefined));
  const passes = reductionPasses(t.plan, reductions.filter((r) => !moments.has(r.id)), t.root);
  // The pass whose reductions read the root writes it (then no loop of its own).
  const rootPass = passes.findIndex((pass) => pass.some((r) => readsRoot(t.plan, r, t.root)));
  let flops = 0;
  passes.forEach((pass, i) => (flops += emitLanePass(k, pass, [...moments.values()].filter((mo) => pass.some((r) => r.id === mo.sum)), i === rootPass)));
  if (rootPass < 0) flops += emitLaneOutput(k);
  return {
    kind: 'row',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(rows / WG), t.limits),
    ...groupsAtRunTime(t.w, k.live, WG),
    flops,
    config: `lanes wg${WG} rows${rows}x${n}${vec ? ' vec4' : ''} reductions${reductions.length} passes${passes.length}${moments.size ? ' moments' : ''}`,
  };
}

/** A row-per-lane kernel being written: the row domain, the lane's row and the reductions it computes. */
interface RowLanes {
  readonly w: KernelBuilder;
  readonly plan: FusionView;
  readonly graph: TemplateInput['graph'];
  readonly root: Node;
  /** The root is itself a row reduction (written once per row). */
  readonly isReduction: boolean;
  /** Row length, its axis, and the number of rows. */
  readonly n: number;
  readonly last: number;
  readonly rows: number;
  /** The row count as the code reads it (a constant, or read at run time). */
  readonly live: Expr;
  readonly WG: number;
  /** Rows are read with vec4s (n a multiple of 4). */
  readonly vec: boolean;
  /** The output buffer. */
  readonly out: Buf;
  /** The lane's row (flat) and its index (all axes but the last). */
  readonly row: Expr;
  readonly prefix: Index;
  /** Whether this lane stores the row's reductions later kernels read (one lane per row). */
  readonly writer: Expr;
  /** The row's reductions, the root last when it is one. */
  readonly reductions: readonly Node[];
}

/** The row domain and the reductions; writes the lane's row index. */
function rowLanes({ w, graph, plan, root, limits }: TemplateInput): RowLanes {
  const isReduction = root.op === 'sum' || root.op === 'reduceMax';
  const domain = isReduction ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const n = domain[domain.length - 1]!;
  const last = domain.length - 1;
  const rowsShape = [...domain.slice(0, -1), 1];
  const rows = numel(rowsShape);
  // Fewer than 16 rows (little work in all: see rowKernel) take a map's workgroup, so that they
  // share dispatches with maps rather than with the matmuls and attention kernels of one subgroup,
  // whose modules serve every block (a batch of them is one more module to compile).
  const WG = Math.min(64, limits.maxInvocationsPerWorkgroup, rows < 16 ? 64 : Math.max(8, nextPow2(Math.ceil(rows / 8))));
  const vec = n % 4 === 0;
  const out = w.buffer(root.id, true);
  const { g: row, live } = threadIndex(w, WG, rows, [root.id], 'row');
  const prefix = w.unflatten(row, rowsShape).slice(0, -1);
  const reductions = plan.rowReductions(root.id).map((id) => graph.node(id));
  if (isReduction) reductions.push(root);
  return { w, plan, graph, root, isReduction, n, last, rows, live, WG, vec, out, row, prefix, writer: bool(true), reductions };
}

/** Index of element e of the lane's row. */
const rowAt = (k: RowLanes, e: Expr): Index => [...k.prefix, e];

/** Each kernel's provided row results: reduction -> row key -> value (a matmul lane normalises several rows). */
const rowResults = new WeakMap<KernelBuilder, Map<number, Map<string, Expr>>>();

/** Makes reduction r's value, read anywhere in the row `prefix`, the value `result` (other rows keep theirs). */
function provideRow(w: KernelBuilder, prefix: Index, r: Node, result: Expr): void {
  const byNode = rowResults.get(w) ?? new Map<number, Map<string, Expr>>();
  rowResults.set(w, byNode);
  const rows = byNode.get(r.id) ?? new Map<string, Expr>();
  byNode.set(r.id, rows);
  rows.set(indexKey(canonicalIndex([...prefix, u32(0)], r.type.shape)), result);
  w.provide(r.id, (idx) => {
    const v = rows.get(indexKey(idx));
    if (v === undefined) throw new FusionError(r.id, `row reduction read outside its rows ([${indexKey(idx)}] vs [${[...rows.keys()].join('] [')}])`);
    return v;
  });
}

/**
 * Computes row reductions `reductions` (over the last axis of their input, in passes, with
 * LayerNorm's one-pass moments) for the row `prefix` of their domain and provides them there:
 * a matmul's row operand normalised as it is loaded (codegen/fusion/norm-prologues.ts).
 * Reductions later kernels read too (joined to the root) are stored at the flat row `store.row`
 * where `store.writer` holds: one lane of one workgroup per row. Returns the flops per row.
 */
export function emitRowReductionsAt(t: TemplateInput, reductions: readonly Node[], prefix: Index, store: RowStore): number {
  const { w, graph, plan, root } = t;
  const domain = graph.node(reductions[0]!.inputs[0]!).type.shape;
  const n = domain[domain.length - 1]!;
  const k: RowLanes = {
    w, plan, graph, root, isReduction: false, n, last: domain.length - 1, rows: 1, live: u32(1), WG: 1, vec: n % 4 === 0,
    out: w.buffer(root.id, true), row: store.row, prefix, writer: store.writer, reductions,
  };
  const moments = new Map(reductions.map((r) => [r.id, centredMoment(graph, plan, r, reductions)] as const).filter((e): e is [number, CentredMoment] => e[1] !== undefined));
  const passes = reductionPasses(plan, reductions.filter((r) => !moments.has(r.id)), root);
  return passes.reduce((f, pass) => f + emitLanePass(k, pass, [...moments.values()].filter((mo) => pass.some((r) => r.id === mo.sum)), false), 0);
}

/** Where a row's reductions are stored when later kernels read them: its flat row, and whether this invocation does. */
export interface RowStore {
  readonly row: Expr;
  readonly writer: Expr;
}

/** A tile of rows a workgroup normalises (the tiled matmul's rows): all its threads compute their statistics. */
export interface RowTile {
  /** The invocation's index and the workgroup's size. */
  readonly lid: Expr;
  readonly threads: number;
  /** Rows in the tile (threads is a multiple of it), and the flat row of its first. */
  readonly rows: number;
  readonly first: Expr;
  /** The flat row of the tile's row r, clamped into the rows that exist (past the last: the last). */
  readonly flatRow: (r: Expr) => Expr;
  /** Workgroup memory the statistics may take. */
  readonly maxBytes: number;
  /** Whether this workgroup stores the statistics of its row r that later kernels read (one per row). */
  readonly stores: (r: Expr) => Expr;
}

/**
 * Computes row reductions `reductions` for every row of `tile` with all the workgroup's threads
 * (threads / rows per row, each reading a strided share of the row: neighbouring threads read
 * neighbouring elements), combines the shares in workgroup memory and provides the results for
 * any row of the tile, loaded from there: the tiled matmul stages `operand` normalised as it
 * is loaded, each thread staging elements of any row. What the operand computes per row from the
 * statistics alone (LayerNorm's 1/√(var + ε)) is computed once per row too (rowConstants), not
 * for every element staged. Returns the flops per tile.
 */
export function emitTileRowStatistics(t: TemplateInput, reductions: readonly Node[], operand: Node, tile: RowTile): number {
  const { w, graph, plan, root } = t;
  const domain = graph.node(reductions[0]!.inputs[0]!).type.shape;
  const rowsShape = domain.slice(0, -1);
  const P = tile.threads / tile.rows;
  if (!Number.isInteger(P)) throw new Error(`row statistics: ${tile.threads} threads do not split over ${tile.rows} rows`);
  const moments = new Map(reductions.map((q) => [q.id, centredMoment(graph, plan, q, reductions)] as const).filter((e): e is [number, CentredMoment] => e[1] !== undefined));
  const passes = reductionPasses(plan, reductions.filter((q) => !moments.has(q.id)), root).map((pass) => ({ pass, moments: [...moments.values()].filter((mo) => pass.some((q) => q.id === mo.sum)) }));
  // Per pass, each thread's shares (a value per reduction, two per moment); per row, the results.
  const sharesOf = (p: TilePass) => p.pass.length + 2 * p.moments.length;
  const provided = new Set([...reductions.map((q) => q.id), ...[...moments.values()].flatMap((mo) => (plan.stored(mo.mean) ? [mo.centred] : [mo.mean, mo.centred]))]);
  const perRow = rowConstants(t, operand, provided, rowsShape);
  const results = passes.reduce((n, p) => n + sharesOf(p), perRow.length), shareSlots = Math.max(...passes.map(sharesOf));
  const bytes = 4 * (results * tile.rows + shareSlots * tile.threads);
  if (bytes > tile.maxBytes) throw new FusionError(root.id, `row statistics of ${tile.rows} rows need ${bytes} bytes of workgroup memory, over the ${tile.maxBytes} kept for them`);
  const share = w.let(mod(tile.lid, P), 'share'), r = w.let(div(tile.lid, P), 'tr');
  const s: TileStatistics = {
    t, tile, P, share, r, n: domain[domain.length - 1]!,
    prefix: w.unflatten(tile.flatRow(r), [...rowsShape, 1]).slice(0, -1),
    results: w.workgroupArray('stats', F32, results * tile.rows),
    shares: w.workgroupArray('part', F32, shareSlots * tile.threads),
  };
  // Result slot s of the tile's row for any index of a reduced node (rows past the last read the last).
  const provide = (id: number, slot: number) =>
    w.provide(id, (idx) => load(s.results, add(slot * tile.rows, min(sub(w.linear(idx.slice(0, -1), rowsShape), tile.first), tile.rows - 1))));
  let slot = 0, flops = 0;
  for (const p of passes) {
    flops += emitTilePass(s, p, slot);
    p.pass.forEach((q, i) => provide(q.id, slot + i));
    p.moments.forEach((mo, i) => {
      const at = slot + p.pass.length + 2 * i;
      if (!plan.stored(mo.mean)) provide(mo.mean, at);
      provide(mo.centred, at + 1);
    });
    slot += sharesOf(p);
  }
  if (perRow.length) {
    // Each row's first thread evaluates them from the results above, for the whole tile to read.
    w.when(compare('eq', share, 0), () => perRow.forEach((id, i) => w.store(s.results, add((slot + i) * tile.rows, r), w.value(id, [...s.prefix, u32(0)]))));
    w.barrier();
    perRow.forEach((id, i) => provide(id, slot + i));
  }
  return flops;
}

/**
 * The nodes `operand` computes in place from the row statistics (`provided`) and constants
 * alone, one value per row ([...rows, 1]): the first such node on each path from the operand.
 */
function rowConstants(t: TemplateInput, operand: Node, provided: ReadonlySet<number>, rowsShape: readonly number[]): number[] {
  const { graph, plan } = t;
  const memo = new Map<number, boolean>();
  const perRow = (id: number): boolean => {
    if (provided.has(id)) return true;
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const n = graph.node(id);
    const shape = n.type.shape;
    const rowShaped = shape.length === 0 || shape[shape.length - 1] === 1;
    const constant = n.op === 'fill' || (n.op === 'constant' && numel(shape) === 1);
    // Leaves have no inputs: a buffer is never per row here.
    const ok = rowShaped && !plan.stored(id) && (constant || (n.inputs.length > 0 && n.inputs.every(perRow)));
    memo.set(id, ok);
    return ok;
  };
  // Called on per-row nodes only: their inputs are statistics, constants or per-row nodes.
  const dependsOnStatistics = (id: number): boolean => provided.has(id) || graph.node(id).inputs.some(dependsOnStatistics);
  const found: number[] = [], seen = new Set<number>();
  const visit = (id: number) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = graph.node(id);
    if (perRow(id)) {
      const oneRow = n.type.shape.length === rowsShape.length + 1 && rowsShape.every((d, k) => n.type.shape[k] === d);
      if (!provided.has(id) && oneRow && dependsOnStatistics(id)) found.push(id);
      return;
    }
    if (plan.stored(id) && id !== operand.id) return;
    n.inputs.forEach(visit);
  };
  visit(operand.id);
  return found;
}

/** One pass of a tile's row statistics: reductions computed together, and the centred moments whose Σx is among them. */
interface TilePass {
  readonly pass: readonly Node[];
  readonly moments: readonly CentredMoment[];
}

/** A tile's row statistics being written: each thread's row `r` (index `prefix`) and share of it, the workgroup arrays. */
interface TileStatistics {
  readonly t: TemplateInput;
  readonly tile: RowTile;
  readonly P: number;
  readonly share: Expr;
  readonly r: Expr;
  readonly n: number;
  readonly prefix: Index;
  readonly results: Buf;
  readonly shares: Buf;
}

/**
 * Each thread's share of pass `p` over its row (elements share, share + P, ... as vec4s where the
 * row allows), the shares to workgroup memory, then each row's first thread combines them and
 * writes the results from `slot` on. Returns the flops per tile.
 */
function emitTilePass(s: TileStatistics, p: TilePass, slot: number): number {
  const { t: { w }, tile, P, n } = s;
  const vec = n % 4 === 0, step = vec ? 4 : 1, last = s.prefix.length;
  const at = (j: Expr): Index => [...s.prefix, j];
  const acc = passAccumulators(w, p.pass, p.moments, vec, (x) => w.value(x, at(u32(0))));
  const ops = w.loop('j', mul(s.share, step), n, P * step, (j) => accumulate(w, acc, (id) => (vec ? w.vec4(id, at(j), last) : w.value(id, at(j)))));
  const shares = [
    ...p.pass.map((q, i) => ({ combine: combiner(q).step, value: vec ? hcombine(q, acc.accs[i]!.ref) : acc.accs[i]!.ref })),
    ...acc.shifted.flatMap((m) => [m.sy, m.qy].map((v) => ({ combine: add, value: vec ? laneSum(v.ref) : v.ref }))),
  ];
  shares.forEach((sh, i) => w.store(s.shares, add(i * tile.threads, tile.lid), sh.value));
  w.barrier();
  w.when(compare('eq', s.share, 0), () => {
    const total = shares.map((sh, i) => {
      let sum = load(s.shares, add(i * tile.threads, mul(s.r, P)));
      for (let k = 1; k < P; k++) sum = sh.combine(sum, load(s.shares, add(i * tile.threads, add(mul(s.r, P), k))));
      return w.let(sum, 'tot');
    });
    const put = (at: number, v: Expr) => w.store(s.results, add(at * tile.rows, s.r), v);
    const keep = (q: Node, v: Expr) => storeIfRead(w, s.t.plan, s.t.root, q, tile.flatRow(s.r), v, tile.stores(s.r));
    p.pass.forEach((q, i) => {
      put(slot + i, total[i]!);
      keep(q, total[i]!);
    });
    acc.shifted.forEach((m, i) => {
      const base = slot + p.pass.length + 2 * i;
      const moment = momentFromShifted(w, m.mo, n, m.x0, total[base - slot]!, total[base - slot + 1]!);
      put(base, moment.mean);
      put(base + 1, moment.centred);
      keep(s.t.graph.node(m.mo.centred), moment.centred);
    });
  });
  w.barrier();
  return tile.rows * n * ((vec ? ops / 4 : ops) + p.pass.length + 3 * acc.shifted.length);
}

/**
 * A row reduction later kernels read too is written by this kernel (the planner joined it to the
 * root): at the row's flat index `row`, by one invocation per row (`writer`).
 */
function storeIfRead(w: KernelBuilder, plan: FusionView, root: Node, r: Node, row: Expr, result: Expr, writer: Expr = bool(true)): void {
  if (!plan.siblings(root.id).includes(r.id)) return;
  const out = w.buffer(r.id, true);
  w.when(writer, () => w.store(out, row, result));
}

/** The shifted sums of a centred moment: the shift x₀ and the accumulators of Σy and Σy². */
interface ShiftedSums {
  readonly mo: CentredMoment;
  readonly x0: Expr;
  readonly sy: Variable;
  readonly qy: Variable;
}

/** One loop over the row for `pass` (and the shifted sums of `moments`, and the root when `writesRoot`); provides the results. Returns its flops. */
function emitLanePass(k: RowLanes, pass: readonly Node[], moments: readonly CentredMoment[], writesRoot: boolean): number {
  const { w, n, rows, vec, last } = k;
  const acc = passAccumulators(w, pass, moments, vec, (x) => w.value(x, rowAt(k, u32(0))));
  const ops = w.loop('j', 0, n, vec ? 4 : 1, (j) => {
    if (writesRoot) writeRootAt(k, j);
    accumulate(w, acc, (id) => (vec ? w.vec4(id, rowAt(k, j), last) : w.value(id, rowAt(k, j))));
  });
  pass.forEach((r, i) => {
    const result = w.let(vec ? hcombine(r, acc.accs[i]!.ref) : acc.accs[i]!.ref, 'r');
    provideRow(w, k.prefix, r, result);
    storeIfRead(w, k.plan, k.root, r, k.row, result, k.writer);
  });
  for (const s of acc.shifted) provideCentredMoment(k, s);
  return rows * n * (vec ? ops / 4 : ops) + rows * n * (pass.length + 3 * acc.shifted.length);
}

/** A pass's accumulators over a row: one per reduction, and the shifted sums of the moments whose Σx it computes. */
interface PassAccumulators {
  readonly pass: readonly Node[];
  readonly accs: readonly Variable[];
  readonly shifted: readonly ShiftedSums[];
  readonly vec: boolean;
}

/** The accumulators of `pass` (vec4s when `vec`), each moment's shift x₀ read by `firstOf(x)`: its row's first element. */
function passAccumulators(w: KernelBuilder, pass: readonly Node[], moments: readonly CentredMoment[], vec: boolean, firstOf: (x: number) => Expr): PassAccumulators {
  const zero = (e: Expr) => (vec ? splat(e) : e);
  return {
    pass, vec,
    accs: pass.map((r) => w.variable(zero(combiner(r).init))),
    shifted: moments.map((mo) => ({ mo, x0: w.let(firstOf(mo.x), 'x0'), sy: w.variable(zero(f32(0)), 'sy'), qy: w.variable(zero(f32(0)), 'qy') })),
  };
}

/** Adds one element (or vec4) of the row, read by `v`, to every accumulator of the pass. */
function accumulate(w: KernelBuilder, a: PassAccumulators, v: (id: number) => Expr): void {
  a.pass.forEach((r, i) => w.assign(a.accs[i]!, combiner(r).step(a.accs[i]!.ref, v(r.inputs[0]!))));
  for (const s of a.shifted) {
    const y = w.let(sub(v(s.mo.x), a.vec ? splat(s.x0) : s.x0), 'y');
    w.assign(s.sy, add(s.sy.ref, y));
    w.assign(s.qy, add(s.qy.ref, mul(y, y)));
  }
}

/**
 * The mean and Σ(x − mean)² of a row of n from its shifted sums Σy, Σy² (y = x − x₀): with
 * t = mean − x₀ = c·Σy (exact digits where c·Σx − x₀ would cancel), Σ(x − m)² = Σy² − 2t·Σy + n·t².
 */
function momentFromShifted(w: KernelBuilder, mo: CentredMoment, n: number, x0: Expr, sy: Expr, qy: Expr): { mean: Expr; centred: Expr } {
  const t = w.let(mul(f32(mo.scale), sy), 't');
  return { mean: add(x0, t), centred: max(add(sub(qy, mul(mul(f32(2), t), sy)), mul(mul(f32(n), t), t)), f32(0)) };
}

/** Computes and stores the root at element j of the lane's row (four elements when rows are vectors); later reads there use the value. */
function writeRootAt(k: RowLanes, j: Expr): void {
  const { w, root, n, vec, last, row } = k;
  const idx = rowAt(k, j);
  if (vec) {
    const v = w.computeVec4(root.id, idx, last);
    w.store(w.bufferVec4(root.id, true), add(mul(row, n / 4), div(j, 4)), v);
    w.written(root.id, idx, v, last);
  } else {
    const v = w.compute(root.id, idx);
    w.store(k.out, add(mul(row, n), j), v);
    w.written(root.id, idx, v);
  }
}

/** Provides a centred moment from its shifted sums and its Σx. */
function provideCentredMoment(k: RowLanes, s: ShiftedSums): void {
  const { w, graph, n, vec, prefix } = k;
  const sy = w.let(vec ? laneSum(s.sy.ref) : s.sy.ref, 'sy');
  const qy = w.let(vec ? laneSum(s.qy.ref) : s.qy.ref, 'qy');
  const m = momentFromShifted(w, s.mo, n, s.x0, sy, qy);
  const meanNode = graph.node(s.mo.mean);
  if (!k.plan.stored(meanNode.id)) provideRow(w, prefix, meanNode, w.let(m.mean, 'mean'));
  const centred = graph.node(s.mo.centred), result = w.let(m.centred, 'r');
  provideRow(w, prefix, centred, result);
  storeIfRead(w, k.plan, k.root, centred, k.row, result, k.writer);
}

/** The root: one value per row (a reduction), else the row itself (vec4 stores when possible). Returns its flops. */
function emitLaneOutput(k: RowLanes): number {
  const { w, root, n, rows, vec, last, out, row, prefix } = k;
  if (k.isReduction) {
    w.store(out, row, w.compute(root.id, [...prefix, u32(0)]));
    return 0;
  }
  if (vec && root.type.dtype === 'f32') {
    const outV = w.bufferVec4(root.id, true);
    const ops = w.loop('j', 0, n, 4, (j) => w.store(outV, add(mul(row, n / 4), div(j, 4)), w.computeVec4(root.id, rowAt(k, j), last)));
    return rows * n * ops / 4;
  }
  const ops = w.loop('j', 0, n, 1, (j) => w.store(out, add(mul(row, n), j), w.compute(root.id, rowAt(k, j))));
  return rows * n * ops;
}

/** One workgroup per row: strided loops and a barrier tree per reduction. */
export function rowGroupKernel({ w, graph, plan, root, limits }: TemplateInput): TemplateOutput {
  const isReduction = root.op === 'sum' || root.op === 'reduceMax';
  const domain = isReduction ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const n = domain[domain.length - 1]!;
  const rowsShape = [...domain.slice(0, -1), 1];
  const rows = numel(rowsShape);
  const WG = Math.min(limits.maxInvocationsPerWorkgroup, 256, Math.max(32, nextPow2(n)));
  const out = w.buffer(root.id, true);
  const row0 = w.let(flatWorkgroup(w), 'row');
  const live = w.runtimeCount(rows, [root.id]);
  w.exitIf(ge(row0, live));
  const row = bounded(row0, rows);
  const lid = w.builtin('lid', undefined, WG);
  const red = w.workgroupArray('red', F32, WG);
  const prefix = w.unflatten(row, rowsShape).slice(0, -1);
  const at = (e: Expr): Index => [...prefix, e];

  const reductions = plan.rowReductions(root.id).map((id) => graph.node(id));
  if (isReduction) reductions.push(root);
  let flops = 0;
  // The first reduction that reads the root writes it in its loop (then the root has no loop of its own).
  const rootWriter = reductions.find((r) => readsRoot(plan, r, root));
  for (const r of reductions) {
    const { init, step } = combiner(r);
    const acc = w.variable(init);
    const ops = w.loop('j', lid, n, WG, (j) => {
      if (r === rootWriter) {
        const v = w.compute(root.id, at(j));
        w.store(out, add(mul(row, n), j), v);
        w.written(root.id, at(j), v);
      }
      w.assign(acc, step(acc.ref, w.value(r.inputs[0]!, at(j))));
    });
    flops += rows * n * (ops + 1);
    w.store(red, lid, acc.ref);
    w.barrier();
    w.halvingLoop('s', WG / 2, (s) => {
      w.when(compare('lt', lid, s), () => w.store(red, lid, step(load(red, lid), load(red, add(lid, s)))));
      w.barrier();
    });
    const result = w.let(load(red, u32(0)), 'r');
    w.barrier();
    provideRow(w, prefix, r, result);
    storeIfRead(w, plan, root, r, row, result, compare('eq', lid, 0));
  }
  if (isReduction) {
    w.when(compare('eq', lid, 0), () => w.store(out, row, w.compute(root.id, [...prefix, u32(0)])));
  } else if (!rootWriter) {
    flops += rows * n * w.loop('j', lid, n, WG, (j) => w.store(out, add(mul(row, n), j), w.compute(root.id, at(j))));
  }
  return {
    kind: 'row',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(rows, limits),
    ...groupsAtRunTime(w, live, 1),
    flops,
    config: `group wg${WG} rows${rows}x${n} reductions${reductions.length}`,
  };
}

/** Small last-axis reductions are cheaper as a loop per thread than a workgroup per row. */
export const ROW_KERNEL_MIN_LENGTH = 32;

/** Whether `root`'s kernel is a row kernel: it hosts row reductions, or is a long last-axis reduction itself. */
export function wantsRowKernel(plan: FusionView, root: Node): boolean {
  if (plan.rowReductions(root.id).length > 0) return true;
  if (root.op !== 'sum' && root.op !== 'reduceMax') return false;
  const x = plan.graph.node(root.inputs[0]!);
  return axisOf(root) === x.type.shape.length - 1 && x.type.shape[axisOf(root)]! >= ROW_KERNEL_MIN_LENGTH;
}
