// One small training job, the same in Node and in a browser: the web page's two models
// (AdaptFormer, AdaptFormer + FPET at block 3, ratio 0.5) on the shipped backbone's geometry,
// compiled (TrainStep) and driven by the library's trainLoop with the loss read back every step,
// as the page does. Images are synthetic (deterministic), so the job needs no files: throughput
// does not depend on the pixels. Used by test/browser/throughput.ts.

import { DEFAULT_MERGE, DEFAULT_PET, TrainStep, VIT_PRESETS, formatAdapterReport, initialWeights, mulberry32, requestGpu, trainLoop, type Dataset, type ModelSpec } from '../../src/index.ts';

export interface JobOptions {
  readonly batch: number;
  /** Timed steps per model (after one untimed step). */
  readonly steps: number;
}

export interface JobResult {
  readonly adapter: string;
  readonly runs: { readonly model: string; readonly compileMs: number; readonly imagesPerSec: number; readonly finalLoss: number }[];
}

export async function throughputJob(o: JobOptions): Promise<JobResult> {
  const gpu = await requestGpu({ label: 'throughput' });
  const vit = VIT_PRESETS['vit-mnist'];
  const n = o.batch * (o.steps + 1);
  const rand = mulberry32(1);
  const ds: Dataset = {
    name: 'synthetic', images: Float32Array.from({ length: n * 784 }, () => rand()), labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    classes: Array.from({ length: 10 }, (_, i) => String(i)), count: n, imageSize: 28, channels: 1,
  };
  const train = { dataset: ds, indices: Int32Array.from({ length: n }, (_, i) => i) };
  const runs: JobResult['runs'][number][] = [];
  for (const [model, merge] of [['AdaptFormer', undefined], ['AdaptFormer+FPET', { ...DEFAULT_MERGE, blocks: [3], ratio: 0.5 }]] as const) {
    const spec: ModelSpec = { vit, batch: o.batch, pet: DEFAULT_PET.adaptformer, merge, training: { dropout: 0.1, dropPath: 0.1 } };
    const t0 = performance.now();
    const step = await TrainStep.create(gpu, spec, initialWeights(spec, 0));
    await step.program.warmup();
    const compileMs = performance.now() - t0;
    let timedFrom = 0, loss = NaN;
    await trainLoop(step, { train }, undefined, {
      epochs: 1, batch: o.batch, schedule: { lr: 5e-3, minLr: 1e-5, warmupLr: 1e-6, warmupEpochs: 0.1, epochs: 1 },
      scheduleMode: 'step', seed: 0, logEvery: 1, evalEvery: 0,
    }, {
      onStep: (s) => {
        if (s.step === 1) timedFrom = performance.now();
        loss = s.loss ?? loss;
      },
    });
    const imagesPerSec = (o.steps * o.batch) / ((performance.now() - timedFrom) / 1000);
    step.destroy();
    runs.push({ model, compileMs, imagesPerSec, finalLoss: loss });
  }
  const adapter = formatAdapterReport(gpu.info);
  gpu.destroy();
  return { adapter, runs };
}
