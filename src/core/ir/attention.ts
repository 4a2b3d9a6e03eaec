// Softmax attention as autodiff sees it. The forward graph stays primitive (nn.softmax between two
// matmuls: the code generator fuses it into one kernel when nothing else reads the n×n
// probabilities). Its backward, left to the primitive rules, would read those probabilities and
// so force them into memory; `attentionGradients` replaces it with the `attentionBackward` parts,
// which recompute the scores from Q, Kᵀ and the bias (FlashAttention's backward: lse per query
// row, D = rowsum(dO ⊙ O), then one pass per query row for dQ and one per key row for dK, dV and
// the bias). Only scores of the form scale·Q·Kᵀ (+ a bias) are recognised; anything else keeps
// the primitive rules.

import type { Graph, Node, Tensor } from './graph.ts';
import { sumTo } from './ops.ts';
import { numel, sameShape } from './shape.ts';

/** The nodes of softmax as src/core/ir/nn.ts writes it: P = e / Σe, e = exp(S − stopGradient(max S)). */
export interface SoftmaxParts {
  readonly scores: number;
  readonly max: number;
  /** The stopGradient around the max, if any. */
  readonly stop?: number;
  readonly shifted: number;
  readonly exp: number;
  readonly sum: number;
  readonly probs: number;
}

/** `probs` as a last-axis softmax of some scores, or undefined. */
export function matchSoftmax(graph: Graph, probs: Node): SoftmaxParts | undefined {
  const node = (id: number) => graph.node(id);
  const lastAxis = (n: Node) => n.type.shape.length - 1;
  if (probs.op !== 'div') return undefined;
  const e = node(probs.inputs[0]!), z = node(probs.inputs[1]!);
  if (e.op !== 'exp' || z.op !== 'sum' || z.inputs[0] !== e.id || z.attrs.axis !== lastAxis(e)) return undefined;
  const d = node(e.inputs[0]!);
  if (d.op !== 'sub') return undefined;
  const scores = node(d.inputs[0]!);
  let mx = node(d.inputs[1]!);
  const stop = mx.op === 'stopGradient' ? mx : undefined;
  if (stop) mx = node(stop.inputs[0]!);
  if (mx.op !== 'reduceMax' || mx.inputs[0] !== scores.id || mx.attrs.axis !== lastAxis(scores)) return undefined;
  if (!sameShape(e.type.shape, probs.type.shape) || !sameShape(scores.type.shape, e.type.shape)) return undefined;
  return { scores: scores.id, max: mx.id, stop: stop?.id, shifted: d.id, exp: e.id, sum: z.id, probs: probs.id };
}

/** softmax(scale·Q·Kᵀ + bias)·V, recognised around its P·V matmul. */
export interface SoftmaxAttention {
  readonly q: number;
  readonly kt: number;
  readonly v: number;
  readonly scale: number;
  readonly bias?: number;
  readonly pv: number;
  /** Nodes between the inputs and P·V (Q·Kᵀ, the scale and bias ops, the softmax). */
  readonly members: readonly number[];
}

/**
 * P·V matmul `pv` as softmax attention whose backward `attentionGradients` can take over: the
 * scores are Q·Kᵀ, optionally times a scalar literal, optionally plus a bias broadcast over them;
 * Q, Kᵀ, V and P·V share their batch axes; and nothing outside reads the nodes in between (their
 * gradients would be lost). `readers(id)` lists the consumers of a node.
 */
export function matchSoftmaxAttention(graph: Graph, readers: (id: number) => readonly number[], isOutput: (id: number) => boolean, pv: Node): SoftmaxAttention | undefined {
  if (pv.op !== 'matmul') return undefined;
  const node = (id: number) => graph.node(id);
  const sm = matchSoftmax(graph, node(pv.inputs[0]!));
  if (!sm) return undefined;
  let cur = node(sm.scores);
  const chain: number[] = [];
  let bias: number | undefined;
  let scale = 1;
  if (cur.op === 'add') {
    const [a, b] = cur.inputs.map(node) as [Node, Node];
    const [inner, other] = sameShape(a.type.shape, cur.type.shape) && (a.op === 'mul' || a.op === 'matmul') ? [a, b] : [b, a];
    if (!sameShape(inner.type.shape, cur.type.shape) || other.type.dtype !== 'f32') return undefined;
    bias = other.id;
    chain.push(cur.id);
    cur = inner;
  }
  if (cur.op === 'mul') {
    const [a, b] = cur.inputs.map(node) as [Node, Node];
    const lit = b.op === 'fill' ? b : a.op === 'fill' ? a : undefined;
    if (!lit || lit.op !== 'fill' || numel(lit.type.shape) !== 1) return undefined;
    scale = lit.attrs.value;
    chain.push(cur.id);
    cur = lit === b ? a : b;
  }
  if (cur.op !== 'matmul') return undefined;
  const [q, kt] = cur.inputs.map(node) as [Node, Node];
  const v = node(pv.inputs[1]!);
  const batch = pv.type.shape.slice(0, -2);
  if (![q, kt, v, cur].every((t) => t.type.shape.length === batch.length + 2 && sameShape(t.type.shape.slice(0, -2), batch))) return undefined;
  const members = [cur.id, ...chain, sm.max, ...(sm.stop !== undefined ? [sm.stop] : []), sm.shifted, sm.exp, sm.sum, sm.probs];
  const inside = new Set([...members, pv.id]);
  for (const id of members) if (isOutput(id) || readers(id).some((c) => !inside.has(c))) return undefined;
  return { q: q.id, kt: kt.id, v: v.id, scale, bias, pv: pv.id, members };
}

/**
 * Gradients of attention `g`'s inputs from dO (the gradient of P·V), for the inputs `needs` asks
 * for, or undefined when these parts cannot give them (a bias that varies along the queries and
 * wants a gradient: its per-key sums would not be enough).
 */
export function attentionGradients(
  g: SoftmaxAttention, t: (id: number) => Tensor, dO: Tensor, needs: (id: number) => boolean,
): Map<number, Tensor> | undefined {
  const Q = t(g.q), KT = t(g.kt), V = t(g.v), O = t(g.pv);
  const bias = g.bias !== undefined ? t(g.bias) : undefined;
  const biasGrad = bias !== undefined && needs(bias.id);
  if (biasGrad && bias.rank >= 2 && bias.dim(-2) !== 1) return undefined;
  const b = Q.b;
  const attrs = (part: 'lse' | 'dq' | 'dkv') => ({ part, scale: g.scale, bias: bias !== undefined });
  const withBias = (xs: Tensor[]) => (bias ? [...xs, bias] : xs);
  const lse = b.op('attentionBackward', withBias([Q, KT]), attrs('lse'));
  const D = dO.mul(O).sum(-1);
  const args = withBias([Q, KT, V, dO, lse, D]);
  const grads = new Map<number, Tensor>();
  const add = (id: number, gr: Tensor) => {
    const prev = grads.get(id);
    grads.set(id, prev ? prev.add(gr) : gr);
  };
  if (needs(g.q)) add(g.q, b.op('attentionBackward', args, attrs('dq')));
  if (needs(g.kt) || needs(g.v) || biasGrad) {
    const dkv = b.op('attentionBackward', args, attrs('dkv'));
    const d = Q.dim(-1), dv = V.dim(-1);
    if (needs(g.kt)) add(g.kt, dkv.narrow(-1, 0, d).transpose());
    if (needs(g.v)) add(g.v, dkv.narrow(-1, d, dv));
    if (biasGrad) add(bias.id, sumTo(dkv.narrow(-1, d + dv, 1).transpose(), bias.shape));
  }
  return grads;
}
