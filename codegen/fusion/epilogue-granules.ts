// Granule sums in the producer's epilogue: the per-64-column sums codegen/granule-statistics.ts
// writes for a norm's input x (s_j = Σx over granule j, q_j = Σ(x − s_j/g)²) are computed by the
// tiled matmul kernel that writes x, from the values it stores, and written beside x: no kernel
// of their own, and x is not read again for them.

import type { Node } from '../../src/core/ir/graph.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { GRANULE } from '../../kernels/matmul-tiled.ts';
import type { FusionPass, FusionPlan, FusionState } from './plan.ts';

/** The sums over granules of `x` as the rewrite writes them: reshape → Σ (s), and Σ(· − s·(1/g))² (q). */
export interface GranuleSums {
  readonly sum: number;
  readonly centred: number;
}

const only = (s: FusionState, id: number, op: Node['op']): Node[] => s.consumers[id]!.map((c) => s.graph.node(c)).filter((c) => c.op === op);

/** The granule sums `s` heads, when its reshape regroups x's rows into granules of GRANULE columns. */
function granuleSums(s: FusionState, sum: Node<'sum'>): { x: number; sums: GranuleSums } | undefined {
  const { graph } = s;
  const xg = graph.node(sum.inputs[0]!);
  if (xg.op !== 'reshape' || sum.attrs.axis !== xg.type.shape.length - 1 || xg.type.shape.at(-1) !== GRANULE) return undefined;
  const x = graph.node(xg.inputs[0]!);
  if (x.type.shape.at(-1) !== xg.type.shape.at(-2)! * GRANULE) return undefined;
  for (const mg of only(s, sum.id, 'mul')) {
    const c = graph.node(mg.inputs[1]!);
    if (mg.inputs[0] !== sum.id || c.op !== 'fill' || c.attrs.value !== 1 / GRANULE) continue;
    for (const d of only(s, mg.id, 'sub')) {
      if (d.inputs[0] !== xg.id || d.inputs[1] !== mg.id) continue;
      for (const sq of only(s, d.id, 'mul')) {
        if (sq.inputs[0] !== d.id || sq.inputs[1] !== d.id) continue;
        const q = only(s, sq.id, 'sum').find((n) => (n as Node<'sum'>).attrs.axis === sum.attrs.axis);
        if (q) return { x: x.id, sums: { sum: sum.id, centred: q.id } };
      }
    }
  }
  return undefined;
}

/** The matmul whose kernel writes x as its output, with x's elements in the product's order. */
function producingMatmul(plan: FusionPlan, x: Node): Node | undefined {
  if (!plan.isMaterialized(x.id) || plan.writer(x.id) !== x.id || plan.aliasOf.has(x.id)) return undefined;
  const m = plan.graph.node(plan.anchorOf.get(x.id) ?? x.id);
  if (m.op !== 'matmul' || x.op === 'permute') return undefined;
  return m.type.shape.at(-1) === x.type.shape.at(-1) && numel(m.type.shape) === numel(x.type.shape) ? m : undefined;
}

/** Granule sums of a matmul kernel's output, read by nothing the plan computes elsewhere in place, go into that kernel. */
function fuseEpilogueGranules(s: FusionState): void {
  const { graph, plan, outputs, claimed } = s;
  if (s.opts.adapterClass !== 'gpu') return; // the tiled design renders them; CPU adapters' designs do not
  for (const n of graph.nodes) {
    const found = n.op === 'sum' ? granuleSums(s, n as Node<'sum'>) : undefined;
    if (!found) continue;
    const { sum, centred } = found.sums;
    if ([sum, centred].some((id) => outputs.has(id) || claimed.has(id) || !plan.isMaterialized(id))) continue;
    const m = producingMatmul(plan, graph.node(found.x));
    if (!m || s.inAttention.has(m.id)) continue;
    for (const id of [sum, centred]) {
      plan.join(found.x, id);
      plan.epilogueGranules.set(id, found.x);
      claimed.add(id);
    }
  }
}

export const FUSE_EPILOGUE_GRANULES: FusionPass = { name: 'fuse-epilogue-granules', run: fuseEpilogueGranules };
