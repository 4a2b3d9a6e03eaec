// The reference's numeric fixture (docs/method.md, 6): one image, 4×4 grid (17 tokens with cls), metric dim 4, features dim 2.

import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { checkerboardSplit, mergeTokens } from '../../src/fpet/models/merge.ts';

export const FIXTURE = {
  aOrder: [1, 3, 9, 11, 6, 8, 14, 16],
  bOrder: [0, 5, 7, 13, 15, 2, 4, 10, 12],
  assignment: { 1: 10, 3: 12, 9: 10, 11: 2, 6: 15, 8: 7, 14: 5, 16: 7 } as Record<number, number>,
  sizes: [1, 2, 3, 1, 2, 2, 1, 3, 2],
  x: [[1.0, 0.62161], [-0.023621, 0.477034], [-0.578533, -0.390492], [0.976588, 0.775566], [-0.321679, 0.222693], [0.624486, 0.441426], [-0.416147, 0.453596], [0.316816, -0.183507], [0.515454, 0.601657]],
  loss: 0.63141861,
  dMetric: [
    [0, 0, 0, 0],
    [0.03766755, -0.03274255, -0.05518474, 0.00321885],
    [0.03255497, -0.11550544, -0.09435011, 0.06502836],
    [-0.01222986, -0.04164411, -0.01004964, 0.03626757],
    [0.1095484, 0.0641984, -0.07520241, -0.10443151],
    [-0.00414659, 0.00155202, 0.00497692, 0.00111062],
    [0.03059334, -0.0508661, -0.05780658, 0.01993972],
    [-0.00002042, -0.03685458, -0.01969669, 0.0263169],
    [0.08075035, 0.10894488, -0.0224651, -0.12096366],
    [-0.14324051, -0.0090603, 0.13839327, 0.08310037],
    [-0.01429601, 0.0128324, 0.02116132, -0.00151114],
    [0.08461503, -0.31563152, -0.25347715, 0.18002184],
    [0.03987947, 0.12858426, 0.02891281, -0.11311597],
    [0.06240842, 0.03480541, -0.04378761, -0.05823168],
    [0.08543979, -0.0338617, -0.10355571, -0.02154037],
    [0.00340606, -0.00584202, -0.00653153, 0.00234767],
    [-0.00039064, -0.02822175, -0.01470793, 0.02035304],
  ],
  dXFirst5: [[0.1, -0.1], [0.266667, -0.266667], [0.3, -0.3], [0.45, -0.45], [0.7, -0.7]],
};

/** The fixture's graph: params `metric` [1,17,4] and `x` [1,17,2]; outputs x', sizes, partner, loss. */
export function fixtureGraph() {
  const b = new GraphBuilder();
  const metric = b.param('metric', [1, 17, 4], { trainable: true });
  const x = b.param('x', [1, 17, 2], { trainable: true });
  const split = checkerboardSplit(16);
  const m = mergeTokens(x, undefined, metric, { split, r: split.a.length, differentiable: true });
  const W = b.constant(Array.from({ length: 9 }, (_, k) => [0.1 * (k + 1), -0.1 * (k + 1)]).flat(), [1, 9, 2]);
  const w = b.constant(Array.from({ length: 9 }, (_, k) => 0.05 * k), [1, 9]);
  b.output('merged', m.x);
  b.output('sizes', m.size);
  b.output('partner', m.partner);
  b.output('loss', m.x.mul(W).sumAll().add(m.size.log().mul(w).sumAll()));
  const feeds = {
    metric: Array.from({ length: 17 * 4 }, (_, i) => Math.sin(0.7 * Math.floor(i / 4) + 1.3 * (i % 4))),
    x: Array.from({ length: 17 * 2 }, (_, i) => Math.cos(0.5 * Math.floor(i / 2) - 0.9 * (i % 2))),
  };
  return { graph: b.build(), feeds, split };
}
