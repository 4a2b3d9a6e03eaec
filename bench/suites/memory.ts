// memory: what the planner does for whole ViTs, without a GPU. For ViT-Ti/16 and ViT-S/16,
// inference (forward) and training (forward+backward of a cross-entropy loss, either every
// parameter trainable or only the head and final norm): the work arena's planned peak against the
// total with no reuse, and kernel counts. Kernels per block come from compiling the same model
// at depth 1 and depth 2 and taking the difference.

import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { crossEntropy } from '../../src/core/ir/nn.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { buildVit, VIT_PRESETS, type VitConfig } from '../../src/fpet/models/vit.ts';
import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { MiB, type Suite, type SuiteContext, type SuiteResult } from '../common.ts';

export type TrainMode = 'inference' | 'train-all' | 'train-head';

const MODELS = [
  { model: 'ViT-Ti/16', preset: 'vit-ti16' },
  { model: 'ViT-S/16', preset: 'vit-s16' },
] as const;

/** Parameters trained in 'train-head' mode (a linear probe with the final norm). */
const HEAD_PARAMS = ['head.weight', 'head.bias', 'norm.weight', 'norm.bias'];

export interface VitGraphs {
  readonly graph: Graph;
  /** Nodes [0, forwardNodes) are the forward computation (autodiff appends the backward after them). */
  readonly forwardNodes: number;
}

/** A ViT as an inference or training graph (loss = cross-entropy against one-hot "labels"). */
export function vitGraph(config: VitConfig, batch: number, mode: TrainMode): VitGraphs {
  const b = new GraphBuilder();
  const images = b.input('images', [batch, config.inChannels, config.imageSize, config.imageSize]);
  const trainable = (name: string) => mode === 'train-all' || (mode === 'train-head' && HEAD_PARAMS.includes(name));
  const { logits } = buildVit(b, images, config, (name, shape) => b.param(name, shape, { trainable: trainable(name) }));
  b.output('logits', logits);
  if (mode === 'inference') {
    const graph = b.build();
    return { graph, forwardNodes: graph.nodes.length };
  }
  b.output('loss', crossEntropy(logits, b.input('labels', [batch, config.numClasses])));
  const forward = b.build();
  return { graph: gradients(forward, { loss: 'loss' }), forwardNodes: forward.nodes.length };
}

export interface KernelSplit {
  readonly total: number;
  readonly forward: number;
  readonly backward: number;
}

/** Kernels whose root is a forward node vs a backward node. */
export function splitKernels(plan: CompiledPlan, forwardNodes: number): KernelSplit {
  const forward = plan.kernels.filter((k) => k.root < forwardNodes).length;
  return { total: plan.kernels.length, forward, backward: plan.kernels.length - forward };
}

export interface MemoryRow {
  readonly model: string;
  readonly mode: TrainMode;
  readonly batch: number;
  readonly kernels: KernelSplit;
  readonly uniqueKernels: number;
  readonly paramsMiB: number;
  readonly inputsMiB: number;
  readonly workPeakMiB: number;
  readonly noReuseMiB: number;
  /** No-reuse total ÷ planned peak. */
  readonly reuseFactor: number;
  readonly gflop: number;
  readonly compileMs: number;
}

export interface PerBlockRow {
  readonly model: string;
  /** Kernels one more block adds to the inference plan. */
  readonly forward: number;
  /** ... to the training plan (all parameters trainable): its forward and backward kernels. */
  readonly trainForward: number;
  readonly backward: number;
  /** Distinct WGSL modules one more block adds (repeated blocks share pipelines). */
  readonly uniqueForward: number;
  readonly uniqueTrain: number;
}

function compileTimed(graph: Graph, ctx: SuiteContext): { plan: CompiledPlan; ms: number } {
  const t0 = performance.now();
  const plan = compileGraph(graph, { limits: ctx.limits });
  return { plan, ms: performance.now() - t0 };
}

export const memorySuite: Suite = {
  name: 'memory',
  description: 'memory planner peak vs no reuse and kernels per ViT block (no GPU needed)',
  needsGpu: false,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const batches = ctx.quick ? [1] : [1, 8];
    const modes: TrainMode[] = ['inference', 'train-all', 'train-head'];
    const rows: MemoryRow[] = [];
    const perBlock: PerBlockRow[] = [];
    const problems: string[] = [];
    const bar = ctx.progress('memory', MODELS.length * (batches.length * modes.length + 4), 'plan');

    // Kernels per block: depth 2 minus depth 1, batch 1. First, so that these small compiles also
    // warm up the JIT before the compile times measured below.
    for (const { model, preset } of MODELS) {
      const config = VIT_PRESETS[preset];
      try {
        const at = (depth: number, mode: TrainMode) => {
          const { graph, forwardNodes } = vitGraph({ ...config, depth }, 1, mode);
          const plan = compileGraph(graph, { limits: ctx.limits });
          bar.tick(1, `${model} depth ${depth} ${mode}`);
          return { split: splitKernels(plan, forwardNodes), unique: plan.uniqueKernels };
        };
        const [f1, f2, t1, t2] = [at(1, 'inference'), at(2, 'inference'), at(1, 'train-all'), at(2, 'train-all')];
        perBlock.push({
          model,
          forward: f2.split.total - f1.split.total,
          trainForward: t2.split.forward - t1.split.forward,
          backward: t2.split.backward - t1.split.backward,
          uniqueForward: f2.unique - f1.unique,
          uniqueTrain: t2.unique - t1.unique,
        });
      } catch (e) {
        problems.push(`${model} per-block kernel counts: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const { model, preset } of MODELS) {
      const config = VIT_PRESETS[preset];
      for (const batch of batches) {
        for (const mode of modes) {
          try {
            const { graph, forwardNodes } = vitGraph(config, batch, mode);
            const { plan, ms } = compileTimed(graph, ctx);
            const m = plan.memory;
            rows.push({
              model, mode, batch,
              kernels: splitKernels(plan, forwardNodes),
              uniqueKernels: plan.uniqueKernels,
              paramsMiB: MiB(plan.arenaBytes.params),
              inputsMiB: MiB(plan.arenaBytes.inputs),
              workPeakMiB: MiB(m.arenaBytes),
              noReuseMiB: MiB(m.noReuseBytes),
              reuseFactor: m.noReuseBytes / Math.max(1, m.arenaBytes),
              gflop: plan.flops / 1e9,
              compileMs: ms,
            });
          } catch (e) {
            problems.push(`${model} ${mode} b${batch}: ${e instanceof Error ? e.message : String(e)}`);
          }
          bar.tick(1, `${model} ${mode} b${batch}`);
        }
      }
    }
    bar.done();

    const f2 = (x: number) => Number(x.toFixed(2));
    return {
      data: { plans: rows, perBlock },
      problems,
      tables: [
        {
          title: 'memory: work arena planned peak vs no reuse (whole model, depth 12)',
          columns: ['model', 'graph', 'batch', 'kernels', 'fwd / bwd kernels', 'distinct WGSL', 'params MiB', 'work peak MiB', 'no-reuse MiB', 'no-reuse/peak', 'GFLOP', 'compile ms'],
          rows: rows.map((r) => [
            r.model, r.mode, r.batch, r.kernels.total, `${r.kernels.forward} / ${r.kernels.backward}`, r.uniqueKernels,
            f2(r.paramsMiB), f2(r.workPeakMiB), f2(r.noReuseMiB), f2(r.reuseFactor), f2(r.gflop), Math.round(r.compileMs),
          ]),
          notes: [
            `train-all: every parameter trainable; train-head: only ${HEAD_PARAMS.join(', ')}. Training graphs: loss = cross-entropy against one-hot labels.`,
            'Work arena = every kernel output (activations saved for backward, gradients, outputs); params and inputs live in their own arenas.',
          ],
        },
        {
          title: 'kernels per ViT block (depth 2 minus depth 1, batch 1)',
          columns: ['model', 'forward (inference)', 'forward (training)', 'backward', 'new distinct WGSL inference', 'new distinct WGSL training'],
          rows: perBlock.map((r) => [r.model, r.forward, r.trainForward, r.backward, r.uniqueForward, r.uniqueTrain]),
          notes: ['Training: every parameter trainable. A kernel counts as backward when it computes a node autodiff added.'],
        },
      ],
      charts: [{
        file: 'memory.svg',
        svg: barChart({
          title: 'Work arena: planned peak vs no reuse',
          yLabel: 'MiB',
          groups: rows.map((r) => ({
            label: `${r.model.replace('/16', '')} ${r.mode} b${r.batch}`,
            bars: [{ name: 'planned peak', value: r.workPeakMiB }, { name: 'no reuse', value: r.noReuseMiB }],
          })),
        }),
      }],
    };
  },
};
