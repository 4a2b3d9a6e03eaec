// Matmul epilogues: the elementwise consumers of a product (bias, GELU, residual, scale, a final
// transpose) are computed on its accumulator in the matmul's kernel, instead of a store and a
// reload of the product.

import type { Node } from '../../src/core/ir/graph.ts';
import { sameShape } from '../../src/core/ir/shape.ts';
import { ELEMENTWISE, type FusionPass, type FusionState } from './plan.ts';

/**
 * Matmul epilogues: a matmul's same-shape elementwise consumers are computed on its accumulator
 * in the matmul's kernel, instead of a store and a reload of the product.
 */
function fuseMatmulEpilogues(s: FusionState): void {
  const { graph, plan, outputs } = s;
  for (const m of graph.nodes) {
    if (m.op !== 'matmul' || outputs.has(m.id) || s.claimed.has(m.id)) continue;
    const best = largestEpilogue(s, m);
    if (!best) continue;
    for (const id of best.members) {
      s.claimed.add(id);
      plan.materialized.delete(id);
    }
    plan.materialized.add(best.root);
    plan.anchorOf.set(best.root, m.id);
  }
}

/**
 * Grows the set of elementwise same-shape consumers of the product one node at a time in
 * topological order, and keeps the largest set that is left through a single node (the kernel
 * root). Nodes inside are computed once per output element, however often used.
 */
function largestEpilogue(s: FusionState, m: Node): { root: number; members: number[] } | undefined {
  const { graph, consumers, outputs } = s;
  const set = new Set([m.id]);
  const addable = (id: number) => epilogueAddable(s, id, set);
  let best: { root: number; members: number[] } | undefined;
  let closed = false;
  for (;;) {
    const exits = [...set].filter((id) => outputs.has(id) || consumers[id]!.some((c) => !set.has(c)));
    const stuck = [...set].filter((id) => outputs.has(id) || consumers[id]!.some((c) => !set.has(c) && !addable(c)));
    if (exits.length === 1 && exits[0] !== m.id) best = { root: exits[0]!, members: [...set] };
    if (stuck.length > 1 || closed) break;
    let next = Infinity;
    for (const id of set) for (const c of consumers[id]!) if (!set.has(c) && c < next && addable(c)) next = c;
    if (next === Infinity) break;
    set.add(next);
    closed = graph.node(next).op === 'permute';
  }
  return best;
}

/**
 * Whether `id` may join the epilogue `set`. Members keep the product's element order:
 * elementwise ops whose set-inputs have their own shape (no broadcasting of the product), and
 * reshapes (row-major, so offsets are unchanged).
 */
function epilogueAddable({ graph, claimed }: FusionState, id: number, set: ReadonlySet<number>): boolean {
  const n = graph.node(id);
  if (claimed.has(id)) return false;
  // A permute may end the set (the product is then stored transposed: weight gradients).
  if (n.op === 'reshape' || n.op === 'permute') return true;
  return ELEMENTWISE.has(n.op) && n.inputs.every((i) => !set.has(i) || sameShape(graph.node(i).type.shape, n.type.shape));
}

export const FUSE_MATMUL_EPILOGUES: FusionPass = { name: 'fuse-matmul-epilogues', run: fuseMatmulEpilogues };
