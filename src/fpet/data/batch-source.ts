// Where training and evaluation get their batches from: an in-memory Subset of a Dataset (MNIST,
// Fashion-MNIST, the web page's data packs), or a source that produces batches as they are needed
// (an image folder decoded ahead of the step in worker threads: src/fpet/data/image-source.ts).
// The loop and the Classifier take either; a Subset is wrapped by `subsetSource`, which yields
// exactly what `batches` yields. Universal: no files.

import { batchCount, batches, type Batch, type BatchOptions, type Subset } from './dataset.ts';

/** Options of BatchSource.batches: those of `batches`, plus augmentation and skipping. */
export interface SourceBatchOptions extends BatchOptions {
  /**
   * Apply the source's training augmentation (an image folder's random crop and flip), drawn from
   * (seed, epoch, position in the epoch's order), so a resumed run sees exactly the same images.
   * In-memory subsets ignore it (the loop applies their shifts itself, as before).
   */
  readonly augment?: boolean;
  /** Skip the first `skip` batches without producing them (a run resumed mid-epoch). */
  readonly skip?: number;
}

/** Images with labels, produced a batch at a time. */
export interface BatchSource {
  /** The data set's name, for messages. */
  readonly name: string;
  readonly classes: readonly string[];
  /** Images in the source. */
  readonly count: number;
  readonly channels: number;
  /** S: batches hold [B, channels, S, S] pixels in [0, 1]. */
  readonly imageSize: number;
  /** The label of each image, in source order. */
  readonly labels: Int32Array;
  /** Batches in source order, or shuffled by (seed, epoch); `Batch.indices` are positions in the source. */
  batches(batchSize: number, options?: SourceBatchOptions): AsyncGenerator<Batch>;
  /** A name for image `index` (a file path, or "mnist #123") in messages and pictures. */
  describe(index: number): string;
}

/** Whether `x` is a BatchSource (rather than a Subset of an in-memory Dataset). */
export const isBatchSource = (x: Subset | BatchSource): x is BatchSource => typeof (x as BatchSource).batches === 'function';

/** A Subset as a BatchSource: the same batches as `batches(subset, ...)`, with indices into the data set. */
export function subsetSource(subset: Subset): BatchSource {
  const ds = subset.dataset;
  return {
    name: ds.name,
    classes: ds.classes,
    count: subset.indices.length,
    channels: ds.channels,
    imageSize: ds.imageSize,
    labels: Int32Array.from(subset.indices, (i) => ds.labels[i]!),
    async *batches(batchSize: number, options: SourceBatchOptions = {}) {
      let k = 0;
      for (const b of batches(subset, batchSize, options)) if (k++ >= (options.skip ?? 0)) yield b;
    },
    describe: (index: number) => `${ds.name} #${index}`,
  };
}

/** A Subset or BatchSource as a BatchSource. */
export const sourceOf = (x: Subset | BatchSource): BatchSource => (isBatchSource(x) ? x : subsetSource(x));

/** How many batches a source yields per epoch. */
export function sourceBatchCount(x: Subset | BatchSource, batchSize: number, dropLast = false): number {
  if (!isBatchSource(x)) return batchCount(x, batchSize, dropLast);
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new Error(`batchSize must be an integer >= 1, got ${String(batchSize)}`);
  return dropLast ? Math.floor(x.count / batchSize) : Math.ceil(x.count / batchSize);
}

/** The first `n` images of a source (in its order, no augmentation) as one batch: for timing and pictures. */
export async function firstImages(x: Subset | BatchSource, n: number): Promise<Batch> {
  const it = sourceOf(x).batches(n);
  const r = await it.next();
  await it.return(undefined);
  if (r.done) throw new Error(`${sourceOf(x).name}: no images`);
  return r.value;
}

/** The first `n` full batches of `batchSize` images (source order, no augmentation): the images inference is timed on. */
export async function takeBatches(x: Subset | BatchSource, batchSize: number, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  if (n < 1) return out;
  for await (const b of sourceOf(x).batches(batchSize, { dropLast: true })) {
    out.push(b);
    if (out.length >= n) break;
  }
  return out;
}
