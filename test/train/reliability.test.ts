// Nothing a user feeds the trainer crashes it or loses work: run states that lie, options that do
// not match the checkpoint, a run folder in the way, a batch beyond the device's limits, a device
// lost mid-run (the last checkpoint stays intact and --resume continues), a stop request mid-epoch,
// a kill between the files of a checkpoint set, SIGTERM to the CLI, and 1,000 steps with constant
// GPU memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { TEMP_PREFIX, tempName } from '../../src/core/util/temp-names.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, modelParamShapes, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { TRAIN_DEFAULTS, prepareRun, trainRun, type TrainOptions } from '../../src/fpet/train/run.ts';
import { saveWeights } from '../../src/fpet/train/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../../src/core/io/safetensors.ts';
import { TrainStep } from '../../src/fpet/train/train-step.ts';
import { makeSplits, batches } from '../../src/fpet/data/dataset.ts';
import { loadDataset } from '../../src/fpet/data/mnist.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { gpu } from '../support/gpu.ts';
import { compileGraph } from '../../codegen/compile.ts';
import { deviceLimits, Program } from '../../src/core/runtime/program.ts';
import { GraphBuilder } from '../../src/core/ir/graph.ts';

const tiny = { ...VIT_PRESETS['vit-mnist'], patchSize: 7, dim: 16, depth: 2, heads: 2 };
const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({ vit: tiny, batch: 16, pet: { ...DEFAULT_PET.adaptformer, dim: 4 }, ...over });
const options = (dir: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  ...TRAIN_DEFAULTS,
  spec: spec(),
  data: { dataset: 'mnist', trainSize: 32, testSize: 32, splitSeed: 0 },
  epochs: 2, warmupEpochs: 0.2, lr: 3e-3, evalBatch: 32, logEvery: 1,
  outDir: dir, quiet: true, ...over,
});
const fresh = (p: string) => mkdtempSync(join(tmpdir(), p));

/** Rewrites a checkpoint's run state with `edit` (the tensors stay). */
async function editRunState(path: string, edit: (state: Record<string, unknown>) => unknown): Promise<void> {
  const { tensors, metadata } = await readSafetensors(path);
  const state = JSON.parse(metadata.state!) as Record<string, unknown>;
  const entries = new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }]));
  await writeSafetensors(path, entries, { ...metadata, state: JSON.stringify(edit(state)) });
}

test('resume: run states that lie and options that differ are refused before any GPU work, naming the field', async () => {
  const ctx = await gpu();
  const dir = fresh('fpet-lie-');
  await trainRun(ctx, await prepareRun(options(dir, { epochs: 1 })));
  const ck = join(dir, 'checkpoint.safetensors');
  const lies: [string, (s: Record<string, unknown>) => unknown, RegExp][] = [
    ['non-integer step', (s) => ({ ...s, step: 1.5 }), /metadata\.state\.step must be an integer/],
    ['huge step', (s) => ({ ...s, step: 1e15 }), /metadata\.state\.step must be an integer in \[0, 1000000000\]/],
    ['history not a list', (s) => ({ ...s, history: { epoch: 1 } }), /metadata\.state\.history must be/],
    ['no spec', (s) => ({ ...s, spec: undefined }), /metadata\.state\.spec/],
    ['a depth of 5000', (s) => ({ ...s, spec: { ...(s.spec as object), vit: { ...((s.spec as { vit: object }).vit), depth: 5000 } } }), /depth must be an integer in \[1, 64\]/],
  ];
  for (const [what, edit, message] of lies) {
    const copy = fresh('fpet-lie-copy-');
    const path = join(copy, 'checkpoint.safetensors');
    writeFileSync(path, readFileSync(ck));
    await editRunState(path, edit);
    await assert.rejects(prepareRun(options(copy, { resume: path })), message, what);
  }
  // The same file with other options: named, with the value to use.
  await assert.rejects(prepareRun(options(dir, { resume: ck, spec: spec({ batch: 8 }) })), /trained with --batch 16, not 8; resume with --batch 16/);
  await assert.rejects(prepareRun(options(dir, { resume: ck, seed: 3 })), /trained with --seed 0, not 3/);
  await assert.rejects(prepareRun(options(dir, { resume: ck, epochs: 1, spec: spec({ merge: { ...DEFAULT_MERGE, blocks: [1] } }) })), /trained with another model/);
  // An existing run needs --resume or --force; nothing is created for a refused run.
  await assert.rejects(prepareRun(options(dir)), /already holds a run .*--resume .*--force/);
  await prepareRun(options(dir, { force: true }));
  const nowhere = join(tmpdir(), `fpet-never-${process.pid}`);
  await assert.rejects(prepareRun(options(nowhere, { spec: spec({ merge: { ...DEFAULT_MERGE, blocks: [7] } }) })), /merge block 7 is outside the 2 blocks \(0\.\.1\)/);
  assert.equal(existsSync(nowhere), false, 'a refused run creates no folder');
});

test('a batch beyond the device\'s binding limit names the option and the largest batch that fits', async () => {
  const ctx = await gpu();
  const dir = fresh('fpet-limit-');
  // 16384 images × 17 tokens × 64 (the MLP) × 4 bytes overflows the 128 MiB binding of lavapipe.
  const s = spec({ vit: { ...tiny, dim: 64, heads: 4 } });
  const p = await prepareRun(options(dir, { evalBatch: 65536, spec: s }));
  let message = '';
  await assert.rejects(trainRun(ctx, p), (e: Error) => ((message = e.message), /--eval-batch 65536 is too large for this device: .*(binding|dispatch) limit.*The largest --eval-batch that fits is about \d+/s.test(e.message)));
  // The batch it suggests plans within every limit of this device.
  const suggested = Number(/fits is about (\d+)/.exec(message)![1]);
  assert.ok(suggested > 0 && suggested < 65536);
  assert.doesNotThrow(() => compileGraph(buildModel({ ...s, batch: suggested }).graph, { limits: deviceLimits(ctx) }));
  assert.equal(existsSync(join(dir, 'checkpoint.safetensors')), false, 'nothing written');
});

test('a lost device stops with a clear message, the last checkpoint intact, and --resume continues', async () => {
  const dir = fresh('fpet-lost-');
  const doomed = await requestGpu({ label: 'doomed' });
  // 2 steps per epoch: the epoch-1 checkpoint is written, then the device dies during epoch 2.
  const p = await prepareRun(options(dir, { epochs: 3, onStep: (s) => s === 3 && doomed.device.destroy() }));
  await assert.rejects(trainRun(doomed, p), /GPU device was lost .*last checkpoint .* is intact; continue with --resume/s);
  const ck = join(dir, 'checkpoint.safetensors');
  const state = JSON.parse((await readSafetensors(ck)).metadata.state!) as { step: number; epoch: number };
  assert.deepEqual([state.epoch, state.step], [1, 2]);
  const ctx = await gpu();
  const r = await trainRun(ctx, await prepareRun(options(dir, { epochs: 3, resume: ck })));
  assert.equal(r.step, 6);
  assert.equal(r.history.length, 3);
});

test('a stop request mid-epoch writes the step reached; a kill between the set\'s files is repaired; stale temporaries go', async () => {
  const ctx = await gpu();
  const dir = fresh('fpet-stop-');
  let stopNow = false;
  const r = await trainRun(ctx, await prepareRun(options(dir, { data: { dataset: 'mnist', trainSize: 64, testSize: 32, splitSeed: 0 }, onStep: (s) => (stopNow = s === 3), shouldStop: () => stopNow })));
  assert.equal(r.interrupted, true);
  const ck = join(dir, 'checkpoint.safetensors');
  assert.equal(JSON.parse((await readSafetensors(ck)).metadata.state!).step, 3);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).step, 3);
  // Simulate a kill after the checkpoint was written but before the adapters: an older adapters
  // file, and a temporary file a killed write left behind.
  const adapters = await readSafetensors(join(dir, 'adapters.safetensors'));
  const older = new Map([...adapters.tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: new Float32Array((t.data as Float32Array).length) }]));
  await writeSafetensors(join(dir, 'adapters.safetensors'), older, { ...adapters.metadata, step: '1' });
  // A killed writer's temporary (its process is gone), and another program's hidden .tmp file.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = tempName('checkpoint.safetensors', dead, 'abcd1234');
  writeFileSync(join(dir, stale), 'partial');
  writeFileSync(join(dir, '.editor-swap.tmp'), 'another program\'s file');
  const data = { dataset: 'mnist' as const, trainSize: 64, testSize: 32, splitSeed: 0 };
  // A start that trains nothing (no epoch left in this call) still repairs the set.
  await trainRun(ctx, await prepareRun(options(dir, { data, resume: ck, epochs: 2, stopAfterEpochs: 0 })));
  const repaired = await readSafetensors(join(dir, 'adapters.safetensors'));
  assert.equal(repaired.metadata.step, '3', 'adapters rewritten from the checkpoint');
  assert.deepEqual([...(repaired.tensors.get('head.bias')!.data as Float32Array)], [...((await readSafetensors(ck)).tensors.get('head.bias')!.data as Float32Array)]);
  const done = await trainRun(ctx, await prepareRun(options(dir, { data, resume: ck, epochs: 2 })));
  assert.equal(done.step, 8);
  assert.equal(existsSync(join(dir, stale)), false, 'the killed write\'s temporary is removed');
  assert.equal(readFileSync(join(dir, '.editor-swap.tmp'), 'utf8'), 'another program\'s file', 'other files in --out are left alone');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(TEMP_PREFIX)), [], 'no temporary of ours left');
  const a = await readSafetensors(join(dir, 'adapters.safetensors'));
  assert.equal(a.metadata.step, '8');
  const c = await readSafetensors(ck);
  for (const [k, t] of a.tensors) assert.deepEqual([...(t.data as Float32Array)], [...(c.tensors.get(k)!.data as Float32Array)], `${k}: adapters and checkpoint agree`);
});

test('NaN weights in a backbone are refused at load, naming the tensor', async () => {
  const dir = fresh('fpet-nan-');
  const s = { ...spec(), vit: { ...tiny, numClasses: 10 } };
  const w = initialWeights(s, 0);
  w.get('blocks.1.attn.qkv.weight')![5] = NaN;
  const shapes = modelParamShapes(s);
  await saveWeights(join(dir, 'bad.safetensors'), new Map([...w].filter(([k]) => !k.includes('adapter'))), shapes, { kind: 'model' });
  const p = await prepareRun(options(join(dir, 'out'), { backbone: join(dir, 'bad.safetensors') }));
  await assert.rejects(trainRun(await gpu(), p), /bad\.safetensors: tensor blocks\.1\.attn\.qkv\.weight has a non-finite value NaN at index 5/);
  assert.equal(existsSync(join(dir, 'out')), false, 'nothing written');
  // --check-weights false lets it through (to the loss check).
  await assert.rejects(trainRun(await gpu(), await prepareRun(options(join(dir, 'out2'), { backbone: join(dir, 'bad.safetensors'), checkWeights: false }))), /the loss became NaN/);
});

const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

test('1,000 training steps: GPU buffers and live bytes constant after the first step, RSS flat', async () => {
  const ctx = await gpu();
  const ds = loadDataset('mnist');
  const { train } = makeSplits(ds, { trainSize: 64, testSize: 16, seed: 0 });
  const s: ModelSpec = { ...spec(), vit: { ...tiny, numClasses: 10 }, training: { dropout: 0.1, dropPath: 0.1 } };
  const step = await TrainStep.create(ctx, s, initialWeights(s, 0));
  const batch = [...batches(train, 16, { dropLast: true })];
  const samples: { buffers: number; bytes: number; rss: number; js: number }[] = [];
  for (let i = 1; i <= 1000; i++) {
    step.run(batch[i % batch.length]!, 1e-3, i, 0);
    if (i % 50 === 0) {
      await step.loss();
      collectGarbage(); // RSS right after a GC: garbage not yet collected is noise, not a leak
      const m = process.memoryUsage();
      samples.push({ buffers: ctx.memory.liveBuffers, bytes: ctx.memory.liveBytes, rss: m.rss, js: m.heapUsed + m.external });
    }
  }
  step.destroy();
  assert.ok(samples.every((x) => x.buffers === samples[0]!.buffers && x.bytes === samples[0]!.bytes), `GPU memory changed: ${JSON.stringify(samples.map((x) => [x.buffers, x.bytes]))}`);
  // Least-squares slopes over steps 250..1000 (after warm-up), in bytes per step, of the JS heap
  // plus external memory (exact after a GC) and of RSS (coarse: the driver's native allocations
  // move RSS by ±30 MB with no trend; 3,000 steps measured flat). A leak of one readback buffer
  // per step would be ≥ 64 KiB/step; keeping each batch's images alive, 49 KiB/step in JS memory.
  const tail = samples.slice(4);
  const slopeOf = (v: (x: (typeof tail)[number]) => number) => {
    const xs = tail.map((_, k) => k * 50), mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = tail.reduce((a, b) => a + v(b), 0) / tail.length;
    return xs.reduce((a, x, k) => a + (x - mx) * (v(tail[k]!) - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  };
  const rss = slopeOf((x) => x.rss), js = slopeOf((x) => x.js);
  console.log(`GPU: ${samples[0]!.buffers} buffers, ${samples[0]!.bytes} bytes throughout; over the last 750 steps JS heap + external ${(js / 1024).toFixed(3)} KiB/step, RSS ${(rss / 1024).toFixed(2)} KiB/step`);
  assert.ok(js < 16 * 1024, `JS heap + external memory grows ${(js / 1024).toFixed(2)} KiB per step`);
  assert.ok(rss < 64 * 1024, `RSS grows ${(rss / 1024).toFixed(1)} KiB per step`);
});

test('SIGTERM to the CLI stops at a step boundary with a checkpoint; --resume finishes the run', { timeout: 600_000 }, async () => {
  const dir = fresh('fpet-sigterm-');
  const args = ['--import', 'tsx', 'src/frontends/cli/main.ts', 'train', '--merge', 'none', '--train-size', '64', '--test-size', '16', '--batch', '8', '--eval-batch', '16', '--epochs', '2', '--log-every', '1', '--out', dir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // The first loss shown means training runs: ask it to stop.
    if (/loss \d/.test(err) && !child.killed) child.kill('SIGTERM');
  });
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  assert.equal(status, 130, err.slice(-2000));
  assert.match(err, /SIGTERM: finishing this step and writing the checkpoint/);
  const ck = join(dir, 'checkpoint.safetensors');
  assert.ok(existsSync(ck), 'checkpoint written');
  const step = JSON.parse((await readSafetensors(ck)).metadata.state!).step as number;
  assert.ok(step >= 1 && step < 16, `stopped mid-run at step ${step}`);
  rmSync(join(dir, 'result.json'), { force: true });
});

test('a GPU validation error while creating a program names the kernel and the sizes it was allocating', async () => {
  const ctx = await gpu();
  const limits = deviceLimits(ctx);
  // A tensor one element past the device's binding limit, planned as if the limit were larger:
  // the device itself refuses the binding (caught by the error scope of Program.create).
  const n = limits.maxStorageBufferBindingSize / 4 + 1;
  const b = new GraphBuilder();
  b.output('y', b.input('x', [n]).exp());
  const plan = compileGraph(b.build(), { limits: { ...limits, maxStorageBufferBindingSize: 2 ** 31 } });
  await assert.rejects(Program.create(ctx, plan), (e: Error) => {
    assert.match(e.message, /creating the program \(1 kernels in 1 dispatches; arenas: params [\d.]+ MiB, inputs [\d.]+ MiB, work [\d.]+ MiB; largest tensor %\d+ \w+ \[\d+\] [\d.]+ MiB\): GPU validation error/);
    assert.ok(e.message.includes(plan.kernels[0]!.name), `the message names the kernel: ${e.message.slice(0, 400)}`);
    return true;
  });
});
