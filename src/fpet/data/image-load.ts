// What a decoding worker does with one image file (src/fpet/data/image-worker.ts runs it in a
// thread; image-pool.ts runs it in the main thread when there are no workers): read it (a regular
// file under the size limit, opened without blocking), decode it (PNG or JPEG) to the model's
// channels, and bring it to the model's resolution (./transforms.ts): the eval transform, or the
// train transform with random numbers keyed by (seed, epoch, position in the epoch's order), so
// the result does not depend on which thread decodes it or when. Verifying decodes the whole file
// once and reports its size, or why it cannot be used. Node and Deno (the file system).

import { readSmallFile } from '../../core/util/files.ts';
import { decodeImagePlanar, type ImageOptions } from '../../core/io/image.ts';
import { JPEG_LIMITS, PNG_LIMITS } from '../../core/io/limits.ts';
import { keyedRng } from '../../core/util/random.ts';
import { display } from '../../core/util/text.ts';
import { evalTransform, trainTransform, type ImageTransform } from './transforms.ts';

/** The augmentation stream of image folders (distinct from dataset.ts's shift/affine stream). */
const FOLDER_AUGMENT_STREAM = 5;

/** Load one image as a model input. */
export interface LoadTask {
  readonly kind: 'load';
  readonly path: string;
  readonly channels: 1 | 3;
  readonly transform: ImageTransform;
  /** Train transform (random crop / flip) when true, else the eval transform. */
  readonly augment: boolean;
  /** [seed, epoch, position]: what the train transform's random numbers are drawn from. */
  readonly key: readonly [number, number, number];
  readonly limits?: ImageOptions['limits'];
}

/** Decode one image completely and report its size, or why it cannot be used. */
export interface VerifyTask {
  readonly kind: 'verify';
  readonly path: string;
  /** Images smaller than this on either side are refused. */
  readonly minSide: number;
  readonly limits?: ImageOptions['limits'];
}

/** A verification's verdict: the image's size, or the reason it cannot be used (naming the file). */
export type Verdict = { readonly width: number; readonly height: number } | { readonly reason: string };

const fileLimit = (o?: ImageOptions['limits']) => Math.max(o?.png?.maxFileBytes ?? PNG_LIMITS.maxFileBytes, o?.jpeg?.maxFileBytes ?? JPEG_LIMITS.maxFileBytes);

/** The image's bytes: a regular file under the limit (readSmallFile: a FIFO or device is refused unread). */
const readImage = (path: string, limits?: ImageOptions['limits']): Uint8Array => readSmallFile(path, fileLimit(limits), 'image');

/** Reads, decodes and transforms one image: [channels, size, size] in [0, 1]. Throws with a message naming the file. */
export function loadImage(t: LoadTask): Float32Array {
  const img = decodeImagePlanar(readImage(t.path, t.limits), t.channels, t.path, { limits: t.limits });
  if (!t.augment) return evalTransform(img, t.transform);
  return trainTransform(img, t.transform, keyedRng(t.key[0], FOLDER_AUGMENT_STREAM, t.key[1], t.key[2]));
}

/** Decodes one image completely: its size, or the reason it cannot be used. Never throws for a bad file. */
export function verifyImage(t: VerifyTask): Verdict {
  try {
    const img = decodeImagePlanar(readImage(t.path, t.limits), 1, t.path, { limits: t.limits });
    if (img.width < t.minSide || img.height < t.minSide) return { reason: `${display(t.path)}: is ${img.width}×${img.height} pixels; images must be at least ${t.minSide}×${t.minSide}` };
    return { width: img.width, height: img.height };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}
