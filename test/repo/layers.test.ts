// The layering of docs/architecture.md, enforced: every import of a source module points down (or
// sideways within its layer), never up. Type-only imports count too: a type from a higher layer is
// still a dependency on it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Layer of a file (lower may not import higher). */
const LAYERS: [RegExp, number, string][] = [
  [/^src\/(util|io)\//, 0, 'utilities (src/util, src/io)'],
  [/^src\/ir\//, 1, 'graph IR (src/ir)'],
  [/^kernels\//, 2, 'kernel templates (kernels)'],
  [/^codegen\//, 3, 'code generator (codegen)'],
  [/^src\/runtime\//, 4, 'runtime (src/runtime)'],
  [/^src\/models\//, 4, 'models (src/models)'],
  [/^src\/data\//, 4, 'data (src/data)'],
  [/^src\/train\//, 5, 'training and inference (src/train)'],
  [/^src\/export\//, 6, 'export (src/export)'],
  [/^src\/(index|node)\.ts$/, 7, 'public API (src/index.ts, src/node.ts)'],
  [/^src\/web\//, 8, 'web page (src/web)'],
  [/^src\/cli\//, 8, 'command line (src/cli)'],
];

function layerOf(file: string): [number, string] | undefined {
  for (const [re, rank, name] of LAYERS) if (re.test(file)) return [rank, name];
  return undefined;
}

function* sources(dir: string): Generator<string> {
  for (const f of readdirSync(join(ROOT, dir))) {
    const p = join(dir, f);
    if (statSync(join(ROOT, p)).isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

test('imports only point down the layers (CLI → train → runtime → codegen → kernels → IR)', () => {
  const files = [...sources('src'), ...sources('codegen'), ...sources('kernels')];
  const up: string[] = [];
  let edges = 0;
  for (const file of files) {
    const from = layerOf(file);
    if (!from) continue;
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), m[1]!));
      const to = layerOf(target);
      if (!to) continue;
      edges++;
      if (to[0] > from[0]) up.push(`${file} (${from[1]}) imports ${target} (${to[1]})`);
    }
  }
  console.log(`${files.length} modules, ${edges} imports between layers checked, ${up.length} pointing up`);
  assert.deepEqual(up, []);
});
