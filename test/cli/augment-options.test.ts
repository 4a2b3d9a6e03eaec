// The train command's augmentation options: any combination either becomes an AffineAugment within
// its limits (or none) or is refused with a UsageError naming the option and its range.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsageError, parseArgs } from '../../src/frontends/cli/args.ts';
import { TRAIN_OPTIONS, trainOptionsFrom } from '../../src/frontends/cli/train-options.ts';
import { AFFINE_AUGMENT_LIMITS } from '../../src/fpet/data/dataset.ts';
import { fcParams } from '../support/random.ts';

// Mostly inside the ranges, sometimes just outside, sometimes not a number.
const num = (max: number) => fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max, noNaN: true }).map((v) => String(Math.round(v * 100) / 100)) },
  { weight: 1, arbitrary: fc.constantFrom('-0.1', String(max + 0.5), 'x', '') },
);

test('property: --augment-scale/--augment-rotate/--augment-plain parse to an AffineAugment within its limits or fail naming the option', () => {
  let ok = 0, affine = 0, bad = 0;
  fc.assert(fc.property(
    fc.option(fc.oneof(fc.array(num(2.2), { minLength: 1, maxLength: 3 }), fc.tuple(fc.double({ min: 0.5, max: 2, noNaN: true }), fc.double({ min: 0.5, max: 2, noNaN: true })).map(([x, y]) => [String(Math.min(x, y)), String(Math.max(x, y))])), { nil: undefined }),
    fc.option(num(190), { nil: undefined }), fc.option(num(1.1), { nil: undefined }),
    (scale, rotate, plain) => {
      const argv = ['--backbone', 'random', ...(scale ? ['--augment-scale', scale.join(',')] : []), ...(rotate !== undefined ? ['--augment-rotate', rotate] : []), ...(plain !== undefined ? ['--augment-plain', plain] : [])];
      try {
        const o = trainOptionsFrom(parseArgs('train', argv, TRAIN_OPTIONS));
        ok++;
        if (!o.augmentAffine) return;
        affine++;
        const { scale: [lo, hi], rotate: r, plain: p } = o.augmentAffine;
        const L = AFFINE_AUGMENT_LIMITS;
        assert.ok(L.scale[0] <= lo && lo <= hi && hi <= L.scale[1], `scale ${lo},${hi}`);
        assert.ok(L.rotate[0] <= r && r <= L.rotate[1], `rotate ${r}`);
        assert.ok(L.plain[0] <= p && p <= L.plain[1], `plain ${p}`);
        assert.ok(scale !== undefined || r !== 0, 'an AffineAugment only when zoom or rotation was asked for');
      } catch (e) {
        assert.ok(e instanceof UsageError, (e as Error).stack);
        assert.match(e.message, /--augment-(scale|rotate|plain)/, e.message);
        bad++;
      }
    },
  ), fcParams(300));
  console.log(`augmentation options: ${ok} parsed (${affine} with zoom or rotation), ${bad} rejected`);
  assert.ok(affine > 0 && bad > 0, 'the generator reaches both outcomes');
});

test('augmentation options: the pre-training recipe parses; plain without zoom or rotation is refused', () => {
  const o = trainOptionsFrom(parseArgs('train', ['--augment', '2', '--augment-scale', '0.85,1.5', '--augment-rotate', '15', '--augment-plain', '0.3'], TRAIN_OPTIONS));
  assert.deepEqual(o.augmentAffine, { scale: [0.85, 1.5], rotate: 15, plain: 0.3 });
  assert.equal(o.augmentShift, 2);
  assert.equal(trainOptionsFrom(parseArgs('train', ['--augment', '1'], TRAIN_OPTIONS)).augmentAffine, undefined);
  assert.throws(() => trainOptionsFrom(parseArgs('train', ['--augment-plain', '0.3'], TRAIN_OPTIONS)), /--augment-plain needs --augment-scale or --augment-rotate/);
  assert.throws(() => trainOptionsFrom(parseArgs('train', ['--augment-scale', '1.5,0.85'], TRAIN_OPTIONS)), /--augment-scale takes MIN,MAX with 0.5 <= MIN <= MAX <= 2/);
  assert.throws(() => trainOptionsFrom(parseArgs('train', ['--augment-scale', '3,4'], TRAIN_OPTIONS)), /--augment-scale/);
});
