// The page's GPU side, in its dedicated worker: the device, the data, both variants with their
// compiled programs, the run in progress and the queue that orders GPU work. The parts (device,
// training, merge, inference, speed, files) each hold this and tell the page what changed
// through `emit` (src/frontends/web/protocol.ts). No DOM here: the page thread only draws.

import { initialWeights, isCpuAdapter, type Classifier, type GpuContext, type ModelSpec, type Weights } from '../../../index.ts';
import type { TuneMode, TuneStore } from '../../../core/runtime/tune.ts';
import type { WebManifest } from '../build.ts';
import { decodeDataPack, type DataPack } from '../data-pack.ts';
import type { EngineEvent, Flags, Origin, Picture, Settings, VariantView } from '../protocol.ts';
import { Baton } from '../baton.ts';
import { compileClassifier, type PageCompileOptions, type Runner } from '../trainer.ts';
import { TRAINING, VARIANTS, modelSpec, specLabel, type MergeChoice, type VariantId } from '../variants.ts';
import { CompileTracker } from './compile-progress.ts';
import { GpuQueue } from './gpu-queue.ts';
import { COMPILE_FRIENDLY } from './matmul-choice.ts';
import { ShippedAdapters } from './shipped.ts';

/** One model: its weights, its compiled programs and where its weights come from. */
export interface Variant {
  readonly id: VariantId;
  /** The inference model (batch 1). */
  spec: ModelSpec;
  /** Every parameter: the backbone and the current adapters / head (shipped, fresh, trained or loaded). */
  weights: Weights;
  origin: Origin;
  source: string;
  /** The merge the weights were trained for (JSON of spec.merge; absent: untrained). */
  trainedMerge?: string;
  /** A shipped model's short description (the table's cell). */
  shippedShort?: string;
  /** Optimizer steps the current weights had. */
  step: number;
  /** Batch 1, for the picture on the pad (FPET: with merge outputs, for the merge map). */
  interactive?: Classifier;
  /** Batch `evalBatch`: held-out accuracy and the inference-speed test (being compiled while `evaluatorBuild` is pending). */
  evaluator?: Classifier;
  evaluatorBuild?: Promise<Classifier>;
  runner?: Runner;
  lastCompile?: { train?: number; infer?: number };
}

const freshVariant = (id: VariantId): Variant => ({ id, spec: modelSpec(id, 1, undefined, 10), weights: new Map(), origin: 'fresh', source: 'loading…', step: 0 });

/** The worker's shared state and the operations on its models that several parts need. */
export class Engine {
  ctx: GpuContext | undefined;
  /** Bumped when the device is replaced: work started for an older device stops quietly. */
  generation = 0;
  manifest!: WebManifest;
  backbone!: Weights;
  pack!: DataPack;
  private readonly packs = new Map<string, Promise<DataPack>>();
  shipped!: ShippedAdapters;
  readonly variants: Record<VariantId, Variant> = { base: freshVariant('base'), fpet: freshVariant('fpet') };
  baton = new Baton();
  settingsInRun: Settings | undefined;
  /** The merge block and ratio in the page's form. */
  merge: MergeChoice = { mergeBlock: 3, mergeRatio: 0.5 };
  picture: Picture | undefined;
  state = 'loading';
  /** What the status line says while the run trains (shown again after an operation in between). */
  runStatus = '';
  tune: TuneMode = 'off';
  tuneStore: TuneStore | undefined;
  readonly queue = new GpuQueue({ busyChanged: () => this.sendFlags(), status: (s) => this.status(s), device: () => this.ctx?.device });
  readonly tracker: CompileTracker;

  constructor(readonly emit: (e: EngineEvent) => void) {
    this.tracker = new CompileTracker((progress) => emit({ kind: 'compile', progress }));
  }

  status(text: string): void {
    this.emit({ kind: 'status', text });
  }
  banner(text: string, tone: 'info' | 'error' | 'ok' = 'info'): void {
    this.emit({ kind: 'banner', text, tone });
  }
  setState(state: string): void {
    this.state = state;
    this.sendFlags();
  }

  get running(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner?.running);
  }
  get hasRun(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner !== undefined);
  }
  /** During a run, the status again after an operation's own: paused (each model's step) or training. */
  showRunStatus(): void {
    if (!this.running) return;
    this.status(this.baton.paused ? `paused: ${this.runners().map((r) => `${specLabel(this.variantOf(r).spec)} at step ${r.step}`).join(', ')}` : this.runStatus);
  }
  /** The runners of the current run, in the page's order. */
  runners(): Runner[] {
    return VARIANTS.map((id) => this.variants[id].runner).filter((r): r is Runner => !!r);
  }
  /** The variant a runner trains. */
  variantOf(r: Runner): Variant {
    return this.variants[r.id as VariantId];
  }

  /** Tells the page what its buttons depend on (after every change of state). */
  sendFlags(): void {
    const flags: Flags = {
      state: this.state, gpu: this.ctx !== undefined, busy: this.queue.busy, running: this.running, hasRun: this.hasRun, paused: this.baton.paused,
      resettable: this.hasRun || VARIANTS.some((id) => this.variants[id].origin !== this.shipped?.originFor(this.pack?.dataset.name, id)),
    };
    this.emit({ kind: 'flags', flags });
  }

  /** Tells the page the variant's name, which weights answer, its tokens and compile times. */
  showVariant(v: Variant): void {
    const m = v.spec.merge;
    const moved = v.trainedMerge !== undefined && v.origin !== 'training' && v.trainedMerge !== JSON.stringify(m ?? null) && m?.kind === 'fpet';
    const short = v.origin === 'shipped' ? v.shippedShort ?? 'shipped' : v.origin === 'fresh' ? 'fresh adapters (untrained)' : v.origin === 'training' ? `training here, step ${v.runner?.step ?? v.step}` : v.origin === 'trained' ? `trained here, ${v.step} steps` : v.source;
    const view: VariantView = {
      id: v.id, label: specLabel(v.spec), origin: v.origin, step: v.step, short,
      source: moved ? `${v.source}; now merging in block ${m.blocks.join(',')} at ratio ${m.ratio}, which it was not trained for` : v.source,
      tokens: v.interactive?.model.tokenCounts.map((t) => t.mlp), compile: v.lastCompile,
    };
    this.emit({ kind: 'variant', view });
  }

  /** A data pack, fetched once (a failed fetch is tried again next time). */
  loadPack(name: string): Promise<DataPack> {
    let p = this.packs.get(name);
    if (!p) {
      const entry = this.manifest.datasets.find((d) => d.name === name);
      if (!entry) throw new Error(`no data set ${name}`);
      p = fetchBytes(`assets/${entry.file}`).then((b) => decodeDataPack(b, entry.file));
      p.catch(() => this.packs.delete(name));
      this.packs.set(name, p);
    }
    return p;
  }

  /** A variant's model for the current data pack. */
  specFor(id: VariantId, batch: number, s?: MergeChoice): ModelSpec {
    return modelSpec(id, batch, this.pack?.dataset.name, this.pack?.dataset.classes.length ?? 10, s);
  }

  /**
   * The weights a variant has at first sight for the current data set: the main job's trained
   * adapters where the page ships them, else fresh adapters (an untrained head) for the merge
   * choice in the form.
   */
  async firstSight(v: Variant): Promise<void> {
    const shipped = await this.shipped.load(this.pack.dataset.name, v.id, this.backbone);
    if (shipped) {
      Object.assign(v, { spec: shipped.spec, weights: new Map(shipped.weights), origin: 'shipped', source: shipped.source, shippedShort: shipped.short, step: shipped.step, trainedMerge: JSON.stringify(shipped.spec.merge ?? null) });
    } else {
      v.spec = this.specFor(v.id, 1, this.merge);
      v.weights = initialWeights(v.spec, TRAINING.seed, this.backbone);
      Object.assign(v, { origin: 'fresh', source: 'fresh adapters, untrained: press Start to train them', step: 0, trainedMerge: undefined });
    }
  }

  /**
   * How the worker compiles: on a hardware GPU with matmul tuning; on a software adapter with
   * matmul variants chosen for compile time (matmul-choice.ts); and the hook that marks the first dispatch.
   */
  compileOptions(warmup: () => void): PageCompileOptions {
    const software = this.ctx !== undefined && isCpuAdapter(this.ctx);
    return { tune: this.tune, tuneStore: this.tuneStore, onWarmup: warmup, ...(software ? COMPILE_FRIENDLY : {}) };
  }

  /** (Re)compiles a variant's batch-1 classifier for its spec, with its weights. */
  async buildInteractive(v: Variant, why: string, queued = 0): Promise<void> {
    const ctx = this.ctx!;
    v.interactive?.destroy();
    v.interactive = undefined;
    const what = `${specLabel(v.spec)}: inference, batch 1 (${why})`;
    const { classifier, report } = await this.tracker.track(what, queued, (w) => compileClassifier(ctx, v.spec, v.weights, v.spec.merge !== undefined, what, this.compileOptions(w)));
    if (this.ctx !== ctx) return classifier.destroy();
    v.interactive = classifier;
    v.lastCompile = { ...v.lastCompile, infer: report.totalMs };
    this.emit({ kind: 'compiled', report });
    this.showVariant(v);
  }

  /** (Re)compiles a variant's evaluation classifier (held-out accuracy and the speed test) for a batch. */
  buildEvaluator(v: Variant, batch: number, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>, queued = 0): Promise<Classifier> {
    const ctx = this.ctx!;
    v.evaluator?.destroy();
    v.evaluator = undefined;
    const what = `${specLabel(spec)}: evaluation, batch ${batch}`;
    const build = this.tracker.track(what, queued, (w) => compileClassifier(ctx, { ...spec, batch, training: undefined }, weights, false, what, this.compileOptions(w))).then(({ classifier, report }) => {
      if (v.evaluatorBuild !== build) {
        classifier.destroy();
        throw new Error('the evaluator was replaced while it compiled');
      }
      v.evaluator = classifier;
      this.emit({ kind: 'compiled', report });
      return classifier;
    });
    v.evaluatorBuild = build;
    build.catch(() => undefined);
    return build;
  }

  /**
   * The variant's evaluator: the one compiled or being compiled, else one compiled in the queue's
   * next free turn (a run asks for it when its first evaluation is due; never from inside an
   * exclusive operation, which would wait for itself).
   */
  queueEvaluator(v: Variant, batch: number, spec: ModelSpec): Promise<Classifier> {
    if (v.evaluatorBuild) return v.evaluatorBuild;
    const build: Promise<Classifier> = this.queue.exclusive('compiling the held-out evaluators…', async () => {
      // Replaced or dropped meanwhile: nothing to compile in this turn (a replacement queued after it
      // must not be awaited inside it: the queue would wait for itself).
      if (v.evaluatorBuild !== build) return undefined;
      const c = await this.buildEvaluator(v, batch, spec, v.weights);
      this.showRunStatus();
      return c;
    }).then((c) => c ?? (v.evaluatorBuild && v.evaluatorBuild !== build ? v.evaluatorBuild : Promise.reject(new Error('the evaluator was dropped before it compiled'))));
    v.evaluatorBuild = build;
    build.catch(() => undefined);
    return build;
  }

  /** Destroys a variant's evaluator (and forgets one being compiled: it is destroyed when it arrives). */
  dropEvaluator(v: Variant): void {
    v.evaluator?.destroy();
    v.evaluator = undefined;
    v.evaluatorBuild = undefined;
  }

  /** A run ended early (reset, a new run, a lost device): its weights stay, described as what they are. */
  trainingStopped(v: Variant): void {
    if (v.origin !== 'training') return;
    Object.assign(v, { origin: 'trained', trainedMerge: JSON.stringify(v.spec.merge ?? null), source: `trained here: ${v.step} steps from the backbone (the run was stopped)` });
  }

  /** The variant's current trainable weights: from its training step when it has one, else its snapshot. */
  async currentWeights(v: Variant): Promise<Weights> {
    if (v.runner && this.ctx) {
      const w = await v.runner.trainStep.trainableWeights();
      for (const [k, x] of w) v.weights.set(k, x);
      v.step = v.runner.step;
    }
    return v.weights;
  }
}

/** The bytes at a URL; an HTTP error throws. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
