// One thread per output element (or per four consecutive elements along the last axis, when its
// extent is a multiple of 4: vec4 reads where the inputs are contiguous, one vec4 store): the
// kernel for elementwise chains and views, and for the same-shape siblings horizontal fusion gives
// it (each computed at the same index and written).

import { numel } from '../src/core/ir/shape.ts';
import { add, bounded, ge, mul } from './alu.ts';
import { flatWorkgroup, groupsAtRunTime, spread, type TemplateInput, type TemplateOutput } from './template.ts';

const WG = 64;

export function mapKernel({ w, graph, plan, root, limits, scalar }: TemplateInput): TemplateOutput {
  const n = numel(root.type.shape);
  const roots = [root.id, ...plan.siblings(root.id)];
  const shape = root.type.shape;
  const last = shape.length - 1;
  const vec = !scalar && shape.length > 0 && shape[last]! % 4 === 0 && roots.every((id) => graph.node(id).type.dtype === 'f32');
  const per = vec ? 4 : 1;
  const count = n / per;
  const g0 = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  const live = w.runtimeCount(count, [root.id]);
  w.exitIf(ge(g0, live));
  const g = bounded(g0, count);
  if (vec) {
    const idx = w.unflatten(mul(g, 4), shape);
    const outs = roots.map((id) => w.bufferVec4(id, true));
    roots.forEach((id, k) => {
      const v = w.computeVec4(id, idx, last);
      w.store(outs[k]!, g, v);
      w.written(id, idx, v, last);
    });
  } else {
    const idx = w.unflatten(g, shape);
    const outs = roots.map((id) => w.buffer(id, true));
    roots.forEach((id, k) => {
      const v = w.compute(id, idx);
      w.store(outs[k]!, g, v);
      w.written(id, idx, v);
    });
  }
  return {
    kind: 'map',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(count / WG), limits),
    // Vector lowerings count the arithmetic of all four elements.
    flops: count * w.opsHere,
    config: `wg${WG}${vec ? ' vec4' : ''}`,
    ...groupsAtRunTime(w, live, WG),
  };
}
