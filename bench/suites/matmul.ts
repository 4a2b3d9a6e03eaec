// matmul: the generated matmul kernel on the shapes that matter — the ViT-Ti/S linear layers
// (x @ Wᵀ with W [out, in], as the models store weights), the main job's small ViT (vit-mnist:
// M = batch·50 tokens, K and N 64–256) and 1024³ — against the old kernel (the tiled
// workgroup-memory variant, forced, in the same run), TensorFlow.js's webgpu matMul on the same
// device (1024³), the CPU's BLAS (numpy in a python subprocess, same shapes, when available;
// on a software adapter that is the ceiling the same cores reach) and PyTorch on the CPU
// (torch.matmul, same shapes, torch's default threads, when python can import torch:
// bench/peer/torch-peer.ts). "ours" is the variant the tuner picks for the kernel's signature on
// this device (src/core/runtime/tune.ts, quick mode, the per-adapter cache): its configuration is
// printed per shape. Results are checked against a float64 reference on sampled entries.

import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { tunePlan } from '../../src/core/runtime/tune.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { envVar } from '../../src/core/util/node-import.ts';
import { fmtErr, fmtTiming, gpuErrors, randomArray, timeGpuSteps, type GpuVariant, type Suite, type SuiteContext, type SuiteResult, type Timing } from '../common.ts';
import { isSoftwareAdapter, modelTiming } from './inference.ts';
import { runPython } from '../peer/python.ts';
import { torchPeer, torchResult } from '../peer/torch-peer.ts';

export interface MatmulCase {
  readonly model: string;
  readonly layer: string;
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** 'linear': x[m,k] @ W[n,k]ᵀ (model weights); 'plain': a[m,k] @ b[k,n]. */
  readonly layout: 'linear' | 'plain';
}

const TOKENS = 197;

/**
 * The adapter's float32 FMA peak, for "% of peak" on real GPUs: $FPET_BENCH_FP32_PEAK_GFLOPS when
 * set, else a known part matched by name. WebGPU exposes neither clocks nor core counts, so the
 * table holds datasheet arithmetic (float32 on the CUDA cores: WebGPU reaches no tensor cores).
 */
const FP32_PEAKS: readonly { readonly match: RegExp; readonly gflops: number; readonly why: string }[] = [
  { match: /\bH(100|200)\b(?!.*PCIe)/i, gflops: 66_900, why: 'H100/H200 SXM: 132 SMs × 128 FP32 lanes × 2 FLOP × 1.98 GHz boost' },
];

export function fp32Peak(gpu: GpuContext): { gflops: number; source: string } | undefined {
  const fromEnv = Number(envVar('FPET_BENCH_FP32_PEAK_GFLOPS'));
  if (fromEnv > 0) return { gflops: fromEnv, source: '$FPET_BENCH_FP32_PEAK_GFLOPS' };
  const i = gpu.info;
  const known = FP32_PEAKS.find((p) => p.match.test(`${i.description} ${i.device}`));
  return known && { gflops: known.gflops, source: known.why };
}
const WIDTHS = [
  { model: 'ViT-Ti/16', dim: 192 },
  { model: 'ViT-S/16', dim: 384 },
] as const;

/**
 * The benchmark shapes: ViT-Ti/S linear layers, vit-mnist layers, 1024³, and on a real GPU also
 * 4096³ (the only shape here large enough to approach a hardware GPU's peak).
 */
export function matmulCases(quick: boolean, hardware = false): MatmulCase[] {
  const out: MatmulCase[] = [];
  for (const batch of quick ? [1] : [1, 8]) {
    for (const { model, dim } of WIDTHS) {
      const m = TOKENS * batch;
      out.push({ model, layer: 'qkv', batch, m, k: dim, n: 3 * dim, layout: 'linear' });
      if (!quick) out.push({ model, layer: 'proj', batch, m, k: dim, n: dim, layout: 'linear' });
      out.push({ model, layer: 'fc1', batch, m, k: dim, n: 4 * dim, layout: 'linear' });
      out.push({ model, layer: 'fc2', batch, m, k: 4 * dim, n: dim, layout: 'linear' });
    }
  }
  // vit-mnist (dim 64, MLP 128, 50 tokens): the training step's batch 16 and inference's batch 100.
  for (const batch of quick ? [16] : [16, 100]) {
    const m = 50 * batch;
    out.push({ model: 'vit-mnist', layer: 'qkv', batch, m, k: 64, n: 192, layout: 'linear' });
    out.push({ model: 'vit-mnist', layer: 'proj', batch, m, k: 64, n: 64, layout: 'linear' });
    out.push({ model: 'vit-mnist', layer: 'fc1', batch, m, k: 64, n: 128, layout: 'linear' });
    out.push({ model: 'vit-mnist', layer: 'fc2', batch, m, k: 128, n: 64, layout: 'linear' });
  }
  out.push({ model: '1024³', layer: 'square', batch: 1, m: 1024, k: 1024, n: 1024, layout: 'plain' });
  if (hardware) out.push({ model: '4096³', layer: 'square', batch: 1, m: 4096, k: 4096, n: 4096, layout: 'plain' });
  return out;
}

export const caseLabel = (c: MatmulCase): string =>
  c.layout === 'plain' ? `[${c.m}x${c.k}]@[${c.k}x${c.n}]` : `${c.model.replace('/16', '')} ${c.layer} b${c.batch} [${c.m}x${c.k}]@[${c.n}x${c.k}]ᵀ`;

export interface MatmulResult extends MatmulCase {
  /** Products per timed step (one command buffer). */
  readonly reps: number;
  readonly gflop: number;
  readonly config: string;
  readonly oldConfig: string;
  readonly ours: Timing;
  readonly old: Timing;
  readonly oursGflops: number;
  readonly oldGflops: number;
  /** old time ÷ our time. */
  readonly speedup: number;
  readonly tfjsGflops?: number;
  /** tfjs time ÷ our time. */
  readonly vsTfjs?: number;
  readonly blasGflops?: number;
  /** ours as a percentage of numpy's BLAS on the same shape. */
  readonly pctBlas?: number;
  /** torch.matmul on the CPU (PyTorch peer), same shape. */
  readonly torchGflops?: number;
  /** ours as a percentage of the adapter's float32 peak (real GPUs with a known peak). */
  readonly pctPeak?: number;
  readonly oursErr: number;
  readonly oldErr: number;
}

function graphFor(c: MatmulCase) {
  const b = new GraphBuilder();
  const a = b.input('a', [c.m, c.k]);
  b.output('c', c.layout === 'linear' ? a.matmul(b.input('w', [c.n, c.k]).transpose()) : a.matmul(b.input('w', [c.k, c.n])));
  return b.build();
}

/** Max relative error on ~256 sampled entries against float64 dot products (last row and column included). */
function sampledError(A: Float32Array, W: Float32Array, c: MatmulCase, result: ArrayLike<number>, seed: number): number {
  const pick = randomArray(512, seed + 7, 0, 1);
  let err = 0;
  for (let s = 0; s < 256; s++) {
    const i = s === 0 ? c.m - 1 : Math.floor(pick[2 * s]! * c.m);
    const j = s === 1 ? c.n - 1 : Math.floor(pick[2 * s + 1]! * c.n);
    let ref = 0, scale = 0;
    for (let p = 0; p < c.k; p++) {
      const t = A[i * c.k + p]! * (c.layout === 'linear' ? W[j * c.k + p]! : W[p * c.n + j]!);
      ref += t;
      scale += Math.abs(t);
    }
    const e = Math.abs(result[i * c.n + j]! - ref) / Math.max(1, scale);
    err = Number.isNaN(e) ? Infinity : Math.max(err, e);
  }
  return err;
}

// numpy on the same shapes, one subprocess for all of them (median of repeated runs each).
const NUMPY_SCRIPT = `
import json, os, sys, time
import numpy as np
shapes = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
out = []
for (m, k, n, linear) in shapes:
    a = rng.random((m, k), dtype=np.float32)
    w = rng.random((n, k) if linear else (k, n), dtype=np.float32)
    f = (lambda: a @ w.T) if linear else (lambda: a @ w)
    f()
    reps = max(3, min(200, int(2e9 / (2 * m * n * k + 1))))
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort()
    out.append(ts[len(ts) // 2] * 1e3)
blas = 'unknown'
try:
    blas = np.__config__.CONFIG['Build Dependencies']['blas']['name']
except Exception:
    pass
print(json.dumps({'python': sys.executable, 'numpy': np.__version__, 'blas': blas, 'ms': out}))
`;

interface NumpyTimes {
  readonly label?: string;
  readonly ms?: readonly number[];
  readonly unavailable?: string;
}

async function numpyTimes(runtime: GpuContext['runtime'], cases: readonly MatmulCase[]): Promise<NumpyTimes> {
  const arg = JSON.stringify(cases.map((c) => [c.m, c.k, c.n, c.layout === 'linear']));
  const r = await runPython<{ python: string; numpy: string; blas: string; ms: number[] }>(runtime, 'numpy', NUMPY_SCRIPT, [arg], 300_000);
  if (!r.ok) return { unavailable: r.unavailable };
  const o = r.out;
  return { label: `numpy ${o.numpy} (${o.blas}, ${o.python})`, ms: o.ms };
}

async function runCase(ctx: SuiteContext, c: MatmulCase, seed: number, tfjs: TfjsMatmul | undefined, problems: string[]): Promise<MatmulResult> {
  const gpu = ctx.gpu!;
  const label = caseLabel(c);
  const graph = graphFor(c);
  const base = compileGraph(graph, { limits: ctx.limits });
  const tune = await tunePlan(gpu, base, { mode: 'quick' }, Program);
  const ours: CompiledPlan = Object.keys(tune.entries).length ? compileGraph(graph, { limits: ctx.limits, matmulVariant: tune.chooser, variantKey: tune.key }) : base;
  const old = compileGraph(graph, { limits: ctx.limits, matmulVariant: 'tiled' });
  const A = randomArray(c.m * c.k, seed), W = randomArray(c.k * c.n, seed + 1);
  const exes: Program[] = [];
  try {
    for (const plan of [ours, old]) {
      const exe = await Program.create(gpu, plan);
      exe.write({ a: A, w: W });
      exes.push(exe);
    }
    // Small products run many times per step (one command buffer): a submit-and-wait costs about
    // as much as a whole 800×64×64 product on a software adapter, and would hide the kernels.
    const flopCount = 2 * c.m * c.n * c.k;
    const reps = Math.max(1, Math.min(64, Math.ceil(1e8 / flopCount)));
    const repeated = (exe: Program) => () => {
      const encoder = gpu.device.createCommandEncoder({ label: `matmul x${reps}` });
      for (let r = 0; r < reps; r++) exe.encode(encoder);
      gpu.device.queue.submit([encoder.finish()]);
    };
    const variants: GpuVariant[] = [
      { name: `ours ${label}`, step: repeated(exes[0]!) },
      { name: `old ${label}`, step: repeated(exes[1]!) },
    ];
    const tf = tfjs && c.layout === 'plain' && reps === 1 ? tfjs.prepare(A, W, c) : undefined;
    if (tf) variants.push({ name: `tfjs ${label}`, step: tf.step });
    const timings = await timeGpuSteps(gpu.device, variants, c.m * c.n * c.k > 1e8 ? modelTiming(ctx) : ctx.timing);
    tf?.dispose();
    const [to, tt] = timings as [Timing, Timing];
    const [got, gotOld] = await Promise.all(exes.map(async (e) => (await e.read(['c'])).c!));
    const oursErr = sampledError(A, W, c, got!, seed), oldErr = sampledError(A, W, c, gotOld!, seed);
    if (!(oursErr <= 1e-4)) problems.push(`${label}: generated matmul differs from the float64 reference: max rel error ${fmtErr(oursErr)}`);
    if (!(oldErr <= 1e-4)) problems.push(`${label}: old (tiled) matmul differs from the float64 reference: max rel error ${fmtErr(oldErr)}`);
    const gf = (t: Timing, r = reps) => (flopCount * r) / (t.medianMs * 1e6);
    const tfT = timings[2];
    return {
      ...c, reps, gflop: flopCount / 1e9, config: ours.kernels.find((k) => k.matmul)!.config, oldConfig: old.kernels.find((k) => k.matmul)!.config,
      ours: to, old: tt, oursGflops: gf(to), oldGflops: gf(tt), speedup: tt.medianMs / to.medianMs,
      ...(tfT ? { tfjsGflops: gf(tfT, 1), vsTfjs: tfT.medianMs / to.medianMs } : {}),
      oursErr, oldErr,
    };
  } finally {
    for (const e of exes) e.destroy();
  }
}

interface TfjsMatmul {
  readonly version: string;
  prepare(A: Float32Array, B: Float32Array, c: MatmulCase): { step: () => void; dispose: () => void };
}

/** tfjs's webgpu matMul on our device (bench/peer/tfjs-vit.ts loads it), or why not. */
async function loadTfjs(ctx: SuiteContext): Promise<TfjsMatmul | string> {
  try {
    const { loadTfjsWebgpu } = await import('../peer/tfjs-vit.ts');
    const rt = await loadTfjsWebgpu(ctx.gpu!);
    const { tf } = rt;
    const backend = rt.backend as unknown as { endComputePassEncoder(): void; submitQueue(): void };
    return {
      version: rt.version,
      prepare(A, B, c) {
        const ta = tf.tensor2d(A, [c.m, c.k]), tb = tf.tensor2d(B, [c.k, c.n]);
        let last: { dispose(): void } | undefined;
        return {
          step: () => {
            const out = tf.matMul(ta, tb);
            last?.dispose();
            last = out;
            backend.endComputePassEncoder();
            backend.submitQueue();
          },
          dispose: () => {
            last?.dispose();
            ta.dispose();
            tb.dispose();
          },
        };
      },
    };
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
}

export const matmulSuite: Suite = {
  name: 'matmul',
  description: 'generated matmul (tuned variant) vs the old tiled kernel, tfjs-webgpu matMul (1024³), numpy BLAS and torch on the CPU (when available), GFLOP/s',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const hardware = !isSoftwareAdapter(ctx.gpu);
    const cases = matmulCases(ctx.quick, hardware);
    const peak = hardware ? fp32Peak(ctx.gpu!) : undefined;
    const problems: string[] = [];
    const results: MatmulResult[] = [];
    const tfjs = await loadTfjs(ctx);
    if (typeof tfjs === 'string') problems.push(`tfjs webgpu did not start: ${tfjs}`);
    const bar = ctx.progress('matmul', cases.length + 2, 'shape');
    for (const [i, c] of cases.entries()) {
      try {
        const r = await runCase(ctx, c, 1000 + i * 10, typeof tfjs === 'string' ? undefined : tfjs, problems);
        results.push(r);
        ctx.log(`  ${caseLabel(c)}: ours ${r.oursGflops.toFixed(2)} GFLOP/s (${fmtTiming(r.ours)}${r.reps > 1 ? ` per ${r.reps} products` : ''}) [${r.config}], old ${r.oldGflops.toFixed(2)} GFLOP/s, ×${r.speedup.toFixed(2)}${r.tfjsGflops ? `, tfjs ${r.tfjsGflops.toFixed(2)} GFLOP/s (ours ×${r.vsTfjs!.toFixed(2)})` : ''}`);
      } catch (e) {
        problems.push(`${caseLabel(c)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, caseLabel(c)));
      bar.tick(1, caseLabel(c));
    }
    const np = await numpyTimes(ctx.gpu!.runtime, results);
    bar.tick(1, 'numpy');
    const torch = await torchPeer(ctx.gpu!.runtime, [{ kind: 'matmul', shapes: results.map((c) => [c.m, c.k, c.n, c.layout === 'linear'] as const) }]);
    const torchMs = torchResult(torch, 0, 'matmul')?.ms;
    if (torch.ok && !torchMs) problems.push('torch peer: no matmul times in its answer');
    bar.tick(1, 'torch');
    bar.done();
    const withBlas: MatmulResult[] = results.map((r, i) => {
      const flop = 2 * r.m * r.n * r.k;
      const ms = np.ms?.[i], tms = torchMs?.[i];
      const blasGflops = ms === undefined ? undefined : flop / (ms * 1e6);
      return {
        ...r,
        ...(blasGflops === undefined ? {} : { blasGflops, pctBlas: 100 * r.oursGflops / blasGflops }),
        ...(tms === undefined ? {} : { torchGflops: flop / (tms * 1e6) }),
        ...(peak ? { pctPeak: (100 * r.oursGflops) / peak.gflops } : {}),
      };
    });
    ctx.log(`  torch CPU: ${torch.ok ? `${torch.label}: ${withBlas.map((r) => r.torchGflops?.toFixed(1) ?? '–').join(', ')} GFLOP/s` : torch.unavailable}`);
    const geo = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);
    const groupGeo = (f: (r: MatmulResult) => boolean) => geo(withBlas.filter(f).map((r) => r.speedup));
    const f2 = (x: number | undefined) => (x === undefined ? null : Number(x.toFixed(2)));
    return {
      data: { results: withBlas, numpy: np, fp32PeakGflops: peak?.gflops ?? null, torch: torch.ok ? { python: torch.python, torch: torch.torch, threads: torch.threads } : { unavailable: torch.unavailable } },
      problems,
      tables: [{
        title: 'matmul: tuned generated kernel vs the old tiled kernel, tfjs, numpy BLAS and torch on the CPU (GFLOP/s from median step times)',
        columns: ['shape', 'GFLOP', 'ours GFLOP/s', '±%', 'old GFLOP/s', 'ours/old', 'tfjs GFLOP/s', 'ours/tfjs', 'BLAS GFLOP/s', 'torch CPU GFLOP/s', 'ours % of BLAS', ...(peak ? ['ours % of fp32 peak'] : []), 'ours config', 'max rel err ours / old'],
        rows: withBlas.map((r) => [
          caseLabel(r), Number(r.gflop.toFixed(3)), f2(r.oursGflops), Math.round(r.ours.rmePct), f2(r.oldGflops), f2(r.speedup),
          f2(r.tfjsGflops), f2(r.vsTfjs), f2(r.blasGflops), f2(r.torchGflops), r.pctBlas === undefined ? null : Number(r.pctBlas.toFixed(1)), ...(peak ? [r.pctPeak === undefined ? null : Number(r.pctPeak.toFixed(2))] : []), r.config, `${fmtErr(r.oursErr)} / ${fmtErr(r.oldErr)}`,
        ]),
        notes: [
          `Geometric mean ours/old: ViT-Ti/S linear layers ×${groupGeo((r) => r.model.startsWith('ViT')).toFixed(2)}, vit-mnist layers ×${groupGeo((r) => r.model === 'vit-mnist').toFixed(2)}, square ×${groupGeo((r) => r.layout === 'plain').toFixed(2)}.`,
          ...(hardware ? [`fp32 peak: ${peak ? `${(peak.gflops / 1000).toFixed(1)} TFLOP/s (${peak.source})` : 'unknown for this adapter (set FPET_BENCH_FP32_PEAK_GFLOPS to report % of peak)'}.`] : []),
          `old: the tiled workgroup-memory kernel (the generator's only matmul before the vector variants), compiled in the same run with matmulVariant 'tiled'. ours: the variant the tuner picked (quick mode, per-adapter cache). tfjs: ${typeof tfjs === 'string' ? `unavailable (${tfjs})` : `tfjs-backend-webgpu ${tfjs.version} tf.matMul on the same device`} (1024³ only).`,
          `BLAS: ${np.label ?? np.unavailable}, timed in a subprocess after the GPU runs (median of repeats per shape).`,
          `torch CPU: ${torch.ok ? `${torch.label}; torch.matmul float32 (x @ Wᵀ for the linear layers), timed in a subprocess after numpy (median of repeats per shape)` : `unavailable (${torch.unavailable})`}.`,
          'Small shapes: one timed step runs the product several times in one command buffer (about 0.1 GFLOP per step), so that submit-and-wait latency does not hide the kernel; ours and old alike.',
        ],
      }],
      charts: [{
        file: 'matmul.svg',
        svg: barChart({
          title: 'matmul GFLOP/s: tuned generated kernel vs old tiled kernel vs BLAS vs torch (CPU)',
          yLabel: 'GFLOP/s',
          groups: withBlas.map((r) => ({
            label: r.layout === 'plain' ? r.model : `${r.model.replace('/16', '')} ${r.layer} b${r.batch}`,
            bars: [{ name: 'ours', value: r.oursGflops }, { name: 'old', value: r.oldGflops }, ...(r.blasGflops ? [{ name: 'BLAS', value: r.blasGflops }] : []), ...(r.torchGflops ? [{ name: 'torch CPU', value: r.torchGflops }] : [])],
          })),
        }),
      }],
    };
  },
};
