// The picture on the page's pad, classified in the worker by both models (top 3 each), with FPET's
// merge map (the CLI's `infer --merge-map` picture) and its tokens per block. Scheduled by the
// queue (coalesced: the latest picture wins), never while a program is being replaced.

import { mergeMapSvg, type MergeMap } from '../../../index.ts';
import type { Picture } from '../protocol.ts';
import { IMAGE, VARIANTS, specLabel } from '../variants.ts';
import type { Engine } from './engine.ts';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 600);

/** Classifies the current picture whenever the page or a model changes it. */
export class Inference {
  constructor(private readonly engine: Engine) {
    engine.queue.inference = {
      ready: () => !!engine.picture && !!engine.ctx,
      run: () => this.infer(),
      failed: (e) => {
        if (engine.ctx) engine.emit({ kind: 'inference-failed', text: `inference failed: ${errText(e)}` });
      },
    };
  }

  /** A new picture from the page. */
  setPicture(p: Picture): void {
    this.engine.picture = p;
    this.engine.queue.requestInference();
  }

  /** Held-out image i of the data pack (a random one without i). */
  heldOut(i?: number): { pixels: Float32Array; label: number; caption: string } {
    const pack = this.engine.pack;
    const test = pack.test;
    const k = i === undefined ? Math.floor(Math.random() * test.indices.length) : Math.max(0, Math.min(test.indices.length - 1, Math.floor(i)));
    const idx = test.indices[k]!;
    const per = IMAGE * IMAGE;
    const label = pack.dataset.labels[idx]!;
    return { pixels: pack.dataset.images.slice(idx * per, (idx + 1) * per), label, caption: `held-out #${k}: ${pack.dataset.classes[label]}` };
  }

  private async infer(): Promise<void> {
    const engine = this.engine;
    const picture = engine.picture!;
    const classes = engine.pack.dataset.classes;
    let mapped = false;
    for (const id of VARIANTS) {
      const v = engine.variants[id];
      const c = v.interactive;
      if (!c) continue;
      if (v.runner) c.setWeights(await engine.currentWeights(v));
      const t0 = performance.now();
      // One run gives the classes and, for a merging model, its merge map.
      const [pred] = c.model.merges.length ? await c.classifyWithMaps(picture.pixels, 3, 1) : (await c.classify(picture.pixels, 3, 1)).map((p) => ({ ...p, mergeMap: undefined }));
      const ms = performance.now() - t0;
      const top = pred!.top.map((t) => ({ label: t.label, name: classes[t.label] ?? String(t.label), probability: t.probability }));
      engine.emit({ kind: 'prediction', id, pictureId: picture.id, ms, top });
      if (pred?.mergeMap && id === 'fpet') {
        this.sendMergeMap(pred.mergeMap, picture, `${specLabel(v.spec)}: ${classes[pred.top[0]!.label]}`, c.model.spec.inputCrop);
        mapped = true;
      }
    }
    if (!mapped) engine.emit({ kind: 'merge-map-none' });
  }

  private sendMergeMap(map: MergeMap, picture: Picture, title: string, inputCrop?: number): void {
    // mergeMapSvg: the CLI's `infer --merge-map` picture (every value in it is a number or escaped text).
    const svg = mergeMapSvg(map, picture.pixels, 1, IMAGE, title, inputCrop);
    const groups = map.steps.map((s) => Array.from(s.sizes).filter((n) => n > 1).length);
    const mergedFrom = Math.min(...map.steps.map((s) => s.block));
    this.engine.emit({ kind: 'merge-map', pictureId: picture.id, svg, tokens: map.tokensPerBlock, groups, mergedFrom });
  }
}
