// Small, strict option parsing for the commands: every option is declared with its type, unknown
// options and bad values are errors that name the option.

export type OptionSpec =
  | { type: 'string'; default?: string; choices?: readonly string[]; help: string }
  | { type: 'number'; default?: number; min?: number; max?: number; integer?: boolean; help: string }
  | { type: 'boolean'; default?: boolean; help: string }
  | { type: 'list'; default?: readonly string[]; help: string };

export type Parsed<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K] extends { type: 'number' } ? number : S[K] extends { type: 'boolean' } ? boolean : S[K] extends { type: 'list' } ? string[] : string;
} & { _: string[] };

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs<S extends Record<string, OptionSpec>>(command: string, argv: readonly string[], spec: S): Parsed<S> {
  const out: Record<string, unknown> = { _: [] };
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      (out._ as string[]).push(a);
      continue;
    }
    const [rawKey, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const key = rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const s = spec[key];
    if (!s) throw new UsageError(`${command}: unknown option --${rawKey} (options: ${Object.keys(spec).map(flag).join(', ')})`);
    if (s.type === 'boolean') {
      out[key] = inline === undefined ? true : parseBool(command, rawKey, inline);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${command}: option --${rawKey} needs a value`);
    if (s.type === 'string') {
      if (s.choices && !s.choices.includes(value)) throw new UsageError(`${command}: --${rawKey} must be one of ${s.choices.join(', ')} (got "${value}")`);
      out[key] = value;
    } else if (s.type === 'list') {
      out[key] = value.split(',').map((v) => v.trim()).filter(Boolean);
    } else {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`${command}: --${rawKey} must be a number (got "${value}")`);
      if (s.integer && !Number.isInteger(n)) throw new UsageError(`${command}: --${rawKey} must be an integer (got ${value})`);
      if (s.min !== undefined && n < s.min) throw new UsageError(`${command}: --${rawKey} must be >= ${s.min} (got ${value})`);
      if (s.max !== undefined && n > s.max) throw new UsageError(`${command}: --${rawKey} must be <= ${s.max} (got ${value})`);
      out[key] = n;
    }
  }
  return out as Parsed<S>;
}

const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function parseBool(command: string, key: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new UsageError(`${command}: --${key} takes true or false (got "${v}")`);
}

export function helpText(command: string, summary: string, spec: Record<string, OptionSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const def = s.default === undefined ? '' : ` (default: ${Array.isArray(s.default) ? s.default.join(',') : s.default})`;
    const choices = s.type === 'string' && s.choices ? ` [${s.choices.join('|')}]` : '';
    return `  ${flag(k).padEnd(24)} ${s.help}${choices}${def}`;
  });
  return [`npm start -- ${command} [options]`, '', summary, '', 'options:', ...rows].join('\n');
}
