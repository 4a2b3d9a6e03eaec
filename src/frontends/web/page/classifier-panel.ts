// "Try it": a drawn digit, an uploaded picture or a held-out image, sent to the worker and
// classified by both models (top 3 each), with FPET's merge map and its tokens per block. The pad
// draws on the page's thread, so drawing never waits for the GPU.

import type { EngineEvent, Picture } from '../protocol.ts';
import { DrawPad, paintGrey } from '../ui/draw-pad.ts';
import { pictureToInput } from '../ui/image-input.ts';
import { IMAGE, VARIANTS, type VariantId } from '../variants.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, pct, reportErrors, text } from './dom.ts';
import type { VariantViews } from './variant-view.ts';

/** The drawing pad, the picture on it and what both models make of it. */
export class ClassifierPanel {
  picture: Picture | undefined;
  private pictures = 0;
  readonly pad: DrawPad;
  private dataset = 'mnist';

  constructor(private readonly engine: EngineClient, private readonly names: VariantViews) {
    this.pad = new DrawPad($<HTMLCanvasElement>('pad'));
  }

  bind(): void {
    const engine = this.engine;
    $('dataset').addEventListener('change', () => reportErrors(this.useDataset($<HTMLSelectElement>('dataset').value)));
    $('clear').addEventListener('click', () => {
      this.pad.clear();
      this.picture = undefined;
    });
    $('sample').addEventListener('click', () => reportErrors(this.showHeldOut()));
    this.pad.onChange = () => {
      const mnist = this.dataset === 'mnist';
      this.setPicture(this.pad.toImage(IMAGE, mnist), `your drawing${mnist ? ' (scaled to 20×20 and centred, as MNIST)' : ''}`);
    };
    $<HTMLInputElement>('upload-image').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      input.value = '';
      if (!f) return;
      reportErrors(pictureToInput(f, IMAGE).then((p) => {
        this.pad.show(p.pixels, IMAGE);
        this.setPicture(p.pixels, `${f.name.slice(0, 40)} (${p.width}×${p.height}${p.inverted ? ', inverted' : ''})`);
      }));
    });
    engine.on('prediction', (e) => this.showTop3(e));
    engine.on('merge-map', (e) => this.showMergeMap(e));
    engine.on('merge-map-none', () => {
      $('merge-map').replaceChildren();
      $('merge-tokens').replaceChildren();
    });
    engine.on('inference-failed', (e) => text('try-hint', e.text));
  }

  /** Another data set: the worker loads it (and its models of first sight); a held-out image of it is shown. */
  private async useDataset(name: string): Promise<void> {
    await this.engine.request({ kind: 'dataset', name });
    this.dataset = name;
    await this.showHeldOut(0);
  }

  /** Sends a picture to the worker, numbered so that late answers for older pictures are recognised. */
  setPicture(pixels: Float32Array, caption: string, label?: number): void {
    const p: Picture = { id: ++this.pictures, pixels, caption, label };
    this.picture = p;
    paintGrey($<HTMLCanvasElement>('preview'), p.pixels, IMAGE);
    $('preview').dataset.picture = String(p.id);
    $('preview').setAttribute('aria-label', `what the models see (28×28 grey): ${caption}`);
    text('preview-caption', p.caption);
    reportErrors(this.engine.request({ kind: 'picture', picture: p }));
  }

  /** Shows held-out image i of the data pack (a random one without i). */
  async showHeldOut(i?: number): Promise<void> {
    const h = await this.engine.request({ kind: 'held-out', index: i });
    this.pad.show(h.pixels, IMAGE);
    this.setPicture(h.pixels, h.caption, h.label);
  }

  private showTop3(e: Extract<EngineEvent, { kind: 'prediction' }>): void {
    if (e.pictureId !== this.picture?.id) return;
    text(`latency-${e.id}`, `${e.ms.toFixed(0)} ms`);
    const list = $(`pred-${e.id}`);
    list.dataset.picture = String(e.pictureId);
    list.dataset.top = String(e.top[0]!.label);
    list.dataset.topName = e.top[0]!.name;
    list.replaceChildren(...e.top.map((t) => el('li', { 'data-label': String(t.label) },
      el('span', { class: 'cls' }, `${t.name}${this.picture?.label === t.label ? ' ✓' : ''}`),
      el('span', { class: 'pbar', 'aria-hidden': 'true' }, el('div', { style: `width:${(100 * t.probability).toFixed(1)}%` })),
      el('span', { class: 'p' }, pct(t.probability)))));
    this.announce();
  }

  /** One sentence for screen readers once both models answered the current picture. */
  private announce(): void {
    const id = String(this.picture?.id);
    const answers = VARIANTS.map((v: VariantId) => ({ v, list: $(`pred-${v}`) })).filter((a) => a.list.dataset.picture === id);
    if (answers.length < VARIANTS.length) return;
    text('try-answer', `${answers.map(({ v, list }) => `${this.names.label(v)} reads ${list.dataset.topName} (${list.querySelector('.p')?.textContent ?? ''})`).join('; ')}.`);
  }

  private showMergeMap(e: Extract<EngineEvent, { kind: 'merge-map' }>): void {
    if (e.pictureId !== this.picture?.id) return;
    const box = $('merge-map');
    // The worker's mergeMapSvg: the CLI's `infer --merge-map` picture (every value in it is a number or escaped text).
    box.innerHTML = e.svg;
    box.querySelector('svg')?.setAttribute('role', 'img');
    box.querySelector('svg')?.setAttribute('aria-label', `merge map: ${e.groups.join(', ')} groups of merged patches; tokens per block ${e.tokens.join(' ')}`);
    box.dataset.groups = e.groups.join(' ');
    box.dataset.picture = String(e.pictureId);
    box.dataset.tokens = e.tokens.join(' ');
    const max = Math.max(...e.tokens);
    const bars = $('merge-tokens');
    bars.setAttribute('aria-label', `tokens into each block's MLP: ${e.tokens.map((n, b) => `block ${b} ${n}`).join(', ')}`);
    bars.replaceChildren(...e.tokens.map((n, b) =>
      el('div', { class: b >= e.mergedFrom ? 'merged' : '', style: `height:${Math.round((100 * n) / max)}%`, title: `block ${b}: ${n} tokens into its MLP` }, el('span', {}, String(n)), el('small', {}, `b${b}`))));
  }
}
