// Deno entry of the benchmarks (`npm run bench -- --runtime deno`). bench/run.ts bundles this file
// with esbuild (so benchmark.js, lodash and tfjs come along without npm access) and runs it as
//   node_modules/.bin/deno run -A --no-config --no-lock --no-remote --no-npm <bundle> '<options json>'
// with a throwaway DENO_DIR and DENO_NO_UPDATE_CHECK=1, as test/runtime/smoke-deno.test.ts does.
// Progress lines go to stdout as they come; the last line is `RESULT {json}` (a RemoteResult).

import { runSuitesHere, type RemoteOptions } from './browser-entry.ts';

interface DenoApi {
  args: string[];
  exit(code: number): never;
}

const deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
const opts = JSON.parse(deno.args[0] ?? '{}') as RemoteOptions;
try {
  const result = await runSuitesHere(opts);
  console.log(`RESULT ${JSON.stringify(result)}`);
  deno.exit(0);
} catch (e) {
  console.log(`ERROR ${JSON.stringify(e instanceof Error ? (e.stack ?? e.message) : String(e))}`);
  deno.exit(1);
}
