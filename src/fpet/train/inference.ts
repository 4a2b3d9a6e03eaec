// Inference with a model on the GPU: logits, class probabilities and top classes for any number of
// images (run in batches of the compiled size, the last one padded), accuracy over a subset of a
// data set, and merge maps. Used by the CLI's eval and infer, by training's evaluation, by the
// benchmarks and by the web page.

import type { Subset } from '../data/dataset.ts';
import { sourceOf, type BatchSource } from '../data/batch-source.ts';
import { buildModel, type BuiltModel, type ModelSpec } from '../models/model.ts';
import { mergeMapOf, type MergeMap } from '../models/merge-map.ts';
import type { GpuContext } from '../../core/runtime/device.ts';
import { compile, type Program, type ProgramOptions } from '../../core/runtime/program.ts';

/** Model weights by parameter name, each flat and row-major. */
export type Weights = Map<string, Float32Array>;

/** A class (by index) with its probability. */
export interface ClassScore {
  readonly label: number;
  readonly probability: number;
}

/** A classification of one image: its logits and most probable classes. */
export interface Prediction {
  readonly logits: Float32Array;
  /** The `top` most probable classes, most probable first. */
  readonly top: readonly ClassScore[];
}

/** Softmax of one row of logits, in float64. */
export function softmaxRow(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Float64Array.from(logits, (v) => Math.exp(v - max));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}

/** The k largest probabilities with their classes (ties: lower class first). */
export function topClasses(probabilities: ArrayLike<number>, k: number): ClassScore[] {
  return Array.from(probabilities, (probability, label) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability || a.label - b.label)
    .slice(0, k);
}

/**
 * Accuracy of a Classifier over a subset: `accuracy` in [0, 1], `predictions` per image seen in
 * subset order, `seconds` of wall clock.
 */
export interface EvalResult {
  readonly accuracy: number;
  readonly images: number;
  readonly seconds: number;
  readonly predictions: Int32Array;
  /** True when `shouldStop` ended the evaluation early (accuracy is then over the images seen). */
  readonly stopped: boolean;
}

/** What evaluates a model on held-out data: a Classifier, or one compiled at its first use (DeferredEvaluator). */
export type Evaluator = Pick<Classifier, 'setWeights' | 'evaluate'>;

/** Options of Classifier.create: those of `compile`, and whether merge maps are computed. */
export interface ClassifierOptions extends ProgramOptions {
  /** Also compute merge maps (token destinations per merge block). */
  readonly mergeOutputs?: boolean;
}

/** A model's inference program at a fixed batch size, with its weights on the GPU. */
export class Classifier {
  private constructor(
    readonly model: BuiltModel,
    readonly program: Program,
  ) {}

  /** `spec.batch` is the batch the program runs; any number of images is classified in such batches. */
  static async create(ctx: GpuContext, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, opts: ClassifierOptions = {}): Promise<Classifier> {
    const model = buildModel({ ...spec, training: undefined }, { mergeOutputs: opts.mergeOutputs });
    const program = await compile(model.graph, ctx, opts);
    const c = new Classifier(model, program);
    c.setWeights(weights);
    return c;
  }

  /** Images the program runs at once (`spec.batch`). */
  get batch(): number {
    return this.model.spec.batch;
  }
  /** Number of classes the model predicts. */
  get classes(): number {
    return this.model.spec.vit.numClasses;
  }
  private get pixels(): number {
    const v = this.model.spec.vit;
    return v.inChannels * v.imageSize * v.imageSize;
  }

  /** Writes the model's parameters that `weights` has (missing ones keep their values; all are needed once). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    const feeds: Record<string, Float32Array> = {};
    for (const p of this.model.graph.params) {
      const w = weights.get(p.attrs.name);
      if (w) feeds[p.attrs.name] = w;
    }
    this.program.write(feeds);
  }

  /** Runs images [n, C, S, S] (n ≤ batch) and reads the named outputs back. */
  private async runBatch(images: Float32Array, n: number, outputs: readonly string[]) {
    if (n > this.batch) throw new Error(`${n} images do not fit the compiled batch of ${this.batch}`);
    const padded = n === this.batch && images.length === n * this.pixels ? images : new Float32Array(this.batch * this.pixels);
    if (padded !== images) padded.set(images.subarray(0, n * this.pixels));
    return this.program.execute({ images: padded, onehot: new Float32Array(this.batch * this.classes) }, outputs);
  }

  /** Logits [n, classes] of n images [n, C, S, S]. */
  async logits(images: Float32Array, n = images.length / this.pixels): Promise<Float32Array> {
    if (!Number.isInteger(n) || images.length < n * this.pixels) throw new Error(`images: expected ${this.pixels} values per image (${this.model.spec.vit.inChannels}×${this.model.spec.vit.imageSize}×${this.model.spec.vit.imageSize}), got ${images.length} values for ${n} images`);
    const out = new Float32Array(n * this.classes);
    for (let at = 0; at < n; at += this.batch) {
      const m = Math.min(this.batch, n - at);
      const r = await this.runBatch(images.subarray(at * this.pixels, (at + m) * this.pixels), m, ['logits']);
      out.set(r.logits!.subarray(0, m * this.classes), at * this.classes);
    }
    return out;
  }

  /** Top-k classes with probabilities for each of n images. */
  async classify(images: Float32Array, k = 3, n = images.length / this.pixels): Promise<Prediction[]> {
    const logits = await this.logits(images, n);
    return Array.from({ length: n }, (_, i) => {
      const row = logits.subarray(i * this.classes, (i + 1) * this.classes);
      return { logits: row, top: topClasses(softmaxRow(row), k) };
    });
  }

  /** Merge maps of n ≤ batch images (the model must be built with mergeOutputs). */
  async mergeMaps(images: Float32Array, n = images.length / this.pixels): Promise<MergeMap[]> {
    return (await this.classifyWithMaps(images, 1, n)).map((p) => p.mergeMap);
  }

  /** Top-k classes and merge maps of n ≤ batch images from one run of the program. */
  async classifyWithMaps(images: Float32Array, k = 3, n = images.length / this.pixels): Promise<(Prediction & { mergeMap: MergeMap })[]> {
    if (!this.model.graph.outputs.has('sizes')) throw new Error('this classifier has no merge outputs: create it with mergeOutputs (and a model that merges)');
    const names = ['logits', ...[...this.model.graph.outputs.keys()].filter((o) => o.startsWith('merge.'))];
    const r = await this.runBatch(images, n, names);
    return Array.from({ length: n }, (_, i) => {
      const row = (r.logits as Float32Array).subarray(i * this.classes, (i + 1) * this.classes);
      return { logits: row, top: topClasses(softmaxRow(row), k), mergeMap: mergeMapOf(this.model, r, i) };
    });
  }

  /** Accuracy over a subset of a data set, or a batch source (an image folder); `shouldStop` is checked between batches. */
  async evaluate(data: Subset | BatchSource, opts: { onBatch?: (done: number, total: number) => void; shouldStop?: () => boolean } = {}): Promise<EvalResult> {
    const source = sourceOf(data);
    const n = source.count;
    const predictions = new Int32Array(n);
    let correct = 0, at = 0, stopped = false;
    const t0 = performance.now();
    opts.onBatch?.(0, n); // a progress display starts its clock now, not after the first batch
    for await (const b of source.batches(this.batch)) {
      if (opts.shouldStop?.()) {
        stopped = true;
        break;
      }
      const r = await this.runBatch(b.images, b.size, ['logits']);
      const logits = r.logits!;
      for (let i = 0; i < b.size; i++) {
        let best = 0;
        for (let c = 1; c < this.classes; c++) if (logits[i * this.classes + c]! > logits[i * this.classes + best]!) best = c;
        predictions[at++] = best;
        if (best === b.labels[i]) correct++;
      }
      opts.onBatch?.(at, n);
    }
    return { accuracy: correct / Math.max(at, 1), images: at, seconds: (performance.now() - t0) / 1000, predictions: predictions.subarray(0, at), stopped };
  }

  /** Frees the program's GPU buffers; the classifier must not be used afterwards. */
  destroy(): void {
    this.program.destroy();
  }
}
