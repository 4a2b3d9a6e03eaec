// One thread per output element: the kernel for elementwise chains and views.

import { numel } from '../src/ir/shape.ts';
import { u } from '../codegen/emit.ts';
import { spread, FLAT_WORKGROUP, type TemplateInput, type TemplateOutput } from './common.ts';

const WG = 64;

export function mapKernel({ w, plan, root, limits }: TemplateInput): TemplateOutput {
  const n = numel(root.type.shape);
  // The root and its horizontal siblings (same shape): each computed at the same index and written.
  const roots = [root.id, ...(plan.siblings.get(root.id) ?? [])];
  const outs = roots.map((id) => w.buffer(id, true));
  w.line(`let g = (${FLAT_WORKGROUP}) * ${u(WG)} + lid;`);
  w.line(`if (g >= ${u(n)}) { return; }`);
  const idx = w.unflatten('g', root.type.shape);
  roots.forEach((id, k) => w.line(`${outs[k]}[g] = ${w.compute(id, idx)};`));
  return {
    kind: 'map',
    moduleDecls: [],
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(n / WG), limits),
    flops: n * w.opsHere,
    config: `wg${WG}`,
  };
}
