// The command line: `fpet-webgpu <command> [options]` (in a clone: `npm start -- <command> ...`).
// Each command lives in its own module under ./commands, loaded only when used, and runs through
// the one runner of ./command.ts. `--runtime deno` re-runs the same command line under Deno.

import { fileURLToPath } from 'node:url';
import { display } from '../../core/util/text.ts';
import { runCommand, type Command } from './command.ts';
import { takeRuntime } from './launch.ts';
import type { OptionSpec } from './args.ts';

type Loader = () => Promise<{ default: Command<Record<string, OptionSpec>> }>;

/** The commands, by name, in the order `--help` lists them. */
const COMMANDS: Record<string, Loader> = {
  transfer: () => import('./commands/transfer.ts') as ReturnType<Loader>,
  train: () => import('./commands/train.ts') as ReturnType<Loader>,
  eval: () => import('./commands/eval.ts') as ReturnType<Loader>,
  infer: () => import('./commands/infer.ts') as ReturnType<Loader>,
  compile: () => import('./commands/compile.ts') as ReturnType<Loader>,
  gradcheck: () => import('./commands/gradcheck.ts') as ReturnType<Loader>,
  export: () => import('./commands/export.ts') as ReturnType<Loader>,
  sweep: () => import('./commands/sweep.ts') as ReturnType<Loader>,
  bench: () => import('./commands/bench.ts') as ReturnType<Loader>,
  serve: () => import('./commands/serve.ts') as ReturnType<Loader>,
};

/** The program's name in usage lines. */
export const PROGRAM = 'fpet-webgpu';

function usage(): string {
  return [
    `usage: ${PROGRAM} <command> [options]     (in a clone of the repository: npm start -- <command> ...)`,
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}${c === 'transfer' ? '   (default: the main job)' : ''}`),
    '',
    'Run a command with --help for its options. Add --runtime deno to run it under Deno (wgpu) instead of Node (Dawn).',
  ].join('\n');
}

/** The Deno binary: the dev dependency's in a clone, else `deno` on the PATH. */
async function denoBinary(): Promise<string> {
  const { existsSync } = await import('node:fs');
  const { packageFile } = await import('../../core/util/package-root.ts');
  const local = packageFile('node_modules/.bin/deno');
  return existsSync(local) ? local : 'deno';
}

/**
 * `--runtime deno` (any command): run the same CLI under Deno (wgpu), offline.
 * Signals are forwarded to it and its exit status is ours (./launch.ts).
 */
async function inDeno(argv: string[]): Promise<number> {
  const { runForwardingSignals } = await import('./launch.ts');
  const deno = await denoBinary();
  // This module's sibling: main.ts in a clone, main.js in the built package.
  const main = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));
  try {
    return await runForwardingSignals(deno, ['run', '-A', '--no-lock', '--no-remote', '--node-modules-dir=manual', main, ...argv], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    });
  } catch (e) {
    throw new Error(`could not start Deno (${deno}): ${(e as Error).message}; in a clone run npm ci (the deno package ships the binary), else install Deno`);
  }
}

/** Where `--runtime` sends the command line: here, to Deno, or nowhere (a usage error). */
function runtimeRoute(runtime: string | undefined): 'here' | 'deno' | string {
  if (runtime === undefined) return 'here';
  const isDeno = 'Deno' in globalThis;
  if (runtime !== 'deno' && runtime !== 'node') return `--runtime must be node or deno (got "${display(runtime, 40)}"); browsers run the benchmarks and tests (npm run bench -- --runtime browser)`;
  if (runtime === 'deno' && !isDeno) return 'deno';
  if (runtime === 'node' && isDeno) return `--runtime node: start the CLI with ${PROGRAM} (or npm start) instead of Deno`;
  return 'here';
}

/** Runs a command line (without the program name) and resolves with its exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const { runtime, rest, error } = takeRuntime(argv);
  if (error) {
    console.error(`error: ${error}`);
    return 2;
  }
  // The benchmarks choose their runtime themselves (bench/run.ts --runtime node|deno|browser).
  if (rest[0] === 'bench') return dispatch('bench', [...rest.slice(1), ...(runtime === undefined ? [] : [`--runtime=${runtime}`])]);
  const route = runtimeRoute(runtime);
  if (route === 'deno') return inDeno(rest);
  if (route !== 'here') {
    console.error(`error: ${route}`);
    return 2;
  }
  // No command: the main job on its built-in defaults; options without a command go to it too.
  const [name = 'transfer', ...args] = rest;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name.startsWith('-')) return dispatch('transfer', rest);
  return dispatch(name, args);
}

async function dispatch(name: string, argv: readonly string[]): Promise<number> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`unknown command "${display(name, 60)}"\n\n${usage()}`);
    return 2;
  }
  return runCommand(name, (await load()).default, argv);
}
