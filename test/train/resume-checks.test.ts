// Resuming and run folders, checked before any GPU work (prepareRun; no device needed): every
// option that changes training must be the checkpoint's (dataset, learning rate, schedule, …),
// the optimizer state is validated at load (finite, second moments ≥ 0), a FIFO in the run
// folder is refused at once instead of hanging the read, and --save-model never replaces an input
// or an existing file without --force.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { TRAIN_DEFAULTS, optionsRecord, prepareRun, type TrainOptions } from '../../src/fpet/train/run.ts';
import { parseNameMap } from '../../src/core/io/name-map.ts';
import { runStateMetadata, saveWeights, type RunState } from '../../src/fpet/train/checkpoint.ts';
import { changedRunOptions } from '../../src/fpet/train/resume.ts';

const tiny = { ...VIT_PRESETS['vit-mnist'], patchSize: 7, dim: 16, depth: 2, heads: 2 };
const spec: ModelSpec = { vit: tiny, batch: 16, pet: { ...DEFAULT_PET.adaptformer, dim: 4 } };
const options = (dir: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  ...TRAIN_DEFAULTS,
  spec,
  data: { dataset: 'mnist', trainSize: 32, testSize: 32, splitSeed: 0 },
  epochs: 2, warmupEpochs: 0.2, lr: 3e-3, evalBatch: 32, logEvery: 1,
  outDir: dir, quiet: true, ...over,
});

/**
 * A checkpoint as a run with `o` writes it after one epoch (2 steps), without training: the run
 * state with the options record, the trainable tensors and their AdamW moments (`edit` may spoil them).
 */
async function checkpointOf(o: TrainOptions, edit: (w: Map<string, Float32Array>) => void = () => {}): Promise<string> {
  const s: ModelSpec = { ...o.spec, vit: { ...o.spec.vit, numClasses: 10 }, training: { dropout: o.dropout, dropPath: o.dropPath } };
  const built = buildModel(s);
  const init = initialWeights(s, 0);
  const w = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  for (const n of built.trainable) {
    const shape = built.paramShapes.get(n)!;
    w.set(n, init.get(n)!).set(`adam.m:${n}`, new Float32Array(init.get(n)!.length).fill(0.01)).set(`adam.v:${n}`, new Float32Array(init.get(n)!.length).fill(1e-4));
    shapes.set(n, shape).set(`adam.m:${n}`, shape).set(`adam.v:${n}`, shape);
  }
  edit(w);
  const record = JSON.parse(JSON.stringify(optionsRecord(o))) as Record<string, unknown>;
  const state: RunState = { spec: s, epoch: 1, step: 2, seed: o.seed, options: record, history: [{ epoch: 1, lr: o.lr, loss: 2.3, trainImagesPerSec: 10, seconds: 1 }] };
  const path = join(o.outDir, 'checkpoint.safetensors');
  await saveWeights(path, w, shapes, runStateMetadata(state));
  return path;
}

test('resume: every option that changes training must be the checkpoint\'s; each difference is named with the value to use', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-resume-opts-'));
  try {
    const ck = await checkpointOf(options(dir));
    const p = await prepareRun(options(dir, { resume: ck }));
    assert.equal(p.resumeState!.step, 2);
    assert.ok(p.resumeWeights!.has('adam.v:head.weight'), 'the checkpoint\'s tensors are read and checked before the GPU');
    const refused: [Partial<TrainOptions>, RegExp][] = [
      [{ data: { dataset: 'fashion-mnist', trainSize: 32, testSize: 32, splitSeed: 0 } }, /trained with --dataset mnist \(not fashion-mnist\); resume with --dataset mnist \(the options that change training must be the checkpoint's\)/],
      [{ lr: 1e-2 }, /trained with --lr 0\.003 \(not 0\.01\); resume with --lr 0\.003/],
      [{ schedule: 'epoch' }, /--schedule step \(not epoch\)/],
      [{ warmupEpochs: 1, minLr: 0 }, /--min-lr 0\.00001 \(not 0\)|--min-lr 1e-5 \(not 0\)/],
      [{ dropout: 0 }, /--dropout 0\.1 \(not 0\)/],
      [{ augmentShift: 2 }, /--augment 0 \(not 2\)/],
      [{ augmentAffine: { scale: [0.9, 1.1], rotate: 0, plain: 0 } }, /--augment-scale none \(not 0\.9,1\.1\)/],
      [{ adamw: { ...TRAIN_DEFAULTS.adamw, weightDecay: 0.05 } }, /--weight-decay 0\.0001 \(not 0\.05\)/],
      [{ data: { dataset: 'mnist', trainSize: 32, testSize: 32, splitSeed: 3 } }, /--split-seed 0 \(not 3\)/],
      [{ backbone: 'models/vit-mnist-fashion.safetensors' }, /--backbone random \(not models\/vit-mnist-fashion\.safetensors\)/],
      [{ spec: { ...spec, inputCrop: 20 } }, /trained with --input-crop none \(the whole image\), not 20/],
    ];
    for (const [over, message] of refused) await assert.rejects(prepareRun(options(dir, { resume: ck, ...over })), message, JSON.stringify(over));
    // Raising --epochs continues the run; options that do not change training may differ.
    await prepareRun(options(dir, { resume: ck, epochs: 5, evalBatch: 16, logEvery: 3, evalEvery: 2 }));
    // Several differences at once are all named.
    await assert.rejects(prepareRun(options(dir, { resume: ck, lr: 1, minLr: 0 })), /--lr 0\.003 \(not 1\), --min-lr .* \(not 0\); resume with --lr 0\.003 --min-lr/);
    // A field an older checkpoint lacks is not compared.
    assert.deepEqual(changedRunOptions(options(dir, { lr: 5 }) as never, {}), []);
    // The name map's rules are compared (not the file they were read from); a checkpoint without one refuses one.
    const rules = (text: string, file = 'a.map') => parseNameMap(text, file);
    const recorded = (o: TrainOptions) => JSON.parse(JSON.stringify(optionsRecord(o))) as Record<string, unknown>;
    const changed = (over: Partial<TrainOptions>, record: Record<string, unknown>) => changedRunOptions({ ...options(dir, over), resume: 'ck' }, record);
    const mapped = recorded(options(dir, { nameMap: rules('model.* -> $1\n') }));
    assert.deepEqual(changed({ nameMap: rules('model.* -> $1\n', 'elsewhere/b.map') }, mapped), [], 'the same rules from another file');
    assert.deepEqual(changed({ nameMap: rules('model.* -> x.$1\n') }, mapped), [{ flag: '--name-map rules', was: 'model.* -> $1', now: 'model.* -> x.$1' }]);
    assert.deepEqual(changed({}, mapped), [{ flag: '--name-map rules', was: 'model.* -> $1', now: 'none' }]);
    assert.deepEqual(changed({ nameMap: rules('fc.* -> -\n') }, recorded(options(dir))), [{ flag: '--name-map rules', was: 'none', now: 'fc.* -> -' }]);
    // A long map (up to 10,000 rules) is recorded by its count and digest: the run state stays bounded.
    const long = (k: number) => rules(Array.from({ length: 3000 }, (_, i) => `layer${i}.* -> blocks.${i === 7 ? k : i}.$1`).join('\n'));
    const big = recorded(options(dir, { nameMap: long(7) }));
    assert.match(String(big.nameMapRules), /^3000 rules, sha256 [0-9a-f]{16}$/);
    assert.deepEqual(big.nameMap, ['a.map'], 'the file the rules came from, once');
    assert.deepEqual(changed({ nameMap: long(7) }, big), []);
    assert.equal(changed({ nameMap: long(8) }, big)[0]?.flag, '--name-map rules');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resume: optimizer state is validated at load — negative second moments, non-finite moments or parameters are refused naming the tensor', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-resume-state-'));
  try {
    const cases: [string, (w: Map<string, Float32Array>) => void, RegExp][] = [
      ['v < 0', (w) => (w.get('adam.v:head.weight')![3] = -0.5), /--resume .*checkpoint\.safetensors: tensor adam\.v:head\.weight has a negative value -0\.5 at index 3: AdamW's second moments are averages of squared gradients, never negative; the checkpoint is corrupt/],
      ['v = Infinity', (w) => (w.get('adam.v:head.bias')![0] = Infinity), /tensor adam\.v:head\.bias has a non-finite value Infinity at index 0/],
      ['m = NaN', (w) => (w.get('adam.m:blocks.1.adapter_mlp.up.weight')![7] = NaN), /tensor adam\.m:blocks\.1\.adapter_mlp\.up\.weight has a non-finite value NaN at index 7/],
      ['parameter 1e9', (w) => (w.get('head.weight')![0] = 1e9), /tensor head\.weight has an absurd value 1000000000/],
    ];
    for (const [what, spoil, message] of cases) {
      const ck = await checkpointOf(options(dir), spoil);
      await assert.rejects(prepareRun(options(dir, { resume: ck })), message, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run folder: a FIFO named run.json is refused at once (no read that Ctrl-C cannot interrupt); other special files too', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-fifo-'));
  try {
    const ck = await checkpointOf(options(dir));
    execFileSync('mkfifo', [join(dir, 'run.json')]);
    const t0 = performance.now();
    await assert.rejects(prepareRun(options(dir, { resume: ck })), /--out .*: run\.json is a FIFO \(named pipe\); a run writes a file there: remove it or choose another --out/);
    assert.ok(performance.now() - t0 < 30_000);
    rmSync(join(dir, 'run.json'));
    execFileSync('mkdir', [join(dir, 'curves.svg')]);
    await assert.rejects(prepareRun(options(dir, { resume: ck })), /curves\.svg is a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--save-model: never an input of the run; an existing file only with --force; --out that cannot be a folder', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-save-'));
  try {
    const backbone = join(dir, 'backbone.safetensors');
    writeFileSync(backbone, 'the backbone');
    await assert.rejects(prepareRun(options(join(dir, 'run'), { backbone, saveModel: backbone, force: true })), /--save-model .*backbone\.safetensors is a file the run reads or writes/);
    await assert.rejects(prepareRun(options(join(dir, 'run'), { saveModel: join(dir, 'run', 'checkpoint.safetensors') })), /is a file the run reads or writes/);
    writeFileSync(join(dir, 'model.safetensors'), 'someone else\'s');
    await assert.rejects(prepareRun(options(join(dir, 'run'), { saveModel: join(dir, 'model.safetensors') })), /--save-model .*model\.safetensors already exists; replace it with --force or choose another --save-model/);
    await prepareRun(options(join(dir, 'run'), { saveModel: join(dir, 'model.safetensors'), force: true }));
    await assert.rejects(prepareRun(options(join(backbone, 'run'))), /--out .*backbone\.safetensors\/run: .*backbone\.safetensors is a file, not a folder/);
    assert.equal(readFileSync(backbone, 'utf8'), 'the backbone');
    assert.equal(existsSync(join(dir, 'run')), false, 'nothing created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
