// Option parsing (src/frontends/cli/args.ts): what is accepted, and every way a command line can be wrong,
// each rejected with a message naming the command, the option and what it accepts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { helpText, parseArgs, UsageError, type OptionSpec } from '../../src/frontends/cli/args.ts';
import { takeRuntime } from '../../src/frontends/cli/launch.ts';
import { fcParams } from '../support/random.ts';

const SPEC = {
  backbone: { type: 'string', default: 'models/b.safetensors', help: 'backbone file' },
  out: { type: 'string', default: 'runs/train', help: 'output directory' },
  method: { type: 'string', default: 'adaptformer', choices: ['adaptformer', 'lora'], help: 'method' },
  lr: { type: 'number', default: 1e-3, min: 0, help: 'learning rate' },
  epochs: { type: 'number', default: 10, integer: true, min: 1, help: 'epochs' },
  dropout: { type: 'number', default: 0.1, min: 0, max: 0.95, help: 'dropout' },
  seed: { type: 'number', default: 0, integer: true, help: 'seed' },
  adapterDim: { type: 'number', integer: true, min: 1, max: 4096, help: 'adapter width' },
  mergeBlocks: { type: 'list', integer: true, min: 0, max: 63, maxItems: 4, help: 'merge blocks' },
  image: { type: 'list', help: 'PNG files' },
  suite: { type: 'list', choices: ['matmul', 'memory'], help: 'suites' },
  invert: { type: 'boolean', default: false, help: 'invert images' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

const parse = (...argv: string[]) => parseArgs('train', argv, SPEC);
/** The UsageError message parsing `argv` gives. */
function usage(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    return e.message;
  }
  assert.fail(`accepted: ${JSON.stringify(argv)}`);
}

test('accepted forms: --name value, --name=value, kebab and camel names, negative numbers, flags, -h, defaults, typed result', () => {
  const a = parse('--lr', '5e-3', '--epochs=3', '--seed', '-1', '--adapter-dim', '32', '--merge-blocks', '3, 5', '--invert', '--out=runs/x', '--image', 'a.png,b.png');
  assert.equal(a.lr, 0.005);
  assert.equal(a.epochs, 3);
  assert.equal(a.seed, -1);
  assert.equal(a.adapterDim, 32);
  assert.deepEqual(a.mergeBlocks, ['3', '5']);
  assert.equal(a.invert, true);
  assert.equal(a.out, 'runs/x');
  assert.deepEqual(a.image, ['a.png', 'b.png']);
  assert.equal(a.backbone, 'models/b.safetensors', 'defaults');
  assert.equal(a.dropout, 0.1);
  assert.deepEqual(a._, []);
  assert.equal(parse('--adapterDim', '4').adapterDim, 4, 'the camelCase key works too');
  assert.equal(parse('-h').help, true);
  assert.equal(parse('--invert=false').invert, false);
  assert.equal(parse('--invert=1').invert, true);
  assert.equal(parse('--out=--weird').out, '--weird', 'a value starting with - is written with =');
  assert.equal(parse('--out', '-').out, '-');
  assert.equal(parse('--lr', '.5').lr, 0.5);
  assert.equal(parse('--lr=+2').lr, 2);
  assert.equal(parse('--seed=-7').seed, -7);
  assert.equal(parse('--backbone', 'a=b').backbone, 'a=b');
  assert.equal(parse('--backbone=a=b').backbone, 'a=b');
  // Positionals only where a command declares them.
  const p = parseArgs('infer', ['x.png', '--invert', '--', '--y.png'], SPEC, { positionals: { name: 'images', max: 2 } });
  assert.deepEqual(p._, ['x.png', '--y.png']);
  assert.throws(() => parseArgs('infer', ['a', 'b', 'c'], SPEC, { positionals: { name: 'images', max: 2 } }), /^UsageError: infer: at most 2 images \(got another: "c"\)$/);
});

test('empty values are rejected, never read as "", 0 or "use the default"', () => {
  assert.equal(usage('--backbone='), 'train: --backbone needs a non-empty value (got "--backbone=")');
  assert.equal(usage('--lr='), 'train: --lr needs a non-empty value (got "--lr=")');
  assert.equal(usage('--lr', ''), 'train: --lr needs a non-empty value (got "")');
  assert.equal(usage('--image='), 'train: --image needs a non-empty value (got "--image=")');
  assert.match(usage('--invert='), /train: --invert takes true or false \(got ""\)/);
  assert.match(usage('--image', 'a.png,,b.png'), /--image takes a comma-separated list without empty items \(item 2 of "a\.png,,b\.png" is empty\)/);
  assert.match(usage('--image', 'a.png,'), /item 2 of "a\.png," is empty/);
});

test('a value is never another option; stray words are errors with a hint', () => {
  assert.equal(usage('--out', '--epochs', '3'), 'train: --out needs a value (got the option --epochs instead; write --out=VALUE for a value that starts with "-")');
  assert.match(usage('--backbone', '-x'), /--backbone needs a value \(got the option -x instead/);
  assert.equal(usage('--out'), 'train: --out needs a value');
  assert.equal(usage('--epochs', '3', 'stray'), 'train: unexpected argument "stray" (options start with --; see train --help)');
  assert.equal(usage('--invert', 'false'), 'train: unexpected argument "false" (--invert is a flag and takes no value; write --invert=false)');
  assert.match(usage('stray', '--epochs', '3'), /unexpected argument "stray"/);
  assert.match(usage('--', '--epochs'), /unexpected argument "--epochs"/);
  assert.match(usage('-5'), /unexpected argument "-5"/);
  assert.match(usage('-x'), /^train: unknown option -x \(options: --backbone, --out, /);
  assert.equal(usage('--epoch', '3'), 'train: unknown option --epoch (did you mean --epochs?)');
  assert.match(usage('--Epochs', '3'), /unknown option --Epochs/);
  assert.match(usage('--toString'), /unknown option --toString/);
  assert.match(usage('--__proto__=1'), /unknown option --__proto__/);
  assert.equal(usage('--lr', '1', '--lr=2'), 'train: --lr is given twice (first as "--lr 1")');
});

test('numbers are decimal and within range; the message names the option and the range', () => {
  assert.equal(usage('--lr', '0x10'), 'train: --lr must be a number (a number >= 0; got "0x10")');
  for (const bad of ['0b1', '0o7', '1_000', ' 1', '1 ', 'Infinity', 'NaN', '1e', '--1', '1.2.3', '١٢']) assert.match(usage(`--lr=${bad}`), /--lr must be a number/, bad);
  assert.match(usage('--lr', '1e400'), /--lr must be a finite number \(a number >= 0; got "1e400"\)/);
  assert.equal(usage('--lr', '-1'), 'train: --lr must be >= 0 (got -1)');
  assert.equal(usage('--epochs', '0'), 'train: --epochs must be >= 1 (got 0)');
  assert.equal(usage('--epochs', '1.5'), 'train: --epochs must be an integer (got 1.5)');
  assert.equal(usage('--epochs', 'many'), 'train: --epochs must be a number (an integer >= 1; got "many")');
  assert.equal(usage('--epochs', '1e20'), 'train: --epochs must be an integer of at most 2^53-1 (got 1e20)');
  assert.equal(usage('--dropout', '2'), 'train: --dropout must be in [0, 0.95] (got 2)');
  assert.equal(usage('--adapter-dim', '5000'), 'train: --adapter-dim must be in [1, 4096] (got 5000)');
  assert.equal(parse('--epochs', '1e3').epochs, 1000);
  // Lists: items checked as declared.
  assert.equal(usage('--merge-blocks', '1,x'), 'train: each item of --merge-blocks must be a number (an integer in [0, 63]; got "x")');
  assert.equal(usage('--merge-blocks', '64'), 'train: each item of --merge-blocks must be in [0, 63] (got 64)');
  assert.equal(usage('--merge-blocks', '1,2,3,4,5'), 'train: --merge-blocks takes at most 4 items (got 5)');
  assert.equal(usage('--suite', 'matmul,gpu'), 'train: --suite items must be among matmul, memory (got "gpu")');
  assert.equal(usage('--method', 'prompt'), 'train: --method must be one of adaptformer, lora (got "prompt")');
});

test('values echoed in messages are escaped and clipped', () => {
  const m = usage('--method', 'x\u001b[2J\u009b31m\u202e');
  assert.ok(!/[\u001b\u009b\u202e]/.test(m), m);
  assert.match(m, /got "x\\u001b\[2J\\u009b31m\\u202e"/);
  const long = usage('--lr', '9'.repeat(10_000) + 'x');
  assert.ok(long.length < 300, `${long.length} characters`);
  const stray = usage('a\nb');
  assert.match(stray, /unexpected argument "a\\nb"/);
});

test('property: any argv either parses to values within the declared ranges or fails with a UsageError naming an option or argument', () => {
  const token = fc.oneof(
    fc.constantFrom('--lr', '--epochs', '--dropout', '--seed', '--out', '--backbone', '--method', '--merge-blocks', '--image', '--invert', '--help', '-h', '--', '-', '--bogus', '--lr=', '--epochs=3', '--invert=true'),
    fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', '', 'lora', 'a,b', '3,5', ' ', 'NaN'),
    fc.string({ maxLength: 6 }),
  );
  let ok = 0, bad = 0;
  fc.assert(
    fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
      let a;
      try {
        a = parseArgs('train', argv, SPEC);
      } catch (e) {
        assert.ok(e instanceof UsageError, `not a UsageError: ${e}`);
        assert.match(e.message, /^train: (.*--[a-z-]+|unexpected argument|unknown option)/);
        bad++;
        return;
      }
      ok++;
      assert.deepEqual(a._, []);
      assert.ok(Number.isFinite(a.lr) && a.lr >= 0);
      assert.ok(Number.isSafeInteger(a.epochs) && a.epochs >= 1);
      assert.ok(a.dropout >= 0 && a.dropout <= 0.95);
      assert.ok(Number.isSafeInteger(a.seed));
      assert.ok(a.out !== '' && a.backbone !== '');
      assert.ok(['adaptformer', 'lora'].includes(a.method));
      for (const b of a.mergeBlocks ?? []) assert.ok(Number.isInteger(Number(b)) && Number(b) >= 0 && Number(b) <= 63);
      for (const f of a.image ?? []) assert.ok(f !== '');
    }),
    fcParams(1000),
  );
  console.log(`parseArgs property: ${ok} parsed, ${bad} rejected`);
  assert.ok(ok > 0 && bad > 0);
});

test('help lists every option with its range, choices and default', () => {
  const h = helpText('train', 'Train.', SPEC);
  assert.match(h, /^fpet-webgpu train \[options\]\n\nTrain\.\n\noptions:\n/);
  assert.match(h, /--epochs {17}epochs \[an integer >= 1\] \(default: 10\)/);
  assert.match(h, /--dropout {16}dropout \[a number in \[0, 0\.95\]\] \(default: 0\.1\)/);
  assert.match(h, /--method {17}method \[adaptformer\|lora\] \(default: adaptformer\)/);
  assert.match(h, /--merge-blocks {11}merge blocks \[comma-separated, each an integer in \[0, 63\], at most 4\]/);
  assert.match(helpText('infer', 'x', SPEC, { positionals: { name: 'images' } }), /^fpet-webgpu infer \[options\] \[images\.\.\.\]/);
});

test('--runtime: both spellings, empty or missing values and repeats are errors; everything after -- is left alone', () => {
  assert.deepEqual(takeRuntime(['train', '--runtime', 'deno', '--epochs', '1']), { runtime: 'deno', rest: ['train', '--epochs', '1'] });
  assert.deepEqual(takeRuntime(['train', '--runtime=deno']), { runtime: 'deno', rest: ['train'] });
  assert.deepEqual(takeRuntime(['--runtime=node', 'eval']), { runtime: 'node', rest: ['eval'] });
  assert.deepEqual(takeRuntime(['train']), { runtime: undefined, rest: ['train'] });
  assert.deepEqual(takeRuntime(['infer', '--', '--runtime=deno']), { runtime: undefined, rest: ['infer', '--', '--runtime=deno'] });
  assert.equal(takeRuntime(['train', '--runtime']).error, '--runtime needs a value: node or deno');
  assert.equal(takeRuntime(['train', '--runtime', '--epochs', '1']).error, '--runtime needs a value: node or deno');
  assert.equal(takeRuntime(['train', '--runtime=']).error, '--runtime needs a non-empty value: node or deno');
  assert.equal(takeRuntime(['--runtime', 'deno', '--runtime=node']).error, '--runtime is given twice (deno and node)');
});

test('lists: unique lists refuse an item given twice (numbers compared as numbers); repeatable lists take each value whole', () => {
  const spec = {
    methods: { type: 'list', choices: ['a', 'b'], unique: true, help: 'runs' },
    ratios: { type: 'list', min: 0.1, max: 0.5, unique: true, maxItems: 3, help: 'ratios' },
    image: { type: 'list', repeatable: true, maxItems: 3, help: 'files' },
  } as const satisfies Record<string, OptionSpec>;
  const p = (...argv: string[]) => parseArgs('sweep', argv, spec, { positionals: { name: 'files' } });
  assert.deepEqual(p('--methods', 'a,b').methods, ['a', 'b']);
  assert.throws(() => p('--methods', 'a,b,a'), /^UsageError: sweep: --methods lists "a" twice: each item once/);
  assert.throws(() => p('--ratios', '0.25,0.250'), /sweep: --ratios lists "0\.250" and "0\.25" twice/);
  assert.throws(() => p('--ratios', '0.2,0.3,0.4,0.5'), /--ratios takes at most 3 items \(got 4\)/);
  assert.deepEqual(p('--image', 'a,b.png', '--image', 'c.png').image, ['a,b.png', 'c.png'], 'never split at commas');
  assert.throws(() => p('--image', 'a', '--image', 'b', '--image', 'c', '--image', 'd'), /--image takes at most 3 items \(got 4\)/);
  assert.throws(() => p('--methods', 'a', '--methods', 'b'), /--methods is given twice/, 'only repeatable lists repeat');
  assert.match(helpText('infer', 'x', spec), /--image .* \[one per use, repeat the option for more, at most 3\]/);
  assert.match(helpText('sweep', 'x', spec), /--ratios .* \[comma-separated, each a number in \[0\.1, 0\.5\], distinct, at most 3\]/);
});
