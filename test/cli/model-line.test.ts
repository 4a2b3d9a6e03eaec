// The model line train, compile and the multi-run commands print: a ToMe --tome-r larger than a
// block can merge (ToMe merges at most its set A, half the tokens left) is said, with what runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeSpec } from '../../src/frontends/cli/model-options.ts';
import { DEFAULT_MERGE, DEFAULT_PET, mergeSchedule, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { fcParams } from '../support/random.ts';

const tome = (r: number, blocks: number[]): ModelSpec => ({ vit: VIT_PRESETS['vit-mnist'], batch: 2, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, kind: 'tome', blocks, r } });

test('describeSpec: a ToMe r every block can merge is printed as given; a larger one with the merges that run', () => {
  assert.equal(describeSpec(tome(4, [0, 1, 2])), 'AdaptFormer(dim 8, s 1), ToMe r=4 at blocks 0,1,2');
  assert.match(describeSpec(tome(40, [0, 1, 2, 3, 4, 5])), /ToMe r=40 at blocks 0,1,2,3,4,5 \(at most half the tokens left per block: 24, 12, 6, 3, 2, 1 merged, 50 → 2 tokens\)$/);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 6 }), (r, depth) => {
      const spec = tome(r, Array.from({ length: depth }, (_, i) => i));
      const clamped = mergeSchedule(spec).some((m) => m.r < r);
      assert.equal(/at most half/.test(describeSpec(spec)), clamped);
    }),
    fcParams(50),
  );
});
