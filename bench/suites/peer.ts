// peer: the same ViT-Ti/16 forward (224×224, batch 1, the same randomVitWeights) in our framework
// and in TensorFlow.js on its `webgpu` backend (bench/peer/tfjs-vit.ts), both on this process's
// GPUDevice: the logits are compared (max abs diff), both are timed side by side (alternating
// rounds) and the time ratio ours/theirs is reported, with the GPU dispatches per forward.
// On a software (CPU) adapter, one 1024³ float32 matmul is also timed in both and set against
// the CPU's BLAS (numpy in a python subprocess, when available): the ceiling a CPU could reach.

import { compileGraph } from '../../codegen/compile.ts';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { randomVitWeights, VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { fmtTiming, gpuErrors, randomArray, timeGpuSteps, type Suite, type SuiteContext, type SuiteResult, type Table, type Timing } from '../common.ts';
import { loadTfjsWebgpu, tfjsVit, type TfjsRuntime } from '../peer/tfjs-vit.ts';
import { runPython } from '../peer/python.ts';
import { vitGraph } from './memory.ts';
import { isSoftwareAdapter, modelTiming } from './inference.ts';

/** Number of dispatchWorkgroups() calls made while fn runs (patched on the pass encoder's prototype). */
function countDispatches(device: GPUDevice, fn: () => void): number | undefined {
  const encoder = device.createCommandEncoder({ label: 'probe' });
  const probe = encoder.beginComputePass();
  const proto = Object.getPrototypeOf(probe) as { dispatchWorkgroups: (...a: unknown[]) => unknown };
  probe.end();
  encoder.finish();
  if (Object.prototype.hasOwnProperty.call(probe, 'dispatchWorkgroups') || typeof proto.dispatchWorkgroups !== 'function') return undefined;
  const original = proto.dispatchWorkgroups;
  let n = 0;
  proto.dispatchWorkgroups = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    proto.dispatchWorkgroups = original;
  }
  return n;
}

export interface BlasResult {
  readonly python?: string;
  readonly numpy?: string;
  readonly blas?: string;
  readonly threads?: string;
  readonly medianMs?: number;
  readonly gflops?: number;
  /** Why there is no number. */
  readonly unavailable?: string;
}

const NUMPY_SCRIPT = `
import json, os, sys, time
import numpy as np
n = 1024
rng = np.random.default_rng(0)
a = rng.random((n, n), dtype=np.float32); b = rng.random((n, n), dtype=np.float32)
a @ b
ts = []
for _ in range(15):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
ts.sort()
blas = 'unknown'
try:
    blas = np.__config__.CONFIG['Build Dependencies']['blas']['name']
except Exception:
    pass
print(json.dumps({'python': sys.executable, 'numpy': np.__version__, 'blas': blas, 'threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default'), 'medianMs': ts[len(ts) // 2] * 1e3}))
`;

/** numpy's 1024³ float32 matmul in a python subprocess (bench/peer/python.ts: $FPET_BENCH_PYTHON, python3, /usr/bin/python3). */
export async function numpyMatmul(runtime: GpuContext['runtime']): Promise<BlasResult> {
  const r = await runPython<BlasResult & { medianMs: number }>(runtime, 'numpy', NUMPY_SCRIPT, [], 120_000);
  if (!r.ok) return { unavailable: r.unavailable };
  return { ...r.out, gflops: (2 * 1024 ** 3) / (r.out.medianMs / 1e3) / 1e9 };
}

export interface PeerResult {
  readonly model: string;
  readonly batch: number;
  readonly tfjsVersion: string;
  readonly navigatorGpu: string;
  readonly maxAbsDiff: number;
  readonly maxAbsLogit: number;
  readonly gflop: number;
  readonly ours: Timing;
  readonly theirs: Timing;
  /** Our median time ÷ tfjs's (below 1: we are faster). */
  readonly ratio: number;
  readonly oursDispatches?: number;
  readonly theirsDispatches?: number;
  readonly oursKernels: number;
  /** tfjs kernels by total GPU time (tf.profile with timestamp queries), when available. */
  readonly theirsTop?: readonly { name: string; calls: number; ms: number }[];
}

export interface MatmulPeerResult {
  readonly ours: Timing;
  readonly theirs: Timing;
  readonly oursGflops: number;
  readonly theirsGflops: number;
  readonly blas: BlasResult;
}

async function vitPeer(ctx: SuiteContext, rt: TfjsRuntime, problems: string[]): Promise<PeerResult> {
  const gpu = ctx.gpu!;
  const { tf } = rt;
  const config = VIT_PRESETS['vit-ti16'];
  const batch = 1;
  const weights = randomVitWeights(config, 11);
  const images = randomArray(batch * 3 * 224 * 224, 12, 0, 1);
  const plan = compileGraph(vitGraph(config, batch, 'inference').graph, { limits: ctx.limits });
  const exe = await Program.create(gpu, plan);
  const x = tf.tensor(images, [batch, 3, 224, 224], 'float32') as import('@tensorflow/tfjs-core').Tensor4D;
  const model = tfjsVit(rt, config, weights);
  try {
    exe.write({ ...Object.fromEntries(weights), images });
    const ours = (await exe.execute({}, ['logits'])).logits as Float32Array;
    const theirs = await model.logits(x);
    let maxAbsDiff = 0, maxAbsLogit = 0;
    for (let i = 0; i < ours.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i]! - theirs[i]!));
      maxAbsLogit = Math.max(maxAbsLogit, Math.abs(ours[i]!));
    }
    if (ours.length !== theirs.length || !(maxAbsDiff <= 1e-3 * Math.max(1, maxAbsLogit))) {
      problems.push(`ViT-Ti/16 logits differ from tfjs's: max abs diff ${maxAbsDiff.toExponential(2)} (max |logit| ${maxAbsLogit.toFixed(3)})`);
    }
    const oursDispatches = countDispatches(gpu.device, () => exe.run());
    const theirsDispatches = countDispatches(gpu.device, () => model.step(x));
    await gpu.device.queue.onSubmittedWorkDone();
    const [to, tt] = await timeGpuSteps(gpu.device, [
      { name: 'ours ViT-Ti/16 b1', step: () => exe.run() },
      { name: 'tfjs ViT-Ti/16 b1', step: () => model.step(x) },
    ], modelTiming(ctx)) as [Timing, Timing];
    // Where tfjs spends its time (its own per-kernel timestamp queries).
    let theirsTop: PeerResult['theirsTop'];
    try {
      const prof = await tf.profile(() => model.forward(x));
      const byName = new Map<string, { calls: number; ms: number }>();
      for (const k of prof.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN;
        const e = byName.get(k.name) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += Number.isFinite(ms) ? ms : 0;
        byName.set(k.name, e);
      }
      theirsTop = [...byName].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms).slice(0, 8);
      (prof.result as import('@tensorflow/tfjs-core').Tensor).dispose();
    } catch (e) {
      problems.push(`tfjs profile: ${e instanceof Error ? e.message : String(e)}`);
    }
    return {
      model: 'ViT-Ti/16', batch, tfjsVersion: rt.version, navigatorGpu: rt.navigatorGpu,
      maxAbsDiff, maxAbsLogit, gflop: plan.flops / 1e9, ours: to, theirs: tt, ratio: to.medianMs / tt.medianMs,
      oursDispatches, theirsDispatches, oursKernels: plan.kernels.length, theirsTop,
    };
  } finally {
    model.dispose();
    x.dispose();
    exe.destroy();
  }
}

async function matmulPeer(ctx: SuiteContext, rt: TfjsRuntime): Promise<MatmulPeerResult> {
  const gpu = ctx.gpu!;
  const { tf } = rt;
  const n = 1024;
  const b = new GraphBuilder();
  b.output('c', b.input('a', [n, n]).matmul(b.input('b', [n, n])));
  const plan = compileGraph(b.build(), { limits: ctx.limits });
  const exe = await Program.create(gpu, plan);
  const A = randomArray(n * n, 21), B = randomArray(n * n, 22);
  exe.write({ a: A, b: B });
  const ta = tf.tensor2d(A, [n, n]), tb = tf.tensor2d(B, [n, n]);
  let last: { dispose(): void } | undefined;
  const backend = rt.backend as unknown as { endComputePassEncoder(): void; submitQueue(): void };
  try {
    const [to, tt] = await timeGpuSteps(gpu.device, [
      { name: 'ours matmul 1024³', step: () => exe.run() },
      {
        name: 'tfjs matmul 1024³',
        step: () => {
          const c = tf.matMul(ta, tb);
          last?.dispose();
          last = c;
          backend.endComputePassEncoder();
          backend.submitQueue();
        },
      },
    ], modelTiming(ctx)) as [Timing, Timing];
    const flop = 2 * n ** 3;
    const blas = await numpyMatmul(gpu.runtime);
    return { ours: to, theirs: tt, oursGflops: flop / (to.medianMs / 1e3) / 1e9, theirsGflops: flop / (tt.medianMs / 1e3) / 1e9, blas };
  } finally {
    last?.dispose();
    ta.dispose();
    tb.dispose();
    exe.destroy();
  }
}

export const peerSuite: Suite = {
  name: 'peer',
  description: 'the same ViT-Ti/16 forward in TensorFlow.js (webgpu backend, same device): logits diff and time ratio; matmul vs CPU BLAS on software adapters',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const gpu = ctx.gpu!;
    const problems: string[] = [];
    const tables: Table[] = [];
    const software = isSoftwareAdapter(gpu);
    const bar = ctx.progress('peer', software ? 2 : 1, 'case');
    let rt: TfjsRuntime;
    try {
      rt = await loadTfjsWebgpu(gpu);
    } catch (e) {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      problems.push(`tfjs's webgpu backend did not start in this runtime (${gpu.runtime}): ${msg.split('\n')[0]}` +
        (gpu.runtime === 'node' ? ' — run the comparison in headless Chromium instead: npm run bench -- --runtime browser --suite peer' : ''));
      bar.done();
      return { data: { error: msg }, problems, tables, charts: [] };
    }
    let vit: PeerResult | undefined;
    try {
      vit = await vitPeer(ctx, rt, problems);
      ctx.log(`  ViT-Ti/16 b1: ours ${fmtTiming(vit.ours)}, tfjs ${fmtTiming(vit.theirs)}, ours/theirs ×${vit.ratio.toFixed(3)}, logits max abs diff ${vit.maxAbsDiff.toExponential(2)}`);
    } catch (e) {
      problems.push(`ViT-Ti/16 vs tfjs: ${e instanceof Error ? e.message : String(e)}`);
    }
    problems.push(...gpuErrors(gpu, 'peer ViT'));
    bar.tick(1, 'ViT-Ti/16');
    let mm: MatmulPeerResult | undefined;
    if (software) {
      try {
        mm = await matmulPeer(ctx, rt);
        ctx.log(`  matmul 1024³: ours ${mm.oursGflops.toFixed(2)} GFLOP/s, tfjs ${mm.theirsGflops.toFixed(2)} GFLOP/s, numpy ${mm.blas.gflops?.toFixed(1) ?? mm.blas.unavailable}`);
      } catch (e) {
        problems.push(`matmul vs tfjs/BLAS: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(gpu, 'peer matmul'));
      bar.tick(1, 'matmul');
    }
    bar.done();

    const f2 = (x: number) => Number(x.toFixed(2));
    if (vit) {
      tables.push({
        title: `peer: ${vit.model} forward at 224, batch ${vit.batch}, ours vs TensorFlow.js ${vit.tfjsVersion} (webgpu backend), same device (median time per step)`,
        columns: ['framework', 'GPU dispatches', 'ms', '±%', 'GFLOP/s', 'ours/theirs time', 'logits max abs diff'],
        rows: [
          ['ours (fused plan, one command buffer)', vit.oursDispatches ?? vit.oursKernels, f2(vit.ours.medianMs), Math.round(vit.ours.rmePct), f2(vit.gflop / (vit.ours.medianMs / 1e3)), Number(vit.ratio.toFixed(3)), vit.maxAbsDiff.toExponential(2)],
          ['tfjs (eager ops)', vit.theirsDispatches ?? null, f2(vit.theirs.medianMs), Math.round(vit.theirs.rmePct), f2(vit.gflop / (vit.theirs.medianMs / 1e3)), 1, '–'],
        ],
        notes: [
          `Same weights (randomVitWeights, seed 11) and image; max |logit| ${vit.maxAbsLogit.toFixed(3)}. tfjs: tf.fused.matMul with bias for the linear layers, tf.moments LayerNorm, tf.softmax, exact GELU with tf.erf; navigator.gpu: ${vit.navigatorGpu}. A tfjs step is its whole eager forward (JS dispatch included) plus the final submit; ours is one pre-recorded command buffer. GFLOP/s from our plan's count (${vit.gflop.toFixed(3)} GFLOP) for both.`,
          ...(vit.theirsTop?.length ? [`tfjs GPU time by kernel (tf.profile): ${vit.theirsTop.map((k) => `${k.name} ×${k.calls} ${k.ms.toFixed(1)} ms`).join(', ')}.`] : []),
        ],
      });
    }
    if (mm) {
      tables.push({
        title: 'peer: one 1024×1024×1024 float32 matmul on the software adapter vs the CPU\'s BLAS',
        columns: ['implementation', 'ms', '±%', 'GFLOP/s'],
        rows: [
          ['ours (generated WGSL)', f2(mm.ours.medianMs), Math.round(mm.ours.rmePct), f2(mm.oursGflops)],
          ['tfjs webgpu matMul', f2(mm.theirs.medianMs), Math.round(mm.theirs.rmePct), f2(mm.theirsGflops)],
          mm.blas.gflops !== undefined
            ? [`numpy ${mm.blas.numpy} (${mm.blas.blas}, ${mm.blas.python}) on the CPU`, f2(mm.blas.medianMs!), null, f2(mm.blas.gflops)]
            : [`numpy: ${mm.blas.unavailable}`, null, null, null],
        ],
        notes: ['The adapter is a CPU (software Vulkan) one: its GPU timings are CPU timings, and the BLAS number is what the same cores reach with a tuned library. numpy runs in a subprocess right after the GPU timing (median of 15).'],
      });
    }
    const groups = [
      ...(vit ? [{ label: `${vit.model} b${vit.batch} forward (ms)`, bars: [{ name: 'ours', value: vit.ours.medianMs }, { name: 'tfjs', value: vit.theirs.medianMs }] }] : []),
    ];
    return {
      data: { vit, matmul: mm },
      problems,
      tables,
      charts: groups.length ? [{ file: 'peer.svg', svg: barChart({ title: 'Ours vs TensorFlow.js (webgpu), same device: time per forward (lower is better)', yLabel: 'ms (median)', groups }) }] : [],
    };
  },
};
