// A/B of the attention kernels on the device (bench/device/run.sh): split-keys (adapter class gpu) vs row-per-lane
// ('cpu' class) in the same process; attention GPU ms from timestamps, whole-step wall ms, logits agreement.
import { compileGraph } from '../../codegen/compile.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { deviceLimits } from '../../src/core/runtime/program.ts';
import type { VitPreset } from '../../src/fpet/models/vit.ts';
import { logitsJob, printErrors, runLogits } from './ab-common.ts';

const gpu = await requestGpu({ label: 'att-ab' });
const cases: [VitPreset, number, string][] = process.argv[2] === 'small' ? [['vit-mnist', 4, 'af']] : [
  ['vit-ti16', 1, 'af'], ['vit-ti16', 1, 'fpet'], ['vit-s16', 1, 'af'], ['vit-b16', 1, 'af'], ['vit-ti16', 8, 'af'], ['vit-mnist', 100, 'af'], ['vit-mnist', 100, 'fpet'], ['vit-mnist', 16, 'af'],
];
for (const [preset, batch, method] of cases) {
  const { graph, feeds } = logitsJob(preset, batch, method === 'af' ? { method: 'adaptformer' } : { method: 'fpet', ratio: 0.5, block: preset === 'vit-mnist' ? 3 : 6 });
  let ref: Float32Array | undefined;
  const line: string[] = [`${preset} b${batch} ${method}`];
  for (const adapterClass of ['gpu', 'cpu'] as const) {
    const plan = compileGraph(graph, { limits: { ...deviceLimits(gpu), adapterClass } });
    const run = await runLogits(gpu, plan, feeds, ref);
    ref ??= run.logits;
    let att = 0, total = 0;
    plan.kernels.forEach((k, i) => { total += run.profile[i]?.ms ?? 0; if (k.kind === 'attention') att += run.profile[i]?.ms ?? 0; });
    const cfg = plan.kernels.find((k) => k.kind === 'attention')?.config.split(' ').slice(1, 3).join(' ');
    line.push(`${adapterClass}[${cfg}]: attention ${att.toFixed(3)} ms, kernels ${total.toFixed(3)} ms, wall ${run.wallMs.toFixed(3)} ms${adapterClass === 'cpu' ? `, logits max diff ${run.maxDiff.toExponential(1)}` : ''}`);
  }
  console.log('ATTAB ' + line.join(' | '));
  printErrors(gpu, 'ATTAB');
}
gpu.destroy();
process.exit(0);
