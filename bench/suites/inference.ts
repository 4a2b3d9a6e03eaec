// inference: whole-model forward passes of ViT-Ti/16 and ViT-S/16 at 224×224 (and ViT-B/16 on a
// real GPU), random weights, batch 1 and 8: the backbone, backbone + AdaptFormer, and + FPET
// token merging at merge ratios 0.25 / 0.5 and merge blocks 4 / 6 / 8. All variants of one model
// and batch are timed side by side (alternating rounds, bench/common.ts), so their ratios come
// from one run. Every time stands next to the plan's FLOPs and the FLOP reduction against the
// backbone: a speedup can only be read against its FLOP bound (speedup ≤ FLOP ratio unless the
// fewer tokens also run more efficiently).
//
// Also: per-kernel GPU timestamps (one compute pass per kernel, timestamp-query) of the ViT-Ti
// backbone and of its FPET variant, to show where the time goes and why a speedup falls short of
// its FLOP bound; and, when python can import torch, the same ViT-Ti/16 backbone forward (batch 1)
// in PyTorch eager on the CPU (bench/peer/torch-peer.ts, after the GPU work): what a user without
// a GPU runs instead.

import type { CompiledPlan, PlanKernel } from '../../codegen/compile.ts';
import { compileGraph, dispatchesPerStep } from '../../codegen/compile.ts';
import { pruneToOutputs, type Graph } from '../../src/core/ir/graph.ts';
import { tunePlan } from '../../src/core/runtime/tune.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS, type VitPreset } from '../../src/fpet/models/vit.ts';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { Program, isCpuAdapter, type KernelTime } from '../../src/core/runtime/program.ts';
import { lineChart, scatterChart } from '../../src/core/util/svg.ts';
import { fmtErr, fmtTiming, gpuErrors, maxRelDiff, randomArray, timeGpuSteps, type Cell, type Suite, type SuiteContext, type SuiteResult, type Table, type Timing, type TimingOptions } from '../common.ts';
import { torchPeer, torchResult, torchVitJob, type TorchPeer } from '../peer/torch-peer.ts';

export const MODELS: readonly { readonly model: string; readonly preset: VitPreset }[] = [
  { model: 'ViT-Ti/16', preset: 'vit-ti16' },
  { model: 'ViT-S/16', preset: 'vit-s16' },
  { model: 'ViT-B/16', preset: 'vit-b16' },
];

export type Method = 'backbone' | 'adaptformer' | 'fpet';

export interface Variant {
  readonly method: Method;
  /** FPET merge ratio and merge block (0-based), for method 'fpet'. */
  readonly ratio?: number;
  readonly block?: number;
}

export const variantLabel = (v: Variant): string =>
  v.method === 'backbone' ? 'backbone' : v.method === 'adaptformer' ? '+ AdaptFormer' : `+ AF + FPET r=${v.ratio} @${v.block}`;

export interface InferenceCase {
  readonly model: string;
  readonly preset: VitPreset;
  readonly batch: number;
  readonly variants: readonly Variant[];
}

const RATIOS = [0.25, 0.5];
const BLOCKS = [4, 6, 8];

/**
 * Full: ViT-Ti and ViT-S, batch 1 and 8, every merge ratio × merge block. Quick: batch 1 only;
 * ViT-Ti with both ratios at merge block 6 plus r=0.5 at blocks 4 and 8; ViT-S only backbone vs
 * the reference configuration (AdaptFormer + FPET r=0.5 at block 6; on a software adapter every
 * ViT-S variant costs half a minute of a quick run). ViT-B/16 is added (quick: backbone,
 * AdaptFormer and the reference) only on a real GPU: on a 2-core software adapter one ViT-B
 * forward takes tens of seconds.
 */
export function inferenceCases(quick: boolean, realGpu: boolean): InferenceCase[] {
  const base: Variant[] = [{ method: 'backbone' }, { method: 'adaptformer' }];
  const grid: Variant[] = RATIOS.flatMap((ratio) => BLOCKS.map((block) => ({ method: 'fpet' as const, ratio, block })));
  const quickTi: Variant[] = [
    { method: 'fpet', ratio: 0.25, block: 6 }, { method: 'fpet', ratio: 0.5, block: 4 },
    { method: 'fpet', ratio: 0.5, block: 6 }, { method: 'fpet', ratio: 0.5, block: 8 },
  ];
  const reference: Variant[] = [{ method: 'fpet', ratio: DEFAULT_MERGE.ratio, block: DEFAULT_MERGE.blocks[0]! }];
  const out: InferenceCase[] = [];
  for (const batch of quick ? [1] : [1, 8]) {
    for (const m of MODELS) {
      if (m.preset === 'vit-b16' && !realGpu) continue;
      if (!quick) out.push({ ...m, batch, variants: [...base, ...grid] });
      else if (m.preset === 'vit-ti16') out.push({ ...m, batch, variants: [...base, ...quickTi] });
      else if (m.preset === 'vit-s16' && !realGpu) out.push({ ...m, batch, variants: [{ method: 'backbone' }, ...reference] });
      else out.push({ ...m, batch, variants: [...base, ...reference] });
    }
  }
  return out;
}

export function inferenceSpec(preset: VitPreset, batch: number, v: Variant): ModelSpec {
  const vit = VIT_PRESETS[preset];
  if (v.method === 'backbone') return { vit, batch, pet: DEFAULT_PET.linear };
  if (v.method === 'adaptformer') return { vit, batch, pet: DEFAULT_PET.adaptformer };
  return { vit, batch, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, ratio: v.ratio!, blocks: [v.block!] } };
}

/** The model's graph cut down to the logits (no one-hot input, no loss). */
export function logitsGraph(graph: Graph): Graph {
  return pruneToOutputs(graph.nodes, new Map([['logits', graph.outputs.get('logits')!]]));
}

/**
 * Sampling for whole-model steps, which take seconds on a software adapter: in quick mode 4
 * samples in 2 alternating rounds (instead of 6 in 3), otherwise the run's settings.
 */
export function modelTiming(ctx: SuiteContext): TimingOptions {
  return ctx.quick ? { ...ctx.timing, minSamples: 4, rounds: 2 } : ctx.timing;
}

/** Whether the adapter is a CPU/software one (lavapipe, SwiftShader, WARP); the code generator's own test (isCpuAdapter). */
export function isSoftwareAdapter(gpu: GpuContext | undefined): boolean {
  return !gpu || isCpuAdapter(gpu);
}

// ---------------------------------------------------------------------------------------------
// Per-kernel GPU time: Program.profile (timestamp queries around one compute pass per kernel)

export type { KernelTime };

/**
 * Each kernel's GPU time in a run of `plan` with `feeds` (the smallest over `timedRuns` runs):
 * the executor's own profile, one pass per kernel, so the sum is somewhat above a normal step.
 * Undefined when the device has no 'timestamp-query'.
 */
export async function profileKernels(gpu: GpuContext, plan: CompiledPlan, feeds: Readonly<Record<string, ArrayLike<number>>>, timedRuns = 2): Promise<KernelTime[] | undefined> {
  const program = await Program.create(gpu, plan);
  try {
    program.write(feeds);
    return await program.profile(timedRuns);
  } finally {
    program.destroy();
  }
}

/** What a kernel does, for time breakdowns. */
export type KernelClass = 'matmul' | 'attention' | 'row' | 'elementwise' | 'copy' | 'merge' | 'mixed batch';

/**
 * matmul: linear layers (2-D products); attention: products over heads (rank ≥ 4: QKᵀ, P·V, their
 * gradients) and fused attention kernels; row: row and column reductions; elementwise: map
 * kernels with arithmetic; copy: map kernels without (views, concatenation); merge: top-k and
 * scatter (token merging).
 */
export function kernelClass(plan: CompiledPlan, k: PlanKernel): KernelClass {
  const kind: string = k.kind;
  if (kind === 'attention') return 'attention';
  if (kind === 'matmul') {
    const mm = k.nodes.map((id) => plan.graph.node(id)).find((n) => n.op === 'matmul');
    return mm && mm.type.shape.length >= 4 ? 'attention' : 'matmul';
  }
  if (kind === 'row' || kind === 'reduce') return 'row';
  if (kind === 'map') return k.flops === 0 ? 'copy' : 'elementwise';
  return 'merge';
}

export interface ClassTime {
  readonly cls: KernelClass;
  readonly kernels: number;
  readonly ms: number;
  readonly gflop: number;
}

/**
 * GPU time per kernel class; `times` are per dispatch of `plan` (its steps), in order. A batched
 * dispatch counts for its parts' class when they share one, else as a mixed batch.
 */
export function classBreakdown(plan: CompiledPlan, times: readonly { readonly ms: number }[]): ClassTime[] {
  const groups = new Map<KernelClass, { kernels: number; ms: number; flops: number }>();
  plan.steps.forEach((step, i) => {
    const classes = new Set(step.parts.map((p) => kernelClass(plan, plan.kernels[p]!)));
    const c: KernelClass = classes.size === 1 ? [...classes][0]! : 'mixed batch';
    const g = groups.get(c) ?? { kernels: 0, ms: 0, flops: 0 };
    g.kernels += step.parts.length;
    g.ms += times[i]!.ms;
    g.flops += step.kernel.flops;
    groups.set(c, g);
  });
  const order: KernelClass[] = ['matmul', 'attention', 'row', 'elementwise', 'copy', 'merge', 'mixed batch'];
  return order.filter((c) => groups.has(c)).map((cls) => ({ cls, kernels: groups.get(cls)!.kernels, ms: groups.get(cls)!.ms, gflop: groups.get(cls)!.flops / 1e9 }));
}

/** Kernel name without its position prefix ("k006_row_reduceMax_1x3x197x1" -> "row_reduceMax_1x3x197x1"). */
const kernelStem = (name: string): string => name.replace(/^k\d+_/, '');

export interface ProfileGroup {
  readonly group: string;
  readonly kernels: number;
  readonly ms: number;
  readonly gflop: number;
}

/** Time per kernel kind (matmul, row, map, ...), and the merge kernels on their own. */
export function profileByKind(profile: readonly KernelTime[]): ProfileGroup[] {
  const groups = new Map<string, { kernels: number; ms: number; flops: number }>();
  for (const k of profile) {
    const g = groups.get(k.kind) ?? { kernels: 0, ms: 0, flops: 0 };
    g.kernels++;
    g.ms += k.ms;
    g.flops += k.flops;
    groups.set(k.kind, g);
  }
  return [...groups].map(([group, g]) => ({ group, kernels: g.kernels, ms: g.ms, gflop: g.flops / 1e9 })).sort((a, b) => b.ms - a.ms);
}

/** The most expensive kernels, identical kernels (same name stem) summed. */
export function topKernels(profile: readonly KernelTime[], n: number): ProfileGroup[] {
  const groups = new Map<string, { kernels: number; ms: number; flops: number }>();
  for (const k of profile) {
    const stem = kernelStem(k.name);
    const g = groups.get(stem) ?? { kernels: 0, ms: 0, flops: 0 };
    g.kernels++;
    g.ms += k.ms;
    g.flops += k.flops;
    groups.set(stem, g);
  }
  return [...groups].map(([group, g]) => ({ group, kernels: g.kernels, ms: g.ms, gflop: g.flops / 1e9 })).sort((a, b) => b.ms - a.ms).slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// The suite

export interface VariantResult extends Variant {
  readonly label: string;
  readonly kernels: number;
  readonly dispatches: number;
  /** Dispatches a timed forward runs (parameter-derived ones run once, before). */
  readonly dispatchesPerStep: number;
  readonly uniqueKernels: number;
  readonly gflop: number;
  /** Tokens in the last block's MLP (197 without merging). */
  readonly tokensAfter: number;
  readonly timing: Timing;
  readonly imagesPerSec: number;
  /** Backbone FLOPs ÷ these FLOPs: the speedup the FLOP count allows. */
  readonly flopRatio: number;
  /** Backbone median time ÷ this median time. */
  readonly speedup: number;
  /** speedup ÷ flopRatio: 1 = the whole FLOP reduction turned into time. */
  readonly ofBound: number;
  /** AdaptFormer's median time ÷ this one, and AdaptFormer's FLOPs ÷ these (FPET's own baseline). */
  readonly speedupVsAdaptFormer: number;
  readonly flopRatioVsAdaptFormer: number;
  readonly gflops: number;
}

export interface CaseResult {
  readonly model: string;
  readonly batch: number;
  readonly variants: readonly VariantResult[];
  /** Max relative difference between the AdaptFormer logits (zero-initialised up-projections) and the backbone's (when both ran). */
  readonly adaptFormerVsBackbone?: number;
}

export interface ProfileResult {
  readonly model: string;
  readonly batch: number;
  readonly variant: string;
  readonly totalMs: number;
  /** Time per kernel class (matmul / attention / row / elementwise / copy / merge). */
  readonly byKind: readonly ProfileGroup[];
  /** The matmul variants the plan uses. */
  readonly variants?: readonly string[];
  readonly top: readonly ProfileGroup[];
}

interface Built {
  readonly variant: Variant;
  readonly plan: CompiledPlan;
  readonly feeds: Record<string, Float32Array>;
  readonly tokensAfter: number;
}

/** The backbone and head every variant of a case shares. */
const sharedWeights = (c: InferenceCase) => initialWeights(inferenceSpec(c.preset, c.batch, { method: 'backbone' }), 1234);

/**
 * The plan compile() would run: matmul variants from the on-device tuner (quick mode; the
 * per-adapter cache answers after the first run). Software adapters: tuning costs the first run
 * tens of seconds of compiles.
 */
export async function tunedPlan(ctx: SuiteContext, graph: Graph): Promise<CompiledPlan> {
  const base = compileGraph(graph, { limits: ctx.limits });
  const tune = await tunePlan(ctx.gpu!, base, { mode: 'quick' }, Program);
  return Object.keys(tune.entries).length ? compileGraph(graph, { limits: ctx.limits, matmulVariant: tune.chooser, variantKey: tune.key }) : base;
}

async function buildVariant(ctx: SuiteContext, c: InferenceCase, v: Variant, images: Float32Array, shared: ReadonlyMap<string, Float32Array>): Promise<Built> {
  const spec = inferenceSpec(c.preset, c.batch, v);
  const model = buildModel(spec);
  const plan = await tunedPlan(ctx, logitsGraph(model.graph));
  // One backbone and head for every variant (initialWeights draws the head after the adapters,
  // so it would differ between methods), so that AdaptFormer's zero-initialised up-projections
  // reproduce the backbone's logits: a correctness check for free.
  const weights = initialWeights(spec, 1234);
  const feeds: Record<string, Float32Array> = { images };
  for (const p of plan.graph.params) feeds[p.attrs.name] = shared.get(p.attrs.name) ?? weights.get(p.attrs.name)!;
  return { variant: v, plan, feeds, tokensAfter: model.tokenCounts[model.tokenCounts.length - 1]!.mlp };
}

async function runCase(ctx: SuiteContext, c: InferenceCase, problems: string[]): Promise<CaseResult> {
  const gpu = ctx.gpu!;
  const label = `${c.model} b${c.batch}`;
  const vit = VIT_PRESETS[c.preset];
  const images = randomArray(c.batch * vit.inChannels * vit.imageSize * vit.imageSize, 77 + c.batch, 0, 1);
  const shared = sharedWeights(c);
  const built: Built[] = [];
  for (const v of c.variants) built.push(await buildVariant(ctx, c, v, images, shared));
  const exes: Program[] = [];
  try {
    for (const b of built) {
      const exe = await Program.create(gpu, b.plan);
      exes.push(exe);
      exe.write(b.feeds);
    }
    const timings = await timeGpuSteps(gpu.device, built.map((b, i) => ({ name: `${label} ${variantLabel(b.variant)}`, step: () => exes[i]!.run() })), modelTiming(ctx));
    const logits = await Promise.all(exes.map(async (e) => (await e.read(['logits'])).logits!));
    logits.forEach((l, i) => {
      if (!l.every(Number.isFinite)) problems.push(`${label} ${variantLabel(built[i]!.variant)}: non-finite logits`);
    });
    const bbIndex = built.findIndex((b) => b.variant.method === 'backbone');
    const afIndex = built.findIndex((b) => b.variant.method === 'adaptformer');
    const afDiff = afIndex >= 0 ? maxRelDiff(logits[afIndex]!, logits[bbIndex]!) : undefined;
    if (afDiff !== undefined && !(afDiff <= 1e-4)) problems.push(`${label}: AdaptFormer with zero up-projections should reproduce the backbone's logits, max rel diff ${fmtErr(afDiff)}`);
    const bb = { t: timings[bbIndex]!.medianMs, f: built[bbIndex]!.plan.flops };
    const af = afIndex >= 0 ? { t: timings[afIndex]!.medianMs, f: built[afIndex]!.plan.flops } : { t: NaN, f: NaN };
    const variants = built.map((b, i): VariantResult => {
      const t = timings[i]!;
      const flopRatio = bb.f / b.plan.flops, speedup = bb.t / t.medianMs;
      return {
        ...b.variant,
        label: variantLabel(b.variant),
        kernels: b.plan.kernels.length,
        dispatches: b.plan.steps.length,
        dispatchesPerStep: dispatchesPerStep(b.plan),
        uniqueKernels: b.plan.uniqueKernels,
        gflop: b.plan.flops / 1e9,
        tokensAfter: b.tokensAfter,
        timing: t,
        imagesPerSec: c.batch / (t.medianMs / 1e3),
        flopRatio,
        speedup,
        ofBound: speedup / flopRatio,
        speedupVsAdaptFormer: af.t / t.medianMs,
        flopRatioVsAdaptFormer: af.f / b.plan.flops,
        gflops: b.plan.flops / 1e9 / (t.medianMs / 1e3),
      };
    });
    return { model: c.model, batch: c.batch, variants, adaptFormerVsBackbone: afDiff };
  } finally {
    for (const e of exes) e.destroy();
  }
}

const f2 = (x: number) => Number(x.toFixed(2));
const f3 = (x: number) => Number(x.toFixed(3));

export function inferenceTables(results: readonly CaseResult[], profiles: readonly ProfileResult[]): Table[] {
  const tables: Table[] = [{
    title: 'inference: forward latency and throughput against the FLOP bound (median time per step)',
    columns: ['model', 'batch', 'variant', 'MLP tokens after', 'kernels', 'GFLOP', 'FLOP ratio', 'ms', '±%', 'img/s', 'speedup', 'of bound', 'vs AF: speedup / FLOP ratio', 'GFLOP/s'],
    rows: results.flatMap((r) => r.variants.map((v) => [
      r.model, r.batch, v.label, v.tokensAfter, v.kernels, f3(v.gflop), f3(v.flopRatio),
      f2(v.timing.medianMs), Math.round(v.timing.rmePct), f2(v.imagesPerSec), f3(v.speedup), f2(v.ofBound),
      v.method === 'fpet' && Number.isFinite(v.speedupVsAdaptFormer) ? `×${v.speedupVsAdaptFormer.toFixed(3)} / ×${v.flopRatioVsAdaptFormer.toFixed(3)}` : '–',
      f2(v.gflops),
    ])),
    notes: [
      'GFLOP: the compiled plan\'s count (2 per multiply-add, plus elementwise work). FLOP ratio = backbone GFLOP ÷ variant GFLOP: the speedup the FLOP count allows. Speedup = backbone time ÷ variant time, measured side by side in one run; "of bound" = speedup ÷ FLOP ratio (1.00 = the whole FLOP reduction became time).',
      'backbone = ViT with its head (no adapters); + AdaptFormer = parallel bottleneck adapters (dim 8) in every block; + AF + FPET r=R @L = AdaptFormer plus FPET\'s merge of R·196 patch tokens after block L\'s attention (L 0-based; the paper: r=0.5 @6). The paper (ViT-B/16, GPU): 17.6 -> 13.5 GFLOPs (×1.30), 2.62 -> 2.12 ms (×1.24, 95% of its FLOP bound).',
      ...results.filter((r) => r.adaptFormerVsBackbone !== undefined).map((r) => `${r.model} b${r.batch}: AdaptFormer (zero-initialised up-projections) vs backbone logits, max rel diff ${fmtErr(r.adaptFormerVsBackbone!)}.`),
    ],
  }];
  if (profiles.length) {
    tables.push({
      title: 'inference: where the GPU time goes per kernel class (timestamp per kernel, one pass per kernel)',
      columns: ['model', 'batch', 'variant', 'kernel class', 'kernels', 'GPU ms', 'share %', 'GFLOP', 'GFLOP/s'],
      rows: profiles.flatMap((p) => p.byKind.map((g) => [
        p.model, p.batch, p.variant, g.group, g.kernels, f2(g.ms), Number(((100 * g.ms) / p.totalMs).toFixed(1)), f3(g.gflop), g.ms > 0 ? f2(g.gflop / (g.ms / 1e3)) : null,
      ])),
      notes: [
        'Sum over the kernels of their pass times (each kernel in its own compute pass; after a warm-up run, one timed run in quick mode, the faster of two otherwise): a little above a normal one-pass step. Profiled one after the other, not alternated: compare shares, not the two totals.',
        'Classes: matmul = linear layers; attention = products over heads (QKᵀ, P·V) and fused attention; row = row/column reductions (LayerNorm, softmax statistics); elementwise = map kernels with arithmetic; copy = map kernels without; merge = top-k and scatter of token merging.',
        ...profiles.filter((p) => p.variants?.length).map((p) => `${p.model} b${p.batch} ${p.variant}: matmul variants ${p.variants!.join('; ')}.`),
      ],
    });
    tables.push({
      title: 'inference: most expensive kernels (identical kernels of all blocks summed)',
      columns: ['model', 'batch', 'variant', 'kernel', 'count', 'GPU ms', 'share %', 'GFLOP/s'],
      rows: profiles.flatMap((p) => p.top.map((g) => [
        p.model, p.batch, p.variant, g.group, g.kernels, f2(g.ms), Number(((100 * g.ms) / p.totalMs).toFixed(1)), g.ms > 0 ? f2(g.gflop / (g.ms / 1e3)) : null,
      ])),
    });
  }
  return tables;
}

/** ViT-Ti/16 batch 1 backbone: ours vs PyTorch eager on the CPU (when torch ran). */
export function torchTable(results: readonly CaseResult[], torch: TorchPeer): Table {
  const ours = results.find((r) => r.model === 'ViT-Ti/16' && r.batch === 1)?.variants.find((v) => v.method === 'backbone');
  const t = torchResult(torch, 0, 'vit');
  const rows: (readonly Cell[])[] = [];
  if (ours) rows.push(['ours (backbone plan, this adapter)', f2(ours.timing.medianMs), f2(ours.timing.minMs), ours.timing.sampleMs.length, f2(ours.imagesPerSec), t ? f3(ours.timing.medianMs / t.medianMs) : null]);
  rows.push(t ? ['PyTorch eager, CPU, torch.inference_mode()', f2(t.medianMs), f2(t.minMs), t.reps, f2(1e3 / t.medianMs), 1] : [`PyTorch: ${torch.ok ? 'no answer for the job' : 'unavailable (see below)'}`, null, null, null, null, null]);
  return {
    title: 'inference: ViT-Ti/16 forward at 224, batch 1, ours vs PyTorch on the CPU (median ms)',
    columns: ['framework', 'ms', 'min ms', 'samples', 'img/s', 'ours/torch time'],
    rows,
    notes: [
      torch.ok
        ? `torch: ${torch.label}; a plain torch model of the same architecture as timm's vit_tiny_patch16_224 (${t ? `${(t.params / 1e6).toFixed(2)}M parameters; ` : ''}F.scaled_dot_product_attention as timm's fused attention), eval mode; timed in a subprocess after the GPU runs, not alternated with ours (warm-up, then repeats for ${t ? `${t.reps} samples` : 'its budget'}; min–max ${t ? `${f2(t.minMs)}–${f2(t.maxMs)}` : '–'} ms).`
        : `torch: unavailable (${torch.unavailable}).`,
      'Random weights on both sides (ours: the suite\'s shared backbone; torch: its default init): only time is compared, not logits. On a software adapter ours runs on the same CPU cores as torch.',
    ],
  };
}

export function inferenceCharts(results: readonly CaseResult[]): { file: string; svg: string }[] {
  const charts: { file: string; svg: string }[] = [];
  for (const r of results) {
    const fpet = r.variants.filter((v) => v.method === 'fpet');
    if (!fpet.length) continue;
    const bb = r.variants.find((v) => v.method === 'backbone')!;
    const af = r.variants.find((v) => v.method === 'adaptformer');
    const blocks = [...new Set(fpet.map((v) => v.block!))].sort((a, b) => a - b);
    const slug = `${r.model.replace(/[^A-Za-z0-9]+/g, '').toLowerCase()}-b${r.batch}`;
    charts.push({
      file: `inference-throughput-${slug}.svg`,
      svg: lineChart({
        title: `${r.model} batch ${r.batch}: throughput vs merge ratio (ratio 0 = AdaptFormer without merging)`,
        xLabel: 'merge ratio (fraction of patch tokens merged)',
        yLabel: 'images / s',
        series: [
          ...blocks.map((L) => ({
            name: `FPET, merge at block ${L}`,
            points: [...(af ? [[0, af.imagesPerSec] as [number, number]] : []), ...fpet.filter((v) => v.block === L).map((v) => [v.ratio!, v.imagesPerSec] as [number, number])],
          })),
          { name: 'backbone', points: [[0, bb.imagesPerSec], [Math.max(...RATIOS), bb.imagesPerSec]] },
        ],
        y: { zero: true },
      }),
    });
  }
  const points = results.flatMap((r) => r.variants.filter((v) => v.method !== 'backbone').map((v) => ({ r, v })));
  if (points.length) {
    const groups = [...new Set(results.map((r) => `${r.model} b${r.batch}`))];
    charts.push({
      file: 'inference-speedup-vs-flops.svg',
      svg: scatterChart({
        title: 'Measured speedup vs FLOP reduction (against the backbone); y = x is the FLOP bound',
        xLabel: 'FLOP ratio (backbone GFLOP ÷ variant GFLOP)',
        yLabel: 'speedup (backbone time ÷ variant time)',
        diagonal: true,
        series: groups.map((g) => ({
          name: g,
          points: points.filter(({ r }) => `${r.model} b${r.batch}` === g).map(({ v }) => ({
            x: v.flopRatio, y: v.speedup, label: v.method === 'adaptformer' ? 'AF' : `${v.ratio}@${v.block}`,
          })),
        })),
      }),
    });
  }
  return charts;
}

export const inferenceSuite: Suite = {
  name: 'inference',
  description: 'ViT forward: backbone, + AdaptFormer, + FPET merging (ratios × merge blocks): latency, throughput, FLOP bound; ViT-Ti/16 vs torch on the CPU (when available)',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const realGpu = !isSoftwareAdapter(ctx.gpu);
    const cases = inferenceCases(ctx.quick, realGpu);
    const problems: string[] = [];
    const results: CaseResult[] = [];
    const profiles: ProfileResult[] = [];
    const profileTargets: Variant[] = [{ method: 'backbone' }, { method: 'fpet', ratio: 0.5, block: 6 }];
    const bar = ctx.progress('inference', cases.length + profileTargets.length + 1, 'case');
    for (const c of cases) {
      const label = `${c.model} b${c.batch}`;
      try {
        const r = await runCase(ctx, c, problems);
        results.push(r);
        for (const v of r.variants) {
          ctx.log(`  ${label} ${v.label}: ${v.kernels} kernels, ${v.gflop.toFixed(3)} GFLOP (×${v.flopRatio.toFixed(3)}), ${fmtTiming(v.timing)}, ${v.imagesPerSec.toFixed(2)} img/s, speedup ×${v.speedup.toFixed(3)} (${(100 * v.ofBound).toFixed(0)}% of bound)`);
        }
      } catch (e) {
        problems.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, label));
      bar.tick(1, label);
    }
    // Where the time goes: ViT-Ti batch 1, backbone and the reference FPET configuration.
    const pc: InferenceCase = { model: 'ViT-Ti/16', preset: 'vit-ti16', batch: 1, variants: profileTargets };
    const images = randomArray(3 * 224 * 224, 78, 0, 1);
    const shared = sharedWeights(pc);
    for (const v of profileTargets) {
      const label = `profile ${pc.model} b1 ${variantLabel(v)}`;
      try {
        const b = await buildVariant(ctx, pc, v, images, shared);
        const profile = await profileKernels(ctx.gpu!, b.plan, b.feeds, ctx.quick ? 1 : 2);
        if (!profile) {
          problems.push(`${label}: the device has no timestamp-query feature; no per-kernel profile`);
        } else {
          const totalMs = profile.reduce((s, k) => s + k.ms, 0);
          const byClass = classBreakdown(b.plan, profile).map((g) => ({ group: g.cls, kernels: g.kernels, ms: g.ms, gflop: g.gflop }));
          const variants = [...new Set(b.plan.kernels.filter((k) => k.matmul).map((k) => k.config))];
          profiles.push({ model: pc.model, batch: 1, variant: variantLabel(v), totalMs, byKind: byClass, top: topKernels(profile, 6), variants });
          ctx.log(`  ${label}: matmul variants ${variants.join('; ')}`);
          ctx.log(`  ${label}: ${profile.length} kernels, ${totalMs.toFixed(1)} ms of kernel time`);
        }
      } catch (e) {
        problems.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, label));
      bar.tick(1, label);
    }
    // PyTorch on the CPU, after the GPU work: the ViT-Ti/16 backbone at batch 1.
    const torch = await torchPeer(ctx.gpu!.runtime, [torchVitJob('ViT-Ti/16 b1', inferenceSpec('vit-ti16', 1, { method: 'backbone' }), 'infer', ctx.quick ? 2 : 5)]);
    const tv = torchResult(torch, 0, 'vit');
    if (tv && !tv.finite) problems.push('torch peer: ViT-Ti/16 logits are not finite');
    ctx.log(`  torch CPU ViT-Ti/16 b1: ${tv ? `${tv.medianMs.toFixed(1)} ms median of ${tv.reps} (${torch.ok ? torch.label : ''})` : torch.ok ? 'no answer' : torch.unavailable}`);
    bar.tick(1, 'torch');
    bar.done();
    return {
      data: { cases: results, profiles, torch },
      problems,
      tables: [...inferenceTables(results, profiles), torchTable(results, torch)],
      charts: inferenceCharts(results),
    };
  },
};
