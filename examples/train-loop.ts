// A training loop written against the API: MNIST, the shipped Fashion-MNIST backbone, AdaptFormer
// adapters with FPET token merging, a compiled training step (forward + backward + AdamW on the
// GPU), our own loop over epochs and batches with a cosine learning rate, and a Classifier for
// held-out accuracy. (`trainLoop` and `npm start -- train` do the same with checkpoints.)
//
//   node --import tsx --conditions=fpet-webgpu-source examples/train-loop.ts [--epochs N]   (in a clone)
//   node train-loop.js [--epochs N]                                                         (compiled)

import { Classifier, DEFAULT_MERGE, DEFAULT_PET, TrainStep, VIT_PRESETS, batchCount, batches, cosineLr, initialWeights, makeSplits, requestGpu, type ModelSpec } from 'fpet-webgpu';
import { loadBackbone, loadDataset, shippedPath } from 'fpet-webgpu/node';

const epochs = Number(process.argv[process.argv.indexOf('--epochs') + 1] || 2);
const data = loadDataset('mnist');
const { train, test } = makeSplits(data, { trainSize: 256, testSize: 200, seed: 0 });

const spec: ModelSpec = {
  vit: { ...VIT_PRESETS['vit-mnist'], numClasses: data.classes.length },
  batch: 16,
  pet: { ...DEFAULT_PET.adaptformer, dim: 8 },
  merge: { ...DEFAULT_MERGE, blocks: [3], ratio: 0.5 }, // FPET: merge half of the patch tokens in block 3 of 6
  training: { dropout: 0.1, dropPath: 0.1 },
};
const backbone = (await loadBackbone(shippedPath('backbone'), spec.vit)).weights;
const weights = initialWeights(spec, 0, backbone);

const gpu = await requestGpu();
const step = await TrainStep.create(gpu, spec, weights);
const classifier = await Classifier.create(gpu, { ...spec, batch: 100 }, weights);
console.log(`training step: ${step.program.plan.kernels.length} kernels; trainable: ${step.trainable.length} tensors; tokens per block ${step.model.tokenCounts.map((t) => t.mlp).join(' ')}`);

const before = await classifier.evaluate(test);
const perEpoch = batchCount(train, spec.batch, true);
let taken = 0;
for (let epoch = 0; epoch < epochs; epoch++) {
  let sum = 0;
  for (const batch of batches(train, spec.batch, { shuffle: true, seed: 0, epoch, dropLast: true })) {
    const lr = cosineLr({ lr: 5e-3, warmupLr: 1e-5, minLr: 1e-5, warmupEpochs: 0.5, epochs }, epoch + (taken % perEpoch) / perEpoch);
    step.run(batch, lr, ++taken, 0);
    sum += await step.loss();
  }
  classifier.setWeights(await step.trainableWeights());
  const ev = await classifier.evaluate(test);
  console.log(`epoch ${epoch + 1}: mean loss ${(sum / perEpoch).toFixed(4)}, held-out accuracy ${(100 * ev.accuracy).toFixed(1)}%`);
}
const after = await classifier.evaluate(test);
console.log(`accuracy before ${(100 * before.accuracy).toFixed(1)}%, after ${(100 * after.accuracy).toFixed(1)}% (${test.indices.length} held-out images)`);
step.destroy();
classifier.destroy();
process.exit(after.accuracy > before.accuracy ? 0 : 1);
