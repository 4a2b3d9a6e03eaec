// Training end to end on real data (MNIST), resuming, checkpoints and CLI errors. A tiny ViT
// geometry on 28×28 images keeps each run to seconds on a software adapter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DEFAULT_MERGE, DEFAULT_PET, modelParamShapes, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { TRAIN_DEFAULTS, prepareRun, trainRun, type TrainOptions } from '../../src/fpet/train/run.ts';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { loadBackbone, loadWeights, saveWeights } from '../../src/fpet/train/checkpoint.ts';
import { learningRate } from '../../src/fpet/train/schedule.ts';
import { parseArgs } from '../../src/frontends/cli/args.ts';
import { TRAIN_OPTIONS } from '../../src/frontends/cli/train-options.ts';
import { gpu } from '../support/gpu.ts';

const train = async (ctx: GpuContext, o: TrainOptions) => trainRun(ctx, await prepareRun(o));

const tiny = { ...VIT_PRESETS['vit-mnist'], patchSize: 7, dim: 16, depth: 2, heads: 2 };
const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({ vit: tiny, batch: 16, pet: DEFAULT_PET.full, ...over });
const options = (dir: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  ...TRAIN_DEFAULTS,
  spec: spec(),
  data: { dataset: 'mnist', trainSize: 128, testSize: 64, splitSeed: 0 },
  epochs: 3, warmupEpochs: 0.2, lr: 3e-3, evalBatch: 32, logEvery: 1,
  outDir: dir, quiet: true, ...over,
});

test('the schedule follows timm semantics in epoch mode (docs/method.md, 5)', () => {
  const c = { lr: 1e-3, warmupLr: 1e-6, minLr: 1e-5, warmupEpochs: 10, epochs: 100 };
  const lr = (e: number) => learningRate(c, 'epoch', e);
  assert.equal(lr(0), 1e-6);
  assert.equal(lr(1), 1e-6);
  assert.ok(Math.abs(lr(2) - 1.009e-4) < 1e-9);
  assert.ok(Math.abs(lr(10) - 9.0010e-4) < 1e-7);
  assert.ok(Math.abs(lr(11) - 9.758e-4) < 1e-7);
  assert.ok(Math.abs(lr(99) - 1.098e-5) < 1e-8);
});

test('a short run on MNIST from the shipped backbone: loss decreases, accuracy beats chance, files are written', async () => {
  const ctx = await gpu();
  const dir = mkdtempSync(join(tmpdir(), 'fpet-train-'));
  const r = await train(ctx, options(dir, {
    spec: { vit: VIT_PRESETS['vit-mnist'], batch: 32, pet: DEFAULT_PET.linear },
    backbone: 'models/vit-mnist-fashion.safetensors',
    data: { dataset: 'mnist', trainSize: 256, testSize: 100, splitSeed: 0 },
    epochs: 4, lr: 1e-2, dropPath: 0, evalEvery: 4, evalBatch: 50,
  }));
  const first = r.history[0]!.loss, last = r.history[r.history.length - 1]!.loss;
  console.log(`losses per epoch: ${r.history.map((h) => h.loss.toFixed(3)).join(' ')}; accuracy ${(100 * r.finalAccuracy).toFixed(1)}%`);
  assert.ok(last < first - 0.3, `loss should fall: ${first} -> ${last}`);
  assert.ok(r.finalAccuracy > 0.25, `accuracy ${r.finalAccuracy} should beat 10% chance clearly`);
  for (const f of ['checkpoint.safetensors', 'adapters.safetensors', 'result.json', 'curves.svg']) assert.ok(existsSync(join(dir, f)), f);
  assert.match(readFileSync(join(dir, 'curves.svg'), 'utf8'), /test accuracy/);
});

test('resuming from a checkpoint gives the same parameters as an uninterrupted run (AdaptFormer + FPET)', async () => {
  const ctx = await gpu();
  const s = spec({ pet: { ...DEFAULT_PET.adaptformer, dim: 4 }, merge: { ...DEFAULT_MERGE, blocks: [1] } });
  const a = mkdtempSync(join(tmpdir(), 'fpet-a-')), b = mkdtempSync(join(tmpdir(), 'fpet-b-'));
  const base = { spec: s, epochs: 2, evalEvery: 2 };
  await train(ctx, options(a, base));
  await train(ctx, options(b, { ...base, stopAfterEpochs: 1 }));
  await train(ctx, options(b, { ...base, resume: join(b, 'checkpoint.safetensors') }));
  const shapes = modelParamShapes({ ...s, vit: { ...s.vit, numClasses: 10 } });
  const names = [...shapes.keys()].filter((n) => n.includes('adapter') || n.startsWith('head.'));
  const wa = (await loadWeights(join(a, 'adapters.safetensors'), new Map(names.map((n) => [n, shapes.get(n)!])))).weights;
  const wb = (await loadWeights(join(b, 'adapters.safetensors'), new Map(names.map((n) => [n, shapes.get(n)!])))).weights;
  for (const n of names) assert.deepEqual([...wb.get(n)!], [...wa.get(n)!], `parameter ${n} differs after resuming`);
});

test('checkpoint round trip and errors that name the tensor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-ck-'));
  const shapes = new Map([['head.weight', [2, 3]], ['head.bias', [2]]]);
  const w = new Map([['head.weight', Float32Array.from([1, 2, 3, 4, 5, 6])], ['head.bias', Float32Array.from([7, 8])]]);
  const path = join(dir, 'w.safetensors');
  await saveWeights(path, w, shapes, { kind: 'adapters' });
  const back = await loadWeights(path, shapes);
  assert.deepEqual([...back.weights.get('head.weight')!], [1, 2, 3, 4, 5, 6]);
  assert.equal(back.metadata.kind, 'adapters');
  await assert.rejects(loadWeights(path, new Map([['head.weight', [3, 2]], ['head.bias', [2]]])), /head\.weight/);
  await assert.rejects(loadWeights(path, new Map([...shapes, ['blocks.0.adapter_mlp.down.weight', [8, 16]]])), /blocks\.0\.adapter_mlp\.down\.weight/);
  writeFileSync(join(dir, 'bad.safetensors'), 'not a safetensors file at all');
  await assert.rejects(loadWeights(join(dir, 'bad.safetensors'), shapes), /bad\.safetensors/);
  await assert.rejects(loadBackbone(path, tiny), /patch_embed\.proj\.weight/);
  await assert.rejects(loadWeights(join(dir, 'missing.safetensors'), shapes), /no such model file/);
});

test('CLI: argument errors are clear and the process exits with status 2', () => {
  assert.throws(() => parseArgs('train', ['--epoch', '3'], TRAIN_OPTIONS), /unknown option --epoch/);
  assert.throws(() => parseArgs('train', ['--method', 'prompt'], TRAIN_OPTIONS), /--method must be one of adaptformer, lora, full, linear/);
  assert.throws(() => parseArgs('train', ['--epochs', 'many'], TRAIN_OPTIONS), /--epochs must be a number/);
  assert.throws(() => parseArgs('train', ['--batch', '0'], TRAIN_OPTIONS), /--batch must be in \[1, 65536\]/);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', 'train', '--merge-blocks', '9', '--backbone', 'random', '--epochs', '1'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /merge block 9 is outside the 6 blocks \(0\.\.5\)/);
  const q = spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', 'train', '--merge-ratio', '0.9'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(q.status, 2);
  assert.match(q.stderr, /--merge-ratio must be .*0\.5/);
  const u = spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', 'train', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown option --bogus/);
});
