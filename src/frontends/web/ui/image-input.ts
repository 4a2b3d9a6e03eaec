// An uploaded picture as the model's grey input. PNG files go through the project's own decoder
// (src/core/io/png.ts: the same checks and bilinear resize as `npm start -- infer --image`); other
// formats through the browser's decoder. A picture with a light background (dark ink on paper) is
// inverted to MNIST's light-on-dark, as `infer --invert` does.

import { decodePngPlanar, resizePlanar } from '../../../core/io/png.ts';

export const MAX_UPLOAD_BYTES = 20 * 2 ** 20;

export interface PictureInput {
  readonly pixels: Float32Array;
  readonly inverted: boolean;
  readonly decoder: 'png (src/core/io/png.ts)' | 'browser';
  readonly width: number;
  readonly height: number;
}

const isPng = (b: Uint8Array) => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/** Mean of the outermost ring of pixels. */
function borderMean(p: Float32Array, size: number): number {
  let s = 0, n = 0;
  for (let i = 0; i < size; i++) {
    s += p[i]! + p[(size - 1) * size + i]! + p[i * size]! + p[i * size + size - 1]!;
    n += 4;
  }
  return s / n;
}

export async function pictureToInput(file: File, size: number): Promise<PictureInput> {
  if (file.size > MAX_UPLOAD_BYTES) throw new Error(`${file.name}: ${(file.size / 2 ** 20).toFixed(1)} MB is over the ${MAX_UPLOAD_BYTES / 2 ** 20} MB limit for pictures`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let pixels: Float32Array, width: number, height: number, decoder: PictureInput['decoder'];
  if (isPng(bytes)) {
    const img = decodePngPlanar(bytes, 1, file.name);
    pixels = resizePlanar(img, size);
    width = img.width;
    height = img.height;
    decoder = 'png (src/core/io/png.ts)';
  } else {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: file.type }));
    } catch {
      throw new Error(`${file.name}: the browser cannot decode it as a picture`);
    }
    width = bitmap.width;
    height = bitmap.height;
    const cv = document.createElement('canvas');
    cv.width = cv.height = size;
    const c = cv.getContext('2d', { willReadFrequently: true })!;
    c.fillStyle = 'white';
    c.fillRect(0, 0, size, size);
    c.imageSmoothingQuality = 'high';
    c.drawImage(bitmap, 0, 0, size, size);
    bitmap.close();
    const d = c.getImageData(0, 0, size, size).data;
    pixels = new Float32Array(size * size);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (0.299 * d[i * 4]! + 0.587 * d[i * 4 + 1]! + 0.114 * d[i * 4 + 2]!) / 255;
    decoder = 'browser';
  }
  const inverted = borderMean(pixels, size) > 0.5;
  if (inverted) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i]!;
  return { pixels, inverted, decoder, width, height };
}
