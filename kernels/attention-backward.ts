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
import { add, ixVar, lit, min, mul, printIx, ZERO, type Index, type Ix } from './expr.ts';
import { expectOp, f32Lit, FLAT_WORKGROUP, spread, type KernelBuilder, type TemplateInput, type TemplateOutput } from './template.ts';

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
    params: share.subgroup
      ? '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32'
      : '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
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
  readonly row: Ix;
  readonly rc: Ix;
  /** The output buffer. */
  readonly out: string;
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
  const share = { lane: limits.subgroupSize > 0 ? 'sid' : 'lid', lanes: S, subgroup: limits.subgroupSize > 0 };
  const W = d % 4 === 0 && dv % 4 === 0 ? 4 : 1;

  const tiles = Math.ceil(own / S);
  const total = tiles * nb;
  const [dx, dy] = spread(total, limits);
  w.line(`let flat = ${FLAT_WORKGROUP};`);
  if (dx * dy > total) w.line(`if (flat >= ${total}u) { return; }`);
  const [batchFlat, tile] = w.unflatten(ixVar('flat', total), [nb, tiles]) as [Ix, Ix];
  const bIdx = w.unflatten(batchFlat, batchShape);
  const row = w.letIx(add(mul(tile, S), ixVar(share.lane, S)), 'row');
  const rc = w.letIx(min(row, own - 1), 'rc');
  const out = w.buffer(root.id, true);
  return { w, root, part, scale, Q, KT, V, dO, L, D, bias, r, nb, bIdx, nq, d, dv, n, own, walk, S, share, W, dx, dy, row, rc, out };
}

// Row vectors of each operand, chunk offsets along its contiguous axis: rows of Q, V and dO;
// columns of Kᵀ (the rows of K).
const rowAt = (k: BackwardKernel, i: Ix) => (c: Ix): Index => [...k.bIdx, i, c];
const kAt = (k: BackwardKernel, j: Ix) => (c: Ix): Index => [...k.bIdx, c, j];

/** One register chunk (a vec4, or a scalar) of node `id` at `idx`, contiguous along `axis`. */
const loadChunk = ({ w, W }: BackwardKernel, id: number, idx: Index, axis: number) => (W === 4 ? w.vec4(id, idx, axis) : w.value(id, idx));

/** The dot product of two rows given as chunks. */
const dotOf = ({ W }: BackwardKernel, a: readonly string[], b: readonly string[]) => a.map((x, c) => (W === 4 ? `dot(${x}, ${b[c]!})` : `${x} * ${b[c]!}`)).join(' + ');

/** The lane's own row of an operand (`count` elements from offset 0), in registers: [chunk]. */
function ownRow(k: BackwardKernel, id: number, at: (off: Ix) => Index, count: number, axis: number): string[] {
  const { w, W } = k;
  return Array.from({ length: count / W }, (_, c) => w.let(loadChunk(k, id, at(lit(W * c)), axis), 'r'));
}

/** Rows of an operand in the walk's block, read once per workgroup and shared: [row][chunk]. */
const sharedRowsOf = (k: BackwardKernel, id: number, at: (k: BackwardKernel, i: Ix) => (c: Ix) => Index, rows: readonly Ix[], width: number, axis: number) =>
  sharedRows(k.w, k.share, rows[0]!, rows.length, width, k.W, (i, off) => loadChunk(k, id, at(k, i)(off), axis));

/** Per-row scalars (L, D) of the walk's block, shared the same way. */
const sharedScalars = ({ w, share, bIdx }: BackwardKernel, id: number, rows: readonly Ix[]) =>
  sharedRows(w, share, rows[0]!, rows.length, 1, 1, (i) => w.value(id, [...bIdx, i, ZERO])).flat();

/** The walk over the other side, WALK_BLOCK rows at a time (blockedLoop). */
const walkLoop = (k: BackwardKernel, body: (rows: readonly Ix[]) => void) => blockedLoop(k.w, 't', 'ix', k.walk, WALK_BLOCK, body);

/** The score sᵢⱼ = scale·qᵢ·kⱼ (+ bias), bound to a name. */
function score(k: BackwardKernel, qv: readonly string[], kv: readonly string[], i: Ix, j: Ix): string {
  const { w, bias, bIdx } = k;
  const b = bias ? ` + ${w.value(bias.id, w.broadcastIndex([...bIdx, i, j], bias.type.shape))}` : '';
  return w.let(`${f32Lit(k.scale)} * (${dotOf(k, qv, kv)})${b}`, 's');
}

/** Zeroed accumulators for `count` elements: [chunk]. */
const accumulators = ({ w, W }: BackwardKernel, count: number) => Array.from({ length: count / W }, () => {
  const a = w.fresh('acc');
  w.line(`var ${a} = ${W === 4 ? 'vec4<f32>(0.0)' : '0.0'};`);
  return a;
});

/** Stores `value` at column `col` of the lane's output row. */
const storeAt = ({ w, root, out, bIdx, row }: BackwardKernel, col: number, value: string) =>
  w.line(`${out}[${printIx(w.linear([...bIdx, row, lit(col)], root.type.shape))}] = ${value};`);

/** Stores accumulator chunks from column `col` on, each element prefixed by `factor`. */
function storeRow(k: BackwardKernel, col: number, acc: readonly string[], factor = ''): void {
  const components = k.W === 4 ? ['.x', '.y', '.z', '.w'] : [''];
  acc.forEach((a, c) => components.forEach((comp, i) => storeAt(k, col + k.W * c + i, `${factor}${a}${comp}`)));
}

/** Runs `body` only for lanes whose row exists (unguarded when the rows fill the workgroups). */
const guarded = ({ w, own, S, row }: BackwardKernel, body: () => void) => (own % S === 0 ? body() : w.block(`if (${printIx(row)} < ${own}u)`, body));

/** lse: the query row's log-sum-exp, by an online max and sum over the keys. */
function emitLse(k: BackwardKernel): void {
  const { w, Q, KT, r, d, rc } = k;
  const qv = ownRow(k, Q.id, rowAt(k, rc), d, r + 1);
  w.line(`var m = ${f32Lit(LOWEST_F32)};`);
  w.line('var l = 0.0;');
  walkLoop(k, (keys) => {
    const kvs = sharedRowsOf(k, KT.id, kAt, keys, d, r);
    keys.forEach((j, i) => {
      const s = score(k, qv, kvs[i]!, rc, j);
      const mn = w.let(`max(m, ${s})`, 'mn');
      w.line(`l = l * exp(m - ${mn}) + exp(${s} - ${mn});`);
      w.line(`m = ${mn};`);
    });
  });
  guarded(k, () => storeAt(k, 0, 'm + log(l)'));
}

/** dq: dqᵢ = scale · Σⱼ dsᵢⱼ kⱼ over the keys, for the lane's query row i. */
function emitDq(k: BackwardKernel): void {
  const { w, Q, KT, r, d, dv, rc, bIdx } = k;
  const V = k.V!, dO = k.dO!, L = k.L!, D = k.D!;
  const qv = ownRow(k, Q.id, rowAt(k, rc), d, r + 1);
  const gv = ownRow(k, dO.id, rowAt(k, rc), dv, r + 1);
  const li = w.let(w.value(L.id, [...bIdx, rc, ZERO]), 'li');
  const di = w.let(w.value(D.id, [...bIdx, rc, ZERO]), 'di');
  const dq = accumulators(k, d);
  walkLoop(k, (keys) => {
    const kvs = sharedRowsOf(k, KT.id, kAt, keys, d, r);
    const vvs = sharedRowsOf(k, V.id, rowAt, keys, dv, r + 1);
    keys.forEach((j, i) => {
      const s = score(k, qv, kvs[i]!, rc, j);
      const p = w.let(`exp(${s} - ${li})`, 'p');
      const ds = w.let(`${p} * (${dotOf(k, gv, vvs[i]!)} - ${di})`, 'ds');
      dq.forEach((a, c) => w.line(`${a} = ${a} + ${ds} * ${kvs[i]![c]!};`));
    });
  });
  guarded(k, () => storeRow(k, 0, dq, `${f32Lit(k.scale)} * `));
}

/** dkv: dkⱼ, dvⱼ (and the bias column Σᵢ dsᵢⱼ) over the queries, for the lane's key row j. */
function emitDkv(k: BackwardKernel): void {
  const { w, Q, KT, bias, r, d, dv, rc } = k;
  const V = k.V!, dO = k.dO!, L = k.L!, D = k.D!;
  const kv = ownRow(k, KT.id, kAt(k, rc), d, r);
  const vv = ownRow(k, V.id, rowAt(k, rc), dv, r + 1);
  const dk = accumulators(k, d), dvAcc = accumulators(k, dv);
  if (bias) w.line('var db = 0.0;');
  walkLoop(k, (queries) => {
    const qvs = sharedRowsOf(k, Q.id, rowAt, queries, d, r + 1);
    const gvs = sharedRowsOf(k, dO.id, rowAt, queries, dv, r + 1);
    const ls = sharedScalars(k, L.id, queries), ds_ = sharedScalars(k, D.id, queries);
    queries.forEach((i, q) => {
      const s = score(k, qvs[q]!, kv, i, rc);
      const p = w.let(`exp(${s} - ${ls[q]!})`, 'p');
      const ds = w.let(`${p} * (${dotOf(k, gvs[q]!, vv)} - ${ds_[q]!})`, 'ds');
      dk.forEach((a, c) => w.line(`${a} = ${a} + ${ds} * ${qvs[q]![c]!};`));
      dvAcc.forEach((a, c) => w.line(`${a} = ${a} + ${p} * ${gvs[q]![c]!};`));
      if (bias) w.line(`db = db + ${ds};`);
    });
  });
  guarded(k, () => {
    storeRow(k, 0, dk, `${f32Lit(k.scale)} * `);
    storeRow(k, d, dvAcc);
    if (bias) storeAt(k, d + dv, 'db');
  });
}
