// Properties of compiled plans, checked on real models (ViT 'vit-micro', forward and forward+
// backward) and on small graphs built to stress one thing: bindings agree with the WGSL they were
// reflected from, the binding limit is honoured, plans are cached by structure, the memory plan
// never lets two live tensors share a byte, and fusion removes kernels without leaving copies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GraphBuilder, type Graph, type Tensor } from '../../src/core/ir/graph.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { crossEntropy, gelu, layerNorm, linear, softmax } from '../../src/core/ir/nn.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { buildVit, VIT_PRESETS, type VitConfig } from '../../src/fpet/models/vit.ts';
import { compileCacheSize, compileGraph, DEFAULT_LIMITS, type CompiledPlan, type PlanKernel } from '../../codegen/compile.ts';
import { reflectKernel } from '../../codegen/reflect.ts';
import { alignUp, planMemory, type Lifetime } from '../../codegen/memory.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { assertClose, checkAgainstReference, gpu } from '../support/gpu.ts';
import { fcParams, randomFeeds } from '../support/random.ts';

// ---------------------------------------------------------------------------------------------
// graphs

interface VitOptions {
  readonly batch?: number;
  readonly imageSize?: number;
  readonly depth?: number;
  /** Add loss = crossEntropy(logits, one-hot input) and the gradients wrt every parameter. */
  readonly backward?: boolean;
}

function vitGraph(o: VitOptions = {}): { graph: Graph; config: VitConfig } {
  const base = VIT_PRESETS['vit-micro'];
  const config: VitConfig = { ...base, imageSize: o.imageSize ?? base.imageSize, depth: o.depth ?? base.depth };
  const B = o.batch ?? 2;
  const b = new GraphBuilder();
  const images = b.input('images', [B, config.inChannels, config.imageSize, config.imageSize]);
  const { logits } = buildVit(b, images, config, (name, shape) => b.param(name, shape, { trainable: true }));
  b.output('logits', logits);
  if (!o.backward) return { graph: b.build(), config };
  b.output('loss', crossEntropy(logits, b.input('onehot', [B, config.numClasses])));
  return { graph: gradients(b.build(), { loss: 'loss' }), config };
}


/** One pre-norm transformer block on an input of shape [B, n, D] (the same code as buildVit's loop body). */
function vitBlockGraph(B = 2, n = 17, D = 16, heads = 2, mlp = 32): Graph {
  const b = new GraphBuilder();
  const P = (name: string, shape: number[]) => b.param(name, shape, { trainable: true });
  const x = b.input('x', [B, n, D]);
  const hd = D / heads;
  const u = layerNorm(x, P('norm1.weight', [D]), P('norm1.bias', [D]));
  const qkv = linear(u, P('attn.qkv.weight', [3 * D, D]), P('attn.qkv.bias', [3 * D]));
  const split = (t: Tensor) => t.reshape([B, n, heads, hd]).permute([0, 2, 1, 3]);
  const q = split(qkv.narrow(2, 0, D)), k = split(qkv.narrow(2, D, D)), v = split(qkv.narrow(2, 2 * D, D));
  const attn = softmax(q.matmul(k.transpose()).mul(1 / Math.sqrt(hd))).matmul(v).permute([0, 2, 1, 3]).reshape([B, n, D]);
  const y = x.add(linear(attn, P('attn.proj.weight', [D, D]), P('attn.proj.bias', [D])));
  const h = gelu(linear(layerNorm(y, P('norm2.weight', [D]), P('norm2.bias', [D])), P('mlp.fc1.weight', [mlp, D]), P('mlp.fc1.bias', [mlp])));
  b.output('y', y.add(linear(h, P('mlp.fc2.weight', [D, mlp]), P('mlp.fc2.bias', [D]))));
  return b.build();
}

// Built once: compiling vit-micro forward+backward takes a few hundred ms.
let vitPlans: { name: string; plan: CompiledPlan; feeds: Record<string, number[]> }[] | undefined;
function vitMicroPlans() {
  vitPlans ??= [false, true].map((backward) => {
    const { graph } = vitGraph({ backward });
    return { name: backward ? 'vit-micro forward+backward' : 'vit-micro forward', plan: compileGraph(graph), feeds: randomFeeds(graph, backward ? 7 : 3, 1, 0.3) };
  });
  return vitPlans;
}

const LEAF_ROLES = new Set(['input', 'param', 'constant']);

/** Names of the storage buffers the WGSL assigns to (`name[...] =` or `name[...] += ...`). */
function writtenBuffers(wgsl: string, names: ReadonlySet<string>): Set<string> {
  const written = new Set<string>();
  for (const m of wgsl.matchAll(/\b([A-Za-z_]\w*)\s*\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*(?:[-+*/]?=)(?!=)/g)) {
    if (names.has(m[1]!)) written.add(m[1]!);
  }
  return written;
}

/** Bytes of workgroup memory the module declares (`var<workgroup> x: array<f32, N>;`). */
function workgroupBytes(wgsl: string): number {
  let bytes = 0;
  for (const m of wgsl.matchAll(/var<workgroup>\s+\w+\s*:\s*array<(?:f32|i32|u32)\s*,\s*(\d+)u?>/g)) bytes += 4 * Number(m[1]);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// 1. reflection vs bindings

function checkKernelBindings(plan: CompiledPlan, k: PlanKernel, where: string): void {
  const reflected = reflectKernel(k.wgsl);
  const at = `${where} ${k.name}`;
  assert.equal(reflected.entryPoint, k.entryPoint, `${at}: entry point`);
  assert.deepEqual(
    reflected.bindings.map((b) => [b.group, b.binding, b.access]),
    k.bindings.map((b) => [0, b.binding, b.access]),
    `${at}: reflected bindings differ from the plan's`,
  );
  // And wgsl_reflect read what the text declares (every declared buffer is also used by main).
  const declared = [...k.wgsl.matchAll(/@group\((\d+)\)\s*@binding\((\d+)\)\s*var<storage,\s*(read|read_write)>\s*(\w+)\s*:\s*array<(\w+)(?:<\w+>)?>/g)]
    .map((m) => [Number(m[1]), Number(m[2]), m[3], m[4], m[5]]);
  assert.deepEqual(reflected.bindings.map((b) => [b.group, b.binding, b.access, b.name, b.elementType]), declared, `${at}: reflection vs declarations`);
  assert.equal(new Set(k.bindings.map((b) => b.binding)).size, k.bindings.length, `${at}: duplicate binding number`);
  assert.equal(new Set(k.bindings.map((b) => b.tensor)).size, k.bindings.length, `${at}: a tensor is bound twice`);
  const nameOf = new Map(reflected.bindings.map((b) => [b.binding, b.name]));
  for (const [i, b] of k.bindings.entries()) {
    const t = plan.tensors.get(b.tensor);
    assert.ok(t, `${at}: binding ${b.binding} names tensor %${b.tensor}, which has no place in memory`);
    // vec4 bindings (aligned vector reads and writes) hold f32 tensors whose length is a multiple of 4.
    const want = b.vec4 ? 'vec4' : t.dtype;
    assert.equal(reflected.bindings[i]!.elementType, want, `${at}: binding ${b.binding} is array<${reflected.bindings[i]!.elementType}> but tensor %${b.tensor} is ${t.dtype}${b.vec4 ? ' bound as vec4' : ''}`);
    if (b.vec4) assert.ok(t.dtype === 'f32' && numel(t.shape) % 4 === 0, `${at}: vec4 binding of %${b.tensor} (${t.dtype}, ${numel(t.shape)} values)`);
    if (LEAF_ROLES.has(t.role)) assert.equal(b.access, 'read', `${at}: leaf %${b.tensor} (${t.role} ${t.name ?? ''}) is bound ${b.access}`);
    else assert.equal(t.arena, 'work', `${at}: kernel output %${b.tensor} is not in the work arena`);
  }
  const root = k.bindings.find((b) => b.tensor === k.root);
  assert.ok(root, `${at}: the root %${k.root} is not bound`);
  assert.equal(root.access, 'read_write', `${at}: the root is bound ${root.access}`);
  // The WGSL stores into exactly the buffers of the kernel's outputs: its root's, and those of the
  // siblings it also computes (horizontal fusion; the attention backward's lse in a forward attention).
  const written = writtenBuffers(k.wgsl, new Set(nameOf.values()));
  const outputs = k.outputs.map((id) => nameOf.get(k.bindings.find((b) => b.tensor === id)!.binding)!);
  assert.deepEqual([...written].sort(), outputs.sort(), `${at}: writes ${[...written].join(', ')}; expected only its outputs' ${outputs.join(', ')}`);

  const L = { ...DEFAULT_LIMITS, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupSizeZ: 64 };
  const [x, y, z] = reflected.workgroupSize;
  assert.deepEqual(reflected.workgroupSize, k.workgroupSize, `${at}: workgroup size`);
  assert.ok(x <= L.maxComputeWorkgroupSizeX && y <= L.maxComputeWorkgroupSizeY && z <= L.maxComputeWorkgroupSizeZ, `${at}: workgroup size ${reflected.workgroupSize}`);
  assert.ok(x * y * z <= L.maxComputeInvocationsPerWorkgroup, `${at}: ${x * y * z} invocations per workgroup`);
  assert.ok(k.dispatch.every((d) => Number.isInteger(d) && d >= 1 && d <= L.maxComputeWorkgroupsPerDimension), `${at}: dispatch ${k.dispatch}`);
  assert.ok(workgroupBytes(k.wgsl) <= L.maxComputeWorkgroupStorageSize, `${at}: ${workgroupBytes(k.wgsl)} bytes of workgroup memory`);
  assert.ok(k.bindings.length <= L.maxStorageBuffersPerShaderStage, `${at}: ${k.bindings.length} storage buffers`);
}

test('vit-micro plans: reflected WGSL bindings match the plan (numbers, access, dtypes), only the root is written, limits hold', () => {
  let kernels = 0;
  for (const { name, plan } of vitMicroPlans()) {
    assert.ok(plan.kernels.length > 0);
    for (const k of plan.kernels) checkKernelBindings(plan, k, name);
    kernels += plan.kernels.length;
  }
  // i32 tensors too: top-k indices, gather and scatterAdd with constant indices.
  const b = new GraphBuilder();
  const x = b.input('x', [2, 6, 5]);
  const top = x.topk(2, -1);
  const picked = x.gather(top, 2).add(b.param('p', [2]));
  b.output('idx', top);
  b.output('y', picked.scatterAdd(b.constant([0, 2, 1, 2, 0, 1, 1, 0, 2, 2, 1, 1], [2, 6], 'i32'), 1, 3).sum(1));
  const plan = compileGraph(b.build());
  assert.ok(plan.kernels.some((k) => k.bindings.some((bd) => plan.tensors.get(bd.tensor)!.dtype === 'i32')));
  for (const k of plan.kernels) checkKernelBindings(plan, k, 'topk/gather/scatterAdd');
  kernels += plan.kernels.length;
  console.log(`checked the bindings of ${kernels} kernels`);
});

test('vit-micro plans: the executor creates every pipeline and bind group without a GPU error, and the step matches the float64 reference', { timeout: 120_000 }, async () => {
  const ctx = await gpu();
  ctx.takeErrors();
  for (const { name, plan, feeds } of vitMicroPlans()) {
    const exe = await Program.create(ctx, plan);
    try {
      const out = await exe.execute(feeds);
      assert.deepEqual(ctx.takeErrors().map((e) => e.message), [], `${name}: GPU errors`);
      const ref = evaluate(plan.graph, feeds).outputs;
      for (const out_ of plan.graph.outputs.keys()) assertClose(`${name}: ${out_}`, out[out_]!, ref[out_]!.data);
      console.log(`${name}: ${plan.kernels.length} kernels (${plan.uniqueKernels} distinct), ${plan.graph.outputs.size} outputs match`);
    } finally {
      exe.destroy();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 2. binding limit

function sumOfInputs(count: number): Graph {
  const b = new GraphBuilder();
  const xs = Array.from({ length: count }, (_, i) => b.input(`x${i}`, [3, 7]));
  // Different ops so nothing can be simplified away.
  let acc = xs[0]!;
  xs.slice(1).forEach((x, i) => (acc = i % 3 === 0 ? acc.add(x) : i % 3 === 1 ? acc.sub(x.tanh()) : acc.add(x.mul(x))));
  b.output('y', acc);
  return b.build();
}

function layerNormMlp(): Graph {
  const b = new GraphBuilder();
  const P = (name: string, shape: number[]) => b.param(name, shape, { trainable: true });
  const x = b.input('x', [2, 5, 12]);
  const u = layerNorm(x.add(P('shift', [12])).mul(P('scale', [5, 1])), P('ln.weight', [12]), P('ln.bias', [12]), 1e-5);
  const h = gelu(linear(u, P('fc1.weight', [20, 12]), P('fc1.bias', [20])).mul(P('gate', [20])));
  const y = linear(h, P('fc2.weight', [12, 20]), P('fc2.bias', [12])).add(x).mul(P('out.scale', [12])).add(P('out.bias', [12]));
  b.output('y', y);
  b.output('loss', y.mul(y).sumAll());
  return gradients(b.build(), { loss: 'loss' });
}

for (const limit of [4, 5]) {
  test(`binding limit ${limit}: every kernel binds at most ${limit} storage buffers and the GPU still matches the reference`, { timeout: 60_000 }, async () => {
    for (const [name, graph] of [['sum of 10 inputs', sumOfInputs(10)], ['LayerNorm -> MLP fwd+bwd', layerNormMlp()]] as const) {
      // Unlimited, the fused plan would need more than `limit` buffers somewhere: the test must bite.
      const free = compileGraph(graph, { limits: { maxStorageBuffersPerShaderStage: 64 } });
      assert.ok(free.kernels.some((k) => k.bindings.length > limit), `${name}: no kernel needs more than ${limit} buffers even without a limit`);
      const plan = await checkAgainstReference(graph, randomFeeds(graph, 11, 1, 0.3), { limits: { maxStorageBuffersPerShaderStage: limit } });
      const over = plan.kernels.filter((k) => k.bindings.length > limit).map((k) => `${k.name} (${k.bindings.length})`);
      assert.deepEqual(over, [], `${name}: kernels over the limit of ${limit}`);
      for (const k of plan.kernels) checkKernelBindings(plan, k, `${name} @${limit}`);
      console.log(`${name} @${limit} buffers: ${plan.kernels.length} kernels (unlimited: ${free.kernels.length}), max ${Math.max(...plan.kernels.map((k) => k.bindings.length))} bindings`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 3. plan cache

test('plan cache: the same graph (even rebuilt) gets the identical plan; another shape a new one', () => {
  const g1 = vitGraph({ depth: 2 }).graph;
  const p1 = compileGraph(g1);
  const size = compileCacheSize();
  assert.equal(compileGraph(g1), p1, 'same graph object, second compile');
  const rebuilt = vitGraph({ depth: 2 }).graph;
  assert.notEqual(rebuilt, g1);
  assert.equal(compileGraph(rebuilt), p1, 'structurally identical graph');
  assert.equal(compileCacheSize(), size, 'recompiling must not add cache entries');

  const otherBatch = compileGraph(vitGraph({ depth: 2, batch: 3 }).graph);
  const otherTokens = compileGraph(vitGraph({ depth: 2, imageSize: 6 }).graph);
  assert.notEqual(otherBatch, p1);
  assert.notEqual(otherTokens, p1);
  assert.notEqual(otherTokens, otherBatch);
  assert.equal(compileCacheSize(), size + 2);
  // The shape is baked into the kernels, so the WGSL differs too.
  const wgsl = new Set(p1.kernels.map((k) => k.code));
  assert.ok(otherBatch.kernels.some((k) => !wgsl.has(k.code)), 'batch 3 reuses every batch-2 kernel');
  assert.ok(otherTokens.kernels.some((k) => !wgsl.has(k.code)), '10 tokens reuses every 17-token kernel');
  // Unfused and limited compiles are separate entries.
  assert.notEqual(compileGraph(g1, { fuse: false }), p1);
  assert.notEqual(compileGraph(g1, { limits: { maxStorageBuffersPerShaderStage: 5 } }), p1);
  assert.equal(compileGraph(g1, { limits: { ...DEFAULT_LIMITS } }), p1, 'explicit default limits hit the same entry');
});

test('plan cache: identical blocks of a ViT share WGSL modules', () => {
  const modules = (p: CompiledPlan) => new Set(p.kernels.map((k) => k.code));
  for (const backward of [false, true]) {
    const what = backward ? 'fwd+bwd' : 'forward';
    const depth3 = compileGraph(vitGraph({ depth: 3, backward }).graph);
    assert.equal(depth3.uniqueKernels, modules(depth3).size);
    assert.ok(depth3.uniqueKernels < depth3.kernels.length, `depth 3 ${what}: ${depth3.uniqueKernels} distinct of ${depth3.kernels.length}`);
    // Blocks away from both ends see identical neighbours, so once there are such blocks (depth 3
    // forward; depth 4 with the backward, whose blocks also see their neighbours' gradients),
    // another block adds kernels but no module. (Counted, not compared as sets: which modules
    // a plan has currently depends on the depth modulo 2 and 3, see the next test.)
    const [d, more] = backward ? [4, 5] : [3, 4];
    const a = compileGraph(vitGraph({ depth: d, backward }).graph), b = compileGraph(vitGraph({ depth: more, backward }).graph);
    assert.ok(b.kernels.length > a.kernels.length);
    assert.equal(b.uniqueKernels, a.uniqueKernels, `${what}: depth ${more} has ${b.uniqueKernels} distinct modules, depth ${d} ${a.uniqueKernels}`);
    console.log(`vit-micro ${what}: depth 3: ${depth3.kernels.length} kernels, ${depth3.uniqueKernels} distinct WGSL modules; depth ${d} -> ${more}: +${b.kernels.length - a.kernels.length} kernels, ${a.uniqueKernels} -> ${b.uniqueKernels} modules`);
  }
});

/** The kernels of each transformer block: from the first kernel binding a `blocks.<i>.` parameter to the next block's. */
function kernelsByBlock(plan: CompiledPlan): PlanKernel[][] {
  const blocks: PlanKernel[][] = [];
  let current = -1;
  for (const k of plan.kernels) {
    for (const b of k.bindings) {
      const m = /^blocks\.(\d+)\./.exec(plan.tensors.get(b.tensor)!.name ?? '');
      if (m && Number(m[1]) > current) current = Number(m[1]);
    }
    if (current >= 0) (blocks[current] ??= []).push(k);
  }
  return blocks;
}

test('plan cache: every middle block of a ViT compiles to the same kernels, whatever its position', () => {
  // Blocks 1..3 of a depth-5 forward see identical neighbours (a block before, a block after), so
  // their kernels should be the same WGSL in the same order. (Found failing: blocks alternate
  // between two plans. planFusion's recompute pass sums the cost of unmaterialized nodes along
  // the residual stream before epilogue fusion turns those adds into kernel roots, so whether a
  // LayerNorm's centred input gets stored depends on how many blocks came before, modulo 2.)
  const plan = compileGraph(vitGraph({ depth: 5 }).graph);
  const blocks = kernelsByBlock(plan);
  assert.equal(blocks.length, 5);
  const ids = new Map<string, number>();
  const seq = (ks: PlanKernel[]) => ks.map((k) => ids.get(k.code) ?? ids.set(k.code, ids.size).get(k.code)!);
  const seqs = blocks.map(seq);
  const describe = blocks.map((ks, i) => `block ${i}: ${ks.length} kernels, modules [${seqs[i]!.join(' ')}]`).join('\n  ');
  for (let i = 2; i <= 3; i++) {
    const diff = blocks[i]!.flatMap((k, j) => (blocks[1]![j]?.code === k.code ? [] : [`${blocks[1]![j]?.name ?? '(none)'} vs ${k.name}`]));
    assert.deepEqual(seqs[i], seqs[1], `block ${i} is planned differently from block 1 (${diff.join('; ')}):\n  ${describe}`);
  }
});

// ---------------------------------------------------------------------------------------------
// 4. memory planning

const lifetimesArb = fc.array(
  fc.record({
    first: fc.integer({ min: 0, max: 30 }),
    span: fc.integer({ min: 0, max: 12 }),
    bytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 5000 })),
  }),
  { maxLength: 40 },
).map((xs) => xs.map((x, key): Lifetime => ({ key: key * 3 + 1, first: x.first, last: x.first + x.span, bytes: x.bytes })));

test('memory planner (property): aligned, no shared bytes while both live, no worse than no reuse, no better than the peak', () => {
  fc.assert(
    fc.property(lifetimesArb, fc.constantFrom(4, 16, 256), (items, alignment) => {
      const m = planMemory(items, alignment);
      const size = (bytes: number) => alignUp(Math.max(bytes, 4), alignment);
      assert.equal(m.placements.size, items.length);
      for (const t of items) {
        const p = m.placements.get(t.key);
        assert.ok(p, `tensor ${t.key} was not placed`);
        assert.equal(p.bytes, t.bytes);
        assert.equal(p.offset % alignment, 0, `tensor ${t.key} at ${p.offset} (alignment ${alignment})`);
        assert.ok(p.offset >= 0 && p.offset + size(t.bytes) <= m.arenaBytes, `tensor ${t.key} [${p.offset}, +${size(t.bytes)}) outside the arena of ${m.arenaBytes}`);
      }
      for (let i = 0; i < items.length; i++) {
        for (let j = i + 1; j < items.length; j++) {
          const a = items[i]!, b = items[j]!;
          if (a.last < b.first || b.last < a.first) continue;
          const pa = m.placements.get(a.key)!, pb = m.placements.get(b.key)!;
          const disjoint = pa.offset + Math.max(a.bytes, 1) <= pb.offset || pb.offset + Math.max(b.bytes, 1) <= pa.offset;
          assert.ok(disjoint, `live together (steps ${Math.max(a.first, b.first)}..${Math.min(a.last, b.last)}): ${a.key} at [${pa.offset}, +${a.bytes}) and ${b.key} at [${pb.offset}, +${b.bytes})`);
        }
      }
      assert.equal(m.noReuseBytes, items.reduce((s, t) => s + size(t.bytes), 0));
      assert.ok(m.arenaBytes <= m.noReuseBytes, `arena ${m.arenaBytes} > no reuse ${m.noReuseBytes}`);
      let peak = 0;
      for (let step = 0; step <= 42; step++) {
        peak = Math.max(peak, items.filter((t) => t.first <= step && step <= t.last).reduce((s, t) => s + size(t.bytes), 0));
      }
      assert.ok(m.arenaBytes >= peak, `arena ${m.arenaBytes} below the live peak ${peak}`);
      if (items.length === 0) assert.equal(m.arenaBytes, 0);
    }),
    fcParams(300),
  );
  assert.throws(() => planMemory([{ key: 1, first: 3, last: 2, bytes: 8 }], 4), /lifetime ends/);
});

/** Checks a plan's memory layout by replaying its kernels in order over byte ranges. */
function checkPlanMemory(plan: CompiledPlan, where: string): void {
  const work = [...plan.tensors.values()].filter((t) => t.arena === 'work');
  const overlap = (a: { offset: number; bytes: number }, b: { offset: number; bytes: number }) => a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
  for (const t of plan.tensors.values()) {
    assert.ok(t.offset >= 0 && t.offset + t.bytes <= plan.arenaBytes[t.arena], `${where}: %${t.node} [${t.offset}, +${t.bytes}) outside the ${t.arena} arena (${plan.arenaBytes[t.arena]} bytes)`);
    assert.equal(t.offset % DEFAULT_LIMITS.minStorageBufferOffsetAlignment, 0, `${where}: %${t.node} at ${t.offset}`);
    assert.ok(t.bytes >= numel(t.shape) * 4, `${where}: %${t.node} has ${t.bytes} bytes for ${numel(t.shape)} elements`);
  }
  for (const arena of ['params', 'inputs'] as const) {
    const ts = [...plan.tensors.values()].filter((t) => t.arena === arena);
    for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) assert.ok(!overlap(ts[i]!, ts[j]!), `${where}: ${arena} %${ts[i]!.node} and %${ts[j]!.node} overlap`);
  }
  // Which kernel last wrote each work tensor's bytes: tensor -> kernel index.
  const writer = new Map<number, number>();
  plan.kernels.forEach((k, i) => {
    const bound = k.bindings.map((b) => plan.tensors.get(b.tensor)!).filter((t) => t.arena === 'work');
    for (let a = 0; a < bound.length; a++) {
      for (let b = a + 1; b < bound.length; b++) {
        assert.ok(!overlap(bound[a]!, bound[b]!), `${where} ${k.name}: bound work tensors %${bound[a]!.node} [${bound[a]!.offset}, +${bound[a]!.bytes}) and %${bound[b]!.node} [${bound[b]!.offset}, +${bound[b]!.bytes}) overlap`);
      }
    }
    for (const b of k.bindings) {
      const t = plan.tensors.get(b.tensor)!;
      if (k.outputs.includes(b.tensor) || t.arena !== 'work') continue;
      const w = writer.get(b.tensor);
      assert.ok(w !== undefined, `${where} ${k.name}: reads %${b.tensor} before any kernel wrote it`);
      assert.ok(w < i);
    }
    for (const outId of k.outputs) {
      const root = plan.tensors.get(outId);
      assert.ok(root && root.arena === 'work', `${where} ${k.name}: output %${outId} is not in the work arena`);
      assert.ok(!writer.has(outId), `${where} ${k.name}: %${outId} is written by two kernels`);
      // Writing an output clobbers every tensor whose bytes it overlaps.
      for (const t of work) if (t.node !== outId && writer.has(t.node) && overlap(t, root)) writer.delete(t.node);
      writer.set(outId, i);
    }
  });
  // The outputs survive to the end of the step.
  for (const [name, id] of plan.graph.outputs) {
    if (plan.tensors.get(id)!.arena !== 'work') continue;
    assert.ok(writer.has(plan.tensors.get(id)!.storage), `${where}: output ${name} (%${id}) was overwritten before the end of the step`);
  }
  assert.equal(plan.arenaBytes.work, plan.memory.arenaBytes);
  assert.ok(plan.memory.arenaBytes <= plan.memory.noReuseBytes);
}

test('memory plan of vit-micro (fwd, fwd+bwd, unfused too): bound tensors disjoint, every read sees its producer\'s value', () => {
  const plans = [...vitMicroPlans().map((p) => [p.name, p.plan] as const), ['vit-micro fwd+bwd unfused', compileGraph(vitMicroPlans()[1]!.plan.graph, { fuse: false })] as const];
  for (const [name, plan] of plans) {
    checkPlanMemory(plan, name);
    console.log(`${name}: work arena ${plan.memory.arenaBytes} bytes planned vs ${plan.memory.noReuseBytes} without reuse`);
  }
  // The checker itself bites: with every work tensor at offset 0 it must object.
  const { plan } = vitMicroPlans()[1]!;
  const collapsed = new Map([...plan.tensors].map(([id, t]) => [id, t.arena === 'work' ? { ...t, offset: 0 } : t]));
  assert.throws(() => checkPlanMemory({ ...plan, tensors: collapsed }, 'collapsed'), /overlap|overwritten/);
  // Reuse has to happen somewhere on a graph this long.
  assert.ok(vitMicroPlans()[1]!.plan.memory.arenaBytes < vitMicroPlans()[1]!.plan.memory.noReuseBytes / 2);
});

// ---------------------------------------------------------------------------------------------
// 5. fusion

/** Ops that only rename or re-index elements: a kernel computing nothing else is a copy. */
const VIEW_OPS = new Set(['reshape', 'permute', 'broadcast', 'slice', 'stopGradient', 'straightThrough']);

/** Kernels that only copy a stored tensor through views, into a tensor that is not a graph output. */
function copyKernels(plan: CompiledPlan): string[] {
  const outputs = new Set(plan.graph.outputs.values());
  return plan.kernels
    .filter((k) => k.kind === 'map' && !outputs.has(k.root) && k.nodes.every((id) => VIEW_OPS.has(plan.graph.node(id).op)))
    .map((k) => `${k.name}: %${k.root} = ${plan.graph.node(k.root).op}(${plan.graph.node(k.root).inputs.map((i) => `%${i} ${plan.graph.node(i).op}`).join(', ')})`);
}

test('fusion: a ViT block fuses into fewer kernels than ops, and no fused kernel is a pure-view copy', () => {
  const block = vitBlockGraph();
  for (const graph of [block, gradients(block, { loss: 'y' })]) {
    const fused = compileGraph(graph), unfused = compileGraph(graph, { fuse: false });
    assert.ok(fused.kernels.length < unfused.kernels.length, `fused ${fused.kernels.length} vs unfused ${unfused.kernels.length}`);
    assert.ok(fused.fused && !unfused.fused);
    assert.deepEqual(copyKernels(fused), [], 'fused kernels that only copy through a view');
    console.log(`ViT block${graph === block ? '' : ' fwd+bwd'}: ${fused.kernels.length} fused kernels vs ${unfused.kernels.length} unfused`);
  }
  // The forward block: LN stats, LN+qkv matmul, scores, max, sum-exp, softmax@v, proj, LN stats, LN+fc1+GELU, fc2 — never more than this.
  assert.ok(compileGraph(block).kernels.length <= 12, `${compileGraph(block).kernels.length} kernels for one block`);
});

test('fusion: vit-micro (whole model, default limits) has no pure-view copy kernel either', () => {
  for (const { name, plan } of vitMicroPlans()) {
    const unfused = compileGraph(plan.graph, { fuse: false });
    assert.ok(plan.kernels.length < unfused.kernels.length, `${name}: fused ${plan.kernels.length} vs unfused ${unfused.kernels.length}`);
    assert.deepEqual(copyKernels(plan), [], `${name}: fused kernels that only copy through a view`);
  }
});

test('fusion: splitting a kernel over the binding limit keeps the matmul epilogue whole (no copy kernel)', () => {
  // (x + pos) -> LayerNorm -> linear: fused into the matmul, the kernel would bind 9 buffers
  // (x, pos, two row sums, ln.w, ln.b, w, bias, y). Storing the LayerNorm output brings it to
  // 4 (plus a 7-buffer map kernel): 4 kernels in all. The matmul's epilogue (reshape, + bias)
  // has no reason to leave the matmul kernel.
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3, 4]).add(b.input('pos', [1, 3, 4]));
  b.output('y', linear(layerNorm(x, b.param('ln.w', [4]), b.param('ln.b', [4])), b.param('w', [6, 4]), b.param('bias', [6])));
  const graph = b.build();
  // (The norm's affine unfolded: folded into the weight, it would not bind ln.w and ln.b at all.)
  const plan = compileGraph(graph, { limits: { maxStorageBuffersPerShaderStage: 8 }, foldNormAffine: false });
  const describe = plan.kernels.map((k) => `${k.name} (root %${k.root} ${plan.graph.node(k.root).op}, ${k.bindings.length} bindings)`).join('\n  ');
  assert.ok(plan.kernels.every((k) => k.bindings.length <= 8));
  assert.deepEqual(copyKernels(plan), [], `copy kernels in:\n  ${describe}`);
  assert.ok(plan.kernels.length <= 4, `${plan.kernels.length} kernels:\n  ${describe}`);
});

test('a program refuses an output named like an input (it writes and reads tensors by name); an input given back as an output is fine', async () => {
  const ctx = await gpu();
  const named = (outName: string, identity: boolean) => {
    const b = new GraphBuilder();
    const x = b.input('x', [4]);
    b.output(outName, identity ? x : x.neg());
    return compileGraph(b.build());
  };
  await assert.rejects(Program.create(ctx, named('x', false)), /names two tensors "x" \(input and output\).*rename the output/);
  const exe = await Program.create(ctx, named('x', true));
  try {
    const out = await exe.execute({ x: [1, 2, 3, 4] });
    assert.deepEqual(Array.from(out.x!), [1, 2, 3, 4]);
  } finally {
    exe.destroy();
  }
});

test('a program refuses a plan whose subgroup kernels were generated for another lane count than the device\'s (unless it only compiles them)', async () => {
  const ctx = await gpu();
  const lanes = ctx.info.subgroupSize;
  if (!lanes) return; // no fixed subgroup size here: no subgroup kernels to mismatch
  const b = new GraphBuilder();
  const [q, k, v] = ['q', 'k', 'v'].map((n) => b.input(n, [1, 2, 20, 16]));
  b.output('o', softmax(q!.matmul(k!.transpose()).mul(0.25)).matmul(v!));
  const graph = b.build();
  const wrong = lanes === 32 ? 16 : 32;
  const other = compileGraph(graph, { limits: { ...DEFAULT_LIMITS, adapterClass: 'gpu', subgroupSize: wrong } });
  assert.ok(other.kernels.some((k) => k.features.includes('subgroups')), 'the attention kernel uses subgroups');
  await assert.rejects(Program.create(ctx, other), new RegExp(`subgroups of ${wrong} lanes, this device's have ${lanes}`));
  (await Program.create(ctx, other, { compileOnly: true })).destroy();
  await checkAgainstReference(graph, randomFeeds(graph, 2), { limits: { adapterClass: 'gpu' } });
});
