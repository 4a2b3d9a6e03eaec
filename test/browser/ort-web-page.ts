// Our ONNX export in onnxruntime-web, in headless Chromium: vit-micro + AdaptFormer + FPET (a merge
// block), exported with its weights, run by onnxruntime-web's WebGPU execution provider and its
// WebAssembly backend, each compared with the float64 interpreter on the same feeds. Bundled and
// run by src/frontends/web/chromium.ts (test/runtime/ort-web.test.ts); the result goes to
// window.__result.
import { encodeOnnx, exportOnnx } from '../../src/core/export/onnx.ts';
import { graphInputs, maxRelDiff, referenceOutputs, sessionOf } from '../../src/core/export/verify.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, type ModelSpec } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { loadOrtWeb } from '../../bench/peer/ort-web.ts';
import { rngFrom, uniform } from '../support/random.ts';

const spec: ModelSpec = { vit: VIT_PRESETS['vit-micro'], batch: 2, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [1], ratio: 0.5 } };
const graph = buildModel(spec).graph;
const weights = initialWeights(spec, 3);
// Adapters as after training: their up projections start at zero, which would hide them.
const rng = rngFrom(5);
for (const [name, w] of weights) if (w.every((v) => v === 0)) weights.set(name, Float32Array.from(uniform(rng, w.length, -0.2, 0.2)));
const size = spec.vit.imageSize;
const images = Float32Array.from(uniform(rng, spec.batch * spec.vit.inChannels * size * size, 0, 1));
const bytes = encodeOnnx(exportOnnx(graph, { weights, outputs: ['logits'] }));
const want = referenceOutputs(graph, ['logits'], { images, ...Object.fromEntries(weights) }).logits!;

const ort = await loadOrtWeb();
const runs: { provider: string; maxRelDiff: number; logits: number }[] = [];
for (const provider of ['webgpu', 'wasm'] as const) {
  const model = await sessionOf(ort, bytes, graphInputs(graph), { provider });
  const got = (await model.run({ images })).logits!;
  runs.push({ provider, maxRelDiff: maxRelDiff(got, want).rel, logits: got.length });
  await model.release();
}
Object.assign(window, { __result: { version: ort.env.versions.web ?? ort.env.versions.common, runs, expected: want.length } });
