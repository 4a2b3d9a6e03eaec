// matmul: GFLOP/s of the generated matmul kernel against a naive baseline (one thread per output,
// a plain loop over k, no tiling, no workgroup memory), on the ViT linear-layer shapes, measured
// side by side on the same input buffers. Both results are checked against a float64 reference on
// sampled entries.

import { GraphBuilder } from '../../src/ir/graph.ts';
import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { readBuffer, withErrorScope } from '../../src/runtime/device.ts';
import { barChart } from '../../src/util/svg.ts';
import { fmtErr, fmtTiming, gpuErrors, randomArray, timeGpuSteps, type Suite, type SuiteContext, type SuiteResult, type Timing } from '../common.ts';

export interface MatmulCase {
  readonly model: string;
  readonly layer: string;
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

const TOKENS = 197;
const WIDTHS = [
  { model: 'ViT-Ti/16', dim: 192 },
  { model: 'ViT-S/16', dim: 384 },
] as const;

/** The ViT linear layers as [tokens·batch × in] @ [in × out]. */
export function matmulCases(quick: boolean): MatmulCase[] {
  const out: MatmulCase[] = [];
  for (const batch of quick ? [1] : [1, 8]) {
    for (const { model, dim } of WIDTHS) {
      const m = TOKENS * batch;
      out.push({ model, layer: 'qkv', batch, m, k: dim, n: 3 * dim });
      if (!quick) out.push({ model, layer: 'proj', batch, m, k: dim, n: dim });
      out.push({ model, layer: 'fc1', batch, m, k: dim, n: 4 * dim });
      out.push({ model, layer: 'fc2', batch, m, k: 4 * dim, n: dim });
    }
  }
  return out;
}

export const caseLabel = (c: MatmulCase): string => `${c.model.replace('/16', '')} ${c.layer} b${c.batch} [${c.m}x${c.k}]@[${c.k}x${c.n}]`;

/** The baseline: one invocation per output element, a plain loop over k, shapes baked in. */
export function naiveMatmulWgsl(m: number, k: number, n: number): string {
  return `@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col = gid.x;
  let row = gid.y;
  if (row >= ${m}u || col >= ${n}u) { return; }
  var acc = 0.0;
  for (var i = 0u; i < ${k}u; i++) {
    acc += A[row * ${k}u + i] * B[i * ${n}u + col];
  }
  C[row * ${n}u + col] = acc;
}
`;
}

interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

function submit(device: GPUDevice, label: string, dispatches: readonly Dispatch[]): void {
  const encoder = device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
}

function pipeline(device: GPUDevice, label: string, code: string, entryPoint: string, access: readonly ('read' | 'read_write')[]): GPUComputePipeline {
  const layout = device.createBindGroupLayout({
    label,
    entries: access.map((a, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' } as GPUBufferBindingLayout })),
  });
  return device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
    compute: { module: device.createShaderModule({ label, code }), entryPoint },
  });
}

export interface MatmulResult extends MatmulCase {
  readonly gflop: number;
  readonly kernel: string;
  readonly config: string;
  readonly ours: Timing;
  readonly naive: Timing;
  readonly oursGflops: number;
  readonly naiveGflops: number;
  /** ours GFLOP/s ÷ naive GFLOP/s (= naive time ÷ our time). */
  readonly speedup: number;
  /** Max relative error on sampled entries against a float64 reference. */
  readonly oursErr: number;
  readonly naiveErr: number;
}

async function runCase(ctx: SuiteContext, c: MatmulCase, seed: number, problems: string[]): Promise<MatmulResult> {
  const gpu = ctx.gpu!;
  const { device } = gpu;
  const label = caseLabel(c);
  const b = new GraphBuilder();
  b.output('c', b.input('a', [c.m, c.k]).matmul(b.input('b', [c.k, c.n])));
  const plan: CompiledPlan = compileGraph(b.build(), { limits: ctx.limits });
  if (plan.kernels.length !== 1 || plan.kernels[0]!.kind !== 'matmul') {
    problems.push(`${label}: expected one matmul kernel, got ${plan.kernels.map((k) => `${k.name} (${k.kind})`).join(', ')}`);
  }
  const kernel = plan.kernels.find((k) => k.kind === 'matmul') ?? plan.kernels[0]!;
  const tensorByName = new Map([...plan.tensors.values()].filter((t) => t.name !== undefined).map((t) => [t.name!, t]));
  const [ta, tb, tc] = (['a', 'b', 'c'] as const).map((name) => {
    const t = tensorByName.get(name);
    if (!t) throw new Error(`${label}: the plan has no tensor "${name}"`);
    return t;
  }) as [NonNullable<ReturnType<typeof tensorByName.get>>, NonNullable<ReturnType<typeof tensorByName.get>>, NonNullable<ReturnType<typeof tensorByName.get>>];

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const buffers: GPUBuffer[] = [];
  try {
    return await withErrorScope(device, async () => {
      // The plan's arenas (the layout the executor would use), plus the naive kernel's output.
      const arenas = {
        params: device.createBuffer({ label: 'params', size: Math.max(4, plan.arenaBytes.params), usage }),
        inputs: device.createBuffer({ label: 'inputs', size: Math.max(4, plan.arenaBytes.inputs), usage }),
        work: device.createBuffer({ label: 'work', size: Math.max(4, plan.arenaBytes.work), usage }),
      };
      const naiveOut = device.createBuffer({ label: 'naive C', size: c.m * c.n * 4, usage });
      buffers.push(...Object.values(arenas), naiveOut);
      const A = randomArray(c.m * c.k, seed), B = randomArray(c.k * c.n, seed + 1);
      device.queue.writeBuffer(arenas[ta.arena], ta.offset, A);
      device.queue.writeBuffer(arenas[tb.arena], tb.offset, B);
      const range = (t: typeof ta) => ({ buffer: arenas[t.arena], offset: t.offset, size: t.bytes });

      const oursPipe = pipeline(device, kernel.name, kernel.wgsl, kernel.entryPoint, kernel.bindings.map((x) => x.access));
      const ours: Dispatch = {
        pipeline: oursPipe,
        bindGroup: device.createBindGroup({
          layout: oursPipe.getBindGroupLayout(0),
          entries: kernel.bindings.map((x) => ({ binding: x.binding, resource: range(plan.tensors.get(x.tensor)!) })),
        }),
        workgroups: kernel.dispatch,
      };
      const naivePipe = pipeline(device, `naive ${label}`, naiveMatmulWgsl(c.m, c.k, c.n), 'main', ['read', 'read', 'read_write']);
      const naive: Dispatch = {
        pipeline: naivePipe,
        bindGroup: device.createBindGroup({
          layout: naivePipe.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: range(ta) },
            { binding: 1, resource: range(tb) },
            { binding: 2, resource: { buffer: naiveOut } },
          ],
        }),
        workgroups: [Math.ceil(c.n / 16), Math.ceil(c.m / 16), 1],
      };

      const [oursT, naiveT] = await timeGpuSteps(device, [
        { name: `ours ${label}`, step: () => submit(device, 'ours', [ours]) },
        { name: `naive ${label}`, step: () => submit(device, 'naive', [naive]) },
      ], ctx.timing) as [Timing, Timing];

      const got = new Float32Array(await readBuffer(device, arenas[tc.arena], c.m * c.n * 4, tc.offset));
      const gotNaive = new Float32Array(await readBuffer(device, naiveOut, c.m * c.n * 4));
      const [oursErr, naiveErr] = sampledError(A, B, c, [got, gotNaive], seed);
      const tol = 1e-4;
      if (!(oursErr <= tol)) problems.push(`${label}: generated matmul differs from the float64 reference: max rel error ${fmtErr(oursErr)}`);
      if (!(naiveErr <= tol)) problems.push(`${label}: naive matmul differs from the float64 reference: max rel error ${fmtErr(naiveErr)}`);

      const flop = 2 * c.m * c.n * c.k;
      const oursGflops = flop / (oursT.medianMs * 1e6), naiveGflops = flop / (naiveT.medianMs * 1e6);
      return {
        ...c, gflop: flop / 1e9, kernel: kernel.name, config: kernel.config,
        ours: oursT, naive: naiveT, oursGflops, naiveGflops, speedup: oursGflops / naiveGflops, oursErr, naiveErr,
      };
    }, label);
  } finally {
    for (const buf of buffers) buf.destroy();
  }
}

/** Max relative error of each result on ~256 sampled entries, against float64 dot products. */
function sampledError(A: Float32Array, B: Float32Array, c: MatmulCase, results: readonly Float32Array[], seed: number): number[] {
  const pick = randomArray(512, seed + 7, 0, 1);
  const errs = results.map(() => 0);
  for (let s = 0; s < 256; s++) {
    // Always include the last row and column (the tile edges).
    const i = s === 0 ? c.m - 1 : Math.floor(pick[2 * s]! * c.m);
    const j = s === 1 ? c.n - 1 : Math.floor(pick[2 * s + 1]! * c.n);
    let ref = 0, scale = 0;
    for (let p = 0; p < c.k; p++) {
      const t = A[i * c.k + p]! * B[p * c.n + j]!;
      ref += t;
      scale += Math.abs(t);
    }
    results.forEach((r, idx) => {
      const e = Math.abs(r[i * c.n + j]! - ref) / Math.max(1, scale);
      errs[idx] = Number.isNaN(e) ? Infinity : Math.max(errs[idx]!, e);
    });
  }
  return errs;
}

export const matmulSuite: Suite = {
  name: 'matmul',
  description: 'generated matmul kernel vs a naive one-thread-per-output WGSL matmul (GFLOP/s)',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const cases = matmulCases(ctx.quick);
    const problems: string[] = [];
    const results: MatmulResult[] = [];
    const bar = ctx.progress('matmul', cases.length, 'shape');
    for (const [i, c] of cases.entries()) {
      try {
        const r = await runCase(ctx, c, 1000 + i * 10, problems);
        results.push(r);
        ctx.log(`  ${caseLabel(c)}: ours ${r.oursGflops.toFixed(2)} GFLOP/s (${fmtTiming(r.ours)}), naive ${r.naiveGflops.toFixed(2)} GFLOP/s (${fmtTiming(r.naive)}), ×${r.speedup.toFixed(2)}`);
      } catch (e) {
        problems.push(`${caseLabel(c)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, caseLabel(c)));
      bar.tick(1, caseLabel(c));
    }
    bar.done();
    const geo = results.length ? Math.exp(results.reduce((s, r) => s + Math.log(r.speedup), 0) / results.length) : NaN;
    return {
      data: results,
      problems,
      tables: [{
        title: 'matmul: generated kernel vs naive (GFLOP/s from the median step time)',
        columns: ['model', 'layer', 'batch', 'M×K @ K×N', 'GFLOP', 'ours GFLOP/s', '±%', 'naive GFLOP/s', '±%', 'ours/naive', 'ours config', 'max rel err ours / naive'],
        rows: results.map((r) => [
          r.model, r.layer, r.batch, `${r.m}×${r.k} @ ${r.k}×${r.n}`, Number(r.gflop.toFixed(3)),
          Number(r.oursGflops.toFixed(2)), Math.round(r.ours.rmePct), Number(r.naiveGflops.toFixed(2)), Math.round(r.naive.rmePct),
          Number(r.speedup.toFixed(2)), r.config, `${fmtErr(r.oursErr)} / ${fmtErr(r.naiveErr)}`,
        ]),
        notes: [`Geometric mean speedup over the naive kernel: ×${Number.isFinite(geo) ? geo.toFixed(2) : '–'}. ±% is benchmark.js's relative margin of error of the mean.`],
      }],
      charts: [{
        file: 'matmul.svg',
        svg: barChart({
          title: 'matmul GFLOP/s: generated vs naive',
          yLabel: 'GFLOP/s',
          groups: results.map((r) => ({
            label: `${r.model.replace('/16', '')} ${r.layer} b${r.batch}`,
            bars: [{ name: 'generated', value: r.oursGflops }, { name: 'naive', value: r.naiveGflops }],
          })),
        }),
      }],
    };
  },
};
