// The GPU as the page shows it: whether WebGPU can be used here at all (checked on the page's own
// thread before any worker starts; when not, only the explanation shows), the adapter in the
// header, the worker's live buffer memory, and device losses (the fault injector included).

import type { EngineClient } from './engine-client.ts';
import { $, el, mib, reportErrors, text } from './dom.ts';

const CHROMIUM_FLAGS = 'chromium --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader --use-webgpu-adapter=swiftshader';

/** Replaces the page with why there is no WebGPU, and what to do: every control is hidden with the main part. */
export function showNoWebGpu(why: string, what: readonly string[]): void {
  document.body.dataset.state = 'no-webgpu';
  $('main').hidden = true;
  $('compile').hidden = true;
  const box = $('no-webgpu');
  box.hidden = false;
  text('no-webgpu-why', why);
  $('no-webgpu-what').replaceChildren(el('p', {}, 'What to do:'), el('ul', {}, ...what.map((w) => el('li', {}, w))));
  text('adapter', 'none');
  text('adapter-class', '–');
  text('gpu-memory', '–');
}

/** Checks that WebGPU can be used here; shows the reason and returns false when not. */
export function checkWebGpu(): boolean {
  if (!window.isSecureContext) {
    showNoWebGpu(`This page was opened from ${location.origin}, which is not a secure context, and browsers only offer WebGPU to secure contexts.`, [
      `Open it as http://localhost:${location.port || '80'}/ (what npm start -- serve prints), or from 127.0.0.1, or serve it over HTTPS.`,
      'A LAN address or another host name over plain HTTP is not secure: tunnel it (ssh -L 8080:localhost:8080 host) and open localhost.',
    ]);
    return false;
  }
  if (!('gpu' in navigator) || !navigator.gpu) {
    showNoWebGpu('This browser does not offer WebGPU (navigator.gpu is missing).', [
      'Use a browser with WebGPU: Chrome or Edge 113 or later on Windows, macOS and ChromeOS (Chrome 121+ on Android), Safari 26, or Firefox 141+ on Windows.',
      'On Linux, Chrome needs WebGPU switched on: chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan, or start it with --enable-unsafe-webgpu --enable-features=Vulkan.',
      `Without a GPU, Chromium's software adapter works (slowly): ${CHROMIUM_FLAGS}`,
    ]);
    return false;
  }
  return true;
}

/** The header's adapter and memory, and the device's losses. */
export class DevicePanel {
  deviceLosses = 0;
  memory: { liveBytes: number; liveBuffers: number; peakBytes: number } | undefined;

  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    const engine = this.engine;
    $('lose-device').addEventListener('click', () => reportErrors(engine.request({ kind: 'lose-device' })));
    engine.on('no-webgpu', (e) => showNoWebGpu(e.why, e.what));
    engine.on('device-lost', () => void this.deviceLosses++);
    engine.on('adapter', (e) => {
      $('adapter').replaceChildren(e.name);
      $('adapter').dataset.software = String(e.software);
      $('adapter-class').replaceChildren(el('span', { class: `badge ${e.software ? 'soft' : 'hard'}` }, e.software ? 'software adapter (runs on the CPU)' : 'hardware GPU'));
      text('device-detail', e.detail);
    });
    engine.on('memory', ({ memory: m }) => {
      this.memory = m;
      const e = $('gpu-memory');
      e.textContent = `${mib(m.liveBytes)} in ${m.liveBuffers} buffers (peak ${mib(m.peakBytes)})`;
      e.dataset.liveBytes = String(m.liveBytes);
      e.dataset.liveBuffers = String(m.liveBuffers);
      e.dataset.peakBytes = String(m.peakBytes);
    });
  }
}
