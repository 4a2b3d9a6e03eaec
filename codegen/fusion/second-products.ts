// A second product in a matmul's epilogue: fc2(h) + up(a) (AdaptFormer's adapter added to the
// MLP's output) is one kernel that runs two k loops over the same output tile, instead of one of
// the products (with its own epilogue: a bias) stored by a kernel of its own and read back.

import { sameShape } from '../../src/core/ir/shape.ts';
import { dependsOnAny, type FusionPass, type FusionPlan, type FusionState } from './plan.ts';

/** The matmul behind stored root `r` when its epilogue keeps the product's element order (elementwise ops, reshapes: no final transpose). */
function plainProduct(plan: FusionPlan, r: number): number | undefined {
  const graph = plan.graph;
  const m = plan.anchorOf.get(r) ?? (graph.node(r).op === 'matmul' ? r : undefined);
  if (m === undefined) return undefined;
  // Its epilogue (what it computes from the product) was checked as one (fuse-matmul-epilogues)
  // and is then computed at the same element by the other kernel; operand views are free.
  const epilogue = [...plan.members(r).computed].filter((id) => id !== m && dependsOnAny(graph, id, new Set([m])));
  return epilogue.every((id) => graph.node(id).op !== 'permute') ? m : undefined;
}

/**
 * A matmul epilogue that reads another plain product of the same shape (and element order), which
 * nothing else reads, computes that product itself (FusionPlan.secondProduct): a second k loop
 * into accumulators kept for the epilogue (every matmul variant but a swapped one).
 */
function fuseSecondProducts({ graph, plan, opts, outputs }: FusionState): void {
  for (const [root, m1] of [...plan.anchorOf]) {
    if (plan.secondProduct.has(root) || !plan.isMaterialized(root)) continue;
    const reads = plan.members(root).reads;
    for (const r2 of reads) {
      const m2 = plainProduct(plan, r2);
      if (m2 === undefined || m2 === m1 || outputs.has(r2) || outputs.has(m2) || plan.secondProduct.has(r2)) continue;
      // Read by the epilogue only: not an operand of the kernel's own product.
      if (dependsOnAny(graph, m1, new Set([r2]))) continue;
      const mm2 = graph.node(m2), a2 = graph.node(mm2.inputs[0]!);
      if (!sameShape(mm2.type.shape, graph.node(m1).type.shape) || a2.type.shape[a2.type.shape.length - 1]! % 4 !== 0) continue;
      if (plan.roots().some((k) => k.id !== root && k.id !== r2 && plan.members(k.id).reads.has(r2))) continue;
      const after = new Set([...reads, ...plan.members(r2).reads]);
      after.delete(r2);
      if (after.size + plan.outputsOf(root) > opts.maxBindings) continue;
      plan.materialized.delete(r2);
      plan.materialized.delete(m2);
      plan.anchorOf.delete(r2);
      plan.secondProduct.set(root, m2);
      break;
    }
  }
}

export const FUSE_SECOND_PRODUCTS: FusionPass = { name: 'fuse-second-products', run: fuseSecondProducts };
