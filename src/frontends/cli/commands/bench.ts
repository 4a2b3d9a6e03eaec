// `bench`: the benchmark suites (bench/run.ts), in their own process so that they own its
// lifetime (they end it explicitly, as Dawn requires).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const summary = 'Run the benchmarks (same as npm run bench -- ...).';

export async function run(argv: string[]): Promise<number> {
  const script = fileURLToPath(new URL('../../../../bench/run.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...argv], { stdio: 'inherit' });
  if (r.error) throw new Error(`could not run the benchmarks: ${r.error.message}`);
  return r.status ?? 1;
}
