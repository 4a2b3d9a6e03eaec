// Benchmarks: `npm run bench -- [--quick] [--suite matmul,fusion,memory,inference,training,peer]
// [--runtime node|deno|browser] [--gpu] [--out DIR]`.
// Prints the adapter, runtime and package versions, runs the suites (benchmark.js), prints a
// Markdown summary and writes <out>/results.json, <out>/results.md and the SVG charts.
// A suite is a module exporting a Suite (bench/common.ts); add new ones to SUITES (and to
// SUITE_LOADERS in bench/browser-entry.ts for Deno and browsers).
//
// --runtime deno|browser: the suites run in Deno (wgpu; node_modules/.bin/deno, offline) or in
// headless Chromium (src/frontends/web/chromium.ts) from an esbuild bundle of bench/deno-entry.ts or
// bench/browser-entry.ts; this process only writes the report.
// --gpu: the run is meant for a real GPU: it stops if the adapter is a software/fallback one.
// Nothing else changes: Dawn (and Deno) pick the hardware driver when VK_ICD_FILENAMES is unset.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../src/frontends/cli/args.ts';
import { formatAdapterReport, requestGpu, type AdapterReport, type GpuContext } from '../src/core/runtime/device.ts';
import { dawnPolling } from '../src/core/runtime/dawn-polling.ts';
import { deviceLimits } from '../src/core/runtime/program.ts';
import { writeFileAtomic } from '../src/core/util/atomic.ts';
import { formatDuration, Progress } from '../src/core/util/progress.ts';
import { FULL_TIMING, QUICK_TIMING, markdownTable, toJson, type Suite, type SuiteContext, type SuiteResult } from './common.ts';
import { fusionSuite } from './suites/fusion.ts';
import { matmulSuite } from './suites/matmul.ts';
import { memorySuite } from './suites/memory.ts';
import { inferenceSuite, isSoftwareAdapter } from './suites/inference.ts';
import { trainingSuite } from './suites/training.ts';
import { peerSuite } from './suites/peer.ts';
import { ortSuite } from './suites/ort.ts';
import { mainjobSuite } from './suites/mainjob.ts';
import type { RemoteOptions, RemoteResult } from './browser-entry.ts';
import { ORT_WEB_WASM_FILE, ORT_WEB_WASM_PATH } from './peer/ort-web.ts';
import { SHIPPED_BACKBONE } from '../src/fpet/train/model-files.ts';

const SUITES: readonly Suite[] = [matmulSuite, fusionSuite, memorySuite, inferenceSuite, trainingSuite, mainjobSuite, peerSuite, ortSuite];
const RUNTIMES = ['node', 'deno', 'browser'] as const;
type Runtime = (typeof RUNTIMES)[number];

const SPEC = {
  quick: { type: 'boolean', default: false, help: 'fewer shapes and samples (a few minutes on 2 CPU cores)' },
  suite: { type: 'list', default: SUITES.map((s) => s.name), help: `comma-separated suites (${SUITES.map((s) => s.name).join(', ')})` },
  out: { type: 'string', default: 'runs/bench', help: 'output directory for results.json, results.md and the charts' },
  runtime: { type: 'string', default: 'node', choices: RUNTIMES, help: 'where the suites run: node (Dawn), deno (wgpu, node_modules/.bin/deno) or browser (headless Chromium via puppeteer)' },
  gpu: { type: 'boolean', default: false, help: 'require a real (hardware) GPU adapter: stop if the adapter is a software/fallback one (lavapipe, SwiftShader)' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} satisfies Record<string, OptionSpec>;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function packageVersion(name: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** Spawns the Deno entry (bundled) and returns its RemoteResult; its progress lines are printed as they come. */
async function runInDeno(opts: RemoteOptions): Promise<RemoteResult> {
  const { bundleForBrowser } = await import('../src/frontends/web/chromium.ts');
  const dir = mkdtempSync(join(tmpdir(), 'bench-deno-'));
  try {
    const bundleFile = join(dir, 'deno-entry.mjs');
    await writeFile(bundleFile, await bundleForBrowser(join(ROOT, 'bench', 'deno-entry.ts')));
    const deno = join(ROOT, 'node_modules', '.bin', 'deno');
    // Offline as in test/runtime/smoke-deno.test.ts: no remote modules, no npm, no config or lock
    // file, no update check, a throwaway DENO_DIR.
    const child = spawn(deno, ['run', '-A', '--no-config', '--no-lock', '--no-remote', '--no-npm', bundleFile, JSON.stringify(opts)], {
      cwd: ROOT,
      env: { ...process.env, DENO_DIR: join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let result: RemoteResult | undefined;
    let failure: string | undefined;
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as RemoteResult;
        else if (line.startsWith('ERROR ')) failure = JSON.parse(line.slice(6)) as string;
        else console.log(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => process.stderr.write(chunk));
    const code = await new Promise<number | null>((res, rej) => {
      child.on('error', rej);
      child.on('close', res);
    });
    if (!result) throw new Error(`deno exited with ${code}${failure ? `: ${failure}` : ' without a result'}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Files the suites fetch in a browser: the shipped backbone, and onnxruntime-web's WebAssembly binary (the ort suite). */
function browserAssets(): Record<string, string> {
  const ortDist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  return { [`/${SHIPPED_BACKBONE}`]: join(ROOT, SHIPPED_BACKBONE), [ORT_WEB_WASM_PATH]: join(ortDist, ORT_WEB_WASM_FILE) };
}

/** Runs bench/browser-entry.ts in headless Chromium through src/frontends/web/chromium.ts. */
async function runInBrowser(opts: RemoteOptions): Promise<RemoteResult> {
  const { runInChromium } = await import('../src/frontends/web/chromium.ts');
  // The harness waits for window.__result with one page.waitForFunction(), a single DevTools call
  // that puppeteer abandons after its protocolTimeout (180 s by default, not settable through
  // runInChromium): a benchmark runs for many minutes. Raise it for the launches made from here
  // (the harness uses this same puppeteer instance).
  const puppeteer = (await import('puppeteer')).default;
  const launch = puppeteer.launch.bind(puppeteer);
  const timeoutMs = (opts.quick ? 60 : 8 * 60) * 60_000;
  (puppeteer as { launch: typeof launch }).launch = (options?: Parameters<typeof launch>[0]) => launch({ ...options, protocolTimeout: timeoutMs });
  const dir = mkdtempSync(join(tmpdir(), 'bench-browser-'));
  try {
    // The options are baked into a two-line entry that imports the real one.
    const entry = join(dir, 'entry.ts');
    await writeFile(entry, `import { browserMain } from ${JSON.stringify(join(ROOT, 'bench', 'browser-entry.ts'))};\nawait browserMain(${JSON.stringify(opts)});\n`);
    return (await runInChromium(entry, {
      timeoutMs,
      assets: browserAssets(),
      allowConsoleErrors: true,
      onConsole: (type, text) => console.log(type === 'log' ? text : `[chromium ${type}] ${text}`),
      // The harness selects SwiftShader; for --gpu ask for the hardware adapter instead (later
      // switches win in Chromium's command line).
      extraArgs: opts.requireRealGpu ? ['--use-vulkan=native', '--use-webgpu-adapter=default', '--ignore-gpu-blocklist'] : [],
    })) as RemoteResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const gpuMemoryLine = (m: NonNullable<SuiteRun['gpuMemory']>) =>
  `GPU memory after the suite: ${(m.liveBytes / 2 ** 20).toFixed(2)} MiB live in ${m.liveBuffers} buffers (peak so far ${(m.peakBytes / 2 ** 20).toFixed(2)} MiB)`;

interface SuiteRun {
  readonly name: string;
  readonly description: string;
  readonly seconds: number;
  readonly result?: SuiteResult;
  readonly error?: string;
  /** GPU memory held through GpuContext after the suite (Node only): what a suite leaks shows here. */
  readonly gpuMemory?: { readonly liveBuffers: number; readonly liveBytes: number; readonly peakBytes: number };
}

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs('bench', argv, SPEC);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${helpText('bench', 'Code generator benchmarks.', SPEC)}`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    console.log(helpText('bench', 'Code generator benchmarks (npm run bench -- [options]).', SPEC).replace('fpet-webgpu bench', 'npm run bench --'));
    return 0;
  }
  const unknown = opts.suite.filter((s) => !SUITES.some((x) => x.name === s));
  if (unknown.length) {
    console.error(`bench: unknown suite ${unknown.join(', ')} (suites: ${SUITES.map((s) => s.name).join(', ')})`);
    return 2;
  }
  const selected = SUITES.filter((s) => opts.suite.includes(s.name));
  const outDir = resolve(opts.out);
  const started = new Date();
  const t0 = performance.now();

  const runtimeName = opts.runtime as Runtime;
  const packageNames = ['webgpu', 'typegpu', 'benchmark', 'wgsl_reflect', 'tsx', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', 'onnxruntime-node'];
  if (runtimeName === 'deno') packageNames.push('deno');
  if (runtimeName === 'browser') packageNames.push('puppeteer', 'onnxruntime-web');
  const packages: Record<string, string> = {};
  for (const name of packageNames) packages[name] = await packageVersion(name);
  const timing = opts.quick ? QUICK_TIMING : FULL_TIMING;
  const gpuClass = (software: boolean) =>
    software
      ? 'software adapter (the GPU work runs on the CPU): timings are CPU timings; compare ratios within one run, never absolute times across machines'
      : 'real GPU (hardware adapter)';
  const headerFor = (adapterLine: string, software: boolean | undefined, runtimeLine: string) => [
    adapterLine,
    ...(software === undefined ? [] : [`GPU class: ${gpuClass(software)}${opts.gpu ? ' (--gpu: real GPU required)' : ''}`]),
    `runtime: ${runtimeLine}`,
    `packages: ${Object.entries(packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `mode: ${opts.quick ? 'quick' : 'full'}; suites: ${selected.map((s) => s.name).join(', ')}; out: ${outDir}`,
  ];

  let header: string[];
  let runs: SuiteRun[];
  let adapter: AdapterReport | null = null;
  let runtimeInfo: Record<string, unknown>;
  let timingNote = 'benchmark.js deferred';
  let gpu: GpuContext | undefined;
  if (runtimeName === 'node') {
    // The GPU is requested even for GPU-free suites, so code generation uses the device's limits.
    let adapterLine: string;
    try {
      gpu = await requestGpu({ label: 'bench' });
      adapterLine = `adapter: ${formatAdapterReport(gpu.info)}`;
      adapter = gpu.info;
    } catch (e) {
      if (selected.some((s) => s.needsGpu) || opts.gpu) throw e;
      adapterLine = `adapter: none (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); compiling for the WebGPU default limits`;
    }
    const software = gpu ? isSoftwareAdapter(gpu) : undefined;
    // How JS waits for Dawn changes every step time on a software adapter (src/core/runtime/dawn-polling.ts).
    const runtime = `node ${process.version} (V8 ${process.versions.v8}) ${process.platform}/${process.arch}, ${cpus().length} CPUs, Dawn polls: ${dawnPolling()}`;
    runtimeInfo = { name: 'node', line: runtime, node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpus: cpus().length, dawnPolling: dawnPolling() };
    header = headerFor(adapterLine, software, runtime);
    console.log(header.join('\n'));
    if (opts.gpu && software) {
      console.error(`bench --gpu: the adapter is a software/fallback one, not a real GPU. On a GPU machine leave VK_ICD_FILENAMES unset so Dawn finds the hardware Vulkan driver.`);
      gpu?.destroy();
      return 2;
    }

    let active: Progress | undefined;
    const ctx: SuiteContext = {
      gpu,
      quick: opts.quick,
      limits: gpu ? deviceLimits(gpu) : undefined,
      timing,
      log: (line) => (active ? active.log(line) : console.log(line)),
      progress: (label, total, unit) => (active = new Progress({ label, total, unit, intervalMs: 10_000 })),
    };

    runs = [];
    for (const suite of selected) {
      console.log(`\n== ${suite.name}: ${suite.description}`);
      const s0 = performance.now();
      let outcome: Pick<SuiteRun, 'result' | 'error'>;
      try {
        const result = await suite.run(ctx);
        outcome = { result };
      } catch (e) {
        const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        console.error(`suite ${suite.name} failed: ${error}`);
        outcome = { error };
      } finally {
        active?.done();
        active = undefined;
      }
      const m = gpu?.memory;
      const gpuMemory = m && { liveBuffers: m.liveBuffers, liveBytes: m.liveBytes, peakBytes: m.peakBytes };
      runs.push({ name: suite.name, description: suite.description, seconds: (performance.now() - s0) / 1e3, ...outcome, gpuMemory });
      const done = runs[runs.length - 1]!;
      console.log(`== ${suite.name} done in ${formatDuration(done.seconds)}${done.gpuMemory ? `; ${gpuMemoryLine(done.gpuMemory)}` : ''}`);
    }
  } else {
    const remoteOpts: RemoteOptions = { suites: selected.map((s) => s.name), quick: opts.quick, requireRealGpu: opts.gpu };
    console.log(`running ${remoteOpts.suites.join(', ')} in ${runtimeName === 'deno' ? 'Deno (node_modules/.bin/deno, offline)' : 'headless Chromium (src/frontends/web/chromium.ts)'} ...`);
    const remote = runtimeName === 'deno' ? await runInDeno(remoteOpts) : await runInBrowser(remoteOpts);
    adapter = remote.adapter;
    runs = [...remote.runs];
    timingNote = `${remote.timingNote}, deferred`;
    runtimeInfo = { name: runtimeName, line: remote.runtimeLine };
    header = headerFor(remote.adapterLine, remote.softwareAdapter, remote.runtimeLine);
    console.log(`\n${header.join('\n')}`);
  }
  const seconds = (performance.now() - t0) / 1e3;

  const problems = runs.flatMap((r) => [...(r.error ? [`suite ${r.name} failed: ${r.error.split('\n')[0]}`] : []), ...(r.result?.problems ?? []).map((p) => `${r.name}: ${p}`)]);
  const md = [
    `# Benchmarks (${opts.quick ? 'quick' : 'full'})`,
    '',
    ...header.map((h) => `- ${h}`),
    `- started: ${started.toISOString()}; took ${formatDuration(seconds)} (${runs.map((r) => `${r.name} ${formatDuration(r.seconds)}`).join(', ')})`,
    `- timing: ${timingNote}, one step = submit + await queue.onSubmittedWorkDone(); variants compared side by side in ${timing.rounds} alternating rounds (whole-model suites in quick mode: 2 rounds, 4 samples); minSamples ${timing.minSamples}, maxTime ${timing.maxTime} s, minTime ${timing.minTime} s, ${timing.warmup} warm-up step(s). Software-driver timings: compare ratios within one run only.`,
    '',
    ...runs.flatMap((r) => [
      `## ${r.name}`,
      '',
      ...(r.gpuMemory ? [`${gpuMemoryLine(r.gpuMemory)}.`, ''] : []),
      ...(r.error ? ['```', r.error, '```', ''] : []),
      ...(r.result?.tables ?? []).flatMap((t) => [markdownTable(t), '']),
      ...(r.result?.charts ?? []).map((c) => `![${r.name}](${c.file})\n`),
    ]),
    '## Problems',
    '',
    ...(problems.length ? problems.map((p) => `- ${p}`) : ['none']),
    '',
  ].join('\n');

  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(join(outDir, 'results.md'), md);
  await writeFileAtomic(join(outDir, 'results.json'), toJson({
    mode: opts.quick ? 'quick' : 'full',
    started: started.toISOString(),
    seconds,
    adapter,
    runtime: runtimeInfo,
    packages,
    timing,
    suites: Object.fromEntries(runs.map((r) => [r.name, { seconds: r.seconds, error: r.error, tables: r.result?.tables, data: r.result?.data, problems: r.result?.problems }])),
    problems,
  }));
  for (const r of runs) for (const c of r.result?.charts ?? []) await writeFileAtomic(join(outDir, c.file), c.svg);

  console.log(`\n${md}`);
  console.log(`wrote ${join(outDir, 'results.md')}, results.json and ${runs.flatMap((r) => r.result?.charts ?? []).map((c) => c.file).join(', ')}`);
  gpu?.destroy();
  return problems.length ? 1 : 0;
}

// Dawn can keep the process alive after the work is done: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
