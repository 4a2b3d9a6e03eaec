// Each model as the page names it, wherever it appears (the runs table, the predictions, the
// download button), and which weights answer when a picture is classified: the shipped trained
// adapters, fresh ones, a run in progress, a finished run or a loaded file.

import type { Origin, VariantView } from '../protocol.ts';
import { VARIANTS, type VariantId } from '../variants.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, secs, text } from './dom.ts';

const BADGE: Record<Origin, string> = { shipped: 'trained (shipped)', fresh: 'untrained', training: 'training', trained: 'trained here', loaded: 'loaded file' };

/** The latest view of each variant. */
export class VariantViews {
  readonly views = new Map<VariantId, VariantView>();

  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    this.engine.on('variant', ({ view }) => this.show(view));
  }

  /** The variant's name as the page shows it. */
  label(id: VariantId): string {
    return this.views.get(id)?.label ?? (id === 'base' ? 'AdaptFormer' : 'AdaptFormer + FPET');
  }

  private show(v: VariantView): void {
    this.views.set(v.id, v);
    const row = document.querySelector(`tr[data-variant=${v.id}]`)!;
    row.querySelector('.name')!.textContent = v.label;
    document.querySelector(`.pred[data-variant=${v.id}] .name`)!.textContent = v.label;
    text(`source-${v.id}`, v.short);
    $(`source-${v.id}`).title = v.source;
    const answer = $(`answer-${v.id}`);
    answer.replaceChildren(el('span', { class: `origin ${v.origin}` }, BADGE[v.origin]), ` ${v.source}`);
    answer.dataset.origin = v.origin;
    text(`tokens-${v.id}`, v.tokens ? v.tokens.join(' ') : '–');
    const c = v.compile;
    text(`compile-${v.id}`, c ? [c.train !== undefined ? `train ${secs(c.train)}` : '', c.infer !== undefined ? `infer ${secs(c.infer)}` : ''].filter(Boolean).join(' · ') || '–' : '–');
    $(`download-${v.id}`).textContent = `Download ${v.label}`;
    this.showWhoAnswers();
  }

  /** One line over the predictions: which models answer. */
  private showWhoAnswers(): void {
    const origins = VARIANTS.map((id) => this.views.get(id)?.origin);
    const line = origins.every((o) => o === 'shipped')
      ? 'Answering: the main job\'s trained adapters, shipped with the page. Press Start to train both models here from the backbone.'
      : origins.every((o) => o === 'fresh')
        ? 'Answering: fresh, untrained adapters (no trained adapters ship for this data set): press Start to train them.'
        : `Answering: ${VARIANTS.map((id) => `${this.label(id)}, ${BADGE[this.views.get(id)?.origin ?? 'fresh']}`).join('; ')}.`;
    text('who-answers', line);
  }
}
