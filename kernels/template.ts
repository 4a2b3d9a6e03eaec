// The interface between kernel templates and the code generator. A template receives a kernel
// builder (the code generator's emitter, seen through `KernelBuilder`) and the fusion decisions it
// must render (`FusionView`); it writes the kernel's loops and stores, asking the builder for the
// value of any graph node at an index (the builder inlines fused producers, loads stored ones,
// and supplies values the template provides, such as a matmul accumulator). Templates import only
// this module, kernels/expr.ts and the IR, never the code generator's internals.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import type { OpName } from '../src/core/ir/ops.ts';
import type { Shape } from '../src/core/ir/shape.ts';
import type { Index, Ix } from './expr.ts';

export type { Index, Ix };

/**
 * The template a kernel is rendered by: elementwise `map`, one-axis `reduce`, fused row reductions
 * `row` (LayerNorm, softmax), `matmul`, `attention`, `topk` or `scatter`.
 */
export type KernelKind = 'map' | 'reduce' | 'row' | 'matmul' | 'attention' | 'topk' | 'scatter';

/** Helper functions a template may call (linked into the kernel only when used). */
export type HelperName = 'erf' | 'sigmoid' | 'tanh' | 'rand';

export interface KernelBuilder {
  readonly graph: Graph;
  /** The WGSL name of node `id`'s buffer binding (registered on first use). */
  buffer(id: number, write?: boolean): string;
  /** The value of node `id` at `idx` (inlined, loaded or provided), as a WGSL expression. */
  value(id: number, idx: Index): string;
  /** Computes node `id` in this kernel even if it is stored (a kernel's root). */
  compute(id: number, idx: Index): string;
  /** Makes `id`'s value at an index come from the template (an accumulator, a row statistic). */
  provide(id: number, at: (idx: Index) => string): void;
  /**
   * Node `id`'s values at idx and the next three indices along `axis`, as one vec4<f32> WGSL
   * expression (idx[axis] must be a multiple of 4 with idx[axis] + 3 in range). Stored tensors
   * contiguous along the axis are read with one aligned vector load; inlined elementwise ops and
   * views are computed on vectors; anything else is assembled from scalars.
   */
  vec4(id: number, idx: Index, axis: number): string;
  /** `vec4` of a node computed in this kernel even if it is stored (a kernel's root). */
  computeVec4(id: number, idx: Index, axis: number): string;
  /**
   * Whether computing `id` along `axis` with vectors reaches node `target` (a provided
   * accumulator) only through vector ops: the axis of `target` it arrives along, else undefined.
   */
  vec4Reaches(id: number, axis: number, target: number): number | undefined;
  /** Buffer reads one `vec4(id, ·, axis)` costs (1: one aligned vector load; 4 per scalar leaf). */
  vec4Loads(id: number, axis: number): number;
  /** Makes `id`'s vector value come from the template where `at` returns one (undefined: not there). */
  provideVec(id: number, at: (idx: Index, axis: number) => string | undefined): void;
  /** node `id`'s buffer bound as array<vec4<f32>> (for aligned vector loads and stores). */
  bufferVec4(id: number, write?: boolean): string;
  /** Appends one statement. */
  line(s: string): void;
  /** A nested block (loop or branch) with its own scope; returns the arithmetic ops counted inside. */
  block(header: string, body: () => void): number;
  /** Binds a WGSL expression to a fresh name (returns names and literals unchanged). */
  let(expr: string, prefix?: string): string;
  /** Binds an index expression to a fresh name, keeping its bound. */
  letIx(e: Ix, prefix?: string): Ix;
  fresh(prefix?: string): string;
  /** Per-axis indices of the row-major flat offset `flat` in `shape` (each bound by its extent). */
  unflatten(flat: Ix, shape: Shape): Index;
  /** Row-major flat offset of `idx` in `shape`. */
  linear(idx: Index, shape: Shape): Ix;
  /** Records that `flat` and `idx` name the same element of `shape` (reshapes then map through it). */
  relate(flat: Ix, shape: Shape, idx: Index): void;
  /** Index into an input of `inShape` broadcast to the output index `idx`. */
  broadcastIndex(idx: Index, inShape: Shape): Index;
  /** Arithmetic ops counted in the current scope so far (for FLOP estimates). */
  readonly opsHere: number;
  /** Declares a module-scope statement (workgroup arrays). */
  moduleDecl(s: string): void;
}

/** The fusion decisions a template renders. */
export interface FusionView {
  readonly graph: Graph;
  /** Other roots of the same shape this map kernel also computes and writes (horizontal fusion). */
  siblings(root: number): readonly number[];
  /** The matmul whose accumulator `root` consumes as an epilogue, if any. */
  epilogueAnchor(root: number): number | undefined;
  /** Last-axis reductions computed inside `root`'s row kernel, in graph order. */
  rowReductions(root: number): readonly number[];
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
   * Render the kernels as they were before the vector/subgroup templates (scalar map kernels, one
   * workgroup per row, the tiled matmul): the baseline benchmarks compare with.
   */
  readonly baseline?: boolean;
}

/** A template's result; the builder holds the body, bindings and module declarations. */
export interface TemplateOutput {
  readonly kind: KernelKind;
  /** Builtin parameters of `main`. */
  readonly params: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  /** Estimated floating-point operations of one dispatch. */
  readonly flops: number;
  /** Short description of the specialisation (variant, tile sizes, workgroup size). */
  readonly config: string;
  /** WGSL extensions the kernel needs (`enable subgroups;`). */
  readonly enables?: readonly string[];
}

/** Spreads `count` workgroups over x and y (each at most the device's per-dimension limit). */
export function spread(count: number, limits: TemplateLimits): [number, number, number] {
  const max = limits.maxWorkgroupsPerDimension;
  if (count <= max) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / max);
  if (y > max) throw new Error(`${count} workgroups exceed the device's dispatch limit (${max} × ${max})`);
  return [Math.ceil(count / y), y, 1];
}

/** WGSL for the flat workgroup index matching `spread`. */
export const FLAT_WORKGROUP = 'wid.x + wid.y * nwg.x';

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

/** A WGSL f32 literal (finite only: WGSL has no reliable infinities; mask instead). */
export function f32Lit(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot emit non-finite constant ${v} in WGSL; mask instead`);
  const s = Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : `${v}`;
  return v < 0 ? `(${s})` : s;
}

export const u = (n: number): string => `${n}u`;
