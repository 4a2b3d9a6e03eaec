// Shape inference errors, reference semantics of the indexing ops, and autodiff's promises
// (frozen parameters get no gradient work, stop-gradient cuts, composites are right).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { gradients, gradName } from '../../src/core/ir/autodiff.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { erf64 } from '../../src/core/ir/ops.ts';
import { ShapeError } from '../../src/core/ir/shape.ts';
import { checkGradients } from '../../src/core/ir/gradcheck.ts';
import { crossEntropy, gelu, layerNorm, linear, logSoftmax, softmax } from '../../src/core/ir/nn.ts';
import { fcParams, rngFrom, shapeArb, uniform } from '../support/random.ts';

test('shape errors name the op and both shapes', () => {
  const b = new GraphBuilder();
  const a = b.input('a', [2, 3]);
  const c = b.input('c', [4, 5]);
  assert.throws(() => a.matmul(c), (e: Error) => e instanceof ShapeError && /matmul/.test(e.message) && /\[2,3\]/.test(e.message) && /\[4,5\]/.test(e.message));
  assert.throws(() => a.add(b.input('d', [4])), (e: Error) => e instanceof ShapeError && /add: shapes \[2,3\] and \[4\] do not broadcast/.test(e.message));
  assert.throws(() => a.reshape([5]), /reshape: cannot reshape \[2,3\] to \[5\]/);
  assert.throws(() => a.permute([0, 0]), /permute: \[0,0\] is not a permutation/);
  assert.throws(() => a.slice([[1, 1], null]), /slice: range \[1,1\) is empty/);
  assert.throws(() => a.sum(2), /sum: axis 2 is out of range for a rank-2 tensor/);
  assert.throws(() => a.topk(4), /topk: k=4 must be in 1..3/);
  assert.throws(() => a.gather(a, 1), /gather: indices must be i32 or u32/);
  assert.throws(() => a.gather(b.input('i', [3, 2], 'i32'), 1), /gather: indices \[3,2\] must be \[...prefix, M\]/);
  assert.throws(() => b.concat([a, c], 0), /concat: f32\[2,3\] and f32\[4,5\] differ outside axis 0/);
  assert.throws(() => b.input('a', [1]), /name "a" is already used/);
  assert.throws(() => a.straightThrough(c), /straightThrough: value \[2,3\] and surrogate \[4,5\]/);
});

test('interpreter rejects missing or mis-sized feeds by name', () => {
  const b = new GraphBuilder();
  b.output('y', b.input('x', [2, 2]).exp());
  const g = b.build();
  assert.throws(() => evaluate(g, {}), /input "x" \(f32\[2,2\]\) was not given a value/);
  assert.throws(() => evaluate(g, { x: [1, 2, 3] }), /input "x" expects 4 values for f32\[2,2\], got 3/);
});

test('reference semantics: topk, gather with broadcast indices, scatterAdd, pad, concat', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 4]);
  b.output('top', x.topk(2));
  b.output('arg', x.argmax());
  const idx = b.constant([3, 0, 3], [1, 3], 'i32');
  b.output('gat', x.gather(idx, 1));
  b.output('sca', x.scatterAdd(b.constant([1, 1, 0, 2], [1, 4], 'i32'), 1, 3));
  b.output('pad', x.narrow(1, 1, 2).pad([0, 1], [1, 0]));
  b.output('cat', b.concat([x, x.narrow(1, 0, 1)], 1));
  const o = evaluate(b.build(), { x: [1, 5, 5, 2, 9, 0, -1, 3] }).outputs;
  assert.deepEqual([...o.top!.data], [1, 2, 0, 3]); // ties -> lower index first
  assert.deepEqual([...o.arg!.data], [1, 0]);
  assert.deepEqual([...o.gat!.data], [2, 1, 2, 3, 9, 3]);
  assert.deepEqual([...o.sca!.data], [5, 6, 2, -1, 9, 3]);
  assert.deepEqual(o.pad!.shape, [3, 3]);
  assert.deepEqual([...o.pad!.data], [0, 5, 5, 0, 0, -1, 0, 0, 0]);
  assert.deepEqual([...o.cat!.data], [1, 5, 5, 2, 1, 9, 0, -1, 3, 9]);
});

test('erf64 is accurate to float64 (reference for exact GELU)', () => {
  const known: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [0.01, 0.011283415555849618]];
  for (const [x, v] of known) assert.ok(Math.abs(erf64(x) - v) < 1e-15, `erf(${x}) = ${erf64(x)}, expected ${v}`);
});

test('frozen parameters get no gradient work', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 8]);
  const frozen = b.param('frozen', [8, 8]);
  const trained = b.param('trained', [8, 3], { trainable: true });
  b.output('loss', x.matmul(frozen).relu().matmul(trained).sumAll());
  const g = b.build();
  const back = gradients(g, { loss: 'loss' });
  assert.deepEqual([...back.outputs.keys()], ['loss', gradName('trained')]);
  // forward: 2 matmuls; backward: only hᵀ·dy for `trained` — no dx or d(frozen) matmul.
  assert.equal(back.nodes.filter((n) => n.op === 'matmul').length, 3);
  assert.equal(back.nodes.filter((n) => n.op === 'relu').length, 1);
  assert.equal(back.nodes.some((n) => n.op === 'compare'), false, 'the relu VJP must not be built');
  assert.throws(() => gradients(g, { loss: 'loss', wrt: ['nope'] }), /no parameter named "nope" \(parameters: frozen, trained\)/);
});

test('stopGradient cuts the path; a disconnected parameter gets zeros', () => {
  const b = new GraphBuilder();
  const p = b.param('p', [3], { trainable: true });
  const q = b.param('q', [3], { trainable: true });
  b.param('unused', [2], { trainable: true });
  b.output('loss', p.mul(p.stopGradient()).add(q.stopGradient()).sumAll());
  const g = gradients(b.build(), { loss: 'loss', wrt: ['p', 'q'] });
  const o = evaluate(g, { p: [1, 2, 3], q: [4, 5, 6] }).outputs;
  assert.deepEqual([...o[gradName('p')]!.data], [1, 2, 3]);
  assert.deepEqual([...o[gradName('q')]!.data], [0, 0, 0]);
});

test('composite layers: linear, layerNorm, gelu, softmax, logSoftmax, crossEntropy gradients (property)', () => {
  fc.assert(
    fc.property(shapeArb(1, 2, 3), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2 ** 30 }), (lead, din, dout, seed) => {
      const b = new GraphBuilder();
      const x = b.param('x', [...lead, din], { trainable: true });
      const w = b.param('w', [dout, din], { trainable: true });
      const bias = b.param('bias', [dout], { trainable: true });
      const lw = b.param('lw', [dout], { trainable: true });
      const lb = b.param('lb', [dout], { trainable: true });
      const h = gelu(layerNorm(linear(x, w, bias), lw, lb, 1e-5));
      const rows = h.size / dout;
      const flat = h.reshape([rows, dout]);
      const rng = rngFrom(seed);
      const onehot = Array.from({ length: rows * dout }, (_, i) => +(i % dout === Math.floor(rng() * dout)));
      const ce = crossEntropy(flat, b.constant(onehot, [rows, dout]));
      const extra = softmax(flat).mul(b.constant(uniform(rng, rows * dout), [rows, dout])).sumAll();
      const ls = logSoftmax(flat, 0).mul(b.constant(uniform(rng, rows * dout), [rows, dout])).sumAll();
      b.output('loss', ce.add(extra).add(ls));
      const vr = rngFrom(seed + 7);
      const feeds = { x: uniform(vr, x.size), w: uniform(vr, w.size), bias: uniform(vr, dout), lw: uniform(vr, dout), lb: uniform(vr, dout) };
      const r = checkGradients(b.build(), feeds, { loss: 'loss' });
      // layerNorm of a single feature is degenerate (variance ~eps): looser but still tight tolerance.
      assert.ok(r.maxError < (dout === 1 ? 1e-4 : 1e-6), `lead=${lead} din=${din} dout=${dout}: ${JSON.stringify(r)}`);
    }),
    fcParams(60),
  );
});

test('Graph.fromParameters: parameters and what is computed elementwise from them and constants; frozen ones only when asked', () => {
  const b = new GraphBuilder();
  const w = b.param('w', [4, 3]), g = b.param('g', [3], { trainable: true }), x = b.input('x', [2, 3]);
  const scaled = w.mul(g.reshape([1, 3])).transpose();
  b.output('scaled', scaled);
  b.output('y', x.matmul(scaled));
  b.output('frozen', w.mul(2).add(b.scalar(1)));
  b.output('s', w.sum(0));
  const graph = b.build();
  const at = (name: string) => graph.outputs.get(name)!;
  assert.equal(graph.fromParameters(at('scaled')), true, 'a weight scaled by a parameter');
  assert.equal(graph.fromParameters(at('scaled'), true), false, 'g is trainable');
  assert.equal(graph.fromParameters(at('frozen'), true), true, 'frozen weight and constants');
  assert.equal(graph.fromParameters(at('y')), false, 'reads an input');
  assert.equal(graph.fromParameters(at('s')), false, 'a reduction is not elementwise');
});
