// Horizontal fusion: map kernels of the same shape that share inputs become one kernel writing
// several outputs (AdamW's parameter and moments, sibling gradients).

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { sameShape } from '../../src/core/ir/shape.ts';
import { ANCHORS, ELEMENTWISE, RENAMING, dependsOnAny, type FusionPass, type FusionState } from './plan.ts';

/**
 * Horizontal fusion: a map kernel also computes later roots of the same shape that share inputs
 * with it (AdamW's new parameter, first and second moments; sibling gradients), when everything
 * they read is already written before it. Shared loads and subexpressions are then computed once.
 */
function groupSiblings({ graph, plan, opts: { maxBindings } }: FusionState): void {
  // Renamings (reshapes) are left alone: alias-stored-reshapes may give them no kernel at all,
  // which would drop whatever had joined them.
  // A per-image chain's kernel (chain-selections) renders its own stages only.
  const isMapRoot = (n: Node) => !ANCHORS.has(n.op) && !RENAMING.has(n.op) && !plan.anchorOf.has(n.id) && ![...plan.rowFused.values()].includes(n.id) && !plan.chains.has(n.id);
  const leaders: { id: number; shape: readonly number[]; reads: Set<number>; computed: Set<number>; outputs: number }[] = [];
  for (const r of plan.roots()) {
    if (!isMapRoot(r)) continue;
    const m = plan.members(r.id);
    const leader = leaders.find((l) => {
      if (!sameShape(l.shape, r.type.shape)) return false;
      // It reads what is written before the leader's kernel, or what that kernel writes, at the
      // same index (then the value computed there is used: AdamW's moments in its new parameter).
      const own = [...m.reads].filter((id) => plan.writer(id) === l.id);
      if ([...m.reads].some((id) => plan.writer(id) > l.id)) return false;
      if (own.some((id) => !readAtSameIndex(graph, r, id, m.computed))) return false;
      const shares = own.length > 0 || [...m.reads].some((id) => l.reads.has(id)) || [...m.computed].some((id) => l.computed.has(id));
      const union = new Set([...l.reads, ...m.reads].filter((id) => !own.includes(id)));
      return shares && union.size + l.outputs + 1 <= maxBindings;
    });
    if (leader) {
      plan.join(leader.id, r.id);
      for (const id of m.reads) leader.reads.add(id);
      for (const id of m.computed) leader.computed.add(id);
      leader.outputs++;
    } else {
      leaders.push({ id: r.id, shape: r.type.shape, reads: m.reads, computed: m.computed, outputs: 1 });
    }
  }
}

/**
 * Whether root `r` reads stored node `id` only at its own index: every computed node between them
 * is elementwise with r's shape, and id has that shape too (no view, no broadcast).
 */
function readAtSameIndex(graph: Graph, r: Node, id: number, computed: ReadonlySet<number>): boolean {
  if (!sameShape(graph.node(id).type.shape, r.type.shape)) return false;
  const between = [...computed].filter((c) => dependsOnAny(graph, c, new Set([id])));
  return between.every((c) => ELEMENTWISE.has(graph.node(c).op) && sameShape(graph.node(c).type.shape, r.type.shape));
}

export const GROUP_SIBLINGS: FusionPass = { name: 'group-siblings', run: groupSiblings };
