// The fusion planner: an ordered list of named passes over one FusionState (codegen/fusion/plan.ts).
// Later passes see the decisions of earlier ones: epilogues take what attention left, cost-based
// stores run once epilogue roots are known, row fusion looks at the kernels the stores so far
// define, and the binding limit is enforced on the result before kernels are grouped. Another
// plan is another list, chosen by the caller (UNFUSED_PASSES: one kernel per op).

import type { Graph } from '../../src/core/ir/graph.ts';
import { ALIAS_STORED_RESHAPES, WRITE_BACK_IN_PLACE } from './aliases.ts';
import { FUSE_ATTENTION } from './attention.ts';
import { JOIN_ATTENTION_LSE, STORE_ATTENTION_BACKWARD_INPUTS } from './attention-backward.ts';
import { ENFORCE_BINDING_LIMITS } from './binding-limits.ts';
import { FUSE_MATMUL_EPILOGUES } from './epilogues.ts';
import { FUSE_EPILOGUE_GRANULES } from './epilogue-granules.ts';
import { FUSE_NORM_PROLOGUES } from './norm-prologues.ts';
import { FUSE_SECOND_PRODUCTS } from './second-products.ts';
import { INLINE_SMALL_REDUCTIONS } from './small-reductions.ts';
import { runFusionPasses, type FusionOptions, type FusionPass, type FusionPlan } from './plan.ts';
import { STORE_MATMUL_PROLOGUES, STORE_PARAMETER_OPERANDS } from './prologues.ts';
import { STORE_COSTLY_RECOMPUTATIONS } from './recompute.ts';
import { FUSE_ROW_REDUCTIONS, INLINE_ROW_INPUTS } from './row-reductions.ts';
import { GROUP_SIBLINGS } from './siblings.ts';
import { CHAIN_SELECTIONS } from './selection-chains.ts';
import { STORE_EVERYTHING, STORE_UNFUSABLE } from './stores.ts';

export { FusionPlan, BUFFER_LEAVES, ANCHORS, type AttentionGroup, type FusionOptions, type FusionPass, type FusionState } from './plan.ts';
export { matchAttention } from './attention.ts';
export { FUSE_NORM_PROLOGUES, normProloguesUpTo } from './norm-prologues.ts';
export { rowDomain } from './row-reductions.ts';
export type { GranuleSums } from './epilogue-granules.ts';

/** The fused plan's passes, in order. */
export const FUSION_PASSES: readonly FusionPass[] = [
  STORE_UNFUSABLE,
  STORE_PARAMETER_OPERANDS,
  FUSE_ATTENTION,
  FUSE_MATMUL_EPILOGUES,
  STORE_MATMUL_PROLOGUES,
  STORE_ATTENTION_BACKWARD_INPUTS,
  STORE_COSTLY_RECOMPUTATIONS,
  FUSE_EPILOGUE_GRANULES,
  FUSE_ROW_REDUCTIONS,
  INLINE_ROW_INPUTS,
  FUSE_NORM_PROLOGUES,
  FUSE_SECOND_PRODUCTS,
  INLINE_SMALL_REDUCTIONS,
  ENFORCE_BINDING_LIMITS,
  // Before siblings are grouped: they must see that the chain's kernel writes its sorts late.
  CHAIN_SELECTIONS,
  GROUP_SIBLINGS,
  JOIN_ATTENTION_LSE,
  ALIAS_STORED_RESHAPES,
  WRITE_BACK_IN_PLACE,
];

/** One kernel per op (pure renamings aside): the baseline fusion is measured against. */
export const UNFUSED_PASSES: readonly FusionPass[] = [STORE_EVERYTHING];

/** Decides which nodes of `graph` are stored and which are computed inside the kernels that read them. */
export function planFusion(graph: Graph, opts: FusionOptions, passes: readonly FusionPass[] = FUSION_PASSES): FusionPlan {
  return runFusionPasses(graph, opts, passes);
}
