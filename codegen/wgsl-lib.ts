// WGSL helper functions that generated kernels call, defined once with TypeGPU and linked into a
// kernel only when its code uses them (tgpu.resolve pulls in each function and its dependencies).

import tgpu from 'typegpu';
import * as d from 'typegpu/data';

// erf with |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26): below f32 resolution of GELU's output.
const erf = tgpu.fn([d.f32], d.f32)`(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}`.$name('erf_f32');

// Sigmoid without overflow: exp of a non-positive argument only (no infinities on any adapter).
const sigmoid = tgpu.fn([d.f32], d.f32)`(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`.$name('sigmoid_f32');

// tanh via exp of a non-positive argument: some drivers' tanh returns NaN for large |x|.
const tanh = tgpu.fn([d.f32], d.f32)`(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}`.$name('tanh_f32');

// Counter-based random numbers, bit-identical to pcgHash/randKey/randUniform in src/core/ir/ops.ts.
const pcg = tgpu.fn([d.u32], d.u32)`(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}`.$name('pcg_hash');

const rand = tgpu.fn([d.u32, d.i32, d.i32, d.u32], d.f32)`(index: u32, seed: i32, counter: i32, stream: u32) -> f32 {
  let key = pcg(bitcast<u32>(seed) ^ pcg(bitcast<u32>(counter) ^ pcg(stream)));
  return f32(pcg(index ^ key) >> 8u) / 16777216.0;
}`.$uses({ pcg }).$name('rand_uniform');

export const WGSL_HELPERS = { erf, sigmoid, tanh, rand } as const;
export type WgslHelper = keyof typeof WGSL_HELPERS;

/** Call syntax of a helper inside a template; resolved to the linked function's name by `linkKernel`. */
export const helperCall = (h: WgslHelper, arg: string): string => `${h}(${arg})`;

/** Resolves a kernel template: links the helpers it uses and returns complete WGSL. */
export function linkKernel(template: string, helpers: ReadonlySet<WgslHelper>): string {
  if (helpers.size === 0) return template;
  const externals = Object.fromEntries([...helpers].map((h) => [h, WGSL_HELPERS[h]]));
  // The resolver puts the helpers right before the template: start it on a line of its own.
  return tgpu.resolve({ template: `\n${template}`, externals });
}
