// The model's input transform: the central crop×crop pixels of each image, scaled back up to the
// model's image size with bilinear interpolation (PyTorch's F.interpolate with align_corners=False,
// no antialiasing: the same as timm's centre crop with crop_pct = crop / size, read the other way).
//
// Why a model carries it: MNIST digits are size-normalised into a 20×20 box inside the 28×28 frame
// (LeCun's preprocessing), while Fashion-MNIST objects fill the frame. A backbone pre-trained on
// Fashion-MNIST sees digits at its own object scale when the job crops the central 20×20. As part
// of the graph, every consumer of a trained model (eval, infer, the web page, ONNX) applies it.
//
// Bilinear resizing is separable and linear: out = R · image · Rᵀ per channel, with R a constant
// [size, size] matrix whose row i holds the two interpolation weights of output row i.

import type { GraphBuilder, Tensor } from '../../core/ir/graph.ts';

/** R, row-major [size, size]: output pixel i reads input pixels off+i0 and off+i1 of the crop. */
export function cropResizeMatrix(size: number, crop: number): Float64Array {
  if (!Number.isInteger(size) || size < 1) throw new Error(`cropResizeMatrix: size must be an integer >= 1 (got ${size})`);
  if (!Number.isInteger(crop) || crop < 1 || crop > size) throw new Error(`cropResizeMatrix: crop must be an integer in [1, ${size}] (got ${crop})`);
  const off = Math.floor((size - crop) / 2);
  const r = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    // align_corners=False: pixel centres map onto pixel centres; clamped at the crop's first pixel.
    const src = Math.max(0, ((i + 0.5) * crop) / size - 0.5);
    const i0 = Math.min(Math.floor(src), crop - 1);
    const i1 = Math.min(i0 + 1, crop - 1);
    const w = src - i0;
    r[i * size + off + i0]! += 1 - w;
    r[i * size + off + i1]! += w;
  }
  return r;
}

/** images [B, C, size, size] → the same shape, each plane cropped and rescaled (crop < size). */
export function cropAndResize(b: GraphBuilder, images: Tensor, size: number, crop: number): Tensor {
  const r = cropResizeMatrix(size, crop);
  const rT = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) rT[j * size + i] = r[i * size + j]!;
  return b.constant(r, [size, size]).matmul(images).matmul(b.constant(rT, [size, size]));
}

/** The image as the model sees it (CPU, float32): for pictures such as merge maps. */
export function croppedView(image: Float32Array, channels: number, size: number, crop: number | undefined): Float32Array {
  if (crop === undefined || crop >= size) return image;
  const r = cropResizeMatrix(size, crop), plane = size * size;
  const rows = new Float64Array(plane); // R · image, per channel
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    rows.fill(0);
    for (let i = 0; i < size; i++) for (let y = 0; y < size; y++) {
      const w = r[i * size + y]!;
      if (w !== 0) for (let x = 0; x < size; x++) rows[i * size + x]! += w * image[c * plane + y * size + x]!;
    }
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
      let s = 0;
      for (let x = 0; x < size; x++) s += rows[i * size + x]! * r[j * size + x]!;
      out[c * plane + i * size + j] = s;
    }
  }
  return out;
}
