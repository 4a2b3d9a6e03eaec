// The main job (`npm start`): PET transfer from the shipped Fashion-MNIST backbone to MNIST with
// 1,000 training images (VTAB-1k style), AdaptFormer with and without FPET, same seed and data;
// then both trained models are timed side by side for inference. Prints and writes the comparison.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { TRAIN_OPTIONS, memoryLine, resultTable, trainOptionsFrom } from './train.ts';
import { describeSpec } from '../model-options.ts';
import { stopOnSignals } from '../signals.ts';
import { formatAdapterReport, requestGpu, type GpuContext } from '../../runtime/device.ts';
import { prepareRun, trainRun, type TrainResult } from '../../train/run.ts';
import { Classifier } from '../../train/inference.ts';
import { loadTrainedModel } from '../../train/trained-model.ts';
import { batches } from '../../data/dataset.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { barChart } from '../../util/svg.ts';

export const summary = 'Main job: AdaptFormer with and without FPET on MNIST-1k from the shipped Fashion-MNIST backbone, with accuracy, inference speedup and training memory.';

const OPTIONS = {
  ...TRAIN_OPTIONS,
  // Sized to finish in about 15 minutes on 2 CPU cores with a software adapter.
  epochs: { ...TRAIN_OPTIONS.epochs, default: 3 },
  batch: { ...TRAIN_OPTIONS.batch, default: 16 },
  lr: { ...TRAIN_OPTIONS.lr, default: 5e-3 },
  testSize: { ...TRAIN_OPTIONS.testSize, default: 500 },
  out: { ...TRAIN_OPTIONS.out, default: 'runs/transfer' },
  timingBatches: { type: 'number', default: 6, integer: true, min: 1, max: 1000, help: 'inference batches timed per model (interleaved)' },
} as const satisfies Record<string, OptionSpec>;

export const PRETRAIN_COMMAND = 'npm start -- train --method full --merge none --dataset fashion-mnist --train-size 6000 --test-size 1000 --epochs 3 --batch 50 --backbone random --lr 1e-3 --warmup-epochs 0.3 --drop-path 0.1 --out runs/pretrain --save-model models/vit-mnist-fashion.safetensors';

/** Images per second of several classifiers on the same batches, timed interleaved (one untimed warm-up step each). */
async function timeInference(ctx: GpuContext, classifiers: Classifier[], images: Float32Array[], rounds: number): Promise<number[]> {
  for (const c of classifiers) {
    await c.program.warmup();
    await c.logits(images[0]!);
  }
  const seconds = classifiers.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (const [k, c] of classifiers.entries()) {
      c.program.write({ images: images[r % images.length]! });
      const t0 = performance.now();
      c.program.run();
      await ctx.device.queue.onSubmittedWorkDone();
      seconds[k]! += (performance.now() - t0) / 1000;
    }
  }
  return seconds.map((s, k) => (rounds * classifiers[k]!.batch) / s);
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('transfer', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('transfer', summary, OPTIONS));
    return 0;
  }
  if (a.backbone !== 'random' && !existsSync(a.backbone)) {
    throw new Error(`backbone ${a.backbone} not found; re-create it with:\n  ${PRETRAIN_COMMAND}\nor pass --backbone random`);
  }
  const stop = stopOnSignals();
  try {
    const base = trainOptionsFrom({ ...a, merge: 'none' });
    const fpet = trainOptionsFrom(a);
    const runs = await Promise.all(([
      ['AdaptFormer', { ...base, outDir: join(a.out, 'adaptformer'), shouldStop: stop.shouldStop }],
      ['AdaptFormer+FPET', { ...fpet, outDir: join(a.out, 'adaptformer-fpet'), shouldStop: stop.shouldStop }],
    ] as const).map(async ([name, o]) => [name, await prepareRun(o)] as const));
    const ctx = await requestGpu({ label: 'transfer' });
    console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
    const results: [string, TrainResult][] = [];
    for (const [name, p] of runs) {
      console.log(`\n== ${name}: ${describeSpec(p.spec)}; ${a.dataset} ${a.trainSize} train / ${a.testSize} test, ${a.epochs} epochs`);
      const r = await trainRun(ctx, p);
      results.push([name, r]);
      if (r.interrupted) return 130;
    }

    // Inference speed of the two trained models, measured side by side on the same test images.
    const images = [...batches(runs[0]![1].test, a.evalBatch, { dropLast: true })].slice(0, 3).map((b) => b.images);
    const classifiers = await Promise.all(results.map(async ([, r]) => {
      const m = await loadTrainedModel(r.adapters, base.backbone, a.evalBatch);
      return Classifier.create(ctx, m.spec, m.weights);
    }));
    console.log(`\ntiming inference: ${a.timingBatches} batches of ${a.evalBatch} per model, interleaved`);
    const [baseRate, fpetRate] = await timeInference(ctx, classifiers, images, a.timingBatches);
    classifiers.forEach((c) => c.destroy());
    const [[, rb], [, rf]] = results as [[string, TrainResult], [string, TrainResult]];
    const summaryRows = {
      accuracyAdaptFormer: rb.finalAccuracy,
      accuracyFpet: rf.finalAccuracy,
      inferenceImagesPerSec: { adaptformer: baseRate!, fpet: fpetRate! },
      fpetInferenceSpeedup: fpetRate! / baseRate!,
      trainingPeakBytes: { adaptformer: rb.trainPeakBytes, fpet: rf.trainPeakBytes },
      fpetTrainingMemoryRatio: rf.trainPeakBytes / rb.trainPeakBytes,
      trainingWorkArenaRatio: rf.trainWorkBytes / rb.trainWorkBytes,
      trainImagesPerSec: { adaptformer: rb.trainImagesPerSec, fpet: rf.trainImagesPerSec },
    };
    console.log(`\n${resultTable(results)}`);
    console.log([
      '',
      `test accuracy: AdaptFormer ${(100 * rb.finalAccuracy).toFixed(2)}%, AdaptFormer+FPET ${(100 * rf.finalAccuracy).toFixed(2)}%`,
      `FPET inference speedup: ${summaryRows.fpetInferenceSpeedup.toFixed(3)}x (${baseRate!.toFixed(1)} -> ${fpetRate!.toFixed(1)} img/s, batch ${a.evalBatch}, measured side by side)`,
      `FPET training peak GPU memory: ${summaryRows.fpetTrainingMemoryRatio.toFixed(3)}x of AdaptFormer's (${(rb.trainPeakBytes / 2 ** 20).toFixed(2)} -> ${(rf.trainPeakBytes / 2 ** 20).toFixed(2)} MiB; activations ${summaryRows.trainingWorkArenaRatio.toFixed(3)}x)`,
      memoryLine(ctx),
    ].join('\n'));
    await writeFileAtomic(join(a.out, 'summary.json'), JSON.stringify({ options: a, summary: summaryRows, runs: results.map(([n, r]) => ({ name: n, ...r })) }, null, 2));
    await writeFileAtomic(join(a.out, 'summary.svg'), barChart({
      title: 'AdaptFormer vs AdaptFormer+FPET (relative to AdaptFormer)',
      yLabel: 'ratio',
      groups: [
        { label: 'test accuracy', bars: [{ name: 'AdaptFormer', value: 1 }, { name: 'FPET', value: rf.finalAccuracy / rb.finalAccuracy }] },
        { label: 'inference img/s', bars: [{ name: 'AdaptFormer', value: 1 }, { name: 'FPET', value: summaryRows.fpetInferenceSpeedup }] },
        { label: 'training memory', bars: [{ name: 'AdaptFormer', value: 1 }, { name: 'FPET', value: summaryRows.fpetTrainingMemoryRatio }] },
      ],
    }));
    console.log(`\nwrote ${join(a.out, 'summary.json')} and ${join(a.out, 'summary.svg')}`);
    return 0;
  } finally {
    stop.dispose();
  }
}
