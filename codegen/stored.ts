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

/** Constant tensors up to this many values are folded into the code instead of bound as buffers. */
export const FOLD_CONSTANT_LIMIT = 1024;
/** Whether a stored node is a small constant the kernels carry as literals instead of a binding. */
export const isFolded = (n: Node): boolean => n.op === 'constant' && n.attrs.fold !== false && n.attrs.data.length <= FOLD_CONSTANT_LIMIT;

