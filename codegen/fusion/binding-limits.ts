// The device's binding limit: no kernel may bind more storage buffers than maxBindings; nodes are
// stored (or fused patterns split) until every kernel fits.

import { dropBrokenRowFusions } from './row-reductions.ts';
import { RENAMING, type FusionPass, type FusionPlan, type FusionState } from './plan.ts';

/**
 * No kernel may bind more storage buffers than the device allows. Storing nodes to respect the
 * limit can leave a row reduction read by a kernel that does not compute it: store such
 * reductions too, and repeat until nothing changes.
 */
function enforceBindingLimits({ plan, opts }: FusionState): void {
  do enforceBindingLimit(plan, opts.maxBindings);
  while (dropBrokenRowFusions(plan));
}

function enforceBindingLimit(plan: FusionPlan, maxBindings: number): void {
  for (;;) {
    let changed = false;
    for (const root of plan.roots()) {
      const { computed, reads } = plan.members(root.id);
      if (reads.size + plan.outputsOf(root.id) <= maxBindings) continue;
      // Store the computed node that reads the most buffers; the kernel then reads one instead.
      // Never a node between the root and its matmul: storing it would split the epilogue.
      const anchor = plan.anchorOf.get(root.id);
      // Never a node of a fused attention either (that would split the pattern).
      const attention = plan.attention.get(anchor ?? root.id);
      let best = -1, bestReads = 1;
      for (const id of computed) {
        // A renaming (reshape) reads what its input reads: storing the input instead keeps the
        // renaming a free view (a stored renaming of a stored tensor is a copy kernel).
        if (id === root.id || id === anchor || attention?.members.includes(id) || RENAMING.has(plan.graph.node(id).op)) continue;
        if (anchor !== undefined && plan.members(id).computed.has(anchor)) continue;
        const r = plan.members(id).reads.size;
        if (r > bestReads) [best, bestReads] = [id, r];
      }
      if (best < 0 && attention) {
        // Only the attention itself is left to split: compute it unfused (matmuls, row kernels).
        plan.dissolveAttention(attention.pv);
        changed = true;
        continue;
      }
      // Granule sums it writes for a norm (fuse-epilogue-granules): they get their own kernel.
      if (best < 0) best = plan.siblings.get(root.id)?.find((id) => plan.epilogueGranules.get(id) === root.id) ?? -1;
      // Nothing but the epilogue itself to split: give the matmul its own kernel instead.
      if (best < 0 && anchor !== undefined) best = anchor;
      // Or a row reduction this kernel also writes: it gets its own kernel again.
      if (best < 0) best = plan.siblings.get(root.id)?.find((id) => plan.rowFused.get(id) === root.id) ?? -1;
      const needs = reads.size + plan.outputsOf(root.id);
      if (best < 0) throw new Error(`kernel %${root.id} (${root.op}) needs ${needs} storage buffers, over the device limit of ${maxBindings}`);
      plan.unfuse(best);
      changed = true;
    }
    if (!changed) return;
  }
}

export const ENFORCE_BINDING_LIMITS: FusionPass = { name: 'enforce-binding-limits', run: enforceBindingLimits };
