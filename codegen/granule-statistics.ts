// LayerNorm statistics from the producer: a norm over x [..., D] whose x a matmul kernel writes
// (the residual stream after fc2 or the attention projection) gets its sums from that kernel.
// Each output tile of the producer covers GRANULE columns of its rows; the rewrite expresses the
// row's Σx and Σ(x − mean)² through per-granule sums, which the producer's epilogue computes
// (fusion pass fuse-epilogue-granules) while the values are still in registers:
//   s_j = Σ_{granule j} x,  q_j = Σ_{granule j} (x − s_j/g)²          [..., G, 1]
//   Σx = Σ_j s_j,  Σ(x − mean)² = Σ_j q_j + g·Σ_j (s_j/g − mean)²     (Chan et al.'s pairwise update)
// The consumer's prologue then combines G = D/g partials per row (fuse-norm-prologues) instead of
// re-reading D values per row in every column tile, so the norm's own row kernel goes away even
// where that re-reading would cost more than the kernel (GPUs, big matmuls).
//
// A rewrite of the graph before fusion planning, like split-K and the norm-affine fold; the float64
// interpreter runs the rewritten graph too, so tests check it against the original.

import { GraphBuilder, type Graph, type Node, type Tensor } from '../src/core/ir/graph.ts';
import { OPS } from '../src/core/ir/ops.ts';
import { numel } from '../src/core/ir/shape.ts';
import { GRANULE } from '../kernels/matmul-tiled.ts';

export { GRANULE };

/** A norm's two row sums over x: S = Σx and Q = Σ(x − S·c)², as src/core/ir/nn.ts's layerNorm writes them. */
export interface NormSums {
  readonly x: number;
  readonly S: number;
  readonly Q: number;
  /** The mean node S·c (or S / n), which Q's centring reads, and c. */
  readonly mean: number;
  readonly scale: number;
}

const literal = (graph: Graph, id: number): number | undefined => {
  const n = graph.node(id);
  return n.op === 'fill' && n.type.dtype === 'f32' && n.type.shape.length === 0 ? n.attrs.value : undefined;
};

/** The last-axis sum Q = Σ(x − m)², m = S·c with S = Σx over the same axis, if `q` is one. */
export function normSums(graph: Graph, q: Node): NormSums | undefined {
  const lastSum = (n: Node) => n.op === 'sum' && n.attrs.axis === graph.node(n.inputs[0]!).type.shape.length - 1;
  if (!lastSum(q)) return undefined;
  const sq = graph.node(q.inputs[0]!);
  if (sq.op !== 'mul' || sq.inputs[0] !== sq.inputs[1]) return undefined;
  const d = graph.node(sq.inputs[0]!);
  if (d.op !== 'sub') return undefined;
  const [x, m] = [graph.node(d.inputs[0]!), graph.node(d.inputs[1]!)];
  let S: number | undefined, scale: number | undefined;
  if (m.op === 'mul') {
    for (const [si, ci] of [[0, 1], [1, 0]] as const) {
      const c = literal(graph, m.inputs[ci]!);
      if (S === undefined && c !== undefined) [S, scale] = [m.inputs[si]!, c];
    }
  } else if (m.op === 'div') {
    const c = literal(graph, m.inputs[1]!);
    if (c) [S, scale] = [m.inputs[0]!, 1 / c];
  }
  if (S === undefined || scale === undefined) return undefined;
  const s = graph.node(S);
  return lastSum(s) && s.inputs[0] === x.id ? { x: x.id, S, Q: q.id, mean: m.id, scale } : undefined;
}

/**
 * Whether x is written by a matmul's kernel: the product itself, or an elementwise op of its
 * shape over one (the epilogue: bias, residual add), found through same-shape elementwise ops.
 */
function fromProduct(graph: Graph, id: number, depth = 0): boolean {
  const n = graph.node(id);
  if (n.op === 'matmul') return true;
  // Rows concatenated from parts (FPET's cls | merged tokens): each part's sums come from where it
  // is written, so one part from a product is worth it (the others' sums take a small kernel). Only
  // the norm's x itself (a concatenation inside its expression would need sums of the whole).
  if (isRowConcat(graph, n)) return depth === 0 && concatSources(graph, n) <= MAX_CONCAT_SOURCES && n.inputs.some((i) => fromProduct(graph, i, depth + 1));
  // Rows gathered from a product (the tokens a merge passes through): its sums, gathered alike.
  if (isRowGather(graph, n)) return fromProduct(graph, n.inputs[0]!, depth + 1);
  const sameRows = (i: number) => numel(graph.node(i).type.shape) === numel(n.type.shape) && graph.node(i).type.shape.at(-1) === n.type.shape.at(-1);
  // Reshapes keeping the rows' length (a linear layer's [B·T, D] back to [B, T, D]), elementwise ops.
  if (depth > 8 || (n.op !== 'reshape' && OPS[n.op].kind !== 'elementwise')) return false;
  return n.inputs.some((i) => sameRows(i) && fromProduct(graph, i, depth + 1));
}

/**
 * Tensors a concatenation's sums are combined from (its parts, a part gathering rows of another
 * counted as that one: codegen/lower.ts reads rows several parts gather from one tensor once).
 * The reading matmul binds each one's rows and both sums, and the gathers' indices: with FPET's
 * cls | merged and ToMe's cls | kept | merged (cls and kept tokens are rows of the pre-merge x)
 * that is two.
 */
const MAX_CONCAT_SOURCES = 2;

function concatSources(graph: Graph, n: Node): number {
  const through = (id: number): number => (isRowGather(graph, graph.node(id)) ? through(graph.node(id).inputs[0]!) : id);
  return new Set(n.inputs.map(through)).size;
}

/** A gather of whole rows: along an axis before the last. */
const isRowGather = (graph: Graph, n: Node): boolean => n.op === 'gather' && (n.attrs as { axis: number }).axis < n.type.shape.length - 1;

/** A concatenation of whole rows: along an axis before the last. */
const isRowConcat = (graph: Graph, n: Node): boolean => n.op === 'concat' && n.attrs.axis < n.type.shape.length - 1;

/**
 * Whether the norm's result is read by one matmul only, as its row operand (through reshapes
 * keeping the rows): what fuse-norm-prologues computes in that matmul. Its chain is the
 * elementwise nodes of x's shape reached from Q; exactly one of them may be read from outside it.
 */
function readByOneMatmul(graph: Graph, readers: ReadonlyMap<number, readonly Node[]>, sums: NormSums, outputs: ReadonlySet<number>): boolean {
  const shape = graph.node(sums.x).type.shape;
  const chain = new Set<number>([sums.Q]);
  const sameShape = (n: Node) => n.type.shape.length === shape.length && n.type.shape.every((d, i) => d === shape[i]);
  const exits = new Set<number>();
  const grow = (id: number) => {
    for (const r of readers.get(id) ?? []) {
      if (chain.has(r.id)) continue;
      const inChain = OPS[r.op].kind === 'elementwise' && (r.type.shape.at(-1) === 1 || sameShape(r));
      if (inChain) {
        chain.add(r.id);
        grow(r.id);
      } else exits.add(id);
    }
    if (outputs.has(id)) exits.add(-1);
  };
  grow(sums.Q);
  if (exits.size !== 1) return false;
  const y = [...exits][0]!;
  const matmuls = (id: number): Node[] | undefined => {
    const out: Node[] = [];
    for (const r of readers.get(id) ?? []) {
      if (chain.has(r.id)) continue;
      if (r.op === 'reshape' && r.type.shape.at(-1) === shape.at(-1) && !outputs.has(r.id)) {
        const inner = matmuls(r.id);
        if (!inner) return undefined;
        out.push(...inner);
      } else if (r.op === 'matmul' && r.inputs[0] === id && r.inputs[1] !== id) out.push(r);
      else return undefined;
    }
    return out;
  };
  return matmuls(y)?.length === 1;
}

/**
 * `graph` with the row sums of every norm whose input a matmul kernel writes, over rows of a
 * multiple of GRANULE (at least two granules), computed from per-granule partials (undefined: none).
 */
export function granuleStatistics(graph: Graph): Graph | undefined {
  const readers = new Map<number, Node[]>();
  for (const n of graph.nodes) for (const i of new Set(n.inputs)) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(graph.outputs.values());
  const found = new Map<number, NormSums>(); // S and Q -> their norm
  for (const n of graph.nodes) {
    const sums = normSums(graph, n);
    if (!sums) continue;
    const D = graph.node(sums.x).type.shape.at(-1)!;
    if (D % GRANULE !== 0 || D < 2 * GRANULE || !fromProduct(graph, sums.x) || !readByOneMatmul(graph, readers, sums, outputs)) continue;
    found.set(sums.S, sums);
    found.set(sums.Q, sums);
  }
  if (!found.size) return undefined;
  const b = new GraphBuilder();
  const map: Tensor[] = [];
  const partials = new Map<number, { s: Tensor; mg: Tensor; q: Tensor }>(); // x -> its granule sums, [..., G]
  const partialsOf = (x: number): { s: Tensor; mg: Tensor; q: Tensor } => {
    const p = partials.get(x);
    if (p) return p;
    const node = graph.node(x);
    if (isRowGather(graph, node) && fromProduct(graph, node.inputs[0]!, 1)) {
      // Gathered rows' granule sums are the source's, gathered alike (its producer writes them).
      const source = partialsOf(node.inputs[0]!);
      const [idx, axis] = [map[node.inputs[1]!]!, (node.attrs as { axis: number }).axis];
      const made = { s: source.s.gather(idx, axis), mg: source.mg.gather(idx, axis), q: source.q.gather(idx, axis) };
      partials.set(x, made);
      return made;
    }
    if (isRowConcat(graph, node)) {
      // The granule sums of concatenated rows are the parts' sums, concatenated alike.
      const parts = node.inputs.map(partialsOf);
      const axis = (node.attrs as { axis: number }).axis;
      const made = { s: b.concat(parts.map((q) => q.s), axis), mg: b.concat(parts.map((q) => q.mg), axis), q: b.concat(parts.map((q) => q.q), axis) };
      partials.set(x, made);
      return made;
    }
    const rows = node.type.shape.slice(0, -1);
    const G = node.type.shape.at(-1)! / GRANULE;
    const xg = map[x]!.reshape([...rows, G, GRANULE]);
    const s = xg.sum(-1); // [..., G, 1]
    const mg = s.mul(1 / GRANULE);
    // q_j centred on its own granule's mean: the pattern the producer's epilogue computes.
    const q = xg.sub(mg).square().sum(-1);
    const made = { s: s.reshape([...rows, G]), mg: mg.reshape([...rows, G]), q: q.reshape([...rows, G]) };
    partials.set(x, made);
    return made;
  };
  for (const n of graph.nodes) {
    const sums = found.get(n.id);
    if (!sums) {
      map[n.id] = b.record(n.op, n.inputs.map((i) => map[i]!.id), n.attrs, n.type);
      continue;
    }
    const p = partialsOf(sums.x);
    // S precedes its mean, which precedes Q: map[mean] exists when Q is reached.
    map[n.id] = n.id === sums.S ? p.s.sum(-1) : p.q.sum(-1).add(p.mg.sub(map[sums.mean]!).square().sum(-1).mul(GRANULE));
  }
  for (const [name, id] of graph.outputs) b.output(name, map[id]!);
  return b.build();
}
