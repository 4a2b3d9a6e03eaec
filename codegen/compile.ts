// Graph -> compiled plan: fusion decisions (fuse.ts), one WGSL kernel per fused group rendered by
// the template its root's op kind calls for (shapes baked in), a readable header per kernel, and a
// memory plan. Plans are cached by the graph's structure, so compiling the same graph (same
// shapes, same merge ratio) twice is free; a new shape or merge ratio changes the structure and
// gets its own kernels.

import { Graph, pruneToOutputs, type Node } from '../src/core/ir/graph.ts';
import { withoutSurrogates } from '../src/core/ir/autodiff.ts';
import { OPS, type OpKind } from '../src/core/ir/ops.ts';
import { fmtShape, numel, type DType, type Shape } from '../src/core/ir/shape.ts';
import { FusionError, type FusionView, type KernelKind, type TemplateInput, type TemplateLimits, type TemplateOutput } from '../kernels/template.ts';
import { mapKernel } from '../kernels/map.ts';
import { attentionKernel } from '../kernels/attention.ts';
import { attentionBackwardKernel } from '../kernels/attention-backward.ts';
import { foldNormAffine } from './norm-affine.ts';
import { defaultSplitK, splitKRewrite } from './splitk.ts';
import { granuleStatistics } from './granule-statistics.ts';
import { sharedModules } from './shared-sizes.ts';
import { familyVariants, type FamilyRender } from './family-variants.ts';
import { matmulProblem } from '../kernels/matmul.ts';
import { defaultVariant, matmulSignature, offeredVariants, renderMatmul, type AdapterClass, type MatmulSignature, type MatmulVariant, type MatmulVariantName } from '../kernels/matmul-variants.ts';
import { reduceKernel, rowKernel, wantsRowKernel } from '../kernels/reduce.ts';
import { chainKernel, topkKernel } from '../kernels/select.ts';
import { scatterKernel } from '../kernels/scatter.ts';
import { KernelWriter, type Specialize } from './emit.ts';
export type { Specialize };
import { kernelPasses, optimizeKernel, type KernelPass } from './passes/index.ts';
import { kernelHeader, printKernel } from './print.ts';
import { kernelAccess, launchBatches, planSteps, stepRuns, type PlanStep } from './steps.ts';
import { invocations, reshapedMembers } from './batch.ts';
import { leafKind, parameterDerived } from './parameter-derived.ts';
import { restartInterningIfFull, type KernelIR } from '../kernels/ir.ts';
import { BUFFER_LEAVES, FUSE_NORM_PROLOGUES, FUSION_PASSES, planFusion, UNFUSED_PASSES, type FusionPass, type FusionPlan } from './fusion/index.ts';
import { alignUp, planMemory, type MemoryPlan } from './memory.ts';
import { arenaOf, type Arena } from './stored.ts';

export type { Arena } from './stored.ts';

export type { PlanStep } from './steps.ts';

/** The device limits code generation depends on (a GPUSupportedLimits satisfies this). */
export interface CodegenLimits {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly maxStorageBufferBindingSize: number;
  /** Subgroup size when the device has the `subgroups` feature, else 0 (not a WebGPU limit). */
  readonly subgroupSize: number;
  /** CPU (software) adapter or GPU: picks the default kernel variants when nothing is tuned. */
  readonly adapterClass: AdapterClass;
}

/** WebGPU's guaranteed minimums: a plan compiled for these runs on any adapter. */
export const DEFAULT_LIMITS: CodegenLimits = {
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  minStorageBufferOffsetAlignment: 256,
  maxStorageBufferBindingSize: 134217728,
  subgroupSize: 0,
  adapterClass: 'cpu',
};

/**
 * A discrete GPU's limits under Dawn (those an H100 and an H200 report: subgroups of 32, 16
 * storage buffers per stage, 48 KiB of workgroup memory): the plans a real GPU runs, for looking
 * at them on a machine without one (`compile --target gpu`).
 */
export const GPU_CLASS_LIMITS: CodegenLimits = {
  maxStorageBuffersPerShaderStage: 16,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupStorageSize: 49152,
  minStorageBufferOffsetAlignment: 256,
  maxStorageBufferBindingSize: 2147483644,
  subgroupSize: 32,
  adapterClass: 'gpu',
};

/** Where one tensor of a plan lives: its arena, byte offset and size, and what it holds. */
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

/** One storage binding of a kernel: which tensor (by node id) it holds and how the kernel accesses it. */
export interface KernelBinding {
  readonly binding: number;
  readonly tensor: number;
  readonly access: 'read' | 'read_write';
  /** The binding's name in the WGSL. */
  readonly name: string;
  /** Bound as array<vec4<f32>> (a second view of a tensor the kernel reads or writes with vector accesses). */
  readonly vec4?: boolean;
}

/** One generated kernel: its WGSL, launch geometry, bindings, and the graph nodes it computes. */
export interface PlanKernel {
  readonly name: string;
  /** The template that wrote it, or 'batch': several kernels sharing one dispatch (PlanStep). */
  readonly kind: KernelKind | 'batch';
  /** The source the device compiles: a header naming what each binding holds, then the code. */
  readonly wgsl: string;
  /** The code without the header: equal for kernels that compute the same thing on other tensors. */
  readonly code: string;
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
  /** WGSL features the kernel needs (e.g. subgroups). */
  readonly features: readonly string[];
  /** For matmul kernels: the signature, the variant rendered and the variants offered. */
  readonly matmul?: MatmulKernelInfo;
  /** The kernel's tree after its passes (what `wgsl` prints). */
  readonly ir: KernelIR;
}

/** How a matmul kernel was chosen: its signature, the variant rendered and the variants offered on this device. */
export interface MatmulKernelInfo {
  readonly signature: MatmulSignature;
  readonly variant: MatmulVariant;
  readonly offered: readonly MatmulVariant[];
  /**
   * Why this variant: the adapter class's default, the chooser's pick (the tuner's), or the
   * default in a narrower workgroup so that it shares a dispatch (RESHAPE_FOR_BATCH_MAX_FLOPS).
   */
  readonly source: 'default' | 'chooser' | 'batch';
}

/**
 * Up to this many FLOPs a default tiled matmul may run in a narrower workgroup to share a
 * dispatch with a kernel of that size (a merge metric's adapter beside the attention reading the
 * same keys). Such a matmul takes a few µs on a GPU, less than the ~25 µs launch it saves, however
 * its workgroup is shaped; the backbone's matmuls (≥ 0.1 GFLOP from vit-mnist's qkv at batch 100
 * up) keep their shape.
 */
export const RESHAPE_FOR_BATCH_MAX_FLOPS = 1e8;

/** Picks a matmul variant for a kernel (undefined: the default). */
export type MatmulChooser = (signature: MatmulSignature, offered: readonly MatmulVariant[]) => MatmulVariant | undefined;

/**
 * A graph compiled for a set of device limits: its kernels in launch order, tensor placements and
 * memory plan. Needs no device.
 */
export interface CompiledPlan {
  readonly graph: Graph;
  readonly kernels: readonly PlanKernel[];
  /** What a step dispatches, in order: kernels, or several of them batched into one dispatch. */
  readonly steps: readonly PlanStep[];
  readonly tensors: ReadonlyMap<number, PlanTensor>;
  readonly arenaBytes: Readonly<Record<Arena, number>>;
  readonly memory: MemoryPlan;
  readonly fused: boolean;
  readonly flops: number;
  /** Distinct kernel codes (identical kernels, e.g. of repeated blocks, share one pipeline). */
  readonly uniqueKernels: number;
  /** Distinct WGSL modules the steps dispatch: the pipelines a device compiles for this plan. */
  readonly uniqueModules: number;
  /** Milliseconds spent planning and generating code. */
  readonly compileMs: number;
  readonly limits: CodegenLimits;
}

/** Options of `compileGraph` and `compile`. */
export interface CompileOptions {
  /** Fuse (default) or emit one kernel per op, the baseline for tests and benchmarks. */
  readonly fuse?: boolean;
  /**
   * The fusion planner's passes (default: FUSION_PASSES when fusing, UNFUSED_PASSES when not): a
   * benchmark may compare another list. Plans with a list of their own are not cached.
   */
  readonly fusionPasses?: readonly FusionPass[];
  readonly limits?: Partial<CodegenLimits>;
  /**
   * Matmul variant: a name forces that variant wherever it is offered (its default configuration);
   * a function chooses per kernel signature (the tuner). Default: the heuristic per adapter class.
   */
  readonly matmulVariant?: MatmulVariantName | MatmulChooser;
  /**
   * Identifies a chooser's decisions for the plan cache (plans compiled with a chooser and no key
   * are not cached).
   */
  readonly variantKey?: string;
  /**
   * Split-K (codegen/splitk.ts): 'auto' (default: GPU adapters, small outputs with long
   * contractions), 'off', or a split count forced on every matmul with K ≥ 2 (tests, benchmarks).
   */
  readonly splitK?: 'auto' | 'off' | number;
  /**
   * Batch independent kernels into shared dispatches (codegen/batch.ts; default: when fusing).
   * Off, every kernel is a dispatch of its own.
   */
  readonly batch?: boolean;
  /**
   * What kernels are specialised to (codegen/emit.ts's Specialize): 'rows' (default) reads row
   * counts at run time where a template can, so blocks differing only in their token count share
   * modules; 'all' makes every size a constant of the code.
   */
  readonly specialize?: Specialize;
  /**
   * Launch the kernels that compute from parameters only first, in dispatches of their own whose
   * outputs keep their values between steps, so that a Program runs them only after a parameter
   * they read changed (codegen/parameter-derived.ts). Default true; off, they run every step.
   */
  readonly hoistParameterWork?: boolean;
  /**
   * [output, parameter] pairs copied over the parameters at the end of every step (a training
   * step's updated parameters and optimizer state). The plan writes an output directly over its
   * parameter's buffer where that is safe (fusion pass write-back-in-place); a Program copies the
   * others. The same pairs go to Program.create.
   */
  readonly writeBack?: readonly (readonly [string, string])[];
  /**
   * Where norms are computed in matmul prologues (CPU adapters), fold their affine into the
   * frozen weights of the matmuls reading them (codegen/norm-affine.ts). Default true.
   */
  readonly foldNormAffine?: boolean;
  /**
   * Where norms are computed in matmul prologues on GPUs, have the matmul that writes a norm's
   * input compute its per-tile row sums in its epilogue (codegen/granule-statistics.ts), so that
   * the reading matmul combines a few partials per row. Default true.
   */
  readonly granuleStatistics?: boolean;
  /**
   * With `specialize: 'rows'`, kernels whose trees differ only in constants that a size enters
   * read that size at run time and share one module (codegen/shared-sizes.ts). Default true.
   */
  readonly shareModules?: boolean;
}

const planCache = new Map<string, CompiledPlan>();

/**
 * Compiles `graph` into WGSL kernels and a memory plan for the given limits, without a device.
 * Plans are cached by graph structure and options; throws when a tensor exceeds the binding limit.
 */
export function compileGraph(graph: Graph, opts: CompileOptions = {}): CompiledPlan {
  const limits: CodegenLimits = { ...DEFAULT_LIMITS, ...definedOnly(opts.limits ?? {}) };
  const fuse = opts.fuse ?? true;
  const chooser = opts.matmulVariant;
  const variantKey = typeof chooser === 'function' ? opts.variantKey : chooser ?? 'default';
  const split = opts.splitK ?? 'auto';
  const passes = opts.fusionPasses ?? (fuse ? FUSION_PASSES : UNFUSED_PASSES);
  const batch = opts.batch ?? fuse;
  const specialize = opts.specialize ?? 'rows';
  const hoist = opts.hoistParameterWork ?? true;
  const fold = fuse && limits.adapterClass === 'cpu' && passes.includes(FUSE_NORM_PROLOGUES) && (opts.foldNormAffine ?? true);
  const granules = fuse && limits.adapterClass === 'gpu' && passes.includes(FUSE_NORM_PROLOGUES) && (opts.granuleStatistics ?? true);
  const share = specialize === 'rows' && (opts.shareModules ?? true);
  const key = variantKey === undefined || opts.fusionPasses ? undefined : `${fuse}|${batch}|${specialize}|${share}|${hoist}|${fold}|${granules}|${JSON.stringify(limits)}|${variantKey}|${split}|${JSON.stringify(opts.writeBack ?? [])}|${structureKey(graph)}`;
  const hit = key === undefined ? undefined : planCache.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const computed = withoutSurrogates(graph) ?? graph;
  const folded = (fold ? foldNormAffine(computed) : undefined) ?? computed;
  const splitGraph = split === 'off' || !fuse ? undefined
    : splitKRewrite(folded, (m, K) => (typeof split === 'number' ? (K >= 2 ? split : 1) : defaultSplitK(m, K, limits.adapterClass)));
  const rewritten = splitGraph ?? folded;
  const plan = compileUncached((granules ? granuleStatistics(rewritten) : undefined) ?? rewritten, passes, { fuse, batch, hoist, share, writeBack: opts.writeBack }, limits, chooser, specialize, t0);
  if (key !== undefined) planCache.set(key, plan);
  return plan;
}

export const compileCacheSize = (): number => planCache.size;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Kernels equal but for sizes read them at run time, so that they share one module
 * (codegen/shared-sizes.ts): their trees and code are replaced in place.
 */
function shareModules(graph: Graph, kernels: Generated[]): void {
  // Not the variants the tuner kept specialised: it measured their constants worth a module each.
  const shared = sharedModules(graph, kernels.map((k) => (k.matmul?.variant.specialized ? undefined : k)));
  for (const [i, printed] of shared) kernels[i] = { ...kernels[i]!, ...printed };
}

/** What templates see of the fusion plan. */
function fusionView(fusion: FusionPlan): FusionView {
  const rowsOf = new Map<number, number[]>();
  for (const [r, root] of [...fusion.rowFused].sort((a, b) => a[0] - b[0])) rowsOf.set(root, [...(rowsOf.get(root) ?? []), r]);
  return {
    graph: fusion.graph,
    siblings: (root) => fusion.siblings.get(root) ?? [],
    chain: (root) => fusion.chains.get(root),
    epilogueAnchor: (root) => fusion.anchorOf.get(root),
    rowReductions: (root) => rowsOf.get(root) ?? [],
    secondProduct: (root) => {
      const m2 = fusion.secondProduct.get(root);
      return m2 === undefined || fusion.isMaterialized(m2) ? undefined : m2;
    },
    // Computed by the kernel of `root`: in place, or stored by it for later kernels (joined to it).
    matmulRowReductions: (root) => [...fusion.matmulRowReductions].filter(([r, host]) => host === root && (!fusion.isMaterialized(r) || fusion.writer(r) === root)).map(([r]) => r).sort((a, b) => a - b),
    epilogueGranules: (root) => {
      const ids = [...fusion.epilogueGranules].filter(([, host]) => host === root).map(([id]) => id).sort((a, b) => a - b);
      // The pair in graph order: Σx, then Σ(x − mean)², which reads it.
      return ids.length === 2 ? { sum: ids[0]!, centred: ids[1]! } : undefined;
    },
    stored: (id) => fusion.isMaterialized(id),
    attention: (pv) => fusion.attention.get(pv),
  };
}

interface RenderContext {
  readonly graph: Graph;
  readonly fusion: FusionPlan;
  readonly view: FusionView;
  readonly limits: TemplateLimits;
  readonly adapter: AdapterClass;
  readonly specialize: Specialize;
  /** The passes every kernel of the plan goes through (codegen/passes). */
  readonly passes: readonly KernelPass[];
}

/** How each plan was rendered, so that single kernels can be re-rendered with another variant (tuning). */
const renderContexts = new WeakMap<CompiledPlan, RenderContext>();

function compileUncached(graph: Graph, passes: readonly FusionPass[], how: { fuse: boolean; batch: boolean; hoist: boolean; share: boolean; writeBack?: CompileOptions['writeBack'] }, limits: CodegenLimits, chooser: CompileOptions['matmulVariant'], specialize: Specialize, t0: number): CompiledPlan {
  const fusion = planFusion(graph, { maxBindings: limits.maxStorageBuffersPerShaderStage, maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension, adapterClass: limits.adapterClass, writeBack: how.writeBack }, passes);
  const view = fusionView(fusion);
  const tl: TemplateLimits = {
    maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
    subgroupSize: limits.subgroupSize,
    adapterClass: limits.adapterClass,
  };
  const rc: RenderContext = { graph, fusion, view, limits: tl, adapter: limits.adapterClass, specialize, passes: kernelPasses({ opaqueLoopBounds: limits.adapterClass === 'cpu' }) };
  // Fusion legality was decided by the plan: a template that cannot render it is a bug.
  const kernels = fusion.kernelRoots().map((root) => generateKernel(rc, root, chooser));
  if (how.share) {
    for (const [i, k] of familyVariants(graph, kernels, (i, how) => generateKernel(rc, graph.node(kernels[i]!.root), chooser, how))) kernels[i] = k;
    shareModules(graph, kernels);
  }
  const narrowed = new Map<string, Generated | undefined>();
  const reshape = (i: number, size: number) => {
    const key = `${i}:${size}`;
    if (!narrowed.has(key)) narrowed.set(key, reshapedForBatch(rc, kernels[i]!, size));
    return narrowed.get(key);
  };
  const storage = (id: number) => fusion.storage(id);
  const derived = how.hoist ? parameterDerived(kernels.map((k) => kernelAccess(k, storage)), (t) => leafKind(graph.node(t).op)) : new Map<number, ReadonlySet<number>>();
  // Parameter-derived kernels first, batched among themselves only, and only where a trainable
  // parameter makes them run again: from frozen ones they run once, and a batch of them would be
  // one more (big) module to compile, for dispatches nobody waits on.
  const trainable = (i: number) => [...derived.get(i)!].some((t) => (graph.node(t).attrs as { trainable?: boolean }).trainable);
  const once = [...derived.keys()].filter((i) => !trainable(i));
  const groups = [[...derived.keys()].filter(trainable), kernels.map((_, i) => i).filter((i) => !derived.has(i))];
  const batches = [...once.map((i) => [i]), ...groups.flatMap((g) => launchBatches(g.map((i) => kernels[i]!), storage, limits, how.batch, (j, size) => reshape(g[j]!, size)).map((b) => b.map((j) => g[j]!)))];
  for (const [i, size] of reshapedMembers(kernels, batches)) kernels[i] = reshape(i, size)!;
  const plan = assemble(graph, fusion, kernels, batches, derived, how.fuse, limits, t0, how.share);
  renderContexts.set(plan, rc);
  return plan;
}

/**
 * What kernel `index` computes, as a graph of its own: every tensor it reads becomes an input
 * named `t<id>` (small folded constants stay constants), the nodes it computes are copied, and
 * its root is the output "out". Evaluating it with the float64 interpreter gives the reference
 * for one kernel (the tuner checks each variant against it).
 */
export function kernelSubgraph(plan: CompiledPlan, index: number): { graph: Graph; reads: readonly number[] } {
  const rc = renderContexts.get(plan);
  if (!rc) throw new Error('kernelSubgraph: the plan was not made by compileGraph');
  const k = plan.kernels[index]!;
  const { computed, reads } = rc.fusion.members(k.root);
  const nodes: Node[] = [];
  const remap = new Map<number, number>();
  const inputs: number[] = [];
  for (const n of rc.graph.nodes) {
    if (reads.has(n.id)) {
      const id = nodes.length;
      remap.set(n.id, id);
      if (n.op === 'constant') nodes.push({ ...n, id, inputs: [] });
      else {
        nodes.push({ id, op: 'input', inputs: [], attrs: { name: `t${n.id}`, shape: n.type.shape, dtype: n.type.dtype }, type: n.type } as Node);
        inputs.push(n.id);
      }
    } else if (computed.has(n.id)) {
      const id = nodes.length;
      remap.set(n.id, id);
      nodes.push({ ...n, id, inputs: n.inputs.map((i) => remap.get(i)!) } as Node);
    }
  }
  return { graph: pruneToOutputs(nodes, new Map([['out', remap.get(k.root)!]])), reads: inputs };
}

/**
 * Kernel `index` of `plan` rendered with matmul variant `variant` (same root, fusion and tensors;
 * the bindings may differ). For the tuner: time the alternatives on the device, keep the fastest.
 */
export function renderKernelVariant(plan: CompiledPlan, index: number, variant: MatmulVariant): PlanKernel {
  const rc = renderContexts.get(plan);
  if (!rc) throw new Error('renderKernelVariant: the plan was not made by compileGraph');
  const k = plan.kernels[index]!;
  return placed(rc.graph, generateKernel(rc, rc.graph.node(k.root), () => variant), index);
}

type Template = (t: TemplateInput) => TemplateOutput;

/**
 * The template each kind of kernel root calls for; map kernels for everything computed in place.
 * Contractions are rendered by the matmul variant chosen for the kernel (kernels/matmul-variants.ts).
 */
const TEMPLATE_BY_KIND: { readonly [K in OpKind]: Template | 'matmul' | 'row-or-reduce' | 'map' } = {
  contraction: 'matmul',
  selection: topkKernel,
  attention: attentionBackwardKernel,
  scatter: scatterKernel,
  reduction: 'row-or-reduce',
  leaf: 'map', literal: 'map', elementwise: 'map', view: 'map', index: 'map', random: 'map', gradient: 'map',
};

function chooseTemplate(view: FusionView, root: Node): Template | 'matmul' {
  if (view.chain(root.id)) return chainKernel;
  const anchor = view.epilogueAnchor(root.id) ?? (root.op === 'matmul' ? root.id : undefined);
  if (anchor !== undefined && view.attention(anchor)) return attentionKernel;
  if (view.epilogueAnchor(root.id) !== undefined) return 'matmul';
  if (wantsRowKernel(view, root)) return rowKernel;
  const t = TEMPLATE_BY_KIND[OPS[root.op].kind];
  return t === 'map' ? mapKernel : t === 'row-or-reduce' ? reduceKernel : t;
}

/** A kernel before its place in the launch order is known (which names it). */
interface Generated extends Omit<PlanKernel, 'bytes' | 'name' | 'wgsl' | 'kind'> {
  readonly kind: KernelKind;
}

/**
 * Renders kernel `root`. `how.maxInvocations` (a matmul's default variant only) narrows its
 * workgroup, for a batch of that size (reshapedForBatch); `how.familyDefault` and `how.scalar`
 * render it as its family needs (codegen/family-variants.ts): the family's default matmul variant
 * instead of its own, scalars where vectors would fit.
 */
function generateKernel(rc: RenderContext, root: Node, chooser: CompileOptions['matmulVariant'], how: FamilyRender & { readonly maxInvocations?: number } = {}): Generated {
  // Between kernels no expression key is held: the one place the intern table may start afresh.
  restartInterningIfFull();
  const { graph, fusion, view, limits } = rc;
  let w = new KernelWriter(graph, fusion, rc.specialize);
  let input: TemplateInput = { w, graph, plan: view, root, limits, ...(how.scalar ? { scalar: true } : {}) };
  const chosenTemplate = chooseTemplate(view, root);
  let matmul: MatmulKernelInfo | undefined;
  let t: TemplateOutput;
  if (chosenTemplate === 'matmul') {
    const offered = offeredFor(input, limits);
    const signature = matmulSignature(input);
    const { maxInvocations, familyDefault } = how;
    const chosen = familyDefault ? undefined : typeof chooser === 'function' ? chooser(signature, offered) : chooser ? offered.find((v) => v.name === chooser) : undefined;
    const narrowed = chosen || familyDefault || maxInvocations === undefined ? undefined : narrowedVariant(input, { ...limits, maxInvocationsPerWorkgroup: maxInvocations });
    const variant = chosen ?? narrowed ?? familyDefault ?? defaultVariant(offered, rc.adapter);
    matmul = { signature, variant, offered, source: chosen ? 'chooser' : narrowed ? 'batch' : 'default' };
    // A specialised variant (the tuner's choice where it measured a gain): every size a constant.
    if (variant.specialized && rc.specialize !== 'all') input = { ...input, w: (w = new KernelWriter(graph, fusion, 'all')) };
    t = renderMatmul(input, variant);
  } else {
    t = chosenTemplate(input);
  }
  // The kernel's tree, through the passes, printed once.
  const ir = optimizeKernel(w.finish(t.workgroupSize, t.enables ?? [], t.workgroups), rc.passes);
  const { code, bindings } = printKernel(ir);
  const nodes = [...w.fusedNodes].sort((a, b) => a - b);
  return {
    kind: t.kind, code,
    entryPoint: 'main', workgroupSize: t.workgroupSize, dispatch: t.dispatch,
    flops: Math.round(t.flops), config: matmul?.variant.specialized ? `${t.config} specialised` : t.config, root: root.id,
    outputs: [root.id, ...(fusion.siblings.get(root.id) ?? [])],
    nodes, bindings, features: t.enables ?? [],
    ...(matmul ? { matmul } : {}),
    ir,
  };
}

/** The matmul variants that may render kernel `t` within `limits`. */
const offeredFor = (t: TemplateInput, limits: TemplateLimits): MatmulVariant[] =>
  offeredVariants(matmulProblem(t), limits, { rowStatistics: t.plan.matmulRowReductions(t.root.id).length > 0, secondProduct: t.plan.secondProduct(t.root.id) !== undefined, granules: t.plan.epilogueGranules(t.root.id) !== undefined });

/** The tiled variant of matmul kernel `t` within `limits` (a narrower workgroup). */
const narrowedVariant = (t: TemplateInput, limits: TemplateLimits): MatmulVariant | undefined => offeredFor(t, limits).find((v) => v.name === 'tiled');

/**
 * Kernel `k` rendered with `size` invocations per workgroup, for a batch of that size, where it
 * is a small default tiled matmul whose narrower form has exactly that many.
 */
function reshapedForBatch(rc: RenderContext, k: Generated, size: number): Generated | undefined {
  if (k.matmul?.source !== 'default' || k.matmul.variant.name !== 'tiled' || k.flops > RESHAPE_FOR_BATCH_MAX_FLOPS) return undefined;
  if (size >= invocations(k.workgroupSize)) return undefined;
  try {
    const narrow = generateKernel(rc, rc.graph.node(k.root), undefined, { maxInvocations: size });
    return invocations(narrow.workgroupSize) === size ? narrow : undefined;
  } catch (e) {
    // A form the template cannot render in so few threads (its row statistics): no batch, no harm.
    if (e instanceof FusionError) return undefined;
    throw e;
  }
}

/** Kernel `g` at position `index` of the launch order: named, with its header, and its bytes. */
function placed(graph: Graph, g: Generated, index: number): PlanKernel {
  const name = kernelName(graph, index, g.kind, graph.node(g.root), g.nodes);
  return withBytes(graph, { ...g, name, wgsl: `${kernelHeader(graph, name, g)}\n${g.code}` });
}

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

/**
 * The plan: kernels placed in launch order (batch by batch), tensors in arenas, the work arena
 * planned with a batch as one step (its kernels may run at once), and the step's dispatches.
 */
function assemble(graph: Graph, fusion: FusionPlan, generated: readonly Generated[], batchOrder: readonly (readonly number[])[], derivedKernels: ReadonlyMap<number, ReadonlySet<number>>, fused: boolean, limits: CodegenLimits, t0: number, share: boolean): CompiledPlan {
  const align = limits.minStorageBufferOffsetAlignment;
  const outputName = new Map([...graph.outputs].map(([k, v]) => [v, k]));
  const bytesOf = (n: Node) => Math.max(4, numel(n.type.shape) * 4);
  for (const n of graph.nodes) {
    if (bytesOf(n) > limits.maxStorageBufferBindingSize && (fusion.isMaterialized(n.id) || BUFFER_LEAVES.has(n.op))) {
      throw new Error(`tensor %${n.id} (${n.op} ${n.type.dtype}${fmtShape(n.type.shape)}) needs ${bytesOf(n)} bytes, over the device's binding limit of ${limits.maxStorageBufferBindingSize} bytes (a smaller batch fits)`);
    }
  }
  const kernels: PlanKernel[] = batchOrder.flat().map((g, i) => placed(graph, generated[g]!, i));
  const derived = new Map(batchOrder.flat().flatMap((g, i) => (derivedKernels.has(g) ? [[i, derivedKernels.get(g)!] as const] : [])));
  let next = 0;
  const batches = batchOrder.map((b) => b.map(() => next++));
  const batchOf = batches.flatMap((b, step) => b.map(() => step));

  // Leaves live in persistent arenas; kernel outputs in the planned work arena.
  const tensors = new Map<number, PlanTensor>();
  const arenaBytes: Record<Arena, number> = { params: 0, inputs: 0, work: 0 };
  const bound = new Set(kernels.flatMap((k) => k.bindings.map((b) => b.tensor)));
  for (const n of graph.nodes) {
    if (n.op !== 'input' && n.op !== 'param' && n.op !== 'constant') continue;
    // Folded constants need no buffer; inputs and parameters keep theirs (callers write them by name).
    if (n.op === 'constant' && !bound.has(n.id) && !outputName.has(n.id)) continue;
    const arena = arenaOf(n);
    const offset = arenaBytes[arena];
    arenaBytes[arena] = alignUp(offset + bytesOf(n), align);
    const name = n.op === 'input' || n.op === 'param' ? n.attrs.name : undefined;
    tensors.set(n.id, { node: n.id, name, role: n.op, arena, offset, bytes: bytesOf(n), shape: n.type.shape, dtype: n.type.dtype, storage: n.id });
  }
  const first = new Map<number, number>(), last = new Map<number, number>();
  kernels.forEach((k, i) => {
    for (const id of [...k.bindings.map((b) => b.tensor), ...k.outputs.map((o) => fusion.storage(o))]) {
      if (tensors.has(id)) continue;
      if (!first.has(id)) first.set(id, batchOf[i]!);
      last.set(id, batchOf[i]!);
    }
  });
  for (const out of graph.outputs.values()) {
    const id = fusion.storage(out);
    if (first.has(id)) last.set(id, batches.length);
  }
  // What parameter-derived kernels write keeps its value from one step to the next.
  for (const i of derived.keys()) {
    for (const o of kernels[i]!.outputs) {
      first.set(fusion.storage(o), 0);
      last.set(fusion.storage(o), batches.length);
    }
  }
  const memory = planMemory([...first].map(([key, f]) => ({ key, first: f, last: last.get(key)!, bytes: bytesOf(graph.node(key)) })), align);
  for (const [id, p] of memory.placements) {
    const n = graph.node(id);
    tensors.set(id, {
      node: id, name: outputName.get(id), role: outputName.has(id) ? 'output' : 'intermediate',
      arena: 'work', offset: p.offset, bytes: p.bytes, shape: n.type.shape, dtype: n.type.dtype, storage: id,
    });
  }
  // A reshape sharing its input's buffer is that tensor under another shape (and maybe a name);
  // an update written over its parameter is the parameter's buffer.
  for (const [r, x] of [...fusion.aliasOf, ...fusion.writtenOver]) {
    const t = tensors.get(x);
    const n = graph.node(r);
    if (t) tensors.set(r, { ...t, node: r, name: outputName.get(r), role: outputName.has(r) ? 'output' : 'intermediate', shape: n.type.shape });
  }
  arenaBytes.work = memory.arenaBytes;
  const steps = planSteps(graph, kernels, batches, limits, derived, share);
  return {
    graph, kernels, steps, tensors, arenaBytes, memory, fused, limits,
    flops: kernels.reduce((s, k) => s + k.flops, 0),
    uniqueKernels: new Set(kernels.map((k) => k.code)).size,
    uniqueModules: new Set(steps.map((s) => s.kernel.code)).size,
    compileMs: performance.now() - t0,
  };
}

function withBytes(graph: Graph, g: Omit<PlanKernel, 'bytes'>): PlanKernel {
  const bytesOf = (n: Node) => Math.max(4, numel(n.type.shape) * 4);
  const seen = new Set<number>();
  let bytes = 0;
  for (const b of g.bindings) {
    if (seen.has(b.tensor)) continue;
    seen.add(b.tensor);
    bytes += bytesOf(graph.node(b.tensor));
  }
  return { ...g, bytes };
}

/** A string that is equal for two graphs exactly when they compute the same thing. */
export function structureKey(graph: Graph): string {
  const parts = graph.nodes.map((n) => {
    const attrs = JSON.stringify(n.attrs, (_k, v) => (v instanceof Float64Array ? Array.from(v) : v));
    return `${n.op}(${n.inputs.join(',')})${attrs}:${n.type.dtype}[${n.type.shape.join(',')}]`;
  });
  return `${parts.join(';')}|${[...graph.outputs].map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/**
 * Dispatches a step runs once the parameter-derived ones have run, when the parameters named in
 * `written` change every step (a training step's write-back targets; none at inference).
 */
export function dispatchesPerStep(plan: CompiledPlan, written: ReadonlySet<string> = new Set()): number {
  const changes = (id: number) => {
    const n = plan.graph.node(id);
    return n.op === 'param' && written.has(n.attrs.name);
  };
  return plan.steps.filter((s) => stepRuns(s, changes)).length;
}

/** A table of the plan: one line per kernel with its shape, FLOPs and bytes. */
export function describePlan(plan: CompiledPlan): string {
  const mb = (b: number) => (b / 2 ** 20).toFixed(2);
  const lines = plan.kernels.map((k) =>
    `${k.name.padEnd(56)} ${k.kind.padEnd(7)} ${String(k.dispatch.join('x')).padEnd(12)} ${(k.flops / 1e6).toFixed(3).padStart(10)} MFLOP ${(k.bytes / 2 ** 20).toFixed(3).padStart(9)} MiB  ${k.config}`,
  );
  const m = plan.memory;
  const batched = plan.steps.filter((s) => s.parts.length > 1);
  const once = plan.steps.filter((s) => s.parameterDerived);
  const onceKernels = once.flatMap((s) => s.parts).length;
  return [
    `${plan.kernels.length} kernels (${plan.uniqueKernels} distinct) in ${plan.steps.length} dispatches (${plan.uniqueModules} distinct WGSL modules), ${(plan.flops / 1e9).toFixed(4)} GFLOP, fusion ${plan.fused ? 'on' : 'off'}, generated in ${plan.compileMs.toFixed(0)} ms`,
    ...(once.length ? [`of which computed from parameters only, first, and again only after a parameter they read changes: ${once.length} dispatch${once.length > 1 ? 'es' : ''} (${onceKernels} kernel${onceKernels > 1 ? 's' : ''}); a step with parameters unchanged runs ${dispatchesPerStep(plan)}`] : []),
    `${'kernel'.padEnd(56)} ${'kind'.padEnd(7)} ${'dispatch'.padEnd(12)} ${'flops'.padStart(16)} ${'bytes'.padStart(13)}  config`,
    ...lines,
    ...(batched.length ? [`batched dispatches (${batched.length}): kernels that share one launch`, ...batched.map((s) => `${s.kernel.name.padEnd(56)} ${s.kernel.dispatch.join('x')}`)] : []),
    `memory: params ${mb(plan.arenaBytes.params)} MiB, inputs ${mb(plan.arenaBytes.inputs)} MiB, work arena ${mb(m.arenaBytes)} MiB planned vs ${mb(m.noReuseBytes)} MiB without reuse`,
  ].join('\n');
}
