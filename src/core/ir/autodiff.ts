// Reverse-mode autodiff as a graph transformation: the result is a new graph holding the forward
// computation and its backward, so code generation treats both alike. Only nodes on a path from a
// requested parameter to the loss get gradient work; frozen parameters get none.

import { attentionGradients, matchSoftmaxAttention, type SoftmaxAttention } from './attention.ts';
import { GraphBuilder, pruneToOutputs, type Graph, type Node, type Tensor } from './graph.ts';
import { OPS, type OpName, type OpRule } from './ops.ts';
import { fmtShape } from './shape.ts';

/** The name of the output that holds the gradient of parameter `param` (`grad:<param>`). */
export const gradName = (param: string): string => `grad:${param}`;

/** What `gradients` differentiates, and with respect to what. */
export interface GradOptions {
  /** Name of the output to differentiate; a non-scalar loss is seeded with ones (the gradient of its sum). */
  readonly loss: string;
  /** Parameters (by name) to differentiate with respect to; defaults to every trainable parameter. */
  readonly wrt?: readonly string[];
  /**
   * Softmax attention differentiated by the attentionBackward parts, which recompute the scores
   * instead of reading the n×n probabilities (src/core/ir/attention.ts). Default true; false keeps the
   * primitive rules everywhere.
   */
  readonly fusedAttention?: boolean;
}

/** The forward graph plus one output `grad:<param>` per requested parameter. */
export function gradients(graph: Graph, opts: GradOptions): Graph {
  const params = graph.params;
  const wrtNames = opts.wrt ?? params.filter((p) => p.attrs.trainable).map((p) => p.attrs.name);
  const byName = new Map(params.map((p) => [p.attrs.name, p]));
  for (const name of wrtNames) {
    if (!byName.has(name)) throw new Error(`gradients: no parameter named "${name}" (parameters: ${[...byName.keys()].join(', ') || 'none'})`);
  }
  const loss = graph.output(opts.loss);
  if (loss.type.dtype !== 'f32') throw new Error(`gradients: loss "${opts.loss}" must be f32, got ${loss.type.dtype}${fmtShape(loss.type.shape)}`);

  // A node needs gradient work iff it depends (differentiably) on a requested parameter and the loss depends on it.
  const n = graph.nodes.length;
  const fromParam = new Uint8Array(n);
  for (const name of wrtNames) fromParam[byName.get(name)!.id] = 1;
  for (const node of graph.nodes) {
    const rule = OPS[node.op] as OpRule<OpName>;
    if (rule.vjp && node.type.dtype === 'f32' && node.inputs.some((i) => fromParam[i])) fromParam[node.id] = 1;
  }
  const toLoss = new Uint8Array(n);
  toLoss[loss.id] = 1;
  for (let i = n - 1; i >= 0; i--) if (toLoss[i]) for (const j of graph.nodes[i]!.inputs) toLoss[j] = 1;
  const active = (id: number) => fromParam[id] === 1 && toLoss[id] === 1;

  const { b, tensors: t } = GraphBuilder.from(graph);
  const grads = new Map<number, Tensor>();
  const accumulate = (id: number, g: Tensor) => {
    const prev = grads.get(id);
    grads.set(id, prev ? prev.add(g) : g);
  };
  if (active(loss.id)) accumulate(loss.id, b.fill(1, loss.type.shape));

  // Attention whose backward the fused parts take over, by P·V node.
  const attention = new Map<number, SoftmaxAttention>();
  if (opts.fusedAttention !== false) {
    const readers: number[][] = graph.nodes.map(() => []);
    for (const node of graph.nodes) for (const i of new Set(node.inputs)) readers[i]!.push(node.id);
    const outputIds = new Set(graph.outputs.values());
    for (const node of graph.nodes) {
      if (node.op !== 'matmul' || !active(node.id)) continue;
      const g = matchSoftmaxAttention(graph, (id) => readers[id]!, (id) => outputIds.has(id), node);
      if (g) attention.set(node.id, g);
    }
  }

  for (let id = loss.id; id >= 0; id--) {
    const dy = grads.get(id);
    const node = graph.nodes[id]!;
    if (!dy || !active(id) || node.inputs.length === 0) continue;
    const fused = attention.get(id);
    const viaParts = fused && attentionGradients(fused, (i) => t[i]!, dy, active);
    if (viaParts) {
      for (const [inp, g] of viaParts) accumulate(inp, g);
      continue;
    }
    const rule = OPS[node.op] as OpRule<OpName>;
    const needs = node.inputs.map(active);
    const gs = rule.vjp!({ x: node.inputs.map((i) => t[i]!), y: t[id]!, dy, attrs: node.attrs, needs });
    node.inputs.forEach((inp, k) => {
      const g = gs[k];
      if (!needs[k]) return;
      if (!g) throw new Error(`gradients: the rule of ${node.op} returned no gradient for input ${k}`);
      accumulate(inp, g);
    });
  }

  for (const name of wrtNames) {
    const p = byName.get(name)!;
    // A requested parameter the loss does not depend on gets an explicit zero gradient.
    b.output(gradName(name), grads.get(p.id) ?? b.fill(0, p.type.shape));
  }
  return b.build();
}

/**
 * The graph with each straightThrough replaced by a stopGradient of its value (the same value):
 * a surrogate only shapes gradients, so once they are built — or in a forward-only graph — the
 * nodes only the surrogate needs (FPET's soft matching at inference) are dropped. Inputs and
 * parameters stay, used or not, so the graph is fed as before. Undefined when there is none.
 */
export function withoutSurrogates(graph: Graph): Graph | undefined {
  if (!graph.nodes.some((n) => n.op === 'straightThrough')) return undefined;
  const nodes = graph.nodes.map((n): Node => (n.op === 'straightThrough' ? { id: n.id, op: 'stopGradient', inputs: [n.inputs[0]!], attrs: {}, type: n.type } : n));
  return pruneToOutputs(nodes, graph.outputs, (n) => n.op === 'input' || n.op === 'param');
}
