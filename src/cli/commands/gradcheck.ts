// `gradcheck`: gradient correctness of a model, two ways: float64 autodiff against central finite
// differences, and the GPU's forward+backward (f32) against the float64 reference.

import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { MODEL_OPTIONS, describeSpec, modelSpecFrom } from '../model-options.ts';
import { buildModel, initialWeights } from '../../models/model.ts';
import { gradients } from '../../ir/autodiff.ts';
import { evaluate } from '../../ir/interpret.ts';
import { checkGradients } from '../../ir/gradcheck.ts';
import { compileGraph } from '../../../codegen/compile.ts';
import { formatAdapterReport, requestGpu } from '../../runtime/device.ts';
import { Program, deviceLimits } from '../../runtime/program.ts';

export const summary = 'Check gradients: float64 autodiff vs finite differences, and GPU vs the float64 reference.';

const OPTIONS = {
  ...MODEL_OPTIONS,
  preset: { ...MODEL_OPTIONS.preset, default: 'vit-micro' },
  batch: { ...MODEL_OPTIONS.batch, default: 2 },
  mergeBlocks: { ...MODEL_OPTIONS.mergeBlocks, default: ['1'] },
  seed: { type: 'number', default: 1, integer: true, help: 'seed of weights and inputs' },
  entries: { type: 'number', default: 8, integer: true, min: 1, help: 'finite-difference entries checked per parameter' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('gradcheck', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('gradcheck', summary, OPTIONS));
    return 0;
  }
  const spec = modelSpecFrom(a);
  const model = buildModel(spec);
  console.log(`model: ${a.preset}, batch ${a.batch}, ${describeSpec(spec)}; ${model.trainable.length} trainable tensors`);
  let s = a.seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const weights = initialWeights(spec, a.seed);
  for (const [k, v] of weights) if (k.includes('adapter') && k.endsWith('up.weight')) for (let i = 0; i < v.length; i++) v[i] = (rand() - 0.5) * 0.2;
  const feeds: Record<string, ArrayLike<number>> = Object.fromEntries(weights);
  const img = model.graph.inputs.find((n) => n.attrs.name === 'images')!.type.shape;
  feeds.images = Float64Array.from({ length: img.reduce((x, y) => x * y, 1) }, rand);
  feeds.onehot = Float64Array.from({ length: a.batch * spec.vit.numClasses }, (_, i) => +(i % spec.vit.numClasses === Math.floor(i / spec.vit.numClasses)));

  // Straight-through estimators are not derivatives of the forward function, so finite
  // differences only see the parameters whose path to the loss is smooth: not the refinement
  // adapter (STE through the matching) nor 1-bit weights (STE through sign).
  const wrt = model.trainable.filter((n) => !n.includes('refine') && (spec.pet.bits === 32 || !n.includes('adapter')));
  const fd = checkGradients(model.graph, feeds, { loss: 'loss', wrt, maxEntries: a.entries, tol: 1e-5 });
  console.log(`float64 autodiff vs finite differences: ${fd.checked} entries of ${wrt.length} tensors, max error ${fd.maxError.toExponential(2)} -> ${fd.ok ? 'ok' : 'FAIL'}`);

  const ctx = await requestGpu({ label: 'gradcheck' });
  console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
  const g = gradients(model.graph, { loss: 'loss' });
  const ref = evaluate(g, feeds).outputs;
  const exe = await Program.create(ctx, compileGraph(g, { limits: deviceLimits(ctx) }));
  const out = await exe.execute(feeds);
  let worst = 0, worstName = '';
  for (const name of g.outputs.keys()) {
    const r = ref[name]!.data, o = out[name]!;
    let scale = 1, err = 0;
    for (let i = 0; i < r.length; i++) scale = Math.max(scale, Math.abs(r[i]!));
    for (let i = 0; i < r.length; i++) err = Math.max(err, Math.abs(o[i]! - r[i]!));
    if (err / scale > worst) [worst, worstName] = [err / scale, name];
  }
  const gpuOk = worst < 2e-4;
  console.log(`GPU (f32) vs float64 reference, ${g.outputs.size} outputs: max scaled error ${worst.toExponential(2)} (${worstName}) -> ${gpuOk ? 'ok' : 'FAIL'}`);
  return fd.ok && gpuOk ? 0 : 1;
}
