// An image folder as a BatchSource (./batch-source.ts): batches are read, decoded and transformed
// in the decoding threads (./image-pool.ts) ahead of the step — at most `prefetch` batches in
// flight, so memory stays bounded whatever the folder's size (nothing else is kept decoded). The
// order (shuffled by seed and epoch) and the train transform's random numbers (seed, epoch,
// position) do not depend on the threads, so runs are reproducible and resume exactly.
// `openFolderData` scans a folder once per process (./image-folder.ts) and gives its train and
// held-out sources. Node and Deno only.

import { realpathSync } from 'node:fs';
import { keyedRng } from '../../core/util/random.ts';
import { display } from '../../core/util/text.ts';
import type { ImageOptions } from '../../core/io/image.ts';
import type { Batch } from './dataset.ts';
import type { BatchSource, SourceBatchOptions } from './batch-source.ts';
import { scanImageFolder, type FolderImage, type ImageFolder } from './image-folder.ts';
import { defaultWorkers, ImagePool } from './image-pool.ts';
import { sampleStratified } from './splits.ts';
import type { ImageTransform } from './transforms.ts';

/** The batch order's stream (distinct from dataset.ts's and the splits'). */
const ORDER_STREAM = 13;

/** How a folder source makes model inputs. */
export interface FolderSourceOptions {
  readonly channels: 1 | 3;
  readonly transform: ImageTransform;
  readonly pool: ImagePool;
  /** Batches decoded ahead of the one being used (at least 1). */
  readonly prefetch: number;
  readonly limits?: ImageOptions['limits'];
}

/** Images of a folder, decoded a batch at a time in the pool's threads. */
export class ImageFolderSource implements BatchSource {
  readonly labels: Int32Array;

  constructor(
    readonly name: string,
    readonly images: readonly FolderImage[],
    readonly classes: readonly string[],
    private readonly o: FolderSourceOptions,
  ) {
    this.labels = Int32Array.from(images, (m) => m.label);
  }

  get count(): number {
    return this.images.length;
  }
  get channels(): number {
    return this.o.channels;
  }
  get imageSize(): number {
    return this.o.transform.size;
  }

  describe(index: number): string {
    return display(this.images[index]?.rel ?? `#${index}`);
  }

  /** Batches in order (or shuffled by seed and epoch), `prefetch` of them decoding ahead of the one returned. */
  async *batches(batchSize: number, options: SourceBatchOptions = {}): AsyncGenerator<Batch> {
    if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new Error(`batchSize must be an integer >= 1, got ${String(batchSize)}`);
    const seed = options.seed ?? 0, epoch = options.epoch ?? 0;
    const order = Int32Array.from({ length: this.count }, (_, i) => i);
    if (options.shuffle) {
      const rand = keyedRng(seed, ORDER_STREAM, epoch);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    const total = options.dropLast ? Math.floor(this.count / batchSize) : Math.ceil(this.count / batchSize);
    const queue: Promise<Batch>[] = [];
    let next = Math.max(0, options.skip ?? 0);
    const fill = () => {
      while (queue.length < Math.max(1, this.o.prefetch) && next < total) {
        const p = this.load(order, next++, batchSize, options.augment === true, seed, epoch);
        p.catch(() => {}); // awaited in turn below; a later batch failing first is not "unhandled"
        queue.push(p);
      }
    };
    fill();
    while (queue.length) {
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  /** Batch k of the order: every image read, decoded and transformed in the pool. */
  private async load(order: Int32Array, k: number, batchSize: number, augment: boolean, seed: number, epoch: number): Promise<Batch> {
    const from = k * batchSize, indices = order.slice(from, Math.min(order.length, from + batchSize));
    const B = indices.length, K = this.classes.length, per = this.o.channels * this.imageSize ** 2;
    const images = new Float32Array(B * per), labels = new Int32Array(B), oneHot = new Float32Array(B * K);
    await Promise.all(Array.from(indices, async (i, r) => {
      const m = this.images[i]!;
      const px = await this.o.pool.run({ kind: 'load', path: m.path, channels: this.o.channels, transform: this.o.transform, augment, key: [seed, epoch, from + r], limits: this.o.limits });
      images.set(px, r * per);
      labels[r] = m.label;
      oneHot[r * K + m.label] = 1;
    })).catch((e: unknown) => {
      throw new Error(`${this.name}: ${(e as Error).message} (the file changed since the folder was scanned? run the command again to rescan it)`);
    });
    return { images, labels, oneHot, indices, size: B };
  }
}

/** What openFolderData needs: the folder, its split, the threads and the model's input. */
export interface FolderDataOptions {
  readonly root: string;
  /** Without a held-out folder: the fraction of each class held out. */
  readonly valSplit: number;
  readonly splitSeed: number;
  readonly skipBad: boolean;
  /** Decoding threads (0: the main thread; absent: defaultWorkers()). */
  readonly workers?: number;
  /** Batches decoded ahead of the step. */
  readonly prefetch: number;
  readonly channels: 1 | 3;
  readonly transform: ImageTransform;
  /** Training images (a stratified sample of the training split; absent: all of it). */
  readonly trainSize?: number;
  /** Held-out images (likewise; absent: all of them). */
  readonly testSize?: number;
  /** Show the first scan's progress (default true). */
  readonly progress?: boolean;
  readonly limits?: ImageOptions['limits'];
}

/** A scanned folder with its training and held-out sources. */
export interface FolderData {
  readonly folder: ImageFolder;
  readonly train: ImageFolderSource;
  readonly test: ImageFolderSource;
}

const pools = new Map<number, ImagePool>();
const scans = new Map<string, Promise<ImageFolder>>();

/** The process's pool of `workers` decoding threads (created on first use; idle threads do not hold the process). */
export function imagePool(workers: number = defaultWorkers()): ImagePool {
  let p = pools.get(workers);
  if (!p) pools.set(workers, (p = new ImagePool(workers)));
  return p;
}

/** Stops every decoding thread of the process (they are also stopped when it exits). */
export async function closeImagePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  scans.clear();
  await Promise.all(all.map((p) => p.close()));
}

/**
 * Scans a folder (once per process for the same folder and split: later calls reuse the scan) and
 * makes its training and held-out sources, sampled down to trainSize / testSize when given.
 */
export async function openFolderData(o: FolderDataOptions): Promise<FolderData> {
  const pool = imagePool(o.workers);
  let real: string;
  try {
    real = realpathSync(o.root);
  } catch {
    real = o.root; // the scan reports the missing folder
  }
  const key = JSON.stringify([real, o.valSplit, o.splitSeed, o.skipBad, o.limits ?? null]);
  let scan = scans.get(key);
  if (!scan) {
    scan = scanImageFolder(o.root, { skipBad: o.skipBad, valSplit: o.valSplit, splitSeed: o.splitSeed, pool, progress: o.progress, limits: o.limits });
    scans.set(key, scan);
    scan.catch(() => scans.delete(key));
  }
  const folder = await scan;
  const K = folder.classes.length;
  const pick = (images: readonly FolderImage[], size: number | undefined, what: string) => {
    if (size === undefined) return images;
    const labels = Int32Array.from(images, (m) => m.label);
    return sampleStratified(labels, K, images.map((_, i) => i), size, o.splitSeed, `${display(o.root)}: ${what}`).map((i) => images[i]!);
  };
  const src = { channels: o.channels, transform: o.transform, pool, prefetch: o.prefetch, limits: o.limits };
  const name = display(o.root, 80);
  return {
    folder,
    train: new ImageFolderSource(`${name} (train)`, pick(folder.train, o.trainSize, `--train-size ${o.trainSize}`), folder.classes, src),
    test: new ImageFolderSource(`${name} (held out)`, pick(folder.val, o.testSize, `--test-size ${o.testSize}`), folder.classes, src),
  };
}
