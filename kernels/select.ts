// Per-row top-k (k small): one thread per row makes k passes, each taking the largest entry that
// comes after the previous pick in (value descending, index ascending) order — the same tie rule
// as the reference interpreter. Output: i32 indices.

import { numel } from '../src/core/ir/shape.ts';
import { add, and, bounded, cast, compare, f32, ge, lt, mul, or, u32 } from './alu.ts';
import { expectOp, flatWorkgroup, spread, type TemplateInput, type TemplateOutput } from './template.ts';

export function topkKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const node = expectOp(root, 'topk');
  const x = graph.node(node.inputs[0]!);
  const { axis, k } = node.attrs;
  const n = x.type.shape[axis]!;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  const rows = numel(rowsShape);
  const out = w.buffer(root.id, true);
  const g0 = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  w.exitIf(ge(g0, rows));
  const idx = w.unflatten(bounded(g0, rows), rowsShape);
  const prevV = w.variable(f32(0), 'prevV');
  const prevJ = w.variable(u32(0), 'prevJ');
  let ops = 0;
  w.loop('t', 0, k, 1, (t) => {
    const bestV = w.variable(f32(0), 'bestV');
    const bestJ = w.variable(u32(n), 'bestJ');
    ops = w.loop('j', 0, n, 1, (j) => {
      const v = w.value(x.id, idx.map((e, i) => (i === axis ? j : e)));
      const after = w.let(or(compare('eq', t, 0), lt(v, prevV.ref), and(compare('eq', v, prevV.ref), compare('gt', j, prevJ.ref))), 'after');
      w.when(and(after, or(compare('eq', bestJ.ref, n), compare('gt', v, bestV.ref))), () => {
        w.assign(bestV, v);
        w.assign(bestJ, j);
      });
    });
    w.store(out, w.linear(idx.map((e, i) => (i === axis ? t : e)), root.type.shape), cast(bestJ.ref, 'i32'));
    w.assign(prevV, bestV.ref);
    w.assign(prevJ, bestJ.ref);
  });
  return {
    kind: 'topk',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(rows / WG), limits),
    flops: rows * k * n * (ops + 2),
    config: `wg${WG} k${k} n${n}`,
  };
}
