// The two models the page compares, AdaptFormer with and without FPET: their recipe, their specs,
// their names and their row in the runs table.

import { DEFAULT_MERGE, DEFAULT_PET, MNIST_DIGIT_BOX, VIT_PRESETS, type Classifier, type ModelSpec, type Weights } from '../../../index.ts';
import type { DataPack } from '../data-pack.ts';
import type { Runner } from '../trainer.ts';
import { $, secs, text } from './dom.ts';

/** The page's two models: AdaptFormer, and AdaptFormer + FPET. */
export type VariantId = 'base' | 'fpet';
/** Both variants, in the order the page shows them. */
export const VARIANTS: readonly VariantId[] = ['base', 'fpet'];
/** Each variant's colour in the charts (the swatches in styles.css match). */
export const COLOURS: Record<VariantId, string> = { base: '#4363d8', fpet: '#e8731a' };
/**
 * The main job's recipe (`npm start -- transfer`): adapter dropout, no DropPath (the backbone is
 * frozen), schedule ends, seed; on MNIST the models see the central 20×20 (modelSpec).
 */
export const TRAINING = { dropout: 0.1, dropPath: 0, minLr: 1e-5, warmupLr: 1e-6, seed: 0 } as const;
/** The shipped backbone's geometry. */
export const VIT = VIT_PRESETS['vit-mnist'];
/** Side of the model's input picture, in pixels. */
export const IMAGE = VIT.imageSize;
/** Where FPET merges when nothing else is chosen. */
export const MIDDLE_BLOCK = Math.floor(VIT.depth / 2);

/** The merge block and ratio FPET is specialised for. */
export interface MergeChoice {
  readonly mergeBlock: number;
  readonly mergeRatio: number;
}

/** One model on the page: its weights, its compiled programs and what the page shows of it. */
export interface Variant {
  readonly id: VariantId;
  /** The inference model (batch 1). */
  spec: ModelSpec;
  /** Every parameter: the backbone and the current adapters / head (fresh, trained or loaded). */
  weights: Weights;
  source: string;
  /** Optimizer steps the current weights had. */
  step: number;
  /** Batch 1, for the picture on the pad (FPET: with merge outputs, for the merge map). */
  interactive?: Classifier;
  /** Batch `evalBatch`: held-out accuracy and the inference-speed test. */
  evaluator?: Classifier;
  runner?: Runner;
  loss: [number, number][];
  acc: [number, number][];
  ipsEma?: number;
  lastCompile?: { train?: number; infer?: number };
  /** The progress line (epoch, step). */
  progress?: string;
}

/** A variant's model for a batch size, the data pack's classes and (FPET) a merge choice. */
export function modelSpec(id: VariantId, batch: number, pack: DataPack | undefined, s?: MergeChoice): ModelSpec {
  const block = s?.mergeBlock ?? MIDDLE_BLOCK;
  const ratio = s?.mergeRatio ?? DEFAULT_MERGE.ratio;
  return {
    vit: { ...VIT, numClasses: pack?.dataset.classes.length ?? VIT.numClasses },
    batch,
    pet: { ...DEFAULT_PET.adaptformer },
    merge: id === 'fpet' ? { ...DEFAULT_MERGE, blocks: [block], ratio } : undefined,
    // As the main job: the Fashion-MNIST backbone sees MNIST digits at its own object scale.
    ...(pack?.dataset.name === 'mnist' ? { inputCrop: MNIST_DIGIT_BOX } : {}),
  };
}

/** A variant before the page has loaded anything. */
export function freshVariant(id: VariantId): Variant {
  return { id, spec: modelSpec(id, 1, undefined), weights: new Map(), source: 'fresh adapters', step: 0, loss: [], acc: [] };
}

/** The variant's name as the page shows it (from its spec: a loaded file may be another method). */
export function label(v: Variant): string {
  const s = v.spec;
  const pet = s.pet.method === 'adaptformer' ? `${s.pet.bits === 1 ? 'Bi-' : ''}AdaptFormer` : s.pet.method === 'lora' ? `${s.pet.bits === 1 ? 'Bi-' : ''}LoRA` : s.pet.method === 'full' ? 'Full fine-tuning' : 'Linear probe';
  const merge = !s.merge ? '' : s.merge.kind === 'fpet' ? ' + FPET' : ` + ToMe r=${s.merge.r}`;
  return pet + merge;
}

/** Refreshes the variant's name, source, tokens and compile times wherever the page shows them. */
export function showVariant(v: Variant): void {
  const row = document.querySelector(`tr[data-variant=${v.id}]`)!;
  row.querySelector('.name')!.textContent = label(v);
  document.querySelector(`.pred[data-variant=${v.id}] .name`)!.textContent = label(v);
  text(`source-${v.id}`, v.source);
  const tokens = v.interactive?.model.tokenCounts.map((t) => t.mlp);
  text(`tokens-${v.id}`, tokens ? tokens.join(' ') : '–');
  const c = v.lastCompile;
  text(`compile-${v.id}`, c ? [c.train !== undefined ? `train ${secs(c.train)}` : '', c.infer !== undefined ? `infer ${secs(c.infer)}` : ''].filter(Boolean).join(' · ') : '–');
  $(`download-${v.id}`).textContent = `Download ${label(v)}`;
}
