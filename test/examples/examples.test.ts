// The runnable examples (examples/*.ts) run as a user runs them and succeed: each checks its own
// result (GPU vs float64, accuracy rising, the sample digit read as a 7) and exits non-zero if not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const EXAMPLES: [string, string[]][] = [
  ['examples/custom-graph.ts', []],
  ['examples/fpet-inference.ts', []],
  ['examples/train-loop.ts', ['--epochs', '2']],
];

for (const [file, args] of EXAMPLES) {
  test(`example ${file} runs and checks its own result`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=fpet-webgpu-source', file, ...args], { encoding: 'utf8', timeout: 900_000 });
    const out = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => !l.startsWith('Warning: max')).join('\n');
    console.log(out.split('\n').filter((l) => l.trim()).slice(-6).join('\n'));
    assert.equal(r.status, 0, out.slice(-3000));
  });
}
