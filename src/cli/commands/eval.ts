// `eval`: accuracy of a trained model on the held-out test set.

import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { describeSpec } from '../model-options.ts';
import { formatAdapterReport, requestGpu } from '../../runtime/device.ts';
import { Program, deviceLimits } from '../../runtime/program.ts';
import { compileGraph } from '../../../codegen/compile.ts';
import { buildModel } from '../../models/model.ts';
import { evaluateExe } from '../../train/trainer.ts';
import { loadTrainedModel } from '../../train/trained-model.ts';
import { DATASET_NAMES, loadDataset, makeSplits, type DatasetName } from '../../data/mnist.ts';

export const summary = 'Evaluate a trained model (adapters file from train) on the held-out test set.';

const OPTIONS = {
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
  backbone: { type: 'string', default: 'models/vit-mnist-fashion.safetensors', help: 'backbone the adapters were trained on ("random" if none)' },
  dataset: { type: 'string', default: 'mnist', choices: DATASET_NAMES, help: 'data set' },
  trainSize: { type: 'number', default: 1000, integer: true, min: 1, help: 'training images of the split (to rebuild the same held-out set)' },
  testSize: { type: 'number', default: 2000, integer: true, min: 1, help: 'held-out test images' },
  splitSeed: { type: 'number', default: 0, integer: true, help: 'seed of the split' },
  batch: { type: 'number', default: 100, integer: true, min: 1, help: 'evaluation batch' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('eval', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('eval', summary, OPTIONS));
    return 0;
  }
  const { spec, weights } = await loadTrainedModel(a.adapters, a.backbone === 'random' ? undefined : a.backbone, a.batch);
  const ctx = await requestGpu({ label: 'eval' });
  console.log(`adapter: ${formatAdapterReport(ctx.info)}\nmodel: ${describeSpec(spec)}`);
  const model = buildModel(spec);
  const exe = await Program.create(ctx, compileGraph(model.graph, { limits: deviceLimits(ctx) }));
  exe.write(Object.fromEntries(model.graph.params.map((p) => [p.attrs.name, weights.get(p.attrs.name)!])));
  const ds = loadDataset(a.dataset as DatasetName);
  const { test } = makeSplits(ds, { trainSize: a.trainSize, testSize: a.testSize, seed: a.splitSeed });
  const r = await evaluateExe(exe, test, a.batch);
  console.log(`test accuracy: ${(100 * r.accuracy).toFixed(2)}% on ${r.images} ${a.dataset} images (${(r.images / r.seconds).toFixed(1)} img/s incl. first-dispatch compilation)`);
  return 0;
}
