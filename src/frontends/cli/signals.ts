// Ctrl-C and SIGTERM during long jobs: the first asks the job to stop at its next step boundary
// (it then writes a checkpoint); a second one exits at once (status 130). The job polls
// `shouldStop`; signals and exits belong here, to the command line, not to the training code.

export interface StopRequest {
  /** True once a stop was asked for. */
  shouldStop(): boolean;
  /** Stops listening. */
  dispose(): void;
}

export function stopOnSignals(what = 'finishing this step and writing the checkpoint'): StopRequest {
  let requested = false;
  const handler = (signal: NodeJS.Signals) => {
    if (requested) {
      console.error(`\n${signal} again: exiting without waiting (the last checkpoint is kept)`);
      process.exit(130);
    }
    requested = true;
    console.error(`\n${signal}: ${what} (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to exit at once)`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    shouldStop: () => requested,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
