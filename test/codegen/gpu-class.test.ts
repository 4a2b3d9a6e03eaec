// GPU-class plans (what real GPUs run: tiled matmuls with second products, split-K, batches of
// mixed workgroup shapes, GPU-sized small reductions) of whole small ViTs with AdaptFormer, FPET
// and ToMe, training steps, on this machine's adapter against the float64 reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import type { VitConfig } from '../../src/fpet/models/vit.ts';
import { checkAgainstReference } from '../support/gpu.ts';
import { randomFeeds } from '../support/random.ts';
import { exprsOf, walkExpr, walkStmts, type KernelIR } from '../../kernels/ir.ts';

/** inverseSqrt operations inside loops of a kernel tree. */
function inverseSqrtsInLoops(ir: KernelIR): number {
  let found = 0;
  walkStmts(ir.body, (s) => {
    if (s.k !== 'loop') return;
    walkStmts(s.body, (inner) => exprsOf(inner).forEach((e) => walkExpr(e, (x) => { found += x.k === 'alu' && x.op === 'inverseSqrt' ? 1 : 0; })));
  });
  return found;
}

// Six heads: the keys' mean over heads is a GPU-only small reduction (CPU adapters: up to 4).
const VIT: VitConfig = { imageSize: 8, patchSize: 2, inChannels: 1, dim: 24, depth: 3, heads: 6, mlpRatio: 2, numClasses: 5, representationSize: 0 };

for (const kind of ['none', 'fpet', 'tome'] as const) {
  test(`GPU-class training step, ${kind === 'none' ? 'AdaptFormer' : `AdaptFormer + ${kind === 'fpet' ? 'FPET' : 'ToMe'}`}, matches float64`, { timeout: 600_000 }, async () => {
    const merge = kind === 'none' ? {} : { merge: { ...DEFAULT_MERGE, kind, blocks: kind === 'fpet' ? [1] : [0, 1], r: 3 } };
    const spec: ModelSpec = { vit: VIT, batch: 2, pet: DEFAULT_PET.adaptformer, ...merge, training: { dropout: 0, dropPath: 0 } };
    const graph = gradients(buildModel(spec).graph, { loss: 'loss' });
    // Split-K forced (the default splits only contractions of 1024 and more).
    const plan = await checkAgainstReference(graph, randomFeeds(graph, 11), { limits: { adapterClass: 'gpu' }, splitK: 3 });
    assert.ok(plan.kernels.some((k) => k.config.startsWith('tiled')), 'tiled matmuls, as on GPUs');
    assert.ok(plan.steps.length < plan.kernels.length, 'some kernels share a dispatch');
  });
}

for (const kind of ['none', 'fpet', 'tome'] as const) {
  test(`GPU-class forward, ${kind === 'none' ? 'AdaptFormer' : `AdaptFormer + ${kind === 'fpet' ? 'FPET' : 'ToMe'}`}: LayerNorms computed in the tiled matmuls that read them, matches float64`, { timeout: 600_000 }, async () => {
    const merge = kind === 'none' ? {} : { merge: { ...DEFAULT_MERGE, kind, blocks: kind === 'fpet' ? [1] : [0, 1], r: 3 } };
    const vit = { ...VIT, dim: 32, heads: 4 };
    const graph = buildModel({ vit, batch: 3, pet: DEFAULT_PET.adaptformer, ...merge }).graph;
    const plan = await checkAgainstReference(graph, randomFeeds(graph, 12), { limits: { adapterClass: 'gpu' } });
    const prologues = plan.kernels.filter((k) => k.config.startsWith('tiled') && k.ir.moduleArrays.some((a) => a.hint === 'stats'));
    // Block 0's first norm reads cls | patches + pos (three stored rows: it keeps its kernel), as do
    // ToMe's norms over merged tokens.
    assert.ok(prologues.length >= (kind === 'tome' ? 2 : 2 * vit.depth - 1), `norm prologues in ${prologues.length} tiled matmuls: ${plan.kernels.map((k) => `${k.name} (${k.config})`).join(', ')}`);
    for (const k of prologues) assert.equal(inverseSqrtsInLoops(k.ir), 0, `${k.name}: 1/√(var + ε) once per row, not per element staged`);
    if (kind !== 'none') {
      // The merge metric's matmul (FPET's adapter, ToMe's head mean) reads the keys the attention
      // reads: narrowed to the attention's one-subgroup workgroup, it shares its dispatch.
      const shared = plan.steps.filter((s) => s.parts.some((i) => plan.kernels[i]!.kind === 'attention') && s.parts.some((i) => plan.kernels[i]!.matmul?.source === 'batch'));
      assert.ok(shared.length >= 1, `an attention batched with a narrowed matmul: ${plan.steps.map((s) => s.kernel.name).join(', ')}`);
    }
  });
}
