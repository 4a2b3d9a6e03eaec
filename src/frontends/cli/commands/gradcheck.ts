// `gradcheck`: gradient correctness of a model, two ways: float64 autodiff against central finite
// differences, and the GPU's forward+backward (f32) against the float64 reference.

import type { OptionSpec } from '../args.ts';
import { defineCommand } from '../command.ts';
import { MODEL_OPTIONS, describeSpec, modelSpecFrom } from '../model-options.ts';
import { buildModel, initialWeights, validateSpec } from '../../../fpet/models/model.ts';
import { gradients } from '../../../core/ir/autodiff.ts';
import { checkGradients } from '../../../core/ir/gradcheck.ts';
import { verifyOnDevice } from '../../../core/runtime/verify.ts';
import { mulberry32, uniformArray } from '../../../core/util/random.ts';


const OPTIONS = {
  ...MODEL_OPTIONS,
  preset: { ...MODEL_OPTIONS.preset, default: 'vit-micro' },
  batch: { ...MODEL_OPTIONS.batch, default: 2 },
  mergeBlocks: { ...MODEL_OPTIONS.mergeBlocks, default: ['1'] },
  seed: { type: 'number', default: 1, integer: true, min: 0, max: 2 ** 32 - 1, help: 'seed of weights and inputs' },
  entries: { type: 'number', default: 8, integer: true, min: 1, max: 100_000, help: 'finite-difference entries checked per parameter' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export default defineCommand({
  summary: 'Check gradients: float64 autodiff vs finite differences, and GPU vs the float64 reference.',
  options: OPTIONS,
  async run(a, session) {
    const spec = modelSpecFrom(a);
    validateSpec(spec);
    const model = buildModel(spec);
    console.log(`model: ${a.preset}, batch ${a.batch}, ${describeSpec(spec)}; ${model.trainable.length} trainable tensors`);
    const rand = mulberry32(a.seed);
    const weights = initialWeights(spec, a.seed);
    // Non-zero adapter up-projections (they start at 0), so that every adapter path carries gradient.
    for (const [k, v] of weights) if (k.includes('adapter') && k.endsWith('up.weight')) v.set(uniformArray(rand, v.length, -0.1, 0.1));
    const feeds: Record<string, ArrayLike<number>> = Object.fromEntries(weights);
    const img = model.graph.inputs.find((n) => n.attrs.name === 'images')!.type.shape;
    feeds.images = uniformArray(rand, img.reduce((x, y) => x * y, 1), 0, 1);
    const C = spec.vit.numClasses;
    feeds.onehot = Float32Array.from({ length: a.batch * C }, (_, i) => +(i % C === Math.floor(i / C) % C));

    // Straight-through estimators are not derivatives of the forward function, so finite
    // differences only see the parameters whose path to the loss is smooth: not the refinement
    // adapter (STE through the matching) nor 1-bit weights (STE through sign).
    const wrt = model.trainable.filter((n) => !n.includes('refine') && (spec.pet.bits === 32 || !n.includes('adapter')));
    const fd = checkGradients(model.graph, feeds, { loss: 'loss', wrt, maxEntries: a.entries, tol: 1e-5 });
    console.log(`float64 autodiff vs finite differences: ${fd.checked} entries of ${wrt.length} tensors, max error ${fd.maxError.toExponential(2)} -> ${fd.ok ? 'ok' : 'FAIL'}`);

    const ctx = await session.gpu();
    const g = gradients(model.graph, { loss: 'loss' });
    const v = await verifyOnDevice(g, feeds, ctx, { tol: 2e-4 });
    console.log(`GPU (f32) vs float64 reference, ${v.outputs.length} outputs: max scaled error ${v.worst.error.toExponential(2)} (${v.worst.name}) -> ${v.ok ? 'ok' : 'FAIL'}`);
    return fd.ok && v.ok ? 0 : 1;
  },
});
