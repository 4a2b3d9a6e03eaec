// How each op is computed in place, as kernel-IR expressions: one rule per op, for scalars and for
// 4-vectors alike (`lanes`: one element, or four consecutive ones along an axis). A rule may
// decline the vector form (undefined); the emitter then assembles the vector from four scalars.
// Ops that need loops of their own (reductions, matmuls, ...) are lowered by kernel templates
// instead; asking for them here is a fusion-planner bug. The map is total over the op table, so a
// new op without a rule does not compile.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import type { OpAttrs, OpName } from '../src/core/ir/ops.ts';
import {
  abs, add, and, bounded, call, cast, clamp, compare, div, exp, f32, ge, inverseSqrt, lane, literal, litValue, log, lt, max, min, mul,
  neg, select, sign, splat, sqrt, sub, u32, vec4, type CompareOp, type Index,
} from '../kernels/alu.ts';
import type { Expr, Helper } from '../kernels/ir.ts';
import { FusionError } from '../kernels/template.ts';
import { SMALL_REDUCTIONS } from './fusion/small-reductions.ts';

/** One element (`width` 1), or four consecutive elements along `axis` (`width` 4). */
export type Lanes = { readonly width: 1 } | { readonly width: 4; readonly axis: number };
export const SCALAR: Lanes = { width: 1 };

/** What a lowering rule may ask of the emitter. */
export interface LowerContext {
  readonly graph: Graph;
  /** Input k of `n` at the element(s) `idx`, `lanes` of the node (broadcast inputs splat). */
  input(n: Node, k: number, idx: Index, lanes: Lanes): Expr;
  /** Node `id` at `idx` (`lanes` along the same axis of `id`). */
  valueAt(id: number, idx: Index, lanes: Lanes): Expr;
  /** Binds a value to a `let`. */
  let(e: Expr, hint?: string): Expr;
  /**
   * Whether node `id` is computed here (neither read from its buffer nor supplied by the
   * template); if so the caller lowers it itself, and it counts as computed by this kernel.
   */
  readsThrough(id: number): boolean;
  /** Counts arithmetic ops for FLOP estimates. */
  countOps(n: number): void;
  /** Per-axis indices of flat offset `flat` in `shape`; the flat offset of `idx`; the input index of a reshape. */
  unflatten(flat: Expr, shape: readonly number[]): Index;
  linear(idx: Index, shape: readonly number[]): Expr;
  reshapeSource(n: Node<'reshape'>, idx: Index): Index;
  broadcastIndex(idx: Index, inShape: readonly number[]): Index;
}

export type Lowering<K extends OpName> = (c: LowerContext, n: Node<K>, idx: Index, lanes: Lanes) => Expr | undefined;

/** Arithmetic cost of a transcendental, for FLOP estimates (views and reads cost 0). */
const TRANSCENDENTAL = 4;

/** A literal as wide as `lanes`. */
const lit = (v: number, lanes: Lanes): Expr => (lanes.width === 1 ? f32(v) : splat(f32(v)));
const f32Inputs = (c: LowerContext, n: Node) => n.inputs.every((i) => c.graph.node(i).type.dtype === 'f32');

/** An elementwise op over its inputs: the same expression for scalars and vectors. */
function elementwise(f: (args: Expr[], lanes: Lanes) => Expr, cost = 1, hint?: string): Lowering<OpName> {
  return (c, n, idx, lanes) => {
    if (lanes.width === 4 && !f32Inputs(c, n)) return undefined;
    c.countOps(cost * lanes.width);
    return c.let(f(n.inputs.map((_, k) => c.input(n, k, idx, lanes)), lanes), lanes.width === 4 ? 'vv' : hint);
  };
}
const unary = (f: (x: Expr) => Expr, cost = 1) => elementwise(([x]) => f(x!), cost);
const binary = (f: (a: Expr, b: Expr) => Expr) => elementwise(([a, b]) => f(a!, b!));

/** A WGSL helper function (scalar): on vectors, applied lane by lane. */
const helper = (h: Helper) => elementwise(([x], lanes) => (lanes.width === 1 ? call(h, x!) : vec4([0, 1, 2, 3].map((i) => call(h, lane(x!, i))))), TRANSCENDENTAL * 2);

const identity: Lowering<OpName> = (c, n, idx, lanes) => c.valueAt(n.inputs[0]!, idx, lanes);
const anchor: Lowering<OpName> = (_c, n) => {
  throw new FusionError(n.id, `${n.op} must be stored or provided by its kernel template`);
};

/**
 * A small reduction computed in place (codegen/fusion/small-reductions.ts):
 * its input at each index of the reduced axis, combined; any other reduction has its own kernel.
 */
function smallReduction(c: LowerContext, n: Node, idx: Index, lanes: Lanes, combine: (a: Expr, b: Expr) => Expr): Expr | undefined {
  const { axis } = (n as Node<'sum'>).attrs;
  const x = c.graph.node(n.inputs[0]!);
  const extent = x.type.shape[axis]!;
  // The planner decided (inline-small-reductions); the largest "small" of any adapter class bounds it.
  if (extent > (axis === x.type.shape.length - 1 ? SMALL_REDUCTIONS.gpu.row : SMALL_REDUCTIONS.gpu.axis)) return anchor(c, n, idx, lanes);
  if (lanes.width === 4 && lanes.axis === axis) return undefined;
  let acc: Expr | undefined;
  for (let j = 0; j < extent; j++) {
    const at = idx.map((e, a) => (a === axis ? u32(j) : e));
    const v = c.valueAt(x.id, at, lanes);
    acc = acc === undefined ? v : combine(acc, v);
  }
  c.countOps((extent - 1) * lanes.width);
  return c.let(acc!, lanes.width === 4 ? 'vv' : 'r');
}

const COMPARE: Record<OpAttrs['compare']['kind'], CompareOp> = { lt: 'lt', le: 'le', gt: 'gt', ge: 'ge', eq: 'eq', ne: 'ne' };

/** For a reshape read along output `axis`: the input axis the same four elements run along, if any. */
export function reshapeVecAxis(outShape: readonly number[], inShape: readonly number[], axis: number): number | undefined {
  if (outShape[axis]! % 4 !== 0) return undefined;
  const inner = (s: readonly number[], a: number) => s.slice(a + 1).reduce((x, y) => x * y, 1);
  const pOut = inner(outShape, axis);
  for (let b = 0; b < inShape.length; b++) if (inShape[b]! % 4 === 0 && inner(inShape, b) === pOut) return b;
  return undefined;
}

/** The lanes of `n`'s input read along input axis `inAxis` (undefined: the vector form does not exist). */
const along = (inAxis: number | undefined): Lanes | undefined => (inAxis === undefined ? undefined : { width: 4, axis: inAxis });

/** How each op is computed in place. */
export const LOWER: { readonly [K in OpName]: Lowering<K> } = {
  input: anchor, param: anchor, constant: anchor,
  fill: (_c, n, _idx, lanes) => (lanes.width === 1 ? literal(n.attrs.value, n.attrs.dtype) : n.attrs.dtype === 'f32' ? splat(f32(n.attrs.value)) : undefined),

  neg: unary(neg),
  exp: unary(exp, TRANSCENDENTAL),
  log: unary(log, TRANSCENDENTAL),
  sqrt: unary(sqrt, TRANSCENDENTAL),
  rsqrt: unary(inverseSqrt, TRANSCENDENTAL),
  recip: elementwise(([x], lanes) => div(lit(1, lanes), x!)),
  tanh: helper('tanh'),
  erf: helper('erf'),
  sigmoid: helper('sigmoid'),
  relu: elementwise(([x], lanes) => max(x!, lit(0, lanes))),
  sign: unary(sign),
  abs: unary(abs),

  add: binary(add),
  sub: binary(sub),
  mul: binary(mul),
  div: binary(div),
  max: binary(max),
  min: binary(min),
  compare: (c, n, idx, lanes) => elementwise(([a, b], l) => select(lit(0, l), lit(1, l), compare(COMPARE[n.attrs.kind], a!, b!)))(c, n, idx, lanes),
  select: elementwise(([c, t, f], lanes) => select(f!, t!, compare('ne', c!, lit(0, lanes)))),
  cast: (c, n, idx, lanes) => (lanes.width === 4 ? undefined : c.let(cast(c.input(n, 0, idx, lanes), n.attrs.dtype))),

  sum: (c, n, idx, lanes) => smallReduction(c, n, idx, lanes, add),
  reduceMax: (c, n, idx, lanes) => smallReduction(c, n, idx, lanes, max),
  topk: anchor, matmul: anchor, scatterAdd: anchor, attentionBackward: anchor,

  // An index already related to a flat offset (an epilogue's) maps through that offset, so the
  // epilogue reaches its accumulator at the very index the template provides it.
  reshape: (c, n, idx, lanes) => {
    const inShape = c.graph.node(n.inputs[0]!).type.shape;
    const inLanes = lanes.width === 1 ? lanes : along(reshapeVecAxis(n.type.shape, inShape, lanes.axis));
    return inLanes && c.valueAt(n.inputs[0]!, c.reshapeSource(n, idx), inLanes);
  },
  permute: (c, n, idx, lanes) => {
    const inIdx = new Array<Expr>(idx.length);
    n.attrs.perm.forEach((p, k) => (inIdx[p] = idx[k]!));
    return c.valueAt(n.inputs[0]!, inIdx, lanes.width === 1 ? lanes : { width: 4, axis: n.attrs.perm[lanes.axis]! });
  },
  slice: (c, n, idx, lanes) =>
    lanes.width === 4 && n.attrs.starts[lanes.axis]! % 4 !== 0 ? undefined : c.valueAt(n.inputs[0]!, idx.map((e, k) => add(e, n.attrs.starts[k]!)), lanes),
  pad: (c, n, idx, lanes) => (lanes.width === 4 ? padLanes(c, n, idx, lanes) : lowerPad(c, n, idx)),
  concat: (c, n, idx, lanes) => (lanes.width === 4 ? concatLanes(c, n, idx, lanes) : lowerConcat(c, n, idx)),
  broadcast: (c, n, idx, lanes) => c.input(n, 0, idx, lanes),
  gather: (c, n, idx, lanes) => lowerGather(c, n, idx, lanes),

  rand: (c, n, idx, lanes) => {
    if (lanes.width === 4) return undefined;
    const seed = n.inputs[0]!;
    c.countOps(TRANSCENDENTAL);
    const stream = cast(c.valueAt(n.inputs[1]!, [u32(0)], lanes), 'u32');
    return c.let(call('rand', c.linear(idx, n.type.shape), c.valueAt(seed, [u32(0)], lanes), c.valueAt(seed, [u32(1)], lanes), stream));
  },
  stopGradient: identity,
  straightThrough: identity,
};

/** Zero outside the source's extent; the source is read at a clamped index (robust, branch-free). */
function lowerPad(c: LowerContext, n: Node<'pad'>, idx: Index): Expr {
  const src = c.graph.node(n.inputs[0]!);
  const conds: Expr[] = [];
  const inIdx = idx.map((e, k) => {
    const before = n.attrs.before[k]!, dim = src.type.shape[k]!;
    if (before === 0 && n.attrs.after[k] === 0) return e;
    conds.push(ge(e, before), lt(e, before + dim));
    return c.let(min(sub(max(e, before), before), dim - 1), 'i');
  });
  const v = c.valueAt(src.id, inIdx, SCALAR);
  const inside = and(...conds);
  return inside.k === 'lit' ? (inside.v ? v : literal(0, n.type.dtype)) : c.let(select(literal(0, n.type.dtype), v, inside));
}

const isTrue = (e: Expr) => e.k === 'lit' && e.v === 1;
/** The first and last index of four lanes along `axis` (the same index on other axes). */
const laneRange = (idx: Index, axis: number, lanes: Lanes): [Expr, Expr] => [idx[axis]!, lanes.width === 4 && lanes.axis === axis ? add(idx[axis]!, 3) : idx[axis]!];

/**
 * Four lanes of a pad where the index bounds decide them all (a k loop over one part of a
 * concatenation): the source read as a vector, or zeros; undefined (four scalars) otherwise.
 */
function padLanes(c: LowerContext, n: Node<'pad'>, idx: Index, lanes: Lanes): Expr | undefined {
  const src = c.graph.node(n.inputs[0]!);
  let inside = true;
  const inIdx: Expr[] = [];
  for (const [k, e] of idx.entries()) {
    const before = n.attrs.before[k]!, end = before + src.type.shape[k]!;
    const [first, last] = laneRange(idx, k, lanes);
    if (isTrue(lt(last, before)) || isTrue(ge(first, end))) return lit(0, lanes);
    if (before === 0 && n.attrs.after[k] === 0) inIdx.push(e);
    else if (isTrue(ge(first, before)) && isTrue(lt(last, end))) inIdx.push(sub(e, before));
    else inside = false;
  }
  return inside ? c.valueAt(src.id, inIdx, lanes) : undefined;
}

/** Four lanes of a concat that one part holds, as the bounds show (see padLanes); undefined otherwise. */
function concatLanes(c: LowerContext, n: Node<'concat'>, idx: Index, lanes: Lanes): Expr | undefined {
  const axis = n.attrs.axis;
  const [first, last] = laneRange(idx, axis, lanes);
  let at = 0;
  for (const id of n.inputs) {
    const len = c.graph.node(id).type.shape[axis]!;
    if (isTrue(ge(first, at)) && isTrue(lt(last, at + len))) return c.valueAt(id, idx.map((x, k) => (k === axis ? sub(x, at) : x)), lanes);
    at += len;
  }
  return undefined;
}

/**
 * The part that owns the index along the axis, read at its own (clamped) index; the others are
 * selected away. Parts that gather rows of one tensor (ToMe's cls | kept tokens, both rows of the
 * pre-merge sequence) read it once, at the row of the part that owns the index: a select of
 * indices, not of values, so a prologue recomputing the rows for every column tile loads each
 * tensor once per element, not once per part.
 */
function lowerConcat(c: LowerContext, n: Node<'concat'>, idx: Index): Expr {
  const axis = n.attrs.axis;
  const e = idx[axis]!;
  let at = 0;
  const parts = n.inputs.map((id) => {
    const len = c.graph.node(id).type.shape[axis]!;
    const local = c.let(min(sub(max(e, at), at), len - 1), 'i');
    const part = { ...rowSource(c, id, idx.map((x, k) => (k === axis ? local : x)), axis), from: ge(e, at) };
    at += len;
    return part;
  });
  // Each source at the index of its last part that owns the position (a part owns it from its start on, till a later one does).
  const indexOf = new Map<number, Index>();
  for (const p of parts) {
    const prev = indexOf.get(p.id);
    const extent = c.graph.node(p.id).type.shape;
    indexOf.set(p.id, !prev || isTrue(p.from) ? p.idx : prev.map((x, k) => (x === p.idx[k] ? x : bounded(c.let(select(x, p.idx[k]!, p.from), 'i'), extent[k]!))));
  }
  const values = new Map([...indexOf].map(([id, where]) => [id, c.valueAt(id, where, SCALAR)]));
  let acc: Expr | undefined;
  for (const p of parts) {
    const v = values.get(p.id)!;
    acc = acc === undefined || isTrue(p.from) ? v : p.from.k === 'lit' || acc === v ? acc : c.let(select(acc, v, p.from));
  }
  return acc!;
}

/** What node `id` reads at `idx`: through row gathers along `axis` computed in place, the tensor they gather from and the index there. */
function rowSource(c: LowerContext, id: number, idx: Index, axis: number): { id: number; idx: Index } {
  for (;;) {
    const n = c.graph.node(id);
    if (n.op !== 'gather' || (n as Node<'gather'>).attrs.axis !== axis || !c.readsThrough(id)) return { id, idx };
    idx = gatheredIndex(c, n as Node<'gather'>, idx);
    id = n.inputs[0]!;
  }
}

/**
 * A gather along its axis: the index read from its tensor (a folded literal needs no clamp; a
 * data-dependent one is clamped: robust access; the reference interpreter rejects out-of-range
 * indices). Vectors along other axes than the gathered one read the source as vectors.
 */
function lowerGather(c: LowerContext, n: Node<'gather'>, idx: Index, lanes: Lanes): Expr | undefined {
  const [src, ix] = n.inputs.map((i) => c.graph.node(i)) as [Node, Node];
  const g = n.attrs.axis;
  if (lanes.width === 4 && (lanes.axis === g || (lanes.axis < g && ix.type.shape[lanes.axis] !== 1))) return undefined;
  return c.valueAt(src.id, gatheredIndex(c, n, idx), lanes);
}

/** The index into a gather's source that its element at `idx` reads. */
function gatheredIndex(c: LowerContext, n: Node<'gather'>, idx: Index): Index {
  const [src, ix] = n.inputs.map((i) => c.graph.node(i)) as [Node, Node];
  const g = n.attrs.axis;
  const ixIdx = ix.type.shape.map((d, k) => (k === g ? idx[g]! : d === 1 ? u32(0) : idx[k]!));
  const raw = c.valueAt(ix.id, ixIdx, SCALAR);
  const len = src.type.shape[g]!;
  const known = litValue(raw);
  const j = known !== undefined ? u32(Math.min(Math.max(Math.trunc(known), 0), len - 1)) : c.let(cast(clamp(raw, literalLike(raw, 0), literalLike(raw, len - 1)), 'u32'), 'i');
  const boundedJ = j.k === 'local' ? { ...j, bound: Math.min(j.bound, len) } : j;
  return idx.map((e, k) => (k === g ? boundedJ : e));
}

const literalLike = (e: Expr, v: number): Expr => literal(v, e.ty.s);

/** Ops whose rule has no vector form at all (so the vector analyses count them as four scalars). */
export const SCALAR_ONLY: ReadonlySet<OpName> = new Set<OpName>(['cast', 'pad', 'concat', 'rand']);

