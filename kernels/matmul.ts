// Batched matmul C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n], fused with its neighbours: A and B are
// expressions (prologue fusion: transposes, gathers and elementwise producers are folded into the
// loads), and the kernel's root may be an elementwise chain over C (epilogue fusion: bias, GELU,
// residual, ...), which reads the accumulator in place. The variants (kernels/matmul-*.ts) differ
// in how they tile and load; this module holds what they share.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import { OPS } from '../src/core/ir/ops.ts';
import { numel, type Shape } from '../src/core/ir/shape.ts';
import { bool, canonicalIndex, div, indexKey, type Index } from './alu.ts';
import type { Buf, Expr } from './ir.ts';
import { expectOp, FusionError, type FusionView, type KernelBuilder, type TemplateInput } from './template.ts';

/** The problem a matmul kernel solves, read off the graph. */
export interface MatmulProblem {
  readonly mm: Node<'matmul'>;
  readonly a: Node;
  readonly b: Node;
  readonly batch: Shape;
  readonly batchCount: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

export function matmulProblem({ graph, plan, root }: TemplateInput): MatmulProblem {
  return problemOf(graph, graph.node(plan.epilogueAnchor(root.id) ?? root.id));
}

/** The problem of matmul node `node` (a kernel's second product, or its anchor). */
export function problemOf(graph: TemplateInput['graph'], node: Node): MatmulProblem {
  const mm = expectOp(node, 'matmul');
  const [a, b] = mm.inputs.map((i) => graph.node(i)) as [Node, Node];
  const batch = mm.type.shape.slice(0, -2);
  const [M, N] = mm.type.shape.slice(-2) as [number, number];
  return { mm, a, b, batch, batchCount: numel(batch), M, N, K: a.type.shape[a.type.shape.length - 1]! };
}

/**
 * Where along its last axis (k) operand `x` switches between the parts of a concatenation
 * computed in place: pads summed (the gradient of a product sliced into q, k and v) or a concat.
 * A k loop split at these offsets knows which part each piece reads; the others fold to zero
 * (kernels/alu.ts bounds), and the part is read as vectors instead of four selected scalars.
 */
export function concatEdges(graph: Graph, plan: FusionView, x: number): number[] {
  const K = graph.node(x).type.shape.at(-1)!;
  const edges = new Set<number>(), seen = new Set<number>();
  const lastAxisIs = (id: number) => graph.node(id).type.shape.at(-1) === K;
  const visit = (id: number) => {
    if (seen.has(id) || plan.stored(id)) return;
    seen.add(id);
    const n = graph.node(id), last = n.type.shape.length - 1;
    if (n.op === 'pad') {
      const { before, after } = n.attrs as { before: readonly number[]; after: readonly number[] };
      if (before[last]! || after[last]!) edges.add(before[last]!).add(K - after[last]!);
      visit(n.inputs[0]!);
    } else if (n.op === 'concat' && (n.attrs as { axis: number }).axis === last) {
      let at = 0;
      for (const i of n.inputs) {
        edges.add(at);
        at += graph.node(i).type.shape.at(-1)!;
        visit(i);
      }
    } else if (n.op === 'reshape' || OPS[n.op].kind === 'elementwise') n.inputs.filter(lastAxisIs).forEach(visit);
  };
  visit(x);
  return [...edges].filter((e) => e > 0 && e < K).sort((p, q) => p - q);
}

/**
 * The k loop of row operand `x` (k its last axis) over 0..K as ranges [from, to), split at its
 * concatenation edges that are multiples of the loop's `step` (one range when there are none).
 */
export function kRanges(graph: Graph, plan: FusionView, x: number, K: number, step: number): [number, number][] {
  const edges = [0, ...concatEdges(graph, plan, x).filter((e) => e % step === 0 && e < K), K];
  return edges.slice(1).map((to, i) => [edges[i]!, to]);
}

/** Batch indices of C, A and B (A and B broadcast over batch axes) for the flat batch entry `batchId`. */
export function batchIndices(w: KernelBuilder, p: MatmulProblem, batchId: Expr): { aBatch: Index; bBatch: Index; cBatch: Index } {
  const cBatch = p.batch.length ? w.unflatten(batchId, p.batch) : [];
  return {
    cBatch,
    aBatch: w.broadcastIndex(cBatch, p.a.type.shape.slice(0, -2)),
    bBatch: w.broadcastIndex(cBatch, p.b.type.shape.slice(0, -2)),
  };
}

/** A second product's accumulator at the element being stored (kernels/matmul-vec4.ts), for the epilogue. */
export interface SecondAccumulator {
  readonly mm: Node;
  readonly acc: Expr;
}

/**
 * Writes the root's value for the product element (cBatch, gm, gn), whose accumulator is `acc`,
 * and returns that value. Must run inside a guard gm < M, gn < N, or pass it as `guard` (the
 * value is computed outside it, so that shared loads stay unconditional). The root is the product
 * itself, an elementwise chain over it (through reshapes: same element order), or a final permute
 * (stored transposed: weight gradients).
 */

export function storeEpilogue(w: KernelBuilder, t: TemplateInput, p: MatmulProblem, out: Buf, cBatch: Index, gm: Expr, gn: Expr, acc: Expr, guard: Expr = bool(true), second?: SecondAccumulator): Expr {
  const shape = p.mm.type.shape;
  const idx = canonicalIndex([...cBatch, gm, gn], shape);
  const flat = w.let(w.linear(idx, shape), 'f');
  w.relate(flat, shape, idx);
  const want = indexKey(idx);
  for (const [mm, value] of [[p.mm, acc], ...(second ? [[second.mm, second.acc] as const] : [])] as const) {
    w.provide(mm.id, (at) => {
      if (indexKey(at) !== want) throw new FusionError(mm.id, `epilogue reads the product at [${indexKey(at)}], not [${want}]`);
      return value;
    });
  }
  const root = t.root;
  let rootIdx: Index, at: Expr = flat;
  if (root.op === 'permute') {
    const inIdx = w.unflatten(flat, t.graph.node(root.inputs[0]!).type.shape);
    rootIdx = root.attrs.perm.map((q) => inIdx[q]!);
    at = w.linear(rootIdx, root.type.shape);
  } else rootIdx = w.unflatten(flat, root.type.shape);
  const v = w.compute(root.id, rootIdx);
  w.when(guard, () => w.store(out, at, v));
  return v;
}

/**
 * Whether the root's values at four consecutive product columns can be computed and stored as one
 * vec4: N and the root's last extent multiples of 4, the root not a transposing permute, and every
 * path from the root to the product vectorizable along the product's last axis.
 */
export function canStoreVec4(w: KernelBuilder, t: TemplateInput, p: MatmulProblem): boolean {
  const root = t.root;
  const last = root.type.shape.length - 1;
  if (p.N % 4 !== 0 || root.type.shape[last]! % 4 !== 0) return false;
  // A final permute keeping the last axis (heads merged back: [B, H, n, d] -> [B, n, H, d]) stores
  // vectors too; one that moves it (weight gradients stored transposed) does not.
  if (root.op === 'permute' && root.attrs.perm[last] !== last) return false;
  return w.vec4Reaches(root.id, last, p.mm.id) === p.mm.type.shape.length - 1;
}

/**
 * The vector form of `storeEpilogue`: the root at product elements (cBatch, gm, gn..gn+3), whose
 * accumulators are the vec4 `acc`, stored with one vector write (gn a multiple of 4;
 * `canStoreVec4` must hold). The store is guarded by `guard` (the values are computed at clamped,
 * in-range indices so that shared loads stay outside the branch).
 */
export function storeEpilogueVec4(w: KernelBuilder, t: TemplateInput, p: MatmulProblem, cBatch: Index, gm: Expr, gn: Expr, acc: Expr, guard: Expr = bool(true), second?: SecondAccumulator): void {
  const shape = p.mm.type.shape;
  const last = shape.length - 1;
  const idx = canonicalIndex([...cBatch, gm, gn], shape);
  const flat = w.let(w.linear(idx, shape), 'f');
  w.relate(flat, shape, idx);
  const want = indexKey(idx);
  for (const [mm, value] of [[p.mm, acc], ...(second ? [[second.mm, second.acc] as const] : [])] as const) {
    w.provideVec(mm.id, (at, axis) => (axis === last && indexKey(at) === want ? value : undefined));
    w.provide(mm.id, (at) => {
      throw new FusionError(mm.id, `vector epilogue reads the product as a scalar at [${indexKey(at)}]`);
    });
  }
  const root = t.root;
  let rootIdx: Index, rootFlat: Expr = flat;
  if (root.op === 'permute') {
    const inIdx = w.unflatten(flat, t.graph.node(root.inputs[0]!).type.shape);
    rootIdx = root.attrs.perm.map((q) => inIdx[q]!);
    rootFlat = w.let(w.linear(rootIdx, root.type.shape), 'f');
  } else rootIdx = w.unflatten(flat, root.type.shape);
  const v = w.computeVec4(root.id, rootIdx, root.type.shape.length - 1);
  const out = w.bufferVec4(root.id, true);
  w.when(guard, () => w.store(out, div(rootFlat, 4), v));
}
