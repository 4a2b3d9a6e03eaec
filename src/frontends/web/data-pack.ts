// The page's data sets: a compact, class-balanced subset of MNIST or Fashion-MNIST (a train part and
// a held-out part) as one safetensors file of bytes, gzip-compressed. The build script writes it
// from src/fpet/data/mnist.ts (Node); the page decodes it into a plain `Dataset` (src/fpet/data/dataset.ts),
// so training and evaluation run on the same arrays, batches and splits code as the CLI.
//
// Layout: tensors `train.images` U8 [N, C, S, S], `train.labels` U8 [N], `test.images`,
// `test.labels`; metadata `format`, `name`, `classes` (JSON list), `source` (how it was drawn).
// Universal: no Node built-ins (gzip via the web-standard CompressionStream / DecompressionStream).

import { decodeSafetensors, encodeSafetensors, type Dataset, type Subset, type TensorEntry } from '../../index.ts';

export const DATA_PACK_FORMAT = 'fpet-webgpu/data-subset/1';

/** Bounds a data pack is checked against before anything is allocated from it. */
export const DATA_PACK_LIMITS = { maxImages: 100_000, maxClasses: 1000, maxImageSize: 256, maxChannels: 4, maxBytes: 64 * 2 ** 20 } as const;

export interface DataPack {
  /** Train images first, then the held-out ones. */
  readonly dataset: Dataset;
  readonly train: Subset;
  readonly test: Subset;
  /** How the subset was drawn (shown on the page). */
  readonly source: string;
}

/** Safetensors bytes of `ds`'s images `train` and `test` (indices into ds), pixels as bytes. */
export function encodeDataPack(ds: Dataset, train: ArrayLike<number>, test: ArrayLike<number>, source: string): Uint8Array {
  const per = ds.channels * ds.imageSize * ds.imageSize;
  const part = (indices: ArrayLike<number>): [TensorEntry, TensorEntry] => {
    const n = indices.length;
    const images = new Uint8Array(n * per);
    const labels = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      const src = ds.images.subarray(i * per, (i + 1) * per);
      for (let p = 0; p < per; p++) images[k * per + p] = Math.round(Math.min(1, Math.max(0, src[p]!)) * 255);
      labels[k] = ds.labels[i]!;
    }
    return [
      { dtype: 'U8', shape: [n, ds.channels, ds.imageSize, ds.imageSize], data: images },
      { dtype: 'U8', shape: [n], data: labels },
    ];
  };
  const [trImages, trLabels] = part(train);
  const [teImages, teLabels] = part(test);
  return encodeSafetensors(
    new Map([['train.images', trImages], ['train.labels', trLabels], ['test.images', teImages], ['test.labels', teLabels]]),
    { format: DATA_PACK_FORMAT, name: ds.name, classes: JSON.stringify(ds.classes), source },
  );
}

/** Decodes a data pack (gzip-compressed or not), checking every bound first. */
export async function decodeDataPack(bytes: Uint8Array, source = 'data pack'): Promise<DataPack> {
  const raw = await gunzipIfNeeded(bytes, DATA_PACK_LIMITS.maxBytes);
  const { tensors, metadata } = decodeSafetensors(raw, source);
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (metadata.format !== DATA_PACK_FORMAT) fail(`not a data pack of this page (format ${JSON.stringify(metadata.format ?? 'none').slice(0, 60)}, expected ${DATA_PACK_FORMAT})`);
  let classes: unknown;
  try {
    classes = JSON.parse(metadata.classes ?? '');
  } catch {
    fail('metadata.classes is not JSON');
  }
  if (!Array.isArray(classes) || classes.length < 1 || classes.length > DATA_PACK_LIMITS.maxClasses || !classes.every((c) => typeof c === 'string' && c.length <= 100)) {
    fail(`metadata.classes must be a list of 1 to ${DATA_PACK_LIMITS.maxClasses} class names`);
  }
  const names = classes as string[];
  const get = (name: string, rank: number) => {
    const t = tensors.get(name);
    if (!t || t.dtype !== 'U8' || t.shape.length !== rank) return fail(`tensor ${name} must be U8 of rank ${rank}`);
    return t;
  };
  const trI = get('train.images', 4), trL = get('train.labels', 1), teI = get('test.images', 4), teL = get('test.labels', 1);
  const [, C, S, S2] = trI.shape as [number, number, number, number];
  if (S !== S2 || S < 1 || S > DATA_PACK_LIMITS.maxImageSize || C < 1 || C > DATA_PACK_LIMITS.maxChannels) fail(`images must be square, at most ${DATA_PACK_LIMITS.maxImageSize} pixels and ${DATA_PACK_LIMITS.maxChannels} channels (got ${trI.shape.join('×')})`);
  if (teI.shape[1] !== C || teI.shape[2] !== S || teI.shape[3] !== S) fail(`test images are ${teI.shape.join('×')}, train images ${trI.shape.join('×')}`);
  const nTrain = trI.shape[0]!, nTest = teI.shape[0]!;
  if (trL.shape[0] !== nTrain || teL.shape[0] !== nTest) fail('a labels tensor does not match its images');
  if (nTrain + nTest > DATA_PACK_LIMITS.maxImages) fail(`more than ${DATA_PACK_LIMITS.maxImages} images`);
  const per = C * S * S, count = nTrain + nTest;
  const images = new Float32Array(count * per);
  const toUnit = new Float32Array(256).map((_, i) => i / 255);
  const px = [trI.data as Uint8Array, teI.data as Uint8Array];
  let at = 0;
  for (const part of px) for (let i = 0; i < part.length; i++) images[at++] = toUnit[part[i]!]!;
  const labels = new Int32Array(count);
  labels.set(trL.data as Uint8Array, 0);
  labels.set(teL.data as Uint8Array, nTrain);
  for (let i = 0; i < count; i++) if (labels[i]! >= names.length) fail(`label ${labels[i]} of image ${i} is not one of the ${names.length} classes`);
  const dataset: Dataset = { name: metadata.name ?? source, images, labels, classes: names, count, imageSize: S, channels: C };
  return {
    dataset,
    train: { dataset, indices: Int32Array.from({ length: nTrain }, (_, i) => i) },
    test: { dataset, indices: Int32Array.from({ length: nTest }, (_, i) => nTrain + i) },
    source: metadata.source ?? '',
  };
}

/** A subset of the first `n` indices of a subset (the pack's parts are stratified and shuffled). */
export const firstOf = (s: Subset, n: number): Subset => ({ dataset: s.dataset, indices: s.indices.subarray(0, Math.min(n, s.indices.length)) });

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Gunzips bytes that start with the gzip magic (a static host may already have removed the
 * compression through Content-Encoding, so plain bytes pass through), refusing more than maxBytes.
 */
export async function gunzipIfNeeded(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`data pack: more than ${maxBytes} bytes once decompressed`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Gzip-compresses bytes (web-standard CompressionStream: browsers, Node ≥ 18, Deno). */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const buf = await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
  return new Uint8Array(buf);
}
