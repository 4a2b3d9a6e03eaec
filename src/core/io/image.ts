// Images of any supported format: PNG (./png.ts, fast-png) and JPEG (./jpeg.ts, jpeg-js), told
// apart by their first bytes, not by the file name (a PNG saved as .jpg is read as the PNG it is).
// Other formats are named in the message (GIF, BMP, WebP, TIFF, HEIF/AVIF) so that the user knows
// what to convert. Decoding gives planes in [0, 1]: RGB, or luminance. Universal (bytes in); the
// file readers at the end use Node's file system through a dynamic import.

import { decodeJpegPlanar, JpegError, readJpegHeader, type JpegOptions } from './jpeg.ts';
import { decodePngPlanar, PngError, readPngHeader, type PlanarImage, type PngOptions } from './png.ts';
import { JPEG_LIMITS, PNG_LIMITS, type JpegLimits, type PngLimits } from './limits.ts';
import { readCheckedFile } from './checked-read.ts';
import { display } from '../util/text.ts';

/** The image formats read. */
export type ImageFormat = 'png' | 'jpeg';

/** An image that cannot be read (any format): the message names the file. PngError and JpegError are also thrown. */
export class ImageError extends Error {
  override name = 'ImageError';
}

/** Whether an error is one of the image readers' (a bad file, as opposed to a bug). */
export const isImageError = (e: unknown): e is Error => e instanceof ImageError || e instanceof PngError || e instanceof JpegError;

/** What an image's header says, whatever its format. */
export interface ImageInfo {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
  /** Channels stored in the file (PNG: 1 grey or palette, 2 grey+alpha, 3 RGB, 4 RGBA; JPEG: 1 or 3). */
  readonly channels: number;
  readonly bitDepth: number;
}

/** Options of the image readers: limits per format. */
export interface ImageOptions {
  readonly limits?: { readonly png?: Partial<PngLimits>; readonly jpeg?: Partial<JpegLimits> };
}

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

/** The format of image bytes from their signature, or undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 4) === 'PNG') return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** A name for formats this module does not read, from their signature (for the message). */
function otherFormat(b: Uint8Array): string | undefined {
  if (ascii(b, 0, 4) === 'GIF8') return 'a GIF image';
  if (ascii(b, 0, 2) === 'BM') return 'a BMP image';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'a WebP image';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return 'a TIFF image';
  if (ascii(b, 4, 8) === 'ftyp' && /^(heic|heix|hevc|mif1|msf1|avif|avis)$/.test(ascii(b, 8, 12))) return 'a HEIF / AVIF image';
  if (b.length === 0) return 'an empty file';
  return undefined;
}

function unknownFormat(bytes: Uint8Array, where: string): ImageError {
  const other = otherFormat(bytes);
  return new ImageError(`${where}: ${other ? `is ${other}` : 'is not an image file (neither PNG nor JPEG)'}; only PNG and JPEG are read${other && other !== 'an empty file' ? ' (convert it, e.g. `magick in out.png`)' : ''}`);
}

const pngOpts = (o?: ImageOptions): PngOptions => ({ limits: o?.limits?.png });
const jpegOpts = (o?: ImageOptions): JpegOptions => ({ limits: o?.limits?.jpeg });

/**
 * The header of image bytes (PNG: the whole chunk structure is checked, nothing inflated; JPEG:
 * the markers up to the frame header). Unsupported formats and bad headers are errors naming `source`.
 */
export function readImageInfo(bytes: Uint8Array, source = 'image', options?: ImageOptions): ImageInfo {
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    const h = readPngHeader(bytes, source, pngOpts(options));
    return { format, width: h.width, height: h.height, channels: h.channels, bitDepth: h.bitDepth };
  }
  if (format === 'jpeg') {
    const h = readJpegHeader(bytes, source, jpegOpts(options));
    return { format, width: h.width, height: h.height, channels: h.components, bitDepth: h.precision };
  }
  throw unknownFormat(bytes, display(source));
}

/** Decodes PNG or JPEG bytes to `channels` planes in [0, 1] (1: luminance; 3: RGB, grey replicated; alpha ignored). */
export function decodeImagePlanar(bytes: Uint8Array, channels: 1 | 3, source = 'image', options?: ImageOptions): PlanarImage {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePngPlanar(bytes, channels, source, pngOpts(options));
  if (format === 'jpeg') return decodeJpegPlanar(bytes, channels, source, jpegOpts(options));
  throw unknownFormat(bytes, display(source));
}

/** The largest file either format's limits allow. */
const maxFileBytes = (o?: ImageOptions) => Math.max(o?.limits?.png?.maxFileBytes ?? PNG_LIMITS.maxFileBytes, o?.limits?.jpeg?.maxFileBytes ?? JPEG_LIMITS.maxFileBytes);

/**
 * The bytes of an image file: opened without blocking, then checked with fstat (a regular file
 * under the size limit: a FIFO, a device or a folder is refused before a byte is read), then read.
 * Node and Deno only. Errors are ImageErrors naming the path.
 */
export async function readImageBytes(path: string, options?: ImageOptions): Promise<Uint8Array> {
  return readCheckedFile(path, maxFileBytes(options), { folder: 'is a folder, not an image file', limitFor: 'images', error: (m) => new ImageError(m) });
}

/** Reads and decodes an image file (PNG or JPEG) to `channels` planes; errors name the path. */
export async function readImagePlanar(path: string, channels: 1 | 3, options?: ImageOptions): Promise<PlanarImage> {
  return decodeImagePlanar(await readImageBytes(path, options), channels, path, options);
}
