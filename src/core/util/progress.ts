// A progress line for long jobs (benchmarks, training, planning sweeps). Dependency-free.
//
// On a terminal it redraws one line in place (\r, at most every `ttyIntervalMs`); anywhere else
// (CI logs, files, pipes) it prints a whole line at most every `intervalMs`, plus one at the end,
// so logs stay short. It writes to stderr by default, leaving stdout to results.

/** The subset of a Node stream the progress line writes to (process.stderr satisfies it). */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  readonly label: string;
  /** Units the job consists of; 0 or less means unknown (no percent, no ETA). */
  readonly total: number;
  /** What is counted, e.g. 'kernel', 'step', 'img' (shown in the rate: "3.2 step/s"). */
  readonly unit?: string;
  /** Default: process.stderr. */
  readonly stream?: ProgressStream;
  /** Force line mode (false) or redraw mode (true); default: the stream's isTTY. */
  readonly tty?: boolean;
  /** Non-TTY: minimum milliseconds between printed lines (default 5000). */
  readonly intervalMs?: number;
  /** TTY: minimum milliseconds between redraws (default 100). */
  readonly ttyIntervalMs?: number;
  /** Clock in milliseconds (for tests); default performance.now(). */
  readonly now?: () => number;
}

export interface ProgressStats {
  readonly count: number;
  readonly total: number;
  /** 0..100, or undefined when the total is unknown. */
  readonly percent: number | undefined;
  readonly elapsedSec: number;
  /** Units per second over the whole run so far (0 before the first unit or at elapsed 0). */
  readonly rate: number;
  /** Seconds left at the current rate; undefined when it cannot be estimated. */
  readonly etaSec: number | undefined;
}

/** Rate and ETA from a count and the elapsed time (the mean rate since the start). */
export function progressStats(count: number, total: number, elapsedSec: number): ProgressStats {
  const rate = count > 0 && elapsedSec > 0 ? count / elapsedSec : 0;
  const known = total > 0;
  const percent = known ? Math.min(100, (100 * count) / total) : undefined;
  const left = known ? Math.max(0, total - count) : undefined;
  const etaSec = left === undefined ? undefined : left === 0 ? 0 : rate > 0 ? left / rate : undefined;
  return { count, total, percent, elapsedSec, rate, etaSec };
}

/** 0s, 42s, 3m05s, 1h02m; '?' for undefined or non-finite. */
export function formatDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A rate with 3 significant digits, switching to units per minute/hour when slow. */
export function formatRate(rate: number, unit: string): string {
  if (!(rate > 0) || !Number.isFinite(rate)) return `- ${unit}/s`;
  if (rate >= 1) return `${sig3(rate)} ${unit}/s`;
  if (rate * 60 >= 1) return `${sig3(rate * 60)} ${unit}/min`;
  return `${sig3(rate * 3600)} ${unit}/h`;
}

function sig3(x: number): string {
  if (x >= 1000) return Math.round(x).toString();
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** The text of one progress line (without \r or newline). */
export function formatProgress(label: string, st: ProgressStats, unit: string, extra?: string, barWidth = 20): string {
  const parts = [label];
  if (st.percent !== undefined) {
    const filled = Math.round((barWidth * st.percent) / 100);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`);
    parts.push(`${st.count}/${st.total}`);
    parts.push(`${st.percent.toFixed(1).padStart(5)}%`);
  } else {
    parts.push(`${st.count}`);
  }
  parts.push(formatRate(st.rate, unit));
  parts.push(st.percent !== undefined && st.count >= st.total ? `in ${formatDuration(st.elapsedSec)}` : `ETA ${formatDuration(st.etaSec)}`);
  if (extra) parts.push(extra);
  return parts.join(' ');
}

export class Progress {
  readonly label: string;
  readonly total: number;
  readonly unit: string;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly ttyIntervalMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private count = 0;
  private lastDraw = -Infinity;
  private lastExtra: string | undefined;
  /** What the last drawn line showed (line mode skips a final line that would repeat it). */
  private drawnState = '';
  private drawnWidth = 0;
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.label = opts.label;
    this.total = opts.total;
    this.unit = opts.unit ?? 'it';
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.intervalMs = opts.intervalMs ?? 5000;
    this.ttyIntervalMs = opts.ttyIntervalMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    // The job is visible as soon as it starts (a first line, count 0).
    this.draw(this.start);
  }

  get value(): number {
    return this.count;
  }

  stats(): ProgressStats {
    return progressStats(this.count, this.total, (this.now() - this.start) / 1000);
  }

  /** Counts n more units done; `extra` (e.g. the current item) is shown after the ETA. */
  tick(n = 1, extra?: string): void {
    if (this.finished) return;
    this.count += n;
    if (extra !== undefined) this.lastExtra = extra;
    const t = this.now();
    if (t - this.lastDraw >= (this.tty ? this.ttyIntervalMs : this.intervalMs)) this.draw(t);
  }

  /** Prints a message without garbling the progress line (TTY: clears it, prints, redraws). */
  log(message: string): void {
    if (this.tty && !this.finished) {
      this.stream.write(`\r${' '.repeat(this.drawnWidth)}\r${message}\n`);
      this.drawnWidth = 0;
      this.draw(this.now());
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  /** Draws the final line (line mode: unless the last line printed already shows it); later ticks are ignored. */
  done(extra?: string): void {
    if (this.finished) return;
    if (extra !== undefined) this.lastExtra = extra;
    if (this.tty || this.drawnState !== this.state()) this.draw(this.now());
    if (this.tty) this.stream.write('\n');
    this.finished = true;
  }

  private state(): string {
    return `${this.count}|${this.lastExtra ?? ''}`;
  }

  private draw(t: number): void {
    this.lastDraw = t;
    this.drawnState = this.state();
    const line = formatProgress(this.label, progressStats(this.count, this.total, (t - this.start) / 1000), this.unit, this.lastExtra);
    if (!this.tty) {
      this.stream.write(`${line}\n`);
      return;
    }
    const cols = this.stream.columns ?? 0;
    const shown = cols > 1 && line.length >= cols ? line.slice(0, cols - 1) : line;
    // Pad over the previous, possibly longer, line instead of relying on terminal escapes.
    const pad = Math.max(0, this.drawnWidth - shown.length);
    this.stream.write(`\r${shown}${' '.repeat(pad)}`);
    this.drawnWidth = shown.length;
  }
}
