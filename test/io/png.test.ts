// PNG decoding through fast-png behind the structural and size checks of src/core/io/png.ts: every
// colour type, bit depth, filter and interlacing against an independent encoder; the pixel limit
// checked from IHDR before inflating; decompression bombs stopped; every malformed file reported
// as a PngError naming the file.

import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { createDeflate, deflateSync } from 'node:zlib';
import { chmod, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng, PngError, readPng, readPngHeader, resizeGrey } from '../../src/core/io/png.ts';
import { PNG_LIMITS } from '../../src/core/io/limits.ts';
import { CHANNELS, chunk, chunksOf, concat, encodeTestPng, expectedGrey, fixCrc, ihdr, SIGNATURE, type TestPng } from './png-encoder.ts';

/** Deterministic samples for a geometry. */
function image(width: number, height: number, colorType: number, bitDepth: number, extra: Partial<TestPng> = {}): TestPng {
  const ch = CHANNELS[colorType]!;
  const levels = 2 ** bitDepth;
  const paletteSize = colorType === 3 ? Math.min(levels, 7) : 0;
  const samples = Array.from({ length: width * height * ch }, (_, i) => ((i * 7919 + 13) * 2654435761 >>> 7) % (colorType === 3 ? paletteSize : levels));
  const palette = colorType === 3 ? Array.from({ length: paletteSize }, (_, i) => [(i * 37) % 256, (i * 91) % 256, (i * 151) % 256] as const) : undefined;
  return { width, height, colorType, bitDepth, samples, palette, filter: 'cycle', ...extra };
}

function assertDecodes(p: TestPng, what: string): void {
  const g = decodePng(encodeTestPng(p), `${what}.png`);
  assert.equal(g.width, p.width, what);
  assert.equal(g.height, p.height, what);
  const want = expectedGrey(p);
  const err = Math.max(0, ...want.map((w, i) => Math.abs(w - g.pixels[i]!)));
  assert.ok(err < 1e-6, `${what}: max error ${err}`);
}

/** The PngError `fn` throws; its message must start with the file name. */
function pngError(fn: () => unknown, source: string): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PngError, `expected a PngError, got ${(e as Error)?.stack ?? e}`);
    assert.ok(e.message.startsWith(source), `message does not start with ${source}: ${e.message}`);
    return e.message;
  }
  assert.fail(`${source}: no error`);
}

/** zlib data of `bytes` zero bytes, produced in 1 MiB pieces (never holds the whole input). */
async function deflatedZeros(bytes: number): Promise<Uint8Array> {
  const z = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve) => z.on('end', resolve));
  const piece = Buffer.alloc(2 ** 20);
  for (let left = bytes; left > 0; left -= piece.length) {
    if (!z.write(left >= piece.length ? piece : piece.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await done;
  return concat(out);
}

const memory = () => ({ ab: process.memoryUsage().arrayBuffers, maxRss: process.resourceUsage().maxRSS * 1024 });

test('every colour type and bit depth, all five filters, Adam7 at 8 and 16 bits: luminance as encoded', () => {
  for (const [ct, depths] of [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]] as const) {
    for (const depth of depths) {
      for (const [w, h] of [[1, 1], [9, 7], [16, 3], [3, 17]] as const) {
        assertDecodes(image(w, h, ct, depth), `ct${ct}-${depth}bit-${w}x${h}`);
        if (depth >= 8) assertDecodes(image(w, h, ct, depth, { interlace: true }), `ct${ct}-${depth}bit-${w}x${h}-adam7`);
      }
    }
  }
  // The values themselves: grey levels exact, RGB weights 0.299/0.587/0.114.
  const grey = decodePng(encodeTestPng({ width: 2, height: 2, colorType: 0, bitDepth: 8, samples: [0, 255, 51, 102], filter: 2 }));
  assert.deepEqual([...grey.pixels].map((v) => Math.round(v * 255)), [0, 255, 51, 102]);
  const rgb = decodePng(encodeTestPng({ width: 1, height: 2, colorType: 2, bitDepth: 8, samples: [255, 255, 255, 255, 0, 0], filter: 2 }));
  assert.ok(Math.abs(rgb.pixels[0]! - 1) < 1e-6 && Math.abs(rgb.pixels[1]! - 0.299) < 1e-6);
  const deep = decodePng(encodeTestPng({ width: 2, height: 1, colorType: 0, bitDepth: 16, samples: [65535, 257] }));
  assert.deepEqual([...deep.pixels], [1, Math.fround(257 / 65535)]);
});

test('IDAT split over many chunks, ancillary chunks skipped (an iCCP bomb is never inflated), trailing bytes ignored', async () => {
  const p = image(20, 20, 2, 8, { idatSize: 7 });
  assertDecodes(p, 'split');
  const iccBomb = concat([new TextEncoder().encode('icc'), Uint8Array.from([0, 0]), await deflatedZeros(64 * 2 ** 20)]);
  const bytes = encodeTestPng({ ...p, extra: [chunk('tEXt', new TextEncoder().encode('Comment\0hello')), chunk('iCCP', iccBomb), chunk('zzZz', new Uint8Array(3))] });
  const before = memory();
  const g = decodePng(concat([bytes, Uint8Array.from([1, 2, 3])]), 'icc.png');
  const after = memory();
  assert.deepEqual([...g.pixels], [...decodePng(encodeTestPng(p)).pixels]);
  // Inflating the bomb would take 64 MiB; the bound leaves room for garbage the GC has not collected yet.
  assert.ok(after.ab - before.ab < 32 * 2 ** 20, `grew by ${after.ab - before.ab} bytes`);
});

test('a 12000×12000 PNG of ~140 KB is rejected from IHDR, before anything large is allocated', async () => {
  const z = await deflatedZeros(12000 * (1 + 12000));
  const bytes = concat([SIGNATURE, chunk('IHDR', ihdr(12000, 12000, 8, 0)), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
  assert.ok(bytes.length > 100_000 && bytes.length < 200_000, `${bytes.length} bytes`);
  const before = memory();
  const t0 = performance.now();
  const msg = pngError(() => decodePng(bytes, 'huge.png'), 'huge.png');
  const ms = performance.now() - t0;
  const after = memory();
  assert.equal(msg, 'huge.png: the image is 12000×12000 = 144,000,000 pixels, over the limit of 16,777,216 pixels (16 Mpixel)');
  // The image would need 576 MB; the bound leaves room for uncollected garbage.
  // The data would inflate to 256 MiB; the bound leaves room for uncollected garbage.
  assert.ok(after.ab - before.ab < 64 * 2 ** 20, `arrayBuffers grew by ${after.ab - before.ab}`);
  assert.ok(after.maxRss - before.maxRss < 32 * 2 ** 20, `peak RSS grew by ${after.maxRss - before.maxRss}`);
  assert.ok(ms < 500, `${ms} ms`);
  assert.equal(PNG_LIMITS.maxPixels, 4096 * 4096);
  // At the limit it is accepted (header only: inflating 16 Mpixel here is not the point).
  const atLimit = concat([SIGNATURE, chunk('IHDR', ihdr(4096, 4096, 8, 0)), chunk('IDAT', deflateSync(new Uint8Array(1))), chunk('IEND', new Uint8Array(0))]);
  assert.equal(readPngHeader(atLimit, 'edge.png').width, 4096);
  pngError(() => readPngHeader(concat([SIGNATURE, chunk('IHDR', ihdr(4097, 4096, 8, 0))]), 'over.png'), 'over.png');
});

test('a decompression bomb in IDAT stops once it passes what the header needs', async () => {
  const bytes = concat([SIGNATURE, chunk('IHDR', ihdr(64, 64, 8, 0)), chunk('IDAT', await deflatedZeros(256 * 2 ** 20)), chunk('IEND', new Uint8Array(0))]);
  const before = memory();
  const t0 = performance.now();
  const msg = pngError(() => decodePng(bytes, 'bomb.png'), 'bomb.png');
  const ms = performance.now() - t0;
  const after = memory();
  assert.match(msg, /^bomb\.png: the image data decompresses to more than the 4,160 bytes a 64×64 8-bit greyscale image needs/);
  assert.ok(after.ab - before.ab < 16 * 2 ** 20, `arrayBuffers grew by ${after.ab - before.ab}`);
  assert.ok(ms < 1000, `${ms} ms`);
});

test('malformed files: a PngError naming the file and the problem, never NaN pixels', () => {
  const good = encodeTestPng(image(4, 4, 0, 8));
  const chunks = chunksOf(good);
  const idat = chunks.find((c) => c.type === 'IDAT')!;
  const iend = chunks.find((c) => c.type === 'IEND')!;
  const withIhdr = (w: number, h: number, depth: number, ct: number, il = 0, edit?: (d: Uint8Array) => void) => {
    const d = ihdr(w, h, depth, ct, il);
    edit?.(d);
    return concat([SIGNATURE, chunk('IHDR', d), ...chunks.slice(1).map((c) => good.subarray(c.at, c.at + 12 + c.length))]);
  };
  const flipped = (at: number, fix?: number) => {
    const b = good.slice();
    b[at]! ^= 0x10;
    if (fix !== undefined) fixCrc(b, fix);
    return b;
  };
  const pal = (p: Partial<TestPng>) => encodeTestPng({ width: 3, height: 2, colorType: 3, bitDepth: 8, samples: [0, 1, 0, 1, 0, 1], palette: [[0, 0, 0], [255, 255, 255]], ...p });
  const cases: [string, Uint8Array, RegExp][] = [
    ['not a PNG', new Uint8Array([1, 2, 3]), /^f\.png is not a PNG file$/],
    ['signature only', SIGNATURE, /truncated: no IEND chunk \(the file ends after 8 bytes\)/],
    ['cut in a chunk header', good.subarray(0, 12), /truncated: the file ends at byte 12 inside a chunk header/],
    ['cut in IHDR', good.subarray(0, 20), /truncated: the IHDR chunk at byte 8 declares 13 bytes but only 0 remain/],
    ['cut in IDAT', good.subarray(0, idat.at + 14), /truncated: the IDAT chunk at byte \d+ declares \d+ bytes but only 2 remain/],
    ['no IEND', good.subarray(0, iend.at), /truncated: no IEND chunk/],
    ['bit flip in IDAT', flipped(idat.at + 10), /corrupt file: CRC mismatch in the IDAT chunk at byte \d+/],
    ['bit flip in IHDR', flipped(17), /CRC mismatch in the IHDR chunk at byte 8/],
    ['chunk type not letters', (() => { const b = good.slice(); b[idat.at + 5] = 0x31; return b; })(), /corrupt file: no valid chunk type at byte \d+/],
    ['huge chunk length', (() => { const b = good.slice(); new DataView(b.buffer).setUint32(idat.at, 0xfffffff0); return b; })(), /the IDAT chunk at byte \d+ declares 4,294,967,280 bytes \(the PNG maximum is 2\^31-1\)/],
    ['IHDR not first', concat([SIGNATURE, chunk('tEXt', new Uint8Array(2)), good.subarray(8)]), /the first chunk is tEXt, not IHDR/],
    ['IHDR of 12 bytes', concat([SIGNATURE, chunk('IHDR', new Uint8Array(12)), good.subarray(33)]), /IHDR is 12 bytes \(must be 13\)/],
    ['width 0', withIhdr(0, 4, 8, 0), /invalid image size 0×4 in IHDR/],
    ['bit depth 3', withIhdr(4, 4, 3, 0), /bit depth 3 is not allowed for greyscale images \(allowed: 1, 2, 4, 8, 16\)/],
    ['16-bit palette', withIhdr(4, 4, 16, 3), /bit depth 16 is not allowed for palette images \(allowed: 1, 2, 4, 8\)/],
    ['colour type 5', withIhdr(4, 4, 8, 5), /invalid colour type 5 in IHDR/],
    ['compression 1', withIhdr(4, 4, 8, 0, 0, (d) => (d[10] = 1)), /unknown compression method 1/],
    ['filter method 1', withIhdr(4, 4, 8, 0, 0, (d) => (d[11] = 1)), /unknown filter method 1/],
    ['interlace 2', withIhdr(4, 4, 8, 0, 2), /unknown interlace method 2/],
    ['interlaced 1-bit', encodeTestPng(image(5, 5, 0, 1, { interlace: true })), /interlaced 1-bit greyscale images are not supported/],
    ['unknown critical chunk', concat([good.subarray(0, 33), chunk('ABCD', new Uint8Array(1)), good.subarray(33)]), /unknown critical chunk ABCD at byte 33/],
    ['no IDAT', concat([good.subarray(0, 33), chunk('IEND', new Uint8Array(0))]), /no image data \(IDAT chunk\)/],
    ['palette without PLTE', concat([SIGNATURE, chunk('IHDR', ihdr(3, 2, 8, 3)), ...chunksOf(pal({})).filter((c) => c.type !== 'IHDR' && c.type !== 'PLTE').map((c) => pal({}).subarray(c.at, c.at + 12 + c.length))]), /palette image without a PLTE chunk/],
    ['PLTE of 4 bytes', concat([SIGNATURE, chunk('IHDR', ihdr(3, 2, 8, 3)), chunk('PLTE', new Uint8Array(4)), good.subarray(idat.at)]), /PLTE is 4 bytes \(must be 3 × 1 to 256 colours\)/],
    ['index past the palette', pal({ samples: [0, 1, 0, 1, 5, 1] }), /^f\.png: pixel \(1, 1\) uses palette index 5, but the palette has 2 colours \(indices 0 to 1\)$/],
    ['index past a 1-colour 4-bit palette', pal({ bitDepth: 4, samples: [0, 0, 0, 0, 0, 15], palette: [[9, 9, 9]] }), /pixel \(2, 1\) uses palette index 15, but the palette has 1 colour \(indices 0 to 0\)/],
    ['data short', encodeTestPng(image(4, 4, 0, 8, { rawEdit: (r) => r.subarray(0, 17) })), /truncated: the image data decompresses to 17 bytes, a 4×4 8-bit greyscale image needs 20$/],
    ['data long', encodeTestPng(image(4, 4, 0, 8, { rawEdit: (r) => concat([r, new Uint8Array(9)]) })), /decompresses to more than the 20 bytes a 4×4 8-bit greyscale image needs/],
    ['zlib stream cut', (() => { const z = deflateSync(Uint8Array.from({ length: 20 }, (_, i) => (i * 97) % 251)); return concat([SIGNATURE, chunk('IHDR', ihdr(4, 4, 8, 0)), chunk('IDAT', z.subarray(0, z.length - 9)), chunk('IEND', new Uint8Array(0))]); })(), /: the image data is truncated or corrupt \(invalid zlib data; 16 of 20 bytes decompressed\)$/],
    ['zlib stream of 4 bytes', concat([SIGNATURE, chunk('IHDR', ihdr(4, 4, 8, 0)), chunk('IDAT', Uint8Array.from([0x78, 0x9c, 0x63, 0])), chunk('IEND', new Uint8Array(0))]), /: the image data is truncated or corrupt \(invalid zlib data; 0 of 20 bytes decompressed\)$/],
    ['zlib garbage', concat([SIGNATURE, chunk('IHDR', ihdr(4, 4, 8, 0)), chunk('IDAT', Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])), chunk('IEND', new Uint8Array(0))]), /: the image data is truncated or corrupt \(invalid block type; 0 of 20 bytes/],
    ['bad filter byte', encodeTestPng(image(4, 4, 0, 8, { rawEdit: (r) => { const c = r.slice(); c[5] = 7; return c; } })), /cannot decode the image \(Unsupported filter: 7\)/],
  ];
  for (const [what, bytes, re] of cases) assert.match(pngError(() => decodePng(bytes, 'f.png'), 'f.png'), re, what);
  // An unknown ancillary chunk is fine; a source name with control characters is shown escaped.
  assert.equal(decodePng(concat([good.subarray(0, 33), chunk('abCD', new Uint8Array(1)), good.subarray(33)])).width, 4);
  const evil = pngError(() => decodePng(new Uint8Array(3), 'a\u001b[2Jb\n.png'), 'a\\x1b[2Jb\\x0a.png');
  assert.ok(!/[\u001b\n]/.test(evil), evil);
});

test('readPng: directories, missing, special, oversized and unreadable files are errors naming the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'png-test-'));
  try {
    const ok = join(dir, 'ok.png');
    await writeFile(ok, encodeTestPng(image(5, 3, 6, 8)));
    assert.equal((await readPng(ok)).width, 5);
    const expectError = async (path: string, re: RegExp, opts?: Parameters<typeof readPng>[1]) => {
      await assert.rejects(readPng(path, opts), (e: Error) => {
        assert.ok(e instanceof PngError, String(e));
        assert.ok(e.message.startsWith(path), e.message);
        assert.match(e.message, re);
        return true;
      });
    };
    await mkdir(join(dir, 'sub.png'));
    await expectError(join(dir, 'sub.png'), /: is a directory, not a PNG file$/);
    await expectError(join(dir, 'missing.png'), /: cannot read the file \(ENOENT/);
    await expectError('/dev/null', /: is not a regular file$/);
    // A FIFO is refused from the open file's fstat, at once: the file that is checked is the one read.
    const fifo = join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    await expectError(fifo, /: is not a regular file$/);
    await expectError(ok, /: the file is \d+ bytes, over the 10-byte limit for PNG files$/, { limits: { maxFileBytes: 10 } });
    const cut = join(dir, 'cut.png');
    await writeFile(cut, encodeTestPng(image(5, 3, 6, 8)).subarray(0, 40));
    await expectError(cut, /truncated/);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.png');
      await writeFile(locked, encodeTestPng(image(2, 2, 0, 8)));
      await chmod(locked, 0);
      await expectError(locked, /: cannot read the file \(EACCES/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('resizeGrey: bilinear to size×size', () => {
  const big = resizeGrey({ width: 2, height: 2, pixels: Float32Array.from([0, 1, 0, 1]) }, 4);
  assert.equal(big.length, 16);
  assert.ok(big[0]! < big[3]!);
  assert.deepEqual([...resizeGrey({ width: 1, height: 1, pixels: Float32Array.from([0.5]) }, 3)], Array(9).fill(0.5));
  const g = decodePng(encodeTestPng(image(40, 30, 0, 8)));
  const r = resizeGrey(g, 28);
  assert.equal(r.length, 28 * 28);
  assert.ok(r.every((v) => v >= 0 && v <= 1));
});
