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
};

function usage(): string {
  return [
    'usage: npm start -- <command> [options]     (node --import tsx src/cli/main.ts <command> ...)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}${c === 'transfer' ? '   (default: the main job)' : ''}`),
    '',
    'Run a command with --help for its options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
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
