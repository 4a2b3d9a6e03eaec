// ort: ONNX Runtime as a peer, with two execution providers. The same models are exported to ONNX
// (src/core/export/onnx.ts) and run by onnxruntime-node — its WebGPU execution provider (the one
// onnxruntime-web runs in browsers and transformers.js builds on; here on its own Dawn device over
// the same Vulkan driver as ours) and its CPU execution provider (all graph optimisations, its
// default thread pool) — and by our WebGPU executor, in the same process and run:
// - ViT-Ti/16 at 224×224, batch 1, random weights (randomVitWeights, seed 11, as the peer suite);
// - the main job's model: the shipped vit-mnist backbone + AdaptFormer + FPET (block 3, ratio
//   0.5), batch 16 and 100 (quick: 16 only), with deterministic non-zero adapters.
// One step is one whole forward with the images going in and the logits coming back (ours:
// write images + submit + read the logits; ORT: session.run), timed with performance.now()
// around each awaited step in alternating rounds (A B C, C B A, ...) and compared by medians; a
// step takes seconds on a software adapter, too long for benchmark.js's calibration, so the
// sample counts are fixed here. The logits are compared (max |Δ| / max(1, |logit|)).
//
// On a software adapter both WebGPU executors and ORT's CPU EP run on the same CPU cores: ours and
// ORT's WebGPU EP through WGSL on lavapipe, ORT's CPU EP through hand-tuned MLAS kernels.
//
// In a browser (`--runtime browser`) the peer is onnxruntime-web (bench/peer/ort-web.ts) in the
// same page as ours: its WebGPU execution provider — what transformers.js runs — on the page's
// WebGPU adapter (SwiftShader here), and its WebAssembly CPU backend (one thread: the page is not
// cross-origin isolated). The shipped backbone is fetched from the harness there.

import { compileGraph } from '../../codegen/compile.ts';
import { exportOnnx, encodeOnnx } from '../../src/core/export/onnx.ts';
import { graphInputs, loadOrt, maxRelDiff, sessionOf, type OrtApi, type OrtModel } from '../../src/core/export/verify.ts';
import type { Graph } from '../../src/core/ir/graph.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, modelParamShapes, type ModelSpec } from '../../src/fpet/models/model.ts';
import { randomVitWeights, VIT_PRESETS, type VitConfig } from '../../src/fpet/models/vit.ts';
import { Program } from '../../src/core/runtime/program.ts';
import { decodeBackbone, SHIPPED_BACKBONE } from '../../src/fpet/train/model-files.ts';
import { nodeFs, nodeImport } from '../../src/core/util/node-import.ts';
import { barChart } from '../../src/core/util/svg.ts';
import { fmtErr, fmtMs, gpuErrors, randomArray, summarize, type Suite, type SuiteContext, type SuiteResult, type Table, type Timing } from '../common.ts';
import { isSoftwareAdapter, logitsGraph } from './inference.ts';
import { vitGraph } from './memory.ts';
import { loadOrtWeb } from '../peer/ort-web.ts';

/** Where the suite runs: ONNX Runtime's Node package, or onnxruntime-web in a browser page. */
const inBrowser = (): boolean => typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** The shipped backbone's bytes: read from the repository, or fetched from the harness in a browser (bench/run.ts serves it). */
async function shippedBackboneBytes(): Promise<Uint8Array> {
  if (!inBrowser()) return new Uint8Array(await (await nodeFs()).readFile(SHIPPED_BACKBONE));
  const res = await fetch(`/${SHIPPED_BACKBONE}`);
  if (!res.ok) throw new Error(`fetching /${SHIPPED_BACKBONE} from the harness: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function logicalCpus(): Promise<number | string> {
  if (inBrowser()) return globalThis.navigator?.hardwareConcurrency ?? '?';
  return (await nodeImport<typeof import('node:os')>('node:os')).cpus().length;
}

interface OrtCase {
  readonly model: string;
  readonly batch: number;
  readonly graph: Graph;
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly images: Float32Array;
  readonly note: string;
}

/** Deterministic trained-looking adapters: the up projections are not zero (as after training). */
function activeAdapters(spec: ModelSpec, weights: Map<string, Float32Array>, seed: number): void {
  let s = seed;
  for (const [name, shape] of modelParamShapes(spec)) {
    if (!name.includes('adapter') || !name.endsWith('.up.weight')) continue;
    const bound = 1 / Math.sqrt(shape[1]!);
    weights.set(name, randomArray(shape[0]! * shape[1]!, ++s, -bound, bound));
  }
}

async function cases(ctx: SuiteContext): Promise<OrtCase[]> {
  const ti: VitConfig = VIT_PRESETS['vit-ti16'];
  const tiWeights = randomVitWeights(ti, 11);
  const mainCase = async (batch: number): Promise<OrtCase> => {
    const spec: ModelSpec = { vit: VIT_PRESETS['vit-mnist'], batch, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [3], ratio: 0.5 } };
    const backbone = decodeBackbone(await shippedBackboneBytes(), spec.vit, SHIPPED_BACKBONE);
    const weights = initialWeights(spec, 0, backbone);
    activeAdapters(spec, weights, 500);
    return {
      model: 'main job: vit-mnist + AdaptFormer + FPET', batch, graph: logitsGraph(buildModel(spec).graph), weights,
      images: randomArray(batch * 28 * 28, 13, 0, 1), note: `shipped backbone (${SHIPPED_BACKBONE}), AdaptFormer dim 8, FPET at block 3 ratio 0.5, 28×28`,
    };
  };
  return [
    {
      model: 'ViT-Ti/16', batch: 1, graph: vitGraph(ti, 1, 'inference').graph, weights: tiWeights,
      images: randomArray(3 * 224 * 224, 12, 0, 1), note: 'random weights (randomVitWeights seed 11), 224×224',
    },
    await mainCase(16),
    ...(ctx.quick ? [] : [await mainCase(100)]),
  ];
}

/** The ONNX Runtime execution providers compared: the WebGPU one (what onnxruntime-web and transformers.js run) and a CPU one. */
const PROVIDERS = [
  { provider: 'webgpu', label: 'ONNX Runtime (WebGPU EP)', runtime: 'any' },
  { provider: 'cpu', label: 'ONNX Runtime (CPU)', runtime: 'node' },
  { provider: 'wasm', label: 'ONNX Runtime (WebAssembly, 1 thread)', runtime: 'browser' },
] as const;
type Provider = (typeof PROVIDERS)[number]['provider'];

/** The providers of this runtime, with the package that runs them. */
async function peers(): Promise<{ ort: OrtApi; version: string; providers: (typeof PROVIDERS)[number][] }> {
  const browser = inBrowser();
  const providers = PROVIDERS.filter((p) => p.runtime === 'any' || p.runtime === (browser ? 'browser' : 'node'));
  if (browser) {
    const ort = await loadOrtWeb();
    return { ort, version: `onnxruntime-web ${ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown'}`, providers };
  }
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) throw new Error('the ort suite runs in Node (onnxruntime-node) and in browsers (onnxruntime-web), not in Deno');
  const ort = await loadOrt();
  return { ort, version: `onnxruntime-node ${ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown'}`, providers };
}

/** One ONNX Runtime execution provider's result on a case. */
interface OrtRun {
  readonly provider: Provider;
  readonly timing?: Timing;
  /** ours ÷ ORT median time (below 1: we are faster). */
  readonly ratio?: number;
  /** max |ours − ORT| / max(1, |ORT|) over the logits, and the absolute difference. */
  readonly maxLogitDiff?: number;
  readonly maxAbsLogitDiff?: number;
  /** The provider's first run (session warm-up: its shaders compile there), ms. */
  readonly firstMs?: number;
  /** Why it has no result (the provider is missing on this machine, or the session failed). */
  readonly unavailable?: string;
}

interface Measured {
  readonly model: string;
  readonly batch: number;
  readonly note: string;
  readonly onnxBytes: number;
  readonly onnxNodes: number;
  readonly exportMs: number;
  readonly ours: Timing;
  readonly ort: readonly OrtRun[];
  /** Our first step (includes the pipelines' first-dispatch compilation), ms. */
  readonly oursFirstMs: number;
}

interface Sampling {
  readonly rounds: number;
  /** Steps per round per variant at least, and the time a round keeps sampling a variant. */
  readonly minSteps: number;
  readonly minSeconds: number;
}

/** Alternating rounds over async steps; per-step times (s) pooled per variant. */
async function timeAlternating(variants: readonly { name: string; step: () => Promise<unknown>; sampling: Sampling }[], rounds: number): Promise<Timing[]> {
  const samples = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const v = variants[i]!;
      const start = performance.now();
      let n = 0;
      while (n < v.sampling.minSteps || performance.now() - start < v.sampling.minSeconds * 1e3) {
        const t = performance.now();
        await v.step();
        samples[i]!.push((performance.now() - t) / 1e3);
        n++;
      }
    }
  }
  return variants.map((v, i) => summarize(v.name, samples[i]!, samples[i]!.length));
}

async function measure(ctx: SuiteContext, c: OrtCase, peer: Awaited<ReturnType<typeof peers>>, problems: string[]): Promise<Measured> {
  const gpu = ctx.gpu!;
  const t0 = performance.now();
  const proto = exportOnnx(c.graph, { weights: c.weights, outputs: ['logits'] });
  const bytes = encodeOnnx(proto);
  const exportMs = performance.now() - t0;
  const exe = await Program.create(gpu, compileGraph(c.graph, { limits: ctx.limits }));
  const sessions: { provider: Provider; model: OrtModel; firstMs: number; d: ReturnType<typeof maxRelDiff> }[] = [];
  const missing: OrtRun[] = [];
  try {
    exe.write(Object.fromEntries(c.weights));
    const feeds = { images: c.images };
    const f0 = performance.now();
    const ours = (await exe.execute(feeds, ['logits'])).logits as Float32Array;
    const oursFirstMs = performance.now() - f0;
    for (const { provider, label } of peer.providers) {
      try {
        const model = await sessionOf(peer.ort, bytes, graphInputs(c.graph), { provider });
        const r0 = performance.now();
        const theirs = (await model.run(feeds)).logits as Float32Array;
        const firstMs = performance.now() - r0;
        const d = maxRelDiff(ours, theirs);
        sessions.push({ provider, model, firstMs, d });
        if (!(d.rel <= 1e-4)) problems.push(`${c.model} b${c.batch}: our logits differ from ${label}'s by ${d.rel.toExponential(2)} (relative to max(1, |logit|); allowed 1e-4)`);
      } catch (e) {
        missing.push({ provider, unavailable: (e instanceof Error ? e.message : String(e)).split('\n')[0]! });
      }
    }
    const software = isSoftwareAdapter(gpu);
    // Ours: seconds per step on a software adapter. ORT's CPU EP: milliseconds, so it gets more samples.
    const oursSampling: Sampling = ctx.quick ? { rounds: 2, minSteps: 1, minSeconds: 0 } : { rounds: 3, minSteps: software ? 2 : 5, minSeconds: software ? 0 : 1 };
    const ortSampling = (p: Provider): Sampling => (p !== 'cpu' ? oursSampling : { rounds: oursSampling.rounds, minSteps: ctx.quick ? 5 : 10, minSeconds: ctx.quick ? 0.25 : 1 });
    const [to, ...tr] = await timeAlternating([
      { name: `ours ${c.model} b${c.batch}`, step: () => exe.execute(feeds, ['logits']), sampling: oursSampling },
      ...sessions.map((s) => ({ name: `ORT ${s.provider} ${c.model} b${c.batch}`, step: () => s.model.run(feeds), sampling: ortSampling(s.provider) })),
    ], oursSampling.rounds) as [Timing, ...Timing[]];
    const ort: OrtRun[] = peer.providers.map(({ provider }) => {
      const i = sessions.findIndex((s) => s.provider === provider);
      if (i < 0) return missing.find((m) => m.provider === provider)!;
      const s = sessions[i]!, timing = tr[i]!;
      return { provider, timing, ratio: to.medianMs / timing.medianMs, maxLogitDiff: s.d.rel, maxAbsLogitDiff: s.d.abs, firstMs: s.firstMs };
    });
    return { model: c.model, batch: c.batch, note: c.note, onnxBytes: bytes.length, onnxNodes: proto.graph!.node!.length, exportMs, ours: to, ort, oursFirstMs };
  } finally {
    exe.destroy();
    for (const s of sessions) await s.model.release();
  }
}

export const ortSuite: Suite = {
  name: 'ort',
  description: 'ONNX Runtime (WebGPU and CPU execution providers; onnxruntime-web under --runtime browser) as a peer: the same exported ViT-Ti/16 (batch 1) and the main job\'s model (vit-mnist + AdaptFormer + FPET, batch 16 and 100; quick: 16), ours vs ORT in alternating rounds; ms, img/s, ratio, logit difference',
  needsGpu: true,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const problems: string[] = [];
    let peer: Awaited<ReturnType<typeof peers>>;
    try {
      peer = await peers();
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
      return { tables: [], charts: [], data: { error: problems[0] }, problems };
    }
    const list = await cases(ctx);
    const bar = ctx.progress('ort', list.length, 'model');
    const results: Measured[] = [];
    for (const c of list) {
      try {
        const m = await measure(ctx, c, peer, problems);
        results.push(m);
        const runs = m.ort.map((o) => (o.timing ? `ORT ${o.provider} ${fmtMs(o.timing.medianMs)} ms (ours/ORT ×${o.ratio!.toFixed(2)}, logit diff ${fmtErr(o.maxLogitDiff!)})` : `ORT ${o.provider} unavailable`));
        ctx.log(`  ${m.model} b${m.batch}: ours ${fmtMs(m.ours.medianMs)} ms, ${runs.join(', ')}`);
      } catch (e) {
        problems.push(`${c.model}: ${e instanceof Error ? e.message : String(e)}`);
      }
      problems.push(...gpuErrors(ctx.gpu, `ort ${c.model}`));
      bar.tick(1, c.model);
    }
    bar.done();
    const software = isSoftwareAdapter(ctx.gpu);
    const ips = (t: Timing, batch: number) => Number((batch / (t.medianMs / 1e3)).toFixed(1));
    const label = (p: Provider) => PROVIDERS.find((x) => x.provider === p)!.label;
    const cpus = await logicalCpus();
    const tables: Table[] = results.length ? [{
      title: `ort: ${peer.version} (${peer.providers.map((p) => p.provider).join(' and ')} execution providers) vs ours (WebGPU executor), same exported models, same run (median time per forward, images in and logits out)`,
      columns: ['model', 'batch', 'runtime', 'ms', '±%', 'img/s', 'samples', 'first run s', 'ours/ORT time', 'max logit diff'],
      rows: results.flatMap((m) => [
        [m.model, m.batch, 'ours (WebGPU executor)', Number(fmtMs(m.ours.medianMs)), Math.round(m.ours.rmePct), ips(m.ours, m.batch), m.ours.sampleMs.length, Number((m.oursFirstMs / 1e3).toFixed(1)), 1, '–'],
        ...m.ort.map((o) => (o.timing
          ? [m.model, m.batch, label(o.provider), Number(fmtMs(o.timing.medianMs)), Math.round(o.timing.rmePct), ips(o.timing, m.batch), o.timing.sampleMs.length, Number((o.firstMs! / 1e3).toFixed(1)), Number(o.ratio!.toFixed(3)), fmtErr(o.maxLogitDiff!)]
          : [m.model, m.batch, `${label(o.provider)}: unavailable (${o.unavailable})`, null, null, null, null, null, null, null])),
      ]),
      notes: [
        ...results.map((m) => `${m.model}: ${m.note}; ONNX model ${(m.onnxBytes / 2 ** 20).toFixed(2)} MiB, ${m.onnxNodes} nodes, exported in ${m.exportMs.toFixed(0)} ms. First run: the first forward (ours: pipelines compile at first dispatch; ORT: its kernels compile at its first run). Logit difference: max |ours − ORT| / max(1, |ORT|).`),
        inBrowser()
          ? `onnxruntime-web in the same page as ours: graph optimisation level "all"; its WebGPU EP (the C++ WebGPU EP built to WebAssembly, what transformers.js runs) on the page's WebGPU adapter (${software ? 'a software one: both run on the CPU cores' : 'the GPU'}), nodes it does not implement on its WebAssembly backend; that backend alone as the CPU peer, one thread (the page is not cross-origin isolated; ${cpus} logical CPUs). Samples: performance.now() around each awaited step, alternating rounds.`
          : `ONNX Runtime: graph optimisation level "all". WebGPU EP: onnxruntime-node's, on its own Dawn device over the same Vulkan driver as ours (${software ? 'a software adapter: both run on the CPU cores' : 'the GPU'}); it is the execution provider onnxruntime-web runs in browsers (transformers.js builds on it); nodes it does not implement fall back to ORT's CPU EP. CPU EP: default intra-op thread pool (${cpus} logical CPUs here)${software ? ', the same cores as the software adapter' : ''}. Samples: performance.now() around each awaited step, alternating rounds.`,
      ],
    }] : [];
    const groups = results.map((m) => ({
      label: `${m.model} b${m.batch} (ms)`,
      bars: [{ name: 'ours', value: m.ours.medianMs }, ...m.ort.filter((o) => o.timing).map((o) => ({ name: label(o.provider), value: o.timing!.medianMs }))],
    }));
    return {
      tables,
      charts: groups.length ? [{ file: 'ort.svg', svg: barChart({ title: 'Ours vs ONNX Runtime (WebGPU and CPU EPs), same exported model: time per forward (lower is better)', yLabel: 'ms (median)', groups }) }] : [],
      data: { version: peer.version, runtime: inBrowser() ? 'browser' : 'node', results },
      problems,
    };
  },
};
