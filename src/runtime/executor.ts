// Runs a compiled plan on a GPUDevice. Everything a step needs (arena buffers, pipelines with
// layouts derived from WGSL reflection, bind groups, readback staging) is created once; a step
// is then one command buffer with one compute pass, and only the outputs asked for come back.

import type { CodegenLimits, CompiledPlan, PlanKernel, PlanTensor } from '../../codegen/compile.ts';
import { reflectKernel } from '../../codegen/reflect.ts';
import { withErrorScope, type GpuContext } from './device.ts';
import { fmtShape, numel } from '../ir/shape.ts';

export type HostArray = Float32Array | Int32Array;

/** The limits code generation should assume on this device. */
export function deviceLimits(device: GPUDevice): CodegenLimits {
  const l = device.limits;
  return {
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
  };
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** One pipeline per distinct WGSL module per device, with its bind-group layout read from the code. */
function pipelineFor(device: GPUDevice, k: PlanKernel): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  let p = cache.get(k.wgsl);
  if (!p) {
    const reflected = reflectKernel(k.wgsl);
    const layout = device.createBindGroupLayout({
      label: k.name,
      entries: reflected.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } as GPUBufferBindingLayout,
      })),
    });
    const module = device.createShaderModule({ label: k.name, code: k.wgsl });
    // Synchronous creation: Dawn's async pipeline compilation aborted the process here (a
    // pthread priority assertion in its worker pool) on lavapipe.
    p = Promise.resolve(device.createComputePipeline({
      label: k.name,
      layout: device.createPipelineLayout({ label: k.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: reflected.entryPoint },
    }));
    cache.set(k.wgsl, p);
  }
  return p;
}

export class Executable {
  private constructor(
    readonly ctx: GpuContext,
    readonly plan: CompiledPlan,
    private readonly arenas: Record<PlanTensor['arena'], GPUBuffer>,
    private readonly steps: readonly { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; dispatch: readonly [number, number, number] }[],
    private readonly byName: ReadonlyMap<string, PlanTensor>,
    private readonly copies: readonly { from: PlanTensor; to: PlanTensor }[],
  ) {}

  /**
   * `writeBack`: [output, parameter] pairs copied at the end of every step (in the same command
   * buffer), so updated parameters and optimizer state stay on the GPU between steps.
   */
  static async create(ctx: GpuContext, plan: CompiledPlan, opts: { writeBack?: readonly (readonly [string, string])[] } = {}): Promise<Executable> {
    const { device } = ctx;
    return withErrorScope(device, async () => {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
      const arenas = {
        params: device.createBuffer({ label: 'params arena', size: Math.max(plan.arenaBytes.params, 4), usage }),
        inputs: device.createBuffer({ label: 'inputs arena', size: Math.max(plan.arenaBytes.inputs, 4), usage }),
        work: device.createBuffer({ label: 'work arena', size: Math.max(plan.arenaBytes.work, 4), usage }),
      };
      const pipelines = await Promise.all(plan.kernels.map((k) => pipelineFor(device, k)));
      const steps = plan.kernels.map((k, i) => {
        const pipeline = pipelines[i]!;
        const bindGroup = device.createBindGroup({
          label: k.name,
          layout: pipeline.getBindGroupLayout(0),
          entries: k.bindings.map((b) => {
            const t = plan.tensors.get(b.tensor)!;
            return { binding: b.binding, resource: { buffer: arenas[t.arena], offset: t.offset, size: t.bytes } };
          }),
        });
        return { pipeline, bindGroup, dispatch: k.dispatch };
      });
      const byName = new Map<string, PlanTensor>();
      for (const t of plan.tensors.values()) if (t.name !== undefined) byName.set(t.name, t);
      const copies = (opts.writeBack ?? []).map(([out, param]) => {
        const from = byName.get(out), to = byName.get(param);
        if (!from || from.role !== 'output') throw new Error(`write-back: the plan has no output "${out}"`);
        if (!to || to.role !== 'param') throw new Error(`write-back: the plan has no parameter "${param}"`);
        if (from.bytes !== to.bytes) throw new Error(`write-back: "${out}" (${from.bytes} bytes) does not fit "${param}" (${to.bytes} bytes)`);
        return { from, to };
      });
      const exe = new Executable(ctx, plan, arenas, steps, byName, copies);
      for (const n of plan.graph.nodesOf('constant')) {
        exe.upload(plan.tensors.get(n.id)!, n.attrs.data);
      }
      return exe;
    }, 'creating the plan executable');
  }

  /** Names of the inputs and parameters this plan reads. */
  get feedNames(): string[] {
    return [...this.byName.values()].filter((t) => t.role === 'input' || t.role === 'param').map((t) => t.name!);
  }

  /** Writes inputs and/or parameters by name. */
  write(feeds: Readonly<Record<string, ArrayLike<number>>>): void {
    for (const [name, data] of Object.entries(feeds)) {
      const t = this.byName.get(name);
      if (!t || (t.role !== 'input' && t.role !== 'param')) {
        throw new Error(`the plan has no input or parameter named "${name}" (it has: ${this.feedNames.join(', ')})`);
      }
      this.upload(t, data);
    }
  }

  private upload(t: PlanTensor, data: ArrayLike<number>): void {
    if (data.length !== numel(t.shape)) {
      throw new Error(`"${t.name ?? `%${t.node}`}" expects ${numel(t.shape)} values for ${t.dtype}${fmtShape(t.shape)}, got ${data.length}`);
    }
    const host = t.dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data);
    this.ctx.device.queue.writeBuffer(this.arenas[t.arena], t.offset, host);
  }

  /** Records the whole step into `encoder` as one compute pass. */
  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'plan step' });
    for (const s of this.steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.dispatch[0], s.dispatch[1], s.dispatch[2]);
    }
    pass.end();
    for (const c of this.copies) encoder.copyBufferToBuffer(this.arenas[c.from.arena], c.from.offset, this.arenas[c.to.arena], c.to.offset, c.to.bytes);
  }

  /** Where a named tensor lives (for GPU-side copies between executables). */
  locate(name: string): { buffer: GPUBuffer; offset: number; bytes: number } {
    const t = this.byName.get(name);
    if (!t) throw new Error(`the plan has no tensor named "${name}"`);
    return { buffer: this.arenas[t.arena], offset: t.offset, bytes: t.bytes };
  }

  /** Bytes of GPU memory the plan holds: parameters (and optimizer state), inputs, planned work arena. */
  get memoryBytes(): number {
    const a = this.plan.arenaBytes;
    return a.params + a.inputs + a.work;
  }

  /** Submits one step. */
  run(): void {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'plan step' });
    this.encode(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /** Reads the named outputs back (waits for submitted work). */
  async read(names: readonly string[]): Promise<Record<string, HostArray>> {
    const { device } = this.ctx;
    const ts = names.map((name) => {
      const t = this.byName.get(name);
      if (!t) throw new Error(`the plan has no tensor named "${name}"`);
      return t;
    });
    const total = ts.reduce((s, t) => s + t.bytes, 0);
    const staging = device.createBuffer({ label: 'readback', size: Math.max(total, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'readback' });
    let at = 0;
    for (const t of ts) {
      encoder.copyBufferToBuffer(this.arenas[t.arena], t.offset, staging, at, t.bytes);
      at += t.bytes;
    }
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    const out: Record<string, HostArray> = {};
    at = 0;
    ts.forEach((t, i) => {
      const n = numel(t.shape);
      out[names[i]!] = t.dtype === 'f32' ? new Float32Array(bytes, at, n) : new Int32Array(bytes, at, n);
      at += t.bytes;
    });
    return out;
  }

  /** Writes feeds, runs one step and reads the named outputs (default: all graph outputs). */
  async execute(feeds: Readonly<Record<string, ArrayLike<number>>>, outputs?: readonly string[]): Promise<Record<string, HostArray>> {
    this.write(feeds);
    this.run();
    return this.read(outputs ?? [...this.plan.graph.outputs.keys()]);
  }

  destroy(): void {
    for (const b of Object.values(this.arenas)) b.destroy();
  }
}
