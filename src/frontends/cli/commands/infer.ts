// `infer`: classify PNG images, or samples of the data set, with a trained model; optionally draw
// each image's merge map.

import { join } from 'node:path';
import { UsageError, type OptionSpec } from '../args.ts';
import { checkOutputDir, makeDir } from '../../../core/util/files.ts';
import { defineCommand } from '../command.ts';
import { NAME_MAP_OPTION, TUNE_OPTION, backboneOption, backbonePath, readNameMapOption } from '../model-options.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { batches, makeSplits } from '../../../fpet/data/dataset.ts';
import { DATASET_NAMES, loadDataset, type DatasetName } from '../../../fpet/data/mnist.ts';
import { readPngPlanar, resizePlanar } from '../../../core/io/png.ts';
import { mergeMapSvg } from '../../../fpet/models/merge-map-svg.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { display } from '../../../core/util/text.ts';

/** PNG files one infer classifies. */
const MAX_IMAGES = 1000;

const OPTIONS = {
  ...NAME_MAP_OPTION,
  ...TUNE_OPTION,
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
  backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
  image: { type: 'list', repeatable: true, maxItems: MAX_IMAGES, help: 'a PNG file (any size; converted to the model\'s channels and resized to its input); the path is taken whole, commas included; PNG files can also follow the options' },
  samples: { type: 'number', default: 5, integer: true, min: 1, max: 1000, help: 'without --image: this many test images of the data set' },
  dataset: { type: 'string', default: 'mnist', choices: DATASET_NAMES, help: 'data set for --samples and class names' },
  invert: { type: 'boolean', default: false, help: 'invert PNG images (dark digit on light paper -> MNIST style)' },
  top: { type: 'number', default: 3, integer: true, min: 1, max: 1000, help: 'classes printed per image' },
  mergeMap: { type: 'string', help: 'folder to write one merge-map picture (SVG) per image into' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export default defineCommand({
  summary: 'Classify PNG images (or data set samples) and print the top classes; --merge-map draws where tokens merged.',
  options: OPTIONS,
  positionals: { name: 'PNG files', max: MAX_IMAGES },
  async run(a, session) {
    const files = [...(a.image ?? []), ...a._];
    if (files.length > MAX_IMAGES) throw new UsageError(`infer: at most ${MAX_IMAGES} PNG files (got ${files.length} with --image and after the options)`);
    if (a.mergeMap !== undefined) checkOutputDir(a.mergeMap, '--merge-map');
    const n = files.length || a.samples;
    const { spec, weights } = await loadTrainedModel(a.adapters, backbonePath(a.backbone), Math.min(n, 100), readNameMapOption(a.nameMap));
    if (a.mergeMap !== undefined && !spec.merge) throw new Error(`--merge-map: ${display(a.adapters)} is a model without token merging`);
    const { imageSize: size, inChannels: channels } = spec.vit;
    if (channels !== 1 && channels !== 3) throw new Error(`${display(a.adapters)}: a model of ${channels}-channel images; PNG input gives 1 or 3 channels`);
    const ds = loadDataset(a.dataset as DatasetName);
    const classNames = spec.vit.numClasses === ds.classes.length ? ds.classes : Array.from({ length: spec.vit.numClasses }, (_, i) => `class ${i}`);
    const per = channels * size * size;
    const images = new Float32Array(n * per);
    const labels: (number | undefined)[] = [], names: string[] = [];
    if (files.length) {
      for (const [i, f] of files.entries()) {
        const px = resizePlanar(await readPngPlanar(f, channels), size);
        if (a.invert) for (let k = 0; k < px.length; k++) px[k] = 1 - px[k]!;
        images.set(px, i * per);
        labels.push(undefined);
        names.push(display(f));
      }
    } else {
      if (ds.imageSize !== size || ds.channels !== channels) throw new Error(`${a.dataset} images are ${ds.channels}×${ds.imageSize}×${ds.imageSize}; the model takes ${channels}×${size}×${size}: give PNG files with --image`);
      const { test } = makeSplits(ds, { trainSize: 1000, seed: 0 });
      const b = batches(test, n, { shuffle: true, seed: 1 }).next().value!;
      images.set(b.images);
      for (let i = 0; i < b.size; i++) {
        labels.push(b.labels[i]);
        names.push(`${a.dataset} #${b.indices[i]}`);
      }
    }
    const ctx = await session.gpu();
    const classifier = await Classifier.create(ctx, spec, weights, { mergeOutputs: a.mergeMap !== undefined && spec.merge !== undefined, tune: a.tune as TuneMode });
    try {
      const predictions = await classifier.classify(images, a.top, n);
      predictions.forEach((p, i) => {
        const truth = labels[i] === undefined ? '' : `  (label: ${classNames[labels[i]!]})`;
        console.log(`${names[i]}: ${p.top.map((c) => `${classNames[c.label]} ${(100 * c.probability).toFixed(1)}%`).join(', ')}${truth}`);
      });
      if (a.mergeMap !== undefined) {
        makeDir(a.mergeMap, '--merge-map');
        for (let at = 0; at < n; at += classifier.batch) {
          const m = Math.min(classifier.batch, n - at);
          const maps = await classifier.mergeMaps(images.subarray(at * per, (at + m) * per), m);
          for (let i = 0; i < m; i++) {
            const k = at + i;
            const file = join(a.mergeMap, `merge-map-${String(k).padStart(3, '0')}.svg`);
            await writeFileAtomic(file, mergeMapSvg(maps[i]!, images.subarray(k * per, (k + 1) * per), channels, size, `${names[k]}: ${classNames[predictions[k]!.top[0]!.label]}`, spec.inputCrop));
          }
        }
        console.log(`wrote ${n} merge maps to ${display(a.mergeMap)}`);
      }
      return 0;
    } finally {
      classifier.destroy();
    }
  },
});
