// Fusion planning: decides which nodes are written to memory (kernel outputs and buffers) and
// which are computed in place inside their consumers' kernels.
//
//  - views (reshape, permute, slice, pad, broadcast, concat, gather) and elementwise ops are
//    inlined into consumers; one used by several kernels is recomputed when cheap, stored otherwise;
//  - a matmul whose single consumer chain is elementwise on the same shape becomes that chain's
//    accumulator (epilogue fusion: bias, GELU, residual, scale, ...); its inputs' producers are
//    inlined into the tile loads (prologue fusion: transposes, LayerNorm output, ...);
//  - a reduction along the last axis whose readers all sit in one kernel over the same rows is
//    computed inside that kernel (row fusion: LayerNorm, softmax and their backward passes);
//  - no kernel may bind more storage buffers than the device allows.

import type { Graph, Node } from '../src/ir/graph.ts';
import type { OpName } from '../src/ir/ops.ts';
import { sameShape } from '../src/ir/shape.ts';

export const BUFFER_LEAVES: ReadonlySet<OpName> = new Set(['input', 'param', 'constant']);
export const ANCHORS: ReadonlySet<OpName> = new Set(['matmul', 'sum', 'reduceMax', 'topk', 'scatterAdd']);
const ELEMENTWISE: ReadonlySet<OpName> = new Set([
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'tanh', 'erf', 'relu', 'sigmoid', 'sign', 'abs',
  'add', 'sub', 'mul', 'div', 'max', 'min', 'compare', 'select', 'cast',
]);
/** Ops that are free to recompute (index arithmetic or identity). */
const FREE: ReadonlySet<OpName> = new Set(['reshape', 'permute', 'slice', 'pad', 'broadcast', 'concat', 'gather', 'fill', 'stopGradient', 'straightThrough']);

/** Recomputing more than this many ops per element in each consumer costs more than a store and reload. */
const RECOMPUTE_LIMIT = 6;

export interface FusionOptions {
  /** false: one kernel per op (views that are pure renamings excepted), the baseline fused code is compared with. */
  readonly fuse: boolean;
  /** Storage buffers one kernel may bind (device limit maxStorageBuffersPerShaderStage). */
  readonly maxBindings: number;
}

export class FusionPlan {
  /** Nodes that live in memory: buffer leaves and kernel outputs. */
  readonly materialized = new Set<number>();
  /** Last-axis reductions computed inside the kernel of another root: reduction -> root. */
  readonly rowFused = new Map<number, number>();
  /** Kernel root -> the matmul whose accumulator it consumes as an epilogue. */
  readonly anchorOf = new Map<number, number>();
  /** Reshapes that share their input's buffer (same elements, same order): reshape -> stored input. */
  readonly aliasOf = new Map<number, number>();
  /** Map kernels that also compute and write other roots of the same shape (horizontal fusion). */
  readonly siblings = new Map<number, number[]>();
  private readonly joined = new Map<number, number>();

  constructor(readonly graph: Graph) {}

  isMaterialized(id: number): boolean {
    return this.materialized.has(id);
  }

  /** Kernel roots in execution (topological) order. */
  roots(): Node[] {
    return this.graph.nodes.filter((n) => this.materialized.has(n.id) && !BUFFER_LEAVES.has(n.op));
  }

  /** Roots that get a kernel of their own (siblings are written by their leader's kernel, aliases by nobody). */
  kernelRoots(): Node[] {
    return this.roots().filter((n) => !this.joined.has(n.id) && !this.aliasOf.has(n.id));
  }

  /** The node whose buffer holds `id`'s values. */
  storage(id: number): number {
    return this.aliasOf.get(id) ?? id;
  }

  /** `root` will also be computed and written by the kernel of `leader`. */
  join(leader: number, root: number): void {
    const list = this.siblings.get(leader) ?? [];
    list.push(root);
    this.siblings.set(leader, list);
    this.joined.set(root, leader);
  }

  /** Nodes computed by the kernel of `root`, and the materialized nodes it reads. */
  members(root: number): { computed: Set<number>; reads: Set<number> } {
    const computed = new Set<number>(), reads = new Set<number>();
    const visit = (id: number, isRoot: boolean) => {
      if (computed.has(id)) return;
      if (!isRoot && this.materialized.has(id)) {
        reads.add(id);
        return;
      }
      computed.add(id);
      for (const i of this.graph.node(id).inputs) visit(i, false);
    };
    visit(root, true);
    return { computed, reads };
  }

  /** Undo a fusion decision for `id` (used when emitting proves it illegal). */
  unfuse(id: number): void {
    // Horizontal groups are an optimisation: drop them all rather than reason about this one.
    this.siblings.clear();
    this.joined.clear();
    this.materialized.add(id);
    this.rowFused.delete(id);
    for (const [root, m] of this.anchorOf) if (m === id || root === id) this.anchorOf.delete(root);
  }
}

export function planFusion(graph: Graph, opts: FusionOptions): FusionPlan {
  const plan = new FusionPlan(graph);
  const { nodes } = graph;
  const consumers: number[][] = nodes.map(() => []);
  for (const n of nodes) for (const i of new Set(n.inputs)) consumers[i]!.push(n.id);
  const outputs = new Set(graph.outputs.values());
  const mat = plan.materialized;

  for (const n of nodes) {
    if (BUFFER_LEAVES.has(n.op) || outputs.has(n.id) || ANCHORS.has(n.op)) mat.add(n.id);
    else if (!opts.fuse && n.op !== 'reshape' && n.op !== 'fill' && n.op !== 'stopGradient' && n.op !== 'straightThrough') mat.add(n.id);
  }
  if (!opts.fuse) return plan;

  // Matmul epilogues: grow the set of elementwise same-shape consumers of the product one node
  // at a time in topological order, and keep the largest set that is left through a single node
  // (the kernel root). Nodes inside are computed once per output element, however often used.
  const claimed = new Set<number>();
  // Members keep the product's element order: elementwise ops whose set-inputs have their own
  // shape (no broadcasting of the product), and reshapes (row-major, so offsets are unchanged).
  const addable = (id: number, set: ReadonlySet<number>) => {
    const n = graph.node(id);
    if (claimed.has(id)) return false;
    // A permute may end the set (the product is then stored transposed: weight gradients).
    if (n.op === 'reshape' || n.op === 'permute') return true;
    return ELEMENTWISE.has(n.op) && n.inputs.every((i) => !set.has(i) || sameShape(graph.node(i).type.shape, n.type.shape));
  };
  for (const m of nodes) {
    if (m.op !== 'matmul' || outputs.has(m.id)) continue;
    const set = new Set([m.id]);
    let best: { root: number; members: number[] } | undefined;
    let closed = false;
    for (;;) {
      const exits = [...set].filter((id) => outputs.has(id) || consumers[id]!.some((c) => !set.has(c)));
      const stuck = [...set].filter((id) => outputs.has(id) || consumers[id]!.some((c) => !set.has(c) && !addable(c, set)));
      if (exits.length === 1 && exits[0] !== m.id) best = { root: exits[0]!, members: [...set] };
      if (stuck.length > 1 || closed) break;
      let next = Infinity;
      for (const id of set) for (const c of consumers[id]!) if (!set.has(c) && c < next && addable(c, set)) next = c;
      if (next === Infinity) break;
      set.add(next);
      closed = graph.node(next).op === 'permute';
    }
    if (!best) continue;
    for (const id of best.members) {
      claimed.add(id);
      mat.delete(id);
    }
    mat.add(best.root);
    plan.anchorOf.set(best.root, m.id);
  }

  // Recompute cheap multi-consumer expressions, store expensive ones. Runs after epilogue fusion,
  // whose roots are stored anyway: costs then do not accumulate along the residual stream (which
  // made identical blocks compile differently depending on their position).
  const cost = new Array<number>(nodes.length).fill(0);
  for (const n of nodes) {
    if (mat.has(n.id) || claimed.has(n.id)) continue;
    cost[n.id] = (FREE.has(n.op) ? 0 : 1) + n.inputs.reduce((s, i) => s + (mat.has(i) ? 0 : cost[i]!), 0);
    if (consumers[n.id]!.length > 1 && cost[n.id]! > RECOMPUTE_LIMIT) {
      mat.add(n.id);
      cost[n.id] = 0;
    }
  }

  // Row fusion, latest reductions first so that chains (mean -> variance -> normalise) collapse.
  for (let k = nodes.length - 1; k >= 0; k--) {
    const r = nodes[k]!;
    if ((r.op !== 'sum' && r.op !== 'reduceMax') || outputs.has(r.id) || !mat.has(r.id)) continue;
    const inShape = graph.node(r.inputs[0]!).type.shape;
    if ((r.attrs as { axis: number }).axis !== inShape.length - 1) continue;
    const owners = new Set<number>();
    for (const root of plan.roots()) if (root.id !== r.id && plan.members(root.id).reads.has(r.id)) owners.add(root.id);
    if (owners.size !== 1) continue;
    const root = graph.node([...owners][0]!);
    if (plan.anchorOf.has(root.id) || !sameShape(rowDomain(graph, root) ?? [], inShape)) continue;
    mat.delete(r.id);
    plan.rowFused.set(r.id, root.id);
  }

  enforceBindingLimit(plan, opts.maxBindings);
  groupSiblings(plan, opts.maxBindings);
  // A stored reshape of a stored result used only by it is the same bytes: no copy kernel.
  for (const n of nodes) {
    const src = n.inputs[0];
    if (n.op !== 'reshape' || !mat.has(n.id) || src === undefined || !mat.has(src)) continue;
    const x = graph.node(src);
    if (BUFFER_LEAVES.has(x.op) || outputs.has(src) || consumers[src]!.length !== 1 || plan.aliasOf.has(src)) continue;
    plan.aliasOf.set(n.id, src);
  }
  return plan;
}

/**
 * Horizontal fusion: a map kernel also computes later roots of the same shape that share inputs
 * with it (AdamW's new parameter, first and second moments; sibling gradients), when everything
 * they read is already written before it. Shared loads and subexpressions are then computed once.
 */
function groupSiblings(plan: FusionPlan, maxBindings: number): void {
  const isMapRoot = (n: Node) => !ANCHORS.has(n.op) && !plan.anchorOf.has(n.id) && ![...plan.rowFused.values()].includes(n.id);
  const leaders: { id: number; shape: readonly number[]; reads: Set<number>; computed: Set<number>; outputs: number }[] = [];
  for (const r of plan.roots()) {
    if (!isMapRoot(r)) continue;
    const m = plan.members(r.id);
    const leader = leaders.find((l) => {
      if (!sameShape(l.shape, r.type.shape)) return false;
      for (const id of m.reads) if (id >= l.id) return false;
      const shares = [...m.reads].some((id) => l.reads.has(id)) || [...m.computed].some((id) => l.computed.has(id));
      const union = new Set([...l.reads, ...m.reads]);
      return shares && union.size + l.outputs + 1 <= maxBindings;
    });
    if (leader) {
      plan.join(leader.id, r.id);
      for (const id of m.reads) leader.reads.add(id);
      for (const id of m.computed) leader.computed.add(id);
      leader.outputs++;
    } else {
      leaders.push({ id: r.id, shape: r.type.shape, reads: m.reads, computed: m.computed, outputs: 1 });
    }
  }
}

/** The [rows..., N] iteration space of a kernel root that can host row reductions, if any. */
export function rowDomain(graph: Graph, root: Node): readonly number[] | undefined {
  if (root.op === 'sum' || root.op === 'reduceMax') {
    const inShape = graph.node(root.inputs[0]!).type.shape;
    return (root.attrs as { axis: number }).axis === inShape.length - 1 ? inShape : undefined;
  }
  if (ANCHORS.has(root.op)) return undefined;
  return root.type.shape;
}

function enforceBindingLimit(plan: FusionPlan, maxBindings: number): void {
  for (;;) {
    let changed = false;
    for (const root of plan.roots()) {
      const { computed, reads } = plan.members(root.id);
      if (reads.size + 1 <= maxBindings) continue;
      // Store the computed node that reads the most buffers; the kernel then reads one instead.
      // Never a node between the root and its matmul: storing it would split the epilogue.
      const anchor = plan.anchorOf.get(root.id);
      let best = -1, bestReads = 1;
      for (const id of computed) {
        if (id === root.id || id === anchor) continue;
        if (anchor !== undefined && plan.members(id).computed.has(anchor)) continue;
        const r = plan.members(id).reads.size;
        if (r > bestReads) [best, bestReads] = [id, r];
      }
      // Nothing but the epilogue itself to split: give the matmul its own kernel instead.
      if (best < 0 && anchor !== undefined) best = anchor;
      if (best < 0) throw new Error(`kernel %${root.id} (${root.op}) needs ${reads.size + 1} storage buffers, over the device limit of ${maxBindings}`);
      plan.unfuse(best);
      changed = true;
    }
    if (!changed) return;
  }
}
