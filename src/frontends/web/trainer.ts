// Live training for the page (in its GPU worker): one Runner per model variant (AdaptFormer, AdaptFormer + FPET), each
// a compiled TrainStep driven by the library's own trainLoop (src/fpet/train/loop.ts), the same loop the
// CLI runs. The runners take turns step by step (a baton passed in trainLoop's onStep callback), so
// both curves grow side by side and every step's wall time belongs to one variant (baton.ts); pausing holds the
// baton at a step boundary; stopping (reset, a new merge setting, a lost device) ends a loop at the
// next step boundary through shouldStop. The held-out evaluator is asked for only when an
// evaluation is due, so a run's first step does not wait for it to compile. Universal: no DOM here.

import {
  Classifier, TrainStep, trainLoop, type EpochRecord, type GpuContext, type LoopResult, type ModelSpec, type Program, type Subset, type TuneMode,
} from '../../index.ts';
import type { TuneStore } from '../../core/runtime/tune.ts';
import type { MatmulChooser } from '../../../codegen/compile.ts';

export type Weights = Map<string, Float32Array>;

import type { Baton } from './baton.ts';


export interface RunSettings {
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly minLr: number;
  readonly warmupLr: number;
  readonly warmupEpochs: number;
  readonly seed: number;
  /** Held-out accuracy every this many steps (0: only at the end of each epoch). */
  readonly evalEverySteps: number;
  /** Read the loss back every this many steps (1: every step, exact per-step timing). */
  readonly logEvery: number;
  /** Random shifts of the training images by up to this many pixels (0: none). */
  readonly augmentShift: number;
}

export interface RunnerEvents {
  onStep?(r: Runner, info: { step: number; epoch: number; stepInEpoch: number; stepsPerEpoch: number; loss?: number; lr: number; seconds: number }): void;
  onAccuracy?(r: Runner, info: { step: number; accuracy: number; images: number; seconds: number; epochEnd: boolean }): void;
  onEpoch?(r: Runner, record: EpochRecord): void;
  onEvaluating?(r: Runner, done: number, total: number): void;
  /** The loop ended: finished, stopped, or failed (error set). */
  onEnd?(r: Runner, result: LoopResult | undefined, error: unknown): void;
}

export interface CompileReport {
  readonly what: string;
  readonly kernels: number;
  readonly distinct: number;
  /** Graph -> plan -> WGSL (JavaScript), and creating the buffers. */
  readonly planMs: number;
  /** Matmul variant tuning, when the program did it (a search on the device; its choices are stored per adapter). */
  readonly tune?: { readonly ms: number; readonly searched: number; readonly where: string };
  /** createComputePipelineAsync for every kernel (cached per device and kernel code). */
  readonly pipelineMs: number;
  /** One dispatch of every kernel: drivers that compile at first use (SwiftShader, lavapipe) do it here. */
  readonly warmupMs: number;
  readonly totalMs: number;
  readonly bytes: number;
}

/** Where a program's compile time went (tuning read duck-typed: it is optional in Program). */
function reportOf(program: Program, what: string, createMs: number, warmupMs: number): CompileReport {
  const t = (program as { tuneResult?: { ms?: unknown; searched?: unknown; where?: unknown } }).tuneResult;
  const tune = t && typeof t.ms === 'number' ? { ms: t.ms, searched: Number(t.searched) || 0, where: String(t.where ?? '') } : undefined;
  return {
    what, kernels: program.plan.kernels.length, distinct: program.plan.uniqueKernels,
    planMs: Math.max(0, createMs - program.pipelineMs - (tune?.ms ?? 0)), tune, pipelineMs: program.pipelineMs, warmupMs,
    totalMs: createMs + warmupMs, bytes: program.memoryBytes,
  };
}

/** How the page compiles: matmul tuning and where its choices persist, and a hook before the first dispatch. */
export interface PageCompileOptions {
  /** Default 'off' (the library's default). */
  readonly tune?: TuneMode;
  readonly tuneStore?: TuneStore;
  /** Matmul variants chosen per kernel signature (compile's option; tuning is then skipped), with the key that caches its plans. */
  readonly matmulVariant?: MatmulChooser;
  readonly variantKey?: string;
  /** Called when the pipelines are ready and the first dispatch (warm-up) starts. */
  readonly onWarmup?: () => void;
}

/** What of the page's options goes to compile. */
const programOptions = (o: PageCompileOptions) => ({ tune: o.tune ?? 'off', tuneStore: o.tuneStore, matmulVariant: o.matmulVariant, variantKey: o.variantKey });

/** Compiles a training step and reports where the time went. */
export async function compileTrainStep(ctx: GpuContext, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, optimizerState: ReadonlyMap<string, Float32Array> | undefined, what: string, opts: PageCompileOptions = {}): Promise<{ step: TrainStep; report: CompileReport }> {
  const t0 = performance.now();
  const step = await TrainStep.create(ctx, spec, weights, { optimizerState, ...programOptions(opts) });
  const createMs = performance.now() - t0;
  opts.onWarmup?.();
  const warmupMs = await step.program.warmup();
  return { step, report: reportOf(step.program, what, createMs, warmupMs) };
}

/** Compiles an inference classifier and reports where the time went. */
export async function compileClassifier(ctx: GpuContext, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, mergeOutputs: boolean, what: string, opts: PageCompileOptions = {}): Promise<{ classifier: Classifier; report: CompileReport }> {
  const t0 = performance.now();
  const classifier = await Classifier.create(ctx, spec, weights, { mergeOutputs, ...programOptions(opts) });
  const createMs = performance.now() - t0;
  opts.onWarmup?.();
  const warmupMs = await classifier.program.warmup();
  return { classifier, report: reportOf(classifier.program, what, createMs, warmupMs) };
}

/**
 * One variant's training: a TrainStep and trainLoop. The evaluator (the variant's held-out
 * classifier) is borrowed, not owned: it outlives the run. It is asked for when an evaluation is
 * due (its owner may still be compiling it when the run starts).
 */
export class Runner {
  stopping = false;
  /** Steps taken (including those before a re-specialisation). */
  step = 0;
  history: EpochRecord[] = [];
  /** Mean seconds per step over the run (excluding evaluation). */
  trainSeconds = 0;
  trainImages = 0;
  private turnAt = 0;
  private loop: Promise<LoopResult | undefined> | undefined;
  /** Resolves when stop() is called: a wait for the evaluator gives up then. */
  private stopSignal: Promise<undefined> = new Promise(() => {});
  private signalStop = () => {};

  constructor(
    readonly id: string,
    public spec: ModelSpec,
    public trainStep: TrainStep,
    public evaluator: () => Promise<Classifier>,
    private readonly baton: Baton,
    private readonly data: { train: Subset; test: Subset },
    private readonly settings: RunSettings,
    private readonly events: RunnerEvents,
  ) {}

  get stepsPerEpoch(): number {
    return Math.floor(this.data.train.indices.length / this.settings.batch);
  }
  get totalSteps(): number {
    return this.stepsPerEpoch * this.settings.epochs;
  }
  get finished(): boolean {
    return this.step >= this.totalSteps;
  }
  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Joins the baton; the loop starts when it gets the turn. Resolves when the loop ends. */
  start(): Promise<LoopResult | undefined> {
    if (this.loop) return this.loop;
    this.stopping = false;
    this.stopSignal = new Promise((r) => (this.signalStop = () => r(undefined)));
    let resolveLoop!: (r: LoopResult | undefined) => void;
    this.loop = new Promise((r) => (resolveLoop = r));
    this.baton.join(this.id, () => {
      this.turnAt = performance.now();
      void this.runLoop().then(resolveLoop);
    });
    return this.loop;
  }

  /** Stops at the next step boundary; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.baton.release(this.id);
    await this.loop;
  }

  /** Trainable parameters and AdamW moments (waits for the GPU). */
  state(): Promise<Weights> {
    return this.trainStep.state();
  }

  private async runLoop(): Promise<LoopResult | undefined> {
    const s = this.settings;
    const data = this.data;
    let result: LoopResult | undefined;
    let error: unknown;
    try {
      // No evaluator for trainLoop: the epoch-end evaluation is this runner's own (onEpoch), on an evaluator that may arrive late.
      result = await trainLoop(this.trainStep, data, undefined, {
        epochs: s.epochs, batch: s.batch,
        schedule: { lr: s.lr, minLr: s.minLr, warmupLr: s.warmupLr, warmupEpochs: s.warmupEpochs, epochs: s.epochs },
        scheduleMode: 'step', seed: s.seed, logEvery: s.logEvery, evalEvery: 1, startStep: this.step, augmentShift: s.augmentShift,
      }, {
        shouldStop: () => this.stopping,
        onStep: async (info) => {
          const seconds = (performance.now() - this.turnAt) / 1000;
          this.step = info.step;
          this.trainSeconds += seconds;
          this.trainImages += s.batch;
          this.events.onStep?.(this, { ...info, seconds });
          if (s.evalEverySteps > 0 && info.step % s.evalEverySteps === 0 && info.stepInEpoch !== info.stepsPerEpoch && !this.stopping) {
            await this.evaluate(false);
          }
          await this.baton.pass(this.id);
          this.turnAt = performance.now();
        },
        onEpoch: async (record, step) => {
          this.step = step;
          if (!this.stopping) record.testAccuracy = await this.evaluate(true);
          this.events.onEpoch?.(this, record);
          this.turnAt = performance.now();
        },
      }, this.history);
      this.step = result.step;
    } catch (e) {
      error = e;
    } finally {
      this.loop = undefined;
      this.baton.leave(this.id);
    }
    this.events.onEnd?.(this, result, error);
    return result;
  }

  /** Held-out accuracy of the current weights (the evaluator gets them first); undefined when stopped meanwhile. */
  async evaluate(epochEnd: boolean): Promise<number | undefined> {
    this.events.onEvaluating?.(this, 0, this.data.test.indices.length);
    let evaluator: Classifier | undefined;
    try {
      // The evaluator may still be compiling behind the operation that stops this run: never wait for it then.
      evaluator = await Promise.race([this.evaluator(), this.stopSignal]);
    } catch (e) {
      if (this.stopping) return undefined;
      throw e;
    }
    if (!evaluator || this.stopping) return undefined;
    evaluator.setWeights(await this.trainStep.trainableWeights());
    const r = await evaluator.evaluate(this.data.test, { onBatch: (d, t) => this.events.onEvaluating?.(this, d, t), shouldStop: () => this.stopping });
    if (r.stopped) return undefined;
    this.events.onAccuracy?.(this, { step: this.step, accuracy: r.accuracy, images: r.images, seconds: r.seconds, epochEnd });
    return r.accuracy;
  }

  destroy(): void {
    this.trainStep.destroy();
  }
}
