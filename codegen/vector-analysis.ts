// What reading a node as 4-vectors costs and reaches, decided on the graph before any code is
// built: the matmul templates pick the axis along which each operand is cheap to read, and
// whether an epilogue can be computed and stored as vectors.

import type { Graph } from '../src/core/ir/graph.ts';
import { OPS, type OpName } from '../src/core/ir/ops.ts';
import { stridesOf } from '../src/core/ir/shape.ts';
import { isFolded, type FusionState } from './stored.ts';
import { reshapeVecAxis, SCALAR_ONLY } from './lower.ts';

/** Whether an op computed in place has a vector lowering (codegen/lower.ts) for f32 operands. */
const hasVectorForm = (op: OpName): boolean => !SCALAR_ONLY.has(op) && OPS[op].kind !== 'leaf' && !ANCHOR_KINDS.has(OPS[op].kind);
const ANCHOR_KINDS: ReadonlySet<string> = new Set(['reduction', 'selection', 'contraction', 'scatter', 'attention']);

/**
 * Load sequences (buffer reads) it takes to produce one vec4 of node `id` along `axis` with the
 * vector lowering: 1 for an aligned contiguous read, 4 where four scalars are assembled, summed
 * over the leaves. Lets a template pick the axis along which an operand is cheap to read.
 */
export function vecLoadCount(graph: Graph, fusion: FusionState, id: number, axis: number): number {
  const scalarMemo = new Map<number, number>();
  const scalar = (n: number): number => {
    const hit = scalarMemo.get(n);
    if (hit !== undefined) return hit;
    const node = graph.node(n);
    const c = fusion.isMaterialized(n) ? (isFolded(graph.node(fusion.storage(n))) ? 0 : 1) : repeats(graph, n) * node.inputs.reduce((s, i) => s + scalar(i), 0);
    scalarMemo.set(n, c);
    return c;
  };
  const memo = new Map<string, number>();
  const vec = (n: number, a: number): number => {
    const key = `${n}#${a}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const c = vecCost(graph, fusion, n, a, scalar, vec);
    memo.set(key, c);
    return c;
  };
  return vec(id, axis);
}

function vecCost(graph: Graph, fusion: FusionState, n: number, a: number, scalar: (n: number) => number, vec: (n: number, a: number) => number): number {
  const node = graph.node(n);
  const shape = node.type.shape;
  const viaInput = (k: number): number => {
    const inp = graph.node(node.inputs[k]!);
    const inAxis = a - (shape.length - inp.type.shape.length);
    return inAxis < 0 || inp.type.shape[inAxis] === 1 ? scalar(inp.id) : vec(inp.id, inAxis);
  };
  if (node.type.dtype !== 'f32') return 4 * scalar(n);
  if (fusion.isMaterialized(n)) return scalar(n) === 0 ? 0 : stridesOf(shape)[a] === 1 && shape[a]! % 4 === 0 ? 1 : 4;
  switch (node.op) {
    case 'permute': return vec(node.inputs[0]!, node.attrs.perm[a]!);
    case 'reshape': {
      const b = reshapeVecAxis(shape, graph.node(node.inputs[0]!).type.shape, a);
      return b === undefined ? 4 * scalar(n) : vec(node.inputs[0]!, b);
    }
    case 'slice': return node.attrs.starts[a]! % 4 === 0 ? vec(node.inputs[0]!, a) : 4 * scalar(n);
    case 'broadcast': return viaInput(0);
    case 'gather': {
      const ix = graph.node(node.inputs[1]!);
      const g = node.attrs.axis;
      return a === g || (a < g && ix.type.shape[a] !== 1) ? 4 * scalar(n) : vec(node.inputs[0]!, a) + scalar(ix.id);
    }
    case 'stopGradient': case 'straightThrough': return vec(node.inputs[0]!, a);
    // A small reduction computed in place (codegen/fusion/small-reductions.ts) reads its input once per reduced element.
    case 'sum': case 'reduceMax': return a === node.attrs.axis ? 4 * scalar(n) : repeats(graph, n) * vec(node.inputs[0]!, a);
    default:
      return hasVectorForm(node.op) && node.inputs.every((i) => graph.node(i).type.dtype === 'f32')
        ? node.inputs.reduce((s, _i, k) => s + viaInput(k), 0)
        : 4 * scalar(n);
  }
}

/** How often node `n`, computed in place, reads its inputs per element: the reduced extent of a (small) reduction, else once. */
const repeats = (graph: Graph, n: number): number => {
  const node = graph.node(n);
  return node.op === 'sum' || node.op === 'reduceMax' ? graph.node(node.inputs[0]!).type.shape[node.attrs.axis]! : 1;
};

/** Ops with a vector lowering that are not elementwise over their inputs. */
const NOT_ELEMENTWISE: ReadonlySet<OpName> = new Set(['gather', 'fill']);

/**
 * Whether the vector lowering of `id` (a kernel root, computed in place) along `axis` reaches node
 * `target` (a provided accumulator) only through vector lowerings: the axis it arrives with, or
 * undefined when some path would need `target` as scalars (or arrives along different axes).
 */
export function vecReach(graph: Graph, fusion: FusionState, id: number, axis: number, target: number): number | undefined {
  const reaches = new Map<number, boolean>();
  const dependsOn = (n: number, isRoot = false): boolean => {
    if (n === target) return true;
    if (!isRoot && fusion.isMaterialized(n)) return false;
    const hit = reaches.get(n);
    if (hit !== undefined) return hit;
    const r = graph.node(n).inputs.some((i) => dependsOn(i));
    reaches.set(n, r);
    return r;
  };
  const BAD = -1, NONE = -2;
  const combine = (a: number, b: number) => (a === NONE ? b : b === NONE ? a : a === b ? a : BAD);
  const visit = (n: number, a: number, isRoot = false): number => {
    if (n === target) return a;
    if (!dependsOn(n, isRoot)) return NONE;
    const node = graph.node(n);
    const shape = node.type.shape;
    const via = (k: number, inAxis: number | undefined): number => {
      const inp = graph.node(node.inputs[k]!);
      if (inAxis === undefined || inAxis < 0 || inp.type.shape[inAxis] === 1) return dependsOn(inp.id) ? BAD : NONE;
      return visit(inp.id, inAxis);
    };
    switch (node.op) {
      case 'reshape': return via(0, reshapeVecAxis(shape, graph.node(node.inputs[0]!).type.shape, a));
      case 'permute': return via(0, node.attrs.perm[a]);
      case 'slice': return node.attrs.starts[a]! % 4 === 0 ? via(0, a) : BAD;
      case 'stopGradient': case 'straightThrough': return via(0, a);
      case 'broadcast': return via(0, a - (shape.length - graph.node(node.inputs[0]!).type.shape.length));
      default: {
        if (!hasVectorForm(node.op) || NOT_ELEMENTWISE.has(node.op) || node.type.dtype !== 'f32' || node.inputs.some((i) => graph.node(i).type.dtype !== 'f32')) return BAD;
        let r = NONE;
        node.inputs.forEach((_i, k) => (r = combine(r, via(k, a - (shape.length - graph.node(node.inputs[k]!).type.shape.length)))));
        return r;
      }
    }
  };
  const r = visit(id, axis, true);
  return r >= 0 ? r : undefined;
}
