// training: one full training step (forward, backward, AdamW update; one compiled plan, one
// command buffer, parameters and optimizer state written back on the GPU), as src/fpet/train/trainer.ts
// runs it: AdaptFormer vs AdaptFormer + FPET (the reference merge: r=0.5 at block 6), and full
// fine-tuning for contrast. ViT-Ti/16 geometry at 224×224, batch 8 (quick: 1). Time per step
// (side by side, alternating rounds) and the GPU memory the plan holds: params arena (frozen
// backbone + trainable parameters + AdamW moments), inputs, and the planned work arena (every
// activation saved for the backward pass, the gradients, the updates).

import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { ADAMW_DEFAULTS, adamHyper, withAdamW } from '../../src/fpet/train/optimizer.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { fmtTiming, gpuErrors, MiB, randomArray, timeGpuSteps, type Suite, type SuiteContext, type SuiteResult, type Timing } from '../common.ts';
import { modelTiming } from './inference.ts';

export type TrainMethod = 'full' | 'adaptformer' | 'fpet';

export const trainLabel = (m: TrainMethod): string =>
  m === 'full' ? 'full fine-tuning' : m === 'adaptformer' ? 'AdaptFormer' : `AdaptFormer + FPET r=${DEFAULT_MERGE.ratio} @${DEFAULT_MERGE.blocks[0]}`;

/** ViT-Ti/16 at 224 with a 100-class head (a VTAB-sized task; the paper's tasks have 2–397 classes). */
export function trainSpec(method: TrainMethod, batch: number): ModelSpec {
  const vit = { ...VIT_PRESETS['vit-ti16'], numClasses: 100 };
  // The trainer's defaults (TRAIN_DEFAULTS in src/fpet/train/trainer.ts, not imported: it pulls in
  // node:fs and the datasets, and this suite also runs in Deno and browsers).
  const training = { dropout: 0.1, dropPath: 0.1 };
  if (method === 'full') return { vit, batch, pet: DEFAULT_PET.full, training };
  if (method === 'adaptformer') return { vit, batch, pet: DEFAULT_PET.adaptformer, training };
  return { vit, batch, pet: DEFAULT_PET.adaptformer, merge: DEFAULT_MERGE, training };
}

export interface TrainResult {
  readonly method: TrainMethod;
  readonly label: string;
  readonly batch: number;
  readonly trainable: number;
  readonly kernels: number;
  readonly dispatches: number;
  readonly gflop: number;
  readonly timing: Timing;
  readonly imagesPerSec: number;
  readonly paramsMiB: number;
  readonly inputsMiB: number;
  readonly workMiB: number;
  readonly totalMiB: number;
  readonly loss: number;
  readonly compileMs: number;
}

interface BuiltStep {
  readonly method: TrainMethod;
  readonly plan: CompiledPlan;
  readonly writeBack: [string, string][];
  readonly feeds: Record<string, ArrayLike<number>>;
  readonly trainable: number;
  readonly compileMs: number;
}

function buildStep(ctx: SuiteContext, method: TrainMethod, batch: number): BuiltStep {
  const spec = trainSpec(method, batch);
  const t0 = performance.now();
  const model = buildModel(spec);
  const { graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable, ADAMW_DEFAULTS);
  const plan = compileGraph(graph, { limits: ctx.limits, writeBack });
  const compileMs = performance.now() - t0;
  const weights = initialWeights(spec, 99);
  const vit = spec.vit;
  const onehot = new Float32Array(batch * vit.numClasses);
  for (let i = 0; i < batch; i++) onehot[i * vit.numClasses + ((i * 37) % vit.numClasses)] = 1;
  const feeds: Record<string, ArrayLike<number>> = {
    images: randomArray(batch * vit.inChannels * vit.imageSize * vit.imageSize, 500 + batch, 0, 1),
    onehot,
    seed: [7, 1],
    hyper: adamHyper(1e-3, 1, ADAMW_DEFAULTS),
  };
  // Parameters, then the AdamW moments (zeros, as at the start of training).
  for (const p of graph.params) {
    const name = p.attrs.name;
    feeds[name] = weights.get(name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  }
  const trainable = model.trainable.reduce((s, n) => s + weights.get(n)!.length, 0);
  return { method, plan, writeBack, feeds, trainable, compileMs };
}

export const trainingSuite: Suite = {
  name: 'training',
  description: 'one AdamW training step (ViT-Ti/16 geometry): AdaptFormer vs AdaptFormer + FPET vs full fine-tuning, time and GPU memory',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const gpu = ctx.gpu!;
    const batch = ctx.quick ? 1 : 8;
    const methods: TrainMethod[] = ['adaptformer', 'fpet', 'full'];
    const problems: string[] = [];
    const results: TrainResult[] = [];
    const bar = ctx.progress('training', methods.length + 1, 'step');
    const built: BuiltStep[] = [];
    const exes: Program[] = [];
    try {
      for (const m of methods) {
        const b = buildStep(ctx, m, batch);
        built.push(b);
        const exe = await Program.create(gpu, b.plan, { writeBack: b.writeBack });
        exes.push(exe);
        exe.write(b.feeds);
        ctx.log(`  ${trainLabel(m)} b${batch}: ${b.plan.kernels.length} kernels in ${b.plan.steps.length} dispatches, ${(b.plan.flops / 1e9).toFixed(2)} GFLOP, compiled in ${(b.compileMs / 1e3).toFixed(1)} s`);
        bar.tick(1, trainLabel(m));
      }
      const timings = await timeGpuSteps(gpu.device, built.map((b, i) => ({ name: `train ${trainLabel(b.method)} b${batch}`, step: () => exes[i]!.run() })), modelTiming(ctx));
      for (const [i, b] of built.entries()) {
        const loss = (await exes[i]!.read(['loss'])).loss![0]!;
        if (!Number.isFinite(loss)) problems.push(`${trainLabel(b.method)}: loss is ${loss} after the timed steps`);
        const a = b.plan.arenaBytes;
        const t = timings[i]!;
        results.push({
          method: b.method, label: trainLabel(b.method), batch, trainable: b.trainable,
          kernels: b.plan.kernels.length, dispatches: b.plan.steps.length, gflop: b.plan.flops / 1e9, timing: t, imagesPerSec: batch / (t.medianMs / 1e3),
          paramsMiB: MiB(a.params), inputsMiB: MiB(a.inputs), workMiB: MiB(a.work), totalMiB: MiB(a.params + a.inputs + a.work),
          loss, compileMs: b.compileMs,
        });
        ctx.log(`  ${trainLabel(b.method)}: ${fmtTiming(t)} per step, ${MiB(a.params + a.inputs + a.work).toFixed(1)} MiB (work arena ${MiB(a.work).toFixed(1)} MiB), loss ${loss.toFixed(3)}`);
      }
    } catch (e) {
      problems.push(`training b${batch}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      for (const e of exes) e.destroy();
    }
    problems.push(...gpuErrors(ctx.gpu, 'training'));
    bar.tick(1, 'timed');
    bar.done();

    const af = results.find((r) => r.method === 'adaptformer');
    const f2 = (x: number) => Number(x.toFixed(2));
    const pct = (x: number, base: number | undefined) => (base ? `${x >= base ? '+' : ''}${((100 * (x - base)) / base).toFixed(1)}%` : '–');
    return {
      data: results,
      problems,
      tables: [{
        title: `training: one AdamW step, ViT-Ti/16 geometry at 224, batch ${batch} (median time per step)`,
        columns: ['method', 'trainable params', 'kernels', 'GFLOP', 'ms', '±%', 'img/s', 'time vs AF', 'params+inputs+work MiB', 'vs AF', 'work arena MiB', 'vs AF', 'params arena MiB'],
        rows: results.map((r) => [
          r.label, r.trainable, r.kernels, f2(r.gflop), f2(r.timing.medianMs), Math.round(r.timing.rmePct), f2(r.imagesPerSec),
          pct(r.timing.medianMs, af?.timing.medianMs), f2(r.totalMiB), pct(r.totalMiB, af?.totalMiB), f2(r.workMiB), pct(r.workMiB, af?.workMiB), f2(r.paramsMiB),
        ]),
        notes: [
          'A step = forward + backward + AdamW update of the trainable parameters (dropout 0.1 in the adapters, DropPath 0.1), one command buffer, as the trainer runs it. Trainable: adapters and head (full fine-tuning: everything).',
          'Memory = what the compiled plan allocates on the GPU: params arena (frozen backbone, trainable parameters, AdamW m and v), inputs, and the planned work arena (activations kept for the backward pass, gradients, updates; reused across the step). The paper reports 7.6 GB (AdaptFormer) vs 6.2 GB (+FPET) vs 11.9 GB (full) for ViT-B/16 training (secondary source, batch unknown).',
        ],
      }],
      charts: [
        {
          file: 'training-time.svg',
          svg: barChart({
            title: `Training step, ViT-Ti/16 at 224, batch ${batch}: time per step`,
            yLabel: 'ms per step (median)',
            groups: results.map((r) => ({ label: r.label, bars: [{ name: 'ms per step', value: r.timing.medianMs }] })),
          }),
        },
        {
          file: 'training-memory.svg',
          svg: barChart({
            title: `Training step, ViT-Ti/16 at 224, batch ${batch}: GPU memory of the plan`,
            yLabel: 'MiB',
            groups: results.map((r) => ({
              label: r.label,
              bars: [{ name: 'params + inputs + work', value: r.totalMiB }, { name: 'work arena', value: r.workMiB }],
            })),
          }),
        },
      ],
    };
  },
};
