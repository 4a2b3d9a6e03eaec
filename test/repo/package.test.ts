// The package's promises that no other test would notice breaking: one version everywhere, a
// changelog entry for it, a README that stays a front door, and functions that fit on a screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { VERSION } from '../../src/core/version.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

test('VERSION is package.json\'s version, and CHANGELOG.md has an entry for it', () => {
  const pkg = JSON.parse(read('package.json')) as { version: string };
  assert.equal(VERSION, pkg.version);
  assert.match(read('CHANGELOG.md'), new RegExp(`^## ${pkg.version.replace(/\./g, '\\.')}\\b`, 'm'));
});

test('the README is a front door: at most 200 lines', () => {
  const lines = read('README.md').split('\n').length;
  assert.ok(lines <= 200, `README.md has ${lines} lines; move details to docs/`);
});

function* sources(dir: string): Generator<string> {
  for (const f of readdirSync(join(ROOT, dir))) {
    const p = join(dir, f);
    if (statSync(join(ROOT, p)).isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p;
  }
}

/** Every function, method, arrow and constructor in `file` with its name and length in lines. */
function functionLengths(file: string): { name: string; lines: number }[] {
  const sf = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
  const out: { name: string; lines: number }[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const line = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
      const named = (n as ts.FunctionLikeDeclaration).name?.getText(sf)
        ?? (ts.isVariableDeclaration(n.parent) || ts.isPropertyAssignment(n.parent) ? n.parent.name.getText(sf) : '<anonymous>');
      out.push({ name: `${file}:${line(n.getStart(sf)) + 1} ${named}`, lines: line(n.getEnd()) - line(n.getStart(sf)) + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

test('no function in src/, codegen/ or kernels/ is longer than 80 lines', () => {
  const all = ['src', 'codegen', 'kernels'].flatMap((d) => [...sources(d)]).flatMap(functionLengths);
  const longest = [...all].sort((a, b) => b.lines - a.lines);
  console.log(`${all.length} functions; longest: ${longest.slice(0, 5).map((f) => `${f.name} (${f.lines})`).join(', ')}`);
  assert.deepEqual(longest.filter((f) => f.lines > 80).map((f) => `${f.name}: ${f.lines} lines`), []);
});
