// onnxruntime-web in a browser page, for the ort suite under `--runtime browser`: its WebGPU
// execution provider (what transformers.js runs on WebGPU; since 1.2x ONNX Runtime's C++ WebGPU EP
// compiled to WebAssembly, the "asyncify" build, rather than the older JSEP one) and its
// WebAssembly CPU backend. The package's "webgpu" bundle carries its JavaScript glue; the
// WebAssembly binary it fetches is served by the bench's harness (bench/run.ts browserAssets).
//
// One thread: without cross-origin isolation (COOP/COEP headers, which the harness page does not
// send) a page has no SharedArrayBuffer, and ONNX Runtime would fall back to one thread anyway.

import type * as OrtWeb from 'onnxruntime-web/webgpu';

/** The URL path the page fetches ONNX Runtime's WebAssembly binary from. */
export const ORT_WEB_WASM_PATH = '/onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm';
/** The file in the package that path serves (relative to its dist/ folder). */
export const ORT_WEB_WASM_FILE = 'ort-wasm-simd-threaded.asyncify.wasm';

let cached: Promise<typeof OrtWeb> | undefined;

/** onnxruntime-web (WebGPU build), configured for this page; loaded on first use. */
export function loadOrtWeb(): Promise<typeof OrtWeb> {
  cached ??= import('onnxruntime-web/webgpu').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = { wasm: new URL(ORT_WEB_WASM_PATH, globalThis.location.href).href };
    return ort;
  });
  return cached;
}
