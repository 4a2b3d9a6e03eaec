// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, with an
// optional "__metadata__": {string: string}}, then the raw little-endian tensor data; data_offsets
// are relative to the start of the data section.
//
// Reading accepts F32, F16, BF16 and F64 (all decoded to Float32Array), I32 and I64 (decoded to
// Int32Array; an I64 value outside the i32 range is an error) and U8 (Uint8Array). The decoded
// tensor keeps the dtype stored in the file, so callers can tell an F16 checkpoint from an F32 one.
// Writing supports F32, I32 and U8. Every problem with a file is reported as a SafetensorsError that
// names the file and, where there is one, the tensor.
//
// The reader is strict about what could silently corrupt weights (offsets outside the data, ranges
// that overlap, a byte count that is not dtype size × element count, unknown dtypes) and lenient
// about what cannot (unused gaps between tensors, trailing bytes, the order of the JSON entries).

import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8';
/** The dtypes this module writes. */
export type WritableDtype = 'F32' | 'I32' | 'U8';
export type TensorData = Float32Array | Int32Array | Uint8Array;

/** A tensor to write: `data` must be the typed array of its dtype, with exactly product(shape) elements. */
export interface TensorEntry {
  dtype: WritableDtype;
  shape: readonly number[];
  data: TensorData;
}

/** A decoded tensor: `dtype` is what the file stores; `data` is Float32Array for every float dtype,
 *  Int32Array for I32/I64 and Uint8Array for U8. `data` is a copy that owns its buffer. */
export interface DecodedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  /** In the order of their data offsets in the file. */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };
const WRITABLE: Record<WritableDtype, { array: string; ok: (d: unknown) => boolean }> = {
  F32: { array: 'Float32Array', ok: (d) => d instanceof Float32Array },
  I32: { array: 'Int32Array', ok: (d) => d instanceof Int32Array },
  U8: { array: 'Uint8Array', ok: (d) => d instanceof Uint8Array },
};
const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length would otherwise allocate). */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.hasOwn(DTYPE_SIZE, d);
const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const label = (source: string | undefined): string => `safetensors ${source ?? '<bytes>'}`;
const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;

// ---------------------------------------------------------------------------------------------
// Encoding

interface Planned {
  name: string;
  entry: TensorEntry;
  begin: number;
}

/** Checks names, dtypes, shapes and metadata, lays the data out back to back and builds the padded
 *  header. The data arrays themselves are checked by checkData (when they are written). */
function plan(tensors: ReadonlyMap<string, TensorEntry>, metadata: Record<string, string> | undefined, where: string): { header: Uint8Array; planned: Planned[]; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`${where}: metadata "${k}" must be a string, got ${typeof v}`);
      meta[k] = v;
    }
    json[METADATA_KEY] = meta;
  }
  const planned: Planned[] = [];
  let offset = 0;
  for (const [name, entry] of tensors) {
    const t = `${where}: tensor "${name}"`;
    if (name === '') throw new SafetensorsError(`${where}: a tensor name must not be empty`);
    if (name === METADATA_KEY) throw new SafetensorsError(`${t}: the name is reserved for metadata`);
    if (!Object.hasOwn(WRITABLE, entry.dtype)) throw new SafetensorsError(`${t}: cannot write dtype ${String(entry.dtype)} (writable: ${Object.keys(WRITABLE).join(', ')})`);
    if (!Array.isArray(entry.shape) || !entry.shape.every(isDim)) throw new SafetensorsError(`${t}: shape ${JSON.stringify(entry.shape)} must be a list of non-negative integers`);
    const bytes = numel(entry.shape) * DTYPE_SIZE[entry.dtype];
    planned.push({ name, entry, begin: offset });
    json[name] = { dtype: entry.dtype, shape: [...entry.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20); // pad with spaces, as the reference writer does
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, planned, dataBytes: offset };
}

/** The data must be the dtype's typed array with exactly product(shape) elements. */
function checkData({ name, entry }: Planned, where: string): void {
  const t = `${where}: tensor "${name}"`;
  const w = WRITABLE[entry.dtype];
  if (!w.ok(entry.data)) throw new SafetensorsError(`${t}: dtype ${entry.dtype} needs a ${w.array}, got ${(entry.data as unknown as object | undefined)?.constructor?.name ?? typeof entry.data}`);
  const n = numel(entry.shape);
  if (entry.data.length !== n) throw new SafetensorsError(`${t}: shape ${fmtShape(entry.shape)} needs ${n} elements, the data has ${entry.data.length}`);
}

/** The little-endian bytes of a typed array (a view when the host is little-endian). */
function leBytes(data: TensorData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  return swapped(view, data.BYTES_PER_ELEMENT);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  return out;
}

/** Serialises tensors (in map order) and optional string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorEntry>, metadata?: Record<string, string>): Uint8Array {
  const where = label(undefined);
  const { header, planned, dataBytes } = plan(tensors, metadata, where);
  for (const p of planned) checkData(p, where);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  for (const p of planned) out.set(leBytes(p.entry.data), header.length + p.begin);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and checks the header of `bytes`; returns the entries in offset order and where the data starts. */
function parseHeader(bytes: Uint8Array, where: string): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) throw new SafetensorsError(`${where}: truncated file: ${bytes.length} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw new SafetensorsError(`${where}: header length ${n} is larger than the ${bytes.length - 8} bytes that follow it (truncated or not a safetensors file)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${where}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new SafetensorsError(`${where}: the header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${where}: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`${where}: the header must be a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError(`${where}: "${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${where}: metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const t = `${where}: tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError(`${t}: the header entry must be an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) throw new SafetensorsError(`${t}: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isDim)) throw new SafetensorsError(`${t}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim)) throw new SafetensorsError(`${t}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] end before they begin`);
    if (end > dataLen) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] are out of range: the data section has ${dataLen} bytes (truncated file?)`);
    const want = numel(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== want) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] span ${end - begin} bytes, but ${dtype}${fmtShape(shape)} needs ${want}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin === e.end) continue; // an empty tensor occupies no bytes
    if (prev && e.begin < prev.end) throw new SafetensorsError(`${where}: tensor "${e.name}": data_offsets [${e.begin},${e.end}] overlap those of tensor "${prev.name}" [${prev.begin},${prev.end}]`);
    prev = e;
  }
  return { entries, metadata, dataStart };
}

/** Copies `bytes` into a fresh, aligned buffer in host byte order. */
function hostCopy(bytes: Uint8Array, size: number): ArrayBuffer {
  if (!LITTLE_ENDIAN && size > 1) return swapped(bytes, size).buffer as ArrayBuffer;
  // Not bytes.slice(): on a Node Buffer (what readFile returns) slice() is a view, not a copy.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decodeData(e: HeaderEntry, raw: Uint8Array, where: string): TensorData {
  const size = DTYPE_SIZE[e.dtype];
  const buf = hostCopy(raw, size);
  switch (e.dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'U8':
      return new Uint8Array(buf);
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    case 'F16': {
      const h = new Uint16Array(buf);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]!);
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(buf);
      const bits = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const big = new BigInt64Array(buf);
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        const v = big[i]!;
        if (v < -2147483648n || v > 2147483647n) throw new SafetensorsError(`${where}: tensor "${e.name}": I64 value ${v} at element ${i} does not fit in an int32`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

/** Parses safetensors bytes. `source` (a path, usually) is named in every error message. */
export function decodeSafetensors(bytes: Uint8Array, source?: string): SafetensorsContents {
  const where = label(source);
  const { entries, metadata, dataStart } = parseHeader(bytes, where);
  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const data = decodeData(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), where);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Reads and decodes a safetensors file (the whole file is read into memory). */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SafetensorsError(`${label(path)}: cannot read the file (${(e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Atomic writing

/**
 * Writes tensors to `path` atomically: the bytes go to a temporary file in the same directory, which
 * is fsynced and then renamed over `path`, so a reader sees either the old file or the complete new
 * one. Tensors are streamed one at a time (no second copy of a large model in memory); if anything
 * fails, the temporary file is removed and an existing `path` is left untouched.
 */
export async function writeSafetensors(path: string, tensors: ReadonlyMap<string, TensorEntry>, metadata?: Record<string, string>): Promise<void> {
  const where = label(path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // Shapes and dtypes determine the header; each tensor's data is checked just before it is written.
  const { header, planned } = plan(tensors, metadata, where);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
    let pos = 0;
    const writeAll = async (b: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh!.write(b, done, b.length - done, pos);
        if (bytesWritten <= 0) throw new SafetensorsError(`${where}: writing ${tmp} made no progress`);
        done += bytesWritten;
        pos += bytesWritten;
      }
    };
    await writeAll(header);
    for (const p of planned) {
      checkData(p, where);
      await writeAll(leBytes(p.entry.data));
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(`${where}: write failed (${(e as Error).message}); any existing file was left unchanged`);
  }
  // Make the rename itself durable; not every platform lets a directory be opened and synced.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

// ---------------------------------------------------------------------------------------------
// Validation against a model's parameter list

/** A float expectation accepts F32/F16/BF16/F64 (all decoded to Float32Array); 'int' accepts I32/I64. */
export type ExpectedDtype = 'float' | 'int' | SafetensorsDtype;
/** A bare shape expects a floating-point tensor; use {shape, dtype} for integer or exact dtypes. */
export type Expected = readonly number[] | { shape: readonly number[]; dtype?: ExpectedDtype };

export interface ValidateOptions {
  /** Names (or a predicate) that may be absent, e.g. freshly initialised adapters. */
  allowMissing?: readonly string[] | ((name: string) => boolean);
  /** Tolerate tensors that nothing expects (default false). */
  allowExtra?: boolean;
  /** Named in the error message, e.g. the checkpoint path. */
  source?: string;
}

const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];
const INT_DTYPES: readonly SafetensorsDtype[] = ['I32', 'I64'];

function dtypeMatches(found: string, want: ExpectedDtype): boolean {
  if (want === 'float') return (FLOAT_DTYPES as readonly string[]).includes(found);
  if (want === 'int') return (INT_DTYPES as readonly string[]).includes(found);
  return found === want;
}

/**
 * Checks found tensors against the expected names, shapes and dtypes and throws one Error that lists
 * every problem (missing, unexpected, wrong shape, wrong dtype), each naming its tensor. Returns the
 * expected names that were allowed to be missing and are.
 */
export function validateTensors(found: ReadonlyMap<string, { dtype: string; shape: readonly number[] }>, expected: ReadonlyMap<string, Expected>, options: ValidateOptions = {}): { missing: string[] } {
  const { allowMissing, allowExtra = false, source } = options;
  const mayMiss = typeof allowMissing === 'function' ? allowMissing : (n: string) => (allowMissing ?? []).includes(n);
  const problems: string[] = [];
  const missing: string[] = [];
  for (const [name, exp] of expected) {
    const shape = Array.isArray(exp) ? (exp as readonly number[]) : (exp as { shape: readonly number[] }).shape;
    const dtype: ExpectedDtype = Array.isArray(exp) ? 'float' : ((exp as { dtype?: ExpectedDtype }).dtype ?? 'float');
    const t = found.get(name);
    if (!t) {
      if (mayMiss(name)) missing.push(name);
      else problems.push(`missing tensor "${name}" (expected ${dtype} ${fmtShape(shape)})`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) problems.push(`tensor "${name}": shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
    if (!dtypeMatches(t.dtype, dtype)) problems.push(`tensor "${name}": dtype ${t.dtype}, expected ${dtype === 'float' ? `a float dtype (${FLOAT_DTYPES.join('/')})` : dtype === 'int' ? `an integer dtype (${INT_DTYPES.join('/')})` : dtype}`);
  }
  if (!allowExtra) for (const [name, t] of found) if (!expected.has(name)) problems.push(`unexpected tensor "${name}" (${t.dtype} ${fmtShape(t.shape)})`);
  if (problems.length > 0) {
    const head = `${source ? `${source}: ` : ''}tensors do not match what was expected (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
    throw new Error([head, ...problems.map((p) => `  ${p}`)].join('\n'));
  }
  return { missing };
}
