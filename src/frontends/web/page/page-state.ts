// What every part of the page shares: the GPU device, the data, both variants with their compiled
// programs, the run in progress and the queue that orders GPU work. The parts (device, training,
// merge, classifier, speed, adapters) each hold this and nothing of each other unless they must.

import { initialWeights, type Classifier, type GpuContext, type ModelSpec, type Weights } from '../../../index.ts';
import type { WebManifest } from '../build.ts';
import { decodeDataPack, type DataPack } from '../data-pack.ts';
import { Baton, compileClassifier, type Runner } from '../trainer.ts';
import { setButtons } from './buttons.ts';
import { logCompile } from './compile-log.ts';
import { status } from './dom.ts';
import { GpuQueue } from './gpu-queue.ts';
import { chosenMerge, type Settings } from './settings.ts';
import { TRAINING, VARIANTS, freshVariant, label, modelSpec, showVariant, type MergeChoice, type Variant, type VariantId } from './variants.ts';

/** The page's shared state and the operations on its models that several parts need. */
export class PageState {
  ctx: GpuContext | undefined;
  /** Bumped when the device is replaced: work started for an older device stops quietly. */
  generation = 0;
  manifest!: WebManifest;
  backbone!: Weights;
  private readonly packs = new Map<string, Promise<DataPack>>();
  pack!: DataPack;
  readonly variants: Record<VariantId, Variant> = { base: freshVariant('base'), fpet: freshVariant('fpet') };
  baton = new Baton();
  settingsInRun: Settings | undefined;
  readonly queue = new GpuQueue({ busyChanged: () => this.updateButtons(), status, device: () => this.ctx?.device });

  get running(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner?.running);
  }
  get hasRun(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner !== undefined);
  }
  /** The runners of the current run, in the page's order. */
  runners(): Runner[] {
    return VARIANTS.map((id) => this.variants[id].runner).filter((r): r is Runner => !!r);
  }
  /** The variant a runner trains. */
  variantOf(r: Runner): Variant {
    return this.variants[r.id as VariantId];
  }

  /** Enables the buttons that make sense now (after every change of state). */
  updateButtons(): void {
    setButtons({
      gpu: this.ctx !== undefined, busy: this.queue.busy, running: this.running, hasRun: this.hasRun, paused: this.baton.paused,
      resettable: this.hasRun || VARIANTS.some((id) => this.variants[id].step > 0 || this.variants[id].source.startsWith('loaded')),
    });
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
    return modelSpec(id, batch, this.pack, s);
  }

  /** Fresh adapters and head for the variant, for the merge choice in the form. */
  resetVariantWeights(v: Variant): void {
    v.spec = this.specFor(v.id, 1, chosenMerge());
    v.weights = initialWeights(v.spec, TRAINING.seed, this.backbone);
    v.source = 'fresh adapters (untrained head)';
    v.step = 0;
    showVariant(v);
  }

  /** (Re)compiles a variant's batch-1 classifier for its spec, with its weights. */
  async buildInteractive(v: Variant, why: string): Promise<void> {
    const ctx = this.ctx!;
    v.interactive?.destroy();
    v.interactive = undefined;
    const { classifier, report } = await compileClassifier(ctx, v.spec, v.weights, v.spec.merge !== undefined, `${label(v)} inference, batch 1 (${why})`);
    v.interactive = classifier;
    v.lastCompile = { ...v.lastCompile, infer: report.totalMs };
    logCompile(report);
    showVariant(v);
  }

  /** (Re)compiles a variant's evaluation classifier (held-out accuracy and the speed test) for a batch. */
  async buildEvaluator(v: Variant, batch: number, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>): Promise<Classifier> {
    v.evaluator?.destroy();
    v.evaluator = undefined;
    const { classifier, report } = await compileClassifier(this.ctx!, { ...spec, batch, training: undefined }, weights, false, `${label(v)} evaluation, batch ${batch}`);
    v.evaluator = classifier;
    logCompile(report);
    return classifier;
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
