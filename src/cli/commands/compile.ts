// `compile`: build a model graph (optionally with its backward and optimizer), compile it, print
// the plan (kernels, shapes, FLOPs, bytes, memory) and write every kernel's WGSL to a folder.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { helpText, parseArgs, type OptionSpec } from '../args.ts';
import { MODEL_OPTIONS, describeSpec, modelSpecFrom } from '../model-options.ts';
import { buildModel } from '../../models/model.ts';
import { gradients } from '../../ir/autodiff.ts';
import { withAdamW } from '../../train/optimizer.ts';
import { compileGraph, describePlan, DEFAULT_LIMITS } from '../../../codegen/compile.ts';

export const summary = 'Compile a model to WGSL: print the plan and write the kernels.';

const OPTIONS = {
  ...MODEL_OPTIONS,
  merge: { ...MODEL_OPTIONS.merge, default: 'none' },
  batch: { ...MODEL_OPTIONS.batch, default: 1 },
  mode: { type: 'string', default: 'forward', choices: ['forward', 'backward', 'train-step'], help: 'inference graph, forward+backward, or a whole AdamW training step' },
  unfused: { type: 'boolean', default: false, help: 'one kernel per op (the baseline)' },
  maxStorageBuffers: { type: 'number', default: 16, integer: true, min: 4, help: 'device limit to compile for' },
  out: { type: 'string', default: 'runs/kernels', help: 'folder for the .wgsl files and plan.txt' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('compile', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('compile', summary, OPTIONS));
    return 0;
  }
  const spec = modelSpecFrom(a);
  const model = buildModel(a.mode === 'forward' ? spec : { ...spec, training: { dropout: 0.1, dropPath: 0.1 } });
  let graph = model.graph;
  if (a.mode !== 'forward') graph = gradients(graph, { loss: 'loss' });
  if (a.mode === 'train-step') graph = withAdamW(graph, model.trainable).graph;
  const t0 = performance.now();
  const plan = compileGraph(graph, { fuse: !a.unfused, limits: { ...DEFAULT_LIMITS, maxStorageBuffersPerShaderStage: a.maxStorageBuffers } });
  const ms = performance.now() - t0;
  const text = [
    `model: ${a.preset}, batch ${a.batch}, ${describeSpec(spec)}, ${a.mode}; tokens per block (attention/MLP): ${model.tokenCounts.map((t) => `${t.attention}/${t.mlp}`).join(' ')}`,
    `graph: ${graph.nodes.length} nodes; compiled in ${ms.toFixed(0)} ms`,
    describePlan(plan),
  ].join('\n');
  console.log(text);
  mkdirSync(a.out, { recursive: true });
  for (const k of plan.kernels) writeFileSync(join(a.out, `${k.name}.wgsl`), `// ${k.kind} ${k.config}; dispatch ${k.dispatch.join('x')}; ${k.flops} FLOP\n${k.wgsl}`);
  writeFileSync(join(a.out, 'plan.txt'), `${text}\n`);
  console.log(`\nwrote ${plan.kernels.length} kernels and plan.txt to ${a.out}`);
  return 0;
}
