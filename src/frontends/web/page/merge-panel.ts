// FPET's merge block and ratio. The FPET kernels are specialised for them, so a change compiles
// new programs (a running run included: it continues from the same step with its AdamW moments);
// the trained weights carry over, except a merge module's when the block moves.

import { initialWeights, mergeSchedule, type ModelSpec } from '../../../index.ts';
import { compileTrainStep, type Runner } from '../trainer.ts';
import { logCompile } from './compile-log.ts';
import { $, banner, el, errText, secs, status, text } from './dom.ts';
import type { PageState } from './page-state.ts';
import { chosenMerge } from './settings.ts';
import { MIDDLE_BLOCK, TRAINING, VIT, type MergeChoice, type Variant } from './variants.ts';

/** Which trained tensors survive a new merge choice. */
type Keep = (name: string) => boolean;

/** The merge block and ratio controls, and re-specialisation when they change. */
export class MergePanel {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly page: PageState) {}

  bind(): void {
    const block = $<HTMLSelectElement>('merge-block');
    block.replaceChildren(...Array.from({ length: VIT.depth }, (_, b) => el('option', { value: String(b) }, `${b}${b === MIDDLE_BLOCK ? ' (middle)' : ''}`)));
    block.value = String(MIDDLE_BLOCK);
    block.addEventListener('change', () => this.onInput());
    $('merge-ratio').addEventListener('input', () => this.onInput());
  }

  /** Shows the ratio and what the merge does to the token count. */
  describe(): void {
    const s = chosenMerge();
    text('merge-ratio-out', s.mergeRatio.toFixed(2));
    try {
      const [m] = mergeSchedule(this.page.specFor('fpet', 1, s));
      const patches = (VIT.imageSize / VIT.patchSize) ** 2;
      text('merge-explain', m ? `block ${m.block} merges ${m.r} of ${patches} patch tokens: ${m.tokensIn} → ${m.tokensOut} tokens from its MLP on (${Math.round((100 * m.r) / m.tokensIn)}% fewer)` : '');
    } catch (e) {
      text('merge-explain', errText(e));
    }
  }

  // A dragged slider fires many inputs: compile once it rests.
  private onInput(): void {
    this.describe();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.respecialise().catch((e: unknown) => banner(errText(e), 'error')), 350);
  }

  /** Re-specialises the FPET model for the chosen merge block and ratio: new kernels, same trained weights. */
  respecialise(): Promise<void> {
    const page = this.page;
    return page.queue.exclusive('re-specialising the FPET kernels…', async () => {
      const v = page.variants.fpet;
      const s = chosenMerge();
      const next = page.specFor('fpet', 1, s);
      if (JSON.stringify(next.merge) === JSON.stringify(v.spec.merge)) return;
      const oldBlock = v.spec.merge?.blocks[0];
      const keep: Keep = (name) => !name.includes('.merge.') || oldBlock === s.mergeBlock;
      const t0 = performance.now();
      if (v.runner) await this.respecialiseRun(v, v.runner, next, s, keep);
      else await this.respecialiseIdle(v, next, keep);
      await page.buildInteractive(v, `block ${s.mergeBlock}, ratio ${s.mergeRatio}`);
      status(`FPET re-specialised for block ${s.mergeBlock}, ratio ${s.mergeRatio.toFixed(2)} in ${secs(performance.now() - t0)}${page.running ? '; training continues' : ''}`);
      page.queue.requestInference();
    });
  }

  /** Mid-run: stop at a step boundary, carry the weights and AdamW moments into a new step, continue. */
  private async respecialiseRun(v: Variant, r: Runner, next: ModelSpec, s: MergeChoice, keep: Keep): Promise<void> {
    const page = this.page;
    const wasRunning = r.running;
    await r.stop();
    const state = await r.state();
    const trainSpec: ModelSpec = { ...next, batch: r.spec.batch, training: r.spec.training };
    const weights = initialWeights(trainSpec, TRAINING.seed, page.backbone);
    const optimizerState = new Map<string, Float32Array>();
    for (const [k, x] of state) {
      const param = k.replace(/^adam\.[mv]:/, '');
      if (!weights.has(param) || !keep(param)) continue;
      if (k === param) weights.set(k, x);
      else optimizerState.set(k, x);
    }
    status(`re-specialising: FPET training step for block ${s.mergeBlock}, ratio ${s.mergeRatio}…`);
    const { step, report } = await compileTrainStep(page.ctx!, trainSpec, weights, optimizerState, `FPET training step re-specialised (block ${s.mergeBlock}, ratio ${s.mergeRatio})`);
    r.destroy();
    r.trainStep = step;
    logCompile(report);
    v.lastCompile = { ...v.lastCompile, train: report.totalMs };
    v.spec = next;
    v.weights = new Map(weights);
    const evaluator = await page.buildEvaluator(v, page.settingsInRun!.evalBatch, trainSpec, weights);
    r.spec = trainSpec;
    r.evaluator = evaluator;
    if (wasRunning && !r.finished) void r.start();
  }

  /** No run: the snapshot's weights move to the new spec; an evaluator (speed test) is rebuilt for it. */
  private async respecialiseIdle(v: Variant, next: ModelSpec, keep: Keep): Promise<void> {
    const weights = initialWeights(next, TRAINING.seed, this.page.backbone);
    for (const [k, x] of v.weights) if (weights.has(k) && keep(k)) weights.set(k, x);
    v.spec = next;
    v.weights = weights;
    if (v.evaluator) await this.page.buildEvaluator(v, v.evaluator.batch, next, weights);
  }
}
