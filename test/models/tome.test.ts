// ToMe is ToMe: our whole model with ToMe merges at several blocks against an independent float64
// reference written from the published algorithm (test/models/tome-reference.ts): logits in
// float64 and on the GPU, gradients of adapters and head against central differences of the
// reference, and the token order every later merge sees (merge map composition).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients, gradName } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, mergedOutput, partnerOutput, type ModelSpec } from '../../src/fpet/models/model.ts';
import { tokenDestinations } from '../../src/fpet/models/merge.ts';
import { headInputs, type VitConfig } from '../../src/fpet/models/vit.ts';
import { bipartiteSoftMatching, referenceLogits, referenceLoss, type RefConfig } from './tome-reference.ts';
import { assertClose, runOnGpu } from '../support/gpu.ts';
import { rngFrom, uniform } from '../support/random.ts';

// 4×4 grid of 2-pixel patches, 17 tokens, width 16: small enough for central differences in JS.
const VIT: VitConfig = { imageSize: 8, patchSize: 2, inChannels: 1, dim: 16, depth: 4, heads: 2, mlpRatio: 2, numClasses: 5, representationSize: 12 };

function setup(seed: number, opts: { blocks: number[]; r: number; bias: boolean; batch?: number }) {
  const batch = opts.batch ?? 2;
  const spec: ModelSpec = {
    vit: VIT, batch,
    pet: { ...DEFAULT_PET.adaptformer, dim: 3, scale: 0.7, bias: opts.bias },
    merge: { ...DEFAULT_MERGE, kind: 'tome', blocks: opts.blocks, r: opts.r },
  };
  const rng = rngFrom(seed);
  const weights = initialWeights(spec, seed);
  // Larger than the init scales, so that attention, merges and adapters all shape the logits.
  for (const [k, v] of weights) {
    if (/norm\d?\.weight$/.test(k)) continue;
    v.set(uniform(rng, v.length, k.includes('adapter') ? -0.3 : -0.5, k.includes('adapter') ? 0.3 : 0.5));
  }
  const images = uniform(rng, batch * VIT.imageSize ** 2, 0, 1);
  const labels = Array.from({ length: batch }, (_, i) => (3 * i + seed) % VIT.numClasses);
  const onehot = labels.flatMap((l) => Array.from({ length: VIT.numClasses }, (_, c) => +(c === l)));
  const ref: RefConfig = {
    imageSize: VIT.imageSize, patchSize: VIT.patchSize, inChannels: 1, dim: VIT.dim, depth: VIT.depth, heads: VIT.heads,
    mlpHidden: VIT.dim * VIT.mlpRatio, numClasses: VIT.numClasses, representationSize: VIT.representationSize,
    adapterDim: 3, adapterScale: 0.7, adapterBias: opts.bias, tomeBlocks: opts.blocks, tomeR: opts.r,
  };
  return { spec, weights, images, labels, onehot, ref, feeds: { ...Object.fromEntries(weights), images, onehot } };
}

const CASES = [
  { seed: 1, blocks: [0, 1, 2, 3], r: 2, bias: false },
  { seed: 2, blocks: [0, 2, 3], r: 3, bias: true },
  { seed: 3, blocks: [1, 2, 3], r: 8, bias: false }, // r beyond (tokens − 1)/2: clamped per block as ToMe does
];

test('ToMe (≥ 3 merge blocks): whole-model logits equal an independent float64 ToMe reference', () => {
  for (const c of CASES) {
    const s = setup(c.seed, c);
    const m = buildModel(s.spec);
    const ours = evaluate(m.graph, s.feeds).outputs.logits!.data;
    const want = referenceLogits(s.ref, s.weights, s.images, s.spec.batch).flat();
    let worst = 0;
    want.forEach((v, i) => (worst = Math.max(worst, Math.abs(ours[i]! - v))));
    assert.ok(worst < 1e-9, `case ${JSON.stringify(c)}: max |ours − reference| = ${worst}`);
    console.log(`ToMe blocks ${c.blocks} r=${c.r}: tokens ${m.tokenCounts.map((t) => t.mlp).join(' ')}; max logit difference vs reference ${worst.toExponential(2)}`);
  }
});

test('ToMe: gradients of adapters and head equal central differences of the independent reference', () => {
  const c = CASES[1]!;
  const s = setup(c.seed, { ...c, batch: 1 });
  const m = buildModel(s.spec);
  const g = evaluate(gradients(m.graph, { loss: 'loss' }), s.feeds).outputs;
  const lossOf = (w: ReadonlyMap<string, ArrayLike<number>>) => referenceLoss(referenceLogits(s.ref, w, s.images, 1), s.labels);
  const h = 1e-6;
  let checked = 0, worst = 0;
  for (const name of m.trainable) {
    const base = s.weights.get(name)!;
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const perturbed = (d: number) => {
        const v = Float64Array.from(base);
        v[i]! += d;
        return lossOf(new Map<string, ArrayLike<number>>([...s.weights, [name, v]]));
      };
      const fd = (perturbed(h) - perturbed(-h)) / (2 * h);
      const ad = g[gradName(name)]!.data[i]!;
      const err = Math.abs(ad - fd) / (1 + Math.abs(fd));
      worst = Math.max(worst, err);
      assert.ok(err < 1e-6, `${name}[${i}]: autodiff ${ad}, reference finite difference ${fd}`);
      checked++;
    }
  }
  console.log(`ToMe gradients: ${checked} entries of ${m.trainable.length} tensors, max error ${worst.toExponential(2)}`);
});

test('ToMe on the GPU: logits and gradients match the float64 reference', async () => {
  const c = CASES[0]!;
  const s = setup(c.seed, c);
  const m = buildModel(s.spec);
  const g = gradients(m.graph, { loss: 'loss' });
  const { out } = await runOnGpu(g, s.feeds);
  const ref = evaluate(g, s.feeds).outputs;
  const want = referenceLogits(s.ref, s.weights, s.images, s.spec.batch).flat();
  const err = assertClose('logits vs independent reference', out.logits!, want, 1e-4);
  for (const name of g.outputs.keys()) assertClose(name, out[name]!, ref[name]!.data, 2e-4);
  console.log(`ToMe on the GPU: logits vs independent reference ${err.toExponential(2)} (scaled)`);
});

test('merge maps: each merge block\'s destinations follow ToMe\'s output order [cls, kept A in order, B]', () => {
  const c = CASES[0]!;
  const s = setup(c.seed, c);
  const m = buildModel(s.spec, { mergeOutputs: true });
  const o = evaluate(m.graph, s.feeds).outputs;
  const metricSeen: number[] = [];
  for (const step of m.merges) {
    for (let img = 0; img < s.spec.batch; img++) {
      const A = step.split.a.length;
      const partner = o[partnerOutput(step.block)]!.data.slice(img * A, (img + 1) * A);
      const merged = o[mergedOutput(step.block)]!.data.slice(img * A, (img + 1) * A);
      assert.equal(merged.reduce((x, y) => x + y, 0), step.r, `block ${step.block}: ${step.r} A tokens merge`);
      const dest = tokenDestinations(step.split, partner, merged);
      assert.equal(Math.max(...dest) + 1, step.tokensOut);
      assert.equal(dest[0], 0, 'cls stays first');
      // Kept A tokens keep their relative order, and come before every B token.
      const keptDest = step.split.a.filter((_, i) => !merged[i]).map((t) => dest[t]!);
      assert.deepEqual(keptDest, keptDest.map((_, i) => 1 + i));
      assert.ok(step.split.b.every((t, j) => dest[t] === 1 + keptDest.length + j));
    }
    metricSeen.push(step.tokensIn);
  }
  assert.deepEqual(metricSeen, [17, 15, 13, 11]);
  // The reference's matching on a constructed case: a = tokens 0 (cls), 2, 4; b = 1, 3. Token 4's
  // best score (0.31, with 3) beats token 2's (0.22, with 3), so r = 1 merges a[2] into b[1] and
  // leaves a[0] (cls) and a[1] unmerged, in position order.
  const mm = bipartiteSoftMatching([[1, 0], [1, 0.1], [0, 1], [0.9, 0.2], [0.1, 1]], 1);
  assert.deepEqual({ unm: mm.unm, src: mm.src, dst: mm.dst }, { unm: [0, 1], src: [2], dst: [1] });
  assert.equal(headInputs(VIT), 12);
});
