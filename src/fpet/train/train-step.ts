// One compiled training step: forward, backward and AdamW as one program (one command buffer).
// Parameters and optimizer state stay on the GPU (the updated values are copied over them at the
// end of every step); the loss is read back only when asked.

import { gradients } from '../../core/ir/autodiff.ts';
import type { Graph } from '../../core/ir/graph.ts';
import { buildModel, type BuiltModel, type ModelSpec } from '../models/model.ts';
import type { GpuContext } from '../../core/runtime/device.ts';
import { compile, type Program, type ProgramOptions } from '../../core/runtime/program.ts';
import type { Weights } from './inference.ts';
import { ADAMW_DEFAULTS, adamHyper, adamM, adamV, withAdamW, type AdamWConfig } from './optimizer.ts';

/** Options of TrainStep.create: those of `compile`, the AdamW hyperparameters and a starting optimizer state. */
export interface TrainStepOptions extends ProgramOptions {
  readonly adamw?: AdamWConfig;
  /** AdamW moments to start from (a resumed run); zeros otherwise. */
  readonly optimizerState?: ReadonlyMap<string, Float32Array>;
}

/** The graph of one training step: forward, backward and AdamW (`spec.training` sets dropout and DropPath). */
export function trainStepGraph(spec: ModelSpec, adamw: AdamWConfig = ADAMW_DEFAULTS): { model: BuiltModel; graph: Graph; writeBack: readonly (readonly [string, string])[] } {
  const model = buildModel(spec);
  if (model.trainable.length === 0) throw new Error('the model has no trainable parameters');
  const { graph, writeBack } = withAdamW(gradients(model.graph, { loss: 'loss' }), model.trainable, adamw);
  return { model, graph, writeBack };
}

/**
 * One compiled training step (forward, backward, AdamW) with parameters and optimizer state kept on the GPU.
 * Call destroy() to free its GPU memory.
 */
export class TrainStep {
  private constructor(
    readonly model: BuiltModel,
    readonly program: Program,
    readonly adamw: AdamWConfig,
    /** Shapes of the trainable parameters and of their AdamW moments. */
    readonly stateShapes: ReadonlyMap<string, readonly number[]>,
  ) {}

  /** `spec.training` sets dropout and DropPath (drawn from the step's seed); `weights` has every parameter. */
  static async create(ctx: GpuContext, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, opts: TrainStepOptions = {}): Promise<TrainStep> {
    const adamw = opts.adamw ?? ADAMW_DEFAULTS;
    const { model, graph, writeBack } = trainStepGraph(spec, adamw);
    const program = await compile(graph, ctx, { ...opts, writeBack });
    const stateShapes = new Map<string, readonly number[]>();
    for (const n of model.trainable) {
      const shape = model.paramShapes.get(n)!;
      stateShapes.set(n, shape).set(adamM(n), shape).set(adamV(n), shape);
    }
    const feeds: Record<string, ArrayLike<number>> = {};
    for (const p of graph.params) {
      const name = p.attrs.name;
      const v = weights.get(name) ?? opts.optimizerState?.get(name);
      if (v) feeds[name] = v;
      else if (name.startsWith('adam.')) feeds[name] = new Float32Array(p.type.shape.reduce((a, b) => a * b, 1));
      else {
        program.destroy();
        throw new Error(`training step: no value for parameter "${name}"`);
      }
    }
    program.write(feeds);
    return new TrainStep(model, program, adamw, stateShapes);
  }

  /** Names of the parameters the step trains. */
  get trainable(): readonly string[] {
    return this.model.trainable;
  }

  /** Whether the step draws random masks (dropout, DropPath), i.e. reads a [seed, step] input. */
  get usesSeed(): boolean {
    return this.program.feedNames.includes('seed');
  }

  /**
   * Submits optimizer step number `step` (1-based: it sets AdamW's bias correction) on one batch
   * (images [B, C, S, S], one-hot labels [B, classes]) at learning rate `lr`; random masks are
   * keyed by (seed, step), so a resumed run draws exactly the same ones.
   */
  run(batch: { images: Float32Array; oneHot: Float32Array }, lr: number, step: number, seed: number): void {
    this.program.write({ images: batch.images, onehot: batch.oneHot, hyper: adamHyper(lr, step, this.adamw) });
    if (this.usesSeed) this.program.write({ seed: [seed, step] });
    this.program.run();
  }

  /** The loss of the last step (waits for it). */
  async loss(): Promise<number> {
    return (await this.program.read(['loss'])).loss![0]!;
  }

  /** Trainable parameters and their AdamW moments (a checkpoint's tensors). */
  async state(): Promise<Weights> {
    const out = await this.program.read([...this.stateShapes.keys()]);
    return new Map(Object.entries(out).map(([k, v]) => [k, v as Float32Array]));
  }

  /** Trainable parameters only. */
  async trainableWeights(): Promise<Weights> {
    const out = await this.program.read(this.model.trainable);
    return new Map(Object.entries(out).map(([k, v]) => [k, v as Float32Array]));
  }

  /** Frees the program's GPU buffers; the step must not be used afterwards. */
  destroy(): void {
    this.program.destroy();
  }
}
