// FPET inference on a PNG, with its merge map: load a trained AdaptFormer + FPET model (the
// shipped backbone plus the adapters the main job trained, both inside the package), read a photo
// of a digit (dark on light, any size), classify it, and draw which patches FPET merged into which
// token.
//
//   node --import tsx --conditions=fpet-webgpu-source examples/fpet-inference.ts [image.png] [adapters.safetensors]   (in a clone)
//   node fpet-inference.js [image.png] [adapters.safetensors]                                                         (compiled)
//
// Writes runs/examples/merge-map.svg.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Classifier, mergeMapSvg, requestGpu, resizePlanar } from 'fpet-webgpu';
import { loadTrainedModel, readPngPlanar, shippedPath } from 'fpet-webgpu/node';

const sample = fileURLToPath(new URL('./assets/digit-7.png', import.meta.url));
const imagePath = process.argv[2] ?? sample;
const adaptersPath = process.argv[3] ?? shippedPath('fpetAdapters');

const { spec, weights } = await loadTrainedModel(adaptersPath, shippedPath('backbone'), 1);
if (!spec.merge) throw new Error(`${adaptersPath} is a model without token merging`);
const { imageSize, inChannels } = spec.vit;

// The model's input: inChannels × imageSize × imageSize in [0, 1], MNIST-style (light digit on dark).
const png = await readPngPlanar(imagePath, inChannels === 3 ? 3 : 1);
const image = resizePlanar(png, imageSize).map((v) => 1 - v);

const gpu = await requestGpu();
const classifier = await Classifier.create(gpu, spec, weights, { mergeOutputs: true });
const [prediction] = await classifier.classify(image, 3);
const [map] = await classifier.mergeMaps(image);
classifier.destroy();

console.log(`${imagePath} (${png.width}×${png.height}): ${prediction!.top.map((c) => `${c.label} ${(100 * c.probability).toFixed(1)}%`).join(', ')}`);
for (const step of map!.steps) {
  const groups = [...step.sizes].filter((n) => n > 1).length;
  console.log(`block ${step.block}: ${step.tokensIn} -> ${step.tokensOut} tokens; ${groups} tokens now stand for 2 or more patches (largest: ${Math.max(...step.sizes)})`);
}
console.log(`tokens entering each block's MLP: ${map!.tokensPerBlock.join(' ')}`);
mkdirSync('runs/examples', { recursive: true });
writeFileSync('runs/examples/merge-map.svg', mergeMapSvg(map!, image, inChannels, imageSize, `${imagePath}: predicted ${prediction!.top[0]!.label}`));
console.log('wrote runs/examples/merge-map.svg');
process.exit(prediction!.top[0]!.label === 7 || imagePath !== sample ? 0 : 1);
