// The bounded JSON validator (src/core/io/schema.ts): each combinator's bounds and messages, sizes
// checked before contents, the ready-made model-spec and run-state schemas, and a small file that
// declares a huge model rejected without allocating it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  array, bool, int, json, modelSpecSchema, num, object, oneOf, optional, parse, parseJson, parseMetadataJson, record, refine, runStateSchema, SchemaError, str, withDefault,
  MODEL_SPEC_LIMITS, type ModelSpecData, type RunStateData, type Schema,
} from '../../src/core/io/schema.ts';
import { readSafetensors, writeSafetensors } from '../../src/core/io/safetensors.ts';
import { DEFAULT_MERGE, DEFAULT_PET, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import type { RunState } from '../../src/fpet/train/checkpoint.ts';
import { fcParams } from '../support/random.ts';

// Compile-time: what the schemas return is what the rest of the code uses.
const _spec: ModelSpec = undefined as unknown as ModelSpecData;
const _state: RunState = undefined as unknown as RunStateData;
void _spec, void _state;

const at = { source: 'runs/x/checkpoint.safetensors', path: 'metadata.state' };
/** The message of the SchemaError `fn` throws (fails if it throws anything else or nothing). */
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SchemaError, `expected a SchemaError, got ${e}`);
    return e.message;
  }
  assert.fail('no error');
}
const check = <T>(s: Schema<T>, v: unknown) => parse(s, v, at);

test('numbers: integer and finite ranges, open and closed ends, named in the message', () => {
  const step = object({ step: int(0, 10_000_000) });
  assert.equal(problem(() => check(step, { step: 1.5 })), 'runs/x/checkpoint.safetensors: metadata.state.step must be an integer in [0, 10000000] (got 1.5)');
  assert.match(problem(() => check(step, { step: 1e15 })), /step must be an integer in \[0, 10000000\] \(got 1000000000000000\)$/);
  assert.match(problem(() => check(step, { step: '3' })), /step must be an integer in \[0, 10000000\] \(got "3"\)$/);
  assert.match(problem(() => check(step, {})), /metadata\.state\.step is missing \(must be an integer in \[0, 10000000\]\)$/);
  assert.deepEqual(check(step, { step: 0 }), { step: 0 });
  const ratio = num(0, 0.5, { loOpen: true });
  assert.equal(check(ratio, 0.5), 0.5);
  assert.match(problem(() => check(ratio, 0)), /must be a number in \(0, 0\.5\] \(got 0\)/);
  assert.match(problem(() => check(ratio, 0.51)), /\(0, 0\.5\] \(got 0\.51\)/);
  assert.match(problem(() => check(num(0, 1), null)), /got null/);
  assert.match(problem(() => check(num(0, 1, { hiOpen: true }), 1)), /\[0, 1\) \(got 1\)/);
  assert.match(problem(() => check(bool(), 1)), /must be true or false \(got 1\)/);
  assert.match(problem(() => check(oneOf([32, 1] as const), 8)), /must be one of 32, 1 \(got 8\)/);
  assert.match(problem(() => check(oneOf(['fpet', 'tome'] as const), 'x')), /must be one of "fpet", "tome" \(got "x"\)/);
});

test('strings: length, printable, pattern; values shown escaped and clipped', () => {
  const name = str({ max: 8, pattern: /^[a-z]+$/, chars: 'a-z' });
  assert.equal(check(name, 'abc'), 'abc');
  assert.match(problem(() => check(name, 'abcdefghij')), /must be a printable string of at most 8 characters \(a-z\) \(got "abcdefghij"\)/);
  assert.match(problem(() => check(name, 'ABC')), /\(got "ABC"\)/);
  const msg = problem(() => check(str({ max: 100 }), 'red\u001b[31m\u202eevil\nline'));
  assert.ok(!/[\u001b\u202e\n]/.test(msg), msg);
  assert.match(msg, /\\u001b\[31m\\u202eevil\\nline/);
  const long = problem(() => check(int(0, 1), 'x'.repeat(100_000)));
  assert.ok(long.length < 400, `${long.length} characters`);
  assert.match(long, /more characters/);
  assert.equal(check(str({ max: 10, printable: false }), 'a\nb'), 'a\nb');
});

test('lists and records: sizes checked before items; items and keys named by path', () => {
  const blocks = array(int(0, 5), { min: 1, max: 4, unique: true });
  assert.deepEqual(check(blocks, [0, 3]), [0, 3]);
  assert.match(problem(() => check(blocks, [0, 9])), /metadata\.state\[1\] must be an integer in \[0, 5\] \(got 9\)/);
  assert.match(problem(() => check(blocks, [2, 2])), /metadata\.state\[1\] repeats metadata\.state\[0\] \(2\): items must be distinct/);
  assert.match(problem(() => check(blocks, [])), /must have 1 to 4 items \(got 0\)/);
  // A list that claims a trillion items: rejected on its length, its items are never visited.
  let touched = 0;
  const huge = new Proxy([] as unknown[], { get: (t, k) => (k === 'length' ? 1e12 : (touched++, Reflect.get(t, k))) });
  assert.match(problem(() => check(blocks, huge)), /must have 1 to 4 items \(got 1,000,000,000,000\)/);
  assert.equal(touched, 0);

  assert.match(problem(() => check(record(int(0, 9), { maxKeys: 3 }), { 'bad\u001b[2J': 1 })), /metadata\.state key "bad\\u001b\[2J" must be a printable string of at most 256 characters/);
  const map = record(int(0, 9), { maxKeys: 3, key: str({ max: 20, printable: false }) });
  const parsed = check(map, JSON.parse('{"a":1,"__proto__":2,"odd key\\u001b":3}')) as Record<string, number>;
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype, 'a "__proto__" key does not replace the prototype');
  assert.deepEqual(Object.keys(parsed), ['a', '__proto__', 'odd key\u001b']);
  assert.match(problem(() => check(map, { a: 1, b: 2, c: 3, d: 4 })), /must have at most 3 entries \(got more\)/);
  assert.match(problem(() => check(map, { 'odd key\u001b': 10 })), /metadata\.state\["odd key\\u001b"\] must be an integer in \[0, 9\] \(got 10\)/);
});

test('objects: unknown fields rejected (or kept, bounded), optional and default fields, refine names the field', () => {
  const s = object({ a: int(0, 1), b: optional(str({ max: 4 })), c: withDefault(bool(), false) });
  assert.deepEqual(check(s, { a: 1 }), { a: 1, c: false });
  assert.deepEqual(check(s, { a: 0, b: 'x', c: true }), { a: 0, b: 'x', c: true });
  assert.match(problem(() => check(s, { a: 1, zz: 2 })), /metadata\.state has an unexpected field "zz" \(allowed: a, b, c\)/);
  assert.match(problem(() => check(s, [1])), /must be an object with fields a, b, c \(got \[1\]\)/);
  assert.match(problem(() => check(s, null)), /\(got null\)/);
  const keep = object({ a: int(0, 1) }, { unknown: 'keep', extra: json({ maxDepth: 2, maxNodes: 10, maxStringChars: 5 }) });
  assert.deepEqual(check(keep, { a: 1, note: 'ok' }), { a: 1, note: 'ok' });
  assert.match(problem(() => check(keep, { a: 1, note: 'too long' })), /metadata\.state\.note must be a string of at most 5 characters/);
  assert.deepEqual(check(keep, { a: 1, deep: { x: { y: 1 } } }), { a: 1, deep: { x: { y: 1 } } });
  assert.match(problem(() => check(keep, { a: 1, deep: { x: { y: { z: 1 } } } })), /metadata\.state\.deep\.x\.y is nested too deeply \(at most 2 levels\)/);
  assert.match(problem(() => check(keep, { a: 1, many: Array(100).fill(0) })), /at most 10 values in all/);
  const pair = refine(object({ lo: int(0, 9), hi: int(0, 9) }), (v) => (v.lo > v.hi ? { at: ['hi'], message: `must be at least lo = ${v.lo} (got ${v.hi})` } : undefined));
  assert.match(problem(() => check(pair, { lo: 5, hi: 2 })), /metadata\.state\.hi must be at least lo = 5 \(got 2\)$/);
});

test('parseJson and parseMetadataJson: invalid, oversized and missing JSON name the source and field', () => {
  const s = object({ n: int(0, 3) });
  assert.deepEqual(parseJson('{"n":2}', s, at), { n: 2 });
  assert.match(problem(() => parseJson('{"n":', s, at)), /^runs\/x\/checkpoint\.safetensors: metadata\.state is not valid JSON \(/);
  assert.match(problem(() => parseJson(`{"n":1,"pad":"${'x'.repeat(200)}"}`, s, { ...at, maxChars: 100 })), /metadata\.state is 2\d\d characters of JSON, over the 100-character limit/);
  assert.match(problem(() => parseMetadataJson({ format: 'x' }, 'state', s, 'ck.safetensors')), /^ck\.safetensors: metadata\.state is missing \(must be JSON text: an object with fields n\)/);
  assert.deepEqual(parseMetadataJson({ state: '{"n":3}' }, 'state', s, 'ck.safetensors'), { n: 3 });
  // The error carries the parts for callers that want them.
  try {
    parseMetadataJson({ state: '{"n":7}' }, 'state', s, 'ck.safetensors');
  } catch (e) {
    assert.ok(e instanceof SchemaError);
    assert.equal(e.source, 'ck.safetensors');
    assert.equal(e.path, 'metadata.state.n');
  }
});

const presetSpecs = (): ModelSpec[] =>
  Object.values(VIT_PRESETS).flatMap((vit) => [
    { vit, batch: 8, pet: DEFAULT_PET.adaptformer },
    { vit, batch: 1, pet: { ...DEFAULT_PET.lora, bits: 1 as const, dim: 32 }, merge: { ...DEFAULT_MERGE, blocks: [Math.floor(vit.depth / 2)] }, training: { dropout: 0.1, dropPath: 0.1 } },
    { vit, batch: 16, pet: DEFAULT_PET.full, merge: { ...DEFAULT_MERGE, kind: 'tome' as const, blocks: [...Array(vit.depth).keys()], r: 4 } },
    { vit, batch: 2, pet: DEFAULT_PET.linear },
  ]);

test('modelSpecSchema: every preset and method round-trips through JSON unchanged', () => {
  for (const spec of presetSpecs()) {
    const back = parseJson(JSON.stringify(spec), modelSpecSchema, { source: 'a.safetensors', path: 'metadata.spec' });
    assert.deepEqual(back, JSON.parse(JSON.stringify(spec)));
  }
  // Files written before adapters had biases and before representationSize replaced preLogits.
  const vit = { ...VIT_PRESETS['vit-b16'] } as Record<string, unknown>;
  delete vit.representationSize;
  const old = { vit: { ...vit, preLogits: true }, batch: 4, pet: { method: 'adaptformer', bits: 32, dim: 8, scale: 1 } };
  const back = parse(modelSpecSchema, old, { source: 'old.safetensors', path: 'metadata.spec' });
  assert.equal(back.vit.representationSize, 768);
  assert.equal(back.pet.bias, false);
  assert.equal(parse(modelSpecSchema, { ...old, vit: { ...vit, preLogits: false } }, { source: 'x', path: 'spec' }).vit.representationSize, 0);
});

test('modelSpecSchema: each bound and cross-field rule, with the field and the allowed range', () => {
  const base = JSON.parse(JSON.stringify({ vit: VIT_PRESETS['vit-mnist'], batch: 8, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [3] } })) as Record<string, Record<string, unknown>>;
  const withField = (part: string, field: string, value: unknown) => ({ ...base, [part]: { ...base[part], [field]: value } });
  const cases: [unknown, RegExp][] = [
    [withField('vit', 'depth', 5000), /metadata\.spec\.vit\.depth must be an integer in \[1, 64\] \(got 5000\)$/],
    [withField('vit', 'imageSize', 2048), /vit\.imageSize must be an integer in \[1, 1024\] \(got 2048\)/],
    [withField('vit', 'patchSize', 0), /vit\.patchSize must be an integer in \[1, 1024\] \(got 0\)/],
    [withField('vit', 'patchSize', 5), /vit\.patchSize must divide the image size 28 \(got 5\)/],
    [{ ...base, vit: { ...base.vit, imageSize: 1024, patchSize: 2 } }, /vit\.patchSize must be at least 4 for image size 1024: at most 256 patches per side \(got 2\)/],
    [withField('vit', 'heads', 5), /vit\.heads must divide the width 64 \(got 5\)/],
    [withField('vit', 'heads', 65), /vit\.heads must be an integer in \[1, 64\]/],
    [withField('vit', 'dim', 8192), /vit\.dim must be an integer in \[1, 4096\]/],
    [withField('vit', 'numClasses', 100_001), /vit\.numClasses must be an integer in \[1, 100000\]/],
    [withField('vit', 'mlpRatio', 0), /vit\.mlpRatio must be a number in \(0, 16\]/],
    [withField('vit', 'extra', 1), /metadata\.spec\.vit has an unexpected field "extra"/],
    [{ ...base, vit: { ...base.vit, dim: 4096, heads: 64, depth: 64, mlpRatio: 16 } }, /metadata\.spec\.vit declares a backbone of [\d,]+ parameters, over the limit of 1,000,000,000$/],
    [{ ...base, batch: 0 }, /metadata\.spec\.batch must be an integer in \[1, 65536\]/],
    [withField('pet', 'bits', 8), /metadata\.spec\.pet\.bits must be one of 32, 1 \(got 8\)/],
    [withField('pet', 'dim', 0), /metadata\.spec\.pet\.dim must be an integer in \[1, 4096\] for adaptformer \(got 0\)/],
    [withField('pet', 'dim', 5000), /pet\.dim must be an integer in \[0, 4096\]/],
    [withField('pet', 'method', 'prompt'), /pet\.method must be one of "adaptformer", "lora", "full", "linear" \(got "prompt"\)/],
    [withField('merge', 'ratio', 0.6), /metadata\.spec\.merge\.ratio must be a number in \(0, 0\.5\] \(got 0\.6\)/],
    [withField('merge', 'blocks', [2, 9]), /metadata\.spec\.merge\.blocks\[1\] must be a block of the 6-block model: an integer in \[0, 5\] \(got 9\)/],
    [withField('merge', 'blocks', []), /merge\.blocks must have 1 to 64 items \(got 0\)/],
    [withField('merge', 'blocks', [1, 1]), /merge\.blocks\[1\] repeats metadata\.spec\.merge\.blocks\[0\]/],
    [withField('merge', 'refineBits', 2), /merge\.refineBits must be one of 32, 1/],
    [{ ...base, training: { dropout: 1, dropPath: 0 } }, /metadata\.spec\.training\.dropout must be a number in \[0, 0\.95\]/],
    [{ vit: base.vit, pet: base.pet }, /metadata\.spec\.batch is missing \(must be an integer in \[1, 65536\]\)/],
  ];
  for (const [spec, re] of cases) assert.match(problem(() => parse(modelSpecSchema, spec, { source: 'a.safetensors', path: 'metadata.spec' })), re);
  assert.equal(MODEL_SPEC_LIMITS.maxDepth, 64);
});

test('a 33 KB adapters file declaring depth 5000 is rejected by the schema, without allocating the model', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'schema-test-'));
  try {
    const path = join(dir, 'adapters.safetensors');
    const spec = { vit: { ...VIT_PRESETS['vit-mnist'], depth: 5000 }, batch: 8, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [...Array(64).keys()] } };
    const w = new Float32Array(8000);
    await writeSafetensors(path, new Map([['blocks.0.adapter_mlp.down.weight', { dtype: 'F32', shape: [8000], data: w }]]), { kind: 'adapters', spec: JSON.stringify(spec) });
    const size = (await stat(path)).size;
    assert.ok(size > 30_000 && size < 40_000, `${size} bytes`);
    const { metadata } = await readSafetensors(path);
    globalThis.gc?.();
    const before = process.memoryUsage();
    const message = problem(() => parseMetadataJson(metadata, 'spec', modelSpecSchema, path));
    const after = process.memoryUsage();
    assert.equal(message, `${path}: metadata.spec.vit.depth must be an integer in [1, 64] (got 5000)`);
    assert.ok(after.arrayBuffers - before.arrayBuffers < 1e6 && after.heapUsed - before.heapUsed < 20e6, `allocated ${after.arrayBuffers - before.arrayBuffers} / ${after.heapUsed - before.heapUsed} bytes`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function runState(): Omit<RunState, 'history'> & { history: Record<string, unknown>[] } {
  const spec: ModelSpec = { vit: VIT_PRESETS['vit-mnist'], batch: 16, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [3] }, training: { dropout: 0.1, dropPath: 0.1 } };
  const history: Record<string, unknown>[] = [1, 2].map((epoch) => ({ epoch, lr: 0.005, loss: 1.2 / epoch, testAccuracy: 0.8, trainImagesPerSec: 150.5, seconds: 6.6 }));
  return { spec, epoch: 2, step: 124, seed: 0, options: { epochs: 3, lr: 0.005, data: { dataset: 'mnist', trainSize: 1000 }, outDir: 'runs/x', adamw: { beta1: 0.9 } }, history };
}

test('runStateSchema: a trainer state round-trips; every lie in it is named', () => {
  const ok = runState();
  const text = JSON.stringify(ok);
  assert.deepEqual(parseJson(text, runStateSchema, at), JSON.parse(text));
  // Interrupted mid-epoch: the unfinished epoch has no record and is not counted, its steps are.
  assert.deepEqual(parseJson(JSON.stringify({ ...ok, step: 150 }), runStateSchema, at).step, 150);
  // Later trainers may add fields to a history record: kept (bounded).
  const extra = parseJson(JSON.stringify({ ...ok, history: ok.history.map((h) => ({ ...(h as object), trainAccuracy: 0.9 })) }), runStateSchema, at);
  assert.equal((extra.history[0] as Record<string, unknown>).trainAccuracy, 0.9);

  const lie = (edit: Record<string, unknown>) => problem(() => parseJson(JSON.stringify({ ...ok, ...edit }), runStateSchema, at));
  assert.equal(lie({ step: 1.5 }), 'runs/x/checkpoint.safetensors: metadata.state.step must be an integer in [0, 1000000000] (got 1.5)');
  assert.match(lie({ step: 1e18 }), /metadata\.state\.step must be an integer in \[0, 1000000000\] \(got 1000000000000000000\)/);
  assert.match(lie({ step: 1 }), /metadata\.state\.step must be at least the 2 completed epochs' worth of steps \(got 1\)/);
  assert.match(lie({ history: 'many' }), /metadata\.state\.history must be a list of at most 100,000 items/);
  assert.match(lie({ history: [] }), /metadata\.state\.history must have one record per completed epoch: 2 \(got 0\)/);
  assert.match(lie({ history: [ok.history[1], ok.history[0]] }), /metadata\.state\.history\[0\]\.epoch must be 1 \(records in epoch order; got 2\)/);
  assert.match(lie({ history: [{ ...ok.history[0], loss: null }, ok.history[1]] }), /metadata\.state\.history\[0\]\.loss must be a number in \[0, 1000000000\] \(got null\)/);
  assert.match(lie({ spec: undefined }), /metadata\.state\.spec is missing \(must be an object with fields vit, batch, pet, merge, inputCrop, normalize, training\)/);
  assert.match(lie({ spec: { ...ok.spec, vit: { ...ok.spec.vit, depth: 5000 } } }), /metadata\.state\.spec\.vit\.depth must be an integer in \[1, 64\]/);
  assert.match(lie({ spec: { ...ok.spec, inputCrop: ok.spec.vit.imageSize + 1 } }), new RegExp(`metadata\\.state\\.spec\\.inputCrop must be an integer in \\[1, ${ok.spec.vit.imageSize}\\] \\(the image size; got ${ok.spec.vit.imageSize + 1}\\)`));
  assert.match(lie({ spec: { ...ok.spec, inputCrop: 0 } }), /metadata\.state\.spec\.inputCrop must be an integer in \[1, 1024\]/);
  // The input normalisation: one mean and one std per input channel, std > 0.
  const channels = ok.spec.vit.inChannels, ones = Array(channels).fill(0.5);
  assert.equal(parseJson(JSON.stringify({ ...ok, spec: { ...ok.spec, normalize: { mean: ones, std: ones } } }), runStateSchema, at).spec.normalize?.mean.length, channels);
  assert.match(lie({ spec: { ...ok.spec, normalize: { mean: [...ones, 0.5], std: [...ones, 0.5] } } }), new RegExp(`metadata\\.state\\.spec\\.normalize\\.mean must have one value per input channel: ${channels} \\(got ${channels + 1}\\)`));
  assert.match(lie({ spec: { ...ok.spec, normalize: { mean: ones, std: Array(channels).fill(0) } } }), /metadata\.state\.spec\.normalize\.std\[0\] must be a number in \[0\.0001, 100\]/);
  assert.match(lie({ seed: 2 ** 40 }), /metadata\.state\.seed must be an integer in \[-2147483648, 4294967295\]/);
  assert.match(lie({ epoch: -1 }), /metadata\.state\.epoch must be an integer in \[0, 100000\]/);
  assert.match(lie({ options: [] }), /metadata\.state\.options must be an object of at most 256 entries/);
  let deep: unknown = 1;
  for (let i = 0; i < 50; i++) deep = { d: deep };
  assert.match(lie({ options: { deep } }), /metadata\.state\.options\.deep(\.d)+ is nested too deeply/);
  assert.match(lie({ bogus: 1 }), /metadata\.state has an unexpected field "bogus"/);
});

test('property: a run state with any value replaced anywhere parses to a valid state or fails with a SchemaError naming a field', () => {
  const ok = JSON.parse(JSON.stringify(runState())) as Record<string, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(ok, []);
  const hostile = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom<unknown>(undefined, -1, 1.5, 1e308, 2 ** 53, '', 'x\u001b[2J', [], {}, null, Array(200).fill(1), { depth: 5000 }),
  );
  let valid = 0, rejected = 0;
  fc.assert(
    fc.property(fc.nat(paths.length - 1), hostile, (i, value) => {
      const state = structuredClone(ok);
      const p = paths[i]!;
      if (p.length === 0) return;
      let parent: Record<string | number, unknown> = state;
      for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
      parent[p.at(-1)!] = value;
      try {
        const back = parseJson(JSON.stringify(state), runStateSchema, at);
        // Whatever passed is itself valid, and what the schema returns re-validates unchanged.
        assert.deepEqual(parse(runStateSchema, back, at), back);
        valid++;
      } catch (e) {
        assert.ok(e instanceof SchemaError, `not a SchemaError: ${e}`);
        assert.match(e.message, /^runs\/x\/checkpoint\.safetensors: metadata\.state/);
        assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(e.message) && e.message.length <= 4000, e.message);
        rejected++;
      }
    }),
    fcParams(1500),
  );
  console.log(`run-state mutations: ${valid} valid, ${rejected} rejected`);
  assert.ok(rejected > 0 && valid > 0);
});

test('a spec written before representationSize and adapter biases (the first shipped backbone\'s) parses, and so does the shipped one', async () => {
  const old = '{"vit":{"imageSize":28,"patchSize":4,"inChannels":1,"dim":64,"depth":6,"heads":4,"mlpRatio":2,"numClasses":10,"preLogits":false},"batch":50,"pet":{"method":"full","bits":32,"dim":0,"scale":1}}';
  const spec = parseMetadataJson({ spec: old }, 'spec', modelSpecSchema, 'old backbone');
  assert.equal(spec.vit.representationSize, 0);
  assert.equal(spec.pet.bias, false);
  assert.deepEqual(spec.vit, { ...VIT_PRESETS['vit-mnist'] });
  const path = 'models/vit-mnist-fashion.safetensors';
  const { metadata } = await readSafetensors(path);
  assert.deepEqual(parseMetadataJson(metadata, 'spec', modelSpecSchema, path).vit, { ...VIT_PRESETS['vit-mnist'] });
});
