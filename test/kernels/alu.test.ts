// Index arithmetic of the kernel IR (kernels/alu.ts): the simplifier's rewrites (constant folding, clamps and modulos dropped by
// bounds, and the division/modulo of sums with a common factor: (r·64 + k) / 64 = r for k < 64)
// keep the value of every expression, for every assignment of its variables within their bounds.
// Also the tree pieces around it: dead-code elimination of lets and accumulating vars, and binding
// lengths (how kernels read row counts at run time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { add, bound, cast, compare, div, f32, length, local, lowest, max, min, mod, mul, sub, u32 } from '../../kernels/alu.ts';
import { Buf, exprKey, F32, Local, restartInterning, restartInterningIfFull, U32, type Expr, type Stmt } from '../../kernels/ir.ts';
import { dce } from '../../codegen/passes/dce.ts';
import { treeText } from '../../codegen/dump.ts';
import { renderKernel } from '../../codegen/render.ts';

import { fcParams } from '../support/random.ts';

const VARS = ['x0', 'x1', 'x2', 'x3', 'r', 'k', 'j'].map((n) => new Local(n, U32, 'let'));
const ixVar = (name: string, b: number, low = 0): Expr => local(VARS.find((x) => x.hint === name)!, b, low);
const lit = u32;

/** The value of an index expression for values of its locals. */
function evalIx(e: Expr, env: Record<string, number>): number {
  if (e.k === 'lit') return e.v;
  if (e.k === 'local') return env[e.x.hint]!;
  if (e.k !== 'alu') throw new Error(`not an index expression: ${e.k}`);
  const [a, b] = e.args.map((x) => evalIx(x, env)) as [number, number];
  switch (e.op) {
    case 'add': return a + b;
    case 'sub': return (a - b) >>> 0; // u32 wraps
    case 'mul': return a * b;
    case 'div': return Math.floor(a / b);
    case 'mod': return a % b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    default: throw new Error(`not an index op: ${e.op}`);
  }
}

/** A short text of an index expression (locals by hint), for the assertions below. */
function printIx(e: Expr, prec = 0): string {
  if (e.k === 'lit') return `${e.v}u`;
  if (e.k === 'local') return e.x.hint;
  if (e.k !== 'alu') return '?';
  const [a, b] = e.args as [Expr, Expr];
  if (e.op === 'min' || e.op === 'max') return `${e.op}(${printIx(a)}, ${printIx(b)})`;
  const p = e.op === 'add' || e.op === 'sub' ? 5 : 6;
  const op = { add: '+', sub: '-', mul: '*', div: '/', mod: '%' }[e.op as 'add'];
  const text = `${printIx(a, p)} ${op} ${printIx(b, p + 1)}`;
  return p < prec ? `(${text})` : text;
}

/** Random expression trees over variables x0..x2 with small bounds; `raw` evaluates without simplification. */
type Tree = { op: 'var'; i: number } | { op: 'const'; v: number } | { op: 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max'; a: Tree; b: Tree | number };
// x3 lies in [8, 40): a loop counter offset into one part of a concatenation.
const BOUNDS = [3, 16, 64, 40];
const LOWS = [0, 0, 0, 8];
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ op: fc.constant('var' as const), i: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('const' as const), v: fc.integer({ min: 0, max: 70 }) }),
    fc.record({ op: fc.constantFrom('add' as const, 'min' as const, 'max' as const), a: tie('t'), b: tie('t') }),
    fc.record({ op: fc.constantFrom('mul' as const, 'div' as const, 'mod' as const), a: tie('t'), b: fc.constantFrom(1, 2, 4, 8, 16, 50, 64, 128, 3200) }),
    fc.record({ op: fc.constant('sub' as const), a: tie('t'), b: fc.constantFrom(0, 1, 4, 8, 9, 64) }),
  ),
})).t;

function build(t: Tree): { e: Expr; raw: (env: number[]) => number } {
  switch (t.op) {
    case 'var': return { e: ixVar(`x${t.i}`, BOUNDS[t.i]!, LOWS[t.i]), raw: (env) => env[t.i]! };
    case 'const': return { e: lit(t.v), raw: () => t.v };
    default: {
      const a = build(t.a);
      const b = typeof t.b === 'number' ? { e: lit(t.b), raw: () => t.b as number } : build(t.b);
      const f = { add, sub, mul, div, mod, min, max }[t.op];
      const g = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => (x - y) >>> 0, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => Math.floor(x / y), mod: (x: number, y: number) => x % y, min: Math.min, max: Math.max }[t.op];
      return { e: f(a.e, b.e), raw: (env) => g(a.raw(env), b.raw(env)) };
    }
  }
}

const wraps = (t: Tree, xs: number[]): boolean =>
  t.op !== 'var' && t.op !== 'const' && (wraps(t.a, xs) || (typeof t.b !== 'number' && wraps(t.b, xs)) || (t.op === 'sub' && build(t.a).raw(xs) < (typeof t.b === 'number' ? t.b : build(t.b).raw(xs))));

test('index simplification keeps values for all variables within their bounds (upper, and lower ones: a part of a concatenation)', () => {
  fc.assert(
    fc.property(treeArb, fc.tuple(fc.nat(2), fc.nat(15), fc.nat(63), fc.integer({ min: 8, max: 39 })), fc.constantFrom(0, 1, 8, 9, 40, 64), (t, xs, c) => {
      const { e, raw } = build(t);
      const env = { x0: xs[0], x1: xs[1], x2: xs[2], x3: xs[3] };
      const want = raw(xs);
      // Index subtractions never wrap (the simplifier assumes so: sub keeps its minuend's bound).
      if (!wraps(t, xs)) {
        assert.equal(evalIx(e, env), want, `${JSON.stringify(t)} -> ${printIx(e)} at ${JSON.stringify(env)}`);
        assert.ok(want < bound(e), `${printIx(e)} = ${want} at ${JSON.stringify(env)} is not below its bound ${bound(e)}`);
        assert.ok(want >= lowest(e), `${printIx(e)} = ${want} at ${JSON.stringify(env)} is below its lower bound ${lowest(e)}`);
        // Comparisons the bounds decide are decided right.
        for (const op of ['ge', 'lt'] as const) {
          const folded = compare(op, e, c);
          if (folded.k === 'lit') assert.equal(folded.v === 1, op === 'ge' ? want >= c : want < c, `${printIx(e)} ${op} ${c} folded to ${folded.v} at ${JSON.stringify(env)}`);
        }
      }
    }),
    fcParams(3000),
  );
});

test('division and modulo of sums with a common factor simplify', () => {
  const r = ixVar('r', 100), k = ixVar('k', 64), j = ixVar('j', 4);
  assert.equal(printIx(div(add(mul(r, 64), k), 64)), 'r');
  assert.equal(printIx(mod(add(mul(r, 64), k), 64)), 'k');
  assert.equal(printIx(div(add(mul(r, 64), k), 3200)), 'r / 50u');
  assert.equal(printIx(mod(div(add(mul(r, 64), k), 64), 50)), 'r % 50u');
  // (4j + 1) / 4 = j only while the remainder stays below the factor; not so for k < 64 over 4.
  assert.equal(printIx(div(add(mul(j, 4), 1), 4)), 'j');
  assert.notEqual(printIx(div(add(mul(r, 4), k), 4)), 'r');
  assert.equal(printIx(sub(add(r, 5), 2)), 'r + 3u');
});

test('expression keys made before the intern table restarts never equal keys made after it', () => {
  // The builder's memo keeps keys across a restart (the table restarts when it grows past its
  // limit, in the middle of a long compile): a new expression must not find an old one's entry.
  restartInterning();
  const i = new Local('i', U32, 'let');
  const before = new Set([exprKey(add(local(i, 100), 1)), exprKey(mul(local(i, 100), 3))]);
  restartInterning();
  const j = new Local('j', U32, 'let');
  for (let c = 1; c < 500; c++) {
    const key = exprKey(add(mul(local(j, 100), c), 7));
    assert.ok(!before.has(key), `key ${key} of a new expression equals one made before the restart`);
  }
});

test('the intern table restarts between kernels only once it is full (the code generator calls restartInterningIfFull there)', () => {
  restartInterning();
  const i = new Local('i', U32, 'let');
  for (let c = 1; c < 50; c++) exprKey(add(local(i, 100), c));
  const before = exprKey(mul(local(i, 100), 3));
  assert.equal(restartInterningIfFull(), false, 'far below the limit: the table is kept');
  assert.equal(exprKey(mul(local(i, 100), 3)), before, 'keys stay valid');
  assert.equal(restartInterningIfFull(10), true, 'past a limit: the table starts afresh');
  assert.equal(restartInterningIfFull(10), false, 'and is then small again');
});

test('dead code: a var only its own updates read is dropped with them and what they alone read; a var read elsewhere stays', () => {
  const x = new Local('x', F32, 'let'), dead = new Local('sum', F32, 'var'), live = new Local('acc', F32, 'var'), i = new Local('i', U32, 'loop');
  const out = new Buf('storage', 'buf', F32, undefined, 0);
  const body: Stmt[] = [
    { k: 'let', x, value: f32(2) },
    { k: 'var', x: dead, init: f32(0) },
    { k: 'var', x: live, init: f32(0) },
    {
      k: 'loop', x: i, from: u32(0), to: u32(4), step: u32(1), body: [
        { k: 'assign', x: dead, value: add(local(dead), local(x)) },
        { k: 'assign', x: live, value: add(local(live), f32(1)) },
      ],
    },
    { k: 'store', buf: out, at: u32(0), value: local(live) },
  ];
  const ir = dce({ body, storage: [out], moduleArrays: [], workgroupSize: [1, 1, 1], enables: [] });
  const text = treeText(ir);
  assert.doesNotMatch(text, /sum/, 'the accumulation nothing reads is gone');
  assert.doesNotMatch(text, /let x/, 'the let only it read is gone');
  assert.match(text, /var acc/);
  assert.match(text, /assign acc/);
});

test('length: a binding length renders as arrayLength and keys by its buffer', () => {
  const a = new Buf('storage', 'buf', F32, undefined, 1), b = new Buf('storage', 'buf', F32, undefined, 2);
  assert.equal(exprKey(length(a)), exprKey(length(a)));
  assert.notEqual(exprKey(length(a)), exprKey(length(b)));
  assert.equal(bound(length(a)), Infinity, 'a length is known at run time only');
  const { source } = renderKernel({ body: [{ k: 'store', buf: a, at: u32(0), value: cast(length(b), 'f32') }], storage: [a, b], moduleArrays: [], workgroupSize: [1, 1, 1], enables: [] });
  assert.match(source, /arrayLength\(&buf1\)/);
});
