// `compile`: build a model graph (optionally with its backward and optimizer), compile it, print
// the plan (kernels, shapes, FLOPs, bytes, memory), write every kernel's WGSL to a folder, and
// validate every kernel on the device when there is one (the pipelines are created; the driver's
// compile errors are reported by kernel).

import { writeFileSync } from 'node:fs';
import { checkOutputDir, makeDir } from '../../../core/util/files.ts';
import { display } from '../../../core/util/text.ts';
import { join } from 'node:path';
import type { OptionSpec } from '../args.ts';
import { defineCommand } from '../command.ts';
import { MODEL_OPTIONS, TUNE_OPTION, describeSpec, modelSpecFrom } from '../model-options.ts';
import { buildModel, validateSpec } from '../../../fpet/models/model.ts';
import { gradients } from '../../../core/ir/autodiff.ts';
import { withAdamW } from '../../../fpet/train/optimizer.ts';
import { compileGraph, describePlan, DEFAULT_LIMITS, GPU_CLASS_LIMITS, type Specialize } from '../../../../codegen/compile.ts';
import { treeText } from '../../../../codegen/dump.ts';
import { formatAdapterReport, type GpuContext } from '../../../core/runtime/device.ts';
import { Program, deviceLimits } from '../../../core/runtime/program.ts';
import { compileTuned, describeTune, type TuneMode } from '../../../core/runtime/tune.ts';


const OPTIONS = {
  ...MODEL_OPTIONS,
  ...TUNE_OPTION,
  merge: { ...MODEL_OPTIONS.merge, default: 'none' },
  batch: { ...MODEL_OPTIONS.batch, default: 1 },
  mode: { type: 'string', default: 'forward', choices: ['forward', 'backward', 'train-step'], help: 'inference graph, forward+backward, or a whole AdamW training step' },
  unfused: { type: 'boolean', default: false, help: 'one kernel per op (the baseline)' },
  specialize: { type: 'string', default: 'rows', choices: ['rows', 'all'], help: 'rows: kernels read row counts (tokens × batch) at run time, so blocks before and after a token merge share modules; all: every size a constant of the code' },
  target: { type: 'string', default: 'device', choices: ['device', 'portable', 'gpu'], help: 'compile for this machine\'s adapter (validated on it), for WebGPU\'s guaranteed limits, or for a discrete GPU\'s (subgroups of 32, 16 storage buffers: the plans an H100 or H200 runs)' },
  validate: { type: 'boolean', default: true, help: 'create every pipeline on the device to validate the kernels' },
  out: { type: 'string', default: 'runs/kernels', help: 'folder for the .wgsl files and plan.txt' },
  tree: { type: 'boolean', default: false, help: 'also write each kernel\'s tree (the kernel IR after its passes) as <kernel>.tree.txt' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export default defineCommand({
  summary: 'Compile a model to WGSL: print the plan, write the kernels, validate them on the device.',
  options: OPTIONS,
  async run(a, session) {
    const spec = modelSpecFrom(a);
    validateSpec(spec);
    checkOutputDir(a.out, '--out');
    const model = buildModel(a.mode === 'forward' ? spec : { ...spec, training: { dropout: 0.1, dropPath: 0.1 } });
    let graph = model.graph;
    let writeBack: readonly (readonly [string, string])[] = [];
    if (a.mode !== 'forward') graph = gradients(graph, { loss: 'loss' });
    // A training step as training compiles it: the updates written back over the parameters.
    if (a.mode === 'train-step') ({ graph, writeBack } = withAdamW(graph, model.trainable));

    // The device, when there is one: its limits shape the kernels, and it validates them.
    let ctx: GpuContext | undefined;
    let noDevice = '';
    if (a.target === 'device' || a.validate) {
      try {
        ctx = await session.gpu();
      } catch (e) {
        noDevice = (e as Error).message.split('\n')[0]!;
      }
    }
    const limits = a.target === 'device' && ctx ? deviceLimits(ctx) : a.target === 'gpu' ? GPU_CLASS_LIMITS : DEFAULT_LIMITS;
    // On this device, matmul variants come from the tuner (as train/eval/infer get them); portable
    // plans use the heuristic defaults.
    const tuneMode = a.tune as TuneMode;
    const specialize = a.specialize as Specialize;
    let plan = compileGraph(graph, { fuse: !a.unfused, limits, specialize, writeBack });
    let tuned = '';
    if (ctx && a.target === 'device' && tuneMode !== 'off' && !a.unfused) {
      const t = await compileTuned(graph, ctx, { fuse: true, limits, specialize, writeBack }, { mode: tuneMode }, Program);
      plan = t.plan;
      tuned = describeTune(t.tune);
    }
    const text = [
      `model: ${a.preset}, batch ${a.batch}, ${describeSpec(spec)}, ${a.mode}; tokens per block (attention/MLP): ${model.tokenCounts.map((t) => `${t.attention}/${t.mlp}`).join(' ')}`,
      `graph: ${graph.nodes.length} nodes; limits: ${a.target === 'device' && ctx ? `this device (${ctx.info.description})` : a.target === 'gpu' ? 'a discrete GPU (subgroups of 32, 16 storage buffers, adapter class gpu)' : 'WebGPU defaults (portable)'}`,
      ...(tuned ? [tuned] : []),
      describePlan(plan),
    ].join('\n');
    console.log(text);
    makeDir(a.out, '--out');
    const batched = plan.steps.filter((s) => s.parts.length > 1).map((s) => s.kernel);
    for (const k of [...plan.kernels, ...batched]) {
      writeFileSync(join(a.out, `${k.name}.wgsl`), k.wgsl);
      if (a.tree) writeFileSync(join(a.out, `${k.name}.tree.txt`), treeText(k.ir));
    }
    writeFileSync(join(a.out, 'plan.txt'), `${text}\n`);
    console.log(`\nwrote ${plan.kernels.length} kernels, ${batched.length} batched dispatches (bNNN_*.wgsl) and plan.txt to ${display(a.out)}`);

    if (!a.validate) return 0;
    if (!ctx) {
      console.log(`kernels NOT validated on a device: ${noDevice || 'no WebGPU adapter'} (the WGSL was generated, and names were checked against WGSL's reserved lists)`);
      return 0;
    }
    console.log(`validating ${plan.uniqueModules} distinct modules on ${formatAdapterReport(ctx.info)}`);
    try {
      // Validation only: a GPU-class plan's subgroup kernels may assume another lane count than this device's.
      const program = await Program.create(ctx, plan, { compileOnly: true });
      const errors = ctx.takeErrors();
      if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
      console.log(`all ${plan.uniqueModules} distinct modules compiled into pipelines on the device (${(program.pipelineMs / 1000).toFixed(2)} s)`);
      program.destroy();
      return 0;
    } catch (e) {
      console.error(`kernel validation FAILED: ${(e as Error).message}`);
      return 1;
    }
  },
});
