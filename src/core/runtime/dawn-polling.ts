// How Node waits for Dawn. dawn.node (webgpu 0.6.2) finds finished GPU work (onSubmittedWorkDone,
// mapAsync, pipeline creation) by polling: while any such promise is pending it re-posts a native
// callback with the global setImmediate, so the JS thread runs at 100% of a core. On a real GPU that
// costs a CPU core nobody needs. On a software adapter the GPU *is* the CPU: the spinning thread takes
// a core from lavapipe's threads. Measured on the 2-core CI machine (runs of vit-mnist, alternating
// in one process): training steps 1.6-1.8x and inference 1.6-1.9x faster when polls wait for a 1 ms
// timer instead, and a cold-cache compile of the FPET training step 30.8 -> 23.6 s.
//
// 'yield' wraps the global setImmediate so that Dawn's polls (a native function without a name; any
// other callback goes straight through), when they follow each other within 2 ms, wait for a 1 ms
// timer. The first poll of a wait is immediate, so a quick wait stays quick; a long one costs at
// most ~1 ms of latency. requestGpu turns it on for CPU adapters under Node; 'spin' restores Dawn's
// own behaviour (for comparisons).

/** How Node waits for Dawn's asynchronous results: Dawn's own busy polling, or polls that yield the CPU. */
export type DawnPolling = 'spin' | 'yield';

/** Polls closer together than this (ms) are one wait, the later ones delayed. */
const CONTINUING_MS = 2;
/** The delay of a continuing poll (ms): Node's shortest timer. */
const POLL_DELAY_MS = 1;

let original: typeof globalThis.setImmediate | undefined;
let lastPoll = -Infinity;

/** Dawn's polling callback: napi functions are native and have no name. */
function isDawnPoll(callback: unknown): boolean {
  return typeof callback === 'function' && callback.name === '' && Function.prototype.toString.call(callback).includes('[native code]');
}

function yieldingSetImmediate(this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]) {
  const immediate = original!;
  if (!isDawnPoll(callback)) return immediate(callback, ...args);
  const now = performance.now();
  const continuing = now - lastPoll < CONTINUING_MS;
  lastPoll = now;
  // Dawn never clears its poll, so handing it a Timeout instead of an Immediate is safe.
  return continuing ? (setTimeout(callback, POLL_DELAY_MS, ...args) as unknown as ReturnType<typeof setImmediate>) : immediate(callback, ...args);
}

/** Sets how this process waits for Dawn (Node only; elsewhere there is no setImmediate to wrap and nothing changes). */
export function setDawnPolling(mode: DawnPolling): void {
  if (typeof globalThis.setImmediate !== 'function') return;
  if (mode === 'yield' && original === undefined) {
    original = globalThis.setImmediate;
    globalThis.setImmediate = Object.assign(yieldingSetImmediate, original) as typeof globalThis.setImmediate;
  } else if (mode === 'spin' && original !== undefined) {
    globalThis.setImmediate = original;
    original = undefined;
  }
}

/** How this process currently waits for Dawn. */
export function dawnPolling(): DawnPolling {
  return original === undefined ? 'spin' : 'yield';
}
