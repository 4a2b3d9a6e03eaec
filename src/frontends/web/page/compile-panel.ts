// Compiles as the page shows them: a bar over the page while the worker compiles (what, kernels
// compiled of total, elapsed, an estimate of what is left; it stays in view while scrolling) and
// the diagnostics' compile log, one line per compiled program saying where its time went.

import type { CompileProgress } from '../protocol.ts';
import type { CompileReport } from '../trainer.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, mib, secs } from './dom.ts';

// The matmul tuner (when the program used it) compiles the pipelines it needs itself, so its time
// and the pipelines' are shown together.
const describeReport = (r: CompileReport) =>
  `${r.what}: ${r.kernels} kernels (${r.distinct} distinct) in ${secs(r.totalMs)}: graph + WGSL ${secs(r.planMs)}, ` +
  `pipelines ${secs(r.pipelineMs + (r.tune?.ms ?? 0))}${r.tune ? ` (with matmul tuning: ${r.tune.searched} shapes searched${r.tune.where ? `, choices kept in ${r.tune.where}` : ''})` : ''}` +
  `, first dispatch ${secs(r.warmupMs)}; ${mib(r.bytes)}`;

const PHASE: Record<CompileProgress['phase'], string> = {
  plan: 'building the graph and generating WGSL',
  pipelines: 'compiling kernels',
  'first dispatch': 'first dispatch (the driver finishes compiling)',
  done: 'done',
};

/** What the progress line says: phase, kernels, elapsed and the estimate. */
export function describeProgress(p: CompileProgress): string {
  const kernels = p.total > 0 ? `${p.done} of ${p.total} kernels compiled` : p.phase === 'plan' ? 'counting kernels' : 'every kernel already compiled';
  const eta = p.etaMs === undefined ? 'estimating the time left' : p.etaMs < 1000 ? 'almost done' : `about ${secs(p.etaMs)} left`;
  const more = p.queued ? `; ${p.queued} more to compile after this` : '';
  return `${PHASE[p.phase]} · ${kernels} · ${secs(p.elapsedMs)} elapsed · ${eta}${more}`;
}

/** The compile bar (one row per compile running: a training step compiled ahead and an inference model may overlap) and the log. */
export class CompilePanel {
  /** Compiles finished since the page loaded (tests read it from data-compiles). */
  private finished = 0;
  private readonly rows = new Map<number, HTMLLIElement>();

  constructor(private readonly engine: EngineClient) {}

  bind(): void {
    this.engine.on('compile', ({ progress }) => this.show(progress));
    this.engine.on('compiled', ({ report }) => this.log(report));
  }

  private show(p: CompileProgress): void {
    const box = $('compile');
    let row = this.rows.get(p.id);
    if (p.phase === 'done') {
      row?.remove();
      this.rows.delete(p.id);
      this.finished++;
      box.dataset.compiles = String(this.finished);
      box.hidden = this.rows.size === 0;
      return;
    }
    if (!row) {
      row = el('li', { 'data-id': String(p.id) },
        el('div', { class: 'compile-head' }, el('strong', { class: 'compile-what' }, `Compiling ${p.what}`), ' ', el('span', { class: 'compile-numbers' })),
        el('progress', { max: '1', value: '0', 'aria-label': `Compiling ${p.what}: kernels compiled` }));
      this.rows.set(p.id, row);
      $('compile-list').append(row);
      box.hidden = false;
    }
    const numbers = describeProgress(p);
    row.querySelector('.compile-numbers')!.textContent = numbers;
    // Kernels as the bar's unit; the first dispatch is the last stretch (shown full but still running).
    const bar = row.querySelector('progress')!;
    bar.max = Math.max(1, p.total);
    bar.value = p.phase === 'plan' ? 0 : p.phase === 'first dispatch' ? bar.max : p.done;
    bar.setAttribute('aria-valuetext', numbers);
    Object.assign(row.dataset, { phase: p.phase, done: String(p.done), total: String(p.total), elapsedMs: String(Math.round(p.elapsedMs)) });
  }

  /** Appends a compiled program's report to the log, stamped with the time. */
  private log(report: CompileReport): void {
    const log = $('compile-log');
    log.append(el('li', {}, `${new Date().toLocaleTimeString()}  ${describeReport(report)}`));
    log.scrollTop = log.scrollHeight;
  }
}
