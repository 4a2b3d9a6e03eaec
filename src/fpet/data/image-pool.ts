// Decoding threads for image folders: a fixed number of worker_threads (Node; Deno's compatible
// API) that read, decode and transform images (./image-load.ts) while the GPU trains. One task per
// thread at a time, first come first served; a thread is referenced (keeps the process alive) only
// while it has work, so an idle pool never holds a finished command open. With no threads the
// tasks run in the main thread, one at a time, between other work.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { loadImage, verifyImage, type LoadTask, type Verdict, type VerifyTask } from './image-load.ts';

type Task = LoadTask | VerifyTask;
type Result<T extends Task> = T extends VerifyTask ? Verdict : Float32Array;

interface Pending {
  readonly id: number;
  readonly task: Task;
  readonly resolve: (v: Verdict | Float32Array) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
}

/** The decoding threads used when none are asked for: the cores left after the main thread, 1 to 8. */
export const defaultWorkers = (): number => Math.max(1, Math.min(8, availableParallelism() - 1));

/** The worker script next to this module (.ts when run from the sources, .js when built). */
const workerUrl = () => new URL(`./image-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * A decoding thread. Built JavaScript (and Deno, which runs TypeScript) loads the worker script
 * directly; Node running the sources through tsx (`npm start`, the tests) does not pass tsx's
 * loader on to worker threads, so a two-line bootstrap registers it there first.
 */
function startWorker(): Worker {
  const url = workerUrl();
  if (!url.pathname.endsWith('.ts') || 'Deno' in globalThis) return new Worker(url);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true });
}

/** A pool of decoding threads (or the main thread when `size` is 0). */
export class ImagePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 0 && size <= 256)) throw new Error(`image pool: workers must be an integer in [0, 256] (got ${size})`);
  }

  /** Runs a task on a free thread (queued until one is); rejects with the task's error message. */
  run<T extends Task>(task: T): Promise<Result<T>> {
    if (this.closed) return Promise.reject(new Error('image pool: closed'));
    if (this.size === 0) return this.runHere(task) as Promise<Result<T>>;
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve: resolve as Pending['resolve'], reject });
      this.dispatch();
    });
  }

  /** Stops the threads; pending tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('image pool: closed'));
    await Promise.all(this.slots.splice(0).map((s) => {
      s.busy?.reject(new Error('image pool: closed'));
      return s.worker.terminate();
    }));
  }

  private async runHere(task: Task): Promise<Verdict | Float32Array> {
    await new Promise((r) => setImmediate(r)); // let the caller's other work (the GPU's callbacks) run
    return task.kind === 'verify' ? verifyImage(task) : loadImage(task);
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.ref();
      slot.worker.postMessage({ id: p.id, task: p.task });
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker() };
    slot.worker.unref();
    slot.worker.on('message', (m: { id: number; result?: Verdict | Float32Array; error?: string }) => {
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      slot.busy = undefined;
      slot.worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result!);
      this.dispatch();
    });
    const fail = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.busy?.reject(new Error(`a decoding thread stopped (${why}) while reading ${slot.busy.task.path}`));
      slot.busy = undefined;
      if (!this.closed) this.dispatch();
    };
    slot.worker.on('error', (e) => fail(e.message));
    slot.worker.on('exit', (code) => fail(`exit code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}
