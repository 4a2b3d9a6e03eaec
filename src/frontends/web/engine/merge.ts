// FPET's merge block and ratio in the worker. The FPET kernels are specialised for them, so a
// change compiles new programs (a running run included: it continues from the same step with its
// AdamW moments); the weights carry over, except a merge module's when the block moves.

import { initialWeights, type ModelSpec } from '../../../index.ts';
import { compileTrainStep, type Runner } from '../trainer.ts';
import { TRAINING, type MergeChoice } from '../variants.ts';
import type { Engine, Variant } from './engine.ts';

/** Which trained tensors survive a new merge choice. */
type Keep = (name: string) => boolean;

const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

/** Re-specialisation of the FPET model when the merge block or ratio changes. */
export class MergeControl {
  constructor(private readonly engine: Engine) {}

  /** New kernels for the chosen merge block and ratio, with the same trained weights. */
  respecialise(s: MergeChoice): Promise<void> {
    const engine = this.engine;
    engine.merge = s;
    return engine.queue.exclusive('re-specialising the FPET kernels…', async () => {
      const v = engine.variants.fpet;
      // Only the merge changes: a loaded file's adapters (another width or method) keep their own spec.
      const merge = v.spec.merge?.kind === 'fpet' ? { ...v.spec.merge, blocks: [s.mergeBlock], ratio: s.mergeRatio } : engine.specFor('fpet', 1, s).merge;
      const next: ModelSpec = { ...v.spec, batch: 1, merge };
      if (JSON.stringify(next.merge) === JSON.stringify(v.spec.merge)) return;
      const oldBlock = v.spec.merge?.blocks[0];
      const keep: Keep = (name) => !name.includes('.merge.') || oldBlock === s.mergeBlock;
      const t0 = performance.now();
      if (v.runner) await this.respecialiseRun(v, v.runner, next, s, keep);
      else this.respecialiseIdle(v, next, keep);
      await engine.buildInteractive(v, `block ${s.mergeBlock}, ratio ${s.mergeRatio}`);
      const done = `FPET re-specialised for block ${s.mergeBlock}, ratio ${s.mergeRatio.toFixed(2)} in ${secs(performance.now() - t0)}`;
      // Paused meanwhile: the status still says so.
      engine.status(engine.running && engine.baton.paused ? `paused; ${done}` : `${done}${engine.running ? '; training continues' : ''}`);
      engine.queue.requestInference();
    });
  }

  /** Mid-run: stop at a step boundary, carry the weights and AdamW moments into a new step, continue. */
  private async respecialiseRun(v: Variant, r: Runner, next: ModelSpec, s: MergeChoice, keep: Keep): Promise<void> {
    const engine = this.engine;
    const wasRunning = r.running;
    await r.stop();
    const state = await r.state();
    const trainSpec: ModelSpec = { ...next, batch: r.spec.batch, training: r.spec.training };
    const weights = initialWeights(trainSpec, TRAINING.seed, engine.backbone);
    const optimizerState = new Map<string, Float32Array>();
    for (const [k, x] of state) {
      const param = k.replace(/^adam\.[mv]:/, '');
      if (!weights.has(param) || !keep(param)) continue;
      if (k === param) weights.set(k, x);
      else optimizerState.set(k, x);
    }
    const what = `AdaptFormer + FPET: training step re-specialised (block ${s.mergeBlock}, ratio ${s.mergeRatio})`;
    engine.status(`re-specialising: ${what}…`);
    const { step, report } = await engine.tracker.track(what, 1, (w) => compileTrainStep(engine.ctx!, trainSpec, weights, optimizerState, what, engine.compileOptions(w)));
    r.destroy();
    r.trainStep = step;
    engine.emit({ kind: 'compiled', report });
    v.lastCompile = { ...v.lastCompile, train: report.totalMs };
    v.spec = next;
    v.weights = new Map(weights);
    engine.dropEvaluator(v);
    const evalBatch = engine.settingsInRun!.evalBatch;
    r.spec = trainSpec;
    r.evaluator = () => engine.queueEvaluator(v, evalBatch, trainSpec);
    void engine.queueEvaluator(v, evalBatch, trainSpec);
    if (wasRunning && !r.finished) {
      void r.start();
      // The other model may have finished while this one was stopped (the page then said "finished"): the run goes on.
      if (engine.state === 'finished') engine.setState(engine.baton.paused ? 'paused' : 'training');
    }
  }

  /** No run: the snapshot's weights move to the new spec; the evaluator (speed test) is compiled again when next needed. */
  private respecialiseIdle(v: Variant, next: ModelSpec, keep: Keep): void {
    const weights = initialWeights(next, TRAINING.seed, this.engine.backbone);
    for (const [k, x] of v.weights) if (weights.has(k) && keep(k)) weights.set(k, x);
    v.spec = next;
    v.weights = weights;
    this.engine.dropEvaluator(v);
  }
}
