// The package as someone else's project gets it: `npm pack` (which builds: JavaScript, types, the
// page, the API reference), the tarball installed into a fresh project, the examples compiled there
// against the installed types and run with plain node, one of them under Deno and, bundled with
// esbuild, in headless Chromium, and the CLI binary through npx. Needs the npm registry (or npm's
// cache after `npm ci`) for the package's dependencies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInChromium } from '../../src/frontends/web/chromium.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { version, devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const DENO = join(ROOT, 'node_modules/.bin/deno');

/** Runs a command, prints the tail of its output, and fails the test with it when the status is not 0. */
function run(command: string, args: string[], options: SpawnSyncOptions & { cwd: string }): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 900_000, ...options, env: { ...process.env, NO_COLOR: '1', ...options.env } });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => l.trim() && !l.startsWith('Warning: max')).join('\n');
  console.log(`$ ${[command, ...args].join(' ')}\n${out.split('\n').slice(-4).join('\n')}`);
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed (${r.error?.message ?? `status ${r.status}`}):\n${out.slice(-4000)}`);
  return out;
}

const npm = (cwd: string, ...args: string[]) => run('npm', args, { cwd });

test('the packed tarball installs into a fresh project: examples on node, Deno and Chromium, and the fpet-webgpu binary', { timeout: 3_600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-consumer-'));
  try {
    // npm pack runs prepack = npm run build (tsc, the page, typedoc with its documentation check).
    npm(ROOT, 'pack', '--pack-destination', dir);
    const tarball = join(dir, `fpet-webgpu-${version}.tgz`);
    const listing = run('tar', ['tzf', tarball], { cwd: dir }).split('\n');
    console.log(`tarball: ${(statSync(tarball).size / 2 ** 20).toFixed(2)} MiB, ${listing.length} entries`);
    for (const f of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/node.js', 'package/dist/src/frontends/cli/main.js', 'package/dist/web/index.html', 'package/models/vit-mnist-fashion.safetensors', 'package/CHANGELOG.md']) {
      assert.ok(listing.includes(f), `the tarball lacks ${f}`);
    }
    const strays = listing.filter((f) => /^package\/(src|test|bench|examples|docs)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    assert.deepEqual(strays, [], 'the tarball carries sources, tests or docs');

    const project = join(dir, 'project');
    cpSync(join(ROOT, 'examples'), join(project, 'examples'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    npm(project, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball, `typescript@${devDependencies.typescript}`, `@types/node@${devDependencies['@types/node']}`);

    // The examples type-check against the installed declarations (skipLibCheck off) and compile.
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, types: ['node'], rootDir: 'examples', outDir: 'out', skipLibCheck: false },
      include: ['examples'],
    }));
    run('npx', ['tsc', '-p', '.'], { cwd: project });
    cpSync(join(project, 'examples/assets'), join(project, 'out/assets'), { recursive: true });

    // Plain node, nothing but the package.
    assert.match(run('node', ['out/custom-graph.js'], { cwd: project }), /float64 gradients vs finite differences/);
    assert.match(run('node', ['out/fpet-inference.js'], { cwd: project }), /tokens entering each block's MLP: 50 50 50 25 25 25/);
    assert.match(run('node', ['out/train-loop.js', '--epochs', '1'], { cwd: project }), /accuracy before .* after/);

    // Deno (wgpu), resolving the package from node_modules.
    run(DENO, ['run', '-A', '--no-lock', '--no-remote', '--node-modules-dir=manual', 'out/custom-graph.js'], { cwd: project, env: { DENO_NO_UPDATE_CHECK: '1' } });

    // A browser: the compiled example bundled by esbuild from the installed package, in headless Chromium.
    const entry = join(project, 'browser-entry.js');
    writeFileSync(entry, [
      '// The example as a page runs it: its process.exit(status) becomes window.__result.',
      'globalThis.process = { argv: [], env: {}, exit: (code) => { window.__result = { code }; } };',
      "await import('./out/custom-graph.js');",
    ].join('\n'));
    assert.deepEqual(await runInChromium(entry, { timeoutMs: 600_000, onConsole: () => {} }), { code: 0 });

    // The CLI binary.
    assert.match(run('npx', ['fpet-webgpu', 'compile', '--help'], { cwd: project }), /^fpet-webgpu compile \[options\]/m);
    assert.match(run('npx', ['fpet-webgpu', 'compile', '--preset', 'vit-micro', '--merge', 'fpet', '--merge-blocks', '1', '--out', 'kernels'], { cwd: project }), /distinct modules compiled into pipelines/);
    assert.ok(existsSync(join(project, 'kernels/plan.txt')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
