// A batch too large for the device, restated for the user: the compile error of a plan that
// exceeds a binding or dispatch limit names the option and the largest batch whose plan fits
// (found by planning the graph at smaller batches: code generation only, no GPU work).

import { compileGraph } from '../../../codegen/compile.ts';
import type { Graph } from '../../core/ir/graph.ts';
import type { GpuContext } from '../../core/runtime/device.ts';
import { deviceLimits } from '../../core/runtime/program.ts';

/** [needed, limit] of a plan that exceeds a device limit proportional to the batch, from its message. */
function limitOverrun(msg: string): [number, number] | undefined {
  const m = /needs (\d+) bytes, over the device's binding limit of (\d+) bytes/.exec(msg) ?? /(\d+) workgroups exceed the device's dispatch limit \((\d+)/.exec(msg);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * A compile error from a batch too large for the device's binding or dispatch limits, restated
 * with the option's name and the largest batch whose plan fits every limit (found by planning the
 * graph at smaller batches: code generation only, no GPU work).
 */
export function batchLimitError(e: unknown, batch: number, option: string, graphAt: (batch: number) => Graph, ctx: GpuContext): Error {
  const msg = (e as Error).message ?? String(e);
  let over = limitOverrun(msg);
  if (!over) return e as Error;
  const limits = deviceLimits(ctx);
  let fits = batch;
  for (let i = 0; i < 8 && over && fits > 0; i++) {
    fits = Math.min(fits - 1, Math.floor((fits * over[1]) / over[0]));
    if (fits <= 0) break;
    try {
      compileGraph(graphAt(fits), { limits });
      over = undefined;
    } catch (e2) {
      over = limitOverrun((e2 as Error).message ?? String(e2));
    }
  }
  const advice = !over && fits > 0 ? `The largest ${option} that fits is about ${fits}.` : `No ${option} found that fits.`;
  return new Error(`${option} ${batch} is too large for this device: ${msg}. ${advice}`);
}

