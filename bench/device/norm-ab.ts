// A/B of LayerNorm as a tiled-matmul prologue on the device (bench/device/run.sh), GPU-class plans
// in one process: 'auto' (the default: norms read by one matmul take per-64-column sums from the
// matmul writing their input, codegen/granule-statistics.ts; others are fused into matmuls up to
// GPU_NORM_PROLOGUE_MAX_FLOPS), 'rows' (auto without the granule sums: each column tile re-reads
// its rows where fused), 'always' (every norm the pass can, re-reading rows) and 'never' (row
// kernels). Per plan: dispatches, kernel GPU ms from timestamps, whole-step wall ms, logits
// agreement with 'never'. Sets the limit and the granule default from data.
import { compileGraph, type CompileOptions } from '../../codegen/compile.ts';
import { FUSION_PASSES, normProloguesUpTo } from '../../codegen/fusion/index.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { deviceLimits } from '../../src/core/runtime/program.ts';
import type { VitPreset } from '../../src/fpet/models/vit.ts';
import { logitsJob, printErrors, runLogits } from './ab-common.ts';

const gpu = await requestGpu({ label: 'norm-ab' });
const cases: [VitPreset, number][] = process.argv[2] === 'small' ? [['vit-mnist', 4]] : [['vit-ti16', 1], ['vit-b16', 1], ['vit-b16', 8], ['vit-b16', 32], ['vit-mnist', 100]];
const policies: Record<string, CompileOptions> = {
  never: { fusionPasses: FUSION_PASSES.filter((p) => p.name !== 'fuse-norm-prologues') },
  rows: { granuleStatistics: false },
  auto: {},
  always: { fusionPasses: FUSION_PASSES.map((p) => (p.name === 'fuse-norm-prologues' ? normProloguesUpTo(Infinity) : p)) },
};
for (const [preset, batch] of cases) {
  const { graph, feeds } = logitsJob(preset, batch, { method: 'adaptformer' });
  let ref: Float32Array | undefined;
  const line: string[] = [`${preset} b${batch}`];
  for (const [policy, options] of Object.entries(policies)) {
    const plan = compileGraph(graph, { limits: { ...deviceLimits(gpu), adapterClass: 'gpu' }, ...options });
    const run = await runLogits(gpu, plan, feeds, ref);
    ref ??= run.logits;
    const total = run.profile.reduce((s, k) => s + k.ms, 0);
    line.push(`${policy}: ${plan.steps.length} dispatches, kernels ${total.toFixed(3)} ms, wall ${run.wallMs.toFixed(3)} ms${policy === 'never' ? '' : `, logits max diff ${run.maxDiff.toExponential(1)}`}`);
  }
  console.log('NORMAB ' + line.join(' | '));
  printErrors(gpu, 'NORMAB');
}
gpu.destroy();
process.exit(0);
