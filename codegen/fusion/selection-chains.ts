// Selection chains: a merge sorts three times — each source token's best two destinations, the
// sources by their best score, the kept sources back into their original order — and each sort
// reads only the previous one's result for the same image. One kernel computes the whole chain,
// one workgroup per image, its stages separated by storage barriers (kernels/select.ts): two
// dispatches and two modules fewer per merge. The chain's kernel runs at its last sort's place,
// so the earlier sorts' readers must all come after it.

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { dependsOnAny, ELEMENTWISE, type FusionPass, type FusionState } from './plan.ts';

/**
 * Whether node `n`'s value for image b (its index along axis 0, of length `images`) reads the
 * chain-dependent inputs `fromChain` only for image b.
 */
function keepsImages(graph: Graph, n: Node, images: number, fromChain: (id: number) => boolean): boolean {
  const shape = n.type.shape;
  if (shape.length < 2 || shape[0] !== images) return false;
  // Broadcasting aligns trailing axes: an elementwise op's input of lower rank would not share axis 0.
  const sameImages = n.inputs.filter(fromChain).every((i) => {
    const s = graph.node(i).type.shape;
    return s[0] === images && (!ELEMENTWISE.has(n.op) || s.length === shape.length);
  });
  if (ELEMENTWISE.has(n.op)) return true;
  switch (n.op) {
    case 'gather': case 'topk': case 'sum': case 'reduceMax': return (n.attrs as { axis: number }).axis !== 0;
    case 'slice': return (n as Node<'slice'>).attrs.starts[0] === 0 && (n as Node<'slice'>).attrs.ends[0] === images;
    case 'reshape': return graph.node(n.inputs[0]!).type.shape[0] === images;
    case 'permute': return (n as Node<'permute'>).attrs.perm[0] === 0;
    default: return false;
  }
}

/** Whether topk root `t` may join `chain` (earlier topk roots, in order) as its last stage. */
function mayExtend(s: FusionState, chain: readonly number[], t: Node<'topk'>): boolean {
  const { graph, plan, opts } = s;
  const first = graph.node(chain[0]!) as Node<'topk'>;
  const images = first.type.shape[0]!;
  if (first.attrs.axis === 0 || t.attrs.axis === 0 || t.type.shape[0] !== images) return false;
  const members = new Set(chain);
  // What t computes from the chain: each value of image b from image b's values only.
  const { computed, reads } = plan.members(t.id);
  const fromChain = (id: number) => members.has(id) || (computed.has(id) && dependsOnAny(graph, id, members));
  if (![...computed].filter(fromChain).every((id) => keepsImages(graph, graph.node(id), images, fromChain))) return false;
  // Nothing between the chain's first stage and t reads the chain (its kernel runs at t's place).
  for (const r of plan.kernelRoots()) {
    if (r.id <= first.id || r.id >= t.id || members.has(r.id)) continue;
    if ([...plan.members(r.id).reads].some((id) => members.has(id))) return false;
  }
  // Everything read is written before the first stage's place already, except parameters an
  // update may write over in place later: none are read. Bindings: reads plus every stage's output.
  const allReads = new Set([...chain, t.id].flatMap((id) => [...plan.members(id).reads]).filter((id) => !members.has(id)));
  if ([...allReads].some((id) => graph.node(id).op === 'param')) return false;
  return allReads.size + chain.length + 1 <= opts.maxBindings;
}

/** Joins each chain of topk kernels, a later one reading an earlier one per image, to its last stage's kernel. */
function chainSelections(s: FusionState): void {
  const { plan } = s;
  const chainOf = new Map<number, number[]>();
  for (const t of plan.kernelRoots()) {
    if (t.op !== 'topk') continue;
    const earlier = new Set([...plan.members(t.id).reads].map((id) => chainOf.get(id)).filter((c) => c !== undefined));
    const [chain] = earlier;
    if (earlier.size === 1 && mayExtend(s, chain!, t as Node<'topk'>)) chain!.push(t.id);
    chainOf.set(t.id, earlier.size === 1 && chain!.at(-1) === t.id ? chain! : [t.id]);
  }
  for (const chain of new Set(chainOf.values())) {
    const last = chain.at(-1)!;
    for (const id of chain.slice(0, -1)) plan.join(last, id);
  }
}

export const CHAIN_SELECTIONS: FusionPass = { name: 'chain-selections', run: chainSelections };
