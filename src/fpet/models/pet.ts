// Parameter-efficient tuning modules as the FPET reference code runs them (docs/method.md, 2):
// bottleneck adapters (AdaptFormer flavour with ReLU, LoRA flavour linear), each full precision or
// 1-bit (QLinear fake quantisation in every forward, with its exact gradient). FPET's adapters are
// bias-free; the original AdaptFormer's have biases (zero-initialised), available with `bias`.

import type { Tensor } from '../../core/ir/graph.ts';

/** Φ⁻¹(0.75): the code value of the 1-bit quantiser for a standard normal. */
export const KAPPA = 0.6744897502;
const QUANT_EPS = 1e-5;

/**
 * 1-bit fake quantisation: W_eff = κ·sign(Ŵ)·σ + μ with Ŵ = (W − μ)/(σ + 1e-5), σ unbiased.
 * Written as (Ŵ + c)·σ + μ with c = stopgrad(κ·sign(Ŵ) − Ŵ), so autodiff yields exactly the
 * reference gradient (docs/method.md, 2.2: straight-through on Ŵ, plus the mean and std terms).
 */
export function quantize1bit(w: Tensor): Tensor {
  const n = w.size;
  const flat = w.reshape([n]);
  const mu = flat.sum(0).mul(1 / n);
  const centered = flat.sub(mu);
  const sigma = centered.square().sum(0).mul(1 / (n - 1)).sqrt();
  const hat = centered.div(sigma.add(QUANT_EPS));
  const c = hat.sign().mul(KAPPA).sub(hat).stopGradient();
  return hat.add(c).mul(sigma).add(mu).reshape([...w.shape]);
}

/** The shape and behaviour of a bottleneck adapter: width, precision, scale, activation, dropout and biases. */
export interface AdapterConfig {
  /** Bottleneck width r_a. */
  readonly dim: number;
  readonly bits: 32 | 1;
  /** Output scale s. */
  readonly scale: number;
  readonly activation: 'relu' | 'identity';
  /** Inverted-dropout probability on the hidden activations (training only). */
  readonly dropout: number;
  /** Biases on both projections (the original AdaptFormer); FPET's reference adapters have none. */
  readonly bias: boolean;
}

/** An adapter's parameter tensors; biases are given exactly when its config has `bias`. */
export interface AdapterParams {
  /** Dn: [dim, in] (PyTorch Linear layout). */
  readonly down: Tensor;
  /** U: [in, dim]. */
  readonly up: Tensor;
  /** [dim] and [in] when the adapter has biases. */
  readonly downBias?: Tensor;
  readonly upBias?: Tensor;
}

/** Shapes of an adapter's parameters for input width `inDim`, by suffix (`down.weight`, ...). */
export function adapterShapes(inDim: number, c: AdapterConfig): Map<string, number[]> {
  const s = new Map<string, number[]>([['down.weight', [c.dim, inDim]], ['up.weight', [inDim, c.dim]]]);
  if (c.bias) {
    s.set('down.bias', [c.dim]);
    s.set('up.bias', [inDim]);
  }
  return s;
}

/**
 * A(z) = s · U · Drop(φ(Dn · z)), bias-free. `dropMask` (same shape as the hidden activations,
 * values 0 or 1/(1−p)) is given in training and omitted at inference.
 */
export function adapter(z: Tensor, p: AdapterParams, c: AdapterConfig, dropMask?: Tensor): Tensor {
  const q = (w: Tensor) => (c.bits === 1 ? quantize1bit(w) : w);
  const rows = z.reshape([-1, z.dim(-1)]);
  let h = rows.matmul(q(p.down).transpose());
  if (p.downBias) h = h.add(p.downBias);
  if (c.activation === 'relu') h = h.relu();
  if (dropMask) h = h.mul(dropMask.reshape([...h.shape]));
  let up = h.matmul(q(p.up).transpose());
  if (p.upBias) up = up.add(p.upBias);
  const out = up.reshape([...z.shape]);
  return c.scale === 1 ? out : out.mul(c.scale);
}

/**
 * Initial adapter weights (docs/method.md, 2.1): Dn uniform ±1/√in (PyTorch's default Linear init); U zero when
 * full precision, truncated normal(0, 1e-3) clipped to ±2e-3 when 1-bit; biases (if any) zero.
 * Returned by suffix, as `adapterShapes`.
 */
export function initAdapter(inDim: number, c: AdapterConfig, rand: () => number): Map<string, Float32Array> {
  const down = Float32Array.from({ length: c.dim * inDim }, () => (rand() * 2 - 1) / Math.sqrt(inDim));
  const up = new Float32Array(inDim * c.dim);
  if (c.bits === 1) {
    for (let i = 0; i < up.length; i++) {
      let v: number;
      do {
        // Box–Muller, rejecting beyond two standard deviations (PyTorch's trunc_normal_ bounds).
        v = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()) * 1e-3;
      } while (Math.abs(v) > 2e-3);
      up[i] = v;
    }
  }
  const out = new Map([['down.weight', down], ['up.weight', up]]);
  if (c.bias) {
    out.set('down.bias', new Float32Array(c.dim));
    out.set('up.bias', new Float32Array(inDim));
  }
  return out;
}
