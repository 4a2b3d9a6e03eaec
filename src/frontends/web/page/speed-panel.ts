// Inference speed, side by side: both models on the same held-out batches, timed in alternating
// rounds so neither gains from going second (a warm cache, a clocked-up GPU).

import { isCpuAdapter, type Classifier, type GpuContext } from '../../../index.ts';
import type { DataPack } from '../data-pack.ts';
import { $, el, reportErrors, status, text } from './dom.ts';
import type { PageState } from './page-state.ts';
import { readSettings } from './settings.ts';
import { IMAGE, VARIANTS, type VariantId } from './variants.ts';

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

/** Two different held-out batches (rounds alternate between them). */
function heldOutBatches(pack: DataPack, batch: number): Float32Array[] {
  const per = IMAGE * IMAGE;
  const test = pack.test;
  return [0, 1].map((k) => {
    const out = new Float32Array(batch * per);
    for (let i = 0; i < batch; i++) {
      const idx = test.indices[(k * batch + i) % test.indices.length]!;
      out.set(pack.dataset.images.subarray(idx * per, (idx + 1) * per), i * per);
    }
    return out;
  });
}

/** The speed card: its Measure button and table. */
export class SpeedPanel {
  constructor(private readonly page: PageState) {}

  bind(): void {
    $('measure').addEventListener('click', () => reportErrors(this.measure()));
  }

  measure(): Promise<void> {
    const page = this.page;
    return page.queue.exclusive('measuring inference speed…', async () => {
      // The training loops would share the GPU with the timed rounds: hold them meanwhile.
      const wasRunning = page.running && !page.baton.paused;
      if (wasRunning) page.baton.pause();
      try {
        await page.ctx!.device.queue.onSubmittedWorkDone();
        const evalBatch = (page.settingsInRun ?? readSettings()).evalBatch;
        const ids = VARIANTS.filter((id) => page.variants[id].runner || !page.hasRun);
        const classifiers: Classifier[] = [];
        for (const id of ids) classifiers.push(await this.evaluatorOf(id, evalBatch));
        const images = heldOutBatches(page.pack, evalBatch);
        const rounds = isCpuAdapter(page.ctx!) ? 3 : 12;
        status(`timing inference: ${rounds} alternating rounds of batch ${evalBatch}…`);
        const rates = await timeInference(page.ctx!, classifiers, images, rounds);
        this.showRates(ids, classifiers, rates, evalBatch, rounds);
      } finally {
        if (wasRunning) page.baton.resume();
      }
      status(page.baton.paused ? 'inference timed (training paused)' : page.running ? 'inference timed; training continues' : 'inference timed');
    });
  }

  /** The variant's evaluator for this batch with its current weights (compiled when missing). */
  private async evaluatorOf(id: VariantId, batch: number): Promise<Classifier> {
    const v = this.page.variants[id];
    const weights = await this.page.currentWeights(v);
    let c = v.evaluator;
    if (!c || c.batch !== batch) c = await this.page.buildEvaluator(v, batch, v.spec, weights);
    c.setWeights(weights);
    return c;
  }

  private showRates(ids: VariantId[], classifiers: Classifier[], rates: number[], batch: number, rounds: number): void {
    ids.forEach((id, k) => {
      const c = classifiers[k]!;
      text(`speed-${id}`, rates[k]!.toFixed(rates[k]! < 10 ? 2 : 1));
      $(`speed-${id}`).dataset.rate = String(rates[k]);
      text(`speed-ms-${id}`, ((1000 * batch) / rates[k]!).toFixed(1));
      text(`flops-${id}`, (c.program.plan.flops / batch / 1e9).toFixed(4));
    });
    const b = ids.indexOf('base'), f = ids.indexOf('fpet');
    if (b < 0 || f < 0) return;
    const speedup = rates[f]! / rates[b]!;
    const flopRatio = classifiers[b]!.program.plan.flops / classifiers[f]!.program.plan.flops;
    $('speedup').dataset.speedup = String(speedup);
    $('speedup').replaceChildren(el('b', {}, `FPET: ${speedup.toFixed(2)}× the images per second of AdaptFormer`),
      ` (FLOP ratio ${flopRatio.toFixed(2)}×; batch ${batch}, ${rounds} rounds each; ${isCpuAdapter(this.page.ctx!) ? 'software adapter: the GPU work runs on the CPU' : 'hardware GPU'})`);
  }
}
