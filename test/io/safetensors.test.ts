// safetensors: round trips, bytes laid out the way other writers lay them out, every malformed-file
// error, validateTensors' report, and the atomic writer's guarantees.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, readSafetensors, readSafetensorsHeader, SafetensorsError, validateTensors, writeSafetensors, type TensorEntry } from '../../src/core/io/safetensors.ts';
import { fcParams } from '../support/random.ts';

const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/** Bytes as another writer would produce them: header text as given, padded with spaces to 8. */
function craft(header: object | string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while ((8 + Buffer.byteLength(text)) % 8 !== 0) text += ' ';
  const h = Buffer.from(text, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function sampleTensors(): Map<string, TensorEntry> {
  const special = new Float32Array([0, -0, 1.5, -2.25, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, Math.PI]);
  return new Map<string, TensorEntry>([
    ['scalar', { dtype: 'F32', shape: [], data: new Float32Array([42.5]) }],
    ['empty', { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) }],
    ['special', { dtype: 'F32', shape: [2, 5], data: special }],
    ['cube', { dtype: 'F32', shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i * 0.1 - 1) }],
    ['ints', { dtype: 'I32', shape: [5], data: new Int32Array([0, -1, 2147483647, -2147483648, 7]) }],
    ['bytes', { dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) }],
    ['blocks.0.attn.qkv.weight', { dtype: 'F32', shape: [3, 1], data: new Float32Array([1, 2, 3]) }],
  ]);
}

function assertSameTensors(got: Map<string, { dtype: string; shape: number[]; data: ArrayLike<number> }>, want: Map<string, TensorEntry>): void {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [name, w] of want) {
    const g = got.get(name)!;
    assert.equal(g.dtype, w.dtype, name);
    assert.deepEqual(g.shape, [...w.shape], name);
    assert.equal(g.data.constructor, w.data.constructor, name);
    if (w.data instanceof Float32Array) assert.deepEqual(bits(g.data as Float32Array), bits(w.data), name);
    else assert.deepEqual(Array.from(g.data), Array.from(w.data), name);
  }
}

test('round trip: F32/I32/U8, scalar, empty and special values, metadata; header padded to 8 with spaces', () => {
  const tensors = sampleTensors();
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'ünïcødé' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0);
  const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  assert.match(headerText, /^\{.*\} *$/);
  const { tensors: got, metadata } = decodeSafetensors(bytes, 'mem');
  assertSameTensors(got, tensors);
  assert.deepEqual(metadata, { format: 'pt', note: 'ünïcødé' });
  for (const t of got.values()) {
    // decoded data owns an aligned buffer of its own (not a view into the file)
    assert.equal(t.data.byteOffset, 0);
    assert.equal(t.data.buffer.byteLength, t.data.byteLength);
  }
  // no metadata: no __metadata__ key at all
  assert.doesNotMatch(Buffer.from(encodeSafetensors(new Map())).toString('latin1'), /__metadata__/);
  assert.deepEqual(decodeSafetensors(encodeSafetensors(new Map())).tensors.size, 0);
});

test('round trip property: random shapes and float bit patterns', () => {
  const entry = fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.boolean(), fc.integer()).map(([shape, isInt, seed]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = Int32Array.from({ length: n }, (_, i) => Math.imul(seed ^ i, 0x9e3779b1));
    return isInt ? ({ dtype: 'I32', shape, data: raw } as TensorEntry) : ({ dtype: 'F32', shape, data: new Float32Array(raw.buffer) } as TensorEntry);
  });
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'), entry), { selector: ([k]) => k, maxLength: 6 }), (list) => {
      const tensors = new Map(list);
      const got = decodeSafetensors(encodeSafetensors(tensors)).tensors;
      assertSameTensors(got, tensors);
    }),
    fcParams(100),
  );
});

test('decodes a file laid out by another writer: __metadata__, entry order unlike data order, every dtype', () => {
  const data = new Uint8Array(64);
  const dv = new DataView(data.buffer);
  // [0,8): F16 [4] = 1, -2, 2^-24 (subnormal), 65504 (max)
  [0x3c00, 0xc000, 0x0001, 0x7bff].forEach((h, i) => dv.setUint16(0 + 2 * i, h, true));
  // [8,12): BF16 [2] = 1, -3.5
  [0x3f80, 0xc060].forEach((h, i) => dv.setUint16(8 + 2 * i, h, true));
  // [12,16): U8 [2,2]
  data.set([1, 2, 250, 255], 12);
  // [16,32): F64 [2] = 0.1, -1e300 (not representable: -Infinity in f32)
  dv.setFloat64(16, 0.1, true);
  dv.setFloat64(24, -1e300, true);
  // [32,48): I64 [2]
  dv.setBigInt64(32, -5n, true);
  dv.setBigInt64(40, 2147483647n, true);
  // [48,56): I32 [2]; [56,64): F32 [2]
  dv.setInt32(48, -7, true);
  dv.setInt32(52, 123456, true);
  dv.setFloat32(56, 0.25, true);
  dv.setFloat32(60, -8, true);
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
  const bytes = craft(header, data);
  assert.equal((bytes.length - 64) % 8, 0);
  const { tensors, metadata } = decodeSafetensors(bytes, 'other.safetensors');
  assert.deepEqual(metadata, { format: 'pt', framework: 'other' });
  assert.deepEqual([...tensors.keys()], ['a_f16', 'bf16', 'u8', 'f64', 'i64', 'i32', 'z_f32'], 'in data order');
  const get = (k: string) => tensors.get(k)!;
  assert.equal(get('a_f16').dtype, 'F16');
  assert.ok(get('a_f16').data instanceof Float32Array);
  assert.deepEqual([...get('a_f16').data], [1, -2, 2 ** -24, 65504]);
  assert.deepEqual([...get('bf16').data], [1, -3.5]);
  assert.deepEqual(get('bf16').shape, [1, 2]);
  assert.ok(get('u8').data instanceof Uint8Array);
  assert.deepEqual([...get('u8').data], [1, 2, 250, 255]);
  assert.deepEqual([...get('f64').data], [Math.fround(0.1), -Infinity]);
  assert.ok(get('i64').data instanceof Int32Array);
  assert.deepEqual([...get('i64').data], [-5, 2147483647]);
  assert.deepEqual([...get('i32').data], [-7, 123456]);
  assert.deepEqual([...get('z_f32').data], [0.25, -8]);
});

test('F16 special values and unpadded headers', () => {
  const data = new Uint8Array(8);
  const dv = new DataView(data.buffer);
  [0x7c00, 0xfc00, 0x7e00, 0x8000].forEach((h, i) => dv.setUint16(2 * i, h, true));
  const bytes = craft({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, data, false); // header not a multiple of 8
  const v = decodeSafetensors(bytes).tensors.get('h')!.data as Float32Array;
  assert.equal(v[0], Infinity);
  assert.equal(v[1], -Infinity);
  assert.ok(Number.isNaN(v[2]));
  assert.ok(Object.is(v[3], -0));
});

test('malformed files: each error names the file, the tensor where there is one, and the problem', () => {
  const f32 = (begin: number, end: number, shape = [2]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /bad\.st: truncated file: 5 bytes/],
    ['header length past the end', (() => { const b = craft({}); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /bad\.st: header length 1000 is larger than the \d+ bytes/],
    ['header length near 2^64', (() => { const b = craft({}); new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true); return b; })(), /bad\.st: header length 18446744073709551615 is larger/],
    ['invalid JSON', craft('{"a": {"dtype": "F32",'), /bad\.st: the header is not valid JSON/],
    ['invalid UTF-8', (() => { const b = craft('{"\u00e9":{}}'); b[10] = 0xff; return b; })(), /bad\.st: the header is not valid UTF-8/],
    ['JSON array header', craft('[1,2]'), /bad\.st: the header must be a JSON object, got an array/],
    ['unknown dtype', craft({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, new Uint8Array(1)), /bad\.st: tensor "w": unknown dtype "Q4"/],
    ['missing dtype', craft({ w: { shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "w": unknown dtype undefined/],
    ['negative dim', craft({ w: f32(0, 8, [-2]) }, new Uint8Array(8)), /tensor "w": shape \[-2\] must be a list of non-negative integers/],
    ['fractional dim', craft({ w: f32(0, 8, [1.5]) }, new Uint8Array(8)), /tensor "w": shape \[1.5\]/],
    ['offsets not a pair', craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, new Uint8Array(8)), /tensor "w": data_offsets \[0\] must be two non-negative integers/],
    ['offsets reversed', craft({ w: f32(8, 0) }, new Uint8Array(8)), /tensor "w": data_offsets \[8,0\] end before they begin/],
    ['offsets out of range', craft({ a: f32(0, 8), w: f32(8, 16) }, new Uint8Array(12)), /bad\.st: tensor "w": data_offsets \[8,16\] are out of range: the data section has 12 bytes/],
    ['offsets overlap', craft({ a: f32(0, 8), w: f32(4, 12) }, new Uint8Array(12)), /bad\.st: tensor "w": data_offsets \[4,12\] overlap those of tensor "a" \[0,8\]/],
    ['size mismatch', craft({ w: f32(0, 8, [3]) }, new Uint8Array(12)), /bad\.st: tensor "w": data_offsets \[0,8\] span 8 bytes, but F32\[3\] needs 12/],
    ['metadata not strings', craft({ __metadata__: { epoch: 3 } }), /bad\.st: metadata "epoch" must be a string, got 3/],
    ['metadata not an object', craft({ __metadata__: 'x' }), /bad\.st: "__metadata__" must be an object/],
    ['entry not an object', craft({ w: [1, 2] }), /bad\.st: tensor "w": the header entry must be an object/],
    ['I64 out of int32 range', (() => { const d = new Uint8Array(16); new DataView(d.buffer).setBigInt64(8, 2n ** 40n, true); return craft({ idx: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, d); })(), /bad\.st: tensor "idx": I64 value 1099511627776 at element 1 does not fit in an int32/],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(() => decodeSafetensors(bytes, 'bad.st'), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, `${what}: ${e}`);
      assert.match(e.message, re, what);
      return true;
    }, what);
  }
  // a valid file cut short: the last tensor's offsets no longer fit
  const good = encodeSafetensors(sampleTensors());
  assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 3), 'cut.st'), /cut\.st: tensor "blocks\.0\.attn\.qkv\.weight": data_offsets \[\d+,\d+\] are out of range/);
  // cut inside the header
  assert.throws(() => decodeSafetensors(good.subarray(0, 20), 'cut.st'), /cut\.st: header length \d+ is larger than the 12 bytes/);
  // empty tensors may share an offset with anything
  const shared = craft({ a: f32(0, 8), e: f32(4, 4, [0]) }, new Uint8Array(8));
  assert.deepEqual([...decodeSafetensors(shared).tensors.keys()].sort(), ['a', 'e']);
});

test('encode rejects bad input by tensor name', () => {
  const one = (e: Partial<TensorEntry> & object, name = 'w') => () => encodeSafetensors(new Map([[name, { dtype: 'F32', shape: [2], data: new Float32Array(2), ...e } as TensorEntry]]));
  assert.throws(one({ data: new Float32Array(3) }), /tensor "w": shape \[2\] needs 2 elements, the data has 3/);
  assert.throws(one({ data: new Int32Array(2) }), /tensor "w": dtype F32 needs a Float32Array, got Int32Array/);
  assert.throws(one({ dtype: 'F16' as 'F32' }), /tensor "w": cannot write dtype F16/);
  assert.throws(one({ shape: [-1] }), /tensor "w": shape \[-1\] must be a list of non-negative integers/);
  assert.throws(one({}, '__metadata__'), /reserved for metadata/);
  assert.throws(one({}, ''), /must not be empty/);
  assert.throws(() => encodeSafetensors(new Map(), { step: 3 as unknown as string }), /metadata "step" must be a string/);
});

test('validateTensors lists every problem in one error, each naming its tensor', () => {
  const found = new Map([
    ['a', { dtype: 'F32', shape: [2, 3] }],
    ['b', { dtype: 'F32', shape: [3, 2] }],
    ['c', { dtype: 'I32', shape: [4] }],
    ['half', { dtype: 'F16', shape: [1] }],
    ['idx', { dtype: 'I64', shape: [2] }],
    ['stray', { dtype: 'U8', shape: [7] }],
  ]);
  const expected = new Map<string, readonly number[] | { shape: readonly number[]; dtype?: 'float' | 'int' | 'F32' }>([
    ['a', [2, 3]],
    ['b', [2, 3]],
    ['c', [4]],
    ['half', [1]],
    ['idx', { shape: [2], dtype: 'int' }],
    ['gone', [5]],
    ['adapter.0', [8]],
  ]);
  let message = '';
  assert.throws(() => validateTensors(found, expected, { allowMissing: ['adapter.0'], source: 'ckpt.safetensors' }), (e: Error) => ((message = e.message), true));
  assert.match(message, /^ckpt\.safetensors: tensors do not match what was expected \(4 problems\):/);
  assert.match(message, /\n {2}tensor "b": shape \[3,2\], expected \[2,3\]/);
  assert.match(message, /\n {2}tensor "c": dtype I32, expected a float dtype/);
  assert.match(message, /\n {2}missing tensor "gone" \(expected float \[5\]\)/);
  assert.match(message, /\n {2}unexpected tensor "stray" \(U8 \[7\]\)/);
  assert.doesNotMatch(message, /"a"|"half"|"idx"|adapter/);
  // predicate form, extras allowed, exact dtype
  assert.throws(() => validateTensors(found, new Map([['a', { shape: [2, 3], dtype: 'F16' as const }]]), { allowExtra: true }), /^Error: tensors do not match what was expected \(1 problem\):\n {2}tensor "a": dtype F32, expected F16$/);
  const ok = validateTensors(found, new Map([['a', [2, 3]], ['adapter.0', [8]], ['adapter.1', [8]]]), { allowExtra: true, allowMissing: (n) => n.startsWith('adapter.') });
  assert.deepEqual(ok.missing, ['adapter.0', 'adapter.1']);
  // works straight on decoded contents
  const decoded = decodeSafetensors(encodeSafetensors(sampleTensors())).tensors;
  assert.throws(() => validateTensors(decoded, new Map([['scalar', [1]]])), /tensor "scalar": shape \[\], expected \[1\][\s\S]*unexpected tensor "special"/);
});

test('writeSafetensors: atomic replace, no temp file left, bytes equal encodeSafetensors; a failing write leaves the old file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
  try {
    const path = join(dir, 'model.safetensors');
    const big = new Map<string, TensorEntry>([['w', { dtype: 'F32', shape: [1000, 100], data: Float32Array.from({ length: 100000 }, (_, i) => i) }]]);
    await writeSafetensors(path, big, { step: '1' });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const small = sampleTensors();
    await writeSafetensors(path, small, { step: '2' });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const onDisk = await readFile(path);
    assert.deepEqual(new Uint8Array(onDisk), encodeSafetensors(small, { step: '2' }), 'the old, larger content is completely replaced');
    const back = await readSafetensors(path);
    assertSameTensors(back.tensors, small);
    assert.deepEqual(back.metadata, { step: '2' });

    // fails midway: the first tensor is streamed to the temp file, the second has the wrong length
    const before = await readFile(path);
    const bad = new Map<string, TensorEntry>([
      ['first', { dtype: 'F32', shape: [1000, 100], data: new Float32Array(100000) }],
      ['second', { dtype: 'F32', shape: [4, 4], data: new Float32Array(15) }],
    ]);
    await assert.rejects(writeSafetensors(path, bad), (e: Error) => e instanceof SafetensorsError && /model\.safetensors: tensor "second": shape \[4,4\] needs 16 elements, the data has 15/.test(e.message));
    assert.deepEqual(await readdir(dir), ['model.safetensors'], 'temp file removed');
    assert.deepEqual(await readFile(path), before, 'old file intact');

    // an unwritable destination: a clear error and nothing created
    await assert.rejects(writeSafetensors(join(dir, 'no', 'such', 'dir.safetensors'), small), /dir\.safetensors: cannot write it: no such file or folder \(ENOENT\); any existing file was left unchanged/);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);

    // reading: errors name the path
    await assert.rejects(readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot read the file \(ENOENT/);
    const cut = join(dir, 'cut.safetensors');
    await writeFile(cut, before.subarray(0, before.length - 1));
    await assert.rejects(readSafetensors(cut), (e: Error) => e instanceof SafetensorsError && e.message.includes(cut) && /tensor "blocks\.0\.attn\.qkv\.weight".*out of range/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('header bounds: tensor count (counted before parsing), duplicates, names, rank, metadata size; each named with its limit', () => {
  const f32 = (begin: number, end: number, shape = [2]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const small = { limits: { maxTensors: 3, maxNameChars: 16, maxRank: 4, maxMetadataEntries: 2, maxMetadataChars: 20 } };
  const cases: [string, Uint8Array, RegExp][] = [
    ['4 tensors, limit 3', craft({ a: f32(0, 0, [0]), b: f32(0, 0, [0]), c: f32(0, 0, [0]), d: f32(0, 0, [0]) }), /^safetensors bad\.st: the header declares more than 3 tensors \(the limit\)$/],
    ['duplicate name', craft('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(8)), /^safetensors bad\.st: tensor "w" appears more than once in the header$/],
    ['duplicate name, escaped in JSON', craft('{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"\\u0077":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'), /tensor "w" appears more than once/],
    ['duplicate metadata', craft('{"__metadata__":{},"__metadata__":{}}'), /"__metadata__" appears more than once/],
    ['name too long', craft({ ['n'.repeat(17)]: f32(0, 8) }, new Uint8Array(8)), /tensor name "n{17}" is 17 characters long \(the limit is 16\)/],
    ['name with an escape sequence', craft({ 'a\u001b[2Jb': f32(0, 8) }, new Uint8Array(8)), /tensor name "a\\u001b\[2Jb" contains a control, escape or invisible formatting character at position 1 \(names must be printable\)/],
    ['name with a bidi override', craft({ 'x\u202ey': f32(0, 8) }, new Uint8Array(8)), /tensor name "x\\u202ey" contains a control/],
    ['rank 5, limit 4', craft({ w: f32(0, 4, [1, 1, 1, 1, 1]) }, new Uint8Array(4)), /tensor "w": shape \[1,1,1,1,1\] must be a list of non-negative integers \(at most 4 dimensions, each at most 2\^53-1\)/],
    ['unsafe dim', craft({ w: f32(0, 8, [2 ** 60]) }, new Uint8Array(8)), /tensor "w": shape \[1152921504606847000\] must be a list of non-negative integers/],
    ['dims whose product overflows', craft({ w: f32(0, 8, [2 ** 52, 2 ** 52]) }, new Uint8Array(8)), /tensor "w": data_offsets \[0,8\] span 8 bytes, but F32\[4503599627370496,4503599627370496\] needs 81129638414606681695789005144064$/],
    ['3 metadata entries, limit 2', craft({ __metadata__: { a: '1', b: '2', c: '3' } }), /"__metadata__" has more than 2 entries \(the limit\)/],
    ['metadata over 20 characters', craft({ __metadata__: { a: 'x'.repeat(30) } }), /"__metadata__" is over the 20-character limit \(at "a"\)/],
    ['metadata key with a newline', craft({ __metadata__: { 'a\nb': '1' } }), /metadata key "a\\nb" contains a control/],
    ['metadata value not a string, shown bounded', craft({ __metadata__: { a: Array(10_000).fill(7) } }), /metadata "a" must be a string, got \[7,7,7,.*…\([\d,]+ more\)\]$/],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(() => decodeSafetensors(bytes, 'bad.st', small), (e: Error) => {
      assert.ok(e instanceof SafetensorsError, `${what}: ${e}`);
      assert.match(e.message, re, what);
      assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202e]/.test(e.message), `${what}: raw control character in ${JSON.stringify(e.message)}`);
      assert.ok(e.message.length < 600, `${what}: ${e.message.length} characters`);
      return true;
    }, what);
  }
  // "__proto__" is an ordinary name, in tensors and in metadata.
  const proto = decodeSafetensors(craft('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"__proto__":"m"}}', new Uint8Array([5])));
  assert.deepEqual([...proto.tensors.keys()], ['__proto__']);
  assert.equal(Object.getPrototypeOf(proto.metadata), Object.prototype);
  assert.deepEqual(Object.entries(proto.metadata), [['__proto__', 'm']]);
});

test('the default tensor-count limit (100,000) stops a huge header with a short message', () => {
  const n = 100_001;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`);
  const bytes = craft(`{${parts.join(',')}}`);
  const t0 = performance.now();
  assert.throws(() => decodeSafetensors(bytes, 'many.st'), /^SafetensorsError: safetensors many\.st: the header declares more than 100,000 tensors \(the limit\)$/);
  assert.ok(performance.now() - t0 < 2000);
  // 100,000 is still fine.
  const ok = craft(`{${parts.slice(0, 100_000).join(',')}}`);
  assert.equal(decodeSafetensors(ok).tensors.size, 100_000);
});

test('the writer refuses what the reader would refuse', () => {
  const one = (name: string, shape: number[] = [1]) => () => encodeSafetensors(new Map([[name, { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) } as TensorEntry]]));
  assert.throws(one('a\u0007b'), /tensor name "a\\u0007b" contains a control/);
  assert.throws(one('x'.repeat(2000)), /is 2,000 characters long \(the limit is 1,024\)/);
  assert.throws(one('w', Array(33).fill(1)), /at most 32 dimensions/);
  assert.throws(() => encodeSafetensors(new Map(), { 'k\u001b': 'v' }), /metadata key "k\\u001b" contains a control/);
});

test('validateTensors caps its report: 20 problems listed, the rest counted by kind; names escaped', () => {
  const expected = new Map<string, readonly number[]>();
  for (let i = 0; i < 60_000; i++) expected.set(`blocks.${i}.w`, [4]);
  const found = new Map([['evil\u001b]0;pwned\u0007', { dtype: 'F32', shape: [1] }], ['blocks.0.w', { dtype: 'F32', shape: [5] }]]);
  let message = '';
  assert.throws(() => validateTensors(found, expected, { source: 'big.safetensors' }), (e: Error) => ((message = e.message), true));
  const lines = message.split('\n');
  assert.equal(lines[0], 'big.safetensors: tensors do not match what was expected (60,001 problems):');
  assert.equal(lines.length, 1 + 20 + 1);
  assert.equal(lines[1], '  tensor "blocks.0.w": shape [5], expected [4]');
  assert.equal(lines.at(-1), '  … and 59,981 more (in all: 59,999 missing, 1 unexpected, 1 with the wrong shape)');
  assert.ok(message.length < 2000, `${message.length} characters`);
  // The unexpected name is listed escaped when it is among the first 20.
  assert.throws(() => validateTensors(found, new Map([['blocks.0.w', [5]]])), (e: Error) => /unexpected tensor "evil\\u001b\]0;pwned\\u0007" \(F32 \[1\]\)/.test(e.message) && !/[\u001b\u0007]/.test(e.message));
});

test('readSafetensors validates the header before reading data; same result and errors as decodeSafetensors; header-only reads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'safetensors-read-'));
  try {
    const bytes = encodeSafetensors(sampleTensors(), { note: 'x' });
    const path = join(dir, 'm.safetensors');
    await writeFile(path, bytes);
    const back = await readSafetensors(path);
    assertSameTensors(back.tensors, sampleTensors());
    for (const t of back.tensors.values()) assert.equal(t.data.buffer.byteLength, t.data.byteLength, 'each tensor owns its buffer');
    const header = await readSafetensorsHeader(path);
    assert.deepEqual([...header.tensors].map(([k, v]) => [k, v.dtype, v.shape]), [...decodeSafetensors(bytes).tensors].map(([k, v]) => [k, v.dtype, v.shape]));
    assert.equal(header.fileBytes, bytes.length);
    assert.deepEqual(header.metadata, { note: 'x' });
    // A header that claims 1 TB of data is rejected from the header alone.
    const liar = join(dir, 'liar.safetensors');
    await writeFile(liar, craft({ w: { dtype: 'F32', shape: [2 ** 38], data_offsets: [0, 2 ** 40] } }, new Uint8Array(16)));
    await assert.rejects(readSafetensors(liar), /liar\.safetensors: tensor "w": data_offsets \[0,1099511627776\] are out of range: the data section has 16 bytes/);
    await assert.rejects(readSafetensors(dir), (e: Error) => e instanceof SafetensorsError && e.message === `safetensors ${dir}: is a directory, not a safetensors file`);
    await assert.rejects(readSafetensors('/dev/null'), /safetensors \/dev\/null: is not a regular file/);
    // Every truncation of the file fails the same way through both paths.
    for (const cut of [0, 3, 8, 9, 40, bytes.length - 1]) {
      const p = join(dir, `cut${cut}.safetensors`);
      await writeFile(p, bytes.subarray(0, cut));
      let fromBytes = '';
      try {
        decodeSafetensors(bytes.subarray(0, cut), p);
      } catch (e) {
        fromBytes = (e as Error).message;
      }
      assert.ok(fromBytes, `cut at ${cut} decoded`);
      await assert.rejects(readSafetensors(p), (e: Error) => e instanceof SafetensorsError && e.message === fromBytes);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
