// Merge maps: which original tokens ended up in which token, block by block, composed from the
// per-merge outputs a model built with `mergeOutputs` returns (each A token's partner and whether
// it merged). What a picture of FPET's or ToMe's merging is drawn from.

import { mergedOutput, partnerOutput, type BuiltModel } from './model.ts';
import { tokenDestinations } from './merge.ts';
import { gridSize } from './vit.ts';

/** One merge of a merge map: how many tokens it took and left, and where every original token went. */
export interface MergeMapStep {
  readonly block: number;
  readonly tokensIn: number;
  readonly tokensOut: number;
  /** For every original token (cls = 0, patch p = p + 1), the token it belongs to after this merge. */
  readonly groupOf: Int32Array;
  /** Original tokens per token after this merge. */
  readonly sizes: Int32Array;
}

/** Which original tokens ended up in which token, merge by merge, for one image. */
export interface MergeMap {
  /** Patches per side of the image grid. */
  readonly grid: number;
  readonly steps: readonly MergeMapStep[];
  /** Tokens entering every block's MLP (the last step's count from its block on). */
  readonly tokensPerBlock: readonly number[];
}

/** The merge map of image `image` of a batch, from the outputs of a model built with `mergeOutputs`. */
export function mergeMapOf(model: BuiltModel, outputs: Readonly<Record<string, ArrayLike<number>>>, image: number): MergeMap {
  const grid = gridSize(model.spec.vit);
  const tokens = grid * grid + 1;
  let groupOf = Int32Array.from({ length: tokens }, (_, t) => t);
  const steps: MergeMapStep[] = [];
  for (const m of model.merges) {
    const A = m.split.a.length;
    const partner = outputs[partnerOutput(m.block)];
    const merged = outputs[mergedOutput(m.block)];
    if (!partner || !merged) throw new Error(`merge map: the outputs have no ${partnerOutput(m.block)} / ${mergedOutput(m.block)} (build the model with mergeOutputs)`);
    const slice = (a: ArrayLike<number>) => Array.from({ length: A }, (_, i) => a[image * A + i]!);
    const dest = tokenDestinations(m.split, slice(partner), slice(merged));
    groupOf = groupOf.map((g) => dest[g]!);
    const sizes = new Int32Array(m.tokensOut);
    for (const g of groupOf) sizes[g]!++;
    steps.push({ block: m.block, tokensIn: m.tokensIn, tokensOut: m.tokensOut, groupOf, sizes });
  }
  return { grid, steps, tokensPerBlock: model.tokenCounts.map((t) => t.mlp) };
}
