// A chart's text alternative: a one-sentence summary (the canvas's accessible name) and a table of
// its points (every point up to a limit, else evenly spaced ones and the last), for screen readers
// and anyone who wants the numbers.

import type { Series } from './chart.ts';

/** Rows of the table at most (points are thinned evenly beyond it, always keeping the last). */
const MAX_ROWS = 20;

/** "Training loss: AdaptFormer 0.41 at step 40 (from 2.30 at step 1); …", or the empty text. */
export function summarise(title: string, series: readonly Series[], yFormat: (v: number) => string, xLabel: string, empty: string): string {
  const parts = series.filter((s) => s.points.length).map((s) => {
    const first = s.points[0]!, last = s.points[s.points.length - 1]!;
    const from = s.points.length > 1 ? ` (from ${yFormat(first[1])} at ${xLabel} ${first[0]})` : '';
    return `${s.name} ${yFormat(last[1])} at ${xLabel} ${last[0]}${from}`;
  });
  return `${title}: ${parts.length ? parts.join('; ') : empty}.`;
}

/** Which x values the table lists: all of them, or MAX_ROWS evenly spaced ones ending with the last. */
function rowsOf(series: readonly Series[]): number[] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  if (xs.length <= MAX_ROWS) return xs;
  return Array.from({ length: MAX_ROWS }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (MAX_ROWS - 1))]!);
}

/** The points as a table: one row per x, one column per series ("–" where a series has no point there). */
export function seriesTable(title: string, series: readonly Series[], yFormat: (v: number) => string, xLabel: string): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'chart-table';
  const caption = table.createCaption();
  caption.textContent = title;
  const head = table.createTHead().insertRow();
  for (const h of [xLabel, ...series.map((s) => s.name)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  const lookup = series.map((s) => new Map(s.points.map(([x, y]) => [x, y])));
  for (const x of rowsOf(series)) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = String(x);
    row.append(th);
    for (const m of lookup) row.insertCell().textContent = m.has(x) ? yFormat(m.get(x)!) : '–';
  }
  return table;
}
