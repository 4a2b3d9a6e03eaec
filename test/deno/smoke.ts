// Deno smoke: the same device layer and the same axpy shader as the Node test, on Deno's built-in
// WebGPU (wgpu). Run by test/runtime/smoke-deno.test.ts:
//   node_modules/.bin/deno run -A --no-config --no-lock --no-remote --no-npm test/deno/smoke.ts
// Prints the adapter line, then one line `RESULT {json}` for the Node side to parse.
import { formatAdapterReport, requestGpu } from '../../src/core/runtime/device.ts';
import { runAxpy } from '../runtime/fixtures/axpy.ts';

const gpu = await requestGpu({ label: 'smoke-deno' });
console.log(formatAdapterReport(gpu.info));
const axpy = await runAxpy(gpu.device, 1000);
const errors = gpu.takeErrors().map((e) => e.message);
const offered = { maxStorageBuffersPerShaderStage: gpu.adapter.limits.maxStorageBuffersPerShaderStage };
console.log(`RESULT ${JSON.stringify({ report: gpu.info, offered, axpy, errors })}`);
gpu.destroy();
