// Tuning on image folders generated here (3 classes of stripes and blobs, PNG and JPEG, RGB and
// grey, odd sizes): a vit-micro RGB run whose loss falls and whose accuracy beats chance, then the
// commands a user runs — train, eval, infer (class names), export to ONNX (checked in ONNX Runtime,
// normalisation included), transfer and sweep — and ViT-Ti/16 at 224² from a checkpoint in timm's
// names with no name map. Bad input is refused before any GPU work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS, randomVitWeights, vitParamShapes } from '../../src/fpet/models/vit.ts';
import { normalizationFor } from '../../src/fpet/models/normalize.ts';
import { TRAIN_DEFAULTS, prepareRun, trainRun, type TrainOptions } from '../../src/fpet/train/run.ts';
import { inspectBackbone } from '../../src/fpet/train/checkpoint.ts';
import { readSafetensorsHeader, writeSafetensors } from '../../src/core/io/safetensors.ts';
import { timmTransform } from '../../src/fpet/data/transforms.ts';
import { closeImagePools } from '../../src/fpet/data/image-source.ts';
import { gpu } from '../support/gpu.ts';
import { makeFolder } from '../data/folders.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fpet-folder-train-'));
process.env.XDG_CACHE_HOME = join(work, 'cache');
const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 1_200_000, env });
const data = join(work, 'shapes');
makeFolder(data, { perClass: 24, valPerClass: 8, seed: 5 });
test.after(async () => {
  await closeImagePools();
  rmSync(work, { recursive: true, force: true });
});

const rgbMicro: ModelSpec = {
  vit: { ...VIT_PRESETS['vit-micro'], inChannels: 3 }, batch: 8, pet: DEFAULT_PET.full,
  merge: { ...DEFAULT_MERGE, blocks: [2] }, normalize: normalizationFor('imagenet', 3),
};

test('vit-micro on RGB images of a generated folder (FPET at block 2): the loss falls and the accuracy beats chance', { timeout: 900_000 }, async () => {
  const out = join(work, 'run-micro');
  const o: TrainOptions = {
    ...TRAIN_DEFAULTS, spec: rgbMicro,
    data: { dataset: 'mnist', splitSeed: 0, folder: { root: data, valSplit: 0.2, skipBad: false, workers: 1, prefetch: 2, transform: { ...timmTransform(8), scale: [0.35, 1] } } },
    epochs: 6, warmupEpochs: 1, lr: 3e-3, dropPath: 0, dropout: 0, evalBatch: 24, evalEvery: 6, logEvery: 1, outDir: out, quiet: true,
  };
  const prepared = await prepareRun(o);
  assert.deepEqual(prepared.classes, ['blob', 'hstripes', 'vstripes']);
  const r = await trainRun(await gpu(), prepared);
  const losses = r.history.map((h) => h.loss);
  console.log(`loss per epoch: ${losses.map((l) => l.toFixed(3)).join(' ')}; held-out accuracy ${(100 * r.finalAccuracy).toFixed(1)}% (24 images, chance 33.3%)`);
  assert.ok(losses[losses.length - 1]! < losses[0]! - 0.25, `the loss should fall: ${losses.join(', ')}`);
  assert.ok(r.finalAccuracy >= 0.5, `accuracy ${r.finalAccuracy} should beat 1/3 clearly`);
  const meta = (await readSafetensorsHeader(join(out, 'adapters.safetensors'))).metadata;
  assert.deepEqual(JSON.parse(meta.classes!), ['blob', 'hstripes', 'vstripes']);
  assert.deepEqual(JSON.parse(meta.preprocess!), { cropPct: 0.875, interpolation: 'bicubic' });
  assert.deepEqual(JSON.parse(meta.split!), { valSplit: 0.2, splitSeed: 0 });
  assert.deepEqual(JSON.parse(meta.spec!).normalize, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
});

test('the commands on a folder: train, eval and infer print class names; the ONNX export checks out in ONNX Runtime', { timeout: 1_200_000 }, () => {
  const out = join(work, 'cli-micro');
  const common = ['--backbone', 'random', '--tune', 'off'];
  const t = cli(['train', '--data', data, '--preset', 'vit-micro', '--channels', '3', '--method', 'adaptformer', '--merge', 'fpet', '--merge-blocks', '2', '--epochs', '2', '--batch', '8', '--eval-batch', '24', '--rrc-scale', '0.35,1', '--out', out, ...common]);
  assert.equal(t.status, 0, `train failed:\n${t.stdout.slice(-2000)}\n${t.stderr.slice(-2000)}`);
  assert.match(t.stdout, /data: .*shapes: 3 classes, 72 training and 24 held-out images \(val\/\)/);
  assert.match(t.stdout, /3×8² input normalised \(mean 0\.485,0\.456,0\.406, std 0\.229,0\.224,0\.225\)/);
  const adapters = join(out, 'adapters.safetensors');
  const e = cli(['eval', '--data', data, '--adapters', adapters, ...common]);
  assert.equal(e.status, 0, e.stderr.slice(-2000));
  assert.match(e.stdout, /test accuracy [\d.]+% on 24 held-out images of .*shapes/);
  const i = cli(['infer', '--adapters', adapters, join(data, 'val', 'hstripes', 'img000.jpg'), join(data, 'val', 'blob', 'img001.png'), ...common]);
  assert.equal(i.status, 0, i.stderr.slice(-2000));
  assert.match(i.stdout, /val\/hstripes\/img000\.jpg: (blob|hstripes|vstripes) [\d.]+%, (blob|hstripes|vstripes) [\d.]+%, (blob|hstripes|vstripes) [\d.]+%/);
  const s = cli(['infer', '--adapters', adapters, '--data', data, '--samples', '3', ...common]);
  assert.equal(s.status, 0, s.stderr.slice(-2000));
  assert.equal((s.stdout.match(/^val\/\w+\/img\d+\.(png|jpg): .*\(label: (blob|hstripes|vstripes)\)$/gm) ?? []).length, 3, s.stdout);
  const x = cli(['export', '--format', 'onnx', '--adapters', adapters, '--backbone', 'random', '--batch', '2', '--verify', '--out', join(out, 'model.onnx')]);
  assert.equal(x.status, 0, `export failed:\n${x.stdout.slice(-2000)}\n${x.stderr.slice(-2000)}`);
  assert.ok(existsSync(join(out, 'model.onnx')));
});

test('transfer and sweep on a folder: AdaptFormer, + FPET, + ToMe from the same data, no MNIST crop', { timeout: 1_500_000 }, () => {
  const out = join(work, 'transfer');
  const short = ['--data', data, '--preset', 'vit-micro', '--channels', '3', '--backbone', 'random', '--epochs', '1', '--batch', '8', '--eval-batch', '12', '--timing-rounds', '1', '--merge-blocks', '1', '--tune', 'off'];
  const r = cli(['transfer', ...short, '--map-images', '2', '--out', out]);
  assert.equal(r.status, 0, `transfer failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { options: { inputCrop?: number }; rows: { method: string; tokensRemoved: number }[] };
  assert.equal(summary.options.inputCrop, undefined, 'no MNIST digit crop on an image folder');
  assert.deepEqual(summary.rows.map((x) => [x.method, x.tokensRemoved]), [['adaptformer', 0], ['fpet', 8], ['tome', 8]]);
  assert.match(readFileSync(join(out, 'fpet', 'merge-maps', readdirSync(join(out, 'fpet', 'merge-maps'))[0]!), 'utf8'), /label (blob|hstripes|vstripes), predicted/);
  const s = cli(['sweep', ...short, '--ratios', '0.5', '--blocks', '1', '--tome-rs', '2', '--out', join(work, 'sweep')]);
  assert.equal(s.status, 0, `sweep failed:\n${s.stdout.slice(-2000)}\n${s.stderr.slice(-2000)}`);
  assert.equal((JSON.parse(readFileSync(join(work, 'sweep', 'sweep.json'), 'utf8')) as { rows: unknown[] }).rows.length, 3);
});

/** A ViT-Ti/16 state dict as timm saves it (no pre-logits, an ImageNet head), random weights. */
async function timmVitTi(path: string, extra: Record<string, number[]> = {}, drop: string[] = []): Promise<void> {
  const c = { ...VIT_PRESETS['vit-ti16'], numClasses: 1000 };
  const w = randomVitWeights(c, 3);
  const shapes = vitParamShapes(c);
  const entries = new Map([...shapes].filter(([k]) => !drop.includes(k)).map(([k, s]) => [k, { dtype: 'F32' as const, shape: s, data: w.get(k)! }]));
  for (const [k, s] of Object.entries(extra)) entries.set(k, { dtype: 'F32', shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) });
  await writeSafetensors(path, entries, { format: 'pt' });
}

test('a timm ViT-Ti/16 checkpoint loads by its own names; pre-logits are detected; a wrong file is named before any GPU work', { timeout: 300_000 }, async () => {
  const plain = join(work, 'vit_tiny_patch16_224.safetensors');
  await timmVitTi(plain);
  assert.equal((await inspectBackbone(plain, VIT_PRESETS['vit-ti16'])).representationSize, 0);
  // The ViT-B preset's pre-logits (timm 0.4.12 in21k) give way to what the file has.
  assert.equal((await inspectBackbone(plain, { ...VIT_PRESETS['vit-ti16'], representationSize: 192 })).representationSize, 0);
  const in21k = join(work, 'in21k.safetensors');
  await timmVitTi(in21k, { 'pre_logits.fc.weight': [192, 192], 'pre_logits.fc.bias': [192] });
  assert.equal((await inspectBackbone(in21k, VIT_PRESETS['vit-ti16'])).representationSize, 192);
  const short = join(work, 'short.safetensors');
  await timmVitTi(short, {}, ['blocks.11.mlp.fc2.weight']);
  await assert.rejects(inspectBackbone(short, VIT_PRESETS['vit-ti16']), /blocks\.11\.mlp\.fc2\.weight/);
  await assert.rejects(inspectBackbone(plain, VIT_PRESETS['vit-s16']), (e: Error) => /patch_embed\.proj\.weight/.test(e.message) && /the file's shapes are those of --preset vit-ti16/.test(e.message));
  // Through the CLI: refused before the device is requested (no "adapter:" line).
  const r = cli(['train', '--data', data, '--preset', 'vit-s16', '--backbone', plain, '--epochs', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /patch_embed\.proj\.weight[\s\S]*--preset vit-ti16/);
  assert.doesNotMatch(r.stdout, /^adapter:/m);
  const m = cli(['train', '--data', join(work, 'no-such-folder'), '--preset', 'vit-micro', '--channels', '3', '--backbone', 'random']);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /image folder .*no-such-folder: no such file or folder/);
  assert.doesNotMatch(m.stdout, /^adapter:/m);
});

test('ViT-Ti/16 at 224² from the timm checkpoint on the folder: train, eval and infer', { timeout: 1_200_000 }, () => {
  const backbone = join(work, 'vit_tiny_patch16_224.safetensors');
  const out = join(work, 'ti');
  const t = cli(['train', '--data', data, '--preset', 'vit-ti16', '--backbone', backbone, '--train-size', '6', '--test-size', '3', '--epochs', '1', '--batch', '2', '--eval-batch', '3', '--log-every', '1', '--out', out, '--tune', 'off']);
  assert.equal(t.status, 0, `train failed:\n${t.stdout.slice(-2000)}\n${t.stderr.slice(-2000)}`);
  assert.match(t.stdout, /model: vit-ti16, AdaptFormer\(dim 8, s 1\), FPET at block 6 ratio 0\.5, 3×224² input normalised/);
  assert.match(t.stdout, /data: .*shapes \(train\) 6 train \/ 3 test, 3 classes/);
  const i = cli(['infer', '--adapters', join(out, 'adapters.safetensors'), '--backbone', backbone, join(data, 'val', 'vstripes', 'img002.png'), '--tune', 'off']);
  assert.equal(i.status, 0, i.stderr.slice(-2000));
  assert.match(i.stdout, /img002\.png: (blob|hstripes|vstripes) [\d.]+%/);
});
