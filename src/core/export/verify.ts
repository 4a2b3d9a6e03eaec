// Running an exported ONNX model in ONNX Runtime (onnxruntime-node, CPU execution provider) and
// comparing it with the float64 reference interpreter. onnxruntime-node is a development
// dependency: it is imported only when a check runs, and a missing package is a clear error.

import type * as Ort from 'onnxruntime-node';
import { pruneToOutputs, type Graph } from '../ir/graph.ts';
import { evaluate, type Feeds } from '../ir/interpret.ts';
import { fmtShape, numel } from '../ir/shape.ts';

export type OrtModule = typeof Ort;
/** What a session needs of an ONNX Runtime package: onnxruntime-node, or onnxruntime-web in a browser (both onnxruntime-common's API). */
export type OrtApi = Pick<OrtModule, 'InferenceSession' | 'Tensor'>;

let cached: Promise<OrtModule> | undefined;

/** onnxruntime-node, loaded on first use. */
export function loadOrt(): Promise<OrtModule> {
  // A variable specifier: bundles for browsers and Deno never follow it.
  const specifier = 'onnxruntime-node';
  cached ??= (import(specifier) as Promise<OrtModule & { default?: OrtModule }>).then(
    (m) => (m.InferenceSession ? m : m.default!),
    (e: unknown) => {
      cached = undefined;
      throw new Error(`ONNX Runtime is not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): it is a development dependency (onnxruntime-node); run npm ci without --omit=dev`);
    },
  );
  return cached;
}

export interface OrtOptions {
  /** Intra-op threads (default: ONNX Runtime's, one per physical core). */
  readonly threads?: number;
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Execution provider: 'cpu' (default) or 'webgpu' — ONNX Runtime's WebGPU execution provider
   * (the one onnxruntime-web runs in browsers and transformers.js builds on; in Node it runs on
   * its own Dawn, on this machine's Vulkan adapter); 'wasm': onnxruntime-web's CPU backend (browsers only).
   */
  readonly provider?: 'cpu' | 'webgpu' | 'wasm';
}

export interface OrtModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; feeds are float32 (or int32 for i32 inputs) by input name. */
  run(feeds: Readonly<Record<string, ArrayLike<number>>>): Promise<Record<string, Float32Array | Int32Array>>;
  release(): Promise<void>;
}

/** An ONNX Runtime session (CPU unless `opts.provider` says otherwise) for model bytes; `inputs` gives each input's shape and dtype. */
export async function ortSession(bytes: Uint8Array, inputs: ReadonlyMap<string, { shape: readonly number[]; dtype: 'f32' | 'i32' | 'u32' }>, opts: OrtOptions = {}): Promise<OrtModel> {
  return sessionOf(await loadOrt(), bytes, inputs, opts);
}

/** ortSession with the package given: onnxruntime-node, or onnxruntime-web where the page loaded it. */
export async function sessionOf(ort: OrtApi, bytes: Uint8Array, inputs: ReadonlyMap<string, { shape: readonly number[]; dtype: 'f32' | 'i32' | 'u32' }>, opts: OrtOptions = {}): Promise<OrtModel> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [opts.provider ?? 'cpu'],
    graphOptimizationLevel: opts.optimization ?? 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const tensors: Record<string, Ort.Tensor> = {};
      for (const name of session.inputNames) {
        const spec = inputs.get(name);
        const data = feeds[name];
        if (!spec) throw new Error(`ONNX Runtime: no shape known for model input "${name}"`);
        if (!data) throw new Error(`ONNX Runtime: model input "${name}" ${spec.dtype}${fmtShape(spec.shape)} was not fed`);
        if (data.length !== numel(spec.shape)) throw new Error(`ONNX Runtime: input "${name}" needs ${numel(spec.shape)} values for ${fmtShape(spec.shape)}, got ${data.length}`);
        tensors[name] = spec.dtype === 'f32'
          ? new ort.Tensor('float32', data instanceof Float32Array ? data : Float32Array.from(data), [...spec.shape])
          : spec.dtype === 'i32'
            ? new ort.Tensor('int32', data instanceof Int32Array ? data : Int32Array.from(data), [...spec.shape])
            : new ort.Tensor('uint32', Uint32Array.from(data), [...spec.shape]);
      }
      const out = await session.run(tensors);
      const res: Record<string, Float32Array | Int32Array> = {};
      for (const [k, t] of Object.entries(out)) {
        const d = t.data;
        res[k] = d instanceof Float32Array || d instanceof Int32Array ? d : Float32Array.from(d as ArrayLike<number>);
      }
      return res;
    },
    release: () => session.release(),
  };
}

/** The input shapes of a graph's inputs, for ortSession. */
export function graphInputs(graph: Graph): Map<string, { shape: readonly number[]; dtype: 'f32' | 'i32' | 'u32' }> {
  return new Map(graph.inputs.map((n) => [n.attrs.name, { shape: n.type.shape, dtype: n.type.dtype }]));
}

/**
 * Largest |got − want| / max(1, |want|) over the elements (per element: the 1e-4 criterion of
 * the tests), with where it happened. Infinity when lengths differ or a value is not finite.
 */
export function maxRelDiff(got: ArrayLike<number>, want: ArrayLike<number>): { rel: number; abs: number; at: number } {
  if (got.length !== want.length) return { rel: Infinity, abs: Infinity, at: -1 };
  let rel = 0, abs = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    const r = e / Math.max(1, Math.abs(want[i]!));
    if (!(r <= rel)) [rel, at] = [Number.isNaN(r) ? Infinity : r, i];
    if (!(e <= abs)) abs = Number.isNaN(e) ? Infinity : e;
  }
  return { rel, abs, at };
}

/** The float64 reference of the named outputs only (inputs the outputs do not need need no feed). */
export function referenceOutputs(graph: Graph, outputs: readonly string[], feeds: Feeds): Record<string, Float64Array> {
  const pruned = pruneToOutputs(graph.nodes, new Map(outputs.map((o) => [o, graph.output(o).id])));
  const r = evaluate(pruned, feeds).outputs;
  return Object.fromEntries(outputs.map((o) => [o, r[o]!.data]));
}

export interface VerifyResult {
  /** Per output: largest relative difference (see maxRelDiff) and absolute difference. */
  readonly outputs: Record<string, { rel: number; abs: number; at: number }>;
  readonly ort: Record<string, Float32Array | Int32Array>;
  readonly reference: Record<string, Float64Array>;
}

/**
 * Runs the exported bytes in ONNX Runtime and the graph in the float64 interpreter on the same
 * feeds (graph inputs + parameters by name) and compares the exported outputs.
 */
export async function verifyAgainstReference(graph: Graph, bytes: Uint8Array, outputs: readonly string[], feeds: Feeds, opts: OrtOptions = {}): Promise<VerifyResult> {
  const model = await ortSession(bytes, graphInputs(graph), opts);
  try {
    const ort = await model.run(Object.fromEntries(model.inputNames.map((n) => [n, feeds[n]!])));
    const reference = referenceOutputs(graph, outputs, feeds);
    const res: VerifyResult['outputs'] = {};
    for (const o of outputs) {
      if (!ort[o]) throw new Error(`ONNX Runtime returned no output "${o}" (it returned ${Object.keys(ort).join(', ')})`);
      res[o] = maxRelDiff(ort[o]!, reference[o]!);
    }
    return { outputs: res, ort, reference };
  } finally {
    await model.release();
  }
}
