// For every differentiable op: fast-check properties over random shapes and values comparing the
// autodiff gradient with central finite differences, both in float64 through the reference
// interpreter. The table is a Record over OpName, so a new op without a case does not compile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Tensor } from '../../src/core/ir/graph.ts';
import type { OpName } from '../../src/core/ir/ops.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { checkGradients } from '../../src/core/ir/gradcheck.ts';
import { fcParams, randInt, rngFrom, shapeArb, uniform, type Rng } from '../support/random.ts';

interface GradCase {
  /** Shapes of the float inputs that receive gradients, plus any other attributes the case draws. */
  readonly arb: fc.Arbitrary<{ shapes: number[][]; extra?: number[] }>;
  /** Maps a uniform value in [-2, 2] into the op's smooth domain. */
  readonly domain?: (v: number) => number;
  readonly build: (xs: Tensor[], rng: Rng, extra: number[]) => Tensor;
  /** The surrogate the gradient must equal (straight-through estimators). */
  readonly fd?: (xs: Tensor[], rng: Rng, extra: number[]) => Tensor;
}

const positive = (v: number) => 0.5 + Math.abs(v) * 0.75;
const awayFromZero = (v: number) => Math.sign(v || 1) * (0.05 + Math.abs(v));

const one = (maxRank = 3) => shapeArb(1, maxRank).map((s) => ({ shapes: [s] }));
const withAxis = shapeArb(1, 3).chain((s) => fc.nat(s.length - 1).map((axis) => ({ shapes: [s], extra: [axis] })));
/** Two shapes that broadcast: some axes set to 1, sometimes a dropped leading axis. */
const broadcastPair = fc
  .tuple(shapeArb(1, 3), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), fc.boolean())
  .map(([s, ma, mb, drop]) => {
    const a = s.map((d, i) => (ma[i] === 0 ? 1 : d));
    let b = s.map((d, i) => (mb[i] === 0 && ma[i] !== 0 ? 1 : d));
    if (drop && b.length > 1) b = b.slice(1);
    return { shapes: [a, b] };
  });

const unaryCase = (f: (t: Tensor) => Tensor, domain?: (v: number) => number): GradCase => ({ arb: one(), domain, build: ([x]) => f(x!) });
const binaryCase = (f: (a: Tensor, b: Tensor) => Tensor, domain?: (v: number) => number): GradCase => ({ arb: broadcastPair, domain, build: ([a, b]) => f(a!, b!) });

const CASES: Record<OpName, GradCase | string> = {
  input: 'leaf', param: 'leaf (the variables we differentiate by)', fill: 'constant leaf', constant: 'constant leaf',
  neg: unaryCase((x) => x.neg()),
  exp: unaryCase((x) => x.exp()),
  log: unaryCase((x) => x.log(), positive),
  sqrt: unaryCase((x) => x.sqrt(), positive),
  rsqrt: unaryCase((x) => x.rsqrt(), positive),
  recip: unaryCase((x) => x.recip(), positive),
  tanh: unaryCase((x) => x.tanh()),
  erf: unaryCase((x) => x.erf()),
  relu: unaryCase((x) => x.relu(), awayFromZero),
  sigmoid: unaryCase((x) => x.sigmoid()),
  sign: 'piecewise constant: zero gradient almost everywhere, so no VJP',
  abs: unaryCase((x) => x.abs(), awayFromZero),
  add: binaryCase((a, b) => a.add(b)),
  sub: binaryCase((a, b) => a.sub(b)),
  mul: binaryCase((a, b) => a.mul(b)),
  div: binaryCase((a, b) => a.div(b.abs().add(0.5))),
  max: binaryCase((a, b) => a.maximum(b)),
  min: binaryCase((a, b) => a.minimum(b)),
  compare: 'piecewise constant 0/1 output',
  select: {
    arb: broadcastPair,
    build: ([a, b], rng) => {
      const shape = a!.b.op('add', [a!, b!], {}).shape;
      const mask = a!.b.constant(uniform(rng, numel(shape), 0, 1).map((v) => +(v > 0.5)), shape);
      return mask.select(a!, b!);
    },
  },
  cast: 'changes dtype (integer results carry no gradient)',
  sum: { arb: withAxis, build: ([x], _r, [axis]) => x!.sum(axis!) },
  reduceMax: { arb: withAxis, build: ([x], _r, [axis]) => x!.max(axis!) },
  topk: 'integer output (indices)',
  attentionBackward: 'a backward pass itself (no second derivatives): test/ir/attention.test.ts checks the gradients it gives against finite differences',
  matmul: {
    arb: fc
      .tuple(shapeArb(0, 2, 3), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.nat(3))
      .map(([batch, m, k, n, mode]) => {
        // mode: 0 same batch, 1 a broadcasts (1s), 2 b has no batch axes, 3 a has no batch axes
        const ones = batch.map(() => 1);
        const ab = mode === 1 ? ones : mode === 3 ? [] : batch;
        const bb = mode === 2 ? [] : batch;
        return { shapes: [[...ab, m, k], [...bb, k, n]] };
      }),
    build: ([a, b]) => a!.matmul(b!),
  },
  reshape: {
    arb: shapeArb(1, 3).chain((s) => fc.nat(2).map((mode) => ({ shapes: [s], extra: [mode] }))),
    build: ([x], _r, [mode]) => x!.reshape(mode === 0 ? [x!.size] : mode === 1 ? [...x!.shape].reverse() : [1, ...x!.shape, 1]),
  },
  permute: {
    arb: shapeArb(1, 4).chain((s) => fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length }).map((perm) => ({ shapes: [s], extra: perm }))),
    build: ([x], _r, perm) => x!.permute(perm),
  },
  slice: {
    arb: shapeArb(1, 3, 5).chain((s) => fc.tuple(...s.map((d) => fc.tuple(fc.nat(d - 1), fc.nat(d - 1)))).map((r) => ({ shapes: [s], extra: r.flat() }))),
    build: ([x], _r, e) => x!.slice(x!.shape.map((d, i) => {
      const s = Math.min(e[2 * i]!, e[2 * i + 1]!), len = Math.abs(e[2 * i]! - e[2 * i + 1]!) + 1;
      return [s, Math.min(d, s + len)] as const;
    })),
  },
  pad: {
    arb: shapeArb(1, 3).chain((s) => fc.array(fc.nat(2), { minLength: 2 * s.length, maxLength: 2 * s.length }).map((p) => ({ shapes: [s], extra: p }))),
    build: ([x], _r, p) => x!.pad(p.slice(0, x!.rank), p.slice(x!.rank)),
  },
  concat: {
    arb: fc.tuple(shapeArb(1, 3), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(2)).map(([s, lens, ax]) => {
      const axis = ax % s.length;
      return { shapes: lens.map((l) => s.map((d, i) => (i === axis ? l : d))), extra: [axis] };
    }),
    build: (xs, _r, [axis]) => xs[0]!.b.concat(xs, axis!),
  },
  broadcast: {
    arb: fc.tuple(shapeArb(1, 3), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 3 })).map(([s, ones, lead]) => ({
      shapes: [s.map((d, i) => (ones[i] ? 1 : d))],
      extra: [...(lead ? [lead] : []), ...s],
    })),
    build: ([x], _r, target) => x!.broadcastTo(target),
  },
  gather: {
    // x: [P, N, S], idx: [P or 1, M]
    arb: fc.tuple(shapeArb(0, 2, 3), fc.integer({ min: 1, max: 5 }), shapeArb(0, 1, 3), fc.integer({ min: 1, max: 6 }), fc.boolean())
      .map(([p, n, s, m, bcast]) => ({ shapes: [[...p, n, ...s]], extra: [p.length, m, +bcast] })),
    build: ([x], rng, [axis, m, bcast]) => {
      const prefix = x!.shape.slice(0, axis).map((d) => (bcast ? 1 : d));
      const n = x!.shape[axis!]!;
      const idx = x!.b.constant(Array.from({ length: numel(prefix) * m! }, () => randInt(rng, n)), [...prefix, m!], 'i32');
      return x!.gather(idx, axis!);
    },
  },
  scatterAdd: {
    arb: fc.tuple(shapeArb(0, 2, 3), fc.integer({ min: 1, max: 6 }), shapeArb(0, 1, 3), fc.integer({ min: 1, max: 5 }), fc.boolean())
      .map(([p, m, s, size, bcast]) => ({ shapes: [[...p, m, ...s]], extra: [p.length, size, +bcast] })),
    build: ([x], rng, [axis, size, bcast]) => {
      const prefix = x!.shape.slice(0, axis).map((d) => (bcast ? 1 : d));
      const m = x!.shape[axis!]!;
      const idx = x!.b.constant(Array.from({ length: numel(prefix) * m }, () => randInt(rng, size!)), [...prefix, m], 'i32');
      return x!.scatterAdd(idx, axis!, size!);
    },
  },
  rand: 'random numbers: no gradient',
  stopGradient: 'gradient is zero by definition (checked in autodiff.test.ts)',
  straightThrough: {
    arb: one(),
    build: ([x]) => x!.sign().mul(1.5).straightThrough(x!.sigmoid()),
    fd: ([x]) => x!.sigmoid(),
  },
};

/** Builds loss = Σ op(params) ⊙ W for random W and checks every parameter's gradient. */
function checkCase(c: GradCase, shapes: number[][], extra: number[], seed: number) {
  const make = (f: (xs: Tensor[], rng: Rng, extra: number[]) => Tensor) => {
    const b = new GraphBuilder();
    const xs = shapes.map((s, i) => b.param(`x${i}`, s, { trainable: true }));
    const rng = rngFrom(seed);
    const y = f(xs, rng, extra);
    const w = b.constant(uniform(rngFrom(seed + 1), y.size), y.shape);
    b.output('loss', y.mul(w).sumAll());
    return b.build();
  };
  const vrng = rngFrom(seed + 2);
  const feeds = Object.fromEntries(shapes.map((s, i) => [`x${i}`, uniform(vrng, numel(s)).map(c.domain ?? ((v) => v))]));
  return checkGradients(make(c.build), feeds, { loss: 'loss', fdGraph: c.fd ? make(c.fd) : undefined });
}

let totalCases = 0;
for (const [op, c] of Object.entries(CASES) as [OpName, GradCase | string][]) {
  if (typeof c === 'string') continue;
  test(`gradient of ${op} matches central finite differences`, () => {
    fc.assert(
      fc.property(c.arb, fc.integer({ min: 1, max: 2 ** 30 }), ({ shapes, extra }, seed) => {
        totalCases++;
        const r = checkCase(c, shapes, extra ?? [], seed);
        assert.ok(r.ok, `${op} shapes=${JSON.stringify(shapes)} extra=${JSON.stringify(extra)}: max error ${r.maxError} at ${JSON.stringify(r.worst)}`);
      }),
      fcParams(100),
    );
  });
}

test('every op is either gradient-checked or has a stated reason', () => {
  const skipped = Object.entries(CASES).filter(([, c]) => typeof c === 'string');
  const checked = Object.keys(CASES).length - skipped.length;
  console.log(`ops: ${Object.keys(CASES).length} total, ${checked} differentiable and property-checked, ${totalCases} gradient cases run; no VJP: ${skipped.map(([k]) => k).join(', ')}`);
  assert.ok(checked >= 25);
});
