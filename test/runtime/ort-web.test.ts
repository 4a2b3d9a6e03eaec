// Our ONNX export in onnxruntime-web (WebGPU execution provider and WebAssembly backend) in
// headless Chromium, against the float64 interpreter: test/browser/ort-web-page.ts does the work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runInChromium } from '../../src/frontends/web/chromium.ts';
import { ORT_WEB_WASM_FILE, ORT_WEB_WASM_PATH } from '../../bench/peer/ort-web.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(ROOT, 'test', 'browser', 'ort-web-page.ts');

test('browser: a vit-micro + AdaptFormer + FPET export runs in onnxruntime-web (WebGPU EP and WebAssembly) and matches float64', { timeout: 600_000 }, async () => {
  const result = (await runInChromium(entry, {
    timeoutMs: 300_000,
    assets: { [ORT_WEB_WASM_PATH]: join(ROOT, 'node_modules', 'onnxruntime-web', 'dist', ORT_WEB_WASM_FILE) },
    // ONNX Runtime warns on the console (e.g. nodes placed on the CPU); failures throw instead.
    allowConsoleErrors: true,
  })) as { version: string; runs: { provider: string; maxRelDiff: number; logits: number }[]; expected: number };
  console.log(`onnxruntime-web ${result.version}: ${result.runs.map((r) => `${r.provider} max rel diff ${r.maxRelDiff.toExponential(2)}`).join(', ')}`);
  assert.deepEqual(result.runs.map((r) => r.provider), ['webgpu', 'wasm']);
  for (const r of result.runs) {
    assert.equal(r.logits, result.expected, `${r.provider}: logits count`);
    assert.ok(r.maxRelDiff <= 1e-4, `${r.provider}: logits differ from float64 by ${r.maxRelDiff} (relative to max(1, |logit|))`);
  }
});
