// The order of GPU work in the page's worker. Compiles, re-specialisation, loading and the speed test run
// one at a time ("exclusive"), because each may destroy programs another would use; inference of
// the picture on the pad is coalesced (the latest request wins) and waits until no exclusive
// operation is queued, so it never runs on a program being replaced.

/** What the queue tells the page, and asks of it. */
export interface QueueHooks {
  /** An exclusive operation started or ended: the buttons follow. */
  busyChanged(): void;
  /** Shown when an exclusive operation starts. */
  status(s: string): void;
  /** The current device, to wait for its submitted work. */
  device(): GPUDevice | undefined;
}

/** The page's inference of the current picture, as the queue schedules it. */
export interface Inference {
  /** There is a picture and a device. */
  ready(): boolean;
  run(): Promise<void>;
  failed(e: unknown): void;
}

/** Exclusive operations in order, and coalesced inference between them. */
export class GpuQueue {
  /** Set by the part that classifies the picture. */
  inference: Inference | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private depth = 0;
  private inferring: Promise<void> | undefined;
  private inferAgain = false;

  constructor(private readonly hooks: QueueHooks) {}

  /** An exclusive operation is queued or running. */
  get busy(): boolean {
    return this.depth > 0;
  }

  /** Runs fn after every earlier exclusive operation (compiles, re-specialisation, loading); one at a time. */
  exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      this.depth++;
      this.hooks.busyChanged();
      this.hooks.status(what);
      try {
        await this.inferring; // never destroy a program an inference is using
        return await fn();
      } finally {
        this.depth--;
        this.hooks.busyChanged();
        if (this.depth === 0 && this.inferAgain) {
          this.inferAgain = false;
          this.requestInference();
        }
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Classifies the current picture (coalesced: at most one in flight, the latest request wins). */
  requestInference(): void {
    const inference = this.inference;
    if (!inference?.ready()) return;
    if (this.inferring || this.depth > 0) {
      this.inferAgain = true;
      return;
    }
    this.inferring = inference.run().catch((e: unknown) => inference.failed(e)).finally(() => {
      this.inferring = undefined;
      if (this.inferAgain) {
        this.inferAgain = false;
        this.requestInference();
      }
    });
  }

  /** Resolves when no exclusive operation is queued and no inference is in flight. */
  async settled(): Promise<void> {
    for (;;) {
      await this.queue;
      await this.inferring;
      await this.hooks.device()?.queue.onSubmittedWorkDone().catch(() => undefined);
      if (this.depth === 0 && !this.inferring && !this.inferAgain) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
