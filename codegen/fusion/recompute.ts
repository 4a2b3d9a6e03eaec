// Recompute or store: an expression several kernels read is recomputed in each while cheap, and
// stored once when recomputing it would cost more than a store and a reload.

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { numel } from '../../src/core/ir/shape.ts';
import { FREE, type FusionPass, type FusionState } from './plan.ts';

/** Recomputing more than this many ops per element in each consumer costs more than a store and reload. */
const RECOMPUTE_LIMIT = 6;

/**
 * Recompute cheap multi-consumer expressions, store expensive ones. Runs after epilogue fusion,
 * whose roots are stored anyway: costs then do not accumulate along the residual stream (which
 * made identical blocks compile differently depending on their position).
 */
function storeCostlyRecomputations({ graph, plan, consumers, claimed }: FusionState): void {
  const { nodes } = graph;
  const mat = plan.materialized;
  const cost = new Array<number>(nodes.length).fill(0);
  // Matmuls reading a node as an operand (through views): each recomputes it for every tile it
  // loads. A computed operand of two or more (the residual stream's gradient, read by a block's
  // backward matmuls) is stored: left inline, its cost would run on along the stream until some
  // later sum is stored, at a place that depends on the block's position (blocks alternating
  // between two plans).
  const matmulOperandOf = (id: number): number => {
    let count = 0;
    const visit = (c: number) => {
      const op = graph.node(c).op;
      if (op === 'matmul') count++;
      else if (op === 'reshape' || op === 'permute') for (const d of consumers[c]!) visit(d);
    };
    for (const c of consumers[id]!) visit(c);
    return count;
  };
  for (const n of nodes) {
    if (mat.has(n.id) || claimed.has(n.id)) continue;
    cost[n.id] = expands(graph, n) ? 0 : (FREE.has(n.op) ? 0 : 1) + n.inputs.reduce((s, i) => s + (mat.has(i) ? 0 : cost[i]!), 0);
    const costlyOperand = cost[n.id]! > 1 && !(cost[n.id]! <= 2 && readsOnlySmaller(graph, mat, n)) && matmulOperandOf(n.id) > 1;
    if (consumers[n.id]!.length > 1 && (cost[n.id]! > RECOMPUTE_LIMIT || costlyOperand)) {
      mat.add(n.id);
      cost[n.id] = 0;
    }
  }
}

/**
 * Whether every stored tensor `n` is computed from (through nodes computed in place) has fewer
 * elements than `n`: values repeated along an axis (a one-hot from a per-row index: FPET's
 * matching matrix from its top-1 partners), which a consumer loads once per row, so recomputing
 * a couple of ops costs no more than loading a stored copy.
 */
function readsOnlySmaller(graph: Graph, mat: ReadonlySet<number>, n: Node): boolean {
  const size = numel(n.type.shape);
  const seen = new Set<number>();
  const visit = (id: number): boolean => {
    if (seen.has(id)) return true;
    seen.add(id);
    const m = graph.node(id);
    if (m.op === 'fill') return true;
    if (mat.has(id) || m.inputs.length === 0) return numel(m.type.shape) < size;
    return m.inputs.every(visit);
  };
  return n.inputs.every(visit);
}

/**
 * A broadcast to more elements: what it repeats is computed once per row (hoisted out of the
 * consumer's loop over the row, or shared by its vector lanes), not once per element — storing
 * the repeated copy (LayerNorm backward's per-row terms over [rows, n]) would cost more than it saves.
 */
const expands = (graph: Graph, n: Node): boolean => n.op === 'broadcast' && numel(graph.node(n.inputs[0]!).type.shape) < numel(n.type.shape);

export const STORE_COSTLY_RECOMPUTATIONS: FusionPass = { name: 'store-costly-recomputations', run: storeCostlyRecomputations };
