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
import { blockedLoop, sharedRows, LOWEST_F32 } from './attention.ts';
import { add, ixVar, lit, min, mul, printIx, ZERO, type Index, type Ix } from './expr.ts';
import { expectOp, f32Lit, FLAT_WORKGROUP, spread, type TemplateInput, type TemplateOutput } from './template.ts';

/**
 * Rows of the other side per step of the walk (blockedLoop in attention.ts). vit-mnist training step (lavapipe,
 * GPU timestamps, two runs): dkv 25-31 -> 19-23 ms, dq 18-20 -> 10-13 ms; 8 rows: no better.
 */
const WALK_BLOCK = 4;

export function attentionBackwardKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
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
  const zero = W === 4 ? 'vec4<f32>(0.0)' : '0.0';
  const load = (id: number, idx: Index, axis: number) => (W === 4 ? w.vec4(id, idx, axis) : w.value(id, idx));
  const dotOf = (a: readonly string[], b: readonly string[]) => a.map((x, c) => (W === 4 ? `dot(${x}, ${b[c]!})` : `${x} * ${b[c]!}`)).join(' + ');
  const components = W === 4 ? ['.x', '.y', '.z', '.w'] : [''];

  const tiles = Math.ceil(own / S);
  const total = tiles * nb;
  const [dx, dy] = spread(total, limits);
  w.line(`let flat = ${FLAT_WORKGROUP};`);
  if (dx * dy > total) w.line(`if (flat >= ${total}u) { return; }`);
  const [batchFlat, tile] = w.unflatten(ixVar('flat', total), [nb, tiles]) as [Ix, Ix];
  const bIdx = w.unflatten(batchFlat, batchShape);
  const row = w.letIx(add(mul(tile, S), ixVar(share.lane, S)), 'row');
  const rc = w.letIx(min(row, own - 1), 'rc');

  // Row vectors of each operand, chunk offsets along its contiguous axis: rows of Q, V and dO;
  // columns of Kᵀ (the rows of K).
  const rowAt = (i: Ix) => (c: Ix): Index => [...bIdx, i, c];
  const kAt = (j: Ix) => (c: Ix): Index => [...bIdx, c, j];
  const chunksOf = (count: number, f: (off: Ix) => string) => Array.from({ length: count / W }, (_, c) => w.let(f(lit(W * c)), 'r'));
  const ownRow = (id: number, at: (off: Ix) => Index, count: number, axis: number) => chunksOf(count, (off) => load(id, at(off), axis));
  /** Rows of an operand in the walk's block, read once per workgroup and shared: [row][chunk]. */
  const sharedRowsOf = (id: number, at: (i: Ix) => (c: Ix) => Index, rows: readonly Ix[], width: number, axis: number) =>
    sharedRows(w, share, rows[0]!, rows.length, width, W, (i, off) => load(id, at(i)(off), axis));
  /** Per-row scalars (L, D) of the walk's block, shared the same way. */
  const sharedScalars = (id: number, rows: readonly Ix[]) => sharedRows(w, share, rows[0]!, rows.length, 1, 1, (i) => w.value(id, [...bIdx, i, ZERO])).flat();
  /** The walk over the other side, WALK_BLOCK rows at a time (blockedLoop). */
  const walkLoop = (body: (rows: readonly Ix[]) => void) => blockedLoop(w, 't', 'ix', walk, WALK_BLOCK, body);
  const score = (qv: readonly string[], kv: readonly string[], i: Ix, j: Ix) => {
    const b = bias ? ` + ${w.value(bias.id, w.broadcastIndex([...bIdx, i, j], bias.type.shape))}` : '';
    return w.let(`${f32Lit(scale)} * (${dotOf(qv, kv)})${b}`, 's');
  };
  const accumulators = (count: number) => Array.from({ length: count / W }, () => {
    const a = w.fresh('acc');
    w.line(`var ${a} = ${zero};`);
    return a;
  });
  const out = w.buffer(root.id, true);
  const store = (col: number, value: string) => w.line(`${out}[${printIx(w.linear([...bIdx, row, lit(col)], root.type.shape))}] = ${value};`);
  const storeRow = (col: number, acc: readonly string[], factor = '') =>
    acc.forEach((a, c) => components.forEach((comp, k) => store(col + W * c + k, `${factor}${a}${comp}`)));
  const guarded = (body: () => void) => (own % S === 0 ? body() : w.block(`if (${printIx(row)} < ${own}u)`, body));

  if (part === 'lse') {
    const qv = ownRow(Q.id, rowAt(rc), d, r + 1);
    w.line(`var m = ${f32Lit(LOWEST_F32)};`);
    w.line('var l = 0.0;');
    walkLoop((keys) => {
      const kvs = sharedRowsOf(KT.id, kAt, keys, d, r);
      keys.forEach((j, k) => {
        const s = score(qv, kvs[k]!, rc, j);
        const mn = w.let(`max(m, ${s})`, 'mn');
        w.line(`l = l * exp(m - ${mn}) + exp(${s} - ${mn});`);
        w.line(`m = ${mn};`);
      });
    });
    guarded(() => store(0, 'm + log(l)'));
  } else if (part === 'dq') {
    const qv = ownRow(Q.id, rowAt(rc), d, r + 1);
    const gv = ownRow(dO!.id, rowAt(rc), dv, r + 1);
    const li = w.let(w.value(L!.id, [...bIdx, rc, ZERO]), 'li');
    const di = w.let(w.value(D!.id, [...bIdx, rc, ZERO]), 'di');
    const dq = accumulators(d);
    walkLoop((keys) => {
      const kvs = sharedRowsOf(KT.id, kAt, keys, d, r);
      const vvs = sharedRowsOf(V!.id, rowAt, keys, dv, r + 1);
      keys.forEach((j, k) => {
        const s = score(qv, kvs[k]!, rc, j);
        const p = w.let(`exp(${s} - ${li})`, 'p');
        const ds = w.let(`${p} * (${dotOf(gv, vvs[k]!)} - ${di})`, 'ds');
        dq.forEach((a, c) => w.line(`${a} = ${a} + ${ds} * ${kvs[k]![c]!};`));
      });
    });
    guarded(() => storeRow(0, dq, `${f32Lit(scale)} * `));
  } else {
    const kv = ownRow(KT.id, kAt(rc), d, r);
    const vv = ownRow(V!.id, rowAt(rc), dv, r + 1);
    const dk = accumulators(d), dvAcc = accumulators(dv);
    if (bias) w.line('var db = 0.0;');
    walkLoop((queries) => {
      const qvs = sharedRowsOf(Q.id, rowAt, queries, d, r + 1);
      const gvs = sharedRowsOf(dO!.id, rowAt, queries, dv, r + 1);
      const ls = sharedScalars(L!.id, queries), ds_ = sharedScalars(D!.id, queries);
      queries.forEach((i, k) => {
        const s = score(qvs[k]!, kv, i, rc);
        const p = w.let(`exp(${s} - ${ls[k]!})`, 'p');
        const ds = w.let(`${p} * (${dotOf(gvs[k]!, vv)} - ${ds_[k]!})`, 'ds');
        dk.forEach((a, c) => w.line(`${a} = ${a} + ${ds} * ${qvs[k]![c]!};`));
        dvAcc.forEach((a, c) => w.line(`${a} = ${a} + ${p} * ${gvs[k]![c]!};`));
        if (bias) w.line(`db = db + ${ds};`);
      });
    });
    guarded(() => {
      storeRow(0, dk, `${f32Lit(scale)} * `);
      storeRow(d, dvAcc);
      if (bias) store(d + dv, 'db');
    });
  }
  return {
    kind: 'attention',
    params: share.subgroup
      ? '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sid: u32'
      : '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [S, 1, 1],
    dispatch: [dx, dy, 1],
    // Multiply-adds of the score, dO·v and accumulator updates, plus exp and the softmax terms.
    flops: nb * own * walk * (2 * d + 6 + (part === 'lse' ? 0 : part === 'dq' ? 2 * dv + 2 * d : 4 * dv + 2 * d + 1)),
    config: `attention-backward ${part} ${share.subgroup ? `sg${S}` : `wg${S}`} w${W} q${nq} keys${n} d${d}/${dv}`,
    enables: share.subgroup ? ['subgroups'] : undefined,
  };
}
