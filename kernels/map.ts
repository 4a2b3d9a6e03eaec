// One thread per output element (or per four consecutive elements along the last axis, when its
// extent is a multiple of 4: vec4 reads where the inputs are contiguous, one vec4 store): the
// kernel for elementwise chains and views, and for the same-shape siblings horizontal fusion gives
// it (each computed at the same index and written).

import { numel } from '../src/core/ir/shape.ts';
import { ixVar, mul } from './expr.ts';
import { FLAT_WORKGROUP, spread, type TemplateInput, type TemplateOutput } from './template.ts';

const WG = 64;

export function mapKernel({ w, graph, plan, root, limits, baseline }: TemplateInput): TemplateOutput {
  const n = numel(root.type.shape);
  const roots = [root.id, ...plan.siblings(root.id)];
  const shape = root.type.shape;
  const last = shape.length - 1;
  const vec = !baseline && shape.length > 0 && shape[last]! % 4 === 0 && roots.every((id) => graph.node(id).type.dtype === 'f32');
  const per = vec ? 4 : 1;
  const count = n / per;
  w.line(`let g = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (g >= ${count}u) { return; }`);
  if (vec) {
    const idx = w.unflatten(mul(ixVar('g', count), 4), shape);
    const outs = roots.map((id) => w.bufferVec4(id, true));
    roots.forEach((id, k) => w.line(`${outs[k]}[g] = ${w.computeVec4(id, idx, last)};`));
  } else {
    const idx = w.unflatten(ixVar('g', n), shape);
    const outs = roots.map((id) => w.buffer(id, true));
    roots.forEach((id, k) => w.line(`${outs[k]}[g] = ${w.compute(id, idx)};`));
  }
  return {
    kind: 'map',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(count / WG), limits),
    // Vector lowerings count the arithmetic of all four elements.
    flops: count * w.opsHere,
    config: `wg${WG}${vec ? ' vec4' : ''}`,
  };
}
