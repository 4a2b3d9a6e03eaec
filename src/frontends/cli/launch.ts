// Running the CLI in another runtime (`--runtime deno`) as a child process that behaves like the
// process the user started: its exit status is the launcher's, and the launcher forwards the
// signals it gets (SIGINT, SIGTERM, SIGHUP) so that the child stops the way it would on its own
// (finish the step, write the checkpoint).
//
// The child runs in its own process group (POSIX): a Ctrl-C at the terminal reaches the launcher's
// group only, and the launcher forwards it once. Without that, the child would get the terminal's
// SIGINT and the forwarded one, and read them as "Ctrl-C twice: abort without a checkpoint".

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { display } from '../../core/util/text.ts';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface LaunchOptions {
  env?: NodeJS.ProcessEnv;
  /** Default FORWARDED_SIGNALS. */
  signals?: readonly NodeJS.Signals[];
  /** Run the child in its own process group (default: everywhere but Windows). */
  ownGroup?: boolean;
}

/** Exit status of a process that ended with `code`, or was killed by `signal` (128 + its number). */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return n ? 128 + n : 1;
}

/**
 * Runs `command args` with inherited stdio, forwarding signals, and resolves with its exit status.
 * Rejects (with the spawn error) if it cannot be started.
 */
export function runForwardingSignals(command: string, args: readonly string[], options: LaunchOptions = {}): Promise<number> {
  const ownGroup = options.ownGroup ?? process.platform !== 'win32';
  const signals = options.signals ?? FORWARDED_SIGNALS;
  const child = spawn(command, args, { stdio: 'inherit', env: options.env ?? process.env, detached: ownGroup });
  const forward = (signal: NodeJS.Signals) => {
    try {
      if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      /* the child has already exited */
    }
  };
  for (const s of signals) process.on(s, forward);
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  }).finally(() => {
    for (const s of signals) process.off(s, forward);
  });
}

/**
 * Takes `--runtime NAME` / `--runtime=NAME` out of argv (options before a `--` only). An empty or
 * missing name, or the option given twice, is a usage error.
 */
export function takeRuntime(argv: readonly string[]): { runtime?: string; rest: string[]; error?: string } {
  const rest: string[] = [];
  let runtime: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a !== '--runtime' && !a.startsWith('--runtime=')) {
      rest.push(a);
      continue;
    }
    let value: string | undefined;
    if (a === '--runtime') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) return { rest, error: '--runtime needs a value: node or deno' };
      value = next;
      i++;
    } else value = a.slice('--runtime='.length);
    if (value === '') return { rest, error: '--runtime needs a non-empty value: node or deno' };
    if (runtime !== undefined) return { rest, error: `--runtime is given twice (${display(runtime, 40)} and ${display(value, 40)})` };
    runtime = value;
  }
  return { runtime, rest };
}

