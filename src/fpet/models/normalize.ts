// The backbone's input normalisation as part of the model: (pixel − mean[c]) / std[c] per channel,
// applied in the graph after the input crop, so the model takes pixels in [0, 1] and every consumer
// of a trained model — eval, infer, the web page, an ONNX export — normalises the same way. The
// values are the backbone's pre-training statistics (timm's `mean` / `std` of the checkpoint).

import type { GraphBuilder, Tensor } from '../../core/ir/graph.ts';

/** Per-channel mean and standard deviation of the model's input (one value per input channel). */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * Named normalisations: `imagenet` (timm's IMAGENET_DEFAULT_MEAN / _STD, what FPET's VTAB-1k code
 * uses) and `inception` (mean = std = 0.5: timm's augreg and original in21k ViT checkpoints).
 */
export const NORMALIZATIONS = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  inception: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
} as const satisfies Record<string, Normalization>;

/** The name of a normalisation in NORMALIZATIONS. */
export type NormalizationName = keyof typeof NORMALIZATIONS;

/** Bounds of a normalisation's values. */
export const NORMALIZATION_LIMITS = { mean: [-100, 100], std: [1e-4, 100] } as const;

/**
 * A named normalisation for `channels` input channels: the three RGB values, or for a one-channel
 * (grey) model the mean of the three means and of the three standard deviations.
 */
export function normalizationFor(name: NormalizationName, channels: number): Normalization {
  const n = NORMALIZATIONS[name];
  if (channels === 3) return { mean: [...n.mean], std: [...n.std] };
  const avg = (v: readonly number[]) => +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4);
  return { mean: Array(channels).fill(avg(n.mean)), std: Array(channels).fill(avg(n.std)) };
}

/** Checks a normalisation against the model's channels; messages name the field and the range. */
export function validateNormalization(n: Normalization, channels: number): void {
  const L = NORMALIZATION_LIMITS;
  for (const [field, values, [lo, hi]] of [['mean', n.mean, L.mean], ['std', n.std, L.std]] as const) {
    if (!Array.isArray(values) || values.length !== channels) throw new Error(`normalisation ${field} must have one value per input channel: ${channels} (got ${Array.isArray(values) ? values.length : 'none'})`);
    const i = values.findIndex((v) => !(typeof v === 'number' && v >= lo && v <= hi));
    if (i >= 0) throw new Error(`normalisation ${field}[${i}] must be a number in [${lo}, ${hi}] (got ${String(values[i])})`);
  }
}

/** images [B, C, S, S] → (images − mean) / std per channel. */
export function normalizeImages(b: GraphBuilder, images: Tensor, n: Normalization): Tensor {
  const C = n.mean.length;
  const shift = b.constant(n.mean.map((m) => -m), [1, C, 1, 1]);
  const scale = b.constant(n.std.map((s) => 1 / s), [1, C, 1, 1]);
  return images.add(shift).mul(scale);
}
