// Runs a TypeScript entry in headless Chromium with WebGPU (SwiftShader) and returns what it
// stored in window.__result. Used by the browser smoke test and the browser benchmarks;
// launchChromium alone is what the web page's test (test/browser/page.test.ts) drives.
//
// The entry is bundled on the fly with esbuild (from tsx's dependencies), served from
// http://127.0.0.1:<random port> (navigator.gpu exists only in secure contexts; loopback counts,
// about:blank and file:// pages had no navigator.gpu) and run by the system Chromium through
// puppeteer (whose own browser download is disabled: no route to its hosts here).
//
// Files the entry fetches (a model, a WebAssembly binary) are served from the paths `assets` names.
//
// Contract for an entry: set `window.__result` to a JSON-serializable value when done. Throwing
// (or an unhandled rejection) fails the run with the error; so does any console.error on the page,
// unless allowConsoleErrors is set.
import { createServer, type Server } from 'node:http';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import puppeteer, { type Browser } from 'puppeteer';

/** The flags of WEBGPU-HEADLESS.md: WebGPU on SwiftShader, and no background network traffic. */
export const CHROMIUM_WEBGPU_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  // Without these Chromium floods the closed network with refused connections.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface RunInChromiumOptions {
  /** Whole run, from launch to result. Default 120 s (SwiftShader compiles shaders slowly). */
  timeoutMs?: number;
  /** Default: env CHROMIUM_PATH, else /usr/bin/chromium. */
  executablePath?: string;
  /** Appended to CHROMIUM_WEBGPU_FLAGS. */
  extraArgs?: string[];
  /** Receives every page console message. Default: printed as `[page:<type>] text`. */
  onConsole?: (type: string, text: string) => void;
  /** Do not fail the run because the page logged console errors. */
  allowConsoleErrors?: boolean;
  /** Files the page may fetch: URL path (`/models/x.safetensors`) → file on this machine. */
  assets?: Readonly<Record<string, string>>;
}

/** Bundles entryFile (and everything it imports) into one browser ES module. */
export async function bundleForBrowser(entryFile: string): Promise<string> {
  const out = await build({
    entryPoints: [entryFile],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    // device.ts only imports these on Node (through a non-literal specifier); never bundle them.
    external: ['webgpu', 'node:*'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>webgpu harness</title>
<script>
  addEventListener('error', (e) => { window.__error ??= String(e.error?.stack ?? e.message); });
  addEventListener('unhandledrejection', (e) => { window.__error ??= String(e.reason?.stack ?? e.reason); });
</script>
<script type="module" src="/entry.js" onerror="window.__error ??= 'failed to load /entry.js'"></script>
`;

const CONTENT_TYPES: Readonly<Record<string, string>> = { wasm: 'application/wasm', js: 'text/javascript', mjs: 'text/javascript', json: 'application/json' };

function serve(bundle: string, assets: Readonly<Record<string, string>> = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const asset = req.url !== undefined && Object.hasOwn(assets, req.url) ? assets[req.url]! : undefined;
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.url === '/entry.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    } else if (asset !== undefined) {
      const type = CONTENT_TYPES[asset.slice(asset.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
      createReadStream(asset)
        .on('error', (e) => res.headersSent ? res.destroy(e) : res.writeHead(404).end(`${req.url}: ${e.message}`))
        .once('open', () => res.writeHead(200, { 'content-type': type }))
        .pipe(res);
    } else {
      res.writeHead(204).end(); // favicon and the like: no 404 noise in the console
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      resolve({ server, url: `http://127.0.0.1:${address.port}/` });
    });
  });
}

export interface LaunchOptions {
  /** Launch, and every single DevTools call (puppeteer's protocolTimeout). Default 120 s. */
  timeoutMs?: number;
  /** Default: env CHROMIUM_PATH, else /usr/bin/chromium. */
  executablePath?: string;
  /** Appended to CHROMIUM_WEBGPU_FLAGS (later switches win in Chromium's command line). */
  extraArgs?: string[];
}

export interface LaunchedChromium {
  readonly browser: Browser;
  /** Closes the browser (killing it if it does not close) and removes its throwaway profile. */
  close(): Promise<void>;
}

/**
 * Headless system Chromium with WebGPU on SwiftShader (CHROMIUM_WEBGPU_FLAGS), a fresh throwaway
 * profile and DevTools over a pipe. Used by runInChromium and by the web page's test.
 */
export async function launchChromium(opts: LaunchOptions = {}): Promise<LaunchedChromium> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const userDataDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: opts.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true, // puppeteer adds --headless=new itself
      args: [...CHROMIUM_WEBGPU_FLAGS.filter((f) => f !== '--headless'), ...(opts.extraArgs ?? [])],
      userDataDir, // a fresh profile: nothing left over from earlier runs
      pipe: true, // DevTools over a pipe rather than another TCP port
      timeout: timeoutMs,
      // A long page.waitForFunction is one DevTools call: without this puppeteer abandons it after 180 s.
      protocolTimeout: timeoutMs,
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Bundles entryFile, serves it, runs it in headless Chromium and returns window.__result. */
export async function runInChromium(entryFile: string, opts: RunInChromiumOptions = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const onConsole = opts.onConsole ?? ((type, text) => console.log(`[page:${type}] ${text}`));
  const problems: string[] = [];

  const bundle = await bundleForBrowser(entryFile);
  const { server, url } = await serve(bundle, opts.assets);
  let launched: LaunchedChromium | undefined;
  try {
    launched = await launchChromium({ timeoutMs, executablePath: opts.executablePath, extraArgs: opts.extraArgs });
    const browser = launched.browser;
    const page = await browser.newPage();
    page.on('console', (msg) => {
      onConsole(msg.type(), msg.text());
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));

    await page.goto(url, { waitUntil: 'load', timeout: Math.max(1, deadline - Date.now()) });
    try {
      await page.waitForFunction(() => '__result' in window || '__error' in window, {
        timeout: Math.max(1, deadline - Date.now()),
        polling: 100,
      });
    } catch (err) {
      throw new Error(`runInChromium(${entryFile}): no result within ${timeoutMs} ms\n${problems.join('\n')}`, { cause: err });
    }
    const { result, error } = await page.evaluate(() => {
      const w = window as unknown as { __result?: unknown; __error?: unknown };
      return { result: w.__result, error: w.__error };
    });
    if (error !== undefined) {
      throw new Error(`runInChromium(${entryFile}): ${String(error)}\n${problems.join('\n')}`);
    }
    if (problems.length > 0 && !opts.allowConsoleErrors) {
      throw new Error(`runInChromium(${entryFile}): the page reported errors:\n${problems.join('\n')}`);
    }
    return result;
  } finally {
    await launched?.close();
    server.closeAllConnections();
    server.close();
  }
}
