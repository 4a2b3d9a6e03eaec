// Fused softmax attention: O = softmax(S)·V, S an elementwise chain over Q·Kᵀ (scale, the log-size
// bias of proportional attention), in one kernel per (batch·head, block of query rows), the
// pattern the fusion planner recognised (AttentionPattern in template.ts). Each lane owns one
// query row: its Q row and its output row live in registers as vec4s; the lane walks the keys
// once with an online softmax (running max m and sum l; on a new max the sum and the output are
// rescaled by exp(m_old − m_new), once per block of keys), so the n×n scores, their max,
// exponentials and sums are never stored. K and V rows are the same for every lane: with subgroups each lane reads a few vec4
// chunks and shares them with subgroupBroadcast; without, each lane reads them itself. The output
// goes through P·V's epilogue (the head merge permute, a residual, ...) like a matmul's.
// On hardware GPUs with few query rows the keys are split across the subgroup instead
// (AttentionConfig.split, splitKeysAttention below).

import { add, bool, bounded, canonicalIndex, compare, div, dot, exp, f32, ge, indexKey, lane, log, lt, max, min, mod, mul, sgAdd, sgBroadcast, sgMax, splat, sub, u32, unbounded, type Index } from './alu.ts';
import type { Expr } from './ir.ts';
import { batchIndices, canStoreVec4, matmulProblem, storeEpilogue, storeEpilogueVec4, type MatmulProblem } from './matmul.ts';
import { expectOp, flatWorkgroup, FusionError, spread, type KernelBuilder, type TemplateInput, type TemplateLimits, type TemplateOutput, type Variable } from './template.ts';
import type { Node } from '../src/core/ir/graph.ts';

/** The shape of a fused attention kernel: lanes, query rows per lane, key blocking, sharing. */
export interface AttentionConfig {
  /** Lanes per workgroup (the subgroup size when `subgroup`). */
  readonly lanes: number;
  /** Query rows per lane (their K and V reads shared): the workgroup covers lanes × rows queries. */
  readonly rows: number;
  /** Share K and V rows across the subgroup with subgroupBroadcast. */
  readonly subgroup: boolean;
  /** Keys per step of the key loop (their chunks shared, one rescale per step); default 1. */
  readonly keys?: number;
  /**
   * Split the keys across the subgroup instead: one query row per workgroup, lane s walks keys
   * s, s + S, ... with its own online softmax, and the lanes' maxima, sums and outputs are
   * combined with subgroupMax/subgroupAdd. For hardware GPUs with few query rows per head (a
   * ViT-Ti at batch 1: 197 queries × 3 heads, two rows per lane, fill 12 subgroups of 32 lanes on a
   * 132-SM H200).
   * Needs `subgroup`; `rows` and `keys` are then 1.
   */
  readonly split?: boolean;
}

/**
 * Below this many workgroups of the row-per-lane design a hardware GPU gets the split-keys one.
 * Measured on an H200 (bench/device/attention-ab.ts, GPU timestamps of the attention kernels,
 * row-per-lane → split): ViT-Ti b1 (12 workgroups) 3.31 → 0.37 ms, ViT-B b1 (48) 3.80 → 1.81,
 * ViT-Ti b8 (96) 3.65 → 1.65, vit-mnist b16 (64) 0.32 → 0.20, but vit-mnist b100 (400)
 * 0.13 → 0.30: there the rows already fill the GPU and split lanes get 1-2 keys each.
 */
export const SPLIT_KEYS_BELOW_WORKGROUPS = 256;

/** The configuration used without tuning, for `nq` query rows and `heads` batch·heads on this device. */
export function defaultAttentionConfig(limits: TemplateLimits, nq: number, heads = 1): AttentionConfig {
  const lanes = limits.subgroupSize > 0 ? limits.subgroupSize : 8;
  const subgroup = limits.subgroupSize > 0;
  // Two query rows per lane halve the K/V reads and broadcasts per query, unless that would
  // pad the queries much more (measured on lavapipe, vit-mnist: 50 queries, 8 lanes). Four keys
  // per step: vit-mnist inference's attention kernels 100-104 -> 74 ms (2 or 8 keys: 101, 74-94).
  const pad = (r: number) => Math.ceil(nq / (lanes * r)) * lanes * r;
  const rows = pad(2) <= 1.25 * pad(1) ? 2 : 1;
  if (subgroup && limits.adapterClass === 'gpu' && heads * Math.ceil(nq / (lanes * rows)) < SPLIT_KEYS_BELOW_WORKGROUPS) {
    return { lanes, rows: 1, subgroup, keys: 1, split: true };
  }
  return { lanes, rows, subgroup, keys: 4 };
}

/** The lowest finite f32, where running maxima start (finite: differences of maxima stay finite). */
export const LOWEST_F32 = -3.4028234663852886e38;

/** How the lanes of a workgroup share rows every lane needs. */
export interface LaneSharing {
  /** The lane index. */
  readonly lane: Expr;
  readonly lanes: number;
  /** Through subgroupBroadcast (else every lane reads every chunk itself). */
  readonly subgroup: boolean;
}

/**
 * `count` chunks of `width` elements that every lane needs (chunk c at element offset c·width).
 * With subgroups lane s reads chunks s, s + S, ... and every chunk reaches all lanes by
 * broadcast, so each lane issues count/S loads instead of count.
 */
function sharedChunks(w: KernelBuilder, s: LaneSharing, count: number, width: number, load: (offset: Expr) => Expr): Expr[] {
  if (!s.subgroup) return Array.from({ length: count }, (_, c) => load(u32(width * c)));
  const slots = Array.from({ length: Math.ceil(count / s.lanes) }, (_, k) => load(w.let(mul(min(add(s.lane, s.lanes * k), count - 1), width), 'dc')));
  return Array.from({ length: count }, (_, c) => w.let(sgBroadcast(slots[Math.floor(c / s.lanes)]!, c % s.lanes), 'kb'));
}

/**
 * Rows base .. base + count − 1 of an operand every lane needs, `width` elements each, read in
 * chunks of `vec` elements by `load(row, offset)` and shared as in sharedChunks: [row][chunk].
 * A block's rows fill the subgroup's lanes (a 16-wide row is 4 vec4 chunks, half a subgroup of 8).
 */
export function sharedRows(w: KernelBuilder, s: LaneSharing, base: Expr, count: number, width: number, vec: number, load: (row: Expr, offset: Expr) => Expr): Expr[][] {
  const per = width / vec;
  const flat = sharedChunks(w, s, count * per, vec, (off) => (count === 1 ? load(base, off) : load(add(base, div(off, width)), mod(off, width))));
  return Array.from({ length: count }, (_, k) => flat.slice(k * per, (k + 1) * per));
}

/**
 * A loop over n rows in blocks of `block` (the counter steps by the block), then a tail row by
 * row (emitted even when empty); the body gets the block's row indices (i, i + 1, ...; `hint`
 * names them). Returns the body's operations summed over all iterations.
 */
export function blockedLoop(w: KernelBuilder, v: string, hint: string, n: number, block: number, body: (rows: readonly Expr[]) => void): number {
  const b = Math.min(block, n), main = n - (n % b);
  const rowsFrom = (base: Expr, count: number) => Array.from({ length: count }, (_, k) => (k === 0 ? base : w.let(add(base, k), hint)));
  let ops = 0;
  if (main > 0) ops += w.loop(v, 0, main, b, (i) => body(rowsFrom(i, b))) * (main / b);
  // The tail loop even when empty (n a multiple of the block): the code is then the same at every n.
  if (b > 1 || main < n) ops += w.loop(v, main, n, 1, (i) => body(rowsFrom(i, 1))) * (n - main);
  return ops;
}

/** Renders the softmax attention fused into the kernel of P·V (`t.root`), by `config` or the default for the device. */
export function attentionKernel(t: TemplateInput, config?: AttentionConfig): TemplateOutput {
  const { w, graph, plan, root, limits } = t;
  const p = matmulProblem(t);
  const g = plan.attention(p.mm.id);
  if (!g) throw new FusionError(root.id, 'attention template without an attention pattern');
  const qk = expectOp(graph.node(g.qk), 'matmul');
  const [Q, KT] = qk.inputs.map((i) => graph.node(i));
  const V = p.b;
  const cfg = config ?? defaultAttentionConfig(limits, p.M, p.batchCount);
  const { lanes: S, subgroup } = cfg;
  if (subgroup && limits.subgroupSize !== S) throw new Error(`attention: subgroup size ${limits.subgroupSize}, configured ${S}`);
  if (cfg.split && !subgroup) throw new Error('attention: split keys needs subgroups');
  const batchId = w.builtin('wid', 2, p.batchCount);
  const { cBatch, bBatch: vBatch } = batchIndices(w, p, batchId);
  const qBatch = w.broadcastIndex(cBatch, Q!.type.shape.slice(0, -2));
  const kBatch = w.broadcastIndex(cBatch, KT!.type.shape.slice(0, -2));
  const parts: AttentionParts = { p, g, qk, Q: Q!, KT: KT!, V, S, cBatch, qBatch, kBatch, vBatch };
  return cfg.split ? splitKeysAttention(t, parts) : rowPerLaneAttention(t, parts, cfg);
}

/** One query row of a lane: its index (and clamped), its Q row in registers, running max, sum and output. */
interface QueryRow {
  readonly qi: Expr;
  readonly qc: Expr;
  readonly qv: readonly Expr[];
  readonly m: Variable;
  readonly l: Variable;
  readonly outs: readonly Variable[];
}

/** The row-per-lane design: each lane owns `cfg.rows` query rows and walks the keys once. */
function rowPerLaneAttention(t: TemplateInput, a: AttentionParts, cfg: AttentionConfig): TemplateOutput {
  const { w, limits } = t;
  const { p, Q, S } = a;
  const nq = p.M, hd = p.N, n = p.K;
  const dk = Q.type.shape.at(-1)!;
  const { subgroup, rows: QL } = cfg;
  const tiles = Math.ceil(nq / (S * QL));
  const [dx, dy] = spread(tiles, limits);
  const lane = subgroup ? w.builtin('sid', undefined, S) : w.builtin('lid', undefined, S);
  const tile0 = w.let(flatWorkgroup(w), 'tile');
  if (dx * dy > tiles) w.exitIf(ge(tile0, tiles));
  const tile = bounded(tile0, tiles);
  const rowsOf = Array.from({ length: QL }, (_, r) => queryRow(w, a, tile, lane, QL, r));
  // Keys go in blocks of KB: the block's K and V chunks fill the subgroup's lanes (one load each
  // instead of idle duplicates), and the running max and the output rescale once per block
  // (exp(m_old − m_new) and hd multiplies per block, not per key). A tail runs key by key.
  const KB = Math.min(cfg.keys ?? 1, n);
  const share = { lane, lanes: S, subgroup };
  const ops = blockedLoop(w, 'j', 'jk', n, KB, (keys) => attendKeyBlock(w, a, share, rowsOf, keys));
  storeQueryRows(t, a, rowsOf);
  return {
    kind: 'attention',
    workgroupSize: [S, 1, 1],
    dispatch: [dx, dy, p.batchCount],
    // Q·Kᵀ and P·V (2 per multiply-add), the online softmax (2 exp and ~4 ops per score), and the
    // chain over S (counted per lane and key).
    flops: p.batchCount * (nq * n * (2 * dk + 2 * hd + 12) + (tiles * S * ops) / QL),
    config: `attention ${subgroup ? `sg${S}` : `wg${S}`} rows${QL} keys/step${KB} q${nq} keys${n} d${dk}/${hd}`,
    enables: subgroup ? ['subgroups'] : undefined,
  };
}

/** Query row r of this lane: tile·S·QL + lane + r·S (clamped for reads, guarded for stores); declares its state. */
function queryRow(w: KernelBuilder, a: AttentionParts, tile: Expr, lane: Expr, QL: number, r: number): QueryRow {
  const { p, Q, S, qBatch } = a;
  const nq = p.M, hd = p.N;
  const dk = Q.type.shape.at(-1)!;
  // Unbounded: the clamp and the store guard stay where nq happens to fill the last tile, so the
  // kernel prints alike at every token count (a merge's blocks share its module).
  const qi = unbounded(w.let(add(add(mul(tile, S * QL), lane), S * r), 'qi'));
  const qc = w.let(min(qi, nq - 1), 'qc');
  // The query row, as dk/4 vectors (read once: hoisted out of the key loop).
  const qv = Array.from({ length: dk / 4 }, (_, c) => w.vec4(Q.id, [...qBatch, qc, u32(4 * c)], Q.type.shape.length - 1));
  const m = w.variable(f32(LOWEST_F32), 'm'), l = w.variable(f32(0), 'l');
  const outs = Array.from({ length: hd / 4 }, () => w.variable(splat(f32(0)), 'o'));
  return { qi, qc, qv, m, l, outs };
}

/** Provides Q·Kᵀ at (query qc, key j) as `dot`: the scores chain reads it there only. */
function provideScore(w: KernelBuilder, a: AttentionParts, qc: Expr, j: Expr, dotValue: Expr): void {
  const want = indexKey(canonicalIndex([...a.cBatch, qc, j], a.qk.type.shape));
  w.provide(a.qk.id, (at) => {
    if (indexKey(at) !== want) throw new FusionError(a.qk.id, `attention scores read at [${indexKey(at)}], not [${want}]`);
    return dotValue;
  });
}

/** The dot product of two rows given as vec4 chunks. */
const dotRows = (x: readonly Expr[], y: readonly Expr[]): Expr => x.map((q, c) => dot(q, y[c]!)).reduce((s, d) => add(s, d));

/** One block of keys for every query row of the lane: scores, the online softmax update and P·V. */
function attendKeyBlock(w: KernelBuilder, a: AttentionParts, share: LaneSharing, rowsOf: readonly QueryRow[], keys: readonly Expr[]): void {
  const { p, g, Q, KT, V, cBatch, kBatch, vBatch } = a;
  const hd = p.N;
  const dk = Q.type.shape.at(-1)!;
  const rk = KT.type.shape.length, rv = V.type.shape.length;
  const kChunks = dk / 4, vChunks = hd / 4;
  // K rows (Kᵀ columns) and V rows of the block, as vec4 chunks.
  const chunksOf = (id: number, d: number, batch: Index, kAxis: number, dAxis: number) =>
    sharedRows(w, share, keys[0]!, keys.length, d, 4, (key, off) => keyChunk(w, id, batch, kAxis, dAxis, key, off)).flat();
  const kv = chunksOf(KT.id, dk, kBatch, rk - 1, rk - 2);
  const vv = chunksOf(V.id, hd, vBatch, rv - 2, rv - 1);
  for (const row of rowsOf) {
    const scores = keys.map((jj, i) => {
      provideScore(w, a, row.qc, jj, w.let(dotRows(row.qv, kv.slice(i * kChunks, (i + 1) * kChunks)), 'qk'));
      return w.compute(g.scores, [...cBatch, row.qc, jj]);
    });
    const mn = w.let(scores.reduce((acc, sc) => max(acc, sc), row.m.ref), 'mn');
    const alpha = w.let(exp(sub(row.m.ref, mn)), 'alpha');
    const ps = scores.map((sc) => w.let(exp(sub(sc, mn)), 'pj'));
    w.assign(row.l, ps.reduce((s, pj) => add(s, pj), mul(row.l.ref, alpha)));
    row.outs.forEach((o, c) => w.assign(o, ps.reduce((s, pj, i) => add(s, mul(pj, vv[i * vChunks + c]!)), mul(o.ref, alpha))));
    w.assign(row.m, mn);
  }
}

/** Each query row's output (and log-sum-exp, when this kernel writes the backward's lse part), guarded past nq. */
function storeQueryRows(t: TemplateInput, a: AttentionParts, rowsOf: readonly QueryRow[]): void {
  const { w } = t;
  const { p, cBatch } = a;
  const nq = p.M;
  // The backward's lse part, when the planner gave it to this kernel.
  const lse = lseStore(t, cBatch);
  for (const row of rowsOf) {
    const guard = lt(row.qi, nq);
    if (lse) w.when(guard, () => lse(row.qi, add(row.m.ref, log(row.l.ref))));
    // P·V = Σⱼ exp(sⱼ − m) vⱼ / l, through P·V's epilogue.
    const inv = w.let(div(f32(1), row.l.ref), 'inv');
    storeOutputRow(t, p, cBatch, row.qc, row.outs.map((o) => w.let(mul(o.ref, inv), 'ov')), () => guard);
  }
}

interface AttentionParts {
  readonly p: MatmulProblem;
  readonly g: NonNullable<ReturnType<TemplateInput['plan']['attention']>>;
  readonly qk: Node;
  readonly Q: Node;
  readonly KT: Node;
  readonly V: Node;
  /** Lanes: the subgroup size. */
  readonly S: number;
  readonly cBatch: Index;
  readonly qBatch: Index;
  readonly kBatch: Index;
  readonly vBatch: Index;
}


/**
 * AttentionConfig.split: one query row per workgroup (one subgroup); lane s takes keys s, s + S,
 * ... with its own running max, sum and output; then M = max over lanes, and the sum and output
 * are the lanes' ones rescaled by exp(m_s − M) and added across the subgroup. Lanes without keys
 * (n < S) keep m = lowest and l = 0, so exp(m_s − M) = 0 drops them: no infinities.
 */
function splitKeysAttention(t: TemplateInput, a: AttentionParts): TemplateOutput {
  const { w, limits } = t;
  const { p, g, Q, KT, V, S, cBatch, qBatch, kBatch, vBatch } = a;
  const nq = p.M, hd = p.N, n = p.K;
  const dk = Q.type.shape.at(-1)!;
  const rq = Q.type.shape.length, rk = KT.type.shape.length, rv = V.type.shape.length;
  const [dx, dy] = spread(nq, limits);
  const sid = w.builtin('sid', undefined, S);
  const qi0 = w.let(flatWorkgroup(w), 'qi');
  if (dx * dy > nq) w.exitIf(ge(qi0, nq));
  const qi = bounded(qi0, nq);
  const qv = Array.from({ length: dk / 4 }, (_, c) => w.vec4(Q.id, [...qBatch, qi, u32(4 * c)], rq - 1));
  const m = w.variable(f32(LOWEST_F32), 'm'), l = w.variable(f32(0), 'l');
  const outs = Array.from({ length: hd / 4 }, () => w.variable(splat(f32(0)), 'o'));
  const ops = w.loop('j', sid, n, S, (j) => {
    provideScore(w, a, qi, j, w.let(dotRows(qv, qv.map((_, c) => keyChunk(w, KT.id, kBatch, rk - 1, rk - 2, j, u32(4 * c)))), 'qk'));
    const score = w.compute(g.scores, [...cBatch, qi, j]);
    const mn = w.let(max(m.ref, score), 'mn');
    const alpha = w.let(exp(sub(m.ref, mn)), 'alpha');
    const pj = w.let(exp(sub(score, mn)), 'pj');
    w.assign(l, add(mul(l.ref, alpha), pj));
    outs.forEach((o, c) => w.assign(o, add(mul(o.ref, alpha), mul(pj, keyChunk(w, V.id, vBatch, rv - 2, rv - 1, j, u32(4 * c))))));
    w.assign(m, mn);
  });
  const M = w.let(sgMax(m.ref), 'mall');
  const f = w.let(exp(sub(m.ref, M)), 'f');
  const L = w.let(sgAdd(mul(l.ref, f)), 'lall');
  const lse = lseStore(t, cBatch);
  if (lse) w.when(compare('eq', sid, 0), () => lse(qi, add(M, log(L))));
  // P·V through its epilogue: output chunk c is stored by lane c mod S.
  const inv = w.let(div(f32(1), L), 'inv');
  storeOutputRow(t, p, cBatch, qi, outs.map((o) => w.let(mul(sgAdd(mul(o.ref, f)), inv), 'ov')), (c) => compare('eq', sid, c % S));
  return {
    kind: 'attention',
    workgroupSize: [S, 1, 1],
    dispatch: [dx, dy, p.batchCount],
    // As the row-per-lane kernel, plus the combine (hd/4 + 2 subgroup reductions per query row).
    flops: p.batchCount * nq * (n * (2 * dk + 2 * hd + 12) + Math.ceil(n / S) * S * ops + S * (hd + 8)),
    config: `attention sg${S} split-keys q${nq} keys${n} d${dk}/${hd}`,
    enables: ['subgroups'],
  };
}

/** The vec4 at element `off` of row `key` of a K/V-like operand (`kAxis` its row axis, `dAxis` contiguous). */
function keyChunk(w: KernelBuilder, id: number, batch: Index, kAxis: number, dAxis: number, key: Expr, off: Expr): Expr {
  const idx: Expr[] = [...batch, u32(0), u32(0)];
  idx[kAxis] = key;
  idx[dAxis] = off;
  return w.vec4(id, idx, dAxis);
}

/**
 * The store of a query row's log-sum-exp when the planner gave the backward's lse part to this
 * kernel (codegen/fusion: joinAttentionLse), else undefined.
 */
function lseStore(t: TemplateInput, cBatch: Index): ((row: Expr, value: Expr) => void) | undefined {
  const { w, graph, plan, root } = t;
  const lse = plan.siblings(root.id).find((id) => graph.node(id).op === 'attentionBackward');
  if (lse === undefined) return undefined;
  const out = w.buffer(lse, true);
  const shape = graph.node(lse).type.shape;
  return (row, value) => w.store(out, w.linear([...cBatch, row, u32(0)], shape), value);
}

/** One output row (vec4 values, chunk c at column 4·c) through P·V's epilogue; `guard(c)` guards chunk c's store. */
function storeOutputRow(t: TemplateInput, p: MatmulProblem, cBatch: Index, row: Expr, values: readonly Expr[], guard: (c: number) => Expr): void {
  const { w, root } = t;
  if (canStoreVec4(w, t, p)) {
    values.forEach((v, c) => storeEpilogueVec4(w, t, p, cBatch, row, u32(4 * c), v, guard(c)));
    return;
  }
  const out = w.buffer(root.id, true);
  values.forEach((v, c) => {
    for (let k = 0; k < 4; k++) storeEpilogue(w, t, p, out, cBatch, row, u32(4 * c + k), lane(v, k), guard(c));
  });
}
