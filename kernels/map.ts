// One thread per output element: the kernel for elementwise chains and views, and for the same-
// shape siblings horizontal fusion gives it (each computed at the same index and written).

import { numel } from '../src/ir/shape.ts';
import { ixVar } from './expr.ts';
import { FLAT_WORKGROUP, spread, type TemplateInput, type TemplateOutput } from './template.ts';

const WG = 64;

export function mapKernel({ w, plan, root, limits }: TemplateInput): TemplateOutput {
  const n = numel(root.type.shape);
  const roots = [root.id, ...plan.siblings(root.id)];
  const outs = roots.map((id) => w.buffer(id, true));
  w.line(`let g = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (g >= ${n}u) { return; }`);
  const idx = w.unflatten(ixVar('g', n), root.type.shape);
  roots.forEach((id, k) => w.line(`${outs[k]}[g] = ${w.compute(id, idx)};`));
  return {
    kind: 'map',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(n / WG), limits),
    flops: n * w.opsHere,
    config: `wg${WG}`,
  };
}
