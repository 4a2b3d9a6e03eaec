// PNG decoding for `infer`, through fast-png (a maintained pure-JavaScript decoder that runs in
// Node, Deno and browsers), behind checks made before anything large is allocated:
//
// 1. The chunk structure is walked first: signature, chunk lengths against the file, CRCs of the
//    critical chunks, IHDR first and well-formed (bit depth allowed for the colour type), PLTE
//    well-formed, at least one IDAT, an IEND (a file without one is truncated), no unknown
//    critical chunk. width × height is checked against PNG_LIMITS.maxPixels (16 Mpixel) here,
//    from IHDR, before any inflating.
// 2. The image data is inflated once in bounded slices with fflate (fast-png's own inflater), only
//    counting bytes, and must come to exactly what the IHDR geometry needs: a decompression bomb
//    stops as soon as it passes that size (a slice can overshoot by at most ~1 MB), truncated
//    data is reported as such.
// 3. fast-png decodes a copy holding only IHDR, PLTE, the IDAT data and IEND (ancillary chunks such
//    as a compressed iCCP profile or text are never inflated: they do not affect luminance).
// 4. Samples become luminance in [0, 1] (0.299 R + 0.587 G + 0.114 B; alpha is ignored); a palette
//    index past the palette is an error naming the pixel.
//
// Supported: greyscale (1/2/4/8/16-bit), grey+alpha, RGB and RGBA (8/16-bit), palette (1/2/4/8-bit),
// Adam7 interlacing at 8 and 16 bits. Every error is a PngError naming the file.

import { decode as fastPngDecode, type DecodedPng } from 'fast-png';
import { Unzlib } from 'fflate';
import { readCheckedFile } from './checked-read.ts';
import { PNG_LIMITS, type PngLimits } from './limits.ts';
import { count, display, errorText } from '../util/text.ts';

/** A decoded image as one luminance plane. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** Row-major luminance in [0, 1]. */
  readonly pixels: Float32Array;
}

/** An image as channel planes: [channels, height, width] values in [0, 1]. */
export interface PlanarImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Float32Array;
}

/** Options of the PNG readers. */
export interface PngOptions {
  /** Overrides of the bounds in PNG_LIMITS. */
  limits?: Partial<PngLimits>;
}

/** A PNG that cannot be read: corrupt, unsupported or over the size limits; the message names the file. */
export class PngError extends Error {
  override name = 'PngError';
}

/** What IHDR says. */
export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly channels: number;
  readonly interlaced: boolean;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const COLOR_TYPES: Record<number, { name: string; channels: number; depths: readonly number[] }> = {
  0: { name: 'greyscale', channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { name: 'RGB', channels: 3, depths: [8, 16] },
  3: { name: 'palette', channels: 1, depths: [1, 2, 4, 8] },
  4: { name: 'grey+alpha', channels: 2, depths: [8, 16] },
  6: { name: 'RGBA', channels: 4, depths: [8, 16] },
};
const MAX_CHUNK = 2 ** 31 - 1;
/** DEFLATE's maximum expansion: one input byte yields at most ~1032 output bytes. */
const MAX_DEFLATE_RATIO = 1032;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** Bytes of the filtered, uncompressed image data the IHDR geometry needs. */
export function pngDataBytes(h: PngHeader): number {
  const row = (w: number) => 1 + Math.ceil((w * h.channels * h.bitDepth) / 8);
  if (!h.interlaced) return h.height * row(h.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const pw = Math.ceil((h.width - x0) / dx), ph = Math.ceil((h.height - y0) / dy);
    if (pw > 0 && ph > 0) total += ph * row(pw);
  }
  return total;
}

const describe = (h: PngHeader) => `${h.width}×${h.height} ${h.bitDepth}-bit ${COLOR_TYPES[h.colorType]!.name}${h.interlaced ? ' interlaced' : ''}`;
const fmtLimit = (n: number) => `${count(n)} pixels${n % 2 ** 20 === 0 ? ` (${n / 2 ** 20} Mpixel)` : ''}`;

interface Scanned {
  header: PngHeader;
  palette?: Uint8Array;
  idat: Uint8Array[];
}

function parseIhdr(d: Uint8Array, where: string, L: PngLimits): PngHeader {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const width = v.getUint32(0), height = v.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = [d[8]!, d[9]!, d[10]!, d[11]!, d[12]!];
  if (width === 0 || height === 0 || width > MAX_CHUNK || height > MAX_CHUNK) throw new PngError(`${where}: invalid image size ${width}×${height} in IHDR (each side must be 1 to 2^31-1)`);
  const ct = COLOR_TYPES[colorType];
  if (!ct) throw new PngError(`${where}: invalid colour type ${colorType} in IHDR (allowed: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA)`);
  if (!ct.depths.includes(bitDepth)) throw new PngError(`${where}: bit depth ${bitDepth} is not allowed for ${ct.name} images (allowed: ${ct.depths.join(', ')})`);
  if (compression !== 0) throw new PngError(`${where}: unknown compression method ${compression} in IHDR (only 0, deflate)`);
  if (filter !== 0) throw new PngError(`${where}: unknown filter method ${filter} in IHDR (only 0)`);
  if (interlace > 1) throw new PngError(`${where}: unknown interlace method ${interlace} in IHDR (0 none, 1 Adam7)`);
  const pixels = width * height;
  if (pixels > L.maxPixels) throw new PngError(`${where}: the image is ${width}×${height} = ${count(pixels)} pixels, over the limit of ${fmtLimit(L.maxPixels)}`);
  const header: PngHeader = { width, height, bitDepth, colorType, channels: ct.channels, interlaced: interlace === 1 };
  // fast-png 8.0.0 unpacks Adam7 passes a whole byte per sample, which is wrong below 8 bits.
  if (header.interlaced && bitDepth < 8) throw new PngError(`${where}: interlaced ${bitDepth}-bit ${ct.name} images are not supported (save it without interlacing, or with 8-bit samples)`);
  return header;
}

/** Walks the chunks: structure, CRCs, IHDR, PLTE and the IDAT data; nothing is inflated. */
function scan(bytes: Uint8Array, where: string, L: PngLimits): Scanned {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngError(`${where} is not a PNG file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, header: PngHeader | undefined, palette: Uint8Array | undefined, ended = false;
  const idat: Uint8Array[] = [];
  while (!ended) {
    if (at === bytes.length) throw new PngError(`${where}: truncated: no IEND chunk (the file ends after ${count(at)} bytes)`);
    if (at + 8 > bytes.length) throw new PngError(`${where}: truncated: the file ends at byte ${count(bytes.length)} inside a chunk header`);
    const len = view.getUint32(at);
    const typeBytes = bytes.subarray(at + 4, at + 8);
    if (!typeBytes.every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) throw new PngError(`${where}: corrupt file: no valid chunk type at byte ${count(at + 4)}`);
    const type = String.fromCharCode(...typeBytes);
    if (len > MAX_CHUNK) throw new PngError(`${where}: corrupt file: the ${type} chunk at byte ${count(at)} declares ${count(len)} bytes (the PNG maximum is 2^31-1)`);
    if (at + 12 + len > bytes.length) throw new PngError(`${where}: truncated: the ${type} chunk at byte ${count(at)} declares ${count(len)} bytes but only ${count(Math.max(0, bytes.length - at - 12))} remain`);
    const data = bytes.subarray(at + 8, at + 8 + len);
    const critical = (typeBytes[0]! & 0x20) === 0;
    if (critical && crc32(bytes.subarray(at + 4, at + 8 + len)) !== view.getUint32(at + 8 + len)) throw new PngError(`${where}: corrupt file: CRC mismatch in the ${type} chunk at byte ${count(at)}`);
    if (!header && type !== 'IHDR') throw new PngError(`${where}: corrupt file: the first chunk is ${type}, not IHDR`);
    switch (type) {
      case 'IHDR':
        if (header) throw new PngError(`${where}: corrupt file: a second IHDR chunk at byte ${count(at)}`);
        if (len !== 13) throw new PngError(`${where}: corrupt file: IHDR is ${len} bytes (must be 13)`);
        header = parseIhdr(data, where, L);
        break;
      case 'PLTE':
        if (palette) throw new PngError(`${where}: corrupt file: a second PLTE chunk at byte ${count(at)}`);
        if (idat.length) throw new PngError(`${where}: corrupt file: PLTE after the image data`);
        if (len === 0 || len % 3 !== 0 || len > 768) throw new PngError(`${where}: corrupt file: PLTE is ${len} bytes (must be 3 × 1 to 256 colours)`);
        palette = data;
        break;
      case 'IDAT':
        idat.push(data);
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        if (critical) throw new PngError(`${where}: unknown critical chunk ${type} at byte ${count(at)} (the image cannot be decoded without it)`);
    }
    at += 12 + len;
  }
  if (!idat.length) throw new PngError(`${where}: no image data (IDAT chunk)`);
  if (header!.colorType === 3 && !palette) throw new PngError(`${where}: palette image without a PLTE chunk`);
  return { header: header!, palette: header!.colorType === 3 ? palette : undefined, idat };
}

/** Inflates the IDAT stream in bounded slices, counting bytes only; stops past `need`. */
function checkDataSize(idat: readonly Uint8Array[], h: PngHeader, where: string): void {
  const need = pngDataBytes(h);
  let total = 0;
  const z = new Unzlib((chunk) => {
    total += chunk.length;
  });
  const tooMuch = () => new PngError(`${where}: the image data decompresses to more than the ${count(need)} bytes a ${describe(h)} image needs (corrupt file or decompression bomb)`);
  try {
    for (const d of idat) {
      for (let i = 0; i < d.length;) {
        // Slices sized so that even at DEFLATE's maximum ratio one push cannot yield much more
        // than what is still needed (at least 1 KB, at most 64 KB of input at a time).
        const slice = Math.min(65536, Math.max(1024, Math.floor((need - total) / MAX_DEFLATE_RATIO) + 1));
        z.push(d.subarray(i, i + slice), false);
        i += slice;
        if (total > need) throw tooMuch();
      }
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof PngError) throw e;
    const eof = /unexpected EOF/i.test((e as Error)?.message ?? '');
    throw new PngError(`${where}: ${eof ? 'truncated: the image data ends early' : 'the image data is truncated or corrupt'} (${errorText(e, 120)}; ${count(total)} of ${count(need)} bytes decompressed)`);
  }
  if (total > need) throw tooMuch();
  if (total < need) throw new PngError(`${where}: truncated: the image data decompresses to ${count(total)} bytes, a ${describe(h)} image needs ${count(need)}`);
}

function chunk(type: string, data: Uint8Array, out: Uint8Array, at: number): number {
  new DataView(out.buffer, out.byteOffset + at, 8).setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
  out.set(data, at + 8);
  return at + 12 + data.length; // CRC left 0: fast-png is told not to check it (scan did)
}

/** A minimal copy for fast-png: signature, IHDR, PLTE (palette images), one IDAT, IEND. */
function minimalPng(bytes: Uint8Array, s: Scanned): Uint8Array {
  const ihdr = bytes.subarray(16, 29);
  const idatBytes = s.idat.reduce((a, d) => a + d.length, 0);
  const out = new Uint8Array(8 + 25 + (s.palette ? 12 + s.palette.length : 0) + 12 + idatBytes + 12);
  out.set(SIGNATURE, 0);
  let at = chunk('IHDR', ihdr, out, 8);
  if (s.palette) at = chunk('PLTE', s.palette, out, at);
  new DataView(out.buffer, at, 8).setUint32(0, idatBytes);
  out.set([73, 68, 65, 84], at + 4);
  let p = at + 8;
  for (const d of s.idat) {
    out.set(d, p);
    p += d.length;
  }
  at = p + 4;
  chunk('IEND', new Uint8Array(0), out, at);
  return out;
}

/**
 * Planar RGB in [0, 1] (grey images replicated to three planes; alpha ignored), for models with
 * three input channels; palette indices are checked against the palette.
 */
function toRgb(png: DecodedPng, h: PngHeader, palette: Uint8Array | undefined, where: string): Float32Array {
  const { width: w, height: ht, bitDepth: depth, channels: ch } = h;
  const plane = w * ht;
  if (ch < 3 && h.colorType !== 3) {
    const grey = toGrey(png, h, palette, where);
    const out = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) out.set(grey, c * plane);
    return out;
  }
  const out = new Float32Array(3 * plane);
  if (h.colorType === 3) {
    toGrey(png, h, palette, where); // validates every index against the palette
    const data = png.data, rowBytes = Math.ceil((w * depth) / 8), max = 2 ** depth - 1;
    for (let y = 0; y < ht; y++) {
      for (let x = 0; x < w; x++) {
        const idx = depth < 8 ? (data[y * rowBytes + ((x * depth) >> 3)]! >> (8 - depth - ((x * depth) & 7))) & max : data[y * w + x]!;
        for (let c = 0; c < 3; c++) out[c * plane + y * w + x] = palette![3 * idx + c]! / 255;
      }
    }
    return out;
  }
  const max = 2 ** depth - 1;
  for (let i = 0, p = 0; i < plane; i++, p += ch) for (let c = 0; c < 3; c++) out[c * plane + i] = png.data[p + c]! / max;
  return out;
}

/** Luminance in [0, 1] of every pixel; palette indices are checked against the palette. */
function toGrey(png: DecodedPng, h: PngHeader, palette: Uint8Array | undefined, where: string): Float32Array {
  const { width: w, height: ht, bitDepth: depth, channels: ch } = h;
  const data = png.data;
  const packed = depth < 8;
  const rowBytes = Math.ceil((w * depth) / 8);
  const expected = packed ? rowBytes * ht : w * ht * ch;
  if (png.width !== w || png.height !== ht || data.length !== expected) {
    throw new PngError(`${where}: the decoder returned ${png.width}×${png.height} with ${count(data.length)} samples, expected ${w}×${ht} with ${count(expected)}`);
  }
  const max = 2 ** depth - 1;
  const sample = packed
    ? (x: number, y: number) => (data[y * rowBytes + ((x * depth) >> 3)]! >> (8 - depth - ((x * depth) & 7))) & max
    : (x: number, y: number) => data[(y * w + x) * ch]!;
  const out = new Float32Array(w * ht);
  if (h.colorType === 3) {
    const n = palette!.length / 3;
    const lum = new Float32Array(n);
    for (let i = 0; i < n; i++) lum[i] = (0.299 * palette![3 * i]! + 0.587 * palette![3 * i + 1]! + 0.114 * palette![3 * i + 2]!) / 255;
    for (let y = 0; y < ht; y++) {
      for (let x = 0; x < w; x++) {
        const idx = sample(x, y);
        if (idx >= n) throw new PngError(`${where}: pixel (${x}, ${y}) uses palette index ${idx}, but the palette has ${n} colour${n === 1 ? '' : 's'} (indices 0 to ${n - 1})`);
        out[y * w + x] = lum[idx]!;
      }
    }
  } else if (ch >= 3) {
    for (let i = 0, p = 0; i < w * ht; i++, p += ch) out[i] = (0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!) / max;
  } else {
    for (let y = 0; y < ht; y++) for (let x = 0; x < w; x++) out[y * w + x] = sample(x, y) / max;
  }
  return out;
}

/** The validated IHDR of PNG bytes (the structure is checked; nothing is inflated). */
export function readPngHeader(bytes: Uint8Array, source = 'image', options?: PngOptions): PngHeader {
  return scan(bytes, display(source), { ...PNG_LIMITS, ...options?.limits }).header;
}

/** Decodes PNG bytes to luminance. `source` (a path, usually) is named in every error message. */
export function decodePng(bytes: Uint8Array, source = 'image', options?: PngOptions): GreyImage {
  const where = display(source);
  const L = { ...PNG_LIMITS, ...options?.limits };
  const s = scan(bytes, where, L);
  checkDataSize(s.idat, s.header, where);
  let png: DecodedPng;
  try {
    png = fastPngDecode(minimalPng(bytes, s), { checkCrc: false });
  } catch (e) {
    throw new PngError(`${where}: cannot decode the image (${errorText(e, 160)})`);
  }
  return { width: s.header.width, height: s.header.height, pixels: toGrey(png, s.header, s.palette, where) };
}

/** Decodes PNG bytes to `channels` planes: 1 (luminance) or 3 (RGB; grey replicated). */
export function decodePngPlanar(bytes: Uint8Array, channels: 1 | 3, source = 'image', options?: PngOptions): PlanarImage {
  if (channels === 1) return { ...decodePng(bytes, source, options), channels };
  const where = display(source);
  const s = scan(bytes, where, { ...PNG_LIMITS, ...options?.limits });
  checkDataSize(s.idat, s.header, where);
  let png: DecodedPng;
  try {
    png = fastPngDecode(minimalPng(bytes, s), { checkCrc: false });
  } catch (e) {
    throw new PngError(`${where}: cannot decode the image (${errorText(e, 160)})`);
  }
  return { width: s.header.width, height: s.header.height, channels, pixels: toRgb(png, s.header, s.palette, where) };
}

/** Bilinear resize of every plane of an image to size×size: [channels, size, size]. */
export function resizePlanar(img: PlanarImage, size: number): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(img.channels * size * size);
  for (let c = 0; c < img.channels; c++) {
    out.set(resizeGrey({ width: img.width, height: img.height, pixels: img.pixels.subarray(c * plane, (c + 1) * plane) }, size), c * size * size);
  }
  return out;
}

/** Reads and decodes a PNG file; a directory, a special file, an unreadable path or a file over
 *  PNG_LIMITS.maxFileBytes is an error naming the path. */
export async function readPng(path: string, options?: PngOptions): Promise<GreyImage> {
  return readPngPlanar(path, 1, options);
}

/** Reads and decodes a PNG file to `channels` planes (errors as readPng). */
export async function readPngPlanar(path: string, channels: 1 | 3, options?: PngOptions): Promise<PlanarImage> {
  const L = { ...PNG_LIMITS, ...options?.limits };
  const bytes = await readCheckedFile(path, L.maxFileBytes, { folder: 'is a directory, not a PNG file', limitFor: 'PNG files', error: (m) => new PngError(m) });
  return decodePngPlanar(bytes, channels, path, options);
}

/** Bilinear resize of a grey image to size×size. */
export function resizeGrey(img: GreyImage, size: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const fy = Math.min(img.height - 1, Math.max(0, ((y + 0.5) * img.height) / size - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(img.height - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(img.width - 1, Math.max(0, ((x + 0.5) * img.width) / size - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(img.width - 1, x0 + 1), wx = fx - x0;
      const p = (yy: number, xx: number) => img.pixels[yy * img.width + xx]!;
      out[y * size + x] = (1 - wy) * ((1 - wx) * p(y0, x0) + wx * p(y0, x1)) + wy * ((1 - wx) * p(y1, x0) + wx * p(y1, x1));
    }
  }
  return out;
}
