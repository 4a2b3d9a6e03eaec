import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { decodePng, resizeGrey } from '../../src/io/png.ts';

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set([...type].map((ch) => ch.charCodeAt(0)), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
/** An 8-bit PNG with the given color type, using filter `filter` on every row. */
function png(width: number, height: number, color: number, channels: number, px: number[], filter = 0): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, color, 0, 0, 0], 8);
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const v = px[y * stride + x]!, up = y ? px[(y - 1) * stride + x]! : 0;
      raw[y * (stride + 1) + 1 + x] = filter === 2 ? (v - up) & 255 : v;
    }
  }
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

test('PNG decoding: grey, RGB, up-filter; resize; clear errors', () => {
  const grey = decodePng(png(2, 2, 0, 1, [0, 255, 51, 102]));
  assert.deepEqual([...grey.pixels].map((v) => Math.round(v * 255)), [0, 255, 51, 102]);
  const rgb = decodePng(png(1, 2, 2, 3, [255, 255, 255, 255, 0, 0], 2));
  assert.ok(Math.abs(rgb.pixels[0]! - 1) < 1e-6 && Math.abs(rgb.pixels[1]! - 0.299) < 1e-6);
  const big = resizeGrey({ width: 2, height: 2, pixels: Float32Array.from([0, 1, 0, 1]) }, 4);
  assert.equal(big.length, 16);
  assert.ok(big[0]! < big[3]!);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png'), /x\.png is not a PNG file/);
});
