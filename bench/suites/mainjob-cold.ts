// Child process of the mainjob suite: compiles the vit-mnist AF + FPET training step (batch 16)
// and inference plan (batch 100) and compiles every kernel ahead (Program.warmup: on the main
// device and, on lavapipe, its compile helpers at the same time), timing each plan. Run with an
// empty MESA_SHADER_CACHE_DIR, this is the cold-cache compile cost of the main job's first epoch. Argument: what kernels are specialised to (rows | all, default rows).
// Prints one line: COLD {"train": ms, "infer": ms, "kernels": n} (kernels: distinct modules of the
// two plans together: the driver's shader cache serves the inference plan what the training step
// already compiled). With the argument `sequence`: the main job's three models one after the other
// (code generation included), as `transfer` compiles them: each training step before its first
// step, each evaluator at its first evaluation; prints COLD {"adaptformer": {"train": ms, "infer": ms}, ...}.

import { compileGraph, type Specialize } from '../../codegen/compile.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { Program, deviceLimits } from '../../src/core/runtime/program.ts';
import { MAIN_JOB, type MainJobMethod } from '../../src/fpet/recipes/main-job.ts';
import { jobGraph, type JobMode } from './mainjob.ts';

const arg = process.argv[2] ?? 'rows';
if (arg !== 'rows' && arg !== 'all' && arg !== 'sequence') throw new Error(`mainjob-cold: the argument must be rows, all or sequence, got "${arg}"`);
const ctx = await requestGpu({ label: 'mainjob cold compile' });

/** Generates and compiles ahead one plan of `method`; returns the compile-ahead ms and the plan's module codes. */
async function compileJob(method: MainJobMethod, mode: JobMode, specialize: Specialize): Promise<{ ms: number; codes: string[] }> {
  const job = jobGraph(method, mode);
  const plan = compileGraph(job.graph, { limits: deviceLimits(ctx), specialize, writeBack: job.writeBack });
  const exe = await Program.create(ctx, plan, { writeBack: job.writeBack });
  const ms = await exe.warmup();
  exe.destroy();
  return { ms, codes: plan.steps.map((s) => s.kernel.code) };
}

if (arg === 'sequence') {
  // What `transfer` waits for before each model's first step (the training step; code generation
  // included), and at its first evaluation (the evaluator).
  const out: Partial<Record<MainJobMethod, Record<JobMode, number>>> = {};
  // The order `transfer` trains them in.
  for (const method of MAIN_JOB.methods) {
    const ms = { train: 0, infer: 0 };
    for (const mode of ['train', 'infer'] as const) {
      const t0 = performance.now();
      await compileJob(method, mode, 'rows');
      ms[mode] = performance.now() - t0;
    }
    out[method] = ms;
  }
  console.log(`COLD ${JSON.stringify(out)}`);
} else {
  const out: Record<string, number> = {};
  const modules = new Set<string>();
  for (const mode of ['train', 'infer'] as const) {
    const { ms, codes } = await compileJob('fpet', mode, arg);
    out[mode] = ms;
    for (const c of codes) modules.add(c);
  }
  console.log(`COLD ${JSON.stringify({ ...out, kernels: modules.size })}`);
}
process.exit(0);
