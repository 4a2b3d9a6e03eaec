// Every generated kernel must compile in both WebGPU implementations, not only in the one the
// other tests run on: Dawn/Tint (Node, this process) and wgpu/naga (Deno, a child process running
// test/deno/compile-kernels.ts through the same src/core/runtime/device.ts). The kernels: vit-micro
// forward and forward+backward (fused and unfused), the golden-WGSL graphs (read from
// test/codegen/golden/, which golden.test.ts keeps equal to the generator's output), and random
// graphs from a fixed seed, forward+backward, fused and unfused.
// Deno runs offline, as in test/runtime/smoke-deno.test.ts: --no-remote/--no-npm/--no-config/
// --no-lock, DENO_NO_UPDATE_CHECK=1 and a throwaway DENO_DIR.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { crossEntropy } from '../../src/core/ir/nn.ts';
import { buildVit, VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { compileGraph, DEFAULT_LIMITS } from '../../codegen/compile.ts';
import { withErrorScope, type AdapterReport } from '../../src/core/runtime/device.ts';
import { gpu } from '../support/gpu.ts';
import { randInt, rngFrom } from '../support/random.ts';
import { STEPS, buildRandomGraph } from '../support/random-graphs.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deno = join(root, 'node_modules', '.bin', 'deno');
const goldenDir = fileURLToPath(new URL('./golden/', import.meta.url));

interface KernelSource {
  name: string;
  wgsl: string;
  entryPoint: string;
}

function vitMicro(backward: boolean): Graph {
  const c = VIT_PRESETS['vit-micro'];
  const b = new GraphBuilder();
  const images = b.input('images', [2, c.inChannels, c.imageSize, c.imageSize]);
  const { logits } = buildVit(b, images, c, (name, shape) => b.param(name, shape, { trainable: true }));
  b.output('logits', logits);
  if (!backward) return b.build();
  b.output('loss', crossEntropy(logits, b.input('onehot', [2, c.numClasses])));
  return gradients(b.build(), { loss: 'loss' });
}

/** The random graphs of random-graphs.test.ts, from fixed seeds (forward + backward). */
function randomGraph(seed: number): Graph {
  const rng = rngFrom(seed);
  const program = { shape: [1 + randInt(rng, 3), 1 + randInt(rng, 9), 1 + randInt(rng, 37)] as [number, number, number], steps: Array.from({ length: 2 + randInt(rng, 5) }, () => STEPS[randInt(rng, STEPS.length)]!), seed };
  const { graph } = buildRandomGraph(program);
  return gradients(graph, { loss: 'loss' });
}

const RANDOM_SEEDS = [101, 202, 303, 404, 505, 606, 707, 808, 909, 1010];

/** Distinct WGSL modules of every plan, first name kept; also how many kernels they stand for. */
function collectKernels(): { kernels: KernelSource[]; planKernels: number; sources: Record<string, number> } {
  const byWgsl = new Map<string, KernelSource>();
  const sources: Record<string, number> = {};
  let planKernels = 0;
  const add = (source: string, name: string, wgsl: string, entryPoint = 'main') => {
    planKernels++;
    if (byWgsl.has(wgsl)) return;
    byWgsl.set(wgsl, { name: `${source}/${name}`, wgsl, entryPoint });
    sources[source] = (sources[source] ?? 0) + 1;
  };
  const plans: [string, Graph][] = [['vit-micro-fwd', vitMicro(false)], ['vit-micro-fwdbwd', vitMicro(true)], ...RANDOM_SEEDS.map((s): [string, Graph] => [`random-${s}`, randomGraph(s)])];
  for (const [source, graph] of plans) {
    for (const fuse of [true, false]) {
      const plan = compileGraph(graph, { fuse, limits: DEFAULT_LIMITS });
      const batched = plan.steps.filter((s) => s.parts.length > 1).map((s) => s.kernel);
      for (const k of [...plan.kernels, ...batched]) add(`${source}${fuse ? '' : '-unfused'}`, k.name, k.wgsl, k.entryPoint);
    }
  }
  const golden = readdirSync(goldenDir).filter((f) => f.endsWith('.wgsl')).sort();
  assert.ok(golden.length > 0, 'no golden WGSL files');
  for (const f of golden) add('golden', f, readFileSync(join(goldenDir, f), 'utf8'));
  return { kernels: [...byWgsl.values()], planKernels, sources };
}

interface DenoResult {
  report: AdapterReport;
  total: number;
  compiled: number;
  failures: { name: string; error: string }[];
  uncaptured: string[];
  ms: number;
}

function runDeno(listPath: string, denoDir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ['run', '-A', '--no-config', '--no-lock', '--no-remote', '--no-npm', 'test/deno/compile-kernels.ts', listPath], {
      cwd: root,
      env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function compileInDawn(kernels: readonly KernelSource[]): Promise<{ compiled: number; failures: { name: string; error: string }[]; ms: number }> {
  const ctx = await gpu();
  const { device } = ctx;
  ctx.takeErrors();
  const failures: { name: string; error: string }[] = [];
  let compiled = 0;
  const started = performance.now();
  for (const k of kernels) {
    try {
      await withErrorScope(device, async () => {
        const module = device.createShaderModule({ label: k.name, code: k.wgsl });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) throw new Error(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message.trim()}`).join('\n'));
        device.createComputePipeline({ label: k.name, layout: 'auto', compute: { module, entryPoint: k.entryPoint } });
      }, `compiling ${k.name}`);
      compiled++;
    } catch (e) {
      failures.push({ name: k.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  for (const e of ctx.takeErrors()) failures.push({ name: '(uncaptured)', error: e.message });
  return { compiled, failures, ms: Math.round(performance.now() - started) };
}

/** Type error (u32 into an f32 buffer): every WGSL compiler rejects it. */
const CONTROL_WGSL = `@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  buf0[gid.x] = gid.x;
}
`;

const fmtFailures = (fs: readonly { name: string; error: string }[]) => fs.slice(0, 5).map((f) => `${f.name}:\n${f.error}`).join('\n\n') + (fs.length > 5 ? `\n... and ${fs.length - 5} more` : '');

test('every generated kernel compiles in Dawn (Node) and in wgpu (Deno)', { timeout: 180_000 }, async () => {
  const { kernels, planKernels, sources } = collectKernels();
  console.log(`${kernels.length} distinct WGSL modules from ${planKernels} kernels: ${JSON.stringify(sources)}`);
  // A control that both compilers must reject, so a harness that ignores errors cannot pass.
  const control: KernelSource = { name: 'control/invalid', wgsl: CONTROL_WGSL, entryPoint: 'main' };
  const all = [...kernels, control];
  const tmp = mkdtempSync(join(tmpdir(), 'compile-kernels-'));
  try {
    const listPath = join(tmp, 'kernels.json');
    writeFileSync(listPath, JSON.stringify(all));
    // Deno compiles in its own process while Dawn compiles in this one.
    const denoRun = runDeno(listPath, join(tmp, 'deno-dir'));
    const dawn = await compileInDawn(all);
    assert.deepEqual(dawn.failures.filter((f) => f.name === control.name).length, 1, 'Dawn accepted the invalid control module');
    dawn.failures = dawn.failures.filter((f) => f.name !== control.name);
    const r = await denoRun;
    const output = `${r.stdout}\n${r.stderr}`.trim();

    console.log(`Dawn (Node): ${dawn.compiled}/${kernels.length} kernels compiled in ${dawn.ms} ms (and the invalid control rejected)`);
    assert.deepEqual(dawn.failures.length, 0, `Dawn rejected ${dawn.failures.length} kernels:\n${fmtFailures(dawn.failures)}`);
    assert.equal(dawn.compiled, kernels.length);

    assert.equal(r.status, 0, `deno failed (exit ${r.status}):\n${output.slice(-4000)}`);
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `no RESULT line in:\n${output.slice(-4000)}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as DenoResult;
    console.log(r.stdout.split('\n').find((l) => l.startsWith('[deno]')));
    console.log(`wgpu (Deno): ${result.compiled}/${kernels.length} kernels compiled in ${result.ms} ms (and the invalid control rejected)`);
    assert.equal(result.report.runtime, 'deno');
    assert.equal(result.total, all.length);
    assert.equal(result.failures.filter((f) => f.name === control.name).length, 1, 'wgpu accepted the invalid control module');
    result.failures = result.failures.filter((f) => f.name !== control.name);
    assert.equal(result.failures.length, 0, `wgpu rejected ${result.failures.length} kernels:\n${fmtFailures(result.failures)}`);
    assert.deepEqual(result.uncaptured, []);
    assert.equal(result.compiled, kernels.length);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
