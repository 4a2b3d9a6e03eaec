// Node (Dawn) smoke test: the device layer finds an adapter, runs a compute shader correctly,
// and turns GPU validation errors into thrown JS errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAdapterReport, requestGpu, withErrorScope, type GpuContext } from '../../src/core/runtime/device.ts';
import { runAxpy } from './fixtures/axpy.ts';

let gpu: GpuContext;

before(async () => {
  gpu = await requestGpu({ label: 'smoke-node' });
  console.log(formatAdapterReport(gpu.info));
});

after(() => {
  gpu?.destroy();
});

test('adapter report describes a node device with the requested limits', () => {
  assert.equal(gpu.runtime, 'node');
  assert.equal(gpu.info.runtime, 'node');
  const offered = gpu.adapter.limits;
  // The device must carry what the adapter offers, not the WebGPU defaults.
  assert.equal(gpu.info.limits.maxStorageBuffersPerShaderStage, offered.maxStorageBuffersPerShaderStage);
  assert.equal(gpu.info.limits.maxComputeInvocationsPerWorkgroup, offered.maxComputeInvocationsPerWorkgroup);
  assert.equal(gpu.info.limits.maxComputeWorkgroupStorageSize, offered.maxComputeWorkgroupStorageSize);
  assert.equal(gpu.device.limits.maxStorageBufferBindingSize, offered.maxStorageBufferBindingSize);
  for (const f of ['timestamp-query', 'subgroups', 'shader-f16'] as const) {
    assert.equal(gpu.device.features.has(f), gpu.adapter.features.has(f), `feature ${f}`);
  }
});

test('axpy shader: out[i] = a[i]*2 + b[i] over 1000 elements matches the CPU', async () => {
  const r = await runAxpy(gpu.device, 1000);
  console.log(`axpy result: ${JSON.stringify(r)}`);
  assert.equal(r.mismatches, 0, `max abs error ${r.maxAbsErr}`);
  assert.ok(r.guardIntact, 'the shader wrote past n: bounds check failed');
  assert.deepEqual(gpu.takeErrors(), []);
});

test('an invalid shader is a thrown error through withErrorScope, with the WGSL message', async () => {
  await assert.rejects(
    withErrorScope(gpu.device, () => {
      const module = gpu.device.createShaderModule({ label: 'broken', code: 'fn main( { let x = ; }' });
      gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    }, 'broken pipeline'),
    (err: Error) => {
      assert.match(err.message, /^broken pipeline: GPU validation error: /);
      assert.match(err.message, /WGSL/); // Dawn's compiler message travels with it
      return true;
    },
  );
  // Captured by the scope, so nothing leaked to the uncaptured handler.
  assert.deepEqual(gpu.takeErrors(), []);
});

test('a pipeline over the device workgroup limit is also caught', async () => {
  const code = '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n' +
    '@compute @workgroup_size(2048) fn main(@builtin(global_invocation_id) g: vec3u) { x[g.x] = 1.0; }';
  // 2048 invocations exceed every adapter's maxComputeInvocationsPerWorkgroup (<= 1024 here).
  await assert.rejects(
    withErrorScope(gpu.device, () => {
      const module = gpu.device.createShaderModule({ code });
      gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    }),
    /GPU validation error/,
  );
});

test('errors outside a scope are recorded by the uncaptured-error handler', async () => {
  gpu.device.createShaderModule({ label: 'uncaptured', code: 'this is not wgsl' });
  // Delivered asynchronously, from Dawn's event processing.
  const errors: GPUError[] = [];
  for (let i = 0; i < 200 && errors.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    errors.push(...gpu.takeErrors());
  }
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /parsing WGSL|error/i);
});

test('timestamp queries are not quantized (a few-µs kernel must be measurable on a real GPU)', async (t) => {
  const { device } = gpu;
  if (!device.features.has('timestamp-query')) return t.skip('no timestamp-query on this adapter');
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> b: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
        var x = b[g.x];
        for (var i = 0u; i < 50u; i++) { x = x * 1.0001 + 0.5; }
        b[g.x] = x;
      }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const data = gpu.createBuffer({ size: 4 * 4096, usage: GPUBufferUsage.STORAGE });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] });
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = gpu.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = gpu.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const intervals: bigint[] = [];
  for (let r = 0; r < 6; r++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(64);
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    intervals.push(end! - begin!);
  }
  for (const b of [data, resolved, readback]) b.destroy();
  querySet.destroy();
  console.log(`timestamp intervals (ns): ${intervals.join(', ')}`);
  assert.ok(intervals.every((ns) => ns >= 0n), 'an end timestamp precedes its begin');
  // Dawn's default quantization made every interval a multiple of 65,536 ns (src/core/runtime/device.ts DAWN_FLAGS).
  assert.ok(intervals.some((ns) => ns % 65536n !== 0n), `every interval is a multiple of 65,536 ns: timestamps are quantized (${intervals.join(', ')})`);
  assert.deepEqual(gpu.takeErrors(), []);
});
