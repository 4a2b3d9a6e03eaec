// The FPET model family as one configurable graph: a ViT backbone, a PET method (AdaptFormer,
// LoRA, their 1-bit forms, full fine-tuning or a linear probe), and optional token merging
// (FPET's differentiable merge, or the ToMe baseline). Parameter names follow timm for the
// backbone; trainable parameters are those whose name contains "adapter" or "head" (docs/method.md, 1),
// or all of them for full fine-tuning.

import { GraphBuilder, type Graph, type Tensor } from '../../core/ir/graph.ts';
import { crossEntropy } from '../../core/ir/nn.ts';
import { mulberry32 } from '../../core/util/random.ts';
import { adapter, adapterShapes, initAdapter, type AdapterConfig } from './pet.ts';
import { alternatingSplit, checkerboardSplit, mergeCount, mergeTokens, type SplitPlan } from './merge.ts';
import { buildVit, gridSize, headInputs, randomVitWeights, vitParamShapes, type BlockContext, type VitConfig, type VitHooks } from './vit.ts';
import { cropAndResize } from './input-crop.ts';
import { normalizeImages, validateNormalization, type Normalization } from './normalize.ts';

/** The parameter-efficient tuning methods (full fine-tuning and a linear probe as references). */
export type PetMethod = 'adaptformer' | 'lora' | 'full' | 'linear';

/** A PET method with its adapter settings. */
export interface PetSpec {
  readonly method: PetMethod;
  readonly bits: 32 | 1;
  /** Bottleneck width (8 for fp32, 32 for 1-bit in the paper). */
  readonly dim: number;
  readonly scale: number;
  /** Adapter biases (the original AdaptFormer); FPET's reference adapters have none. */
  readonly bias: boolean;
}

/** Token merging: FPET's or ToMe's, in which blocks, and how much. */
export interface MergeSpec {
  readonly kind: 'fpet' | 'tome';
  /** Blocks (0-based) whose MLP runs on merged tokens. FPET's reference: [6]. */
  readonly blocks: readonly number[];
  /** FPET: fraction of patch tokens merged at each merge block, 0 < ratio ≤ |A|/patches (0.5 = the reference). */
  readonly ratio: number;
  /** ToMe: tokens merged per block (clamped to (tokens − 1) / 2 per block, as ToMe does). */
  readonly r: number;
  /** FPET key-refinement adapter: 1-bit by default (as the reference, even for fp32 PET). */
  readonly refineBits: 32 | 1;
  readonly refineDim: number;
}

/** Everything that defines a model graph: backbone, batch, PET method, merging, input crop, training. */
export interface ModelSpec {
  readonly vit: VitConfig;
  readonly batch: number;
  readonly pet: PetSpec;
  readonly merge?: MergeSpec;
  /**
   * The model sees the central inputCrop×inputCrop pixels of each image, scaled back up to the
   * image size (bilinear; src/fpet/models/input-crop.ts). Absent, or equal to the image size: the whole image.
   */
  readonly inputCrop?: number;
  /**
   * Per-channel (pixel − mean) / std applied in the graph after the input crop: the backbone's
   * pre-training normalisation (src/fpet/models/normalize.ts). Absent: pixels in [0, 1] as they are.
   */
  readonly normalize?: Normalization;
  /** Training adds dropout (adapters, p=0.1) and DropPath (linear to `dropPath` over depth), drawn from the `seed` input. */
  readonly training?: { readonly dropout: number; readonly dropPath: number };
}

/** Each PET method's default settings (fp32 adapters of width 8, no biases). */
export const DEFAULT_PET: Record<PetMethod, PetSpec> = {
  adaptformer: { method: 'adaptformer', bits: 32, dim: 8, scale: 1, bias: false },
  lora: { method: 'lora', bits: 32, dim: 8, scale: 1, bias: false },
  full: { method: 'full', bits: 32, dim: 0, scale: 1, bias: false },
  linear: { method: 'linear', bits: 32, dim: 0, scale: 1, bias: false },
};

/** FPET's reference merging (block 6, ratio 0.5, a 1-bit refinement adapter of width 32); r = 8 for ToMe. */
export const DEFAULT_MERGE: MergeSpec = { kind: 'fpet', blocks: [6], ratio: 0.5, r: 8, refineBits: 1, refineDim: 32 };

/** Whether parameter `name` is trained under the spec's PET method. */
export const isTrainableName = (name: string, spec: ModelSpec): boolean =>
  spec.pet.method === 'full' || name.includes('adapter') || name.startsWith('head.');

/** One adapter module of the model: its parameter prefix, input width and configuration. */
interface AdapterModule {
  readonly prefix: string;
  readonly inDim: number;
  readonly config: AdapterConfig;
}

/** Every adapter of the model (PET adapters, then FPET's refinement adapters): the one list shapes, init and graph read. */
function adapterModules(spec: ModelSpec): AdapterModule[] {
  const dropout = spec.training?.dropout ?? 0;
  const pet: AdapterConfig = {
    dim: spec.pet.dim, bits: spec.pet.bits, scale: spec.pet.scale, bias: spec.pet.bias, dropout,
    activation: spec.pet.method === 'lora' ? 'identity' : 'relu',
  };
  const D = spec.vit.dim;
  const out: AdapterModule[] = [];
  for (let i = 0; i < spec.vit.depth; i++) {
    if (spec.pet.method === 'adaptformer') out.push({ prefix: `blocks.${i}.adapter_mlp`, inDim: D, config: pet });
    if (spec.pet.method === 'lora') for (const qv of ['q', 'v']) out.push({ prefix: `blocks.${i}.attn.adapter_${qv}`, inDim: D, config: pet });
  }
  const merge = spec.merge;
  if (merge?.kind === 'fpet') {
    // docs/method.md, 3.2: 1-bit (by default), bias-free, ReLU, scale 1, on the head-mean keys.
    const refine: AdapterConfig = { dim: merge.refineDim, bits: merge.refineBits, scale: 1, activation: 'relu', dropout, bias: false };
    for (const L of merge.blocks) out.push({ prefix: `blocks.${L}.merge.adapter_refine`, inDim: D / spec.vit.heads, config: refine });
  }
  return out;
}

/** Every parameter of the model with its shape (backbone in timm names, then PET and merge modules). */
export function modelParamShapes(spec: ModelSpec): Map<string, number[]> {
  validateSpec(spec);
  const shapes = vitParamShapes(spec.vit);
  for (const m of adapterModules(spec)) for (const [suffix, shape] of adapterShapes(m.inDim, m.config)) shapes.set(`${m.prefix}.${suffix}`, shape);
  return shapes;
}

const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;

/** Checks a spec before any graph or GPU work; every message names the field and the allowed range. */
export function validateSpec(spec: ModelSpec): void {
  const { vit, merge, pet } = spec;
  if (!positiveInt(spec.batch)) throw new Error(`batch must be an integer >= 1 (got ${spec.batch})`);
  for (const k of ['imageSize', 'patchSize', 'inChannels', 'dim', 'depth', 'heads', 'numClasses'] as const) {
    if (!positiveInt(vit[k])) throw new Error(`model ${k} must be an integer >= 1 (got ${vit[k]})`);
  }
  if (!(vit.mlpRatio > 0) || !positiveInt(Math.round(vit.dim * vit.mlpRatio))) throw new Error(`model mlpRatio must be > 0 (got ${vit.mlpRatio})`);
  if (!(Number.isInteger(vit.representationSize) && vit.representationSize >= 0)) throw new Error(`model representationSize must be an integer >= 0 (0: no pre-logits layer; got ${vit.representationSize})`);
  if (vit.imageSize % vit.patchSize !== 0) {
    throw new Error(`image size ${vit.imageSize} is not a multiple of the patch size ${vit.patchSize} (patch sizes that divide it: ${divisors(vit.imageSize).join(', ')})`);
  }
  if (vit.dim % vit.heads !== 0) throw new Error(`width ${vit.dim} is not divisible by ${vit.heads} heads (head counts that divide it: ${divisors(vit.dim).join(', ')})`);
  if ((pet.method === 'adaptformer' || pet.method === 'lora') && !positiveInt(pet.dim)) throw new Error(`${pet.method} needs an adapter dim that is an integer >= 1 (got ${pet.dim})`);
  if (pet.bits !== 32 && pet.bits !== 1) throw new Error(`adapter bits must be 32 or 1 (got ${pet.bits})`);
  if (!Number.isFinite(pet.scale)) throw new Error(`adapter scale must be a finite number (got ${pet.scale})`);
  if (spec.inputCrop !== undefined && !(Number.isInteger(spec.inputCrop) && spec.inputCrop >= 1 && spec.inputCrop <= vit.imageSize)) {
    throw new Error(`input crop must be an integer in [1, ${vit.imageSize}] (the image size; got ${spec.inputCrop})`);
  }
  if (spec.normalize !== undefined) validateNormalization(spec.normalize, vit.inChannels);
  if (merge) {
    if (merge.kind === 'fpet' && !positiveInt(merge.refineDim)) throw new Error(`FPET refinement adapter dim must be an integer >= 1 (got ${merge.refineDim})`);
    if (merge.blocks.length === 0) throw new Error('merging needs at least one merge block');
    for (const L of merge.blocks) {
      if (!Number.isInteger(L) || L < 0 || L >= vit.depth) throw new Error(`merge block ${L} is outside the ${vit.depth} blocks (0..${vit.depth - 1})`);
    }
    if (new Set(merge.blocks).size !== merge.blocks.length) throw new Error(`merge blocks repeat: ${merge.blocks.join(',')}`);
    if (merge.kind === 'tome' && !positiveInt(merge.r)) throw new Error(`ToMe needs r, the tokens merged per block, to be an integer >= 1 (got ${merge.r})`);
    mergeSchedule(spec); // every merge block must be able to merge: errors name the block
  }
}

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** One merge of the model: where it happens, how tokens split, how many merge, counts in and out. */
export interface MergeStep {
  readonly block: number;
  readonly split: SplitPlan;
  readonly r: number;
  readonly tokensIn: number;
  readonly tokensOut: number;
}

/**
 * The merges a spec performs, in block order, with the token counts they see. FPET's first merge
 * on the full patch grid uses the checkerboard split; every other merge (ToMe's, and FPET's later
 * ones) splits the current sequence alternately, cls protected.
 */
export function mergeSchedule(spec: ModelSpec): MergeStep[] {
  const merge = spec.merge;
  if (!merge) return [];
  const patches = gridSize(spec.vit) ** 2;
  let n = patches + 1;
  const steps: MergeStep[] = [];
  for (const block of [...merge.blocks].sort((a, b) => a - b)) {
    const first = steps.length === 0 && n === patches + 1;
    if (n < 3) throw new Error(`merge block ${block}: the ${n} tokens entering it are too few to merge (at least 3: cls and two patches); use fewer or earlier merge blocks`);
    const split = merge.kind === 'fpet' && first ? checkerboardSplit(patches) : alternatingSplit(n);
    let r: number;
    if (merge.kind === 'fpet') {
      try {
        r = mergeCount(merge.ratio, n - 1, split.a.length);
      } catch (e) {
        throw new Error(`merge block ${block} (${n} tokens entering it): ${(e as Error).message}`);
      }
    } else {
      r = Math.min(merge.r, split.a.length);
      if (r < 1) throw new Error(`merge block ${block}: ToMe cannot merge any of the ${n} tokens left (at least 3 needed); use fewer merge blocks or a smaller --tome-r`);
    }
    steps.push({ block, split, r, tokensIn: n, tokensOut: n - r });
    n -= r;
  }
  return steps;
}

/** A model graph with its spec, parameter shapes, trainable parameters, token counts and merges. */
export interface BuiltModel {
  readonly graph: Graph;
  readonly spec: ModelSpec;
  readonly paramShapes: Map<string, number[]>;
  readonly trainable: string[];
  /** Tokens entering each block's attention and MLP. */
  readonly tokenCounts: { attention: number; mlp: number }[];
  /** The merges, in block order (outputs `merge.<block>.partner` / `.merged` when built with mergeOutputs). */
  readonly merges: MergeStep[];
}

/** Extra outputs buildModel may add. */
export interface BuildOptions {
  /**
   * Also output, per merge block, each A token's best B partner (`merge.<block>.partner`, i32
   * [B, |A|]), whether it merged (`merge.<block>.merged`, 0/1 [B, |A|]) and the final token sizes
   * (`sizes`, [B, tokens]): what a merge map is drawn from.
   */
  readonly mergeOutputs?: boolean;
}

/** The name of the output holding each A token's best B partner at merge block `block`. */
export const partnerOutput = (block: number) => `merge.${block}.partner`;
/** The name of the output saying which A tokens merged at merge block `block`. */
export const mergedOutput = (block: number) => `merge.${block}.merged`;

/**
 * Inputs: `images` [B, C, H, W] in [0, 1] (normalised in the graph when the spec says how), `onehot` [B, classes], and in training `seed` i32[2]
 * ([seed, step]). Outputs: `logits`, `loss` (mean cross-entropy).
 */
export function buildModel(spec: ModelSpec, opts: BuildOptions = {}): BuiltModel {
  const paramShapes = modelParamShapes(spec);
  const { vit, batch: B } = spec;
  const b = new GraphBuilder();
  const images = b.input('images', [B, vit.inChannels, vit.imageSize, vit.imageSize]);
  const onehot = b.input('onehot', [B, vit.numClasses]);
  const seed = spec.training ? b.input('seed', [2], 'i32') : undefined;
  const parts = modelParts(b, spec, paramShapes, seed);
  const hooks = petHooks(spec, parts);
  const merges = mergeSchedule(spec);
  const sizes = addMergeHook(hooks, spec, merges, parts, opts);
  // The input transform is part of the model, so every consumer of a trained model applies it.
  const cropped = spec.inputCrop !== undefined && spec.inputCrop < vit.imageSize ? cropAndResize(b, images, vit.imageSize, spec.inputCrop) : images;
  const seen = spec.normalize ? normalizeImages(b, cropped, spec.normalize) : cropped;
  const out = buildVit(b, seen, vit, parts.param, hooks);
  b.output('logits', out.logits);
  b.output('loss', crossEntropy(out.logits, onehot));
  if (opts.mergeOutputs && sizes.last) b.output('sizes', sizes.last);
  const graph = b.build();
  const trainable = graph.params.filter((p) => p.attrs.trainable).map((p) => p.attrs.name);
  return { graph, spec, paramShapes, trainable, tokenCounts: out.tokenCounts, merges };
}

/** What the model's hooks build with: parameters by name, dropout masks, the adapter modules. */
interface ModelParts {
  readonly b: GraphBuilder;
  /** The parameter `name` (created at its first use, trainable per isTrainableName). */
  readonly param: (name: string) => Tensor;
  /** A dropout mask (0 or 1/(1 − p)) of `shape`; undefined outside training or when p is 0. */
  readonly dropMask: (shape: readonly number[], p: number) => Tensor | undefined;
  /** The adapter module at `prefix` applied to z. */
  readonly runAdapter: (z: Tensor, prefix: string) => Tensor;
}

/** The parameter, dropout and adapter builders of one model graph. */
function modelParts(b: GraphBuilder, spec: ModelSpec, paramShapes: Map<string, number[]>, seed: Tensor | undefined): ModelParts {
  const params = new Map<string, Tensor>();
  const param = (name: string) => {
    let t = params.get(name);
    if (!t) {
      const s = paramShapes.get(name);
      if (!s) throw new Error(`model: no parameter "${name}"`);
      t = b.param(name, s, { trainable: isTrainableName(name, spec) });
      params.set(name, t);
    }
    return t;
  };
  let stream = 0;
  const dropMask = (shape: readonly number[], p: number): Tensor | undefined => {
    if (!seed || !(p > 0)) return undefined;
    // Rate and scale are runtime scalars: blocks whose drop-path rates differ still share kernels.
    return b.rand(shape, seed, ++stream).compare('ge', b.runtimeScalar(p)).mul(b.runtimeScalar(1 / (1 - p)));
  };
  const modules = new Map(adapterModules(spec).map((m) => [m.prefix, m]));
  const runAdapter = (z: Tensor, prefix: string) => {
    const m = modules.get(prefix)!;
    const c = m.config;
    const has = (suffix: string) => paramShapes.has(`${prefix}.${suffix}`);
    const p = {
      down: param(`${prefix}.down.weight`), up: param(`${prefix}.up.weight`),
      downBias: has('down.bias') ? param(`${prefix}.down.bias`) : undefined,
      upBias: has('up.bias') ? param(`${prefix}.up.bias`) : undefined,
    };
    return adapter(z, p, c, dropMask([z.size / z.dim(-1), c.dim], c.dropout));
  };
  return { b, param, dropMask, runAdapter };
}

/** The PET method's hooks (AdaptFormer beside the MLP, LoRA on q and v) and, in training, DropPath on the residual branches. */
function petHooks(spec: ModelSpec, { runAdapter, dropMask }: ModelParts): VitHooks {
  const { vit, batch: B } = spec;
  const hooks: VitHooks = {};
  if (spec.pet.method === 'adaptformer') {
    hooks.parallelToMlp = (ctx: BlockContext, y: Tensor) => runAdapter(y, `${ctx.prefix}.adapter_mlp`);
  } else if (spec.pet.method === 'lora') {
    hooks.qvDelta = (ctx: BlockContext, u: Tensor) => ({
      q: runAdapter(u, `${ctx.prefix}.attn.adapter_q`),
      v: runAdapter(u, `${ctx.prefix}.attn.adapter_v`),
    });
  }
  if (spec.training && spec.training.dropPath > 0) {
    const rate = (i: number) => (vit.depth > 1 ? (spec.training!.dropPath * i) / (vit.depth - 1) : spec.training!.dropPath);
    hooks.residual = (ctx, branch) => {
      const mask = dropMask([B, 1, 1], rate(ctx.block));
      return mask ? branch.mul(mask) : branch;
    };
  }
  return hooks;
}

/**
 * Token merging after the attention of each merge block (FPET or ToMe), when the spec merges.
 * Returns where the token sizes after the last merge are left once the graph is built.
 */
function addMergeHook(hooks: VitHooks, spec: ModelSpec, merges: readonly MergeStep[], { b, runAdapter }: ModelParts, opts: BuildOptions): { last?: Tensor } {
  const sizes: { last?: Tensor } = {};
  if (!spec.merge) return sizes;
  const kind = spec.merge.kind;
  const stepAt = new Map(merges.map((m) => [m.block, m]));
  hooks.afterAttention = (ctx, s, keys) => {
    const step = stepAt.get(ctx.block);
    if (!step) return s;
    // Similarity metric: this block's keys averaged over heads, detached (docs/method.md, 3.2; ToMe's too).
    const kbar = keys.mean(1, false).stopGradient();
    const metric = kind === 'fpet' ? kbar.add(runAdapter(kbar, `${ctx.prefix}.merge.adapter_refine`)) : kbar;
    const m = mergeTokens(s.x, s.size, metric, { split: step.split, r: step.r, differentiable: kind === 'fpet' });
    if (opts.mergeOutputs) {
      b.output(partnerOutput(ctx.block), m.partner);
      b.output(mergedOutput(ctx.block), m.merged);
    }
    sizes.last = m.size;
    return { x: m.x, size: m.size };
  };
  return sizes;
}

/** Random backbone plus freshly initialised trainable modules (adapters per docs/method.md 2.1, head uniform ±1/√fan-in). */
export function initialWeights(spec: ModelSpec, seed = 0, backbone?: Map<string, Float32Array>): Map<string, Float32Array> {
  const shapes = modelParamShapes(spec);
  const weights = new Map(backbone ?? randomVitWeights(spec.vit, seed));
  const rand = mulberry32(seed ^ 0x5bd1e995);
  for (const m of adapterModules(spec)) {
    for (const [suffix, v] of initAdapter(m.inDim, m.config, rand)) weights.set(`${m.prefix}.${suffix}`, v);
  }
  // The head is always re-created for the task (timm reset_classifier: PyTorch's default Linear init).
  const fanIn = headInputs(spec.vit);
  const bound = 1 / Math.sqrt(fanIn);
  weights.set('head.weight', Float32Array.from({ length: spec.vit.numClasses * fanIn }, () => (rand() * 2 - 1) * bound));
  weights.set('head.bias', Float32Array.from({ length: spec.vit.numClasses }, () => (rand() * 2 - 1) * bound));
  for (const [name, shape] of shapes) {
    const w = weights.get(name);
    const n = shape.reduce((x, y) => x * y, 1);
    if (!w) throw new Error(`initialWeights: no value for parameter "${name}"`);
    if (w.length !== n) throw new Error(`initialWeights: "${name}" has ${w.length} values, its shape [${shape}] needs ${n}`);
  }
  return weights;
}

/** Tokens the spec's merges remove in all (the cls + patch tokens entering minus those leaving the last block). */
export function tokensRemoved(spec: ModelSpec): number {
  return mergeSchedule(spec).reduce((s, m) => s + m.r, 0);
}

/**
 * A ToMe schedule that removes `tokens` tokens in all, the way ToMe spreads merging: the same r in
 * every merge block, from block 0 on, over as many blocks as possible (at most depth − 1, so that
 * the last block still runs). Exact when `tokens` factors that way; otherwise the smallest total
 * above it.
 */
export function tomeScheduleRemoving(spec: ModelSpec, tokens: number): MergeSpec {
  const depth = spec.vit.depth;
  let best: { blocks: number; r: number; removed: number } | undefined;
  for (let k = Math.min(depth - 1, tokens); k >= 1; k--) {
    const r = Math.ceil(tokens / k);
    const candidate: MergeSpec = { ...DEFAULT_MERGE, kind: 'tome', blocks: [...Array(k).keys()], r };
    let removed: number;
    try {
      removed = tokensRemoved({ ...spec, merge: candidate });
    } catch {
      continue; // too many tokens for these blocks
    }
    if (removed < tokens) continue;
    if (!best || removed < best.removed || (removed === best.removed && k > best.blocks)) best = { blocks: k, r, removed };
  }
  if (!best) throw new Error(`ToMe cannot remove ${tokens} tokens from ${gridSize(spec.vit) ** 2 + 1} in ${depth} blocks`);
  return { ...DEFAULT_MERGE, kind: 'tome', blocks: [...Array(best.blocks).keys()], r: best.r };
}
