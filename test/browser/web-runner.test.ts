// The page's training machinery (src/frontends/web/trainer.ts) on the GPU, in Node, on the tiny test
// geometry: two runners (AdaptFormer, AdaptFormer + FPET) taking turns through trainLoop, paused and
// resumed, and FPET re-specialised mid-run for another merge ratio the way the page does it (stop
// at a step boundary, read the trainable tensors and AdamW moments, compile the new step, carry
// them over, continue from the same step). Everything the page shows comes from these events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Classifier, DEFAULT_MERGE, DEFAULT_PET, VIT_PRESETS, initialWeights, makeSplits, mulberry32, requestGpu, type Dataset, type ModelSpec } from '../../src/index.ts';
import { Baton } from '../../src/frontends/web/baton.ts';
import { Runner, compileTrainStep, type RunSettings } from '../../src/frontends/web/trainer.ts';

test('web runners: turns, pause, re-specialisation mid-run, finish', { timeout: 600_000 }, async () => {
  const ctx = await requestGpu({ label: 'web-runner' });
  const vit = VIT_PRESETS['vit-micro'];
  const n = 120;
  const rand = mulberry32(11);
  const labels = Int32Array.from({ length: n }, (_, i) => i % vit.numClasses);
  const images = new Float32Array(n * 64);
  for (let i = 0; i < n; i++) for (let p = 0; p < 64; p++) images[i * 64 + p] = (Math.floor(p / 8) === labels[i]! ? 0.8 : 0) + 0.2 * rand();
  const ds: Dataset = { name: 'rows', images, labels, classes: Array.from({ length: vit.numClasses }, (_, i) => `row ${i}`), count: n, imageSize: 8, channels: 1 };
  const { train, test: held } = makeSplits(ds, { trainSize: 80, testSize: 20, seed: 0 });
  const settings: RunSettings = { epochs: 2, batch: 8, lr: 5e-3, minLr: 1e-5, warmupLr: 1e-6, warmupEpochs: 0.2, seed: 0, evalEverySteps: 4, logEvery: 1, augmentShift: 1 };
  const spec = (merge?: ModelSpec['merge']): ModelSpec => ({ vit, batch: settings.batch, pet: DEFAULT_PET.adaptformer, merge, training: { dropout: 0.1, dropPath: 0.1 } });
  const baton = new Baton();
  const order: string[] = [];
  const accuracies: Record<string, number[]> = { base: [], fpet: [] };
  const ended: Record<string, { error: unknown; steps: number }> = {};
  const events = {
    onStep: (r: Runner, info: { step: number; loss?: number; seconds: number }) => {
      order.push(`${r.id}${info.step}`);
      assert.ok(Number.isFinite(info.loss) && info.seconds > 0);
    },
    onAccuracy: (r: Runner, info: { accuracy: number }) => void accuracies[r.id]!.push(info.accuracy),
    onEnd: (r: Runner, _res: unknown, error: unknown) => void (ended[r.id] = { error, steps: r.step }),
  };
  const runners: Runner[] = [];
  // The runners borrow their evaluators (asked for when an evaluation is due), as the page's worker lends them.
  const evaluators = new Map<string, Classifier>();
  const arriving = new Map<string, Promise<Classifier>>();
  try {
    for (const [id, merge] of [['base', undefined], ['fpet', { ...DEFAULT_MERGE, blocks: [1], ratio: 0.5 }]] as const) {
      const s = spec(merge);
      const weights = initialWeights(s, 0);
      let warmups = 0;
      const { step, report } = await compileTrainStep(ctx, s, weights, undefined, id, { tune: 'off', onWarmup: () => warmups++ });
      assert.ok(report.kernels > 0 && report.totalMs > 0);
      assert.equal(warmups, 1, 'the first dispatch is announced');
      // The evaluator arrives late (as when the worker compiles it while the run takes its first steps).
      const evaluator = new Promise<Classifier>((r) => setTimeout(() => r(Classifier.create(ctx, { ...s, batch: 10, training: undefined }, weights).then((c) => (evaluators.set(id, c), c))), 200));
      arriving.set(id, evaluator);
      runners.push(new Runner(id, s, step, () => evaluator, baton, { train, test: held }, settings, events));
    }
    const [base, fpet] = runners as [Runner, Runner];
    const loops = runners.map((r) => r.start());
    const until = async (f: () => boolean) => {
      for (let i = 0; i < 6000 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(f(), 'timed out');
    };
    await until(() => fpet.step >= 3);
    // turns: the two runners alternate
    assert.deepEqual(order.slice(0, 4), ['base1', 'fpet1', 'base2', 'fpet2']);

    // pause: no step while paused
    baton.pause();
    await new Promise((r) => setTimeout(r, 300));
    const atPause = order.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(order.length, atPause, 'no step while paused');

    // re-specialise FPET (ratio 0.5 -> 0.25) while paused, as the page does
    const before = fpet.step;
    await fpet.stop();
    const state = await fpet.state();
    const next = spec({ ...DEFAULT_MERGE, blocks: [1], ratio: 0.25 });
    const weights = initialWeights(next, 0);
    const moments = new Map<string, Float32Array>();
    for (const [k, v] of state) {
      const p = k.replace(/^adam\.[mv]:/, '');
      if (!weights.has(p)) continue;
      if (k === p) weights.set(k, v);
      else moments.set(k, v);
    }
    assert.ok(moments.size > 0, 'AdamW moments carried');
    const { step } = await compileTrainStep(ctx, next, weights, moments, 'fpet re-specialised', { tune: 'off' });
    fpet.destroy();
    fpet.trainStep = step;
    fpet.spec = next;
    (await arriving.get('fpet'))!.destroy();
    const respecialised = await Classifier.create(ctx, { ...next, batch: 10, training: undefined }, weights);
    evaluators.set('fpet', respecialised);
    fpet.evaluator = () => Promise.resolve(respecialised);
    assert.deepEqual(fpet.trainStep.model.tokenCounts.map((t) => t.mlp), [17, 13, 13, 13]);
    void fpet.start();
    baton.resume();
    await Promise.all(loops);
    await until(() => ended.fpet !== undefined && ended.base !== undefined);
    await until(() => !fpet.running);
    assert.equal(ended.base!.error, undefined);
    assert.equal(ended.fpet!.error, undefined);
    assert.equal(base.step, base.totalSteps);
    assert.equal(fpet.step, fpet.totalSteps, `continued from step ${before}`);
    assert.ok(order.includes(`fpet${before + 1}`), 'the re-specialised runner went on from the next step');
    assert.equal(base.history.length, 2);
    assert.equal(fpet.history.length, 2);
    for (const id of ['base', 'fpet']) {
      const acc = accuracies[id]!;
      assert.ok(acc.length >= 2 && acc.every((a) => a >= 0 && a <= 1), `${id}: accuracy reported (${acc.join(' ')})`);
    }
    assert.deepEqual(ctx.takeErrors(), []);
  } finally {
    for (const r of runners) r.destroy();
    await Promise.allSettled(arriving.values());
    for (const e of evaluators.values()) e.destroy();
    assert.equal(ctx.memory.liveBuffers, 0, 'every buffer destroyed');
    ctx.destroy();
  }
});
