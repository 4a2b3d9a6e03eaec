// The messages between the page (src/frontends/web/app.ts: drawing and input only) and its GPU
// worker (src/frontends/web/engine/worker.ts: the device, the models, compiling, training,
// inference). The page sends requests and gets one reply each; the worker also sends events
// whenever something changes. Everything here is structured-clone data (typed arrays move).

import type { WebManifest } from './build.ts';
import type { CompileReport, RunSettings } from './trainer.ts';
import type { MergeChoice, VariantId } from './variants.ts';

/** A run's settings: the training loop's, and the data and models it trains. */
export interface Settings extends RunSettings, MergeChoice {
  readonly dataset: string;
  readonly trainSize: number;
  readonly testSize: number;
  readonly evalBatch: number;
  readonly variants: VariantId[];
}

/** The picture both models classify; `id` numbers pictures in order (what the page shows carries it). */
export interface Picture {
  readonly id: number;
  readonly pixels: Float32Array;
  readonly caption: string;
  readonly label?: number;
}

/** What the page asks of the worker. */
export type Request =
  | { readonly kind: 'init'; readonly manifest: WebManifest; readonly dataset: string; readonly merge: MergeChoice; readonly tuneEntries: Record<string, unknown> }
  | { readonly kind: 'dataset'; readonly name: string }
  | { readonly kind: 'held-out'; readonly index?: number }
  | { readonly kind: 'picture'; readonly picture: Picture }
  | { readonly kind: 'start'; readonly settings: Settings }
  | { readonly kind: 'pause' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'merge'; readonly choice: MergeChoice }
  | { readonly kind: 'measure'; readonly evalBatch: number }
  | { readonly kind: 'download'; readonly id: VariantId }
  | { readonly kind: 'upload'; readonly name: string; readonly bytes: Uint8Array }
  | { readonly kind: 'lose-device' }
  | { readonly kind: 'memory'; readonly settled: boolean };

/** The worker's answers, by request kind (requests not listed answer undefined). */
export interface Replies {
  init: { readonly software: boolean };
  dataset: { readonly classes: readonly string[] };
  'held-out': { readonly pixels: Float32Array; readonly label: number; readonly caption: string };
  download: { readonly name: string; readonly bytes: Uint8Array; readonly info: string; readonly cli: string };
  upload: { readonly info: string; readonly merge?: MergeChoice };
  memory: Memory | undefined;
}
export type ReplyOf<K extends Request['kind']> = K extends keyof Replies ? Replies[K] : undefined;

/** Live GPU buffer memory of the worker's device. */
export interface Memory {
  readonly liveBytes: number;
  readonly liveBuffers: number;
  readonly peakBytes: number;
}

/** What the page's buttons and state depend on (document.body.dataset.state is `state`). */
export interface Flags {
  readonly state: string;
  /** A GPU device is there. */
  readonly gpu: boolean;
  /** An exclusive operation (compile, re-specialisation, loading) is queued or running. */
  readonly busy: boolean;
  readonly running: boolean;
  readonly hasRun: boolean;
  readonly paused: boolean;
  /** Something to reset: a run, trained steps or loaded adapters. */
  readonly resettable: boolean;
}

/** Where a variant's current weights come from: what answers when a picture is classified. */
export type Origin = 'shipped' | 'fresh' | 'training' | 'trained' | 'loaded';

/** One variant as the page shows it. */
export interface VariantView {
  readonly id: VariantId;
  readonly label: string;
  readonly origin: Origin;
  /** Says which model answers, e.g. "the main job's trained adapters (models/…): 92.08% on the 10,000 MNIST test images". */
  readonly source: string;
  /** The same, short enough for a table cell ("shipped: main job, 92.08% on MNIST test"). */
  readonly short: string;
  readonly step: number;
  readonly tokens?: readonly number[];
  readonly compile?: { readonly train?: number; readonly infer?: number };
}

/** A compile in progress: kernels compiled of those this program needed, time so far and an estimate of what is left. */
export interface CompileProgress {
  /** Tells concurrent compiles apart (a training step compiled ahead in the background, and an inference model). */
  readonly id: number;
  readonly what: string;
  readonly phase: 'plan' | 'pipelines' | 'first dispatch' | 'done';
  /** Kernels whose pipelines are ready (those already compiled for the device count from the start). */
  readonly done: number;
  /** Kernels this program needs; 0 until the plan is known. */
  readonly total: number;
  readonly elapsedMs: number;
  /** Estimated ms left, when there is a basis for one (earlier compiles or this one's rate). */
  readonly etaMs?: number;
  /** Compiles still queued after this one in the same operation (e.g. the second model). */
  readonly queued?: number;
}

/** What the worker tells the page. */
export type EngineEvent =
  | { readonly kind: 'status'; readonly text: string }
  | { readonly kind: 'banner'; readonly text: string; readonly tone: 'info' | 'error' | 'ok' }
  | { readonly kind: 'flags'; readonly flags: Flags }
  | { readonly kind: 'no-webgpu'; readonly why: string; readonly what: readonly string[] }
  | { readonly kind: 'adapter'; readonly name: string; readonly software: boolean; readonly detail: string }
  | { readonly kind: 'variant'; readonly view: VariantView }
  | { readonly kind: 'compile'; readonly progress: CompileProgress }
  | { readonly kind: 'compiled'; readonly report: CompileReport }
  | { readonly kind: 'run'; readonly epochs: number; readonly batch: number; readonly images: number; readonly dataset: string }
  | { readonly kind: 'step'; readonly id: VariantId; readonly step: number; readonly totalSteps: number; readonly epoch: number; readonly loss?: number; readonly ips: number; readonly meanIps: number }
  | { readonly kind: 'accuracy'; readonly id: VariantId; readonly step: number; readonly accuracy: number; readonly images: number; readonly epochEnd: boolean }
  | { readonly kind: 'evaluating'; readonly id: VariantId; readonly done: number; readonly total: number }
  | { readonly kind: 'run-end'; readonly id: VariantId; readonly finished: boolean; readonly step: number; readonly error?: string }
  | { readonly kind: 'curves-cleared' }
  | { readonly kind: 'prediction'; readonly id: VariantId; readonly pictureId: number; readonly ms: number; readonly top: readonly { readonly label: number; readonly name: string; readonly probability: number }[] }
  | { readonly kind: 'merge-map'; readonly pictureId: number; readonly svg: string; readonly tokens: readonly number[]; readonly groups: readonly number[]; readonly mergedFrom: number }
  | { readonly kind: 'merge-map-none' }
  | { readonly kind: 'inference-failed'; readonly text: string }
  | { readonly kind: 'memory'; readonly memory: Memory }
  | { readonly kind: 'speed'; readonly rows: readonly { readonly id: VariantId; readonly rate: number; readonly msPerBatch: number; readonly gflop: number }[]; readonly speedup?: number; readonly flopRatio?: number; readonly note: string }
  | { readonly kind: 'merge-set'; readonly choice: MergeChoice }
  | { readonly kind: 'tune-save'; readonly key: string; readonly entries: Record<string, unknown> }
  | { readonly kind: 'device-lost' };

/** Worker -> page: a reply to request `id`, or an event. */
export type FromWorker =
  | { readonly reply: number; readonly ok: true; readonly value: unknown }
  | { readonly reply: number; readonly ok: false; readonly error: string }
  | { readonly event: EngineEvent };

/** Page -> worker: a request with the id its reply will carry. */
export interface ToWorker {
  readonly id: number;
  readonly request: Request;
}
