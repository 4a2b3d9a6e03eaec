// Composite layers written with the primitive ops. The code generator recognises and fuses the
// patterns they produce (row reductions with their elementwise neighbours, attention), so they
// need no op of their own.

import type { Tensor } from './graph.ts';

/**
 * timm/PyTorch Linear: x @ weightᵀ + bias, weight [out, in]. Leading axes are flattened into the
 * matmul's rows, so the weight gradient is one matmul over all tokens (not a batch of per-image
 * products summed afterwards).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const rows = x.reshape([-1, x.dim(-1)]).matmul(weight.transpose());
  const y = x.rank === 2 ? rows : rows.reshape([...x.shape.slice(0, -1), weight.dim(0)]);
  return bias ? y.add(bias) : y;
}

/** LayerNorm over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-6): Tensor {
  const xc = x.sub(x.mean(-1));
  const inv = xc.square().mean(-1).add(eps).rsqrt();
  return xc.mul(inv).mul(weight).add(bias);
}

/** Softmax along `axis`; the max is subtracted for range and carries no gradient (it cancels). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = x.sub(x.max(axis).stopGradient()).exp();
  return e.div(e.sum(axis));
}

/** log(softmax(x)) along `axis`, computed stably (the max subtracted, carrying no gradient). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const z = x.sub(x.max(axis).stopGradient());
  return z.sub(z.exp().sum(axis).log());
}

/** Exact (erf) GELU, as timm's nn.GELU. */
export function gelu(x: Tensor): Tensor {
  return x.mul(x.mul(Math.SQRT1_2).erf().add(1)).mul(0.5);
}

/** Mean cross-entropy of logits [B, C] against one-hot targets [B, C]. */
export function crossEntropy(logits: Tensor, oneHot: Tensor): Tensor {
  return logSoftmax(logits).mul(oneHot).sumAll().mul(-1 / logits.dim(0));
}
