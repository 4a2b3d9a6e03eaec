// Command-line entry point (`npm start -- <command> [options]`). Each command lives in its own
// module under ./commands and is loaded only when used.

type CommandModule = { run(argv: string[]): Promise<number | void>; summary: string };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  transfer: () => import('./commands/transfer.ts'),
  train: () => import('./commands/train.ts'),
  eval: () => import('./commands/eval.ts'),
  infer: () => import('./commands/infer.ts'),
  compile: () => import('./commands/compile.ts'),
  gradcheck: () => import('./commands/gradcheck.ts'),
  bench: () => import('./commands/bench.ts'),
};

function usage(): string {
  return [
    'usage: npm start -- <command> [options]     (node --import tsx src/cli/main.ts <command> ...)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}${c === 'transfer' ? '   (default: the main job)' : ''}`),
    '',
    'Run a command with --help for its options. Add --runtime deno to run it under Deno (wgpu) instead of Node (Dawn).',
  ].join('\n');
}

/**
 * `--runtime deno` (any command): run the same CLI under Deno (wgpu) from node_modules, offline.
 * The default is the runtime that started the process (Node: Dawn).
 */
async function inDeno(argv: string[]): Promise<number> {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const deno = `${root}node_modules/.bin/deno`;
  const r = spawnSync(deno, ['run', '-A', '--no-lock', '--no-remote', '--node-modules-dir=manual', `${root}src/cli/main.ts`, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
  });
  if (r.error) throw new Error(`could not start Deno (${deno}): ${r.error.message}; run npm ci (the deno package ships the binary)`);
  return r.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--runtime');
  if (at >= 0) {
    const runtime = argv[at + 1];
    const rest = [...argv.slice(0, at), ...argv.slice(at + 2)];
    const isDeno = 'Deno' in globalThis;
    if (runtime === 'deno' && !isDeno) return inDeno(rest);
    if (runtime !== 'deno' && runtime !== 'node') {
      console.error(`--runtime must be node or deno (got "${runtime ?? ''}"); browsers run the benchmarks and tests (npm run bench -- --runtime browser)`);
      return 2;
    }
    if (runtime === 'node' && isDeno) {
      console.error('--runtime node: start the CLI with npm start instead of Deno');
      return 2;
    }
    argv = rest;
  }
  // No command: the main job on its built-in defaults.
  const [name = 'transfer', ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = await load();
  return (await mod.run(rest)) ?? 0;
}

// A process that used Dawn may not exit by itself: exit explicitly with the command's status.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (process.env.DEBUG ? e.stack : `error: ${e.message}`) : e);
    process.exit(e instanceof Error && e.name === 'UsageError' ? 2 : 1);
  },
);
