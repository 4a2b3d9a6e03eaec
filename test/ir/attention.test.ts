// Softmax attention's fused backward (src/core/ir/attention.ts, op attentionBackward) in float64:
// against the primitive rules of the same graph (an independent derivation: the chain rule through
// matmul, softmax and the bias) and against central finite differences, over random shapes, head
// dims and biases (none, constant, trainable; per key or per query and key).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradName, gradients } from '../../src/core/ir/autodiff.ts';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { checkGradients } from '../../src/core/ir/gradcheck.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { softmax } from '../../src/core/ir/nn.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

type BiasKind = 'none' | 'constant' | 'trainable' | 'perQuery';

interface Case { B: number; H: number; nq: number; nk: number; d: number; dv: number; bias: BiasKind; scale: number; seed: number }

/** softmax(scale·Q·Kᵀ + bias)·V as models/vit.ts writes it, under a random linear loss. */
function attentionGraph(c: Case): Graph {
  const b = new GraphBuilder();
  const P = (name: string, shape: number[], trainable = true) => b.param(name, shape, { trainable });
  const q = P('q', [c.B, c.H, c.nq, c.d]), k = P('k', [c.B, c.H, c.nk, c.d]), v = P('v', [c.B, c.H, c.nk, c.dv]);
  let s = q.matmul(k.transpose()).mul(c.scale);
  if (c.bias === 'perQuery') s = s.add(P('bias', [c.B, 1, c.nq, c.nk]));
  else if (c.bias !== 'none') s = s.add(P('size', [c.B, c.nk], c.bias === 'trainable').abs().add(0.5).log().reshape([c.B, 1, 1, c.nk]));
  const o = softmax(s).matmul(v);
  b.output('loss', o.mul(b.input('w', [...o.shape])).sumAll());
  return b.build();
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  B: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 3 }),
  nq: fc.integer({ min: 1, max: 7 }), nk: fc.integer({ min: 1, max: 7 }),
  d: fc.integer({ min: 1, max: 6 }), dv: fc.integer({ min: 1, max: 6 }),
  bias: fc.constantFrom<BiasKind>('none', 'constant', 'trainable', 'perQuery'),
  scale: fc.constantFrom(1, 0.5, 0.3535533905932738),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

test('attention backward parts give the gradients of the primitive rules and of finite differences (float64)', async () => {
  let fusedCases = 0;
  fc.assert(
    fc.property(caseArb, (c) => {
      const graph = attentionGraph(c);
      const feeds = randomFeeds(graph, c.seed, 1.5);
      const fused = gradients(graph, { loss: 'loss' });
      const primitive = gradients(graph, { loss: 'loss', fusedAttention: false });
      const parts = fused.nodes.filter((n) => n.op === 'attentionBackward').length;
      // A trainable bias that varies along the queries needs more than per-key sums: primitive rules.
      assert.equal(parts > 0, c.bias !== 'perQuery' || c.nq === 1, `attentionBackward nodes: ${parts}`);
      assert.equal(primitive.nodes.some((n) => n.op === 'attentionBackward'), false);
      if (parts > 0) fusedCases++;
      const a = evaluate(fused, feeds).outputs, r = evaluate(primitive, feeds).outputs;
      for (const p of graph.params.filter((x) => x.attrs.trainable)) {
        const name = gradName(p.attrs.name);
        a[name]!.data.forEach((x, i) => {
          const y = r[name]!.data[i]!;
          assert.ok(Math.abs(x - y) <= 1e-12 * (1 + Math.abs(y)), `${name}[${i}]: fused ${x}, primitive ${y} (${JSON.stringify(c)})`);
        });
      }
      const fd = checkGradients(graph, feeds, { loss: 'loss', tol: 1e-6, maxEntries: 12 });
      assert.ok(fd.ok, `finite differences: ${JSON.stringify(fd.worst)} (${JSON.stringify(c)})`);
    }),
    fcParams(60),
  );
  assert.ok(fusedCases > 20, `fused cases: ${fusedCases}`);
});

test('attention backward: only scale·Q·Kᵀ (+ bias) scores are taken over; other chains keep the primitive rules', () => {
  const b = new GraphBuilder();
  const q = b.param('q', [1, 2, 5, 4], { trainable: true }), k = b.param('k', [1, 2, 5, 4], { trainable: true }), v = b.param('v', [1, 2, 5, 4], { trainable: true });
  b.output('loss', softmax(q.matmul(k.transpose()).tanh()).matmul(v).sumAll());
  const graph = b.build();
  assert.equal(gradients(graph, { loss: 'loss' }).nodes.some((n) => n.op === 'attentionBackward'), false);
  // The probabilities also read elsewhere: their other gradient would be lost, so no takeover.
  const b2 = new GraphBuilder();
  const q2 = b2.param('q', [1, 2, 5, 4], { trainable: true }), k2 = b2.param('k', [1, 2, 5, 4], { trainable: true }), v2 = b2.param('v', [1, 2, 5, 4], { trainable: true });
  const p = softmax(q2.matmul(k2.transpose()).mul(0.5));
  b2.output('loss', p.matmul(v2).sumAll().add(p.square().sumAll()));
  const g2 = b2.build();
  assert.equal(gradients(g2, { loss: 'loss' }).nodes.some((n) => n.op === 'attentionBackward'), false);
  const feeds = randomFeeds(g2, 7, 1.5);
  assert.ok(checkGradients(g2, feeds, { loss: 'loss' }).ok);
});
