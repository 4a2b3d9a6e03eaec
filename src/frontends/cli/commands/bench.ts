// `bench`: the benchmark suites (bench/run.ts), in their own process so that they own its
// lifetime (they end it explicitly, as Dawn requires). They live in the repository, not in the
// installed package: they need its dev dependencies (tsx, peers).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { packageFile } from '../../../core/util/package-root.ts';
import { defineCommand } from '../command.ts';

export default defineCommand({
  summary: 'Run the benchmarks (same as npm run bench -- ...; in a clone of the repository).',
  options: {},
  passArguments: true,
  async run(a) {
    const script = packageFile('bench/run.ts');
    if (!existsSync(script)) throw new Error('the benchmarks run from a clone of the repository (npm ci, then npm run bench); the installed package does not ship bench/');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...a._], { stdio: 'inherit', cwd: packageFile('.') });
    if (r.error) throw new Error(`could not run the benchmarks: ${r.error.message}`);
    return r.status ?? 1;
  },
});
