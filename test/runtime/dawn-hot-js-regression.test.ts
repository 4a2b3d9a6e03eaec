// Regression test for the Dawn crash of WEBGPU-HEADLESS.md: a Node process interleaving GPU work
// with hot JS loops died within a few hundred iterations (webgpu 0.6.2).
//
// What was observed on this machine (2 vCPU, lavapipe / Mesa 25.0.7, Node 20.20.2), running
// test/runtime/fixtures/hot-loop.ts by hand, 400 iterations, 6 runs per line:
// - --raw-dawn (the GPU object from create() held only in a local, as in WEBGPU-HEADLESS.md),
//   WITHOUT --no-turbofan: 6 of 6 died: 2 segfaults (139), 1 "std::system_error: Invalid
//   argument" abort, 1 "malloc_consolidate(): unaligned fastbin chunk detected" abort (134),
//   2 hangs killed after 90 s. Other runs also showed "The futex facility returned an unexpected
//   error code" and "pthread_mutex_lock ... Assertion `robust || ...' failed".
// - --raw-dawn WITH --no-turbofan: 6 of 6 clean.
// - --raw-dawn without --no-turbofan but with the GPU object also stored in a global: 6 of 6 clean.
// - through requestGpu() without --no-turbofan: 6 of 6 clean at 400 iterations, 6 of 6 at 2000.
// Root cause (gdb): once the GPU object is garbage-collected, dawn.node's AsyncRunner still calls
// InstanceBase::ProcessEvents on the freed instance (pthread_mutex_lock on a misaligned address).
// Optimized code lets the GC see the `gpu` local as dead; the interpreter does not, which is why
// --no-turbofan hid it. A GPU object dropped right away crashes at the first mapAsync with or
// without --no-turbofan. src/core/runtime/device.ts now keeps its GPU objects alive, and the second
// test below checks that the fix holds even with TurboFan on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/hot-loop.ts', import.meta.url));
const ITERATIONS = 400;

function runFixture(nodeFlags: string[], extraArgs: string[] = [], timeoutMs = 240_000) {
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', fixture, String(ITERATIONS), ...extraArgs], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL', // the crash can also show up as a hang: do not wait on a polite signal
  });
  const how = r.error ? `error ${r.error.message}` : r.signal ? `signal ${r.signal}` : `exit code ${r.status}`;
  return { ...r, how, tail: `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-8).join('\n') };
}

test(`${ITERATIONS} iterations of hot JS + GPU with --no-turbofan (the workaround the crash report suggested)`, { timeout: 300_000 }, () => {
  const r = runFixture(['--no-turbofan']);
  assert.equal(r.status, 0, `fixture died (${r.how}):\n${r.tail}`);
  assert.match(r.stdout, new RegExp(`^ok ${ITERATIONS} iterations$`, 'm'));
});

test(`${ITERATIONS} iterations under the project's Node flags (TurboFan on): requestGpu() keeps Dawn's instance alive`, { timeout: 300_000 }, () => {
  const r = runFixture([]);
  assert.equal(r.status, 0, `fixture died (${r.how}): has device.ts stopped holding the GPU object?\n${r.tail}`);
  assert.match(r.stdout, new RegExp(`^ok ${ITERATIONS} iterations$`, 'm'));
});

// Opt-in (DAWN_REPRO=1): checks that the upstream bug is still there, i.e. that the fixture does
// exercise it. Slow when a run hangs; expect "fail" once dawn.node keeps its instance alive itself.
test('upstream bug still reproduces: GPU object held only by a local, TurboFan on', {
  skip: process.env.DAWN_REPRO ? false : 'set DAWN_REPRO=1 to run',
  timeout: 300_000,
}, () => {
  const r = runFixture([], ['--raw-dawn'], 90_000);
  console.log(`raw Dawn without --no-turbofan: ${r.how}\n${r.tail}`);
  assert.notEqual(r.status, 0, 'the raw pattern survived: has dawn.node fixed the instance lifetime?');
});
