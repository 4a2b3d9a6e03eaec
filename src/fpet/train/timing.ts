// Inference throughput of several models measured side by side: each program is warmed up (its
// pipelines compiled), then the programs run in alternating rounds on the same batches, and each
// one's images per second is its batch over the median time of its steps. The median, not the
// total: one step slowed by something else on the machine (seen on the 2-core machine: a main
// job's FPET/AdaptFormer ratio of 0.90 from 8 summed steps, 1.08–1.28 when re-measured on the same
// models) must not decide the comparison. Ratios of these numbers, measured in one call, are what
// is meaningful on a shared or software device.

import type { GpuContext } from '../../core/runtime/device.ts';
import type { Classifier } from './inference.ts';

/** Options of inferenceThroughput: how many rounds, on which batches. */
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
  const seconds: number[][] = classifiers.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? classifiers.map((_, k) => k) : classifiers.map((_, k) => classifiers.length - 1 - k);
    for (const k of order) {
      const c = classifiers[k]!;
      c.program.write({ images: o.images[r % o.images.length]! });
      const t0 = performance.now();
      c.program.run();
      await ctx.device.queue.onSubmittedWorkDone();
      seconds[k]!.push((performance.now() - t0) / 1000);
    }
  }
  return seconds.map((s, k) => classifiers[k]!.batch / median(s));
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
