// Inference speed, side by side: the Measure button and the table of what the worker timed (both
// models on the same held-out batches, in alternating rounds).

import type { EngineEvent } from '../protocol.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, reportErrors, text } from './dom.ts';
import { readSettings } from './settings.ts';

/** The speed card. */
export class SpeedPanel {
  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    $('measure').addEventListener('click', () => reportErrors(this.engine.request({ kind: 'measure', evalBatch: readSettings().evalBatch })));
    this.engine.on('speed', (e) => this.show(e));
  }

  private show(e: Extract<EngineEvent, { kind: 'speed' }>): void {
    for (const r of e.rows) {
      text(`speed-${r.id}`, r.rate.toFixed(r.rate < 10 ? 2 : 1));
      $(`speed-${r.id}`).dataset.rate = String(r.rate);
      text(`speed-ms-${r.id}`, r.msPerBatch.toFixed(1));
      text(`flops-${r.id}`, r.gflop.toFixed(4));
    }
    if (e.speedup === undefined) return;
    $('speedup').dataset.speedup = String(e.speedup);
    $('speedup').replaceChildren(el('b', {}, `FPET: ${e.speedup.toFixed(2)}× the images per second of AdaptFormer`), ` (FLOP ratio ${e.flopRatio!.toFixed(2)}×; ${e.note})`);
  }
}
