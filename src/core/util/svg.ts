// Dependency-free SVG charts as strings: line charts (loss/accuracy curves, throughput vs merge
// ratio), grouped bar charts (benchmarks), scatter charts with labelled points and an optional
// y = x diagonal (measured speedup vs FLOP reduction). Non-finite values are dropped, never drawn,
// so the output never contains NaN.

export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface AxisOptions {
  /** Force the axis range (otherwise from the data, widened to nice ticks). */
  readonly min?: number;
  readonly max?: number;
  /** Include zero in the range (default: true for bar charts, false otherwise). */
  readonly zero?: boolean;
}

export interface ChartSize {
  readonly width?: number;
  readonly height?: number;
}

export interface LineChartOptions extends ChartSize {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly x?: AxisOptions;
  readonly y?: AxisOptions;
  /** Draw a marker at every point (default: when a series has at most 40 points). */
  readonly markers?: boolean;
}

export interface Bar {
  readonly name: string;
  readonly value: number;
}

export interface BarGroup {
  readonly label: string;
  readonly bars: readonly Bar[];
}

export interface BarChartOptions extends ChartSize {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly BarGroup[];
  /** Print each bar's value above it (default true). */
  readonly valueLabels?: boolean;
  readonly y?: AxisOptions;
}

export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

export interface ScatterSeries {
  readonly name: string;
  readonly points: readonly ScatterPoint[];
}

export interface ScatterChartOptions extends ChartSize {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ScatterSeries[];
  /** Draw the y = x line (and give both axes a range that shows it). */
  readonly diagonal?: boolean;
  readonly x?: AxisOptions;
  readonly y?: AxisOptions;
}

/** Colour-blind-friendly palette (Okabe–Ito), then a few extra. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#999999', '#882255'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A number for SVG attributes: finite, at most 2 decimals. */
function n(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`svg: non-finite coordinate ${v}`);
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Exponent form without float noise or trailing zeros: 1.5e6, 2e-4. */
function expForm(v: number): string {
  const [m, e] = v.toExponential(2).split('e') as [string, string];
  return `${m.replace(/\.?0+$/, '')}e${e.replace('+', '')}`;
}

/** Tick label: short, no float noise (0.30000000000000004 -> 0.3), large/small in exponent form. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return expForm(v);
  return v.toFixed(stepDecimals(step));
}

/** Decimals that show multiples of `step` exactly (0.25 -> 2, 5 -> 0, 0.1 -> 1). */
function stepDecimals(step: number): number {
  for (let d = 0; d < 6; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 6;
}

/** Value label: 3 significant digits (whole numbers from 100 up). */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6 || a < 1e-3) return expForm(v);
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(3)));
}

export interface Ticks {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly values: number[];
}

/** "Nice" ticks (steps of 1, 2, 2.5 or 5 × 10^k) covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo: number, hi: number, count = 5): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let i = 0; ; i++) {
    const v = min + i * step;
    if (v > max + step * 1e-6) break;
    values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return { min, max, step, values };
}

function axisTicks(values: readonly number[], opts: AxisOptions = {}, defaultZero = false): Ticks {
  const finite = values.filter(Number.isFinite);
  let lo = opts.min ?? (finite.length ? Math.min(...finite) : 0);
  let hi = opts.max ?? (finite.length ? Math.max(...finite) : 1);
  if (opts.zero ?? defaultZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  const t = niceTicks(lo, hi);
  // Forced bounds are kept exactly; ticks outside them are dropped.
  const min = opts.min ?? t.min, max = opts.max ?? t.max;
  if (opts.min === undefined && opts.max === undefined) return t;
  const span = max > min ? [min, max] : [min, min + 1];
  return { min: span[0]!, max: span[1]!, step: t.step, values: t.values.filter((v) => v >= span[0]! - 1e-12 && v <= span[1]! + 1e-12) };
}

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** `extraBottom`: room for more lines of x labels; the image grows, the plot keeps its height. */
function frame(size: ChartSize, legendWidth: number, extraBottom = 0): Frame {
  const width = size.width ?? 720, height = (size.height ?? 420) + extraBottom;
  const left = 70, top = 40, bottom = height - 55 - extraBottom;
  const right = width - 20 - legendWidth;
  return { width, height, left, right, top, bottom };
}

const estimateTextWidth = (s: string, fontSize = 12) => s.length * fontSize * 0.6;

/** Greedy word wrap by estimated text width (a word longer than the width gets a line of its own). */
export function wrapText(text: string, width: number, fontSize = 12): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && estimateTextWidth(candidate, fontSize) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

function legendWidth(names: readonly string[]): number {
  if (names.length === 0) return 0;
  return Math.min(260, 30 + Math.max(...names.map((s) => estimateTextWidth(s))));
}

function open(f: Frame, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${n(f.width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function yAxis(f: Frame, t: Ticks, label: string, sy: (v: number) => number): string[] {
  const out = [`<g class="y-axis">`];
  for (const v of t.values) {
    const y = n(sy(v));
    out.push(`<line x1="${f.left}" y1="${y}" x2="${n(f.right)}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line x1="${f.left - 4}" y1="${y}" x2="${f.left}" y2="${y}" stroke="#333"/>`);
    out.push(`<text x="${f.left - 7}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(v, t.step))}</text>`);
  }
  out.push(`<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}" stroke="#333"/>`);
  const cy = n((f.top + f.bottom) / 2);
  out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(label)}</text>`);
  out.push('</g>');
  return out;
}

function xAxis(f: Frame, t: Ticks, label: string, sx: (v: number) => number): string[] {
  const out = [`<g class="x-axis">`];
  for (const v of t.values) {
    const x = n(sx(v));
    out.push(`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${f.bottom}" stroke="#f0f0f0"/>`);
    out.push(`<line x1="${x}" y1="${f.bottom}" x2="${x}" y2="${f.bottom + 4}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${f.bottom + 17}" text-anchor="middle">${escapeXml(formatTick(v, t.step))}</text>`);
  }
  out.push(`<line x1="${f.left}" y1="${f.bottom}" x2="${n(f.right)}" y2="${f.bottom}" stroke="#333"/>`);
  out.push(`<text x="${n((f.left + f.right) / 2)}" y="${f.height - 12}" text-anchor="middle">${escapeXml(label)}</text>`);
  out.push('</g>');
  return out;
}

function legend(f: Frame, names: readonly string[], shape: 'line' | 'box' | 'dot'): string[] {
  if (names.length === 0) return [];
  const x = f.right + 15;
  const out = [`<g class="legend">`];
  names.forEach((name, i) => {
    const y = f.top + 8 + i * 20;
    const c = PALETTE[i % PALETTE.length];
    if (shape === 'line') out.push(`<line x1="${n(x)}" y1="${y}" x2="${n(x + 18)}" y2="${y}" stroke="${c}" stroke-width="2.5"/>`);
    else if (shape === 'box') out.push(`<rect x="${n(x)}" y="${y - 6}" width="14" height="12" fill="${c}"/>`);
    else out.push(`<circle cx="${n(x + 8)}" cy="${y}" r="5" fill="${c}"/>`);
    out.push(`<text x="${n(x + 24)}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text>`);
  });
  out.push('</g>');
  return out;
}

function noData(f: Frame): string {
  return `<text x="${n((f.left + f.right) / 2)}" y="${n((f.top + f.bottom) / 2)}" text-anchor="middle" fill="#888">no data</text>`;
}

const finitePoint = (p: readonly [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]);

/** Lines through each series' points (sorted by x), with axes, ticks, grid and legend. */
export function lineChart(o: LineChartOptions): string {
  const series = o.series.map((s) => ({ name: s.name, points: s.points.filter(finitePoint).slice().sort((a, b) => a[0] - b[0]) }));
  const f = frame(o, legendWidth(series.map((s) => s.name)));
  const all = series.flatMap((s) => s.points);
  const tx = axisTicks(all.map((p) => p[0]), o.x);
  const ty = axisTicks(all.map((p) => p[1]), o.y);
  const sx = (v: number) => f.left + ((v - tx.min) / (tx.max - tx.min)) * (f.right - f.left);
  const sy = (v: number) => f.bottom - ((v - ty.min) / (ty.max - ty.min)) * (f.bottom - f.top);
  const out = open(f, o.title);
  out.push(...yAxis(f, ty, o.yLabel, sy), ...xAxis(f, tx, o.xLabel, sx));
  if (all.length === 0) out.push(noData(f));
  const clip = `clip${Math.abs(hashString(o.title)) % 1e6}`;
  out.push(`<clipPath id="${clip}"><rect x="${f.left}" y="${f.top}" width="${n(f.right - f.left)}" height="${n(f.bottom - f.top)}"/></clipPath>`);
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length];
    const markers = o.markers ?? s.points.length <= 40;
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#${clip})">`);
    if (s.points.length > 1) {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${n(sx(p[0]))},${n(sy(p[1]))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round"/>`);
    }
    if (markers || s.points.length === 1) {
      for (const p of s.points) out.push(`<circle cx="${n(sx(p[0]))}" cy="${n(sy(p[1]))}" r="3" fill="${c}"><title>${escapeXml(`${s.name}: (${formatValue(p[0])}, ${formatValue(p[1])})`)}</title></circle>`);
    }
    out.push('</g>');
  });
  out.push(...legend(f, series.map((s) => s.name), 'line'), '</svg>');
  return out.join('\n') + '\n';
}

/** Grouped bars: one cluster per group, one colour per bar name (shared legend). */
export function barChart(o: BarChartOptions): string {
  const names: string[] = [];
  for (const g of o.groups) for (const b of g.bars) if (!names.includes(b.name)) names.push(b.name);
  const legendW = legendWidth(names);
  // Unless told otherwise, widen the image so that every group gets room for its bars and label.
  const minGroupW = Math.max(70, names.length * 22 + 16);
  const size: ChartSize = { width: o.width ?? Math.max(720, Math.ceil(110 + legendW + o.groups.length * minGroupW)), height: o.height };
  const groupW = (frame(size, legendW).right - frame(size, legendW).left) / Math.max(1, o.groups.length);
  // Group labels are wrapped at spaces to the width of their group.
  const labelLines = o.groups.map((g) => wrapText(g.label, groupW - 4, 11));
  const maxLines = Math.max(1, ...labelLines.map((l) => l.length));
  const f = frame(size, legendW, (maxLines - 1) * 13);
  const values = o.groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const ty = axisTicks(values, o.y, true);
  const sy = (v: number) => f.bottom - ((Math.min(Math.max(v, ty.min), ty.max) - ty.min) / (ty.max - ty.min)) * (f.bottom - f.top);
  const out = open(f, o.title);
  out.push(...yAxis(f, ty, o.yLabel, sy));
  if (values.length === 0) out.push(noData(f));
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, names.length));
  const y0 = sy(Math.max(ty.min, Math.min(0, ty.max)));
  const labels = o.valueLabels ?? true;
  o.groups.forEach((g, gi) => {
    const gx = f.left + gi * groupW + groupW * 0.1;
    out.push(`<g class="group" data-label="${escapeXml(g.label)}">`);
    for (const b of g.bars) {
      if (!Number.isFinite(b.value)) continue;
      const bi = names.indexOf(b.name);
      const x = gx + bi * barW;
      const y = sy(b.value);
      const top = Math.min(y, y0), h = Math.abs(y0 - y);
      out.push(`<rect x="${n(x)}" y="${n(top)}" width="${n(barW * 0.92)}" height="${n(h)}" fill="${PALETTE[bi % PALETTE.length]}"><title>${escapeXml(`${g.label} / ${b.name}: ${formatValue(b.value)}`)}</title></rect>`);
      if (labels) {
        const ly = b.value >= 0 ? top - 3 : top + h + 11;
        out.push(`<text x="${n(x + barW * 0.46)}" y="${n(ly)}" text-anchor="middle" font-size="${barW < 22 ? 8 : 10}">${escapeXml(formatValue(b.value))}</text>`);
      }
    }
    const cx = n(f.left + (gi + 0.5) * groupW);
    const tspans = labelLines[gi]!.map((line, li) => `<tspan x="${cx}" dy="${li ? 13 : 0}">${escapeXml(line)}</tspan>`).join('');
    out.push(`<text x="${cx}" y="${f.bottom + 15}" text-anchor="middle" font-size="11">${tspans}</text>`);
    out.push('</g>');
  });
  out.push(`<line x1="${f.left}" y1="${n(y0)}" x2="${n(f.right)}" y2="${n(y0)}" stroke="#333"/>`);
  out.push(...legend(f, names, 'box'), '</svg>');
  return out.join('\n') + '\n';
}

/** Points with optional labels, one colour per series; `diagonal` draws y = x. */
export function scatterChart(o: ScatterChartOptions): string {
  const series = o.series.map((s) => ({ name: s.name, points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)) }));
  const f = frame(o, legendWidth(series.map((s) => s.name)));
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x), ys = all.map((p) => p.y);
  // With the diagonal both axes span the union of the data, so y = x crosses the whole plot.
  const both = [...xs, ...ys];
  const tx = axisTicks(o.diagonal ? both : xs, o.x);
  const ty = axisTicks(o.diagonal ? both : ys, o.y);
  const sx = (v: number) => f.left + ((v - tx.min) / (tx.max - tx.min)) * (f.right - f.left);
  const sy = (v: number) => f.bottom - ((v - ty.min) / (ty.max - ty.min)) * (f.bottom - f.top);
  const out = open(f, o.title);
  out.push(...yAxis(f, ty, o.yLabel, sy), ...xAxis(f, tx, o.xLabel, sx));
  if (all.length === 0) out.push(noData(f));
  if (o.diagonal) {
    const lo = Math.max(tx.min, ty.min), hi = Math.min(tx.max, ty.max);
    if (hi > lo) {
      out.push(`<line class="diagonal" x1="${n(sx(lo))}" y1="${n(sy(lo))}" x2="${n(sx(hi))}" y2="${n(sy(hi))}" stroke="#888" stroke-dasharray="5,4"/>`);
      out.push(`<text x="${n(sx(hi) - 4)}" y="${n(sy(hi) + 14)}" text-anchor="end" fill="#888" font-size="11">y = x</text>`);
    }
  }
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length];
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    for (const p of s.points) {
      const x = sx(p.x), y = sy(p.y);
      const tip = `${s.name}${p.label ? ` ${p.label}` : ''}: (${formatValue(p.x)}, ${formatValue(p.y)})`;
      out.push(`<circle cx="${n(x)}" cy="${n(y)}" r="4.5" fill="${c}" fill-opacity="0.85"><title>${escapeXml(tip)}</title></circle>`);
      if (p.label) out.push(`<text x="${n(x + 7)}" y="${n(y - 6)}" font-size="10" fill="#333">${escapeXml(p.label)}</text>`);
    }
    out.push('</g>');
  });
  out.push(...legend(f, series.map((s) => s.name), 'dot'), '</svg>');
  return out.join('\n') + '\n';
}

function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}
