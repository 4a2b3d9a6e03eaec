// A norm's affine folded into the frozen weights of the matmuls that read it: (x̂·γ + β)·W =
// x̂·(γ ⊙ W) + β·W. A LayerNorm computed in a matmul's loads (fuse-norm-prologues) otherwise
// loads γ and β beside x at every k step of every column tile, which on CPU adapters (where loads
// decide speed) cost it 30 ms of a 140 ms vit-mnist inference step. The scaled weight γ ⊙ W and
// the bias row β·W read parameters only, so they are computed once (codegen/parameter-derived.ts)
// and stored (store-parameter-operands); the cost is a copy of each folded weight (so weights
// over MAX_FOLDED_WEIGHT elements are left alone).
//
// A rewrite of the graph before fusion planning, like split-K (codegen/splitk.ts), applied where
// norm prologues are fused (CPU adapters), and only when every reader of the norm is such a
// matmul with a frozen weight (a trainable one would be rescaled at every step).

import { GraphBuilder, pruneToOutputs, type Graph, type Node, type Tensor } from '../src/core/ir/graph.ts';
import { numel, sameShape } from '../src/core/ir/shape.ts';

/**
 * The largest weight folded (elements): each folded weight is copied, so big ones are left alone
 * (ViT-S/16's and smaller fold; ViT-B/16's qkv and fc1 would add 189 MiB to its 344).
 */
export const MAX_FOLDED_WEIGHT = 2 ** 20;

/** Whether `id` is frozen (Graph.fromParameters) and varies along the last axis only, of length K (γ or β). */
const isFrozenRow = (graph: Graph, id: number, K: number): boolean => {
  const s = graph.node(id).type.shape;
  return graph.fromParameters(id, true) && s.at(-1) === K && s.slice(0, -1).every((d) => d === 1);
};

/** y = u·γ + β with γ, β frozen rows over y's last axis: { u, γ, β }. */
function affineOf(graph: Graph, y: Node): { u: number; gamma: number; beta: number } | undefined {
  if (y.op !== 'add') return undefined;
  const K = y.type.shape.at(-1)!;
  for (const [pi, bi] of [[0, 1], [1, 0]] as const) {
    const p = graph.node(y.inputs[pi]!), beta = y.inputs[bi]!;
    if (p.op !== 'mul' || !isFrozenRow(graph, beta, K)) continue;
    for (const [ui, gi] of [[0, 1], [1, 0]] as const) {
      const u = graph.node(p.inputs[ui]!), gamma = p.inputs[gi]!;
      if (isFrozenRow(graph, gamma, K) && u.type.shape.length === y.type.shape.length && u.type.shape.every((d, i) => d === y.type.shape[i])) return { u: u.id, gamma, beta };
    }
  }
  return undefined;
}

/**
 * The matmuls reading `y` as their row operand (through reshapes keeping the last axis) with a
 * frozen [K, N] weight; undefined when anything else reads y or what lies between.
 */
function foldableReaders(graph: Graph, y: Node, readers: ReadonlyMap<number, readonly Node[]>, outputs: ReadonlySet<number>): Node[] | undefined {
  const K = y.type.shape.at(-1)!;
  const found: Node[] = [];
  const visit = (n: Node): boolean => {
    if (outputs.has(n.id)) return false;
    const rs = readers.get(n.id) ?? [];
    return rs.length > 0 && rs.every((r) => {
      if (r.op === 'reshape' && r.type.shape.at(-1) === K) return visit(r);
      if (r.op !== 'matmul' || r.inputs[0] !== n.id || r.inputs[1] === n.id) return false;
      const w = graph.node(r.inputs[1]!);
      if (w.type.shape.length !== 2 || !graph.fromParameters(w.id, true) || numel(w.type.shape) > MAX_FOLDED_WEIGHT) return false;
      found.push(r);
      return true;
    });
  };
  return visit(y) ? found : undefined;
}

/** `graph` with every foldable norm affine folded into the weights of its matmuls (undefined: none). */
export function foldNormAffine(graph: Graph): Graph | undefined {
  const readers = new Map<number, Node[]>();
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(graph.outputs.values());
  const folds = new Map<number, { u: number; gamma: number; beta: number }>(); // matmul -> its norm's affine
  for (const y of graph.nodes) {
    const affine = affineOf(graph, y);
    const mms = affine && foldableReaders(graph, y, readers, outputs);
    for (const m of mms ?? []) folds.set(m.id, affine!);
  }
  if (!folds.size) return undefined;
  const b = new GraphBuilder();
  const map: Tensor[] = [];
  for (const n of graph.nodes) {
    const f = folds.get(n.id);
    if (!f) {
      map[n.id] = b.record(n.op, n.inputs.map((i) => map[i]!.id), n.attrs, n.type);
      continue;
    }
    const a = graph.node(n.inputs[0]!), [K, N] = graph.node(n.inputs[1]!).type.shape as [number, number];
    const w = map[n.inputs[1]!]!;
    const scaled = w.mul(map[f.gamma]!.reshape([K, 1]));
    const biasRow = map[f.beta]!.reshape([1, K]).matmul(w).reshape([N]);
    const u = map[f.u]!, rows = sameShape(u.shape, a.type.shape) ? u : u.reshape(a.type.shape);
    map[n.id] = rows.matmul(scaled).add(biasRow);
  }
  for (const [name, id] of graph.outputs) b.output(name, map[id]!);
  // The norm's output is read by nothing now; leaves stay (they are fed by name).
  const built = b.build();
  return pruneToOutputs(built.nodes, built.outputs, (n) => n.op === 'input' || n.op === 'param');
}
