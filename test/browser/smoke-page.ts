// Browser smoke page: the same device layer and axpy shader as the Node and Deno smoke tests.
// Bundled and run by src/frontends/web/chromium.ts; the result goes to window.__result.
import { formatAdapterReport, requestGpu } from '../../src/core/runtime/device.ts';
import { runAxpy } from '../runtime/fixtures/axpy.ts';

const gpu = await requestGpu({ label: 'smoke-browser' });
console.log(formatAdapterReport(gpu.info));
const axpy = await runAxpy(gpu.device, 1000);
const errors = gpu.takeErrors().map((e) => e.message);
const offered = { maxStorageBuffersPerShaderStage: gpu.adapter.limits.maxStorageBuffersPerShaderStage };
gpu.destroy();
Object.assign(window, { __result: { report: gpu.info, offered, axpy, errors } });
