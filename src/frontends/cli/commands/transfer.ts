// The main job (`npm start`): transfer from the shipped Fashion-MNIST backbone to MNIST with 1,000
// training images (VTAB-1k style) and the official 10,000-image MNIST test set. Three adapters runs
// with the same data, seed and recipe: AdaptFormer, AdaptFormer + FPET (merge half of the patch
// tokens in the middle block), and AdaptFormer + ToMe removing the same number of tokens (ToMe's
// constant r per block). The trained models are then timed side by side for inference. Prints a
// table and writes summary.json / summary.svg, each run's files (loss per step, curves, merge maps).

import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { helpText, parseArgs, type OptionSpec, type Parsed } from '../args.ts';
import { MULTI_RUN_OPTIONS, TRAIN_OPTIONS, markdownRows, memoryLine, multiRunDefaults, trainOptionsFrom } from './train.ts';
import { describeSpec } from '../model-options.ts';
import { stopOnSignals } from '../signals.ts';
import { formatAdapterReport, requestGpu, type GpuContext } from '../../../core/runtime/device.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { prepareRun, trainRun, type PreparedRun, type TrainOptions, type TrainResult } from '../../../fpet/train/run.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { inferenceThroughput } from '../../../fpet/train/timing.ts';
import { loadTrainedModel, type TrainedModel } from '../../../fpet/train/trained-model.ts';
import { tokensRemoved, tomeScheduleRemoving, type ModelSpec } from '../../../fpet/models/model.ts';
import { batches, type Subset } from '../../../fpet/data/dataset.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { mergeMapSvg } from '../../../fpet/models/merge-map-svg.ts';
import { barChart } from '../../../core/util/svg.ts';
import { formatDuration } from '../../../core/util/progress.ts';

export const summary = 'Main job: AdaptFormer, AdaptFormer+FPET and AdaptFormer+ToMe on MNIST-1k from the shipped Fashion-MNIST backbone; accuracy on the 10,000 MNIST test images, measured speedups, memory.';

export const TRANSFER_OPTIONS = {
  ...MULTI_RUN_OPTIONS,
  // Sized for about 15 minutes on 2 CPU cores with a software adapter (see README).
  epochs: { ...TRAIN_OPTIONS.epochs, default: 20 },
  batch: { ...TRAIN_OPTIONS.batch, default: 16 },
  lr: { ...TRAIN_OPTIONS.lr, default: 1e-2 },
  testSize: { ...TRAIN_OPTIONS.testSize, default: 10_000 },
  evalEvery: { ...TRAIN_OPTIONS.evalEvery, default: 0, min: 0, help: 'evaluate every N epochs (0: only after the last)' },
  mergeBlocks: { ...TRAIN_OPTIONS.mergeBlocks, default: ['3'] },
  augment: { ...TRAIN_OPTIONS.augment, default: 1 },
  out: { ...TRAIN_OPTIONS.out, default: 'runs/transfer' },
  methods: { type: 'list', default: ['adaptformer', 'fpet', 'tome'], choices: ['adaptformer', 'fpet', 'tome'], help: 'runs to compare (AdaptFormer; + FPET; + ToMe removing as many tokens as FPET)' },
  seeds: { type: 'number', default: 1, integer: true, min: 1, max: 100, help: 'repeat every run with seeds 0..N-1 and report mean ± std' },
  timingRounds: { type: 'number', default: 16, integer: true, min: 1, max: 1000, help: 'inference steps timed per model (interleaved; its img/s is from the median step)' },
  mapImages: { type: 'number', default: 4, integer: true, min: 0, max: 100, help: 'test images whose merge maps are drawn per merging run' },
} as const satisfies Record<string, OptionSpec>;

type Method = 'adaptformer' | 'fpet' | 'tome';
const LABEL: Record<Method, string> = { adaptformer: 'AdaptFormer', fpet: 'AdaptFormer+FPET', tome: 'AdaptFormer+ToMe' };

/**
 * How the shipped backbone was made: 10 epochs from random weights with random zoom, rotation and
 * sub-pixel shifts (what lets its features transfer to MNIST's digits), then 2 epochs with shifts only
 * from those weights (a fresh head; brings Fashion-MNIST back above 88%).
 */
export const PRETRAIN_COMMAND = [
  'npm start -- train --method full --merge none --dataset fashion-mnist --train-size 60000 --test-size 10000 --epochs 10 --batch 64 --backbone random --lr 2e-3 --warmup-epochs 0.5 --weight-decay 0.05 --drop-path 0 --augment 2 --augment-scale 0.85,1.5 --augment-rotate 15 --augment-plain 0.3 --eval-every 2 --log-every 25 --out runs/pretrain --save-model runs/pretrain/stage1.safetensors',
  'npm start -- train --method full --merge none --dataset fashion-mnist --train-size 60000 --test-size 10000 --epochs 2 --batch 64 --backbone runs/pretrain/stage1.safetensors --lr 5e-4 --warmup-epochs 0.2 --weight-decay 0.05 --drop-path 0 --augment 1 --eval-every 1 --log-every 25 --out runs/pretrain2 --save-model models/vit-mnist-fashion.safetensors',
].join(' && \\\n  ');

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));

export async function run(argv: string[]): Promise<number> {
  const started = performance.now();
  const parsed = parseArgs('transfer', argv, TRANSFER_OPTIONS);
  // The options as run: with the input crop and adapter width chosen for the data set and model (recorded in summary.json).
  const a = { ...parsed, ...multiRunDefaults(parsed) };
  if (a.help) {
    console.log(helpText('transfer', summary, TRANSFER_OPTIONS));
    return 0;
  }
  if (a.backbone !== 'random' && !existsSync(a.backbone)) {
    throw new Error(`backbone ${a.backbone} not found; re-create it with:\n  ${PRETRAIN_COMMAND}\nor pass --backbone random`);
  }
  const methods = a.methods as Method[];
  const fpetOptions = trainOptionsFrom({ ...a, merge: 'fpet' });
  const base = trainOptionsFrom({ ...a, merge: 'none' });
  const removed = tokensRemoved(fpetOptions.spec);
  const specOf = (m: Method): ModelSpec => m === 'adaptformer' ? base.spec : m === 'fpet' ? fpetOptions.spec : { ...base.spec, merge: tomeScheduleRemoving(base.spec, removed) };
  const evalEvery = a.evalEvery > 0 ? a.evalEvery : a.epochs;

  // Every run validated (options, data, folders) before the GPU starts.
  const stop = stopOnSignals();
  try {
    const plans: { method: Method; seed: number; prepared: PreparedRun }[] = [];
    for (let seed = 0; seed < a.seeds; seed++) {
      for (const method of methods) {
        const o: TrainOptions = { ...base, spec: specOf(method), seed, evalEvery, outDir: join(a.out, a.seeds > 1 ? `${method}-seed${seed}` : method), shouldStop: stop.shouldStop };
        plans.push({ method, seed, prepared: await prepareRun(o) });
      }
    }
    const ctx = await requestGpu({ label: 'transfer' });
    console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
    console.log(`data: ${a.dataset} ${a.trainSize} training images, ${plans[0]!.prepared.test.indices.length} test images; ${a.epochs} epochs, batch ${a.batch}, peak LR ${a.lr}; ${a.seeds} seed(s)`);
    const results: { method: Method; seed: number; r: TrainResult }[] = [];
    for (const p of plans) {
      console.log(`\n== ${LABEL[p.method]}${a.seeds > 1 ? ` (seed ${p.seed})` : ''}: ${describeSpec(p.prepared.spec)}`);
      const r = await trainRun(ctx, p.prepared);
      results.push({ method: p.method, seed: p.seed, r });
      if (r.interrupted) return 130;
    }

    // Inference speed of the trained models (seed 0), measured side by side on the same test images.
    const test = plans[0]!.prepared.test;
    const images = [...batches(test, a.evalBatch, { dropLast: true })].slice(0, 3).map((b) => b.images);
    const firstSeed = results.filter((x) => x.seed === 0);
    const trained = await Promise.all(firstSeed.map((x) => loadTrainedModel(x.r.adapters, base.backbone, a.evalBatch)));
    const classifiers = await Promise.all(trained.map((m) => Classifier.create(ctx, m.spec, m.weights, { tune: a.tune as TuneMode | undefined })));
    console.log(`\ntiming inference: ${a.timingRounds} steps of ${a.evalBatch} images per model, interleaved`);
    const rates = await inferenceThroughput(ctx, classifiers, { rounds: a.timingRounds, images });
    const flops = classifiers.map((c) => c.program.plan.flops);
    classifiers.forEach((c) => c.destroy());

    // Merge maps of a few test images for the merging runs.
    if (a.mapImages > 0) await writeMergeMaps(ctx, test, a.mapImages, firstSeed.map((x, k) => ({ method: x.method, model: trained[k]! })), a.out, a.tune as TuneMode | undefined);

    // The comparison.
    const baseIndex = firstSeed.findIndex((x) => x.method === 'adaptformer');
    const rows: Row[] = methods.map((method) => {
      const runs = results.filter((x) => x.method === method);
      const k = firstSeed.findIndex((x) => x.method === method);
      const accs = runs.map((x) => x.r.finalAccuracy);
      return {
        method, label: LABEL[method], tokensRemoved: tokensRemoved(specOf(method)), merge: specOf(method).merge ?? null,
        accuracyMean: mean(accs), accuracyStd: std(accs), accuracies: accs,
        inferImagesPerSec: rates[k]!, speedup: baseIndex >= 0 ? rates[k]! / rates[baseIndex]! : NaN,
        inferenceGflop: flops[k]! / 1e9,
        trainImagesPerSec: mean(runs.map((x) => x.r.trainImagesPerSec)),
        trainPeakBytes: runs[0]!.r.trainPeakBytes, trainableParams: runs[0]!.r.trainableParams,
      };
    });
    await report(a, ctx, rows, results, baseIndex, (performance.now() - started) / 1000);
    return 0;
  } finally {
    stop.dispose();
  }
}

type TransferArgs = Parsed<typeof TRANSFER_OPTIONS>;

type Row = { method: Method; label: string; tokensRemoved: number; merge: ModelSpec['merge'] | null; accuracyMean: number; accuracyStd: number; accuracies: number[]; inferImagesPerSec: number; speedup: number; inferenceGflop: number; trainImagesPerSec: number; trainPeakBytes: number; trainableParams: number };

/** Merge-map pictures (SVG) of the first `count` test images for each merging run, in <out>/<method>/merge-maps. */
async function writeMergeMaps(ctx: GpuContext, test: Subset, count: number, runs: readonly { method: Method; model: TrainedModel }[], out: string, tune: TuneMode | undefined): Promise<void> {
  const ds = test.dataset;
  const first = [...batches(test, count)][0]!;
  for (const { method, model: m } of runs) {
    if (!m.spec.merge) continue;
    const c = await Classifier.create(ctx, { ...m.spec, batch: first.size }, m.weights, { mergeOutputs: true, tune });
    const maps = await c.mergeMaps(first.images, first.size);
    const preds = await c.classify(first.images, 1, first.size);
    c.destroy();
    const dir = join(out, method, 'merge-maps');
    mkdirSync(dir, { recursive: true });
    const per = ds.channels * ds.imageSize * ds.imageSize;
    for (let i = 0; i < first.size; i++) {
      const title = `${LABEL[method]}: ${ds.name} test #${first.indices[i]}, label ${ds.classes[first.labels[i]!]}, predicted ${ds.classes[preds[i]!.top[0]!.label]}`;
      await writeFileAtomic(join(dir, `test-${first.indices[i]}.svg`), mergeMapSvg(maps[i]!, first.images.subarray(i * per, (i + 1) * per), ds.channels, ds.imageSize, title, m.spec.inputCrop));
    }
  }
}

/** The comparison: a table and one-line verdicts on the console, summary.json and summary.svg in --out. */
async function report(a: TransferArgs, ctx: GpuContext, rows: readonly Row[], results: readonly { method: Method; seed: number; r: TrainResult }[], baseIndex: number, wall: number): Promise<void> {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const table = markdownRows(
    ['run', 'tokens removed', `test acc (${a.seeds > 1 ? `mean ± std, ${a.seeds} seeds` : '1 seed'})`, 'infer img/s', 'speedup', 'GFLOP/img', 'train img/s', 'train GPU mem', 'trainable'],
    rows.map((r) => [
      r.label, String(r.tokensRemoved), a.seeds > 1 ? `${pct(r.accuracyMean)} ± ${(100 * r.accuracyStd).toFixed(2)}` : pct(r.accuracyMean),
      r.inferImagesPerSec.toFixed(1), Number.isNaN(r.speedup) ? '-' : `${r.speedup.toFixed(2)}x`, (r.inferenceGflop / a.evalBatch).toFixed(4),
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
    title: `MNIST-1k transfer: test accuracy and measured inference speedup (${a.seeds} seed${a.seeds > 1 ? 's' : ''})`,
    yLabel: 'accuracy / speedup',
    groups: [
      { label: 'test accuracy', bars: rows.map((r) => ({ name: r.label, value: r.accuracyMean })) },
      { label: 'inference speedup vs AdaptFormer', bars: rows.map((r) => ({ name: r.label, value: Number.isNaN(r.speedup) ? 0 : r.speedup })) },
      { label: 'training memory vs AdaptFormer', bars: rows.map((r) => ({ name: r.label, value: baseIndex >= 0 ? r.trainPeakBytes / rows[baseIndex]!.trainPeakBytes : 1 })) },
    ],
  }));
  console.log(`wrote ${join(a.out, 'summary.json')}, ${join(a.out, 'summary.svg')} and each run's folder (curves.svg, merge-maps/)`);
}
