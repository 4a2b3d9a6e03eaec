// A/B of the attention kernels on the device (bench/device/run.sh): split-keys (adapter class gpu) vs row-per-lane
// ('cpu' class) in the same process; attention GPU ms from timestamps, whole-step wall ms, logits agreement.
import { compileGraph } from '../../codegen/compile.ts';
import { buildModel, initialWeights } from '../../src/fpet/models/model.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { inferenceSpec, logitsGraph } from '../suites/inference.ts';
import { randomArray } from '../common.ts';
import type { VitPreset } from '../../src/fpet/models/vit.ts';

const gpu = await requestGpu({ label: 'att-ab' });
const cases: [VitPreset, number, string][] = process.argv[2] === 'small' ? [['vit-mnist', 4, 'af']] : [
  ['vit-ti16', 1, 'af'], ['vit-ti16', 1, 'fpet'], ['vit-s16', 1, 'af'], ['vit-b16', 1, 'af'], ['vit-ti16', 8, 'af'], ['vit-mnist', 100, 'af'], ['vit-mnist', 100, 'fpet'], ['vit-mnist', 16, 'af'],
];
for (const [preset, batch, method] of cases) {
  const spec = inferenceSpec(preset, batch, method === 'af' ? { method: 'adaptformer' } : { method: 'fpet', ratio: 0.5, block: preset === 'vit-mnist' ? 3 : 6 });
  const graph = logitsGraph(buildModel(spec).graph);
  const weights = initialWeights(spec, 42);
  const img = spec.vit.imageSize * spec.vit.imageSize * spec.vit.inChannels;
  const feeds: Record<string, ArrayLike<number>> = { images: randomArray(batch * img, 300 + batch, 0, 1) };
  for (const p of graph.params) feeds[p.attrs.name] = weights.get(p.attrs.name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  let ref: Float32Array | undefined;
  const line: string[] = [`${preset} b${batch} ${method}`];
  for (const adapterClass of ['gpu', 'cpu'] as const) {
    const plan = compileGraph(graph, { limits: { ...deviceLimits(gpu), adapterClass } });
    const exe = await Program.create(gpu, plan);
    const out = (await exe.execute(feeds)).logits as Float32Array;
    let diff = 0;
    if (ref) for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i]! - out[i]!));
    else ref = Float32Array.from(out);
    const prof = (await exe.profile(3)) ?? [];
    let att = 0, total = 0;
    plan.kernels.forEach((k, i) => { total += prof[i]?.ms ?? 0; if (k.kind === 'attention') att += prof[i]?.ms ?? 0; });
    const wall = await exe.time(30);
    const cfg = plan.kernels.find((k) => k.kind === 'attention')?.config.split(' ').slice(1, 3).join(' ');
    line.push(`${adapterClass}[${cfg}]: attention ${att.toFixed(3)} ms, kernels ${total.toFixed(3)} ms, wall ${wall.toFixed(3)} ms${ref && adapterClass === 'cpu' ? `, logits max diff ${diff.toExponential(1)}` : ''}`);
    exe.destroy();
  }
  console.log('ATTAB ' + line.join(' | '));
  const errs = gpu.takeErrors();
  if (errs.length) console.log('ATTAB errors', errs.map((e) => e.message).join('; '));
}
gpu.destroy();
process.exit(0);
