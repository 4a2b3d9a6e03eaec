// The layering of docs/architecture.md, enforced: every import of a source module points down (or
// sideways within its layer), never up. Type-only imports count too: a type from a higher layer is
// still a dependency on it. The framework (src/core, kernels, codegen) never sees its FPET
// application (src/fpet) or the front ends (src/frontends); benchmarks and tests reach the
// application through its modules and recipes, never through a CLI command; the examples use
// only the published package names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Layer of a file (lower may not import higher). */
const LAYERS: [RegExp, number, string][] = [
  [/^src\/core\/((util|io)\/|version\.ts$)/, 0, 'core utilities (src/core/util, src/core/io, src/core/version.ts)'],
  [/^src\/core\/ir\//, 1, 'graph IR (src/core/ir)'],
  [/^kernels\//, 2, 'kernel templates (kernels)'],
  [/^codegen\//, 3, 'code generator (codegen)'],
  [/^src\/core\/(runtime|export)\//, 4, 'runtime and ONNX export (src/core/runtime, src/core/export)'],
  [/^src\/fpet\/(models|data)\//, 6, 'FPET models and data (src/fpet/models, src/fpet/data)'],
  [/^src\/fpet\/train\//, 7, 'FPET training and inference (src/fpet/train)'],
  [/^src\/fpet\/(export|recipes)\//, 8, 'FPET interchange and recipes (src/fpet/export, src/fpet/recipes)'],
  [/^src\/(index|node)\.ts$/, 9, 'public API (src/index.ts, src/node.ts)'],
  [/^src\/frontends\//, 10, 'front ends (src/frontends/cli, src/frontends/web)'],
  [/^(bench|examples|test)\//, 11, 'benchmarks, examples and tests'],
];

function layerOf(file: string): [number, string] | undefined {
  for (const [re, rank, name] of LAYERS) if (re.test(file)) return [rank, name];
  return undefined;
}

function* sources(dir: string): Generator<string> {
  for (const f of readdirSync(join(ROOT, dir))) {
    const p = join(dir, f);
    if (statSync(join(ROOT, p)).isDirectory()) yield* sources(p);
    else if (/\.(ts|mts|js|mjs)$/.test(p)) yield p;
  }
}

/** Every static import or re-export of `file`, and every `import('…')` with a literal specifier. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

const resolved = (file: string, spec: string) => relative(ROOT, resolve(ROOT, dirname(file), spec));

test('imports only point down the layers (front ends → FPET → runtime → codegen → kernels → IR)', () => {
  const files = [...sources('src'), ...sources('codegen'), ...sources('kernels'), ...sources('bench'), ...sources('examples')];
  const up: string[] = [];
  let edges = 0;
  for (const file of files) {
    const from = layerOf(file);
    assert.ok(from, `${file} is in no layer: add it to LAYERS (and docs/architecture.md)`);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolved(file, spec);
      const to = layerOf(target);
      if (!to) continue;
      edges++;
      if (to[0] > from[0]) up.push(`${file} (${from[1]}) imports ${target} (${to[1]})`);
    }
  }
  console.log(`${files.length} modules, ${edges} imports between layers checked, ${up.length} pointing up`);
  assert.deepEqual(up, []);
});

test('benchmarks and tests never import a CLI command; the examples import only the package', () => {
  const wrong: string[] = [];
  for (const file of [...sources('bench'), ...sources('test')]) {
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.') && resolved(file, spec).startsWith('src/frontends/cli/commands/')) wrong.push(`${file} imports ${resolved(file, spec)}`);
    }
  }
  for (const file of sources('examples')) {
    for (const spec of importsOf(file)) {
      if (!/^(node:|fpet-webgpu(\/node)?$)/.test(spec)) wrong.push(`${file} imports ${spec} (examples use 'fpet-webgpu' and 'fpet-webgpu/node' only)`);
    }
  }
  assert.deepEqual(wrong, []);
});
