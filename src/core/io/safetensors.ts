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
// The header is validated against bounds (src/core/io/limits.ts) before anything it declares is used:
// header length against the file size and 100 MB, the number of tensors (counted, and duplicates
// found, by scanning the JSON text before it is parsed into objects), printable names of bounded
// length, known dtypes, shapes of bounded rank with safe-integer dimensions, data_offsets inside the
// data section that match dtype × shape and do not overlap, and string-to-string metadata of
// bounded size. Names echoed in messages are escaped and clipped; lists are capped (src/core/util/text.ts).
//
// The reader is strict about what could silently corrupt weights (offsets outside the data, ranges
// that overlap, a byte count that is not dtype size × element count, unknown dtypes, a name given
// twice) and lenient about what cannot (unused gaps between tensors, trailing bytes, the order of
// the JSON entries).

import type { FileHandle } from 'node:fs/promises';
import { nodeCrypto, nodeFs, nodePath } from '../util/node-import.ts';
import { SAFETENSORS_LIMITS, type SafetensorsLimits } from './limits.ts';
import { count, display, errorText, firstUnsafeChar, preview, quote, TEXT_LIMITS } from '../util/text.ts';
import { fsErrorText } from '../util/errno.ts';
import { tempName } from '../util/temp-names.ts';

/** The dtypes this module reads. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8';
/** The dtypes this module writes. */
export type WritableDtype = 'F32' | 'I32' | 'U8';
/** Tensor data in memory: Float32Array for float dtypes, Int32Array for I32 and I64, Uint8Array for U8. */
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

/** A decoded safetensors file: its tensors and its string metadata. */
export interface SafetensorsContents {
  /** In the order of their data offsets in the file. */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** What the header says, without the data: for checking names and shapes before reading a large file. */
export interface SafetensorsHeader {
  /** In the order of their data offsets in the file. */
  tensors: Map<string, { dtype: SafetensorsDtype; shape: number[]; byteLength: number }>;
  metadata: Record<string, string>;
  /** Bytes of the whole file (or buffer). */
  fileBytes: number;
}

/** Options of the safetensors readers. */
export interface ReadOptions {
  /** Overrides of the bounds in SAFETENSORS_LIMITS. */
  limits?: Partial<SafetensorsLimits>;
}

/** A safetensors file or header that fails validation; the message names the file and the tensor or field. */
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
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.hasOwn(DTYPE_SIZE, d);
const fmtShape = (s: readonly number[]): string => (s.length > 40 ? `[${s.slice(0, 40).join(',')},…(${s.length - 40} more)]` : `[${s.join(',')}]`);
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const numelBig = (s: readonly number[]): bigint => s.reduce((a, b) => a * BigInt(b), 1n);
const label = (source: string | undefined): string => `safetensors ${source === undefined ? '<bytes>' : display(source)}`;
const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;
const limitsOf = (o: ReadOptions | undefined): SafetensorsLimits => ({ ...SAFETENSORS_LIMITS, ...o?.limits });

/** Why a name from a file (or for a file) cannot be used, or undefined when it can. */
function nameProblem(name: string, maxChars: number): string | undefined {
  if (name.length > maxChars) return `is ${count(name.length)} characters long (the limit is ${count(maxChars)})`;
  const at = firstUnsafeChar(name);
  if (at >= 0) return `contains a control, escape or invisible formatting character at position ${at} (names must be printable)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface Planned {
  name: string;
  entry: TensorEntry;
  begin: number;
}

/** Checks names, dtypes, shapes and metadata, lays the data out back to back and builds the padded
 *  header. The data arrays themselves are checked by checkData (when they are written). What is
 *  written must be readable back under the default limits. */
function plan(tensors: ReadonlyMap<string, TensorEntry>, metadata: Record<string, string> | undefined, where: string): { header: Uint8Array; planned: Planned[]; dataBytes: number } {
  const L = SAFETENSORS_LIMITS;
  const json: Record<string, unknown> = {};
  if (tensors.size > L.maxTensors) throw new SafetensorsError(`${where}: ${count(tensors.size)} tensors is more than the ${count(L.maxTensors)} a file may hold`);
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    let chars = 0, n = 0;
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`${where}: metadata ${quote(k)} must be a string, got ${typeof v}`);
      const bad = nameProblem(k, L.maxNameChars);
      if (bad) throw new SafetensorsError(`${where}: metadata key ${quote(k)} ${bad}`);
      chars += k.length + v.length;
      if (++n > L.maxMetadataEntries) throw new SafetensorsError(`${where}: more than ${count(L.maxMetadataEntries)} metadata entries`);
      if (chars > L.maxMetadataChars) throw new SafetensorsError(`${where}: metadata is over the ${count(L.maxMetadataChars)}-character limit`);
      Object.defineProperty(meta, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    json[METADATA_KEY] = meta;
  }
  const planned: Planned[] = [];
  let offset = 0;
  for (const [name, entry] of tensors) {
    const t = `${where}: tensor ${quote(name)}`;
    if (name === '') throw new SafetensorsError(`${where}: a tensor name must not be empty`);
    if (name === METADATA_KEY) throw new SafetensorsError(`${t}: the name is reserved for metadata`);
    const bad = nameProblem(name, L.maxNameChars);
    if (bad) throw new SafetensorsError(`${where}: tensor name ${quote(name)} ${bad}`);
    if (!Object.hasOwn(WRITABLE, entry.dtype)) throw new SafetensorsError(`${t}: cannot write dtype ${display(String(entry.dtype))} (writable: ${Object.keys(WRITABLE).join(', ')})`);
    if (!Array.isArray(entry.shape) || entry.shape.length > L.maxRank || !entry.shape.every(isDim)) throw new SafetensorsError(`${t}: shape ${preview(entry.shape)} must be a list of non-negative integers (at most ${L.maxRank} dimensions)`);
    const bytes = numel(entry.shape) * DTYPE_SIZE[entry.dtype];
    if (!Number.isSafeInteger(bytes)) throw new SafetensorsError(`${t}: shape ${fmtShape(entry.shape)} is too large`);
    planned.push({ name, entry, begin: offset });
    Object.defineProperty(json, name, { value: { dtype: entry.dtype, shape: [...entry.shape], data_offsets: [offset, offset + bytes] }, enumerable: true, writable: true, configurable: true });
    offset += bytes;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  if (text.length > L.maxHeaderBytes) throw new SafetensorsError(`${where}: the header would be ${count(text.length)} bytes, over the ${count(L.maxHeaderBytes)}-byte limit`);
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20); // pad with spaces, as the reference writer does
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, planned, dataBytes: offset };
}

/** The data must be the dtype's typed array with exactly product(shape) elements. */
function checkData({ name, entry }: Planned, where: string): void {
  const t = `${where}: tensor ${quote(name)}`;
  const w = WRITABLE[entry.dtype];
  if (!w.ok(entry.data)) throw new SafetensorsError(`${t}: dtype ${entry.dtype} needs a ${w.array}, got ${display(String((entry.data as unknown as object | undefined)?.constructor?.name ?? typeof entry.data))}`);
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
// Header validation

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

/** The header length from the first 8 bytes, checked against the file size and the limit. */
function headerLength(first: Uint8Array, fileBytes: number, where: string, L: SafetensorsLimits): number {
  if (fileBytes < 8) throw new SafetensorsError(`${where}: truncated file: ${fileBytes} bytes, too short for the 8-byte header length`);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileBytes - 8)) throw new SafetensorsError(`${where}: header length ${n} is larger than the ${fileBytes - 8} bytes that follow it (truncated or not a safetensors file)`);
  if (n > BigInt(L.maxHeaderBytes)) throw new SafetensorsError(`${where}: header length ${n} exceeds the ${count(L.maxHeaderBytes)}-byte limit`);
  return Number(n);
}

/**
 * The keys of the top-level JSON object, read from the text before JSON.parse builds anything:
 * more tensors than the limit, or a name given twice (JSON.parse would silently keep the last),
 * are rejected here. Text it cannot follow is left for JSON.parse to report.
 */
function scanTopLevelKeys(text: string, where: string, L: SafetensorsLimits): void {
  const n = text.length;
  let i = 0;
  while (i < n && (text.charCodeAt(i) <= 0x20)) i++;
  if (text.charCodeAt(i) !== 0x7b /* { */) return;
  const seen = new Set<string>();
  let depth = 1, expectKey = true, tensors = 0;
  for (i++; i < n && depth > 0; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const s = i;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (i >= n) return;
      if (depth === 1 && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(s, i + 1)) as string;
        } catch {
          return;
        }
        if (seen.has(key)) throw new SafetensorsError(`${where}: ${key === METADATA_KEY ? `"${METADATA_KEY}"` : `tensor ${quote(key)}`} appears more than once in the header`);
        seen.add(key);
        if (key !== METADATA_KEY && ++tensors > L.maxTensors) throw new SafetensorsError(`${where}: the header declares more than ${count(L.maxTensors)} tensors (the limit)`);
        expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c /* , */ && depth === 1) expectKey = true;
  }
}

/** Parses and checks the header text; returns the entries in offset order and where the data starts. */
function parseHeader(headerBytes: Uint8Array, dataLen: number, where: string, L: SafetensorsLimits): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(`${where}: the header is not valid UTF-8`);
  }
  scanTopLevelKeys(text, where, L);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${where}: the header is not valid JSON (${errorText(e, 160)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`${where}: the header must be a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  let tensors = 0;
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      parseMetadata(raw, metadata, where, L);
      continue;
    }
    // scanTopLevelKeys counted already; this guards text it could not follow.
    if (++tensors > L.maxTensors) throw new SafetensorsError(`${where}: the header declares more than ${count(L.maxTensors)} tensors (the limit)`);
    const badName = nameProblem(name, L.maxNameChars);
    if (badName) throw new SafetensorsError(`${where}: tensor name ${quote(name)} ${badName}`);
    const t = `${where}: tensor ${quote(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError(`${t}: the header entry must be an object {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) throw new SafetensorsError(`${t}: unknown dtype ${preview(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || shape.length > L.maxRank || !shape.every(isDim)) {
      throw new SafetensorsError(`${t}: shape ${preview(shape)} must be a list of non-negative integers (at most ${L.maxRank} dimensions, each at most 2^53-1)`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim)) throw new SafetensorsError(`${t}: data_offsets ${preview(offsets)} must be two non-negative integers [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] end before they begin`);
    if (end > dataLen) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] are out of range: the data section has ${dataLen} bytes (truncated file?)`);
    const want = numelBig(shape as number[]) * BigInt(DTYPE_SIZE[dtype]);
    if (BigInt(end - begin) !== want) throw new SafetensorsError(`${t}: data_offsets [${begin},${end}] span ${end - begin} bytes, but ${dtype}${fmtShape(shape as number[])} needs ${want}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin === e.end) continue; // an empty tensor occupies no bytes
    if (prev && e.begin < prev.end) throw new SafetensorsError(`${where}: tensor ${quote(e.name)}: data_offsets [${e.begin},${e.end}] overlap those of tensor ${quote(prev.name)} [${prev.begin},${prev.end}]`);
    prev = e;
  }
  return { entries, metadata, dataStart: 8 + headerBytes.length };
}

function parseMetadata(raw: unknown, out: Record<string, string>, where: string, L: SafetensorsLimits): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SafetensorsError(`${where}: "${METADATA_KEY}" must be an object of strings, got ${preview(raw)}`);
  let chars = 0, n = 0;
  for (const k in raw) {
    if (!Object.hasOwn(raw, k)) continue;
    if (++n > L.maxMetadataEntries) throw new SafetensorsError(`${where}: "${METADATA_KEY}" has more than ${count(L.maxMetadataEntries)} entries (the limit)`);
    const v = (raw as Record<string, unknown>)[k];
    if (typeof v !== 'string') throw new SafetensorsError(`${where}: metadata ${quote(k)} must be a string, got ${preview(v)}`);
    const bad = nameProblem(k, L.maxNameChars);
    if (bad) throw new SafetensorsError(`${where}: metadata key ${quote(k)} ${bad}`);
    chars += k.length + v.length;
    if (chars > L.maxMetadataChars) throw new SafetensorsError(`${where}: "${METADATA_KEY}" is over the ${count(L.maxMetadataChars)}-character limit (at ${quote(k)})`);
    // defineProperty: a key "__proto__" stays an ordinary entry.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

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

/** `raw` holds the tensor's bytes; `owned`: it is a fresh, aligned buffer nothing else uses. */
function decodeData(e: HeaderEntry, raw: Uint8Array, where: string, owned = false): TensorData {
  const size = DTYPE_SIZE[e.dtype];
  const buf = owned && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && (LITTLE_ENDIAN || size === 1) ? (raw.buffer as ArrayBuffer) : hostCopy(raw, size);
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
        if (v < -2147483648n || v > 2147483647n) throw new SafetensorsError(`${where}: tensor ${quote(e.name)}: I64 value ${v} at element ${i} does not fit in an int32`);
        out[i] = Number(v);
      }
      return out;
    }
  }
}

function parseBytes(bytes: Uint8Array, where: string, L: SafetensorsLimits): ParsedHeader {
  const headerLen = headerLength(bytes.subarray(0, 8), bytes.length, where, L);
  return parseHeader(bytes.subarray(8, 8 + headerLen), bytes.length - 8 - headerLen, where, L);
}

/** Parses safetensors bytes. `source` (a path, usually) is named in every error message. */
export function decodeSafetensors(bytes: Uint8Array, source?: string, options?: ReadOptions): SafetensorsContents {
  const where = label(source);
  const { entries, metadata, dataStart } = parseBytes(bytes, where, limitsOf(options));
  const tensors = new Map<string, DecodedTensor>();
  for (const e of entries) {
    const data = decodeData(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), where);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** The validated header of safetensors bytes (no tensor data is decoded). */
export function decodeSafetensorsHeader(bytes: Uint8Array, source?: string, options?: ReadOptions): SafetensorsHeader {
  const { entries, metadata } = parseBytes(bytes, label(source), limitsOf(options));
  return headerOf(entries, metadata, bytes.length);
}

const headerOf = (entries: HeaderEntry[], metadata: Record<string, string>, fileBytes: number): SafetensorsHeader => ({
  tensors: new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, byteLength: e.end - e.begin }])),
  metadata,
  fileBytes,
});

// ---------------------------------------------------------------------------------------------
// Reading files: the header first (bounded, validated), then each tensor straight into its own
// buffer. Nothing the header declares is allocated before it has been checked against the file.

async function openChecked(path: string, where: string): Promise<{ fh: FileHandle; size: number }> {
  const { open, constants } = await nodeFsWithConstants();
  let fh: FileHandle | undefined;
  try {
    // Non-blocking open, then fstat: a FIFO or a device is refused without waiting for a writer
    // (a blocking open of a FIFO never returns), and a file swapped after a stat cannot slip by.
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = await fh.stat();
    if (st.isDirectory()) throw new SafetensorsError(`${where}: is a directory, not a safetensors file`);
    if (!st.isFile()) throw new SafetensorsError(`${where}: is not a regular file`);
    return { fh, size: st.size };
  } catch (e) {
    await fh?.close().catch(() => {});
    if (e instanceof SafetensorsError) throw e;
    if ((e as { code?: string }).code === 'EISDIR') throw new SafetensorsError(`${where}: is a directory, not a safetensors file`);
    throw new SafetensorsError(`${where}: cannot read the file (${errorText(e)})`);
  }
}

/** fs/promises with the open flags (O_NONBLOCK) of node:fs. */
async function nodeFsWithConstants(): Promise<{ open: typeof import('node:fs/promises').open; constants: typeof import('node:fs').constants }> {
  const fs = await nodeFs();
  return { open: fs.open, constants: fs.constants };
}

async function readAt(fh: FileHandle, position: number, length: number, where: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(out, done, length - done, position + done));
    } catch (e) {
      throw new SafetensorsError(`${where}: cannot read the file (${errorText(e)})`);
    }
    if (bytesRead === 0) throw new SafetensorsError(`${where}: the file ended at byte ${position + done} while ${position + length} were expected (it changed while being read?)`);
    done += bytesRead;
  }
  return out;
}

async function readHeaderFrom(fh: FileHandle, size: number, where: string, L: SafetensorsLimits): Promise<ParsedHeader> {
  const first = await readAt(fh, 0, Math.min(8, size), where);
  const headerLen = headerLength(first, size, where, L);
  const headerBytes = await readAt(fh, 8, headerLen, where);
  return parseHeader(headerBytes, size - 8 - headerLen, where, L);
}

/** Reads and decodes a safetensors file: the header is validated before any tensor is read. */
export async function readSafetensors(path: string, options?: ReadOptions): Promise<SafetensorsContents> {
  const where = label(path);
  const L = limitsOf(options);
  const { fh, size } = await openChecked(path, where);
  try {
    const { entries, metadata, dataStart } = await readHeaderFrom(fh, size, where, L);
    const tensors = new Map<string, DecodedTensor>();
    for (const e of entries) {
      const raw = await readAt(fh, dataStart + e.begin, e.end - e.begin, where);
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeData(e, raw, where, true) });
    }
    return { tensors, metadata };
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Reads and validates only the header of a safetensors file (names, dtypes, shapes, metadata). */
export async function readSafetensorsHeader(path: string, options?: ReadOptions): Promise<SafetensorsHeader> {
  const where = label(path);
  const { fh, size } = await openChecked(path, where);
  try {
    const { entries, metadata } = await readHeaderFrom(fh, size, where, limitsOf(options));
    return headerOf(entries, metadata, size);
  } finally {
    await fh.close().catch(() => {});
  }
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
  const [{ open, rename, unlink }, { basename, dirname, join }, { randomBytes }] = await Promise.all([nodeFs(), nodePath(), nodeCrypto()]);
  const dir = dirname(path);
  const tmp = join(dir, tempName(basename(path), process.pid, randomBytes(6).toString('hex')));
  // Shapes and dtypes determine the header; each tensor's data is checked just before it is written.
  const { header, planned } = plan(tensors, metadata, where);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', 0o644);
    let pos = 0;
    const writeAll = async (b: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh!.write(b, done, b.length - done, pos);
        if (bytesWritten <= 0) throw new SafetensorsError(`${where}: writing ${display(tmp)} made no progress`);
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
    throw new SafetensorsError(`${where}: cannot write it: ${fsErrorText(e)}; any existing file was left unchanged`);
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

/** Options of validateTensors. */
export interface ValidateOptions {
  /** Names (or a predicate) that may be absent, e.g. freshly initialised adapters. */
  allowMissing?: readonly string[] | ((name: string) => boolean);
  /** Tolerate tensors that nothing expects (default false). */
  allowExtra?: boolean;
  /** Named in the error message, e.g. the checkpoint path. */
  source?: string;
  /** Problems listed before "… and N more" (default 20). */
  maxListed?: number;
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
 * the problems (missing, unexpected, wrong shape, wrong dtype), each naming its tensor: the first 20
 * (`maxListed`), then how many more of each kind. Names are escaped and clipped. Returns the
 * expected names that were allowed to be missing and are.
 */
export function validateTensors(found: ReadonlyMap<string, { dtype: string; shape: readonly number[] }>, expected: ReadonlyMap<string, Expected>, options: ValidateOptions = {}): { missing: string[] } {
  const { allowMissing, allowExtra = false, source, maxListed = TEXT_LIMITS.listItems } = options;
  const allowed = typeof allowMissing === 'function' ? undefined : new Set(allowMissing ?? []);
  const mayMiss = typeof allowMissing === 'function' ? allowMissing : (n: string) => allowed!.has(n);
  const problems: string[] = [];
  const tally = { missing: 0, unexpected: 0, shape: 0, dtype: 0 };
  const add = (kind: keyof typeof tally, line: () => string) => {
    tally[kind]++;
    if (problems.length < maxListed) problems.push(line());
  };
  const missing: string[] = [];
  for (const [name, exp] of expected) {
    const shape = Array.isArray(exp) ? (exp as readonly number[]) : (exp as { shape: readonly number[] }).shape;
    const dtype: ExpectedDtype = Array.isArray(exp) ? 'float' : ((exp as { dtype?: ExpectedDtype }).dtype ?? 'float');
    const t = found.get(name);
    if (!t) {
      if (mayMiss(name)) missing.push(name);
      else add('missing', () => `missing tensor ${quote(name)} (expected ${dtype} ${fmtShape(shape)})`);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) add('shape', () => `tensor ${quote(name)}: shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
    if (!dtypeMatches(t.dtype, dtype)) add('dtype', () => `tensor ${quote(name)}: dtype ${display(t.dtype, 16)}, expected ${dtype === 'float' ? `a float dtype (${FLOAT_DTYPES.join('/')})` : dtype === 'int' ? `an integer dtype (${INT_DTYPES.join('/')})` : dtype}`);
  }
  if (!allowExtra) for (const [name, t] of found) if (!expected.has(name)) add('unexpected', () => `unexpected tensor ${quote(name)} (${display(t.dtype, 16)} ${fmtShape(t.shape)})`);
  const total = tally.missing + tally.unexpected + tally.shape + tally.dtype;
  if (total > 0) {
    const head = `${source ? `${display(source)}: ` : ''}tensors do not match what was expected (${count(total)} problem${total === 1 ? '' : 's'}):`;
    const lines = [...problems];
    if (total > problems.length) {
      const kinds = [[tally.missing, 'missing'], [tally.unexpected, 'unexpected'], [tally.shape, 'with the wrong shape'], [tally.dtype, 'with the wrong dtype']] as const;
      lines.push(`… and ${count(total - problems.length)} more (in all: ${kinds.filter(([n]) => n > 0).map(([n, w]) => `${count(n)} ${w}`).join(', ')})`);
    }
    throw new Error([head, ...lines.map((p) => `  ${p}`)].join('\n'));
  }
  return { missing };
}
