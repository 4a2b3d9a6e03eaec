// Image folders as data, on folders generated here: the layouts, class order and splits; every kind
// of odd file named in one message (or left out and counted with skipBad); the scan's cache; and
// the batch source: the same pixels whatever the number of decoding threads, a bounded number of
// images in flight, the eval transform exactly, 16-bit PNG samples exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanImageFolder, FOLDER_LIMITS } from '../../src/fpet/data/image-folder.ts';
import { closeImagePools, ImageFolderSource, imagePool, openFolderData } from '../../src/fpet/data/image-source.ts';
import { ImagePool } from '../../src/fpet/data/image-pool.ts';
import { evalTransform, timmTransform } from '../../src/fpet/data/transforms.ts';
import { decodeImagePlanar } from '../../src/core/io/image.ts';
import { readFileSync } from 'node:fs';
import { chunk, concat, ihdr, SIGNATURE, encodeTestPng } from '../io/png-encoder.ts';
import { handJpeg } from '../io/hand-jpeg.ts';
import { makeFolder } from './folders.ts';
import type { Batch } from '../../src/fpet/data/dataset.ts';

const work = mkdtempSync(join(tmpdir(), 'fpet-folders-'));
process.env.XDG_CACHE_HOME = join(work, 'cache'); // the scan cache of these tests stays here
test.after(async () => {
  await closeImagePools();
  rmSync(work, { recursive: true, force: true });
});
let n = 0;
const fresh = () => {
  const d = join(work, `f${n++}`);
  mkdirSync(d);
  return d;
};
const quiet = { progress: false } as const;

test('train/ and val/: classes sorted by name, images anywhere below a class folder, hidden and other files ignored', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 6, valPerClass: 2, classes: ['zebra', 'apple', 'Mango'] });
  mkdirSync(join(root, 'train', 'apple', 'more', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'train', 'apple', 'more', 'deeper', 'x.PNG'), encodeTestPng({ width: 9, height: 9, colorType: 0, bitDepth: 8, samples: Array(81).fill(7) }));
  writeFileSync(join(root, 'train', 'apple', '.DS_Store'), 'junk');
  writeFileSync(join(root, 'train', 'apple', '._img000.jpg'), 'AppleDouble junk');
  writeFileSync(join(root, 'train', 'apple', 'notes.txt'), 'x');
  writeFileSync(join(root, 'train', 'README.md'), 'x');
  const f = await scanImageFolder(root, quiet);
  assert.deepEqual(f.classes, ['Mango', 'apple', 'zebra']); // code-point order, as Python's sorted()
  assert.equal(f.valFrom, 'val/');
  assert.equal(f.train.length, 19);
  assert.equal(f.val.length, 6);
  assert.equal(f.ignored, 4); // .DS_Store, ._img000.jpg, notes.txt, README.md
  assert.ok(f.train.some((m) => m.rel === 'train/apple/more/deeper/x.PNG' && m.label === 1));
  for (const m of [...f.train, ...f.val]) assert.equal(f.classes[m.label], m.rel.split('/')[1]);
});

test('one folder of classes: a fixed, proportional, disjoint held-out split per --split-seed', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 10, valPerClass: 0 });
  mkdirSync(join(root, 'rare'));
  for (let i = 0; i < 3; i++) writeFileSync(join(root, 'rare', `${i}.png`), encodeTestPng({ width: 9, height: 9, colorType: 0, bitDepth: 8, samples: Array(81).fill(i) }));
  const a = await scanImageFolder(root, { ...quiet, valSplit: 0.2, splitSeed: 0 });
  const b = await scanImageFolder(root, { ...quiet, valSplit: 0.2, splitSeed: 0 });
  const c = await scanImageFolder(root, { ...quiet, valSplit: 0.2, splitSeed: 1 });
  assert.deepEqual(a.val.map((m) => m.rel), b.val.map((m) => m.rel));
  assert.notDeepEqual(a.val.map((m) => m.rel), c.val.map((m) => m.rel));
  const perClass = (imgs: readonly { label: number }[]) => a.classes.map((_, k) => imgs.filter((m) => m.label === k).length);
  assert.deepEqual(a.classes, ['blob', 'hstripes', 'rare', 'vstripes']);
  assert.deepEqual(perClass(a.val), [2, 2, 1, 2]); // round(0.2 · 10) = 2, round(0.2 · 3) = 1
  assert.deepEqual(perClass(a.train), [8, 8, 2, 8]);
  const held = new Set(a.val.map((m) => m.path));
  assert.ok(a.train.every((m) => !held.has(m.path)));
  assert.match(a.valFrom, /20% of each class held out \(split seed 0\)/);
});

/** A PNG whose header declares w × h (with a token of image data): refused from the header. */
const hugePng = (w: number, h: number) => concat([SIGNATURE, chunk('IHDR', ihdr(w, h, 8, 2)), chunk('IDAT', Uint8Array.of(0x78, 0x9c, 3, 0, 0, 0, 0, 1)), chunk('IEND', new Uint8Array(0))]);

test('odd files are named all at once; with skipBad they are left out and counted, and good 16-bit PNGs are read exactly', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 4, valPerClass: 2 });
  const cls = join(root, 'train', 'blob');
  writeFileSync(join(cls, 'cmyk.jpg'), handJpeg({ components: [1, 2, 3, 4].map((id) => ({ id, value: 144 as const })), adobe: 0 }));
  writeFileSync(join(cls, 'tiny.png'), encodeTestPng({ width: 1, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3] }));
  writeFileSync(join(cls, 'huge.png'), hugePng(20_000, 20_000));
  writeFileSync(join(cls, 'truncated.jpg'), readFileSync(join(cls, 'img000.jpg')).subarray(0, 200));
  writeFileSync(join(cls, 'anim.gif'), 'GIF89a');
  symlinkSync(join(root, 'train'), join(cls, 'loop'));
  symlinkSync(join(cls, 'nowhere.png'), join(cls, 'dangling.png'));
  symlinkSync('self.png', join(cls, 'self.png'));
  execFileSync('mkfifo', [join(cls, 'pipe.png')]);
  const deep = Array.from({ length: 16 }, (_, i) => 16 * i + 3);
  writeFileSync(join(cls, 'deep16.png'), encodeTestPng({ width: 8, height: 8, colorType: 0, bitDepth: 16, samples: Array.from({ length: 64 }, (_, i) => deep[i % 16]! * 251) }));
  const t0 = performance.now();
  await assert.rejects(scanImageFolder(root, quiet), (e: Error) => {
    for (const re of [
      /9 files or folders cannot be used \(--skip-bad leaves them out and counts them\)/,
      /blob\/cmyk\.jpg: is a CMYK \(4-channel, print colour\) JPEG/, /blob\/tiny\.png: is 1×1 pixels; images must be at least 8×8/,
      /blob\/huge\.png: the image is 20000×20000 = 400,000,000 pixels, over the limit/, /blob\/truncated\.jpg: (the image data is truncated or corrupt|truncated)/,
      /blob\/anim\.gif: is a GIF file; only PNG and JPEG are read/, /blob\/loop: is a symbolic link loop \(it leads back to a folder above it\)/,
      /blob\/dangling\.png: is a broken symbolic link/, /blob\/self\.png: is a symbolic link loop/, /blob\/pipe\.png: is not a regular file/,
    ]) assert.match(e.message, re);
    assert.doesNotMatch(e.message, /deep16/);
    return true;
  });
  assert.ok(performance.now() - t0 < 30_000, 'the 20,000×20,000 header is refused without decoding');
  const f = await scanImageFolder(root, { ...quiet, skipBad: true });
  assert.equal(f.skipped.length, 9);
  assert.equal(f.train.length, 13);
  // The 16-bit PNG at the model's size through the eval transform (crop_pct 1: no resampling): v / 65535 exactly.
  const d = await openFolderData({ root, valSplit: 0.2, splitSeed: 0, skipBad: true, workers: 1, prefetch: 2, channels: 1, transform: { ...timmTransform(8), cropPct: 1 }, progress: false });
  const i = d.train.images.findIndex((m) => m.rel.endsWith('deep16.png'));
  const it = d.train.batches(d.train.count);
  const b = (await it.next()).value as Batch;
  const px = b.images.subarray(i * 64, (i + 1) * 64);
  px.forEach((v, k) => assert.ok(Math.abs(v - (deep[k % 16]! * 251) / 65535) < 1e-7, `pixel ${k}: ${v}`));
});

test('an empty class folder is named (or left out with skipBad); a held-out class that training lacks likewise', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 3, valPerClass: 1 });
  mkdirSync(join(root, 'train', 'empty'));
  writeFileSync(join(root, 'train', 'empty', 'notes.txt'), 'no images here');
  mkdirSync(join(root, 'val', 'stranger'));
  writeFileSync(join(root, 'val', 'stranger', 'a.png'), encodeTestPng({ width: 9, height: 9, colorType: 0, bitDepth: 8, samples: Array(81).fill(1) }));
  await assert.rejects(scanImageFolder(root, quiet), /the class folder "train\/empty" holds no usable PNG or JPEG images; add images, remove the folder, or pass --skip-bad/);
  const f = await scanImageFolder(root, { ...quiet, skipBad: true });
  assert.deepEqual(f.classes, ['blob', 'hstripes', 'vstripes']);
  assert.deepEqual(f.skipped, ['class train/empty left out: no usable images', 'val/stranger left out: not a training class']);
  rmSync(join(root, 'train', 'empty'), { recursive: true });
  await assert.rejects(scanImageFolder(root, quiet), /val\/ has class folder "stranger" that train\/ lacks/);
  await assert.rejects(scanImageFolder(join(root, 'nothing-here'), quiet), /image folder .*nothing-here: no such file or folder/);
  await assert.rejects(scanImageFolder(join(root, 'train', 'blob'), quiet), /no class folders/);
});

test('the first scan decodes every image; later scans decode only what changed', async () => {
  const root = fresh();
  const { files } = makeFolder(root, { perClass: 3, valPerClass: 1 });
  const pool = imagePool(1);
  assert.equal((await scanImageFolder(root, { ...quiet, pool })).decoded, 12);
  assert.equal((await scanImageFolder(root, { ...quiet, pool })).decoded, 0);
  utimesSync(files[0]!, new Date(), new Date(Date.now() + 5000));
  assert.equal((await scanImageFolder(root, { ...quiet, pool })).decoded, 1);
  assert.equal((await scanImageFolder(root, { ...quiet, pool, cache: false })).decoded, 12);
});

test('batches: the same pixels with 0 or 2 decoding threads; augmentation keyed by seed and epoch; eval = evalTransform', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 5, valPerClass: 2, sides: [9, 30] });
  const open = (workers: number) => openFolderData({ root, valSplit: 0.2, splitSeed: 0, skipBad: false, workers, prefetch: 2, channels: 3, transform: timmTransform(8), progress: false });
  const [main, threads] = [await open(0), await open(2)];
  const collect = async (d: typeof main, epoch: number, augment: boolean) => {
    const out: number[][] = [];
    for await (const b of d.train.batches(4, { shuffle: true, seed: 3, epoch, augment, dropLast: true })) out.push([...b.indices], Array.from(b.images));
    return out;
  };
  const a = await collect(main, 0, true);
  assert.deepEqual(await collect(threads, 0, true), a);
  assert.notDeepEqual(await collect(threads, 1, true), a);
  const skipped = [];
  for await (const b of threads.train.batches(4, { shuffle: true, seed: 3, epoch: 0, augment: true, dropLast: true, skip: 2 })) skipped.push([...b.indices], Array.from(b.images));
  assert.deepEqual(skipped, a.slice(4), 'a resumed epoch starts at the batch it stopped at, with the same images');
  const ev = (await threads.test.batches(100).next()).value!;
  threads.test.images.forEach((m, i) => {
    const want = evalTransform(decodeImagePlanar(readFileSync(m.path), 3, m.path), timmTransform(8));
    assert.deepEqual(Array.from(ev.images.subarray(i * 192, (i + 1) * 192)), Array.from(want));
  });
});

test('bounded memory: never more than prefetch batches of images decoding at once', async () => {
  const root = fresh();
  makeFolder(root, { perClass: 12, valPerClass: 1 });
  const f = await scanImageFolder(root, quiet);
  const real = new ImagePool(0);
  let inFlight = 0, most = 0, total = 0;
  const counting = { run: async (task: never) => { inFlight++; total++; most = Math.max(most, inFlight); try { return await real.run(task); } finally { inFlight--; } } } as unknown as ImagePool;
  const src = new ImageFolderSource('test', f.train, f.classes, { channels: 3, transform: timmTransform(8), pool: counting, prefetch: 2 });
  for await (const b of src.batches(4, { augment: true })) {
    assert.equal(b.size, 4);
    await new Promise((r) => setTimeout(r, 5)); // a slow consumer: the source must wait, not run ahead
  }
  assert.equal(total, 36);
  assert.ok(most <= 2 * 4, `at most prefetch × batch = 8 images in flight (saw ${most})`);
  assert.ok(FOLDER_LIMITS.minSide === 8);
});
