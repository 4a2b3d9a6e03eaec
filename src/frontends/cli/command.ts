// What a command is, and the one runner that opens every command the same way: the options parsed
// strictly (./args.ts), --help answered, then the command's own code, which checks its inputs
// before it asks the session for the device (so that bad input never waits for a GPU), and gets
// Ctrl-C as a stop request when it declares one. The runner releases what the session took.

import { formatAdapterReport, requestGpu, type GpuContext } from '../../core/runtime/device.ts';
import { helpText, parseArgs, type OptionSpec, type ParseConfig, type Parsed } from './args.ts';
import { stopOnSignals, type StopRequest } from './signals.ts';

/** What the runner gives a command besides its options. */
export interface Session {
  /** The device, requested on first use (its adapter line is printed once). */
  gpu(): Promise<GpuContext>;
  /** Polled by long jobs: true after the first Ctrl-C / SIGTERM when the command declares `stops`. */
  readonly stop: StopRequest;
}

/** One command of the CLI: its options and what it does with them. */
export interface Command<S extends Record<string, OptionSpec>> {
  /** One line for the command list and the top of --help. */
  readonly summary: string;
  readonly options: S;
  readonly positionals?: ParseConfig['positionals'];
  /** What a first Ctrl-C does, e.g. "finishing this step and writing the checkpoint"; absent: Ctrl-C ends the process. */
  readonly stops?: string;
  /** Hand the words after the command to `run` unparsed (in `_`), --help included: for commands that wrap another program. */
  readonly passArguments?: boolean;
  /** The label of the device this command asks for (default: the command's name). */
  readonly deviceLabel?: string;
  /** Runs the command; resolves with the exit status (default 0). */
  run(args: Parsed<S>, session: Session): Promise<number | void>;
}

/** Declares a command (an identity function that keeps the options' types for `run`). */
export function defineCommand<S extends Record<string, OptionSpec>>(command: Command<S>): Command<S> {
  return command;
}

/** Parses `argv` for `command`, answers --help, runs it in a session, and returns its exit status. */
export async function runCommand<S extends Record<string, OptionSpec>>(name: string, command: Command<S>, argv: readonly string[]): Promise<number> {
  const args = command.passArguments ? ({ _: [...argv] } as Parsed<S>) : parseArgs(name, argv, command.options, { positionals: command.positionals });
  if ((args as { help?: boolean }).help) {
    console.log(helpText(name, command.summary, command.options, { positionals: command.positionals }));
    return 0;
  }
  const stop = command.stops ? stopOnSignals(command.stops) : NEVER_STOP;
  let device: Promise<GpuContext> | undefined;
  const session: Session = {
    stop,
    gpu: () => (device ??= requestGpu({ label: command.deviceLabel ?? name }).then((ctx) => {
      console.log(`adapter: ${formatAdapterReport(ctx.info)}`);
      return ctx;
    })),
  };
  try {
    return (await command.run(args, session)) ?? 0;
  } finally {
    stop.dispose();
  }
}

const NEVER_STOP: StopRequest = { shouldStop: () => false, dispose: () => {} };
