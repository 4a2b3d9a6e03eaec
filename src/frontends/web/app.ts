// The web page: FPET trained and run live on WebGPU in the browser, from the same modules as the
// command line (src/index.ts: graph IR, code generator, kernels, models, TrainStep, trainLoop,
// Classifier, merge maps, safetensors). Only the device differs: requestGpu() finds navigator.gpu.
//
// What it does: shows the adapter; trains AdaptFormer with and without FPET side by side (runners
// taking turns step by step, src/frontends/web/trainer.ts) with live loss / accuracy charts, pause, resume
// and reset; re-specialises the FPET kernels when the merge block or ratio changes (compile time
// shown); classifies a drawn digit, an uploaded picture or a held-out image with the top 3 classes
// of both models and FPET's merge map; times inference of both side by side; downloads the trained
// adapters in the CLI's format and loads CLI-trained ones. A lost device is reported and the GPU
// re-initialised without a reload; every program is destroyed when it is replaced, so resets and
// re-runs do not grow GPU memory (the header shows the context's live buffer bytes).

import {
  Classifier, DEFAULT_MERGE, DEFAULT_PET, MNIST_DIGIT_BOX, VIT_PRESETS, decodeAdapters, decodeBackbone, encodeAdapters, initialWeights, isCpuAdapter, mergeMapSvg, mergeSchedule, requestGpu,
  type GpuContext, type MergeMap, type ModelSpec, type Weights,
} from '../../index.ts';
import { decodeDataPack, firstOf, type DataPack } from './data-pack.ts';
import { SHIPPED_BACKBONE } from '../../fpet/train/model-files.ts';
import { Baton, Runner, compileClassifier, compileTrainStep, type CompileReport, type RunSettings } from './trainer.ts';
import { LineChart } from './ui/chart.ts';
import { DrawPad, paintGrey } from './ui/draw-pad.ts';
import { pictureToInput } from './ui/image-input.ts';
import type { WebManifest } from './build.ts';

type VariantId = 'base' | 'fpet';
const VARIANTS: readonly VariantId[] = ['base', 'fpet'];
const COLOURS: Record<VariantId, string> = { base: '#4363d8', fpet: '#e8731a' };
/**
 * The main job's recipe (`npm start -- transfer`): adapter dropout, no DropPath (the backbone is
 * frozen), schedule ends, seed; on MNIST the models see the central 20×20 (specFor).
 */
const TRAINING = { dropout: 0.1, dropPath: 0, minLr: 1e-5, warmupLr: 1e-6, seed: 0 } as const;
const VIT = VIT_PRESETS['vit-mnist'];
const IMAGE = VIT.imageSize;

// ---------------------------------------------------------------------------------------------
// DOM helpers

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
const text = (id: string, s: string) => ($(id).textContent = s);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const pct = (a: number) => `${(100 * a).toFixed(1)}%`;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 600);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function banner(message: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
  const b = $('banner');
  b.hidden = message === '';
  b.className = `banner ${kind === 'info' ? '' : kind}`;
  b.textContent = message;
}

function compileLog(line: string): void {
  const log = $('compile-log');
  log.append(el('li', {}, `${new Date().toLocaleTimeString()}  ${line}`));
  log.scrollTop = log.scrollHeight;
}

// The matmul tuner (when the program used it) compiles the pipelines it needs itself, so its time
// and the pipelines' are shown together.
const describeReport = (r: CompileReport) =>
  `${r.what}: ${r.kernels} kernels (${r.distinct} distinct) in ${secs(r.totalMs)}: graph + WGSL ${secs(r.planMs)}, ` +
  `pipelines ${secs(r.pipelineMs + (r.tune?.ms ?? 0))}${r.tune ? ` (with matmul tuning: ${r.tune.searched} shapes searched${r.tune.where ? `, choices kept in ${r.tune.where}` : ''})` : ''}` +
  `, first dispatch ${secs(r.warmupMs)}; ${mib(r.bytes)}`;

// ---------------------------------------------------------------------------------------------
// Why there is no WebGPU, and what to do

function noWebGpu(why: string, what: string[]): void {
  document.body.dataset.state = 'no-webgpu';
  $('main').hidden = true;
  const box = $('no-webgpu');
  box.hidden = false;
  text('no-webgpu-why', why);
  const list = $('no-webgpu-what');
  list.replaceChildren(el('p', {}, 'What to do:'), el('ul', {}, ...what.map((w) => el('li', {}, w))));
  text('adapter', 'none');
  text('adapter-class', '–');
}

const CHROMIUM_FLAGS = 'chromium --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader --use-webgpu-adapter=swiftshader';

/** Checks that WebGPU can be used here; shows the reason and returns false when not. */
function checkWebGpu(): boolean {
  if (!window.isSecureContext) {
    noWebGpu(`This page was opened from ${location.origin}, which is not a secure context, and browsers only offer WebGPU to secure contexts.`, [
      `Open it as http://localhost:${location.port || '80'}/ (what npm start -- serve prints), or from 127.0.0.1, or serve it over HTTPS.`,
      'A LAN address or another host name over plain HTTP is not secure: tunnel it (ssh -L 8080:localhost:8080 host) and open localhost.',
    ]);
    return false;
  }
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGpu('This browser does not offer WebGPU (navigator.gpu is missing).', [
      'Use a browser with WebGPU: Chrome or Edge 113 or later on Windows, macOS and ChromeOS (Chrome 121+ on Android), Safari 26, or Firefox 141+ on Windows.',
      'On Linux, Chrome needs WebGPU switched on: chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan, or start it with --enable-unsafe-webgpu --enable-features=Vulkan.',
      `Without a GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
    ]);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Page state

interface Variant {
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

interface Settings extends RunSettings {
  readonly dataset: string;
  readonly trainSize: number;
  readonly testSize: number;
  readonly evalBatch: number;
  readonly variants: VariantId[];
  readonly mergeBlock: number;
  readonly mergeRatio: number;
}

interface CurrentPicture {
  pixels: Float32Array;
  caption: string;
  label?: number;
  /** Numbers pictures in order; the predictions and merge map shown carry it (data-picture). */
  id?: number;
}

class Page {
  ctx: GpuContext | undefined;
  /** Bumped when the device is replaced: work started for an older device stops quietly. */
  generation = 0;
  manifest!: WebManifest;
  backbone!: Weights;
  readonly packs = new Map<string, Promise<DataPack>>();
  pack!: DataPack;
  readonly variants: Record<VariantId, Variant>;
  baton = new Baton();
  settingsInRun: Settings | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exclusiveDepth = 0;
  private inferring: Promise<void> | undefined;
  private inferAgain = false;
  picture: CurrentPicture | undefined;
  lastMergeMap: MergeMap | undefined;
  pictures = 0;
  simulatedLoss = false;
  deviceLosses = 0;
  readonly pad: DrawPad;
  readonly lossChart: LineChart;
  readonly accChart: LineChart;
  private mergeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const fresh = (id: VariantId): Variant => ({ id, spec: this.specFor(id, 1), weights: new Map(), source: 'fresh adapters', step: 0, loss: [], acc: [] });
    this.variants = { base: fresh('base'), fpet: fresh('fpet') };
    this.pad = new DrawPad($<HTMLCanvasElement>('pad'));
    this.lossChart = new LineChart($<HTMLCanvasElement>('loss-chart'), { yFormat: (v) => v.toFixed(v < 1 ? 2 : 1), xLabel: 'step', empty: 'press Start: the loss of every step appears here' });
    this.accChart = new LineChart($<HTMLCanvasElement>('acc-chart'), { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`, xLabel: 'step', empty: 'held-out accuracy, measured while training' });
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  readSettings(): Settings {
    const num = (id: string) => Number(($(id) as HTMLInputElement | HTMLSelectElement).value);
    const epochs = Math.max(1, Math.min(100, Math.round(num('epochs')) || 1));
    const variants = VARIANTS.filter((v) => ($<HTMLInputElement>(`use-${v}`)).checked);
    return {
      dataset: $<HTMLSelectElement>('dataset').value,
      trainSize: num('train-size'), testSize: num('test-size'), batch: num('batch'), evalBatch: num('eval-batch'),
      epochs, lr: Math.max(1e-6, num('lr') || 5e-3), minLr: TRAINING.minLr, warmupLr: TRAINING.warmupLr,
      // As the CLI: 10% of the epochs (at least one tenth of an epoch here, so short runs learn at once).
      warmupEpochs: Math.max(0.1, epochs / 10), seed: TRAINING.seed,
      evalEverySteps: Math.max(0, Math.round(num('eval-every')) || 0), logEvery: 1,
      variants, mergeBlock: num('merge-block'), mergeRatio: num('merge-ratio'),
    };
  }

  specFor(id: VariantId, batch: number, s?: { mergeBlock: number; mergeRatio: number }): ModelSpec {
    const block = s?.mergeBlock ?? Math.floor(VIT.depth / 2);
    const ratio = s?.mergeRatio ?? DEFAULT_MERGE.ratio;
    return {
      vit: { ...VIT, numClasses: this.pack?.dataset.classes.length ?? VIT.numClasses },
      batch,
      pet: { ...DEFAULT_PET.adaptformer },
      merge: id === 'fpet' ? { ...DEFAULT_MERGE, blocks: [block], ratio } : undefined,
      // As the main job: the Fashion-MNIST backbone sees MNIST digits at its own object scale.
      ...(this.pack?.dataset.name === 'mnist' ? { inputCrop: MNIST_DIGIT_BOX } : {}),
    };
  }

  get running(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner?.running);
  }
  get hasRun(): boolean {
    return VARIANTS.some((v) => this.variants[v].runner !== undefined);
  }

  /** Runs fn after every earlier exclusive operation (compiles, re-specialisation, loading); one at a time. */
  exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.exclusiveDepth++;
      this.updateButtons();
      this.status(what);
      try {
        await this.inferring; // never destroy a program an inference is using
        return await fn();
      } finally {
        this.exclusiveDepth--;
        this.updateButtons();
        if (this.exclusiveDepth === 0 && this.inferAgain) {
          this.inferAgain = false;
          this.requestInference();
        }
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Resolves when no exclusive operation is queued and no inference is in flight. */
  async settled(): Promise<void> {
    for (;;) {
      await this.queue;
      await this.inferring;
      await this.ctx?.device.queue.onSubmittedWorkDone().catch(() => undefined);
      if (this.exclusiveDepth === 0 && !this.inferring && !this.inferAgain) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  status(s: string): void {
    text('status', s);
  }

  // -------------------------------------------------------------------------------------------
  // Boot

  async boot(): Promise<void> {
    document.body.dataset.state = 'loading';
    this.bindControls();
    if (!checkWebGpu()) return;
    this.status('loading the backbone and data…');
    const manifestRes = await fetch('assets/manifest.json');
    if (!manifestRes.ok) throw new Error(`assets/manifest.json: HTTP ${manifestRes.status} (was the page built with npm run build:web?)`);
    this.manifest = (await manifestRes.json()) as WebManifest;
    const select = $<HTMLSelectElement>('dataset');
    select.replaceChildren(...this.manifest.datasets.map((d) => el('option', { value: d.name }, `${d.label} (${d.train} + ${d.test})`)));
    const [backboneBytes] = await Promise.all([
      fetchBytes(`assets/${this.manifest.backbone.file}`),
      this.loadPack(select.value).then((p) => (this.pack = p)),
    ]);
    this.backbone = decodeBackbone(backboneBytes, VIT, this.manifest.backbone.file);
    for (const id of VARIANTS) this.resetVariantWeights(this.variants[id]);
    await this.initGpu();
    this.applySoftwareDefaults();
    this.describeMerge();
    this.status(`ready: press Start training, or draw a digit${isCpuAdapter(this.ctx!) ? ' (software adapter: smaller defaults chosen)' : ''}`);
    document.body.dataset.state = 'ready';
    $('main').setAttribute('aria-busy', 'false');
    this.updateButtons();
    this.showMemory();
    setInterval(() => this.showMemory(), 400);
    this.showHeldOut(0);
  }

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

  /** Smaller defaults on a software adapter (the GPU work runs on the CPU). */
  applySoftwareDefaults(): void {
    if (!this.ctx || !isCpuAdapter(this.ctx)) return;
    $<HTMLSelectElement>('batch').value = '8';
    $<HTMLSelectElement>('test-size').value = '100';
    $<HTMLSelectElement>('eval-batch').value = '16';
    $<HTMLInputElement>('eval-every').value = '10';
    $<HTMLInputElement>('epochs').value = '1';
  }

  async initGpu(): Promise<void> {
    const gen = ++this.generation;
    this.status('asking for a GPU device…');
    let ctx: GpuContext;
    try {
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) {
        noWebGpu('WebGPU is present, but the browser offered no adapter: the GPU may be blocklisted or WebGPU switched off (chrome://gpu says why).', [
          'Update the GPU driver, or switch on chrome://flags/#enable-unsafe-webgpu (Chrome / Edge) and restart the browser.',
          `Without a usable GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
        ]);
        throw new Error('no WebGPU adapter');
      }
      ctx = await requestGpu({ label: 'fpet-page' });
    } catch (e) {
      if (document.body.dataset.state !== 'no-webgpu') {
        noWebGpu(`Could not get a WebGPU device: ${errText(e)}`, ['Reload the page; if it persists, restart the browser or update the GPU driver.']);
      }
      throw e;
    }
    this.ctx = ctx;
    const info = ctx.info;
    const software = isCpuAdapter(ctx);
    const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' / ') || 'unknown';
    $('adapter').replaceChildren(`${info.description || name}${info.description ? ` (${name})` : ''}`);
    $('adapter-class').replaceChildren(el('span', { class: `badge ${software ? 'soft' : 'hard'}` }, software ? 'software adapter (runs on the CPU)' : 'hardware GPU'));
    $('adapter').dataset.software = String(software);
    text('device-detail', `runtime ${info.runtime}; features [${info.features.join(', ')}]; storage buffers/stage ${info.limits.maxStorageBuffersPerShaderStage}; workgroup storage ${info.limits.maxComputeWorkgroupStorageSize} B; invocations/workgroup ${info.limits.maxComputeInvocationsPerWorkgroup}${info.subgroupSize ? `; subgroup size ${info.subgroupSize}` : ''}`);
    void ctx.lost.then((lost) => {
      if (gen !== this.generation) return;
      if (lost.reason === 'destroyed' && !this.simulatedLoss) return;
      void this.onDeviceLost(lost);
    });
    for (const id of VARIANTS) await this.buildInteractive(this.variants[id], 'initial');
  }

  // -------------------------------------------------------------------------------------------
  // Models

  resetVariantWeights(v: Variant): void {
    v.spec = this.specFor(v.id, 1, this.settingsOrDefaults());
    v.weights = initialWeights(v.spec, TRAINING.seed, this.backbone);
    v.source = 'fresh adapters (untrained head)';
    v.step = 0;
    this.showVariant(v);
  }

  settingsOrDefaults(): { mergeBlock: number; mergeRatio: number } {
    const b = Number($<HTMLSelectElement>('merge-block').value);
    return { mergeBlock: Number.isInteger(b) ? b : Math.floor(VIT.depth / 2), mergeRatio: Number($<HTMLInputElement>('merge-ratio').value) || DEFAULT_MERGE.ratio };
  }

  label(v: Variant): string {
    const s = v.spec;
    const pet = s.pet.method === 'adaptformer' ? `${s.pet.bits === 1 ? 'Bi-' : ''}AdaptFormer` : s.pet.method === 'lora' ? `${s.pet.bits === 1 ? 'Bi-' : ''}LoRA` : s.pet.method === 'full' ? 'Full fine-tuning' : 'Linear probe';
    const merge = !s.merge ? '' : s.merge.kind === 'fpet' ? ' + FPET' : ` + ToMe r=${s.merge.r}`;
    return pet + merge;
  }

  showVariant(v: Variant): void {
    const row = document.querySelector(`tr[data-variant=${v.id}]`)!;
    row.querySelector('.name')!.textContent = this.label(v);
    document.querySelector(`.pred[data-variant=${v.id}] .name`)!.textContent = this.label(v);
    text(`source-${v.id}`, v.source);
    const tokens = v.interactive?.model.tokenCounts.map((t) => t.mlp);
    text(`tokens-${v.id}`, tokens ? tokens.join(' ') : '–');
    const c = v.lastCompile;
    text(`compile-${v.id}`, c ? [c.train !== undefined ? `train ${secs(c.train)}` : '', c.infer !== undefined ? `infer ${secs(c.infer)}` : ''].filter(Boolean).join(' · ') : '–');
    $(`download-${v.id}`).textContent = `Download ${this.label(v)}`;
  }

  /** (Re)compiles a variant's batch-1 classifier for its spec, with its weights. */
  async buildInteractive(v: Variant, why: string): Promise<void> {
    const ctx = this.ctx!;
    v.interactive?.destroy();
    v.interactive = undefined;
    const { classifier, report } = await compileClassifier(ctx, v.spec, v.weights, v.spec.merge !== undefined, `${this.label(v)} inference, batch 1 (${why})`);
    v.interactive = classifier;
    v.lastCompile = { ...v.lastCompile, infer: report.totalMs };
    compileLog(describeReport(report));
    this.showVariant(v);
  }

  async buildEvaluator(v: Variant, batch: number, spec: ModelSpec, weights: ReadonlyMap<string, Float32Array>): Promise<Classifier> {
    v.evaluator?.destroy();
    v.evaluator = undefined;
    const { classifier, report } = await compileClassifier(this.ctx!, { ...spec, batch, training: undefined }, weights, false, `${this.label(v)} evaluation, batch ${batch}`);
    v.evaluator = classifier;
    compileLog(describeReport(report));
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

  // -------------------------------------------------------------------------------------------
  // Training

  start(): Promise<void> {
    return this.exclusive('compiling the training steps…', async () => {
      if (this.hasRun) await this.dropRuns();
      const s = this.readSettings();
      if (s.variants.length === 0) throw new Error('choose at least one model to train');
      this.pack = await this.loadPack(s.dataset);
      const train = firstOf(this.pack.train, s.trainSize), test = firstOf(this.pack.test, s.testSize);
      if (s.batch > train.indices.length) throw new Error(`batch ${s.batch} is larger than the ${train.indices.length} training images`);
      this.settingsInRun = s;
      this.baton = new Baton();
      this.clearCurves();
      document.body.dataset.state = 'compiling';
      for (const id of s.variants) {
        const v = this.variants[id];
        v.spec = this.specFor(id, 1, s);
        const spec: ModelSpec = { ...v.spec, batch: s.batch, training: { dropout: TRAINING.dropout, dropPath: TRAINING.dropPath } };
        const weights = initialWeights(spec, s.seed, this.backbone);
        v.weights = new Map(weights);
        v.step = 0;
        v.source = `training on ${this.pack.dataset.name}`;
        this.status(`compiling ${this.label(v)}: training step (forward, backward, AdamW)…`);
        const { step, report } = await compileTrainStep(this.ctx!, spec, weights, undefined, `${this.label(v)} training step, batch ${s.batch}`);
        compileLog(describeReport(report));
        v.lastCompile = { ...v.lastCompile, train: report.totalMs };
        this.status(`compiling ${this.label(v)}: evaluation…`);
        const evaluator = await this.buildEvaluator(v, s.evalBatch, spec, weights);
        if (v.interactive && JSON.stringify(v.interactive.model.spec.merge ?? null) !== JSON.stringify(v.spec.merge ?? null)) await this.buildInteractive(v, 'new model');
        else v.interactive?.setWeights(weights);
        v.runner = new Runner(id, spec, step, evaluator, this.baton, { train, test }, s, this.runnerEvents());
        this.showVariant(v);
      }
      for (const id of s.variants) void this.variants[id].runner!.start();
      document.body.dataset.state = 'training';
      this.status(`training ${s.variants.map((id) => this.label(this.variants[id])).join(' and ')} on ${train.indices.length} ${this.pack.dataset.name} images`);
      this.lockSettings(true);
    });
  }

  runnerEvents() {
    const gen = this.generation;
    return {
      onStep: (r: Runner, info: { step: number; epoch: number; stepInEpoch: number; stepsPerEpoch: number; loss?: number; seconds: number }) => {
        if (gen !== this.generation) return;
        const v = this.variants[r.id as VariantId];
        const s = this.settingsInRun!;
        const ips = s.batch / Math.max(info.seconds, 1e-6);
        v.ipsEma = v.ipsEma === undefined ? ips : 0.8 * v.ipsEma + 0.2 * ips;
        if (info.loss !== undefined) {
          v.loss.push([info.step, info.loss]);
          text(`loss-${v.id}`, info.loss.toFixed(4));
        }
        $(`bar-${v.id}`).style.width = `${(100 * info.step) / r.totalSteps}%`;
        v.progress = `epoch ${info.epoch + 1}/${s.epochs} · step ${info.step}/${r.totalSteps}`;
        text(`progress-${v.id}`, v.progress);
        $(`progress-${v.id}`).dataset.step = String(info.step);
        const mean = r.trainImages / Math.max(r.trainSeconds, 1e-9);
        $(`ips-${v.id}`).textContent = `${v.ipsEma.toFixed(v.ipsEma < 10 ? 2 : 1)} (mean ${mean.toFixed(mean < 10 ? 2 : 1)})`;
        $(`ips-${v.id}`).dataset.mean = String(mean);
        this.drawCurves();
        if (this.baton.paused) this.showPaused();
      },
      onAccuracy: (r: Runner, info: { step: number; accuracy: number; images: number; epochEnd: boolean }) => {
        if (gen !== this.generation) return;
        const v = this.variants[r.id as VariantId];
        v.acc.push([info.step, info.accuracy]);
        text(`acc-${v.id}`, `${pct(info.accuracy)} (${info.images} img${info.epochEnd ? ', epoch end' : ''})`);
        $(`acc-${v.id}`).dataset.accuracy = String(info.accuracy);
        this.drawCurves();
        // Keep a snapshot (the device may be lost) and show the new state on the current picture.
        void this.currentWeights(v).then(() => this.requestInference(), () => undefined);
      },
      onEvaluating: (r: Runner, done: number, total: number) => {
        if (gen !== this.generation) return;
        const v = this.variants[r.id as VariantId];
        text(`progress-${r.id}`, done < total ? `${v.progress ?? ''} · evaluating ${done}/${total}` : (v.progress ?? ''));
      },
      onEnd: (r: Runner, result: unknown, error: unknown) => {
        if (gen !== this.generation) return;
        const v = this.variants[r.id as VariantId];
        if (error && !r.stopping) {
          banner(`${this.label(v)}: training stopped at step ${r.step}: ${errText(error)}`, 'error');
        } else if (result && r.finished) {
          text(`progress-${v.id}`, `done: ${r.step} steps`);
          v.source = `trained ${r.step} steps on ${this.pack.dataset.name}`;
          void this.currentWeights(v).then(() => {
            this.showVariant(v);
            this.requestInference();
          }, () => undefined);
        }
        if (!this.running && !r.stopping) {
          document.body.dataset.state = 'finished';
          this.status(`finished: ${VARIANTS.filter((id) => this.variants[id].runner).map((id) => `${this.label(this.variants[id])} ${this.variants[id].acc.length ? pct(this.variants[id].acc.at(-1)![1]) : ''}`).join(', ')}`);
        }
        this.updateButtons();
      },
    };
  }

  pauseOrResume(): void {
    if (!this.hasRun) return;
    if (this.baton.paused) {
      this.baton.resume();
      document.body.dataset.state = 'training';
      this.status('training');
    } else {
      this.baton.pause();
      document.body.dataset.state = 'paused';
      this.status('pausing at the next step…');
      void this.ctx?.device.queue.onSubmittedWorkDone().then(() => this.showPaused());
    }
    this.updateButtons();
  }

  showPaused(): void {
    if (!this.baton.paused) return;
    const steps = VARIANTS.map((id) => this.variants[id].runner).filter((r): r is Runner => !!r).map((r) => `${this.label(this.variants[r.id as VariantId])} at step ${r.step}`);
    this.status(`paused: ${steps.join(', ')}`);
  }

  /** Stops every run and destroys its programs (training steps and evaluators). */
  async dropRuns(): Promise<void> {
    const runners = VARIANTS.map((id) => this.variants[id].runner).filter((r): r is Runner => !!r);
    this.baton.resume();
    await Promise.all(runners.map((r) => r.stop()));
    for (const id of VARIANTS) {
      const v = this.variants[id];
      v.runner?.destroy();
      v.runner = undefined;
      v.evaluator?.destroy();
      v.evaluator = undefined;
    }
    this.settingsInRun = undefined;
  }

  reset(): Promise<void> {
    return this.exclusive('resetting…', async () => {
      await this.dropRuns();
      for (const id of VARIANTS) {
        const v = this.variants[id];
        const before = JSON.stringify(v.spec);
        this.resetVariantWeights(v);
        if (JSON.stringify(v.spec) !== before || !v.interactive) await this.buildInteractive(v, 'reset');
        else v.interactive.setWeights(v.weights);
      }
      this.clearCurves();
      for (const id of VARIANTS) {
        for (const k of ['loss', 'acc', 'ips']) text(`${k}-${id}`, '–');
        text(`progress-${id}`, '–');
        delete $(`progress-${id}`).dataset.step;
        delete $(`acc-${id}`).dataset.accuracy;
        delete $(`ips-${id}`).dataset.mean;
        $(`bar-${id}`).style.width = '0';
      }
      this.lockSettings(false);
      document.body.dataset.state = 'ready';
      this.status('reset: every training program destroyed; fresh adapters');
      this.requestInference();
    });
  }

  clearCurves(): void {
    for (const id of VARIANTS) {
      const v = this.variants[id];
      v.loss = [];
      v.acc = [];
      v.ipsEma = undefined;
      v.progress = undefined;
    }
    this.drawCurves();
  }

  drawCurves(): void {
    const series = (k: 'loss' | 'acc') => VARIANTS.filter((id) => this.variants[id][k].length).map((id) => ({ name: this.label(this.variants[id]), colour: COLOURS[id], points: this.variants[id][k], dots: k === 'acc', smooth: k === 'loss' ? 0.8 : undefined }));
    this.lossChart.set(series('loss'));
    this.accChart.set(series('acc'));
  }

  lockSettings(locked: boolean): void {
    for (const id of ['dataset', 'train-size', 'test-size', 'batch', 'epochs', 'lr', 'eval-every', 'eval-batch', 'use-base', 'use-fpet']) {
      ($(id) as HTMLInputElement).disabled = locked;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Merge block and ratio: the FPET kernels are specialised for them

  describeMerge(): void {
    const s = this.settingsOrDefaults();
    text('merge-ratio-out', s.mergeRatio.toFixed(2));
    try {
      const [m] = mergeSchedule(this.specFor('fpet', 1, s));
      const patches = (VIT.imageSize / VIT.patchSize) ** 2;
      text('merge-explain', m ? `block ${m.block} merges ${m.r} of ${patches} patch tokens: ${m.tokensIn} → ${m.tokensOut} tokens from its MLP on (${Math.round((100 * m.r) / m.tokensIn)}% fewer)` : '');
    } catch (e) {
      text('merge-explain', errText(e));
    }
  }

  onMergeInput(): void {
    this.describeMerge();
    clearTimeout(this.mergeTimer);
    this.mergeTimer = setTimeout(() => void this.respecialise().catch((e: unknown) => banner(errText(e), 'error')), 350);
  }

  /** Re-specialises the FPET model for the chosen merge block and ratio: new kernels, same trained weights. */
  respecialise(): Promise<void> {
    return this.exclusive('re-specialising the FPET kernels…', async () => {
      const v = this.variants.fpet;
      const s = this.settingsOrDefaults();
      const next = this.specFor('fpet', 1, s);
      if (JSON.stringify(next.merge) === JSON.stringify(v.spec.merge)) return;
      const oldBlock = v.spec.merge?.blocks[0];
      const keep = (name: string) => !name.includes('.merge.') || oldBlock === s.mergeBlock;
      const r = v.runner;
      const t0 = performance.now();
      if (r) {
        const wasRunning = r.running;
        await r.stop();
        const state = await r.state();
        const trainSpec: ModelSpec = { ...next, batch: r.spec.batch, training: r.spec.training };
        const weights = initialWeights(trainSpec, TRAINING.seed, this.backbone);
        const optimizerState = new Map<string, Float32Array>();
        for (const [k, x] of state) {
          const param = k.replace(/^adam\.[mv]:/, '');
          if (!weights.has(param) || !keep(param)) continue;
          if (k === param) weights.set(k, x);
          else optimizerState.set(k, x);
        }
        this.status(`re-specialising: FPET training step for block ${s.mergeBlock}, ratio ${s.mergeRatio}…`);
        const { step, report } = await compileTrainStep(this.ctx!, trainSpec, weights, optimizerState, `FPET training step re-specialised (block ${s.mergeBlock}, ratio ${s.mergeRatio})`);
        r.destroy();
        r.trainStep = step;
        compileLog(describeReport(report));
        v.lastCompile = { ...v.lastCompile, train: report.totalMs };
        v.spec = next;
        v.weights = new Map(weights);
        const evaluator = await this.buildEvaluator(v, this.settingsInRun!.evalBatch, trainSpec, weights);
        r.spec = trainSpec;
        r.evaluator = evaluator;
        if (wasRunning && !r.finished) void r.start();
      } else {
        const weights = initialWeights(next, TRAINING.seed, this.backbone);
        for (const [k, x] of v.weights) if (weights.has(k) && keep(k)) weights.set(k, x);
        v.spec = next;
        v.weights = weights;
        if (v.evaluator) await this.buildEvaluator(v, v.evaluator.batch, next, weights);
      }
      await this.buildInteractive(v, `block ${s.mergeBlock}, ratio ${s.mergeRatio}`);
      this.status(`FPET re-specialised for block ${s.mergeBlock}, ratio ${s.mergeRatio.toFixed(2)} in ${secs(performance.now() - t0)}${this.running ? '; training continues' : ''}`);
      this.requestInference();
    });
  }

  // -------------------------------------------------------------------------------------------
  // The picture on the pad: top 3 of both models and FPET's merge map

  setPicture(p: CurrentPicture): void {
    p.id = ++this.pictures;
    this.picture = p;
    paintGrey($<HTMLCanvasElement>('preview'), p.pixels, IMAGE);
    $('preview').dataset.picture = String(p.id);
    text('preview-caption', p.caption);
    this.requestInference();
  }

  showHeldOut(i?: number): void {
    const test = this.pack.test;
    const k = i ?? Math.floor(Math.random() * test.indices.length);
    const idx = test.indices[k]!;
    const per = IMAGE * IMAGE;
    const pixels = this.pack.dataset.images.slice(idx * per, (idx + 1) * per);
    const label = this.pack.dataset.labels[idx]!;
    this.pad.show(pixels, IMAGE);
    this.setPicture({ pixels, label, caption: `held-out #${k}: ${this.pack.dataset.classes[label]}` });
  }

  /** Classifies the current picture (coalesced: at most one in flight, the latest request wins). */
  requestInference(): void {
    if (!this.picture || !this.ctx) return;
    if (this.inferring || this.exclusiveDepth > 0) {
      this.inferAgain = true;
      return;
    }
    this.inferring = this.infer().catch((e: unknown) => {
      if (this.ctx) text('try-hint', `inference failed: ${errText(e)}`);
    }).finally(() => {
      this.inferring = undefined;
      if (this.inferAgain) {
        this.inferAgain = false;
        this.requestInference();
      }
    });
  }

  private async infer(): Promise<void> {
    const picture = this.picture!;
    const classes = this.pack.dataset.classes;
    for (const id of VARIANTS) {
      const v = this.variants[id];
      const c = v.interactive;
      if (!c) continue;
      if (v.runner) c.setWeights(await this.currentWeights(v));
      const t0 = performance.now();
      // One run gives the classes and, for a merging model, its merge map.
      const [pred] = c.model.merges.length ? await c.classifyWithMaps(picture.pixels, 3, 1) : (await c.classify(picture.pixels, 3, 1)).map((p) => ({ ...p, mergeMap: undefined }));
      const ms = performance.now() - t0;
      text(`latency-${id}`, `${ms.toFixed(0)} ms`);
      const list = $(`pred-${id}`);
      list.dataset.picture = String(picture.id);
      list.dataset.top = String(pred!.top[0]!.label);
      list.dataset.topName = classes[pred!.top[0]!.label] ?? '';
      list.replaceChildren(...pred!.top.map((t) => el('li', { 'data-label': String(t.label) },
        el('span', { class: 'cls' }, `${classes[t.label] ?? t.label}${picture.label === t.label ? ' ✓' : ''}`),
        el('span', { class: 'pbar' }, el('div', { style: `width:${(100 * t.probability).toFixed(1)}%` })),
        el('span', { class: 'p' }, pct(t.probability)))));
      if (pred?.mergeMap) this.showMergeMap(pred.mergeMap, picture, `${this.label(v)}: ${classes[pred.top[0]!.label]}`, c.model.spec.inputCrop);
    }
    if (!this.variants.fpet.interactive?.model.merges.length) {
      $('merge-map').replaceChildren();
      $('merge-tokens').replaceChildren();
    }
  }

  showMergeMap(map: MergeMap, picture: CurrentPicture, title: string, inputCrop?: number): void {
    this.lastMergeMap = map;
    const box = $('merge-map');
    // mergeMapSvg: the CLI's `infer --merge-map` picture (every value in it is a number or escaped text).
    box.innerHTML = mergeMapSvg(map, picture.pixels, 1, IMAGE, title, inputCrop);
    const groups = map.steps.map((s) => Array.from(s.sizes).filter((n) => n > 1).length);
    box.dataset.groups = groups.join(' ');
    box.dataset.picture = String(picture.id);
    box.dataset.tokens = map.tokensPerBlock.join(' ');
    const merged = new Set(map.steps.map((s) => s.block));
    const max = Math.max(...map.tokensPerBlock);
    $('merge-tokens').replaceChildren(...map.tokensPerBlock.map((n, b) =>
      el('div', { class: merged.has(b) || b > Math.min(...merged) ? 'merged' : '', style: `height:${Math.round((100 * n) / max)}%`, title: `block ${b}: ${n} tokens into its MLP` }, el('span', {}, String(n)), el('small', {}, `b${b}`))));
  }

  // -------------------------------------------------------------------------------------------
  // Inference speed, side by side

  measure(): Promise<void> {
    return this.exclusive('measuring inference speed…', async () => {
      const wasRunning = this.running && !this.baton.paused;
      if (wasRunning) this.baton.pause();
      try {
        await this.ctx!.device.queue.onSubmittedWorkDone();
        const s = this.settingsInRun ?? this.readSettings();
        const ids = VARIANTS.filter((id) => this.variants[id].runner || !this.hasRun);
        const classifiers: Classifier[] = [];
        for (const id of ids) {
          const v = this.variants[id];
          const weights = await this.currentWeights(v);
          let c = v.evaluator;
          if (!c || c.batch !== s.evalBatch) c = await this.buildEvaluator(v, s.evalBatch, v.spec, weights);
          c.setWeights(weights);
          classifiers.push(c);
        }
        const batch = s.evalBatch, per = IMAGE * IMAGE;
        const test = this.pack.test;
        const images = [0, 1].map((k) => {
          const out = new Float32Array(batch * per);
          for (let i = 0; i < batch; i++) {
            const idx = test.indices[(k * batch + i) % test.indices.length]!;
            out.set(this.pack.dataset.images.subarray(idx * per, (idx + 1) * per), i * per);
          }
          return out;
        });
        const rounds = isCpuAdapter(this.ctx!) ? 3 : 12;
        this.status(`timing inference: ${rounds} alternating rounds of batch ${batch}…`);
        const rates = await timeInference(this.ctx!, classifiers, images, rounds);
        ids.forEach((id, k) => {
          const c = classifiers[k]!;
          text(`speed-${id}`, rates[k]!.toFixed(rates[k]! < 10 ? 2 : 1));
          $(`speed-${id}`).dataset.rate = String(rates[k]);
          text(`speed-ms-${id}`, ((1000 * batch) / rates[k]!).toFixed(1));
          text(`flops-${id}`, (c.program.plan.flops / batch / 1e9).toFixed(4));
        });
        const b = ids.indexOf('base'), f = ids.indexOf('fpet');
        if (b >= 0 && f >= 0) {
          const speedup = rates[f]! / rates[b]!;
          const flopRatio = classifiers[b]!.program.plan.flops / classifiers[f]!.program.plan.flops;
          $('speedup').dataset.speedup = String(speedup);
          $('speedup').replaceChildren(el('b', {}, `FPET: ${speedup.toFixed(2)}× the images per second of AdaptFormer`),
            ` (FLOP ratio ${flopRatio.toFixed(2)}×; batch ${batch}, ${rounds} rounds each; ${isCpuAdapter(this.ctx!) ? 'software adapter: the GPU work runs on the CPU' : 'hardware GPU'})`);
        }
      } finally {
        if (wasRunning) this.baton.resume();
      }
      this.status(this.baton.paused ? 'inference timed (training paused)' : this.running ? 'inference timed; training continues' : 'inference timed');
    });
  }

  // -------------------------------------------------------------------------------------------
  // Adapter files

  download(id: VariantId): Promise<void> {
    return this.exclusive('preparing the download…', async () => {
      const v = this.variants[id];
      const weights = await this.currentWeights(v);
      const spec = v.runner?.spec ?? v.spec;
      const bytes = encodeAdapters(spec, weights, { seed: TRAINING.seed, step: v.step, backbone: SHIPPED_BACKBONE });
      const merge = spec.merge ? `-fpet-b${spec.merge.blocks.join('_')}-r${spec.merge.ratio}` : '';
      const name = `adapters-${spec.pet.method}${merge}-step${v.step}.safetensors`;
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
      const a = el('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      const ds = this.settingsInRun?.dataset ?? $<HTMLSelectElement>('dataset').value;
      text('files-info', `${name}: ${bytes.length.toLocaleString('en-US')} bytes, ${this.label(v)}, step ${v.step}`);
      $('files-info').dataset.lastDownload = name;
      text('cli-cmd', `npm start -- eval --adapters ${name}${ds !== 'mnist' ? ` --dataset ${ds}` : ''}\nnpm start -- infer --adapters ${name} --merge-map runs/merge-maps`);
      this.status(`downloaded ${name}`);
    });
  }

  upload(file: File): Promise<void> {
    return this.exclusive(`loading ${file.name}…`, async () => {
      if (file.size > 64 * 2 ** 20) throw new Error(`${file.name}: over 64 MB, not an adapters file`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const loaded = decodeAdapters(bytes, this.backbone, 1, file.name);
      if (loaded.spec.vit.numClasses !== this.pack.dataset.classes.length) throw new Error(`${file.name} classifies ${loaded.spec.vit.numClasses} classes; ${this.pack.dataset.name} has ${this.pack.dataset.classes.length}`);
      if (this.hasRun) {
        await this.dropRuns();
        this.clearCurves();
        this.lockSettings(false);
      }
      const id: VariantId = loaded.spec.merge ? 'fpet' : 'base';
      const v = this.variants[id];
      v.spec = loaded.spec;
      v.weights = loaded.weights;
      v.step = loaded.step ?? 0;
      v.source = `loaded ${file.name}${loaded.step !== undefined ? ` (step ${loaded.step})` : ''}`;
      if (loaded.spec.merge?.kind === 'fpet' && loaded.spec.merge.blocks.length === 1) {
        $<HTMLSelectElement>('merge-block').value = String(loaded.spec.merge.blocks[0]);
        $<HTMLInputElement>('merge-ratio').value = String(loaded.spec.merge.ratio);
        this.describeMerge();
      }
      await this.buildInteractive(v, `loaded ${file.name}`);
      text('files-info', `Loaded ${file.name}: ${this.label(v)}${loaded.spec.merge?.kind === 'fpet' ? ` (block ${loaded.spec.merge.blocks.join(',')}, ratio ${loaded.spec.merge.ratio})` : ''}, ${loaded.trained.size} trained tensors${loaded.referenceNaming ? ' (reference names)' : ''}, step ${loaded.step ?? '?'}, backbone ${loaded.backbone}.`);
      $('files-info').dataset.loaded = file.name;
      document.body.dataset.state = 'ready';
      this.status(`loaded ${file.name} as the ${this.label(v)} model`);
      this.requestInference();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  async onDeviceLost(lost: GPUDeviceLostInfo): Promise<void> {
    this.deviceLosses++;
    this.generation++;
    const simulated = this.simulatedLoss;
    this.simulatedLoss = false;
    const at = VARIANTS.map((id) => this.variants[id].runner).filter((r): r is Runner => !!r).map((r) => `${this.label(this.variants[r.id as VariantId])} at step ${r.step}`);
    banner(`The GPU device was lost (${simulated ? 'simulated' : lost.reason}${lost.message ? `: ${lost.message}` : ''})${at.length ? ` while training (${at.join(', ')})` : ''}. Re-initialising…`, 'error');
    document.body.dataset.state = 'device-lost';
    // Everything on the old device is gone: stop the loops and drop the programs.
    this.baton.resume();
    for (const id of VARIANTS) {
      const v = this.variants[id];
      if (v.runner) {
        v.runner.stopping = true;
        this.baton.release(id);
        v.runner.destroy();
      }
      v.runner = undefined;
      v.evaluator?.destroy();
      v.evaluator = undefined;
      v.interactive?.destroy();
      v.interactive = undefined;
    }
    this.baton = new Baton();
    this.settingsInRun = undefined;
    this.ctx = undefined;
    this.lockSettings(false);
    try {
      await this.exclusive('re-initialising the GPU…', async () => {
        await this.initGpu();
      });
      const kept = VARIANTS.filter((id) => this.variants[id].step > 0).map((id) => `${this.label(this.variants[id])} from step ${this.variants[id].step}`);
      banner(`The GPU device was lost and re-initialised without a reload (${this.ctx!.info.description || this.ctx!.info.vendor || 'adapter'}). ${at.length ? `Training stopped; ${kept.length ? `the weights of the last evaluation are kept (${kept.join(', ')})` : 'no trained weights were kept'}; press Start to train again.` : ''}`, 'ok');
      document.body.dataset.state = 'ready';
      this.status('ready (after a device loss)');
      this.requestInference();
    } catch (e) {
      banner(`The GPU device was lost and could not be re-initialised: ${errText(e)}. Reload the page.`, 'error');
      document.body.dataset.state = 'error';
    }
    this.updateButtons();
  }

  loseDevice(): void {
    if (!this.ctx) return;
    this.simulatedLoss = true;
    this.ctx.device.destroy();
  }

  showMemory(): void {
    const m = this.ctx?.memory;
    const e = $('gpu-memory');
    if (!m) {
      e.textContent = '–';
      return;
    }
    e.textContent = `${mib(m.liveBytes)} in ${m.liveBuffers} buffers (peak ${mib(m.peakBytes)})`;
    e.dataset.liveBytes = String(m.liveBytes);
    e.dataset.liveBuffers = String(m.liveBuffers);
    e.dataset.peakBytes = String(m.peakBytes);
  }

  // -------------------------------------------------------------------------------------------
  // Controls

  updateButtons(): void {
    const busy = this.exclusiveDepth > 0;
    const gpu = this.ctx !== undefined;
    const set = (id: string, enabled: boolean) => (($(id) as HTMLButtonElement).disabled = !enabled);
    set('start', gpu && !busy && !this.running);
    $('start').textContent = this.hasRun ? 'Start again' : 'Start training';
    set('pause', gpu && !busy && this.running);
    $('pause').textContent = this.baton.paused ? 'Resume' : 'Pause';
    set('reset', gpu && !busy && (this.hasRun || VARIANTS.some((id) => this.variants[id].step > 0 || this.variants[id].source.startsWith('loaded'))));
    set('measure', gpu && !busy);
    set('download-base', gpu && !busy);
    set('download-fpet', gpu && !busy);
    set('lose-device', gpu && !busy);
    ($('merge-block') as HTMLSelectElement).disabled = !gpu;
    ($('merge-ratio') as HTMLInputElement).disabled = !gpu;
  }

  bindControls(): void {
    const block = $<HTMLSelectElement>('merge-block');
    block.replaceChildren(...Array.from({ length: VIT.depth }, (_, b) => el('option', { value: String(b) }, `${b}${b === Math.floor(VIT.depth / 2) ? ' (middle)' : ''}`)));
    block.value = String(Math.floor(VIT.depth / 2));
    const report = (p: Promise<unknown>) => void p.catch((e: unknown) => {
      banner(errText(e), 'error');
      this.status('error');
    });
    $('start').addEventListener('click', () => report(this.start()));
    $('pause').addEventListener('click', () => this.pauseOrResume());
    $('reset').addEventListener('click', () => report(this.reset()));
    $('measure').addEventListener('click', () => report(this.measure()));
    $('download-base').addEventListener('click', () => report(this.download('base')));
    $('download-fpet').addEventListener('click', () => report(this.download('fpet')));
    $('lose-device').addEventListener('click', () => this.loseDevice());
    block.addEventListener('change', () => this.onMergeInput());
    $('merge-ratio').addEventListener('input', () => this.onMergeInput());
    $('dataset').addEventListener('change', () => report(this.loadPack($<HTMLSelectElement>('dataset').value).then((p) => {
      this.pack = p;
      this.showHeldOut(0);
    })));
    $('clear').addEventListener('click', () => {
      this.pad.clear();
      this.picture = undefined;
    });
    $('sample').addEventListener('click', () => this.showHeldOut());
    this.pad.onChange = () => {
      const mnist = (this.pack?.dataset.name ?? 'mnist') === 'mnist';
      this.setPicture({ pixels: this.pad.toImage(IMAGE, mnist), caption: `your drawing${mnist ? ' (scaled to 20×20 and centred, as MNIST)' : ''}` });
    };
    $<HTMLInputElement>('upload-image').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      input.value = '';
      if (!f) return;
      report(pictureToInput(f, IMAGE).then((p) => {
        this.pad.show(p.pixels, IMAGE);
        this.setPicture({ pixels: p.pixels, caption: `${f.name.slice(0, 40)} (${p.width}×${p.height}${p.inverted ? ', inverted' : ''})` });
      }));
    });
    $<HTMLInputElement>('upload-adapters').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      input.value = '';
      if (f) report(this.upload(f));
    });
  }
}

/** Images per second of several classifiers on the same batches, timed in alternating rounds after one untimed round (as the CLI's transfer job). */
async function timeInference(ctx: GpuContext, classifiers: Classifier[], images: Float32Array[], rounds: number): Promise<number[]> {
  for (const c of classifiers) await c.logits(images[0]!);
  const seconds = classifiers.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? classifiers.map((_, k) => k) : classifiers.map((_, k) => classifiers.length - 1 - k);
    for (const k of order) {
      const c = classifiers[k]!;
      c.program.write({ images: images[r % images.length]! });
      const t0 = performance.now();
      c.program.run();
      await ctx.device.queue.onSubmittedWorkDone();
      seconds[k]! += (performance.now() - t0) / 1000;
    }
  }
  return seconds.map((s, k) => (rounds * classifiers[k]!.batch) / s);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

// ---------------------------------------------------------------------------------------------

const page = new Page();
/** For tests and the console: the page's state and a fault injector. */
Object.assign(window, {
  fpetPage: {
    page,
    loseDevice: () => page.loseDevice(),
    memory: () => (page.ctx ? { ...page.ctx.memory } : undefined),
    /** Waits for queued compiles and inferences, then returns the live GPU memory. */
    settledMemory: async () => {
      await page.settled();
      return page.ctx ? { ...page.ctx.memory } : undefined;
    },
    deviceLosses: () => page.deviceLosses,
  },
});
page.boot().catch((e: unknown) => {
  console.error(e);
  if (document.body.dataset.state !== 'no-webgpu') {
    banner(`The page could not start: ${errText(e)}`, 'error');
    document.body.dataset.state = 'error';
  }
});
