// The FPET model family as one configurable graph: a ViT backbone, a PET method (AdaptFormer,
// LoRA, their 1-bit forms, full fine-tuning or a linear probe), and optional token merging
// (FPET's differentiable merge, or the ToMe baseline). Parameter names follow timm for the
// backbone; trainable parameters are those whose name contains "adapter" or "head" (§3), or all
// of them for full fine-tuning.

import { GraphBuilder, type Graph, type Tensor } from '../ir/graph.ts';
import { crossEntropy } from '../ir/nn.ts';
import { adapter, adapterShapes, initAdapter, type AdapterConfig } from './pet.ts';
import { alternatingSplit, checkerboardSplit, mergeCount, mergeTokens } from './merge.ts';
import { buildVit, gridSize, randomVitWeights, vitParamShapes, type BlockContext, type VitConfig, type VitHooks } from './vit.ts';

export type PetMethod = 'adaptformer' | 'lora' | 'full' | 'linear';

export interface PetSpec {
  readonly method: PetMethod;
  readonly bits: 32 | 1;
  /** Bottleneck width (8 for fp32, 32 for 1-bit in the paper). */
  readonly dim: number;
  readonly scale: number;
}

export interface MergeSpec {
  readonly kind: 'fpet' | 'tome';
  /** Blocks (0-based) whose MLP runs on merged tokens. FPET's reference: [6]. */
  readonly blocks: readonly number[];
  /** FPET: fraction of patch tokens merged at each merge block, 0 < ratio ≤ |A|/patches (0.5 = the reference). */
  readonly ratio: number;
  /** ToMe: tokens merged per block. */
  readonly r: number;
  /** FPET key-refinement adapter: 1-bit by default (as the reference, even for fp32 PET). */
  readonly refineBits: 32 | 1;
  readonly refineDim: number;
}

export interface ModelSpec {
  readonly vit: VitConfig;
  readonly batch: number;
  readonly pet: PetSpec;
  readonly merge?: MergeSpec;
  /** Training adds dropout (adapters, p=0.1) and DropPath (linear to `dropPath` over depth), drawn from the `seed` input. */
  readonly training?: { readonly dropout: number; readonly dropPath: number };
}

export const DEFAULT_PET: Record<PetMethod, PetSpec> = {
  adaptformer: { method: 'adaptformer', bits: 32, dim: 8, scale: 1 },
  lora: { method: 'lora', bits: 32, dim: 8, scale: 1 },
  full: { method: 'full', bits: 32, dim: 0, scale: 1 },
  linear: { method: 'linear', bits: 32, dim: 0, scale: 1 },
};

export const DEFAULT_MERGE: MergeSpec = { kind: 'fpet', blocks: [6], ratio: 0.5, r: 8, refineBits: 1, refineDim: 32 };

export const isTrainableName = (name: string, spec: ModelSpec): boolean =>
  spec.pet.method === 'full' || name.includes('adapter') || name.startsWith('head.');

const petAdapter = (spec: ModelSpec): AdapterConfig => ({
  dim: spec.pet.dim,
  bits: spec.pet.bits,
  scale: spec.pet.scale,
  activation: spec.pet.method === 'lora' ? 'identity' : 'relu',
  dropout: spec.training?.dropout ?? 0,
});

const refineAdapter = (spec: ModelSpec): AdapterConfig => ({
  dim: spec.merge!.refineDim,
  bits: spec.merge!.refineBits,
  scale: 1,
  activation: 'relu',
  dropout: spec.training?.dropout ?? 0,
});

/** Every parameter of the model with its shape (backbone in timm names, then PET and merge modules). */
export function modelParamShapes(spec: ModelSpec): Map<string, number[]> {
  validateSpec(spec);
  const shapes = vitParamShapes(spec.vit);
  const D = spec.vit.dim;
  for (let i = 0; i < spec.vit.depth; i++) {
    if (spec.pet.method === 'adaptformer') {
      const s = adapterShapes(D, petAdapter(spec));
      shapes.set(`blocks.${i}.adapter_mlp.down.weight`, s.down);
      shapes.set(`blocks.${i}.adapter_mlp.up.weight`, s.up);
    } else if (spec.pet.method === 'lora') {
      const s = adapterShapes(D, petAdapter(spec));
      for (const qv of ['q', 'v']) {
        shapes.set(`blocks.${i}.attn.adapter_${qv}.down.weight`, s.down);
        shapes.set(`blocks.${i}.attn.adapter_${qv}.up.weight`, s.up);
      }
    }
  }
  if (spec.merge?.kind === 'fpet') {
    const s = adapterShapes(D / spec.vit.heads, refineAdapter(spec));
    for (const L of spec.merge.blocks) {
      shapes.set(`blocks.${L}.merge.adapter_refine.down.weight`, s.down);
      shapes.set(`blocks.${L}.merge.adapter_refine.up.weight`, s.up);
    }
  }
  return shapes;
}

export function validateSpec(spec: ModelSpec): void {
  const { vit, merge, pet } = spec;
  if (!Number.isInteger(spec.batch) || spec.batch < 1) throw new Error(`batch must be a positive integer (got ${spec.batch})`);
  if (vit.imageSize % vit.patchSize !== 0) throw new Error(`image size ${vit.imageSize} is not a multiple of the patch size ${vit.patchSize}`);
  if (vit.dim % vit.heads !== 0) throw new Error(`width ${vit.dim} is not divisible by ${vit.heads} heads`);
  if ((pet.method === 'adaptformer' || pet.method === 'lora') && !(pet.dim >= 1)) throw new Error(`${pet.method} needs an adapter dim >= 1 (got ${pet.dim})`);
  if (merge) {
    if (merge.blocks.length === 0) throw new Error('merging needs at least one merge block');
    for (const L of merge.blocks) {
      if (!Number.isInteger(L) || L < 0 || L >= vit.depth) throw new Error(`merge block ${L} is outside the ${vit.depth} blocks (0..${vit.depth - 1})`);
    }
    if (new Set(merge.blocks).size !== merge.blocks.length) throw new Error(`merge blocks repeat: ${merge.blocks.join(',')}`);
    if (merge.kind === 'fpet') mergeCount(merge.ratio, gridSize(vit) ** 2, checkerboardSplit(gridSize(vit) ** 2).a.length);
    if (merge.kind === 'tome' && !(Number.isInteger(merge.r) && merge.r >= 1)) throw new Error(`ToMe needs r >= 1 tokens per block (got ${merge.r})`);
  }
}

export interface BuiltModel {
  readonly graph: Graph;
  readonly spec: ModelSpec;
  readonly paramShapes: Map<string, number[]>;
  readonly trainable: string[];
  /** Tokens entering each block's attention and MLP. */
  readonly tokenCounts: { attention: number; mlp: number }[];
}

/**
 * Inputs: `images` [B, C, H, W] in [0, 1], `onehot` [B, classes], and in training `seed` i32[2]
 * ([seed, step]). Outputs: `logits`, `loss` (mean cross-entropy).
 */
export function buildModel(spec: ModelSpec): BuiltModel {
  const paramShapes = modelParamShapes(spec);
  const { vit, batch: B } = spec;
  const b = new GraphBuilder();
  const images = b.input('images', [B, vit.inChannels, vit.imageSize, vit.imageSize]);
  const onehot = b.input('onehot', [B, vit.numClasses]);
  const seed = spec.training ? b.input('seed', [2], 'i32') : undefined;
  const params = new Map<string, Tensor>();
  const param = (name: string, shape?: readonly number[]) => {
    let t = params.get(name);
    if (!t) {
      const s = paramShapes.get(name) ?? shape;
      if (!s) throw new Error(`model: no parameter "${name}"`);
      t = b.param(name, s, { trainable: isTrainableName(name, spec) });
      params.set(name, t);
    }
    return t;
  };
  let stream = 0;
  const dropMask = (shape: readonly number[], p: number): Tensor | undefined => {
    if (!seed || !(p > 0)) return undefined;
    return b.rand(shape, seed, ++stream).compare('ge', p).mul(1 / (1 - p));
  };
  const runAdapter = (z: Tensor, prefix: string, c: AdapterConfig) =>
    adapter(z, { down: param(`${prefix}.down.weight`), up: param(`${prefix}.up.weight`) }, c, dropMask([z.size / z.dim(-1), c.dim], c.dropout));

  const hooks: VitHooks = {};
  if (spec.pet.method === 'adaptformer') {
    hooks.parallelToMlp = (ctx: BlockContext, y: Tensor) => runAdapter(y, `${ctx.prefix}.adapter_mlp`, petAdapter(spec));
  } else if (spec.pet.method === 'lora') {
    hooks.qvDelta = (ctx: BlockContext, u: Tensor) => ({
      q: runAdapter(u, `${ctx.prefix}.attn.adapter_q`, petAdapter(spec)),
      v: runAdapter(u, `${ctx.prefix}.attn.adapter_v`, petAdapter(spec)),
    });
  }
  if (spec.training && spec.training.dropPath > 0) {
    const rate = (i: number) => (vit.depth > 1 ? (spec.training!.dropPath * i) / (vit.depth - 1) : spec.training!.dropPath);
    hooks.residual = (ctx, branch) => {
      const mask = dropMask([B, 1, 1], rate(ctx.block));
      return mask ? branch.mul(mask) : branch;
    };
  }
  const merge = spec.merge;
  if (merge) {
    const patches = gridSize(vit) ** 2;
    let merges = 0;
    const mergeAt = new Set(merge.blocks);
    hooks.afterAttention = (ctx, s, keys) => {
      if (!mergeAt.has(ctx.block)) return s;
      const n = s.x.dim(1);
      // Similarity metric: this block's keys averaged over heads, detached (§1.4 step 2).
      const kbar = keys.mean(1, false).stopGradient();
      if (merge.kind === 'fpet') {
        const split = merges++ === 0 && n === patches + 1 ? checkerboardSplit(patches) : alternatingSplit(n);
        const metric = kbar.add(runAdapter(kbar, `${ctx.prefix}.merge.adapter_refine`, refineAdapter(spec)));
        const r = mergeCount(merge.ratio, n - 1, split.a.length);
        const m = mergeTokens(s.x, s.size, metric, { split, r, differentiable: true });
        return { x: m.x, size: m.size };
      }
      const split = alternatingSplit(n);
      const r = Math.min(merge.r, split.a.length);
      const m = mergeTokens(s.x, s.size, kbar, { split, r, differentiable: false });
      return { x: m.x, size: m.size };
    };
  }
  const out = buildVit(b, images, vit, param, hooks);
  b.output('logits', out.logits);
  b.output('loss', crossEntropy(out.logits, onehot));
  const graph = b.build();
  const trainable = graph.params.filter((p) => p.attrs.trainable).map((p) => p.attrs.name);
  return { graph, spec, paramShapes, trainable, tokenCounts: out.tokenCounts };
}

/** Random backbone plus freshly initialised trainable modules (adapters per §1.2, head uniform ±1/√D). */
export function initialWeights(spec: ModelSpec, seed = 0, backbone?: Map<string, Float32Array>): Map<string, Float32Array> {
  const shapes = modelParamShapes(spec);
  const weights = new Map(backbone ?? randomVitWeights(spec.vit, seed));
  let a = (seed ^ 0x5bd1e995) >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const D = spec.vit.dim;
  for (const [name, shape] of shapes) {
    if (name.endsWith('.down.weight') && name.includes('adapter')) {
      const prefix = name.slice(0, -'.down.weight'.length);
      const cfg = name.includes('adapter_refine') ? refineAdapter(spec) : petAdapter(spec);
      const w = initAdapter(shape[1]!, cfg, rand);
      weights.set(name, w.down);
      weights.set(`${prefix}.up.weight`, w.up);
    }
  }
  // The head is always re-created for the task (timm reset_classifier: PyTorch's default Linear init).
  const bound = 1 / Math.sqrt(D);
  weights.set('head.weight', Float32Array.from({ length: spec.vit.numClasses * D }, () => (rand() * 2 - 1) * bound));
  weights.set('head.bias', Float32Array.from({ length: spec.vit.numClasses }, () => (rand() * 2 - 1) * bound));
  for (const [name, shape] of shapes) {
    const w = weights.get(name);
    const n = shape.reduce((x, y) => x * y, 1);
    if (!w) throw new Error(`initialWeights: no value for parameter "${name}"`);
    if (w.length !== n) throw new Error(`initialWeights: "${name}" has ${w.length} values, its shape [${shape}] needs ${n}`);
  }
  return weights;
}

