// How many training images per second the data pipeline delivers (read, decode, RandomResizedCrop
// and flip to 224², in the decoding threads) from a generated folder of photo-sized JPEGs: what a
// GPU step must not outrun. Not a test (no .test.ts); run it by hand:
//
//   node --import tsx test/data/decode-timing.ts [workers] [images] [width] [height]
//
// (defaults: 1 thread, 96 images of 500 × 375, the typical VTAB / ImageNet size, 10% held out; batches of 32,
// the folder's first scan not counted).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { closeImagePools, openFolderData } from '../../src/fpet/data/image-source.ts';
import { timmTransform } from '../../src/fpet/data/transforms.ts';
import { rngFrom } from '../support/random.ts';
import { PATTERNS, picture } from './folders.ts';

const [workers = '1', count = '96', width = '500', height = '375'] = process.argv.slice(2).map(String);
const root = mkdtempSync(join(tmpdir(), 'fpet-decode-timing-'));
process.env.XDG_CACHE_HOME = join(root, 'cache');
try {
  const rand = rngFrom(1);
  const w = Number(width), h = Number(height);
  for (let i = 0; i < Number(count); i++) {
    const cls = PATTERNS[i % PATTERNS.length]!;
    mkdirSync(join(root, 'data', cls), { recursive: true });
    writeFileSync(join(root, 'data', cls, `${i}.jpg`), jpeg.encode({ width: w, height: h, data: picture(cls, w, h, rand) }, 90).data);
  }
  const d = await openFolderData({
    root: join(root, 'data'), valSplit: 0.1, splitSeed: 0, skipBad: false, workers: Number(workers), prefetch: 4,
    channels: 3, transform: timmTransform(224), progress: false,
  });
  const t = performance.now(), cpu = process.cpuUsage();
  let n = 0;
  for await (const b of d.train.batches(32, { shuffle: true, augment: true, seed: 0, epoch: 0 })) n += b.size;
  const s = (performance.now() - t) / 1000, used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / n;
  // CPU time per image (all threads of the process) does not depend on how loaded the machine is; wall time does.
  console.log(`${workers} decoding thread(s): ${n} JPEGs of ${w}×${h} to 224² (RandomResizedCrop, flip) in ${s.toFixed(2)} s: ${(n / s).toFixed(1)} img/s; ${cpuMs.toFixed(0)} ms of CPU per image (${(1000 / cpuMs).toFixed(0)} img/s per free core)`);
} finally {
  await closeImagePools();
  rmSync(root, { recursive: true, force: true });
}
