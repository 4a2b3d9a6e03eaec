// What a run shows while it trains: each variant's progress row (steps, loss, held-out accuracy,
// images per second) and the loss and accuracy curves, all fed by the runners' events.

import type { LoopResult } from '../../../index.ts';
import type { Runner, RunnerEvents } from '../trainer.ts';
import { LineChart } from '../ui/chart.ts';
import { $, banner, errText, pct, status, text } from './dom.ts';
import type { PageState } from './page-state.ts';
import { COLOURS, VARIANTS, label, showVariant } from './variants.ts';

type StepInfo = Parameters<NonNullable<RunnerEvents['onStep']>>[1];
type AccuracyInfo = Parameters<NonNullable<RunnerEvents['onAccuracy']>>[1];

/** The runs table's live cells and the two charts. */
export class TrainingView {
  readonly lossChart: LineChart;
  readonly accChart: LineChart;

  constructor(private readonly page: PageState) {
    this.lossChart = new LineChart($<HTMLCanvasElement>('loss-chart'), { yFormat: (v) => v.toFixed(v < 1 ? 2 : 1), xLabel: 'step', empty: 'press Start: the loss of every step appears here' });
    this.accChart = new LineChart($<HTMLCanvasElement>('acc-chart'), { yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`, xLabel: 'step', empty: 'held-out accuracy, measured while training' });
  }

  /** The runners' events for the current device: once it is replaced, a late event changes nothing. */
  events(): RunnerEvents {
    const gen = this.page.generation;
    const live = () => gen === this.page.generation;
    return {
      onStep: (r, info) => {
        if (live()) this.showStep(r, info);
      },
      onAccuracy: (r, info) => {
        if (live()) this.showAccuracy(r, info);
      },
      onEvaluating: (r, done, total) => {
        if (!live()) return;
        const v = this.page.variantOf(r);
        text(`progress-${r.id}`, done < total ? `${v.progress ?? ''} · evaluating ${done}/${total}` : (v.progress ?? ''));
      },
      onEnd: (r, result, error) => {
        if (live()) this.showEnd(r, result, error);
      },
    };
  }

  private showStep(r: Runner, info: StepInfo): void {
    const v = this.page.variantOf(r);
    const s = this.page.settingsInRun!;
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
    if (this.page.baton.paused) this.showPaused();
  }

  private showAccuracy(r: Runner, info: AccuracyInfo): void {
    const v = this.page.variantOf(r);
    v.acc.push([info.step, info.accuracy]);
    text(`acc-${v.id}`, `${pct(info.accuracy)} (${info.images} img${info.epochEnd ? ', epoch end' : ''})`);
    $(`acc-${v.id}`).dataset.accuracy = String(info.accuracy);
    this.drawCurves();
    // Keep a snapshot (the device may be lost) and show the new state on the current picture.
    void this.page.currentWeights(v).then(() => this.page.queue.requestInference(), () => undefined);
  }

  private showEnd(r: Runner, result: LoopResult | undefined, error: unknown): void {
    const page = this.page;
    const v = page.variantOf(r);
    if (error && !r.stopping) {
      banner(`${label(v)}: training stopped at step ${r.step}: ${errText(error)}`, 'error');
    } else if (result && r.finished) {
      text(`progress-${v.id}`, `done: ${r.step} steps`);
      v.source = `trained ${r.step} steps on ${page.pack.dataset.name}`;
      void page.currentWeights(v).then(() => {
        showVariant(v);
        page.queue.requestInference();
      }, () => undefined);
    }
    if (!page.running && !r.stopping) {
      document.body.dataset.state = 'finished';
      status(`finished: ${VARIANTS.filter((id) => page.variants[id].runner).map((id) => `${label(page.variants[id])} ${page.variants[id].acc.length ? pct(page.variants[id].acc.at(-1)![1]) : ''}`).join(', ')}`);
    }
    page.updateButtons();
  }

  showPaused(): void {
    if (!this.page.baton.paused) return;
    const steps = this.page.runners().map((r) => `${label(this.page.variantOf(r))} at step ${r.step}`);
    status(`paused: ${steps.join(', ')}`);
  }

  clearCurves(): void {
    for (const id of VARIANTS) {
      const v = this.page.variants[id];
      v.loss = [];
      v.acc = [];
      v.ipsEma = undefined;
      v.progress = undefined;
    }
    this.drawCurves();
  }

  /** Back to dashes and empty bars (after a reset). */
  clearRows(): void {
    for (const id of VARIANTS) {
      for (const k of ['loss', 'acc', 'ips']) text(`${k}-${id}`, '–');
      text(`progress-${id}`, '–');
      delete $(`progress-${id}`).dataset.step;
      delete $(`acc-${id}`).dataset.accuracy;
      delete $(`ips-${id}`).dataset.mean;
      $(`bar-${id}`).style.width = '0';
    }
  }

  private drawCurves(): void {
    const variants = this.page.variants;
    const series = (k: 'loss' | 'acc') => VARIANTS.filter((id) => variants[id][k].length).map((id) => ({ name: label(variants[id]), colour: COLOURS[id], points: variants[id][k], dots: k === 'acc', smooth: k === 'loss' ? 0.8 : undefined }));
    this.lossChart.set(series('loss'));
    this.accChart.set(series('acc'));
  }
}
