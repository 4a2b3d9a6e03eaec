// The one place that obtains a GPUDevice, on Node (Dawn through the `webgpu` npm package),
// Deno (built-in wgpu) and browsers (navigator.gpu). Everything else takes a GpuContext.
//
// This module must stay importable from all three: no static import of Node built-ins or of
// 'webgpu' (src/core/util/node-import.ts), only globals that exist everywhere until the runtime is known.

import { nodeImport } from '../util/node-import.ts';
import { setDawnPolling } from './dawn-polling.ts';

/** Where the device came from. */
export type GpuRuntime = 'node' | 'deno' | 'browser';

/** How requestGpu picks its adapter and labels its device. */
export interface RequestGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for a fallback (CPU) adapter. With Dawn: SwiftShader or lavapipe, see requestNodeAdapter. */
  forceFallback?: boolean;
  /** Label of the device, shows up in GPU error messages. */
  label?: string;
}

/** Software adapters (lavapipe, SwiftShader, WARP): the GPU work runs on the CPU. */
export function isSoftwareAdapter(info: AdapterReport): boolean {
  return info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i.test(`${info.description} ${info.device} ${info.architecture} ${info.vendor}`);
}

/** What the adapter is and what the device got: for logs, reports and kernel choices. */
export interface AdapterReport {
  runtime: GpuRuntime;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** The limits the device actually has (not the adapter's, not the defaults). */
  limits: Record<string, number>;
  /** The features enabled on the device. */
  features: string[];
  /**
   * The subgroup size kernels can rely on: the adapter's when its minimum and maximum agree and the
   * `subgroups` feature is enabled (lavapipe: 8, NVIDIA: 32), else 0 (subgroup kernels not offered).
   */
  subgroupSize: number;
}

/** Live GPU memory the context's buffers hold (buffers made through GpuContext.createBuffer). */
export interface GpuMemoryStats {
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
  created: number;
  destroyed: number;
}

/** A GPU device with what the framework needs around it: adapter facts, recorded errors, counted buffers. */
export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  runtime: GpuRuntime;
  info: AdapterReport;
  /** Returns the uncaptured GPU errors recorded since the last call, and forgets them. */
  takeErrors(): GPUError[];
  /** device.createBuffer, counted in `memory` until the buffer is destroyed. */
  createBuffer(desc: GPUBufferDescriptor): GPUBuffer;
  readonly memory: Readonly<GpuMemoryStats>;
  /** Resolves with the reason when the device is lost (never, unless it is). */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /**
   * More devices on the same adapter that compile kernels beside this one (compile-ahead.ts): where
   * the driver compiles on first dispatch, one thread per device, and shares what it compiled through
   * an on-disk cache (lavapipe under Node). Absent elsewhere. Created at the first call, then kept.
   */
  compileHelpers?(): Promise<readonly GPUDevice[]>;
  /** Destroys the device (its loss is then not reported as an error). */
  destroy(): void;
}

/** Helper devices at most (compileHelpers): one compiling thread each, beside the main device's. */
export const MAX_COMPILE_HELPERS = 3;

/** Chromium's SwiftShader Vulkan driver: a software Vulkan that Dawn accepts. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Limits that compute kernels run into. We ask for whatever the adapter offers instead of the
// WebGPU defaults (e.g. 8 storage buffers, 16 KiB workgroup memory, 256 invocations), because
// requestDevice() hands out only the defaults unless told otherwise.
const WANTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
] as const;

const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

const INSTALL_HINT = [
  'Install a Vulkan driver. On Debian 12, as root:',
  "  cat > /etc/apt/sources.list.d/backports.sources <<'SRC'",
  '  Types: deb',
  '  URIs: http://deb.debian.org/debian',
  '  Suites: bookworm-backports',
  '  Components: main',
  '  Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
  '  SRC',
  '  apt-get update',
  '  apt-get install -y libvulkan1',
  '  apt-get install -y -t bookworm-backports mesa-vulkan-drivers   # lavapipe, Mesa >= 25 (Debian 12\'s own Mesa 22.3 is rejected by Dawn)',
  `or, for SwiftShader: apt-get install -y libvulkan1 chromium   (ships ${SWIFTSHADER_ICD};`,
  '  used automatically on Node when VK_ICD_FILENAMES is unset, elsewhere set VK_ICD_FILENAMES to it).',
].join('\n');

/** The runtime this code runs in: Deno, a browser (a DOM or a worker scope), else Node. */
export function detectRuntime(): GpuRuntime {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Deno === 'object' && g.Deno !== null) return 'deno';
  // Node 21+ has a global `navigator` too, so look for a DOM or a worker scope, not for navigator.
  if (typeof g.window === 'object' || typeof g.document === 'object' || typeof g.WorkerGlobalScope === 'function') {
    return 'browser';
  }
  return 'node';
}

type DawnModule = typeof import('webgpu');

// nodeImport's specifier is a variable: browser bundles never try to include Dawn or Node
// built-ins, and Deno never tries to resolve the npm package.

let dawnPromise: Promise<DawnModule> | undefined;

function loadDawn(): Promise<DawnModule> {
  dawnPromise ??= nodeImport<DawnModule>('webgpu').then((dawn) => {
    // GPUBufferUsage, GPUMapMode, GPUShaderStage, ... are globals in browsers and Deno.
    Object.assign(globalThis, dawn.globals);
    return dawn;
  });
  return dawnPromise;
}

// The GPU objects (Dawn instances) we created, held for the life of the process on purpose.
// dawn.node lives only as long as the object returned by create() is referenced (node_modules/
// webgpu/README.md, "Lifetime"): its adapters and devices do NOT keep it alive, yet its event-loop
// hook (AsyncRunner -> InstanceBase::ProcessEvents) keeps using the native instance while any
// promise (mapAsync, onSubmittedWorkDone, ...) is pending. Once the GPU object is garbage-collected
// that is a use-after-free: gdb shows pthread_mutex_lock on a misaligned address inside
// InstanceBase::ProcessEvents, seen as a segfault, "The futex facility returned an unexpected
// error code", "std::system_error: Invalid argument", malloc corruption or a hang.
// `await create([]).requestAdapter()` then one mapAsync crashed 15 runs out of 15 here, with or
// without --no-turbofan; keeping the GPU object referenced: 0 out of 9. This is the "hot JS loop"
// crash of WEBGPU-HEADLESS.md: optimized (OSR) code stops treating a `gpu` local that is no longer
// used as a GC root, while the interpreter keeps every register alive, hence --no-turbofan hiding
// it. See test/runtime/dawn-hot-js-regression.test.ts. (A script that held them still exited by
// itself here; entry points call process.exit() anyway, as WEBGPU-HEADLESS.md advises.)
// At most two instances: the default one and the SwiftShader one.
let defaultInstance: GPU | undefined;
let swiftShaderInstance: GPU | undefined;

// SwiftShader fallback, as measured here (webgpu 0.6.2, Vulkan loader 1.3.239):
// - The Vulkan loader does NOT read VK_ICD_FILENAMES when dawn.node is loaded: it reads it when a
//   Vulkan instance is created, and Dawn creates that lazily, at the first requestAdapter() of a
//   GPU object returned by create(). So setting process.env before the first create() works, and
//   so does setting it after a failed attempt and calling create() again.
// - Calling requestAdapter() again on the SAME GPU object after changing the variable still
//   returns null: Dawn keeps the Vulkan backend it initialized. Hence the second GPU object.
// - The loader has enumerated the drivers by the time that first requestAdapter() resolves, so we
//   put the variable back afterwards: other Dawn instances and child processes still look for a
//   real driver first, and the SwiftShader instance keeps working without it. (Verified by
//   simulating "no driver" with XDG_DATA_DIRS=/nonexistent, which hides /usr/share/vulkan/icd.d
//   from the loader, and running compute shaders on the result.)
// - forceFallbackAdapter on a fresh Dawn instance returned null here even with lavapipe (a CPU
//   adapter) installed, so it goes through the same path and gets SwiftShader; once the default
//   instance has found lavapipe, forceFallback on it returns lavapipe. Both are CPU adapters.
// A VK_ICD_FILENAMES (or VK_DRIVER_FILES, which takes precedence in the loader) set by the user is
// respected: no fallback then.
/**
 * Flags every Dawn instance is created with. Dawn quantizes timestamp queries by default (a
 * browser's defence against timing attacks): here every interval came out a multiple of
 * 65,536 ns. On a real GPU a kernel takes a few µs, so the per-kernel profiles read 0 and the
 * tuner timed noise (seen on an H200). Nothing in a Node process needs that defence.
 */
export const DAWN_FLAGS: readonly string[] = ['disable-dawn-features=timestamp_quantization'];

async function requestNodeAdapter(adapterOptions: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  const dawn = await loadDawn();
  defaultInstance ??= dawn.create([...DAWN_FLAGS]);
  const adapter = await defaultInstance.requestAdapter(adapterOptions);
  if (adapter) return adapter;

  const env = process.env;
  if (env.VK_ICD_FILENAMES !== undefined || env.VK_DRIVER_FILES !== undefined) return null;
  if (swiftShaderInstance) return swiftShaderInstance.requestAdapter(adapterOptions);
  const { existsSync } = await nodeImport<typeof import('node:fs')>('node:fs');
  if (!existsSync(SWIFTSHADER_ICD)) return null;

  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  try {
    swiftShaderInstance = dawn.create([...DAWN_FLAGS]);
    const fallback = await swiftShaderInstance.requestAdapter(adapterOptions);
    if (fallback && !adapterOptions.forceFallbackAdapter) {
      console.error(`[gpu] Dawn found no usable Vulkan driver; using SwiftShader (${SWIFTSHADER_ICD})`);
    }
    return fallback;
  } finally {
    delete env.VK_ICD_FILENAMES;
  }
}

async function requestAdapter(runtime: GpuRuntime, adapterOptions: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  if (runtime === 'node') return requestNodeAdapter(adapterOptions);
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new Error(
      runtime === 'browser'
        ? 'navigator.gpu is missing: WebGPU needs a secure context (https:// or http://localhost) and, ' +
            'in headless Chromium, --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader ' +
            '--use-webgpu-adapter=swiftshader'
        : 'navigator.gpu is missing in this Deno',
    );
  }
  return gpu.requestAdapter(adapterOptions);
}

function noAdapterError(runtime: GpuRuntime, options: RequestGpuOptions): Error {
  let where: string;
  if (runtime === 'node') {
    const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
    where = icd !== undefined
      ? `Dawn (npm 'webgpu') found no adapter with the Vulkan driver list set to ${icd}; unset it or point it at an existing ICD json.`
      : `Dawn (npm 'webgpu') found no Vulkan adapter, and SwiftShader (${SWIFTSHADER_ICD}) was not usable either.`;
  } else if (runtime === 'deno') {
    where = 'Deno (wgpu) found no adapter.';
  } else {
    where = 'The browser returned no WebGPU adapter.';
  }
  const fallback = options.forceFallback ? ' (forceFallback was requested)' : '';
  return new Error(`requestGpu: no WebGPU adapter${fallback}. ${where}\n${INSTALL_HINT}`);
}

function limitsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // for..in: the limits are accessor properties on the prototype in browsers and Dawn.
  for (const key in limits) {
    const value = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/**
 * Obtains a GPU device in whatever runtime this is (Node through Dawn, Deno, a browser), with
 * every limit and wanted feature the adapter offers, uncaught errors recorded and buffers counted.
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<GpuContext> {
  const runtime = detectRuntime();
  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;
  if (options.forceFallback) adapterOptions.forceFallbackAdapter = true;

  const adapter = await requestAdapter(runtime, adapterOptions);
  if (!adapter) throw noAdapterError(runtime, options);
  const device = await requestFullDevice(adapter, options.label ?? 'requestGpu');
  const takeErrors = recordUncapturedErrors(device);
  reportDeviceLoss(device);
  const info = adapterReport(runtime, adapter, device);
  // Dawn's busy polling would take a core from the software adapter's own threads (dawn-polling.ts).
  if (runtime === 'node' && isSoftwareAdapter(info)) setDawnPolling('yield');

  const memory: GpuMemoryStats = { liveBuffers: 0, liveBytes: 0, peakBytes: 0, created: 0, destroyed: 0 };
  let helpers: Promise<readonly GPUDevice[]> | undefined;
  // Lavapipe compiles a kernel at its first dispatch, on the one thread that runs the device's
  // queue, and keeps the result in Mesa's shader cache on disk, where another device finds it.
  const compilesOnFirstDispatch = runtime === 'node' && /llvmpipe|lavapipe/i.test(`${info.device} ${info.description}`);
  return {
    device,
    adapter,
    runtime,
    info,
    memory,
    lost: device.lost,
    takeErrors,
    createBuffer: (desc: GPUBufferDescriptor) => countedBuffer(device, memory, desc),
    ...(compilesOnFirstDispatch ? { compileHelpers: () => (helpers ??= requestCompileHelpers(adapterOptions, info, options.label ?? 'requestGpu')) } : {}),
    destroy() {
      device.destroy();
      void helpers?.then((devices) => devices.forEach((d) => d.destroy()));
    },
  };
}

/** Devices for compiling beside the main one: one per spare CPU core (up to MAX_COMPILE_HELPERS); none where that fails. */
async function requestCompileHelpers(adapterOptions: GPURequestAdapterOptions, main: AdapterReport, label: string): Promise<readonly GPUDevice[]> {
  const os = await nodeImport<typeof import('node:os')>('node:os');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const devices: GPUDevice[] = [];
  try {
    for (let i = 0; i < Math.min(cores - 1, MAX_COMPILE_HELPERS); i++) {
      // An adapter hands out one device: each helper gets an adapter of its own.
      const adapter = await requestNodeAdapter(adapterOptions);
      // Only the same driver shares its shader cache with the main device.
      if (!adapter || adapter.info.device !== main.device || adapter.info.description !== main.description) break;
      devices.push(await requestFullDevice(adapter, `${label} compile helper ${i + 1}`));
    }
  } catch {
    // Helpers only save time: without them the main device compiles everything.
  }
  return devices;
}

/** A device with every WANTED_LIMITS value the adapter offers and the WANTED_FEATURES it has. */
function requestFullDevice(adapter: GPUAdapter, label: string): Promise<GPUDevice> {
  const offered = adapter.limits as unknown as Record<string, unknown>;
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = offered[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ label, requiredLimits, requiredFeatures });
}

/**
 * Uncaptured errors are otherwise easy to miss: in Dawn they only print once to stderr, in a
 * browser they only reach the devtools console. Records them so tests can assert on them;
 * returns the function that takes (and forgets) those recorded so far.
 */
function recordUncapturedErrors(device: GPUDevice): () => GPUError[] {
  let errors: GPUError[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    event.preventDefault(); // we log it ourselves; stops Dawn printing it a second time
    errors.push(error);
    console.error(`[gpu] uncaptured ${error.constructor.name} on device '${device.label}': ${error.message}`);
  });
  return () => {
    const taken = errors;
    errors = [];
    return taken;
  };
}

/** A lost device makes every later call a silent no-op, so say so loudly unless we destroyed it. */
function reportDeviceLoss(device: GPUDevice): void {
  void device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') {
      console.error(`\n[gpu] !!! DEVICE LOST (${lost.reason}) on device '${device.label}': ${lost.message}\n`);
    }
  });
}

/** What the adapter is and what the device got (limits, features, a subgroup size kernels can rely on). */
function adapterReport(runtime: GpuRuntime, adapter: GPUAdapter, device: GPUDevice): AdapterReport {
  const adapterInfo = adapter.info;
  const sgMin = (adapterInfo as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
  const sgMax = (adapterInfo as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0;
  return {
    runtime,
    vendor: adapterInfo.vendor,
    architecture: adapterInfo.architecture,
    device: adapterInfo.device,
    description: adapterInfo.description,
    isFallbackAdapter: Boolean(
      (adapterInfo as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        false,
    ),
    limits: limitsRecord(device.limits),
    features: [...device.features].map(String).sort(),
    subgroupSize: device.features.has('subgroups') && sgMin > 0 && sgMin === sgMax ? sgMin : 0,
  };
}

/** device.createBuffer, counted in `memory` until the buffer is destroyed (once, however often destroy() is called). */
function countedBuffer(device: GPUDevice, memory: GpuMemoryStats, desc: GPUBufferDescriptor): GPUBuffer {
  const buffer = device.createBuffer(desc);
  memory.created++;
  memory.liveBuffers++;
  memory.liveBytes += desc.size;
  memory.peakBytes = Math.max(memory.peakBytes, memory.liveBytes);
  const destroy = buffer.destroy.bind(buffer);
  let alive = true;
  buffer.destroy = () => {
    if (alive) {
      alive = false;
      memory.destroyed++;
      memory.liveBuffers--;
      memory.liveBytes -= desc.size;
    }
    destroy();
  };
  return buffer;
}

/** One line: runtime, adapter, fallback flag, the features we asked for, the limits kernels care about. */
export function formatAdapterReport(r: AdapterReport): string {
  const name = [r.vendor, r.architecture, r.device].filter(Boolean).join('/');
  const l = r.limits;
  return (
    `[${r.runtime}] ${r.description || '(no description)'} (${name || 'unknown'})` +
    `${r.isFallbackAdapter ? ' fallback' : ''}` +
    ` features=[${r.features.filter((f) => (WANTED_FEATURES as string[]).includes(f)).join(',')}]` +
    ` storageBuffers=${l.maxStorageBuffersPerShaderStage} invocations=${l.maxComputeInvocationsPerWorkgroup}` +
    ` wgStorage=${l.maxComputeWorkgroupStorageSize} bindingSize=${l.maxStorageBufferBindingSize}` +
    ` bufferSize=${l.maxBufferSize}${r.subgroupSize ? ` subgroup=${r.subgroupSize}` : ''}`
  );
}

/**
 * Runs fn inside validation and out-of-memory error scopes and throws if either caught an error.
 * Scopes are per device, not per async task: do not run other GPU work concurrently with fn.
 */
export async function withErrorScope<T>(device: GPUDevice, fn: () => T | Promise<T>, what = 'GPU operation'): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let thrown: unknown;
  let failed = false;
  try {
    result = await fn();
  } catch (e) {
    failed = true;
    thrown = e;
  }
  // Always pop both, even after a JS exception, or the scope stack stays unbalanced.
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (failed) throw thrown;
  const error = validation ?? oom;
  if (error) {
    const kind = error === validation ? 'validation' : 'out-of-memory';
    throw new Error(`${what}: GPU ${kind} error: ${error.message}`);
  }
  return result as T;
}

/** Copies byteLength bytes of buffer (which needs COPY_SRC usage) back to the CPU. */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
  // Checked here because the GPU would only report it as an uncaptured error, and mapAsync would reject vaguely.
  if (byteLength % 4 !== 0 || offset % 4 !== 0) {
    throw new Error(`readBuffer: byteLength (${byteLength}) and offset (${offset}) must be multiples of 4`);
  }
  const staging = device.createBuffer({
    label: 'readBuffer staging',
    size: byteLength,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'readBuffer' });
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, byteLength);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    // slice() copies: the mapped range is detached by unmap().
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    return copy;
  } finally {
    staging.destroy();
  }
}

/** A buffer of exactly data's size holding data (mapped at creation, so no queue round trip). */
export function createBufferFrom(
  device: GPUDevice,
  data: Float32Array | Int32Array | Uint32Array,
  usage: GPUBufferUsageFlags,
  label?: string,
): GPUBuffer {
  const buffer = device.createBuffer({ label, size: data.byteLength, usage, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}
