// Deno smoke test: runs test/deno/smoke.ts under the deno binary from node_modules, so the same
// src/core/runtime/device.ts is proven on Deno's WebGPU (wgpu) too.
// Offline by construction: --no-remote/--no-npm (no module downloads), --no-config/--no-lock (no
// deno.json or package.json driven installs), DENO_NO_UPDATE_CHECK=1, and a throwaway DENO_DIR.
// Checked with the network cut off (`unshare -n`): same output, same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdapterReport } from '../../src/core/runtime/device.ts';
import type { AxpyResult } from './fixtures/axpy.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deno = join(root, 'node_modules', '.bin', 'deno');

test('deno: requestGpu + axpy shader', { timeout: 120_000 }, () => {
  const denoDir = mkdtempSync(join(tmpdir(), 'deno-dir-'));
  try {
    const r = spawnSync(deno, ['run', '-A', '--no-config', '--no-lock', '--no-remote', '--no-npm', 'test/deno/smoke.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 100_000,
      env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const output = `${r.stdout}\n${r.stderr}`.trim();
    assert.equal(r.status, 0, `deno failed (${r.error?.message ?? r.signal ?? r.status}):\n${output}`);

    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `no RESULT line in:\n${output}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as {
      report: AdapterReport;
      offered: { maxStorageBuffersPerShaderStage: number };
      axpy: AxpyResult;
      errors: string[];
    };
    const adapterLine = r.stdout.split('\n').find((l) => l.startsWith('[deno]'));
    console.log(adapterLine);

    assert.equal(result.report.runtime, 'deno');
    assert.equal(result.axpy.n, 1000);
    assert.equal(result.axpy.mismatches, 0, `max abs error ${result.axpy.maxAbsErr}`);
    assert.ok(result.axpy.guardIntact, 'the shader wrote past n: bounds check failed');
    assert.deepEqual(result.errors, []);
    // requestGpu asked for the adapter's limits, not the defaults (8 storage buffers).
    assert.equal(result.report.limits.maxStorageBuffersPerShaderStage, result.offered.maxStorageBuffersPerShaderStage);
  } finally {
    rmSync(denoDir, { recursive: true, force: true });
  }
});
