// `sweep`: the accuracy–speed trade-off. Trains AdaptFormer alone, with FPET at every merge ratio ×
// merge block asked for, and with ToMe at every r asked for (ToMe's constant r from block 0), same
// data and recipe; times every trained model for inference side by side; writes sweep.json and
// sweep.svg (test accuracy against measured images per second, one curve per method).

import { join } from 'node:path';
import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { MULTI_RUN_OPTIONS, TRAIN_OPTIONS, markdownRows, multiRunDefaults, trainOptionsFrom } from './train.ts';
import { describeSpec } from '../model-options.ts';
import { stopOnSignals } from '../signals.ts';
import { formatAdapterReport, requestGpu } from '../../../core/runtime/device.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { prepareRun, trainRun, type PreparedRun } from '../../../fpet/train/run.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { inferenceThroughput } from '../../../fpet/train/timing.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { DEFAULT_MERGE, tokensRemoved, type ModelSpec } from '../../../fpet/models/model.ts';
import { batches } from '../../../fpet/data/dataset.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { lineChart } from '../../../core/util/svg.ts';
import { formatDuration } from '../../../core/util/progress.ts';

export const summary = 'Accuracy vs measured speed: FPET over merge ratios × blocks, ToMe over r, AdaptFormer; JSON and an SVG chart.';

const OPTIONS = {
  ...MULTI_RUN_OPTIONS,
  epochs: { ...TRAIN_OPTIONS.epochs, default: 6 },
  batch: { ...TRAIN_OPTIONS.batch, default: 32 },
  lr: { ...TRAIN_OPTIONS.lr, default: 1e-2 },
  testSize: { ...TRAIN_OPTIONS.testSize, default: 2000 },
  evalEvery: { ...TRAIN_OPTIONS.evalEvery, default: 0, min: 0, help: 'evaluate every N epochs (0: only after the last)' },
  augment: { ...TRAIN_OPTIONS.augment, default: 2 },
  out: { ...TRAIN_OPTIONS.out, default: 'runs/sweep' },
  ratios: { type: 'list', default: ['0.25', '0.5'], help: 'FPET merge ratios' },
  blocks: { type: 'list', integer: true, min: 0, max: 63, default: ['1', '2', '3', '4'], help: 'FPET merge blocks (one merge each)' },
  tomeRs: { type: 'list', integer: true, min: 1, max: 1000, default: ['2', '4', '6', '8'], help: 'ToMe tokens merged per block (blocks 0..depth-2)' },
  timingRounds: { type: 'number', default: 12, integer: true, min: 1, max: 1000, help: 'inference steps timed per model (interleaved; its img/s is from the median step)' },
} as const satisfies Record<string, OptionSpec>;

interface Point {
  readonly method: 'adaptformer' | 'fpet' | 'tome';
  readonly label: string;
  readonly spec: ModelSpec;
  readonly dir: string;
}

export async function run(argv: string[]): Promise<number> {
  const started = performance.now();
  const parsed = parseArgs('sweep', argv, OPTIONS);
  // The options as run: with the input crop and adapter width chosen for the data set and model (recorded in sweep.json).
  const a = { ...parsed, ...multiRunDefaults(parsed) };
  if (a.help) {
    console.log(helpText('sweep', summary, OPTIONS));
    return 0;
  }
  const base = trainOptionsFrom({ ...a, merge: 'none' });
  const evalEvery = a.evalEvery > 0 ? a.evalEvery : a.epochs;
  const depth = base.spec.vit.depth;
  const points: Point[] = [{ method: 'adaptformer', label: 'AdaptFormer', spec: base.spec, dir: 'adaptformer' }];
  for (const ratio of a.ratios.map(Number)) {
    for (const block of a.blocks.map(Number)) {
      points.push({ method: 'fpet', label: `FPET ρ=${ratio} @${block}`, spec: { ...base.spec, merge: { ...DEFAULT_MERGE, blocks: [block], ratio } }, dir: `fpet-r${ratio}-b${block}` });
    }
  }
  for (const r of a.tomeRs.map(Number)) {
    points.push({ method: 'tome', label: `ToMe r=${r}`, spec: { ...base.spec, merge: { ...DEFAULT_MERGE, kind: 'tome', blocks: [...Array(depth - 1).keys()], r } }, dir: `tome-r${r}` });
  }
  const stop = stopOnSignals();
  try {
    const prepared: PreparedRun[] = [];
    for (const p of points) prepared.push(await prepareRun({ ...base, spec: p.spec, evalEvery, outDir: join(a.out, p.dir), shouldStop: stop.shouldStop }));
    const ctx = await requestGpu({ label: 'sweep' });
    console.log(`adapter: ${formatAdapterReport(ctx.info)}\n${points.length} models: ${points.map((p) => p.label).join('; ')}`);
    const accuracy: number[] = [];
    for (const [k, p] of points.entries()) {
      console.log(`\n== ${k + 1}/${points.length} ${p.label}: ${describeSpec(p.spec)}`);
      const r = await trainRun(ctx, prepared[k]!);
      if (r.interrupted) return 130;
      accuracy.push(r.finalAccuracy);
    }
    const images = [...batches(prepared[0]!.test, a.evalBatch, { dropLast: true })].slice(0, 2).map((b) => b.images);
    const classifiers: Classifier[] = [];
    for (const p of points) {
      const m = await loadTrainedModel(join(a.out, p.dir, 'adapters.safetensors'), base.backbone, a.evalBatch);
      classifiers.push(await Classifier.create(ctx, m.spec, m.weights, { tune: a.tune as TuneMode | undefined }));
    }
    console.log(`\ntiming inference: ${a.timingRounds} steps of ${a.evalBatch} images per model, interleaved`);
    const rates = await inferenceThroughput(ctx, classifiers, { rounds: a.timingRounds, images });
    classifiers.forEach((c) => c.destroy());
    const rows = points.map((p, k) => ({ method: p.method, label: p.label, merge: p.spec.merge ?? null, tokensRemoved: tokensRemoved(p.spec), accuracy: accuracy[k]!, imagesPerSec: rates[k]!, speedup: rates[k]! / rates[0]! }));
    console.log(`\n${markdownRows(['model', 'tokens removed', 'test acc', 'infer img/s', 'speedup'], rows.map((r) => [r.label, String(r.tokensRemoved), `${(100 * r.accuracy).toFixed(2)}%`, r.imagesPerSec.toFixed(1), `${r.speedup.toFixed(2)}x`]))}`);
    const curve = (m: Point['method']) => rows.filter((r) => r.method === m || r.method === 'adaptformer').map((r) => [r.imagesPerSec, r.accuracy] as const).sort((x, y) => x[0] - y[0]);
    const fpetByBlock = a.blocks.map((b) => ({ name: `FPET @block ${b}`, points: rows.filter((r) => r.method === 'fpet' && r.merge?.blocks[0] === Number(b)).map((r) => [r.imagesPerSec, r.accuracy] as const).sort((x, y) => x[0] - y[0]) }));
    await writeFileAtomic(join(a.out, 'sweep.json'), JSON.stringify({ options: a, adapter: ctx.info, wallSeconds: (performance.now() - started) / 1000, rows }, null, 2));
    await writeFileAtomic(join(a.out, 'sweep.svg'), lineChart({
      title: `Accuracy vs measured inference speed (${a.dataset}, ${a.trainSize} training images, batch ${a.evalBatch})`,
      xLabel: 'images per second',
      yLabel: 'test accuracy',
      series: [{ name: 'FPET (all)', points: curve('fpet') }, ...fpetByBlock.filter((s) => s.points.length > 1), { name: 'ToMe', points: curve('tome') }],
    }));
    console.log(`\nwrote ${join(a.out, 'sweep.json')} and ${join(a.out, 'sweep.svg')} in ${formatDuration((performance.now() - started) / 1000)}`);
    return 0;
  } finally {
    stop.dispose();
  }
}
