// A training run's evaluator compiled at its first evaluation: nothing is compiled before it, the
// weights set before it are the ones evaluated, later evaluations reuse it, its memory is known
// from its plan beforehand, evaluations started together share one compile, and it predicts
// exactly what a classifier compiled up front does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph } from '../../codegen/compile.ts';
import { deviceLimits } from '../../src/core/runtime/program.ts';
import { loadDataset } from '../../src/fpet/data/mnist.ts';
import { makeSplits } from '../../src/fpet/data/dataset.ts';
import { buildModel, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { Classifier } from '../../src/fpet/train/inference.ts';
import { DeferredEvaluator } from '../../src/fpet/train/deferred-evaluator.ts';
import { gpu } from '../support/gpu.ts';

test('deferred evaluator: compiled at the first evaluation only, with the weights set before it; same predictions as one compiled up front', { timeout: 300_000 }, async () => {
  const ctx = await gpu();
  const vit = { ...VIT_PRESETS['vit-mnist'], patchSize: 7, dim: 16, depth: 2, heads: 2 };
  const spec: ModelSpec = { vit, batch: 8, pet: DEFAULT_PET.adaptformer };
  const weights = initialWeights(spec, 3);
  const { test: held } = makeSplits(loadDataset('mnist'), { trainSize: 16, testSize: 20, seed: 0 });
  let created = 0;
  const plan = compileGraph(buildModel({ ...spec, training: undefined }).graph, { limits: deviceLimits(ctx) });
  const deferred = new DeferredEvaluator(async () => (created++, Classifier.create(ctx, spec, weights)), plan);
  const direct = await Classifier.create(ctx, spec, weights);
  try {
    const untrained = await direct.evaluate(held);
    // Trained weights arrive before the evaluator exists (as after an epoch): a negated head.
    const trained = new Map([['head.weight', weights.get('head.weight')!.map((v) => -v)]]);
    deferred.setWeights(trained);
    direct.setWeights(trained);
    assert.equal(created, 0, 'nothing compiled before the first evaluation');
    assert.equal(deferred.memoryBytes, direct.program.memoryBytes, 'its memory is known from its plan');
    const batches: [number, number][] = [];
    const a = await deferred.evaluate(held, { onBatch: (done, total) => batches.push([done, total]) });
    assert.equal(created, 1);
    assert.deepEqual(batches[0], [0, 20], 'progress starts at 0 before compiling');
    const b = await direct.evaluate(held);
    assert.deepEqual(Array.from(a.predictions), Array.from(b.predictions), 'the weights set before it are the ones evaluated');
    assert.notDeepEqual(Array.from(a.predictions), Array.from(untrained.predictions), 'and they matter');
    assert.equal(a.accuracy, b.accuracy);
    await deferred.evaluate(held);
    assert.equal(created, 1, 'later evaluations reuse it');
    // Evaluations started together share one compile.
    const together = new DeferredEvaluator(async () => (created++, Classifier.create(ctx, spec, weights)), plan);
    try {
      const [x, y] = await Promise.all([together.evaluate(held), together.evaluate(held)]);
      assert.equal(created, 2);
      assert.deepEqual(Array.from(x.predictions), Array.from(y.predictions));
    } finally {
      together.destroy();
    }
  } finally {
    deferred.destroy();
    direct.destroy();
  }
});
