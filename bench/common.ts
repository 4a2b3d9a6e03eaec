// What every benchmark suite shares: the suite interface, GPU step timing on top of benchmark.js,
// random feeds, result comparison, and the Markdown/JSON writers.
//
// Timing a GPU step: one benchmark.js "deferred" cycle = submit the step, then await
// queue.onSubmittedWorkDone(). On a software Vulkan driver (lavapipe) these are CPU timings that
// vary run to run: compare ratios measured side by side in one run, never absolute times across
// machines, and never put thresholds on them in tests.

import { mulberry32, uniformArray } from '../src/core/util/random.ts';
import Benchmark from 'benchmark';
import type { CodegenLimits } from '../codegen/compile.ts';
import type { GpuContext } from '../src/core/runtime/device.ts';
import { Progress } from '../src/core/util/progress.ts';

export type Cell = string | number | null;

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Lines printed under the table. */
  readonly notes?: readonly string[];
}

export interface Chart {
  /** File name inside the output directory, e.g. 'matmul.svg'. */
  readonly file: string;
  readonly svg: string;
}

export interface SuiteResult {
  readonly tables: readonly Table[];
  readonly charts: readonly Chart[];
  /** Raw measurements, written to results.json. */
  readonly data: unknown;
  /** Correctness problems noticed while benchmarking (GPU errors, mismatching results, ...). */
  readonly problems: readonly string[];
}

export interface SuiteContext {
  /** Absent when no GPU was requested or none is usable; suites with needsGpu get one. */
  readonly gpu?: GpuContext;
  readonly quick: boolean;
  /** Code generation limits of the device (undefined: the WebGPU defaults). */
  readonly limits?: Partial<CodegenLimits>;
  /** Benchmark.js sampling settings for this run. */
  readonly timing: TimingOptions;
  /** Prints a line (without breaking a progress line that is showing). */
  log(line: string): void;
  /** A progress bar for the suite's loop over cases (log() goes through it while it runs). */
  progress(label: string, total: number, unit?: string): Progress;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  readonly needsGpu: boolean;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

// ---------------------------------------------------------------------------------------------
// GPU timing

export interface TimingOptions {
  /** benchmark.js minSamples per variant over all rounds: the fewest samples taken. */
  readonly minSamples: number;
  /** benchmark.js maxTime (s) per variant over all rounds: sampling stops once this has elapsed and minSamples are taken. */
  readonly maxTime: number;
  /** benchmark.js minTime (s) of one sample (several steps per sample when a step is faster). */
  readonly minTime: number;
  /** Untimed steps before sampling (the first dispatch of a pipeline JIT-compiles it: ~70 ms on lavapipe). */
  readonly warmup: number;
  /**
   * Variants compared side by side are measured in this many alternating rounds (A B, B A, A B,
   * ...), each a benchmark.js run with its share of samples and time, and the samples pooled:
   * load from other processes then hits both alike, which matters on a shared 2-core machine.
   */
  readonly rounds: number;
}

export const QUICK_TIMING: TimingOptions = { minSamples: 6, maxTime: 1, minTime: 0.05, warmup: 1, rounds: 3 };
export const FULL_TIMING: TimingOptions = { minSamples: 6, maxTime: 4, minTime: 0.1, warmup: 1, rounds: 3 };

export interface Timing {
  readonly name: string;
  /** Mean, median and fastest time of one step over the pooled samples, ms. */
  readonly meanMs: number;
  readonly medianMs: number;
  readonly minMs: number;
  /** Relative margin of error of the mean (95%, Student's t), percent. */
  readonly rmePct: number;
  /** Samples taken (each the mean over the steps of one benchmark.js cycle), ms. */
  readonly sampleMs: readonly number[];
  /** benchmark.js cycles in total, including calibration (each: run the step, wait for the GPU). */
  readonly steps: number;
}

export interface GpuVariant {
  readonly name: string;
  /** Submits one step of GPU work (does not wait). */
  readonly step: () => void;
}

interface RawRun {
  readonly sample: readonly number[];
  readonly steps: number;
}

/**
 * One benchmark.js deferred benchmark of `step`: each cycle calls step() and resolves once the
 * queue has finished everything submitted. Returns the per-step time of each sample (s).
 */
async function benchmarkStep(name: string, device: GPUDevice, step: () => void, minSamples: number, maxTime: number, minTime: number): Promise<RawRun> {
  let steps = 0;
  let failure: unknown;
  const bench = new Benchmark(name, {
    defer: true,
    async: true,
    // No setup/teardown: benchmark.js would then decompile fn and lose its closure.
    fn(deferred: Benchmark.Deferred) {
      steps++;
      step();
      device.queue.onSubmittedWorkDone().then(
        () => deferred.resolve(),
        (e: unknown) => {
          failure ??= e;
          bench.abort();
        },
      );
    },
    minSamples,
    maxTime,
    minTime,
    initCount: 1,
    delay: 0,
  });
  await new Promise<void>((resolve) => {
    bench.on('complete', () => resolve());
    bench.on('error', (event: Benchmark.Event) => {
      failure ??= (event.target as unknown as { error?: unknown }).error ?? new Error(`${name}: benchmark.js error`);
      resolve();
    });
    bench.on('abort', () => resolve());
    bench.run({ async: true });
  });
  const err = failure ?? (bench as Benchmark & { error?: unknown }).error;
  if (err) throw err instanceof Error ? err : new Error(`${name}: ${String(err)}`);
  if (bench.stats.sample.length === 0) throw new Error(`${name}: benchmark.js took no samples`);
  return { sample: [...bench.stats.sample], steps };
}

/** Two-sided 95% Student's t quantiles for 1..30 degrees of freedom (then the normal 1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function summarize(name: string, sampleSec: readonly number[], steps: number): Timing {
  const ms = sampleSec.map((s) => s * 1e3);
  const sorted = [...ms].sort((a, b) => a - b);
  const k = sorted.length;
  const mean = ms.reduce((a, b) => a + b, 0) / k;
  const variance = k > 1 ? ms.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1) : 0;
  const sem = Math.sqrt(variance / k);
  const t = k > 1 ? (T95[k - 2] ?? 1.96) : 0;
  const mid = k >> 1;
  return {
    name,
    meanMs: mean,
    medianMs: k % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
    minMs: sorted[0]!,
    rmePct: mean > 0 ? (100 * t * sem) / mean : 0,
    sampleMs: ms,
    steps,
  };
}

/**
 * Times GPU step variants side by side: `opts.rounds` alternating rounds of benchmark.js runs,
 * samples pooled per variant. Compare variants by their medians.
 */
export async function timeGpuSteps(device: GPUDevice, variants: readonly GpuVariant[], opts: TimingOptions): Promise<Timing[]> {
  for (const v of variants) {
    for (let i = 0; i < opts.warmup; i++) {
      v.step();
      await device.queue.onSubmittedWorkDone();
    }
  }
  const rounds = Math.max(1, opts.rounds);
  const minSamples = Math.max(2, Math.ceil(opts.minSamples / rounds));
  const maxTime = opts.maxTime / rounds;
  const pooled = variants.map(() => ({ sample: [] as number[], steps: 0 }));
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const run = await benchmarkStep(variants[i]!.name, device, variants[i]!.step, minSamples, maxTime, opts.minTime);
      pooled[i]!.sample.push(...run.sample);
      pooled[i]!.steps += run.steps;
    }
  }
  return variants.map((v, i) => summarize(v.name, pooled[i]!.sample, pooled[i]!.steps));
}

/** One variant on its own (same sampling as timeGpuSteps). */
export async function timeGpuStep(name: string, device: GPUDevice, step: () => void, opts: TimingOptions): Promise<Timing> {
  return (await timeGpuSteps(device, [{ name, step }], opts))[0]!;
}

/** "12.3 ms ±4%" */
export function fmtTiming(t: Timing): string {
  return `${fmtMs(t.medianMs)} ms ±${t.rmePct.toFixed(0)}%`;
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

// ---------------------------------------------------------------------------------------------
// Data and comparisons

/** Deterministic uniform values in [lo, hi). */
export const randomArray = (n: number, seed: number, lo = -1, hi = 1): Float32Array<ArrayBuffer> => uniformArray(mulberry32(seed), n, lo, hi);

/** max |a − b| / max(1, max |b|); Infinity when lengths differ or a value is not finite. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let scale = 1, err = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= err)) err = e; // NaN wins
  }
  return Number.isNaN(err) ? Infinity : err / scale;
}

export function fmtErr(e: number): string {
  return Number.isFinite(e) ? e.toExponential(1) : String(e);
}

/** Uncaptured GPU errors since the last call, as problem strings. */
export function gpuErrors(ctx: GpuContext | undefined, where: string): string[] {
  return (ctx?.takeErrors() ?? []).map((e) => `${where}: GPU ${e.constructor.name}: ${e.message}`);
}

export const MiB = (bytes: number): number => bytes / 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Output

function cellText(c: Cell): string {
  if (c === null) return '–';
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return String(c);
    return Number.isInteger(c) ? String(c) : Math.abs(c) >= 100 ? c.toFixed(0) : Math.abs(c) >= 10 ? c.toFixed(1) : c.toFixed(2);
  }
  return c;
}

export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const numeric = t.columns.map((_, i) => t.rows.length > 0 && t.rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const lines = [
    `### ${t.title}`,
    '',
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${numeric.map((num) => (num ? '---:' : ':---')).join('|')}|`,
    ...t.rows.map((r) => `| ${t.columns.map((_, i) => esc(cellText(r[i] ?? null))).join(' | ')} |`),
  ];
  if (t.notes?.length) lines.push('', ...t.notes);
  return lines.join('\n');
}

/** JSON.stringify that writes non-finite numbers as strings ("Infinity") instead of null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}
