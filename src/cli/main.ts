// Command-line entry point (`npm start -- <command> [options]`). Each command lives in its own
// module under ./commands and is loaded only when used.

type CommandModule = { run(argv: string[]): Promise<number | void>; summary: string };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  train: () => import('./commands/train.ts'),
};

function usage(): string {
  return [
    'usage: npm start -- <command> [options]     (node --import tsx src/cli/main.ts <command> ...)',
    '',
    'commands:',
    ...Object.keys(COMMANDS).map((c) => `  ${c}`),
    '',
    'Run a command with --help for its options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
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
