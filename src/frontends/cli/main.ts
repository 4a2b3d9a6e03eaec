// Command-line entry point (`npm start -- <command> [options]`). Each command lives in its own
// module under ./commands and is loaded only when used.

import { display } from '../../core/util/text.ts';
import { takeRuntime } from './launch.ts';

type CommandModule = { run(argv: string[]): Promise<number | void>; summary: string };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  transfer: () => import('./commands/transfer.ts'),
  train: () => import('./commands/train.ts'),
  eval: () => import('./commands/eval.ts'),
  infer: () => import('./commands/infer.ts'),
  compile: () => import('./commands/compile.ts'),
  gradcheck: () => import('./commands/gradcheck.ts'),
  export: () => import('./commands/export.ts'),
  sweep: () => import('./commands/sweep.ts'),
  bench: () => import('./commands/bench.ts'),
  serve: () => import('./commands/serve.ts'),
};

function usage(): string {
  return [
    'usage: npm start -- <command> [options]     (node --import tsx src/frontends/cli/main.ts <command> ...)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}${c === 'transfer' ? '   (default: the main job)' : ''}`),
    '',
    'Run a command with --help for its options. Add --runtime deno to run it under Deno (wgpu) instead of Node (Dawn).',
  ].join('\n');
}

/**
 * `--runtime deno` (any command): run the same CLI under Deno (wgpu) from node_modules, offline.
 * Signals are forwarded to it and its exit status is ours (src/frontends/cli/launch.ts).
 */
async function inDeno(argv: string[]): Promise<number> {
  const { fileURLToPath } = await import('node:url');
  const { runForwardingSignals } = await import('./launch.ts');
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const deno = `${root}node_modules/.bin/deno`;
  try {
    return await runForwardingSignals(deno, ['run', '-A', '--no-lock', '--no-remote', '--node-modules-dir=manual', `${root}src/frontends/cli/main.ts`, ...argv], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    });
  } catch (e) {
    throw new Error(`could not start Deno (${deno}): ${(e as Error).message}; run npm ci (the deno package ships the binary)`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { runtime, rest: withoutRuntime, error } = takeRuntime(argv);
  if (error) {
    console.error(`error: ${error}`);
    return 2;
  }
  if (withoutRuntime[0] === 'bench') {
    // The benchmarks choose their runtime themselves (bench/run.ts --runtime node|deno|browser).
    return runCommand('bench', [...withoutRuntime.slice(1), ...(runtime === undefined ? [] : [`--runtime=${runtime}`])]);
  }
  if (runtime !== undefined) {
    const isDeno = 'Deno' in globalThis;
    if (runtime !== 'deno' && runtime !== 'node') {
      console.error(`error: --runtime must be node or deno (got "${display(runtime, 40)}"); browsers run the benchmarks and tests (npm run bench -- --runtime browser)`);
      return 2;
    }
    if (runtime === 'deno' && !isDeno) return inDeno(withoutRuntime);
    if (runtime === 'node' && isDeno) {
      console.error('error: --runtime node: start the CLI with npm start instead of Deno');
      return 2;
    }
  }
  // No command: the main job on its built-in defaults.
  const [name = 'transfer', ...rest] = withoutRuntime;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  // Options without a command go to the main job (`npm start -- --epochs 1`).
  if (name.startsWith('-')) return runCommand('transfer', withoutRuntime);
  return runCommand(name, rest);
}

async function runCommand(name: string, argv: string[]): Promise<number> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`unknown command "${display(name, 60)}"\n\n${usage()}`);
    return 2;
  }
  const mod = await load();
  return (await mod.run(argv)) ?? 0;
}

// A process that used Dawn may not exit by itself: exit explicitly with the command's status.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (process.env.DEBUG ? e.stack : `error: ${e.message}`) : e);
    process.exit(e instanceof Error && e.name === 'UsageError' ? 2 : 1);
  },
);
