// Random graphs for code-generator tests: random op chains over random [B, N, D] shapes (sizes
// deliberately not multiples of tile or workgroup sizes), every parameter trainable, with a loss.

import fc from 'fast-check';
import { GraphBuilder, type Tensor } from '../../src/core/ir/graph.ts';
import { gelu, layerNorm, linear, softmax } from '../../src/core/ir/nn.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { randInt, rngFrom, uniform } from './random.ts';

export const STEPS = ['unary', 'broadcastBinary', 'linear', 'layerNorm', 'softmax', 'rowReduce', 'colReduce', 'transpose', 'slice', 'pad', 'concat', 'gather', 'scatter', 'attention', 'topkGather', 'max'] as const;
type Step = (typeof STEPS)[number];

export interface Program {
  readonly shape: [number, number, number];
  readonly steps: readonly Step[];
  readonly seed: number;
}

export const programArb: fc.Arbitrary<Program> = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 37 })),
  steps: fc.array(fc.constantFrom(...STEPS), { minLength: 1, maxLength: 6 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/** Builds the program's graph; every parameter is trainable so the backward touches everything. */
export function buildRandomGraph(p: Program) {
  const b = new GraphBuilder();
  const rng = rngFrom(p.seed);
  const feeds: Record<string, number[]> = {};
  let nParams = 0;
  const param = (shape: number[], scale = 0.5) => {
    const name = `p${nParams++}`;
    feeds[name] = uniform(rng, numel(shape), -scale, scale);
    return b.param(name, shape, { trainable: true });
  };
  let x: Tensor = b.input('x', p.shape);
  feeds.x = uniform(rng, numel(p.shape), -1, 1);
  const unaries = [(t: Tensor) => t.tanh(), (t: Tensor) => t.sigmoid(), gelu, (t: Tensor) => t.relu(), (t: Tensor) => t.erf(), (t: Tensor) => t.tanh().exp(), (t: Tensor) => t.abs().add(0.5).log(), (t: Tensor) => t.square().add(1).rsqrt()];
  for (const step of p.steps) {
    const [B, N, D] = x.shape as [number, number, number];
    switch (step) {
      case 'unary': x = unaries[randInt(rng, unaries.length)]!(x); break;
      case 'broadcastBinary': {
        const shapes = [[D], [N, 1], [B, N, D], [1, 1, 1]];
        const y = param(shapes[randInt(rng, shapes.length)]!);
        x = [x.add(y), x.mul(y), x.sub(y), x.maximum(y), x.div(y.abs().add(1))][randInt(rng, 5)]!;
        break;
      }
      case 'linear': {
        const out = 1 + randInt(rng, 40);
        x = linear(x, param([out, D]), param([out]));
        break;
      }
      case 'layerNorm': x = layerNorm(x, param([D]).add(1), param([D]), 1e-5); break;
      case 'softmax': x = softmax(x.mul(2)); break;
      case 'rowReduce': x = x.add(x.sum(-1).mul(0.1)); break;
      case 'colReduce': x = x.mul(x.mean(1)); break;
      case 'max': x = x.sub(x.max(-1)); break;
      case 'transpose': x = x.transpose(); break;
      case 'slice': if (D > 2) x = x.narrow(2, 1, D - 2); break;
      case 'pad': x = x.pad([0, 0, 1], [0, 1, 2]); break;
      case 'concat': x = b.concat([x, x.tanh()], 2); break;
      case 'gather': {
        const m = 1 + randInt(rng, N + 2);
        x = x.gather(b.constant(Array.from({ length: m }, () => randInt(rng, N)), [1, m], 'i32'), 1);
        break;
      }
      case 'scatter': {
        const size = 1 + randInt(rng, N + 1);
        x = x.scatterAdd(b.constant(Array.from({ length: B * N }, () => randInt(rng, size)), [B, N], 'i32'), 1, size);
        break;
      }
      case 'attention': {
        const q = linear(x, param([D, D]));
        const att = softmax(q.matmul(x.transpose()).mul(1 / Math.sqrt(D)));
        x = att.matmul(x).add(x);
        break;
      }
      case 'topkGather': {
        const k = Math.min(2, D);
        x = x.gather(x.topk(k, -1), 2);
        break;
      }
    }
  }
  b.output('y', x);
  const wLoss = b.constant(uniform(rng, x.size), x.shape);
  b.output('loss', x.mul(wLoss).sumAll());
  return { graph: b.build(), feeds };
}

