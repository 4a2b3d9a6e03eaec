// The web page in real headless Chromium (system Chromium, SwiftShader WebGPU): builds it
// (src/frontends/web/build.ts, as `npm run build:web`), serves dist/web from localhost (src/frontends/web/static-server.ts,
// as `npm start -- serve`) and uses it as a person would:
//
//   - without WebGPU: the page says why and what to do;
//   - with it: the adapter is shown (a software adapter here); AdaptFormer and AdaptFormer + FPET
//     train a few steps; loss values, held-out accuracy, img/s, predictions and the merge map
//     reach the DOM; pause; a digit drawn with mouse events is classified by both models and its
//     merge map drawn; inference is timed side by side;
//   - the FPET adapters are downloaded and read by the CLI's own loader (what `npm start -- eval
//     --adapters` runs), and an adapters file written by the CLI's writer is uploaded (the page
//     re-specialises FPET for the file's merge block and ratio);
//   - GPU memory (the context's live buffer bytes, shown on the page) is back to its baseline after
//     a reset: programs are destroyed, nothing grows;
//   - the device lost in the middle of a second run is reported and the GPU re-initialised without
//     a reload (memory at the same baseline on the new device).
//
// Screenshots go to runs/browser-page/ (git-ignored). SwiftShader is slow: the run is sized to a
// handful of steps at batch 4 on 64 images with 8 held-out ones; most of its time is the driver
// compiling the training kernels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { buildWeb, DEFAULT_OUT, ROOT } from '../../src/frontends/web/build.ts';
import { serveStatic } from '../../src/frontends/web/static-server.ts';
import { launchChromium } from '../../src/frontends/web/chromium.ts';
import { loadTrainedModel } from '../../src/fpet/train/trained-model.ts';
import { saveWeights } from '../../src/fpet/train/checkpoint.ts';
import { DEFAULT_MERGE, DEFAULT_PET, VIT_PRESETS, buildModel, initialWeights, mulberry32, modelParamShapes, type ModelSpec } from '../../src/index.ts';

const OUT = join(ROOT, 'runs/browser-page');
const STEP_MS = 15 * 60_000; // the longest single wait (SwiftShader compiling the training kernels under load)

interface Memory {
  liveBytes: number;
  liveBuffers: number;
}

/** Live GPU memory once the page has no compile queued and no inference in flight. */
const memory = (page: Page) => page.evaluate(() => (window as unknown as { fpetPage: { settledMemory(): Promise<Memory> } }).fpetPage.settledMemory());
const textOf = (page: Page, id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');
const dataOf = (page: Page, id: string, key: string) => page.$eval(`#${id}`, (e, k) => (e as HTMLElement).dataset[k] ?? '', key);
const stateIs = (page: Page, ...states: string[]) =>
  page.waitForFunction((s: string[]) => s.includes(document.body.dataset.state ?? ''), { timeout: STEP_MS, polling: 200 }, states);
const stepsOf = (page: Page, id: string) => dataOf(page, `progress-${id}`, 'step').then(Number);

async function setValue(page: Page, id: string, value: string): Promise<void> {
  await page.$eval(`#${id}`, (e, v) => {
    (e as HTMLInputElement).value = v;
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

/** Waits until the predictions and merge map on the page belong to the latest picture. */
async function waitForInference(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const id = document.getElementById('preview')?.dataset.picture;
    return !!id && ['pred-base', 'pred-fpet', 'merge-map'].every((e) => document.getElementById(e)?.dataset.picture === id);
  }, { timeout: STEP_MS, polling: 200 });
}

async function waitForClick(page: Page, id: string): Promise<void> {
  await page.waitForFunction((i: string) => !(document.getElementById(i) as HTMLButtonElement).disabled, { timeout: STEP_MS, polling: 200 }, id);
  await page.click(`#${id}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, name), fullPage: true });
}

test('web page: train, draw, merge map, speed, adapter files, memory and device loss in headless Chromium', { timeout: 30 * 60_000 }, async (t) => {
  const t0 = Date.now();
  const log = (s: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${s}`);
  mkdirSync(OUT, { recursive: true });
  const built = await buildWeb({ outDir: DEFAULT_OUT });
  log(`built ${built.outDir} in ${built.seconds.toFixed(1)} s`);
  const server = await serveStatic(DEFAULT_OUT);
  const chromium = await launchChromium({ timeoutMs: STEP_MS });
  const downloads = join(OUT, 'downloads');
  rmSync(downloads, { recursive: true, force: true });
  mkdirSync(downloads, { recursive: true });
  try {
    // --- Without WebGPU: a clear message.
    {
      const page = await chromium.browser.newPage();
      await page.evaluateOnNewDocument(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
      await page.goto(server.url);
      await stateIs(page, 'no-webgpu');
      const why = await textOf(page, 'no-webgpu');
      assert.match(why, /does not offer WebGPU/);
      assert.match(why, /What to do/);
      assert.match(why, /enable-unsafe-webgpu/);
      await shot(page, 'no-webgpu.png');
      await page.close();
      log('no WebGPU: the page explains why and what to do');
    }

    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });

    // --- Boot: adapter, first picture (a held-out image) classified, merge map drawn.
    await page.goto(server.url);
    await stateIs(page, 'ready', 'error', 'no-webgpu');
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', await textOf(page, 'banner'));
    const adapter = await textOf(page, 'adapter');
    assert.match(adapter, /swiftshader/i);
    assert.match(await textOf(page, 'adapter-class'), /software adapter/);
    await waitForInference(page);
    assert.equal(await dataOf(page, 'merge-map', 'tokens'), '50 50 50 25 25 25');
    assert.equal(await textOf(page, 'tokens-fpet'), '50 50 50 25 25 25');
    assert.equal(await textOf(page, 'tokens-base'), '50 50 50 50 50 50');
    const baseline = await memory(page);
    assert.ok(baseline.liveBytes > 0, 'the inference programs hold GPU memory');
    assert.match(await textOf(page, 'gpu-memory'), /MiB in \d+ buffers/);
    await shot(page, 'boot.png');
    log(`ready on ${adapter}; baseline GPU memory ${baseline.liveBytes} bytes in ${baseline.liveBuffers} buffers`);

    // --- Train both models a few steps (batch 4, 64 images, 8 held-out, accuracy every 2 steps).
    await setValue(page, 'train-size', '64');
    await setValue(page, 'test-size', '8');
    await setValue(page, 'batch', '4');
    await setValue(page, 'eval-batch', '4');
    await setValue(page, 'eval-every', '2');
    await setValue(page, 'epochs', '1');
    await page.click('#start');
    await stateIs(page, 'training', 'error');
    log('compiled; training');
    await page.waitForFunction(() => ['acc-base', 'acc-fpet'].every((id) => document.getElementById(id)!.dataset.accuracy), { timeout: STEP_MS, polling: 300 });
    await page.click('#pause');
    await page.waitForFunction(() => /^paused/.test(document.getElementById('status')!.textContent ?? ''), { timeout: STEP_MS, polling: 200 });
    for (const id of ['base', 'fpet']) {
      const loss = Number(await textOf(page, `loss-${id}`));
      assert.ok(Number.isFinite(loss) && loss > 0 && loss < 10, `loss of ${id}: ${loss}`);
      const acc = Number(await dataOf(page, `acc-${id}`, 'accuracy'));
      assert.ok(acc >= 0 && acc <= 1, `accuracy of ${id}: ${acc}`);
      assert.ok((await stepsOf(page, id)) >= 2, `steps of ${id}`);
      assert.ok(Number(await dataOf(page, `ips-${id}`, 'mean')) > 0, `img/s of ${id}`);
      assert.match(await textOf(page, `compile-${id}`), /train [\d.]+ (s|ms)/);
    }
    const rates = await page.$$eval('#ips-base, #ips-fpet', (es) => es.map((e) => e.textContent));
    log(`paused at steps ${await stepsOf(page, 'base')} / ${await stepsOf(page, 'fpet')}; train img/s ${rates.join(' | ')}; loss ${await textOf(page, 'loss-base')} / ${await textOf(page, 'loss-fpet')}`);
    assert.ok(await page.$eval('#compile-log', (e) => e.children.length >= 4), 'the compile log lists the programs');
    await shot(page, 'training.png');

    // --- Draw a 7 with mouse events: both models classify it, FPET draws its merge map.
    await page.click('#clear');
    const box = (await (await page.$('#pad'))!.boundingBox())!;
    const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
    await page.mouse.move(...at(0.25, 0.22));
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(...at(0.25 + 0.5 * (i / 10), 0.22));
    for (let i = 1; i <= 14; i++) await page.mouse.move(...at(0.75 - 0.3 * (i / 14), 0.22 + 0.6 * (i / 14)));
    await page.mouse.up();
    await page.waitForFunction(() => /your drawing/.test(document.getElementById('preview-caption')!.textContent ?? ''), { timeout: 10_000 });
    await waitForInference(page);
    const predicted: Record<string, string> = {};
    for (const id of ['base', 'fpet']) {
      const items = await page.$$eval(`#pred-${id} li`, (lis) => lis.map((li) => ({ label: Number((li as HTMLElement).dataset.label), p: li.querySelector('.p')!.textContent })));
      assert.equal(items.length, 3, `top 3 of ${id}`);
      for (const it of items) assert.ok(it.label >= 0 && it.label <= 9 && /%$/.test(it.p ?? ''), JSON.stringify(it));
      predicted[id] = `${items[0]!.label} (${items[0]!.p})`;
    }
    const groups = (await dataOf(page, 'merge-map', 'groups')).split(' ').map(Number);
    assert.ok(groups.length === 1 && groups[0]! >= 1, `merged groups: ${groups}`);
    assert.ok(await page.$eval('#merge-map', (e) => e.querySelectorAll('svg rect[fill-opacity]').length > 0), 'coloured merged patches over the image');
    const drawnPixels = await page.evaluate(() => {
      const c = document.getElementById('preview') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! > 128) lit++;
      return lit / (d.length / 4);
    });
    assert.ok(drawnPixels > 0.03 && drawnPixels < 0.6, `the drawn digit reached the model input (${(100 * drawnPixels).toFixed(1)}% lit)`);
    log(`drew a 7: AdaptFormer says ${predicted.base}, FPET says ${predicted.fpet}; ${groups[0]} merged groups`);
    await shot(page, 'drawn.png');

    // --- Inference speed side by side.
    await waitForClick(page, 'measure');
    await page.waitForFunction(() => document.getElementById('speedup')!.dataset.speedup, { timeout: STEP_MS, polling: 300 });
    const speedup = Number(await dataOf(page, 'speedup', 'speedup'));
    assert.ok(speedup > 0 && Number.isFinite(speedup));
    log(`inference: AdaptFormer ${await textOf(page, 'speed-base')} img/s, FPET ${await textOf(page, 'speed-fpet')} img/s (${speedup.toFixed(2)}x)`);

    // --- Download the FPET adapters; the CLI's loader (eval --adapters) reads them.
    await waitForClick(page, 'download-fpet');
    await page.waitForFunction(() => document.getElementById('files-info')!.dataset.lastDownload, { timeout: 60_000, polling: 200 });
    const name = await dataOf(page, 'files-info', 'lastDownload');
    const file = join(downloads, name);
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(file), `downloaded ${name} (${readdirSync(downloads).join(', ')})`);
    const cli = await loadTrainedModel(file, join(ROOT, 'models/vit-mnist-fashion.safetensors'), 100);
    assert.deepEqual(cli.spec.merge?.blocks, [3]);
    assert.equal(cli.spec.merge?.ratio, 0.5);
    assert.equal(cli.spec.pet.method, 'adaptformer');
    assert.equal(cli.spec.batch, 100);
    assert.equal(cli.spec.inputCrop, 20, 'trained on MNIST with the main job\'s recipe: the central 20×20 digit box');
    log(`downloaded ${name}; loadTrainedModel (eval --adapters) reads it: ${cli.weights.size} tensors`);

    // --- Reset: every training program destroyed, GPU memory back to the baseline.
    await waitForClick(page, 'reset');
    await stateIs(page, 'ready');
    const afterReset = await memory(page);
    assert.deepEqual({ liveBytes: afterReset.liveBytes, liveBuffers: afterReset.liveBuffers }, { liveBytes: baseline.liveBytes, liveBuffers: baseline.liveBuffers }, 'GPU memory after reset');

    // --- A second run (the kernels are cached now), and the device is lost in the middle of it:
    //     reported, the GPU re-initialised without a reload, memory at the baseline on the new device.
    await waitForClick(page, 'start');
    await page.waitForFunction(() => ['base', 'fpet'].every((id) => Number(document.getElementById(`progress-${id}`)!.dataset.step ?? 0) >= 1), { timeout: STEP_MS, polling: 300 });
    const during = await page.evaluate(() => (window as unknown as { fpetPage: { memory(): Memory } }).fpetPage.memory());
    assert.ok(during.liveBytes > baseline.liveBytes, 'the training programs hold memory while training');
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    await page.evaluate(() => (window as unknown as { fpetPage: { loseDevice(): void } }).fpetPage.loseDevice());
    await page.waitForFunction(() => document.getElementById('banner')!.classList.contains('ok'), { timeout: STEP_MS, polling: 200 });
    assert.match(await textOf(page, 'banner'), /lost and re-initialised without a reload.*Training stopped/);
    assert.equal(await page.evaluate(() => performance.timeOrigin), timeOrigin, 'no reload');
    assert.equal(await page.evaluate(() => (window as unknown as { fpetPage: { deviceLosses(): number } }).fpetPage.deviceLosses()), 1);
    await stateIs(page, 'ready');
    await page.click('#sample');
    await waitForInference(page);
    const afterLoss = await memory(page);
    assert.deepEqual({ liveBytes: afterLoss.liveBytes, liveBuffers: afterLoss.liveBuffers }, { liveBytes: baseline.liveBytes, liveBuffers: baseline.liveBuffers }, 'GPU memory on the new device');
    await shot(page, 'after-device-loss.png');
    log(`memory: baseline ${baseline.liveBytes} B, training ${during.liveBytes} B, after reset ${afterReset.liveBytes} B; device lost mid-run: re-initialised, ${afterLoss.liveBytes} B`);

    // --- Upload an adapters file written by the CLI's writer (saveWeights, as train writes adapters.safetensors),
    //     with another merge block and ratio: the page re-specialises FPET for it.
    const spec: ModelSpec = { vit: VIT_PRESETS['vit-mnist'], batch: 16, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [2], ratio: 0.25 } };
    const weights = initialWeights(spec, 7);
    const rand = mulberry32(3);
    const trainable = new Map(buildModel(spec).trainable.map((n) => [n, weights.get(n)!.map((x) => x + 0.01 * (rand() - 0.5))]));
    const cliFile = join(OUT, 'cli-adapters.safetensors');
    await saveWeights(cliFile, trainable, modelParamShapes(spec), { kind: 'adapters', spec: JSON.stringify(spec), seed: '7', backbone: 'models/vit-mnist-fashion.safetensors', step: '123' });
    const input = (await page.$('#upload-adapters'))!;
    await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(cliFile);
    await page.waitForFunction(() => document.getElementById('files-info')!.dataset.loaded === 'cli-adapters.safetensors', { timeout: STEP_MS, polling: 200 });
    assert.match(await textOf(page, 'source-fpet'), /loaded cli-adapters\.safetensors \(step 123\)/);
    assert.equal(await page.$eval('#merge-block', (e) => (e as HTMLSelectElement).value), '2');
    await waitForInference(page);
    // The inference of the picture already shown may still be the old model's: the page re-specialises
    // FPET for the file's block and ratio and infers again, so wait for that merge map (as below for the ratio).
    await page.waitForFunction(() => document.getElementById('merge-map')?.dataset.tokens === '50 50 38 38 38 38', { timeout: STEP_MS, polling: 200 }).catch(() => undefined);
    assert.equal(await dataOf(page, 'merge-map', 'tokens'), '50 50 38 38 38 38');
    log(`uploaded a CLI-written adapters file: ${await textOf(page, 'files-info')}`);

    // --- Change the merge ratio by hand: the FPET kernels are re-specialised (no run: inference only).
    const compiles = await page.$eval('#compile-log', (e) => e.children.length);
    await setValue(page, 'merge-ratio', '0.5');
    await page.$eval('#merge-ratio', (e) => e.dispatchEvent(new Event('input', { bubbles: true })));
    await page.waitForFunction((n: number) => document.getElementById('compile-log')!.children.length > n && document.getElementById('tokens-fpet')!.textContent === '50 50 25 25 25 25', { timeout: STEP_MS, polling: 200 }, compiles);
    log(`re-specialised: ${await page.$eval('#compile-log', (e) => e.lastElementChild!.textContent)}`);

    await shot(page, 'uploaded.png');
    assert.deepEqual(problems, [], 'the page reported errors');
  } finally {
    await chromium.close();
    await server.close();
  }
  log('done');
});
