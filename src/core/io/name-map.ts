// Renaming tensors at load time, for checkpoints written with another naming (timm variants,
// PyTorch `module.` prefixes, the original AdaptFormer's `adaptmlp.down_proj`, ...).
//
// A name map is a list of rules `pattern -> replacement`, one per line ('#' starts a comment):
// `pattern` is a JavaScript regular expression matched against the whole tensor name, and
// `replacement` may use $1, $2, ... for its groups; a replacement of `-` drops the tensor. The first
// rule that matches a name decides it; names no rule matches keep their name.
//
//     ^module\.(.*)$                                  -> $1
//     blocks\.(\d+)\.adaptmlp\.down_proj\.(weight|bias) -> blocks.$1.adapter_mlp.down.$2
//     fc_norm\..*                                      -> -

/** One rule of a name map: a whole-name pattern and its replacement (see parseNameMap). */
export interface NameRule {
  readonly pattern: RegExp;
  /** undefined: drop the tensor. */
  readonly replacement: string | undefined;
  /** Where the rule came from, for messages ("map.txt:3"). */
  readonly source: string;
}

/** A name map that cannot be parsed or applied; the message names the file and line. */
export class NameMapError extends Error {
  override name = 'NameMapError';
}

const MAX_RULES = 10_000;

/** Parses the text of a name-map file; errors name the file and line. */
export function parseNameMap(text: string, source = 'name map'): NameRule[] {
  const rules: NameRule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const where = `${source}:${i + 1}`;
    const parts = line.split(/\s+->\s+/);
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new NameMapError(`${where}: expected "pattern -> replacement" (got ${JSON.stringify(line.slice(0, 120))})`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${parts[0]})$`);
    } catch (e) {
      throw new NameMapError(`${where}: invalid pattern ${JSON.stringify(parts[0].slice(0, 120))}: ${(e as Error).message}`);
    }
    if (rules.length >= MAX_RULES) throw new NameMapError(`${source}: more than ${MAX_RULES} rules`);
    rules.push({ pattern, replacement: parts[1] === '-' ? undefined : parts[1], source: where });
  });
  return rules;
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

/** Applies `rules` to every name; two tensors renamed to the same name is an error naming both. */
export function applyNameMap<T>(tensors: ReadonlyMap<string, T>, rules: readonly NameRule[]): RenameResult<T> {
  const renamed = new Map<string, T>();
  const from = new Map<string, string>();
  const changes = new Map<string, string>();
  const dropped: string[] = [];
  for (const [name, value] of tensors) {
    const rule = rules.find((r) => r.pattern.test(name));
    if (rule && rule.replacement === undefined) {
      dropped.push(name);
      continue;
    }
    const target = rule ? name.replace(rule.pattern, rule.replacement!) : name;
    const clash = from.get(target);
    if (clash !== undefined) throw new NameMapError(`name map: "${clash}" and "${name}" both become "${target}"${rule ? ` (rule ${rule.source})` : ''}`);
    from.set(target, name);
    renamed.set(target, value);
    if (target !== name) changes.set(name, target);
  }
  return { renamed, changes, dropped };
}
