// Batched matmul C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n], fused with its neighbours: A and B are
// expressions (prologue fusion: transposes, gathers and elementwise producers are folded into the
// loads), and the kernel's root may be an elementwise chain over C (epilogue fusion: bias, GELU,
// residual, ...), which reads the accumulator in place. The variants (kernels/matmul-*.ts) differ
// in how they tile and load; this module holds what they share.

import type { Node } from '../src/ir/graph.ts';
import { numel, type Shape } from '../src/ir/shape.ts';
import { canonicalIndex, printIndex, printIx, type Index, type Ix } from './expr.ts';
import { expectOp, FusionError, type KernelBuilder, type TemplateInput } from './template.ts';

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
  const mm = expectOp(graph.node(plan.epilogueAnchor(root.id) ?? root.id), 'matmul');
  const [a, b] = mm.inputs.map((i) => graph.node(i)) as [Node, Node];
  const batch = mm.type.shape.slice(0, -2);
  const [M, N] = mm.type.shape.slice(-2) as [number, number];
  return { mm, a, b, batch, batchCount: numel(batch), M, N, K: a.type.shape[a.type.shape.length - 1]! };
}

/** Batch indices of C, A and B (A and B broadcast over batch axes) for the flat batch entry `batchId`. */
export function batchIndices(w: KernelBuilder, p: MatmulProblem, batchId: Ix): { aBatch: Index; bBatch: Index; cBatch: Index } {
  const cBatch = p.batch.length ? w.unflatten(batchId, p.batch) : [];
  return {
    cBatch,
    aBatch: w.broadcastIndex(cBatch, p.a.type.shape.slice(0, -2)),
    bBatch: w.broadcastIndex(cBatch, p.b.type.shape.slice(0, -2)),
  };
}

/**
 * Writes the root's value for the product element (cBatch, gm, gn), whose accumulator is the WGSL
 * expression `acc`. Must run inside a guard gm < M, gn < N. The root is the product itself, an
 * elementwise chain over it (through reshapes: same element order), or a final permute (stored
 * transposed: weight gradients).
 */
export function storeEpilogue(w: KernelBuilder, t: TemplateInput, p: MatmulProblem, out: string, cBatch: Index, gm: Ix, gn: Ix, acc: string): void {
  const shape = p.mm.type.shape;
  const idx = canonicalIndex([...cBatch, gm, gn], shape);
  const flat = w.letIx(w.linear(idx, shape), 'f');
  w.relate(flat, shape, idx);
  const want = printIndex(idx);
  w.provide(p.mm.id, (at) => {
    if (printIndex(at) !== want) throw new FusionError(p.mm.id, `epilogue reads the product at [${printIndex(at)}], not [${want}]`);
    return acc;
  });
  const root = t.root;
  let rootIdx: Index, at: Ix = flat;
  if (root.op === 'permute') {
    const inIdx = w.unflatten(flat, t.graph.node(root.inputs[0]!).type.shape);
    rootIdx = root.attrs.perm.map((q) => inIdx[q]!);
    at = w.linear(rootIdx, root.type.shape);
  } else rootIdx = w.unflatten(flat, root.type.shape);
  w.line(`${out}[${printIx(at)}] = ${w.compute(root.id, rootIdx)};`);
}
