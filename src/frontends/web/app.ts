// The web page: FPET trained and run live on WebGPU in the browser, from the same modules as the
// command line (src/index.ts: graph IR, code generator, kernels, models, TrainStep, trainLoop,
// Classifier, merge maps, safetensors). Only the device differs: requestGpu() finds navigator.gpu.
//
// What it does: shows the adapter; trains AdaptFormer with and without FPET side by side (runners
// taking turns step by step, src/frontends/web/trainer.ts) with live loss / accuracy charts, pause, resume
// and reset; re-specialises the FPET kernels when the merge block or ratio changes (compile time
// shown); classifies a drawn digit, an uploaded picture or a held-out image with the top 3 classes
// of both models and FPET's merge map; times inference of both side by side; downloads the trained
// adapters in the CLI's format and loads CLI-trained ones. A lost device is reported and the GPU
// re-initialised without a reload; every program is destroyed when it is replaced, so resets and
// re-runs do not grow GPU memory (the header shows the context's live buffer bytes).
//
// This file is the bundle's entry (build.ts): it builds the parts in page/ around one PageState and
// boots them. Each part owns one card (or the header) of index.html:
//   page/device-panel.ts      WebGPU check, adapter, GPU memory, device loss and recovery
//   page/trainer-panel.ts     start / pause / reset of the run; page/training-view.ts its rows and curves
//   page/merge-panel.ts       merge block and ratio, re-specialisation of the FPET kernels
//   page/classifier-panel.ts  the picture on the pad, top 3 of both models, the merge map
//   page/speed-panel.ts       inference speed side by side
//   page/adapters-panel.ts    adapters files, down and up
// Shared below them: page/page-state.ts (device, data, variants, programs), page/gpu-queue.ts (the
// order of GPU work), page/variants.ts, page/settings.ts, page/buttons.ts, page/compile-log.ts, page/dom.ts.

import { decodeBackbone, isCpuAdapter } from '../../index.ts';
import type { WebManifest } from './build.ts';
import { AdaptersPanel } from './page/adapters-panel.ts';
import { ClassifierPanel } from './page/classifier-panel.ts';
import { DevicePanel, checkWebGpu } from './page/device-panel.ts';
import { $, banner, el, errText, status } from './page/dom.ts';
import { MergePanel } from './page/merge-panel.ts';
import { PageState, fetchBytes } from './page/page-state.ts';
import { applySoftwareDefaults } from './page/settings.ts';
import { SpeedPanel } from './page/speed-panel.ts';
import { TrainerPanel } from './page/trainer-panel.ts';
import { TrainingView } from './page/training-view.ts';
import { VARIANTS, VIT } from './page/variants.ts';

const page = new PageState();
const classifier = new ClassifierPanel(page);
const view = new TrainingView(page);
const device = new DevicePanel(page);
const trainer = new TrainerPanel(page, view);
const merge = new MergePanel(page);
const speed = new SpeedPanel(page);
const adapters = new AdaptersPanel(page, trainer, merge);

/** The manifest, the backbone and the first data pack (assets/, written by build.ts). */
async function loadAssets(): Promise<void> {
  const manifestRes = await fetch('assets/manifest.json');
  if (!manifestRes.ok) throw new Error(`assets/manifest.json: HTTP ${manifestRes.status} (was the page built with npm run build:web?)`);
  page.manifest = (await manifestRes.json()) as WebManifest;
  const select = $<HTMLSelectElement>('dataset');
  select.replaceChildren(...page.manifest.datasets.map((d) => el('option', { value: d.name }, `${d.label} (${d.train} + ${d.test})`)));
  const [backboneBytes] = await Promise.all([
    fetchBytes(`assets/${page.manifest.backbone.file}`),
    page.loadPack(select.value).then((p) => (page.pack = p)),
  ]);
  page.backbone = decodeBackbone(backboneBytes, VIT, page.manifest.backbone.file);
}

async function boot(): Promise<void> {
  document.body.dataset.state = 'loading';
  // Bound before the WebGPU check: the merge block's options are filled in here.
  for (const part of [merge, trainer, speed, adapters, device, classifier]) part.bind();
  if (!checkWebGpu()) return;
  status('loading the backbone and data…');
  await loadAssets();
  for (const id of VARIANTS) page.resetVariantWeights(page.variants[id]);
  await device.initGpu();
  applySoftwareDefaults(page.ctx);
  merge.describe();
  status(`ready: press Start training, or draw a digit${isCpuAdapter(page.ctx!) ? ' (software adapter: smaller defaults chosen)' : ''}`);
  document.body.dataset.state = 'ready';
  $('main').setAttribute('aria-busy', 'false');
  page.updateButtons();
  device.showMemory();
  setInterval(() => device.showMemory(), 400);
  classifier.showHeldOut(0);
}

/** For tests and the console: the page's state and a fault injector. */
Object.assign(window, {
  fpetPage: {
    page,
    parts: { device, trainer, view, merge, classifier, speed, adapters },
    loseDevice: () => device.loseDevice(),
    memory: () => (page.ctx ? { ...page.ctx.memory } : undefined),
    /** Waits for queued compiles and inferences, then returns the live GPU memory. */
    settledMemory: async () => {
      await page.queue.settled();
      return page.ctx ? { ...page.ctx.memory } : undefined;
    },
    deviceLosses: () => device.deviceLosses,
  },
});
boot().catch((e: unknown) => {
  console.error(e);
  if (document.body.dataset.state !== 'no-webgpu') {
    banner(`The page could not start: ${errText(e)}`, 'error');
    document.body.dataset.state = 'error';
  }
});
