// Parameter names of the reference implementation (timm 0.4.12 for the backbone, the official FPET
// code github.com/kyk120/fpet with JieShibo/PETL-ViT's adapters), as renaming rules both ways.
// Only the adapter modules differ; src/fpet/export/timm.ts reads and writes such checkpoints, and
// loaders use `referenceNameRules()` to accept reference-named files (docs/interchange.md).

import { compileNamePattern, expandReplacement, matchName, type NamePattern, type NameRule as LoadNameRule } from '../../core/io/name-map.ts';

/** One module-level renaming rule; `{i}` is the block index, `{p}` the projection (down / up). */
export interface NameRule {
  readonly ours: string;
  readonly reference: string;
  /** What the module is, in the reference code. */
  readonly module: string;
}

/** The adapter modules whose names differ (everything else is timm's name in both). */
export const NAME_RULES: readonly NameRule[] = [
  { ours: 'blocks.{i}.adapter_mlp.{p}', reference: 'blocks.{i}.adapter_mlp.adapter_{p}', module: 'AdaptFormer: `Block.adapter_mlp = Adapter(dim, bit)` (adaptformer.py `set_adapter`)' },
  { ours: 'blocks.{i}.attn.adapter_q.{p}', reference: 'blocks.{i}.attn.lora_q.adapter_{p}', module: 'LoRA on q: `Attention.lora_q = Adapter(dim, bit)` (lora.py `set_adapter`)' },
  { ours: 'blocks.{i}.attn.adapter_v.{p}', reference: 'blocks.{i}.attn.lora_v.adapter_{p}', module: 'LoRA on v: `Attention.lora_v = Adapter(dim, bit)` (lora.py `set_adapter`)' },
  { ours: 'blocks.{i}.merge.adapter_refine.{p}', reference: 'blocks.{i}.refinement.adapter_{p}', module: 'FPET key refinement: `Block.refinement = Adapter(dim=32, bit=1, in_dim=dim_key)` (fpet/apply_fpet.py `apply_patch`, block `r_layer`)' },
];

interface CompiledRule {
  /** The rule as a name-map glob (src/core/io/name-map.ts): `{i}` → `*`, `{p}` → `{down,up}`, then `.*` for the tensor. */
  readonly glob: string;
  readonly pattern: NamePattern;
  /** With $1 (block), $2 (projection), $3 (tensor). */
  readonly replacement: string;
}

/** `{i}` matches the block index (one name part), `{p}` the projection (down|up); any tensor name follows the module path. */
function compile(from: string, to: string): CompiledRule {
  const glob = `${from.replace('{i}', '*').replace('{p}', '{down,up}')}.*`;
  return { glob, pattern: compileNamePattern(glob, `reference names: ${from}`), replacement: `${to.replace('{i}', '$1').replace('{p}', '$2')}.$3` };
}

const TO_REFERENCE = NAME_RULES.map((r) => compile(r.ours, r.reference));
const FROM_REFERENCE = NAME_RULES.map((r) => compile(r.reference, r.ours));

function rename(name: string, rules: readonly CompiledRule[]): string | undefined {
  for (const r of rules) {
    const m = matchName(r.pattern, name).captures;
    if (m) return expandReplacement(r.replacement, m);
  }
  return undefined;
}

/** Names of ours that are adapters (so must match a rule). */
const isAdapterName = (name: string) => /(^|\.)adapter_/.test(name);

/** The reference's name for one of our parameter names (backbone, head and reference names: unchanged). */
export function referenceName(ours: string): string {
  const r = rename(ours, TO_REFERENCE);
  if (r !== undefined) return r;
  if (isAdapterName(ours) && rename(ours, FROM_REFERENCE) === undefined) {
    throw new Error(`checkpoint interchange: no reference name for adapter parameter "${ours}" (known modules: ${NAME_RULES.map((x) => x.ours).join(', ')})`);
  }
  return ours;
}

/** Our name for a reference (timm + FPET) parameter name; names that are ours already are kept. */
export function ourName(reference: string): string {
  return rename(reference, FROM_REFERENCE) ?? reference;
}

/** The reference's adapter names as load-time name-map rules (src/core/io/name-map.ts) to ours. */
export function referenceNameRules(): LoadNameRule[] {
  return NAME_RULES.map((r, k) => ({ pattern: FROM_REFERENCE[k]!.glob, replacement: FROM_REFERENCE[k]!.replacement, source: `reference names: ${r.reference}` }));
}

/** Whether a set of names uses the reference's adapter names (at least one, none of ours). */
export function isReferenceNaming(names: Iterable<string>): boolean {
  let ref = false;
  for (const n of names) {
    if (rename(n, FROM_REFERENCE) !== undefined) ref = true;
    else if (rename(n, TO_REFERENCE) !== undefined) return false;
  }
  return ref;
}

function renameAll<T>(weights: ReadonlyMap<string, T>, f: (n: string) => string, what: string): Map<string, T> {
  const out = new Map<string, T>();
  const from = new Map<string, string>();
  for (const [name, v] of weights) {
    const to = f(name);
    const prev = from.get(to);
    if (prev !== undefined) throw new Error(`checkpoint interchange (${what}): "${prev}" and "${name}" both map to "${to}"`);
    from.set(to, name);
    out.set(to, v);
  }
  return out;
}

/** Our parameters under the reference's names (timm backbone + FPET/PETL adapters). */
export function toReferenceNames<T>(weights: ReadonlyMap<string, T>): Map<string, T> {
  return renameAll(weights, referenceName, 'to the reference');
}

/** Reference-named parameters (e.g. from a PyTorch state dict) under our names; ours are kept. */
export function fromReferenceNames<T>(weights: ReadonlyMap<string, T>): Map<string, T> {
  return renameAll(weights, ourName, 'from the reference');
}

/** The name table as Markdown (docs/interchange.md includes it; a test keeps them equal). */
export function nameTableMarkdown(): string {
  return [
    '| ours | reference (timm 0.4.12 + FPET) | module in the reference code |',
    '|---|---|---|',
    ...NAME_RULES.flatMap((r) => (['down', 'up'] as const).map((p) =>
      `| \`${r.ours.replace('{p}', p)}.weight\` | \`${r.reference.replace('{p}', p)}.weight\` | ${r.module} |`)),
    '| any other tensor of an adapter module (e.g. `….down.bias`) | the same tensor name under the module above | (optional biases: `nn.Linear(..., bias=True)`) |',
    '| backbone: `cls_token`, `pos_embed`, `patch_embed.proj.*`, `blocks.{i}.norm1/attn.qkv/attn.proj/norm2/mlp.fc1/mlp.fc2.*`, `norm.*`, `pre_logits.fc.*`, `head.*` | identical (timm `VisionTransformer.state_dict()`) | timm 0.4.12 `vision_transformer.py` |',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files

/** Metadata keys of an exported reference checkpoint. */
