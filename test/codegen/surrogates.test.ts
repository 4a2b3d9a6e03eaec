// A straightThrough's surrogate shapes gradients only: compiled graphs drop what only the surrogate
// needs (withoutSurrogates, in compileGraph) — FPET's soft matching at inference — and keep it
// where gradients read it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gradients, withoutSurrogates } from '../../src/core/ir/autodiff.ts';
import { checkAgainstReference } from '../support/gpu.ts';
import { randomFeeds } from '../support/random.ts';

/** A hard 0/1 choice with a sigmoid surrogate over a row statistic (FPET's matching in miniature); `t` only feeds the surrogate. */
function hardWithSurrogate(): Graph {
  const b = new GraphBuilder();
  const x = b.param('x', [4, 6], { trainable: true });
  const t = b.input('t', [4, 1]);
  const hard = x.compare('gt', 0).cast('f32');
  const soft = x.sub(x.sum(-1).mul(1 / 6).add(t)).sigmoid();
  const y = hard.straightThrough(soft).mul(x);
  b.output('loss', y.square().sumAll());
  return b.build();
}

test('withoutSurrogates: a forward graph loses the surrogate\'s nodes, keeps its inputs, and computes the same', async () => {
  const g = hardWithSurrogate();
  const fwd = withoutSurrogates(g)!;
  assert.ok(fwd, 'the graph has a straightThrough');
  const ops = fwd.nodes.map((n) => n.op);
  assert.ok(!ops.includes('straightThrough'));
  assert.ok(!ops.includes('sigmoid'), 'the surrogate\'s sigmoid is gone');
  assert.deepEqual(fwd.inputs.map((n) => n.attrs.name), ['t'], 'an input only the surrogate read stays, so the graph is fed as before');
  assert.equal(withoutSurrogates(fwd), undefined, 'nothing left to drop');
  const plan = await checkAgainstReference(g, randomFeeds(g, 1));
  assert.ok(!plan.graph.nodes.some((n) => n.op === 'sigmoid'), 'the compiled plan computes no surrogate');
});

test('withoutSurrogates: in a training graph the surrogate stays where its gradient is read, and gradients match float64', async () => {
  const g = gradients(hardWithSurrogate(), { loss: 'loss' });
  const plan = await checkAgainstReference(g, randomFeeds(g, 2));
  assert.ok(plan.graph.nodes.some((n) => n.op === 'sigmoid'), 'the surrogate is computed for its gradient');
  assert.ok(!plan.graph.nodes.some((n) => n.op === 'straightThrough'));
});
