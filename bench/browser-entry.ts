// Runs benchmark suites inside the current JavaScript runtime when that is not Node: in headless
// Chromium (`npm run bench -- --runtime browser`, through src/frontends/web/chromium.ts) and in Deno
// (`--runtime deno`, through bench/deno-entry.ts). bench/run.ts bundles this with esbuild,
// starts the runtime, and writes the tables, JSON and charts from the result it gets back.
//
// benchmark.js in a bundle: it looks for lodash and platform through a `require` it shadows
// (so the bundler cannot see them) or as globals, and in a browser it compiles its timing loops
// by injecting <script> tags that name a global `Benchmark`. So, before any suite (and with it
// bench/common.ts) is loaded, lodash and platform are put on globalThis, in Deno a temporary
// `window` makes benchmark.js take globalThis as its root, and the constructor is made global.
// Suites are loaded with dynamic imports for that reason (and so tfjs is only loaded for `peer`).

import type { AdapterReport } from '../src/core/runtime/device.ts';
import type { Suite, SuiteContext, SuiteResult } from './common.ts';

export interface RemoteOptions {
  readonly suites: readonly string[];
  readonly quick: boolean;
  /** Fail unless the adapter is a hardware GPU. */
  readonly requireRealGpu: boolean;
}

export interface RemoteRun {
  readonly name: string;
  readonly description: string;
  readonly seconds: number;
  readonly result?: SuiteResult;
  readonly error?: string;
}

export interface RemoteResult {
  readonly adapter: AdapterReport;
  readonly adapterLine: string;
  readonly softwareAdapter: boolean;
  /** "deno 2.x (V8 ..., TypeScript ...) linux/x86_64, 2 CPUs" or the browser's user agent. */
  readonly runtimeLine: string;
  /** How the timing loop was provided. */
  readonly timingNote: string;
  readonly runs: readonly RemoteRun[];
}

const SUITE_LOADERS: Record<string, () => Promise<Suite>> = {
  matmul: async () => (await import('./suites/matmul.ts')).matmulSuite,
  fusion: async () => (await import('./suites/fusion.ts')).fusionSuite,
  memory: async () => (await import('./suites/memory.ts')).memorySuite,
  inference: async () => (await import('./suites/inference.ts')).inferenceSuite,
  training: async () => (await import('./suites/training.ts')).trainingSuite,
  mainjob: async () => (await import('./suites/mainjob.ts')).mainjobSuite,
  peer: async () => (await import('./suites/peer.ts')).peerSuite,
  ort: async () => (await import('./suites/ort.ts')).ortSuite,
};

export const REMOTE_SUITES = Object.keys(SUITE_LOADERS);

interface DenoLike {
  version: { deno: string; v8: string; typescript: string };
  build: { os: string; arch: string };
}

const denoGlobal = (): DenoLike | undefined => (globalThis as unknown as { Deno?: DenoLike }).Deno;

/** Makes benchmark.js loadable from a bundle (see the top of this file). */
async function prepareBenchmarkJs(): Promise<string> {
  const g = globalThis as Record<string, unknown>;
  // @ts-expect-error lodash ships no type declarations (and @types/lodash is not installed)
  g._ ??= (await import('lodash')).default;
  // @ts-expect-error platform ships no type declarations
  g.platform ??= (await import('platform')).default;
  const fakeWindow = typeof g.window === 'undefined';
  if (fakeWindow) g.window = globalThis;
  try {
    g.Benchmark = (await import('benchmark')).default;
  } finally {
    if (fakeWindow) delete g.window;
  }
  return 'benchmark.js (bundled; lodash and platform provided as globals, a global Benchmark for its script-injection compiler)';
}

function runtimeLine(): string {
  const cpus = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? '?';
  const deno = denoGlobal();
  if (deno) return `deno ${deno.version.deno} (V8 ${deno.version.v8}, TypeScript ${deno.version.typescript}) ${deno.build.os}/${deno.build.arch}, ${cpus} CPUs`;
  return `browser: ${globalThis.navigator?.userAgent ?? 'unknown'}, ${cpus} CPUs`;
}

/** Runs the suites here and returns everything bench/run.ts needs to write the report. */
export async function runSuitesHere(opts: RemoteOptions, log: (line: string) => void = (l) => console.log(l)): Promise<RemoteResult> {
  const timingNote = await prepareBenchmarkJs();
  const { formatAdapterReport, requestGpu } = await import('../src/core/runtime/device.ts');
  const { deviceLimits } = await import('../src/core/runtime/program.ts');
  const { FULL_TIMING, QUICK_TIMING } = await import('./common.ts');
  const { Progress } = await import('../src/core/util/progress.ts');
  const { isSoftwareAdapter } = await import('./suites/inference.ts');

  const gpu = await requestGpu({ label: 'bench' });
  const adapterLine = `adapter: ${formatAdapterReport(gpu.info)}`;
  const softwareAdapter = isSoftwareAdapter(gpu);
  const rtLine = runtimeLine();
  log(adapterLine);
  log(`runtime: ${rtLine}`);
  if (opts.requireRealGpu && softwareAdapter) {
    throw new Error(`--gpu: the adapter is a software/fallback one (${gpu.info.description || gpu.info.device}), not a real GPU`);
  }
  // Progress lines (non-TTY mode) go through the log, which reaches the Node side.
  const stream = { isTTY: false, write: (chunk: string) => { for (const l of chunk.split('\n')) if (l.trim()) log(l); } };
  const ctx: SuiteContext = {
    gpu,
    quick: opts.quick,
    limits: deviceLimits(gpu),
    timing: opts.quick ? QUICK_TIMING : FULL_TIMING,
    log,
    progress: (label, total, unit) => new Progress({ label, total, unit, intervalMs: 10_000, stream, tty: false }),
  };
  const runs: RemoteRun[] = [];
  for (const name of opts.suites) {
    const load = SUITE_LOADERS[name];
    const t0 = performance.now();
    if (!load) {
      runs.push({ name, description: '', seconds: 0, error: `unknown suite ${name}` });
      continue;
    }
    const suite = await load();
    log(`\n== ${suite.name}: ${suite.description}`);
    try {
      const result = await suite.run(ctx);
      runs.push({ name, description: suite.description, seconds: (performance.now() - t0) / 1e3, result });
    } catch (e) {
      runs.push({ name, description: suite.description, seconds: (performance.now() - t0) / 1e3, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    log(`== ${suite.name} done in ${((performance.now() - t0) / 1e3).toFixed(0)}s`);
  }
  const adapter = gpu.info;
  gpu.destroy();
  return { adapter, adapterLine, softwareAdapter, runtimeLine: rtLine, timingNote, runs };
}

/** Browser entry (the contract of src/frontends/web/chromium.ts): the result goes to window.__result. */
export async function browserMain(opts: RemoteOptions): Promise<void> {
  const result = await runSuitesHere(opts);
  (globalThis as unknown as { __result: unknown }).__result = JSON.parse(JSON.stringify(result));
}
