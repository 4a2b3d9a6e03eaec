// Where every plan starts: what must be stored whatever else is fused (buffer leaves, outputs,
// anchors), and the unfused plan (every op but pure renamings in a kernel of its own), the
// baseline fused plans are compared with.

import { ANCHORS, BUFFER_LEAVES, RENAMING, type FusionPass, type FusionState } from './plan.ts';

/** Buffer leaves, outputs and anchors are stored: they need memory or a loop of their own. */
function storeUnfusable({ graph, plan, outputs }: FusionState): void {
  for (const n of graph.nodes) if (BUFFER_LEAVES.has(n.op) || outputs.has(n.id) || ANCHORS.has(n.op)) plan.materialized.add(n.id);
}

/** One kernel per op: every node is stored but pure renamings (reshapes, literals, gradient markers). */
function storeEverything({ graph, plan }: FusionState): void {
  for (const n of graph.nodes) if (!RENAMING.has(n.op)) plan.materialized.add(n.id);
}

export const STORE_UNFUSABLE: FusionPass = { name: 'store-unfusable', run: storeUnfusable };
export const STORE_EVERYTHING: FusionPass = { name: 'store-everything', run: (s) => (storeUnfusable(s), storeEverything(s)) };
