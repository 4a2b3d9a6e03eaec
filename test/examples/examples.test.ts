// The runnable examples (examples/*.ts) run as a user runs them and succeed: each checks its own
// result (GPU vs float64, accuracy rising, the sample digit read as a 7) and exits non-zero if not.
// So does the API example printed in the README.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

test('the README\'s API example runs as printed (GPU loss within 1e-4 of the float64 one)', () => {
  const readme = readFileSync('README.md', 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README.md has no ```ts block');
  // Inside the package folder, so that 'fpet-webgpu' resolves to this package; Dawn keeps a process
  // alive, so the snippet's process is ended the way the examples end theirs.
  mkdirSync('runs', { recursive: true });
  const file = join(mkdtempSync(join('runs', 'readme-')), 'snippet.ts');
  writeFileSync(file, `${code}\nprocess.exit(0);\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=fpet-webgpu-source', file], { encoding: 'utf8', timeout: 300_000 });
  rmSync(dirname(file), { recursive: true, force: true });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`.slice(-3000));
  const m = /^loss (\S+) \(float64 (\S+)\)/m.exec(r.stdout);
  assert.ok(m, `no loss line in:\n${r.stdout.slice(-2000)}`);
  const [gpu, ref] = [Number(m[1]), Number(m[2])];
  assert.ok(Math.abs(gpu - ref) <= 1e-4 * Math.max(1, Math.abs(ref)), `GPU loss ${gpu} vs float64 ${ref}`);
});
