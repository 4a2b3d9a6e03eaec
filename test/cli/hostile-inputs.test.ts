// Hostile input on the newer surfaces of the command line (issue 28): serve, export, name maps,
// the multi-run commands, run folders and infer's file names. Each case is refused before any GPU
// work (most before any file is read) with a message naming the option or file and the allowed
// range — never a stack trace, a hang, unbounded memory or another program's file touched.
// In-process through runCli where the error is what matters; as a subprocess where the exit
// status, the absence of a stack trace or the absence of a hang is the point.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/frontends/cli/cli.ts';
import { FILE_FORMAT } from '../../src/fpet/train/model-files.ts';
import { encodeSafetensors } from '../../src/core/io/safetensors.ts';

const ADAPTERS = 'models/mnist-adaptformer-fpet.safetensors';
const fresh = (p = 'fpet-hostile-') => mkdtempSync(join(tmpdir(), p));

/** The CLI as a user runs it; returns status, output and how long it took. */
function cli(args: string[], timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/frontends/cli/main.ts', ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** A refused command line: exit status, one "error:" line, no stack trace. */
function refused(args: string[], message: RegExp, status = 2): { ms: number } {
  const r = cli(args);
  assert.equal(r.status, status, `${args.join(' ')}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at [\w.<>]+ \(|node:internal/, 'no stack trace');
  return r;
}

test('name maps: a backtracking regex, /dev/zero, a FIFO and a 900 KB pattern are refused at once, naming the file and line', { timeout: 300_000 }, () => {
  const dir = fresh();
  try {
    writeFileSync(join(dir, 'redos.map'), '(.*.*)*Z -> x\n');
    const r = refused(['eval', '--name-map', join(dir, 'redos.map'), '--adapters', ADAPTERS], /^error: --name-map .*redos\.map:1: "\(" in pattern "\(\.\*\.\*\)\*Z": patterns are globs, not regular expressions/);
    assert.ok(r.ms < 60_000);
    refused(['eval', '--name-map', '/dev/zero'], /^error: --name-map \/dev\/zero: is a device, not a regular file$/m);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    refused(['train', '--name-map', join(dir, 'fifo'), '--out', join(dir, 'run')], /^error: --name-map .*fifo: is a FIFO \(named pipe\), not a regular file$/m);
    writeFileSync(join(dir, 'huge.map'), `${'x'.repeat(900_000)} -> y\n`);
    const huge = refused(['eval', '--name-map', join(dir, 'huge.map')], /^error: --name-map .*huge\.map:1: the pattern is 900,000 characters long; the limit is 1,024/m);
    assert.ok(huge.ms >= 0 && cli(['eval', '--name-map', join(dir, 'huge.map')]).stderr.length < 400, 'a short message');
    writeFileSync(join(dir, 'big.map'), 'a -> b\n'.repeat(200_000));
    refused(['eval', '--name-map', join(dir, 'big.map')], /--name-map .*big\.map: is 1,400,000 bytes, over the 1,000,000-byte limit/);
    assert.equal(existsSync(join(dir, 'run')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export: --batch is bounded, a verified export\'s reference check must fit in memory, --bits is 32 or 1', async () => {
  await assert.rejects(runCli(['export', '--batch', '1000000']), /^UsageError: export: --batch must be in \[1, 65536\] \(got 1000000\)$/);
  await assert.rejects(runCli(['export', '--batch', '1e8']), /export: --batch must be in \[1, 65536\] \(got 1e8\)/);
  const dir = fresh();
  try {
    await assert.rejects(runCli(['export', '--adapters', ADAPTERS, '--batch', '65536', '--out', join(dir, 'm.onnx')]), /export: --verify at --batch 65536 needs about [\d.]+ GiB for the float64 reference check \(the limit is 2\.0 GiB\): use --batch \d+ or less for a verified export, or --verify=false/);
    await assert.rejects(runCli(['export', '--adapters', ADAPTERS, '--bits', '2.5', '--out', join(dir, 'm.onnx')]), /export: --bits must be 32 or 1 \(got 2\.5\)/);
    assert.equal(existsSync(join(dir, 'm.onnx')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export output paths: an existing file needs --force, a folder, a file in the path, an input as output; clear words, nothing written', async () => {
  const dir = fresh();
  try {
    const out = join(dir, 'model.safetensors');
    writeFileSync(out, 'someone else\'s file');
    await assert.rejects(runCli(['export', '--format', 'timm', '--adapters', ADAPTERS, '--out', out]), /--out .*model\.safetensors already exists; replace it with --force or choose another --out/);
    assert.equal(readFileSync(out, 'utf8'), 'someone else\'s file');
    await assert.rejects(runCli(['export', '--format', 'timm', '--adapters', ADAPTERS, '--out', dir]), /--out .* is a folder; give a file name in it/);
    await assert.rejects(runCli(['export', '--adapters', ADAPTERS, '--out', join(out, 'x.onnx')]), /--out .*model\.safetensors\/x\.onnx: .*model\.safetensors is a file, not a folder/);
    await assert.rejects(runCli(['export', '--format', 'adapters', '--adapters', ADAPTERS, '--out', ADAPTERS, '--force']), /export: --out .*mnist-adaptformer-fpet\.safetensors is an input of the export \(--adapters or --backbone\); write the export elsewhere/);
    await assert.rejects(runCli(['compile', '--out', join(out, 'kernels')]), /--out .*model\.safetensors\/kernels: .*model\.safetensors is a file, not a folder/);
    assert.equal(await runCli(['export', '--format', 'timm', '--adapters', ADAPTERS, '--out', out, '--force']), 0, 'with --force it is replaced');
    assert.notEqual(readFileSync(out, 'utf8').slice(0, 5), 'someo');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a training checkpoint given as --adapters is named as such, with the adapters file to use instead', async () => {
  const dir = fresh();
  try {
    const ck = join(dir, 'checkpoint.safetensors');
    writeFileSync(ck, encodeSafetensors(new Map([['head.bias', { dtype: 'F32', shape: [10], data: new Float32Array(10) }]]), { format: FILE_FORMAT, kind: 'checkpoint', state: '{}', step: '3' }));
    const message = /checkpoint\.safetensors is a training checkpoint \(parameters and optimizer state for --resume\), not an adapters file: give the adapters file train wrote beside it, .*adapters\.safetensors/;
    await assert.rejects(runCli(['eval', '--adapters', ck]), message);
    await assert.rejects(runCli(['infer', '--adapters', ck]), message);
    await assert.rejects(runCli(['export', '--adapters', ck, '--out', join(dir, 'm.onnx')]), message);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multi-run commands refuse duplicate runs and bad lists before loading data or training', { timeout: 300_000 }, () => {
  const dir = fresh();
  try {
    const out = join(dir, 'sweep');
    const cases: [string[], RegExp][] = [
      [['transfer', '--methods', 'fpet,fpet'], /transfer: --methods lists "fpet" twice: each item once/],
      [['sweep', '--ratios', '0.25,0.25', '--blocks', '1,1', '--tome-rs', '2,2'], /sweep: --ratios lists "0\.25" twice/],
      [['sweep', '--ratios', '0.25,0.250'], /sweep: --ratios lists "0\.250" and "0\.25" twice/],
      [['sweep', '--blocks', '1,1'], /sweep: --blocks lists "1" twice/],
      [['sweep', '--tome-rs', '2,2'], /sweep: --tome-rs lists "2" twice/],
      [['sweep', '--ratios', 'abc'], /sweep: each item of --ratios must be a number \(a number in \[0\.0001, 0\.5\]; got "abc"\)/],
      [['sweep', '--ratios', '1e400'], /sweep: each item of --ratios must be a finite number/],
      [['sweep', '--ratios', 'NaN'], /sweep: each item of --ratios must be a number/],
      [['sweep', '--ratios', Array.from({ length: 5000 }, (_, i) => String(0.0001 * (i + 1))).join(',')], /sweep: --ratios takes at most 32 items \(got 5000\)/],
      [['sweep', '--tome-rs', '1000'], /sweep: each item of --tome-rs must be in \[1, 1000\]|sweep: --tome-rs 1000: ToMe merges at most 24 tokens per block in this model .*each r must be in \[1, 24\]/],
      [['sweep', '--tome-rs', '30'], /sweep: --tome-rs 30: ToMe merges at most 24 tokens per block in this model/],
      [['sweep', '--blocks', '7'], /sweep: --ratios 0\.\d+ at --blocks 7: merge block 7 is outside the 6 blocks \(0\.\.5\)/],
    ];
    for (const [args, message] of cases) {
      const r = refused([...args, '--out', out], message);
      // Before the data set is loaded (that alone takes seconds) and before any folder exists.
      assert.ok(r.ms < 30_000, `${args.join(' ')}: ${r.ms} ms`);
      assert.equal(existsSync(out), false, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('infer takes file names whole: --image repeats, PNG files follow the options, commas stay in the name', async () => {
  // (How repeatable lists parse: test/cli/args.test.ts.) Two names, each with a comma: both read whole, in order.
  const dir = fresh();
  try {
    await assert.rejects(runCli(['infer', '--adapters', ADAPTERS, '--image', join(dir, 'scan,page 1.png')]), /scan,page 1\.png: cannot read the file/);
    await assert.rejects(runCli(['infer', '--adapters', ADAPTERS, join(dir, 'x,y.png')]), /x,y\.png: cannot read the file/);
    await assert.rejects(runCli(['infer', '--adapters', ADAPTERS, '--image', ADAPTERS.replace('.safetensors', '.png'), join(dir, 'x,y.png')]), /mnist-adaptformer-fpet\.png: cannot read the file/, 'the --image files first, then the ones after the options');
    await assert.rejects(runCli(['infer', '--adapters', ADAPTERS, '--image', 'a.png', '--image', 'a.png', 'b.png', '--samples', '3', ...Array.from({ length: 1000 }, (_, i) => `${i}.png`)]), /infer: at most 1000 (PNG files|image files|items)/);
    await assert.rejects(runCli(['infer', '--adapters', ADAPTERS, '--merge-map', join(ADAPTERS, 'maps')]), /--merge-map .*mnist-adaptformer-fpet\.safetensors\/maps: .* is a file, not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: a missing page folder, or a build into a folder of other files, is refused before anything is written', async () => {
  const dir = fresh();
  try {
    await assert.rejects(runCli(['serve', '--dir', join(dir, 'missing'), '--build', 'never']), /serve: --dir .*missing: no built page there \(index\.html is missing\)/);
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'index.html'), '<p>my own page</p>');
    writeFileSync(join(dir, 'site', 'photo.png'), 'x');
    await assert.rejects(runCli(['serve', '--dir', join(dir, 'site'), '--build', 'always']), /serve: --dir .*site holds files that are not a build of the page \("index\.html", "photo\.png"\); building there would replace them/);
    assert.equal(readFileSync(join(dir, 'site', 'index.html'), 'utf8'), '<p>my own page</p>');
    await assert.rejects(runCli(['serve', '--dir', join(dir, 'site', 'index.html'), '--build', 'always']), /serve: --dir .*index\.html is a file, not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --resume with a FIFO named run.json in --out is refused at once (the read would hang beyond Ctrl-C)', { timeout: 300_000 }, () => {
  const dir = fresh();
  try {
    writeFileSync(join(dir, 'checkpoint.safetensors'), 'x');
    execFileSync('mkfifo', [join(dir, 'run.json')]);
    const r = refused(['train', '--out', dir, '--resume', join(dir, 'checkpoint.safetensors')], /^error: --out .*: run\.json is a FIFO \(named pipe\); a run writes a file there: remove it or choose another --out$/m, 1);
    assert.ok(r.ms < 60_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('eval --batch beyond the device\'s limits names --batch and the largest batch that fits', { timeout: 600_000 }, () => {
  const r = cli(['eval', '--adapters', ADAPTERS, '--batch', '65536', '--tune', 'off'], 500_000);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: --batch 65536 is too large for this device: .*(binding|dispatch) limit.*\. The largest --batch that fits is about \d+\./m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
