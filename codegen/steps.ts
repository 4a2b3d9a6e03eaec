// A plan's launch order: which kernels share a dispatch (codegen/batch.ts decides and builds the
// batched trees) and the dispatches a step records, one per batch.

import type { Graph } from '../src/core/ir/graph.ts';
import { restartInterningIfFull, type KernelIR } from '../kernels/ir.ts';
import { sharedModules } from './shared-sizes.ts';
import { batchKernels, scheduleBatches, workgroupBytes, type BatchCandidate, type BatchLimits } from './batch.ts';
import type { PlanKernel } from './compile.ts';
import type { KernelAccess } from './parameter-derived.ts';
import { kernelHeader, printKernel } from './print.ts';

/** One dispatch of a step: a kernel of the plan, or several of them batched into one. */
export interface PlanStep {
  /** What is dispatched (for one part: that kernel of the plan itself). */
  readonly kernel: PlanKernel;
  /** The plan's kernels it runs, by index. */
  readonly parts: readonly number[];
  /**
   * Set when the dispatch computes from parameters only (codegen/parameter-derived.ts): the
   * parameters (node ids) its values depend on. It need run again only after one of them changed.
   */
  readonly parameterDerived?: readonly number[];
}

/** Whether a step runs, given which parameters changed since the last one: parameter-derived steps only when one they read did. */
export function stepRuns(step: { readonly parameterDerived?: readonly number[] }, changed: (param: number) => boolean): boolean {
  return !step.parameterDerived || step.parameterDerived.some(changed);
}

/** What ordering needs of a kernel before it is placed. */
interface Unplaced {
  readonly ir: KernelIR;
  readonly outputs: readonly number[];
  readonly workgroupSize: readonly [number, number, number];
}

/** The tensors (storage ids) a kernel reads and writes; `storage` maps a tensor to the node whose buffer holds it. */
export function kernelAccess(k: Unplaced, storage: (id: number) => number): KernelAccess {
  const writes = new Set(k.outputs.map(storage));
  const reads = new Set(k.ir.storage.map((b) => b.tensor!).filter((t) => !writes.has(t)));
  return { reads, writes };
}

/**
 * The launch order of `kernels` (given in a valid order) as batches of indices: kernels of one
 * batch may share a dispatch. `storage` maps a tensor to the node whose buffer holds it;
 * `reshape` renders a kernel with another workgroup size where it has such a form (ReshapeForBatch).
 */
export function launchBatches(kernels: readonly Unplaced[], storage: (id: number) => number, limits: BatchLimits, batch: boolean, reshape?: (index: number, invocations: number) => Unplaced | undefined): number[][] {
  if (!batch) return kernels.map((_, i) => [i]);
  const candidate = (k: Unplaced): BatchCandidate => ({ ...kernelAccess(k, storage), workgroupSize: k.workgroupSize, workgroupBytes: workgroupBytes(k.ir) });
  return scheduleBatches(kernels.map(candidate), limits, reshape && ((i, size) => {
    const form = reshape(i, size);
    return form && candidate(form);
  }));
}

/**
 * The dispatches of a step: one per batch of `kernels` (placed in launch order, `batches` as
 * ranges of their indices), batched into one kernel where the parts fit one dispatch.
 * `derived` gives the parameters each parameter-derived kernel depends on (by plan index); a
 * batch holds only such kernels or none.
 */
export function planSteps(graph: Graph, kernels: readonly PlanKernel[], batches: readonly (readonly number[])[], limits: BatchLimits, derived: ReadonlyMap<number, ReadonlySet<number>> = new Map(), shareModules = false): PlanStep[] {
  const steps: PlanStep[] = [];
  const paramsOf = (parts: readonly number[]) => {
    if (!parts.every((i) => derived.has(i))) return {};
    return { parameterDerived: [...new Set(parts.flatMap((i) => [...derived.get(i)!]))].sort((a, b) => a - b) };
  };
  batches.forEach((parts, b) => {
    restartInterningIfFull();
    const batched = parts.length > 1 ? batchKernels(parts.map((i) => kernels[i]!), limits) : undefined;
    if (!batched) {
      for (const i of parts) steps.push({ kernel: kernels[i]!, parts: [i], ...paramsOf([i]) });
      return;
    }
    const members = parts.map((i) => kernels[i]!);
    const { code, bindings } = printKernel(batched.ir);
    const name = `b${String(b).padStart(3, '0')}_${members.map((k) => k.name.slice(0, 4)).join('_')}`;
    const head = { kind: 'batch' as const, config: members.map((k) => k.name).join(' + '), workgroupSize: batched.ir.workgroupSize, dispatch: batched.dispatch, bindings };
    steps.push({
      parts,
      ...paramsOf(parts),
      kernel: {
        ...head, name, code, wgsl: `${kernelHeader(graph, name, head)}\n${code}`, entryPoint: 'main',
        flops: members.reduce((s, k) => s + k.flops, 0),
        bytes: members.reduce((s, k) => s + k.bytes, 0),
        root: members[0]!.root,
        outputs: members.flatMap((k) => k.outputs),
        nodes: members.flatMap((k) => k.nodes),
        features: [...new Set(members.flatMap((k) => k.features))],
        ir: batched.ir,
      },
    });
  });
  return shareModules ? withSharedBatches(graph, kernels, steps) : steps;
}

/** Batched dispatches equal but for sizes read them at run time and share one module (codegen/shared-sizes.ts). */
function withSharedBatches(graph: Graph, kernels: readonly PlanKernel[], steps: PlanStep[]): PlanStep[] {
  // Batches of two or more, none of them a variant the tuner kept specialised.
  const batched = steps.map((s) => (s.parts.length > 1 && s.parts.every((p) => !kernels[p]!.matmul?.variant.specialized) ? s.kernel : undefined));
  for (const [i, { ir, code, bindings }] of sharedModules(graph, batched)) {
    const step = steps[i]!;
    const head = { ...step.kernel, bindings };
    steps[i] = { ...step, kernel: { ...step.kernel, ir, code, bindings, wgsl: `${kernelHeader(graph, step.kernel.name, head)}\n${code}` } };
  }
  return steps;
}
