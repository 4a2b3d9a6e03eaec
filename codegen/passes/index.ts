// The kernel passes, in order. Each takes a kernel tree and returns one; the renderer
// (codegen/render.ts) prints the result.

import type { KernelIR } from '../../kernels/ir.ts';
import { pruneBindings, vectorBindings } from './bindings.ts';
import { cse } from './cse.ts';
import { dce } from './dce.ts';
import { hoist } from './hoist.ts';
import { opaqueLoopBounds } from './loop-bounds.ts';
import { simplify } from './simplify.ts';

/** A named rewrite of a kernel tree. */
export interface KernelPass {
  readonly name: string;
  readonly run: (ir: KernelIR) => KernelIR;
}

/** What the pass list depends on. */
export interface PassOptions {
  /** Hide constant loop bounds from the driver (CPU adapters: codegen/passes/loop-bounds.ts). */
  readonly opaqueLoopBounds: boolean;
}

/** The passes every kernel goes through, in order. */
export function kernelPasses(opts: PassOptions): KernelPass[] {
  return [
    { name: 'hoist', run: hoist },
    // After hoisting: values hoisted from sibling loops may now be equal.
    { name: 'cse', run: cse },
    { name: 'dce', run: dce },
    { name: 'vector-bindings', run: vectorBindings },
    // What the passes above rewrote (CSE's substitutions, vector reads) folded again.
    { name: 'simplify', run: simplify },
    { name: 'prune-bindings', run: pruneBindings },
    ...(opts.opaqueLoopBounds ? [{ name: 'opaque-loop-bounds', run: opaqueLoopBounds }] : []),
  ];
}

/** Runs the passes over a kernel. */
export function optimizeKernel(ir: KernelIR, passes: readonly KernelPass[]): KernelIR {
  return passes.reduce((k, p) => p.run(k), ir);
}
