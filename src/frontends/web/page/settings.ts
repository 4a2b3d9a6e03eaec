// The settings form: what a run trains with, read when it starts and locked while it runs.

import type { Settings } from '../protocol.ts';
import { MIDDLE_BLOCK, TRAINING, VARIANTS, type MergeChoice } from '../variants.ts';
import { $ } from './dom.ts';

/** The form's settings, clamped to what trains (epochs, learning rate, evaluation interval). */
export function readSettings(): Settings {
  const num = (id: string) => Number(($(id) as HTMLInputElement | HTMLSelectElement).value);
  const epochs = Math.max(1, Math.min(100, Math.round(num('epochs')) || 1));
  const variants = VARIANTS.filter((v) => ($<HTMLInputElement>(`use-${v}`)).checked);
  return {
    dataset: $<HTMLSelectElement>('dataset').value,
    trainSize: num('train-size'), testSize: num('test-size'), batch: num('batch'), evalBatch: num('eval-batch'),
    epochs, lr: Math.max(1e-6, num('lr') || TRAINING.lr), minLr: TRAINING.minLr, warmupLr: TRAINING.warmupLr,
    // As the CLI: 10% of the epochs (at least one tenth of an epoch here, so short runs learn at once).
    warmupEpochs: Math.max(0.1, epochs / 10), seed: TRAINING.seed, augmentShift: TRAINING.augmentShift,
    evalEverySteps: Math.max(0, Math.round(num('eval-every')) || 0), logEvery: 1,
    variants, ...chosenMerge(),
  };
}

/** The merge block and ratio in the form (the defaults before the form is filled in). */
export function chosenMerge(): MergeChoice {
  const b = Number($<HTMLSelectElement>('merge-block').value);
  return { mergeBlock: Number.isInteger(b) && $<HTMLSelectElement>('merge-block').value !== '' ? b : MIDDLE_BLOCK, mergeRatio: Number($<HTMLInputElement>('merge-ratio').value) || 0.5 };
}

/** Smaller defaults on a software adapter (the GPU work runs on the CPU). */
export function applySoftwareDefaults(software: boolean): void {
  if (!software) return;
  $<HTMLSelectElement>('batch').value = '8';
  $<HTMLSelectElement>('test-size').value = '100';
  $<HTMLSelectElement>('eval-batch').value = '16';
  $<HTMLInputElement>('eval-every').value = '10';
  $<HTMLInputElement>('epochs').value = '1';
}

/** Locks the settings a run was compiled for (the merge block and ratio stay live: FPET re-specialises). */
export function lockSettings(locked: boolean): void {
  for (const id of ['dataset', 'train-size', 'test-size', 'batch', 'epochs', 'lr', 'eval-every', 'eval-batch', 'use-base', 'use-fpet']) {
    ($(id) as HTMLInputElement).disabled = locked;
  }
}
