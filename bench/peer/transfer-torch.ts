// The main job's AdaptFormer run (or --method full) in PyTorch on the CPU, as an independent
// reference: `node --import tsx bench/peer/transfer-torch.ts [any transfer option]`. The options
// and their defaults are the main job's (TRANSFER_OPTIONS), so with none it trains what
// `npm start` trains first; `--seeds N` runs seeds 0..N-1. Our code only picks the data (the same
// split, written to a temporary folder) and reads the options; the model, the training and the
// evaluation are bench/peer/transfer-torch.py. Needs a python with torch ($FPET_BENCH_PYTHON, python3).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, helpText, type OptionSpec } from '../../src/frontends/cli/args.ts';
import { TRANSFER_OPTIONS, trainOptionsFrom } from '../../src/frontends/cli/train-options.ts';
import { multiRunDefaults } from '../../src/fpet/recipes/main-job.ts';
import { loadDataset } from '../../src/fpet/data/mnist.ts';
import { makeSplits, type Dataset, type Subset } from '../../src/fpet/data/dataset.ts';
import { runPython } from './python.ts';

interface Answer { torch: string; threads: number; runs: { seed: number; accuracy: number; valAccuracy: number | null; epochLoss: number[]; seconds: number }[] }

// Recipes are compared on held-out training images, not on the test set the main job reports.
const OPTIONS = {
  ...TRANSFER_OPTIONS,
  valSize: { type: 'number', default: 0, integer: true, min: 0, max: 50_000, help: 'also score on N validation images: every 11th training-set image outside the training subset (0: none)' },
} as const satisfies Record<string, OptionSpec>;

/** Every 11th image of the training pool (all images outside the official test set) not in `train`, the first n. */
function validationIndices(ds: Dataset, train: Subset, n: number): Int32Array {
  const excluded = new Uint8Array(ds.count);
  for (const i of train.indices) excluded[i] = 1;
  for (const i of ds.officialTest ?? []) excluded[i] = 1;
  const pool = Array.from({ length: ds.count }, (_, i) => i).filter((i) => !excluded[i]);
  const picked = Int32Array.from(pool.filter((_, k) => k % 11 === 0).slice(0, n));
  if (picked.length < n) throw new Error(`--val-size ${n}: only ${picked.length} validation images are available in ${ds.name}`);
  return picked;
}

const summary = 'The main job\'s AdaptFormer (or full fine-tuning) run re-implemented in PyTorch on the CPU: same backbone, data split and recipe.';

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs('transfer-torch', argv, OPTIONS);
  const a = { ...parsed, ...multiRunDefaults(parsed) };
  if (a.help) {
    console.log(helpText('transfer-torch', summary, OPTIONS));
    return 0;
  }
  if (a.method !== 'adaptformer' && a.method !== 'full') throw new Error(`--method ${a.method}: the PyTorch reference has adaptformer and full`);
  const o = trainOptionsFrom({ ...a, merge: 'none' });
  if (!o.backbone) throw new Error('the PyTorch reference needs a backbone file (--backbone)');
  if (o.augmentAffine) throw new Error('--augment-scale / --augment-rotate: the PyTorch reference has whole-pixel shifts only (--augment)');
  const ds = loadDataset(o.data.dataset);
  const { train, test } = makeSplits(ds, { trainSize: o.data.trainSize, testSize: o.data.testSize, seed: o.data.splitSeed });
  const dir = mkdtempSync(join(tmpdir(), 'fpet-torch-'));
  try {
    const write = (name: string, s: Subset) => {
      const per = ds.channels * ds.imageSize ** 2;
      const images = new Float32Array(s.indices.length * per);
      s.indices.forEach((k, i) => images.set(ds.images.subarray(k * per, (k + 1) * per), i * per));
      writeFileSync(join(dir, `${name}-images.f32`), images);
      writeFileSync(join(dir, `${name}-labels.i32`), Int32Array.from(s.indices, (k) => ds.labels[k]!));
    };
    write('train', train);
    write('test', test);
    if (a.valSize > 0) write('val', { dataset: ds, indices: validationIndices(ds, train, a.valSize) });
    const { spec } = o;
    const job = {
      vit: spec.vit, classes: ds.classes.length, method: spec.pet.method, adapterDim: spec.pet.dim, adapterScale: spec.pet.scale,
      inputCrop: spec.inputCrop ?? null, backbone: o.backbone, seeds: Array.from({ length: a.seeds }, (_, i) => i),
      epochs: o.epochs, batch: spec.batch, lr: o.lr, minLr: o.minLr, warmupLr: o.warmupLr, warmupEpochs: o.warmupEpochs,
      weightDecay: o.adamw.weightDecay, dropout: o.dropout, dropPath: o.dropPath, augment: o.augmentShift,
      trainImages: join(dir, 'train-images.f32'), trainLabels: join(dir, 'train-labels.i32'),
      testImages: join(dir, 'test-images.f32'), testLabels: join(dir, 'test-labels.i32'),
      ...(a.valSize > 0 ? { valImages: join(dir, 'val-images.f32'), valLabels: join(dir, 'val-labels.i32') } : {}),
    };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    console.log(`PyTorch reference: ${spec.pet.method}, input crop ${spec.inputCrop ?? 'none'}, ${o.epochs} epochs, batch ${spec.batch}, lr ${o.lr}, dropout ${o.dropout}, drop-path ${o.dropPath}, shifts ${o.augmentShift}; ${train.indices.length} training and ${test.indices.length} test images; seeds ${job.seeds.join(',')}`);
    const script = readFileSync(new URL('./transfer-torch.py', import.meta.url), 'utf8');
    const r = await runPython<Answer>('node', 'PyTorch', script, [join(dir, 'job.json')], 6 * 3600_000, (line) => console.log(line));
    if (!r.ok) {
      console.error(`${r.unavailable}; set FPET_BENCH_PYTHON to a python that can import torch`);
      return 1;
    }
    const stats = (accs: number[]) => {
      const mean = accs.reduce((s, x) => s + x, 0) / accs.length;
      const sd = accs.length > 1 ? Math.sqrt(accs.reduce((s, x) => s + (x - mean) ** 2, 0) / (accs.length - 1)) : 0;
      return `${mean.toFixed(2)}%${accs.length > 1 ? ` ± ${sd.toFixed(2)}` : ''}`;
    };
    for (const x of r.out.runs) {
      const val = x.valAccuracy === null ? '' : `validation accuracy ${(100 * x.valAccuracy).toFixed(2)}%, `;
      console.log(`seed ${x.seed}: ${val}test accuracy ${(100 * x.accuracy).toFixed(2)}%, final epoch loss ${x.epochLoss.at(-1)!.toFixed(4)}, ${x.seconds.toFixed(0)} s`);
    }
    const val = a.valSize > 0 ? `validation ${stats(r.out.runs.map((x) => 100 * x.valAccuracy!))}, ` : '';
    console.log(`mean: ${val}test ${stats(r.out.runs.map((x) => 100 * x.accuracy))} (torch ${r.out.torch}, ${r.out.threads} threads, ${r.python})`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
