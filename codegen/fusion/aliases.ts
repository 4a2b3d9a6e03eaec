// Aliases: a stored reshape of a stored result used only by it is the same bytes (no copy kernel).

import { BUFFER_LEAVES, type FusionPass, type FusionState } from './plan.ts';

/** A stored reshape of a stored result used only by it is the same bytes: no copy kernel. */
function aliasStoredReshapes({ graph, plan, consumers, outputs }: FusionState): void {
  const mat = plan.materialized;
  for (const n of graph.nodes) {
    const src = n.inputs[0];
    if (n.op !== 'reshape' || !mat.has(n.id) || src === undefined || !mat.has(src)) continue;
    const x = graph.node(src);
    if (BUFFER_LEAVES.has(x.op) || outputs.has(src) || consumers[src]!.length !== 1 || plan.aliasOf.has(src)) continue;
    plan.aliasOf.set(n.id, src);
  }
}

export const ALIAS_STORED_RESHAPES: FusionPass = { name: 'alias-stored-reshapes', run: aliasStoredReshapes };
