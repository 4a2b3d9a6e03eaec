// Child process of the mainjob suite: compiles the vit-mnist AF + FPET training step (batch 16)
// and inference plan (batch 100) and compiles every kernel ahead (Program.warmup: on the main
// device and, on lavapipe, its compile helpers at the same time), timing each plan. Run with an
// empty MESA_SHADER_CACHE_DIR, this is the cold-cache compile cost of the main job's first epoch. Argument: what kernels are specialised to (rows | all, default rows).
// Prints one line: COLD {"train": ms, "infer": ms, "kernels": n} (kernels: distinct modules of the
// two plans together: the driver's shader cache serves the inference plan what the training step
// already compiled).

import { compileGraph } from '../../codegen/compile.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { jobGraph } from './mainjob.ts';

const specialize = process.argv[2] ?? 'rows';
if (specialize !== 'rows' && specialize !== 'all') throw new Error(`mainjob-cold: specialize must be rows or all, got "${specialize}"`);
const ctx = await requestGpu({ label: 'mainjob cold compile' });
const out: Record<string, number> = {};
const modules = new Set<string>();
for (const mode of ['train', 'infer'] as const) {
  const job = jobGraph('fpet', mode);
  const plan = compileGraph(job.graph, { limits: deviceLimits(ctx), specialize, writeBack: job.writeBack });
  const exe = await Program.create(ctx, plan, { writeBack: job.writeBack });
  exe.write(job.feeds);
  out[mode] = await exe.warmup();
  for (const s of plan.steps) modules.add(s.kernel.code);
  exe.destroy();
}
console.log(`COLD ${JSON.stringify({ ...out, kernels: modules.size })}`);
process.exit(0);
