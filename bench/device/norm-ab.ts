// A/B of LayerNorm as a tiled-matmul prologue on the device (bench/device/run.sh), GPU-class plans
// in one process: 'auto' (the default: norms fused into matmuls up to GPU_NORM_PROLOGUE_MAX_FLOPS),
// 'always' (every norm the pass can) and 'never' (row kernels). Per plan: dispatches, kernel GPU ms
// from timestamps, whole-step wall ms, logits agreement with 'never'. Sets the limit from data.
import { compileGraph } from '../../codegen/compile.ts';
import { FUSION_PASSES, normProloguesUpTo } from '../../codegen/fusion/index.ts';
import { buildModel, initialWeights } from '../../src/fpet/models/model.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { inferenceSpec, logitsGraph } from '../suites/inference.ts';
import { randomArray } from '../common.ts';
import type { VitPreset } from '../../src/fpet/models/vit.ts';

const gpu = await requestGpu({ label: 'norm-ab' });
const cases: [VitPreset, number][] = process.argv[2] === 'small' ? [['vit-mnist', 4]] : [['vit-ti16', 1], ['vit-b16', 1], ['vit-b16', 8], ['vit-b16', 32], ['vit-mnist', 100]];
const policies = {
  never: FUSION_PASSES.filter((p) => p.name !== 'fuse-norm-prologues'),
  auto: undefined,
  always: FUSION_PASSES.map((p) => (p.name === 'fuse-norm-prologues' ? normProloguesUpTo(Infinity) : p)),
};
for (const [preset, batch] of cases) {
  const spec = inferenceSpec(preset, batch, { method: 'adaptformer' });
  const graph = logitsGraph(buildModel(spec).graph);
  const weights = initialWeights(spec, 42);
  const img = spec.vit.imageSize * spec.vit.imageSize * spec.vit.inChannels;
  const feeds: Record<string, ArrayLike<number>> = { images: randomArray(batch * img, 300 + batch, 0, 1) };
  for (const p of graph.params) feeds[p.attrs.name] = weights.get(p.attrs.name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  let ref: Float32Array | undefined;
  const line: string[] = [`${preset} b${batch}`];
  for (const [policy, fusionPasses] of Object.entries(policies)) {
    const plan = compileGraph(graph, { limits: { ...deviceLimits(gpu), adapterClass: 'gpu' }, ...(fusionPasses ? { fusionPasses } : {}) });
    const exe = await Program.create(gpu, plan);
    const out = (await exe.execute(feeds)).logits as Float32Array;
    let diff = 0;
    if (ref) for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i]! - out[i]!));
    else ref = Float32Array.from(out);
    const prof = (await exe.profile(3)) ?? [];
    const total = prof.reduce((s, k) => s + k.ms, 0);
    const wall = await exe.time(30);
    line.push(`${policy}: ${plan.steps.length} dispatches, kernels ${total.toFixed(3)} ms, wall ${wall.toFixed(3)} ms${policy === 'never' ? '' : `, logits max diff ${diff.toExponential(1)}`}`);
    exe.destroy();
  }
  console.log('NORMAB ' + line.join(' | '));
  const errs = gpu.takeErrors();
  if (errs.length) console.log('NORMAB errors', errs.map((e) => e.message).join('; '));
}
gpu.destroy();
process.exit(0);
