// Index arithmetic as a small typed expression tree (u32), simplified as it is built and printed
// to WGSL only at the end. Every node knows an exclusive upper bound of its value when one can be
// derived (loop variables and axis indices carry theirs), which is what lets the simplifier drop
// clamps that cannot fire (`min(i, n − 1)` with i < n), modulos that cannot wrap and divisions
// that are always 0: the no-op index arithmetic of naive lowering never reaches the shader.

export type Ix =
  | { readonly k: 'const'; readonly v: number }
  /** A WGSL name (let, loop variable, builtin) with an exclusive upper bound, Infinity if unknown. */
  | { readonly k: 'var'; readonly name: string; readonly bound: number }
  | { readonly k: 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max'; readonly a: Ix; readonly b: Ix };

export type Index = readonly Ix[];

const U32_RANGE = 2 ** 32;

export const lit = (v: number): Ix => {
  if (!Number.isInteger(v) || v < 0 || v >= U32_RANGE) throw new Error(`index constant ${v} is not a u32`);
  return { k: 'const', v };
};
/** A named u32 value known to lie in [0, bound). */
export const ixVar = (name: string, bound = Infinity): Ix => ({ k: 'var', name, bound });
export const ZERO = lit(0);

const isConst = (e: Ix, v?: number): e is { k: 'const'; v: number } => e.k === 'const' && (v === undefined || e.v === v);

/** Exclusive upper bound of e's value (Infinity when unknown). */
export function bound(e: Ix): number {
  switch (e.k) {
    case 'const': return e.v + 1;
    case 'var': return e.bound;
    case 'add': return bound(e.a) + bound(e.b) - 1;
    case 'sub': return bound(e.a);
    case 'mul': return (bound(e.a) - 1) * (bound(e.b) - 1) + 1;
    case 'div': return isConst(e.b) && e.b.v > 0 ? Math.floor((bound(e.a) - 1) / e.b.v) + 1 : bound(e.a);
    case 'mod': return isConst(e.b) ? Math.min(e.b.v, bound(e.a)) : bound(e.a);
    case 'min': return Math.min(bound(e.a), bound(e.b));
    case 'max': return Math.max(bound(e.a), bound(e.b));
  }
}

const asIx = (x: Ix | number): Ix => (typeof x === 'number' ? lit(x) : x);

export function add(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(a) && isConst(b)) return lit(a.v + b.v);
  if (isConst(a, 0)) return b;
  if (isConst(b, 0)) return a;
  if (isConst(a)) return add(b, a); // constants to the right
  // (x + c1) + c2 = x + (c1 + c2)
  if (isConst(b) && a.k === 'add' && isConst(a.b)) return add(a.a, a.b.v + b.v);
  return { k: 'add', a, b };
}

export function sub(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(a) && isConst(b) && a.v >= b.v) return lit(a.v - b.v);
  if (isConst(b, 0)) return a;
  // (x + c1) − c2 with c1 ≥ c2
  if (isConst(b) && a.k === 'add' && isConst(a.b) && a.b.v >= b.v) return add(a.a, a.b.v - b.v);
  return { k: 'sub', a, b };
}

export function mul(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(a) && isConst(b)) return lit(a.v * b.v);
  if (isConst(a)) return mul(b, a);
  if (isConst(b, 0)) return ZERO;
  if (isConst(b, 1)) return a;
  if (bound(a) === 1) return ZERO;
  return { k: 'mul', a, b };
}

export function div(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(b, 1)) return a;
  if (isConst(a) && isConst(b) && b.v > 0) return lit(Math.floor(a.v / b.v));
  if (isConst(b) && bound(a) <= b.v) return ZERO;
  if (isConst(b) && b.v > 0 && a.k === 'add') {
    // (Σ aᵢ·cᵢ + r) / d with every cᵢ a multiple of g, d a multiple of g and r < g:
    // = (Σ aᵢ·(cᵢ/g)) / (d/g)   (floor division; the remainder never carries).
    const { scaled, rest } = splitTerms(a);
    for (const g of candidateFactors(scaled, b.v)) {
      const big = scaled.filter((t) => t.c % g === 0), small = [...rest, ...scaled.filter((t) => t.c % g !== 0).map(term)];
      if (!big.length || bound(sum(small)) > g) continue;
      return div(sum(big.map((t) => mul(t.a, t.c / g))), b.v / g);
    }
  }
  return { k: 'div', a, b };
}

export function mod(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(b, 1)) return ZERO;
  if (isConst(a) && isConst(b) && b.v > 0) return lit(a.v % b.v);
  if (isConst(b) && bound(a) <= b.v) return a;
  if (isConst(b) && b.v > 0 && a.k === 'add') {
    // Terms that are multiples of d drop out: (Σ aᵢ·d·kᵢ + r) % d = r % d.
    const { scaled, rest } = splitTerms(a);
    const kept = [...rest, ...scaled.filter((t) => t.c % b.v !== 0).map(term)];
    if (kept.length < rest.length + scaled.length) return mod(sum(kept), b);
  }
  return { k: 'mod', a, b };
}

/** A sum's terms: those with a constant factor (a·c, or a constant c with a = 1) and the rest. */
function splitTerms(e: Ix): { scaled: { a: Ix; c: number }[]; rest: Ix[] } {
  const scaled: { a: Ix; c: number }[] = [], rest: Ix[] = [];
  const visit = (t: Ix) => {
    if (t.k === 'add') {
      visit(t.a);
      visit(t.b);
    } else if (t.k === 'mul' && isConst(t.b)) scaled.push({ a: t.a, c: t.b.v });
    else if (t.k === 'const') scaled.push({ a: lit(1), c: t.v });
    else rest.push(t);
  };
  visit(e);
  return { scaled, rest };
}

const term = (t: { a: Ix; c: number }): Ix => mul(t.a, t.c);
const sum = (ts: readonly Ix[]): Ix => ts.reduce<Ix>((s, t) => add(s, t), ZERO);

/** Divisors g of d worth trying as the common factor (largest first): d itself, then the gcds with d. */
function candidateFactors(scaled: readonly { c: number }[], d: number): number[] {
  const gcd = (p: number, q: number): number => (q === 0 ? p : gcd(q, p % q));
  const out = new Set<number>([d]);
  for (const t of scaled) if (t.c > 0) out.add(gcd(t.c, d));
  return [...out].filter((g) => g > 1).sort((p, q) => q - p);
}

export function min(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(a) && isConst(b)) return lit(Math.min(a.v, b.v));
  if (isConst(a)) return min(b, a);
  if (isConst(b) && bound(a) <= b.v + 1) return a;
  return { k: 'min', a, b };
}

export function max(x: Ix | number, y: Ix | number): Ix {
  const a = asIx(x), b = asIx(y);
  if (isConst(a) && isConst(b)) return lit(Math.max(a.v, b.v));
  if (isConst(a)) return max(b, a);
  if (isConst(b, 0)) return a; // u32 is never below 0
  return { k: 'max', a, b };
}

/** Σ idx[k] · strides[k] + base, simplified. */
export function dot(idx: Index, strides: readonly number[], base = 0): Ix {
  let e: Ix = lit(base);
  idx.forEach((x, k) => (e = add(e, mul(x, strides[k]!))));
  return e;
}

const PREC: Record<Ix['k'], number> = { const: 9, var: 9, min: 9, max: 9, mul: 6, div: 6, mod: 6, add: 5, sub: 5 };

/** WGSL source of e (u32 arithmetic). */
export function printIx(e: Ix): string {
  switch (e.k) {
    case 'const': return `${e.v}u`;
    case 'var': return e.name;
    case 'min': case 'max': return `${e.k}(${printIx(e.a)}, ${printIx(e.b)})`;
    default: {
      const op = { add: '+', sub: '-', mul: '*', div: '/', mod: '%' }[e.k];
      const p = PREC[e.k];
      const left = PREC[e.a.k] < p ? `(${printIx(e.a)})` : printIx(e.a);
      // Right operands of -, /, % (and anything of lower precedence) need parentheses.
      const rightTight = e.k === 'add' || e.k === 'mul' ? PREC[e.b.k] < p : PREC[e.b.k] <= p && e.b.k !== 'const' && e.b.k !== 'var';
      const right = rightTight ? `(${printIx(e.b)})` : printIx(e.b);
      return `${left} ${op} ${right}`;
    }
  }
}

export const printIndex = (idx: Index): string => idx.map(printIx).join(', ');

/** The index of an axis of extent 1 is 0 whatever expression reached it: one spelling per element. */
export function canonicalIndex(idx: Index, shape: readonly number[]): Index {
  return shape.some((d, k) => d === 1 && !isZero(idx[k]!)) ? idx.map((e, k) => (shape[k] === 1 ? ZERO : e)) : idx;
}
export const isZero = (e: Ix): boolean => isConst(e, 0);
export const constValue = (e: Ix): number | undefined => (e.k === 'const' ? e.v : undefined);
