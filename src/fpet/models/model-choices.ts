// A model spec from the handful of choices a user makes (preset, PET method and width, merging,
// batch, input crop): the one place that fills in the defaults the CLI's options and the recipes
// share, so `train --merge fpet` and a recipe's FPET run build the same model.

import { DEFAULT_MERGE, DEFAULT_PET, type MergeSpec, type ModelSpec, type PetMethod } from './model.ts';
import { VIT_PRESETS, type VitPreset } from './vit.ts';

/** The choices that make a ModelSpec (what `train`'s model options name). */
export interface ModelChoices {
  readonly preset: VitPreset;
  readonly method: PetMethod;
  readonly bits: 32 | 1;
  /** Adapter bottleneck width; absent: `defaultAdapterDim`. */
  readonly adapterDim?: number;
  readonly adapterScale: number;
  readonly adapterBias: boolean;
  readonly merge: 'none' | 'fpet' | 'tome';
  /** Blocks that merge; absent: the middle block for FPET, every block for ToMe. */
  readonly mergeBlocks?: readonly number[];
  readonly mergeRatio: number;
  readonly tomeR: number;
  readonly batch: number;
  /** The central N×N pixels the model sees; absent or the image size: the whole image. */
  readonly inputCrop?: number;
}

/** Adapter width when none is chosen: the paper's 8 for 32-bit adapters, 32 for 1-bit ones, 0 without adapters. */
export function defaultAdapterDim(method: PetMethod, bits: 32 | 1): number {
  if (method !== 'adaptformer' && method !== 'lora') return 0;
  return bits === 1 ? 32 : 8;
}

/** The merge schedule of the choices, or undefined without merging. */
export function mergeOf(c: Pick<ModelChoices, 'preset' | 'merge' | 'mergeBlocks' | 'mergeRatio' | 'tomeR'>): MergeSpec | undefined {
  if (c.merge === 'none') return undefined;
  const depth = VIT_PRESETS[c.preset].depth;
  const blocks = c.mergeBlocks ? [...c.mergeBlocks] : c.merge === 'fpet' ? [Math.floor(depth / 2)] : [...Array(depth).keys()];
  return { ...DEFAULT_MERGE, kind: c.merge, blocks, ratio: c.mergeRatio, r: c.tomeR };
}

/** The ModelSpec of the choices (not yet validated: `validateSpec` names what is out of range). */
export function modelSpecOf(c: ModelChoices): ModelSpec {
  const vit = VIT_PRESETS[c.preset];
  const pet = { ...DEFAULT_PET[c.method], bits: c.bits, scale: c.adapterScale, bias: c.adapterBias, dim: c.adapterDim ?? defaultAdapterDim(c.method, c.bits) };
  const crop = c.inputCrop !== undefined && c.inputCrop < vit.imageSize ? { inputCrop: c.inputCrop } : {};
  return { vit, batch: c.batch, pet, merge: mergeOf(c), ...crop };
}
