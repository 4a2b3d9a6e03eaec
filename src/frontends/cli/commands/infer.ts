// `infer`: classify PNG or JPEG images, or samples of the held-out data (MNIST / Fashion-MNIST or
// an image folder), with a trained model; print the top classes by name (the names an image-folder
// run recorded) and optionally draw each image's merge map. A model trained on an image folder
// gets new images through the eval transform it recorded (shorter side resized, centre crop); the
// others are resized to the input as they are.

import { join } from 'node:path';
import { UsageError, type OptionSpec } from '../args.ts';
import { checkOutputDir, makeDir } from '../../../core/util/files.ts';
import { defineCommand } from '../command.ts';
import { NAME_MAP_OPTION, TUNE_OPTION, backboneOption, backbonePath, readNameMapOption } from '../model-options.ts';
import { DATA_OPTIONS, folderOf } from '../data-options.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { loadTrainedModel, type TrainedModel } from '../../../fpet/train/trained-model.ts';
import { batches, makeSplits } from '../../../fpet/data/dataset.ts';
import { loadDataset, type DatasetName } from '../../../fpet/data/mnist.ts';
import { openFolderData } from '../../../fpet/data/image-source.ts';
import { evalTransform, timmTransform } from '../../../fpet/data/transforms.ts';
import { readImagePlanar } from '../../../core/io/image.ts';
import { resizePlanar } from '../../../core/io/png.ts';
import { mergeMapSvg } from '../../../fpet/models/merge-map-svg.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { display } from '../../../core/util/text.ts';

/** Image files one infer classifies. */
const MAX_IMAGES = 1000;

const OPTIONS = {
  ...NAME_MAP_OPTION,
  ...TUNE_OPTION,
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
  backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
  image: { type: 'list', repeatable: true, maxItems: MAX_IMAGES, help: 'a PNG or JPEG file (any size; converted to the model\'s channels and brought to its input as in training); the path is taken whole, commas included; image files can also follow the options' },
  samples: { type: 'number', default: 5, integer: true, min: 1, max: 1000, help: 'without --image: this many held-out images of the data set (--dataset, or the image folder --data)' },
  dataset: { ...DATA_OPTIONS.dataset, help: 'data set for --samples (and class names when the adapters file records none): mnist, fashion-mnist or folder:DIR' },
  data: { ...DATA_OPTIONS.data, help: 'an image folder for --samples (its held-out images, split as the adapters file records)' },
  invert: { type: 'boolean', default: false, help: 'invert the images (dark digit on light paper -> MNIST style)' },
  top: { type: 'number', default: 3, integer: true, min: 1, max: 1000, help: 'classes printed per image' },
  mergeMap: { type: 'string', help: 'folder to write one merge-map picture (SVG) per image into' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

/** Images to classify: pixels [n, C, S, S], a name each, and the true label when known. */
interface Inputs {
  readonly images: Float32Array;
  readonly names: string[];
  readonly labels: (number | undefined)[];
}

export default defineCommand({
  summary: 'Classify PNG / JPEG images (or held-out samples) and print the top classes by name; --merge-map draws where tokens merged.',
  options: OPTIONS,
  positionals: { name: 'image files', max: MAX_IMAGES },
  async run(a, session) {
    const files = [...(a.image ?? []), ...a._];
    if (files.length > MAX_IMAGES) throw new UsageError(`infer: at most ${MAX_IMAGES} image files (got ${files.length} with --image and after the options)`);
    if (a.mergeMap !== undefined) checkOutputDir(a.mergeMap, '--merge-map');
    const folder = folderOf(a);
    const n = files.length || a.samples;
    const model = await loadTrainedModel(a.adapters, backbonePath(a.backbone), Math.min(n, 100), readNameMapOption(a.nameMap));
    const { spec, weights } = model;
    if (a.mergeMap !== undefined && !spec.merge) throw new Error(`--merge-map: ${display(a.adapters)} is a model without token merging`);
    const channels = spec.vit.inChannels;
    if (channels !== 1 && channels !== 3) throw new Error(`${display(a.adapters)}: a model of ${channels}-channel images; image files give 1 or 3 channels`);
    const classNames = classNamesOf(model, folder === undefined ? a.dataset : undefined);
    const inputs = files.length ? await fileInputs(files, model, a.invert) : folder !== undefined ? await folderInputs(folder, n, model) : datasetInputs(a.dataset, n, model);
    const ctx = await session.gpu();
    // A few images: a kernel search would cost more than it saves (it searches only what pays back).
    const runs = Math.ceil(inputs.names.length / spec.batch);
    const classifier = await Classifier.create(ctx, spec, weights, { mergeOutputs: a.mergeMap !== undefined && spec.merge !== undefined, tune: a.tune as TuneMode, tuneExpectedRuns: runs });
    try {
      const predictions = await classifier.classify(inputs.images, a.top, inputs.names.length);
      predictions.forEach((p, i) => {
        const truth = inputs.labels[i] === undefined ? '' : `  (label: ${classNames[inputs.labels[i]!]})`;
        console.log(`${inputs.names[i]}: ${p.top.map((c) => `${classNames[c.label]} ${(100 * c.probability).toFixed(1)}%`).join(', ')}${truth}`);
      });
      if (a.mergeMap !== undefined) await writeMergeMaps(classifier, inputs, a.mergeMap, predictions.map((p) => classNames[p.top[0]!.label]!), model);
      return 0;
    } finally {
      classifier.destroy();
    }
  },
});

/** The class names to print: the adapters file's (image-folder runs), else the data set's when it has as many, else "class k". */
function classNamesOf(m: TrainedModel, dataset: string | undefined): string[] {
  if (m.classes) return m.classes.map((c) => display(c, 80));
  const K = m.spec.vit.numClasses;
  const known = dataset === 'mnist' || dataset === 'fashion-mnist' ? loadDataset(dataset).classes : undefined;
  return known && known.length === K ? [...known] : Array.from({ length: K }, (_, i) => `class ${i}`);
}

/** Image files through the model's eval transform (recorded by image-folder runs), else resized to the input. */
async function fileInputs(files: readonly string[], m: TrainedModel, invert: boolean): Promise<Inputs> {
  const { imageSize: size, inChannels } = m.spec.vit;
  const channels = inChannels as 1 | 3, per = channels * size * size;
  const images = new Float32Array(files.length * per);
  for (const [i, f] of files.entries()) {
    const img = await readImagePlanar(f, channels);
    const px = m.preprocess ? evalTransform(img, { size, ...m.preprocess }) : resizePlanar(img, size);
    if (invert) for (let k = 0; k < px.length; k++) px[k] = 1 - px[k]!;
    images.set(px, i * per);
  }
  return { images, names: files.map((f) => display(f)), labels: files.map(() => undefined) };
}

/** `n` held-out images of MNIST / Fashion-MNIST (a fixed random choice). */
function datasetInputs(dataset: string, n: number, m: TrainedModel): Inputs {
  const { imageSize: size, inChannels: channels } = m.spec.vit;
  const ds = loadDataset(dataset as DatasetName);
  if (ds.imageSize !== size || ds.channels !== channels) throw new Error(`${dataset} images are ${ds.channels}×${ds.imageSize}×${ds.imageSize}; the model takes ${channels}×${size}×${size}: give image files, or its image folder with --data`);
  const { test } = makeSplits(ds, { trainSize: 1000, seed: 0 });
  const b = batches(test, n, { shuffle: true, seed: 1 }).next().value!;
  return { images: b.images, names: Array.from(b.indices, (i) => `${dataset} #${i}`), labels: Array.from(b.labels) };
}

/** `n` held-out images of an image folder (a fixed random choice), split as the adapters file records. */
async function folderInputs(root: string, n: number, m: TrainedModel): Promise<Inputs> {
  const { vit } = m.spec;
  const d = await openFolderData({
    root, valSplit: m.split?.valSplit ?? 0.2, splitSeed: m.split?.splitSeed ?? 0, skipBad: false, prefetch: 1,
    channels: vit.inChannels as 1 | 3, transform: { ...timmTransform(vit.imageSize), ...m.preprocess },
  });
  const r = await d.test.batches(Math.min(n, d.test.count), { shuffle: true, seed: 1 }).next();
  const b = r.value!;
  const byName = m.classes ? d.folder.classes.map((c) => m.classes!.indexOf(c)) : d.folder.classes.map((_, k) => k);
  const labels = Array.from(b.labels, (l: number): number | undefined => (byName[l]! >= 0 ? byName[l] : undefined));
  return { images: b.images, names: Array.from(b.indices, (i: number) => d.test.describe(i)), labels };
}

/** One merge-map picture per image, in batches of the classifier's size. */
async function writeMergeMaps(classifier: Classifier, inputs: Inputs, dir: string, predicted: readonly string[], m: TrainedModel): Promise<void> {
  const { imageSize: size, inChannels: channels } = m.spec.vit;
  const per = channels * size * size, n = inputs.names.length;
  makeDir(dir, '--merge-map');
  for (let at = 0; at < n; at += classifier.batch) {
    const k0 = Math.min(classifier.batch, n - at);
    const maps = await classifier.mergeMaps(inputs.images.subarray(at * per, (at + k0) * per), k0);
    for (let i = 0; i < k0; i++) {
      const k = at + i;
      const file = join(dir, `merge-map-${String(k).padStart(3, '0')}.svg`);
      await writeFileAtomic(file, mergeMapSvg(maps[i]!, inputs.images.subarray(k * per, (k + 1) * per), channels, size, `${inputs.names[k]}: ${predicted[k]}`, m.spec.inputCrop));
    }
  }
  console.log(`wrote ${n} merge maps to ${display(dir)}`);
}
