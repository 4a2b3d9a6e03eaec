// Expression constructors of the kernel IR (kernels/ir.ts), simplifying as they build: constants
// fold (f32 arithmetic rounded as f32), and u32 index arithmetic is rewritten with value bounds.
// Every u32 expression knows an exclusive upper bound of its value when one can be derived (loop
// counters, axis indices and builtins carry theirs), which is what lets the simplifier drop clamps
// that cannot fire (`min(i, n − 1)` with i < n), modulos that cannot wrap and divisions that are
// always 0: the no-op index arithmetic of naive lowering never reaches the shader.

import { BOOL, exprKey, F32, I32, U32, ty, type AluOp, type Buf, type Builtin, type Expr, type ExprOf, type Helper, type Local, type Scalar, type Ty } from './ir.ts';

const U32_RANGE = 2 ** 32;

// ---------------------------------------------------------------------------------------------
// Leaves

/** A u32 literal (an index constant). */
export function u32(v: number): Expr {
  if (!Number.isInteger(v) || v < 0 || v >= U32_RANGE) throw new Error(`index constant ${v} is not a u32`);
  return { k: 'lit', ty: U32, v };
}
/** An i32 literal. */
export const i32 = (v: number): Expr => ({ k: 'lit', ty: I32, v: Math.trunc(v) });
/** An f32 literal: finite only (WGSL has no reliable infinities; mask instead). */
export function f32(v: number): Expr {
  if (!Number.isFinite(v)) throw new Error(`cannot emit non-finite constant ${v} in WGSL; mask instead`);
  return { k: 'lit', ty: F32, v: Object.is(v, -0) ? 0 : v };
}
/** A bool literal. */
export const bool = (b: boolean): Expr => ({ k: 'lit', ty: BOOL, v: b ? 1 : 0 });
/** A literal of scalar type `s`. */
export const literal = (v: number, s: Scalar): Expr => (s === 'f32' ? f32(v) : s === 'i32' ? i32(v) : s === 'u32' ? u32(Math.trunc(v)) : bool(v !== 0));

/** The value of local `x` (u32 values: known to lie in [low, bound)). */
export const local = (x: Local, bound = Infinity, low = 0): Expr => ({ k: 'local', ty: x.ty, x, bound, ...(low > 0 ? { low } : {}) });
/** A builtin (a component of a vec3u one), u32 in [0, bound). */
export const builtin = (b: Builtin, comp?: 0 | 1 | 2, bound = Infinity): Expr => ({ k: 'builtin', ty: U32, b, ...(comp === undefined ? {} : { comp }), bound });
/** The length of storage binding `buf` in elements of its type (known at run time only). */
export const length = (buf: Buf): Expr => ({ k: 'length', ty: U32, buf });
/** Element `at` of buffer `buf`. */
export const load = (buf: Buf, at: Expr): Expr => ({ k: 'load', ty: buf.elem, buf, at: expectU32(at) });

/** `e` as the same local or builtin with a tighter bound (after a guard established it). */
export function bounded(e: Expr, bound: number): Expr {
  if (e.k === 'lit') return e;
  if (e.k !== 'local' && e.k !== 'builtin') throw new Error('bounded: only locals and builtins carry a bound');
  // Below 1 it is 0: the literal, so that every path reading it folds the same way.
  if (bound <= 1 && e.ty === U32) return u32(0);
  return { ...e, bound: Math.min(e.bound, bound) };
}

// ---------------------------------------------------------------------------------------------
// Inspection

/** The constant value of a literal (undefined for anything else). */
export const litValue = (e: Expr): number | undefined => (e.k === 'lit' ? e.v : undefined);
const isU32Lit = (e: Expr): e is ExprOf<'lit'> => e.k === 'lit' && e.ty === U32;
/** Whether `e` is the u32 constant `v` (not a type guard: false says nothing of e's kind). */
const isU32Const = (e: Expr, v: number): boolean => isU32Lit(e) && e.v === v;
/** Whether `e` is the u32 constant 0. */
export const isZero = (e: Expr): boolean => isU32Const(e, 0);

function expectU32(e: Expr): Expr {
  if (e.ty !== U32) throw new Error(`index expression of type ${e.ty.s}×${e.ty.w}`);
  return e;
}

/** Exclusive upper bound of a u32 expression's value (Infinity when unknown). */
export function bound(e: Expr): number {
  switch (e.k) {
    case 'lit': return e.v + 1;
    case 'local': case 'builtin': return e.bound;
    case 'alu': return aluBound(e);
    default: return Infinity;
  }
}

/** Inclusive lower bound of a u32 expression's value (0 when nothing more is known). */
export function lowest(e: Expr): number {
  if (e.k === 'lit') return e.ty === U32 ? e.v : 0;
  if (e.k === 'local') return e.low ?? 0;
  if (e.k !== 'alu' || e.ty !== U32) return 0;
  const [a, b] = e.args as [Expr, Expr];
  switch (e.op) {
    case 'add': return lowest(a) + lowest(b);
    case 'mul': return lowest(a) * lowest(b);
    case 'min': return Math.min(lowest(a), lowest(b));
    case 'max': return Math.max(lowest(a), lowest(b));
    default: return 0;
  }
}

function aluBound(e: ExprOf<'alu'>): number {
  if (e.ty !== U32) return Infinity;
  const [a, b] = e.args as [Expr, Expr];
  switch (e.op) {
    case 'add': return bound(a) + bound(b) - 1;
    // Without wrapping (a ≥ b), a − b < bound(a) − lowest(b).
    case 'sub': return lowest(a) >= bound(b) - 1 ? Math.max(bound(a) - lowest(b), 1) : bound(a);
    case 'mul': return (bound(a) - 1) * (bound(b) - 1) + 1;
    case 'div': return isU32Lit(b) && b.v > 0 ? Math.floor((bound(a) - 1) / b.v) + 1 : bound(a);
    case 'mod': return isU32Lit(b) ? Math.min(b.v, bound(a)) : bound(a);
    case 'min': return Math.min(bound(a), bound(b));
    case 'max': return Math.max(bound(a), bound(b));
    case 'shr': return bound(a);
    case 'select': return Math.max(bound(a), bound(b));
    default: return Infinity;
  }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

type Operand = Expr | number;
/** Numbers next to an expression take its scalar type (u32 for indices, f32 for values). */
const asExpr = (x: Operand, like?: Expr): Expr => (typeof x !== 'number' ? x : like && like.ty.s !== 'u32' ? literal(x, like.ty.s) : u32(x));
const pair = (x: Operand, y: Operand): [Expr, Expr] => {
  const a = asExpr(x, typeof y === 'number' ? undefined : y);
  return [a, asExpr(y, a)];
};

/** Result type of an arithmetic op on a and b: scalar types must agree; a scalar with a vector gives the vector. */
function arithType(op: AluOp, a: Expr, b: Expr): Ty {
  if (a.ty.s !== b.ty.s) throw new Error(`${op}: operands of types ${a.ty.s} and ${b.ty.s}`);
  return a.ty.w >= b.ty.w ? a.ty : b.ty;
}

const node = (op: AluOp, t: Ty, args: readonly Expr[]): Expr => ({ k: 'alu', ty: t, op, args });

/** Folds an op over literals (f32 results rounded as f32, u32 and i32 wrapped as WGSL does); undefined if not all literal. */
function fold(op: AluOp, t: Ty, args: readonly Expr[], f: (...v: number[]) => number): Expr | undefined {
  if (t.w !== 1 || !args.every((a) => a.k === 'lit')) return undefined;
  const v = f(...args.map((a) => (a as ExprOf<'lit'>).v));
  if (!Number.isFinite(v)) return undefined;
  if (t.s === 'f32') return f32(Math.fround(v));
  if (t.s === 'u32') return v >= 0 && v < U32_RANGE && Number.isInteger(v) ? u32(v) : undefined;
  if (t.s === 'i32') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? i32(v) : undefined;
  return node(op, t, args);
}

/** a + b. */
export function add(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('add', a, b);
  if (t !== U32) return fold('add', t, [a, b], (p, q) => p + q) ?? (isZero32(b) && a.ty === t ? a : isZero32(a) && b.ty === t ? b : node('add', t, [a, b]));
  if (isU32Lit(a) && isU32Lit(b)) return u32(a.v + b.v);
  if (isU32Const(a, 0)) return b;
  if (isU32Const(b, 0)) return a;
  if (isU32Lit(a)) return add(b, a); // constants to the right
  // (x + c1) + c2 = x + (c1 + c2)
  if (isU32Lit(b) && a.k === 'alu' && a.op === 'add' && isU32Lit(a.args[1]!)) return add(a.args[0]!, (a.args[1] as ExprOf<'lit'>).v + b.v);
  return node('add', t, [a, b]);
}

/** a − b. */
export function sub(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('sub', a, b);
  if (t !== U32) return fold('sub', t, [a, b], (p, q) => p - q) ?? node('sub', t, [a, b]);
  if (isU32Lit(a) && isU32Lit(b) && a.v >= b.v) return u32(a.v - b.v);
  if (isU32Const(b, 0)) return a;
  // (x + c1) − c2 with c1 ≥ c2
  if (isU32Lit(b) && a.k === 'alu' && a.op === 'add' && isU32Lit(a.args[1]!) && (a.args[1] as ExprOf<'lit'>).v >= b.v) return add(a.args[0]!, (a.args[1] as ExprOf<'lit'>).v - b.v);
  return node('sub', t, [a, b]);
}

/** a · b. */
export function mul(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('mul', a, b);
  if (t !== U32) return fold('mul', t, [a, b], (p, q) => p * q) ?? node('mul', t, [a, b]);
  if (isU32Lit(a) && isU32Lit(b)) return u32(a.v * b.v);
  if (isU32Lit(a)) return mul(b, a);
  if (isU32Const(b, 0)) return u32(0);
  if (isU32Const(b, 1)) return a;
  if (bound(a) === 1) return u32(0);
  return node('mul', t, [a, b]);
}

/** a / b (floor division for u32). */
export function div(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('div', a, b);
  if (t !== U32) return fold('div', t, [a, b], (p, q) => (t.s === 'i32' ? Math.trunc(p / q) : p / q)) ?? node('div', t, [a, b]);
  if (isU32Const(b, 1)) return a;
  if (isU32Lit(a) && isU32Lit(b) && b.v > 0) return u32(Math.floor(a.v / b.v));
  if (isU32Lit(b) && bound(a) <= b.v) return u32(0);
  if (isU32Lit(b) && b.v > 0 && isSum(a)) {
    // (Σ aᵢ·cᵢ + r) / d with every cᵢ a multiple of g, d a multiple of g and r < g:
    // = (Σ aᵢ·(cᵢ/g)) / (d/g)   (floor division; the remainder never carries).
    const { scaled, rest } = splitTerms(a);
    for (const g of candidateFactors(scaled, b.v)) {
      const big = scaled.filter((s) => s.c % g === 0), small = [...rest, ...scaled.filter((s) => s.c % g !== 0).map(term)];
      if (!big.length || bound(sum(small)) > g) continue;
      return div(sum(big.map((s) => mul(s.a, s.c / g))), b.v / g);
    }
  }
  return node('div', t, [a, b]);
}

/** a mod b. */
export function mod(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('mod', a, b);
  if (t !== U32) return node('mod', t, [a, b]);
  if (isU32Const(b, 1)) return u32(0);
  if (isU32Lit(a) && isU32Lit(b) && b.v > 0) return u32(a.v % b.v);
  if (isU32Lit(b) && bound(a) <= b.v) return a;
  if (isU32Lit(b) && b.v > 0 && isSum(a)) {
    // Terms that are multiples of d drop out: (Σ aᵢ·d·kᵢ + r) % d = r % d.
    const { scaled, rest } = splitTerms(a);
    const kept = [...rest, ...scaled.filter((s) => s.c % b.v !== 0).map(term)];
    if (kept.length < rest.length + scaled.length) return mod(sum(kept), b);
  }
  return node('mod', t, [a, b]);
}

/** Whether `e` is a float zero (a literal, or a splat of one): x + 0 = x (a part of a concatenation known to be absent). */
function isZero32(e: Expr): boolean {
  const z = (x: Expr) => x.k === 'lit' && x.v === 0;
  return z(e) || (e.k === 'alu' && e.op === 'splat' && z(e.args[0]!));
}

const isSum = (e: Expr): boolean => e.k === 'alu' && e.op === 'add';

/** A sum's terms: those with a constant factor (a·c, or a constant c with a = 1) and the rest. */
function splitTerms(e: Expr): { scaled: { a: Expr; c: number }[]; rest: Expr[] } {
  const scaled: { a: Expr; c: number }[] = [], rest: Expr[] = [];
  const visit = (s: Expr) => {
    if (s.k === 'alu' && s.op === 'add') {
      visit(s.args[0]!);
      visit(s.args[1]!);
    } else if (s.k === 'alu' && s.op === 'mul' && isU32Lit(s.args[1]!)) scaled.push({ a: s.args[0]!, c: (s.args[1] as ExprOf<'lit'>).v });
    else if (isU32Lit(s)) scaled.push({ a: u32(1), c: s.v });
    else rest.push(s);
  };
  visit(e);
  return { scaled, rest };
}

const term = (s: { a: Expr; c: number }): Expr => mul(s.a, s.c);
const sum = (ts: readonly Expr[]): Expr => ts.reduce<Expr>((s, x) => add(s, x), u32(0));

/** Divisors g of d worth trying as the common factor (largest first): d itself, then the gcds with d. */
function candidateFactors(scaled: readonly { c: number }[], d: number): number[] {
  const gcd = (p: number, q: number): number => (q === 0 ? p : gcd(q, p % q));
  const out = new Set<number>([d]);
  for (const s of scaled) if (s.c > 0) out.add(gcd(s.c, d));
  return [...out].filter((g) => g > 1).sort((p, q) => q - p);
}

/**
 * `e` (a local or builtin) without its bound: a clamp or guard on it stays in the code even where
 * the bound would prove it redundant, so that kernels differing only in a count (a merge's token
 * counts) print alike and share a module (codegen/shared-sizes.ts). For a clamp or two per thread.
 */
export function unbounded(e: Expr): Expr {
  if (e.k !== 'local' && e.k !== 'builtin') throw new Error('unbounded: only locals and builtins carry a bound');
  return { ...e, bound: Infinity };
}

/** min(a, b). */
export function min(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('min', a, b);
  if (t !== U32) return fold('min', t, [a, b], Math.min) ?? node('min', t, [a, b]);
  if (isU32Lit(a) && isU32Lit(b)) return u32(Math.min(a.v, b.v));
  // A value below 1 is 0 (a row clamped against a count read at run time, in a one-row tile).
  if (bound(a) <= 1 || bound(b) <= 1) return u32(0);
  if (isU32Lit(a)) return min(b, a);
  if (isU32Lit(b) && bound(a) <= b.v + 1) return a;
  return node('min', t, [a, b]);
}

/** max(a, b). */
export function max(x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType('max', a, b);
  if (t !== U32) return fold('max', t, [a, b], Math.max) ?? node('max', t, [a, b]);
  if (isU32Lit(a) && isU32Lit(b)) return u32(Math.max(a.v, b.v));
  if (isU32Lit(a)) return max(b, a);
  if (isU32Const(b, 0)) return a; // u32 is never below 0
  if (isU32Lit(b) && lowest(a) >= b.v) return a;
  return node('max', t, [a, b]);
}

/** a >> b (u32). */
export const shr = (x: Operand, y: Operand): Expr => {
  const [a, b] = pair(x, y);
  return isU32Lit(a) && isU32Lit(b) ? u32(a.v >>> b.v) : node('shr', arithType('shr', a, b), [a, b]);
};

// ---------------------------------------------------------------------------------------------
// Unary ops, comparisons, logic, selection

const unary = (op: AluOp, f: (v: number) => number) => (a: Expr): Expr => fold(op, a.ty, [a], f) ?? node(op, a.ty, [a]);
export const neg = unary('neg', (v) => -v);
export const abs = unary('abs', Math.abs);
export const sign = unary('sign', Math.sign);
export const exp = unary('exp', Math.exp);
export const log = unary('log', Math.log);
export const sqrt = unary('sqrt', Math.sqrt);
export const inverseSqrt = unary('inverseSqrt', (v) => 1 / Math.sqrt(v));

/** A comparison; bool of the operands' width. */
export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
const COMPARE: Record<CompareOp, (p: number, q: number) => boolean> = {
  lt: (p, q) => p < q, le: (p, q) => p <= q, gt: (p, q) => p > q, ge: (p, q) => p >= q, eq: (p, q) => p === q, ne: (p, q) => p !== q,
};
/** a `op` b, with a number taking the other operand's type. */
export function compare(op: CompareOp, x: Operand, y: Operand): Expr {
  const [a, b] = pair(x, y);
  const t = arithType(op, a, b);
  if (a.k === 'lit' && b.k === 'lit') return bool(COMPARE[op](a.v, b.v));
  // u32 bounds decide some comparisons: e >= 0 always, e < c when e's bound is at most c.
  if (t === U32 && op === 'ge' && isU32Const(b, 0)) return bool(true);
  if (t === U32 && op === 'lt' && isU32Lit(b) && bound(a) <= b.v) return bool(true);
  // Lower bounds (a k loop over one part of a concatenation) decide them the other way round.
  if (t === U32 && isU32Lit(b) && (op === 'ge' || op === 'lt')) {
    if (lowest(a) >= b.v) return bool(op === 'ge');
    if (bound(a) <= b.v) return bool(op === 'lt');
  }
  return node(op, ty('bool', t.w), [a, b]);
}
export const lt = (a: Operand, b: Operand): Expr => compare('lt', a, b);
export const ge = (a: Operand, b: Operand): Expr => compare('ge', a, b);

/** a && b (bool; true operands drop out). */
export function and(...conds: readonly Expr[]): Expr {
  const kept = conds.filter((c) => !(c.k === 'lit' && c.v === 1));
  if (kept.some((c) => c.k === 'lit' && c.v === 0)) return bool(false);
  return kept.length === 0 ? bool(true) : kept.reduce((p, q) => node('and', BOOL, [p, q]));
}
/** a || b (bool; false operands drop out). */
export function or(...conds: readonly Expr[]): Expr {
  const kept = conds.filter((c) => !(c.k === 'lit' && c.v === 0));
  if (kept.some((c) => c.k === 'lit' && c.v === 1)) return bool(true);
  return kept.length === 0 ? bool(false) : kept.reduce((p, q) => node('or', BOOL, [p, q]));
}

/** WGSL's select(f, t, c): t where c holds, else f. */
export function select(f: Expr, t: Expr, c: Expr): Expr {
  if (c.k === 'lit') return c.v ? t : f;
  if (c.ty.s !== 'bool') throw new Error('select: condition is not bool');
  return node('select', arithType('select', f, t), [f, t, c]);
}

/** fma(a, b, c) = a·b + c. */
export const fma = (a: Expr, b: Expr, c: Expr): Expr => node('fma', arithType('fma', a, c), [a, b, c]);
/** clamp(x, lo, hi). */
export const clamp = (x: Expr, lo: Expr, hi: Expr): Expr => node('clamp', x.ty, [x, lo, hi]);
/** The dot product of two 4-vectors (f32). */
export const dot = (a: Expr, b: Expr): Expr => node('dot', F32, [a, b]);

// ---------------------------------------------------------------------------------------------
// Conversions and vectors

/** `e` converted to scalar type `s` (same width). */
export function cast(e: Expr, s: Scalar): Expr {
  if (e.ty.s === s) return e;
  if (e.k === 'lit' && s !== 'bool') return literal(s === 'f32' ? e.v : Math.trunc(e.v), s);
  return node('cast', ty(s, e.ty.w), [e]);
}
/** A 4-vector of `e` in every lane. */
export const splat = (e: Expr): Expr => (e.ty.w === 4 ? e : node('splat', ty(e.ty.s, 4), [e]));
/** A 4-vector of four scalars; four lanes of one vector in order are that vector. */
export function vec4(parts: readonly Expr[]): Expr {
  if (parts.length !== 4) throw new Error('vec4 of other than 4 parts');
  const src = parts[0]!.k === 'alu' && parts[0]!.op === 'lane' ? parts[0]!.args[0]! : undefined;
  if (src && parts.every((p, i) => p.k === 'alu' && p.op === 'lane' && p.args[0] === src && litValue(p.args[1]!) === i)) return src;
  return node('vec4', ty(parts[0]!.ty.s, 4), parts);
}
/** Lane `i` of a 4-vector (the component itself when the vector was built from parts or a splat). */
export function lane(v: Expr, i: Operand): Expr {
  if (v.ty.w !== 4) throw new Error('lane of a scalar');
  const ix = asExpr(i);
  if (ix.k === 'lit') {
    if (v.k === 'alu' && v.op === 'vec4') return v.args[ix.v]!;
    if (v.k === 'alu' && v.op === 'splat') return v.args[0]!;
  }
  return node('lane', ty(v.ty.s, 1), [v, ix]);
}
/** The sum of a 4-vector's lanes (x + y + z + w). */
export const laneSum = (v: Expr): Expr => add(add(add(lane(v, 0), lane(v, 1)), lane(v, 2)), lane(v, 3));
/** The largest of a 4-vector's lanes. */
export const laneMax = (v: Expr): Expr => max(max(lane(v, 0), lane(v, 1)), max(lane(v, 2), lane(v, 3)));

// ---------------------------------------------------------------------------------------------
// Subgroups and helpers

/** subgroupBroadcast(v, lane): lane `from`'s value of v in every lane. */
export const sgBroadcast = (v: Expr, from: number): Expr => node('sgBroadcast', v.ty, [v, u32(from)]);
/** subgroupAdd(v). */
export const sgAdd = (v: Expr): Expr => node('sgAdd', v.ty, [v]);
/** subgroupMax(v). */
export const sgMax = (v: Expr): Expr => node('sgMax', v.ty, [v]);

/** A call of a WGSL helper function (scalar f32 result). */
export const call = (fn: Helper, ...args: Expr[]): Expr => ({ k: 'call', ty: F32, fn, args });

// ---------------------------------------------------------------------------------------------
// Indices

/** A multi-dimensional index: one u32 expression per axis. */
export type Index = readonly Expr[];

/** Σ idx[k] · strides[k] + base, simplified. */
export function dotIndex(idx: Index, strides: readonly number[], base = 0): Expr {
  let e = u32(base);
  idx.forEach((x, k) => (e = add(e, mul(x, strides[k]!))));
  return e;
}

/** The index of an axis of extent 1 is 0 whatever expression reached it: one spelling per element. */
export function canonicalIndex(idx: Index, shape: readonly number[]): Index {
  return shape.some((d, k) => d === 1 && !isZero(idx[k]!)) ? idx.map((e, k) => (shape[k] === 1 ? u32(0) : e)) : idx;
}

/** A key equal for two indices exactly when they name the same element the same way. */
export const indexKey = (idx: Index): string => idx.map(exprKey).join(',');
