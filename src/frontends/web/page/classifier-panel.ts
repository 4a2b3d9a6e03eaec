// "Try it": a drawn digit, an uploaded picture or a held-out image, classified by both models
// (top 3 each), with FPET's merge map and its tokens per block.

import { mergeMapSvg, type MergeMap, type Prediction } from '../../../index.ts';
import { DrawPad, paintGrey } from '../ui/draw-pad.ts';
import { pictureToInput } from '../ui/image-input.ts';
import { $, el, errText, pct, reportErrors, text } from './dom.ts';
import type { PageState } from './page-state.ts';
import { IMAGE, VARIANTS, label } from './variants.ts';

/** The picture both models classify. */
export interface CurrentPicture {
  pixels: Float32Array;
  caption: string;
  label?: number;
  /** Numbers pictures in order; the predictions and merge map shown carry it (data-picture). */
  id?: number;
}

/** The drawing pad, the picture on it and what both models make of it. */
export class ClassifierPanel {
  picture: CurrentPicture | undefined;
  lastMergeMap: MergeMap | undefined;
  pictures = 0;
  readonly pad: DrawPad;

  constructor(private readonly page: PageState) {
    this.pad = new DrawPad($<HTMLCanvasElement>('pad'));
    page.queue.inference = {
      ready: () => !!this.picture && !!page.ctx,
      run: () => this.infer(),
      failed: (e) => {
        if (page.ctx) text('try-hint', `inference failed: ${errText(e)}`);
      },
    };
  }

  bind(): void {
    const page = this.page;
    $('dataset').addEventListener('change', () => reportErrors(page.loadPack($<HTMLSelectElement>('dataset').value).then((p) => {
      page.pack = p;
      this.showHeldOut(0);
    })));
    $('clear').addEventListener('click', () => {
      this.pad.clear();
      this.picture = undefined;
    });
    $('sample').addEventListener('click', () => this.showHeldOut());
    this.pad.onChange = () => {
      const mnist = (page.pack?.dataset.name ?? 'mnist') === 'mnist';
      this.setPicture({ pixels: this.pad.toImage(IMAGE, mnist), caption: `your drawing${mnist ? ' (scaled to 20×20 and centred, as MNIST)' : ''}` });
    };
    $<HTMLInputElement>('upload-image').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      input.value = '';
      if (!f) return;
      reportErrors(pictureToInput(f, IMAGE).then((p) => {
        this.pad.show(p.pixels, IMAGE);
        this.setPicture({ pixels: p.pixels, caption: `${f.name.slice(0, 40)} (${p.width}×${p.height}${p.inverted ? ', inverted' : ''})` });
      }));
    });
  }

  setPicture(p: CurrentPicture): void {
    p.id = ++this.pictures;
    this.picture = p;
    paintGrey($<HTMLCanvasElement>('preview'), p.pixels, IMAGE);
    $('preview').dataset.picture = String(p.id);
    text('preview-caption', p.caption);
    this.page.queue.requestInference();
  }

  /** Shows held-out image i of the data pack (a random one without i). */
  showHeldOut(i?: number): void {
    const pack = this.page.pack;
    const test = pack.test;
    const k = i ?? Math.floor(Math.random() * test.indices.length);
    const idx = test.indices[k]!;
    const per = IMAGE * IMAGE;
    const pixels = pack.dataset.images.slice(idx * per, (idx + 1) * per);
    const label = pack.dataset.labels[idx]!;
    this.pad.show(pixels, IMAGE);
    this.setPicture({ pixels, label, caption: `held-out #${k}: ${pack.dataset.classes[label]}` });
  }

  // Scheduled by the page's queue (requestInference), never called directly.
  private async infer(): Promise<void> {
    const page = this.page;
    const picture = this.picture!;
    const classes = page.pack.dataset.classes;
    for (const id of VARIANTS) {
      const v = page.variants[id];
      const c = v.interactive;
      if (!c) continue;
      if (v.runner) c.setWeights(await page.currentWeights(v));
      const t0 = performance.now();
      // One run gives the classes and, for a merging model, its merge map.
      const [pred] = c.model.merges.length ? await c.classifyWithMaps(picture.pixels, 3, 1) : (await c.classify(picture.pixels, 3, 1)).map((p) => ({ ...p, mergeMap: undefined }));
      const ms = performance.now() - t0;
      text(`latency-${id}`, `${ms.toFixed(0)} ms`);
      this.showTop3(id, pred!, picture, classes);
      if (pred?.mergeMap) this.showMergeMap(pred.mergeMap, picture, `${label(v)}: ${classes[pred.top[0]!.label]}`, c.model.spec.inputCrop);
    }
    if (!page.variants.fpet.interactive?.model.merges.length) {
      $('merge-map').replaceChildren();
      $('merge-tokens').replaceChildren();
    }
  }

  private showTop3(id: string, pred: Prediction, picture: CurrentPicture, classes: readonly string[]): void {
    const list = $(`pred-${id}`);
    list.dataset.picture = String(picture.id);
    list.dataset.top = String(pred.top[0]!.label);
    list.dataset.topName = classes[pred.top[0]!.label] ?? '';
    list.replaceChildren(...pred.top.map((t) => el('li', { 'data-label': String(t.label) },
      el('span', { class: 'cls' }, `${classes[t.label] ?? t.label}${picture.label === t.label ? ' ✓' : ''}`),
      el('span', { class: 'pbar' }, el('div', { style: `width:${(100 * t.probability).toFixed(1)}%` })),
      el('span', { class: 'p' }, pct(t.probability)))));
  }

  showMergeMap(map: MergeMap, picture: CurrentPicture, title: string, inputCrop?: number): void {
    this.lastMergeMap = map;
    const box = $('merge-map');
    // mergeMapSvg: the CLI's `infer --merge-map` picture (every value in it is a number or escaped text).
    box.innerHTML = mergeMapSvg(map, picture.pixels, 1, IMAGE, title, inputCrop);
    const groups = map.steps.map((s) => Array.from(s.sizes).filter((n) => n > 1).length);
    box.dataset.groups = groups.join(' ');
    box.dataset.picture = String(picture.id);
    box.dataset.tokens = map.tokensPerBlock.join(' ');
    const merged = new Set(map.steps.map((s) => s.block));
    const max = Math.max(...map.tokensPerBlock);
    $('merge-tokens').replaceChildren(...map.tokensPerBlock.map((n, b) =>
      el('div', { class: merged.has(b) || b > Math.min(...merged) ? 'merged' : '', style: `height:${Math.round((100 * n) / max)}%`, title: `block ${b}: ${n} tokens into its MLP` }, el('span', {}, String(n)), el('small', {}, `b${b}`))));
  }
}
