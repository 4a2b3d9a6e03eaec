// Writes the tests' generated image folder (./folders.ts) to a folder of your choice, to try the
// commands by hand (docs/own-images.md): 3 classes × 24 training + 8 held-out images, PNG and JPEG,
// RGB and grey, 9 to 40 pixels a side.
//
//   node --import tsx test/data/make-folder.ts DIR [seed]

import { existsSync } from 'node:fs';
import { makeFolder } from './folders.ts';

const [dir, seed = '5'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node --import tsx test/data/make-folder.ts DIR [seed]');
  process.exit(2);
}
if (existsSync(dir)) {
  console.error(`${dir} exists already; give a new folder`);
  process.exit(1);
}
const { files } = makeFolder(dir, { perClass: 24, valPerClass: 8, seed: Number(seed) });
console.log(`wrote ${files.length} images to ${dir} (train/ and val/, classes blob, hstripes, vstripes)`);
