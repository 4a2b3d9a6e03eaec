// Per-row top-k (k small): one thread per row makes k passes, each taking the largest entry that
// comes after the previous pick in (value descending, index ascending) order — the same tie rule
// as the reference interpreter. Output: i32 indices.

import { numel } from '../src/core/ir/shape.ts';
import { ixVar, printIx } from './expr.ts';
import { expectOp, FLAT_WORKGROUP, spread, type TemplateInput, type TemplateOutput } from './template.ts';

export function topkKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const node = expectOp(root, 'topk');
  const x = graph.node(node.inputs[0]!);
  const { axis, k } = node.attrs;
  const n = x.type.shape[axis]!;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  const rows = numel(rowsShape);
  const out = w.buffer(root.id, true);
  w.line(`let g = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (g >= ${rows}u) { return; }`);
  const idx = w.unflatten(ixVar('g', rows), rowsShape);
  w.line('var prevV = 0.0;');
  w.line('var prevJ = 0u;');
  let ops = 0;
  const j = ixVar('j', n), t = ixVar('t', k);
  w.block(`for (var t = 0u; t < ${k}u; t++)`, () => {
    w.line('var bestV = 0.0;');
    w.line(`var bestJ = ${n}u;`);
    ops = w.block(`for (var j = 0u; j < ${n}u; j++)`, () => {
      const v = w.value(x.id, idx.map((e, i) => (i === axis ? j : e)));
      w.line(`let after = t == 0u || ${v} < prevV || (${v} == prevV && j > prevJ);`);
      w.line(`if (after && (bestJ == ${n}u || ${v} > bestV)) { bestV = ${v}; bestJ = j; }`);
    });
    w.line(`${out}[${printIx(w.linear(idx.map((e, i) => (i === axis ? t : e)), root.type.shape))}] = i32(bestJ);`);
    w.line('prevV = bestV;');
    w.line('prevJ = bestJ;');
  });
  return {
    kind: 'topk',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(rows / WG), limits),
    flops: rows * k * n * (ops + 2),
    config: `wg${WG} k${k} n${n}`,
  };
}
