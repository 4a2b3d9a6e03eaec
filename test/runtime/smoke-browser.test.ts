// Browser smoke test: bundles test/browser/smoke-page.ts (which imports src/core/runtime/device.ts),
// runs it in headless Chromium on SwiftShader WebGPU and checks the axpy result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { formatAdapterReport, type AdapterReport } from '../../src/core/runtime/device.ts';
import type { AxpyResult } from './fixtures/axpy.ts';
import { runInChromium } from '../../src/frontends/web/chromium.ts';

const entry = fileURLToPath(new URL('../browser/smoke-page.ts', import.meta.url));

test('browser: requestGpu + axpy shader in headless Chromium', { timeout: 180_000 }, async () => {
  const result = (await runInChromium(entry, { timeoutMs: 150_000 })) as {
    report: AdapterReport;
    offered: { maxStorageBuffersPerShaderStage: number };
    axpy: AxpyResult;
    errors: string[];
  };
  console.log(formatAdapterReport(result.report));

  assert.equal(result.report.runtime, 'browser');
  assert.equal(result.axpy.n, 1000);
  assert.equal(result.axpy.mismatches, 0, `max abs error ${result.axpy.maxAbsErr}`);
  assert.ok(result.axpy.guardIntact, 'the shader wrote past n: bounds check failed');
  assert.deepEqual(result.errors, []);
  assert.equal(result.report.limits.maxStorageBuffersPerShaderStage, result.offered.maxStorageBuffersPerShaderStage);
});
