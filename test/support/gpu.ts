// Shared GPU access for tests: one device per test process, and comparison of a compiled plan
// run on the GPU with the float64 reference interpreter.

import assert from 'node:assert/strict';
import type { Graph } from '../../src/core/ir/graph.ts';
import { evaluate, type Feeds } from '../../src/core/ir/interpret.ts';
import { compileGraph, type CompileOptions, type CompiledPlan } from '../../codegen/compile.ts';
import { formatAdapterReport, requestGpu, type GpuContext } from '../../src/core/runtime/device.ts';
import { Program, deviceLimits, type HostArray } from '../../src/core/runtime/program.ts';

let shared: Promise<GpuContext> | undefined;

export function gpu(): Promise<GpuContext> {
  shared ??= requestGpu({ label: 'tests' }).then((ctx) => {
    console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
    return ctx;
  });
  return shared;
}

export async function runOnGpu(graph: Graph, feeds: Feeds, opts: CompileOptions = {}): Promise<{ plan: CompiledPlan; out: Record<string, HostArray> }> {
  const ctx = await gpu();
  const plan = compileGraph(graph, { ...opts, limits: { ...deviceLimits(ctx), ...opts.limits } });
  const exe = await Program.create(ctx, plan);
  try {
    const out = await exe.execute(feeds);
    const errors = ctx.takeErrors();
    assert.equal(errors.length, 0, `GPU errors: ${errors.map((e) => e.message).join('; ')}`);
    return { plan, out };
  } finally {
    exe.destroy();
  }
}

/**
 * f32 kernels against the float64 oracle. Per output: max |gpu − ref| ≤ tol · max(1, max|ref|).
 * tol = 1e-4 covers f32 rounding (eps 6e-8) accumulated over the ≤ a few hundred terms of the
 * sums in these test graphs plus the 1.5e-7 error of the erf approximation, with margin.
 */
export function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): number {
  assert.equal(got.length, want.length, `${name}: ${got.length} values, expected ${want.length}`);
  let scale = 1, err = 0, at = -1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= err)) [err, at] = [e, i];
  }
  assert.ok(err <= tol * scale, `${name}: max error ${err} at ${at} (gpu ${got[at]}, ref ${want[at]}), allowed ${tol * scale}`);
  return err / scale;
}

export async function checkAgainstReference(graph: Graph, feeds: Feeds, opts: CompileOptions = {}, tol?: number) {
  const { plan, out } = await runOnGpu(graph, feeds, opts);
  const ref = evaluate(graph, feeds).outputs;
  for (const name of graph.outputs.keys()) assertClose(name, out[name]!, ref[name]!.data, tol);
  return plan;
}
