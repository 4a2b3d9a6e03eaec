// What kernels read from memory: the fusion plan's stored nodes as the emitter sees them, and the
// small constant tensors folded into the code instead of bound as buffers.

import type { Node } from '../src/core/ir/graph.ts';

/** What the emitter needs of the fusion plan. */
export interface FusionState {
  /** Whether node `id` lives in memory (read it) rather than being computed in place. */
  isMaterialized(id: number): boolean;
  /** The node whose buffer holds `id` (itself, or the input of a buffer-sharing reshape). */
  storage(id: number): number;
}

/**
 * The device buffers a plan places tensors in: `params` (parameters and constants), `inputs` (fed
 * each run) and `work` (everything kernels write, bytes reused per the memory plan).
 */
export type Arena = 'params' | 'inputs' | 'work';

/** The arena of a stored node: leaves persist (inputs apart: callers write them), outputs live in the planned work arena. */
export const arenaOf = (n: Node): Arena => (n.op === 'input' ? 'inputs' : n.op === 'param' || n.op === 'constant' ? 'params' : 'work');

/**
 * Constant tensors up to this many values are folded into the code instead of bound as buffers.
 * A folded table that is not a literal or an affine formula is a `var<private>` array with an
 * initialiser — per invocation in WGSL's model: drivers compile its initialisation into every
 * kernel reading it (the main job's 28×28 crop matrices, 784 values, took ~1.1–1.5 s of lavapipe's
 * cold compile per matmul; 0.2 s bound as buffers, run time unchanged) and a GPU would keep a
 * copy per thread. Larger constants are bound from the parameter arena.
 */
export const FOLD_CONSTANT_LIMIT = 64;
/** Whether a stored node is a small constant the kernels carry as literals instead of a binding. */
export const isFolded = (n: Node): boolean => n.op === 'constant' && n.attrs.fold !== false && n.attrs.data.length <= FOLD_CONSTANT_LIMIT;

