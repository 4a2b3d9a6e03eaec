// Inference throughput of several models measured side by side: each program is warmed up (its
// pipelines compiled), then the programs run in alternating rounds on the same batches, and each
// one's images per second is the images it classified over the time its steps took. Ratios of
// these numbers, measured in one call, are what is meaningful on a shared or software device.

import type { GpuContext } from '../runtime/device.ts';
import type { Classifier } from './inference.ts';

export interface ThroughputOptions {
  /** Rounds of one step per classifier (alternating order A B C, C B A, ...). */
  readonly rounds: number;
  /** Batches of images [batch, C, S, S] to cycle through. */
  readonly images: readonly Float32Array[];
}

/** Images per second of each classifier (same batch size expected), measured interleaved. */
export async function inferenceThroughput(ctx: GpuContext, classifiers: readonly Classifier[], o: ThroughputOptions): Promise<number[]> {
  for (const c of classifiers) {
    await c.program.warmup();
    c.program.write({ images: o.images[0]! });
    await c.program.time(1);
  }
  const seconds = classifiers.map(() => 0);
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? classifiers.map((_, k) => k) : classifiers.map((_, k) => classifiers.length - 1 - k);
    for (const k of order) {
      const c = classifiers[k]!;
      c.program.write({ images: o.images[r % o.images.length]! });
      const t0 = performance.now();
      c.program.run();
      await ctx.device.queue.onSubmittedWorkDone();
      seconds[k]! += (performance.now() - t0) / 1000;
    }
  }
  return seconds.map((s, k) => (o.rounds * classifiers[k]!.batch) / s);
}
