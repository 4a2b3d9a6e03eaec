// Which buttons can be pressed: derived from the worker's flags every time they change, never
// toggled one by one, so no sequence of events can leave one stuck.

import type { Flags } from '../protocol.ts';
import { $ } from './dom.ts';

/** Enables, disables and labels the page's buttons for this state. */
export function setButtons(s: Flags): void {
  const { gpu, busy } = s;
  const set = (id: string, enabled: boolean) => (($(id) as HTMLButtonElement).disabled = !enabled);
  set('start', gpu && !busy && !s.running);
  $('start').textContent = s.hasRun ? 'Start again' : 'Start training';
  // Pausing only holds the baton at a step boundary (it destroys nothing): open during compiles too.
  set('pause', gpu && s.running);
  $('pause').textContent = s.paused ? 'Resume' : 'Pause';
  set('reset', gpu && !busy && s.resettable);
  set('measure', gpu && !busy);
  set('download-base', gpu && !busy);
  set('download-fpet', gpu && !busy);
  set('lose-device', gpu && !busy);
  set('upload-adapters', gpu && !busy);
  ($('merge-block') as HTMLSelectElement).disabled = !gpu;
  ($('merge-ratio') as HTMLInputElement).disabled = !gpu;
}
