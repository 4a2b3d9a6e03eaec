// A compiled program against the float64 reference interpreter: the check behind `gradcheck`,
// the tests and the examples. The f32 result of every output is compared with float64 as
// max |gpu − ref| / max(1, max |ref|).

import type { Graph } from '../ir/graph.ts';
import { evaluate, type Feeds } from '../ir/interpret.ts';
import type { GpuContext } from './device.ts';
import { compile, type ProgramOptions } from './program.ts';

/** How far one output computed on the device is from its float64 reference (scaled error); a NaN counts as infinite. */
export interface OutputError {
  readonly name: string;
  /** max |gpu − ref| / max(1, max |ref|) */
  readonly error: number;
  /** Where the largest difference is, and the two values. */
  readonly at: number;
  readonly gpu: number;
  readonly reference: number;
}

/** The outcome of verifyOnDevice: the error of every output, the worst, and whether it is within the tolerance. */
export interface Verification {
  readonly outputs: OutputError[];
  readonly worst: OutputError;
  readonly ok: boolean;
}

/** Scaled error of an f32 result against its float64 reference. */
export function scaledError(name: string, got: ArrayLike<number>, want: ArrayLike<number>): OutputError {
  if (got.length !== want.length) throw new Error(`${name}: ${got.length} values, the reference has ${want.length}`);
  let scale = 1, err = 0, at = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= err)) [err, at] = [e, i]; // NaN counts as the worst
  }
  const error = Number.isNaN(got[at]!) ? Infinity : err / scale;
  return { name, error, at, gpu: got[at]!, reference: want[at]! };
}

/** Runs `graph` on the device and in float64 with the same feeds; `tol` decides `ok`. */
export async function verifyOnDevice(graph: Graph, feeds: Feeds, ctx: GpuContext, opts: ProgramOptions & { tol?: number } = {}): Promise<Verification> {
  const program = await compile(graph, ctx, opts);
  try {
    const out = await program.execute(feeds);
    const ref = evaluate(graph, feeds).outputs;
    const outputs = [...graph.outputs.keys()].map((name) => scaledError(name, out[name]!, ref[name]!.data));
    const worst = outputs.reduce((a, b) => (b.error > a.error ? b : a));
    return { outputs, worst, ok: worst.error <= (opts.tol ?? 2e-4) };
  } finally {
    program.destroy();
  }
}
