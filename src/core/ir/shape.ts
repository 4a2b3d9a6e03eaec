// Static shapes and dtypes, and the small amount of index arithmetic every layer shares
// (the float64 interpreter, autodiff's broadcast reduction, and later the code generator).

/** Element types a tensor may have on the device (32-bit float, signed and unsigned integer). */
export type DType = 'f32' | 'i32' | 'u32';
/** Dimensions, outermost first; [] for a scalar. */
export type Shape = readonly number[];

/** The static type of a tensor: shape and dtype. */
export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Raised when an op is given inputs whose shapes or dtypes it cannot accept. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

export const fmtShape = (s: Shape): string => `[${s.join(',')}]`;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Resolves a possibly negative axis, failing with the op's name when out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}

/** NumPy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read an input of shape `inShape` broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const inStrides = stridesOf(inShape);
  const off = outShape.length - inShape.length;
  return outShape.map((_, i) => (i < off || inShape[i - off] === 1 ? 0 : inStrides[i - off]!));
}

/**
 * For every element of `outShape` (row-major), the flat offset `base + Σ index_i * strides_i`.
 * This is the one primitive behind every strided view in the reference interpreter.
 */
export function viewOffsets(outShape: Shape, strides: readonly number[], base = 0): Int32Array {
  const n = numel(outShape);
  const res = new Int32Array(n);
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    res[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < outShape[d]!) break;
      off -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return res;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertValidShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)} (dimensions must be positive integers)`);
  }
}
