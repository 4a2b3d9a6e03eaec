// Tables and lines the training commands print.

import type { GpuContext } from '../../core/runtime/device.ts';
import type { TrainResult } from '../../fpet/train/run.ts';

/** A Markdown table with padded columns. */
export function markdownRows(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

/** One row per finished training run: accuracy, speed, memory, trainable parameters. */
export function resultTable(rows: [string, TrainResult][]): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const header = ['run', 'test acc', 'best acc', 'train img/s', 'infer img/s', 'train GPU mem', 'trainable params'];
  const lines = rows.map(([name, r]) => [name, `${(100 * r.finalAccuracy).toFixed(2)}%`, `${(100 * r.bestAccuracy).toFixed(2)}%`, r.trainImagesPerSec.toFixed(1), r.inferImagesPerSec.toFixed(1), mb(r.trainPeakBytes), String(r.trainableParams)]);
  return markdownRows(header, lines);
}

/** One line on the GPU memory the context holds now and at its peak. */
export const memoryLine = (ctx: GpuContext): string =>
  `GPU memory: ${(ctx.memory.liveBytes / 2 ** 20).toFixed(2)} MiB live in ${ctx.memory.liveBuffers} buffers, peak ${(ctx.memory.peakBytes / 2 ** 20).toFixed(2)} MiB (${ctx.memory.created} created, ${ctx.memory.destroyed} destroyed)`;
