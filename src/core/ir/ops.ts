// The op vocabulary. Each op is defined once, here: its type rule, its float64 reference
// implementation and its vector-Jacobian product (written as IR, so backward graphs are graphs).
// `OPS` is a total map over `OpName`: adding an op without all three rules does not compile.

import type { Tensor } from './graph.ts';
import {
  ShapeError, broadcastShapes, broadcastStrides, fmtShape, numel, sameShape, stridesOf, viewOffsets,
  type DType, type Shape, type TensorType,
} from './shape.ts';

/** The comparisons of the `compare` op: <, ≤, >, ≥, = and ≠. */
export type CompareKind = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

/** The attributes of an op that takes none. */
export type NoAttrs = Record<string, never>;

/** The attributes of each op, by op name: the one list that defines the op vocabulary. */
export interface OpAttrs {
  // leaves
  input: { name: string; shape: Shape; dtype: DType };
  param: { name: string; shape: Shape; trainable: boolean };
  fill: { value: number; shape: Shape; dtype: DType };
  /**
   * fold: false keeps the values in a buffer even when small enough to be folded into the code,
   * so kernels that differ only in them share one pipeline (rand streams, drop rates).
   */
  constant: { data: Float64Array; shape: Shape; dtype: DType; fold?: boolean };
  // elementwise unary (f32)
  neg: NoAttrs; exp: NoAttrs; log: NoAttrs; sqrt: NoAttrs; rsqrt: NoAttrs; recip: NoAttrs;
  tanh: NoAttrs; erf: NoAttrs; relu: NoAttrs; sigmoid: NoAttrs; sign: NoAttrs; abs: NoAttrs;
  // elementwise binary with broadcasting (f32)
  add: NoAttrs; sub: NoAttrs; mul: NoAttrs; div: NoAttrs; max: NoAttrs; min: NoAttrs;
  compare: { kind: CompareKind };
  select: NoAttrs;
  cast: { dtype: DType };
  // reductions along one axis (kept, with length 1 / k)
  sum: { axis: number };
  reduceMax: { axis: number };
  topk: { axis: number; k: number };
  matmul: NoAttrs;
  // movement
  reshape: { shape: Shape };
  permute: { perm: readonly number[] };
  slice: { starts: readonly number[]; ends: readonly number[] };
  pad: { before: readonly number[]; after: readonly number[] };
  concat: { axis: number };
  broadcast: { shape: Shape };
  // indexing
  gather: { axis: number };
  scatterAdd: { axis: number; size: number };
  // counter-based random numbers: uniform [0,1) from an i32 [seed, step] input and an i32 [1] stream
  // (a buffer, not a literal: the masks of identical blocks then come from one kernel), reproducible on any device
  rand: { shape: Shape };
  // gradient control
  stopGradient: NoAttrs;
  straightThrough: NoAttrs;
  // the backward pass of softmax attention, recomputing the scores (src/core/ir/attention.ts)
  attentionBackward: AttentionBackwardAttrs;
}

/**
 * Softmax attention's backward, without the n×n probabilities: scores s = scale·Q·Kᵀ (+ bias,
 * broadcast to [..., nq, n]) are recomputed where needed. Inputs Q [..., nq, d], Kᵀ [..., d, n],
 * then for 'dq' and 'dkv' V [..., n, dv], dO [..., nq, dv], lse [..., nq, 1], D = rowsum(dO ⊙ O)
 * [..., nq, 1]; the bias last when `bias`. Outputs:
 *  - lse: log Σⱼ exp(sᵢⱼ), [..., nq, 1];
 *  - dq:  scale Σⱼ dsᵢⱼ kⱼ, [..., nq, d], with pᵢⱼ = exp(sᵢⱼ − lseᵢ), dsᵢⱼ = pᵢⱼ (dOᵢ·vⱼ − Dᵢ);
 *  - dkv: per key row j, [scale Σᵢ dsᵢⱼ qᵢ | Σᵢ pᵢⱼ dOᵢ | Σᵢ dsᵢⱼ, zeros (when `bias`)],
 *    [..., n, dkvWidth(d, dv, bias)].
 */
export interface AttentionBackwardAttrs {
  readonly part: 'lse' | 'dq' | 'dkv';
  readonly scale: number;
  readonly bias: boolean;
}

/**
 * Columns of a dkv row: dk and dv, then with a bias its gradient padded with zeros to a multiple
 * of 4, so that rows stay 16-byte aligned and the kernels reading dk and dv read vectors as they
 * do without a bias (blocks after a merge, whose attention adds log sizes, share their modules).
 */
export const dkvWidth = (d: number, dv: number, bias: boolean): number => (bias ? Math.ceil((d + dv + 1) / 4) * 4 : d + dv);

/** The name of an op. */
export type OpName = keyof OpAttrs;

/** A float64 tensor as the reference interpreter holds it (contiguous, row-major). */
export interface F64 {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/** What an op's vector-Jacobian product is given: its inputs, output and output gradient, as tensors of the backward graph. */
export interface VjpArgs<K extends OpName> {
  readonly x: readonly Tensor[];
  readonly y: Tensor;
  readonly dy: Tensor;
  readonly attrs: OpAttrs[K];
  /** needs[i]: whether input i wants a gradient; others may be left undefined. */
  readonly needs: readonly boolean[];
}

/**
 * What kind of computation an op is. The code generator derives everything it decides per op from
 * this (what lives in memory, what is inlined, what needs a loop of its own and which kernel
 * template runs it), so a new op is placed by giving it a kind, not by adding it to lists.
 *  - leaf: a buffer (input, parameter, constant data);  literal: a fill value, inlined;
 *  - elementwise: one output element from the same-index elements of its (broadcast) inputs;
 *  - view: a re-indexing of one input (reshape, permute, slice, pad, concat, broadcast);
 *  - index: a data-dependent re-indexing (gather);  scatter: a data-dependent accumulation;
 *  - reduction: along one axis (sum, max);  selection: top-k indices along one axis;
 *  - contraction: matmul;  random: counter-based numbers;  gradient: identity in the forward
 *    pass that only changes what autodiff does (stopGradient, straightThrough);
 *  - attention: softmax attention's backward parts, each walking all keys or queries per row.
 */
export type OpKind =
  | 'leaf' | 'literal' | 'elementwise' | 'view' | 'index' | 'scatter'
  | 'reduction' | 'selection' | 'contraction' | 'random' | 'gradient' | 'attention';

/** Everything known about one op: its kind, its type rule, its float64 reference and its gradient. */
export interface OpRule<K extends OpName> {
  readonly kind: OpKind;
  /** Number of inputs; -1 for variadic. */
  readonly arity: number;
  /** The output type for these input types and attributes; throws ShapeError when they are not accepted. */
  infer(x: readonly TensorType[], a: OpAttrs[K]): TensorType;
  /** The output values in float64 (row-major), for the reference interpreter. */
  reference(x: readonly F64[], a: OpAttrs[K], out: TensorType): Float64Array;
  /** Gradients of the inputs given the output's; null when the op has none (piecewise constant, integer, or stopped). */
  readonly vjp: ((v: VjpArgs<K>) => (Tensor | undefined)[]) | null;
}

// ---------------------------------------------------------------------------------------------
// helpers shared by the rules

function requireF32(op: string, x: readonly TensorType[]): void {
  x.forEach((t, i) => {
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: input ${i} must be f32, got ${t.dtype}${fmtShape(t.shape)}`);
  });
}

function requireIndex(op: string, t: TensorType): void {
  if (t.dtype === 'f32') throw new ShapeError(`${op}: indices must be i32 or u32, got f32${fmtShape(t.shape)}`);
}

/** Sums a gradient over the axes along which `shape` was broadcast, then reshapes to `shape`. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  let r = g;
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) r = r.b.op('sum', [r], { axis: i });
  }
  return r.reshape([...shape]);
}

function elementwise(x: readonly F64[], shape: Shape, f: (...v: number[]) => number): Float64Array {
  const n = numel(shape);
  const out = new Float64Array(n);
  const offs = x.map((t) => (sameShape(t.shape, shape) ? null : viewOffsets(shape, broadcastStrides(t.shape, shape))));
  const vals = new Array<number>(x.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < x.length; k++) vals[k] = x[k]!.data[offs[k] ? offs[k]![i]! : i]!;
    out[i] = f(...vals);
  }
  return out;
}

/** outer × n × inner decomposition of a shape around `axis`. */
function around(shape: Shape, axis: number): [outer: number, n: number, inner: number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'recip' | 'tanh' | 'erf' | 'relu' | 'sigmoid' | 'sign' | 'abs';
type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

const unary = <K extends UnaryOp>(
  f: (x: number) => number,
  grad: ((x: Tensor, y: Tensor, dy: Tensor) => Tensor) | null,
): OpRule<K> => ({
  kind: 'elementwise',
  arity: 1,
  infer: (x, _a) => {
    requireF32('unary', x);
    return x[0]!;
  },
  reference: (x, _a, out) => elementwise(x, out.shape, f),
  vjp: grad && (({ x, y, dy }) => [grad(x[0]!, y, dy)]),
});

const binaryInfer = (op: string) => (x: readonly TensorType[]): TensorType => {
  requireF32(op, x);
  return { shape: broadcastShapes(op, x[0]!.shape, x[1]!.shape), dtype: 'f32' };
};

const binary = <K extends BinaryOp>(
  op: K,
  f: (a: number, b: number) => number,
  grad: (a: Tensor, b: Tensor, y: Tensor, dy: Tensor) => [Tensor, Tensor],
): OpRule<K> => ({
  kind: 'elementwise',
  arity: 2,
  infer: binaryInfer(op),
  reference: (x, _a, out) => elementwise(x, out.shape, f),
  vjp: ({ x, y, dy, needs }) => {
    const [ga, gb] = grad(x[0]!, x[1]!, y, dy);
    return [needs[0] ? sumTo(ga, x[0]!.shape) : undefined, needs[1] ? sumTo(gb, x[1]!.shape) : undefined];
  },
});

const leaf = <K extends 'input' | 'param' | 'fill' | 'constant'>(
  data: (a: OpAttrs[K]) => Float64Array,
  kind: OpKind = 'leaf',
): OpRule<K> => ({
  kind,
  arity: 0,
  infer: (_x, a) => ({ shape: a.shape, dtype: 'dtype' in a ? a.dtype : 'f32' }),
  reference: (_x, a) => data(a),
  vjp: null,
});

/** erf to float64 precision (an oracle needs more than the usual 1e-7 approximations): series, then continued fraction. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc (Lentz), accurate for |x| >= 2.5.
  const z = ax;
  let f = z, c = z, d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = z + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = z + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// ---------------------------------------------------------------------------------------------
// the rules

/** The rule of every op, by name. */
export const OPS: { readonly [K in OpName]: OpRule<K> } = {
  input: leaf<'input'>((a) => { throw new Error(`input "${a.name}" was not fed`); }),
  param: leaf<'param'>((a) => { throw new Error(`parameter "${a.name}" was not given`); }),
  fill: leaf<'fill'>((a) => new Float64Array(numel(a.shape)).fill(a.value), 'literal'),
  constant: {
    ...leaf<'constant'>((a) => a.data),
    infer: (_x, a) => {
      if (a.data.length !== numel(a.shape)) throw new ShapeError(`constant: ${a.data.length} values for shape ${fmtShape(a.shape)}`);
      return { shape: a.shape, dtype: a.dtype };
    },
  },

  neg: unary((x) => -x, (_x, _y, dy) => dy.neg()),
  exp: unary(Math.exp, (_x, y, dy) => dy.mul(y)),
  log: unary(Math.log, (x, _y, dy) => dy.div(x)),
  sqrt: unary(Math.sqrt, (_x, y, dy) => dy.mul(0.5).div(y)),
  rsqrt: unary((x) => 1 / Math.sqrt(x), (_x, y, dy) => dy.mul(y.mul(y).mul(y)).mul(-0.5)),
  recip: unary((x) => 1 / x, (_x, y, dy) => dy.mul(y.mul(y)).neg()),
  tanh: unary(Math.tanh, (_x, y, dy) => dy.mul(y.mul(y).neg().add(1))),
  erf: unary(erf64, (x, _y, dy) => dy.mul(x.mul(x).neg().exp().mul(TWO_OVER_SQRT_PI))),
  relu: unary((x) => (x > 0 ? x : 0), (x, _y, dy) => x.compare('gt', 0).mul(dy)),
  sigmoid: unary((x) => 1 / (1 + Math.exp(-x)), (_x, y, dy) => dy.mul(y).mul(y.neg().add(1))),
  sign: unary(Math.sign, null),
  abs: unary(Math.abs, (x, _y, dy) => dy.mul(x.sign())),

  add: binary('add', (a, b) => a + b, (_a, _b, _y, dy) => [dy, dy]),
  sub: binary('sub', (a, b) => a - b, (_a, _b, _y, dy) => [dy, dy.neg()]),
  mul: binary('mul', (a, b) => a * b, (a, b, _y, dy) => [dy.mul(b), dy.mul(a)]),
  div: binary('div', (a, b) => a / b, (_a, b, y, dy) => [dy.div(b), dy.mul(y).div(b).neg()]),
  // Ties send the gradient to the first operand.
  max: binary('max', Math.max, (a, b, _y, dy) => { const m = a.compare('ge', b); return [m.mul(dy), m.neg().add(1).mul(dy)]; }),
  min: binary('min', Math.min, (a, b, _y, dy) => { const m = a.compare('le', b); return [m.mul(dy), m.neg().add(1).mul(dy)]; }),

  compare: {
    kind: 'elementwise',
    arity: 2,
    infer: (x) => {
      if (x[0]!.dtype !== x[1]!.dtype) throw new ShapeError(`compare: dtypes differ (${x[0]!.dtype} vs ${x[1]!.dtype})`);
      return { shape: broadcastShapes('compare', x[0]!.shape, x[1]!.shape), dtype: 'f32' };
    },
    reference: (x, a, out) => {
      const f = {
        lt: (p: number, q: number) => +(p < q), le: (p: number, q: number) => +(p <= q),
        gt: (p: number, q: number) => +(p > q), ge: (p: number, q: number) => +(p >= q),
        eq: (p: number, q: number) => +(p === q), ne: (p: number, q: number) => +(p !== q),
      }[a.kind];
      return elementwise(x, out.shape, f);
    },
    vjp: null,
  },
  select: {
    kind: 'elementwise',
    arity: 3,
    infer: (x) => {
      requireF32('select', x);
      return { shape: broadcastShapes('select', broadcastShapes('select', x[0]!.shape, x[1]!.shape), x[2]!.shape), dtype: 'f32' };
    },
    reference: (x, _a, out) => elementwise(x, out.shape, (c, p, q) => (c !== 0 ? p : q)),
    vjp: ({ x, dy, needs }) => {
      const zero = dy.b.scalar(0);
      return [
        undefined,
        needs[1] ? sumTo(x[0]!.select(dy, zero), x[1]!.shape) : undefined,
        needs[2] ? sumTo(x[0]!.select(zero, dy), x[2]!.shape) : undefined,
      ];
    },
  },
  cast: {
    kind: 'elementwise',
    arity: 1,
    infer: (x, a) => ({ shape: x[0]!.shape, dtype: a.dtype }),
    reference: (x, a) => {
      const d = x[0]!.data;
      return a.dtype === 'f32' ? Float64Array.from(d) : Float64Array.from(d, (v) => (a.dtype === 'u32' ? Math.trunc(v) >>> 0 : Math.trunc(v) | 0));
    },
    vjp: null,
  },

  sum: {
    kind: 'reduction',
    arity: 1,
    infer: (x, a) => reduceInfer('sum', x[0]!, a.axis, 1, true),
    reference: (x, a) => reduceRef(x[0]!, a.axis, 0, (acc, v) => acc + v),
    vjp: ({ x, dy }) => [dy.broadcastTo(x[0]!.shape)],
  },
  reduceMax: {
    kind: 'reduction',
    arity: 1,
    infer: (x, a) => reduceInfer('reduceMax', x[0]!, a.axis, 1, true),
    reference: (x, a) => reduceRef(x[0]!, a.axis, -Infinity, Math.max),
    // Ties share the gradient equally.
    vjp: ({ x, y, dy, attrs }) => {
      const mask = x[0]!.compare('eq', y);
      return [mask.mul(dy.div(mask.b.op('sum', [mask], { axis: attrs.axis })))];
    },
  },
  topk: {
    kind: 'selection',
    arity: 1,
    infer: (x, a) => {
      const t = reduceInfer('topk', x[0]!, a.axis, a.k, true);
      if (!Number.isInteger(a.k) || a.k < 1 || a.k > x[0]!.shape[a.axis]!) {
        throw new ShapeError(`topk: k=${a.k} must be in 1..${x[0]!.shape[a.axis]} for ${fmtShape(x[0]!.shape)} along axis ${a.axis}`);
      }
      return { shape: t.shape, dtype: 'i32' };
    },
    reference: (x, a) => {
      const [outer, n, inner] = around(x[0]!.shape, a.axis);
      const d = x[0]!.data;
      const out = new Float64Array(outer * a.k * inner);
      const order = new Array<number>(n);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const at = (j: number) => d[(o * n + j) * inner + i]!;
          for (let j = 0; j < n; j++) order[j] = j;
          order.sort((p, q) => at(q) - at(p) || p - q);
          for (let j = 0; j < a.k; j++) out[(o * a.k + j) * inner + i] = order[j]!;
        }
      }
      return out;
    },
    vjp: null,
  },

  matmul: {
    kind: 'contraction',
    arity: 2,
    infer: (x) => {
      const [a, b] = x as [TensorType, TensorType];
      requireF32('matmul', x);
      if (a.shape.length < 2 || b.shape.length < 2) {
        throw new ShapeError(`matmul: both inputs need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
      }
      const [m, k] = a.shape.slice(-2) as [number, number];
      const [k2, n] = b.shape.slice(-2) as [number, number];
      if (k !== k2) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${k2})`);
      const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
      return { shape: [...batch, m, n], dtype: 'f32' };
    },
    reference: (x, _a, out) => {
      const [a, b] = x as [F64, F64];
      const batch = out.shape.slice(0, -2);
      const [m, n] = out.shape.slice(-2) as [number, number];
      const k = a.shape[a.shape.length - 1]!;
      const aOff = viewOffsets(batch, broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k));
      const bOff = viewOffsets(batch, broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n));
      const res = new Float64Array(numel(out.shape));
      for (let bi = 0; bi < aOff.length; bi++) {
        const ao = aOff[bi]!, bo = bOff[bi]!, ro = bi * m * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let p = 0; p < k; p++) acc += a.data[ao + i * k + p]! * b.data[bo + p * n + j]!;
            res[ro + i * n + j] = acc;
          }
        }
      }
      return res;
    },
    vjp: ({ x, dy, needs }) => [
      needs[0] ? sumTo(dy.matmul(x[1]!.transpose()), x[0]!.shape) : undefined,
      needs[1] ? sumTo(x[0]!.transpose().matmul(dy), x[1]!.shape) : undefined,
    ],
  },

  reshape: {
    kind: 'view',
    arity: 1,
    infer: (x, a) => {
      if (numel(a.shape) !== numel(x[0]!.shape)) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x[0]!.shape)} to ${fmtShape(a.shape)}`);
      return { shape: a.shape, dtype: x[0]!.dtype };
    },
    reference: (x) => x[0]!.data.slice(),
    vjp: ({ x, dy }) => [dy.reshape([...x[0]!.shape])],
  },
  permute: {
    kind: 'view',
    arity: 1,
    infer: (x, a) => {
      const s = x[0]!.shape;
      const ok = a.perm.length === s.length && [...a.perm].sort((p, q) => p - q).every((p, i) => p === i);
      if (!ok) throw new ShapeError(`permute: [${a.perm}] is not a permutation of the axes of ${fmtShape(s)}`);
      return { shape: a.perm.map((p) => s[p]!), dtype: x[0]!.dtype };
    },
    reference: (x, a, out) => {
      const st = stridesOf(x[0]!.shape);
      return gatherFlat(x[0]!.data, viewOffsets(out.shape, a.perm.map((p) => st[p]!)));
    },
    vjp: ({ dy, attrs }) => {
      const inv = new Array<number>(attrs.perm.length);
      attrs.perm.forEach((p, i) => (inv[p] = i));
      return [dy.permute(inv)];
    },
  },
  slice: {
    kind: 'view',
    arity: 1,
    infer: (x, a) => {
      const s = x[0]!.shape;
      if (a.starts.length !== s.length || a.ends.length !== s.length) throw new ShapeError(`slice: ranges must cover the ${s.length} axes of ${fmtShape(s)}`);
      const shape = s.map((d, i) => {
        const st = a.starts[i]!, en = a.ends[i]!;
        if (!(0 <= st && st < en && en <= d)) throw new ShapeError(`slice: range [${st},${en}) is empty or out of bounds on axis ${i} of ${fmtShape(s)}`);
        return en - st;
      });
      return { shape, dtype: x[0]!.dtype };
    },
    reference: (x, a, out) => {
      const st = stridesOf(x[0]!.shape);
      const base = a.starts.reduce((acc, s0, i) => acc + s0 * st[i]!, 0);
      return gatherFlat(x[0]!.data, viewOffsets(out.shape, st, base));
    },
    vjp: ({ x, dy, attrs }) => [dy.pad(attrs.starts, x[0]!.shape.map((d, i) => d - attrs.ends[i]!))],
  },
  pad: {
    kind: 'view',
    arity: 1,
    infer: (x, a) => {
      const s = x[0]!.shape;
      if (a.before.length !== s.length || a.after.length !== s.length) throw new ShapeError(`pad: padding must cover the ${s.length} axes of ${fmtShape(s)}`);
      if ([...a.before, ...a.after].some((p) => !Number.isInteger(p) || p < 0)) throw new ShapeError(`pad: paddings must be non-negative integers`);
      return { shape: s.map((d, i) => d + a.before[i]! + a.after[i]!), dtype: x[0]!.dtype };
    },
    reference: (x, a, out) => {
      const res = new Float64Array(numel(out.shape));
      const st = stridesOf(out.shape);
      const base = a.before.reduce((acc, p, i) => acc + p * st[i]!, 0);
      const offs = viewOffsets(x[0]!.shape, st, base);
      offs.forEach((o, i) => (res[o] = x[0]!.data[i]!));
      return res;
    },
    vjp: ({ x, dy, attrs }) => [dy.slice(x[0]!.shape.map((d, i) => [attrs.before[i]!, attrs.before[i]! + d] as const))],
  },
  concat: {
    kind: 'view',
    arity: -1,
    infer: (x, a) => {
      const first = x[0]!;
      let len = 0;
      for (const t of x) {
        const okRank = t.shape.length === first.shape.length && t.dtype === first.dtype;
        if (!okRank || t.shape.some((d, i) => i !== a.axis && d !== first.shape[i])) {
          throw new ShapeError(`concat: ${first.dtype}${fmtShape(first.shape)} and ${t.dtype}${fmtShape(t.shape)} differ outside axis ${a.axis}`);
        }
        len += t.shape[a.axis]!;
      }
      return { shape: first.shape.map((d, i) => (i === a.axis ? len : d)), dtype: first.dtype };
    },
    reference: (x, a, out) => {
      const [outer, n, inner] = around(out.shape, a.axis);
      const res = new Float64Array(outer * n * inner);
      let at = 0;
      for (const t of x) {
        const m = t.shape[a.axis]!;
        for (let o = 0; o < outer; o++) res.set(t.data.subarray(o * m * inner, (o + 1) * m * inner), (o * n + at) * inner);
        at += m;
      }
      return res;
    },
    vjp: ({ x, dy, attrs, needs }) => {
      let at = 0;
      return x.map((t, i) => {
        const start = at;
        at += t.shape[attrs.axis]!;
        return needs[i] ? dy.narrow(attrs.axis, start, t.shape[attrs.axis]!) : undefined;
      });
    },
  },
  broadcast: {
    kind: 'view',
    arity: 1,
    infer: (x, a) => {
      const b = broadcastShapes('broadcast', x[0]!.shape, a.shape);
      if (!sameShape(b, a.shape)) throw new ShapeError(`broadcast: cannot broadcast ${fmtShape(x[0]!.shape)} to ${fmtShape(a.shape)}`);
      return { shape: a.shape, dtype: x[0]!.dtype };
    },
    reference: (x, a) => gatherFlat(x[0]!.data, viewOffsets(a.shape, broadcastStrides(x[0]!.shape, a.shape))),
    vjp: ({ x, dy }) => [sumTo(dy, x[0]!.shape)],
  },

  gather: {
    kind: 'index',
    arity: 2,
    infer: (x, a) => indexInfer('gather', x[0]!, x[1]!, a.axis, x[1]!.shape[a.axis]!),
    reference: (x, a, out) => {
      const [src, idx] = x as [F64, F64];
      const [outer, m, inner] = around(out.shape, a.axis);
      const n = src.shape[a.axis]!;
      const idxOff = indexOffsets(idx.shape, out.shape.slice(0, a.axis));
      const res = new Float64Array(outer * m * inner);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const t = checkIndex('gather', idx.data[idxOff[o]! + j]!, n);
          res.set(src.data.subarray((o * n + t) * inner, (o * n + t + 1) * inner), (o * m + j) * inner);
        }
      }
      return res;
    },
    vjp: ({ x, dy, attrs }) => [dy.scatterAdd(x[1]!, attrs.axis, x[0]!.shape[attrs.axis]!), undefined],
  },
  scatterAdd: {
    kind: 'scatter',
    arity: 2,
    infer: (x, a) => {
      if (!Number.isInteger(a.size) || a.size < 1) throw new ShapeError(`scatterAdd: size ${a.size} must be a positive integer`);
      return indexInfer('scatterAdd', x[0]!, x[1]!, a.axis, a.size);
    },
    reference: (x, a, out) => {
      const [src, idx] = x as [F64, F64];
      const [outer, m, inner] = around(src.shape, a.axis);
      const idxOff = indexOffsets(idx.shape, src.shape.slice(0, a.axis));
      const res = new Float64Array(numel(out.shape));
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const t = checkIndex('scatterAdd', idx.data[idxOff[o]! + j]!, a.size);
          for (let i = 0; i < inner; i++) res[(o * a.size + t) * inner + i]! += src.data[(o * m + j) * inner + i]!;
        }
      }
      return res;
    },
    vjp: ({ x, dy, attrs }) => [dy.gather(x[1]!, attrs.axis), undefined],
  },

  rand: {
    kind: 'random',
    arity: 2,
    infer: (x, a) => {
      if (x[0]!.dtype !== 'i32' || !sameShape(x[0]!.shape, [2])) throw new ShapeError(`rand: the seed must be i32[2] ([seed, step]), got ${x[0]!.dtype}${fmtShape(x[0]!.shape)}`);
      if (x[1]!.dtype !== 'i32' || !sameShape(x[1]!.shape, [1])) throw new ShapeError(`rand: the stream must be i32[1], got ${x[1]!.dtype}${fmtShape(x[1]!.shape)}`);
      return { shape: a.shape, dtype: 'f32' };
    },
    reference: (x, a) => {
      const key = randKey(x[0]!.data[0]!, x[0]!.data[1]!, x[1]!.data[0]!);
      return Float64Array.from({ length: numel(a.shape) }, (_, i) => randUniform(i, key));
    },
    vjp: null,
  },
  stopGradient: {
    kind: 'gradient',
    arity: 1,
    infer: (x) => x[0]!,
    reference: (x) => x[0]!.data.slice(),
    vjp: null,
  },
  straightThrough: {
    kind: 'gradient',
    arity: 2,
    infer: (x) => {
      requireF32('straightThrough', x);
      if (!sameShape(x[0]!.shape, x[1]!.shape)) {
        throw new ShapeError(`straightThrough: value ${fmtShape(x[0]!.shape)} and surrogate ${fmtShape(x[1]!.shape)} must have one shape`);
      }
      return x[0]!;
    },
    reference: (x) => x[0]!.data.slice(),
    vjp: ({ dy }) => [undefined, dy],
  },
  attentionBackward: {
    kind: 'attention',
    arity: -1,
    infer: attentionBackwardInfer,
    reference: attentionBackwardReference,
    vjp: null,
  },
};

function attentionBackwardInfer(x: readonly TensorType[], a: AttentionBackwardAttrs): TensorType {
  const op = `attentionBackward(${a.part})`;
  const want = (a.part === 'lse' ? 2 : 6) + (a.bias ? 1 : 0);
  if (x.length !== want) throw new ShapeError(`${op}: expects ${want} inputs, got ${x.length}`);
  requireF32(op, x);
  if (!Number.isFinite(a.scale)) throw new ShapeError(`${op}: scale ${a.scale} is not finite`);
  const [q, kt] = x as [TensorType, TensorType];
  if (q.shape.length < 2) throw new ShapeError(`${op}: Q needs rank >= 2, got ${fmtShape(q.shape)}`);
  const batch = q.shape.slice(0, -2);
  const [nq, d] = q.shape.slice(-2) as [number, number];
  const n = kt.shape[kt.shape.length - 1]!;
  const expect = (t: TensorType, name: string, tail: readonly number[]) => {
    if (!sameShape(t.shape, [...batch, ...tail])) throw new ShapeError(`${op}: ${name} must be ${fmtShape([...batch, ...tail])} (Q ${fmtShape(q.shape)}), got ${fmtShape(t.shape)}`);
  };
  expect(kt, 'Kᵀ', [d, n]);
  let dv = 0;
  if (a.part !== 'lse') {
    const v = x[2]!;
    dv = v.shape[v.shape.length - 1]!;
    expect(v, 'V', [n, dv]);
    expect(x[3]!, 'dO', [nq, dv]);
    expect(x[4]!, 'lse', [nq, 1]);
    expect(x[5]!, 'D', [nq, 1]);
  }
  if (a.bias) broadcastShapes(`${op} bias`, x[x.length - 1]!.shape, [...batch, nq, n]);
  const tail = a.part === 'lse' ? [nq, 1] : a.part === 'dq' ? [nq, d] : [n, dkvWidth(d, dv, a.bias)];
  return { shape: [...batch, ...tail], dtype: 'f32' };
}

function attentionBackwardReference(x: readonly F64[], a: AttentionBackwardAttrs, out: TensorType): Float64Array {
  const [q, kt] = x as [F64, F64];
  const batch = numel(q.shape.slice(0, -2));
  const [nq, d] = q.shape.slice(-2) as [number, number];
  const n = kt.shape[kt.shape.length - 1]!;
  const scoresShape = [...q.shape.slice(0, -2), nq, n];
  const biasAt = a.bias ? viewOffsets(scoresShape, broadcastStrides(x[x.length - 1]!.shape, scoresShape)) : undefined;
  const biasData = a.bias ? x[x.length - 1]!.data : undefined;
  const res = new Float64Array(numel(out.shape));
  for (let b = 0; b < batch; b++) {
    // s[i·n + j] = scale·qᵢ·kⱼ + bias
    const s = new Float64Array(nq * n);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += q.data[(b * nq + i) * d + c]! * kt.data[(b * d + c) * n + j]!;
        s[i * n + j] = a.scale * acc + (biasData ? biasData[biasAt![(b * nq + i) * n + j]!]! : 0);
      }
    }
    if (a.part === 'lse') {
      for (let i = 0; i < nq; i++) {
        let m = -Infinity;
        for (let j = 0; j < n; j++) m = Math.max(m, s[i * n + j]!);
        let z = 0;
        for (let j = 0; j < n; j++) z += Math.exp(s[i * n + j]! - m);
        res[b * nq + i] = m + Math.log(z);
      }
      continue;
    }
    const [v, dO, lse, D] = x.slice(2, 6) as [F64, F64, F64, F64];
    const dv = v.shape[v.shape.length - 1]!;
    const cols = dkvWidth(d, dv, a.bias);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < n; j++) {
        const p = Math.exp(s[i * n + j]! - lse.data[b * nq + i]!);
        let dp = 0;
        for (let e = 0; e < dv; e++) dp += dO.data[(b * nq + i) * dv + e]! * v.data[(b * n + j) * dv + e]!;
        const ds = p * (dp - D.data[b * nq + i]!);
        if (a.part === 'dq') {
          for (let c = 0; c < d; c++) res[(b * nq + i) * d + c]! += a.scale * ds * kt.data[(b * d + c) * n + j]!;
        } else {
          const row = (b * n + j) * cols;
          for (let c = 0; c < d; c++) res[row + c]! += a.scale * ds * q.data[(b * nq + i) * d + c]!;
          for (let e = 0; e < dv; e++) res[row + d + e]! += p * dO.data[(b * nq + i) * dv + e]!;
          if (a.bias) res[row + d + dv]! += ds;
        }
      }
    }
  }
  return res;
}

function reduceInfer(op: string, x: TensorType, axis: number, keep: number, _k: boolean): TensorType {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) throw new ShapeError(`${op}: axis ${axis} out of range for ${fmtShape(x.shape)}`);
  if (op !== 'topk') requireF32(op, [x]);
  return { shape: x.shape.map((d, i) => (i === axis ? keep : d)), dtype: x.dtype };
}

function reduceRef(x: F64, axis: number, init: number, f: (acc: number, v: number) => number): Float64Array {
  const [outer, n, inner] = around(x.shape, axis);
  const res = new Float64Array(outer * inner).fill(init);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < inner; i++) res[o * inner + i] = f(res[o * inner + i]!, x.data[(o * n + j) * inner + i]!);
    }
  }
  return res;
}

/** Type rule shared by gather and scatterAdd: idx is [...P, M] with P broadcastable to x's prefix. */
function indexInfer(op: string, x: TensorType, idx: TensorType, axis: number, len: number): TensorType {
  requireIndex(op, idx);
  const prefix = x.shape.slice(0, axis);
  const ok = idx.shape.length === axis + 1 && prefix.every((d, i) => idx.shape[i] === d || idx.shape[i] === 1);
  if (!ok) {
    throw new ShapeError(`${op}: indices ${fmtShape(idx.shape)} must be [...prefix, M] with prefix broadcastable to ${fmtShape(prefix)} (source ${fmtShape(x.shape)}, axis ${axis})`);
  }
  return { shape: x.shape.map((d, i) => (i === axis ? len : d)), dtype: x.dtype };
}

/** Offset of idx's row for every prefix position (idx may broadcast over prefix axes). */
function indexOffsets(idxShape: Shape, prefix: Shape): Int32Array {
  const m = idxShape[idxShape.length - 1]!;
  return viewOffsets(prefix, broadcastStrides(idxShape.slice(0, -1), prefix).map((s) => s * m));
}

function checkIndex(op: string, v: number, n: number): number {
  if (!Number.isInteger(v) || v < 0 || v >= n) throw new RangeError(`${op}: index ${v} out of range [0, ${n})`);
  return v;
}

function gatherFlat(src: Float64Array, offs: Int32Array): Float64Array {
  const out = new Float64Array(offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = src[offs[i]!]!;
  return out;
}

/** Every op name, in the order `OPS` lists them. */
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** PCG hash (Jarzynski & Olano 2020); u32 arithmetic, identical in WGSL (see codegen/wgsl-lib.ts). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** One key per (seed, step, stream): every mask of every step draws independent numbers. */
export const randKey = (seed: number, step: number, stream: number): number => pcgHash((seed >>> 0) ^ pcgHash((step >>> 0) ^ pcgHash(stream >>> 0)));

/** 24 random bits scaled to [0, 1): exact in f32 and f64, so GPU and reference agree bit for bit. */
export const randUniform = (index: number, key: number): number => (pcgHash((index ^ key) >>> 0) >>> 8) / 16777216;
