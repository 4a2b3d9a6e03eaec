// A small line chart on a canvas: several series over steps, nice axis ticks, a legend; redrawn
// at most once per animation frame however often points arrive. Its text alternative (a summary
// as the canvas's accessible name, and a table of the points) follows every redraw.

import { seriesTable, summarise } from './chart-text.ts';

export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
  /** Draw a dot at every point (sparse series such as accuracy). */
  readonly dots?: boolean;
  /** Also draw an exponential moving average with this weight of the past (noisy series such as per-step loss); the raw line is drawn faint. */
  readonly smooth?: number;
}

export interface ChartOptions {
  /** What the chart shows (its summary and table caption start with it). */
  readonly title: string;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly yFormat: (v: number) => string;
  readonly xLabel: string;
  readonly empty: string;
}

/** Margins around the plot, in CSS pixels (left room for the y ticks, top for the legend). */
const L = 46, R = 10, T = 22, B = 26;

/** The plot's size, data ranges and data-to-pixel maps. */
interface Frame {
  readonly W: number;
  readonly H: number;
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly px: (x: number) => number;
  readonly py: (y: number) => number;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

export class LineChart {
  private series: Series[] = [];
  private pending = false;
  private readonly scale: number;

  /** `dataBox` receives the table of the points (e.g. inside a <details>). */
  constructor(private readonly canvas: HTMLCanvasElement, private readonly dataBox: HTMLElement, private readonly opts: ChartOptions) {
    canvas.setAttribute('role', 'img');
    this.scale = Math.min(3, Math.max(1, globalThis.devicePixelRatio || 1));
    const w = canvas.width, h = canvas.height;
    canvas.width = Math.round(w * this.scale);
    canvas.height = Math.round(h * this.scale);
    canvas.dataset.logicalWidth = String(w);
    canvas.dataset.logicalHeight = String(h);
    this.draw();
  }

  set(series: Series[]): void {
    this.series = series;
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  /** The summary as the canvas's name and the points as a table. */
  private describe(): void {
    const o = this.opts;
    this.canvas.setAttribute('aria-label', summarise(o.title, this.series, o.yFormat, o.xLabel, o.empty));
    const has = this.series.some((s) => s.points.length);
    this.dataBox.replaceChildren(has ? seriesTable(o.title, this.series, o.yFormat, o.xLabel) : o.empty);
  }

  draw(): void {
    this.describe();
    const c = this.canvas.getContext('2d');
    if (!c) return;
    const W = Number(this.canvas.dataset.logicalWidth), H = Number(this.canvas.dataset.logicalHeight);
    c.setTransform(this.scale, 0, 0, this.scale, 0, 0);
    c.clearRect(0, 0, W, H);
    c.font = '11px system-ui, sans-serif';
    const all = this.series.flatMap((s) => s.points);
    if (all.length === 0) {
      c.fillStyle = '#8a93a3';
      c.textAlign = 'center';
      c.fillText(this.opts.empty, W / 2, H / 2);
      return;
    }
    let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
    if (x1 <= x0) x1 = x0 + 1;
    let y0 = this.opts.yMin ?? Math.min(...all.map((p) => p[1]));
    let y1 = this.opts.yMax ?? Math.max(...all.map((p) => p[1]));
    if (this.opts.yMin === undefined) y0 = Math.max(0, y0 - 0.05 * (y1 - y0));
    if (y1 <= y0) y1 = y0 + 1;
    const f: Frame = {
      W, H, x0, x1, y0, y1,
      px: (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R),
      py: (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B),
    };
    this.drawAxes(c, f);
    for (const s of this.series) if (s.points.length) drawSeries(c, f, s);
    this.drawLegend(c);
  }

  /** Grid lines with y ticks, x ticks and the x label. */
  private drawAxes(c: CanvasRenderingContext2D, f: Frame): void {
    const { W, H, x0, x1, y0, y1, px, py } = f;
    c.strokeStyle = '#e6e9ee';
    c.fillStyle = '#6b7382';
    c.lineWidth = 1;
    const ys = niceStep(y1 - y0, 4);
    c.textAlign = 'right';
    c.textBaseline = 'middle';
    for (let y = Math.ceil(y0 / ys) * ys; y <= y1 + 1e-9; y += ys) {
      c.beginPath();
      c.moveTo(L, py(y));
      c.lineTo(W - R, py(y));
      c.stroke();
      c.fillText(this.opts.yFormat(y), L - 5, py(y));
    }
    const xs = Math.max(1, niceStep(x1 - x0, 5));
    c.textAlign = 'center';
    c.textBaseline = 'top';
    for (let x = Math.ceil(x0 / xs) * xs; x <= x1 + 1e-9; x += xs) c.fillText(String(Math.round(x)), px(x), H - B + 5);
    c.textAlign = 'right';
    c.fillText(this.opts.xLabel, W - R, H - 12);
  }

  /** Each series' colour, name and last value, left to right along the top. */
  private drawLegend(c: CanvasRenderingContext2D): void {
    c.textAlign = 'left';
    c.textBaseline = 'middle';
    let lx = L;
    for (const s of this.series) {
      if (!s.points.length) continue;
      const last = s.points[s.points.length - 1]![1];
      const text = `${s.name} ${this.opts.yFormat(last)}`;
      c.fillStyle = s.colour;
      c.fillRect(lx, 8, 10, 4);
      c.fillStyle = '#333a46';
      c.fillText(text, lx + 14, 10);
      lx += c.measureText(text).width + 30;
    }
  }
}

/** One series: its line (faint under a moving average when smoothed) and, when sparse, its dots. */
function drawSeries(c: CanvasRenderingContext2D, f: Frame, s: Series): void {
  const { px, py } = f;
  c.strokeStyle = s.colour;
  c.fillStyle = s.colour;
  c.lineWidth = s.smooth ? 1 : 1.6;
  c.globalAlpha = s.smooth ? 0.3 : 1;
  c.beginPath();
  s.points.forEach(([x, y], i) => (i === 0 ? c.moveTo(px(x), py(y)) : c.lineTo(px(x), py(y))));
  c.stroke();
  c.globalAlpha = 1;
  if (s.smooth) {
    const k = s.smooth;
    let m = s.points[0]![1];
    c.lineWidth = 2;
    c.beginPath();
    s.points.forEach(([x, y], i) => {
      m = i === 0 ? y : k * m + (1 - k) * y;
      if (i === 0) c.moveTo(px(x), py(m));
      else c.lineTo(px(x), py(m));
    });
    c.stroke();
  }
  if (s.dots || s.points.length === 1) {
    for (const [x, y] of s.points) {
      c.beginPath();
      c.arc(px(x), py(y), 2.8, 0, 2 * Math.PI);
      c.fill();
    }
  }
}
