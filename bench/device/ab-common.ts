// What the device A/Bs (attention-ab.ts, norm-ab.ts) share: one model's logits graph with its
// feeds, and one compiled plan run on them (logits, their distance to a reference, GPU timestamps
// per dispatch, whole-step wall time).
import type { CompiledPlan } from '../../codegen/compile.ts';
import type { Graph } from '../../src/core/ir/graph.ts';
import { buildModel, initialWeights } from '../../src/fpet/models/model.ts';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { Program, type KernelTime } from '../../src/core/runtime/program.ts';
import type { VitPreset } from '../../src/fpet/models/vit.ts';
import { inferenceSpec, logitsGraph, type Variant } from '../suites/inference.ts';
import { randomArray } from '../common.ts';

/** The logits graph of `preset` at `batch` with `variant`, its initial weights (seed 42) and random images. */
export function logitsJob(preset: VitPreset, batch: number, variant: Variant): { graph: Graph; feeds: Record<string, ArrayLike<number>> } {
  const spec = inferenceSpec(preset, batch, variant);
  const graph = logitsGraph(buildModel(spec).graph);
  const weights = initialWeights(spec, 42);
  const img = spec.vit.imageSize * spec.vit.imageSize * spec.vit.inChannels;
  const feeds: Record<string, ArrayLike<number>> = { images: randomArray(batch * img, 300 + batch, 0, 1) };
  for (const p of graph.params) feeds[p.attrs.name] = weights.get(p.attrs.name) ?? new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
  return { graph, feeds };
}

/** Runs `plan` on `feeds`: its logits, max |logits − ref| (0 without ref), per-dispatch GPU ms (3 profiled steps) and wall ms (30 steps). */
export async function runLogits(gpu: GpuContext, plan: CompiledPlan, feeds: Record<string, ArrayLike<number>>, ref?: Float32Array): Promise<{ logits: Float32Array; maxDiff: number; profile: readonly KernelTime[]; wallMs: number }> {
  const exe = await Program.create(gpu, plan);
  try {
    const logits = Float32Array.from((await exe.execute(feeds)).logits as Float32Array);
    let maxDiff = 0;
    if (ref) for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - logits[i]!));
    const profile = (await exe.profile(3)) ?? [];
    return { logits, maxDiff, profile, wallMs: await exe.time(30) };
  } finally {
    exe.destroy();
  }
}

/** Prints the device's errors since the last call, tagged. */
export function printErrors(gpu: GpuContext, tag: string): void {
  const errs = gpu.takeErrors();
  if (errs.length) console.log(`${tag} errors`, errs.map((e) => e.message).join('; '));
}
