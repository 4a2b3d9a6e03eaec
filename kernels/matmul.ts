// Batched matmul C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n]: workgroup tiles staged in workgroup
// memory, a TM×TN register block per thread. A and B are expressions (prologue fusion: transposes
// and elementwise producers are folded into the tile loads); the kernel's root may be an
// elementwise chain over C (epilogue fusion), which reads the accumulator in place.

import { numel } from '../src/ir/shape.ts';
import { FusionError, canonicalIndex, u, type Index } from '../codegen/emit.ts';
import type { TemplateInput, TemplateOutput } from './common.ts';

export interface MatmulConfig {
  readonly tm: number;
  readonly tn: number;
  readonly bk: number;
  /** Threads per workgroup along n (x) and m (y). */
  readonly wx: number;
  readonly wy: number;
}

/** Tile shape per problem size: big register blocks for big outputs, thin ones for adapters and tails. */
export function chooseMatmulConfig(m: number, n: number, k: number, maxInvocations: number): MatmulConfig {
  const block = (d: number) => (d >= 64 ? 4 : d >= 32 ? 2 : 1);
  const threads = Math.min(256, maxInvocations);
  const wx = n >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(n)));
  const wy = Math.max(1, Math.floor(threads / wx));
  return { tm: block(m), tn: block(n), bk: k >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(k))), wx, wy: Math.min(wy, 16) };
}

export function matmulKernel({ w, graph, plan, root, limits }: TemplateInput): TemplateOutput {
  const mm = graph.node(plan.anchorOf.get(root.id) ?? root.id);
  if (mm.op !== 'matmul') throw new Error(`matmul template given ${mm.op}`);
  const [a, b] = mm.inputs.map((i) => graph.node(i)) as [typeof mm, typeof mm];
  const shape = mm.type.shape;
  const batch = shape.slice(0, -2);
  const [M, N] = shape.slice(-2) as [number, number];
  const K = a.type.shape[a.type.shape.length - 1]!;
  const cfg = chooseMatmulConfig(M, N, K, limits.maxInvocationsPerWorkgroup);
  const { tm, tn, bk, wx, wy } = cfg;
  const BM = wy * tm, BN = wx * tn, threads = wx * wy;
  const batchCount = numel(batch);

  const out = w.buffer(root.id, true);
  const bIdx = batch.length ? w.unflatten('wid.z', [...batch]) : [];
  const batchFor = (s: readonly number[]) => w.broadcastIndex(bIdx, s.slice(0, -2));
  w.line(`let m0 = wid.y * ${u(BM)};`);
  w.line(`let n0 = wid.x * ${u(BN)};`);
  w.line(`var acc: array<f32, ${tm * tn}>;`);
  let prologueOps = 0;
  w.block(`for (var k0 = 0u; k0 < ${u(K)}; k0 += ${u(bk)})`, () => {
    prologueOps += w.block(`for (var l = lid; l < ${u(BM * bk)}; l += ${u(threads)})`, () => {
      w.line(`let r = l / ${u(bk)}; let c = l % ${u(bk)};`);
      w.line(`let gm = min(m0 + r, ${u(M - 1)}); let gk = min(k0 + c, ${u(K - 1)});`);
      const v = w.value(a.id, [...batchFor(a.type.shape), 'gm', 'gk']);
      w.line(`As[l] = select(0.0, ${v}, m0 + r < ${u(M)} && k0 + c < ${u(K)});`);
    });
    prologueOps += w.block(`for (var l = lid; l < ${u(bk * BN)}; l += ${u(threads)})`, () => {
      w.line(`let r = l / ${u(BN)}; let c = l % ${u(BN)};`);
      w.line(`let gk = min(k0 + r, ${u(K - 1)}); let gn = min(n0 + c, ${u(N - 1)});`);
      const v = w.value(b.id, [...batchFor(b.type.shape), 'gk', 'gn']);
      w.line(`Bs[l] = select(0.0, ${v}, k0 + r < ${u(K)} && n0 + c < ${u(N)});`);
    });
    w.line('workgroupBarrier();');
    w.block(`for (var kk = 0u; kk < ${u(bk)}; kk++)`, () => {
      for (let i = 0; i < tm; i++) w.line(`let a${i} = As[(lid3.y * ${u(tm)} + ${u(i)}) * ${u(bk)} + kk];`);
      for (let j = 0; j < tn; j++) w.line(`let b${j} = Bs[kk * ${u(BN)} + lid3.x * ${u(tn)} + ${u(j)}];`);
      for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) w.line(`acc[${i * tn + j}] = fma(a${i}, b${j}, acc[${i * tn + j}]);`);
    });
    w.line('workgroupBarrier();');
  });
  let epilogueOps = 0;
  w.block(`for (var i = 0u; i < ${u(tm)}; i++)`, () => {
    w.block(`for (var j = 0u; j < ${u(tn)}; j++)`, () => {
      w.line(`let gm = m0 + lid3.y * ${u(tm)} + i;`);
      w.line(`let gn = n0 + lid3.x * ${u(tn)} + j;`);
      epilogueOps = w.block(`if (gm < ${u(M)} && gn < ${u(N)})`, () => {
        // The root may be a reshape of the product: same element order, so the same flat offset.
        const idx: Index = canonicalIndex([...bIdx, 'gm', 'gn'], shape);
        const flat = w.let(w.linear(idx, shape), 'f');
        w.relate(flat, shape, idx);
        w.provided.set(mm.id, (at) => {
          if (at.join() !== idx.join()) throw new FusionError(mm.id, 'epilogue reads the product at another index');
          return `acc[i * ${u(tn)} + j]`;
        });
        let rootIdx: Index, at = flat;
        if (root.op === 'permute') {
          // Stored transposed: the permute's input has the product's element order.
          const inIdx = w.unflatten(flat, graph.node(root.inputs[0]!).type.shape);
          rootIdx = root.attrs.perm.map((p) => inIdx[p]!);
          at = w.linear(rootIdx, root.type.shape);
        } else rootIdx = w.unflatten(flat, root.type.shape);
        w.line(`${out}[${at}] = ${w.compute(root.id, rootIdx)};`);
      });
    });
  });
  const tilesN = Math.ceil(N / BN), tilesM = Math.ceil(M / BM);
  if (batchCount > limits.maxWorkgroupsPerDimension) throw new Error(`matmul batch ${batchCount} exceeds the dispatch limit`);
  return {
    kind: 'matmul',
    moduleDecls: [`var<workgroup> As: array<f32, ${BM * bk}>;`, `var<workgroup> Bs: array<f32, ${bk * BN}>;`],
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [wx, wy, 1],
    dispatch: [tilesN, tilesM, batchCount],
    flops: batchCount * (2 * M * N * K + M * N * epilogueOps) + batchCount * tilesM * tilesN * Math.ceil(K / bk) * (BM + BN) * bk * prologueOps / threads,
    config: `tile${BM}x${BN}x${bk} reg${tm}x${tn} wg${wx}x${wy}`,
  };
}
