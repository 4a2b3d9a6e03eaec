// Matmul variant "tiled": workgroup tiles of A and B staged in workgroup memory, a TM×TN register
// block per thread, scalar loads. The classic design for hardware GPUs (shared memory is fast and
// barriers cheap there); on CPU drivers barriers split the shader and every load is costly.

import { add, and, bounded, compare, div, f32, fma, load, lt, min, mod, mul, select, sub, u32 } from './alu.ts';
import { F32, type Buf, type Expr } from './ir.ts';
import type { Node } from '../src/core/ir/graph.ts';
import { batchIndices, kRanges, matmulProblem, problemOf, storeEpilogue, type MatmulProblem } from './matmul.ts';
import { emitTileRowStatistics } from './reduce.ts';
import { clampedIndex, FusionError, isWeight, type TemplateInput, type TemplateOutput } from './template.ts';

/** Tile shape of the tiled matmul: a register block per thread, the k step, and the threads of a workgroup. */
export interface TiledConfig {
  readonly tm: number;
  readonly tn: number;
  readonly bk: number;
  /** Threads per workgroup along n (x) and m (y). */
  readonly wx: number;
  readonly wy: number;
}

/**
 * Workgroup memory a tiled matmul with a normalised row operand keeps beside its tiles for the
 * row statistics: each thread's shares and each row's results (LayerNorm: 3 of each, 256
 * threads and up to 256 rows).
 */
export const TILE_STATISTICS_BYTES = 8192;

/**
 * Output columns per workgroup tile of the default configuration on wide outputs (16 threads × 4),
 * and so the granule of the row sums a tiled kernel can compute in its epilogue
 * (codegen/granule-statistics.ts).
 */
export const GRANULE = 64;

/** Workgroup memory the granule sums take beside the tiles: a float per thread and row of its block (256 threads × 4). */
export const GRANULE_SUM_BYTES = 4096;

/** Tile shape per problem size: big register blocks for big outputs, thin ones for adapters and tails. */
export function tiledConfig(m: number, n: number, k: number, maxInvocations: number, maxWorkgroupBytes = 16384): TiledConfig {
  const block = (d: number) => (d >= 64 ? 4 : d >= 32 ? 2 : 1);
  const threads = Math.min(256, maxInvocations);
  const wx = Math.min(threads, n >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(n))));
  const [tm, tn, bk] = [block(m), block(n), k >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(k)))];
  // Thin outputs (an adapter's down-projection, n = 8) keep all the threads, in taller tiles: as
  // many invocations as the full-width matmul beside them, so the two can share a dispatch.
  // Tiny ones (m < 64) keep the narrow workgroup, as wide as the 64-wide kernels they batch with.
  let wy = Math.max(1, Math.floor(threads / wx));
  if (m < 64) wy = Math.min(wy, 16);
  // Both tiles in workgroup memory (WebGPU guarantees 16 KiB).
  while (wy > 1 && (wy * tm * bk + bk * wx * tn) * 4 > maxWorkgroupBytes) wy /= 2;
  return { tm, tn, bk, wx, wy };
}

export function tiledMatmul(t: TemplateInput, cfg = defaultTiled(t)): TemplateOutput {
  const { w, root, limits } = t;
  const p = matmulProblem(t);
  const { M, N, K, batchCount } = p;
  const { tm, tn, bk, wx, wy } = cfg;
  const BM = wy * tm, BN = wx * tn, threads = wx * wy;
  if (batchCount > limits.maxWorkgroupsPerDimension) throw new Error(`matmul: ${batchCount} workgroups exceed the device's dispatch limit (${limits.maxWorkgroupsPerDimension} per dimension)`);
  const As = w.workgroupArray('As', F32, BM * bk);
  const Bs = w.workgroupArray('Bs', F32, bk * BN);
  const out = w.buffer(root.id, true);
  const { aBatch, bBatch, cBatch } = batchIndices(w, p, w.builtin('wid', 2, batchCount));
  const m0 = w.let(mul(w.builtin('wid', 1), BM), 'm0');
  const n0 = w.let(mul(w.builtin('wid', 0), BN), 'n0');
  const lid = w.builtin('lid', undefined, threads);
  const [tx, ty] = [w.builtin('lid3', 0, wx), w.builtin('lid3', 1, wy)];
  const acc = w.privateArray('acc', F32, tm * tn);
  // Rows, and K where B is not a weight (a weight gradient's K is a row count), read at run time
  // where the plan allows (workgroups past the rows then find nothing to store).
  const Mlive = w.runtimeCount(M, [root.id]);
  let prologueOps = 0;
  const stage = (tile: Buf, rows: number, cols: number, value: TileValue) => stageTile(w, lid, threads, tile, rows, cols, value);
  const clamp = (e: Expr, live: Expr, n: number) => clampedIndex(w, e, live, n, 1, 'g');
  // Statistics later kernels read too are stored by the first column of tiles, for its rows that exist.
  const stores = (r: Expr) => and(compare('eq', w.builtin('wid', 0), 0), lt(add(m0, r), Mlive));
  const statisticsFlops = tileRowStatistics(t, p, aBatch, { lid, threads, BM, m0, row: (r) => clamp(add(m0, r), Mlive, M), stores });
  /** q's product over this workgroup's tile into `into`, k tile by k tile through workgroup memory. */
  const accumulate = (q: MatmulProblem, into: Buf) => {
    const { aBatch: qa, bBatch: qb } = q === p ? { aBatch, bBatch } : batchIndices(w, q, w.builtin('wid', 2, batchCount));
    const Klive = isWeight(t.graph, q.b.id) ? u32(q.K) : w.runtimeCount(q.K, [q.b.id]);
    // One k tile; returns its staging ops.
    const tile = (k0: Expr): number => {
      const ops = stage(As, BM, bk, (r, c) => {
        const gm = clamp(add(m0, r), Mlive, M), gk = clamp(add(k0, c), Klive, q.K);
        return { v: w.value(q.a.id, [...qa, gm, gk]), inside: and(lt(add(m0, r), Mlive), lt(add(k0, c), Klive)) };
      }) + stage(Bs, bk, BN, (r, c) => {
        const gk = clamp(add(k0, r), Klive, q.K), gn = w.let(min(add(n0, c), N - 1), 'gn');
        return { v: w.value(q.b.id, [...qb, gk, gn]), inside: and(lt(add(k0, r), Klive), lt(add(n0, c), N)) };
      });
      w.barrier();
      w.loop('kk', 0, bk, 1, (kk) => {
        const a = Array.from({ length: tm }, (_, i) => w.let(load(As, add(mul(add(mul(ty, tm), i), bk), kk)), 'a'));
        const b = Array.from({ length: tn }, (_, j) => w.let(load(Bs, add(add(mul(kk, BN), mul(tx, tn)), j)), 'b'));
        for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) w.store(into, u32(i * tn + j), fma(a[i]!, b[j]!, load(into, u32(i * tn + j))));
      });
      w.barrier();
      return ops;
    };
    if (Klive.k !== 'lit') w.loop('k0', 0, Klive, bk, (k0) => void (prologueOps += tile(k0)));
    else prologueOps += kTileLoops(t, q, bk, tile);
  };
  accumulate(p, acc);
  // The epilogue's second product (codegen/fusion/second-products.ts: an adapter's up-projection
  // beside fc2): its own k loop over the same output tile, into accumulators kept for the epilogue.
  const m2 = t.plan.secondProduct(root.id);
  const p2 = m2 === undefined ? undefined : problemOf(t.graph, t.graph.node(m2));
  const acc2 = p2 ? w.privateArray('acc2', F32, tm * tn) : undefined;
  if (p2 && acc2) accumulate(p2, acc2);
  const place: TilePlace = { cfg, tx, ty, m0, n0, Mlive, cBatch, p };
  const epilogueOps = storeTile(t, place, out, acc, p2 && acc2 ? { mm: p2.mm, acc: acc2 } : undefined);
  const tilesN = Math.ceil(N / BN), tilesM = Math.ceil(M / BM);
  return {
    kind: 'matmul',
    workgroupSize: [wx, wy, 1],
    dispatch: [tilesN, tilesM, batchCount],
    flops: batchCount * (2 * M * N * (K + (p2?.K ?? 0)) + M * N * epilogueOps) + batchCount * tilesM * tilesN * (Math.ceil(K / bk) * (BM + BN) * bk * prologueOps / threads + statisticsFlops),
    config: `tiled ${BM}x${BN}x${bk} reg${tm}x${tn} wg${wx}x${wy}`,
  };
}

/** Where a tiled kernel's threads and tile sit, and which rows exist. */
interface TilePlace {
  readonly cfg: TiledConfig;
  readonly tx: Expr;
  readonly ty: Expr;
  readonly m0: Expr;
  readonly n0: Expr;
  readonly Mlive: Expr;
  readonly cBatch: readonly Expr[];
  readonly p: MatmulProblem;
}

/**
 * The tile's accumulators through the epilogue into `out` (with the epilogue's second product),
 * and the granule sums of the values stored where the plan has this kernel compute them.
 * Returns the ops per output element.
 */
function storeTile(t: TemplateInput, at: TilePlace, out: Buf, acc: Buf, second?: { readonly mm: Node; readonly acc: Buf }): number {
  const { w } = t;
  const { tm, tn, wx } = at.cfg;
  const { M, N } = at.p;
  const granules = t.plan.epilogueGranules(t.root.id);
  // The values stored, kept for the granule sums (zero in rows past the last).
  const stored = granules ? w.privateArray('xv', F32, tm * tn) : undefined;
  let ops = 0;
  w.loop('i', 0, tm, 1, (i) => {
    w.loop('j', 0, tn, 1, (j) => {
      const gm = w.let(add(add(at.m0, mul(at.ty, tm)), i), 'gm');
      const gn = w.let(add(add(at.n0, mul(at.tx, tn)), j), 'gn');
      ops = w.when(and(lt(gm, at.Mlive), lt(gn, N)), () => {
        const k = add(mul(i, tn), j);
        const acc2 = second ? { mm: second.mm, acc: load(second.acc, k) } : undefined;
        const v = storeEpilogue(w, t, at.p, out, at.cBatch, bounded(gm, M), bounded(gn, N), load(acc, k), undefined, acc2);
        if (stored) w.store(stored, k, v);
      });
    });
  });
  if (!granules || !stored) return ops;
  if (wx * tn !== GRANULE || N % GRANULE !== 0) throw new FusionError(t.root.id, `granule sums need ${GRANULE}-column tiles over whole granules (tile ${wx * tn}, ${N} columns)`);
  return ops + emitGranuleSums(t, granules, stored, at);
}

/**
 * The sums over this tile's GRANULE columns of each of its rows, from the values the threads
 * stored (`stored`, tm × tn per thread), written to the granule sums' buffers at [row, tile
 * column] (codegen/fusion/epilogue-granules.ts): Σx, then Σ(x − mean)² about the granule's own
 * mean (two passes over registers; no cancellation). Each thread's share goes through workgroup
 * memory; the first thread of each row adds the row's shares. Returns the ops per output element.
 */
function emitGranuleSums(t: TemplateInput, g: { readonly sum: number; readonly centred: number }, stored: Buf, at: TilePlace): number {
  const { w } = t;
  const { tm, tn, wx, wy } = at.cfg;
  const part = w.workgroupArray('gpart', F32, wy * tm * wx);
  const rowOf = (i: number) => add(mul(at.ty, tm), i);
  const shares = (i: number) => mul(rowOf(i), wx);
  const own = (i: number, f: (v: Expr) => Expr) => Array.from({ length: tn }, (_, j) => f(load(stored, u32(i * tn + j)))).reduce((a, b) => add(a, b));
  const rowTotal = (i: number) => {
    const acc = w.variable(f32(0), 'gs');
    w.loop('gx', 0, wx, 1, (x) => w.assign(acc, add(acc.ref, load(part, add(shares(i), x)))));
    return w.let(acc.ref, 'gt');
  };
  for (let i = 0; i < tm; i++) w.store(part, add(shares(i), at.tx), own(i, (v) => v));
  w.barrier();
  const sums = Array.from({ length: tm }, (_, i) => rowTotal(i));
  const means = sums.map((s) => w.let(mul(s, f32(1 / GRANULE)), 'gmean'));
  w.barrier();
  for (let i = 0; i < tm; i++) {
    w.store(part, add(shares(i), at.tx), own(i, (v) => {
      const d = sub(v, means[i]!);
      return mul(d, d);
    }));
  }
  w.barrier();
  const sumBuf = w.buffer(g.sum, true), centredBuf = w.buffer(g.centred, true);
  const G = at.p.N / GRANULE;
  w.when(compare('eq', at.tx, 0), () => {
    for (let i = 0; i < tm; i++) {
      const gm = w.let(add(at.m0, rowOf(i)), 'gr');
      w.when(lt(gm, at.Mlive), () => {
        const row = w.linear([...at.cBatch, gm], at.p.mm.type.shape.slice(0, -1));
        const where = add(mul(row, G), w.builtin('wid', 0));
        w.store(sumBuf, where, sums[i]!);
        w.store(centredBuf, where, rowTotal(i));
      });
    }
  });
  return 3 + (2 * wx) / tn;
}

/**
 * A normalised row operand (LayerNorm as a prologue): the statistics of the workgroup's rows,
 * computed by all its threads before the k loop (kernels/reduce.ts). Returns their flops per tile.
 */
function tileRowStatistics(t: TemplateInput, p: MatmulProblem, aBatch: readonly Expr[], at: { lid: Expr; threads: number; BM: number; m0: Expr; row: (r: Expr) => Expr; stores: (r: Expr) => Expr }): number {
  const rowReductions = t.plan.matmulRowReductions(t.root.id).map((id) => t.graph.node(id));
  if (!rowReductions.length) return 0;
  // Rows are numbered as the operand's: batch entries, then rows.
  const batchRow = aBatch.length ? mul(t.w.linear(aBatch, p.a.type.shape.slice(0, -2)), p.M) : u32(0);
  return emitTileRowStatistics(t, rowReductions, p.a, {
    lid: at.lid, threads: at.threads, rows: at.BM, first: add(batchRow, at.m0), flatRow: (r) => add(batchRow, at.row(r)), maxBytes: TILE_STATISTICS_BYTES, stores: at.stores,
  });
}

type TileValue = (r: Expr, c: Expr) => { v: Expr; inside: Expr };

/** One tile of an operand into workgroup memory: element (r, c) of rows × cols, zero past the ends. Returns its ops per element. */
function stageTile(w: TemplateInput['w'], lid: Expr, threads: number, tile: Buf, rows: number, cols: number, value: TileValue): number {
  return w.loop('l', lid, rows * cols, threads, (l) => {
    const r = w.let(div(l, cols), 'r'), c = w.let(mod(l, cols), 'c');
    const { v, inside } = value(r, c);
    w.store(tile, l, select(f32(0), v, inside));
  });
}

/**
 * The k tiles over 0..K, one loop per part where A is a concatenation along k (the bounds then
 * show which part a tile reads). Returns the staging ops per tile, each range's weighted by its share of K.
 */
function kTileLoops(t: TemplateInput, q: MatmulProblem, bk: number, tile: (k0: Expr) => number): number {
  let perTile = 0;
  for (const [lo, hi] of kRanges(t.graph, t.plan, q.a.id, q.K, bk)) {
    let ops = 0;
    t.w.loop('k0', 0, hi - lo, bk, (j) => (ops = tile(add(j, lo))));
    perTile += (ops * (hi - lo)) / q.K;
  }
  return perTile;
}

const defaultTiled = (t: TemplateInput): TiledConfig => {
  const p = matmulProblem(t);
  return tiledConfig(p.M, p.N, p.K, t.limits.maxInvocationsPerWorkgroup, t.limits.maxWorkgroupStorageBytes);
};
