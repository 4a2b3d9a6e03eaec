// AdamW (PyTorch semantics: decoupled weight decay, bias correction) appended to a gradient graph,
// so the whole training step — forward, backward, update — is one compiled plan. Optimizer state
// lives in parameters `adam.m:<name>` / `adam.v:<name>`; the new values are outputs
// `update:<name>` that the executor copies back over the parameters at the end of the step.

import { GraphBuilder, type Graph } from '../../core/ir/graph.ts';
import { gradName } from '../../core/ir/autodiff.ts';

/** AdamW's hyperparameters besides the learning rate, as PyTorch's: the weight decay is scaled by the learning rate. */
export interface AdamWConfig {
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/** PyTorch's AdamW defaults except the weight decay (1e-4 rather than 1e-2). */
export const ADAMW_DEFAULTS: AdamWConfig = { weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export const adamM = (p: string) => `adam.m:${p}`;
export const adamV = (p: string) => `adam.v:${p}`;
export const updated = (name: string) => `update:${name}`;

/** Per-step scalars, written as the `hyper` input: [lr, 1/(1−β1^t), 1/(1−β2^t), 0]. */
export function adamHyper(lr: number, step: number, c: AdamWConfig): Float32Array {
  return Float32Array.of(lr, 1 / (1 - c.beta1 ** step), 1 / (1 - c.beta2 ** step), 0);
}

/**
 * Adds the AdamW update of every parameter in `trainable` to `graph` (which must have their
 * `grad:` outputs). Returns the extended graph and the write-back list (output -> parameter).
 */
export function withAdamW(graph: Graph, trainable: readonly string[], c: AdamWConfig = ADAMW_DEFAULTS): { graph: Graph; writeBack: [string, string][] } {
  const { b } = GraphBuilder.from(graph);
  const hyper = b.input('hyper', [4]);
  const lr = hyper.narrow(0, 0, 1), bc1 = hyper.narrow(0, 1, 1), bc2 = hyper.narrow(0, 2, 1);
  const writeBack: [string, string][] = [];
  for (const name of trainable) {
    const p = b.leaf(name);
    const g = b.tensor(graph.output(gradName(name)).id);
    const m = b.param(adamM(name), p.shape), v = b.param(adamV(name), p.shape);
    const m2 = m.mul(c.beta1).add(g.mul(1 - c.beta1));
    const v2 = v.mul(c.beta2).add(g.square().mul(1 - c.beta2));
    const step = m2.mul(bc1).div(v2.mul(bc2).sqrt().add(c.eps));
    const p2 = p.mul(lr.mul(-c.weightDecay).add(1)).sub(lr.mul(step));
    for (const [out, t, target] of [[updated(name), p2, name], [updated(adamM(name)), m2, adamM(name)], [updated(adamV(name)), v2, adamV(name)]] as const) {
      b.output(out, t);
      writeBack.push([out, target]);
    }
  }
  return { graph: b.build(), writeBack };
}
