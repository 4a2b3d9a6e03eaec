// The training card's buttons: start a run (compile a training step and an evaluator per chosen
// variant, then let the runners take turns), pause or resume it, and reset to fresh adapters.

import { initialWeights, type ModelSpec, type Subset } from '../../../index.ts';
import { firstOf } from '../data-pack.ts';
import { Baton, Runner, compileTrainStep } from '../trainer.ts';
import { logCompile } from './compile-log.ts';
import { $, reportErrors, status } from './dom.ts';
import type { PageState } from './page-state.ts';
import { lockSettings, readSettings, type Settings } from './settings.ts';
import type { TrainingView } from './training-view.ts';
import { TRAINING, VARIANTS, label, showVariant, type VariantId } from './variants.ts';

/** Start, pause / resume and reset of the side-by-side run. */
export class TrainerPanel {
  constructor(private readonly page: PageState, private readonly view: TrainingView) {}

  bind(): void {
    $('start').addEventListener('click', () => reportErrors(this.start()));
    $('pause').addEventListener('click', () => this.pauseOrResume());
    $('reset').addEventListener('click', () => reportErrors(this.reset()));
  }

  start(): Promise<void> {
    const page = this.page;
    return page.queue.exclusive('compiling the training steps…', async () => {
      if (page.hasRun) await this.dropRuns();
      const s = readSettings();
      if (s.variants.length === 0) throw new Error('choose at least one model to train');
      page.pack = await page.loadPack(s.dataset);
      const train = firstOf(page.pack.train, s.trainSize), test = firstOf(page.pack.test, s.testSize);
      if (s.batch > train.indices.length) throw new Error(`batch ${s.batch} is larger than the ${train.indices.length} training images`);
      page.settingsInRun = s;
      page.baton = new Baton();
      this.view.clearCurves();
      document.body.dataset.state = 'compiling';
      for (const id of s.variants) await this.prepareRunner(id, s, { train, test });
      for (const id of s.variants) void page.variants[id].runner!.start();
      document.body.dataset.state = 'training';
      status(`training ${s.variants.map((id) => label(page.variants[id])).join(' and ')} on ${train.indices.length} ${page.pack.dataset.name} images`);
      lockSettings(true);
    });
  }

  /** Fresh weights, a compiled training step and evaluator for one variant, and its runner (not started). */
  private async prepareRunner(id: VariantId, s: Settings, data: { train: Subset; test: Subset }): Promise<void> {
    const page = this.page;
    const v = page.variants[id];
    v.spec = page.specFor(id, 1, s);
    const spec: ModelSpec = { ...v.spec, batch: s.batch, training: { dropout: TRAINING.dropout, dropPath: TRAINING.dropPath } };
    const weights = initialWeights(spec, s.seed, page.backbone);
    v.weights = new Map(weights);
    v.step = 0;
    v.source = `training on ${page.pack.dataset.name}`;
    status(`compiling ${label(v)}: training step (forward, backward, AdamW)…`);
    const { step, report } = await compileTrainStep(page.ctx!, spec, weights, undefined, `${label(v)} training step, batch ${s.batch}`);
    logCompile(report);
    v.lastCompile = { ...v.lastCompile, train: report.totalMs };
    status(`compiling ${label(v)}: evaluation…`);
    const evaluator = await page.buildEvaluator(v, s.evalBatch, spec, weights);
    if (v.interactive && JSON.stringify(v.interactive.model.spec.merge ?? null) !== JSON.stringify(v.spec.merge ?? null)) await page.buildInteractive(v, 'new model');
    else v.interactive?.setWeights(weights);
    v.runner = new Runner(id, spec, step, evaluator, page.baton, data, s, this.view.events());
    showVariant(v);
  }

  pauseOrResume(): void {
    const page = this.page;
    if (!page.hasRun) return;
    if (page.baton.paused) {
      page.baton.resume();
      document.body.dataset.state = 'training';
      status('training');
    } else {
      page.baton.pause();
      document.body.dataset.state = 'paused';
      status('pausing at the next step…');
      void page.ctx?.device.queue.onSubmittedWorkDone().then(() => this.view.showPaused());
    }
    page.updateButtons();
  }

  /** Stops every run and destroys its programs (training steps and evaluators). */
  async dropRuns(): Promise<void> {
    const page = this.page;
    const runners = page.runners();
    page.baton.resume();
    await Promise.all(runners.map((r) => r.stop()));
    for (const id of VARIANTS) {
      const v = page.variants[id];
      v.runner?.destroy();
      v.runner = undefined;
      v.evaluator?.destroy();
      v.evaluator = undefined;
    }
    page.settingsInRun = undefined;
  }

  /** Ends the run and clears its curves, keeping the weights (other adapters are about to replace them). */
  async discardRun(): Promise<void> {
    if (!this.page.hasRun) return;
    await this.dropRuns();
    this.view.clearCurves();
    lockSettings(false);
  }

  reset(): Promise<void> {
    const page = this.page;
    return page.queue.exclusive('resetting…', async () => {
      await this.dropRuns();
      for (const id of VARIANTS) {
        const v = page.variants[id];
        const before = JSON.stringify(v.spec);
        page.resetVariantWeights(v);
        if (JSON.stringify(v.spec) !== before || !v.interactive) await page.buildInteractive(v, 'reset');
        else v.interactive.setWeights(v.weights);
      }
      this.view.clearCurves();
      this.view.clearRows();
      lockSettings(false);
      document.body.dataset.state = 'ready';
      status('reset: every training program destroyed; fresh adapters');
      page.queue.requestInference();
    });
  }
}
