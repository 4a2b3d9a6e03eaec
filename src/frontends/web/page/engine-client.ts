// The page's side of its GPU worker (src/frontends/web/engine/worker.ts): starts it as a module
// worker, sends requests (each answered once, as a promise) and hands the worker's events to
// whoever listens for their kind. Nothing GPU runs on the page's thread.

import type { EngineEvent, FromWorker, Request, ReplyOf, ToWorker } from '../protocol.ts';

type Listener<K extends EngineEvent['kind']> = (e: Extract<EngineEvent, { kind: K }>) => void;

/** Requests to the worker and its events. */
export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, ((e: EngineEvent) => void)[]>();

  /** `onCrash`: the worker could not start or failed outside any request. */
  constructor(url: URL, onCrash: (message: string) => void) {
    this.worker = new Worker(url, { type: 'module', name: 'fpet-gpu' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      onCrash(e.message || 'the GPU worker failed to start (worker.js)');
      for (const p of this.pending.values()) p.reject(new Error('the GPU worker stopped'));
      this.pending.clear();
    };
  }

  /** Sends a request; resolves with the worker's answer, rejects with its error. Typed arrays in `transfer` move. */
  request<R extends Request>(request: R, transfer: Transferable[] = []): Promise<ReplyOf<R['kind']>> {
    const id = this.nextId++;
    const message: ToWorker = { id, request };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  /** Calls fn for every event of this kind. */
  on<K extends EngineEvent['kind']>(kind: K, fn: Listener<K>): void {
    const list = this.listeners.get(kind) ?? [];
    list.push(fn as (e: EngineEvent) => void);
    this.listeners.set(kind, list);
  }

  private receive(m: FromWorker): void {
    if ('event' in m) {
      for (const fn of this.listeners.get(m.event.kind) ?? []) fn(m.event);
      return;
    }
    const p = this.pending.get(m.reply);
    if (!p) return;
    this.pending.delete(m.reply);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  }
}
