// The main job (`npm start`): transfer from the shipped Fashion-MNIST backbone to MNIST with 1,000
// training images (VTAB-1k style) and the official 10,000-image MNIST test set. Three adapters runs
// with the same data, seed and recipe: AdaptFormer, AdaptFormer + FPET (merge half of the patch
// tokens in the middle block), and AdaptFormer + ToMe removing the same number of tokens (ToMe's
// constant r per block). The trained models are then timed side by side for inference. Prints a
// table and writes summary.json / summary.svg, each run's files (loss per step, curves, merge maps).

import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import type { Parsed } from '../args.ts';
import { describeSpec } from '../model-options.ts';
import { markdownRows, memoryLine } from '../report.ts';
import { TRANSFER_OPTIONS, checkPlannedRuns, trainOptionsFrom } from '../train-options.ts';
import type { GpuContext } from '../../../core/runtime/device.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { display } from '../../../core/util/text.ts';
import { barChart } from '../../../core/util/svg.ts';
import { formatDuration } from '../../../core/util/progress.ts';
import { prepareRun, trainRun, type PreparedRun, type TrainOptions, type TrainResult } from '../../../fpet/train/run.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { inferenceThroughput } from '../../../fpet/train/timing.ts';
import { loadTrainedModel, type TrainedModel } from '../../../fpet/train/trained-model.ts';
import { tokensRemoved, tomeScheduleRemoving, type ModelSpec } from '../../../fpet/models/model.ts';
import type { Subset } from '../../../fpet/data/dataset.ts';
import { firstImages, sourceOf, takeBatches, type BatchSource } from '../../../fpet/data/batch-source.ts';
import { mergeMapSvg } from '../../../fpet/models/merge-map-svg.ts';
import { MAIN_JOB, multiRunDefaults, type MainJobMethod } from '../../../fpet/recipes/main-job.ts';
import { shippedPathFromHere } from '../../../fpet/recipes/shipped.ts';
import { PRETRAIN_COMMAND } from '../../../fpet/recipes/backbone.ts';

type Method = MainJobMethod;
const LABEL: Record<Method, string> = { adaptformer: 'AdaptFormer', fpet: 'AdaptFormer+FPET', tome: 'AdaptFormer+ToMe' };

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));

export default defineCommand({
  summary: 'Main job: AdaptFormer, AdaptFormer+FPET and AdaptFormer+ToMe on MNIST-1k from the shipped Fashion-MNIST backbone (or on an image folder, --data DIR, from a timm checkpoint); test accuracy, measured speedups, memory.',
  options: TRANSFER_OPTIONS,
  stops: 'finishing this step and writing the checkpoint',
  async run(parsed, session) {
    const started = performance.now();
    // The options as run: with the input crop and adapter width chosen for the data set and model (recorded in summary.json).
    const a = { ...parsed, ...multiRunDefaults(parsed) };
    if (a.backbone === shippedPathFromHere('backbone') && !existsSync(a.backbone)) {
      throw new Error(`backbone ${display(a.backbone)} not found; re-create it with:\n  ${PRETRAIN_COMMAND}\nor pass --backbone random`);
    }
    const job = planJob(a);
    const runDir = (method: Method, seed: number) => join(a.out, a.seeds > 1 ? `${method}-seed${seed}` : method);
    // Every run checked (model, distinct folders) before the data is loaded, then validated with its data and folder before the GPU starts.
    checkPlannedRuns('transfer', job.methods.flatMap((m) => Array.from({ length: a.seeds }, (_, seed) => ({ label: `--methods ${m}${a.seeds > 1 ? ` (seed ${seed})` : ''}`, spec: job.specOf(m), outDir: runDir(m, seed) }))), a.dropout, a.dropPath);
    const plans: Plan[] = [];
    for (let seed = 0; seed < a.seeds; seed++) {
      for (const method of job.methods) {
        const o: TrainOptions = { ...job.base, spec: job.specOf(method), seed, evalEvery: job.evalEvery, outDir: runDir(method, seed), shouldStop: session.stop.shouldStop };
        plans.push({ method, seed, prepared: await prepareRun(o) });
      }
    }
    const ctx = await session.gpu();
    const { train, test } = plans[0]!.prepared;
    console.log(`data: ${sourceOf(train).name}: ${sourceOf(train).count} training images, ${sourceOf(test).count} test images; ${a.epochs} epochs, batch ${a.batch}, peak LR ${a.lr}; ${a.seeds} seed(s)`);
    const results = await trainAll(ctx, plans, a.seeds);
    if (!results) return 130;
    const rows = await compare(ctx, a, job, plans[0]!.prepared.test, results);
    await report(a, ctx, rows, results, rows.findIndex((r) => r.method === 'adaptformer'), (performance.now() - started) / 1000);
    return 0;
  },
});

type Plan = { method: Method; seed: number; prepared: PreparedRun };
type RunResult = { method: Method; seed: number; r: TrainResult };
type Job = ReturnType<typeof planJob>;

/** The runs' shared options and each method's model: FPET as asked for, ToMe removing as many tokens. */
function planJob(a: TransferArgs) {
  const sizes = { trainSize: MAIN_JOB.trainSize, testSize: MAIN_JOB.testSize };
  const fpet = trainOptionsFrom({ ...a, merge: 'fpet' }, sizes);
  const base = trainOptionsFrom({ ...a, merge: 'none' }, sizes);
  const removed = tokensRemoved(fpet.spec);
  const specOf = (m: Method): ModelSpec => (m === 'adaptformer' ? base.spec : m === 'fpet' ? fpet.spec : { ...base.spec, merge: tomeScheduleRemoving(base.spec, removed) });
  return { base, specOf, methods: a.methods as Method[], evalEvery: a.evalEvery > 0 ? a.evalEvery : a.epochs };
}

/** Trains every planned run in turn; undefined when one was interrupted. */
async function trainAll(ctx: GpuContext, plans: readonly Plan[], seeds: number): Promise<RunResult[] | undefined> {
  const results: RunResult[] = [];
  for (const p of plans) {
    console.log(`\n== ${LABEL[p.method]}${seeds > 1 ? ` (seed ${p.seed})` : ''}: ${describeSpec(p.prepared.spec)}`);
    const r = await trainRun(ctx, p.prepared);
    if (r.interrupted) return undefined;
    results.push({ method: p.method, seed: p.seed, r });
  }
  return results;
}

/** Times the trained models (seed 0) side by side on the same test images, draws merge maps, and makes the table's rows. */
async function compare(ctx: GpuContext, a: TransferArgs, job: Job, test: Subset | BatchSource, results: readonly RunResult[]): Promise<Row[]> {
  const tune = a.tune as TuneMode;
  // Timed in batches of --eval-batch, or of the whole test set when it is smaller.
  const batch = Math.min(a.evalBatch, sourceOf(test).count);
  const images = (await takeBatches(test, batch, 3)).map((b) => b.images);
  const firstSeed = results.filter((x) => x.seed === 0);
  const trained = await Promise.all(firstSeed.map((x) => loadTrainedModel(x.r.adapters, job.base.backbone, batch)));
  const classifiers = await Promise.all(trained.map((m) => Classifier.create(ctx, m.spec, m.weights, { tune })));
  console.log(`\ntiming inference: ${a.timingRounds} steps of ${batch} images per model, interleaved`);
  const rates = await inferenceThroughput(ctx, classifiers, { rounds: a.timingRounds, images });
  const flops = classifiers.map((c) => c.program.plan.flops);
  classifiers.forEach((c) => c.destroy());
  if (a.mapImages > 0) await writeMergeMaps(ctx, test, a.mapImages, firstSeed.map((x, k) => ({ method: x.method, model: trained[k]! })), a.out, tune);

  const baseIndex = firstSeed.findIndex((x) => x.method === 'adaptformer');
  return job.methods.map((method) => {
    const runs = results.filter((x) => x.method === method);
    const k = firstSeed.findIndex((x) => x.method === method);
    const accs = runs.map((x) => x.r.finalAccuracy);
    return {
      method, label: LABEL[method], tokensRemoved: tokensRemoved(job.specOf(method)), merge: job.specOf(method).merge ?? null,
      accuracyMean: mean(accs), accuracyStd: std(accs), accuracies: accs,
      inferImagesPerSec: rates[k]!, speedup: baseIndex >= 0 ? rates[k]! / rates[baseIndex]! : NaN,
      inferenceGflop: flops[k]! / 1e9, timingBatch: batch,
      trainImagesPerSec: mean(runs.map((x) => x.r.trainImagesPerSec)),
      trainPeakBytes: runs[0]!.r.trainPeakBytes, trainableParams: runs[0]!.r.trainableParams,
    };
  });
}

/** Parsed transfer options with the multi-run defaults filled in. */
type TransferArgs = Parsed<typeof TRANSFER_OPTIONS> & { inputCrop?: number; adapterDim?: number };

type Row = { method: Method; label: string; tokensRemoved: number; merge: ModelSpec['merge'] | null; accuracyMean: number; accuracyStd: number; accuracies: number[]; inferImagesPerSec: number; speedup: number; inferenceGflop: number; timingBatch: number; trainImagesPerSec: number; trainPeakBytes: number; trainableParams: number };

/** Merge-map pictures (SVG) of the first `count` test images for each merging run, in <out>/<method>/merge-maps. */
async function writeMergeMaps(ctx: GpuContext, test: Subset | BatchSource, count: number, runs: readonly { method: Method; model: TrainedModel }[], out: string, tune: TuneMode | undefined): Promise<void> {
  const src = sourceOf(test);
  const first = await firstImages(test, count);
  const per = src.channels * src.imageSize * src.imageSize;
  for (const { method, model: m } of runs) {
    if (!m.spec.merge) continue;
    const c = await Classifier.create(ctx, { ...m.spec, batch: first.size }, m.weights, { mergeOutputs: true, tune });
    const maps = await c.mergeMaps(first.images, first.size);
    const preds = await c.classify(first.images, 1, first.size);
    c.destroy();
    const dir = join(out, method, 'merge-maps');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < first.size; i++) {
      const title = `${LABEL[method]}: ${src.describe(first.indices[i]!)}, label ${display(src.classes[first.labels[i]!]!, 60)}, predicted ${display(src.classes[preds[i]!.top[0]!.label]!, 60)}`;
      await writeFileAtomic(join(dir, `test-${first.indices[i]}.svg`), mergeMapSvg(maps[i]!, first.images.subarray(i * per, (i + 1) * per), src.channels, src.imageSize, title, m.spec.inputCrop));
    }
  }
}

/** The comparison: a table and one-line verdicts on the console, summary.json and summary.svg in --out. */
async function report(a: TransferArgs, ctx: GpuContext, rows: readonly Row[], results: readonly RunResult[], baseIndex: number, wall: number): Promise<void> {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const table = markdownRows(
    ['run', 'tokens removed', `test acc (${a.seeds > 1 ? `mean ± std, ${a.seeds} seeds` : '1 seed'})`, 'infer img/s', 'speedup', 'GFLOP/img', 'train img/s', 'train GPU mem', 'trainable'],
    rows.map((r) => [
      r.label, String(r.tokensRemoved), a.seeds > 1 ? `${pct(r.accuracyMean)} ± ${(100 * r.accuracyStd).toFixed(2)}` : pct(r.accuracyMean),
      r.inferImagesPerSec.toFixed(1), Number.isNaN(r.speedup) ? '-' : `${r.speedup.toFixed(2)}x`, (r.inferenceGflop / r.timingBatch).toFixed(4),
      r.trainImagesPerSec.toFixed(1), `${(r.trainPeakBytes / 2 ** 20).toFixed(2)} MiB`, String(r.trainableParams),
    ]),
  );
  console.log(`\n${table}\n`);
  const by = Object.fromEntries(rows.map((r) => [r.method, r]));
  if (by.fpet && by.adaptformer) console.log(`FPET vs AdaptFormer: ${((by.fpet.accuracyMean - by.adaptformer.accuracyMean) * 100).toFixed(2)} accuracy points, ${by.fpet.speedup.toFixed(2)}x inference speed, ${(by.fpet.trainPeakBytes / by.adaptformer.trainPeakBytes).toFixed(3)}x training memory`);
  if (by.fpet && by.tome) console.log(`FPET vs ToMe (${by.tome.tokensRemoved} tokens removed each way): ${((by.fpet.accuracyMean - by.tome.accuracyMean) * 100).toFixed(2)} accuracy points, speed ${(by.fpet.inferImagesPerSec / by.tome.inferImagesPerSec).toFixed(2)}x ToMe's (ToMe merges r=${by.tome.merge?.r} in blocks ${by.tome.merge?.blocks.join(',')})`);
  console.log(`${memoryLine(ctx)}\nwall time ${formatDuration(wall)}`);
  await writeFileAtomic(join(a.out, 'summary.json'), JSON.stringify({
    options: a, adapter: ctx.info, wallSeconds: wall, rows,
    runs: results.map((x) => ({ method: x.method, seed: x.seed, ...x.r })),
  }, null, 2));
  await writeFileAtomic(join(a.out, 'summary.svg'), barChart({
    title: `${a.data ?? (a.dataset.startsWith('folder:') ? a.dataset.slice(7) : `${a.dataset.toUpperCase()}-${a.trainSize ?? MAIN_JOB.trainSize}`)} transfer: test accuracy and measured inference speedup (${a.seeds} seed${a.seeds > 1 ? 's' : ''})`,
    yLabel: 'accuracy / speedup',
    groups: [
      { label: 'test accuracy', bars: rows.map((r) => ({ name: r.label, value: r.accuracyMean })) },
      { label: 'inference speedup vs AdaptFormer', bars: rows.map((r) => ({ name: r.label, value: Number.isNaN(r.speedup) ? 0 : r.speedup })) },
      { label: 'training memory vs AdaptFormer', bars: rows.map((r) => ({ name: r.label, value: baseIndex >= 0 ? r.trainPeakBytes / rows[baseIndex]!.trainPeakBytes : 1 })) },
    ],
  }));
  console.log(`wrote ${join(a.out, 'summary.json')}, ${join(a.out, 'summary.svg')} and each run's folder (curves.svg, merge-maps/)`);
}
