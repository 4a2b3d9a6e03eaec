// Split-K, the matmul variant for small outputs with long contractions (weight gradients:
// [out, in] = Σ over tokens·batch): C = A·B becomes S partial products over K/S each, computed as
// one batched matmul into a scratch tensor, then summed by a column reduction:
//   A[..., M, K] -> pad K to S·Kc -> [..., M, S, Kc] -> permute -> [..., S, M, Kc]
//   B[..., K, N] -> pad K to S·Kc -> [..., S, Kc, N]
//   C = sum over S of (A'·B') -> [..., M, N]
// It is a rewrite of the graph before fusion planning (so the two kernels, their scratch tensor
// and its place in the memory plan come from the ordinary machinery: the pads and views fold into
// the partial product's loads, the sum is a reduction kernel, the matmul's consumers read C). It
// pays where there are too few output tiles to occupy the device: GPUs. The default applies it on
// GPU adapters only; CompileOptions.splitK forces a split count. A weight gradient stored as
// [out, in] (a transpose of the product) has its partials stored transposed, summed into it.

import { GraphBuilder, type Graph, type Node, type Tensor } from '../src/core/ir/graph.ts';
import { numel } from '../src/core/ir/shape.ts';
import type { AdapterClass } from '../kernels/matmul-variants.ts';

/** Splits for matmul `m` (contraction length K) under the default policy (1: none). */
export function defaultSplitK(m: Node<'matmul'>, K: number, adapter: AdapterClass): number {
  if (adapter !== 'gpu') return 1;
  const [M, N] = m.type.shape.slice(-2) as [number, number];
  return splitsFor(M, N, K, numel(m.type.shape.slice(0, -2)));
}

/** S for an M×N output over K with `batch` products: enough tiles for a GPU (≥ 64 64×64-tile equivalents), chunks of ≥ 256. */
export function splitsFor(M: number, N: number, K: number, batch: number): number {
  const tiles = batch * Math.ceil(M / 64) * Math.ceil(N / 64);
  if (tiles >= 64 || K < 1024) return 1;
  return Math.max(1, Math.min(16, Math.floor(K / 256), Math.ceil(64 / tiles)));
}

/** Whether `n` swaps the last two axes and keeps the others (a weight gradient stored as [out, in]). */
const isLastTranspose = (n: Node): boolean =>
  n.op === 'permute' && n.attrs.perm.every((p, i, perm) => (i < perm.length - 2 ? p === i : p === (i === perm.length - 1 ? perm.length - 2 : perm.length - 1)));

/**
 * The graph with every matmul for which `splits` says S > 1 rewritten to split-K (undefined:
 * nothing to split). A product read only by a transpose of its last two axes (a weight gradient
 * stored as [out, in]) has its partial products stored transposed and summed into the transposed
 * result, so no kernel of its own transposes the sum.
 */
export function splitKRewrite(graph: Graph, splits: (m: Node<'matmul'>, K: number) => number): Graph | undefined {
  const b = new GraphBuilder();
  const map: Tensor[] = [];
  const readers = new Map<number, Node[]>();
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(graph.outputs.values());
  const transposedSum = new Map<number, Tensor>(); // permute node -> its value, computed by the split
  let changed = false;
  for (const n of graph.nodes) {
    const done = transposedSum.get(n.id);
    if (done) {
      map[n.id] = done;
      continue;
    }
    if (n.op === 'matmul') {
      const K = graph.node(n.inputs[0]!).type.shape.at(-1)!;
      const S = Math.min(splits(n, K), K);
      if (S > 1) {
        const only = readers.get(n.id) ?? [];
        const transposed = only.length === 1 && !outputs.has(n.id) && isLastTranspose(only[0]!);
        const C = splitK(map[n.inputs[0]!]!, map[n.inputs[1]!]!, S, transposed);
        if (transposed) transposedSum.set(only[0]!.id, C);
        map[n.id] = transposed ? C.transpose() : C;
        changed = true;
        continue;
      }
    }
    map[n.id] = b.record(n.op, n.inputs.map((i) => map[i]!.id), n.attrs, n.type);
  }
  if (!changed) return undefined;
  for (const [name, id] of graph.outputs) b.output(name, map[id]!);
  return b.build();
}

/** A·B as S partial products summed; with `transposed`, (A·B) with its last two axes swapped. */
function splitK(A: Tensor, B: Tensor, S: number, transposed: boolean): Tensor {
  const K = A.shape.at(-1)!, Kc = Math.ceil(K / S), pad = S * Kc - K;
  const ra = A.rank, rb = B.rank;
  if (pad) {
    A = A.pad(A.shape.map(() => 0), A.shape.map((_, i) => (i === ra - 1 ? pad : 0)));
    B = B.pad(B.shape.map(() => 0), B.shape.map((_, i) => (i === rb - 2 ? pad : 0)));
  }
  const [M] = A.shape.slice(-2) as [number];
  const N = B.shape.at(-1)!;
  const ab = A.shape.slice(0, -2), bb = B.shape.slice(0, -2);
  const a2 = A.reshape([...ab, M, S, Kc]).permute([...ab.map((_, i) => i), ra - 1, ra - 2, ra]);
  const b2 = B.reshape([...bb, S, Kc, N]);
  const partial = transposed ? a2.matmul(b2).transpose() : a2.matmul(b2);
  const batch = partial.shape.slice(0, -3);
  return partial.sum(partial.rank - 3).reshape([...batch, ...(transposed ? [N, M] : [M, N])]);
}
