// Token merging by bipartite matching, shared by FPET (differentiable, straight-through) and the
// ToMe baseline (hard, no gradient through the matching). docs/method.md, 3–4.
//
// Tokens are split into: protected tokens (cls; pass through untouched), set A (sources) and set
// B (destinations). Each A token's best B partner is its row argmax of the cosine scores S = ÂB̂ᵀ.
// The r A tokens whose best score is highest merge into their partners (size-weighted mean); the
// other A tokens are kept. Output order, as ToMe's `bipartite_soft_matching` with a class token:
// [protected..., kept A... (in their original order), B...]. The next merge's alternating split
// runs over that order, so every later merge matches ToMe's sets A and B exactly.
//
// FPET with r = |A| (ratio 0.5) is exactly the reference: M = P + sg(H − P) with P = σ(S − μ),
// μ the mean of the row's top 2 scores, H the one-hot of the row argmax.
//
// Tie rule: H is the one-hot of the argmax with ties going to the lower B index, so no A token is
// ever dropped (the reference's `P > 0.5` test drops a token whose top two scores are equal, or
// within ~1.2e-7 in f32; docs/method.md, 3.4). The two differ only on such near-ties.

import type { GraphBuilder, Tensor } from '../../core/ir/graph.ts';

/** How a sequence is split for bipartite matching: protected tokens, sources A and destinations B (token indices). */
export interface SplitPlan {
  /** Token indices that pass through unchanged, in order (cls). */
  readonly protectedTokens: readonly number[];
  readonly a: readonly number[];
  readonly b: readonly number[];
}

/**
 * FPET's checkerboard split of the patch grid (docs/method.md, 3.3), cls protected: A = (even row, even
 * col) then (odd row, odd col); B = (odd row, even col) then (even row, odd col), row-major,
 * token t = patch t−1. Grid width: 14 for 196 patches, else ⌊√n⌋.
 */
export function checkerboardSplit(patches: number): SplitPlan {
  const w = patches === 196 ? 14 : Math.floor(Math.sqrt(patches));
  if (patches % w !== 0) throw new Error(`checkerboard split: ${patches} patches do not form a grid of width ${w}`);
  const h = patches / w;
  const cells = (rowParity: number, colParity: number) => {
    const out: number[] = [];
    for (let r = rowParity; r < h; r += 2) for (let c = colParity; c < w; c += 2) out.push(1 + r * w + c);
    return out;
  };
  return { protectedTokens: [0], a: [...cells(0, 0), ...cells(1, 1)], b: [...cells(1, 0), ...cells(0, 1)] };
}

/** ToMe's 1-D alternating split over the current sequence (docs/method.md, 3.3), cls protected: A even, B odd positions. */
export function alternatingSplit(tokens: number): SplitPlan {
  const a: number[] = [], b: number[] = [];
  for (let t = 1; t < tokens; t++) (t % 2 === 0 ? a : b).push(t);
  return { protectedTokens: [0], a, b };
}

/** Options of mergeTokens: the split, how many tokens merge, and whether the matching is differentiable. */
export interface MergeOptions {
  readonly split: SplitPlan;
  /** Number of A tokens merged, 1..|A|. */
  readonly r: number;
  /** FPET: straight-through soft matching (gradient reaches the metric). ToMe: hard, no gradient. */
  readonly differentiable: boolean;
}

/** The merged sequence, [B, n − r, D] in the order [protected, kept A, B], with its token sizes. */
export interface MergeResult {
  readonly x: Tensor;
  readonly size: Tensor;
  /** Row argmax of S per A token ([B, |A|], i32 B-positions), for inspection and tests. */
  readonly partner: Tensor;
  /** 1 where the A token merged into its partner, 0 where it was kept ([B, |A|], f32). */
  readonly merged: Tensor;
}

const indexConst = (b: GraphBuilder, idx: readonly number[]) => b.constant(idx, [1, idx.length], 'i32');

/**
 * Merges tokens of x [B, n, D] with sizes [B, n] (undefined: all ones), matched on `metric`
 * [B, n, c] (normalised here, without epsilon, as the reference).
 */
export function mergeTokens(x: Tensor, size: Tensor | undefined, metric: Tensor, o: MergeOptions): MergeResult {
  const b = x.b;
  const [B, n] = x.shape as [number, number];
  const { protectedTokens, a, b: bSet } = o.split;
  if (protectedTokens.length + a.length + bSet.length !== n) {
    throw new Error(`merge: split covers ${protectedTokens.length + a.length + bSet.length} tokens, the sequence has ${n}`);
  }
  if (!Number.isInteger(o.r) || o.r < 1 || o.r > a.length) {
    throw new Error(`merge: cannot merge r=${o.r} tokens: set A has ${a.length} tokens (r must be 1..${a.length})`);
  }
  const sizes = size ?? b.fill(1, [B, n]);
  const m = o.differentiable ? metric : metric.stopGradient();
  const mh = m.div(m.square().sum(-1).sqrt());
  const aIdx = indexConst(b, a), bIdx = indexConst(b, bSet);
  const scores = mh.gather(aIdx, 1).matmul(mh.gather(bIdx, 1).transpose()); // [B, |A|, |B|]

  // Hard matching: one-hot of the row argmax (ties to the lower index).
  const top2 = scores.topk(Math.min(2, bSet.length), -1); // [B, |A|, k]
  const best = top2.narrow(2, 0, 1); // [B, |A|, 1]
  const columns = b.constant(bSet.map((_, j) => j), [1, 1, bSet.length]);
  const hard = columns.compare('eq', best.cast('f32'));
  let match: Tensor;
  if (o.differentiable) {
    // Soft matching P = σ(S − μ), μ = mean of the row's top-2 scores; straight-through to P.
    const mu = scores.gather(top2, 2).mean(-1);
    match = hard.straightThrough(scores.sub(mu).sigmoid());
  } else {
    match = hard;
  }

  // Which A tokens merge: the r with the highest best score (ties to the lower A position).
  const bestScore = scores.gather(best, 2).reshape([B, a.length]);
  const xs = x.mul(sizes.reshape([B, n, 1]));
  const xA = xs.gather(aIdx, 1), sA = sizes.gather(aIdx, 1);
  let mergedM = match, mergedX = xA, mergedS = sA;
  let mergedMask = b.fill(1, [B, a.length]);
  let kept: Tensor | undefined;
  if (o.r < a.length) {
    // A positions by best score, highest first (ties to the lower position): the first r merge.
    const order = bestScore.topk(a.length, -1); // [B, |A|]
    // The kept A tokens (the rest of the order) in their original order: sorted by the key
    // |A| − position, highest first. One sort more, where a mask of the merged tokens would take a
    // scatter and a sort. Built right after the order: the three sorts then run as one kernel
    // (codegen/fusion/selection-chains.ts), which nothing reading the first two may precede.
    const rest = order.narrow(1, o.r, a.length - o.r); // [B, |A| − r]
    kept = rest.gather(rest.cast('f32').neg().add(a.length).topk(a.length - o.r, -1), 1);
    const mergedIdx = order.narrow(1, 0, o.r); // [B, r]
    mergedM = match.gather(mergedIdx, 1);
    mergedX = xA.gather(mergedIdx, 1);
    mergedS = sA.gather(mergedIdx, 1);
    mergedMask = b.fill(1, [B, o.r]).scatterAdd(mergedIdx, 1, a.length); // only for the `merged` output
  }
  // Destinations add their sources: num = x_B·s_B + Mᵀ(x_A·s_A), s' = s_B + Mᵀ s_A (a gather-style
  // sum, no atomics). The sizes first, as a sum over the merged tokens, not a product with one
  // column: with the sorts they are per-image maps one kernel computes
  // (codegen/fusion/selection-chains.ts), which the rows' kernels then follow.
  const mT = mergedM.transpose();
  const sB = sizes.gather(bIdx, 1).add(mT.mul(mergedS.reshape([B, 1, o.r])).sum(-1).reshape([B, bSet.length]));
  const p = protectedTokens.length ? indexConst(b, protectedTokens) : undefined;
  const outS = concatParts(b, [p && sizes.gather(p, 1), kept && sA.gather(kept, 1), sB]);
  const num = xs.gather(bIdx, 1).add(mT.matmul(mergedX));
  const outX = concatParts(b, [p && x.gather(p, 1), kept && x.gather(aIdx, 1).gather(kept, 1), num.div(sB.reshape([B, bSet.length, 1]))]);
  return { x: outX, size: outS, partner: best.reshape([B, a.length]), merged: mergedMask };
}

/** The present parts concatenated along the tokens (one part: itself). */
function concatParts(b: GraphBuilder, parts: readonly (Tensor | undefined)[]): Tensor {
  const present = parts.filter((t): t is Tensor => t !== undefined);
  return present.length === 1 ? present[0]! : b.concat(present, 1);
}

/** Merge count for FPET's ratio ρ of the patch tokens (0.5 = all of A, the reference). */
export function mergeCount(ratio: number, patches: number, aSize: number): number {
  if (!(ratio > 0)) throw new Error(`merge ratio must be > 0 (got ${ratio})`);
  const r = Math.round(ratio * patches);
  if (r > aSize) throw new Error(`merge ratio ${ratio} asks for ${r} of ${patches} tokens but set A has only ${aSize} (max ratio ${(aSize / patches).toFixed(4)})`);
  if (r < 1) throw new Error(`merge ratio ${ratio} merges no token of ${patches} (min ratio ${(0.5 / patches).toFixed(4)})`);
  return r;
}

/**
 * Where each input token of a merge went: its position in the merge's output (protected tokens,
 * then kept A tokens in order, then B). A merged A token goes to its partner's position.
 * `partner` and `merged` are one image's rows of MergeResult.partner / MergeResult.merged.
 */
export function tokenDestinations(split: SplitPlan, partner: ArrayLike<number>, merged: ArrayLike<number>): Int32Array {
  const n = split.protectedTokens.length + split.a.length + split.b.length;
  const dest = new Int32Array(n).fill(-1);
  split.protectedTokens.forEach((t, i) => (dest[t] = i));
  let at = split.protectedTokens.length;
  split.a.forEach((t, i) => {
    if (!merged[i]) dest[t] = at++;
  });
  const bStart = at;
  split.b.forEach((t, j) => (dest[t] = bStart + j));
  split.a.forEach((t, i) => {
    if (merged[i]) {
      const p = partner[i]!;
      if (!(p >= 0 && p < split.b.length)) throw new Error(`merge map: partner ${p} of A token ${t} is outside set B (0..${split.b.length - 1})`);
      dest[t] = bStart + p;
    }
  });
  return dest;
}
