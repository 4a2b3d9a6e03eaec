// Bounded validation of JSON read from files (run state in a checkpoint, the model spec in an
// adapters file): small combinators that check a parsed value field by field against explicit
// bounds and return a typed copy, or throw a SchemaError such as
//
//   runs/x/checkpoint.safetensors: metadata.state.step must be an integer in [0, 1000000000] (got 1.5)
//
// Every check looks at sizes before walking contents (an array's length before its items, an
// object's key count before its values), so a small file that declares a huge model is rejected by
// a bound, not by allocating what it declares. Values shown in messages are escaped and clipped
// (src/core/util/text.ts). Unknown fields are errors unless an object says otherwise.
//
// Ready-made schemas: `modelSpecSchema` (ModelSpec of src/fpet/models/model.ts) and `runStateSchema`
// (RunState of src/fpet/train/checkpoint.ts). Their types are structural; test/io/schema.test.ts checks
// they stay assignable to those interfaces.

import { JSON_LIMITS } from './limits.ts';
import { clipMessage, count, display, errorText, firstUnsafeChar, listOf, preview, quote } from '../util/text.ts';

/** Raised when a value read from a file fails its schema; the message names the source and where in the value. */
export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    /** The file (or other source) the value came from. */
    readonly source: string,
    /** Where in the value, e.g. "metadata.state.step". */
    readonly path: string,
    /** What is wrong, starting with the path. */
    readonly problem: string,
  ) {
    super(clipMessage(`${display(source)}: ${problem}`));
  }
}

/** Thrown inside checks; parse() turns it into a SchemaError naming the source. */
class Invalid {
  constructor(readonly path: string, readonly problem: string) {}
}

/** A bounded check of a parsed JSON value that returns a typed copy of a valid value or throws. */
export interface Schema<T> {
  /** What a valid value is, in words: "an integer in [0, 10]". */
  readonly expected: string;
  /** Returns the validated (copied) value or throws; `path` names the value in messages. */
  readonly check: (value: unknown, path: string) => T;
  /** The value an object field takes when it is absent (see withDefault). */
  readonly fallback?: { readonly value: T };
}

/** A field that may be absent (undefined) in an object. */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Fields = Record<string, Schema<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends { readonly optional: true } ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;
export type ObjectOf<F extends Fields> = Simplify<{ -readonly [K in RequiredKeys<F>]: Infer<F[K]> } & { -readonly [K in OptionalKeys<F>]?: Exclude<Infer<F[K]>, undefined> }>;

const fail = (path: string, expected: string, value: unknown): never => {
  throw new Invalid(path, `${path} must be ${expected} (got ${preview(value)})`);
};

const IDENT = /^[A-Za-z_$][\w$]{0,63}$/;
/** `path.key`, or `path["odd key"]` for keys that are not identifiers (escaped and clipped). */
export const fieldPath = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : IDENT.test(key) ? `${path}.${key}` : `${path}[${quote(key, 40)}]`);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const range = (lo: number, hi: number, loOpen = false, hiOpen = false) => `${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;

// ---------------------------------------------------------------------------------------------
// Combinators

/** An integer in [lo, hi] (both safe integers). */
export function int(lo: number, hi: number): Schema<number> {
  const expected = `an integer in ${range(lo, hi)}`;
  return {
    expected,
    check: (v, path) => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : fail(path, expected, v)),
  };
}

/** A finite number in [lo, hi], or with an open end: (lo, hi], [lo, hi). */
export function num(lo: number, hi: number, opts: { loOpen?: boolean; hiOpen?: boolean } = {}): Schema<number> {
  const { loOpen = false, hiOpen = false } = opts;
  const expected = `a number in ${range(lo, hi, loOpen, hiOpen)}`;
  return {
    expected,
    check: (v, path) => (typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi) ? v : fail(path, expected, v)),
  };
}

export function bool(): Schema<boolean> {
  return { expected: 'true or false', check: (v, path) => (typeof v === 'boolean' ? v : fail(path, 'true or false', v)) };
}

/**
 * A string of at most `max` characters. By default it must be printable (no control, escape or
 * bidi characters); `pattern` restricts it further, described by `chars` in messages.
 */
export function str(opts: { max: number; min?: number; pattern?: RegExp; chars?: string; printable?: boolean }): Schema<string> {
  const { max, min = 0, pattern, chars, printable = true } = opts;
  const expected = `a ${printable ? 'printable ' : ''}string of ${min > 0 ? `${min} to ${count(max)}` : `at most ${count(max)}`} characters${chars ? ` (${chars})` : ''}`;
  return {
    expected,
    check: (v, path) => {
      if (typeof v !== 'string' || v.length > max || v.length < min) return fail(path, expected, v);
      if (printable && firstUnsafeChar(v) >= 0) return fail(path, expected, v);
      if (pattern && !pattern.test(v)) return fail(path, expected, v);
      return v;
    },
  };
}

/** One of the given literal values. */
export function oneOf<const V extends readonly (string | number | boolean)[]>(values: V): Schema<V[number]> {
  const expected = values.length === 1 ? `${JSON.stringify(values[0])}` : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return { expected, check: (v, path) => ((values as readonly unknown[]).includes(v) ? (v as V[number]) : fail(path, expected, v)) };
}

/** A list of at most `max` items (length checked before any item), each checked by `item`. */
export function array<T>(item: Schema<T>, opts: { max: number; min?: number; unique?: boolean }): Schema<T[]> {
  const { max, min = 0, unique = false } = opts;
  const expected = `a list of ${min > 0 ? `${min} to ${count(max)}` : `at most ${count(max)}`}${unique ? ' distinct' : ''} items, each ${item.expected}`;
  return {
    expected,
    check: (v, path) => {
      if (!Array.isArray(v)) return fail(path, expected, v);
      if (v.length > max || v.length < min) throw new Invalid(path, `${path} must have ${min > 0 ? `${min} to ${count(max)}` : `at most ${count(max)}`} items (got ${count(v.length)})`);
      const out = v.map((x, i) => item.check(x, fieldPath(path, i)));
      if (unique) {
        const seen = new Map<string, number>();
        out.forEach((x, i) => {
          const k = JSON.stringify(x);
          const j = seen.get(k);
          if (j !== undefined) throw new Invalid(fieldPath(path, i), `${fieldPath(path, i)} repeats ${fieldPath(path, j)} (${preview(x)}): items must be distinct`);
          seen.set(k, i);
        });
      }
      return out;
    },
  };
}

/** An object used as a map: at most `maxKeys` keys (counted first), each checked by `key`, values by `value`. */
export function record<T>(value: Schema<T>, opts: { maxKeys: number; key?: Schema<string> }): Schema<Record<string, T>> {
  const key = opts.key ?? str({ max: 256 });
  const expected = `an object of at most ${count(opts.maxKeys)} entries, each ${value.expected}`;
  return {
    expected,
    check: (v, path) => {
      if (!isPlainObject(v)) return fail(path, expected, v);
      let n = 0;
      for (const k in v) if (Object.hasOwn(v, k) && ++n > opts.maxKeys) throw new Invalid(path, `${path} must have at most ${count(opts.maxKeys)} entries (got more)`);
      const out: Record<string, T> = {};
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        key.check(k, `${path} key ${quote(k, 40)}`);
        // defineProperty: a key "__proto__" stays an ordinary entry.
        Object.defineProperty(out, k, { value: value.check(v[k], fieldPath(path, k)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    },
  };
}

/** Any JSON value within bounds: nesting depth, total nodes (values, keys), string length. */
export function json(opts: { maxDepth: number; maxNodes: number; maxStringChars: number }): Schema<unknown> {
  const expected = `a JSON value nested at most ${opts.maxDepth} deep, of at most ${count(opts.maxNodes)} values, strings of at most ${count(opts.maxStringChars)} characters`;
  return {
    expected,
    check: (v, path) => {
      let nodes = 0;
      const walk = (x: unknown, p: string, depth: number): unknown => {
        if (++nodes > opts.maxNodes) throw new Invalid(path, `${path} must have at most ${count(opts.maxNodes)} values in all (got more)`);
        if (x === null || typeof x === 'boolean') return x;
        if (typeof x === 'number') return Number.isFinite(x) ? x : fail(p, 'a finite number', x);
        if (typeof x === 'string') return x.length <= opts.maxStringChars ? x : fail(p, `a string of at most ${count(opts.maxStringChars)} characters`, x);
        if (depth >= opts.maxDepth) throw new Invalid(p, `${p} is nested too deeply (at most ${opts.maxDepth} levels)`);
        if (Array.isArray(x)) {
          if (x.length > opts.maxNodes) throw new Invalid(p, `${p} must have at most ${count(opts.maxNodes)} values in all (got a list of ${count(x.length)})`);
          return x.map((y, i) => walk(y, fieldPath(p, i), depth + 1));
        }
        if (isPlainObject(x)) {
          const out: Record<string, unknown> = {};
          for (const k in x) {
            if (!Object.hasOwn(x, k)) continue;
            if (++nodes > opts.maxNodes) throw new Invalid(path, `${path} must have at most ${count(opts.maxNodes)} values in all (got more)`);
            if (k.length > opts.maxStringChars) fail(`${p} key`, `a string of at most ${count(opts.maxStringChars)} characters`, k);
            Object.defineProperty(out, k, { value: walk(x[k], fieldPath(p, k), depth + 1), enumerable: true, writable: true, configurable: true });
          }
          return out;
        }
        return fail(p, 'a JSON value', x);
      };
      return walk(v, path, 0);
    },
  };
}

/** The field may be absent (or undefined). */
export function optional<T>(s: Schema<T>): OptionalSchema<T> {
  return { expected: `${s.expected} (optional)`, optional: true, check: (v, path) => (v === undefined ? undefined : s.check(v, path)) };
}

/** The value may be null. */
export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return { expected: `${s.expected}, or null`, check: (v, path) => (v === null ? null : s.check(v, path)) };
}

/** An absent field takes `value` (for fields added after files were written). */
export function withDefault<T>(s: Schema<T>, value: T): Schema<T> {
  return { expected: s.expected, fallback: { value }, check: (v, path) => (v === undefined ? value : s.check(v, path)) };
}

/**
 * An object with the given fields (required unless wrapped in optional()). Unknown fields are an
 * error by default; `unknown: 'keep'` keeps them after checking them with `extra` (bounded JSON).
 */
export function object<F extends Fields>(fields: F, opts: { unknown?: 'reject' | 'keep'; extra?: Schema<unknown>; maxUnknown?: number } = {}): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const expected = `an object with ${names.length <= 8 ? `fields ${names.join(', ')}` : `${names.length} fields (${names.slice(0, 8).join(', ')}, …)`}`;
  const extra = opts.extra ?? json({ maxDepth: 8, maxNodes: 10_000, maxStringChars: 65_536 });
  const maxUnknown = opts.maxUnknown ?? 256;
  return {
    expected,
    check: (v, path) => {
      if (!isPlainObject(v)) return fail(path, expected, v);
      const out: Record<string, unknown> = {};
      let unknown = 0;
      for (const k in v) {
        if (!Object.hasOwn(v, k) || Object.hasOwn(fields, k)) continue;
        if (opts.unknown !== 'keep') throw new Invalid(fieldPath(path, k), `${path} has an unexpected field ${quote(k, 60)} (allowed: ${listOf(names, { render: (s) => s })})`);
        if (++unknown > maxUnknown) throw new Invalid(path, `${path} has more than ${maxUnknown} unknown fields`);
      }
      for (const k of names) {
        const s = fields[k]!;
        const p = fieldPath(path, k);
        const value = Object.hasOwn(v, k) ? v[k] : undefined;
        if (value === undefined && !(s as Partial<OptionalSchema<unknown>>).optional) {
          if (!s.fallback) throw new Invalid(p, `${p} is missing (must be ${s.expected})`);
          out[k] = s.fallback.value;
          continue;
        }
        const r = s.check(value, p);
        if (r !== undefined) out[k] = r;
      }
      if (opts.unknown === 'keep') {
        for (const k in v) {
          if (!Object.hasOwn(v, k) || Object.hasOwn(fields, k)) continue;
          Object.defineProperty(out, k, { value: extra.check(v[k], fieldPath(path, k)), enumerable: true, writable: true, configurable: true });
        }
      }
      return out as ObjectOf<F>;
    },
  };
}

/** A problem found by refine(): where (relative to the refined value) and what. */
export interface Issue {
  /** Field names / indices below the refined value, e.g. ['merge', 'blocks', 2]. */
  readonly at?: readonly (string | number)[];
  /** Starts after the path: "must be … (got …)". */
  readonly message: string;
}

/** Extra checks across fields, after `s` has passed: `check` returns an Issue, or undefined if fine. */
export function refine<T>(s: Schema<T>, check: (value: T) => Issue | undefined, expected?: string): Schema<T> {
  return {
    expected: expected ?? s.expected,
    check: (v, path) => {
      const out = s.check(v, path);
      const issue = check(out);
      if (issue) {
        const p = (issue.at ?? []).reduce<string>((acc, k) => fieldPath(acc, k), path);
        throw new Invalid(p, `${p} ${issue.message}`);
      }
      return out;
    },
  };
}

/** Rewrites the raw value before `s` checks it (e.g. to read an older layout); `fn` must not trust it. */
export function preprocess<T>(fn: (raw: unknown) => unknown, s: Schema<T>): Schema<T> {
  return { expected: s.expected, check: (v, path) => s.check(fn(v), path) };
}

// ---------------------------------------------------------------------------------------------
// Entry points

export interface ParseOptions {
  /** The file the value came from (named first in messages). */
  source: string;
  /** Name of the value, e.g. "metadata.state". */
  path: string;
}

/** Checks an already parsed value. */
export function parse<T>(schema: Schema<T>, value: unknown, opts: ParseOptions): T {
  try {
    return schema.check(value, opts.path);
  } catch (e) {
    if (e instanceof Invalid) throw new SchemaError(opts.source, e.path, e.problem);
    throw e;
  }
}

/** Parses JSON text (at most JSON_LIMITS.maxChars characters) and checks it. */
export function parseJson<T>(text: string, schema: Schema<T>, opts: ParseOptions & { maxChars?: number }): T {
  const max = opts.maxChars ?? JSON_LIMITS.maxChars;
  if (text.length > max) throw new SchemaError(opts.source, opts.path, `${opts.path} is ${count(text.length)} characters of JSON, over the ${count(max)}-character limit`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SchemaError(opts.source, opts.path, `${opts.path} is not valid JSON (${errorText(e, 160)})`);
  }
  return parse(schema, value, opts);
}

/** Parses the JSON text stored under `key` in safetensors metadata and checks it: `metadata.<key>`. */
export function parseMetadataJson<T>(metadata: Readonly<Record<string, string>>, key: string, schema: Schema<T>, source: string, opts: { maxChars?: number } = {}): T {
  const path = fieldPath('metadata', key);
  const text = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (typeof text !== 'string') throw new SchemaError(source, path, `${path} is missing (must be JSON text: ${schema.expected})`);
  return parseJson(text, schema, { source, path, maxChars: opts.maxChars });
}

// ---------------------------------------------------------------------------------------------
// Ready-made schemas

/** Bounds of modelSpecSchema. */
export const MODEL_SPEC_LIMITS = Object.freeze({
  maxImageSize: 1024,
  /** Patches per side (image size / patch size): 256 → at most 65,536 patch tokens. */
  maxGrid: 256,
  maxChannels: 16,
  maxWidth: 4096,
  maxDepth: 64,
  maxHeads: 64,
  maxMlpRatio: 16,
  maxClasses: 100_000,
  maxAdapterDim: 4096,
  maxBatch: 65_536,
  maxMergeRatio: 0.5,
  maxTomeR: 65_536,
  maxDropout: 0.95,
  maxAdapterScale: 1000,
  /** Backbone parameters (4 GB of f32): stops a small file from declaring a model too large to allocate. */
  maxParams: 1_000_000_000,
});

const M = MODEL_SPEC_LIMITS;

/** Backbone parameter count of a ViT geometry (as src/fpet/models/vit.ts lays it out). */
function vitParams(v: { imageSize: number; patchSize: number; inChannels: number; dim: number; depth: number; mlpRatio: number; numClasses: number; representationSize: number }): number {
  const D = v.dim, H = Math.round(v.dim * v.mlpRatio), T = (v.imageSize / v.patchSize) ** 2 + 1, R = v.representationSize;
  const block = 4 * D * D + 2 * D * H + 9 * D + H;
  return D + T * D + D * v.inChannels * v.patchSize ** 2 + D + v.depth * block + 2 * D + (R > 0 ? R * D + R : 0) + v.numClasses * (R > 0 ? R : D) + v.numClasses;
}

/** Older files say `preLogits: true|false` (a pre-logits layer as wide as the model) instead of `representationSize`. */
const legacyVit = (raw: unknown): unknown => {
  if (!isPlainObject(raw) || !Object.hasOwn(raw, 'preLogits') || Object.hasOwn(raw, 'representationSize') || typeof raw.preLogits !== 'boolean') return raw;
  const { preLogits, ...rest } = raw;
  return { ...rest, representationSize: preLogits ? rest.dim : 0 };
};

export const vitConfigSchema = refine(
  preprocess(legacyVit, object({
    imageSize: int(1, M.maxImageSize),
    patchSize: int(1, M.maxImageSize),
    inChannels: int(1, M.maxChannels),
    dim: int(1, M.maxWidth),
    depth: int(1, M.maxDepth),
    heads: int(1, M.maxHeads),
    mlpRatio: num(0, M.maxMlpRatio, { loOpen: true }),
    numClasses: int(1, M.maxClasses),
    representationSize: int(0, M.maxWidth),
  })),
  (v) => {
    if (v.imageSize % v.patchSize !== 0) return { at: ['patchSize'], message: `must divide the image size ${v.imageSize} (got ${v.patchSize})` };
    if (v.imageSize / v.patchSize > M.maxGrid) return { at: ['patchSize'], message: `must be at least ${Math.ceil(v.imageSize / M.maxGrid)} for image size ${v.imageSize}: at most ${M.maxGrid} patches per side (got ${v.patchSize})` };
    if (v.dim % v.heads !== 0) return { at: ['heads'], message: `must divide the width ${v.dim} (got ${v.heads})` };
    if (Math.round(v.dim * v.mlpRatio) < 1) return { at: ['mlpRatio'], message: `gives an MLP of width 0 at width ${v.dim} (got ${v.mlpRatio})` };
    const params = vitParams(v);
    if (params > M.maxParams) return { message: `declares a backbone of ${count(params)} parameters, over the limit of ${count(M.maxParams)}` };
    return undefined;
  },
);

export const petSpecSchema = refine(
  object({
    method: oneOf(['adaptformer', 'lora', 'full', 'linear'] as const),
    bits: oneOf([32, 1] as const),
    dim: int(0, M.maxAdapterDim),
    scale: num(-M.maxAdapterScale, M.maxAdapterScale),
    bias: withDefault(bool(), false),
  }),
  (p) => ((p.method === 'adaptformer' || p.method === 'lora') && p.dim < 1 ? { at: ['dim'], message: `must be an integer in [1, ${M.maxAdapterDim}] for ${p.method} (got ${p.dim})` } : undefined),
);

export const mergeSpecSchema = object({
  kind: oneOf(['fpet', 'tome'] as const),
  blocks: array(int(0, M.maxDepth - 1), { min: 1, max: M.maxDepth, unique: true }),
  ratio: num(0, M.maxMergeRatio, { loOpen: true }),
  r: int(1, M.maxTomeR),
  refineBits: oneOf([32, 1] as const),
  refineDim: int(1, M.maxAdapterDim),
});

/** ModelSpec (src/fpet/models/model.ts) with bounds: image ≤ 1024, ≤ 256 patches per side, width ≤ 4096, depth ≤ 64, heads ≤ 64, classes ≤ 100,000, adapter dim ≤ 4096, merge blocks inside the depth, input crop inside the image, ratio in (0, 0.5], bits 1 or 32, ≤ 1e9 backbone parameters. */
export const modelSpecSchema = refine(
  object({
    vit: vitConfigSchema,
    batch: int(1, M.maxBatch),
    pet: petSpecSchema,
    merge: optional(mergeSpecSchema),
    inputCrop: optional(int(1, M.maxImageSize)),
    normalize: optional(object({ mean: array(num(-100, 100), { min: 1, max: M.maxChannels }), std: array(num(1e-4, 100), { min: 1, max: M.maxChannels }) })),
    training: optional(object({ dropout: num(0, M.maxDropout), dropPath: num(0, M.maxDropout) })),
  }),
  (s) => {
    const i = s.merge?.blocks.findIndex((b) => b >= s.vit.depth) ?? -1;
    if (i >= 0) return { at: ['merge', 'blocks', i], message: `must be a block of the ${s.vit.depth}-block model: an integer in [0, ${s.vit.depth - 1}] (got ${s.merge!.blocks[i]})` };
    if (s.inputCrop !== undefined && s.inputCrop > s.vit.imageSize) return { at: ['inputCrop'], message: `must be an integer in [1, ${s.vit.imageSize}] (the image size; got ${s.inputCrop})` };
    for (const f of ['mean', 'std'] as const) {
      if (s.normalize && s.normalize[f].length !== s.vit.inChannels) return { at: ['normalize', f], message: `must have one value per input channel: ${s.vit.inChannels} (got ${s.normalize[f].length})` };
    }
    return undefined;
  },
);

/** Bounds of runStateSchema. */
export const RUN_STATE_LIMITS = Object.freeze({
  maxEpochs: 100_000,
  maxSteps: 1_000_000_000,
  /** Seeds fit in 32 bits (they are fed to the GPU as i32). */
  minSeed: -(2 ** 31),
  maxSeed: 2 ** 32 - 1,
  maxOptions: 256,
});

const R = RUN_STATE_LIMITS;

export const epochRecordSchema = object(
  {
    epoch: int(1, R.maxEpochs),
    lr: num(0, 1000),
    loss: num(0, 1e9),
    testAccuracy: optional(num(0, 1)),
    trainImagesPerSec: num(0, 1e12),
    seconds: num(0, 1e9),
  },
  { unknown: 'keep', extra: json({ maxDepth: 4, maxNodes: 1000, maxStringChars: 4096 }), maxUnknown: 32 },
);

/** RunState (src/fpet/train/checkpoint.ts): one history record per completed epoch, in order; step ≥ epoch. */
export const runStateSchema = refine(
  object({
    spec: modelSpecSchema,
    epoch: int(0, R.maxEpochs),
    step: int(0, R.maxSteps),
    seed: int(R.minSeed, R.maxSeed),
    options: record(json({ maxDepth: 6, maxNodes: 10_000, maxStringChars: 4096 }), { maxKeys: R.maxOptions }),
    history: array(epochRecordSchema, { max: R.maxEpochs }),
  }),
  (s) => {
    if (s.history.length !== s.epoch) return { at: ['history'], message: `must have one record per completed epoch: ${s.epoch} (got ${count(s.history.length)})` };
    const j = s.history.findIndex((h, i) => h.epoch !== i + 1);
    if (j >= 0) return { at: ['history', j, 'epoch'], message: `must be ${j + 1} (records in epoch order; got ${s.history[j]!.epoch})` };
    if (s.step < s.epoch) return { at: ['step'], message: `must be at least the ${s.epoch} completed epochs' worth of steps (got ${s.step})` };
    return undefined;
  },
);

export type ModelSpecData = Infer<typeof modelSpecSchema>;
export type RunStateData = Infer<typeof runStateSchema>;
