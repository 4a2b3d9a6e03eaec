// Shared by the export tests: model specs, trained-looking weights (adapters with non-zero up
// projections, so they change the logits), the shipped backbone and test images.

import { DEFAULT_MERGE, DEFAULT_PET, initialWeights, modelParamShapes, type MergeSpec, type ModelSpec, type PetMethod } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS, type VitPreset } from '../../src/fpet/models/vit.ts';
import { loadBackbone } from '../../src/fpet/train/checkpoint.ts';
import { rngFrom, uniform } from '../support/random.ts';

export const SHIPPED_BACKBONE = 'models/vit-mnist-fashion.safetensors';

export interface Case {
  readonly name: string;
  readonly preset: VitPreset;
  readonly method: PetMethod;
  readonly bits?: 32 | 1;
  readonly merge?: Partial<MergeSpec> & { kind: 'fpet' | 'tome' };
  readonly shipped?: boolean;
  readonly batch?: number;
  readonly scale?: number;
  /** Adapter biases (the original AdaptFormer's); FPET's adapters have none. */
  readonly bias?: boolean;
}

export function specOf(c: Case): ModelSpec {
  const bits = c.bits ?? 32;
  const pet = { ...DEFAULT_PET[c.method], bits, dim: c.method === 'adaptformer' || c.method === 'lora' ? (bits === 1 ? 32 : 8) : 0, scale: c.scale ?? 1, bias: c.bias ?? false };
  return { vit: VIT_PRESETS[c.preset], batch: c.batch ?? 2, pet, merge: c.merge ? { ...DEFAULT_MERGE, ...c.merge } : undefined };
}

let shipped: Promise<Map<string, Float32Array>> | undefined;
export function shippedBackbone(): Promise<Map<string, Float32Array>> {
  shipped ??= loadBackbone(SHIPPED_BACKBONE, VIT_PRESETS['vit-mnist']).then((l) => l.weights);
  return shipped;
}

/**
 * Weights as after training: the backbone (shipped or random), the head, and adapters whose up
 * projection is random instead of the zero / ±2e-3 initialisation, so every adapter matters.
 */
export async function trainedLikeWeights(spec: ModelSpec, seed: number, useShipped = false): Promise<Map<string, Float32Array>> {
  const w = initialWeights(spec, seed, useShipped ? await shippedBackbone() : undefined);
  const rng = rngFrom(seed * 7919 + 1);
  for (const [name, shape] of modelParamShapes(spec)) {
    if (!name.includes('adapter')) continue;
    // Weights [out, in]: uniform ±1/√in; biases (1-D, when the model has them): ±0.1.
    const bound = shape.length > 1 ? 1 / Math.sqrt(shape[1]!) : 0.1;
    w.set(name, Float32Array.from(uniform(rng, shape.reduce((a, b) => a * b, 1), -bound, bound)));
  }
  return w;
}

/** Images in [0, 1] for a spec's batch. */
export function testImages(spec: ModelSpec, seed: number): Float32Array {
  const v = spec.vit;
  return Float32Array.from(uniform(rngFrom(seed), spec.batch * v.inChannels * v.imageSize * v.imageSize, 0, 1));
}
