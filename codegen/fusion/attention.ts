// Attention: the whole softmax(Q·Kᵀ)·V chain computed by the kernel of P·V (kernels/attention.ts),
// so the n×n scores, their max, exponentials and sums are never stored.

import { matchSoftmax } from '../../src/core/ir/attention.ts';
import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { numel, sameShape } from '../../src/core/ir/shape.ts';
import { dependsOnAny, ELEMENTWISE, type AttentionGroup, type FusionPass, type FusionState } from './plan.ts';

/** P·V matmul `mm` as softmax attention, if the graph around it has the pattern and nothing else reads it. */
export function matchAttention(graph: Graph, consumers: readonly (readonly number[])[], outputs: ReadonlySet<number>, mm: Node): AttentionGroup | undefined {
  if (mm.op !== 'matmul') return undefined;
  const node = (id: number) => graph.node(id);
  const sm = matchSoftmax(graph, node(mm.inputs[0]!));
  if (!sm) return undefined;
  const scores = node(sm.scores);
  // S: Q·Kᵀ followed by same-shape elementwise ops whose other inputs do not depend on it.
  const chain: number[] = [];
  let cur = scores;
  while (cur.op !== 'matmul') {
    if (!ELEMENTWISE.has(cur.op) || cur.type.dtype !== 'f32') return undefined;
    const full = cur.inputs.filter((i) => sameShape(node(i).type.shape, cur.type.shape));
    if (full.length !== 1) return undefined;
    chain.push(cur.id);
    cur = node(full[0]!);
  }
  const qk = cur;
  const hd = node(mm.inputs[1]!).type.shape.at(-1)!, n = qk.type.shape.at(-1)!, dk = node(qk.inputs[0]!).type.shape.at(-1)!;
  // The kernel holds a query row's Q and output as vec4s (head dims multiples of 4), and runs one
  // workgroup per (batch, query block): P·V must not broadcast over more batch axes than Q·Kᵀ.
  if (!sameShape(qk.type.shape, scores.type.shape) || hd % 4 !== 0 || dk % 4 !== 0 || n < 2) return undefined;
  if (!sameShape(qk.type.shape.slice(0, -2), mm.type.shape.slice(0, -2))) return undefined;
  const members = [qk.id, ...chain, sm.max, ...(sm.stop !== undefined ? [sm.stop] : []), sm.shifted, sm.exp, sm.sum, sm.probs];
  const inside = new Set([...members, mm.id]);
  for (const id of members) {
    if (outputs.has(id) || consumers[id]!.some((c) => !inside.has(c))) return undefined;
  }
  // The chain's other inputs must not read anything inside (they are broadcast biases, constants).
  for (const id of chain) for (const i of node(id).inputs) if (!inside.has(i) && dependsOnAny(graph, i, inside)) return undefined;
  return { qk: qk.id, scores: scores.id, max: sm.max, exp: sm.exp, sum: sm.sum, probs: sm.probs, pv: mm.id, members };
}

/** Attention: the whole softmax(Q·Kᵀ)·V chain in the kernel of P·V (when nothing else reads it). */
function fuseAttention(s: FusionState): void {
  const { graph, opts, plan, consumers, outputs } = s;
  for (const n of graph.nodes) {
    const g = matchAttention(graph, consumers, outputs, n);
    if (!g || numel(n.type.shape.slice(0, -2)) > (opts.maxWorkgroupsPerDimension ?? 65535)) continue;
    plan.attention.set(n.id, g);
    for (const id of g.members) {
      plan.materialized.delete(id);
      s.claimed.add(id);
      s.inAttention.add(id);
    }
  }
}

export const FUSE_ATTENTION: FusionPass = { name: 'fuse-attention', run: fuseAttention };
