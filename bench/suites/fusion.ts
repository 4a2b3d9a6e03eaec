// fusion: one ViT MLP block and one attention block, compiled fused (the default) and unfused
// (one kernel per op), forward and forward+backward: kernel counts, time per step, and the
// unfused/fused time ratio. The fused and unfused results are compared with each other.

import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { gelu, layerNorm, linear, softmax } from '../../src/core/ir/nn.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { fmtErr, fmtTiming, gpuErrors, maxRelDiff, randomArray, type Suite, type SuiteContext, type SuiteResult, type Timing, timeGpuSteps } from '../common.ts';

export type BlockKind = 'mlp' | 'attention';

export interface FusionCase {
  readonly model: string;
  readonly dim: number;
  readonly heads: number;
  readonly tokens: number;
  readonly batch: number;
  readonly block: BlockKind;
  /** Forward only, or forward and backward (gradients of every parameter and of the block input). */
  readonly backward: boolean;
}

const WIDTHS = [
  { model: 'ViT-Ti/16', dim: 192, heads: 3 },
  { model: 'ViT-S/16', dim: 384, heads: 6 },
] as const;

export function fusionCases(quick: boolean): FusionCase[] {
  const out: FusionCase[] = [];
  for (const batch of quick ? [1] : [1, 8]) {
    for (const w of WIDTHS) {
      for (const block of ['mlp', 'attention'] as const) {
        for (const backward of [false, true]) out.push({ ...w, tokens: 197, batch, block, backward });
      }
    }
  }
  return out;
}

export const fusionLabel = (c: FusionCase): string =>
  `${c.model.replace('/16', '')} ${c.block} ${c.backward ? 'fwd+bwd' : 'fwd'} b${c.batch}`;

/** LayerNorm -> fc1 -> GELU -> fc2 -> residual (timm Block's second half). */
export function mlpBlock(x: Tensor, dim: number, P: (name: string, shape: readonly number[]) => Tensor): Tensor {
  const hidden = 4 * dim;
  const u = layerNorm(x, P('norm2.weight', [dim]), P('norm2.bias', [dim]));
  const h = gelu(linear(u, P('mlp.fc1.weight', [hidden, dim]), P('mlp.fc1.bias', [hidden])));
  return x.add(linear(h, P('mlp.fc2.weight', [dim, hidden]), P('mlp.fc2.bias', [dim])));
}

/** LayerNorm -> qkv -> heads -> softmax(QKᵀ/√d)·V -> merge heads -> proj -> residual. */
export function attentionBlock(x: Tensor, dim: number, heads: number, P: (name: string, shape: readonly number[]) => Tensor): Tensor {
  const [B, n] = x.shape as [number, number, number];
  const hd = dim / heads;
  const u = layerNorm(x, P('norm1.weight', [dim]), P('norm1.bias', [dim]));
  const qkv = linear(u, P('attn.qkv.weight', [3 * dim, dim]), P('attn.qkv.bias', [3 * dim]));
  const split = (i: number) => qkv.narrow(2, i * dim, dim).reshape([B, n, heads, hd]).permute([0, 2, 1, 3]);
  const [q, k, v] = [split(0), split(1), split(2)];
  const attn = softmax(q.matmul(k.transpose()).mul(1 / Math.sqrt(hd))).matmul(v).permute([0, 2, 1, 3]).reshape([B, n, dim]);
  return x.add(linear(attn, P('attn.proj.weight', [dim, dim]), P('attn.proj.bias', [dim])));
}

/**
 * The block as a graph. The block input is a trainable parameter "x" so that the backward graph
 * also computes dL/dx, as inside a network; the upstream gradient is the input "dy"
 * (loss = Σ y·dy, so dL/dy = dy).
 */
export function blockGraph(c: FusionCase): Graph {
  const b = new GraphBuilder();
  const P = (name: string, shape: readonly number[]) => b.param(name, shape, { trainable: true });
  const x = P('x', [c.batch, c.tokens, c.dim]);
  const y = c.block === 'mlp' ? mlpBlock(x, c.dim, P) : attentionBlock(x, c.dim, c.heads, P);
  b.output('y', y);
  if (!c.backward) return b.build();
  b.output('loss', y.mul(b.input('dy', y.shape)).sumAll());
  return gradients(b.build(), { loss: 'loss' });
}

/** Deterministic feeds: activations in [-1, 1), weights ±0.05, LayerNorm scales near 1. */
export function blockFeeds(graph: Graph, seed: number): Record<string, Float32Array> {
  const feeds: Record<string, Float32Array> = {};
  const leaves = [...graph.params, ...graph.inputs];
  leaves.forEach((node, i) => {
    const name = node.attrs.name;
    const size = numel(node.type.shape);
    if (/norm\d?\.weight$/.test(name)) feeds[name] = randomArray(size, seed + i, 0.9, 1.1);
    else if (name === 'x' || name === 'dy') feeds[name] = randomArray(size, seed + i);
    else feeds[name] = randomArray(size, seed + i, -0.05, 0.05);
  });
  return feeds;
}

export interface VariantResult {
  readonly kernels: number;
  readonly uniqueKernels: number;
  readonly gflop: number;
  readonly workArenaMiB: number;
  readonly timing: Timing;
}

export interface FusionResult extends FusionCase {
  readonly fused: VariantResult;
  readonly unfused: VariantResult;
  /** Unfused median time ÷ fused median time. */
  readonly speedup: number;
  /** Max relative difference between fused and unfused outputs, over all outputs. */
  readonly maxDiff: number;
}

function variantResult(plan: CompiledPlan, timing: Timing): VariantResult {
  return {
    kernels: plan.kernels.length,
    uniqueKernels: plan.uniqueKernels,
    gflop: plan.flops / 1e9,
    workArenaMiB: plan.memory.arenaBytes / 2 ** 20,
    timing,
  };
}

async function runCase(ctx: SuiteContext, c: FusionCase, seed: number, problems: string[]): Promise<FusionResult> {
  const gpu = ctx.gpu!;
  const label = fusionLabel(c);
  const graph = blockGraph(c);
  const feeds = blockFeeds(graph, seed);
  const outputs = [...graph.outputs.keys()];
  const fusedPlan = compileGraph(graph, { limits: ctx.limits });
  const unfusedPlan = compileGraph(graph, { fuse: false, limits: ctx.limits });
  const exes: Program[] = [];
  try {
    for (const plan of [fusedPlan, unfusedPlan]) {
      const exe = await Program.create(gpu, plan);
      exes.push(exe);
      exe.write(feeds);
    }
    const [fused, unfused] = exes as [Program, Program];
    const [tf, tu] = await timeGpuSteps(gpu.device, [
      { name: `fused ${label}`, step: () => fused.run() },
      { name: `unfused ${label}`, step: () => unfused.run() },
    ], ctx.timing) as [Timing, Timing];
    // The last steps ran on the feeds above in both: compare every output.
    const [a, b] = [await fused.read(outputs), await unfused.read(outputs)];
    let maxDiff = 0;
    for (const name of outputs) {
      const d = maxRelDiff(a[name]!, b[name]!);
      if (!(d <= 1e-3)) problems.push(`${label}: fused and unfused "${name}" differ: max rel diff ${fmtErr(d)}`);
      maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
    }
    return { ...c, fused: variantResult(fusedPlan, tf), unfused: variantResult(unfusedPlan, tu), speedup: tu.medianMs / tf.medianMs, maxDiff };
  } finally {
    for (const exe of exes) exe.destroy();
  }
}

export const fusionSuite: Suite = {
  name: 'fusion',
  description: 'ViT MLP and attention blocks, fused vs unfused, forward and forward+backward',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const cases = fusionCases(ctx.quick);
    const problems: string[] = [];
    const results: FusionResult[] = [];
    const bar = ctx.progress('fusion', cases.length, 'case');
    for (const [i, c] of cases.entries()) {
      const label = fusionLabel(c);
      try {
        const r = await runCase(ctx, c, 2000 + i * 100, problems);
        results.push(r);
        ctx.log(`  ${label}: fused ${r.fused.kernels} kernels ${fmtTiming(r.fused.timing)}, unfused ${r.unfused.kernels} kernels ${fmtTiming(r.unfused.timing)}, unfused/fused ×${r.speedup.toFixed(2)}`);
      } catch (e) {
        problems.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, label));
      bar.tick(1, label);
    }
    bar.done();
    return {
      data: results,
      problems,
      tables: [{
        title: 'fusion: fused vs unfused blocks (median time per step)',
        columns: ['model', 'block', 'pass', 'batch', 'kernels fused', 'kernels unfused', 'fused ms', '±%', 'unfused ms', '±%', 'unfused/fused', 'GFLOP', 'fused GFLOP/s', 'max rel diff'],
        rows: results.map((r) => [
          r.model, r.block, r.backward ? 'fwd+bwd' : 'fwd', r.batch, r.fused.kernels, r.unfused.kernels,
          Number(r.fused.timing.medianMs.toFixed(2)), Math.round(r.fused.timing.rmePct),
          Number(r.unfused.timing.medianMs.toFixed(2)), Math.round(r.unfused.timing.rmePct),
          Number(r.speedup.toFixed(2)), Number(r.fused.gflop.toFixed(3)),
          Number((r.fused.gflop / (r.fused.timing.medianMs / 1e3)).toFixed(2)), fmtErr(r.maxDiff),
        ]),
        notes: [
          'GFLOP: the fused plan\'s estimate (matmuls plus elementwise work). Forward+backward computes the gradients of every parameter and of the block input.',
        ],
      }],
      charts: [{
        file: 'fusion.svg',
        svg: barChart({
          title: 'Time per step: fused vs unfused (lower is better)',
          yLabel: 'ms per step (median)',
          groups: results.map((r) => ({
            label: fusionLabel(r),
            bars: [{ name: 'fused', value: r.fused.timing.medianMs }, { name: 'unfused', value: r.unfused.timing.medianMs }],
          })),
        }),
      }],
    };
  },
};
