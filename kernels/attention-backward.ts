// The parts of softmax attention's backward (op attentionBackward, src/core/ir/ops.ts), each one kernel
// that recomputes the scores sᵢⱼ = scale·qᵢ·kⱼ (+ bias) instead of reading stored probabilities.
// Like the fused forward (attention.ts), each lane owns one row and walks the other side once:
//  - lse, dq: a query row i per lane, walking the keys j (the online max/sum for lse; for dq,
//    pᵢⱼ = exp(sᵢⱼ − lseᵢ), dsᵢⱼ = pᵢⱼ (dOᵢ·vⱼ − Dᵢ), dqᵢ += dsᵢⱼ kⱼ);
//  - dkv: a key row j per lane, walking the queries i (dkⱼ += dsᵢⱼ qᵢ, dvⱼ += pᵢⱼ dOᵢ, and the
//    bias column Σᵢ dsᵢⱼ), the gathers that replace scatter-adds over the queries.
// The owned row and the accumulators are vec4s in registers when the head dims are multiples of
// 4 (scalars otherwise); the rows of the other side are read once per workgroup and shared with
// subgroupBroadcast where the device has subgroups.

import { numel } from '../src/core/ir/shape.ts';
import type { Node } from '../src/core/ir/graph.ts';
import { blockedLoop, sharedRows, LOWEST_F32, type LaneSharing } from './attention.ts';
import { add, bounded, div, dot, exp, f32, ge, lane, log, lt, max, min, mul, splat, sub, u32, unbounded, vec4, type Index } from './alu.ts';
import type { Buf, Expr } from './ir.ts';
import { expectOp, flatWorkgroup, spread, type KernelBuilder, type TemplateInput, type TemplateOutput, type Variable } from './template.ts';

/**
 * Rows of the other side per step of the walk (blockedLoop in attention.ts). vit-mnist training step (lavapipe,
 * GPU timestamps, two runs): dkv 25-31 -> 19-23 ms, dq 18-20 -> 10-13 ms; 8 rows: no better.
 */
const WALK_BLOCK = 4;

/** Renders one part (lse, dq or dkv) of an attention backward node as one kernel. */
export function attentionBackwardKernel(t: TemplateInput): TemplateOutput {
  const k = backwardKernel(t);
  const { part, nb, own, walk, d, dv, S, W, share } = k;
  if (part === 'lse') emitLse(k);
  else if (part === 'dq') emitDq(k);
  else emitDkv(k);
  return {
    kind: 'attention',
    workgroupSize: [S, 1, 1],
    dispatch: [k.dx, k.dy, 1],
    // Multiply-adds of the score, dO·v and accumulator updates, plus exp and the softmax terms.
    flops: nb * own * walk * (2 * d + 6 + (part === 'lse' ? 0 : part === 'dq' ? 2 * dv + 2 * d : 4 * dv + 2 * d + 1)),
    config: `attention-backward ${part} ${share.subgroup ? `sg${S}` : `wg${S}`} w${W} q${k.nq} keys${k.n} d${d}/${dv}`,
    enables: share.subgroup ? ['subgroups'] : undefined,
  };
}

/** An attention-backward kernel being written: its operands and sizes, and the row this lane owns. */
interface BackwardKernel {
  readonly w: KernelBuilder;
  readonly root: Node;
  readonly part: 'lse' | 'dq' | 'dkv';
  readonly scale: number;
  readonly Q: Node;
  readonly KT: Node;
  /** V, dO, L (the forward's log-sum-exp) and D (rowsum(dO ∘ O)): absent for the lse part. */
  readonly V?: Node;
  readonly dO?: Node;
  readonly L?: Node;
  readonly D?: Node;
  readonly bias?: Node;
  /** Batch axes: their count (axis r holds the rows, r + 1 the columns), extent and index. */
  readonly r: number;
  readonly nb: number;
  readonly bIdx: Index;
  /** Queries, head dims of Q/K and of V, keys. */
  readonly nq: number;
  readonly d: number;
  readonly dv: number;
  readonly n: number;
  /** Rows lanes own (keys for dkv, else queries) and rows they walk. */
  readonly own: number;
  readonly walk: number;
  readonly S: number;
  readonly share: LaneSharing;
  /** Elements per register chunk: 4 (vec4s) when the head dims allow, else 1. */
  readonly W: number;
  readonly dx: number;
  readonly dy: number;
  /** The lane's own row, and the row clamped into range (for reads). */
  readonly row: Expr;
  readonly rc: Expr;
  /** The output buffer: as vec4s where rows are whole vectors (`vectorRows`), else as scalars. */
  readonly out: Buf;
  readonly vectorRows: boolean;
}

/** The node's operands and sizes; writes the lane's row index. */
function backwardKernel({ w, graph, root, limits }: TemplateInput): BackwardKernel {
  const node = expectOp(root, 'attentionBackward');
  const { part, scale } = node.attrs;
  const input = (k: number) => graph.node(node.inputs[k]!);
  const Q = input(0), KT = input(1);
  const V = part === 'lse' ? undefined : input(2);
  const dO = part === 'lse' ? undefined : input(3);
  const L = part === 'lse' ? undefined : input(4);
  const D = part === 'lse' ? undefined : input(5);
  const bias = node.attrs.bias ? input(node.inputs.length - 1) : undefined;
  const batchShape = Q.type.shape.slice(0, -2);
  const r = batchShape.length; // axis r: rows, r + 1: columns
  const nb = numel(batchShape);
  const [nq, d] = Q.type.shape.slice(-2) as [number, number];
  const n = KT.type.shape[r + 1]!;
  const dv = V ? V.type.shape[r + 1]! : 0;
  const perKey = part === 'dkv';
  const own = perKey ? n : nq, walk = perKey ? nq : n;

  const S = limits.subgroupSize > 0 ? limits.subgroupSize : 8;
  const share = { lane: limits.subgroupSize > 0 ? w.builtin('sid', undefined, S) : w.builtin('lid', undefined, S), lanes: S, subgroup: limits.subgroupSize > 0 };
  const W = d % 4 === 0 && dv % 4 === 0 ? 4 : 1;

  const tiles = Math.ceil(own / S);
  const total = tiles * nb;
  const [dx, dy] = spread(total, limits);
  const flat = w.let(flatWorkgroup(w), 'flat');
  if (dx * dy > total) w.exitIf(ge(flat, total));
  const [batchFlat, tile] = w.unflatten(bounded(flat, total), [nb, tiles]) as [Expr, Expr];
  const bIdx = w.unflatten(batchFlat, batchShape);
  // Unbounded: the clamp and the guard stay where `own` fills the last tile (attention.ts queryRow).
  const row = unbounded(w.let(add(mul(tile, S), share.lane), 'row'));
  const rc = w.let(min(row, own - 1), 'rc');
  // Rows of vec4 chunks stored as vectors (a quarter of the store code): dq's and dkv's rows are
  // whole vectors when the head dims are (dkv's bias column is padded to one: ops.ts dkvWidth).
  const vectorRows = part !== 'lse' && W === 4 && root.type.shape.at(-1)! % 4 === 0;
  const out = vectorRows ? w.bufferVec4(root.id, true) : w.buffer(root.id, true);
  return { w, root, part, scale, Q, KT, V, dO, L, D, bias, r, nb, bIdx, nq, d, dv, n, own, walk, S, share, W, dx, dy, row, rc, out, vectorRows };
}

// Row vectors of each operand, chunk offsets along its contiguous axis: rows of Q, V and dO;
// columns of Kᵀ (the rows of K).
const rowAt = (k: BackwardKernel, i: Expr) => (c: Expr): Index => [...k.bIdx, i, c];
const kAt = (k: BackwardKernel, j: Expr) => (c: Expr): Index => [...k.bIdx, c, j];

/** One register chunk (a vec4, or a scalar) of node `id` at `idx`, contiguous along `axis`. */
const loadChunk = ({ w, W }: BackwardKernel, id: number, idx: Index, axis: number): Expr => (W === 4 ? w.vec4(id, idx, axis) : w.value(id, idx));

/** The dot product of two rows given as chunks. */
const dotOf = ({ W }: BackwardKernel, a: readonly Expr[], b: readonly Expr[]): Expr =>
  a.map((x, c) => (W === 4 ? dot(x, b[c]!) : mul(x, b[c]!))).reduce((s, d) => add(s, d));

/** The lane's own row of an operand (`count` elements from offset 0), in registers: [chunk]. */
function ownRow(k: BackwardKernel, id: number, at: (off: Expr) => Index, count: number, axis: number): Expr[] {
  const { w, W } = k;
  return Array.from({ length: count / W }, (_, c) => w.let(loadChunk(k, id, at(u32(W * c)), axis), 'r'));
}

/** Rows of an operand in the walk's block, read once per workgroup and shared: [row][chunk]. */
const sharedRowsOf = (k: BackwardKernel, id: number, at: (k: BackwardKernel, i: Expr) => (c: Expr) => Index, rows: readonly Expr[], width: number, axis: number) =>
  sharedRows(k.w, k.share, rows[0]!, rows.length, width, k.W, (i, off) => loadChunk(k, id, at(k, i)(off), axis));

/** Per-row scalars (L, D) of the walk's block, shared the same way. */
const sharedScalars = ({ w, share, bIdx }: BackwardKernel, id: number, rows: readonly Expr[]) =>
  sharedRows(w, share, rows[0]!, rows.length, 1, 1, (i) => w.value(id, [...bIdx, i, u32(0)])).flat();

/** The walk over the other side, WALK_BLOCK rows at a time (blockedLoop). */
const walkLoop = (k: BackwardKernel, body: (rows: readonly Expr[]) => void) => blockedLoop(k.w, 't', 'ix', k.walk, WALK_BLOCK, body);

/** The score sᵢⱼ = scale·qᵢ·kⱼ (+ bias), bound to a name. */
function score(k: BackwardKernel, qv: readonly Expr[], kv: readonly Expr[], i: Expr, j: Expr): Expr {
  const { w, bias, bIdx } = k;
  const s = mul(f32(k.scale), dotOf(k, qv, kv));
  return w.let(bias ? add(s, w.value(bias.id, w.broadcastIndex([...bIdx, i, j], bias.type.shape))) : s, 's');
}

/** Zeroed accumulators for `count` elements: [chunk]. */
const accumulators = ({ w, W }: BackwardKernel, count: number): Variable[] => Array.from({ length: count / W }, () => w.variable(W === 4 ? splat(f32(0)) : f32(0), 'acc'));

/** Stores `value` at column `col` of the lane's output row (a vec4 at columns col..col + 3 where rows are stored as vectors). */
const storeAt = ({ w, root, out, bIdx, row, vectorRows }: BackwardKernel, col: number, value: Expr) => {
  const flat = w.linear([...bIdx, row, u32(col)], root.type.shape);
  w.store(out, vectorRows ? div(flat, 4) : flat, value);
};

/** Stores accumulator chunks from column `col` on, each element multiplied by `factor` when given. */
function storeRow(k: BackwardKernel, col: number, acc: readonly Variable[], factor?: number): void {
  const scaled = (e: Expr) => (factor === undefined ? e : mul(f32(factor), e));
  acc.forEach((a, c) => {
    if (k.vectorRows) storeAt(k, col + 4 * c, scaled(a.ref));
    else if (k.W === 1) storeAt(k, col + c, scaled(a.ref));
    else for (let i = 0; i < 4; i++) storeAt(k, col + 4 * c + i, scaled(lane(a.ref, i)));
  });
}

/** Runs `body` only for lanes whose row exists (unguarded when the rows fill the workgroups). */
const guarded = ({ w, own, row }: BackwardKernel, body: () => void) => w.when(lt(row, own), body);

/** lse: the query row's log-sum-exp, by an online max and sum over the keys. */
function emitLse(k: BackwardKernel): void {
  const { w, Q, KT, r, d, rc } = k;
  const qv = ownRow(k, Q.id, rowAt(k, rc), d, r + 1);
  const m = w.variable(f32(LOWEST_F32), 'm'), l = w.variable(f32(0), 'l');
  walkLoop(k, (keys) => {
    const kvs = sharedRowsOf(k, KT.id, kAt, keys, d, r);
    keys.forEach((j, i) => {
      const s = score(k, qv, kvs[i]!, rc, j);
      const mn = w.let(max(m.ref, s), 'mn');
      w.assign(l, add(mul(l.ref, exp(sub(m.ref, mn))), exp(sub(s, mn))));
      w.assign(m, mn);
    });
  });
  guarded(k, () => storeAt(k, 0, add(m.ref, log(l.ref))));
}

/** dq: dqᵢ = scale · Σⱼ dsᵢⱼ kⱼ over the keys, for the lane's query row i. */
function emitDq(k: BackwardKernel): void {
  const { w, Q, KT, r, d, dv, rc, bIdx } = k;
  const V = k.V!, dO = k.dO!, L = k.L!, D = k.D!;
  const qv = ownRow(k, Q.id, rowAt(k, rc), d, r + 1);
  const gv = ownRow(k, dO.id, rowAt(k, rc), dv, r + 1);
  const li = w.let(w.value(L.id, [...bIdx, rc, u32(0)]), 'li');
  const di = w.let(w.value(D.id, [...bIdx, rc, u32(0)]), 'di');
  const dq = accumulators(k, d);
  walkLoop(k, (keys) => {
    const kvs = sharedRowsOf(k, KT.id, kAt, keys, d, r);
    const vvs = sharedRowsOf(k, V.id, rowAt, keys, dv, r + 1);
    keys.forEach((j, i) => {
      const s = score(k, qv, kvs[i]!, rc, j);
      const p = w.let(exp(sub(s, li)), 'p');
      const ds = w.let(mul(p, sub(dotOf(k, gv, vvs[i]!), di)), 'ds');
      dq.forEach((a, c) => w.assign(a, add(a.ref, mul(ds, kvs[i]![c]!))));
    });
  });
  guarded(k, () => storeRow(k, 0, dq, k.scale));
}

/** dkv: dkⱼ, dvⱼ (and the bias column Σᵢ dsᵢⱼ) over the queries, for the lane's key row j. */
function emitDkv(k: BackwardKernel): void {
  const { w, Q, KT, bias, r, d, dv, rc } = k;
  const V = k.V!, dO = k.dO!, L = k.L!, D = k.D!;
  const kv = ownRow(k, KT.id, kAt(k, rc), d, r);
  const vv = ownRow(k, V.id, rowAt(k, rc), dv, r + 1);
  const dk = accumulators(k, d), dvAcc = accumulators(k, dv);
  const db = bias ? w.variable(f32(0), 'db') : undefined;
  walkLoop(k, (queries) => {
    const qvs = sharedRowsOf(k, Q.id, rowAt, queries, d, r + 1);
    const gvs = sharedRowsOf(k, dO.id, rowAt, queries, dv, r + 1);
    const ls = sharedScalars(k, L.id, queries), ds_ = sharedScalars(k, D.id, queries);
    queries.forEach((i, q) => {
      const s = score(k, qvs[q]!, kv, i, rc);
      const p = w.let(exp(sub(s, ls[q]!)), 'p');
      const ds = w.let(mul(p, sub(dotOf(k, gvs[q]!, vv), ds_[q]!)), 'ds');
      dk.forEach((a, c) => w.assign(a, add(a.ref, mul(ds, qvs[q]![c]!))));
      dvAcc.forEach((a, c) => w.assign(a, add(a.ref, mul(p, gvs[q]![c]!))));
      if (db) w.assign(db, add(db.ref, ds));
    });
  });
  guarded(k, () => {
    storeRow(k, 0, dk, k.scale);
    storeRow(k, d, dvAcc);
    if (db) {
      // With the row's padding (ops.ts dkvWidth): zeros, as the reference has them.
      const pad = k.root.type.shape.at(-1)! - (d + dv + 1);
      if (k.vectorRows) storeAt(k, d + dv, vec4([db.ref, f32(0), f32(0), f32(0)]));
      else for (let c = 0; c <= pad; c++) storeAt(k, d + dv + c, c === 0 ? db.ref : f32(0));
    }
  });
}
