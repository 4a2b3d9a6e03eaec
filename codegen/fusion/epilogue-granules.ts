// Granule sums in the producer's epilogue: the per-64-column sums codegen/granule-statistics.ts
// writes for a norm's input x (s_j = Σx over granule j, q_j = Σ(x − s_j/g)²) are computed by the
// tiled matmul kernel that writes x, from the values it stores, and written beside x: no kernel
// of their own, and x is not read again for them.

import type { Node } from '../../src/core/ir/graph.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { GRANULE } from '../../kernels/matmul-tiled.ts';
import { normSums } from '../granule-statistics.ts';
import type { FusionPass, FusionPlan, FusionState } from './plan.ts';

/** The sums over granules of `x` as the rewrite writes them: reshape → Σ (s), and Σ(· − s·(1/g))² (q). */
export interface GranuleSums {
  readonly sum: number;
  readonly centred: number;
}

/**
 * The granule sums `q` ends, when it is the centred sum about s/GRANULE of a reshape that regroups
 * x's rows into granules of GRANULE columns (normSums: the pattern the rewrite writes).
 */
function granuleSums(graph: FusionState['graph'], q: Node): { x: number; sums: GranuleSums } | undefined {
  const found = normSums(graph, q);
  if (!found || found.scale !== 1 / GRANULE) return undefined;
  const xg = graph.node(found.x);
  if (xg.op !== 'reshape' || xg.type.shape.at(-1) !== GRANULE) return undefined;
  const x = graph.node(xg.inputs[0]!);
  if (x.type.shape.at(-1) !== xg.type.shape.at(-2)! * GRANULE) return undefined;
  return { x: x.id, sums: { sum: found.S, centred: found.Q } };
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
    const found = granuleSums(graph, n);
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
