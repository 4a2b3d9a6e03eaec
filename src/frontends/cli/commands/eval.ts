// `eval`: accuracy of a trained model on the held-out test set: MNIST / Fashion-MNIST's, or an
// image folder's (its val/ folder, or the held-out part drawn as in training), with the eval
// transform and class names the adapters file records.

import { defineCommand } from '../command.ts';
import { UsageError } from '../args.ts';
import { NAME_MAP_OPTION, TUNE_OPTION, backboneOption, backbonePath, describeSpec, readNameMapOption } from '../model-options.ts';
import { DATA_OPTIONS, folderOf } from '../data-options.ts';
import { memoryLine } from '../report.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { Progress } from '../../../core/util/progress.ts';
import { display, listOf } from '../../../core/util/text.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { batchLimitError } from '../../../fpet/train/batch-limit.ts';
import { buildModel } from '../../../fpet/models/model.ts';
import { loadTrainedModel, type TrainedModel } from '../../../fpet/train/trained-model.ts';
import { makeSplits, type Subset } from '../../../fpet/data/dataset.ts';
import type { BatchSource } from '../../../fpet/data/batch-source.ts';
import { ImageFolderSource, imagePool, openFolderData } from '../../../fpet/data/image-source.ts';
import { timmTransform } from '../../../fpet/data/transforms.ts';
import { FOLDER_LIMITS } from '../../../fpet/data/image-folder.ts';
import { loadDataset, type DatasetName } from '../../../fpet/data/mnist.ts';

const OPTIONS = {
  ...NAME_MAP_OPTION,
  ...TUNE_OPTION,
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
  backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
  ...DATA_OPTIONS,
  valSplit: { ...DATA_OPTIONS.valSplit, default: undefined, help: 'image folder without val/: the held-out fraction (default: the one the adapters file records, else 0.2)' },
  trainSize: { type: 'number', default: 1000, integer: true, min: 1, max: 70_000, help: 'MNIST / Fashion-MNIST: training images of the split (to rebuild the same held-out set)' },
  testSize: { type: 'number', integer: true, min: 1, max: FOLDER_LIMITS.maxImages, help: 'held-out test images (default: 2000 of MNIST / Fashion-MNIST, every held-out image of an image folder)' },
  splitSeed: { type: 'number', integer: true, min: -(2 ** 31), max: 2 ** 32 - 1, help: 'seed of the split (default: the one the adapters file records, else 0)' },
  batch: { type: 'number', default: 100, integer: true, min: 1, max: 65_536, help: 'evaluation batch' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const;

export default defineCommand({
  summary: 'Evaluate a trained model (adapters file from train) on the held-out test set of MNIST / Fashion-MNIST or an image folder.',
  options: OPTIONS,
  stops: 'stopping the evaluation',
  async run(a, session) {
    const folder = folderOf(a);
    const model = await loadTrainedModel(a.adapters, backbonePath(a.backbone), a.batch, readNameMapOption(a.nameMap));
    const { spec, weights } = model;
    const test = folder !== undefined ? await folderTestSet(a, folder, model) : mnistTestSet(a, model);
    const ctx = await session.gpu();
    console.log(`model: ${describeSpec(spec)}`);
    const total = 'count' in test ? test.count : test.indices.length;
    // A kernel search pays only where the evaluation is long enough to win it back.
    const classifier = await Classifier.create(ctx, spec, weights, { tune: a.tune as TuneMode, tuneExpectedRuns: Math.ceil(total / a.batch) }).catch((e: unknown) => {
      throw batchLimitError(e, a.batch, '--batch', (b) => buildModel({ ...spec, batch: b, training: undefined }).graph, ctx);
    });
    const bar = new Progress({ label: 'evaluate', total, unit: 'img' });
    try {
      const r = await classifier.evaluate(test, { onBatch: (done) => bar.tick(done - bar.value), shouldStop: session.stop.shouldStop });
      bar.done();
      console.log(`${r.stopped ? 'stopped: ' : ''}test accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.images} ${folder !== undefined ? `held-out images of ${display(folder)}` : `${a.dataset} images`} (${(r.images / r.seconds).toFixed(1)} img/s)`);
      console.log(memoryLine(ctx));
      return r.stopped ? 130 : 0;
    } finally {
      classifier.destroy();
    }
  },
});

type EvalArgs = { adapters: string; dataset: string; trainSize: number; testSize?: number; splitSeed?: number; valSplit?: number; skipBad: boolean; workers?: number; prefetch: number };

/** MNIST / Fashion-MNIST's held-out set, rebuilt as in training; the model must take its images and classes. */
function mnistTestSet(a: EvalArgs, m: TrainedModel): Subset {
  const { spec } = m;
  const ds = loadDataset(a.dataset as DatasetName);
  if (spec.vit.imageSize !== ds.imageSize || spec.vit.inChannels !== ds.channels) {
    throw new Error(`${display(a.adapters)} is a model of ${spec.vit.inChannels}×${spec.vit.imageSize}×${spec.vit.imageSize} images; ${ds.name} has ${ds.channels}×${ds.imageSize}×${ds.imageSize}${m.classes ? ' (it was trained on an image folder: --data DIR)' : ''}`);
  }
  if (spec.vit.numClasses !== ds.classes.length) throw new Error(`${display(a.adapters)} classifies ${spec.vit.numClasses} classes; ${ds.name} has ${ds.classes.length}`);
  return makeSplits(ds, { trainSize: a.trainSize, testSize: a.testSize ?? 2000, seed: a.splitSeed ?? 0 }).test;
}

/**
 * An image folder's held-out images through the model's recorded eval transform, labelled by the
 * model's classes (matched by name; a folder class the model does not know is an error).
 */
async function folderTestSet(a: EvalArgs, root: string, m: TrainedModel): Promise<BatchSource> {
  const { vit } = m.spec;
  if (vit.inChannels !== 1 && vit.inChannels !== 3) throw new UsageError(`${display(a.adapters)}: a model of ${vit.inChannels}-channel images; an image folder gives 1 or 3`);
  const transform = { ...timmTransform(vit.imageSize), ...m.preprocess };
  const d = await openFolderData({
    root, valSplit: a.valSplit ?? m.split?.valSplit ?? 0.2, splitSeed: a.splitSeed ?? m.split?.splitSeed ?? 0, skipBad: a.skipBad,
    workers: a.workers, prefetch: a.prefetch, channels: vit.inChannels, transform, testSize: a.testSize,
  });
  const names = m.classes ?? Array.from({ length: vit.numClasses }, (_, i) => String(i));
  if (!m.classes) console.log(`note: ${display(a.adapters)} records no class names; the folder's classes are taken in order (${d.folder.classes.length} of them)`);
  const to = m.classes ? d.folder.classes.map((c) => names.indexOf(c)) : d.folder.classes.map((_, k) => (k < vit.numClasses ? k : -1));
  const unknown = d.folder.classes.filter((_, k) => to[k]! < 0);
  if (unknown.length) throw new Error(`${display(root)}: the classes ${listOf(unknown)} are not among the ${vit.numClasses} classes of ${display(a.adapters)} (${listOf(names)})`);
  console.log(`data: ${display(root)}: ${d.test.count} held-out images (${d.folder.valFrom}); eval transform: shorter side to ${Math.floor(vit.imageSize / transform.cropPct)}, centre ${vit.imageSize}×${vit.imageSize}, ${transform.interpolation}`);
  const images = d.test.images.map((img) => ({ ...img, label: to[img.label]! }));
  return new ImageFolderSource(d.test.name, images, names, { channels: vit.inChannels, transform, pool: imagePool(a.workers), prefetch: a.prefetch });
}
