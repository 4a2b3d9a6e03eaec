// Options shared by the commands that build a model (train, eval, infer, compile, bench), and the
// load option that renames a weight file's tensors.

import { mergeSchedule, type ModelSpec, type PetMethod } from '../../fpet/models/model.ts';
import { modelSpecOf, type ModelChoices } from '../../fpet/models/model-choices.ts';
import { shippedPathFromHere } from '../../fpet/recipes/shipped.ts';
import { VIT_PRESETS, type VitPreset } from '../../fpet/models/vit.ts';
import { MODEL_SPEC_LIMITS } from '../../core/io/schema.ts';
import { NAME_MAP_LIMITS, parseNameMap, type NameRule } from '../../core/io/name-map.ts';
import { readSmallFile } from '../../core/util/files.ts';
import { TUNE_MODES, type TuneMode } from '../../core/runtime/tune.ts';
import { display } from '../../core/util/text.ts';
import { UsageError, type OptionSpec } from './args.ts';

export const INPUT_CROP_HELP = 'the model sees the central N×N pixels of each image, scaled back up to the image size (bilinear; part of the model, so eval and infer apply it too)';

export const MODEL_OPTIONS = {
  preset: { type: 'string', default: 'vit-mnist', choices: Object.keys(VIT_PRESETS), help: 'backbone geometry' },
  method: { type: 'string', default: 'adaptformer', choices: ['adaptformer', 'lora', 'full', 'linear'], help: 'PET method (full = full fine-tuning, linear = head only)' },
  bits: { type: 'number', default: 32, help: 'adapter precision: 32 or 1 (Bi-AdaptFormer / Bi-LoRA)' },
  adapterDim: { type: 'number', integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxAdapterDim, help: 'adapter bottleneck width (default 8 for 32-bit, 32 for 1-bit)' },
  adapterScale: { type: 'number', default: 1, min: -MODEL_SPEC_LIMITS.maxAdapterScale, max: MODEL_SPEC_LIMITS.maxAdapterScale, help: 'adapter output scale s' },
  adapterBias: { type: 'boolean', default: false, help: 'adapters with biases (the original AdaptFormer; FPET\'s reference adapters have none)' },
  merge: { type: 'string', default: 'fpet', choices: ['none', 'fpet', 'tome'], help: 'token merging' },
  mergeBlocks: { type: 'list', integer: true, min: 0, max: MODEL_SPEC_LIMITS.maxDepth - 1, help: 'blocks (0-based) where tokens are merged (default: the middle block for FPET, every block for ToMe)' },
  mergeRatio: { type: 'number', default: 0.5, min: 0.0001, max: MODEL_SPEC_LIMITS.maxMergeRatio, help: 'FPET: fraction of patch tokens merged (0.5 = all of set A, the reference)' },
  tomeR: { type: 'number', default: 4, integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxTomeR, help: 'ToMe: tokens merged per block' },
  batch: { type: 'number', default: 32, integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxBatch, help: 'batch size' },
  inputCrop: { type: 'number', integer: true, min: 1, max: MODEL_SPEC_LIMITS.maxImageSize, help: `${INPUT_CROP_HELP}; absent: the whole image` },
} as const satisfies Record<string, OptionSpec>;

type ModelArgs = { preset: string; method: string; bits: number; adapterDim?: number; adapterScale: number; adapterBias: boolean; merge: string; mergeBlocks?: string[]; mergeRatio: number; tomeR: number; batch: number; inputCrop?: number };

/** The ModelSpec the model options describe (src/fpet/models/model-choices.ts fills in the defaults). */
export function modelSpecFrom(a: ModelArgs): ModelSpec {
  const vit = VIT_PRESETS[a.preset as VitPreset];
  if (a.bits !== 32 && a.bits !== 1) throw new UsageError(`--bits must be 32 or 1 (got ${a.bits})`);
  const mergeBlocks = a.mergeBlocks?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new UsageError(`--merge-blocks takes block numbers, got "${s}"`);
    return n;
  });
  if (a.inputCrop !== undefined && a.inputCrop > vit.imageSize) throw new UsageError(`--input-crop must be an integer in [1, ${vit.imageSize}] (the image size of ${a.preset}; got ${a.inputCrop})`);
  return modelSpecOf({ ...a, preset: a.preset as VitPreset, method: a.method as PetMethod, bits: a.bits, merge: a.merge as ModelChoices['merge'], mergeBlocks });
}

/**
 * Where ToMe merges fewer than r tokens: as ToMe's code does, a block merges at most its set A (half
 * the tokens left). Said in the model line, so a large --tome-r is not taken for what ran.
 */
function tomeClamped(s: ModelSpec): string {
  const steps = mergeSchedule(s);
  if (!s.merge || steps.every((m) => m.r === s.merge!.r)) return '';
  return ` (at most half the tokens left per block: ${steps.map((m) => m.r).join(', ')} merged, ${steps[0]!.tokensIn} → ${steps[steps.length - 1]!.tokensOut} tokens)`;
}

/** The model in one line: PET method, merging, input crop and normalisation. */
export function describeSpec(s: ModelSpec): string {
  const pet = s.pet.method === 'adaptformer' || s.pet.method === 'lora' ? `${s.pet.bits === 1 ? 'Bi-' : ''}${s.pet.method === 'lora' ? 'LoRA' : 'AdaptFormer'}(dim ${s.pet.dim}, s ${s.pet.scale})` : s.pet.method === 'full' ? 'full fine-tuning' : 'linear probe';
  const merge = !s.merge ? 'no merging' : s.merge.kind === 'fpet' ? `FPET at block ${s.merge.blocks.join(',')} ratio ${s.merge.ratio}` : `ToMe r=${s.merge.r} at blocks ${s.merge.blocks.join(',')}${tomeClamped(s)}`;
  const crop = s.inputCrop !== undefined && s.inputCrop < s.vit.imageSize ? `, input: central ${s.inputCrop}×${s.inputCrop} scaled to ${s.vit.imageSize}×${s.vit.imageSize}` : '';
  const norm = s.normalize ? `, ${s.vit.inChannels}×${s.vit.imageSize}² input normalised (mean ${s.normalize.mean.join(',')}, std ${s.normalize.std.join(',')})` : '';
  return `${pet}, ${merge}${crop}${norm}`;
}

/** How the commands that run kernels pick matmul variants (src/core/runtime/tune.ts). */
export const TUNE_OPTION = {
  tune: { type: 'string', choices: TUNE_MODES, default: defaultTune(), help: 'matmul kernel variants timed on this device and cached per adapter: off (heuristic defaults), quick (time-bounded search of what the cache lacks), full (default: $FPET_TUNE, else quick)' },
} as const satisfies Record<string, OptionSpec>;

/** The command line's tuning mode when --tune is not given: $FPET_TUNE when it names one, else quick. */
function defaultTune(): TuneMode {
  const v = process.env.FPET_TUNE;
  return (TUNE_MODES as readonly string[]).includes(v ?? '') ? (v as TuneMode) : 'quick';
}

/** The load option of commands that read a backbone. */
export const NAME_MAP_OPTION = {
  nameMap: { type: 'string', help: 'file of rules renaming the backbone file\'s tensors: "pattern -> replacement" per line, patterns are globs (* one dot-separated part, ** anything, {a,b} words; $1.. the captures; "-" drops; see docs/backbone.md)' },
} as const satisfies Record<string, OptionSpec>;

/**
 * Reads `--name-map FILE`: only a regular file of at most 1 MB (opened without blocking and checked
 * with fstat before a byte is read: a FIFO or /dev/zero is refused at once), parsed as glob rules.
 */
export function readNameMapOption(path: string | undefined): NameRule[] | undefined {
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readSmallFile(path, NAME_MAP_LIMITS.maxFileBytes, '--name-map');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--name-map ${display(path)}: is not UTF-8 text`);
  }
  try {
    return parseNameMap(text, path);
  } catch (e) {
    throw new UsageError(`--name-map ${(e as Error).message}`);
  }
}

/** The `--backbone` option of a command, defaulting to the shipped backbone (in the clone or the installed package). */
export const backboneOption = (help: string) => ({ type: 'string', default: shippedPathFromHere('backbone'), help }) as const satisfies OptionSpec;

/** The backbone option's value: a path, or undefined for "random". */
export const backbonePath = (v: string): string | undefined => (v === 'random' ? undefined : v);
