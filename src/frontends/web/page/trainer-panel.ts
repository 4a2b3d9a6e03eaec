// The training card's buttons: Start (the worker compiles a training step per chosen model from
// fresh adapters on the backbone), Pause / Resume and Reset (back to the models of first sight),
// and the settings locked while a run trains.

import type { Flags } from '../protocol.ts';
import type { EngineClient } from './engine-client.ts';
import { $, reportErrors } from './dom.ts';
import { lockSettings, readSettings } from './settings.ts';

/** Start, pause / resume and reset of the side-by-side run. */
export class TrainerPanel {
  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    const engine = this.engine;
    $('start').addEventListener('click', () => reportErrors(engine.request({ kind: 'start', settings: readSettings() })));
    $('pause').addEventListener('click', () => reportErrors(engine.request({ kind: 'pause' })));
    $('reset').addEventListener('click', () => reportErrors(engine.request({ kind: 'reset' })));
    engine.on('flags', ({ flags }) => this.follow(flags));
  }

  /** The settings a run was compiled for stay locked while it compiles, trains or pauses. */
  private follow(f: Flags): void {
    lockSettings(f.hasRun && ['compiling', 'training', 'paused'].includes(f.state));
  }
}
