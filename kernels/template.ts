// The interface between kernel templates and the code generator. A template receives a kernel
// builder (the code generator's emitter, seen through `KernelBuilder`) and the fusion decisions it
// must render (`FusionView`); it builds the kernel's statements as a tree (kernels/ir.ts), asking
// the builder for the value of any graph node at an index (the builder inlines fused producers,
// loads stored ones, and supplies values the template provides, such as a matmul accumulator).
// Templates import only this module, the IR (kernels/ir.ts, kernels/alu.ts) and the graph IR,
// never the code generator's internals.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import type { OpName } from '../src/core/ir/ops.ts';
import type { Shape } from '../src/core/ir/shape.ts';
import { add, bounded, div, min, mul, sub, type Index } from './alu.ts';
import type { Buf, Builtin, Expr, Ty } from './ir.ts';

export type { Index };

/**
 * The template a kernel is rendered by: elementwise `map`, one-axis `reduce`, fused row reductions
 * `row` (LayerNorm, softmax), `matmul`, `attention`, `topk` or `scatter`.
 */
export type KernelKind = 'map' | 'reduce' | 'row' | 'matmul' | 'attention' | 'topk' | 'scatter';

/** A mutable local a template declared: read it with `ref`, write it with KernelBuilder.assign. */
export interface Variable {
  readonly ref: Expr;
}

/** Builds one kernel's statements; implemented by the code generator (codegen/emit.ts). */
export interface KernelBuilder {
  readonly graph: Graph;

  // Values of graph nodes.
  /** The value of node `id` at `idx` (inlined, loaded or provided). */
  value(id: number, idx: Index): Expr;
  /** Computes node `id` in this kernel even if it is stored (a kernel's root). */
  compute(id: number, idx: Index): Expr;
  /** Makes `id`'s value at an index come from the template (an accumulator, a row statistic). */
  provide(id: number, at: (idx: Index) => Expr): void;
  /**
   * Node `id`'s values at idx and the next three indices along `axis`, as one vec4<f32>
   * (idx[axis] must be a multiple of 4 with idx[axis] + 3 in range). Stored tensors contiguous
   * along the axis are read with one aligned vector load; inlined elementwise ops and views are
   * computed on vectors; anything else is assembled from scalars.
   */
  vec4(id: number, idx: Index, axis: number): Expr;
  /** `vec4` of a node computed in this kernel even if it is stored (a kernel's root). */
  computeVec4(id: number, idx: Index, axis: number): Expr;
  /** Makes `id`'s vector value come from the template where `at` returns one (undefined: not there). */
  provideVec(id: number, at: (idx: Index, axis: number) => Expr | undefined): void;
  /** Stored node `id` was just computed at idx as `v` (a vec4 along `axis` when given): later reads there use `v`, not a load. */
  written(id: number, idx: Index, v: Expr, axis?: number): void;
  /**
   * Whether computing `id` along `axis` with vectors reaches node `target` (a provided
   * accumulator) only through vector ops: the axis of `target` it arrives along, else undefined.
   */
  vec4Reaches(id: number, axis: number, target: number): number | undefined;
  /** Buffer reads one `vec4(id, ·, axis)` costs (1: one aligned vector load; 4 per scalar leaf). */
  vec4Loads(id: number, axis: number): number;

  // Memory.
  /** Node `id`'s tensor as a storage binding of scalars (registered on first use). */
  buffer(id: number, write?: boolean): Buf;
  /** Node `id`'s tensor bound as array<vec4<f32>> (for aligned vector loads and stores). */
  bufferVec4(id: number, write?: boolean): Buf;
  /** A workgroup-memory array of `length` elements of `elem`. */
  workgroupArray(hint: string, elem: Ty, length: number): Buf;
  /** A function-scope array declared here: zeroed, or initialised with `init` (one value per element). */
  privateArray(hint: string, elem: Ty, length: number, init?: readonly Expr[]): Buf;

  // Statements.
  /** Binds `e` to a new `let` and returns its value (literals, locals and builtins are returned as they are). */
  let(e: Expr, hint?: string): Expr;
  /** Declares a mutable `var` initialised to `init`. */
  variable(init: Expr, hint?: string): Variable;
  /** Assigns a variable. */
  assign(v: Variable, e: Expr): void;
  /** Writes `value` at element `at` of `buf`. */
  store(buf: Buf, at: Expr, value: Expr): void;
  /**
   * `for (var i = from; i < to; i += step)`; `body` gets i (u32, known to be below `to` when that
   * is a constant). Returns the arithmetic ops counted inside (for FLOP estimates).
   */
  loop(hint: string, from: Expr | number, to: Expr | number, step: Expr | number, body: (i: Expr) => void): number;
  /** `for (var s = from; s > 0u; s = s >> 1u)`: the levels of a tree reduction. */
  halvingLoop(hint: string, from: number, body: (s: Expr) => void): void;
  /** `if (cond) { body }`; returns the ops counted inside. A literal true runs `body` unguarded; false drops it. */
  when(cond: Expr, body: () => void): number;
  /** `if (cond) { return; }`. */
  exitIf(cond: Expr): void;
  /**
   * `workgroupBarrier()`; with 'storage', `storageBarrier()`: what the workgroup's invocations
   * wrote to storage before it, all of them read after it.
   */
  barrier(memory?: 'workgroup' | 'storage'): void;
  /** A builtin: a component of a vec3u one, or a u32 one; `bound` is what the dispatch guarantees. */
  builtin(b: Builtin, comp?: 0 | 1 | 2, bound?: number): Expr;

  // Indices.
  /** Per-axis indices of the row-major flat offset `flat` in `shape` (each bound by its extent). */
  unflatten(flat: Expr, shape: Shape): Index;
  /** Row-major flat offset of `idx` in `shape`. */
  linear(idx: Index, shape: Shape): Expr;
  /** Records that `flat` and `idx` name the same element of `shape` (reshapes then map through it). */
  relate(flat: Expr, shape: Shape, idx: Index): void;
  /** Index into an input of `inShape` broadcast to the output index `idx`. */
  broadcastIndex(idx: Index, inShape: Shape): Index;
  /** Arithmetic ops counted in the current scope so far (for FLOP estimates). */
  readonly opsHere: number;

  // Sizes at run time.
  /**
   * `count` (a row count, or any count proportional to the rows) as the code reads it: a constant
   * when the plan specialises kernels to every size; otherwise read at run time from the length of
   * the first of `tensors` that this kernel binds and whose element count is a multiple of
   * `count` (rows of it, then), so that one module serves every row count. Pass tensors whose
   * size grows with the rows (the output, the row operand): the count is exact for this kernel
   * either way, but only those make the code the same for other row counts.
   */
  runtimeCount(count: number, tensors: readonly number[]): Expr;
  /** `e` with the lets it reads replaced by their definitions (for TemplateOutput.workgroups). */
  withoutLets(e: Expr): Expr;
}

/** The fusion decisions a template renders. */
export interface FusionView {
  readonly graph: Graph;
  /** Other roots of the same shape this map kernel also computes and writes (horizontal fusion). */
  siblings(root: number): readonly number[];
  /**
   * The stages of the per-image chain whose last stage is `root` (a merge's sorts and the maps
   * reading them, one workgroup per image: codegen/fusion/selection-chains.ts), in order.
   */
  chain(root: number): readonly number[] | undefined;
  /** The matmul whose accumulator `root` consumes as an epilogue, if any. */
  epilogueAnchor(root: number): number | undefined;
  /** Last-axis reductions computed inside `root`'s row kernel, in graph order. */
  rowReductions(root: number): readonly number[];
  /** A second matmul of the same shape the kernel of epilogue root `root` computes too (its accumulators read by the epilogue). */
  secondProduct(root: number): number | undefined;
  /** Last-axis reductions of `root`'s matmul row operand, computed per row before its k loop (LayerNorm statistics). */
  matmulRowReductions(root: number): readonly number[];
  /**
   * Per-granule sums of matmul epilogue root `root`'s values its kernel computes and writes
   * (codegen/fusion/epilogue-granules.ts): Σx and Σ(x − mean)² over each GRANULE columns of a row.
   */
  epilogueGranules(root: number): { readonly sum: number; readonly centred: number } | undefined;
  /** Whether node `id` is read from memory (a buffer) rather than computed where it is used. */
  stored(id: number): boolean;
  /** The softmax-attention pattern fused into the kernel of P·V matmul `pv`, if any. */
  attention(pv: number): AttentionPattern | undefined;
}

/**
 * Softmax attention computed by one kernel: O = softmax(S)·V with S an elementwise chain over
 * Q·Kᵀ (scale, additive bias), softmax written as src/core/ir/nn.ts does (e = exp(S − max S),
 * P = e / Σe). Decided by the fusion planner when nothing else reads S, its max, e, Σe or P.
 */
export interface AttentionPattern {
  /** Q·Kᵀ. */
  readonly qk: number;
  /** The scores S (qk itself, or the last node of its elementwise chain). */
  readonly scores: number;
  readonly max: number;
  readonly exp: number;
  readonly sum: number;
  readonly probs: number;
  /** P·V. */
  readonly pv: number;
  /** Every node computed in place by the kernel except pv's epilogue. */
  readonly members: readonly number[];
}

/** Device facts a template may specialise on. */
export interface TemplateLimits {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxWorkgroupStorageBytes: number;
  /** Subgroup size when the device has the `subgroups` feature (0: none). */
  readonly subgroupSize: number;
  /**
   * 'cpu': a software adapter (a workgroup runs on one CPU thread, lanes are vector lanes, loads
   * and barriers are costly); 'gpu': a hardware GPU. Templates pick their default shape from it.
   */
  readonly adapterClass: 'cpu' | 'gpu';
}

export interface TemplateInput {
  readonly w: KernelBuilder;
  readonly graph: Graph;
  readonly plan: FusionView;
  readonly root: Node;
  readonly limits: TemplateLimits;
  /**
   * Compute and store scalars where vectors would fit (maps; a matmul's stores): the form its
   * family's members at sizes no multiple of 4 have, so that one module serves them all.
   */
  readonly scalar?: boolean;
}

/** A template's result; the builder holds the body, bindings and module declarations. */
export interface TemplateOutput {
  readonly kind: KernelKind;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  /** Estimated floating-point operations of one dispatch. */
  readonly flops: number;
  /** Short description of the specialisation (variant, tile sizes, workgroup size). */
  readonly config: string;
  /** WGSL extensions the kernel needs (`enable subgroups;`). */
  readonly enables?: readonly string[];
  /**
   * When the kernel reads its row count at run time: its number of workgroups as an expression
   * (w.withoutLets of one built from runtimeCount), with `dispatch` spread from it over x and y
   * and the kernel indexing workgroups by flatWorkgroup only. Lets a batched dispatch place the
   * kernel's workgroups at run time too.
   */
  readonly workgroups?: Expr;
}

/** Spreads `count` workgroups over x and y (each at most the device's per-dimension limit). */
export function spread(count: number, limits: TemplateLimits): [number, number, number] {
  const max = limits.maxWorkgroupsPerDimension;
  if (count <= max) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / max);
  if (y > max) throw new Error(`${count} workgroups exceed the device's dispatch limit (${max} × ${max})`);
  return [Math.ceil(count / y), y, 1];
}

/**
 * TemplateOutput.workgroups of a kernel running one workgroup per `per` units of a count read at
 * run time (nothing when the count is a constant).
 */
export function groupsAtRunTime(w: KernelBuilder, count: Expr, per: number): { workgroups?: Expr } {
  return count.k === 'lit' ? {} : { workgroups: w.withoutLets(div(add(count, per - 1), per)) };
}

/**
 * Index `i` clamped to the last `span` of `live` elements (a count that may be read at run time):
 * lanes past the end read real elements and store nothing. Its bound is this kernel's own count
 * `n` even when `live` is read at run time, so index arithmetic simplifies alike either way.
 */
export function clampedIndex(w: KernelBuilder, i: Expr, live: Expr, n: number, span: number, name: string): Expr {
  return bounded(w.let(min(i, sub(live, span)), name), n - span + 1);
}

/** Whether node `id` is a weight (Graph.fromParameters: a parameter, or computed from parameters): its sizes are features, never row counts. */
export const isWeight = (graph: Graph, id: number): boolean => graph.fromParameters(id);

/** The flat workgroup index matching `spread`: wid.x + wid.y · nwg.x. */
export const flatWorkgroup = (w: KernelBuilder): Expr => add(w.builtin('wid', 0), mul(w.builtin('wid', 1), w.builtin('nwg', 0)));

/** `n` narrowed to one of `ops` (checked): templates are chosen by op kind, this states which ops. */
export function expectOp<K extends OpName>(n: Node, ...ops: K[]): Node<K> {
  if (!(ops as readonly string[]).includes(n.op)) throw new Error(`kernel template for ${ops.join('/')} was given a ${n.op} node (%${n.id})`);
  return n as Node<K>;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * A template asked to render something the fusion plan should never have decided (a bug in the
 * planner's legality rules, not a condition to recover from).
 */
export class FusionError extends Error {
  constructor(readonly node: number, why: string) {
    super(`internal error: the fusion plan is not renderable at node %${node}: ${why}`);
  }
}

