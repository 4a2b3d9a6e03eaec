// The main job (`npm start` = transfer) and the accuracy–speed sweep, shortened: the CLI run as a
// user runs it, on a few images and one epoch, with the shipped backbone. What is checked is the
// job's shape, not its accuracy: three runs trained on the same data, ToMe removing as many tokens
// as FPET, accuracies and speeds in the summary, per-step loss curves, merge maps, mean ± std over
// seeds, and the sweep's JSON and chart. Most of the time is the software driver compiling each
// model's kernels at their first dispatch (ToMe's five merge blocks make ~400 distinct kernels).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 1_500_000 });
const SHORT = ['--train-size', '24', '--test-size', '20', '--epochs', '1', '--batch', '8', '--eval-batch', '10', '--timing-rounds', '1', '--log-every', '1'];

test('main job, shortened: AdaptFormer, + FPET and + ToMe removing as many tokens, over 2 seeds, with summary, curves and merge maps', { timeout: 1_500_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'fpet-mainjob-'));
  try {
    const r = cli(['transfer', ...SHORT, '--seeds', '2', '--map-images', '2', '--out', out, '--force']);
    assert.equal(r.status, 0, `transfer failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /FPET vs AdaptFormer: -?[\d.]+ accuracy points, [\d.]+x inference speed/);
    assert.match(r.stdout, /FPET vs ToMe \(25 tokens removed each way\)/);
    assert.match(r.stdout, /wall time /);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      options: { inputCrop?: number; dropPath: number; dropout: number; adapterDim?: number };
      rows: { method: string; tokensRemoved: number; accuracies: number[]; accuracyMean: number; inferImagesPerSec: number; speedup: number }[];
      runs: { method: string; seed: number; history: { steps?: [number, number][] }[] }[];
    };
    assert.deepEqual(summary.rows.map((x) => x.method), ['adaptformer', 'fpet', 'tome']);
    // MNIST: the recipe's 20×20 input crop and no DropPath, recorded in the summary and in every model.
    assert.equal(summary.options.inputCrop, 20);
    assert.equal(summary.options.dropPath, 0);
    // vit-mnist: width-32 adapters without dropout (the validated recipe, README "Main job results").
    assert.equal(summary.options.dropout, 0);
    assert.equal(summary.options.adapterDim, 32);
    for (const method of ['adaptformer', 'fpet', 'tome']) {
      const result = JSON.parse(readFileSync(join(out, `${method}-seed0`, 'result.json'), 'utf8')) as { spec: { inputCrop?: number; pet: { dim: number } } };
      assert.equal(result.spec.inputCrop, 20, `${method}: the model carries the input crop`);
      assert.equal(result.spec.pet.dim, 32, `${method}: the model carries the adapter width`);
    }
    const [base, fpet, tome] = summary.rows as [typeof summary.rows[0], typeof summary.rows[0], typeof summary.rows[0]];
    assert.equal(base.tokensRemoved, 0);
    assert.equal(fpet.tokensRemoved, 25, 'FPET at ratio 0.5 merges all 25 tokens of set A');
    assert.equal(tome.tokensRemoved, fpet.tokensRemoved, 'ToMe removes as many tokens as FPET');
    for (const row of summary.rows) {
      assert.equal(row.accuracies.length, 2, 'one accuracy per seed');
      for (const acc of row.accuracies) assert.ok(acc >= 0 && acc <= 1);
      assert.ok(Math.abs(row.accuracyMean - (row.accuracies[0]! + row.accuracies[1]!) / 2) < 1e-12);
      assert.ok(row.inferImagesPerSec > 0 && Number.isFinite(row.speedup));
    }
    assert.equal(summary.runs.length, 6);
    for (const run of summary.runs) assert.ok((run.history[0]!.steps?.length ?? 0) >= 3, 'per-step losses recorded');
    for (const method of ['adaptformer', 'fpet', 'tome']) {
      for (const seed of [0, 1]) {
        const dir = join(out, `${method}-seed${seed}`);
        for (const f of ['curves.svg', 'result.json', 'adapters.safetensors', 'checkpoint.safetensors', 'run.json']) assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
      }
    }
    for (const method of ['fpet', 'tome']) {
      const maps = readdirSync(join(out, method, 'merge-maps'));
      assert.equal(maps.length, 2, `${method}: one merge map per image`);
      assert.match(readFileSync(join(out, method, 'merge-maps', maps[0]!), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
    }
    assert.ok(!existsSync(join(out, 'adaptformer', 'merge-maps')) && !existsSync(join(out, 'adaptformer-seed0', 'merge-maps')));
    assert.match(readFileSync(join(out, 'summary.svg'), 'utf8'), /<svg[\s\S]*AdaptFormer\+FPET[\s\S]*<\/svg>/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('sweep, shortened: FPET ratios × blocks, ToMe r and AdaptFormer to accuracy and measured speed, JSON and chart', { timeout: 1_500_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'fpet-sweep-'));
  try {
    const r = cli(['sweep', ...SHORT, '--ratios', '0.25,0.5', '--blocks', '3', '--tome-rs', '5', '--out', out, '--force']);
    assert.equal(r.status, 0, `sweep failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { rows: { method: string; tokensRemoved: number; accuracy: number; imagesPerSec: number }[] };
    assert.equal(sweep.rows.length, 4, 'AdaptFormer, FPET ρ=0.25 and 0.5 at block 3, ToMe r=5 (the main job\'s ToMe: its kernels are in the driver\'s shader cache by now)');
    const removed = Object.fromEntries(sweep.rows.map((x) => [`${x.method}:${x.tokensRemoved}`, x]));
    assert.ok(removed['fpet:12'] && removed['fpet:25'], `FPET rows remove 12 and 25 tokens: ${Object.keys(removed).join(', ')}`);
    for (const row of sweep.rows) assert.ok(row.accuracy >= 0 && row.accuracy <= 1 && row.imagesPerSec > 0);
    assert.match(readFileSync(join(out, 'sweep.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
