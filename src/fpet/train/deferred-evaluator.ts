// A training run's evaluator, compiled at its first evaluation instead of before the first step.
// On software adapters compiling it costs seconds (the main job's models: about 2, 5 and 10-13 s
// on lavapipe) that training need not wait for; most runs evaluate only after the last epoch. Its
// code is generated up front, so a batch the device cannot hold is still reported before any
// training, and its memory is known before it exists.

import type { CompiledPlan } from '../../../codegen/compile.ts';
import type { Subset } from '../data/dataset.ts';
import { sourceOf, type BatchSource } from '../data/batch-source.ts';
import { planMemoryBytes } from '../../core/runtime/program.ts';
import type { Classifier, EvalResult, Evaluator } from './inference.ts';

export class DeferredEvaluator implements Evaluator {
  private classifier: Classifier | undefined;
  /** The compile under way, so that evaluations started together share it. */
  private compiling: Promise<Classifier> | undefined;
  private weights: ReadonlyMap<string, Float32Array> | undefined;

  /** `create` compiles the classifier (called once, at the first evaluation); `plan` is its code, generated now. */
  constructor(
    private readonly create: () => Promise<Classifier>,
    readonly plan: CompiledPlan,
  ) {}

  /** Weights for the next evaluation (the classifier gets them once it exists). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    this.weights = weights;
    this.classifier?.setWeights(weights);
  }

  /** Compiles the classifier on first use (progress shows the evaluation at 0 meanwhile), then evaluates. */
  async evaluate(data: Subset | BatchSource, opts: { onBatch?: (done: number, total: number) => void; shouldStop?: () => boolean } = {}): Promise<EvalResult> {
    if (!this.classifier) {
      opts.onBatch?.(0, sourceOf(data).count);
      this.compiling ??= this.create();
      const created = await this.compiling;
      if (!this.classifier) {
        this.classifier = created;
        if (this.weights) created.setWeights(this.weights);
      }
    }
    return this.classifier.evaluate(data, opts);
  }

  /** GPU memory the classifier holds (or will hold): its plan's arenas. */
  get memoryBytes(): number {
    return planMemoryBytes(this.plan);
  }

  destroy(): void {
    this.classifier?.destroy();
    this.classifier = undefined;
    this.compiling = undefined;
  }
}
