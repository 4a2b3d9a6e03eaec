// Central finite differences in float64 against reverse-mode autodiff, both through the
// reference interpreter. Used by the property tests and by the `gradcheck` command.

import { gradName, gradients } from './autodiff.ts';
import type { Graph } from './graph.ts';
import { evaluate, type Feeds } from './interpret.ts';

/** What `checkGradients` compares, and how strictly. */
export interface GradCheckOptions {
  /** Output to differentiate (summed if not scalar). */
  readonly loss: string;
  /** Parameters to check; defaults to the trainable ones. */
  readonly wrt?: readonly string[];
  /** Finite-difference step. */
  readonly h?: number;
  /** Pass when |autodiff − fd| ≤ tol · (1 + |fd|) for every entry. */
  readonly tol?: number;
  /** Graph whose loss the finite differences perturb (default: the same graph); for straight-through estimators. */
  readonly fdGraph?: Graph;
  /** Check at most this many entries per parameter (evenly spread), to bound the cost on big models. */
  readonly maxEntries?: number;
}

/** The outcome of a gradient check: `maxError` is the largest relative error found and `worst` where it was. */
export interface GradCheckResult {
  readonly ok: boolean;
  readonly checked: number;
  readonly maxError: number;
  readonly worst?: { param: string; index: number; autodiff: number; finiteDiff: number };
}

/**
 * Compares autodiff gradients with central finite differences, both in float64 on the CPU. `feeds`
 * must give every input and parameter.
 */
export function checkGradients(graph: Graph, feeds: Feeds, opts: GradCheckOptions): GradCheckResult {
  const h = opts.h ?? 1e-5;
  const tol = opts.tol ?? 1e-6;
  const wrt = opts.wrt ?? graph.params.filter((p) => p.attrs.trainable).map((p) => p.attrs.name);
  const analytic = evaluate(gradients(graph, { loss: opts.loss, wrt }), feeds).outputs;
  const fdGraph = opts.fdGraph ?? graph;
  const lossAt = (f: Feeds) => evaluate(fdGraph, f).outputs[opts.loss]!.data.reduce((a, v) => a + v, 0);

  let maxError = 0, checked = 0;
  let worst: GradCheckResult['worst'];
  for (const name of wrt) {
    const base = Float64Array.from(feeds[name]!);
    const g = analytic[gradName(name)]!.data;
    const stride = Math.max(1, Math.ceil(base.length / (opts.maxEntries ?? Infinity)));
    for (let i = 0; i < base.length; i += stride) {
      const plus = base.slice(), minus = base.slice();
      plus[i]! += h;
      minus[i]! -= h;
      const fd = (lossAt({ ...feeds, [name]: plus }) - lossAt({ ...feeds, [name]: minus })) / (2 * h);
      const err = Math.abs(g[i]! - fd) / (1 + Math.abs(fd));
      checked++;
      if (err > maxError || worst === undefined) {
        maxError = Math.max(err, maxError);
        worst = { param: name, index: i, autodiff: g[i]!, finiteDiff: fd };
      }
    }
  }
  return { ok: maxError <= tol, checked, maxError, worst };
}
