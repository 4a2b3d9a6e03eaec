// mainjob: the main job's model (vit-mnist: 28×28, 7×7 patches of 4, dim 64, 6 blocks, 4 heads,
// the central 20×20 pixels scaled up) tuned with AdaptFormer, with and without FPET (merge at block 3, ratio 0.5): one AdamW training
// step at batch 16 and inference at batch 100, images/s, FPET's share of its FLOP-bound speedup, the GPU time per kernel
// class (matmul / attention / row / elementwise / copy / merge), the matmul variants chosen, and
// compile times: code generation, pipeline creation, first dispatch of every pipeline (where
// software drivers compile) with this process's shader cache, and — on Node — with a cold one (a
// child process with an empty MESA_SHADER_CACHE_DIR). When python can import torch, the same
// AdaptFormer model in PyTorch eager on the CPU (bench/peer/torch-peer.ts: training step with AdamW
// on the adapters and head, backbone frozen; inference under torch.inference_mode()), after the
// GPU work: what a user without a GPU runs instead.

import { compileGraph, dispatchesPerStep, type CompiledPlan } from '../../codegen/compile.ts';
import type { Specialize } from '../../codegen/compile.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import type { Graph } from '../../src/core/ir/graph.ts';
import { MAIN_JOB, mainJobModel, type MainJobMethod } from '../../src/fpet/recipes/main-job.ts';
import { buildModel, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { tunePlan } from '../../src/core/runtime/tune.ts';
import { ADAMW_DEFAULTS, adamHyper, withAdamW } from '../../src/fpet/train/optimizer.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { fmtTiming, gpuErrors, randomArray, timeGpuSteps, type Suite, type SuiteContext, type SuiteResult, type Table, type Timing } from '../common.ts';
import { classBreakdown, logitsGraph, modelTiming, type ClassTime } from './inference.ts';
import { torchPeer, torchResult, torchVitJob, type TorchPeer, type TorchVitResult } from '../peer/torch-peer.ts';

/** The methods the suite times (AdaptFormer, + FPET); the cold sequence also compiles ToMe's plans. */
export type JobMethod = 'adaptformer' | 'fpet';
export type JobMode = 'train' | 'infer';
export const JOB_BATCH: Record<JobMode, number> = { train: 16, infer: 100 };
/** The learning rate of the timed AdamW step (its value does not change the work). */
export const JOB_LR = 5e-3;

/**
 * The main job's models from its recipe (input crop, adapter width, DropPath, FPET's block and
 * ratio; the transfer command's defaults are the same recipe), so the bench times what `npm start`
 * trains; only the batch is the timed one.
 */
export function jobSpec(method: MainJobMethod, mode: JobMode): ModelSpec {
  return mainJobModel(method, JOB_BATCH[mode], mode === 'train');
}

export interface JobGraph {
  readonly graph: Graph;
  readonly writeBack: [string, string][];
  readonly feeds: Record<string, ArrayLike<number>>;
}

/** The training step (forward, backward, AdamW) or the inference graph, with feeds. */
export function jobGraph(method: MainJobMethod, mode: JobMode): JobGraph {
  const spec = jobSpec(method, mode);
  const model = buildModel(spec);
  const batch = spec.batch;
  let graph: Graph, writeBack: [string, string][] = [];
  if (mode === 'train') ({ graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable, ADAMW_DEFAULTS));
  else graph = logitsGraph(model.graph);
  const weights = initialWeights(spec, 42);
  const feeds: Record<string, ArrayLike<number>> = { images: randomArray(batch * 28 * 28, 300 + batch, 0, 1) };
  if (mode === 'train') {
    const onehot = new Float32Array(batch * 10);
    for (let i = 0; i < batch; i++) onehot[i * 10 + ((i * 7) % 10)] = 1;
    Object.assign(feeds, { onehot, hyper: adamHyper(JOB_LR, 1, ADAMW_DEFAULTS) });
    // Dropout and DropPath draw from a seed input; the main job's recipe has neither.
    if (graph.inputs.some((n) => n.attrs.name === 'seed')) feeds.seed = [7, 1];
  }
  for (const p of graph.params) feeds[p.attrs.name] = weights.get(p.attrs.name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  return { graph, writeBack, feeds };
}

/** A timed plan: the method, and what its kernels are specialised to (codegen/emit.ts's Specialize). */
interface JobVariant {
  readonly method: JobMethod;
  readonly specialize: Specialize;
}
/**
 * AdaptFormer and FPET as compiled by default (row counts read at run time), and FPET with every
 * size a constant of the code: what specialising costs or saves, in the same run.
 */
const JOB_VARIANTS: readonly JobVariant[] = [
  { method: 'adaptformer', specialize: 'rows' },
  { method: 'fpet', specialize: 'rows' },
  { method: 'fpet', specialize: 'all' },
];

export interface JobRun extends JobVariant {
  readonly mode: JobMode;
  readonly plan: CompiledPlan;
  readonly codegenMs: number;
  readonly pipelineMs: number;
  readonly firstDispatchMs: number;
  readonly tuneMs: number;
  /** Dispatches a timed step runs (dispatchesPerStep). */
  readonly perStep: number;
}

const label = (r: JobVariant) => `${r.method === 'fpet' ? 'AF + FPET' : 'AdaptFormer'}${r.specialize === 'all' ? ' (every size specialised)' : ''}`;

export interface JobResult {
  readonly mode: JobMode;
  readonly batch: number;
  readonly rows: readonly {
    readonly label: string;
    readonly method: JobMethod;
    readonly specialize: Specialize;
    /** Distinct WGSL modules the plan dispatches (pipelines a device compiles). */
    readonly modules: number;
    readonly timing: Timing;
    readonly imagesPerSec: number;
    readonly gflop: number;
    readonly kernelCount: number;
    readonly dispatches: number;
    /** Dispatches a timed step runs: parameter-derived ones only where a trained parameter feeds them. */
    readonly dispatchesPerStep: number;
    readonly uniqueKernels: number;
    readonly codegenMs: number;
    readonly pipelineMs: number;
    readonly firstDispatchMs: number;
    readonly tuneMs: number;
  }[];
  readonly breakdown: readonly { readonly label: string; readonly classes: readonly ClassTime[]; readonly totalMs: number }[];
  readonly variants: readonly string[];
}

async function runMode(ctx: SuiteContext, mode: JobMode, problems: string[]): Promise<JobResult> {
  const gpu = ctx.gpu!;
  const batch = JOB_BATCH[mode];
  const runs: JobRun[] = [];
  const exes: Program[] = [];
  try {
    for (const { method, specialize } of JOB_VARIANTS) {
      const job = jobGraph(method, mode);
      const t0 = performance.now();
      let plan = compileGraph(job.graph, { limits: ctx.limits, specialize, writeBack: job.writeBack });
      // The variants compile() would use: the tuner's choices (quick, per-adapter cache).
      const tune = await tunePlan(gpu, plan, { mode: 'quick' }, Program);
      if (Object.keys(tune.entries).length) plan = compileGraph(job.graph, { limits: ctx.limits, specialize, writeBack: job.writeBack, matmulVariant: tune.chooser, variantKey: tune.key });
      const codegenMs = performance.now() - t0 - tune.ms;
      const exe = await Program.create(gpu, plan, { writeBack: job.writeBack });
      exe.write(job.feeds);
      const firstDispatchMs = await exe.warmup();
      exes.push(exe);
      runs.push({ method, specialize, mode, plan, codegenMs, pipelineMs: exe.pipelineMs, firstDispatchMs, tuneMs: tune.ms, perStep: dispatchesPerStep(plan, new Set(job.writeBack.map(([, param]) => param))) });
      problems.push(...gpuErrors(gpu, `${mode} ${label({ method, specialize })}`));
    }
    const timings = await timeGpuSteps(gpu.device, runs.map((r, i) => ({ name: `${mode} ${label(r)}`, step: () => exes[i]!.run() })), modelTiming(ctx));
    // Per-class GPU time, for where the time goes.
    const breakdown = [];
    for (const [i, r] of runs.entries()) {
      const prof = await exes[i]!.profile(2);
      if (!prof) break;
      const classes = classBreakdown(r.plan, prof);
      breakdown.push({ label: label(r), classes, totalMs: classes.reduce((s, c) => s + c.ms, 0) });
    }
    const variants = [...new Set(runs.flatMap((r) => r.plan.kernels.filter((k) => k.matmul).map((k) => `${k.matmul!.signature.key} -> ${k.config}`)))].sort();
    return {
      mode, batch, breakdown, variants,
      rows: runs.map((r, i) => ({
        label: label(r), method: r.method, specialize: r.specialize, modules: r.plan.uniqueModules, timing: timings[i]!, imagesPerSec: batch / (timings[i]!.medianMs / 1e3),
        gflop: r.plan.flops / 1e9, kernelCount: r.plan.kernels.length, dispatches: r.plan.steps.length, dispatchesPerStep: r.perStep, uniqueKernels: r.plan.uniqueKernels,
        codegenMs: r.codegenMs, pipelineMs: r.pipelineMs, firstDispatchMs: r.firstDispatchMs, tuneMs: r.tuneMs,
      })),
    };
  } finally {
    for (const e of exes) e.destroy();
  }
}

export interface ColdResult {
  readonly specialize: Specialize;
  readonly train?: number;
  readonly infer?: number;
  readonly kernels?: number;
  readonly unavailable?: string;
}

function nodeImport<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

/** Each main-job model's compile in the main job's order with one cold shader cache (ms, code generation included): training step, evaluator. */
export interface ColdSequence {
  readonly ms?: Readonly<Record<MainJobMethod, Readonly<Record<JobMode, number>>>>;
  readonly unavailable?: string;
}

/** First dispatch of every pipeline of the FPET training step and inference plans with an empty shader cache (a child process). */
async function coldCompile(ctx: SuiteContext, specialize: Specialize): Promise<ColdResult> {
  const r = await coldChild(ctx, specialize);
  return 'unavailable' in r ? { specialize, unavailable: r.unavailable } : { specialize, ...(r.result as Omit<ColdResult, 'specialize'>) };
}

/** The main job's three models compiled one after the other, as `transfer` does, with one empty shader cache (a child process). */
async function coldSequence(ctx: SuiteContext): Promise<ColdSequence> {
  const r = await coldChild(ctx, 'sequence');
  return 'unavailable' in r ? { unavailable: r.unavailable } : { ms: r.result as Record<MainJobMethod, Record<JobMode, number>> };
}

/** Runs mainjob-cold.ts with `arg` in a child process with an empty MESA_SHADER_CACHE_DIR; its COLD line, parsed. */
async function coldChild(ctx: SuiteContext, arg: string): Promise<{ result: unknown } | { unavailable: string }> {
  if (ctx.gpu!.runtime !== 'node') return { unavailable: `only measured on Node (this is ${ctx.gpu!.runtime})` };
  const { spawnSync } = await nodeImport<typeof import('node:child_process')>('node:child_process');
  const { mkdtempSync, rmSync } = await nodeImport<typeof import('node:fs')>('node:fs');
  const { tmpdir } = await nodeImport<typeof import('node:os')>('node:os');
  const { join } = await nodeImport<typeof import('node:path')>('node:path');
  const { fileURLToPath } = await nodeImport<typeof import('node:url')>('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'mesa-cold-'));
  try {
    const script = fileURLToPath(new URL('./mainjob-cold.ts', import.meta.url));
    const r = spawnSync(process.execPath, [...process.execArgv, script, arg], {
      encoding: 'utf8', timeout: 900_000,
      env: { ...process.env, MESA_SHADER_CACHE_DIR: dir, FPET_TUNE: 'off' },
    });
    const line = r.stdout?.split('\n').find((l) => l.startsWith('COLD '));
    if (!line) return { unavailable: `the child process failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}` };
    return { result: JSON.parse(line.slice(5)) as unknown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f1 = (x: number) => Number(x.toFixed(1));

const TORCH_MODES: readonly JobMode[] = ['train', 'infer'];

/** The AdaptFormer model (no merging) in PyTorch eager on the CPU: training step and inference, in TORCH_MODES' order. */
function torchJobs(ctx: SuiteContext): Promise<TorchPeer> {
  const budget = ctx.quick ? 2 : 5;
  return torchPeer(ctx.gpu!.runtime, TORCH_MODES.map((mode) => torchVitJob(`vit-mnist AdaptFormer ${mode} b${JOB_BATCH[mode]}`, jobSpec('adaptformer', mode), mode, budget, { ...ADAMW_DEFAULTS, lr: JOB_LR })));
}

export const mainjobSuite: Suite = {
  name: 'mainjob',
  description: 'the main job\'s vit-mnist: AdaptFormer vs + FPET, training step (batch 16) and inference (batch 100), per-class time, compile times (cold shader cache on Node); AdaptFormer in torch on the CPU (when available)',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const problems: string[] = [];
    const bar = ctx.progress('mainjob', 4, 'part');
    const results: JobResult[] = [];
    for (const mode of ['train', 'infer'] as const) {
      const r = await runMode(ctx, mode, problems);
      results.push(r);
      for (const row of r.rows) ctx.log(`  ${mode} b${r.batch} ${row.label}: ${fmtTiming(row.timing)}, ${row.imagesPerSec.toFixed(0)} img/s`);
      bar.tick(1, mode);
    }
    const cold = [await coldCompile(ctx, 'rows'), await coldCompile(ctx, 'all')];
    const sequence = await coldSequence(ctx);
    bar.tick(1, 'cold compile');
    const torch = await torchJobs(ctx);
    const torchOf = (mode: JobMode): TorchVitResult | undefined => torchResult(torch, TORCH_MODES.indexOf(mode), 'vit');
    if (!torch.ok) ctx.log(`  torch CPU: ${torch.unavailable}`);
    else {
      for (const mode of TORCH_MODES) {
        const t = torchOf(mode);
        if (t && !t.finite) problems.push(`torch peer: vit-mnist ${mode}: non-finite ${mode === 'train' ? 'loss' : 'logits'}`);
        ctx.log(`  torch CPU ${mode} b${JOB_BATCH[mode]} AdaptFormer: ${t ? `${t.medianMs.toFixed(1)} ms, ${(t.batch / (t.medianMs / 1e3)).toFixed(0)} img/s` : 'no answer'}`);
      }
    }
    bar.tick(1, 'torch');
    bar.done();
    const torchIps = (t: TorchVitResult) => t.batch / (t.medianMs / 1e3);
    const tables: Table[] = [];
    for (const r of results) {
      const get = (m: JobMethod, specialize: Specialize = 'rows') => r.rows.find((x) => x.method === m && x.specialize === specialize)!;
      const notes: string[] = [];
      const af = get('adaptformer'), fp = get('fpet');
      const flopRatio = af.gflop / fp.gflop, speedup = af.timing.medianMs / fp.timing.medianMs;
      notes.push(`FPET ${speedup.toFixed(2)}× faster than AdaptFormer for ${flopRatio.toFixed(2)}× fewer FLOPs (${(100 * speedup / flopRatio).toFixed(0)}% of its FLOP-bound speedup).`);
      const all = get('fpet', 'all');
      const specialised = fp.timing.medianMs / all.timing.medianMs;
      // A ratio inside the two timings' combined margin of error is not a finding.
      const margin = Math.hypot(fp.timing.rmePct, all.timing.rmePct);
      const verdict = Math.abs(specialised - 1) * 100 < margin ? `, within the timings' margin of error (±${margin.toFixed(0)}%)` : '';
      notes.push(`Row counts read at run time (the default) vs every size specialised: FPET ${fp.modules} vs ${all.modules} distinct modules; the specialised plan runs at ${specialised.toFixed(2)}× the default's speed (median ms ratio, alternated in one run${verdict}).`);
      notes.push('first dispatch: every distinct pipeline dispatched once (Program.warmup), with this process\'s shader cache — software drivers compile there. tune: the matmul tuner\'s search (0 when the per-adapter cache had every signature).');
      const t = torchOf(r.mode);
      if (t) {
        const ours = get('adaptformer');
        notes.push(`torch CPU: ${torch.ok ? torch.label : ''}; the same AdaptFormer model in plain torch (${t.params} parameters, ${t.trainable} trainable${r.mode === 'train' ? ': AdamW over adapters and head, backbone frozen, dropout and DropPath as ours' : ', eval mode, torch.inference_mode()'}), random weights (only time is compared), timed in a subprocess after the GPU runs, not alternated with ours (${t.reps} samples, min–max ${f1(t.minMs)}–${f1(t.maxMs)} ms). Ours (AdaptFormer) runs at ${(ours.imagesPerSec / torchIps(t)).toFixed(2)}× torch's img/s.`);
      } else {
        notes.push(`torch CPU: ${torch.ok ? 'no answer for this job' : `unavailable (${torch.unavailable})`}.`);
      }
      tables.push({
        title: `mainjob: vit-mnist ${r.mode === 'train' ? 'AdamW training step' : 'inference'} at batch ${r.batch}`,
        columns: ['variant', 'median ms', '±%', 'img/s', 'GFLOP', 'kernels (distinct) in dispatches', 'modules', 'codegen ms', 'pipelines ms', 'first dispatch ms', 'tune ms'],
        rows: [
          ...r.rows.map((x) => [x.label, f1(x.timing.medianMs), Math.round(x.timing.rmePct), Math.round(x.imagesPerSec), Number(x.gflop.toFixed(3)), `${x.kernelCount} (${x.uniqueKernels}) in ${x.dispatches}${x.dispatchesPerStep < x.dispatches ? `, ${x.dispatchesPerStep} per step` : ''}`, x.modules, Math.round(x.codegenMs), Math.round(x.pipelineMs), Math.round(x.firstDispatchMs), Math.round(x.tuneMs)]),
          ...(t ? [['AdaptFormer (PyTorch eager, CPU)', f1(t.medianMs), null, Math.round(torchIps(t)), null, null, null, null, null, null, null]] : []),
        ],
        notes,
      });
      if (r.breakdown.length) {
        const classes = [...new Set(r.breakdown.flatMap((b) => b.classes.map((c) => c.cls)))];
        tables.push({
          title: `mainjob: GPU time per kernel class, vit-mnist ${r.mode} batch ${r.batch} (timestamp queries, one pass per kernel; ms and % of the step)`,
          columns: ['variant', 'total ms', ...classes.flatMap((c) => [`${c} ms`, `${c} %`])],
          rows: r.breakdown.map((b) => [b.label, f1(b.totalMs), ...classes.flatMap((c) => {
            const x = b.classes.find((y) => y.cls === c);
            return x ? [f1(x.ms), Math.round((100 * x.ms) / b.totalMs)] : [null, null];
          })]),
          notes: ['attention: the matmuls over heads (QKᵀ, P·V and their gradients) and fused attention kernels; row: row and column reductions (LayerNorm, softmax statistics); elementwise: map kernels that compute; copy: map kernels that only move data; merge: top-k and scatter kernels of token merging.'],
        });
      }
      tables.push({
        title: `mainjob: matmul variants chosen (${r.mode})`,
        columns: ['signature -> variant'],
        rows: r.variants.map((v) => [v]),
      });
    }
    const coldRows = (c: ColdResult) => {
      const label = `AF + FPET, ${c.specialize === 'rows' ? 'row counts at run time' : 'every size specialised'}`;
      return c.unavailable
        ? [[`${label}: unavailable: ${c.unavailable}`, null, null]]
        : [[`${label}: training step (batch 16)`, f1(c.train! / 1e3), null], [`${label}: inference (batch 100)`, f1(c.infer! / 1e3), null], [`${label}: both`, f1((c.train! + c.infer!) / 1e3), c.kernels ?? null]];
    };
    tables.push({
      title: 'mainjob: first-step compile cost with a cold shader cache (AF + FPET; child process with an empty MESA_SHADER_CACHE_DIR)',
      columns: ['plan', 'seconds', 'distinct modules'],
      rows: cold.flatMap(coldRows),
      notes: ['Each distinct kernel is compiled by the driver at its first dispatch: Program.warmup dispatches each once, on scratch buffers, spread over the main device and its compile helpers (lavapipe: one per spare core; Mesa\'s shader cache on disk hands their kernels to the main device).'],
    });
    tables.push({
      title: 'mainjob: each model\'s compile in the main job\'s order (AdaptFormer, FPET, ToMe; one child process, one empty MESA_SHADER_CACHE_DIR, tuning off)',
      columns: ['model', 'training step: seconds before the first step', 'evaluator: seconds at the first evaluation'],
      rows: sequence.ms ? MAIN_JOB.methods.map((m) => [m, f1(sequence.ms![m].train / 1e3), f1(sequence.ms![m].infer / 1e3)]) : [[`unavailable: ${sequence.unavailable}`, null, null]],
      notes: ['Code generation, then every kernel compiled ahead: the training step (batch 16) before its first step and the evaluator (batch 100) at its first evaluation, as `transfer` does; a later plan finds the kernels it shares with an earlier one in the shader cache. Target (issue 27): a first epoch at most 10 s longer than a later one.'],
    });
    return {
      data: { results, cold, sequence, torch },
      problems,
      tables,
      charts: results.map((r) => ({
        file: `mainjob-${r.mode}.svg`,
        svg: barChart({
          title: `vit-mnist ${r.mode} (batch ${r.batch}): images/s`,
          yLabel: 'img/s',
          groups: (['adaptformer', 'fpet'] as const).map((m) => ({
            label: m === 'fpet' ? 'AF + FPET' : 'AdaptFormer',
            bars: [
              { name: 'ours', value: r.rows.find((x) => x.method === m && x.specialize === 'rows')!.imagesPerSec },
              ...(m === 'adaptformer' && torchOf(r.mode) ? [{ name: 'torch CPU', value: torchIps(torchOf(r.mode)!) }] : []),
            ],
          })),
        }),
      })),
    };
  },
};
