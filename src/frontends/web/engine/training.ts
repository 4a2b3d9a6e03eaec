// The run in the worker: Start compiles a training step per chosen variant from fresh adapters on
// the backbone and starts each runner as soon as its step is ready (the first step does not wait
// for the second model or the evaluators, which compile while it trains); pause / resume; reset
// back to the models of first sight. The runners' events go to the page as they happen.

import { initialWeights, type LoopResult, type ModelSpec, type Subset } from '../../../index.ts';
import { firstOf } from '../data-pack.ts';
import type { Settings } from '../protocol.ts';
import { Baton } from '../baton.ts';
import { Runner, compileTrainStep, type RunnerEvents } from '../trainer.ts';
import { TRAINING, VARIANTS, specLabel, type VariantId } from '../variants.ts';
import type { Engine } from './engine.ts';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 600);
const pct = (a: number) => `${(100 * a).toFixed(1)}%`;

/** Start, pause / resume and reset of the side-by-side run. */
export class Training {
  constructor(private readonly engine: Engine) {}

  start(s: Settings): Promise<void> {
    const engine = this.engine;
    return engine.queue.exclusive('compiling the training steps…', async () => {
      if (engine.hasRun) await this.dropRuns();
      if (s.variants.length === 0) throw new Error('choose at least one model to train');
      engine.pack = await engine.loadPack(s.dataset);
      const train = firstOf(engine.pack.train, s.trainSize), test = firstOf(engine.pack.test, s.testSize);
      if (s.batch > train.indices.length) throw new Error(`batch ${s.batch} is larger than the ${train.indices.length} training images`);
      engine.settingsInRun = s;
      engine.merge = { mergeBlock: s.mergeBlock, mergeRatio: s.mergeRatio };
      engine.baton = new Baton();
      engine.emit({ kind: 'curves-cleared' });
      engine.emit({ kind: 'run', epochs: s.epochs, batch: s.batch, images: train.indices.length, dataset: engine.pack.dataset.name });
      engine.setState('compiling');
      for (const [k, id] of s.variants.entries()) {
        await this.prepareRunner(id, s, { train, test }, s.variants.length - 1 - k);
        // Training starts at once; the next model compiles while this one takes its first steps.
        void engine.variants[id].runner!.start();
        engine.sendFlags();
      }
      engine.runStatus = `training ${s.variants.map((id) => specLabel(engine.variants[id].spec)).join(' and ')} on ${train.indices.length} ${engine.pack.dataset.name} images`;
      // Pause is open while the second model compiles: a paused run stays paused.
      engine.setState(engine.baton.paused ? 'paused' : 'training');
      if (engine.baton.paused) this.showPaused();
      else engine.status(engine.runStatus);
    });
    // The evaluators compile after the training steps, in their own turn of the queue, while training runs.
  }

  /** Fresh adapters on the backbone, a compiled training step and its runner; the evaluator is compiled later. */
  private async prepareRunner(id: VariantId, s: Settings, data: { train: Subset; test: Subset }, queued: number): Promise<void> {
    const engine = this.engine;
    const v = engine.variants[id];
    const before = JSON.stringify(v.spec);
    v.spec = engine.specFor(id, 1, s);
    const spec: ModelSpec = { ...v.spec, batch: s.batch, training: { dropout: TRAINING.dropout, dropPath: TRAINING.dropPath } };
    const weights = initialWeights(spec, s.seed, engine.backbone);
    v.weights = new Map(weights);
    Object.assign(v, { step: 0, origin: 'training', source: `training here from the backbone on ${data.train.indices.length} ${engine.pack.dataset.name} images` });
    const what = `${specLabel(v.spec)}: training step (forward, backward, AdamW), batch ${s.batch}`;
    engine.status(`compiling ${what}…`);
    const { step, report } = await engine.tracker.track(what, queued, (w) => compileTrainStep(engine.ctx!, spec, weights, undefined, what, engine.compileOptions(w)));
    engine.emit({ kind: 'compiled', report });
    v.lastCompile = { ...v.lastCompile, train: report.totalMs };
    if (JSON.stringify(v.spec) !== before || !v.interactive) await engine.buildInteractive(v, 'new model');
    else v.interactive.setWeights(weights);
    engine.dropEvaluator(v);
    v.runner = new Runner(id, spec, step, () => engine.queueEvaluator(v, s.evalBatch, spec), engine.baton, data, s, this.events());
    void engine.queueEvaluator(v, s.evalBatch, spec);
    engine.showVariant(v);
    engine.queue.requestInference();
  }

  /** The runners' events for the current device: once it is replaced, a late event changes nothing. */
  private events(): RunnerEvents {
    const engine = this.engine;
    const gen = engine.generation;
    const live = () => gen === engine.generation;
    return {
      onStep: (r, info) => {
        if (!live()) return;
        const mean = r.trainImages / Math.max(r.trainSeconds, 1e-9);
        engine.emit({ kind: 'step', id: r.id as VariantId, step: info.step, totalSteps: r.totalSteps, epoch: info.epoch, loss: info.loss, ips: engine.settingsInRun!.batch / Math.max(info.seconds, 1e-6), meanIps: mean });
        if (engine.baton.paused) this.showPaused();
      },
      onAccuracy: (r, info) => {
        if (!live()) return;
        engine.emit({ kind: 'accuracy', id: r.id as VariantId, step: info.step, accuracy: info.accuracy, images: info.images, epochEnd: info.epochEnd });
        // Keep a snapshot (the device may be lost) and show the new state on the current picture.
        const v = engine.variantOf(r);
        void engine.currentWeights(v).then(() => {
          v.source = `training here: step ${r.step}, ${pct(info.accuracy)} on ${info.images} held-out images`;
          engine.showVariant(v);
          engine.queue.requestInference();
        }, () => undefined);
      },
      onEvaluating: (r, done, total) => {
        if (live()) engine.emit({ kind: 'evaluating', id: r.id as VariantId, done, total });
      },
      onEnd: (r, result, error) => {
        if (live()) this.showEnd(r, result, error);
      },
    };
  }

  private showEnd(r: Runner, result: LoopResult | undefined, error: unknown): void {
    const engine = this.engine;
    const v = engine.variantOf(r);
    const finished = !!result && r.finished && !error;
    engine.emit({ kind: 'run-end', id: v.id, finished, step: r.step, error: error && !r.stopping ? errText(error) : undefined });
    if (error && !r.stopping) {
      engine.banner(`${specLabel(v.spec)}: training stopped at step ${r.step}: ${errText(error)}`, 'error');
    } else if (finished) {
      void engine.currentWeights(v).then(() => {
        const acc = r.history.at(-1)?.testAccuracy;
        Object.assign(v, { origin: 'trained', trainedMerge: JSON.stringify(v.spec.merge ?? null), source: `trained here: ${r.step} steps from the backbone${acc !== undefined ? `, ${pct(acc)} on the held-out images` : ''}` });
        engine.showVariant(v);
        engine.queue.requestInference();
      }, () => undefined);
    }
    if (!engine.running && !r.stopping) {
      engine.setState('finished');
      engine.status(`finished: ${engine.runners().map((x) => `${specLabel(engine.variantOf(x).spec)} ${x.history.at(-1)?.testAccuracy !== undefined ? pct(x.history.at(-1)!.testAccuracy!) : ''}`).join(', ')}`);
    }
    engine.sendFlags();
  }

  pauseOrResume(): void {
    const engine = this.engine;
    if (!engine.hasRun) return;
    if (engine.baton.paused) {
      engine.baton.resume();
      engine.setState('training');
      engine.status('training');
    } else {
      engine.baton.pause();
      engine.setState('paused');
      engine.status('pausing at the next step…');
      void engine.ctx?.device.queue.onSubmittedWorkDone().then(() => this.showPaused());
    }
  }

  private showPaused(): void {
    if (this.engine.baton.paused) this.engine.showRunStatus();
  }

  /** Stops every run and destroys its programs (training steps and evaluators). */
  async dropRuns(): Promise<void> {
    const engine = this.engine;
    const runners = engine.runners();
    engine.baton.resume();
    await Promise.all(runners.map((r) => r.stop()));
    for (const id of VARIANTS) {
      const v = engine.variants[id];
      // Keep the weights the run reached (not only those of its last evaluation).
      if (v.runner) await engine.currentWeights(v).catch(() => undefined);
      v.runner?.destroy();
      v.runner = undefined;
      engine.dropEvaluator(v);
      engine.trainingStopped(v);
    }
    engine.settingsInRun = undefined;
  }

  /** Ends the run and clears its curves, keeping the weights (other adapters are about to replace them). */
  async discardRun(): Promise<void> {
    if (!this.engine.hasRun) return;
    await this.dropRuns();
    this.engine.emit({ kind: 'curves-cleared' });
  }

  /** Back to the models of first sight for the data set (the shipped adapters where there are some). */
  reset(why = 'reset'): Promise<void> {
    const engine = this.engine;
    return engine.queue.exclusive('resetting…', async () => {
      await this.dropRuns();
      for (const [k, id] of VARIANTS.entries()) {
        const v = engine.variants[id];
        const before = JSON.stringify(v.spec);
        await engine.firstSight(v);
        if (JSON.stringify(v.spec) !== before || !v.interactive) await engine.buildInteractive(v, why, VARIANTS.length - 1 - k);
        else v.interactive.setWeights(v.weights);
        engine.showVariant(v);
      }
      const m = engine.variants.fpet.spec.merge;
      if (m?.kind === 'fpet' && m.blocks.length === 1) {
        engine.merge = { mergeBlock: m.blocks[0]!, mergeRatio: m.ratio };
        engine.emit({ kind: 'merge-set', choice: engine.merge });
      }
      engine.emit({ kind: 'curves-cleared' });
      engine.setState('ready');
      const shipped = VARIANTS.some((id) => engine.variants[id].origin === 'shipped');
      engine.status(`${why}: every training program destroyed; ${shipped ? 'the shipped trained adapters answer again' : 'fresh adapters'}`);
      engine.queue.requestInference();
    });
  }
}
