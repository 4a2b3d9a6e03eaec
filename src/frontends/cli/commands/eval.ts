// `eval`: accuracy of a trained model on the held-out test set.

import { defineCommand } from '../command.ts';
import { NAME_MAP_OPTION, TUNE_OPTION, backboneOption, backbonePath, describeSpec, readNameMapOption } from '../model-options.ts';
import { memoryLine } from '../report.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { Progress } from '../../../core/util/progress.ts';
import { display } from '../../../core/util/text.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { batchLimitError } from '../../../fpet/train/batch-limit.ts';
import { buildModel } from '../../../fpet/models/model.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { makeSplits } from '../../../fpet/data/dataset.ts';
import { DATASET_NAMES, loadDataset, type DatasetName } from '../../../fpet/data/mnist.ts';

export default defineCommand({
  summary: 'Evaluate a trained model (adapters file from train) on the held-out test set.',
  options: {
    ...NAME_MAP_OPTION,
    ...TUNE_OPTION,
    adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
    backbone: backboneOption('backbone the adapters were trained on ("random" if none)'),
    dataset: { type: 'string', default: 'mnist', choices: DATASET_NAMES, help: 'data set' },
    trainSize: { type: 'number', default: 1000, integer: true, min: 1, max: 70_000, help: 'training images of the split (to rebuild the same held-out set)' },
    testSize: { type: 'number', default: 2000, integer: true, min: 1, max: 70_000, help: 'held-out test images' },
    splitSeed: { type: 'number', default: 0, integer: true, min: -(2 ** 31), max: 2 ** 32 - 1, help: 'seed of the split' },
    batch: { type: 'number', default: 100, integer: true, min: 1, max: 65_536, help: 'evaluation batch' },
    help: { type: 'boolean', default: false, help: 'show this help' },
  },
  stops: 'stopping the evaluation',
  async run(a, session) {
    const { spec, weights } = await loadTrainedModel(a.adapters, backbonePath(a.backbone), a.batch, readNameMapOption(a.nameMap));
    const ds = loadDataset(a.dataset as DatasetName);
    if (spec.vit.imageSize !== ds.imageSize || spec.vit.inChannels !== ds.channels) {
      throw new Error(`${display(a.adapters)} is a model of ${spec.vit.inChannels}×${spec.vit.imageSize}×${spec.vit.imageSize} images; ${ds.name} has ${ds.channels}×${ds.imageSize}×${ds.imageSize}`);
    }
    if (spec.vit.numClasses !== ds.classes.length) throw new Error(`${display(a.adapters)} classifies ${spec.vit.numClasses} classes; ${ds.name} has ${ds.classes.length}`);
    const { test } = makeSplits(ds, { trainSize: a.trainSize, testSize: a.testSize, seed: a.splitSeed });
    const ctx = await session.gpu();
    console.log(`model: ${describeSpec(spec)}`);
    const classifier = await Classifier.create(ctx, spec, weights, { tune: a.tune as TuneMode }).catch((e: unknown) => {
      throw batchLimitError(e, a.batch, '--batch', (b) => buildModel({ ...spec, batch: b, training: undefined }).graph, ctx);
    });
    const bar = new Progress({ label: 'evaluate', total: test.indices.length, unit: 'img' });
    try {
      const r = await classifier.evaluate(test, { onBatch: (done) => bar.tick(done - bar.value), shouldStop: session.stop.shouldStop });
      bar.done();
      console.log(`${r.stopped ? 'stopped: ' : ''}test accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.images} ${a.dataset} images (${(r.images / r.seconds).toFixed(1)} img/s)`);
      console.log(memoryLine(ctx));
      return r.stopped ? 130 : 0;
    } finally {
      classifier.destroy();
    }
  },
});
