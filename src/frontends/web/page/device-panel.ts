// The GPU device: whether WebGPU can be used here (and what to do when not), the adapter in the
// header, its live buffer memory, and a lost device re-initialised without a reload.

import { isCpuAdapter, requestGpu, type GpuContext } from '../../../index.ts';
import { Baton } from '../trainer.ts';
import { $, banner, el, errText, mib, status, text } from './dom.ts';
import type { PageState } from './page-state.ts';
import { lockSettings } from './settings.ts';
import { VARIANTS, label } from './variants.ts';

const CHROMIUM_FLAGS = 'chromium --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader --use-webgpu-adapter=swiftshader';

/** Replaces the page with why there is no WebGPU, and what to do. */
function noWebGpu(why: string, what: string[]): void {
  document.body.dataset.state = 'no-webgpu';
  $('main').hidden = true;
  const box = $('no-webgpu');
  box.hidden = false;
  text('no-webgpu-why', why);
  const list = $('no-webgpu-what');
  list.replaceChildren(el('p', {}, 'What to do:'), el('ul', {}, ...what.map((w) => el('li', {}, w))));
  text('adapter', 'none');
  text('adapter-class', '–');
}

/** Checks that WebGPU can be used here; shows the reason and returns false when not. */
export function checkWebGpu(): boolean {
  if (!window.isSecureContext) {
    noWebGpu(`This page was opened from ${location.origin}, which is not a secure context, and browsers only offer WebGPU to secure contexts.`, [
      `Open it as http://localhost:${location.port || '80'}/ (what npm start -- serve prints), or from 127.0.0.1, or serve it over HTTPS.`,
      'A LAN address or another host name over plain HTTP is not secure: tunnel it (ssh -L 8080:localhost:8080 host) and open localhost.',
    ]);
    return false;
  }
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGpu('This browser does not offer WebGPU (navigator.gpu is missing).', [
      'Use a browser with WebGPU: Chrome or Edge 113 or later on Windows, macOS and ChromeOS (Chrome 121+ on Android), Safari 26, or Firefox 141+ on Windows.',
      'On Linux, Chrome needs WebGPU switched on: chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan, or start it with --enable-unsafe-webgpu --enable-features=Vulkan.',
      `Without a GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
    ]);
    return false;
  }
  return true;
}

/** Asks for a device; when there is none, the page says why before this throws. */
async function requestDevice(): Promise<GpuContext> {
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) {
      noWebGpu('WebGPU is present, but the browser offered no adapter: the GPU may be blocklisted or WebGPU switched off (chrome://gpu says why).', [
        'Update the GPU driver, or switch on chrome://flags/#enable-unsafe-webgpu (Chrome / Edge) and restart the browser.',
        `Without a usable GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
      ]);
      throw new Error('no WebGPU adapter');
    }
    return await requestGpu({ label: 'fpet-page' });
  } catch (e) {
    if (document.body.dataset.state !== 'no-webgpu') {
      noWebGpu(`Could not get a WebGPU device: ${errText(e)}`, ['Reload the page; if it persists, restart the browser or update the GPU driver.']);
    }
    throw e;
  }
}

function showAdapter(ctx: GpuContext): void {
  const info = ctx.info;
  const software = isCpuAdapter(ctx);
  const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' / ') || 'unknown';
  $('adapter').replaceChildren(`${info.description || name}${info.description ? ` (${name})` : ''}`);
  $('adapter-class').replaceChildren(el('span', { class: `badge ${software ? 'soft' : 'hard'}` }, software ? 'software adapter (runs on the CPU)' : 'hardware GPU'));
  $('adapter').dataset.software = String(software);
  text('device-detail', `runtime ${info.runtime}; features [${info.features.join(', ')}]; storage buffers/stage ${info.limits.maxStorageBuffersPerShaderStage}; workgroup storage ${info.limits.maxComputeWorkgroupStorageSize} B; invocations/workgroup ${info.limits.maxComputeInvocationsPerWorkgroup}${info.subgroupSize ? `; subgroup size ${info.subgroupSize}` : ''}`);
}

/** The device's life on the page: start, memory display, loss (real or simulated) and recovery. */
export class DevicePanel {
  /** The next loss is the fault injector's (a destroyed device is otherwise our own doing). */
  private simulatedLoss = false;
  deviceLosses = 0;

  constructor(private readonly page: PageState) {}

  bind(): void {
    $('lose-device').addEventListener('click', () => this.loseDevice());
  }

  /** Gets a device, shows its adapter and compiles both inference models on it. */
  async initGpu(): Promise<void> {
    const page = this.page;
    const gen = ++page.generation;
    status('asking for a GPU device…');
    const ctx = await requestDevice();
    page.ctx = ctx;
    showAdapter(ctx);
    void ctx.lost.then((lost) => {
      if (gen !== page.generation) return;
      if (lost.reason === 'destroyed' && !this.simulatedLoss) return;
      void this.onDeviceLost(lost);
    });
    for (const id of VARIANTS) await page.buildInteractive(page.variants[id], 'initial');
  }

  /** The fault injector (a button in the diagnostics, and window.fpetPage for tests). */
  loseDevice(): void {
    if (!this.page.ctx) return;
    this.simulatedLoss = true;
    this.page.ctx.device.destroy();
  }

  showMemory(): void {
    const m = this.page.ctx?.memory;
    const e = $('gpu-memory');
    if (!m) {
      e.textContent = '–';
      return;
    }
    e.textContent = `${mib(m.liveBytes)} in ${m.liveBuffers} buffers (peak ${mib(m.peakBytes)})`;
    e.dataset.liveBytes = String(m.liveBytes);
    e.dataset.liveBuffers = String(m.liveBuffers);
    e.dataset.peakBytes = String(m.peakBytes);
  }

  private async onDeviceLost(lost: GPUDeviceLostInfo): Promise<void> {
    const page = this.page;
    this.deviceLosses++;
    page.generation++;
    const simulated = this.simulatedLoss;
    this.simulatedLoss = false;
    const at = page.runners().map((r) => `${label(page.variantOf(r))} at step ${r.step}`);
    banner(`The GPU device was lost (${simulated ? 'simulated' : lost.reason}${lost.message ? `: ${lost.message}` : ''})${at.length ? ` while training (${at.join(', ')})` : ''}. Re-initialising…`, 'error');
    document.body.dataset.state = 'device-lost';
    this.forgetDevice();
    try {
      await page.queue.exclusive('re-initialising the GPU…', async () => {
        await this.initGpu();
      });
      const kept = VARIANTS.filter((id) => page.variants[id].step > 0).map((id) => `${label(page.variants[id])} from step ${page.variants[id].step}`);
      banner(`The GPU device was lost and re-initialised without a reload (${page.ctx!.info.description || page.ctx!.info.vendor || 'adapter'}). ${at.length ? `Training stopped; ${kept.length ? `the weights of the last evaluation are kept (${kept.join(', ')})` : 'no trained weights were kept'}; press Start to train again.` : ''}`, 'ok');
      document.body.dataset.state = 'ready';
      status('ready (after a device loss)');
      page.queue.requestInference();
    } catch (e) {
      banner(`The GPU device was lost and could not be re-initialised: ${errText(e)}. Reload the page.`, 'error');
      document.body.dataset.state = 'error';
    }
    page.updateButtons();
  }

  /** Everything on the old device is gone: stop the loops and drop the programs (the weights stay). */
  private forgetDevice(): void {
    const page = this.page;
    page.baton.resume();
    for (const id of VARIANTS) {
      const v = page.variants[id];
      if (v.runner) {
        v.runner.stopping = true;
        page.baton.release(id);
        v.runner.destroy();
      }
      v.runner = undefined;
      v.evaluator?.destroy();
      v.evaluator = undefined;
      v.interactive?.destroy();
      v.interactive = undefined;
    }
    page.baton = new Baton();
    page.settingsInRun = undefined;
    page.ctx = undefined;
    lockSettings(false);
  }
}
