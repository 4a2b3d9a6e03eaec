// Strict option parsing for the commands: every option is declared with its type, and anything
// the declaration does not allow is a UsageError that names the command, the option and what it
// accepts:
//
// - `--name value` and `--name=value`; `--` ends the options. Flags are spelled as declared in
//   kebab-case (`--merge-blocks`; the camelCase key `--mergeBlocks` is accepted too).
// - A value is never empty (`--backbone=`, `--lr ""`) and never another option: `--out --epochs 3`
//   is "--out needs a value" (a value that starts with "-" is written `--out=-x`; negative numbers
//   such as `--seed -1` are fine).
// - Numbers are decimal (`3`, `-1.5`, `5e-3`): no hex, no empty string, no Infinity; integer options
//   take safe integers; `min`/`max` are checked and named.
// - Lists are comma-separated, without empty items, within `maxItems`, each item checked against
//   `choices` or as a number (integer) in [min, max] when declared so (items are returned as
//   strings); `unique` lists refuse an item given twice (numbers compared as numbers). A
//   `repeatable` list is not split at commas (file names may hold them): each occurrence of the
//   option adds one item, and words after the options can add more where positionals are declared.
// - Booleans are flags (`--help`), or `--flag=true|false|1|0`.
// - Words that are not options are errors unless the command declares positionals.
// - An option given twice is an error (except a `repeatable` list).
// - `-h` is `--help` for commands that have --help.
//
// Everything echoed back from the command line is escaped and clipped (src/core/util/text.ts).

import { display, quote } from '../../core/util/text.ts';

export type OptionSpec =
  | { type: 'string'; default?: string; choices?: readonly string[]; help: string }
  | { type: 'number'; default?: number; min?: number; max?: number; integer?: boolean; help: string }
  | { type: 'boolean'; default?: boolean; help: string }
  | { type: 'list'; default?: readonly string[]; choices?: readonly string[]; maxItems?: number; integer?: boolean; min?: number; max?: number; unique?: boolean; repeatable?: boolean; help: string };

export type Parsed<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K] extends { type: 'number' } ? number : S[K] extends { type: 'boolean' } ? boolean : S[K] extends { type: 'list' } ? string[] : string;
} & { _: string[] };

export interface ParseConfig {
  /** Words that are not options, e.g. input files; without this any such word is an error. */
  positionals?: { name: string; max?: number };
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Decimal numbers only: no hex/octal/binary, separators, whitespace, Infinity or NaN. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}

/** "in [0, 0.95]", ">= 1", "<= 10", or "" for an unbounded number. */
function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `in [${min}, ${max}]`;
  if (min !== undefined) return `>= ${min}`;
  if (max !== undefined) return `<= ${max}`;
  return '';
}

/** What a number option accepts, for messages and help: "an integer >= 1", "a number in [0, 0.95]". */
function numberText(s: { min?: number; max?: number; integer?: boolean }): string {
  const r = rangeText(s.min, s.max);
  return `${s.integer ? 'an integer' : 'a number'}${r ? ` ${r}` : ''}`;
}

function parseNumber(command: string, name: string, v: string, s: { min?: number; max?: number; integer?: boolean }): number {
  const what = numberText(s);
  if (!NUMBER.test(v)) throw new UsageError(`${command}: ${name} must be a number (${what}; got ${quote(v, 60)})`);
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${command}: ${name} must be a finite number (${what}; got ${quote(v, 60)})`);
  if (s.integer && !Number.isSafeInteger(n)) throw new UsageError(`${command}: ${name} must be an integer${Number.isInteger(n) ? ' of at most 2^53-1' : ''} (got ${display(v, 60)})`);
  if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) throw new UsageError(`${command}: ${name} must be ${rangeText(s.min, s.max)} (got ${display(v, 60)})`);
  return n;
}

function parseBool(command: string, name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new UsageError(`${command}: ${name} takes true or false (got ${quote(v, 60)})`);
}

/** The typed value of one option's text (string, list or number; booleans are handled by the caller). */
function parseValue(command: string, shown: string, s: Exclude<OptionSpec, { type: 'boolean' }>, value: string): string | string[] | number {
  if (s.type === 'string') {
    if (s.choices && !s.choices.includes(value)) throw new UsageError(`${command}: ${shown} must be one of ${s.choices.join(', ')} (got ${quote(value, 60)})`);
    return value;
  }
  if (s.type === 'number') return parseNumber(command, shown, value, s);
  return checkListItems(command, shown, s, s.repeatable ? [value] : value.split(',').map((v) => v.trim()), value);
}

/** The items of a list option checked: none empty, at most maxItems, choices, numbers in range, distinct when asked. */
function checkListItems(command: string, shown: string, s: Extract<OptionSpec, { type: 'list' }>, items: string[], value: string): string[] {
  const empty = items.findIndex((v) => v === '');
  if (empty >= 0) throw new UsageError(`${command}: ${shown} takes a comma-separated list without empty items (item ${empty + 1} of ${quote(value, 80)} is empty)`);
  if (s.maxItems !== undefined && items.length > s.maxItems) throw new UsageError(`${command}: ${shown} takes at most ${s.maxItems} items (got ${items.length})`);
  const numeric = s.integer || s.min !== undefined || s.max !== undefined;
  const seen = new Map<string | number, string>();
  for (const item of items) {
    if (s.choices && !s.choices.includes(item)) throw new UsageError(`${command}: ${shown} items must be among ${s.choices.join(', ')} (got ${quote(item, 60)})`);
    const key = numeric ? parseNumber(command, `each item of ${shown}`, item, s) : item;
    const first = seen.get(key);
    if (s.unique && first !== undefined) throw new UsageError(`${command}: ${shown} lists ${quote(item, 60)}${first !== item ? ` and ${quote(first, 60)}` : ''} twice: each item once (the same run would be trained twice, into one folder)`);
    seen.set(key, item);
  }
  return items;
}

/** The unknown-option error, with the nearest declared flag as a hint. */
function unknownOption(command: string, spec: Record<string, OptionSpec>, name: string): never {
  const flags = Object.keys(spec).map(flag);
  const near = flags.map((f) => [f, editDistance(f, name)] as const).filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0];
  const tail = near ? `did you mean ${near[0]}?` : `options: ${flags.join(', ')}`;
  throw new UsageError(`${command}: unknown option ${display(name, 80)} (${tail})`);
}

/** The declared key of `--name` (kebab-case, or the camelCase key itself), or the unknown-option error. */
function optionKey(command: string, spec: Record<string, OptionSpec>, name: string): string {
  const key = camel(name.slice(2));
  if (!Object.hasOwn(spec, key) || (name !== flag(key) && name !== `--${key}`)) unknownOption(command, spec, name);
  return key;
}

/**
 * Parses `argv` against the declared options: defaults filled in, every value checked; anything
 * the declaration does not allow is a UsageError naming the command, the option and what it takes.
 */
export function parseArgs<S extends Record<string, OptionSpec>>(command: string, argv: readonly string[], spec: S, config: ParseConfig = {}): Parsed<S> {
  const out: Record<string, unknown> = { _: [] };
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  const given = new Map<string, string>();
  const positional = out._ as string[];
  let endOfOptions = false;
  /** The previous token when it was a boolean flag (for the hint on a stray word). */
  let lastFlag: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const wasFlag = lastFlag;
    lastFlag = undefined;
    if (endOfOptions || a === '-' || !a.startsWith('-') || NUMBER.test(a)) {
      addPositional(command, config, positional, a, wasFlag);
      continue;
    }
    if (a === '--') {
      endOfOptions = true;
      continue;
    }
    if (!a.startsWith('--')) {
      if (a === '-h' && spec.help?.type === 'boolean') {
        out.help = true;
        continue;
      }
      unknownOption(command, spec, a);
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const key = optionKey(command, spec, name);
    const s = spec[key]!;
    const shown = flag(key);
    const again = given.has(key);
    if (again && !(s.type === 'list' && s.repeatable)) throw new UsageError(`${command}: ${shown} is given twice (first as ${quote(given.get(key)!, 80)})`);
    given.set(key, a);

    if (s.type === 'boolean') {
      out[key] = inline === undefined ? true : parseBool(command, shown, inline);
      if (inline === undefined) lastFlag = shown;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = separateValue(command, shown, s, argv[i + 1]);
      i++;
      given.set(key, `${a} ${value}`);
    }
    if (value === '') throw new UsageError(`${command}: ${shown} needs a non-empty value${inline !== undefined ? ` (got "${shown}=")` : ' (got "")'}`);
    out[key] = again ? addItem(command, shown, s, out[key] as string[], value) : parseValue(command, shown, s, value);
  }
  return out as Parsed<S>;
}

/** Another occurrence of a repeatable list option: its item appended, the list's bounds checked. */
function addItem(command: string, shown: string, s: OptionSpec, items: readonly string[], value: string): string[] {
  return checkListItems(command, shown, s as Extract<OptionSpec, { type: 'list' }>, [...items, value], value);
}

/** A word that is not an option: a positional where the command declares them, else an error. */
function addPositional(command: string, config: ParseConfig, positional: string[], word: string, lastFlag: string | undefined): void {
  if (!config.positionals) {
    const hint = lastFlag ? `${lastFlag} is a flag and takes no value; write ${lastFlag}=${display(word, 20)}` : `options start with --; see ${command} --help`;
    throw new UsageError(`${command}: unexpected argument ${quote(word, 80)} (${hint})`);
  }
  const { max, name } = config.positionals;
  if (max !== undefined && positional.length >= max) throw new UsageError(`${command}: at most ${max} ${name} (got another: ${quote(word, 80)})`);
  positional.push(word);
}

/** The value of `--name value`: the next word, which must exist and must not be another option. */
function separateValue(command: string, shown: string, s: OptionSpec, next: string | undefined): string {
  if (next === undefined) throw new UsageError(`${command}: ${shown} needs a value`);
  if (next.startsWith('-') && next !== '-' && !(s.type === 'number' && NUMBER.test(next))) {
    throw new UsageError(`${command}: ${shown} needs a value (got the option ${display(next, 80)} instead; write ${shown}=VALUE for a value that starts with "-")`);
  }
  return next;
}

export function helpText(command: string, summary: string, spec: Record<string, OptionSpec>, config: ParseConfig = {}): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const def = s.default === undefined ? '' : ` (default: ${Array.isArray(s.default) ? s.default.join(',') : s.default})`;
    let accepts = '';
    if ((s.type === 'string' || s.type === 'list') && s.choices) accepts = ` [${s.choices.join('|')}]`;
    if (s.type === 'number' && (s.integer || s.min !== undefined || s.max !== undefined)) accepts = ` [${numberText(s)}]`;
    if (s.type === 'list') accepts += ` [${s.repeatable ? 'one per use, repeat the option for more' : 'comma-separated'}${s.integer || s.min !== undefined || s.max !== undefined ? `, each ${numberText(s)}` : ''}${s.unique ? ', distinct' : ''}${s.maxItems !== undefined ? `, at most ${s.maxItems}` : ''}]`;
    return `  ${flag(k).padEnd(24)} ${s.help}${accepts}${def}`;
  });
  const usage = `fpet-webgpu ${command} [options]${config.positionals ? ` [${config.positionals.name}...]` : ''}`;
  return [usage, '', summary, '', 'options:', ...rows].join('\n');
}
