// Compiling a program's kernels before its first step, on every device that can help. Some drivers
// compile a kernel at its first dispatch, on the single thread that runs the device's queue
// (lavapipe: a few hundred ms per kernel, ~25 s for a training step on a cold cache). Helper
// devices (GpuContext.compileHelpers) each compile a share at the same time, and the driver's
// shader cache on disk hands their results to the main device. Kernels run once, one workgroup,
// on scratch buffers: nothing the program holds is read or written.

import type { PlanKernel } from '../../../codegen/compile.ts';
import type { GpuContext } from './device.ts';
import { pipelineFor } from './pipelines.ts';

/** Scratch bindings are at most this big (a row of any model fits many times): one workgroup reads and writes little. */
const SCRATCH_BINDING_BYTES = 2 ** 20;

/**
 * Compiles every distinct kernel of `kernels` by dispatching it once on scratch buffers, spread
 * over the main device and its compile helpers. `bytesOf` gives a bound tensor's size (scratch
 * bindings keep it, up to SCRATCH_BINDING_BYTES, so row counts read at run time stay positive).
 */
export async function compileAhead(ctx: GpuContext, kernels: readonly PlanKernel[], bytesOf: (tensor: number) => number): Promise<void> {
  const distinct = [...new Map(kernels.map((k) => [k.code, k])).values()];
  const helpers = distinct.length > 1 ? ((await ctx.compileHelpers?.()) ?? []) : [];
  const shares = balancedShares(distinct, 1 + helpers.length);
  await Promise.all([
    dispatchOnce(ctx.device, shares[0]!, bytesOf),
    ...helpers.map((device, i) => dispatchOnce(device, shares[i + 1]!, bytesOf).catch(() => undefined)),
  ]);
  // The main device now finds the helpers' kernels in the shader cache (or compiles what is not there).
  await dispatchOnce(ctx.device, shares.slice(1).flat(), bytesOf);
}

/**
 * Kernels split into `parts` shares of about equal compile time, longest first onto the least
 * loaded share. A kernel's code length stands for its compile time (lavapipe: roughly
 * proportional, ~60-90 µs per character).
 */
export function balancedShares<K extends { readonly code: string }>(kernels: readonly K[], parts: number): K[][] {
  const shares: K[][] = Array.from({ length: parts }, () => []);
  const load = new Array<number>(parts).fill(0);
  for (const k of [...kernels].sort((a, b) => b.code.length - a.code.length)) {
    const least = load.indexOf(Math.min(...load));
    shares[least]!.push(k);
    load[least]! += k.code.length;
  }
  return shares;
}

/** Dispatches each kernel once (one workgroup) on scratch buffers, one per binding slot, and waits. */
async function dispatchOnce(device: GPUDevice, kernels: readonly PlanKernel[], bytesOf: (tensor: number) => number): Promise<void> {
  if (kernels.length === 0) return;
  const pipelines = await Promise.all(kernels.map((k) => pipelineFor(device, k)));
  const size = (tensor: number) => Math.max(16, Math.min(bytesOf(tensor), SCRATCH_BINDING_BYTES));
  const slotBytes: number[] = [];
  for (const k of kernels) for (const b of k.bindings) slotBytes[b.binding] = Math.max(slotBytes[b.binding] ?? 0, size(b.tensor));
  const scratch = slotBytes.map((bytes, slot) => device.createBuffer({ label: `compile-ahead scratch ${slot}`, size: Math.ceil(bytes / 16) * 16, usage: GPUBufferUsage.STORAGE }));
  try {
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'compile ahead' });
    const pass = encoder.beginComputePass({ label: 'compile ahead' });
    kernels.forEach((k, i) => {
      const entries = k.bindings.map((b) => ({ binding: b.binding, resource: { buffer: scratch[b.binding]!, size: size(b.tensor) } }));
      pass.setPipeline(pipelines[i]!);
      pass.setBindGroup(0, device.createBindGroup({ label: k.name, layout: pipelines[i]!.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(1, 1, 1);
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const error = await device.popErrorScope();
    if (error) throw new Error(`compiling ahead: ${error.message}`);
  } finally {
    for (const b of scratch) b?.destroy();
  }
}
