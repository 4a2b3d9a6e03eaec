// In-browser training throughput beside Node's, for the same small job on the same machine:
//
//   node --import tsx test/browser/throughput.ts [--batch 8] [--steps 8]
//
// Node runs it on Dawn (lavapipe, or whatever requestGpu finds); the browser run is headless
// Chromium on SwiftShader through src/frontends/web/chromium.ts. The job is test/browser/throughput-job.ts:
// the page's two models, compiled and trained with trainLoop, loss read back every step.
// Software adapters: compare the two numbers of one run, never absolute numbers across machines.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInChromium } from '../../src/frontends/web/chromium.ts';
import { throughputJob, type JobResult } from './throughput-job.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const opts = { batch: arg('batch', 8), steps: arg('steps', 8) };

const node = await throughputJob(opts);
const dir = mkdtempSync(join(tmpdir(), 'throughput-'));
let browser: JobResult;
try {
  const entry = join(dir, 'entry.ts');
  const real = fileURLToPath(new URL('./throughput-entry.ts', import.meta.url));
  writeFileSync(entry, `Object.assign(window, { __jobOptions: ${JSON.stringify(opts)} });\nawait import(${JSON.stringify(real)});\n`);
  browser = (await runInChromium(entry, { timeoutMs: 30 * 60_000, onConsole: () => {} })) as JobResult;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`job: batch ${opts.batch}, ${opts.steps} timed steps per model (after one untimed), loss read back every step\n`);
console.log(`node:    ${node.adapter}\nbrowser: ${browser.adapter}\n`);
console.log('| model | Node img/s | browser img/s | browser / Node | Node compile | browser compile |');
console.log('|---|---|---|---|---|---|');
node.runs.forEach((r, i) => {
  const b = browser.runs[i]!;
  console.log(`| ${r.model} | ${r.imagesPerSec.toFixed(1)} | ${b.imagesPerSec.toFixed(1)} | ${(b.imagesPerSec / r.imagesPerSec).toFixed(2)}x | ${(r.compileMs / 1000).toFixed(1)} s | ${(b.compileMs / 1000).toFixed(1)} s |`);
});
process.exit(0);
