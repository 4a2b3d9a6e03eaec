// Matmul prologues: the operands' producers are inlined into the matmul's loads, unless that is
// the costly choice (a row operand recomputed from several buffers for every column tile).

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { ELEMENTWISE, type FusionPass, type FusionState } from './plan.ts';

const sameLast = (a: Node, b: Node) => a.type.shape[a.type.shape.length - 1] === b.type.shape[b.type.shape.length - 1];

/** Matmul `m`'s row operand, seen through unstored reshapes that keep its rows' length. */
export function rowOperandOf(graph: Graph, stored: (id: number) => boolean, m: Node): Node {
  return graph.throughViews(m.inputs[0]!, (v) => v.op === 'reshape' && !stored(v.id) && sameLast(v, graph.node(v.inputs[0]!)));
}

/**
 * Stored tensors an expression reads that vary along its last axis (k, for a matmul's row
 * operand); each once, however many parts of a concatenation gather rows of it (codegen/lower.ts
 * lowerConcat). With `indices`, a row gather's indices count too: they are read once per row, not
 * along k, but the code that selects rows by them is slow to compile where compiling is the cost
 * (lavapipe: ToMe's norm over cls | kept | merged as a prologue took 30% more compile time for
 * its training step, for one dispatch fewer per merge block).
 */
export function kVaryingReads(graph: Graph, mat: ReadonlySet<number>, root: Node, indices = true): number {
  const seen = new Set<number>();
  let count = 0;
  const visit = (id: number, top: boolean) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = graph.node(id);
    if (!top && mat.has(id)) {
      if (n.type.shape[n.type.shape.length - 1]! > 1) count++;
      return;
    }
    if (!indices && n.op === 'gather' && (n as Node<'gather'>).attrs.axis < n.type.shape.length - 1) return visit(n.inputs[0]!, false);
    for (const i of n.inputs) visit(i, false);
  };
  visit(root.id, true);
  return count;
}

/**
 * Matmul prologues worth storing: a row operand A computed from several buffers that vary
 * along k (LayerNorm's x, weight and bias) is recomputed for every column tile of the kernel;
 * stored once (by the kernel that computes it anyway, e.g. the row kernel of its statistics)
 * it is one read per tile instead.
 */
function storeMatmulPrologues(s: FusionState): void {
  const { graph, plan } = s;
  const mat = plan.materialized;
  for (const m of graph.nodes) {
    if (m.op !== 'matmul' || s.inAttention.has(m.id)) continue;
    const target = rowOperandOf(graph, (id) => mat.has(id), m);
    if (mat.has(target.id) || s.claimed.has(target.id) || !ELEMENTWISE.has(target.op)) continue;
    const leaves = kVaryingReads(graph, mat, target);
    const tiles = Math.ceil(m.type.shape[m.type.shape.length - 1]! / 32);
    if (leaves * tiles > tiles + 1 + leaves) mat.add(target.id);
  }
}

export const STORE_MATMUL_PROLOGUES: FusionPass = { name: 'store-matmul-prologues', run: storeMatmulPrologues };

/**
 * A matmul operand computed from frozen parameters alone (a weight with a norm's scale folded in:
 * codegen/norm-affine.ts) is stored: its kernel then reads parameters only and runs once
 * (codegen/parameter-derived.ts) instead of recomputing the operand in every tile of every step.
 */
function storeParameterOperands({ graph, plan }: FusionState): void {
  for (const m of graph.nodes) {
    if (m.op !== 'matmul') continue;
    for (const i of m.inputs) {
      const t = graph.throughViews(i);
      if (!plan.materialized.has(t.id) && ELEMENTWISE.has(t.op) && graph.fromParameters(t.id, true)) plan.materialized.add(t.id);
    }
  }
}

export const STORE_PARAMETER_OPERANDS: FusionPass = { name: 'store-parameter-operands', run: storeParameterOperands };
