// Selection chains: a merge sorts three times — each source token's best two destinations, the
// sources by their best score, the kept sources back into their original order — and each sort
// reads only the previous one's result for the same image; so do the small maps after them (the
// destinations' new sizes, the merged sources' rows). One kernel computes the whole chain, one
// workgroup per image, its stages separated by storage barriers (kernels/select.ts chainKernel):
// up to four dispatches fewer per merge. The chain's kernel runs at its last stage's place, so
// the earlier stages' readers must all come after it.

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { sortsByRanks } from '../../kernels/select.ts';
import { ANCHORS, dependsOnAny, ELEMENTWISE, RENAMING, type FusionPass, type FusionState } from './plan.ts';
import { SMALL_REDUCTIONS } from './small-reductions.ts';

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
  if (!sameImages) return false;
  if (ELEMENTWISE.has(n.op)) return true;
  switch (n.op) {
    case 'gather': case 'topk': case 'sum': case 'reduceMax': return (n.attrs as { axis: number }).axis !== 0;
    case 'slice': return (n as Node<'slice'>).attrs.starts[0] === 0 && (n as Node<'slice'>).attrs.ends[0] === images;
    case 'reshape': return graph.node(n.inputs[0]!).type.shape[0] === images;
    case 'permute': return (n as Node<'permute'>).attrs.perm[0] === 0;
    case 'concat': return (n as Node<'concat'>).attrs.axis !== 0;
    default: return false;
  }
}

/** Elements per image a map stage may have: a chain runs one workgroup per image, 64 threads (ViT-B's merged rows, 8 × 768, fit). */
const CHAIN_MAP_MAX_ELEMENTS = 8192;

/**
 * Whether root `t` is a map a chain's workgroup may compute: no matmul epilogue, row kernel or
 * siblings, and no reduction in it longer than inline reductions go (lower.ts smallReduction).
 */
function isChainMap(s: FusionState, t: Node, computed: ReadonlySet<number>): boolean {
  const { graph, plan } = s;
  if (t.op === 'topk' || ANCHORS.has(t.op) && t.op !== 'sum' && t.op !== 'reduceMax') return false;
  if (plan.anchorOf.has(t.id) || plan.siblings.has(t.id) || [...plan.rowFused.values()].includes(t.id) || plan.attention.has(t.id)) return false;
  if (numel(t.type.shape) / t.type.shape[0]! > CHAIN_MAP_MAX_ELEMENTS) return false;
  return [...computed].every((id) => {
    const n = graph.node(id);
    if (n.op !== 'sum' && n.op !== 'reduceMax') return !ANCHORS.has(n.op);
    const x = graph.node(n.inputs[0]!).type.shape, axis = n.attrs.axis;
    return x[axis]! <= (axis === x.length - 1 ? SMALL_REDUCTIONS.gpu.row : SMALL_REDUCTIONS.gpu.axis);
  });
}

/**
 * Whether sort `first` sorts within images (not along axis 0) and gives a workgroup per image work
 * to share out: rows, or entries of rows sorted by ranks (kernels/select.ts). A top-k of one row
 * per image keeps its kernel of many rows per workgroup.
 */
function sharesOutPerImage(graph: Graph, first: Node<'topk'>): boolean {
  const { axis, k } = first.attrs;
  const n = graph.node(first.inputs[0]!).type.shape[axis]!;
  const rowsPerImage = numel(first.type.shape) / k / first.type.shape[0]!;
  return axis !== 0 && rowsPerImage * (sortsByRanks(k, n) ? n : 1) >= 2;
}

/** Whether root `t` (a sort, or a map: isChainMap) may join `chain` (earlier roots, in order, the first a sort) as its last stage. */
function mayExtend(s: FusionState, chain: readonly number[], t: Node): boolean {
  const { graph, plan, opts } = s;
  const first = graph.node(chain[0]!) as Node<'topk'>;
  const images = first.type.shape[0]!;
  if (!sharesOutPerImage(graph, first) || (t.op === 'topk' && (t as Node<'topk'>).attrs.axis === 0) || t.type.shape[0] !== images) return false;
  const members = new Set(chain);
  // What t computes from the chain: each value of image b from image b's values only.
  const { computed } = plan.members(t.id);
  if (t.op !== 'topk' && !isChainMap(s, t, computed)) return false;
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

/**
 * Map stage `t` stored after its elementwise tail where it has one: a reduction whose one reader
 * (through renamings) is elementwise over as many values (a merge's new sizes, s_B + Σ) is computed
 * in place there, and that stored, so that later kernels read one tensor, not the parts it adds.
 */
function withTail(s: FusionState, chain: readonly number[], t: Node): Node {
  const { graph, plan, consumers, outputs } = s;
  let u = t.id;
  for (;;) {
    const readers = consumers[u]!;
    if (readers.length !== 1 || outputs.has(u) || plan.isMaterialized(readers[0]!)) return t;
    const c = graph.node(readers[0]!);
    if (RENAMING.has(c.op)) u = c.id;
    else if (!ELEMENTWISE.has(c.op) || numel(c.type.shape) !== numel(t.type.shape)) return t;
    else {
      plan.materialized.delete(t.id);
      plan.materialized.add(c.id);
      if (mayExtend(s, chain, c)) return c;
      plan.materialized.delete(c.id);
      plan.materialized.add(t.id);
      return t;
    }
  }
}

/**
 * Maps of the chain that only its later stages read are computed there, not stored: each stored
 * stage is a binding of the chain's kernel (a merge's gathered sizes of the merged tokens).
 */
function dropInnerMaps(s: FusionState, chain: number[]): void {
  const { graph, plan, outputs } = s;
  const members = new Set(chain);
  for (const id of chain.slice(1, -1)) {
    if (graph.node(id).op === 'topk' || outputs.has(id)) continue;
    if (!plan.kernelRoots().every((r) => members.has(r.id) || !plan.members(r.id).reads.has(id))) continue;
    plan.materialized.delete(id);
    chain.splice(chain.indexOf(id), 1);
  }
}

/**
 * A concatenation of a chain's results that two kernels or more compute in place (a merge's new
 * sizes, cls | kept | merged, read by every later block's attention and by the next merge) is
 * stored as the chain's last stage: its readers then read one tensor, not its parts.
 */
function withStoredConcat(s: FusionState, chain: number[], before: number): boolean {
  const { graph, plan } = s;
  const members = new Set(chain);
  const concat = graph.nodes.find((n) => n.id > chain.at(-1)! && n.op === 'concat' && !plan.isMaterialized(n.id) && dependsOnAny(graph, n.id, members));
  if (!concat || concat.id >= before) return false;
  if (plan.kernelRoots().filter((r) => plan.members(r.id).computed.has(concat.id)).length < 2) return true;
  plan.materialized.add(concat.id);
  if (mayExtend(s, chain, concat)) chain.push(concat.id);
  else plan.materialized.delete(concat.id);
  return true;
}

/**
 * Chains sorts, a later one reading an earlier one per image, and the maps after them that read
 * them per image (a merge's sizes and gathered rows), into one kernel: the last stage's.
 */
function chainSelections(s: FusionState): void {
  const { plan } = s;
  const chainOf = new Map<number, number[]>();
  // Chains whose concatenation (withStoredConcat) is still ahead: decided once it is passed, so
  // that later merges read the stored one.
  const open = new Set<number[]>();
  for (const t of plan.kernelRoots()) {
    for (const c of open) if (withStoredConcat(s, c, t.id)) open.delete(c);
    // The latest chain it reads (a merge's sizes read the previous merge's too: that kernel has run).
    const chain = [...plan.members(t.id).reads].map((id) => chainOf.get(id)).reduce<number[] | undefined>((a, c) => (c && (!a || c[0]! > a[0]!) ? c : a), undefined);
    if (chain && mayExtend(s, chain, t)) {
      const stage = t.op === 'topk' ? t : withTail(s, chain, t);
      chain.push(stage.id);
      chainOf.set(stage.id, chain);
      dropInnerMaps(s, chain);
      open.add(chain);
    } else if (t.op === 'topk') {
      chainOf.set(t.id, [t.id]);
    }
  }
  for (const c of open) withStoredConcat(s, c, Infinity);
  for (const chain of new Set(chainOf.values())) {
    if (chain.length < 2) continue;
    const last = chain.at(-1)!;
    for (const id of chain.slice(0, -1)) plan.join(last, id);
    plan.chains.set(last, chain);
  }
}

export const CHAIN_SELECTIONS: FusionPass = { name: 'chain-selections', run: chainSelections };
