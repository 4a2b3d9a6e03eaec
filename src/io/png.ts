// Minimal PNG decoder for `infer`: 8-bit greyscale, grey+alpha, RGB, RGBA and palette images,
// non-interlaced (what image editors and screenshots write). Returns luminance in [0, 1].

import { inflateSync } from 'node:zlib';

export interface GreyImage {
  readonly width: number;
  readonly height: number;
  /** Row-major luminance in [0, 1]. */
  readonly pixels: Float32Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function decodePng(bytes: Uint8Array, source = 'image'): GreyImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error(`${source} is not a PNG file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, width = 0, height = 0, depth = 0, color = -1, interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (data.length !== len) throw new Error(`${source}: truncated ${type} chunk`);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      depth = data[8]!;
      color = data[9]!;
      interlace = data[12]!;
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[color];
  if (!width || !height || channels === undefined) throw new Error(`${source}: missing or invalid IHDR (color type ${color})`);
  if (depth !== 8) throw new Error(`${source}: ${depth}-bit PNGs are not supported (save it as 8-bit)`);
  if (interlace) throw new Error(`${source}: interlaced PNGs are not supported (save it without interlacing)`);
  if (color === 3 && !palette) throw new Error(`${source}: palette image without a PLTE chunk`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error(`${source}: image data is truncated`);
  const cur = new Uint8Array(stride), prev = new Uint8Array(stride);
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[x - channels]! : 0, b = prev[x]!, c = x >= channels ? prev[x - channels]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`${source}: bad filter type ${filter} on row ${y}`);
      cur[x] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      let r: number, g: number, bl: number;
      if (color === 3) {
        const i = cur[x]! * 3;
        [r, g, bl] = [palette![i]!, palette![i + 1]!, palette![i + 2]!];
      } else if (channels >= 3) [r, g, bl] = [cur[x * channels]!, cur[x * channels + 1]!, cur[x * channels + 2]!];
      else r = g = bl = cur[x * channels]!;
      pixels[y * width + x] = (0.299 * r + 0.587 * g + 0.114 * bl) / 255;
    }
    prev.set(cur);
  }
  return { width, height, pixels };
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
