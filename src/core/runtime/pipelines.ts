// Pipelines: one per distinct kernel code per device, created asynchronously (concurrently with the
// others), shared by every program and warm-up on that device.

import type { PlanKernel } from '../../../codegen/compile.ts';

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** One pipeline per distinct kernel code per device, compiled asynchronously (concurrently with the others). */
export function pipelineFor(device: GPUDevice, k: PlanKernel): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  let p = cache.get(k.code);
  if (!p) {
    const layout = device.createBindGroupLayout({
      label: k.name,
      entries: k.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } as GPUBufferBindingLayout,
      })),
    });
    const module = device.createShaderModule({ label: k.name, code: k.wgsl });
    p = device.createComputePipelineAsync({
      label: k.name,
      layout: device.createPipelineLayout({ label: k.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: k.entryPoint },
    }).catch(async (e: unknown) => {
      cache.delete(k.code);
      const info = await module.getCompilationInfo();
      const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}`);
      throw new Error(`kernel ${k.name} did not compile: ${msgs.join('; ') || (e as Error).message}`);
    });
    cache.set(k.code, p);
  }
  return p;
}
