// Text echoed from inputs (src/core/util/text.ts): escaped so it cannot drive a terminal, clipped and
// capped so it cannot flood one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { capLines, clip, clipMessage, display, escapeControl, firstUnsafeChar, listOf, preview, quote, TEXT_LIMITS } from '../../src/core/util/text.ts';
import { fcParams } from '../support/random.ts';

/** Anything a terminal acts on, or that hides or reorders text. */
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

test('escapeControl: C0, C1 (8-bit CSI), DEL, bidi and zero-width characters and lone surrogates are escaped; other text is kept', () => {
  assert.equal(escapeControl('a\u001b[31mred\u001b[0m'), 'a\\x1b[31mred\\x1b[0m');
  assert.equal(escapeControl('\u009b2J\u007f\u0000\n\r\t'), '\\x9b2J\\x7f\\x00\\x0a\\x0d\\x09');
  assert.equal(escapeControl('abc\u202edcba\u2066\u200b\ufeff'), 'abc\\u202edcba\\u2066\\u200b\\ufeff');
  assert.equal(escapeControl('x\ud800y\udc00'), 'x\\ud800y\\udc00');
  const kept = 'blocks.0.attn.qkv.weight ünïcødé 日本語 😀 C:\\path';
  assert.equal(escapeControl(kept), kept);
  assert.equal(firstUnsafeChar(kept), -1);
  assert.equal(firstUnsafeChar('ab\u001bc'), 2);
});

test('quote: JSON-style quoting (quotes and backslashes unambiguous) plus terminal-active characters, clipped with a count', () => {
  assert.equal(quote('w'), '"w"');
  assert.equal(quote('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.equal(quote('\u009b\u202e'), '"\\u009b\\u202e"');
  assert.equal(quote('x'.repeat(10), 4), '"xxxx"…(6 more characters)');
  // Never cut between the halves of a surrogate pair.
  assert.equal(quote('ab😀cd', 3), '"ab"…(4 more characters)');
  assert.equal(clip('ab😀cd', 3), 'ab…(4 more characters)');
  assert.equal(display('a\u001bb'.repeat(100), 9), 'a\\x1bba\\x1bba\\x1bb…(291 more characters)');
});

test('property: whatever the input, quote/display/preview output has no active character and a bounded length', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1, max: 100 }), (s, max) => {
      for (const out of [quote(s, max), display(s, max), preview(s, max), preview([s, { [s]: s }], max)]) {
        assert.ok(!ACTIVE.test(out), JSON.stringify(out));
        assert.ok(out.length <= 8 * max + 60, `${out.length} > bound for max ${max}`);
      }
    }),
    fcParams(1000),
  );
});

test('lists and messages are capped: 20 items then "and N more"', () => {
  const names = Array.from({ length: 1_000_000 }, (_, i) => `t${i}`);
  const s = listOf(names);
  assert.match(s, /^"t0", "t1", .*"t19" and 999,980 more$/);
  assert.equal(listOf(['a', 'b']), '"a", "b"');
  assert.equal(listOf(['a', 'b', 'c'], { max: 2, render: (x) => x }), 'a, b and 1 more');
  assert.equal(TEXT_LIMITS.listItems, 20);
  // With a known total, the iterable is not walked past the shown items.
  let pulled = 0;
  function* gen() {
    for (let i = 0; ; i++) {
      pulled++;
      yield `n${i}`;
    }
  }
  assert.equal(listOf(gen(), { max: 3, total: 10 ** 9, render: (x) => x }), 'n0, n1, n2 and 999,999,997 more');
  assert.equal(pulled, 3);
  assert.deepEqual(capLines(['a', 'b', 'c'], 2, 'more problems'), ['a', 'b', '… and 1 more problems']);
  assert.deepEqual(capLines(['a'], 2), ['a']);
  assert.equal(clipMessage('x'.repeat(5000)).length < TEXT_LIMITS.messageChars + 40, true);
});

test('preview: bounded for huge values, and reads no more of them than it shows', () => {
  assert.equal(preview(undefined), 'undefined');
  assert.equal(preview([1, 2, 3]), '[1,2,3]');
  assert.equal(preview({ a: 1, b: 'x' }), '{"a":1,"b":"x"}');
  let reads = 0;
  const huge = new Proxy([] as number[], { get: (t, k) => (k === 'length' ? 1e9 : typeof k === 'string' && /^\d+$/.test(k) ? (reads++, 7) : Reflect.get(t, k)) });
  const p = preview(huge, 40);
  assert.match(p, /^\[7,7,.*,…\(999,999,9\d\d more\)\]$/);
  assert.ok(reads < 30, `${reads} reads`);
  let deep: unknown = 0;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.equal(preview(deep), '[[[[…1 items]]]]');
});
