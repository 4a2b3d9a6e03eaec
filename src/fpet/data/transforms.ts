// Images brought to the model's resolution the way timm does, on planar images in [0, 1]:
//
// - eval (timm transforms_imagenet_eval): resize the shorter side to ⌊size / cropPct⌋ keeping the
//   aspect ratio (torchvision Resize(int): the longer side becomes int(new_short · long / short)),
//   then crop the central size × size (torchvision CenterCrop: offsets round((in − size) / 2), with
//   Python's round-half-to-even);
// - train (timm transforms_imagenet_train): RandomResizedCrop(size, scale, ratio) with torchvision's
//   parameter draw (ten tries of an area fraction and a log-uniform aspect ratio, then the central
//   crop of the allowed aspect), then a horizontal flip with probability 0.5; each can be turned off
//   (no random crop: the eval transform).
//
// Resampling is PIL's (Image.resize, what torchvision uses on PIL images): a separable filter whose
// support grows with the downscaling factor (antialiasing), bilinear (triangle, support 1) or
// bicubic (a = −0.5, support 2), each output pixel's weights normalised to sum to 1, the taps
// clipped to the image. PIL rounds to 8 bits between its horizontal and vertical passes; here both
// passes are in floating point (values differ from PIL's by at most about one 8-bit level).
// Universal: no files, so it runs in workers, Node, Deno and browsers alike.

import type { PlanarImage } from '../../core/io/png.ts';

/** Resampling filters (PIL's BILINEAR and BICUBIC). */
export type Interpolation = 'bilinear' | 'bicubic';

/** How images become size × size model inputs, for evaluation and for training. */
export interface ImageTransform {
  /** The side of the model's input. */
  readonly size: number;
  /** Eval: the centre crop is this fraction of the resized shorter side (timm's crop_pct; 1: no border cut). */
  readonly cropPct: number;
  readonly interpolation: Interpolation;
  /** Train: RandomResizedCrop (else the eval transform). */
  readonly randomCrop: boolean;
  /** RandomResizedCrop's range of the crop's area as a fraction of the image's. */
  readonly scale: readonly [number, number];
  /** RandomResizedCrop's range of the crop's aspect ratio (width / height), drawn log-uniformly. */
  readonly ratio: readonly [number, number];
  /** Train: flip horizontally with probability 0.5. */
  readonly hflip: boolean;
}

/** timm's defaults for ViTs at `size`: crop_pct 0.875, bicubic, scale (0.08, 1), ratio (3/4, 4/3), flips. */
export const timmTransform = (size: number): ImageTransform => ({
  size, cropPct: 0.875, interpolation: 'bicubic', randomCrop: true, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], hflip: true,
});

/** Allowed ranges of ImageTransform's fields (the CLI's options use these). */
export const TRANSFORM_LIMITS = { cropPct: [0.05, 1], scale: [0.01, 1], ratio: [0.05, 20] } as const;

/** Checks a transform; every message names the field and its allowed range. */
export function validateTransform(t: ImageTransform): void {
  const L = TRANSFORM_LIMITS;
  if (!(Number.isInteger(t.size) && t.size >= 1)) throw new Error(`transform size must be an integer >= 1 (got ${t.size})`);
  if (!(t.cropPct >= L.cropPct[0] && t.cropPct <= L.cropPct[1])) throw new Error(`crop pct must be in [${L.cropPct[0]}, ${L.cropPct[1]}] (got ${t.cropPct})`);
  if (t.interpolation !== 'bilinear' && t.interpolation !== 'bicubic') throw new Error(`interpolation must be bilinear or bicubic (got ${String(t.interpolation)})`);
  const [s0, s1] = t.scale, [r0, r1] = t.ratio;
  if (!(s0 >= L.scale[0] && s0 <= s1 && s1 <= L.scale[1])) throw new Error(`random-resized-crop scale must be MIN,MAX with ${L.scale[0]} <= MIN <= MAX <= ${L.scale[1]} (got ${s0},${s1})`);
  if (!(r0 >= L.ratio[0] && r0 <= r1 && r1 <= L.ratio[1])) throw new Error(`random-resized-crop ratio must be MIN,MAX with ${L.ratio[0]} <= MIN <= MAX <= ${L.ratio[1]} (got ${r0},${r1})`);
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const FILTERS: Record<Interpolation, { support: number; f: (x: number) => number }> = {
  bilinear: { support: 1, f: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5, t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** One axis of a resampling: for each output index, its first input index and normalised weights. */
export interface AxisWeights {
  /** First input index of each output. */
  readonly start: Int32Array;
  /** Taps of each output (weights beyond it are 0). */
  readonly taps: Int32Array;
  /** `stride` weights per output. */
  readonly weights: Float64Array;
  readonly stride: number;
}

/**
 * PIL's precompute_coeffs for resizing `inSize` samples to `outSize`, for the outputs
 * first .. first + count − 1 only (a crop of the resized axis costs only what it keeps).
 */
export function axisWeights(inSize: number, outSize: number, interpolation: Interpolation, first = 0, count = outSize): AxisWeights {
  const filter = FILTERS[interpolation];
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count), taps = new Int32Array(count), weights = new Float64Array(count * stride);
  for (let k = 0; k < count; k++) {
    const center = (first + k + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.f((x + xmin - center + 0.5) / filterScale);
      weights[k * stride + x] = w;
      sum += w;
    }
    if (sum !== 0) for (let x = 0; x < xmax; x++) weights[k * stride + x]! /= sum;
    start[k] = xmin;
    taps[k] = Math.max(0, xmax);
  }
  return { start, taps, weights, stride };
}

/** A region of an image in whole pixels. */
export interface CropBox {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * Resizes the region `box` of `img` to fullW × fullH (PIL: crop, then resize) and returns the
 * window of the result starting at (offX, offY) of outW × outH, flipped left–right when `flip`:
 * [channels, outH, outW]. Horizontal pass first, over the rows the vertical pass reads.
 */
export function resampleWindow(img: PlanarImage, box: CropBox, full: { w: number; h: number }, out: { x: number; y: number; w: number; h: number }, interpolation: Interpolation, flip = false): Float32Array {
  const xs = axisWeights(box.w, full.w, interpolation, out.x, out.w);
  const ys = axisWeights(box.h, full.h, interpolation, out.y, out.h);
  const rowFrom = ys.start[0]!, rowTo = Math.max(...Array.from(ys.start, (s, k) => s + ys.taps[k]!));
  const rows = rowTo - rowFrom, plane = img.width * img.height;
  const tmp = new Float64Array(rows * out.w);
  const result = new Float32Array(img.channels * out.w * out.h);
  for (let c = 0; c < img.channels; c++) {
    const base = c * plane;
    for (let r = 0; r < rows; r++) {
      const src = base + (box.y + rowFrom + r) * img.width + box.x;
      for (let k = 0; k < out.w; k++) {
        let s = 0;
        const o = k * xs.stride, x0 = src + xs.start[k]!;
        for (let t = 0; t < xs.taps[k]!; t++) s += xs.weights[o + t]! * img.pixels[x0 + t]!;
        tmp[r * out.w + (flip ? out.w - 1 - k : k)] = s;
      }
    }
    const dst = c * out.w * out.h;
    for (let k = 0; k < out.h; k++) {
      const o = k * ys.stride, r0 = ys.start[k]! - rowFrom;
      for (let x = 0; x < out.w; x++) {
        let s = 0;
        for (let t = 0; t < ys.taps[k]!; t++) s += ys.weights[o + t]! * tmp[(r0 + t) * out.w + x]!;
        result[dst + k * out.w + x] = s;
      }
    }
  }
  return result;
}

/** The eval transform's geometry: the resized size (shorter side ⌊size / cropPct⌋) and the centre crop's offsets in it. */
export function evalGeometry(width: number, height: number, size: number, cropPct: number): { w: number; h: number; left: number; top: number } {
  // timm: scale_size = math.floor(img_size / crop_pct) (the same IEEE division as Python's).
  const short = Math.floor(size / cropPct);
  const [w, h] = width <= height ? [short, Math.trunc((short * height) / width)] : [Math.trunc((short * width) / height), short];
  return { w, h, left: roundHalfEven((w - size) / 2), top: roundHalfEven((h - size) / 2) };
}

/** The eval transform of one image: [channels, size, size]. */
export function evalTransform(img: PlanarImage, t: Pick<ImageTransform, 'size' | 'cropPct' | 'interpolation'>, flip = false): Float32Array {
  const g = evalGeometry(img.width, img.height, t.size, t.cropPct);
  return resampleWindow(img, { x: 0, y: 0, w: img.width, h: img.height }, g, { x: g.left, y: g.top, w: t.size, h: t.size }, t.interpolation, flip);
}

/** torchvision's RandomResizedCrop.get_params: the crop box, from uniform draws in [0, 1) of `rand`. */
export function randomResizedCropBox(width: number, height: number, scale: readonly [number, number], ratio: readonly [number, number], rand: () => number): CropBox {
  const area = width * height;
  const lr0 = Math.log(ratio[0]), lr1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rand());
    const aspect = Math.exp(lr0 + (lr1 - lr0) * rand());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const y = Math.floor(rand() * (height - h + 1));
      const x = Math.floor(rand() * (width - w + 1));
      return { x, y, w, h };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}

/**
 * The train transform of one image: RandomResizedCrop then a horizontal flip (each when enabled;
 * without the random crop, the eval transform), drawing from `rand`: [channels, size, size].
 */
export function trainTransform(img: PlanarImage, t: ImageTransform, rand: () => number): Float32Array {
  if (!t.randomCrop) return evalTransform(img, t, t.hflip && rand() < 0.5);
  const box = randomResizedCropBox(img.width, img.height, t.scale, t.ratio, rand);
  const flip = t.hflip && rand() < 0.5;
  return resampleWindow(img, box, { w: t.size, h: t.size }, { x: 0, y: 0, w: t.size, h: t.size }, t.interpolation, flip);
}
