// Turns between the page's training runs: each runner takes one step and hands the baton on, so
// both curves grow side by side and every step's wall time belongs to one model; pausing holds the
// baton at a step boundary. Universal: no DOM here.

/** Round-robin turns between runners, with pause. */
export class Baton {
  private order: string[] = [];
  private current: string | undefined;
  private waiters = new Map<string, () => void>();
  private starters = new Map<string, () => void>();
  private pausedFlag = false;

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Adds a participant; `start` is called when it first gets the turn (at once when it is the only one). */
  join(id: string, start: () => void): void {
    this.order.push(id);
    this.starters.set(id, start);
    if (this.current === undefined && !this.pausedFlag) this.grant(id);
  }

  /** Called by `id` at a step boundary: hands the turn on and resolves when `id` has it again (and is not paused). */
  pass(id: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.set(id, resolve);
      if (this.current === id && !this.pausedFlag) this.grant(this.next(id));
    });
  }

  /** Resolves a waiting participant at once (it is stopping), whoever has the turn. */
  release(id: string): void {
    const w = this.waiters.get(id);
    this.waiters.delete(id);
    w?.();
  }

  /** Removes a participant (its loop ended); the turn moves on if it had it. */
  leave(id: string): void {
    const i = this.order.indexOf(id);
    if (i < 0) return;
    const wasCurrent = this.current === id;
    const next = this.order.length > 1 ? this.order[(i + 1) % this.order.length] : undefined;
    this.order.splice(i, 1);
    this.starters.delete(id);
    this.release(id);
    if (wasCurrent) {
      this.current = undefined;
      if (next !== undefined && !this.pausedFlag) this.grant(next);
    }
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    const holder = this.current;
    if (holder === undefined) {
      if (this.order.length) this.grant(this.order[0]!);
    } else if (this.waiters.has(holder)) {
      // The holder paused at its boundary: let the next one go (or the holder itself if alone).
      this.grant(this.next(holder));
    }
  }

  private next(id: string): string {
    const i = this.order.indexOf(id);
    return this.order[(i + 1) % this.order.length] ?? id;
  }

  private grant(id: string): void {
    this.current = id;
    const start = this.starters.get(id);
    if (start) {
      this.starters.delete(id);
      start();
      return;
    }
    const w = this.waiters.get(id);
    if (w) {
      this.waiters.delete(id);
      w();
    }
  }
}
