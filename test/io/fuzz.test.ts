// Fuzzing the two file formats a user feeds in. Valid safetensors files and PNGs are mutated
// (truncations, bit flips, byte edits, insertions and deletions, header length fields set to huge
// values, JSON header edits: dtypes, shapes, offsets made to overlap or run past the data, names
// duplicated or made hostile, thousands of tensors, metadata of every type; PNG chunk edits with
// fixed CRCs: IHDR sizes, depths and colour types, palettes cut short, chunk lengths, chunks
// dropped, duplicated, swapped or inserted, a decompression bomb in IDAT). Every case must end in
// either a correct load (invariants checked) or a clean error of the format's class whose message
// names the file, is short and contains no raw control character; never another exception, a hang
// or a large allocation: per-case time, per-case allocation (arrayBuffers and peak RSS) and the
// whole run's memory growth are asserted.
//
// Reproducible: a fixed seed (FC_SEED overrides) and FC_RUNS to scale the number of cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, readSafetensors, SafetensorsError, type TensorEntry } from '../../src/core/io/safetensors.ts';
import { decodePng, PngError } from '../../src/core/io/png.ts';
import { PNG_LIMITS } from '../../src/core/io/limits.ts';
import { TEXT_LIMITS } from '../../src/core/util/text.ts';
import { fcParams } from '../support/random.ts';
import { CHANNELS, chunk, concat, crc32, encodeTestPng, type TestPng } from './png-encoder.ts';

const MiB = 2 ** 20;
/** Per case: time, growth of live ArrayBuffer memory, growth of the process's peak RSS. */
const CASE_MS = 3000;
const CASE_ARRAY_BUFFERS = 16 * MiB;
const CASE_PEAK_RSS = 64 * MiB;
/** Whole run: growth of peak RSS and of live ArrayBuffer memory. */
const RUN_PEAK_RSS = 256 * MiB;
const RUN_ARRAY_BUFFERS = 64 * MiB;

const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

interface Meter {
  cases: number;
  loads: number;
  errors: Map<string, number>;
  worstMs: number;
  worstArrayBuffers: number;
  worstPeakRss: number;
}
const newMeter = (): Meter => ({ cases: 0, loads: 0, errors: new Map(), worstMs: 0, worstArrayBuffers: 0, worstPeakRss: 0 });
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * Runs one case under the per-case bounds: `run` either returns (a load, checked by the caller)
 * or throws; a throw must be an instance of `errorClass` naming `source`.
 */
function measured<T>(m: Meter, source: string, errorClass: new (...a: never[]) => Error, run: () => T, check: (value: T) => void): void {
  m.cases++;
  const ab0 = process.memoryUsage().arrayBuffers, rss0 = peakRss(), t0 = performance.now();
  let value: T | undefined, error: unknown, threw = false;
  try {
    value = run();
  } catch (e) {
    error = e;
    threw = true;
  }
  const ms = performance.now() - t0, ab = process.memoryUsage().arrayBuffers - ab0, rss = peakRss() - rss0;
  m.worstMs = Math.max(m.worstMs, ms);
  m.worstArrayBuffers = Math.max(m.worstArrayBuffers, ab);
  m.worstPeakRss = Math.max(m.worstPeakRss, rss);
  assert.ok(ms < CASE_MS, `case took ${ms.toFixed(0)} ms`);
  assert.ok(ab < CASE_ARRAY_BUFFERS, `case grew live ArrayBuffer memory by ${(ab / MiB).toFixed(1)} MiB`);
  assert.ok(rss < CASE_PEAK_RSS, `case grew peak RSS by ${(rss / MiB).toFixed(1)} MiB`);
  if (!threw) {
    m.loads++;
    check(value as T);
    return;
  }
  if (!(error instanceof errorClass)) throw new Error(`not a clean ${errorClass.name}: ${(error as Error)?.stack ?? String(error)}`);
  const msg = error.message;
  assert.ok(msg.includes(source), `message does not name the file: ${msg}`);
  assert.ok(!RAW_CONTROL.test(msg), `raw control character in: ${JSON.stringify(msg)}`);
  assert.ok(msg.length <= TEXT_LIMITS.messageChars, `message of ${msg.length} characters`);
  // Group by the message's shape (numbers and quoted parts removed) to report what was exercised.
  const kind = msg.replace(source, '').replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/[\d,.]+/g, 'N').slice(0, 70);
  m.errors.set(kind, (m.errors.get(kind) ?? 0) + 1);
}

function report(t: { diagnostic(s: string): void }, name: string, m: Meter): void {
  const line = `${name}: ${m.cases} cases, ${m.loads} loaded, ${m.cases - m.loads} clean errors of ${m.errors.size} kinds; worst case ${m.worstMs.toFixed(1)} ms, +${(m.worstArrayBuffers / MiB).toFixed(2)} MiB ArrayBuffers, +${(m.worstPeakRss / MiB).toFixed(2)} MiB peak RSS`;
  t.diagnostic(line);
  if (process.env.FUZZ_VERBOSE) for (const [kind, n] of [...m.errors].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${kind}`);
}

// ---------------------------------------------------------------------------------------------
// Generic byte mutations

type ByteMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x1b) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

function applyBytes(b: Uint8Array, m: ByteMutation): Uint8Array {
  if (b.length === 0) return m.kind === 'insert' ? m.bytes : b;
  const at = m.at % (b.length + (m.kind === 'truncate' || m.kind === 'insert' ? 1 : 0));
  switch (m.kind) {
    case 'truncate':
      return b.slice(0, at);
    case 'flip': {
      const c = b.slice();
      c[at]! ^= 1 << m.bit;
      return c;
    }
    case 'set': {
      const c = b.slice();
      c[at] = m.value;
      return c;
    }
    case 'insert':
      return concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    case 'delete':
      return concat([b.subarray(0, at), b.subarray(at + m.length)]);
  }
}

// ---------------------------------------------------------------------------------------------
// safetensors

const FUZZ_ST_LIMITS = { maxTensors: 64, maxNameChars: 64, maxRank: 8, maxMetadataEntries: 16, maxMetadataChars: 4096 };

function otherWriterFile(): Uint8Array {
  const data = new Uint8Array(64);
  const dv = new DataView(data.buffer);
  [0x3c00, 0xc000, 0x0001, 0x7bff].forEach((h, i) => dv.setUint16(2 * i, h, true));
  [0x3f80, 0xc060].forEach((h, i) => dv.setUint16(8 + 2 * i, h, true));
  data.set([1, 2, 250, 255], 12);
  dv.setFloat64(16, 0.1, true);
  dv.setFloat64(24, -1e300, true);
  dv.setBigInt64(32, -5n, true);
  dv.setBigInt64(40, 2147483647n, true);
  dv.setInt32(48, -7, true);
  dv.setFloat32(56, 0.25, true);
  const header = {
    __metadata__: { format: 'pt', framework: 'other' },
    z_f32: { dtype: 'F32', shape: [2], data_offsets: [56, 64] },
    a_f16: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
    i64: { dtype: 'I64', shape: [2], data_offsets: [32, 48] },
    bf16: { dtype: 'BF16', shape: [1, 2], data_offsets: [8, 12] },
    u8: { dtype: 'U8', shape: [2, 2], data_offsets: [12, 16] },
    f64: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
    i32: { dtype: 'I32', shape: [2], data_offsets: [48, 56] },
  };
  return withHeaderText(JSON.stringify(header), data);
}

function withHeaderText(text: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const ST_SEEDS: Uint8Array[] = [
  encodeSafetensors(new Map<string, TensorEntry>([
    ['scalar', { dtype: 'F32', shape: [], data: new Float32Array([42.5]) }],
    ['empty', { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) }],
    ['cube', { dtype: 'F32', shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i * 0.1 - 1) }],
    ['ints', { dtype: 'I32', shape: [5], data: new Int32Array([0, -1, 2147483647, -2147483648, 7]) }],
    ['bytes', { dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) }],
  ]), { format: 'fpet-webgpu/1', kind: 'checkpoint', state: '{"epoch":1,"step":3}' }),
  otherWriterFile(),
  encodeSafetensors(new Map<string, TensorEntry>([['blocks.0.adapter_mlp.down.weight', { dtype: 'F32', shape: [8, 16], data: new Float32Array(128).fill(0.5) }]])),
];

type HeaderEdit =
  | { kind: 'dtype'; i: number; value: unknown }
  | { kind: 'shape'; i: number; value: unknown }
  | { kind: 'offsets'; i: number; value: unknown }
  | { kind: 'overlap'; i: number; j: number }
  | { kind: 'duplicate'; i: number }
  | { kind: 'rename'; i: number; name: string }
  | { kind: 'many'; count: number }
  | { kind: 'metadata'; value: unknown }
  | { kind: 'dropField'; i: number; field: string }
  | { kind: 'dropEntry'; i: number }
  | { kind: 'replace'; text: string }
  | { kind: 'headerLength'; value: bigint }
  | { kind: 'headerLengthDelta'; delta: number };

const hostileName = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', '__metadata__', '__proto__', 'a\u001b[2J\u001b[H', 'x\u202ey', 'line\nbreak', '\u009b31m', 'n'.repeat(65), '\ud800', 'constructor'),
);

const headerEdit: fc.Arbitrary<HeaderEdit> = fc.oneof(
  fc.record({ kind: fc.constant('dtype' as const), i: fc.nat(), value: fc.constantFrom<unknown>('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'Q4', '', null, 5, 'BOOL', 'F8_E4M3', ['F32']) }),
  fc.record({
    kind: fc.constant('shape' as const), i: fc.nat(),
    value: fc.oneof(fc.array(fc.integer({ min: -2, max: 10 }), { maxLength: 5 }), fc.constantFrom<unknown>([2 ** 53], [2 ** 52, 2 ** 52], [2 ** 31, 2 ** 31, 2 ** 31], [1.5], 'x', null, Array(40).fill(1), [[1]], [1e308], {})),
  }),
  fc.record({
    kind: fc.constant('offsets' as const), i: fc.nat(),
    value: fc.oneof(fc.tuple(fc.integer({ min: -2, max: 80 }), fc.integer({ min: -2, max: 80 })), fc.constantFrom<unknown>([0], [1, 0], [0, 2 ** 53], [0, 2 ** 64], null, [0, 1e300], ['0', '8'], [0, 8, 16])),
  }),
  fc.record({ kind: fc.constant('overlap' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), i: fc.nat(), name: hostileName }),
  fc.record({ kind: fc.constant('many' as const), count: fc.integer({ min: 1, max: 120 }) }),
  fc.record({
    kind: fc.constant('metadata' as const),
    value: fc.oneof(
      fc.dictionary(hostileName, fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null)), { maxKeys: 20 }),
      fc.constantFrom<unknown>('x', 5, null, [], { a: 'x'.repeat(5000) }),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  }),
  fc.record({ kind: fc.constant('dropField' as const), i: fc.nat(), field: fc.constantFrom('dtype', 'shape', 'data_offsets') }),
  fc.record({ kind: fc.constant('dropEntry' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), text: fc.constantFrom('[]', 'null', '1', '"s"', '{}', '{"a":1}', '{"a":{}}', '{', '{"a":[[[[[[[[[[]]]]]]]]]]}', '\ufeff{}') }),
  fc.record({ kind: fc.constant('headerLength' as const), value: fc.oneof(fc.constantFrom(0n, 1n, 7n, 8n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })) }),
  fc.record({ kind: fc.constant('headerLengthDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }),
);

/** Applies a header edit when the header still parses (else the bytes are returned unchanged). */
function applyHeaderEdit(b: Uint8Array, e: HeaderEdit): Uint8Array {
  if (e.kind === 'headerLength' || e.kind === 'headerLengthDelta') {
    if (b.length < 8) return b;
    const c = b.slice();
    const dv = new DataView(c.buffer);
    const v = e.kind === 'headerLength' ? e.value : dv.getBigUint64(0, true) + BigInt(e.delta);
    dv.setBigUint64(0, BigInt.asUintN(64, v), true);
    return c;
  }
  if (b.length < 8) return b;
  const n = new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  if (n > BigInt(b.length - 8)) return b;
  const data = b.subarray(8 + Number(n));
  if (e.kind === 'replace') return withHeaderText(e.text, data);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + Number(n))));
  } catch {
    return b;
  }
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return b;
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const entry = (i: number) => (names.length ? (h[names[i % names.length]!] as Record<string, unknown>) : undefined);
  const obj = (x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined);
  switch (e.kind) {
    case 'dtype':
    case 'shape': {
      const t = obj(entry(e.i));
      if (t) t[e.kind] = e.value;
      break;
    }
    case 'offsets': {
      const t = obj(entry(e.i));
      if (t) t.data_offsets = e.value;
      break;
    }
    case 'overlap': {
      const a = obj(entry(e.i)), c = obj(entry(e.j));
      if (a && c) Object.assign(a, { dtype: c.dtype, shape: c.shape, data_offsets: c.data_offsets });
      break;
    }
    case 'duplicate': {
      if (!names.length) break;
      const name = names[e.i % names.length]!;
      const text = JSON.stringify(h);
      const dup = `${JSON.stringify(name)}:${JSON.stringify(h[name])}`;
      return withHeaderText(`${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${dup}}`, data);
    }
    case 'rename': {
      if (!names.length) break;
      const old = names[e.i % names.length]!;
      const v = h[old];
      delete h[old];
      Object.defineProperty(h, e.name, { value: v, enumerable: true, writable: true, configurable: true });
      break;
    }
    case 'many':
      for (let k = 0; k < e.count; k++) h[`extra.${k}`] = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
      break;
    case 'metadata':
      h.__metadata__ = e.value;
      break;
    case 'dropField': {
      const t = obj(entry(e.i));
      if (t) delete t[e.field];
      break;
    }
    case 'dropEntry':
      if (names.length) delete h[names[e.i % names.length]!];
      break;
  }
  return withHeaderText(JSON.stringify(h), data);
}

type StMutation = { on: 'bytes'; m: ByteMutation } | { on: 'header'; m: HeaderEdit };
const stMutation: fc.Arbitrary<StMutation> = fc.oneof(
  { weight: 2, arbitrary: byteMutation.map((m) => ({ on: 'bytes' as const, m })) },
  { weight: 3, arbitrary: headerEdit.map((m) => ({ on: 'header' as const, m })) },
);
const applySt = (b: Uint8Array, x: StMutation) => (x.on === 'bytes' ? applyBytes(b, x.m) : applyHeaderEdit(b, x.m));

const ELEMENT_TYPE: Record<string, unknown> = { F32: Float32Array, F16: Float32Array, BF16: Float32Array, F64: Float32Array, I32: Int32Array, I64: Int32Array, U8: Uint8Array };

/** A load must be what the file says: names, dtypes and shapes as in its header, and for the
 *  dtypes kept as they are (F32, I32, U8) exactly the bytes at the tensor's offsets. */
function checkSafetensorsLoad(bytes: Uint8Array, r: ReturnType<typeof decodeSafetensors>): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  assert.deepEqual([...r.tensors.keys()].sort(), Object.keys(header).filter((k) => k !== '__metadata__').sort());
  for (const [name, t] of r.tensors) {
    const h = header[name]!;
    assert.equal(t.dtype, h.dtype);
    assert.deepEqual(t.shape, h.shape);
    if (t.dtype === 'F32' || t.dtype === 'I32' || t.dtype === 'U8') {
      const raw = bytes.subarray(8 + n + h.data_offsets[0], 8 + n + h.data_offsets[1]);
      assert.deepEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), raw, name);
    }
  }
  let total = 0;
  for (const [name, t] of r.tensors) {
    assert.ok(name.length <= FUZZ_ST_LIMITS.maxNameChars && !RAW_CONTROL.test(name), `name ${JSON.stringify(name)}`);
    assert.ok(t.shape.length <= FUZZ_ST_LIMITS.maxRank && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0));
    assert.equal(t.data.length, t.shape.reduce((a, d) => a * d, 1), name);
    assert.equal(t.data.constructor, ELEMENT_TYPE[t.dtype], name);
    total += t.data.byteLength;
  }
  assert.ok(r.tensors.size <= FUZZ_ST_LIMITS.maxTensors);
  assert.ok(total <= 2 * bytes.length, `decoded ${total} bytes from a ${bytes.length}-byte file`);
  for (const [k, v] of Object.entries(r.metadata)) assert.ok(typeof v === 'string' && !RAW_CONTROL.test(k));
}

test('fuzz: mutated safetensors files load correctly or fail with a clean SafetensorsError, within time and memory bounds', (t) => {
  const m = newMeter();
  const rss0 = peakRss(), ab0 = process.memoryUsage().arrayBuffers;
  const source = 'fuzz/case.safetensors';
  fc.assert(
    fc.property(fc.nat(ST_SEEDS.length - 1), fc.array(stMutation, { minLength: 1, maxLength: 3 }), (seed, mutations) => {
      const bytes = mutations.reduce(applySt, ST_SEEDS[seed]!);
      measured(m, source, SafetensorsError, () => decodeSafetensors(bytes, source, { limits: FUZZ_ST_LIMITS }), (r) => checkSafetensorsLoad(bytes, r));
    }),
    fcParams(3000),
  );
  report(t, 'safetensors', m);
  assert.ok(peakRss() - rss0 < RUN_PEAK_RSS, `peak RSS grew by ${((peakRss() - rss0) / MiB).toFixed(1)} MiB over the run`);
  assert.ok(process.memoryUsage().arrayBuffers - ab0 < RUN_ARRAY_BUFFERS);
  if (m.cases >= 1000) assert.ok(m.loads > 0 && m.errors.size >= 20, `too little variety: ${m.loads} loads, ${m.errors.size} kinds of error`);
});

test('fuzz: the file reader and the byte decoder agree on mutated files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fuzz-st-'));
  let cases = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.nat(ST_SEEDS.length - 1), fc.array(stMutation, { minLength: 1, maxLength: 2 }), async (seed, mutations) => {
        cases++;
        const bytes = mutations.reduce(applySt, ST_SEEDS[seed]!);
        const path = join(dir, 'case.safetensors');
        await writeFile(path, bytes);
        let fromBytes: unknown, fromFile: unknown;
        try {
          fromBytes = decodeSafetensors(bytes, path, { limits: FUZZ_ST_LIMITS });
        } catch (e) {
          fromBytes = e;
        }
        try {
          fromFile = await readSafetensors(path, { limits: FUZZ_ST_LIMITS });
        } catch (e) {
          fromFile = e;
        }
        if (fromBytes instanceof Error) {
          assert.ok(fromFile instanceof SafetensorsError, `file read did not fail: ${fromBytes.message}`);
          assert.equal(fromFile.message, fromBytes.message);
        } else {
          assert.ok(!(fromFile instanceof Error), `file read failed: ${(fromFile as Error)?.message}`);
          const a = fromBytes as ReturnType<typeof decodeSafetensors>, b = fromFile as typeof a;
          assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
          for (const [k, t] of a.tensors) assert.deepEqual(b.tensors.get(k), t);
          assert.deepEqual(b.metadata, a.metadata);
        }
      }),
      fcParams(300),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  t.diagnostic(`safetensors file reader vs byte decoder: ${cases} cases`);
});

// ---------------------------------------------------------------------------------------------
// PNG

function pngSeed(width: number, height: number, colorType: number, bitDepth: number, extra: Partial<TestPng> = {}): Uint8Array {
  const ch = CHANNELS[colorType]!;
  const levels = colorType === 3 ? Math.min(2 ** bitDepth, 6) : 2 ** bitDepth;
  const samples = Array.from({ length: width * height * ch }, (_, i) => ((i * 2654435761) >>> 11) % levels);
  const palette = colorType === 3 ? Array.from({ length: levels }, (_, i) => [i * 40, 255 - i * 40, (i * 97) % 256] as const) : undefined;
  return encodeTestPng({ width, height, colorType, bitDepth, samples, palette, filter: 'cycle', ...extra });
}

const PNG_SEEDS: Uint8Array[] = [
  pngSeed(16, 16, 0, 8),
  pngSeed(7, 5, 2, 16, { interlace: true }),
  pngSeed(9, 9, 3, 4),
  pngSeed(12, 4, 6, 8, { idatSize: 20, extra: [chunk('tEXt', new TextEncoder().encode('k\0v'))] }),
  pngSeed(13, 3, 0, 1),
  pngSeed(6, 6, 3, 8, { interlace: true }),
  pngSeed(5, 7, 4, 16),
];
/** 4 MiB of zeros deflated (~4 KB): a decompression bomb for any of the small seeds. */
const BOMB = deflateSync(new Uint8Array(4 * MiB));

interface Chunk {
  type: string;
  data: Uint8Array;
}
/** The chunks of a PNG as far as they can be followed. */
function parseChunks(b: Uint8Array): { chunks: Chunk[]; rest: Uint8Array } | undefined {
  if (b.length < 8) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const chunks: Chunk[] = [];
  let at = 8;
  while (at + 12 <= b.length) {
    const len = dv.getUint32(at);
    if (at + 12 + len > b.length) break;
    chunks.push({ type: String.fromCharCode(...b.subarray(at + 4, at + 8)), data: b.slice(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return { chunks, rest: b.subarray(at) };
}
const writeChunks = (b: Uint8Array, chunks: Chunk[], rest: Uint8Array) => concat([b.subarray(0, 8), ...chunks.map((c) => chunk(c.type, c.data)), rest]);

type PngEdit =
  | { kind: 'ihdr'; field: number; value: number }
  | { kind: 'paletteCut'; keep: number }
  | { kind: 'chunkByte'; i: number; at: number; value: number; fixCrc: boolean }
  | { kind: 'chunkLength'; i: number; value: number }
  | { kind: 'dropChunk'; i: number }
  | { kind: 'dupChunk'; i: number }
  | { kind: 'swapChunks'; i: number; j: number }
  | { kind: 'insertChunk'; i: number; type: string; data: Uint8Array }
  | { kind: 'bomb' };

const IHDR_FIELDS = [0, 4, 8, 9, 10, 11, 12]; // width, height (u32), depth, colour, compression, filter, interlace
const pngEdit: fc.Arbitrary<PngEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('ihdr' as const), field: fc.constantFrom(...IHDR_FIELDS),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 255, 4096, 4097, 12000, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat(64), fc.nat()),
  }),
  fc.record({ kind: fc.constant('paletteCut' as const), keep: fc.nat(8) }),
  fc.record({ kind: fc.constant('chunkByte' as const), i: fc.nat(), at: fc.nat(), value: fc.nat(255), fixCrc: fc.boolean() }),
  fc.record({ kind: fc.constant('chunkLength' as const), i: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 13, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat(200)) }),
  fc.record({ kind: fc.constant('dropChunk' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('dupChunk' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('swapChunks' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant('insertChunk' as const), i: fc.nat(), type: fc.constantFrom('IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'iCCP', 'ABCD', 'abcd', 'sRGB'), data: fc.uint8Array({ maxLength: 40 }) }),
  fc.constant({ kind: 'bomb' as const }),
);

function applyPngEdit(b: Uint8Array, e: PngEdit): Uint8Array {
  const p = parseChunks(b);
  if (!p || !p.chunks.length) return b;
  const { chunks, rest } = p;
  const pick = (i: number) => i % chunks.length;
  switch (e.kind) {
    case 'ihdr': {
      const h = chunks.find((c) => c.type === 'IHDR');
      if (!h || h.data.length < 13) return b;
      if (e.field < 8) new DataView(h.data.buffer, h.data.byteOffset).setUint32(e.field, e.value >>> 0);
      else h.data[e.field] = e.value & 255;
      break;
    }
    case 'paletteCut': {
      const pl = chunks.find((c) => c.type === 'PLTE');
      if (!pl) return b;
      pl.data = pl.data.slice(0, 3 * e.keep);
      break;
    }
    case 'chunkByte': {
      // Edits the chunk in place; without fixCrc the CRC is left as it was.
      let at = 8;
      for (let k = 0; k < pick(e.i); k++) at += 12 + chunks[k]!.data.length;
      const c = chunks[pick(e.i)]!;
      if (!c.data.length) return b;
      const out = b.slice();
      out[at + 8 + (e.at % c.data.length)] = e.value;
      if (e.fixCrc) new DataView(out.buffer).setUint32(at + 8 + c.data.length, crc32(out.subarray(at + 4, at + 8 + c.data.length)));
      return out;
    }
    case 'chunkLength': {
      let at = 8;
      for (let k = 0; k < pick(e.i); k++) at += 12 + chunks[k]!.data.length;
      const out = b.slice();
      new DataView(out.buffer).setUint32(at, e.value >>> 0);
      return out;
    }
    case 'dropChunk':
      chunks.splice(pick(e.i), 1);
      break;
    case 'dupChunk':
      chunks.splice(pick(e.i), 0, { ...chunks[pick(e.i)]! });
      break;
    case 'swapChunks': {
      const i = pick(e.i), j = pick(e.j);
      [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
      break;
    }
    case 'insertChunk':
      chunks.splice(pick(e.i), 0, { type: e.type, data: e.data });
      break;
    case 'bomb': {
      const first = chunks.findIndex((c) => c.type === 'IDAT');
      if (first < 0) return b;
      const kept = chunks.filter((c) => c.type !== 'IDAT');
      kept.splice(first, 0, { type: 'IDAT', data: BOMB });
      return writeChunks(b, kept, rest);
    }
  }
  return writeChunks(b, chunks, rest);
}

type PngMutation = { on: 'bytes'; m: ByteMutation } | { on: 'chunks'; m: PngEdit };
const pngMutation: fc.Arbitrary<PngMutation> = fc.oneof(
  { weight: 2, arbitrary: byteMutation.map((m) => ({ on: 'bytes' as const, m })) },
  { weight: 3, arbitrary: pngEdit.map((m) => ({ on: 'chunks' as const, m })) },
);
const applyPng = (b: Uint8Array, x: PngMutation) => (x.on === 'bytes' ? applyBytes(b, x.m) : applyPngEdit(b, x.m));

test('fuzz: mutated PNGs decode to valid luminance or fail with a clean PngError, within time and memory bounds', (t) => {
  const m = newMeter();
  const rss0 = peakRss(), ab0 = process.memoryUsage().arrayBuffers;
  const source = 'fuzz/case.png';
  fc.assert(
    fc.property(fc.nat(PNG_SEEDS.length - 1), fc.array(pngMutation, { minLength: 1, maxLength: 3 }), (seed, mutations) => {
      const bytes = mutations.reduce(applyPng, PNG_SEEDS[seed]!);
      measured(m, source, PngError, () => decodePng(bytes, source), (g) => {
        assert.ok(g.width >= 1 && g.height >= 1 && g.width * g.height <= PNG_LIMITS.maxPixels);
        assert.equal(g.pixels.length, g.width * g.height);
        for (const v of g.pixels) assert.ok(v >= 0 && v <= 1, `pixel ${v}`);
      });
    }),
    fcParams(3000),
  );
  report(t, 'png', m);
  assert.ok(peakRss() - rss0 < RUN_PEAK_RSS, `peak RSS grew by ${((peakRss() - rss0) / MiB).toFixed(1)} MiB over the run`);
  assert.ok(process.memoryUsage().arrayBuffers - ab0 < RUN_ARRAY_BUFFERS);
  if (m.cases >= 1000) assert.ok(m.loads > 0 && m.errors.size >= 20, `too little variety: ${m.loads} loads, ${m.errors.size} kinds of error`);
});
