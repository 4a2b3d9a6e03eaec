// Graph -> compiled plan: fusion, one WGSL kernel per fused group (shapes baked in), bindings
// read back from the WGSL by reflection, and a memory plan. Plans are cached by the graph's
// structure, so compiling the same graph (same shapes, same merge ratio) twice is free; a new
// shape or merge ratio changes the structure and gets its own kernels.

import type { Graph, Node } from '../src/ir/graph.ts';
import { numel, type DType, type Shape } from '../src/ir/shape.ts';
import { OPS, type OpKind } from '../src/ir/ops.ts';
import { alignUp, planMemory, type MemoryPlan } from '../src/runtime/memory.ts';
import { KernelWriter } from './emit.ts';
import { BUFFER_LEAVES, planFusion, type FusionPlan } from './fuse.ts';
import { reflectKernel } from './reflect.ts';
import { linkKernel } from './wgsl-lib.ts';
import type { KernelKind, TemplateInput, TemplateLimits, TemplateOutput } from '../kernels/common.ts';
import { mapKernel } from '../kernels/map.ts';
import { matmulKernel } from '../kernels/matmul.ts';
import { reduceKernel, rowKernel, wantsRowKernel } from '../kernels/reduce.ts';
import { topkKernel } from '../kernels/select.ts';
import { scatterKernel } from '../kernels/scatter.ts';

/** The device limits code generation depends on (a GPUSupportedLimits satisfies this). */
export interface CodegenLimits {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly minStorageBufferOffsetAlignment: number;
}

/** WebGPU's guaranteed minimums: a plan compiled for these runs on any adapter. */
export const DEFAULT_LIMITS: CodegenLimits = {
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  minStorageBufferOffsetAlignment: 256,
};

export type Arena = 'params' | 'inputs' | 'work';

export interface PlanTensor {
  readonly node: number;
  /** Name of the input, parameter or output it holds, if any. */
  readonly name?: string;
  readonly role: 'input' | 'param' | 'constant' | 'intermediate' | 'output';
  readonly arena: Arena;
  readonly offset: number;
  readonly bytes: number;
  readonly shape: Shape;
  readonly dtype: DType;
  /** The node whose buffer this is: itself, or the input of a buffer-sharing reshape. */
  readonly storage: number;
}

export interface KernelBinding {
  readonly binding: number;
  readonly tensor: number;
  readonly access: 'read' | 'read_write';
}

export interface PlanKernel {
  readonly name: string;
  readonly kind: KernelKind;
  readonly wgsl: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  readonly bindings: readonly KernelBinding[];
  readonly flops: number;
  /** Bytes of every tensor bound (each read once, written once). */
  readonly bytes: number;
  readonly config: string;
  readonly root: number;
  /** Tensors this kernel writes: the root and its horizontal siblings. */
  readonly outputs: readonly number[];
  /** Graph nodes computed by this kernel. */
  readonly nodes: readonly number[];
}

export interface CompiledPlan {
  readonly graph: Graph;
  readonly kernels: readonly PlanKernel[];
  readonly tensors: ReadonlyMap<number, PlanTensor>;
  readonly arenaBytes: Readonly<Record<Arena, number>>;
  readonly memory: MemoryPlan;
  readonly fused: boolean;
  readonly flops: number;
  /** Distinct WGSL modules (identical kernels, e.g. of repeated blocks, share one pipeline). */
  readonly uniqueKernels: number;
}

export interface CompileOptions {
  /** Fuse (default) or emit one kernel per op, the baseline for tests and benchmarks. */
  readonly fuse?: boolean;
  readonly limits?: Partial<CodegenLimits>;
}

const planCache = new Map<string, CompiledPlan>();

export function compileGraph(graph: Graph, opts: CompileOptions = {}): CompiledPlan {
  const limits: CodegenLimits = { ...DEFAULT_LIMITS, ...definedOnly(opts.limits ?? {}) };
  const fuse = opts.fuse ?? true;
  const key = `${fuse}|${JSON.stringify(limits)}|${structureKey(graph)}`;
  const hit = planCache.get(key);
  if (hit) return hit;
  const plan = compileUncached(graph, fuse, limits);
  planCache.set(key, plan);
  return plan;
}

export const compileCacheSize = (): number => planCache.size;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function compileUncached(graph: Graph, fuse: boolean, limits: CodegenLimits): CompiledPlan {
  const fusion = planFusion(graph, { fuse, maxBindings: limits.maxStorageBuffersPerShaderStage });
  const tl: TemplateLimits = {
    maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
  };
  // Fusion legality was decided by the plan: a template that cannot render it is a bug.
  const kernels = fusion.kernelRoots().map((root, i) => generateKernel(graph, fusion, root, tl, i));
  return assemble(graph, fusion, kernels, fuse, limits);
}

function chooseTemplate(fusion: FusionPlan, root: Node): (t: TemplateInput) => TemplateOutput {
  if (root.op === 'matmul' || fusion.anchorOf.has(root.id)) return matmulKernel;
  if (root.op === 'topk') return topkKernel;
  if (root.op === 'scatterAdd') return scatterKernel;
  if (wantsRowKernel(fusion, root)) return rowKernel;
  if (root.op === 'sum' || root.op === 'reduceMax') return reduceKernel;
  return mapKernel;
}

interface Generated extends Omit<PlanKernel, 'bindings' | 'bytes'> {
  readonly tensorOf: ReadonlyMap<string, number>;
}

function generateKernel(graph: Graph, fusion: FusionPlan, root: Node, limits: TemplateLimits, index: number): Generated {
  const w = new KernelWriter(graph, fusion);
  const t = chooseTemplate(fusion, root)({ w, graph, plan: fusion, root, limits });
  const template = [
    w.declarations(),
    ...t.moduleDecls,
    '',
    `@compute @workgroup_size(${t.workgroupSize.join(', ')})`,
    `fn main(${t.params}) {`,
    w.body,
    '}',
    '',
  ].join('\n');
  const wgsl = linkKernel(template, w.helpers);
  const nodes = [...w.fusedNodes].sort((a, b) => a - b);
  return {
    name: kernelName(graph, index, t.kind, root, nodes),
    kind: t.kind,
    wgsl,
    entryPoint: 'main',
    workgroupSize: t.workgroupSize,
    dispatch: t.dispatch,
    flops: Math.round(t.flops),
    config: t.config,
    root: root.id,
    outputs: [root.id, ...(fusion.siblings.get(root.id) ?? [])],
    nodes,
    tensorOf: new Map([...w.bindings.values()].map((b) => [b.name, b.tensor])),
  };
}

/** Ops left out of kernel names: they move or rename values, the name lists what computes. */
const QUIET_KINDS: ReadonlySet<OpKind> = new Set(['view', 'literal', 'gradient']);

function kernelName(graph: Graph, index: number, kind: KernelKind, root: Node, nodes: readonly number[]): string {
  const ops: string[] = [];
  for (const id of nodes) {
    const op = graph.node(id).op;
    if (!QUIET_KINDS.has(OPS[op].kind) && ops[ops.length - 1] !== op) ops.push(op);
  }
  const body = ops.length > 5 ? [...ops.slice(0, 4), `${ops.length - 4}more`] : ops;
  return `k${String(index).padStart(3, '0')}_${kind}_${body.join('_') || root.op}_${root.type.shape.join('x') || 'scalar'}`;
}

function assemble(graph: Graph, fusion: FusionPlan, generated: Generated[], fused: boolean, limits: CodegenLimits): CompiledPlan {
  const align = limits.minStorageBufferOffsetAlignment;
  const outputName = new Map([...graph.outputs].map(([k, v]) => [v, k]));
  const bytesOf = (n: Node) => Math.max(4, numel(n.type.shape) * 4);

  // Bindings come from reflecting the WGSL, mapped to tensors by the names the writer chose.
  const kernels: PlanKernel[] = generated.map((g) => {
    const reflected = reflectKernel(g.wgsl);
    const bindings = reflected.bindings.map((b) => {
      const tensor = g.tensorOf.get(b.name);
      if (tensor === undefined) throw new Error(`${g.name}: reflected binding ${b.name} matches no tensor`);
      return { binding: b.binding, tensor, access: b.access };
    });
    const bytes = bindings.reduce((s, b) => s + bytesOf(graph.node(b.tensor)), 0);
    const { tensorOf: _t, ...rest } = g;
    return { ...rest, workgroupSize: reflected.workgroupSize, bindings, bytes };
  });

  // Leaves live in persistent arenas; kernel outputs in the planned work arena.
  const tensors = new Map<number, PlanTensor>();
  const arenaBytes: Record<Arena, number> = { params: 0, inputs: 0, work: 0 };
  for (const n of graph.nodes) {
    if (!BUFFER_LEAVES.has(n.op)) continue;
    const arena: Arena = n.op === 'input' ? 'inputs' : 'params';
    const offset = arenaBytes[arena];
    arenaBytes[arena] = alignUp(offset + bytesOf(n), align);
    const name = n.op === 'input' || n.op === 'param' ? n.attrs.name : undefined;
    tensors.set(n.id, { node: n.id, name, role: n.op as PlanTensor['role'], arena, offset, bytes: bytesOf(n), shape: n.type.shape, dtype: n.type.dtype, storage: n.id });
  }
  const first = new Map<number, number>(), last = new Map<number, number>();
  kernels.forEach((k, i) => {
    for (const b of k.bindings) {
      if (tensors.has(b.tensor)) continue;
      if (!first.has(b.tensor)) first.set(b.tensor, i);
      last.set(b.tensor, i);
    }
  });
  for (const out of graph.outputs.values()) {
    const id = fusion.storage(out);
    if (first.has(id)) last.set(id, kernels.length);
  }
  const memory = planMemory([...first].map(([key, f]) => ({ key, first: f, last: last.get(key)!, bytes: bytesOf(graph.node(key)) })), align);
  for (const [id, p] of memory.placements) {
    const n = graph.node(id);
    tensors.set(id, {
      node: id, name: outputName.get(id), role: outputName.has(id) ? 'output' : 'intermediate',
      arena: 'work', offset: p.offset, bytes: p.bytes, shape: n.type.shape, dtype: n.type.dtype, storage: id,
    });
  }
  // A reshape sharing its input's buffer is that tensor under another shape (and maybe a name).
  for (const [r, x] of fusion.aliasOf) {
    const t = tensors.get(x);
    const n = graph.node(r);
    if (t) tensors.set(r, { ...t, node: r, name: outputName.get(r), role: outputName.has(r) ? 'output' : 'intermediate', shape: n.type.shape });
  }
  arenaBytes.work = memory.arenaBytes;
  return {
    graph, kernels, tensors, arenaBytes, memory, fused,
    flops: kernels.reduce((s, k) => s + k.flops, 0),
    uniqueKernels: new Set(kernels.map((k) => k.wgsl)).size,
  };
}

/** A string that is equal for two graphs exactly when they compute the same thing. */
export function structureKey(graph: Graph): string {
  const parts = graph.nodes.map((n) => {
    const attrs = JSON.stringify(n.attrs, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v));
    return `${n.op}(${n.inputs.join(',')})${attrs}:${n.type.dtype}[${n.type.shape.join(',')}]`;
  });
  return `${parts.join(';')}|${[...graph.outputs].map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** A table of the plan: one line per kernel with its shape, FLOPs and bytes. */
export function describePlan(plan: CompiledPlan): string {
  const mb = (b: number) => (b / 2 ** 20).toFixed(2);
  const lines = plan.kernels.map((k) =>
    `${k.name.padEnd(56)} ${k.kind.padEnd(7)} ${String(k.dispatch.join('x')).padEnd(12)} ${(k.flops / 1e6).toFixed(3).padStart(10)} MFLOP ${(k.bytes / 2 ** 20).toFixed(3).padStart(9)} MiB  ${k.config}`,
  );
  const m = plan.memory;
  return [
    `${plan.kernels.length} kernels (${plan.uniqueKernels} distinct WGSL modules), ${(plan.flops / 1e9).toFixed(4)} GFLOP, fusion ${plan.fused ? 'on' : 'off'}`,
    `${'kernel'.padEnd(56)} ${'kind'.padEnd(7)} ${'dispatch'.padEnd(12)} ${'flops'.padStart(16)} ${'bytes'.padStart(13)}  config`,
    ...lines,
    `memory: params ${mb(plan.arenaBytes.params)} MiB, inputs ${mb(plan.arenaBytes.inputs)} MiB, work arena ${mb(m.arenaBytes)} MiB planned vs ${mb(m.noReuseBytes)} MiB without reuse`,
  ].join('\n');
}
