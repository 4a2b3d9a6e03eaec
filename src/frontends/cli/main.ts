#!/usr/bin/env node
// The `fpet-webgpu` program (and `npm start`): runs the command line, then ends the process with
// its status, since a process that used Dawn may not exit by itself.

import { runCli } from './cli.ts';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (process.env.DEBUG ? e.stack : `error: ${e.message}`) : e);
    process.exit(e instanceof Error && e.name === 'UsageError' ? 2 : 1);
  },
);
