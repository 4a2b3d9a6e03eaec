// Resuming a run: the checkpoint's run state (a bounded schema) against the options, every option
// that changes what training computes compared with what the checkpoint was trained with, and
// the tensors — parameters and AdamW state — read and checked before any GPU work: finite values,
// plausible parameters, second moments ≥ 0.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelSpec } from '../models/model.ts';
import { display } from '../../core/util/text.ts';
import { checkWeights, loadWeights, parseRunState, type RunState } from './checkpoint.ts';
import type { Weights } from './inference.ts';
import { adamM, adamV } from './optimizer.ts';
import { ruleText, type NameRule } from '../../core/io/name-map.ts';

/** What resumeCheck needs of the run's options (a subset of TrainOptions). */
export interface ResumeOptions {
  readonly resume: string;
  readonly epochs: number;
  readonly seed: number;
  readonly data: RunData;
  readonly lr: number;
  readonly minLr: number;
  readonly warmupLr: number;
  readonly warmupEpochs: number;
  readonly schedule: string;
  readonly adamw: { readonly weightDecay: number; readonly beta1: number; readonly beta2: number; readonly eps: number };
  readonly dropout: number;
  readonly dropPath: number;
  readonly augmentShift: number;
  readonly augmentAffine?: { readonly scale: readonly [number, number]; readonly rotate: number; readonly plain: number };
  readonly backbone?: string;
  /** Rules renaming the backbone file's tensors (--name-map). */
  readonly nameMap?: readonly NameRule[];
}

/**
 * The name map as a run records it, so a resume compares what the rules do, not the file they came
 * from: the rules as written, or (over 512 characters: a map may hold 10,000 rules, and the run
 * state is bounded) their count and digest; '' for none.
 */
export function recordedNameMap(rules: readonly NameRule[] | undefined): string {
  const text = (rules ?? []).map(ruleText).join('; ');
  return text.length <= 512 ? text : `${rules!.length} rules, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** The data options a run records and resumes with. */
export interface RunData {
  readonly dataset: string;
  readonly trainSize?: number;
  readonly testSize?: number;
  readonly splitSeed: number;
  readonly folder?: {
    readonly root: string; readonly valSplit: number; readonly skipBad: boolean; readonly workers?: number; readonly prefetch: number;
    readonly transform: { readonly cropPct: number; readonly interpolation: string; readonly randomCrop: boolean; readonly scale: readonly number[]; readonly ratio: readonly number[]; readonly hflip: boolean };
  };
}

/** The data options as a run records them: an image folder's run says dataset "folder" and its folder's absolute path. */
export function recordedData(d: RunData): RunData {
  return d.folder ? { ...d, dataset: 'folder', folder: { ...d.folder, root: resolve(d.folder.root) } } : d;
}

/** A checked checkpoint to continue from: its run state and its tensors. */
export interface ResumePoint {
  readonly state: RunState;
  /** Trainable parameters and their AdamW moments (`adam.m:<name>`, `adam.v:<name>`). */
  readonly weights: Weights;
}

type Options = Record<string, unknown>;
const at = (o: unknown, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Options)[k] : undefined), o);

/**
 * The options that change what training computes, as [flag, path in the options record]. `--epochs`
 * is not among them: raising it continues a run (the cosine then spans the new length).
 */
const RUN_OPTIONS: readonly (readonly [string, readonly string[]])[] = [
  ['--dataset', ['data', 'dataset']], ['--train-size', ['data', 'trainSize']], ['--test-size', ['data', 'testSize']], ['--split-seed', ['data', 'splitSeed']],
  ['--lr', ['lr']], ['--min-lr', ['minLr']], ['--warmup-lr', ['warmupLr']], ['--warmup-epochs', ['warmupEpochs']], ['--schedule', ['schedule']],
  ['--weight-decay', ['adamw', 'weightDecay']], ['AdamW beta1', ['adamw', 'beta1']], ['AdamW beta2', ['adamw', 'beta2']], ['AdamW eps', ['adamw', 'eps']],
  ['--dropout', ['dropout']], ['--drop-path', ['dropPath']], ['--augment', ['augmentShift']],
  ['--augment-scale', ['augmentAffine', 'scale']], ['--augment-rotate', ['augmentAffine', 'rotate']], ['--augment-plain', ['augmentAffine', 'plain']],
  ['--backbone', ['backbone']], ['--name-map rules', ['nameMapRules']],
  ['--data', ['data', 'folder', 'root']], ['--val-split', ['data', 'folder', 'valSplit']], ['--skip-bad', ['data', 'folder', 'skipBad']],
  ['--crop-pct', ['data', 'folder', 'transform', 'cropPct']], ['--interpolation', ['data', 'folder', 'transform', 'interpolation']],
  ['--random-crop', ['data', 'folder', 'transform', 'randomCrop']], ['--rrc-scale', ['data', 'folder', 'transform', 'scale']], ['--hflip', ['data', 'folder', 'transform', 'hflip']],
];

const shown = (v: unknown): string => (v === undefined || v === '' ? 'none' : Array.isArray(v) ? display(v.join(','), 160) : display(String(v), 80));

/** The options of `o` that differ from those the checkpoint recorded (fields it lacks are not compared). */
export function changedRunOptions(o: ResumeOptions, recorded: Options): { flag: string; was: string; now: string }[] {
  const now: Options = { ...o, data: recordedData(o.data), backbone: o.backbone ?? 'random', nameMapRules: recordedNameMap(o.nameMap) };
  const out: { flag: string; was: string; now: string }[] = [];
  for (const [flag, path] of RUN_OPTIONS) {
    const parent = path.length > 1 ? at(recorded, path.slice(0, -1)) : recorded;
    // Older checkpoints may lack a field; an absent affine augmentation is recorded as absent.
    if (path[0] !== 'augmentAffine' && (parent === undefined || !Object.hasOwn(parent as object, path[path.length - 1]!))) continue;
    const was = at(recorded, path), is = at(now, path);
    if (JSON.stringify(was) !== JSON.stringify(is)) out.push({ flag, was: shown(was), now: shown(is) });
  }
  return out;
}

/** Refuses a checkpoint of another model, batch, seed or recipe, naming each option and its value. */
function checkSameRun(o: ResumeOptions, spec: ModelSpec, s: RunState, path: string): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const where = `--resume ${display(path)}`;
  if (!same(s.spec.vit, spec.vit) || !same(s.spec.pet, spec.pet) || !same(s.spec.merge ?? null, spec.merge ?? null)) {
    throw new Error(`${where}: the checkpoint was trained with another model (${JSON.stringify({ pet: s.spec.pet, merge: s.spec.merge ?? 'none' })}); resume with the same model options`);
  }
  if (!same(s.spec.normalize ?? null, spec.normalize ?? null)) throw new Error(`${where}: the checkpoint was trained with the input normalisation ${JSON.stringify(s.spec.normalize ?? 'none')}, not ${JSON.stringify(spec.normalize ?? 'none')}; resume with the same --normalize / --mean / --std`);
  if ((s.spec.inputCrop ?? null) !== (spec.inputCrop ?? null)) throw new Error(`${where}: the checkpoint was trained with --input-crop ${s.spec.inputCrop ?? 'none (the whole image)'}, not ${spec.inputCrop ?? 'none'}; resume with the same --input-crop`);
  if (s.spec.batch !== spec.batch) throw new Error(`${where}: the checkpoint was trained with --batch ${s.spec.batch}, not ${spec.batch}; resume with --batch ${s.spec.batch}`);
  if (s.seed !== o.seed) throw new Error(`${where}: the checkpoint was trained with --seed ${s.seed}, not ${o.seed}; resume with --seed ${s.seed}`);
  const changed = changedRunOptions(o, s.options);
  if (changed.length) throw new Error(changedOptionsMessage(path, changed));
}

/** Refuses non-finite or absurd parameters, non-finite moments and negative second moments, naming the tensor. */
export function checkOptimizerState(weights: Weights, trainable: readonly string[], path: string): void {
  checkWeights(new Map(trainable.map((n) => [n, weights.get(n)!])), path);
  for (const n of trainable) {
    for (const [name, negativeOk] of [[adamM(n), true], [adamV(n), false]] as const) {
      const v = weights.get(name)!;
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (!Number.isFinite(x)) throw new Error(`--resume ${display(path)}: tensor ${display(name)} has a non-finite value ${x} at index ${i}; the checkpoint is corrupt`);
        if (!negativeOk && x < 0) throw new Error(`--resume ${display(path)}: tensor ${display(name)} has a negative value ${x} at index ${i}: AdamW's second moments are averages of squared gradients, never negative; the checkpoint is corrupt`);
      }
    }
  }
}

/**
 * Reads and checks the checkpoint to resume from, before any GPU work: the run state (bounded
 * schema), the same model, batch, seed and recipe, a step that fits the run, and every tensor.
 */
/**
 * The options that change training, against the checkpoint's record (its header only): run before
 * the backbone and the data are opened, so a changed flag is named as such, not as what it breaks.
 */
export async function resumeOptionsCheck(o: ResumeOptions): Promise<void> {
  const path = o.resume;
  if (!existsSync(path)) throw new Error(`--resume ${display(path)}: no such checkpoint`);
  const { metadata } = await loadWeights(path, new Map(), { allowExtra: true, headerOnly: true });
  const changed = changedRunOptions(o, parseRunState(metadata, path).options);
  if (changed.length) throw new Error(changedOptionsMessage(path, changed));
}

const changedOptionsMessage = (path: string, changed: readonly { flag: string; was: string; now: string }[]): string =>
  `--resume ${display(path)}: the checkpoint was trained with ${changed.map((c) => `${c.flag} ${c.was} (not ${c.now})`).join(', ')}; resume with ${changed.map((c) => `${c.flag} ${c.was}`).join(' ')} (the options that change training must be the checkpoint's)`;

export async function resumeCheck(o: ResumeOptions, spec: ModelSpec, shapes: ReadonlyMap<string, readonly number[]>, trainable: readonly string[], trainImages: number): Promise<ResumePoint> {
  const path = o.resume;
  if (!existsSync(path)) throw new Error(`--resume ${display(path)}: no such checkpoint`);
  const { metadata } = await loadWeights(path, new Map(), { allowExtra: true, headerOnly: true });
  const state = parseRunState(metadata, path);
  checkSameRun(o, spec, state, path);
  const stepsPerEpoch = Math.floor(trainImages / spec.batch);
  const where = `--resume ${display(path)}`;
  if (state.step > o.epochs * stepsPerEpoch) {
    throw new Error(`${where}: the checkpoint is at step ${state.step}, past the end of a ${o.epochs}-epoch run (${o.epochs * stepsPerEpoch} steps of ${stepsPerEpoch}); raise --epochs to train further`);
  }
  if (Math.floor(state.step / stepsPerEpoch) < state.epoch) {
    throw new Error(`${where}: its run state says ${state.epoch} epochs but only ${state.step} steps of ${stepsPerEpoch} per epoch (--train-size and --batch must match the run's)`);
  }
  const stateShapes = new Map<string, readonly number[]>();
  for (const n of trainable) stateShapes.set(n, shapes.get(n)!).set(adamM(n), shapes.get(n)!).set(adamV(n), shapes.get(n)!);
  const { weights } = await loadWeights(path, stateShapes);
  checkOptimizerState(weights, trainable, path);
  return { state, weights };
}
