// Name maps (src/core/io/name-map.ts): glob rules with captures, matched without backtracking.
// What the rules mean, every way a rule file can be wrong (each named by file:line, regular
// expressions refused with a hint), the rules the project ships, and the property that any rule
// and any name resolve in a number of steps bounded by a polynomial of their lengths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyNameMap, compileNamePattern, matchName, NAME_MAP_LIMITS, NameMapError, parseNameMap } from '../../src/core/io/name-map.ts';
import { fromReferenceNames, ourName, referenceNameRules } from '../../src/fpet/models/reference-names.ts';
import { fcParams } from '../support/random.ts';

const rename = (names: string[], text: string) => applyNameMap(new Map(names.map((n, i) => [n, i])), parseNameMap(text, 'map.txt'));
const mapError = (text: string): string => {
  try {
    parseNameMap(text, 'map.txt');
  } catch (e) {
    assert.ok(e instanceof NameMapError, `expected a NameMapError, got ${e}`);
    return e.message;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
};

test('globs: * is one dot-separated part, ** anything, {a,b} words, \\x a literal; captures $1.. left to right', () => {
  const r = rename(
    ['module.blocks.0.attn.qkv.weight', 'blocks.3.adaptmlp.down_proj.weight', 'blocks.3.adaptmlp.up_proj.bias', 'fc_norm.weight', 'head.weight', 'a*b.c', 'price.$5'],
    `# comments and blank lines are ignored

     module.**                          ->   $1
     blocks.*.adaptmlp.{down,up}_proj.*  ->  blocks.$1.adapter_mlp.$2.$3   # trailing comment
     fc_norm.*                           ->  -
     a\\*b.*                              ->  star.$1
     price.\\$*                           ->  cost.$$$1
    `,
  );
  assert.deepEqual([...r.renamed.keys()], ['blocks.0.attn.qkv.weight', 'blocks.3.adapter_mlp.down.weight', 'blocks.3.adapter_mlp.up.bias', 'head.weight', 'star.c', 'cost.$5']);
  assert.deepEqual(r.dropped, ['fc_norm.weight']);
  assert.equal(r.changes.get('module.blocks.0.attn.qkv.weight'), 'blocks.0.attn.qkv.weight');
  // * never crosses a dot; ** does; captures are greedy (each as long as the rest still matches).
  const p = compileNamePattern('**.*');
  assert.deepEqual(matchName(p, 'a.b.c').captures, ['a.b', 'c']);
  assert.equal(matchName(compileNamePattern('blocks.*.x'), 'blocks.1.2.x').captures, undefined);
  assert.deepEqual(matchName(compileNamePattern('{,pre_}logits'), 'pre_logits').captures, ['pre_']);
  assert.deepEqual(matchName(compileNamePattern('x.*'), 'x.').captures, [''], 'a * may be empty');
  // ${n} in replacements
  assert.deepEqual([...rename(['a.b'], '*.* -> ${2}_${1}').renamed.keys()], ['b_a']);
  // The first matching rule decides; two names onto one are an error naming both.
  assert.deepEqual([...rename(['x.y'], 'x.* -> one.$1\n**.y -> two').renamed.keys()], ['one.y']);
  assert.throws(() => rename(['a.w', 'b.w'], '*.w -> w'), /"a\.w" and "b\.w" both become "w" \(rule map\.txt:1\)/);
  assert.throws(() => rename(['a.'], 'a.* -> ${1}'), /map\.txt:1: renames "a\." to an empty name/);
});

test('rule files that are wrong are refused naming the file, the line and what is allowed', () => {
  // The pattern that hung eval: a regular expression, refused with a hint.
  assert.match(mapError('(.*.*)*Z -> x'), /^map\.txt:1: "\(" in pattern "\(\.\*\.\*\)\*Z": patterns are globs, not regular expressions — \* is any run of characters within one dot-separated part, \*\* any run/);
  assert.match(mapError('# ok\n^module\\.(.*)$ -> $1'), /^map\.txt:2: "\^" in pattern .*write \\\^ for the character itself/);
  for (const ch of ['[', '|', '+', '?', ')']) assert.match(mapError(`a${ch}b -> c`), new RegExp(`map\\.txt:1: "\\${ch}" in pattern`));
  // A 900 KB pattern: one short message with the file, line and limit.
  const huge = mapError(`${'x'.repeat(900_000)} -> y`);
  assert.ok(huge.length < 300, `message of ${huge.length} characters`);
  assert.match(huge, /^map\.txt:1: the pattern is 900,000 characters long; the limit is 1,024/);
  assert.match(mapError(`a -> ${'y'.repeat(2000)}`), /map\.txt:1: the replacement is 2,000 characters long; the limit is 1,024/);
  assert.match(mapError('a.* -> $2'), /map\.txt:1: replacement "\$2" uses \$2, but the pattern has 1 capture/);
  assert.match(mapError('a -> $x'), /map\.txt:1: "\$" in replacement "\$x" must be followed by a capture number/);
  assert.match(mapError('a -> ${x}'), /must be \$\{n\} with n a capture number/);
  assert.match(mapError('a{b -> c'), /unclosed "\{" at character 2/);
  assert.match(mapError('a}b -> c'), /"}" without "\{"/);
  assert.match(mapError('{a*} -> c'), /"\*" inside \{…\}/);
  assert.match(mapError('a***b -> c'), /"\*\*\*" in pattern/);
  assert.match(mapError('a*** -> c'), /"\*\*\*"/);
  assert.match(mapError('a\\ -> c'), /ends with a lone "\\"/);
  assert.match(mapError('just-a-name'), /map\.txt:1: expected "pattern -> replacement" \(got "just-a-name"\)/);
  assert.match(mapError('a -> b -> c'), /expected "pattern -> replacement"/);
  assert.match(mapError(`${'a -> b\n'.repeat(NAME_MAP_LIMITS.maxRules)}c -> d`), /map\.txt: more than 10,000 rules/);
  // A long line of blanks (what a backtracking split would choke on) is a quick, clear error.
  const t0 = performance.now();
  assert.match(mapError(`a${' '.repeat(200_000)}b`), /expected "pattern -> replacement"/);
  assert.ok(performance.now() - t0 < 2000);
  // Source names are escaped in messages.
  assert.throws(() => parseNameMap('(', 'evil\u001b[31m.txt'), /evil\\x1b\[31m\.txt:1/);
});

test('the shipped reference rules are globs that rename exactly as ourName does', () => {
  const rules = referenceNameRules();
  for (const r of rules) assert.doesNotThrow(() => parseNameMap(`${r.pattern} -> ${r.replacement}`, 'shipped'), r.pattern);
  assert.deepEqual(rules.map((r) => `${r.pattern} -> ${r.replacement}`), [
    'blocks.*.adapter_mlp.adapter_{down,up}.* -> blocks.$1.adapter_mlp.$2.$3',
    'blocks.*.attn.lora_q.adapter_{down,up}.* -> blocks.$1.attn.adapter_q.$2.$3',
    'blocks.*.attn.lora_v.adapter_{down,up}.* -> blocks.$1.attn.adapter_v.$2.$3',
    'blocks.*.refinement.adapter_{down,up}.* -> blocks.$1.merge.adapter_refine.$2.$3',
  ]);
  const names = ['blocks.0.adapter_mlp.adapter_down.weight', 'blocks.11.attn.lora_q.adapter_up.bias', 'blocks.6.refinement.adapter_up.weight', 'blocks.2.attn.qkv.weight', 'head.weight', 'blocks.1.adapter_mlp.adapter_down.weight.extra'];
  const viaRules = applyNameMap(new Map(names.map((n) => [n, n])), rules).renamed;
  assert.deepEqual([...viaRules.keys()], [...fromReferenceNames(new Map(names.map((n) => [n, n]))).keys()]);
  for (const n of names) assert.ok(viaRules.has(ourName(n)), n);
});

/** Glob patterns over a small alphabet, wildcards and groups mixed in (what a user could write). */
const patternArb = fc.array(
  fc.oneof(
    fc.constantFrom('a', 'b', '.', '_', 'ab', 'a.b', '.a', 'Z'),
    fc.constantFrom('*', '**'),
    fc.array(fc.constantFrom('a', 'b', '.', 'ab', ''), { minLength: 1, maxLength: 4 }).map((w) => `{${w.join(',')}}`),
  ),
  { maxLength: 40 },
).map((parts) => parts.join(''));
/** Names over the same alphabet, including the long runs adversarial patterns feed on. */
const nameArb = fc.oneof(
  fc.stringMatching(/^[ab._Z]{0,80}$/),
  fc.tuple(fc.constantFrom('a', 'a.', 'ab.', '.'), fc.integer({ min: 0, max: 300 })).map(([u, n]) => u.repeat(n)),
);

test('property: any rule and any name resolve within a number of steps polynomial in their lengths (no backtracking)', () => {
  let checked = 0, worst = 0;
  fc.assert(
    fc.property(patternArb, nameArb, (pattern, name) => {
      let p;
      try {
        p = compileNamePattern(pattern, 'prop');
      } catch (e) {
        assert.ok(e instanceof NameMapError);
        return;
      }
      const m = matchName(p, name);
      // Filling the table: ≤ (pattern size + tokens) per name position; reading the captures: ≤ 2 per position per token.
      const bound = 4 * (p.size + 1) * (name.length + 1);
      assert.ok(m.steps <= bound, `${m.steps} steps > ${bound} for ${JSON.stringify(pattern)} on a ${name.length}-character name`);
      worst = Math.max(worst, m.steps / bound);
      checked++;
      if (m.captures) assert.equal(m.captures.length, p.captures);
    }),
    fcParams(2000),
  );
  console.log(`${checked} matches; worst steps / (4 (P+1)(N+1)) = ${worst.toFixed(3)}`);
  // The classic exponential cases for a backtracking matcher, at full size: linear-time here.
  for (const pattern of ['**.**.**.**.**.**.**.**Z', '*a*a*a*a*a*a*a*a*aZ'.replace(/\*a\*/g, '*a.*'), '{a,ab}{a,ab}{a,ab}{a,ab}{a,ab}{a,ab}Z']) {
    const p = compileNamePattern(pattern);
    const name = 'a.'.repeat(500);
    const t0 = performance.now();
    const m = matchName(p, name);
    assert.equal(m.captures, undefined);
    assert.ok(m.steps <= 4 * (p.size + 1) * (name.length + 1), `${pattern}: ${m.steps} steps`);
    assert.ok(performance.now() - t0 < 1000, `${pattern}: ${performance.now() - t0} ms`);
  }
});

test('applying a map is bounded in total work: a huge map over many names stops with a clear error', () => {
  const rules = parseNameMap(Array.from({ length: 2000 }, (_, i) => `**.**.**.**${i}Z -> x${i}`).join('\n'), 'big.map');
  const names = new Map(Array.from({ length: 2000 }, (_, i) => [`${'a.'.repeat(400)}${i}`, i]));
  const t0 = performance.now();
  assert.throws(() => applyNameMap(names, rules), /big\.map:\d+: applying the name map took more than 300,000,000 matching steps \(2000 rules\)/);
  assert.ok(performance.now() - t0 < 30_000, `${performance.now() - t0} ms`);
});
