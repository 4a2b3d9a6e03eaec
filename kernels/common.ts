// What every kernel template produces, and the dispatch-shape helpers they share.

import type { Graph, Node } from '../src/ir/graph.ts';
import type { OpName } from '../src/ir/ops.ts';
import type { KernelWriter } from '../codegen/emit.ts';
import type { FusionPlan } from '../codegen/fuse.ts';

export type KernelKind = 'map' | 'reduce' | 'row' | 'matmul' | 'topk' | 'scatter';

/** Device facts a template may specialise on. */
export interface TemplateLimits {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxWorkgroupStorageBytes: number;
}

export interface TemplateInput {
  readonly w: KernelWriter;
  readonly graph: Graph;
  readonly plan: FusionPlan;
  readonly root: Node;
  readonly limits: TemplateLimits;
}

/** A template's result; the writer holds the body and bindings. */
export interface TemplateOutput {
  readonly kind: KernelKind;
  /** Module-scope declarations besides bindings (workgroup arrays). */
  readonly moduleDecls: string[];
  /** Builtin parameters of `main`. */
  readonly params: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  /** Estimated floating-point operations of one dispatch. */
  readonly flops: number;
  /** Short description of the specialisation (tile sizes, workgroup size). */
  readonly config: string;
}

/** Spreads `count` workgroups over x and y (each at most the device's per-dimension limit). */
export function spread(count: number, limits: TemplateLimits): [number, number, number] {
  const max = limits.maxWorkgroupsPerDimension;
  if (count <= max) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y, 1];
}

/** WGSL for the flat workgroup index matching `spread`. */
export const FLAT_WORKGROUP = 'wid.x + wid.y * nwg.x';

/** `n` narrowed to one of `ops` (checked): templates are chosen by op kind, this states which ops. */
export function expectOp<K extends OpName>(n: Node, ...ops: K[]): Node<K> {
  if (!(ops as readonly string[]).includes(n.op)) throw new Error(`kernel template for ${ops.join('/')} was given a ${n.op} node (%${n.id})`);
  return n as Node<K>;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
