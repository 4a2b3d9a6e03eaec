// A merge map as a picture: the image, and for each merge block the patch grid coloured by the
// token each patch belongs to after that merge (patches sharing a colour were merged into one
// token; uncoloured patches are still tokens of their own), with the token count per block.

import type { MergeMap } from './merge-map.ts';
import { escapeXml } from '../../core/util/svg.ts';
import { croppedView } from './input-crop.ts';

const GROUP_COLOURS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000', '#ffd8b1', '#000075', '#808080'];

/**
 * SVG of `map` over the image ([channels, size, size] in [0, 1]), drawn as the model saw it: with a
 * model's input crop (ModelSpec.inputCrop) the patch grid covers the central crop×crop pixels.
 */
export function mergeMapSvg(map: MergeMap, original: Float32Array, channels: number, size: number, title: string, inputCrop?: number): string {
  const image = croppedView(original, channels, size, inputCrop);
  const panel = 160, gap = 16, top = 40, pix = panel / size, cell = panel / map.grid;
  const panels = Math.max(1, map.steps.length);
  const footer = `tokens per block (MLP input): ${map.tokensPerBlock.join(' ')}`;
  // Wide enough for the panels, the title and the footer (about 7 px per character at 12–14 px).
  const width = Math.max(gap + panels * (panel + gap), gap * 2 + 7.5 * Math.max(footer.length, title.length)), height = top + panel + 56;
  const plane = size * size;
  const imageRects: string[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = (k: number) => Math.round(255 * Math.min(1, Math.max(0, image[k * plane + y * size + x]!)));
      const [r, g, b] = channels === 3 ? [c(0), c(1), c(2)] : [c(0), c(0), c(0)];
      imageRects.push(`<rect x="${(x * pix).toFixed(2)}" y="${(y * pix).toFixed(2)}" width="${(pix + 0.05).toFixed(2)}" height="${(pix + 0.05).toFixed(2)}" fill="rgb(${r},${g},${b})"/>`);
    }
  }
  const img = imageRects.join('');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${gap}" y="18" font-size="14">${escapeXml(title)}</text>`,
  ];
  const steps = map.steps.length ? map.steps : [undefined];
  steps.forEach((step, k) => {
    const x0 = gap + k * (panel + gap);
    out.push(`<g transform="translate(${x0},${top})">${img}`);
    if (step) {
      const colourOf = new Map<number, string>();
      for (let p = 0; p < map.grid * map.grid; p++) {
        const g = step.groupOf[p + 1]!;
        if (step.sizes[g]! < 2) continue;
        if (!colourOf.has(g)) colourOf.set(g, GROUP_COLOURS[colourOf.size % GROUP_COLOURS.length]!);
        const px = (p % map.grid) * cell, py = Math.floor(p / map.grid) * cell;
        out.push(`<rect x="${px.toFixed(2)}" y="${py.toFixed(2)}" width="${cell.toFixed(2)}" height="${cell.toFixed(2)}" fill="${colourOf.get(g)}" fill-opacity="0.55" stroke="white" stroke-width="0.5"><title>patch ${p} → token ${g} (${step.sizes[g]} patches)</title></rect>`);
      }
      out.push(`</g><text x="${x0}" y="${top + panel + 18}">block ${step.block}: ${step.tokensIn} → ${step.tokensOut} tokens</text>`);
      out.push(`<text x="${x0}" y="${top + panel + 34}" fill="#555">${colourOf.size} merged groups</text>`);
    } else {
      out.push(`</g><text x="${x0}" y="${top + panel + 18}">no merging</text>`);
    }
  });
  out.push(`<text x="${gap}" y="${height - 6}" fill="#555">${escapeXml(footer)}</text>`, '</svg>');
  return out.join('\n');
}
