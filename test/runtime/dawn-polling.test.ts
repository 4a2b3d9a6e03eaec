// How Node waits for Dawn (src/core/runtime/dawn-polling.ts): Dawn's polls wait for a timer once they
// follow each other, every other setImmediate callback is untouched, and GPU waits still resolve.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dawnPolling, setDawnPolling } from '../../src/core/runtime/dawn-polling.ts';
import { requestGpu } from '../../src/core/runtime/device.ts';
import { isCpuAdapter } from '../../src/core/runtime/program.ts';

const kind = (handle: unknown) => (handle as object).constructor.name;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('yield: a nameless native callback (as Dawn posts) waits for a timer when it follows another poll; the first of a wait does not', async () => {
  const before = dawnPolling();
  setDawnPolling('yield');
  try {
    // Function.prototype is a native function without a name, like the napi callback Dawn posts.
    const poll = Function.prototype as () => void;
    await pause(5);
    assert.equal(kind(setImmediate(poll)), 'Immediate');
    assert.equal(kind(setImmediate(poll)), 'Timeout');
    assert.equal(kind(setImmediate(poll)), 'Timeout');
    await pause(5);
    assert.equal(kind(setImmediate(poll)), 'Immediate', 'a poll after a pause starts a new wait');
  } finally {
    setDawnPolling(before);
  }
});

test('yield: other callbacks keep setImmediate\'s behaviour (arguments, order before timers, clearImmediate)', async () => {
  const original = globalThis.setImmediate;
  setDawnPolling('yield');
  try {
    assert.notEqual(globalThis.setImmediate, original);
    const order: string[] = [];
    const done = new Promise<void>((resolve) => setTimeout(() => resolve(), 5));
    setTimeout(() => order.push('timer'), 1);
    setImmediate((a: string, b: string) => order.push(`immediate ${a}${b}`), 'x', 'y');
    const cleared = setImmediate(() => order.push('cleared'));
    assert.equal(kind(cleared), 'Immediate');
    clearImmediate(cleared);
    await done;
    assert.deepEqual(order, ['immediate xy', 'timer']);
  } finally {
    setDawnPolling('spin');
  }
  assert.equal(globalThis.setImmediate, original, "'spin' puts Node's own setImmediate back");
  assert.equal(dawnPolling(), 'spin');
});

test('requestGpu turns yielding polls on for a software adapter, and GPU waits resolve with them', async () => {
  const ctx = await requestGpu({ label: 'dawn polling test' });
  try {
    assert.equal(dawnPolling(), isCpuAdapter(ctx) ? 'yield' : 'spin');
    const buffer = ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    ctx.device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
    await ctx.device.queue.onSubmittedWorkDone();
    await buffer.mapAsync(GPUMapMode.READ);
    assert.deepEqual([...new Float32Array(buffer.getMappedRange())], [1, 2, 3, 4]);
    buffer.unmap();
  } finally {
    ctx.destroy();
  }
});
