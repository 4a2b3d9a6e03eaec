// The drawing pad: white strokes on black with the mouse, pen or a finger (pointer events), turned
// into the model's 28×28 grey input the way MNIST digits were made: the drawing's bounding box
// scaled to fit 20×20 (aspect kept), then centred by its centre of mass in the 28×28 frame.
// Pictures (uploads, held-out images) can be shown on it too.

import { MNIST_DIGIT_BOX } from '../../../fpet/data/dataset.ts';

export class DrawPad {
  private drawing = false;
  private last: [number, number] | undefined;
  private inked = false;
  /** Called when a stroke ends (the picture changed). */
  onChange: () => void = () => {};

  constructor(readonly canvas: HTMLCanvasElement, private readonly lineWidth = 22) {
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      if (!this.inked) this.blank();
      this.inked = true;
      this.last = this.pos(e);
      this.dot(this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      e.preventDefault();
      const p = this.pos(e);
      this.line(this.last ?? p, p);
      this.last = p;
    });
    const end = (e: PointerEvent) => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = undefined;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
      this.onChange();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Whether anything was drawn since the last clear (a shown picture does not count). */
  get hasInk(): boolean {
    return this.inked;
  }

  clear(): void {
    this.blank();
    this.inked = false;
  }

  private blank(): void {
    const c = this.canvas.getContext('2d')!;
    c.fillStyle = 'black';
    c.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  private pos(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  private dot([x, y]: [number, number]): void {
    const c = this.canvas.getContext('2d')!;
    c.fillStyle = 'white';
    c.beginPath();
    c.arc(x, y, this.lineWidth / 2, 0, 2 * Math.PI);
    c.fill();
  }

  private line(a: [number, number], b: [number, number]): void {
    const c = this.canvas.getContext('2d')!;
    c.strokeStyle = 'white';
    c.lineWidth = this.lineWidth;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a[0], a[1]);
    c.lineTo(b[0], b[1]);
    c.stroke();
  }

  /** Shows a size×size grey picture ([0, 1]) on the pad, pixelated. */
  show(pixels: Float32Array, size: number): void {
    this.inked = false;
    const small = greyCanvas(pixels, size);
    const c = this.canvas.getContext('2d')!;
    c.imageSmoothingEnabled = false;
    c.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    c.imageSmoothingEnabled = true;
  }

  /**
   * The drawing as a size×size grey image in [0, 1]. `mnistStyle`: fit the ink's bounding box into
   * 20/28 of the frame and centre it by mass (as MNIST was made); otherwise scale the whole pad.
   */
  toImage(size: number, mnistStyle: boolean): Float32Array {
    const W = this.canvas.width, H = this.canvas.height;
    const src = this.canvas.getContext('2d')!.getImageData(0, 0, W, H).data;
    let x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (src[(y * W + x) * 4]! > 25) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    const out = document.createElement('canvas');
    out.width = out.height = size;
    const c = out.getContext('2d', { willReadFrequently: true })!;
    c.fillStyle = 'black';
    c.fillRect(0, 0, size, size);
    c.imageSmoothingEnabled = true;
    c.imageSmoothingQuality = 'high';
    if (x1 < 0) return new Float32Array(size * size);
    if (!mnistStyle) {
      c.drawImage(this.canvas, 0, 0, size, size);
      return readGrey(c, size);
    }
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const box = (MNIST_DIGIT_BOX / 28) * size;
    const k = box / Math.max(bw, bh);
    const dw = bw * k, dh = bh * k;
    c.drawImage(this.canvas, x0, y0, bw, bh, (size - dw) / 2, (size - dh) / 2, dw, dh);
    const first = readGrey(c, size);
    // centre of mass to the middle of the frame
    let m = 0, mx = 0, my = 0;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const v = first[y * size + x]!;
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
    if (m === 0) return first;
    const sx = Math.round(size / 2 - mx / m), sy = Math.round(size / 2 - my / m);
    const out2 = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const fx = x - sx, fy = y - sy;
      if (fx >= 0 && fy >= 0 && fx < size && fy < size) out2[y * size + x] = first[fy * size + fx]!;
    }
    return out2;
  }
}

function readGrey(c: CanvasRenderingContext2D, size: number): Float32Array {
  const d = c.getImageData(0, 0, size, size).data;
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = d[i * 4]! / 255;
  return out;
}

/** A size×size canvas holding a grey picture in [0, 1]. */
export function greyCanvas(pixels: Float32Array, size: number): HTMLCanvasElement {
  const cv = document.createElement('canvas');
  cv.width = cv.height = size;
  const c = cv.getContext('2d')!;
  const img = c.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i]!)));
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  c.putImageData(img, 0, 0);
  return cv;
}

/** Draws a grey picture onto a canvas, pixelated. */
export function paintGrey(target: HTMLCanvasElement, pixels: Float32Array, size: number): void {
  const c = target.getContext('2d')!;
  c.imageSmoothingEnabled = false;
  c.drawImage(greyCanvas(pixels, size), 0, 0, target.width, target.height);
}
