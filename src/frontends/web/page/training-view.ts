// What a run shows while it trains: each variant's progress row (steps, loss, held-out accuracy,
// images per second) and the loss and accuracy curves (each with a text alternative), all fed by
// the worker's events.

import type { EngineEvent } from '../protocol.ts';
import { LineChart } from '../ui/chart.ts';
import { COLOURS, VARIANTS, type VariantId } from '../variants.ts';
import type { EngineClient } from './engine-client.ts';
import { $, pct, text } from './dom.ts';
import type { VariantViews } from './variant-view.ts';

/** A variant's curves and row state. */
interface Curves {
  loss: [number, number][];
  acc: [number, number][];
  ipsEma?: number;
  progress?: string;
}

/** The runs table's live cells and the two charts. */
export class TrainingView {
  readonly lossChart: LineChart;
  readonly accChart: LineChart;
  private readonly curves: Record<VariantId, Curves> = { base: { loss: [], acc: [] }, fpet: { loss: [], acc: [] } };
  private run: Extract<EngineEvent, { kind: 'run' }> | undefined;

  constructor(private readonly engine: EngineClient, private readonly names: VariantViews) {
    this.lossChart = new LineChart($<HTMLCanvasElement>('loss-chart'), $('loss-chart-data'), { title: 'Training loss', yFormat: (v) => v.toFixed(v < 1 ? 2 : 1), xLabel: 'step', empty: 'press Start: the loss of every step appears here' });
    this.accChart = new LineChart($<HTMLCanvasElement>('acc-chart'), $('acc-chart-data'), { title: 'Held-out accuracy', yMin: 0, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`, xLabel: 'step', empty: 'held-out accuracy, measured while training' });
  }

  bind(): void {
    const engine = this.engine;
    engine.on('run', (e) => void (this.run = e));
    engine.on('step', (e) => this.showStep(e));
    engine.on('accuracy', (e) => this.showAccuracy(e));
    engine.on('evaluating', (e) => {
      const c = this.curves[e.id];
      text(`progress-${e.id}`, e.done < e.total ? `${c.progress ?? ''} · evaluating ${e.done}/${e.total}` : (c.progress ?? ''));
    });
    engine.on('run-end', (e) => {
      if (e.finished) text(`progress-${e.id}`, `done: ${e.step} steps`);
    });
    engine.on('curves-cleared', () => this.clearCurves());
  }

  private showStep(e: Extract<EngineEvent, { kind: 'step' }>): void {
    const c = this.curves[e.id];
    c.ipsEma = c.ipsEma === undefined ? e.ips : 0.8 * c.ipsEma + 0.2 * e.ips;
    if (e.loss !== undefined) {
      c.loss.push([e.step, e.loss]);
      text(`loss-${e.id}`, e.loss.toFixed(4));
    }
    $(`bar-${e.id}`).style.width = `${(100 * e.step) / e.totalSteps}%`;
    $(`bar-${e.id}`).parentElement!.setAttribute('aria-valuenow', String(Math.round((100 * e.step) / e.totalSteps)));
    c.progress = `epoch ${e.epoch + 1}/${this.run?.epochs ?? '?'} · step ${e.step}/${e.totalSteps}`;
    text(`progress-${e.id}`, c.progress);
    $(`progress-${e.id}`).dataset.step = String(e.step);
    $(`ips-${e.id}`).textContent = `${c.ipsEma.toFixed(c.ipsEma < 10 ? 2 : 1)} (mean ${e.meanIps.toFixed(e.meanIps < 10 ? 2 : 1)})`;
    $(`ips-${e.id}`).dataset.mean = String(e.meanIps);
    this.drawCurves();
  }

  private showAccuracy(e: Extract<EngineEvent, { kind: 'accuracy' }>): void {
    this.curves[e.id].acc.push([e.step, e.accuracy]);
    text(`acc-${e.id}`, `${pct(e.accuracy)} (${e.images} img${e.epochEnd ? ', epoch end' : ''})`);
    $(`acc-${e.id}`).dataset.accuracy = String(e.accuracy);
    this.drawCurves();
  }

  /** Empty curves and rows back to dashes (a new run, a reset). */
  clearCurves(): void {
    for (const id of VARIANTS) {
      this.curves[id] = { loss: [], acc: [] };
      for (const k of ['loss', 'acc', 'ips']) text(`${k}-${id}`, '–');
      text(`progress-${id}`, '–');
      delete $(`progress-${id}`).dataset.step;
      delete $(`acc-${id}`).dataset.accuracy;
      delete $(`ips-${id}`).dataset.mean;
      $(`bar-${id}`).style.width = '0';
      $(`bar-${id}`).parentElement!.setAttribute('aria-valuenow', '0');
    }
    this.drawCurves();
  }

  private drawCurves(): void {
    const series = (k: 'loss' | 'acc') => VARIANTS.filter((id) => this.curves[id][k].length).map((id) => ({ name: this.names.label(id), colour: COLOURS[id], points: this.curves[id][k], dots: k === 'acc', smooth: k === 'loss' ? 0.8 : undefined }));
    this.lossChart.set(series('loss'));
    this.accChart.set(series('acc'));
  }
}
