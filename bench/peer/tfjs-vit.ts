// The peer model of the `peer` benchmark suite: the same ViT forward as src/fpet/models/vit.ts (timm
// layout: patch-embedding matmul, pre-norm blocks with qkv, softmax attention, proj, exact-GELU
// MLP, final LayerNorm, class token, head), written with TensorFlow.js ops for its `webgpu`
// backend, on the same GPUDevice our executor uses (so: same runtime, same adapter, same queue).
//
// How tfjs gets a GPU here: WebGPUBackend's constructor only checks that `navigator.gpu` exists
// (webgpu_util.isWebGPUSupported), and the factory tfjs registers at import time would ask
// navigator.gpu for an adapter and create a second device. We instead register a factory that
// wraps the GpuContext from src/core/runtime/device.ts (its adapter and device). In Node, where there
// is no `navigator.gpu` (Node 20 has no `navigator` at all), we install a minimal GPU object whose
// requestAdapter() returns that same adapter: no second Dawn instance is created, and the Dawn GPU
// object that owns the adapter stays referenced for the life of the process by device.ts (see the
// comment above `defaultInstance` there and test/runtime/dawn-hot-js-regression.test.ts).
//
// tfjs is imported dynamically, so suites that do not compare with it never load it.

import type * as TfCore from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GpuContext } from '../../src/core/runtime/device.ts';
import { vitParamShapes, type VitConfig } from '../../src/fpet/models/vit.ts';

export type Tf = typeof TfCore;

export interface TfjsRuntime {
  readonly tf: Tf;
  readonly backend: WebGPUBackend;
  /** tfjs-core's version (tfjs-backend-webgpu is released in lockstep with it). */
  readonly version: string;
  /** How navigator.gpu was provided ('native' in browsers and Deno, 'project adapter' in Node). */
  readonly navigatorGpu: 'native' | 'project adapter';
}

let runtime: Promise<TfjsRuntime> | undefined;

/**
 * Loads tfjs-core and tfjs-backend-webgpu and makes `webgpu` (on ctx's device) the active backend.
 * Idempotent per process; the first GpuContext wins.
 */
export function loadTfjsWebgpu(ctx: GpuContext): Promise<TfjsRuntime> {
  runtime ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    let navigatorGpu: TfjsRuntime['navigatorGpu'] = 'native';
    if (!g.navigator?.gpu) {
      // A stand-in for navigator.gpu that hands out the project's adapter (never a new instance).
      const gpu = {
        requestAdapter: async () => ctx.adapter,
        getPreferredCanvasFormat: () => 'rgba8unorm',
        wgslLanguageFeatures: new Set<string>(),
      };
      if (g.navigator) {
        Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      } else {
        Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      }
      navigatorGpu = 'project adapter';
    }
    // Deno has a Node-compatible `process`, so tfjs-core would pick its Node platform at import
    // time (require('util').TextEncoder: "this.util.TextEncoder is not a constructor" in a
    // bundle). Hide `process` while tfjs loads, then give it a platform made of web APIs.
    const deno = typeof (globalThis as { Deno?: unknown }).Deno === 'object';
    const processDescriptor = deno ? Object.getOwnPropertyDescriptor(globalThis, 'process') : undefined;
    if (processDescriptor) Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    let tf: Tf, webgpu: typeof import('@tensorflow/tfjs-backend-webgpu');
    try {
      tf = await import('@tensorflow/tfjs-core');
      webgpu = await import('@tensorflow/tfjs-backend-webgpu');
    } finally {
      if (processDescriptor) Object.defineProperty(globalThis, 'process', processDescriptor);
    }
    if (deno) {
      tf.setPlatform('deno', {
        fetch: (path, init) => fetch(path, init),
        now: () => performance.now(),
        encode: (text) => new TextEncoder().encode(text),
        decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
        isTypedArray: (a): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray =>
          a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray,
      });
    }
    // Replace the factory registered at import time (if navigator.gpu existed then): it would
    // create a second device.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    const info = ctx.adapter.info;
    tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(ctx.device, info), 3);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend("webgpu") failed (see the messages above)');
    await tf.ready();
    const backend = tf.backend() as unknown as WebGPUBackend;
    return {
      tf,
      backend,
      version: tf.version_core,
      navigatorGpu,
    };
  })();
  return runtime;
}

export interface TfjsVit {
  /** logits [B, classes] for images [B, C, H, W]; call inside tf.tidy. */
  forward(images: TfCore.Tensor4D): TfCore.Tensor2D;
  /** Runs forward on `images`, submits every recorded dispatch and keeps only the result. */
  step(images: TfCore.Tensor4D): void;
  /** The logits of the last step (or of a fresh forward when none ran). */
  logits(images: TfCore.Tensor4D): Promise<Float32Array>;
  dispose(): void;
}

/**
 * The ViT of src/fpet/models/vit.ts in tfjs ops, on `weights` in timm names (as randomVitWeights makes).
 * Linear layers are tf.fused.matMul(x, W, transposeB, +bias) on the [out, in] weights as stored, the
 * idiomatic tfjs form (one _FusedMatMul kernel with the bias epilogue); LayerNorm is tf.moments then
 * the affine map (tfjs-core has no layer-norm op); GELU is the exact 0.5·x·(1 + erf(x/√2)).
 */
export function tfjsVit(rt: TfjsRuntime, c: VitConfig, weights: ReadonlyMap<string, Float32Array>): TfjsVit {
  const { tf } = rt;
  const shapes = vitParamShapes(c);
  const W = new Map<string, TfCore.Tensor>();
  for (const [name, shape] of shapes) {
    const v = weights.get(name);
    if (!v) throw new Error(`tfjs ViT: no weight "${name}"`);
    W.set(name, tf.keep(tf.tensor(v, shape, 'float32')));
  }
  const P = (name: string) => W.get(name)!;
  const D = c.dim, g = c.imageSize / c.patchSize, p = c.patchSize, heads = c.heads, hd = D / heads;
  const patchW = tf.keep(tf.reshape(P('patch_embed.proj.weight'), [D, c.inChannels * p * p])) as TfCore.Tensor2D;

  // Functional ops only: tfjs-core alone does not register the chained Tensor methods
  // (x.reshape(...)); the @tensorflow/tfjs union package does.
  const linear = (x2d: TfCore.Tensor2D, name: string, w = P(`${name}.weight`) as TfCore.Tensor2D): TfCore.Tensor2D =>
    tf.fused.matMul({ a: x2d, b: w, transposeB: true, bias: P(`${name}.bias`) }) as TfCore.Tensor2D;
  const layerNorm = (x: TfCore.Tensor2D, name: string): TfCore.Tensor2D => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-6))), P(`${name}.weight`)), P(`${name}.bias`));
  };
  const gelu = (h: TfCore.Tensor2D): TfCore.Tensor2D => tf.mul(tf.mul(h, tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1)), 0.5);

  function forward(images: TfCore.Tensor4D): TfCore.Tensor2D {
    const B = images.shape[0];
    const patches = tf.reshape(
      tf.transpose(tf.reshape(images, [B, c.inChannels, g, p, g, p]), [0, 2, 4, 1, 3, 5]),
      [B * g * g, c.inChannels * p * p],
    ) as TfCore.Tensor2D;
    const tokens = tf.reshape(linear(patches, 'patch_embed.proj', patchW), [B, g * g, D]);
    const cls = tf.broadcastTo(P('cls_token'), [B, 1, D]);
    const n = g * g + 1;
    let x = tf.reshape(tf.add(tf.concat([cls, tokens], 1), P('pos_embed')), [B * n, D]) as TfCore.Tensor2D;
    for (let i = 0; i < c.depth; i++) {
      const pre = `blocks.${i}`;
      const qkv = tf.transpose(tf.reshape(linear(layerNorm(x, `${pre}.norm1`), `${pre}.attn.qkv`), [B, n, 3, heads, hd]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv, 0) as [TfCore.Tensor4D, TfCore.Tensor4D, TfCore.Tensor4D]; // [B, heads, n, hd]
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)));
      const o = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [B * n, D]) as TfCore.Tensor2D;
      const y = tf.add(x, linear(o, `${pre}.attn.proj`)) as TfCore.Tensor2D;
      x = tf.add(y, linear(gelu(linear(layerNorm(y, `${pre}.norm2`), `${pre}.mlp.fc1`)), `${pre}.mlp.fc2`));
    }
    const normed = tf.reshape(layerNorm(x, 'norm'), [B, n, D]);
    let feat = tf.reshape(tf.slice(normed, [0, 0, 0], [B, 1, D]), [B, D]) as TfCore.Tensor2D;
    if (c.representationSize > 0) feat = tf.tanh(linear(feat, 'pre_logits.fc'));
    return linear(feat, 'head');
  }

  let last: TfCore.Tensor2D | undefined;
  return {
    forward,
    step(images) {
      const y = tf.tidy(() => forward(images));
      last?.dispose();
      last = y;
      // tfjs submits every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches; submit the rest now so
      // that queue.onSubmittedWorkDone() covers the whole forward.
      // (endComputePassEncoder is private in the typings; submitQueue expects the pass ended.)
      (rt.backend as unknown as { endComputePassEncoder(): void }).endComputePassEncoder();
      rt.backend.submitQueue();
    },
    async logits(images) {
      if (!last) this.step(images);
      return Float32Array.from(await last!.data());
    },
    dispose() {
      last?.dispose();
      patchW.dispose();
      for (const t of W.values()) t.dispose();
    },
  };
}
