// Vision Transformer (timm layout and parameter names, so timm safetensors load unchanged),
// written as an IR graph. Blocks are pre-norm; LayerNorm eps 1e-6; exact GELU; qkv with bias.
// Extension points (adapters, token merging) are passed in as hooks so the backbone stays one
// piece of code for every method built on it.

import type { GraphBuilder, Tensor } from '../../core/ir/graph.ts';
import { gelu, layerNorm, linear, softmax } from '../../core/ir/nn.ts';
import { mulberry32 } from '../../core/util/random.ts';

/** The geometry of a Vision Transformer; imageSize must be a multiple of patchSize and dim of heads. */
export interface VitConfig {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
  readonly numClasses: number;
  /**
   * Width of timm's frozen tanh representation layer before the head (`pre_logits.fc`, in21k
   * checkpoints: timm's `representation_size`), or 0 when the model has none. The head then reads
   * this many features.
   */
  readonly representationSize: number;
}

/** Standard ViT geometries (timm's ViT-Ti/16, S/16, B/16) and two small ones for MNIST and tests. */
export const VIT_PRESETS = {
  'vit-ti16': { imageSize: 224, patchSize: 16, inChannels: 3, dim: 192, depth: 12, heads: 3, mlpRatio: 4, numClasses: 1000, representationSize: 0 },
  'vit-s16': { imageSize: 224, patchSize: 16, inChannels: 3, dim: 384, depth: 12, heads: 6, mlpRatio: 4, numClasses: 1000, representationSize: 0 },
  'vit-b16': { imageSize: 224, patchSize: 16, inChannels: 3, dim: 768, depth: 12, heads: 12, mlpRatio: 4, numClasses: 1000, representationSize: 768 },
  /** 28×28 grey images, 7×7 patches of 4: the preset the shipped MNIST/Fashion-MNIST backbone uses. */
  'vit-mnist': { imageSize: 28, patchSize: 4, inChannels: 1, dim: 64, depth: 6, heads: 4, mlpRatio: 2, numClasses: 10, representationSize: 0 },
  /** Tiny geometry for tests: 4×4 grid of 2-pixel patches. */
  'vit-micro': { imageSize: 8, patchSize: 2, inChannels: 1, dim: 16, depth: 4, heads: 2, mlpRatio: 2, numClasses: 5, representationSize: 0 },
} as const satisfies Record<string, VitConfig>;

/** The name of a preset in VIT_PRESETS. */
export type VitPreset = keyof typeof VIT_PRESETS;

/** Patches per side of the image. */
export const gridSize = (c: VitConfig): number => c.imageSize / c.patchSize;
/** Features the classification head reads: the representation size if there is a pre-logits layer, else the width. */
export const headInputs = (c: VitConfig): number => (c.representationSize > 0 ? c.representationSize : c.dim);
export const tokenCount = (c: VitConfig): number => gridSize(c) ** 2 + 1;

/** Shapes of the backbone's parameters by timm name. */
export function vitParamShapes(c: VitConfig): Map<string, number[]> {
  const D = c.dim, H = Math.round(c.dim * c.mlpRatio), p = c.patchSize;
  const s = new Map<string, number[]>([
    ['cls_token', [1, 1, D]],
    ['pos_embed', [1, tokenCount(c), D]],
    ['patch_embed.proj.weight', [D, c.inChannels, p, p]],
    ['patch_embed.proj.bias', [D]],
  ]);
  for (let i = 0; i < c.depth; i++) {
    const pre = `blocks.${i}`;
    for (const [k, v] of [
      ['norm1.weight', [D]], ['norm1.bias', [D]],
      ['attn.qkv.weight', [3 * D, D]], ['attn.qkv.bias', [3 * D]],
      ['attn.proj.weight', [D, D]], ['attn.proj.bias', [D]],
      ['norm2.weight', [D]], ['norm2.bias', [D]],
      ['mlp.fc1.weight', [H, D]], ['mlp.fc1.bias', [H]],
      ['mlp.fc2.weight', [D, H]], ['mlp.fc2.bias', [D]],
    ] as const) s.set(`${pre}.${k}`, [...v]);
  }
  s.set('norm.weight', [D]);
  s.set('norm.bias', [D]);
  if (c.representationSize > 0) {
    s.set('pre_logits.fc.weight', [c.representationSize, D]);
    s.set('pre_logits.fc.bias', [c.representationSize]);
  }
  s.set('head.weight', [c.numClasses, headInputs(c)]);
  s.set('head.bias', [c.numClasses]);
  return s;
}

/** Per-block state threaded through the hooks. */
export interface TokenState {
  /** Residual stream [B, n, D]. */
  x: Tensor;
  /** Token sizes [B, n] after a merge (for proportional attention), or undefined before any. */
  size?: Tensor;
}

/** What a hook knows about the block it runs in. */
export interface BlockContext {
  readonly b: GraphBuilder;
  readonly block: number;
  readonly prefix: string;
  readonly config: VitConfig;
  /** Supplies a parameter by its full name (the `param` given to buildVit). */
  readonly param: (name: string, shape: readonly number[]) => Tensor;
}

/** Optional extensions of the backbone (PET adapters, token merging, stochastic depth). */
export interface VitHooks {
  /** Extra terms for q and v from the attention input u = LN₁(x) (LoRA). */
  qvDelta?(ctx: BlockContext, u: Tensor): { q?: Tensor; v?: Tensor };
  /** Wraps a residual branch (DropPath in training). */
  residual?(ctx: BlockContext, branch: Tensor, which: 'attn' | 'mlp'): Tensor;
  /** After the attention residual add, before the MLP (token merging). Gets this block's keys [B, heads, n, hd]. */
  afterAttention?(ctx: BlockContext, s: TokenState, keys: Tensor): TokenState;
  /** A term added in parallel to the MLP, from the MLP's un-normalised input (AdaptFormer). */
  parallelToMlp?(ctx: BlockContext, y: Tensor): Tensor | undefined;
}

/** What buildVit returns: the logits [B, numClasses] and the token counts per block. */
export interface VitOutputs {
  readonly logits: Tensor;
  /** Token count entering each block's attention and MLP. */
  readonly tokenCounts: { attention: number; mlp: number }[];
}

/**
 * Builds the ViT on `images` [B, C, H, W]. `param(name, shape)` supplies parameters (the caller
 * decides which are trainable).
 */
export function buildVit(b: GraphBuilder, images: Tensor, c: VitConfig, param: (name: string, shape: readonly number[]) => Tensor, hooks: VitHooks = {}): VitOutputs {
  const shapes = vitParamShapes(c);
  const P = (name: string) => param(name, shapes.get(name)!);
  const [B] = images.shape as [number];
  const g = gridSize(c), p = c.patchSize, D = c.dim;

  // Patch embedding = a stride-p convolution = patchify, then one matmul.
  const patches = images
    .reshape([B, c.inChannels, g, p, g, p])
    .permute([0, 2, 4, 1, 3, 5])
    .reshape([B, g * g, c.inChannels * p * p]);
  const tokens = linear(patches, P('patch_embed.proj.weight').reshape([D, c.inChannels * p * p]), P('patch_embed.proj.bias'));
  const cls = P('cls_token').broadcastTo([B, 1, D]);
  let s: TokenState = { x: b.concat([cls, tokens], 1).add(P('pos_embed')) };

  const tokenCounts: VitOutputs['tokenCounts'] = [];
  const hd = D / c.heads;
  for (let i = 0; i < c.depth; i++) {
    const prefix = `blocks.${i}`;
    const ctx: BlockContext = { b, block: i, prefix, config: c, param };
    const n = s.x.dim(1);
    const u = layerNorm(s.x, P(`${prefix}.norm1.weight`), P(`${prefix}.norm1.bias`));
    const qkv = linear(u, P(`${prefix}.attn.qkv.weight`), P(`${prefix}.attn.qkv.bias`));
    const heads = (t: Tensor) => t.reshape([B, n, c.heads, hd]).permute([0, 2, 1, 3]);
    const delta = hooks.qvDelta?.(ctx, u) ?? {};
    let q = qkv.narrow(2, 0, D), v = qkv.narrow(2, 2 * D, D);
    if (delta.q) q = q.add(delta.q);
    if (delta.v) v = v.add(delta.v);
    const k = heads(qkv.narrow(2, D, D));
    let logits = heads(q).matmul(k.transpose()).mul(1 / Math.sqrt(hd));
    // Proportional attention: log(size) of each key added to its logits.
    if (s.size) logits = logits.add(s.size.log().reshape([B, 1, 1, n]));
    const attn = softmax(logits).matmul(heads(v)).permute([0, 2, 1, 3]).reshape([B, n, D]);
    const branch = linear(attn, P(`${prefix}.attn.proj.weight`), P(`${prefix}.attn.proj.bias`));
    s = { ...s, x: s.x.add(hooks.residual ? hooks.residual(ctx, branch, 'attn') : branch) };
    if (hooks.afterAttention) s = hooks.afterAttention(ctx, s, k);
    tokenCounts.push({ attention: n, mlp: s.x.dim(1) });

    const y = s.x;
    const h = gelu(linear(layerNorm(y, P(`${prefix}.norm2.weight`), P(`${prefix}.norm2.bias`)), P(`${prefix}.mlp.fc1.weight`), P(`${prefix}.mlp.fc1.bias`)));
    const mlp = linear(h, P(`${prefix}.mlp.fc2.weight`), P(`${prefix}.mlp.fc2.bias`));
    let out = y.add(hooks.residual ? hooks.residual(ctx, mlp, 'mlp') : mlp);
    const parallel = hooks.parallelToMlp?.(ctx, y);
    if (parallel) out = out.add(parallel);
    s = { ...s, x: out };
  }
  // The head reads the class token only: the final norm (per token) is applied to it alone.
  let feat = layerNorm(s.x.narrow(1, 0, 1).reshape([B, D]), P('norm.weight'), P('norm.bias'));
  if (c.representationSize > 0) feat = linear(feat, P('pre_logits.fc.weight'), P('pre_logits.fc.bias')).tanh();
  return { logits: linear(feat, P('head.weight'), P('head.bias')), tokenCounts };
}

/** Deterministic random backbone weights (for benchmarks and tests): timm-like init scales. */
export function randomVitWeights(c: VitConfig, seed = 0): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of vitParamShapes(c)) {
    const n = shape.reduce((x, y) => x * y, 1);
    const v = new Float32Array(n);
    if (/norm\d?\.weight$/.test(name)) v.fill(1);
    else if (!/bias$/.test(name)) for (let i = 0; i < n; i++) v[i] = (rand() * 2 - 1) * 0.04;
    out.set(name, v);
  }
  return out;
}
