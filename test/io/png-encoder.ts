// A small, independent PNG writer for the tests: every colour type and bit depth, all five filter
// types, Adam7 interlacing, IDAT split over several chunks, extra chunks; plus helpers to edit
// chunks of an existing file (with or without fixing the CRC).

import { deflateSync } from 'node:zlib';

export function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set([...type].map((ch) => ch.charCodeAt(0)), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
export const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

export function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([bitDepth, colorType, 0, 0, interlace], 8);
  return d;
}

export interface TestPng {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  /** Row-major samples, `channels` per pixel (palette: one index per pixel), each in [0, 2^depth). */
  samples: readonly number[];
  palette?: readonly (readonly [number, number, number])[];
  /** Filter for every row, or 'cycle' for 0,1,2,3,4,0,... */
  filter?: 0 | 1 | 2 | 3 | 4 | 'cycle';
  interlace?: boolean;
  /** Split the compressed data into IDAT chunks of at most this many bytes. */
  idatSize?: number;
  /** Extra chunks after IHDR (before PLTE and IDAT). */
  extra?: readonly Uint8Array[];
  /** Raw (filtered) data replaced by this before compression, e.g. to truncate it. */
  rawEdit?: (raw: Uint8Array) => Uint8Array;
}

/** Packs and filters one image (or Adam7 pass) of the given geometry into scanlines. */
function scanlines(w: number, h: number, ch: number, depth: number, get: (x: number, y: number, c: number) => number, filter: TestPng['filter'], rowBase: number): Uint8Array {
  const rowBytes = Math.ceil((w * ch * depth) / 8);
  const bpp = Math.max(1, Math.ceil((ch * depth) / 8));
  const out = new Uint8Array(h * (rowBytes + 1));
  let prev = new Uint8Array(rowBytes);
  for (let y = 0; y < h; y++) {
    const row = new Uint8Array(rowBytes);
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        const v = get(x, y, c);
        const bit = (x * ch + c) * depth;
        if (depth === 16) {
          row[bit / 8] = v >> 8;
          row[bit / 8 + 1] = v & 255;
        } else if (depth === 8) row[bit / 8] = v;
        else row[bit >> 3]! |= v << (8 - depth - (bit & 7));
      }
    }
    const f = filter === 'cycle' ? (rowBase + y) % 5 : (filter ?? 0);
    out[y * (rowBytes + 1)] = f;
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0, b = prev[i]!, c = i >= bpp ? prev[i - bpp]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * (rowBytes + 1) + 1 + i] = (row[i]! - pred) & 255;
    }
    prev = row;
  }
  return out;
}

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

export function encodeTestPng(p: TestPng): Uint8Array {
  const ch = CHANNELS[p.colorType]!;
  const get = (x: number, y: number, c: number) => p.samples[(y * p.width + x) * ch + c]!;
  let raw: Uint8Array;
  if (!p.interlace) raw = scanlines(p.width, p.height, ch, p.bitDepth, get, p.filter, 0);
  else {
    const parts: Uint8Array[] = [];
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((p.width - x0) / dx), ph = Math.ceil((p.height - y0) / dy);
      if (pw <= 0 || ph <= 0) continue;
      parts.push(scanlines(pw, ph, ch, p.bitDepth, (x, y, c) => get(x0 + x * dx, y0 + y * dy, c), p.filter, 0));
    }
    raw = concat(parts);
  }
  if (p.rawEdit) raw = p.rawEdit(raw);
  const z = deflateSync(raw);
  const size = p.idatSize ?? z.length;
  const idats: Uint8Array[] = [];
  for (let i = 0; i < z.length; i += size) idats.push(chunk('IDAT', z.subarray(i, i + size)));
  if (!idats.length) idats.push(chunk('IDAT', new Uint8Array(0)));
  const plte = p.palette ? [chunk('PLTE', Uint8Array.from(p.palette.flat()))] : [];
  return concat([SIGNATURE, chunk('IHDR', ihdr(p.width, p.height, p.bitDepth, p.colorType, p.interlace ? 1 : 0)), ...(p.extra ?? []), ...plte, ...idats, chunk('IEND', new Uint8Array(0))]);
}

/** Expected luminance of a test image (alpha ignored). */
export function expectedGrey(p: TestPng): number[] {
  const ch = CHANNELS[p.colorType]!;
  const max = 2 ** p.bitDepth - 1;
  const out: number[] = [];
  for (let i = 0; i < p.width * p.height; i++) {
    const s = p.samples.slice(i * ch, i * ch + ch);
    if (p.colorType === 3) {
      const [r, g, b] = p.palette![s[0]!]!;
      out.push((0.299 * r + 0.587 * g + 0.114 * b) / 255);
    } else if (ch >= 3) out.push((0.299 * s[0]! + 0.587 * s[1]! + 0.114 * s[2]!) / max);
    else out.push(s[0]! / max);
  }
  return out;
}

export interface ChunkAt {
  type: string;
  /** Offset of the length field. */
  at: number;
  length: number;
}

/** The chunks of a (well-formed) PNG. */
export function chunksOf(bytes: Uint8Array): ChunkAt[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ChunkAt[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = v.getUint32(at);
    out.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), at, length });
    at += 12 + length;
  }
  return out;
}

/** Recomputes the CRC of the chunk at `at` (after its data was edited in place). */
export function fixCrc(bytes: Uint8Array, at: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = v.getUint32(at);
  v.setUint32(at + 8 + len, crc32(bytes.subarray(at + 4, at + 8 + len)));
}
