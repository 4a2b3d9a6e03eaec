// The GPU device in the worker: asking for it (and telling the page why there is none), the
// adapter, live buffer memory, and a lost device re-initialised without a reload.

import { isCpuAdapter, requestGpu, type GpuContext } from '../../../index.ts';
import { adapterIdentity, hash64, type TuneEntry } from '../../../core/runtime/tune.ts';
import { Baton } from '../baton.ts';
import { VARIANTS, specLabel } from '../variants.ts';
import type { Engine } from './engine.ts';

const CHROMIUM_FLAGS = 'chromium --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader --use-webgpu-adapter=swiftshader';
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 600);

/** Asks for a device; when there is none, the page is told why (and what to do) before this throws. */
async function requestDevice(engine: Engine): Promise<GpuContext> {
  const noWebGpu = (why: string, what: string[]) => engine.emit({ kind: 'no-webgpu', why, what });
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    noWebGpu('This browser offers WebGPU to the page but not to its workers, where this page runs the GPU work so that drawing never freezes.', [
      'Use a browser with WebGPU in workers: Chrome or Edge 113 or later, Safari 26, or Firefox 141+ on Windows.',
    ]);
    throw new Error('no WebGPU in the worker');
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      noWebGpu('WebGPU is present, but the browser offered no adapter: the GPU may be blocklisted or WebGPU switched off (chrome://gpu says why).', [
        'Update the GPU driver, or switch on chrome://flags/#enable-unsafe-webgpu (Chrome / Edge) and restart the browser.',
        `Without a usable GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
      ]);
      throw new Error('no WebGPU adapter');
    }
    return await requestGpu({ label: 'fpet-page' });
  } catch (e) {
    if (engine.state !== 'no-webgpu') noWebGpu(`Could not get a WebGPU device: ${errText(e)}`, ['Reload the page; if it persists, restart the browser or update the GPU driver.']);
    engine.setState('no-webgpu');
    throw e;
  }
}

/** The device's life in the worker: start, memory reports, loss (real or simulated) and recovery. */
export class DeviceControl {
  /** The next loss is the fault injector's (a destroyed device is otherwise our own doing). */
  private simulatedLoss = false;
  private lastMemory = '';
  /** Stored tuning choices the page kept in localStorage (by key), handed over at start. */
  tuneEntries: Record<string, unknown> = {};

  constructor(private readonly engine: Engine) {
    setInterval(() => this.sendMemory(), 400);
  }

  /** Gets a device, tells the page its adapter and compiles both inference models on it. */
  async initGpu(): Promise<void> {
    const engine = this.engine;
    const gen = ++engine.generation;
    engine.status('asking for a GPU device…');
    const ctx = await requestDevice(engine);
    engine.tracker.instrument(ctx.device);
    engine.ctx = ctx;
    const software = isCpuAdapter(ctx);
    await this.useTuning(ctx, software);
    const info = ctx.info;
    const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' / ') || 'unknown';
    engine.emit({
      kind: 'adapter', software, name: `${info.description || name}${info.description ? ` (${name})` : ''}`,
      detail: `runtime ${info.runtime} (in a dedicated worker); features [${info.features.join(', ')}]; storage buffers/stage ${info.limits.maxStorageBuffersPerShaderStage}; workgroup storage ${info.limits.maxComputeWorkgroupStorageSize} B; invocations/workgroup ${info.limits.maxComputeInvocationsPerWorkgroup}${info.subgroupSize ? `; subgroup size ${info.subgroupSize}` : ''}; matmul tuning ${engine.tune}`,
    });
    void ctx.lost.then((lost) => {
      if (gen !== engine.generation) return;
      if (lost.reason === 'destroyed' && !this.simulatedLoss) return;
      void this.onDeviceLost(lost);
    });
    VARIANTS.forEach((id) => engine.showVariant(engine.variants[id]));
    for (const [k, id] of VARIANTS.entries()) await engine.buildInteractive(engine.variants[id], 'first sight', VARIANTS.length - 1 - k);
  }

  /**
   * Matmul tuning as the command line does it ('quick') on a hardware GPU, its choices kept in
   * the page's localStorage (workers have none: the page hands them over and stores what comes
   * back). Off on a software adapter: there each tuned candidate is another kernel to compile on
   * the CPU, which costs more than the CPU-emulated timings gain.
   */
  private async useTuning(ctx: GpuContext, software: boolean): Promise<void> {
    const engine = this.engine;
    engine.tune = software ? 'off' : 'quick';
    const key = `fpet-webgpu-tune-${hash64(await adapterIdentity(ctx))}`;
    const stored = this.tuneEntries[key];
    let entries = (stored && typeof stored === 'object' ? stored : {}) as Record<string, TuneEntry>;
    engine.tuneStore = {
      where: 'localStorage (through the page)',
      load: async () => ({ ...entries }),
      save: async (e) => {
        entries = { ...e };
        engine.emit({ kind: 'tune-save', key, entries: e });
      },
    };
  }

  /** The fault injector (a button in the diagnostics, and window.fpetPage for tests). */
  loseDevice(): void {
    if (!this.engine.ctx) return;
    this.simulatedLoss = true;
    this.engine.ctx.device.destroy();
  }

  /** Live buffer memory, sent when it changed. */
  sendMemory(force = false): void {
    const m = this.engine.ctx?.memory;
    if (!m) return;
    const memory = { liveBytes: m.liveBytes, liveBuffers: m.liveBuffers, peakBytes: m.peakBytes };
    const key = JSON.stringify(memory);
    if (key === this.lastMemory && !force) return;
    this.lastMemory = key;
    this.engine.emit({ kind: 'memory', memory });
  }

  private async onDeviceLost(lost: GPUDeviceLostInfo): Promise<void> {
    const engine = this.engine;
    engine.generation++;
    const simulated = this.simulatedLoss;
    this.simulatedLoss = false;
    const at = engine.runners().map((r) => `${specLabel(engine.variantOf(r).spec)} at step ${r.step}`);
    engine.emit({ kind: 'device-lost' });
    engine.banner(`The GPU device was lost (${simulated ? 'simulated' : lost.reason}${lost.message ? `: ${lost.message}` : ''})${at.length ? ` while training (${at.join(', ')})` : ''}. Re-initialising…`, 'error');
    this.forgetDevice();
    engine.setState('device-lost');
    try {
      await engine.queue.exclusive('re-initialising the GPU…', async () => {
        await this.initGpu();
      });
      const kept = VARIANTS.filter((id) => engine.variants[id].step > 0).map((id) => `${specLabel(engine.variants[id].spec)} from step ${engine.variants[id].step}`);
      const info = engine.ctx!.info;
      engine.banner(`The GPU device was lost and re-initialised without a reload (${info.description || info.vendor || 'adapter'}). ${at.length ? `Training stopped; ${kept.length ? `the weights of the last evaluation are kept (${kept.join(', ')})` : 'no trained weights were kept'}; press Start to train again.` : ''}`, 'ok');
      engine.setState('ready');
      engine.status('ready (after a device loss)');
      engine.queue.requestInference();
    } catch (e) {
      engine.banner(`The GPU device was lost and could not be re-initialised: ${errText(e)}. Reload the page.`, 'error');
      engine.setState('error');
    }
    this.sendMemory(true);
  }

  /** Everything on the old device is gone: stop the loops and drop the programs (the weights stay). */
  private forgetDevice(): void {
    const engine = this.engine;
    engine.baton.resume();
    for (const id of VARIANTS) {
      const v = engine.variants[id];
      if (v.runner) {
        v.runner.stopping = true;
        engine.baton.release(id);
        v.runner.destroy();
        engine.trainingStopped(v);
      }
      v.runner = undefined;
      engine.dropEvaluator(v);
      v.interactive?.destroy();
      v.interactive = undefined;
    }
    engine.baton = new Baton();
    engine.settingsInRun = undefined;
    engine.ctx = undefined;
  }
}
