// Matmul variant "tiled": workgroup tiles of A and B staged in workgroup memory, a TM×TN register
// block per thread, scalar loads. The classic design for hardware GPUs (shared memory is fast and
// barriers cheap there); on CPU drivers barriers split the shader and every load is costly.

import { add, ixVar, min } from './expr.ts';
import { batchIndices, matmulProblem, storeEpilogue } from './matmul.ts';
import type { TemplateInput, TemplateOutput } from './template.ts';

/** Tile shape of the tiled matmul: a register block per thread, the k step, and the threads of a workgroup. */
export interface TiledConfig {
  readonly tm: number;
  readonly tn: number;
  readonly bk: number;
  /** Threads per workgroup along n (x) and m (y). */
  readonly wx: number;
  readonly wy: number;
}

/** Tile shape per problem size: big register blocks for big outputs, thin ones for adapters and tails. */
export function tiledConfig(m: number, n: number, k: number, maxInvocations: number): TiledConfig {
  const block = (d: number) => (d >= 64 ? 4 : d >= 32 ? 2 : 1);
  const threads = Math.min(256, maxInvocations);
  const wx = n >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(n)));
  const wy = Math.max(1, Math.floor(threads / wx));
  return { tm: block(m), tn: block(n), bk: k >= 16 ? 16 : Math.max(4, 2 ** Math.ceil(Math.log2(k))), wx, wy: Math.min(wy, 16) };
}

export function tiledMatmul(t: TemplateInput, cfg = defaultTiled(t)): TemplateOutput {
  const { w, root, limits } = t;
  const p = matmulProblem(t);
  const { M, N, K, batchCount } = p;
  const { tm, tn, bk, wx, wy } = cfg;
  const BM = wy * tm, BN = wx * tn, threads = wx * wy;
  if (batchCount > limits.maxWorkgroupsPerDimension) throw new Error(`matmul: ${batchCount} workgroups exceed the device's dispatch limit (${limits.maxWorkgroupsPerDimension} per dimension)`);
  w.moduleDecl(`var<workgroup> As: array<f32, ${BM * bk}>;`);
  w.moduleDecl(`var<workgroup> Bs: array<f32, ${bk * BN}>;`);
  const out = w.buffer(root.id, true);
  const { aBatch, bBatch, cBatch } = batchIndices(w, p, ixVar('wid.z', batchCount));
  w.line(`let m0 = wid.y * ${BM}u;`);
  w.line(`let n0 = wid.x * ${BN}u;`);
  w.line(`var acc: array<f32, ${tm * tn}>;`);
  let prologueOps = 0;
  w.block(`for (var k0 = 0u; k0 < ${K}u; k0 += ${bk}u)`, () => {
    prologueOps += w.block(`for (var l = lid; l < ${BM * bk}u; l += ${threads}u)`, () => {
      w.line(`let r = l / ${bk}u;`);
      w.line(`let c = l % ${bk}u;`);
      const gm = w.letIx(min(add(ixVar('m0'), ixVar('r', BM)), M - 1), 'gm');
      const gk = w.letIx(min(add(ixVar('k0'), ixVar('c', bk)), K - 1), 'gk');
      const v = w.value(p.a.id, [...aBatch, gm, gk]);
      w.line(`As[l] = select(0.0, ${v}, m0 + r < ${M}u && k0 + c < ${K}u);`);
    });
    prologueOps += w.block(`for (var l = lid; l < ${bk * BN}u; l += ${threads}u)`, () => {
      w.line(`let r = l / ${BN}u;`);
      w.line(`let c = l % ${BN}u;`);
      const gk = w.letIx(min(add(ixVar('k0'), ixVar('r', bk)), K - 1), 'gk');
      const gn = w.letIx(min(add(ixVar('n0'), ixVar('c', BN)), N - 1), 'gn');
      const v = w.value(p.b.id, [...bBatch, gk, gn]);
      w.line(`Bs[l] = select(0.0, ${v}, k0 + r < ${K}u && n0 + c < ${N}u);`);
    });
    w.line('workgroupBarrier();');
    w.block(`for (var kk = 0u; kk < ${bk}u; kk++)`, () => {
      for (let i = 0; i < tm; i++) w.line(`let a${i} = As[(lid3.y * ${tm}u + ${i}u) * ${bk}u + kk];`);
      for (let j = 0; j < tn; j++) w.line(`let b${j} = Bs[kk * ${BN}u + lid3.x * ${tn}u + ${j}u];`);
      for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) w.line(`acc[${i * tn + j}] = fma(a${i}, b${j}, acc[${i * tn + j}]);`);
    });
    w.line('workgroupBarrier();');
  });
  let epilogueOps = 0;
  w.block(`for (var i = 0u; i < ${tm}u; i++)`, () => {
    w.block(`for (var j = 0u; j < ${tn}u; j++)`, () => {
      w.line(`let gm = m0 + lid3.y * ${tm}u + i;`);
      w.line(`let gn = n0 + lid3.x * ${tn}u + j;`);
      epilogueOps = w.block(`if (gm < ${M}u && gn < ${N}u)`, () => {
        storeEpilogue(w, t, p, out, cBatch, ixVar('gm', M), ixVar('gn', N), `acc[i * ${tn}u + j]`);
      });
    });
  });
  const tilesN = Math.ceil(N / BN), tilesM = Math.ceil(M / BM);
  return {
    kind: 'matmul',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [wx, wy, 1],
    dispatch: [tilesN, tilesM, batchCount],
    flops: batchCount * (2 * M * N * K + M * N * epilogueOps) + batchCount * tilesM * tilesN * Math.ceil(K / bk) * (BM + BN) * bk * prologueOps / threads,
    config: `tiled ${BM}x${BN}x${bk} reg${tm}x${tn} wg${wx}x${wy}`,
  };
}

const defaultTiled = (t: TemplateInput): TiledConfig => {
  const p = matmulProblem(t);
  return tiledConfig(p.M, p.N, p.K, t.limits.maxInvocationsPerWorkgroup);
};
