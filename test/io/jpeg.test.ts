// JPEG decoding against values computed by hand: tiny baseline JPEGs written here byte by byte —
// one 8×8 block per component, every quantiser 1, so a uniform block is its DC coefficient alone
// (8·(v − 128)) and decodes to exactly v — in grey, RGB and YCbCr (checked against the JFIF
// conversion formula), with and without Adobe / JFIF markers; then the files the decoder refuses
// (CMYK, YCCK, 12-bit, arithmetic-coded, oversized, truncated), each by name, and images of any
// format told apart by content.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeJpegPlanar, JpegError, readJpegHeader } from '../../src/core/io/jpeg.ts';
import { decodeImagePlanar, readImageBytes, readImageInfo, readImagePlanar, sniffImageFormat } from '../../src/core/io/image.ts';
import { encodeTestPng } from './png-encoder.ts';
import { handJpeg, type HandJpeg } from './hand-jpeg.ts';

const plane = (img: { pixels: Float32Array }, c: number, n = 64) => img.pixels.subarray(c * n, (c + 1) * n);
const all = (v: ArrayLike<number>, want: number, tol = 1e-7) => Array.from(v).every((x) => Math.abs(x - want) <= tol);

test('a grey JPEG decodes to its own samples: DC 8·(144 − 128) -> 144/255 everywhere, replicated for RGB', () => {
  const bytes = handJpeg({ components: [{ id: 1, value: 144 }] });
  assert.deepEqual(readJpegHeader(bytes), { width: 8, height: 8, components: 1, precision: 8, progressive: false, ycc: false });
  const grey = decodeJpegPlanar(bytes, 1, 'grey.jpg');
  assert.ok(all(grey.pixels, 144 / 255), `${grey.pixels.slice(0, 4)}`);
  const rgb = decodeJpegPlanar(bytes, 3, 'grey.jpg');
  for (let c = 0; c < 3; c++) assert.ok(all(plane(rgb, c), 144 / 255));
});

test('three components: RGB when an Adobe marker says "no transform" or the ids spell R, G, B; else YCbCr by the JFIF formula', () => {
  const comps = (ids: number[]) => ids.map((id, k) => ({ id, value: ([144, 112, 144] as const)[k]! }));
  const exact = (bytes: Uint8Array) => {
    const img = decodeJpegPlanar(bytes, 3, 'rgb.jpg');
    [144, 112, 144].forEach((v, c) => assert.ok(all(plane(img, c), v / 255), `channel ${c}: ${plane(img, c)[0]! * 255}`));
  };
  exact(handJpeg({ components: comps([1, 2, 3]), adobe: 0 }));
  exact(handJpeg({ components: comps([0x52, 0x47, 0x42]) }));
  // Y = 144, Cb = 112, Cr = 144 (JFIF, or no marker with ids 1, 2, 3, or Adobe transform 1)
  const Y = 144, Cb = 112, Cr = 144;
  const want = [Y + 1.402 * (Cr - 128), Y - 0.344136 * (Cb - 128) - 0.714136 * (Cr - 128), Y + 1.772 * (Cb - 128)];
  for (const bytes of [handJpeg({ components: comps([1, 2, 3]) }), handJpeg({ components: comps([1, 2, 3]), jfif: true }), handJpeg({ components: comps([0x52, 0x47, 0x42]), jfif: true }), handJpeg({ components: comps([1, 2, 3]), adobe: 1 })]) {
    const img = decodeJpegPlanar(bytes, 3, 'ycc.jpg');
    want.forEach((v, c) => assert.ok(all(plane(img, c), v / 255, 1 / 255), `channel ${c}: ${plane(img, c)[0]! * 255} vs ${v}`));
    const grey = decodeJpegPlanar(bytes, 1, 'ycc.jpg');
    assert.ok(all(grey.pixels, (0.299 * want[0]! + 0.587 * want[1]! + 0.114 * want[2]!) / 255, 1 / 255));
  }
});

test('a JPEG written by jpeg-js (quality 100) of a flat colour comes back within two levels', () => {
  const w = 21, h = 13, rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([200, 100, 50, 255], 4 * i);
  const img = decodeImagePlanar(jpeg.encode({ width: w, height: h, data: rgba }, 100).data, 3, 'flat.jpg');
  assert.deepEqual([img.width, img.height], [w, h]);
  [200, 100, 50].forEach((v, c) => assert.ok(all(plane(img, c, w * h), v / 255, 2 / 255), `channel ${c}`));
});

test('refused by name before decoding: CMYK, YCCK, 12-bit, arithmetic-coded, lossless, oversized; truncated data is an error', () => {
  const four = [1, 2, 3, 4].map((id) => ({ id, value: 144 as const }));
  const refused = (j: HandJpeg, re: RegExp) => assert.throws(() => decodeJpegPlanar(handJpeg(j), 3, 'photos/x.jpg'), (e: Error) => e instanceof JpegError && /^photos\/x\.jpg/.test(e.message) && re.test(e.message), JSON.stringify(j));
  refused({ components: four, adobe: 0 }, /is a CMYK \(4-channel, print colour\) JPEG; convert it/);
  refused({ components: four }, /is a CMYK/);
  refused({ components: four, adobe: 2 }, /is a YCCK/);
  refused({ components: [{ id: 1, value: 144 }], sof: 0xc1, precision: 12 }, /is a 12-bit JPEG; only 8-bit samples/);
  refused({ components: [{ id: 1, value: 144 }], sof: 0xc9 }, /is a arithmetic-coded sequential JPEG|arithmetic-coded sequential JPEG/);
  refused({ components: [{ id: 1, value: 144 }], sof: 0xc3 }, /lossless JPEG/);
  const t0 = performance.now();
  refused({ components: [{ id: 1, value: 144 }], width: 20_000, height: 20_000 }, /is 20000×20000 = 400,000,000 pixels, over the limit of 16,777,216 pixels \(16 Mpixel\)/);
  assert.ok(performance.now() - t0 < 1000, 'the size is refused from the header, nothing allocated');
  assert.throws(() => decodeJpegPlanar(handJpeg({ components: [{ id: 1, value: 144 }], cut: 2 }), 3, 'cut.jpg'), /^Error: cut\.jpg|cut\.jpg: (the image data is truncated or corrupt|cannot decode)/);
  assert.throws(() => decodeJpegPlanar(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x00), 3, 'short.jpg'), /short\.jpg: truncated/);
  assert.throws(() => decodeJpegPlanar(Uint8Array.of(1, 2, 3, 4), 3, 'no.jpg'), /no\.jpg is not a JPEG file/);
});

test('images are told apart by content, not by name; other formats are named; files are read only when regular', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-img-'));
  try {
    const png = encodeTestPng({ width: 2, height: 1, colorType: 0, bitDepth: 8, samples: [0, 255] });
    const jpg = handJpeg({ components: [{ id: 1, value: 112 }] });
    assert.equal(sniffImageFormat(png), 'png');
    assert.equal(sniffImageFormat(jpg), 'jpeg');
    assert.deepEqual(readImageInfo(png, 'a.jpg'), { format: 'png', width: 2, height: 1, channels: 1, bitDepth: 8 });
    assert.deepEqual(Array.from(decodeImagePlanar(png, 1, 'png-named.jpg').pixels), [0, 1]);
    assert.ok(all(decodeImagePlanar(jpg, 1, 'jpeg-named.png').pixels, 112 / 255));
    const named = (bytes: number[] | string, re: RegExp) => assert.throws(() => decodeImagePlanar(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes), 3, 'in/x.png'), re);
    named('GIF89a....', /in\/x\.png: is a GIF image; only PNG and JPEG are read/);
    named('RIFF\0\0\0\0WEBPVP8 ', /is a WebP image/);
    named('BM\0\0\0\0', /is a BMP image/);
    named([0x49, 0x49, 0x2a, 0], /is a TIFF image/);
    named([], /is an empty file/);
    named('hello', /is not an image file \(neither PNG nor JPEG\)/);
    writeFileSync(join(dir, 'ok.jpg'), jpg);
    assert.equal((await readImagePlanar(join(dir, 'ok.jpg'), 1)).width, 8);
    mkdirSync(join(dir, 'folder.png'));
    await assert.rejects(readImageBytes(join(dir, 'folder.png')), /folder\.png: is a folder, not an image file/);
    execFileSync('mkfifo', [join(dir, 'fifo.png')]);
    await assert.rejects(readImageBytes(join(dir, 'fifo.png')), /fifo\.png: is not a regular file/);
    await assert.rejects(readImageBytes(join(dir, 'missing.png')), /missing\.png: cannot read the file \(.*ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
