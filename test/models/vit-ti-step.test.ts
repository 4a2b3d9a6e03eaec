// One training step of the real geometry — ViT-Ti/16 at 224×224 with 3 channels, all 12 blocks,
// ImageNet normalisation in the graph, AdaptFormer adapters and FPET merging half of the 196
// patch tokens in block 6 — on the GPU against the float64 reference at batch 1, random weights:
// the loss, the logits and every gradient; then the compiled TrainStep's AdamW update against
// AdamW applied in float64 to the reference's gradients.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, gradName } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { normalizationFor } from '../../src/fpet/models/normalize.ts';
import { TrainStep } from '../../src/fpet/train/train-step.ts';
import { ADAMW_DEFAULTS } from '../../src/fpet/train/optimizer.ts';
import { assertClose, gpu, runOnGpu } from '../support/gpu.ts';
import { rngFrom, uniform } from '../support/random.ts';

const spec: ModelSpec = {
  vit: { ...VIT_PRESETS['vit-ti16'], numClasses: 5 },
  batch: 1,
  pet: DEFAULT_PET.adaptformer,
  merge: { ...DEFAULT_MERGE, blocks: [6] },
  normalize: normalizationFor('imagenet', 3),
};

test('ViT-Ti/16 at 224² (3 channels, FPET at block 6): one training step on the GPU matches float64', { timeout: 900_000 }, async () => {
  const model = buildModel(spec);
  assert.deepEqual(model.tokenCounts[6], { attention: 197, mlp: 99 });
  const graph = gradients(model.graph, { loss: 'loss' });
  const weights = initialWeights(spec, 7);
  const rng = rngFrom(11);
  const images = Float32Array.from(uniform(rng, 3 * 224 * 224, 0, 1));
  const onehot = [0, 0, 1, 0, 0];
  const feeds: Record<string, ArrayLike<number>> = { ...Object.fromEntries(weights), images, onehot };
  let t = performance.now();
  const ref = evaluate(graph, feeds).outputs;
  const refSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const { out, plan } = await runOnGpu(graph, feeds);
  console.log(`float64 reference ${refSeconds.toFixed(1)} s; GPU ${((performance.now() - t) / 1000).toFixed(1)} s (${plan.kernels.length} kernels, compile included); loss ${out.loss![0]} vs ${ref.loss!.data[0]}`);
  let worst = 0;
  for (const name of graph.outputs.keys()) worst = Math.max(worst, assertClose(name, out[name]!, ref[name]!.data, 2e-4));
  console.log(`${graph.outputs.size} outputs (loss, logits, ${model.trainable.length} gradients): worst scaled error ${worst.toExponential(2)}`);

  // The compiled step (forward, backward, AdamW in one program) against AdamW in float64 on the reference's gradients.
  const lr = 1e-3, c = ADAMW_DEFAULTS;
  const step = await TrainStep.create(await gpu(), spec, weights);
  try {
    step.run({ images, oneHot: Float32Array.from(onehot) }, lr, 1, 0);
    const after = await step.trainableWeights();
    for (const name of model.trainable) {
      const g = ref[gradName(name)]!.data, p = weights.get(name)!, got = after.get(name)!;
      const gmax = Math.max(...Array.from(g, Math.abs));
      for (let i = 0; i < p.length; i++) {
        // Step 1 of AdamW: m̂ = g, v̂ = g², so the step is g / (|g| + eps): only where |g| is not near 0 is its sign certain in f32.
        if (Math.abs(g[i]!) < 1e-3 * gmax) continue;
        const want = p[i]! * (1 - lr * c.weightDecay) - lr * (g[i]! / (Math.abs(g[i]!) + c.eps));
        assert.ok(Math.abs(got[i]! - want) <= 1e-6 + 1e-5 * Math.abs(want), `${name}[${i}]: ${got[i]} vs ${want}`);
      }
    }
  } finally {
    step.destroy();
  }
});
