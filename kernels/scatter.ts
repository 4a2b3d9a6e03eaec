// scatterAdd written as a gather (WGSL has no float atomics): each destination element loops over
// the sources and sums those whose index names it. O(M) per output, fine for token-sized axes.

import { numel } from '../src/core/ir/shape.ts';
import { ixVar, printIx, ZERO } from './expr.ts';
import { expectOp, FLAT_WORKGROUP, spread, type TemplateInput, type TemplateOutput } from './template.ts';

export function scatterKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const node = expectOp(root, 'scatterAdd');
  const [src, ix] = node.inputs.map((i) => graph.node(i)) as [typeof root, typeof root];
  const axis = node.attrs.axis;
  const m = src.type.shape[axis]!;
  const total = numel(root.type.shape);
  const out = w.buffer(root.id, true);
  w.line(`let g = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (g >= ${total}u) { return; }`);
  const idx = w.unflatten(ixVar('g', total), root.type.shape);
  w.line('var acc = 0.0;');
  const j = ixVar('j', m);
  const ops = w.block(`for (var j = 0u; j < ${m}u; j++)`, () => {
    const target = w.value(ix.id, ix.type.shape.map((d, k) => (k === axis ? j : d === 1 ? ZERO : idx[k]!)));
    w.block(`if (u32(${target}) == ${printIx(idx[axis]!)})`, () => {
      w.line(`acc += ${w.value(src.id, idx.map((e, k) => (k === axis ? j : e)))};`);
    });
  });
  w.line(`${out}[g] = acc;`);
  return {
    kind: 'scatter',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(total / WG), limits),
    flops: total * m * (ops + 1),
    config: `wg${WG} sources${m}`,
  };
}
