// Text that came from a file or the command line, made safe to print: control characters,
// terminal escape sequences (ESC, 8-bit CSI), bidirectional overrides, line separators, invisible
// format characters and lone surrogates are escaped, names are clipped, lists are capped, and a
// whole message has a maximum length. A file cannot flood the terminal, move the cursor, recolour
// it, reorder what is shown, or forge extra lines of output through an error message.

/** Display limits for anything echoed from an input. */
export const TEXT_LIMITS = {
  /** Characters of one name (tensor, field, path) shown before it is clipped. */
  nameChars: 200,
  /** Items of a list (names, problems) shown before "… and N more". */
  listItems: 20,
  /** Characters of one whole message. */
  messageChars: 4000,
} as const;

// C0 and C1 controls (ESC, CSI 0x9b, ...), DEL, soft hyphen, Arabic letter mark, zero-width and
// bidi marks and overrides (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069), line/paragraph
// separators, word joiner and invisible operators, BOM, interlinear annotation controls, and
// surrogates that are not part of a pair.
const UNSAFE_SOURCE = String.raw`[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]`;
const UNSAFE = new RegExp(UNSAFE_SOURCE, 'g');
const UNSAFE_ONE = new RegExp(UNSAFE_SOURCE);
// What JSON.stringify leaves alone but a terminal would still act on.
const UNSAFE_AFTER_JSON = /[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const hex = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Index of the first character that would be escaped (a control, escape or bidi character), or -1. */
export function firstUnsafeChar(s: string): number {
  const m = UNSAFE_ONE.exec(s);
  return m ? m.index : -1;
}

/** Escapes unsafe characters as \xNN / \uNNNN; everything else (including backslashes) is kept. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, hex);
}

/** Clips to `max` characters (never in the middle of a surrogate pair), saying how much was cut. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}…(${(s.length - end).toLocaleString('en-US')} more characters)`;
}

/** A path, source name or other free text from an input: escaped and clipped, not quoted. */
export function display(s: string, max: number = TEXT_LIMITS.nameChars): string {
  return escapeControl(clip(s, max));
}

/**
 * A name from an input, in double quotes: JSON escapes (so a quote or backslash in the name is
 * unambiguous) plus the characters JSON leaves alone but terminals act on; clipped to `max`.
 */
export function quote(s: string, max: number = TEXT_LIMITS.nameChars): string {
  const long = s.length > max;
  let body = s;
  if (long) {
    let end = max;
    const last = s.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    body = s.slice(0, end);
  }
  const q = JSON.stringify(body).replace(UNSAFE_AFTER_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return long ? `${q}…(${(s.length - body.length).toLocaleString('en-US')} more characters)` : q;
}

/** `"a", "b", "c" and 7 more`: at most `max` items, each rendered with `render` (quote by default). */
export function listOf(items: Iterable<string>, opts: { max?: number; render?: (s: string) => string; total?: number } = {}): string {
  const max = opts.max ?? TEXT_LIMITS.listItems;
  const render = opts.render ?? ((s: string) => quote(s));
  const shown: string[] = [];
  let count = 0;
  for (const item of items) {
    if (shown.length < max) shown.push(render(item));
    count++;
    if (opts.total !== undefined && shown.length >= max) break;
  }
  const total = opts.total ?? count;
  const rest = total - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest.toLocaleString('en-US')} more` : shown.join(', ');
}

/** The first `max` lines, then one line "… and N more <noun>" when some were left out. */
export function capLines(lines: readonly string[], max: number = TEXT_LIMITS.listItems, noun = 'more'): string[] {
  if (lines.length <= max) return [...lines];
  return [...lines.slice(0, max), `… and ${(lines.length - max).toLocaleString('en-US')} ${noun}`];
}

/** Caps a whole message (already escaped) at `max` characters. */
export function clipMessage(message: string, max: number = TEXT_LIMITS.messageChars): string {
  return clip(message, max);
}

/**
 * A bounded, escaped preview of any value (typically parsed JSON) for "got …" in messages: strings
 * quoted, arrays and objects shown up to about `max` characters, the rest elided with a count.
 * Never walks more of a large value than it prints.
 */
export function preview(value: unknown, max = 60): string {
  let budget = max;
  const walk = (v: unknown, depth: number): string => {
    if (v === undefined) return 'undefined';
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'string') return quote(v, Math.max(8, Math.min(budget, TEXT_LIMITS.nameChars)));
    if (typeof v !== 'object') return typeof v;
    if (depth >= 3) return Array.isArray(v) ? `[…${v.length} items]` : '{…}';
    const parts: string[] = [];
    if (Array.isArray(v)) {
      let i = 0;
      for (; i < v.length && budget > 0; i++) {
        const s = walk(v[i], depth + 1);
        budget -= s.length + 1;
        parts.push(s);
      }
      if (i < v.length) parts.push(`…(${(v.length - i).toLocaleString('en-US')} more)`);
      return `[${parts.join(',')}]`;
    }
    let shown = 0, total = 0;
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      total++;
      if (budget <= 0) continue;
      const s = `${quote(k, 40)}:${walk((v as Record<string, unknown>)[k], depth + 1)}`;
      budget -= s.length + 1;
      parts.push(s);
      shown++;
    }
    if (shown < total) parts.push(`…(${(total - shown).toLocaleString('en-US')} more)`);
    return `{${parts.join(',')}}`;
  };
  return walk(value, 0);
}

/** The message of an unknown thrown value, escaped and clipped (for wrapping errors from libraries). */
export function errorText(e: unknown, max = 300): string {
  const m = e instanceof Error ? e.message : String(e);
  return display(m, max);
}

/** 1234567 -> "1,234,567". */
export const count = (n: number | bigint): string => n.toLocaleString('en-US');
