// Time per training step of a 224² preset with 3 channels — AdaptFormer vs AdaptFormer + FPET
// (ratio 0.5 in the preset's middle block) — the numbers behind the table in docs/own-images.md.
// Not a test (no .test.ts): run it by hand on the machine to be measured:
//
//   node --import tsx --conditions=fpet-webgpu-source test/train/step-timing.ts [preset] [batch] [steps]
//
// (defaults: vit-b16 32 3; steps 0: compile the plans only, no device, and print their GPU memory
// and GFLOP per step). Each step is one compiled program (forward, backward, AdamW), as
// `train` runs it, on random images and weights (the time of a step does not depend on them), with
// the train command's defaults (dropout and DropPath 0.1, ImageNet normalisation in the graph, a
// 100-class head); one warm-up step each, then `steps` rounds of one timed step of each,
// alternating, each waited for. The memory is what the compiled plan allocates on the GPU
// (parameters, AdamW moments, inputs, work arena).

import { requestGpu, formatAdapterReport } from '../../src/core/runtime/device.ts';
import { DEFAULT_MERGE, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { normalizationFor } from '../../src/fpet/models/normalize.ts';
import { TrainStep, trainStepGraph } from '../../src/fpet/train/train-step.ts';
import { compileGraph } from '../../codegen/compile.ts';
import { rngFrom, uniform } from '../support/random.ts';

const [preset = 'vit-b16', batchArg = '32', stepsArg = '3'] = process.argv.slice(2);
const base = VIT_PRESETS[preset as keyof typeof VIT_PRESETS];
if (!base) throw new Error(`unknown preset ${preset}; one of ${Object.keys(VIT_PRESETS).join(', ')}`);
const batch = Number(batchArg), steps = Number(stepsArg);
const vit = { ...base, inChannels: 3, numClasses: 100 };
const middle = Math.floor(vit.depth / 2);
const common = { vit, batch, pet: DEFAULT_PET.adaptformer, training: { dropout: 0.1, dropPath: 0.1 }, normalize: normalizationFor('imagenet', 3) };
const runs: [string, ModelSpec][] = [
  ['AdaptFormer', common],
  [`AdaptFormer + FPET (block ${middle}, ratio 0.5)`, { ...common, merge: { ...DEFAULT_MERGE, blocks: [middle] } }],
];

if (steps === 0) {
  for (const [label, spec] of runs) {
    const plan = compileGraph(trainStepGraph(spec).graph);
    const a = plan.arenaBytes, mib = (a.params + a.inputs + a.work) / 2 ** 20;
    console.log(`${preset} b${batch} ${label}: plan of ${plan.kernels.length} kernels, ${(plan.flops / 1e9).toFixed(1)} GFLOP per step, GPU memory ${mib.toFixed(0)} MiB (work arena ${(a.work / 2 ** 20).toFixed(0)} MiB)`);
  }
  process.exit(0);
}
const ctx = await requestGpu({ label: 'step timing' });
console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
const rng = rngFrom(3);
const images = Float32Array.from(uniform(rng, batch * 3 * vit.imageSize ** 2, 0, 1));
const oneHot = new Float32Array(batch * vit.numClasses);
for (let i = 0; i < batch; i++) oneHot[i * vit.numClasses + ((i * 37) % vit.numClasses)] = 1;
// Both steps are built first, then timed in alternating rounds, so that a change in the machine's
// load (a shared software adapter) falls on both alike.
const built: { label: string; step: TrainStep; times: number[] }[] = [];
try {
  for (const [label, spec] of runs) {
    const t = performance.now();
    const step = await TrainStep.create(ctx, spec, initialWeights(spec, 5));
    built.push({ label, step, times: [] });
    step.run({ images, oneHot }, 1e-3, 1, 0);
    await step.loss();
    console.log(`  ${label}: compile, upload and a warm-up step ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  for (let s = 2; s < 2 + steps; s++) {
    for (const r of built) {
      const t = performance.now();
      r.step.run({ images, oneHot }, 1e-3, s, 0);
      const loss = await r.step.loss();
      r.times.push((performance.now() - t) / 1000);
      console.log(`  ${r.label} step ${s}: ${r.times.at(-1)!.toFixed(2)} s, loss ${loss.toFixed(4)}`);
    }
  }
  for (const r of built) {
    const sorted = [...r.times].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const mib = r.step.program.memoryBytes / 2 ** 20;
    console.log(`${preset} b${batch} ${r.label}: median ${median.toFixed(2)} s/step (${sorted[0]!.toFixed(2)} to ${sorted.at(-1)!.toFixed(2)}), ${(batch / median).toFixed(2)} img/s, GPU memory ${mib.toFixed(0)} MiB`);
  }
} finally {
  for (const r of built) r.step.destroy();
}
