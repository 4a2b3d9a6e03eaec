// The web page: FPET trained and run live on WebGPU in the browser, from the same modules as the
// command line (src/index.ts: graph IR, code generator, kernels, models, TrainStep, trainLoop,
// Classifier, merge maps, safetensors). Only the device differs: requestGpu() finds navigator.gpu.
//
// What it does: at first sight both models classify with the main job's trained adapters (shipped
// in assets/), and the page says which weights answer; Start trains AdaptFormer with and without
// FPET side by side from the backbone with live loss / accuracy charts, pause, resume and reset;
// the merge block and ratio re-specialise the FPET kernels; a drawn digit, an uploaded picture or
// a held-out image is classified with the top 3 classes of both models and FPET's merge map;
// inference of both is timed side by side; adapters download in the CLI's format and CLI-trained
// ones load. Every compile shows its progress (kernels compiled of total, elapsed, estimate).
//
// Two threads: this one draws and answers input; all WebGPU work (device, compiling, training,
// inference) runs in a dedicated module worker (engine/worker.ts, bundled as worker.js), so the
// page never freezes however long the driver compiles. They talk through protocol.ts.
//
// This file is the page's bundle entry (build.ts): it checks WebGPU, starts the worker and builds
// the parts in page/, each owning one card (or the header) of index.html:
//   page/device-panel.ts      WebGPU check (only the explanation shows without it), adapter, GPU memory
//   page/compile-panel.ts     the compile progress bar and the compile log
//   page/trainer-panel.ts     start / pause / reset; page/training-view.ts its rows and curves
//   page/merge-panel.ts       merge block and ratio
//   page/classifier-panel.ts  the picture on the pad, top 3 of both models, the merge map
//   page/variant-view.ts      each model's name and which weights answer
//   page/speed-panel.ts       inference speed side by side
//   page/adapters-panel.ts    adapters files, down and up
// Shared below them: page/engine-client.ts (requests and events), page/settings.ts,
// page/buttons.ts, page/dom.ts.

import type { WebManifest } from './build.ts';
import { AdaptersPanel } from './page/adapters-panel.ts';
import { setButtons } from './page/buttons.ts';
import { ClassifierPanel } from './page/classifier-panel.ts';
import { CompilePanel } from './page/compile-panel.ts';
import { DevicePanel, checkWebGpu } from './page/device-panel.ts';
import { $, banner, el, errText, status } from './page/dom.ts';
import { EngineClient } from './page/engine-client.ts';
import { MergePanel } from './page/merge-panel.ts';
import { applySoftwareDefaults, chosenMerge } from './page/settings.ts';
import { SpeedPanel } from './page/speed-panel.ts';
import { TrainerPanel } from './page/trainer-panel.ts';
import { TrainingView } from './page/training-view.ts';
import { VariantViews } from './page/variant-view.ts';

const TUNE_PREFIX = 'fpet-webgpu-tune-';

/** The matmul tuner's stored choices (the worker has no localStorage: it gets them from here). */
function storedTuning(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key?.startsWith(TUNE_PREFIX)) out[key] = JSON.parse(localStorage.getItem(key) ?? '{}');
    }
  } catch {
    // storage switched off or unreadable: tune again
  }
  return out;
}

/** The manifest (assets/, written by build.ts), and the data-set choices it offers. */
async function loadManifest(): Promise<WebManifest> {
  const res = await fetch('assets/manifest.json');
  if (!res.ok) throw new Error(`assets/manifest.json: HTTP ${res.status} (was the page built with npm run build:web?)`);
  const manifest = (await res.json()) as WebManifest;
  $('dataset').replaceChildren(...manifest.datasets.map((d) => el('option', { value: d.name }, `${d.label} (${d.train} + ${d.test})`)));
  return manifest;
}

/** The page's parts around one worker, and what the worker says about the page as a whole. */
function startParts(engine: EngineClient) {
  const names = new VariantViews(engine);
  const parts = {
    names, device: new DevicePanel(engine), compile: new CompilePanel(engine), trainer: new TrainerPanel(engine),
    view: new TrainingView(engine, names), merge: new MergePanel(engine), classifier: new ClassifierPanel(engine, names),
    speed: new SpeedPanel(engine), adapters: new AdaptersPanel(engine),
  };
  for (const part of Object.values(parts)) part.bind();
  engine.on('status', (e) => status(e.text));
  engine.on('banner', (e) => banner(e.text, e.tone));
  engine.on('flags', ({ flags }) => {
    if (document.body.dataset.state !== 'no-webgpu') document.body.dataset.state = flags.state;
    $('main').setAttribute('aria-busy', String(flags.state === 'loading'));
    setButtons(flags);
  });
  engine.on('tune-save', (e) => {
    try {
      localStorage.setItem(e.key, JSON.stringify(e.entries));
    } catch {
      // a full or switched-off storage only means tuning again next time
    }
  });
  return parts;
}

async function boot(): Promise<void> {
  document.body.dataset.state = 'loading';
  if (!checkWebGpu()) return;
  status('loading…');
  const manifest = await loadManifest();
  const engine = new EngineClient(new URL('worker.js', import.meta.url), (message) => {
    banner(`The GPU worker stopped: ${message}`, 'error');
    document.body.dataset.state = 'error';
  });
  const parts = startParts(engine);
  exposeForTests(engine, parts);
  const { software } = await engine.request({ kind: 'init', manifest, dataset: $<HTMLSelectElement>('dataset').value, merge: chosenMerge(), tuneEntries: storedTuning() });
  applySoftwareDefaults(software);
  status(`ready: draw a digit, or press Start to train both models here from the backbone${software ? ' (software adapter: smaller defaults chosen)' : ''}`);
  await parts.classifier.showHeldOut(0);
}

/** For tests and the console: the page's worker, parts and a fault injector. */
function exposeForTests(engine: EngineClient, parts: ReturnType<typeof startParts>): void {
  Object.assign(window, {
    fpetPage: {
      engine,
      parts,
      loseDevice: () => engine.request({ kind: 'lose-device' }),
      memory: () => engine.request({ kind: 'memory', settled: false }),
      /** Waits for queued compiles and inferences, then returns the live GPU memory. */
      settledMemory: () => engine.request({ kind: 'memory', settled: true }),
      deviceLosses: () => parts.device.deviceLosses,
    },
  });
}

boot().catch((e: unknown) => {
  console.error(e);
  if (document.body.dataset.state !== 'no-webgpu') {
    banner(`The page could not start: ${errText(e)}`, 'error');
    document.body.dataset.state = 'error';
  }
});
