// Renaming tensors at load time, for checkpoints written with another naming (timm variants,
// PyTorch `module.` prefixes, the original AdaptFormer's `adaptmlp.down_proj`, ...).
//
// A name map is a list of rules `pattern -> replacement`, one per line ('#' starts a comment). A
// pattern is a glob over the whole tensor name, whose parts are separated by dots:
//
//   *        any run of characters within one part (no '.'), possibly empty    — a capture
//   **       any run of characters, dots included, possibly empty             — a capture
//   {a,b,c}  one of the listed words (literal text; an empty word is allowed)  — a capture
//   \x       the character x itself (for a literal *, {, }, \ or one of ( ) [ ] | ^ $ + ?)
//
// Everything else matches itself. Captures are numbered from 1, left to right; the replacement
// refers to them as $1 … $9 or ${n}, and writes $$ for a dollar sign. A replacement of `-` drops
// the tensor. The first rule that matches a name decides it; names no rule matches keep their name.
//
//     module.**                                   -> $1
//     blocks.*.adaptmlp.{down,up}_proj.*          -> blocks.$1.adapter_mlp.$2.$3
//     fc_norm.*                                   -> -
//
// Patterns cannot backtrack: a name is matched by dynamic programming over (pattern position,
// name position), so one rule against one name takes O(pattern length × name length) steps, and
// captures are read off the table greedily (each * as long as the rest still matches). Regular
// expressions are refused with a hint (they were this file's language before: a rule such as
// `(.*.*)*Z` could take exponential time).

import { count, display, quote } from '../util/text.ts';

/** One rule of a name map: a whole-name glob and its replacement (see parseNameMap). */
export interface NameRule {
  /** The glob, as written: `*` (one dot-separated part), `**` (anything), `{a,b}` (words), `\x` (literal x). */
  readonly pattern: string;
  /** With $1…$9 / ${n} for the captures and $$ for "$"; undefined: drop the tensor. */
  readonly replacement: string | undefined;
  /** Where the rule came from, for messages ("map.txt:3"). */
  readonly source: string;
}

/** A name map that cannot be parsed or applied; the message names the file and line. */
export class NameMapError extends Error {
  override name = 'NameMapError';
}

/** Bounds on name maps: their files, rules and the work of applying them. */
export const NAME_MAP_LIMITS = Object.freeze({
  /** Bytes of a name-map file. */
  maxFileBytes: 1_000_000,
  /** Rules in one map. */
  maxRules: 10_000,
  /** Characters of a pattern or a replacement (a tensor name is at most 1,024). */
  maxPatternChars: 1024,
  /** Matching steps for one whole map over one file's names (about a second). */
  maxSteps: 300_000_000,
});

type Token = { kind: 'lit'; text: string } | { kind: 'part' } | { kind: 'any' } | { kind: 'words'; words: string[] };

/** A compiled glob: its tokens and capture count. */
export interface NamePattern {
  readonly source: string;
  readonly tokens: readonly Token[];
  readonly captures: number;
  /** Characters of the pattern: the P of the O(P × N) bound. */
  readonly size: number;
}

/** Characters that make a pattern look like a regular expression (escape them with \ to match them). */
const REGEX_CHARS = new Set(['(', ')', '[', ']', '|', '^', '$', '+', '?']);

function regexHint(where: string, pattern: string, ch: string): NameMapError {
  return new NameMapError(`${where}: ${quote(ch)} in pattern ${quote(pattern, 120)}: patterns are globs, not regular expressions — * is any run of characters within one dot-separated part, ** any run of characters, {a,b} one of the words; write \\${ch} for the character itself (e.g. "module.** -> $1", "blocks.*.adaptmlp.{down,up}_proj.* -> blocks.$1.adapter_mlp.$2.$3")`);
}

/** The words of a `{a,b,c}` group starting at `at` (the '{'); returns them and the index after '}'. */
function readWords(p: string, at: number, where: string): { words: string[]; next: number } {
  const words: string[] = [];
  let word = '';
  for (let i = at + 1; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) word += p[++i];
    else if (c === ',') (words.push(word), (word = ''));
    else if (c === '}') return { words: [...words, word], next: i + 1 };
    else if (c === '{' || c === '*') throw new NameMapError(`${where}: ${quote(c)} inside {…} in pattern ${quote(p, 120)}: a group lists literal words (escape it as \\${c})`);
    else if (REGEX_CHARS.has(c)) throw regexHint(where, p, c);
    else word += c;
  }
  throw new NameMapError(`${where}: unclosed "{" at character ${at + 1} of pattern ${quote(p, 120)}`);
}

/** Compiles a glob; errors name `where` (file:line), the character and what is allowed. */
export function compileNamePattern(pattern: string, where = 'name map'): NamePattern {
  if (pattern.length > NAME_MAP_LIMITS.maxPatternChars) throw new NameMapError(`${where}: the pattern is ${count(pattern.length)} characters long; the limit is ${count(NAME_MAP_LIMITS.maxPatternChars)} (a tensor name is at most 1,024)`);
  const tokens: Token[] = [];
  let lit = '';
  const flush = () => lit && (tokens.push({ kind: 'lit', text: lit }), (lit = ''));
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw new NameMapError(`${where}: pattern ${quote(pattern, 120)} ends with a lone "\\"`);
      lit += pattern[i + 1];
      i += 2;
    } else if (c === '*') {
      const run = pattern.startsWith('**', i) ? 2 : 1;
      if (pattern[i + run] === '*') throw new NameMapError(`${where}: "***" in pattern ${quote(pattern, 120)}: use * (within one part) or ** (anything)`);
      flush();
      tokens.push(run === 2 ? { kind: 'any' } : { kind: 'part' });
      i += run;
    } else if (c === '{') {
      flush();
      const { words, next } = readWords(pattern, i, where);
      tokens.push({ kind: 'words', words });
      i = next;
    } else if (c === '}') {
      throw new NameMapError(`${where}: "}" without "{" at character ${i + 1} of pattern ${quote(pattern, 120)} (write \\} for the character)`);
    } else if (REGEX_CHARS.has(c)) {
      throw regexHint(where, pattern, c);
    } else {
      lit += c;
      i++;
    }
  }
  flush();
  return { source: pattern, tokens, captures: tokens.filter((t) => t.kind !== 'lit').length, size: pattern.length };
}

/** The outcome of matching one name: its captures (undefined: no match) and the steps it took. */
export interface NameMatch {
  readonly captures: string[] | undefined;
  readonly steps: number;
}

let scratch = new Uint8Array(0);

/**
 * Matches `name` against a compiled glob in O(pattern size × name length) steps, without
 * backtracking: reach[k][i] (tokens k… match name[i…]) is filled from the end, then the captures
 * are read from the start, each wildcard as long as the rest still matches, each {…} group taking
 * its first word that fits.
 */
export function matchName(p: NamePattern, name: string): NameMatch {
  const K = p.tokens.length, N = name.length, W = N + 1;
  if (scratch.length < (K + 1) * W) scratch = new Uint8Array(Math.max((K + 1) * W, 2 * scratch.length));
  const reach = scratch;
  let steps = 0;
  for (let i = 0; i <= N; i++) reach[K * W + i] = i === N ? 1 : 0;
  for (let k = K - 1; k >= 0; k--) {
    const t = p.tokens[k]!, row = k * W, next = (k + 1) * W;
    for (let i = N; i >= 0; i--) {
      steps++;
      let ok = 0;
      if (t.kind === 'lit') {
        steps += t.text.length;
        ok = i + t.text.length <= N && reach[next + i + t.text.length] && name.startsWith(t.text, i) ? 1 : 0;
      } else if (t.kind === 'words') {
        for (const w of t.words) {
          steps += w.length + 1;
          if (i + w.length <= N && reach[next + i + w.length] && name.startsWith(w, i)) ok = 1;
        }
      } else {
        ok = reach[next + i] || (i < N && (t.kind === 'any' || name.charCodeAt(i) !== 0x2e) && reach[row + i + 1]) ? 1 : 0;
      }
      reach[row + i] = ok;
    }
  }
  if (!reach[0]) return { captures: undefined, steps };
  const captures: string[] = [];
  let i = 0;
  for (let k = 0; k < K; k++) {
    const t = p.tokens[k]!, next = (k + 1) * W;
    if (t.kind === 'lit') {
      i += t.text.length;
      continue;
    }
    if (t.kind === 'words') {
      const w = t.words.find((x) => (steps += x.length + 1) && i + x.length <= N && reach[next + i + x.length] && name.startsWith(x, i))!;
      captures.push(w);
      i += w.length;
      continue;
    }
    let end = i;
    while (end < N && (t.kind === 'any' || name.charCodeAt(end) !== 0x2e)) (end++, steps++);
    while (!reach[next + end]) (end--, steps++);
    captures.push(name.slice(i, end));
    i = end;
  }
  return { captures, steps };
}

/** The replacement with $n / ${n} filled in from `captures` ($$ is "$"). */
export function expandReplacement(replacement: string, captures: readonly string[]): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const n = replacement[i + 1];
    if (n === '$') {
      out += '$';
      i++;
    } else if (n === '{') {
      const close = replacement.indexOf('}', i);
      out += captures[Number(replacement.slice(i + 2, close)) - 1] ?? '';
      i = close;
    } else {
      out += captures[Number(n) - 1] ?? '';
      i++;
    }
  }
  return out;
}

/** Checks a replacement's $-references against the pattern's capture count. */
function checkReplacement(replacement: string, captures: number, where: string): void {
  if (replacement.length > NAME_MAP_LIMITS.maxPatternChars) throw new NameMapError(`${where}: the replacement is ${count(replacement.length)} characters long; the limit is ${count(NAME_MAP_LIMITS.maxPatternChars)}`);
  for (let i = 0; i < replacement.length; i++) {
    if (replacement[i] !== '$') continue;
    const n = replacement[i + 1];
    let ref: number;
    if (n === '$') {
      i++;
      continue;
    } else if (n === '{') {
      const m = /^\{(\d{1,4})\}/.exec(replacement.slice(i + 1, i + 8));
      if (!m) throw new NameMapError(`${where}: "\${" in replacement ${quote(replacement, 120)} must be \${n} with n a capture number`);
      ref = Number(m[1]);
      i += m[0].length;
    } else if (n !== undefined && n >= '1' && n <= '9') {
      ref = Number(n);
      i++;
    } else {
      throw new NameMapError(`${where}: "$" in replacement ${quote(replacement, 120)} must be followed by a capture number ($1…$9, \${n}) or another $ (for "$")`);
    }
    if (ref < 1 || ref > captures) throw new NameMapError(`${where}: replacement ${quote(replacement, 120)} uses $${ref}, but the pattern has ${captures} capture${captures === 1 ? '' : 's'} (each *, ** and {…} is one)`);
  }
}

/** A rule as a name-map line would write it: `pattern -> replacement` (`-`: the tensor is dropped). */
export const ruleText = (r: NameRule): string => `${r.pattern} -> ${r.replacement ?? '-'}`;

/** Parses the text of a name-map file; errors name the file and line. */
export function parseNameMap(text: string, source = 'name map'): NameRule[] {
  const rules: NameRule[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i]!).trim();
    if (!line) continue;
    const where = `${display(source)}:${i + 1}`;
    const words = line.split(/\s+/);
    const [pattern = '', arrow, replacement = ''] = words;
    if (words.length !== 3 || arrow !== '->') throw new NameMapError(`${where}: expected "pattern -> replacement" (got ${quote(line, 120)})`);
    if (rules.length >= NAME_MAP_LIMITS.maxRules) throw new NameMapError(`${display(source)}: more than ${count(NAME_MAP_LIMITS.maxRules)} rules (the limit)`);
    const compiled = compileNamePattern(pattern, where);
    if (replacement !== '-') checkReplacement(replacement, compiled.captures, where);
    rules.push({ pattern, replacement: replacement === '-' ? undefined : replacement, source: where });
  }
  return rules;
}

/** A line without its comment: '#' at the start or after white space. */
function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) if (line[i] === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return line.slice(0, i);
  return line;
}

/** The outcome of applyNameMap: the renamed tensors and what changed. */
export interface RenameResult<T> {
  /** Tensors under their new names. */
  readonly renamed: Map<string, T>;
  /** Old name -> new name, for every tensor a rule changed. */
  readonly changes: Map<string, string>;
  /** Tensors a rule dropped. */
  readonly dropped: string[];
}

const compiledRules = new WeakMap<NameRule, NamePattern>();
const compiledOf = (r: NameRule): NamePattern => {
  let p = compiledRules.get(r);
  if (!p) compiledRules.set(r, (p = compileNamePattern(r.pattern, r.source)));
  return p;
};

/**
 * The first rule that matches `name` and its new name (undefined: dropped), or undefined when no
 * rule matches. `budget.steps` counts the matching work.
 */
export function renameByRules(name: string, rules: readonly NameRule[], budget: { steps: number } = { steps: 0 }): { rule: NameRule; target: string | undefined } | undefined {
  for (const rule of rules) {
    const p = compiledOf(rule);
    const m = matchName(p, name);
    budget.steps += m.steps;
    if (budget.steps > NAME_MAP_LIMITS.maxSteps) throw new NameMapError(`${display(rule.source)}: applying the name map took more than ${count(NAME_MAP_LIMITS.maxSteps)} matching steps (${rules.length} rules); use fewer or shorter rules`);
    if (m.captures) return { rule, target: rule.replacement === undefined ? undefined : expandReplacement(rule.replacement, m.captures) };
  }
  return undefined;
}

/** Applies `rules` to every name; two tensors renamed to the same name is an error naming both. */
export function applyNameMap<T>(tensors: ReadonlyMap<string, T>, rules: readonly NameRule[]): RenameResult<T> {
  const renamed = new Map<string, T>();
  const from = new Map<string, string>();
  const changes = new Map<string, string>();
  const dropped: string[] = [];
  const budget = { steps: 0 };
  for (const [name, value] of tensors) {
    const hit = renameByRules(name, rules, budget);
    if (hit && hit.target === undefined) {
      dropped.push(name);
      continue;
    }
    const target = hit ? hit.target! : name;
    if (target === '') throw new NameMapError(`${display(hit!.rule.source)}: renames ${quote(name)} to an empty name`);
    const clash = from.get(target);
    if (clash !== undefined) throw new NameMapError(`name map: ${quote(clash)} and ${quote(name)} both become ${quote(target)}${hit ? ` (rule ${display(hit.rule.source)})` : ''}`);
    from.set(target, name);
    renamed.set(target, value);
    if (target !== name) changes.set(name, target);
  }
  return { renamed, changes, dropped };
}
