// Compiles WGSL kernels on Deno's WebGPU (wgpu/naga): for each module a shader module and a
// compute pipeline (layout 'auto'), inside validation/out-of-memory error scopes, with the
// module's compilation messages checked for errors. Run by test/codegen/deno-compile.test.ts:
//   node_modules/.bin/deno run -A --no-config --no-lock --no-remote --no-npm test/deno/compile-kernels.ts <kernels.json>
// where kernels.json is [{ "name": string, "wgsl": string, "entryPoint"?: string }, ...].
// Prints the adapter line, then one line `RESULT {json}` for the Node side to parse.
import { formatAdapterReport, requestGpu, withErrorScope } from '../../src/core/runtime/device.ts';

interface KernelSource {
  name: string;
  wgsl: string;
  entryPoint?: string;
}

const listPath = Deno.args[0];
if (!listPath) throw new Error('usage: compile-kernels.ts <kernels.json>');
const kernels = JSON.parse(await Deno.readTextFile(listPath)) as KernelSource[];

const gpu = await requestGpu({ label: 'compile-kernels' });
console.log(formatAdapterReport(gpu.info));
const { device } = gpu;

const failures: { name: string; error: string }[] = [];
let compiled = 0;
const started = performance.now();
for (const k of kernels) {
  try {
    await withErrorScope(device, async () => {
      const module = device.createShaderModule({ label: k.name, code: k.wgsl });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length) throw new Error(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message.trim()}`).join('\n'));
      device.createComputePipeline({ label: k.name, layout: 'auto', compute: { module, entryPoint: k.entryPoint ?? 'main' } });
    }, `compiling ${k.name}`);
    compiled++;
  } catch (e) {
    failures.push({ name: k.name, error: e instanceof Error ? e.message : String(e) });
  }
}
const ms = Math.round(performance.now() - started);
const uncaptured = gpu.takeErrors().map((e) => e.message);
console.log(`RESULT ${JSON.stringify({ report: gpu.info, total: kernels.length, compiled, failures, uncaptured, ms })}`);
gpu.destroy();
