// Compile progress for the page: kernels compiled of those a program needs, time so far and an
// estimate of what is left, reported while it compiles (a heartbeat every half second).
//
// The runtime has no progress hook (Program.create asks for every pipeline at once and awaits them
// all), so the worker counts on its own device: createComputePipelineAsync is wrapped, and each
// pipeline asked for during a tracked compile adds one to its total, and one to `done` when it is
// ready. Program.create asks for all of a program's pipelines synchronously, inside the call that
// starts the compile (with tuning off, as the worker compiles on software adapters), so each
// request is counted for the compile whose start is on the stack; requests outside any start (a
// tuned compile) count for the newest compile still running. Program.create asks only for kernels
// the device has not compiled yet (its cache is per device and kernel code): a recompile of known
// kernels shows none. The estimate comes from this compile's rate, else from earlier compiles.

import type { CompileProgress } from '../protocol.ts';

/** One compile being tracked. */
interface Tracking {
  readonly id: number;
  readonly what: string;
  readonly queued: number;
  readonly t0: number;
  phase: CompileProgress['phase'];
  total: number;
  done: number;
  /** When the phase started (ms, performance.now()). */
  phaseAt: number;
  planMs?: number;
  pipelinesMs?: number;
}

/** Exponentially weighted mean (the newest weighs a third). */
const blend = (old: number | undefined, x: number) => (old === undefined ? x : (2 * old + x) / 3);

/** Counts compiled kernels on a device and reports each compile's progress through `emit`. */
export class CompileTracker {
  private readonly active: Tracking[] = [];
  /** The compile whose start is running synchronously (its pipeline requests are its own). */
  private starting: Tracking | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private nextId = 1;
  /** What earlier compiles took: plan ms, and ms per new kernel for the pipelines and for the first dispatch. */
  private history: { planMs?: number; pipelineMsPerKernel?: number; warmupMsPerKernel?: number } = {};
  /** New kernels of the last compile that had any (the plan phase's guess for the next). */
  private lastKernels = 0;

  constructor(private readonly emit: (p: CompileProgress) => void) {}

  /** Wraps the device's pipeline creation so that tracked compiles count their kernels. */
  instrument(device: GPUDevice): void {
    const create = device.createComputePipelineAsync.bind(device);
    device.createComputePipelineAsync = (descriptor: GPUComputePipelineDescriptor) => {
      const t = this.starting ?? this.active.at(-1);
      const p = create(descriptor);
      if (t) {
        if (t.phase === 'plan') this.enter(t, 'pipelines');
        t.total++;
        void p.then(() => {
          t.done++;
          this.report(t);
        }, () => undefined);
      }
      return p;
    };
  }

  /** Compiles running now. */
  get busy(): boolean {
    return this.active.length > 0;
  }

  /** Runs one compile, reporting its progress; `warmup` (passed to fn) marks the start of the first dispatch. */
  async track<T>(what: string, queued: number, fn: (warmup: () => void) => Promise<T>): Promise<T> {
    const now = performance.now();
    const t: Tracking = { id: this.nextId++, what, queued, t0: now, phase: 'plan', total: 0, done: 0, phaseAt: now };
    this.active.push(t);
    this.report(t);
    this.timer ??= setInterval(() => this.active.forEach((a) => this.report(a)), 500);
    try {
      this.starting = t;
      let started: Promise<T>;
      try {
        started = fn(() => this.enter(t, 'first dispatch'));
      } finally {
        this.starting = undefined;
      }
      const out = await started;
      this.learn(t);
      return out;
    } finally {
      this.active.splice(this.active.indexOf(t), 1);
      if (!this.active.length) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
      this.emit({ ...this.snapshot(t), phase: 'done', etaMs: 0 });
    }
  }

  /** Moves to the next phase, keeping what the finished phase took. */
  private enter(t: Tracking, phase: CompileProgress['phase']): void {
    const now = performance.now();
    if (t.phase === 'plan') t.planMs = now - t.phaseAt;
    if (t.phase === 'pipelines') t.pipelinesMs = now - t.phaseAt;
    if (phase === 'first dispatch' && t.phase === 'plan') t.pipelinesMs = 0;
    t.phase = phase;
    t.phaseAt = now;
    this.report(t);
  }

  /** Learns from a finished compile (the estimates of the next ones). */
  private learn(t: Tracking): void {
    const h = this.history;
    const warmupMs = performance.now() - t.phaseAt;
    if (t.planMs !== undefined) h.planMs = blend(h.planMs, t.planMs);
    if (t.total > 0 && t.pipelinesMs !== undefined) h.pipelineMsPerKernel = blend(h.pipelineMsPerKernel, t.pipelinesMs / t.total);
    if (t.total > 0 && t.phase === 'first dispatch') h.warmupMsPerKernel = blend(h.warmupMsPerKernel, warmupMs / t.total);
    if (t.total > 0) this.lastKernels = t.total;
  }

  private snapshot(t: Tracking): CompileProgress {
    return { id: t.id, what: t.what, phase: t.phase, done: t.done, total: t.total, elapsedMs: performance.now() - t.t0, queued: t.queued };
  }

  private report(t: Tracking): void {
    if (this.active.includes(t)) this.emit({ ...this.snapshot(t), etaMs: this.eta(t) });
  }

  /** Ms left: the rest of this phase at this compile's rate (or earlier compiles'), plus the phases after it. */
  private eta(t: Tracking): number | undefined {
    const h = this.history;
    const inPhase = performance.now() - t.phaseAt;
    const warmupFor = (n: number) => (h.warmupMsPerKernel !== undefined ? h.warmupMsPerKernel * n : undefined);
    if (t.phase === 'plan') {
      if (h.planMs === undefined || h.pipelineMsPerKernel === undefined || h.warmupMsPerKernel === undefined) return undefined;
      // The kernel count is not known yet: assume the size of the last compile's.
      return Math.max(0, h.planMs - inPhase) + (h.pipelineMsPerKernel + h.warmupMsPerKernel) * this.lastKernels;
    }
    if (t.phase === 'pipelines') {
      const rate = t.done > 0 ? inPhase / t.done : h.pipelineMsPerKernel;
      const warmup = warmupFor(t.total);
      // Kernels finish in bursts (one can take most of the time): never promise less than a second while any is left.
      return rate === undefined || warmup === undefined ? undefined : Math.max(t.done < t.total ? 1000 : 0, rate * (t.total - t.done) + warmup);
    }
    if (t.phase === 'first dispatch') {
      const warmup = warmupFor(t.total);
      return warmup === undefined ? undefined : Math.max(0, warmup - inPhase);
    }
    return 0;
  }
}
