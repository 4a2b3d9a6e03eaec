// Which buttons can be pressed: derived from the page's state every time it changes, never toggled
// one by one, so no sequence of events can leave one stuck.

import { $ } from './dom.ts';

/** What the buttons depend on. */
export interface ButtonState {
  /** A GPU device is there. */
  readonly gpu: boolean;
  /** An exclusive operation (compile, re-specialisation, loading) is queued or running. */
  readonly busy: boolean;
  readonly running: boolean;
  readonly hasRun: boolean;
  readonly paused: boolean;
  /** Something to reset: a run, trained steps or loaded adapters. */
  readonly resettable: boolean;
}

/** Enables, disables and labels the page's buttons for this state. */
export function setButtons(s: ButtonState): void {
  const { gpu, busy } = s;
  const set = (id: string, enabled: boolean) => (($(id) as HTMLButtonElement).disabled = !enabled);
  set('start', gpu && !busy && !s.running);
  $('start').textContent = s.hasRun ? 'Start again' : 'Start training';
  set('pause', gpu && !busy && s.running);
  $('pause').textContent = s.paused ? 'Resume' : 'Pause';
  set('reset', gpu && !busy && s.resettable);
  set('measure', gpu && !busy);
  set('download-base', gpu && !busy);
  set('download-fpet', gpu && !busy);
  set('lose-device', gpu && !busy);
  ($('merge-block') as HTMLSelectElement).disabled = !gpu;
  ($('merge-ratio') as HTMLInputElement).disabled = !gpu;
}
