// The data options of the commands that train (train, transfer, sweep) and read held-out data
// (eval, infer): MNIST / Fashion-MNIST or an image folder (`--data DIR`, or `--dataset folder:DIR`),
// how a folder is split and read (held-out fraction, bad files, decoding threads, prefetch), how
// its images become model inputs (timm's eval resize and centre crop; random resized crop and
// flips in training) and the backbone's input normalisation, which goes into the model spec.

import { UsageError, type OptionSpec } from './args.ts';
import { display, quote } from '../../core/util/text.ts';
import { DATASET_NAMES, type DatasetName } from '../../fpet/data/mnist.ts';
import { TRANSFORM_LIMITS, type Interpolation } from '../../fpet/data/transforms.ts';
import { NORMALIZATION_LIMITS, NORMALIZATIONS, normalizationFor, type Normalization, type NormalizationName } from '../../fpet/models/normalize.ts';
import type { FolderOptions } from '../../fpet/train/run.ts';

/** Where the data comes from and how an image folder is split and read. */
export const DATA_OPTIONS = {
  dataset: { type: 'string', default: 'mnist', help: `data set: ${DATASET_NAMES.join(', ')}, or folder:DIR (an image folder, as --data DIR)` },
  data: { type: 'string', help: 'an image folder (torchvision ImageFolder layout: one subfolder of PNG / JPEG images per class, or train/ and val/ each holding such subfolders); any preset' },
  valSplit: { type: 'number', default: 0.2, min: 0.01, max: 0.9, help: 'image folder without val/: the fraction of each class held out for testing (drawn with --split-seed)' },
  skipBad: { type: 'boolean', default: false, help: 'image folder: leave unreadable or odd images (and classes left without images) out, counted, instead of stopping' },
  workers: { type: 'number', integer: true, min: 0, max: 64, help: 'image folder: decoding threads (default: the cores less one, 1 to 8; 0: decode in the main thread)' },
  prefetch: { type: 'number', default: 4, integer: true, min: 1, max: 64, help: 'image folder: batches decoded ahead of the step (memory: this many batches of images)' },
} as const satisfies Record<string, OptionSpec>;

/** How a folder's images become model inputs in training and evaluation (recorded with the model). */
export const TRANSFORM_OPTIONS = {
  cropPct: { type: 'number', default: 0.875, min: TRANSFORM_LIMITS.cropPct[0], max: TRANSFORM_LIMITS.cropPct[1], help: 'image folder, eval: resize the shorter side to image size / crop-pct, then take the central crop (timm\'s crop_pct; 1: no border cut)' },
  interpolation: { type: 'string', default: 'bicubic', choices: ['bilinear', 'bicubic'], help: 'image folder: resampling filter (PIL\'s, antialiased when shrinking)' },
  randomCrop: { type: 'boolean', default: true, help: 'image folder, train: random resized crop (timm RandomResizedCrop, aspect 3/4 to 4/3); false: the eval resize and centre crop' },
  rrcScale: { type: 'list', default: ['0.08', '1'], maxItems: 2, min: TRANSFORM_LIMITS.scale[0], max: TRANSFORM_LIMITS.scale[1], help: 'image folder, train: the random crop\'s area as a fraction of the image, MIN,MAX' },
  hflip: { type: 'boolean', default: true, help: 'image folder, train: flip half of the images left-right' },
} as const satisfies Record<string, OptionSpec>;

/** The model's input channels and normalisation (part of the model spec). */
export const INPUT_OPTIONS = {
  channels: { type: 'number', integer: true, min: 1, max: 3, help: 'input channels of the model: 1 (grey) or 3 (RGB; grey images replicated); default: the preset\'s (3 for vit-ti16/s16/b16)' },
  normalize: { type: 'string', choices: ['imagenet', 'inception', 'none'], help: 'the backbone\'s input normalisation, applied in the model: imagenet (mean 0.485,0.456,0.406, std 0.229,0.224,0.225: FPET\'s VTAB code), inception (0.5: timm\'s augreg and in21k ViTs) or none; default: imagenet for image folders, none for MNIST / Fashion-MNIST' },
  mean: { type: 'list', maxItems: 3, min: NORMALIZATION_LIMITS.mean[0], max: NORMALIZATION_LIMITS.mean[1], help: 'per-channel mean of the normalisation, one per channel (with --std; instead of --normalize)' },
  std: { type: 'list', maxItems: 3, min: NORMALIZATION_LIMITS.std[0], max: NORMALIZATION_LIMITS.std[1], help: 'per-channel standard deviation of the normalisation (with --mean)' },
} as const satisfies Record<string, OptionSpec>;

type DataArgs = { dataset: string; data?: string; valSplit: number; skipBad: boolean; workers?: number; prefetch: number };
type TransformArgs = { cropPct: number; interpolation: string; randomCrop: boolean; rrcScale: string[]; hflip: boolean };

/** The image folder the options name (`--data DIR` or `--dataset folder:DIR`), or undefined for MNIST / Fashion-MNIST. */
export function folderOf(a: { dataset: string; data?: string }): string | undefined {
  const fromDataset = a.dataset.startsWith('folder:') ? a.dataset.slice('folder:'.length) : undefined;
  if (fromDataset === '') throw new UsageError('--dataset folder:DIR needs the folder after "folder:"');
  if (a.data !== undefined && a.dataset !== 'mnist' && fromDataset !== a.data) throw new UsageError(`--data ${display(a.data)} and --dataset ${quote(a.dataset, 80)} name two data sets; give one of them`);
  const dir = a.data ?? fromDataset;
  if (dir === undefined && !(DATASET_NAMES as readonly string[]).includes(a.dataset)) throw new UsageError(`--dataset must be one of ${DATASET_NAMES.join(', ')} or folder:DIR (got ${quote(a.dataset, 80)})`);
  return dir;
}

/** The data set the options name: MNIST / Fashion-MNIST, or the folder and how it is read. */
export function dataOptionsFrom(a: DataArgs & TransformArgs): { dataset: DatasetName; folder?: FolderOptions } {
  const root = folderOf(a);
  if (root === undefined) return { dataset: a.dataset as DatasetName };
  const scale = a.rrcScale.map(Number);
  if (scale.length !== 2 || !(scale[0]! <= scale[1]!)) throw new UsageError(`--rrc-scale takes MIN,MAX with ${TRANSFORM_LIMITS.scale[0]} <= MIN <= MAX <= ${TRANSFORM_LIMITS.scale[1]} (got ${a.rrcScale.join(',')})`);
  const transform = { cropPct: a.cropPct, interpolation: a.interpolation as Interpolation, randomCrop: a.randomCrop, scale: scale as [number, number], ratio: [3 / 4, 4 / 3] as [number, number], hflip: a.hflip };
  return { dataset: 'mnist', folder: { root, valSplit: a.valSplit, skipBad: a.skipBad, workers: a.workers, prefetch: a.prefetch, transform } };
}

/**
 * The model's normalisation: --mean / --std, else --normalize, else ImageNet's for an image folder
 * and none for MNIST / Fashion-MNIST; one value per input channel.
 */
export function normalizationFrom(a: { normalize?: string; mean?: string[]; std?: string[] }, channels: number, folder: boolean): Normalization | undefined {
  if ((a.mean === undefined) !== (a.std === undefined)) throw new UsageError('--mean and --std go together (one value per input channel each)');
  if (a.mean && a.std) {
    if (a.normalize !== undefined) throw new UsageError('--normalize and --mean / --std both set the normalisation; give one');
    for (const [flag, v] of [['--mean', a.mean], ['--std', a.std]] as const) {
      if (v.length !== channels) throw new UsageError(`${flag} takes one value per input channel: ${channels} (got ${v.length})`);
    }
    return { mean: a.mean.map(Number), std: a.std.map(Number) };
  }
  const name = a.normalize ?? (folder ? 'imagenet' : 'none');
  return name === 'none' ? undefined : normalizationFor(name as NormalizationName, channels);
}

/** The channels the options give the model: --channels (1 or 3), else the preset's. */
export function channelsFrom(a: { channels?: number }, preset: number): number {
  if (a.channels === undefined) return preset;
  if (a.channels !== 1 && a.channels !== 3) throw new UsageError(`--channels must be 1 (grey) or 3 (RGB) (got ${a.channels})`);
  return a.channels;
}

/** The normalisations by name, for help and docs. */
export const NORMALIZATION_NAMES = Object.keys(NORMALIZATIONS);
