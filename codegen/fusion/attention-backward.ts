// Attention's backward parts (kernels/attention-backward.ts): their inputs are stored (each row is
// read once per row of the other side), and the lse part over the scores of a fused forward is
// written by the forward's kernel.

import { matchSoftmaxAttention, type SoftmaxAttention } from '../../src/core/ir/attention.ts';
import { OPS } from '../../src/core/ir/ops.ts';
import { opsOfKind, type FusionPass, type FusionState } from './plan.ts';

/** Ops an attention backward's input is traced through to what computes it. */
const THROUGH = opsOfKind('view', 'gradient');

/**
 * Attention's backward parts read each input row once per row of the other side (n times):
 * whatever computes an input is stored, not recomputed at every read (views stay inlined).
 */
function storeAttentionBackwardInputs({ graph, plan, claimed }: FusionState): void {
  const mat = plan.materialized;
  for (const n of graph.nodes) {
    if (OPS[n.op].kind !== 'attention') continue;
    for (let id of n.inputs) {
      while (THROUGH.has(graph.node(id).op) && graph.node(id).inputs.length === 1 && !mat.has(id)) id = graph.node(id).inputs[0]!;
      if (!claimed.has(id) && OPS[graph.node(id).op].kind !== 'literal') mat.add(id);
    }
  }
}

/**
 * The lse part of an attention backward (src/core/ir/attention.ts) over the same scores as a fused
 * forward attention is written by that kernel, which has every query row's max and sum at hand
 * (lse = m + log l; FlashAttention stores it in its forward): the backward then does not walk
 * the keys once more.
 */
function joinAttentionLse({ plan, consumers, outputs, opts }: FusionState): void {
  const { graph } = plan;
  const { maxBindings } = opts;
  // Each fused forward attention as the IR sees it, with the root of the kernel that computes it.
  const forwards: { g: SoftmaxAttention; leader: number }[] = [];
  for (const r of plan.kernelRoots()) {
    const pv = plan.anchorOf.get(r.id) ?? r.id;
    if (!plan.attention.has(pv)) continue;
    const g = matchSoftmaxAttention(graph, (id) => consumers[id]!, (id) => outputs.has(id), graph.node(pv));
    if (g) forwards.push({ g, leader: r.id });
  }
  for (const n of graph.nodes) {
    if (n.op !== 'attentionBackward' || n.attrs.part !== 'lse' || !plan.materialized.has(n.id) || outputs.has(n.id)) continue;
    for (const { g, leader } of forwards) {
      const same = g.q === n.inputs[0] && g.kt === n.inputs[1] && g.scale === n.attrs.scale && g.bias === (n.attrs.bias ? n.inputs[2] : undefined);
      if (!same || (plan.siblings.get(leader)?.length ?? 0) > 0) continue;
      if (plan.members(leader).reads.size + 2 > maxBindings) continue;
      plan.join(leader, n.id);
      break;
    }
  }
}

export const STORE_ATTENTION_BACKWARD_INPUTS: FusionPass = { name: 'store-attention-backward-inputs', run: storeAttentionBackwardInputs };
export const JOIN_ATTENTION_LSE: FusionPass = { name: 'join-attention-lse', run: joinAttentionLse };
