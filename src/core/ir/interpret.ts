// The float64 reference interpreter: runs any graph (forward or backward) on the CPU with each
// op's reference rule. It is the oracle every GPU kernel is tested against, so it favours
// obvious correctness over speed.

import type { Graph } from './graph.ts';
import { OPS, type F64, type OpName, type OpRule } from './ops.ts';
import { fmtShape, numel } from './shape.ts';

/** Values of graph inputs and parameters by name, each flat and row-major with one value per element. */
export type Feeds = Readonly<Record<string, ArrayLike<number>>>;

/** What the reference interpreter computed, in float64. */
export interface EvalResult {
  /** Named outputs. */
  readonly outputs: Record<string, F64>;
  /** Every node's value, by node id (for debugging and for comparing intermediate kernels). */
  readonly values: readonly F64[];
}

/** Evaluates `graph`; `feeds` gives every input and parameter by name. */
export function evaluate(graph: Graph, feeds: Feeds): EvalResult {
  const values: F64[] = [];
  for (const n of graph.nodes) {
    let data: Float64Array;
    if (n.op === 'input' || n.op === 'param') {
      const name = n.attrs.name;
      data = leafValue(n.op, name, n.type.shape, n.type.dtype, feeds[name]);
    } else {
      const rule = OPS[n.op] as OpRule<OpName>;
      data = rule.reference(n.inputs.map((i) => values[i]!), n.attrs, n.type);
    }
    values.push({ shape: n.type.shape, data });
  }
  const outputs: Record<string, F64> = {};
  for (const [name, id] of graph.outputs) outputs[name] = values[id]!;
  return { outputs, values };
}

function leafValue(kind: string, name: string, shape: readonly number[], dtype: string, v: ArrayLike<number> | undefined): Float64Array {
  if (v === undefined) throw new Error(`${kind} "${name}" (${dtype}${fmtShape(shape)}) was not given a value`);
  if (v.length !== numel(shape)) {
    throw new Error(`${kind} "${name}" expects ${numel(shape)} values for ${dtype}${fmtShape(shape)}, got ${v.length}`);
  }
  const data = Float64Array.from(v);
  if (dtype !== 'f32' && data.some((x) => !Number.isInteger(x))) throw new Error(`${kind} "${name}" is ${dtype} but was given non-integers`);
  return data;
}
