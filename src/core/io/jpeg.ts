// JPEG decoding through jpeg-js (a maintained pure-JavaScript decoder that runs in Node, Deno and
// browsers), behind checks made before anything large is allocated:
//
// 1. The markers are walked up to the frame header (SOF): the file must start with SOI, every
//    segment length must fit the file, and the frame must be one jpeg-js decodes faithfully —
//    baseline, extended sequential or progressive Huffman coding, 8-bit samples, one component
//    (grey) or three (YCbCr, or RGB when an Adobe marker or the component ids say so). CMYK / YCCK
//    (four components), 12-bit, lossless, arithmetic-coded and hierarchical files are refused with
//    a message naming the file and what it is; width × height is checked against
//    JPEG_LIMITS.maxPixels from the header, before any decoding.
// 2. jpeg-js decodes with its own memory cap and without its "tolerant" mode: a truncated or
//    corrupt scan is an error, not an image with grey blocks.
// 3. Samples become planes in [0, 1]: RGB, or luminance 0.299 R + 0.587 G + 0.114 B (grey files
//    keep their own samples). EXIF orientation is not applied (as PIL's open and torchvision's
//    ImageFolder loader do not apply it); chroma is upsampled by replication (jpeg-js), where
//    libjpeg interpolates: colours at sharp colour edges differ by a few levels from PIL's.
//
// Every error is a JpegError naming the file.

import { decode as jpegDecode } from 'jpeg-js';
import { JPEG_LIMITS, type JpegLimits } from './limits.ts';
import type { PlanarImage } from './png.ts';
import { count, display, errorText } from '../util/text.ts';

/** A JPEG that cannot be read: corrupt, unsupported or over the size limits; the message names the file. */
export class JpegError extends Error {
  override name = 'JpegError';
}

/** What a JPEG's frame header (and its Adobe / JFIF markers) say. */
export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /** Colour components: 1 (grey) or 3 (YCbCr or RGB); files with others are refused. */
  readonly components: number;
  /** Bits per sample (always 8 for a file this module reads). */
  readonly precision: number;
  readonly progressive: boolean;
  /** Whether the three components are YCbCr (converted to RGB) rather than RGB stored as is. */
  readonly ycc: boolean;
}

/** Options of the JPEG readers. */
export interface JpegOptions {
  /** Overrides of the bounds in JPEG_LIMITS. */
  limits?: Partial<JpegLimits>;
}

/** Frame types by SOF marker: what is decodable, and what the others are called in messages. */
const SOF: Record<number, { name: string; ok: boolean; progressive?: boolean }> = {
  0xc0: { name: 'baseline', ok: true },
  0xc1: { name: 'extended sequential', ok: true },
  0xc2: { name: 'progressive', ok: true, progressive: true },
  0xc3: { name: 'lossless', ok: false },
  0xc5: { name: 'hierarchical (differential sequential)', ok: false },
  0xc6: { name: 'hierarchical (differential progressive)', ok: false },
  0xc7: { name: 'hierarchical (differential lossless)', ok: false },
  0xc9: { name: 'arithmetic-coded sequential', ok: false },
  0xca: { name: 'arithmetic-coded progressive', ok: false },
  0xcb: { name: 'arithmetic-coded lossless', ok: false },
  0xcd: { name: 'arithmetic-coded hierarchical', ok: false },
  0xce: { name: 'arithmetic-coded hierarchical progressive', ok: false },
  0xcf: { name: 'arithmetic-coded hierarchical lossless', ok: false },
};

const CONVERT = 'convert it to an 8-bit RGB or greyscale JPEG or PNG (e.g. `magick in.jpg -colorspace sRGB -depth 8 out.jpg`)';

/** Walks the markers up to the frame header; nothing is decoded. */
function scanHeader(bytes: Uint8Array, where: string, L: JpegLimits): JpegHeader {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new JpegError(`${where} is not a JPEG file`);
  let at = 2, adobe: number | undefined, jfif = false;
  for (;;) {
    while (at < bytes.length && bytes[at] !== 0xff) at++; // garbage between segments: skipped, as decoders do
    while (at < bytes.length && bytes[at] === 0xff) at++; // fill bytes
    if (at >= bytes.length) throw new JpegError(`${where}: truncated: the file ends after ${count(bytes.length)} bytes, before the frame header (SOF)`);
    const marker = bytes[at++]!;
    if (marker === 0xd9) throw new JpegError(`${where}: corrupt file: the image ends (EOI) before any frame header (SOF)`);
    if (marker === 0xda) throw new JpegError(`${where}: corrupt file: image data (SOS) before the frame header (SOF)`);
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xd8) continue;
    if (at + 2 > bytes.length) throw new JpegError(`${where}: truncated: the file ends inside the header of a segment at byte ${count(at - 2)}`);
    const len = (bytes[at]! << 8) | bytes[at + 1]!;
    if (len < 2 || at + len > bytes.length) throw new JpegError(`${where}: truncated or corrupt: the segment at byte ${count(at - 2)} declares ${count(len)} bytes but ${count(bytes.length - at)} remain`);
    const data = bytes.subarray(at + 2, at + len);
    if (marker === 0xe0 && data.length >= 5 && String.fromCharCode(...data.subarray(0, 5)) === 'JFIF\0') jfif = true;
    if (marker === 0xee && data.length >= 12 && String.fromCharCode(...data.subarray(0, 6)) === 'Adobe\0') adobe = data[11];
    if (Object.hasOwn(SOF, marker)) return frameHeader(marker, data, where, L, { adobe, jfif });
    at += len;
  }
}

/** The SOF segment: the frame's type, sample precision, size and components, checked. */
function frameHeader(marker: number, d: Uint8Array, where: string, L: JpegLimits, markers: { adobe?: number; jfif: boolean }): JpegHeader {
  const sof = SOF[marker]!;
  if (d.length < 6) throw new JpegError(`${where}: corrupt file: the frame header is ${d.length} bytes`);
  const precision = d[0]!, height = (d[1]! << 8) | d[2]!, width = (d[3]! << 8) | d[4]!, components = d[5]!;
  if (d.length < 6 + 3 * components) throw new JpegError(`${where}: corrupt file: the frame header lists ${components} components in ${d.length} bytes`);
  if (!sof.ok) throw new JpegError(`${where}: is a ${sof.name} JPEG, which the decoder does not read; ${CONVERT}`);
  if (precision !== 8) throw new JpegError(`${where}: is a ${precision}-bit JPEG; only 8-bit samples are read; ${CONVERT}`);
  if (components === 4) {
    const kind = markers.adobe === 2 ? 'YCCK' : 'CMYK';
    throw new JpegError(`${where}: is a ${kind} (4-channel, print colour) JPEG; ${CONVERT}`);
  }
  if (components !== 1 && components !== 3) throw new JpegError(`${where}: has ${components} colour components; only greyscale (1) and colour (3) JPEGs are read; ${CONVERT}`);
  if (width === 0 || height === 0) throw new JpegError(`${where}: declares a ${width}×${height} image (a height set later by a DNL marker is not supported)`);
  const pixels = width * height;
  if (pixels > L.maxPixels) throw new JpegError(`${where}: the image is ${width}×${height} = ${count(pixels)} pixels, over the limit of ${count(L.maxPixels)} pixels (${L.maxPixels / 2 ** 20} Mpixel)`);
  // libjpeg's rule: an Adobe marker says whether the components are transformed; without one (and
  // without JFIF, which implies YCbCr) component ids 'R', 'G', 'B' mean RGB.
  const ids = Array.from({ length: components }, (_, k) => d[6 + 3 * k]!);
  const rgbIds = ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42;
  const ycc = components === 3 && (markers.adobe !== undefined ? markers.adobe !== 0 : markers.jfif || !rgbIds);
  return { width, height, components, precision, progressive: sof.progressive === true, ycc };
}

/** The validated frame header of JPEG bytes (nothing is decoded). */
export function readJpegHeader(bytes: Uint8Array, source = 'image', options?: JpegOptions): JpegHeader {
  return scanHeader(bytes, display(source), { ...JPEG_LIMITS, ...options?.limits });
}

/**
 * Decodes JPEG bytes to `channels` planes in [0, 1]: 1 (luminance; a grey file's own samples) or
 * 3 (RGB; grey replicated). `source` (a path, usually) is named in every error message.
 */
export function decodeJpegPlanar(bytes: Uint8Array, channels: 1 | 3, source = 'image', options?: JpegOptions): PlanarImage {
  const where = display(source);
  const L = { ...JPEG_LIMITS, ...options?.limits };
  const h = scanHeader(bytes, where, L);
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpegDecode(bytes, {
      useTArray: true, formatAsRGBA: false, tolerantDecoding: false, colorTransform: h.ycc,
      maxResolutionInMP: Math.ceil(L.maxPixels / 1e6), maxMemoryUsageInMB: L.maxMemoryMB,
    });
  } catch (e) {
    const text = errorText(e, 160);
    const why = /memory|maxResolution/i.test(text) ? 'the decoder needs more memory than allowed' : /offset|undefined|marker|EOF|out of range/i.test(text) ? 'the image data is truncated or corrupt' : 'cannot decode the image';
    throw new JpegError(`${where}: ${why} (${text})`);
  }
  if (raw.width !== h.width || raw.height !== h.height || raw.data.length !== 3 * h.width * h.height) {
    throw new JpegError(`${where}: the decoder returned ${raw.width}×${raw.height} with ${count(raw.data.length)} samples, expected ${h.width}×${h.height} RGB`);
  }
  return { width: h.width, height: h.height, channels, pixels: planar(raw.data, h, channels) };
}

/** Interleaved RGB bytes → planes in [0, 1] (luminance for one channel; a grey file's R = G = B = Y). */
function planar(data: Uint8Array, h: JpegHeader, channels: 1 | 3): Float32Array {
  const plane = h.width * h.height;
  const out = new Float32Array(channels * plane);
  if (channels === 3) {
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      out[i] = data[p]! / 255;
      out[plane + i] = data[p + 1]! / 255;
      out[2 * plane + i] = data[p + 2]! / 255;
    }
  } else if (h.components === 1) {
    for (let i = 0; i < plane; i++) out[i] = data[3 * i]! / 255;
  } else {
    for (let i = 0, p = 0; i < plane; i++, p += 3) out[i] = (0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!) / 255;
  }
  return out;
}
