// The fusion plan and what the planner's passes share. A plan says which nodes are written to
// memory (kernel outputs and buffers) and which are computed in place inside their consumers'
// kernels; the passes of codegen/fusion/ (listed in order in codegen/fusion/index.ts) build it
// from a graph, each deciding one kind of fusion.

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { OP_NAMES, OPS, type OpKind, type OpName } from '../../src/core/ir/ops.ts';
import type { AttentionPattern } from '../../kernels/template.ts';

/** A softmax attention the planner fused into one kernel (the template's AttentionPattern). */
export type AttentionGroup = AttentionPattern;

/** The ops of the given kinds. */
export const opsOfKind = (...kinds: OpKind[]): ReadonlySet<OpName> => new Set(OP_NAMES.filter((op) => kinds.includes(OPS[op].kind)));

/** Ops whose values live in buffers from the start. */
export const BUFFER_LEAVES = opsOfKind('leaf');
/** Ops that need a loop of their own (a kernel template): always stored, unless fused as a row reduction or an epilogue's product. */
export const ANCHORS = opsOfKind('reduction', 'selection', 'contraction', 'scatter', 'attention');
/** Elementwise ops. */
export const ELEMENTWISE = opsOfKind('elementwise');
/** Ops that are free to recompute (index arithmetic, literals, identities). */
export const FREE = opsOfKind('view', 'index', 'literal', 'gradient');
/** Ops that are only a renaming of their input's values (never worth a kernel of their own). */
export const RENAMING: ReadonlySet<OpName> = new Set(['reshape', ...opsOfKind('literal', 'gradient')]);

/** The device limits a plan must respect. */
export interface FusionOptions {
  /** Storage buffers one kernel may bind (device limit maxStorageBuffersPerShaderStage). */
  readonly maxBindings: number;
  /** Workgroups per dispatch dimension (fused attention dispatches one per batch·head along z). */
  readonly maxWorkgroupsPerDimension?: number;
  /** The adapter's class: some fusions suit only the kernel designs used on CPU adapters. */
  readonly adapterClass?: 'cpu' | 'gpu';
  /** [output, parameter] pairs the caller copies over the parameter after every step (CompileOptions.writeBack). */
  readonly writeBack?: readonly (readonly [string, string])[];
}

/** The fusion decisions for one graph: what is stored, and which kernel computes what in place. */
export class FusionPlan {
  /** Nodes that live in memory: buffer leaves and kernel outputs. */
  readonly materialized = new Set<number>();
  /** Last-axis reductions computed inside the kernel of another root: reduction -> root. */
  readonly rowFused = new Map<number, number>();
  /** Last-axis reductions of a matmul's row operand computed inside the matmul's kernel: reduction -> kernel root. */
  readonly matmulRowReductions = new Map<number, number>();
  /**
   * Per-granule sums of a matmul kernel's output computed in its epilogue (fuse-epilogue-granules):
   * Σ over each granule (the granule's sum node) -> its kernel root, likewise the centred Σ(x − mean)².
   */
  readonly epilogueGranules = new Map<number, number>();
  /** Matmul epilogue root -> a second matmul of the same shape its kernel also computes (fuse-second-products). */
  readonly secondProduct = new Map<number, number>();
  /** Kernel root -> the matmul whose accumulator it consumes as an epilogue. */
  readonly anchorOf = new Map<number, number>();
  /** Reshapes that share their input's buffer (same elements, same order): reshape -> stored input. */
  readonly aliasOf = new Map<number, number>();
  /** Outputs their kernel writes over a parameter's buffer (an update written back in place): output -> parameter. */
  readonly writtenOver = new Map<number, number>();
  /** Map kernels that also compute and write other roots of the same shape (horizontal fusion). */
  readonly siblings = new Map<number, number[]>();
  /**
   * Per-image chains (codegen/fusion/selection-chains.ts): the last stage's kernel root -> every
   * stage's root in order (sorts, then maps), the earlier ones joined to it.
   */
  readonly chains = new Map<number, readonly number[]>();
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
    return this.aliasOf.get(id) ?? this.writtenOver.get(id) ?? id;
  }

  /** `root` will also be computed and written by the kernel of `leader`. */
  join(leader: number, root: number): void {
    const list = this.siblings.get(leader) ?? [];
    list.push(root);
    this.siblings.set(leader, list);
    this.joined.set(root, leader);
  }

  /** Undoes `join`: `root` gets a kernel of its own again. */
  unjoin(root: number): void {
    const leader = this.joined.get(root);
    if (leader === undefined) return;
    this.joined.delete(root);
    const rest = (this.siblings.get(leader) ?? []).filter((id) => id !== root);
    if (rest.length) this.siblings.set(leader, rest);
    else this.siblings.delete(leader);
  }

  /** How many tensors the kernel of `root` writes: itself and the roots joined to it. */
  outputsOf(root: number): number {
    return 1 + (this.siblings.get(root)?.length ?? 0);
  }

  /** The kernel root whose kernel writes stored node `id`: its leader when joined, else itself. */
  writer(id: number): number {
    return this.joined.get(id) ?? id;
  }

  /**
   * Nodes computed by the kernel of `root`, and the materialized nodes it reads. A row reduction
   * joined to `root` is stored, yet computed there from its inputs: those are what it reads.
   */
  members(root: number): { computed: Set<number>; reads: Set<number> } {
    const computed = new Set<number>(), reads = new Set<number>();
    const visit = (id: number, isRoot: boolean) => {
      if (computed.has(id)) return;
      const ownRowReduction = this.joined.get(id) === root && (this.rowFused.get(id) === root || this.matmulRowReductions.get(id) === root || this.epilogueGranules.get(id) === root);
      if (!isRoot && this.materialized.has(id) && !ownRowReduction) {
        reads.add(id);
        return;
      }
      computed.add(id);
      for (const i of this.graph.node(id).inputs) visit(i, false);
    };
    visit(root, true);
    // Row reductions it hosts that its root does not read (they read the root: see row-reductions.ts).
    for (const id of this.siblings.get(root) ?? []) if (this.rowFused.get(id) === root || this.epilogueGranules.get(id) === root) visit(id, false);
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
    // A row reduction written by the kernel that computed it gets a kernel of its own again.
    if (this.rowFused.has(id) || this.matmulRowReductions.has(id)) this.unjoin(id);
    this.rowFused.delete(id);
    this.matmulRowReductions.delete(id);
    // Granule sums are computed together: both get kernels of their own.
    const granuleRoot = this.epilogueGranules.get(id);
    if (granuleRoot !== undefined) this.releaseGranules(granuleRoot);
    for (const [root, m] of this.anchorOf) if (m === id || root === id) {
      this.anchorOf.delete(root);
      // No matmul epilogue left to compute its granule sums in.
      this.releaseGranules(root);
    }
  }

  /** The granule sums kernel `root` computes get kernels of their own. */
  private releaseGranules(root: number): void {
    for (const [g, r] of [...this.epilogueGranules]) {
      if (r !== root) continue;
      this.unjoin(g);
      this.epilogueGranules.delete(g);
    }
  }
}

/** What every pass of planFusion reads and updates: the graph's facts and the plan being built. */
export interface FusionState {
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
}

/** One named step of fusion planning. */
export interface FusionPass {
  readonly name: string;
  /** Updates the state's plan with this pass's decisions. */
  readonly run: (s: FusionState) => void;
}

/** The state the passes start from: an empty plan, each node's consumers, the outputs. */
export function fusionState(graph: Graph, opts: FusionOptions): FusionState {
  const consumers: number[][] = graph.nodes.map(() => []);
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) consumers[i]!.push(n.id);
  return { graph, opts, plan: new FusionPlan(graph), consumers, outputs: new Set(graph.outputs.values()), claimed: new Set(), inAttention: new Set() };
}

/** Runs `passes` in order over a fresh state and returns the plan they decided. */
export function runFusionPasses(graph: Graph, opts: FusionOptions, passes: readonly FusionPass[]): FusionPlan {
  const s = fusionState(graph, opts);
  for (const p of passes) p.run(s);
  return s.plan;
}

/** Whether `id` depends on any node of `set`. */
export function dependsOnAny(graph: Graph, id: number, set: ReadonlySet<number>): boolean {
  const seen = new Set<number>();
  const visit = (n: number): boolean => {
    if (set.has(n)) return true;
    if (seen.has(n)) return false;
    seen.add(n);
    return graph.node(n).inputs.some(visit);
  };
  return visit(id);
}
