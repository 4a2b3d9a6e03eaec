// Golden WGSL: the exact code generated for a few small, representative graphs, stored in
// test/codegen/golden/<graph>-<kernel name>.wgsl and compared byte for byte. A change to the
// code generator that changes any kernel shows up here as a diff to review.
//
// After an intended change, regenerate the files and review them with git diff:
//   UPDATE_GOLDEN=1 node --import tsx --test test/codegen/golden.test.ts     (or UPDATE_GOLDEN=1 npm test)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder, type Graph } from '../../src/core/ir/graph.ts';
import { gelu, layerNorm, linear, softmax } from '../../src/core/ir/nn.ts';
import { compileGraph, DEFAULT_LIMITS } from '../../codegen/compile.ts';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const HOW_TO_UPDATE = 'if the change is intended, run `UPDATE_GOLDEN=1 node --import tsx --test test/codegen/golden.test.ts` and review `git diff test/codegen/golden`';

/** The graphs, by the name that prefixes their files. Small shapes, none a multiple of a tile. */
const GOLDEN_GRAPHS: Readonly<Record<string, () => Graph>> = {
  /** Pre-norm MLP with a residual: LayerNorm -> linear -> GELU -> linear -> + x. */
  mlp: () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3, 8]);
    const u = layerNorm(x, b.param('ln.weight', [8]), b.param('ln.bias', [8]));
    const h = gelu(linear(u, b.param('fc1.weight', [12, 8]), b.param('fc1.bias', [12])));
    b.output('y', x.add(linear(h, b.param('fc2.weight', [8, 12]), b.param('fc2.bias', [8]))));
    return b.build();
  },
  /** Single-head self-attention with a softmax over the keys and an output projection. */
  attention: () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 5, 8]);
    const q = linear(x, b.param('q.weight', [8, 8]), b.param('q.bias', [8]));
    const k = linear(x, b.param('k.weight', [8, 8]));
    const v = linear(x, b.param('v.weight', [8, 8]));
    const att = softmax(q.matmul(k.transpose()).mul(1 / Math.sqrt(8)));
    b.output('y', linear(att.matmul(v), b.param('proj.weight', [8, 8]), b.param('proj.bias', [8])));
    return b.build();
  },
  /** A reduction over a middle axis with an elementwise producer and consumer. */
  colsum: () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3, 5, 7]);
    b.output('y', x.exp().sum(1).mul(b.param('scale', [7])));
    return b.build();
  },
  /** Gather of token rows by constant indices, then scatterAdd back into a shorter axis. */
  gatherScatter: () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 6, 4]);
    const picked = x.gather(b.constant([5, 0, 3, 3, 1], [1, 5], 'i32'), 1).tanh();
    b.output('y', picked.scatterAdd(b.constant([0, 2, 1, 2, 0, 1, 1, 0, 2, 2], [2, 5], 'i32'), 1, 3));
    return b.build();
  },
  /** Top-3 indices of each row, used to gather the values. */
  topk: () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3, 10]);
    const idx = x.topk(3, -1);
    b.output('idx', idx);
    b.output('values', x.gather(idx, 1));
    return b.build();
  },
};

/** A short unified-style diff of two texts: the first differing hunk, a few lines of context. */
function shortDiff(expected: string, actual: string, context = 3, maxLines = 12): string {
  const a = expected.split('\n'), b = actual.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) endA--, endB--;
  const from = Math.max(0, start - context);
  const removed = a.slice(start, endA), added = b.slice(start, endB);
  const clip = (lines: string[], sign: string) =>
    lines.length > maxLines ? [...lines.slice(0, maxLines).map((l) => sign + l), `${sign}... (${lines.length - maxLines} more lines)`] : lines.map((l) => sign + l);
  return [
    '--- golden (expected)',
    '+++ generated (actual)',
    `@@ -${start + 1},${removed.length} +${start + 1},${added.length} @@`,
    ...a.slice(from, start).map((l) => ` ${l}`),
    ...clip(removed, '-'),
    ...clip(added, '+'),
    ...a.slice(endA, endA + context).map((l) => ` ${l}`),
  ].join('\n');
}

/** Every golden file the graphs produce now: file name -> WGSL. */
function goldenKernels(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [graphName, build] of Object.entries(GOLDEN_GRAPHS)) {
    const plan = compileGraph(build(), { limits: DEFAULT_LIMITS });
    // The kernels, and the modules that run several of them in one dispatch.
    for (const k of [...plan.kernels, ...plan.steps.filter((s) => s.parts.length > 1).map((s) => s.kernel)]) {
      const file = `${graphName}-${k.name}.wgsl`;
      assert.ok(!files.has(file), `two kernels would share the golden file ${file}`);
      files.set(file, k.wgsl);
    }
  }
  return files;
}

const onDisk = (): string[] => (existsSync(GOLDEN_DIR) ? readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.wgsl')).sort() : []);

if (UPDATE) {
  test('golden WGSL: rewrite test/codegen/golden/', () => {
    const files = goldenKernels();
    mkdirSync(GOLDEN_DIR, { recursive: true });
    let changed = 0;
    for (const [file, wgsl] of files) {
      const path = join(GOLDEN_DIR, file);
      if (existsSync(path) && readFileSync(path, 'utf8') === wgsl) continue;
      writeFileSync(path, wgsl);
      changed++;
    }
    const stale = onDisk().filter((f) => !files.has(f));
    for (const f of stale) rmSync(join(GOLDEN_DIR, f));
    console.log(`golden WGSL: ${files.size} files, ${changed} written, ${stale.length} stale removed (${stale.join(', ') || 'none'})`);
  });
} else {
  const files = goldenKernels();
  for (const graphName of Object.keys(GOLDEN_GRAPHS)) {
    test(`golden WGSL: ${graphName}`, () => {
      const mine = [...files].filter(([f]) => f.startsWith(`${graphName}-`));
      assert.ok(mine.length > 0);
      const problems: string[] = [];
      for (const [file, wgsl] of mine) {
        const path = join(GOLDEN_DIR, file);
        if (!existsSync(path)) {
          problems.push(`${file}: no golden file (a new or renamed kernel)`);
          continue;
        }
        const golden = readFileSync(path, 'utf8');
        if (golden !== wgsl) problems.push(`${file} differs:\n${shortDiff(golden, wgsl)}`);
      }
      const stale = onDisk().filter((f) => f.startsWith(`${graphName}-`) && !files.has(f));
      for (const f of stale) problems.push(`${f}: golden file of a kernel that is no longer generated`);
      assert.ok(problems.length === 0, `${problems.join('\n\n')}\n\n${HOW_TO_UPDATE}`);
    });
  }

  test('golden WGSL: no golden file belongs to an unknown graph', () => {
    const unknown = onDisk().filter((f) => !Object.keys(GOLDEN_GRAPHS).some((g) => f.startsWith(`${g}-`)));
    assert.deepEqual(unknown, [], `stray files in test/codegen/golden; ${HOW_TO_UPDATE}`);
  });

  test('golden WGSL: the diff in failure messages points at the first differing line', () => {
    const d = shortDiff('a\nb\nc\nd\ne\n', 'a\nb\nX\nd\ne\n');
    assert.equal(d, ['--- golden (expected)', '+++ generated (actual)', '@@ -3,1 +3,1 @@', ' a', ' b', '-c', '+X', ' d', ' e', ' '].join('\n'));
  });
}
