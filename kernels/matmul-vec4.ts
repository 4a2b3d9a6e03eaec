// Matmul variants "subgroup" and "vec4": register-blocked vec4 accumulators with no workgroup
// memory and no barrier, for adapters where loads, not arithmetic, set the speed (CPU drivers such
// as lavapipe run a workgroup on one thread, eight lanes per 256-bit vector, and every storage load
// is a per-lane instruction sequence, whatever its width).
//
// A lane owns 4 consecutive output columns and R rows: R vec4 accumulators in named variables
// (a private array indexed at run time would spill). Per 4-wide k step it reads the R×4 block of
// the row operand X in R vec4 "pieces" and the 4×4 block of the column operand Y in four vec4s, and
// does 16·R multiply-adds.
//  - "subgroup": the workgroup is one subgroup of S lanes covering 4·S columns; the R pieces of X are
//    shared: lane l reads pieces l, l + S, ... and every piece reaches all lanes by
//    subgroupBroadcast, so a lane reads R/S + 4 vectors per 16·R multiply-adds.
//  - "vec4": the same without subgroups (adapters that have none, or no fixed size): every lane reads
//    its own R pieces (R + 4 vectors per 16·R multiply-adds).
// Operands are any fused expressions: each vector is read along the axis where the operand is
// contiguous (X along k or along its rows, Y along its columns or along k, then transposed in
// registers), falling back to scalars assembled into vectors. `swap` computes Cᵀ = Bᵀ·Aᵀ (lanes
// along m), for outputs narrower than a subgroup's 4·S columns. Tails: rows and columns past the
// end are read clamped and not stored; a k tail (K not a multiple of 4) runs one k at a time.

import { add, and, bounded, compare, div, f32, ge, lane, load, lt, min, mod, mul, sgBroadcast, splat, u32, vec4, type Index } from './alu.ts';
import { VEC4, type Buf, type Expr } from './ir.ts';
import { batchIndices, canStoreVec4, kRanges, matmulProblem, problemOf, storeEpilogue, storeEpilogueVec4, type MatmulProblem, type SecondAccumulator } from './matmul.ts';
import { clampedIndex, flatWorkgroup, isWeight, spread, type KernelBuilder, type TemplateInput, type TemplateLimits, type TemplateOutput, type Variable } from './template.ts';
import { emitRowReductionsAt } from './reduce.ts';
import type { Node } from '../src/core/ir/graph.ts';

/** The shape of a vec4 or subgroup matmul kernel: rows per lane, lanes and groups per workgroup, sharing, orientation. */
export interface Vec4Config {
  /** Rows per lane (vec4 accumulators per lane), a multiple of 4. */
  readonly rows: number;
  /** Lanes along the columns per workgroup (the subgroup size for "subgroup"). */
  readonly lanes: number;
  /** Lane groups along the rows per workgroup ("vec4" only; 1 for "subgroup"). */
  readonly groups: number;
  /** Share the row operand across the subgroup with subgroupBroadcast. */
  readonly subgroup: boolean;
  /** Compute Cᵀ = Bᵀ·Aᵀ: lanes along m, accumulator rows along n. */
  readonly swap: boolean;
}

/** One matmul operand seen as rows × k: which axes of the node are its "rows" and k. */
interface Operand {
  readonly id: number;
  readonly batch: Index;
  readonly outAxis: number;
  readonly kAxis: number;
  /** Extent of the out axis (rows of X or columns of Y). */
  readonly ext: number;
}

const at = (o: Operand, r: Expr, k: Expr): Index => {
  const idx = [...o.batch, u32(0), u32(0)];
  idx[o.outAxis] = r;
  idx[o.kAxis] = k;
  return idx;
};

/** A short name of a configuration, for kernel configs, tuning reports and errors. */
export const describeVec4 = (c: Vec4Config): string =>
  `${c.subgroup ? 'subgroup' : 'vec4'} r${c.rows} ${c.subgroup ? `sg${c.lanes}` : `wg${c.lanes}x${c.groups}`}${c.swap ? ' swap' : ''}`;

/** Whether `c` can run on this device for this problem (checked before a variant is offered). */
export function vec4Supported(c: Vec4Config, limits: TemplateLimits, batchCount: number): boolean {
  if (c.rows % 4 !== 0 || c.rows < 4) return false;
  if (c.subgroup && (limits.subgroupSize === 0 || c.lanes !== limits.subgroupSize || c.groups !== 1)) return false;
  if (c.lanes * c.groups > limits.maxInvocationsPerWorkgroup) return false;
  return batchCount <= limits.maxWorkgroupsPerDimension;
}

/** Renders a matmul kernel with the "vec4" or "subgroup" design (see the top of this file). */
export function vec4Matmul(t: TemplateInput, cfg: Vec4Config): TemplateOutput {
  const k = vec4Kernel(t, cfg);
  const second = emitSecondProduct(t, cfg);
  const loopOps = emitKSteps(k) + emitKTail(k);
  const { vecStore, epilogueOps } = emitStores(k, second?.accs);
  const { M, N, K, batchCount } = k.p;
  const { lanes: S, groups: G, subgroup } = cfg;
  return {
    kind: 'matmul',
    workgroupSize: [S, G, 1],
    dispatch: [k.dx, k.dy, batchCount],
    // Batched dispatches place the tiles at run time when the rows are read then (one flat grid).
    ...(batchCount === 1 && k.tilesLive.k !== 'lit' ? { workgroups: k.w.withoutLets(k.tilesLive) } : {}),
    // loopOps: the prologue's arithmetic per lane and k step (accumulation is counted in 2·M·N·K).
    flops: batchCount * (2 * M * N * K + M * N * epilogueOps + k.tiles * S * G * (Math.ceil(K / 4) * loopOps + k.prologueOps)) + (second?.flops ?? 0),
    config: `${describeVec4(cfg)} x:${k.xAlongRows ? 'rows' : 'k'} y:${k.yAlongCols ? 'cols' : 'k'}${vecStore ? ' store4' : ''}`,
    enables: subgroup ? ['subgroups'] : undefined,
  };
}

/**
 * The second product of an epilogue (codegen/fusion/second-products.ts): its own k loop over the
 * same output tile, into accumulators then kept in a private array for the epilogue.
 */
function emitSecondProduct(t: TemplateInput, cfg: Vec4Config): { accs: Buf; flops: number; mm: Node } | undefined {
  const m2 = t.plan.secondProduct(t.root.id);
  if (m2 === undefined) return undefined;
  if (cfg.swap) throw new Error('matmul: a second product needs a variant without swap');
  const k2 = vec4Kernel(t, cfg, problemOf(t.graph, t.graph.node(m2)), false);
  const ops = emitKSteps(k2) + emitKTail(k2);
  const { M, N, K, batchCount } = k2.p;
  const flops = batchCount * (2 * M * N * K + k2.tiles * cfg.lanes * cfg.groups * Math.ceil(K / 4) * ops);
  return { accs: t.w.privateArray('accs2', VEC4, cfg.rows, k2.accs.map((a) => a.ref)), flops, mm: k2.p.mm };
}

/** A vec4 matmul kernel being written: the problem, its operands as rows × k, and the lane's block. */
interface Vec4Kernel {
  readonly t: TemplateInput;
  readonly w: KernelBuilder;
  readonly cfg: Vec4Config;
  readonly p: MatmulProblem;
  readonly cBatch: Index;
  /** The row operand (A, or B when swapped) and the column operand. */
  readonly X: Operand;
  readonly Y: Operand;
  /** K rounded down to a multiple of 4: the vectorised k loop's extent. */
  readonly K4: number;
  /** X's rows and K as the code reads them (constants, or read at run time: runtimeCount). */
  readonly rowsLive: Expr;
  readonly kLive: Expr;
  /** The number of tiles as the code reads it. */
  readonly tilesLive: Expr;
  /** X pieces are read along its rows (else along k); Y vectors along its columns (else along k). */
  readonly xAlongRows: boolean;
  readonly yAlongCols: boolean;
  /** Pieces of X each lane reads per k step. */
  readonly perLane: number;
  /** The lane index (the subgroup invocation, or the local x). */
  readonly lane: Expr;
  /** The R vec4 accumulators (named variables: a private array indexed at run time would spill). */
  readonly accs: readonly Variable[];
  readonly tiles: number;
  readonly dx: number;
  readonly dy: number;
  /** The lane's first output column and row. */
  readonly c0: Expr;
  readonly r0: Expr;
  /** Column vector base (clamped into range: out-of-range lanes read the last columns, store nothing). */
  readonly cBase: Expr;
  /** Flops per lane of the row statistics computed before the k loop (normalised row operands). */
  prologueOps: number;
}

/** The operands and their read axes; writes the lane's tile origin and declares its accumulators. */
function vec4Kernel(t: TemplateInput, cfg: Vec4Config, p: MatmulProblem = matmulProblem(t), primary = true): Vec4Kernel {
  const { w, limits } = t;
  const { M, N, K, batchCount } = p;
  const { rows: R, lanes: S, groups: G, subgroup, swap } = cfg;
  if (!vec4Supported(cfg, limits, batchCount)) throw new Error(`matmul variant ${describeVec4(cfg)} is not supported here`);
  const ra = p.a.type.shape.length, rb = p.b.type.shape.length;
  const { aBatch, bBatch, cBatch } = batchIndices(w, p, w.builtin('wid', 2, batchCount));
  const A: Operand = { id: p.a.id, batch: aBatch.slice(), outAxis: ra - 2, kAxis: ra - 1, ext: M };
  const B: Operand = { id: p.b.id, batch: bBatch.slice(), outAxis: rb - 1, kAxis: rb - 2, ext: N };
  const [X, Y] = swap ? [B, A] : [A, B];
  const rowsExt = X.ext, colsExt = Y.ext;
  const BR = R * G, BC = 4 * S;
  const tilesC = Math.ceil(colsExt / BC), tilesR = Math.ceil(rowsExt / BR);

  // A row operand normalised in place (LayerNorm prologue) is read by rows along k: its
  // statistics are per row, computed before the k loop for the rows this lane reads.
  const rowReductions = primary ? t.plan.matmulRowReductions(t.root.id).map((id) => t.graph.node(id)) : [];
  if (rowReductions.length && swap) throw new Error('matmul: a normalised row operand needs a variant without swap');
  // Read axes: X pieces along rows or k, Y vectors along columns or k (fewest buffer reads).
  const xAlongRows = !rowReductions.length && rowsExt % 4 === 0 && R % 4 === 0 && w.vec4Loads(X.id, X.outAxis) < w.vec4Loads(X.id, X.kAxis);
  const yAlongCols = colsExt % 4 === 0 && w.vec4Loads(Y.id, Y.outAxis) <= w.vec4Loads(Y.id, Y.kAxis);

  const lane = subgroup ? w.builtin('sid', undefined, S) : w.builtin('lid3', 0, S);
  const tiles = tilesC * tilesR;
  const [dx, dy] = spread(tiles, limits);
  // The row count at run time where it can be (rows are M unless swapped), and K where the column
  // operand is not a weight (a weight gradient's K is a row count).
  const rowsLive = swap ? u32(rowsExt) : w.runtimeCount(rowsExt, [t.root.id]);
  const kLive = isWeight(t.graph, Y.id) ? u32(K) : w.runtimeCount(K, [Y.id]);
  const tilesLive = w.let(mul(div(add(rowsLive, BR - 1), BR), tilesC), 'tiles');
  const tile0 = w.let(flatWorkgroup(w), 'tile');
  // Only when the dispatch is spread over two dimensions are there workgroups past the last tile
  // (or when the row count is read at run time).
  if (dx * dy > tiles || tilesLive.k !== 'lit') w.exitIf(ge(tile0, tilesLive));
  const tile = bounded(tile0, tiles);
  const c0 = w.let(add(mul(mod(tile, tilesC), BC), mul(lane, 4)), 'c');
  const r0 = w.let(add(mul(div(tile, tilesC), BR), G > 1 ? mul(w.builtin('lid3', 1, G), R) : u32(0)), 'r');
  const cBase = colsExt % 4 === 0 ? w.let(min(c0, colsExt - 4), 'cb') : c0;
  const accs = Array.from({ length: R }, () => w.variable(splat(f32(0)), 'acc'));
  // Pieces of X this lane reads: subgroup lanes read pieces lane, lane + S, ...; others all R.
  const perLane = subgroup ? Math.ceil(R / S) : R;
  const k: Vec4Kernel = { t, w, cfg, p, cBatch, X, Y, K4: K - (K % 4), rowsLive, kLive, tilesLive, xAlongRows, yAlongCols, perLane, lane, accs, tiles, dx, dy, c0, r0, cBase, prologueOps: 0 };
  if (rowReductions.length) k.prologueOps = emitRowStatistics(k, rowReductions);
  return k;
}

/**
 * The row reductions of a normalised row operand for each row this lane reads (the same row
 * indices its k loop loads, so the loads find them). Returns their flops per lane.
 */
function emitRowStatistics(v: Vec4Kernel, reductions: readonly Node[]): number {
  const { w, t, X, r0, p } = v;
  const domain = t.graph.node(reductions[0]!.inputs[0]!).type.shape;
  const rowsShape = [...domain.slice(0, -1), 1];
  let flops = 0;
  // Statistics later kernels read too are stored by the first column of tiles: per row that
  // exists, by the lane whose piece it is (subgroups), else by lane 0 (every lane reads all).
  const S = v.cfg.lanes;
  for (let j = 0; j < v.perLane; j++) {
    const row = clampedRow(v, add(r0, pieceIndex(v, j)), 1);
    // The operand's flat row (batch entries, then rows) is the domain's flat row: reshapes keep the order.
    const flatRow = X.batch.length ? add(mul(w.linear(X.batch, p.a.type.shape.slice(0, -2)), X.ext), row) : row;
    const ownPiece = v.cfg.subgroup ? lt(add(v.lane, S * j), v.cfg.rows) : compare('eq', v.lane, 0);
    const writer = and(and(lt(v.c0, 4 * S), ownPiece), lt(add(r0, v.cfg.subgroup ? add(v.lane, S * j) : u32(j)), v.rowsLive));
    flops += emitRowReductionsAt(t, reductions, w.unflatten(flatRow, rowsShape).slice(0, -1), { row: flatRow, writer });
  }
  return flops;
}

/** Row `r` of X clamped to the last `span` rows (template.ts clampedIndex). */
const clampedRow = ({ w, rowsLive, X }: Vec4Kernel, r: Expr, span: number): Expr => clampedIndex(w, r, rowsLive, X.ext, span, 'xr');

/** Output column c0 + c, clamped into range. */
const columnIndex = ({ w, c0, Y }: Vec4Kernel, c: number): Expr => w.let(min(add(c0, c), Y.ext - 1), 'cc');

/** The index of this lane's piece j of X. */
const pieceIndex = ({ w, cfg, lane }: Vec4Kernel, j: number): Expr =>
  cfg.subgroup ? w.let(min(add(lane, cfg.lanes * j), cfg.rows - 1), 'pc') : u32(j);

/** The piece's value (a vec4) for piece j of this lane at k step k. */
function loadPiece(v: Vec4Kernel, j: number, k: Expr): Expr {
  const { w, X, r0 } = v;
  const R = v.cfg.rows;
  const pc = pieceIndex(v, j);
  if (!v.xAlongRows) {
    const row = clampedRow(v, add(r0, pc), 1);
    return w.vec4(X.id, at(X, row, k), X.kAxis);
  }
  // Piece q = kk·(R/4) + block: rows r0 + 4·block .. + 3 at k + kk.
  const q4 = R / 4;
  const kk = w.let(div(pc, q4), 'pk');
  const blk = w.let(mod(pc, q4), 'pb');
  const row = clampedRow(v, add(r0, mul(blk, 4)), 4);
  return w.vec4(X.id, at(X, row, w.let(add(k, kk), 'xk')), X.outAxis);
}

/** Scalar x[r][kk] of the block (after sharing), given the per-lane pieces. */
function shareX({ w, cfg, xAlongRows }: Vec4Kernel, pieces: readonly Expr[]): (r: number, kk: number) => Expr {
  const { rows: R, lanes: S, subgroup } = cfg;
  const shared = new Map<number, Expr>();
  const piece = (q: number): Expr => {
    if (!subgroup) return pieces[q]!;
    if (!shared.has(q)) shared.set(q, w.let(sgBroadcast(pieces[Math.floor(q / S)]!, q % S), 'xb'));
    return shared.get(q)!;
  };
  return xAlongRows ? (r, kk) => lane(piece(kk * (R / 4) + Math.floor(r / 4)), r % 4) : (r, kk) => lane(piece(r), kk);
}

/** Y's 4×4 block at k: four vec4s over the lane's columns, one per kk. */
function loadY(v: Vec4Kernel, k: Expr): Expr[] {
  const { w, Y, cBase } = v;
  if (v.yAlongCols) return [0, 1, 2, 3].map((kk) => w.vec4(Y.id, at(Y, cBase, w.let(add(k, kk), 'yk')), Y.outAxis));
  const cols = [0, 1, 2, 3].map((c) => w.vec4(Y.id, at(Y, columnIndex(v, c), k), Y.kAxis));
  return [0, 1, 2, 3].map((kk) => w.let(vec4(cols.map((c) => lane(c, kk))), 'yt'));
}

/** The k loop, 4 at a time: 16·R multiply-adds per step. Returns its arithmetic ops per step. */
function emitKSteps(v: Vec4Kernel): number {
  const { w, K4, kLive } = v;
  if (K4 === 0) return 0;
  const step = (k: Expr) => {
    const pieces = Array.from({ length: v.perLane }, (_, j) => loadPiece(v, j, k));
    const x = shareX(v, pieces);
    const y = loadY(v, k);
    v.accs.forEach((acc, r) => w.assign(acc, [0, 1, 2, 3].reduce((s, kk) => add(s, mul(x(r, kk), y[kk]!)), acc.ref)));
  };
  if (kLive.k !== 'lit') return w.loop('k', 0, w.let(mul(div(kLive, 4), 4), 'k4'), 4, step);
  // A row operand concatenated along k: one loop per part (counting from 0, so that the bounds
  // place k inside the part), reading only that part.
  const kLast = v.X.kAxis === v.t.graph.node(v.X.id).type.shape.length - 1;
  const ranges = kLast ? kRanges(v.t.graph, v.t.plan, v.X.id, K4, 4) : [[0, K4] as [number, number]];
  return ranges.reduce((ops, [lo, hi]) => ops + (w.loop('k', 0, hi - lo, 4, (j) => step(add(j, lo))) * (hi - lo)) / K4, 0);
}

/** The k tail (K not a multiple of 4), one k at a time. Returns its arithmetic ops per step. */
function emitKTail(v: Vec4Kernel): number {
  const { w, X, Y, K4, r0, cBase, kLive } = v;
  const { K } = v.p;
  const { lanes: S, subgroup } = v.cfg;
  if (K4 >= K) return 0;
  // Scalars of X shared the same way as the pieces, Y as one vector over the columns.
  return w.loop('k', kLive.k === 'lit' ? K4 : w.let(mul(div(kLive, 4), 4), 'k4'), kLive, 1, (k) => {
    const xs = Array.from({ length: v.perLane }, (_, j) => {
      const row = clampedRow(v, add(r0, pieceIndex(v, j)), 1);
      return w.value(X.id, at(X, row, k));
    });
    const y = Y.ext % 4 === 0
      ? w.vec4(Y.id, at(Y, cBase, k), Y.outAxis)
      : w.let(vec4([0, 1, 2, 3].map((c) => w.value(Y.id, at(Y, columnIndex(v, c), k)))), 'yt');
    v.accs.forEach((acc, r) => {
      const xr = subgroup ? w.let(sgBroadcast(xs[Math.floor(r / S)]!, r % S), 'xb') : xs[r]!;
      w.assign(acc, add(acc.ref, mul(xr, y)));
    });
  });
}

/**
 * Epilogue: a loop over the rows (the accumulators copied to an array once), so that the
 * epilogue's code is emitted once, not R times: the driver compiles it faster, and it runs the
 * same (its loads of row-invariant operands such as a bias are hoisted out of the loop).
 * Values are computed at clamped indices, stores guarded.
 */
function emitStores(v: Vec4Kernel, accs2?: Buf): { vecStore: boolean; epilogueOps: number } {
  const { w, t, p, c0, r0 } = v;
  const { rows: R, swap } = v.cfg;
  const accs = w.privateArray('accs', VEC4, R, v.accs.map((a) => a.ref));
  // Scalar stores where the template input asks (codegen/family-variants.ts: the same product at column counts no multiple of 4).
  const vecStore = !t.scalar && canStoreVec4(w, t, p);
  let epilogueOps = 0;
  const second = (acc: Expr | undefined): SecondAccumulator | undefined => (acc === undefined ? undefined : { mm: t.graph.node(t.plan.secondProduct(t.root.id)!), acc });
  const store = (gm: Expr, gn: Expr, gnClamp: number, acc: Expr, vector: boolean, acc2?: Expr) => storeOne(v, gm, gn, gnClamp, acc, vector, second(acc2));
  if (vecStore && !swap) {
    epilogueOps = w.loop('r', 0, R, 1, (r) => store(w.let(add(r0, r), 'gm'), c0, 4, load(accs, r), true, accs2 && load(accs2, r))) / 4;
  } else if (vecStore) {
    // Lanes hold 4 rows (m) × R columns (n): transposed into vectors along n.
    w.loop('i', 0, 4, 1, (i) => {
      epilogueOps = w.loop('q', 0, R / 4, 1, (q) => {
        const cv = w.let(vec4([0, 1, 2, 3].map((j) => lane(load(accs, add(mul(q, 4), j)), i))), 'cv');
        store(w.let(add(c0, i), 'gm'), w.let(add(r0, mul(q, 4)), 'gn'), 4, cv, true);
      }) / 4;
    });
  } else {
    w.loop('r', 0, R, 1, (r) => {
      epilogueOps = w.loop('i', 0, 4, 1, (i) => {
        const [gm, gn] = swap ? [add(c0, i), add(r0, r)] : [add(r0, r), add(c0, i)];
        store(w.let(gm, 'gm'), w.let(gn, 'gn'), 1, lane(load(accs, r), i), false, accs2 && lane(load(accs2, r), i));
      });
    });
  }
  return { vecStore, epilogueOps };
}

/** Stores `acc` (a vec4 along n when `vector`) at output (gm, gn) through the epilogue, guarded. */
function storeOne({ w, t, p, cBatch, cfg, rowsLive }: Vec4Kernel, gm: Expr, gn: Expr, gnClamp: number, acc: Expr, vector: boolean, second?: SecondAccumulator): void {
  const { N } = p;
  // M as the code reads it: the row count unless swapped (then M is along the lanes, a constant).
  const M = cfg.swap ? u32(p.M) : rowsLive;
  const guard = and(lt(gm, M), lt(gn, N));
  // An element past the end in every workgroup is never stored.
  if (guard.k === 'lit' && !guard.v) return;
  const gmc = clampedIndex(w, gm, M, p.M, 1, 'gm'), gnc = w.let(min(gn, N - gnClamp), 'gn');
  if (vector) storeEpilogueVec4(w, t, p, cBatch, gmc, gnc, acc, guard, second);
  else storeEpilogue(w, t, p, w.buffer(t.root.id, true), cBatch, gmc, gnc, acc, guard, second);
}

/**
 * Products of at most this many flops (a merge's scores and their gradients, a small adapter's
 * weights) take 4 rows per lane by default: they run in microseconds whatever the blocking, while
 * 16 rows' unrolled code costs a CPU driver up to a second to compile (lavapipe: ~60 µs per
 * character). The tuner still offers and times 8 and 16.
 */
const SMALL_PRODUCT_FLOPS = 2 ** 20;

/**
 * A default configuration (measured on lavapipe, 8-lane subgroups): 16 rows per lane unless the
 * rows are few (fewer reads per multiply-add: ~15% faster at ViT shapes), lanes along n unless
 * the output is much narrower than a subgroup's columns (transposed reads cost ~30% at equal
 * padding), ranked by the padded work of whole tiles.
 */
export function defaultVec4Config(p: MatmulProblem, limits: TemplateLimits, subgroup: boolean): Vec4Config {
  const S = subgroup ? limits.subgroupSize : 8;
  const options: Vec4Config[] = [];
  const little = 2 * p.batchCount * p.M * p.N * p.K <= SMALL_PRODUCT_FLOPS;
  for (const swap of [false, true]) {
    for (const rows of little ? [4] : subgroup ? [16, 8] : [8, 4]) {
      for (const groups of subgroup ? [1] : [8, 4, 2, 1]) {
        const c = { rows, lanes: S, groups, subgroup, swap };
        if (vec4Supported(c, limits, p.batchCount)) options.push(c);
      }
    }
  }
  if (!options.length) {
    // The batch runs along the grid's z axis: the standard dispatch-limit message lets callers name the option.
    if (p.batchCount > limits.maxWorkgroupsPerDimension) throw new Error(`matmul: ${p.batchCount} workgroups exceed the device's dispatch limit (${limits.maxWorkgroupsPerDimension} per dimension)`);
    throw new Error(`no vec4 matmul configuration fits this device (${limits.maxInvocationsPerWorkgroup} invocations per workgroup, subgroup size ${limits.subgroupSize})`);
  }
  const cost = (c: Vec4Config) => {
    const [rowsExt, colsExt] = c.swap ? [p.N, p.M] : [p.M, p.N];
    const br = c.rows * c.groups, bc = 4 * c.lanes;
    const padded = Math.ceil(rowsExt / br) * br * Math.ceil(colsExt / bc) * bc;
    return padded * (c.rows >= 16 ? 1 : c.rows >= 8 ? 1.15 : 1.4) * (c.swap ? 1.3 : 1) * (1 + 0.02 / c.groups);
  };
  return options.reduce((best, c) => (cost(c) < cost(best) ? c : best));
}
