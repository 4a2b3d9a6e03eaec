// A compiled graph on a device: what `compile(graph, gpu)` returns. Everything a step needs is
// created once from the plan — arena buffers, pipelines (all compiled ahead, concurrently), bind
// groups with layouts taken from the plan's bindings, readback staging — so a step is one command
// buffer with one compute pass and only the outputs asked for come back. A program can also be
// timed (wall clock per step) and profiled (per-kernel GPU timestamps), and reports its memory.

import { stepRuns } from '../../../codegen/steps.ts';
import { compileGraph, describePlan, type CodegenLimits, type CompileOptions, type CompiledPlan, type PlanKernel, type PlanTensor } from '../../../codegen/compile.ts';
import type { Graph } from '../ir/graph.ts';
import type { Feeds } from '../ir/interpret.ts';
import { fmtShape, numel } from '../ir/shape.ts';
import { isSoftwareAdapter, withErrorScope, type GpuContext } from './device.ts';
import { compileAhead } from './compile-ahead.ts';
import { pipelineFor } from './pipelines.ts';
import { compileTuned, type TuneMode, type TuneProgress, type TuneResult, type TuneStore } from './tune.ts';

/** Tensor data read back to the host: Float32Array for f32 tensors, Int32Array for i32 and u32 (the u32 bits as they are). */
export type HostArray = Float32Array | Int32Array;
export type { Feeds } from '../ir/interpret.ts';

/** The limits code generation should assume on this device. */
export function deviceLimits(ctx: GpuContext): CodegenLimits {
  const l = ctx.device.limits;
  return {
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    subgroupSize: ctx.info.subgroupSize,
    adapterClass: isCpuAdapter(ctx) ? 'cpu' : 'gpu',
  };
}

/** GPU memory a program of `plan` holds: its arenas of parameters, inputs and work. */
export function planMemoryBytes(plan: CompiledPlan): number {
  const a = plan.arenaBytes;
  return a.params + a.inputs + a.work;
}

/** Software adapters (lavapipe, SwiftShader, WARP): the GPU work runs on the CPU. */
export function isCpuAdapter(ctx: GpuContext): boolean {
  return isSoftwareAdapter(ctx.info);
}

/** Options of `compile`: code generation, parameters written back each step, and matmul tuning. */
export interface ProgramOptions extends CompileOptions {
  /**
   * Matmul variant tuning on this device (src/core/runtime/tune.ts): 'off' (heuristic defaults),
   * 'quick' (time-bounded search of what the per-adapter cache lacks), 'full'. Default 'off'
   * (deterministic kernels); the command line asks for 'quick'. Ignored when `matmulVariant` is
   * given.
   */
  readonly tune?: TuneMode;
  /** Search budget for tune 'quick' (ms, default 30 s). */
  readonly tuneBudgetMs?: number;
  /** Progress of the search (one call per signature and per candidate timed). */
  readonly onTuneProgress?: (p: TuneProgress) => void;
  /** Where tuned choices persist (default: the per-adapter cache). */
  readonly tuneStore?: TuneStore;
  /**
   * How many times the program will run (training steps, evaluation batches): tune 'quick' then
   * searches only what can save more over those runs than the search costs (TuneOptions.expectedRuns).
   */
  readonly tuneExpectedRuns?: number;
  /**
   * Only build the pipelines, never run them: validating a plan made for another device
   * (`compile --target gpu` on this machine). Otherwise a plan whose subgroup kernels assume
   * another lane count than this device's is refused: it would compute wrong values.
   */
  readonly compileOnly?: boolean;
}

/** Compiles `graph` for the device (tuning matmul variants unless tune is off) and creates everything its steps need. */
export async function compile(graph: Graph, ctx: GpuContext, opts: ProgramOptions = {}): Promise<Program> {
  const compileOpts: CompileOptions = { ...opts, limits: { ...deviceLimits(ctx), ...opts.limits } };
  const mode = opts.tune ?? 'off';
  let program: Program;
  let compiledAhead = false;
  if (mode === 'off' || opts.matmulVariant !== undefined) {
    program = await Program.create(ctx, compileGraph(graph, compileOpts), opts);
  } else {
    const { plan, tune, compiledAhead: tunerCompiled } = await compileTuned(graph, ctx, compileOpts, { mode, budgetMs: opts.tuneBudgetMs, onProgress: opts.onTuneProgress, store: opts.tuneStore, expectedRuns: opts.tuneExpectedRuns }, Program);
    program = await Program.create(ctx, plan, opts);
    program.tuneResult = tune;
    compiledAhead = tunerCompiled;
  }
  // Where helper devices compile beside the main one, every kernel is compiled now, in parallel,
  // instead of one after the other inside the first step (unless the tuner already did).
  if (ctx.compileHelpers && !compiledAhead) await program.warmup();
  return program;
}

/** One kernel's GPU time in a profiled step (`ms`, milliseconds), with its work. */
export interface KernelTime {
  readonly name: string;
  readonly kind: PlanKernel['kind'];
  readonly config: string;
  readonly flops: number;
  readonly bytes: number;
  readonly ms: number;
}

interface Step {
  readonly kernel: PlanKernel;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  /** For a dispatch computing from parameters only: the parameters (node ids) it reads. */
  readonly parameterDerived?: readonly number[];
}

/** Parameters the plan's kernels write over (updates written back in place: CompileOptions.writeBack). */
const paramsWrittenOver = (plan: CompiledPlan): number[] =>
  [...plan.tensors.values()].filter((t) => t.role === 'output' && t.storage !== t.node && plan.tensors.get(t.storage)?.role === 'param').map((t) => t.storage);

/** What a failing Program.create was allocating: arenas and the largest tensor (GPU errors name the kernel by its label). */
function describeProgramSize(plan: CompiledPlan): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  let largest: PlanTensor | undefined;
  for (const t of plan.tensors.values()) if (!largest || t.bytes > largest.bytes) largest = t;
  const node = largest ? plan.graph.node(largest.node) : undefined;
  const big = largest && node ? `; largest tensor %${node.id} ${largest.name ?? node.op} [${node.type.shape.join(', ')}] ${mib(largest.bytes)}` : '';
  return `creating the program (${plan.kernels.length} kernels in ${plan.steps.length} dispatches; arenas: params ${mib(plan.arenaBytes.params)}, inputs ${mib(plan.arenaBytes.inputs)}, work ${mib(plan.arenaBytes.work)}${big})`;
}

/**
 * A graph compiled for one device, holding its buffers and pipelines: write feeds, run steps, read outputs.
 * Made by `compile`; call destroy() to free its GPU memory.
 */
export class Program {
  /** How the matmul variants were chosen, when compile() tuned them. */
  tuneResult?: TuneResult;
  /**
   * Parameters (node ids) written since the parameter-derived dispatches last ran ('all' until
   * the first step): those dispatches are encoded only when a parameter they read is here.
   */
  private changedParams: Set<number> | 'all' = 'all';

  private constructor(
    readonly ctx: GpuContext,
    readonly plan: CompiledPlan,
    private readonly arenas: Record<PlanTensor['arena'], GPUBuffer>,
    private readonly steps: readonly Step[],
    private readonly byName: ReadonlyMap<string, PlanTensor>,
    private readonly copies: readonly { from: PlanTensor; to: PlanTensor }[],
    /** Parameters each step changes: copied over, or written in place by the plan's kernels. */
    private readonly updatedParams: readonly number[],
    /** Milliseconds spent creating the pipelines (all of them, concurrently). */
    readonly pipelineMs: number,
  ) {}

  /**
   * Creates the buffers and pipelines for an already compiled `plan` (compile() calls this). Throws
   * when a `writeBack` pair does not match the plan.
   */
  static async create(ctx: GpuContext, plan: CompiledPlan, opts: ProgramOptions = {}): Promise<Program> {
    const lanes = plan.limits.subgroupSize;
    if (!opts.compileOnly && lanes !== ctx.info.subgroupSize && plan.kernels.some((k) => k.features.includes('subgroups'))) {
      throw new Error(`the plan's kernels use subgroups of ${lanes} lanes, this device's ${ctx.info.subgroupSize ? `have ${ctx.info.subgroupSize}` : 'are not usable'}: compile it for this device (limits: deviceLimits(ctx))`);
    }
    const byName = new Map<string, PlanTensor>();
    for (const t of plan.tensors.values()) {
      if (t.name === undefined) continue;
      const other = byName.get(t.name);
      // Inputs, parameters and outputs are written and read by name: one name, one tensor.
      if (other && other !== t) throw new Error(`the graph names two tensors "${t.name}" (${other.role} and ${t.role}); a program writes and reads tensors by name: rename the output`);
      byName.set(t.name, t);
    }
    const copies = (opts.writeBack ?? []).map(([out, param]) => {
      const from = byName.get(out), to = byName.get(param);
      if (!from || from.role !== 'output') throw new Error(`write-back: the plan has no output "${out}"`);
      if (!to || to.role !== 'param') throw new Error(`write-back: the plan has no parameter "${param}"`);
      if (from.bytes !== to.bytes) throw new Error(`write-back: "${out}" (${from.bytes} bytes) does not fit "${param}" (${to.bytes} bytes)`);
      return { from, to };
    });
    // Outputs the plan writes over their parameter (CompileOptions.writeBack) need no copy.
    const inPlace = (from: PlanTensor, to: PlanTensor) => from.arena === to.arena && from.offset === to.offset;
    const updated = [...new Set([...copies.map((c) => c.to.node), ...paramsWrittenOver(plan)])];
    const { device } = ctx;
    return withErrorScope(device, async () => {
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
      const arenas = {
        params: ctx.createBuffer({ label: 'params arena', size: Math.max(plan.arenaBytes.params, 4), usage }),
        inputs: ctx.createBuffer({ label: 'inputs arena', size: Math.max(plan.arenaBytes.inputs, 4), usage }),
        work: ctx.createBuffer({ label: 'work arena', size: Math.max(plan.arenaBytes.work, 4), usage }),
      };
      try {
        const t0 = performance.now();
        const pipelines = await Promise.all(plan.steps.map((s) => pipelineFor(device, s.kernel)));
        const pipelineMs = performance.now() - t0;
        const steps = plan.steps.map(({ kernel, parameterDerived }, i) => {
          const pipeline = pipelines[i]!;
          const bindGroup = device.createBindGroup({
            label: kernel.name,
            layout: pipeline.getBindGroupLayout(0),
            entries: kernel.bindings.map((b) => {
              const t = plan.tensors.get(b.tensor)!;
              return { binding: b.binding, resource: { buffer: arenas[t.arena], offset: t.offset, size: t.bytes } };
            }),
          });
          return { kernel, pipeline, bindGroup, ...(parameterDerived ? { parameterDerived } : {}) };
        });
        const program = new Program(ctx, plan, arenas, steps, byName, copies.filter((c) => !inPlace(c.from, c.to)), updated, pipelineMs);
        // Constants folded into the code have no buffer.
        for (const n of plan.graph.nodesOf('constant')) {
          const t = plan.tensors.get(n.id);
          if (t) program.upload(t, n.attrs.data);
        }
        return program;
      } catch (e) {
        for (const b of Object.values(arenas)) b.destroy();
        throw e;
      }
    }, describeProgramSize(plan));
  }

  /**
   * Any kernel over this plan's tensors (one of its own, or a variant of one rendered for the same
   * plan: the tuner's candidates) bound to this program's buffers, ready to dispatch and time.
   */
  async bindKernel(kernel: PlanKernel): Promise<BoundKernel> {
    const { device } = this.ctx;
    return withErrorScope(device, async () => {
      const pipeline = await pipelineFor(device, kernel);
      const bindGroup = device.createBindGroup({
        label: kernel.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: kernel.bindings.map((b) => {
          const t = this.plan.tensors.get(b.tensor)!;
          return { binding: b.binding, resource: { buffer: this.arenas[t.arena], offset: t.offset, size: t.bytes } };
        }),
      });
      return new BoundKernel(this.ctx, kernel, pipeline, bindGroup);
    }, `binding kernel ${kernel.name}`);
  }

  /** Writes a tensor by node id (any tensor of the plan: the tuner fills a kernel's inputs). */
  writeTensor(node: number, data: ArrayLike<number>): void {
    const t = this.plan.tensors.get(node);
    if (!t) throw new Error(`the plan has no tensor for node %${node}`);
    this.upload(t, data);
  }

  /** Notes that parameter `node` has new values: the parameter-derived dispatches reading it run at the next step. */
  private paramChanged(node: number): void {
    if (this.changedParams !== 'all') this.changedParams.add(node);
  }

  /** Reads a tensor back by node id. */
  async readTensor(node: number): Promise<HostArray> {
    const t = this.plan.tensors.get(node);
    if (!t) throw new Error(`the plan has no tensor for node %${node}`);
    return (await this.readPlaced([t]))[0]!;
  }

  /** Names of the inputs and parameters this program reads. */
  get feedNames(): string[] {
    return [...this.byName.values()].filter((t) => t.role === 'input' || t.role === 'param').map((t) => t.name!);
  }

  /** Shape of a named input, parameter or output. */
  shapeOf(name: string): readonly number[] {
    return this.tensor(name).shape;
  }

  private tensor(name: string): PlanTensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`the program has no tensor named "${name}" (it has: ${[...this.byName.keys()].slice(0, 20).join(', ')}${this.byName.size > 20 ? ', ...' : ''})`);
    return t;
  }

  /** Writes inputs and/or parameters by name. */
  write(feeds: Feeds): void {
    for (const [name, data] of Object.entries(feeds)) {
      const t = this.byName.get(name);
      if (!t || (t.role !== 'input' && t.role !== 'param')) {
        throw new Error(`the program has no input or parameter named "${name}" (it has: ${this.feedNames.slice(0, 20).join(', ')}${this.feedNames.length > 20 ? ', ...' : ''})`);
      }
      this.upload(t, data);
    }
  }

  private upload(t: PlanTensor, data: ArrayLike<number>): void {
    if (data.length !== numel(t.shape)) {
      throw new Error(`"${t.name ?? `%${t.node}`}" expects ${numel(t.shape)} values for ${t.dtype}${fmtShape(t.shape)}, got ${data.length}`);
    }
    if (t.role === 'param') this.paramChanged(t.node);
    const host = t.dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data);
    this.ctx.device.queue.writeBuffer(this.arenas[t.arena], t.offset, host);
  }

  /**
   * Records the whole step into `encoder` as one compute pass: the parameter-derived dispatches
   * only when a parameter they read was written since they last ran (their outputs keep their
   * values between steps), then the rest, then the write-back copies.
   */
  encode(encoder: GPUCommandEncoder): void {
    const changed = this.changedParams;
    const pass = encoder.beginComputePass({ label: 'program step' });
    for (const s of this.steps) {
      if (changed !== 'all' && !stepRuns(s, (p) => changed.has(p))) continue;
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(...s.kernel.dispatch);
    }
    pass.end();
    for (const c of this.copies) encoder.copyBufferToBuffer(this.arenas[c.from.arena], c.from.offset, this.arenas[c.to.arena], c.to.offset, c.to.bytes);
    this.changedParams = new Set(this.updatedParams);
  }

  /** Submits one step. */
  run(): void {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'program step' });
    this.encode(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /**
   * Where a named tensor lives (for GPU-side copies between programs). A parameter located may be
   * written through it, so the parameter-derived dispatches reading it run again at the next step.
   */
  locate(name: string): { buffer: GPUBuffer; offset: number; bytes: number } {
    const t = this.tensor(name);
    if (t.role === 'param') this.paramChanged(t.node);
    return { buffer: this.arenas[t.arena], offset: t.offset, bytes: t.bytes };
  }

  /** Bytes of GPU memory the program holds: parameters (and optimizer state), inputs, planned work arena. */
  get memoryBytes(): number {
    return planMemoryBytes(this.plan);
  }

  /** Reads the named tensors back (waits for submitted work). */
  async read(names: readonly string[]): Promise<Record<string, HostArray>> {
    const arrays = await this.readPlaced(names.map((name) => this.tensor(name)));
    return Object.fromEntries(names.map((n, i) => [n, arrays[i]!]));
  }

  private async readPlaced(ts: readonly PlanTensor[]): Promise<HostArray[]> {
    const { device } = this.ctx;
    const total = ts.reduce((s, t) => s + t.bytes, 0);
    const staging = this.ctx.createBuffer({ label: 'readback', size: Math.max(total, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
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
      at = 0;
      return ts.map((t) => {
        const n = numel(t.shape);
        const a = t.dtype === 'f32' ? new Float32Array(bytes, at, n) : new Int32Array(bytes, at, n);
        at += t.bytes;
        return a;
      });
    } finally {
      staging.destroy();
    }
  }

  /** Writes feeds, runs one step and reads the named outputs (default: all graph outputs). */
  async execute(feeds: Feeds, outputs?: readonly string[]): Promise<Record<string, HostArray>> {
    this.write(feeds);
    this.run();
    return this.read(outputs ?? [...this.plan.graph.outputs.keys()]);
  }

  /**
   * Compiles every distinct kernel now rather than inside the first step, where drivers compile at
   * the first dispatch (lavapipe, SwiftShader): each runs once, one workgroup, on scratch buffers,
   * spread over the context's compile helpers where it has them (compile-ahead.ts). Nothing the
   * program holds is read or written. Returns the ms it took.
   */
  async warmup(): Promise<number> {
    const t0 = performance.now();
    await compileAhead(this.ctx, this.steps.map((s) => s.kernel), (tensor) => this.plan.tensors.get(tensor)!.bytes);
    return performance.now() - t0;
  }

  /** Median wall-clock ms of `steps` steps (submit + wait each), after one untimed step. */
  async time(steps = 5): Promise<number> {
    this.run();
    await this.ctx.device.queue.onSubmittedWorkDone();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      this.run();
      await this.ctx.device.queue.onSubmittedWorkDone();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
  }

  /**
   * Per-dispatch GPU time (ms, the best of `runs` profiled steps) from timestamp queries around one
   * compute pass per dispatch (kernels batched into one dispatch are one entry, kind 'batch', its
   * config naming them); undefined when the device has no `timestamp-query`.
   */
  async profile(runs = 2): Promise<KernelTime[] | undefined> {
    const { device } = this.ctx;
    if (!device.features.has('timestamp-query')) return undefined;
    const K = this.steps.length;
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * K });
    const resolve = this.ctx.createBuffer({ label: 'profile resolve', size: 16 * K, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.ctx.createBuffer({ label: 'profile readback', size: 16 * K, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      let best: number[] | undefined;
      for (let run = 0; run <= runs; run++) {
        const encoder = device.createCommandEncoder({ label: 'profile' });
        this.steps.forEach((s, i) => {
          const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.bindGroup);
          pass.dispatchWorkgroups(...s.kernel.dispatch);
          pass.end();
        });
        encoder.resolveQuerySet(querySet, 0, 2 * K, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16 * K);
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        const ts = new BigUint64Array(staging.getMappedRange().slice(0));
        staging.unmap();
        if (run === 0) continue; // the first run may also compile pipelines
        const ms = this.steps.map((_, i) => Math.max(0, Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6));
        best = best ? best.map((b, i) => Math.min(b, ms[i]!)) : ms;
      }
      return this.steps.map(({ kernel: k }, i) => ({ name: k.name, kind: k.kind, config: k.config, flops: k.flops, bytes: k.bytes, ms: best![i]! }));
    } finally {
      querySet.destroy();
      resolve.destroy();
      staging.destroy();
    }
  }

  /** The plan as a table (kernels, dispatch, FLOPs, bytes, memory). */
  describe(): string {
    return describePlan(this.plan);
  }

  /** Frees the program's GPU buffers; the program must not be used afterwards. */
  destroy(): void {
    for (const b of Object.values(this.arenas)) b.destroy();
  }
}

/** One kernel bound to a program's buffers (see Program.bindKernel). */
export class BoundKernel {
  constructor(
    readonly ctx: GpuContext,
    readonly kernel: PlanKernel,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
  ) {}

  private encode(reps: number, timestamps?: { querySet: GPUQuerySet }): GPUCommandEncoder {
    const encoder = this.ctx.device.createCommandEncoder({ label: this.kernel.name });
    const pass = encoder.beginComputePass(timestamps ? { timestampWrites: { querySet: timestamps.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(...this.kernel.dispatch);
    pass.end();
    return encoder;
  }

  /** Dispatches the kernel `reps` times in one pass and waits. */
  async run(reps = 1): Promise<void> {
    this.ctx.device.queue.submit([this.encode(reps).finish()]);
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  /**
   * Milliseconds per dispatch over `reps` dispatches in one pass: GPU timestamps when the device
   * has them, else wall clock around submit and completion.
   */
  async time(reps: number): Promise<number> {
    const { device } = this.ctx;
    if (!device.features.has('timestamp-query')) {
      const t0 = performance.now();
      await this.run(reps);
      return (performance.now() - t0) / reps;
    }
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolve = this.ctx.createBuffer({ label: 'kernel time resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.ctx.createBuffer({ label: 'kernel time readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.encode(reps, { querySet });
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const ts = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return Math.max(0, Number(ts[1]! - ts[0]!) / 1e6) / reps;
    } finally {
      querySet.destroy();
      resolve.destroy();
      staging.destroy();
    }
  }
}
