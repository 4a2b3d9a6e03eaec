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

import { matchSoftmax, matchSoftmaxAttention, type SoftmaxAttention } from '../src/core/ir/attention.ts';
import type { Graph, Node } from '../src/core/ir/graph.ts';
import { OP_NAMES, OPS, type OpKind, type OpName } from '../src/core/ir/ops.ts';
import { numel, sameShape } from '../src/core/ir/shape.ts';
import type { AttentionPattern } from '../kernels/template.ts';

/** A softmax attention the planner fused into one kernel (the template's AttentionPattern). */
export type AttentionGroup = AttentionPattern;

const opsOfKind = (...kinds: OpKind[]): ReadonlySet<OpName> => new Set(OP_NAMES.filter((op) => kinds.includes(OPS[op].kind)));

/** Ops whose values live in buffers from the start. */
export const BUFFER_LEAVES = opsOfKind('leaf');
/** Ops that need a loop of their own (a kernel template): always stored, unless fused as a row reduction or an epilogue's product. */
export const ANCHORS = opsOfKind('reduction', 'selection', 'contraction', 'scatter', 'attention');
const ELEMENTWISE = opsOfKind('elementwise');
/** Ops that are free to recompute (index arithmetic, literals, identities). */
const FREE = opsOfKind('view', 'index', 'literal', 'gradient');
/** Ops that are only a renaming of their input's values (never worth a kernel of their own). */
const RENAMING: ReadonlySet<OpName> = new Set(['reshape', ...opsOfKind('literal', 'gradient')]);

/** Recomputing more than this many ops per element in each consumer costs more than a store and reload. */
const RECOMPUTE_LIMIT = 6;

/** How planFusion plans: whether to fuse at all, and the device limits kernels must respect. */
export interface FusionOptions {
  /** false: one kernel per op (views that are pure renamings excepted), the baseline fused code is compared with. */
  readonly fuse: boolean;
  /** Storage buffers one kernel may bind (device limit maxStorageBuffersPerShaderStage). */
  readonly maxBindings: number;
  /**
   * false: the planner as it was before fused attention and stored matmul prologues (the
   * baseline benchmarks compare with). Default true.
   */
  readonly modern?: boolean;
  /** Workgroups per dispatch dimension (fused attention dispatches one per batch·head along z). */
  readonly maxWorkgroupsPerDimension?: number;
}

/** The fusion decisions for one graph: what is stored, and which kernel computes what in place. */
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
  /** Attention fused into one kernel: the P·V matmul -> the pattern around it (see matchAttention). */
  readonly attention = new Map<number, AttentionGroup>();
  private readonly joined = new Map<number, number>();

  constructor(readonly graph: Graph) {}

  /** Whether node `id` lives in memory (a buffer leaf or a kernel output). */
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

  /** Gives up a fused attention: its matmul Q·Kᵀ and softmax reductions get kernels of their own. */
  dissolveAttention(pv: number): void {
    const g = this.attention.get(pv);
    if (!g) return;
    this.attention.delete(pv);
    for (const id of [g.qk, g.max, g.sum]) this.materialized.add(id);
  }

  /** Stores `id` in memory instead of computing it inside its consumers' kernel (binding limits). */
  unfuse(id: number): void {
    this.materialized.add(id);
    this.rowFused.delete(id);
    for (const [root, m] of this.anchorOf) if (m === id || root === id) this.anchorOf.delete(root);
  }
}

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

const sameLast = (a: Node, b: Node) => a.type.shape[a.type.shape.length - 1] === b.type.shape[b.type.shape.length - 1];

/** Stored tensors an expression reads that vary along its last axis (k, for a matmul's row operand). */
function kVaryingReads(graph: Graph, mat: ReadonlySet<number>, root: Node): number {
  const seen = new Set<number>();
  let count = 0;
  const visit = (id: number, top: boolean) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = graph.node(id);
    if (!top && mat.has(id)) {
      if (n.type.shape[n.type.shape.length - 1]! > 1) count++;
      return;
    }
    for (const i of n.inputs) visit(i, false);
  };
  visit(root.id, true);
  return count;
}

function dependsOnAny(graph: Graph, id: number, set: ReadonlySet<number>): boolean {
  const seen = new Set<number>();
  const visit = (n: number): boolean => {
    if (set.has(n)) return true;
    if (seen.has(n)) return false;
    seen.add(n);
    return graph.node(n).inputs.some(visit);
  };
  return visit(id);
}

/** What every pass of planFusion reads and updates: the graph's facts and the plan being built. */
interface FusionState {
  readonly graph: Graph;
  readonly opts: FusionOptions;
  /** The plan under construction; its `materialized` set is what the passes add to and remove from. */
  readonly plan: FusionPlan;
  /** The distinct consumers of each node, by node id. */
  readonly consumers: readonly (readonly number[])[];
  /** Graph outputs: always stored. */
  readonly outputs: ReadonlySet<number>;
  /** Nodes a fused pattern (attention, matmul epilogue) has taken: no later pattern may use them. */
  readonly claimed: Set<number>;
  /** Nodes computed inside a fused attention kernel. */
  readonly inAttention: Set<number>;
  /** The current planner, not the baseline of benchmarks (FusionOptions.modern). */
  readonly modern: boolean;
}

/** One step of fusion planning; the passes run in the order of FUSION_PASSES. */
type FusionPass = (s: FusionState) => void;

/**
 * The passes after the initial stores, in order. Later passes see the decisions of earlier ones:
 * epilogues take what attention left, cost-based stores run once epilogue roots are known, row
 * fusion looks at the kernels the stores so far define, and the binding limit is enforced on
 * the result before kernels are grouped.
 */
const FUSION_PASSES: readonly FusionPass[] = [
  fuseAttention,
  fuseMatmulEpilogues,
  storeMatmulPrologues,
  storeAttentionBackwardInputs,
  storeCostlyRecomputations,
  fuseRowReductions,
  enforceBindingLimits,
  groupSiblings,
  joinAttentionLse,
  aliasStoredReshapes,
];

/** Decides which nodes of `graph` are stored and which are computed inside the kernels that read them. */
export function planFusion(graph: Graph, opts: FusionOptions): FusionPlan {
  const s = fusionState(graph, opts);
  storeUnfusable(s);
  if (!opts.fuse) return s.plan;
  for (const pass of FUSION_PASSES) pass(s);
  return s.plan;
}

/** The state the passes start from: an empty plan, each node's consumers, the outputs. */
function fusionState(graph: Graph, opts: FusionOptions): FusionState {
  const consumers: number[][] = graph.nodes.map(() => []);
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) consumers[i]!.push(n.id);
  return {
    graph, opts, plan: new FusionPlan(graph), consumers, outputs: new Set(graph.outputs.values()),
    claimed: new Set(), inAttention: new Set(), modern: opts.modern !== false,
  };
}

/** Buffer leaves, outputs and anchors are stored (unfused: every op but pure renamings): they need memory or a loop of their own. */
function storeUnfusable({ graph, opts, plan, outputs }: FusionState): void {
  const mat = plan.materialized;
  for (const n of graph.nodes) {
    if (BUFFER_LEAVES.has(n.op) || outputs.has(n.id) || ANCHORS.has(n.op)) mat.add(n.id);
    else if (!opts.fuse && !RENAMING.has(n.op)) mat.add(n.id);
  }
}

/** Attention: the whole softmax(Q·Kᵀ)·V chain in the kernel of P·V (when nothing else reads it). */
function fuseAttention(s: FusionState): void {
  if (!s.modern) return;
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

/**
 * Matmul prologues worth storing: a row operand A computed from several buffers that vary
 * along k (LayerNorm's x, weight and bias) is recomputed for every column tile of the kernel;
 * stored once (by the kernel that computes it anyway, e.g. the row kernel of its statistics)
 * it is one read per tile instead.
 */
function storeMatmulPrologues(s: FusionState): void {
  if (!s.modern) return;
  const { graph, plan } = s;
  const mat = plan.materialized;
  for (const m of graph.nodes) {
    if (m.op !== 'matmul' || s.inAttention.has(m.id)) continue;
    let target = graph.node(m.inputs[0]!);
    while (target.op === 'reshape' && !mat.has(target.id) && sameLast(target, graph.node(target.inputs[0]!))) target = graph.node(target.inputs[0]!);
    if (mat.has(target.id) || s.claimed.has(target.id) || !ELEMENTWISE.has(target.op)) continue;
    const leaves = kVaryingReads(graph, mat, target);
    const tiles = Math.ceil(m.type.shape[m.type.shape.length - 1]! / 32);
    if (leaves * tiles > tiles + 1 + leaves) mat.add(target.id);
  }
}

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
 * Recompute cheap multi-consumer expressions, store expensive ones. Runs after epilogue fusion,
 * whose roots are stored anyway: costs then do not accumulate along the residual stream (which
 * made identical blocks compile differently depending on their position).
 */
function storeCostlyRecomputations({ graph, plan, consumers, claimed }: FusionState): void {
  const { nodes } = graph;
  const mat = plan.materialized;
  const cost = new Array<number>(nodes.length).fill(0);
  for (const n of nodes) {
    if (mat.has(n.id) || claimed.has(n.id)) continue;
    cost[n.id] = (FREE.has(n.op) ? 0 : 1) + n.inputs.reduce((s, i) => s + (mat.has(i) ? 0 : cost[i]!), 0);
    if (consumers[n.id]!.length > 1 && cost[n.id]! > RECOMPUTE_LIMIT) {
      mat.add(n.id);
      cost[n.id] = 0;
    }
  }
}

/**
 * Row fusion: a last-axis reduction read by one kernel over the same rows is computed inside it.
 * Latest reductions first so that chains (mean -> variance -> normalise) collapse.
 */
function fuseRowReductions({ graph, plan, outputs }: FusionState): void {
  const { nodes } = graph;
  const mat = plan.materialized;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const r = nodes[k]!;
    if ((r.op !== 'sum' && r.op !== 'reduceMax') || outputs.has(r.id) || !mat.has(r.id)) continue;
    const inShape = graph.node(r.inputs[0]!).type.shape;
    if (r.attrs.axis !== inShape.length - 1) continue;
    const owners = new Set<number>();
    for (const root of plan.roots()) if (root.id !== r.id && plan.members(root.id).reads.has(r.id)) owners.add(root.id);
    if (owners.size !== 1) continue;
    const root = graph.node([...owners][0]!);
    if (plan.anchorOf.has(root.id) || !sameShape(rowDomain(graph, root) ?? [], inShape)) continue;
    mat.delete(r.id);
    plan.rowFused.set(r.id, root.id);
    // Legal only if the root's kernel reads r at its own row (prefix, 0) wherever it reads it.
    if (!readsOnlyAtOwnRow(plan, root, r)) plan.unfuse(r.id);
  }
}

/**
 * No kernel may bind more storage buffers than the device allows. Storing nodes to respect the
 * limit can leave a row reduction read by a kernel that does not compute it: store such
 * reductions too, and repeat until nothing changes.
 */
function enforceBindingLimits({ plan, opts }: FusionState): void {
  do enforceBindingLimit(plan, opts.maxBindings);
  while (dropBrokenRowFusions(plan));
}

/** A stored reshape of a stored result used only by it is the same bytes: no copy kernel. */
function aliasStoredReshapes({ graph, plan, consumers, outputs }: FusionState): void {
  const mat = plan.materialized;
  for (const n of graph.nodes) {
    const src = n.inputs[0];
    if (n.op !== 'reshape' || !mat.has(n.id) || src === undefined || !mat.has(src)) continue;
    const x = graph.node(src);
    if (BUFFER_LEAVES.has(x.op) || outputs.has(src) || consumers[src]!.length !== 1 || plan.aliasOf.has(src)) continue;
    plan.aliasOf.set(n.id, src);
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

/**
 * Horizontal fusion: a map kernel also computes later roots of the same shape that share inputs
 * with it (AdamW's new parameter, first and second moments; sibling gradients), when everything
 * they read is already written before it. Shared loads and subexpressions are then computed once.
 */
function groupSiblings({ plan, opts: { maxBindings } }: FusionState): void {
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
    return root.attrs.axis === inShape.length - 1 ? inShape : undefined;
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
      // Never a node of a fused attention either (that would split the pattern).
      const attention = plan.attention.get(anchor ?? root.id);
      let best = -1, bestReads = 1;
      for (const id of computed) {
        if (id === root.id || id === anchor || attention?.members.includes(id)) continue;
        if (anchor !== undefined && plan.members(id).computed.has(anchor)) continue;
        const r = plan.members(id).reads.size;
        if (r > bestReads) [best, bestReads] = [id, r];
      }
      if (best < 0 && attention) {
        // Only the attention itself is left to split: compute it unfused (matmuls, row kernels).
        plan.dissolveAttention(attention.pv);
        changed = true;
        continue;
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

/** Stores row-fused reductions that another kernel would have to compute, or that their root reads off-row. */
function dropBrokenRowFusions(plan: FusionPlan): boolean {
  let changed = false;
  for (const [r, root] of [...plan.rowFused]) {
    const foreign = plan.roots().some((k) => k.id !== root && plan.members(k.id).computed.has(r));
    if (foreign || !readsOnlyAtOwnRow(plan, plan.graph.node(root), plan.graph.node(r))) {
      plan.unfuse(r);
      changed = true;
    }
  }
  return changed;
}

/**
 * Symbolic index of one read, per axis of the node read: the axis of the kernel's row domain it
 * equals, 0 (a broadcast or unit axis), or unknown (offset, gathered, permuted into a mix...).
 */
type SymIndex = readonly (number | 'zero' | 'other')[];

/**
 * Whether every read of the row reduction `r` inside the row kernel of `root` is at the kernel's
 * own row: [row prefix..., 0]. Decided on the graph, before any WGSL is written, by propagating
 * symbolic indices from the root down through the nodes its kernel computes.
 */
function readsOnlyAtOwnRow(plan: FusionPlan, root: Node, r: Node): boolean {
  const graph = plan.graph;
  const domain = rowDomain(graph, root)!;
  const canon = (shape: readonly number[], s: SymIndex): SymIndex => s.map((a, k) => (shape[k] === 1 ? 'zero' : a));
  const rowRead = canon(r.type.shape, domain.map((_, k) => (k === domain.length - 1 ? 'zero' : k)));
  const full: SymIndex = domain.map((_, k) => k);
  const seen = new Set<string>();
  let legal = true;
  const visit = (id: number, sym: SymIndex, isRoot = false): void => {
    if (!legal) return;
    const n = graph.node(id);
    const s = canon(n.type.shape, sym);
    const key = `${id}@${s.join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (id === r.id && !isRoot) {
      if (s.join() !== rowRead.join()) legal = false;
      return;
    }
    if (!isRoot && plan.isMaterialized(id)) return;
    if (plan.rowFused.get(id) === root.id) {
      // A row reduction of this kernel: its input is read over the whole row domain.
      visit(n.inputs[0]!, full);
      return;
    }
    if (!isRoot && ANCHORS.has(n.op)) {
      legal = false; // an anchor computed in place: not something a row kernel provides
      return;
    }
    n.inputs.forEach((inp, k) => visit(inp, inputIndex(graph, n, k, s)));
  };
  if (root.op === 'sum' || root.op === 'reduceMax') visit(root.inputs[0]!, full);
  else visit(root.id, full, true);
  return legal;
}

/** The symbolic index at which node `n` (read at `s`) reads its input `k`. */
function inputIndex(graph: Graph, n: Node, k: number, s: SymIndex): SymIndex {
  const inShape = graph.node(n.inputs[k]!).type.shape;
  const other = (): SymIndex => inShape.map(() => 'other');
  const broadcastFrom = (): SymIndex => {
    const off = s.length - inShape.length;
    return inShape.map((d, a) => (d === 1 ? 'zero' : s[a + off]!));
  };
  switch (n.op) {
    case 'reshape': {
      // Only unit axes inserted or removed keep a symbolic correspondence.
      const outAxes = n.type.shape.map((d, a) => [d, a] as const).filter(([d]) => d !== 1);
      const inAxes = inShape.map((d, a) => [d, a] as const).filter(([d]) => d !== 1);
      if (outAxes.length !== inAxes.length || outAxes.some(([d], i) => d !== inAxes[i]![0])) return other();
      const res: ('zero' | number | 'other')[] = inShape.map(() => 'zero');
      outAxes.forEach(([, ao], i) => (res[inAxes[i]![1]] = s[ao]!));
      return res;
    }
    case 'permute': {
      const res = new Array<number | 'zero' | 'other'>(inShape.length);
      n.attrs.perm.forEach((p, a) => (res[p] = s[a]!));
      return res;
    }
    case 'slice':
      return s.map((a, ax) => (n.attrs.starts[ax] === 0 ? a : 'other'));
    case 'pad':
      return s.map((a, ax) => (n.attrs.before[ax] === 0 && n.attrs.after[ax] === 0 ? a : 'other'));
    case 'concat':
      return s.map((a, ax) => (ax === n.attrs.axis ? 'other' : a));
    case 'gather':
      return k === 0 ? s.map((a, ax) => (ax === n.attrs.axis ? 'other' : a)) : other();
    case 'rand':
      return other();
    default:
      return broadcastFrom();
  }
}
