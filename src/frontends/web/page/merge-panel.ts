// FPET's merge block and ratio: the controls, what the merge does to the token count, and a
// request to the worker to re-specialise the FPET kernels once the slider rests.

import { mergeSchedule } from '../../../fpet/models/model.ts';
import { MIDDLE_BLOCK, VIT, modelSpec } from '../variants.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, errText, reportErrors, text } from './dom.ts';
import { chosenMerge } from './settings.ts';

/** The merge block and ratio controls. */
export class MergePanel {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    const block = $<HTMLSelectElement>('merge-block');
    block.replaceChildren(...Array.from({ length: VIT.depth }, (_, b) => el('option', { value: String(b) }, `${b}${b === MIDDLE_BLOCK ? ' (middle)' : ''}`)));
    block.value = String(MIDDLE_BLOCK);
    block.addEventListener('change', () => this.onInput());
    $('merge-ratio').addEventListener('input', () => this.onInput());
    this.engine.on('merge-set', ({ choice }) => {
      block.value = String(choice.mergeBlock);
      $<HTMLInputElement>('merge-ratio').value = String(choice.mergeRatio);
      this.describe();
    });
    this.describe();
  }

  /** Shows the ratio and what the merge does to the token count. */
  describe(): void {
    const s = chosenMerge();
    text('merge-ratio-out', s.mergeRatio.toFixed(2));
    try {
      const [m] = mergeSchedule(modelSpec('fpet', 1, undefined, 10, s));
      const patches = (VIT.imageSize / VIT.patchSize) ** 2;
      const later = m && m.block < VIT.depth - 1 ? ` and block${m.block + 1 < VIT.depth - 1 ? `s ${m.block + 1}–${VIT.depth - 1}` : ` ${m.block + 1}`}` : '';
      text('merge-explain', m ? `Block ${m.block} merges ${m.r} of the ${patches} patch tokens into others after its attention: its MLP${later} then work on ${m.tokensOut} tokens instead of ${m.tokensIn} (${Math.round((100 * m.r) / m.tokensIn)}% fewer).` : '');
    } catch (e) {
      text('merge-explain', errText(e));
    }
  }

  // A dragged slider fires many inputs: compile once it rests.
  private onInput(): void {
    this.describe();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => reportErrors(this.engine.request({ kind: 'merge', choice: chosenMerge() })), 350);
  }
}
