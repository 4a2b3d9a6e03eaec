// Benchmarks of the code generator: `npm run bench -- [--quick] [--suite matmul,fusion,memory] [--out DIR]`.
// Prints the adapter, runtime and package versions, runs the suites (benchmark.js), prints a
// Markdown summary and writes <out>/results.json, <out>/results.md and one SVG chart per suite.
// A suite is a module exporting a Suite (bench/common.ts); add new ones to SUITES.

import { mkdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../src/cli/args.ts';
import { formatAdapterReport, requestGpu, type GpuContext } from '../src/runtime/device.ts';
import { deviceLimits } from '../src/runtime/executor.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { formatDuration, Progress } from '../src/util/progress.ts';
import { FULL_TIMING, QUICK_TIMING, markdownTable, toJson, type Suite, type SuiteContext, type SuiteResult } from './common.ts';
import { fusionSuite } from './suites/fusion.ts';
import { matmulSuite } from './suites/matmul.ts';
import { memorySuite } from './suites/memory.ts';

const SUITES: readonly Suite[] = [matmulSuite, fusionSuite, memorySuite];

const SPEC = {
  quick: { type: 'boolean', default: false, help: 'fewer shapes and samples (a few minutes on 2 CPU cores)' },
  suite: { type: 'list', default: SUITES.map((s) => s.name), help: `comma-separated suites (${SUITES.map((s) => s.name).join(', ')})` },
  out: { type: 'string', default: 'runs/bench', help: 'output directory for results.json, results.md and the charts' },
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

interface SuiteRun {
  readonly name: string;
  readonly description: string;
  readonly seconds: number;
  readonly result?: SuiteResult;
  readonly error?: string;
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
    console.log(helpText('bench', 'Code generator benchmarks (npm run bench -- [options]).', SPEC).replace('npm start -- bench', 'npm run bench --'));
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

  // The GPU is requested even for GPU-free suites, so code generation uses the device's limits.
  let gpu: GpuContext | undefined;
  let adapterLine: string;
  try {
    gpu = await requestGpu({ label: 'bench' });
    adapterLine = `adapter: ${formatAdapterReport(gpu.info)}`;
  } catch (e) {
    if (selected.some((s) => s.needsGpu)) throw e;
    adapterLine = `adapter: none (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); compiling for the WebGPU default limits`;
  }
  const packages: Record<string, string> = {};
  for (const name of ['webgpu', 'typegpu', 'benchmark', 'wgsl_reflect', 'tsx']) packages[name] = await packageVersion(name);
  const runtime = `node ${process.version} (V8 ${process.versions.v8}) ${process.platform}/${process.arch}, ${cpus().length} CPUs`;
  const header = [
    adapterLine,
    `runtime: ${runtime}`,
    `packages: ${Object.entries(packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `mode: ${opts.quick ? 'quick' : 'full'}; suites: ${selected.map((s) => s.name).join(', ')}; out: ${outDir}`,
  ];
  console.log(header.join('\n'));

  const timing = opts.quick ? QUICK_TIMING : FULL_TIMING;
  let active: Progress | undefined;
  const ctx: SuiteContext = {
    gpu,
    quick: opts.quick,
    limits: gpu ? deviceLimits(gpu.device) : undefined,
    timing,
    log: (line) => (active ? active.log(line) : console.log(line)),
    progress: (label, total, unit) => (active = new Progress({ label, total, unit, intervalMs: 10_000 })),
  };

  const runs: SuiteRun[] = [];
  for (const suite of selected) {
    console.log(`\n== ${suite.name}: ${suite.description}`);
    const s0 = performance.now();
    try {
      const result = await suite.run(ctx);
      runs.push({ name: suite.name, description: suite.description, seconds: (performance.now() - s0) / 1e3, result });
    } catch (e) {
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.error(`suite ${suite.name} failed: ${error}`);
      runs.push({ name: suite.name, description: suite.description, seconds: (performance.now() - s0) / 1e3, error });
    } finally {
      active?.done();
      active = undefined;
    }
    console.log(`== ${suite.name} done in ${formatDuration(runs[runs.length - 1]!.seconds)}`);
  }
  const seconds = (performance.now() - t0) / 1e3;

  const problems = runs.flatMap((r) => [...(r.error ? [`suite ${r.name} failed: ${r.error.split('\n')[0]}`] : []), ...(r.result?.problems ?? []).map((p) => `${r.name}: ${p}`)]);
  const md = [
    `# Benchmarks (${opts.quick ? 'quick' : 'full'})`,
    '',
    ...header.map((h) => `- ${h}`),
    `- started: ${started.toISOString()}; took ${formatDuration(seconds)} (${runs.map((r) => `${r.name} ${formatDuration(r.seconds)}`).join(', ')})`,
    `- timing: benchmark.js deferred, one step = submit + await queue.onSubmittedWorkDone(); minSamples ${timing.minSamples}, maxTime ${timing.maxTime} s, minTime ${timing.minTime} s, ${timing.warmup} warm-up step(s). Software-driver timings: compare ratios within one run only.`,
    '',
    ...runs.flatMap((r) => [
      `## ${r.name}`,
      '',
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
    adapter: gpu?.info ?? null,
    runtime: { node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpus: cpus().length },
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
