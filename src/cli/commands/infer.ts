// `infer`: classify PNG images, or samples of the data set, with a trained model.

import { readFileSync } from 'node:fs';
import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { formatAdapterReport, requestGpu } from '../../runtime/device.ts';
import { Program, deviceLimits } from '../../runtime/program.ts';
import { compileGraph } from '../../../codegen/compile.ts';
import { buildModel } from '../../models/model.ts';
import { loadTrainedModel } from '../../train/trained-model.ts';
import { DATASET_NAMES, loadDataset, makeSplits, batches, type DatasetName } from '../../data/mnist.ts';
import { decodePng, resizeGrey } from '../../io/png.ts';

export const summary = 'Classify PNG images (or data set samples) and print the top classes.';

const OPTIONS = {
  adapters: { type: 'string', default: 'runs/train/adapters.safetensors', help: 'adapters (or full model) file written by train' },
  backbone: { type: 'string', default: 'models/vit-mnist-fashion.safetensors', help: 'backbone the adapters were trained on ("random" if none)' },
  image: { type: 'list', help: 'PNG files (any size; converted to grey and resized to the model input)' },
  samples: { type: 'number', default: 5, integer: true, min: 1, help: 'without --image: this many test images of the data set' },
  dataset: { type: 'string', default: 'mnist', choices: DATASET_NAMES, help: 'data set for --samples' },
  invert: { type: 'boolean', default: false, help: 'invert PNG images (dark digit on light paper -> MNIST style)' },
  top: { type: 'number', default: 3, integer: true, min: 1, help: 'classes printed per image' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('infer', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('infer', summary, OPTIONS));
    return 0;
  }
  const ds = loadDataset(a.dataset as DatasetName);
  let images: Float32Array[] = [], labels: (number | undefined)[] = [], names: string[] = [];
  const size = 28;
  if (a.image?.length) {
    for (const f of a.image) {
      const px = resizeGrey(decodePng(readFileSync(f), f), size);
      if (a.invert) for (let i = 0; i < px.length; i++) px[i] = 1 - px[i]!;
      images.push(px);
      labels.push(undefined);
      names.push(f);
    }
  } else {
    const { test } = makeSplits(ds, { trainSize: 1000, seed: 0 });
    const b = batches(test, a.samples, { shuffle: true, seed: 1 }).next().value!;
    for (let i = 0; i < b.size; i++) {
      images.push(b.images.subarray(i * size * size, (i + 1) * size * size));
      labels.push(b.labels[i]);
      names.push(`${a.dataset} #${b.indices[i]}`);
    }
  }
  const { spec, weights } = await loadTrainedModel(a.adapters, a.backbone === 'random' ? undefined : a.backbone, images.length);
  const ctx = await requestGpu({ label: 'infer' });
  console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
  const model = buildModel(spec);
  const exe = await Program.create(ctx, compileGraph(model.graph, { limits: deviceLimits(ctx) }));
  exe.write(Object.fromEntries(model.graph.params.map((p) => [p.attrs.name, weights.get(p.attrs.name)!])));
  const flat = new Float32Array(images.length * size * size);
  images.forEach((im, i) => flat.set(im, i * size * size));
  const C = spec.vit.numClasses;
  const out = await exe.execute({ images: flat, onehot: new Float32Array(images.length * C) }, ['logits']);
  const logits = out.logits!;
  for (let i = 0; i < images.length; i++) {
    const row = Array.from(logits.subarray(i * C, (i + 1) * C));
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const z = e.reduce((s, v) => s + v, 0);
    const top = e.map((v, c) => [c, v / z] as const).sort((p, q) => q[1] - p[1]).slice(0, a.top);
    const truth = labels[i] === undefined ? '' : `  (label: ${ds.classes[labels[i]!]})`;
    console.log(`${names[i]}: ${top.map(([c, p]) => `${ds.classes[c]} ${(100 * p).toFixed(1)}%`).join(', ')}${truth}`);
  }
  return 0;
}
