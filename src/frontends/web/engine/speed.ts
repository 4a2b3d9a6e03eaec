// Inference speed in the worker, side by side: both models on the same held-out batches, timed in
// alternating rounds so neither gains from going second (a warm cache, a clocked-up GPU).

import { isCpuAdapter, type Classifier, type GpuContext } from '../../../index.ts';
import type { DataPack } from '../data-pack.ts';
import { IMAGE, VARIANTS, type VariantId } from '../variants.ts';
import type { Engine } from './engine.ts';

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

/** The speed test. */
export class Speed {
  constructor(private readonly engine: Engine) {}

  measure(evalBatchOfForm: number): Promise<void> {
    const engine = this.engine;
    return engine.queue.exclusive('measuring inference speed…', async () => {
      // The training loops would share the GPU with the timed rounds: hold them meanwhile.
      const wasRunning = engine.running && !engine.baton.paused;
      if (wasRunning) engine.baton.pause();
      try {
        await engine.ctx!.device.queue.onSubmittedWorkDone();
        const evalBatch = engine.settingsInRun?.evalBatch ?? evalBatchOfForm;
        const ids = VARIANTS.filter((id) => engine.variants[id].runner || !engine.hasRun);
        const classifiers: Classifier[] = [];
        for (const [k, id] of ids.entries()) classifiers.push(await this.evaluatorOf(id, evalBatch, ids.length - 1 - k));
        const rounds = isCpuAdapter(engine.ctx!) ? 3 : 12;
        engine.status(`timing inference: ${rounds} alternating rounds of batch ${evalBatch}…`);
        const rates = await timeInference(engine.ctx!, classifiers, heldOutBatches(engine.pack, evalBatch), rounds);
        this.send(ids, classifiers, rates, evalBatch, rounds);
      } finally {
        if (wasRunning) engine.baton.resume();
      }
      engine.status(engine.baton.paused ? 'inference timed (training paused)' : engine.running ? 'inference timed; training continues' : 'inference timed');
    });
  }

  /** The variant's evaluator for this batch with its current weights (compiled when missing: this runs inside an exclusive operation). */
  private async evaluatorOf(id: VariantId, batch: number, queued: number): Promise<Classifier> {
    const v = this.engine.variants[id];
    const weights = await this.engine.currentWeights(v);
    let c = v.evaluator;
    if (!c || c.batch !== batch) c = await this.engine.buildEvaluator(v, batch, v.spec, weights, queued);
    c.setWeights(weights);
    return c;
  }

  private send(ids: VariantId[], classifiers: Classifier[], rates: number[], batch: number, rounds: number): void {
    const rows = ids.map((id, k) => ({ id, rate: rates[k]!, msPerBatch: (1000 * batch) / rates[k]!, gflop: classifiers[k]!.program.plan.flops / batch / 1e9 }));
    const b = ids.indexOf('base'), f = ids.indexOf('fpet');
    const both = b >= 0 && f >= 0;
    this.engine.emit({
      kind: 'speed', rows,
      speedup: both ? rates[f]! / rates[b]! : undefined,
      flopRatio: both ? classifiers[b]!.program.plan.flops / classifiers[f]!.program.plan.flops : undefined,
      note: `batch ${batch}, ${rounds} rounds each; ${isCpuAdapter(this.engine.ctx!) ? 'software adapter: the GPU work runs on the CPU' : 'hardware GPU'}`,
    });
  }
}
