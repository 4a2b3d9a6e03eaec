// scatterAdd written as a gather (WGSL has no float atomics): each destination element loops over
// the sources and sums those whose index names it. O(M) per output, fine for token-sized axes.

import { numel } from '../src/core/ir/shape.ts';
import { add, bounded, cast, compare, f32, ge, mul, u32 } from './alu.ts';
import { expectOp, flatWorkgroup, spread, type TemplateInput, type TemplateOutput } from './template.ts';

export function scatterKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const node = expectOp(root, 'scatterAdd');
  const [src, ix] = node.inputs.map((i) => graph.node(i)) as [typeof root, typeof root];
  const axis = node.attrs.axis;
  const m = src.type.shape[axis]!;
  const total = numel(root.type.shape);
  const out = w.buffer(root.id, true);
  const g0 = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  w.exitIf(ge(g0, total));
  const g = bounded(g0, total);
  const idx = w.unflatten(g, root.type.shape);
  const acc = w.variable(f32(0));
  const ops = w.loop('j', 0, m, 1, (j) => {
    const target = w.value(ix.id, ix.type.shape.map((d, k) => (k === axis ? j : d === 1 ? u32(0) : idx[k]!)));
    w.when(compare('eq', cast(target, 'u32'), idx[axis]!), () => {
      w.assign(acc, add(acc.ref, w.value(src.id, idx.map((e, k) => (k === axis ? j : e)))));
    });
  });
  w.store(out, g, acc.ref);
  return {
    kind: 'scatter',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(total / WG), limits),
    flops: total * m * (ops + 1),
    config: `wg${WG} sources${m}`,
  };
}
