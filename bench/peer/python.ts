// Python peers of the benchmarks (numpy's BLAS, PyTorch on the CPU): a script run with `python -c`
// in a subprocess, its answer one JSON object on the last line of stdout. Optional: the benchmark
// installs nothing; when no interpreter can run the script, the suites report why ("unavailable")
// and carry on. Interpreters tried, in order: $FPET_BENCH_PYTHON (when set), python3 on PATH,
// /usr/bin/python3; the first that runs the script to a JSON answer wins, so a $FPET_BENCH_PYTHON
// without numpy still leaves numpy to the system python3.
//
// Node built-ins are imported through nodeImport (a variable specifier) so that the suites still
// bundle for Deno and browsers; in a browser there are no subprocesses and the answer says so.

import type { GpuRuntime } from '../../src/core/runtime/device.ts';
import { nodeImport } from '../../src/core/util/node-import.ts';

export type PythonAnswer<T> =
  | { readonly ok: true; readonly python: string; readonly out: T }
  | { readonly ok: false; readonly unavailable: string };

/** The interpreters to try: $FPET_BENCH_PYTHON (when set and not empty), python3, /usr/bin/python3. */
export async function pythonCandidates(): Promise<string[]> {
  const { env } = await nodeImport<typeof import('node:process')>('node:process');
  const first = env.FPET_BENCH_PYTHON?.trim();
  return [...new Set([...(first ? [first] : []), 'python3', '/usr/bin/python3'])];
}

/** Lines a script writes to stderr with this prefix are progress, shown as they come when asked. */
export const PROGRESS_PREFIX = 'progress: ';

/**
 * Runs `script` (python source) with `args` in the first interpreter that answers; `what` names
 * the peer in the reason given when none does ("numpy", "PyTorch"). `onProgress` receives the
 * script's progress lines (stderr lines starting with PROGRESS_PREFIX) while it runs.
 */
export async function runPython<T>(runtime: GpuRuntime, what: string, script: string, args: readonly string[], timeoutMs: number, onProgress?: (line: string) => void): Promise<PythonAnswer<T>> {
  if (runtime === 'browser') return { ok: false, unavailable: 'no subprocesses in a browser' };
  const { spawn } = await nodeImport<typeof import('node:child_process')>('node:child_process');
  const tried: string[] = [];
  for (const python of await pythonCandidates()) {
    const r = await new Promise<{ status: number | null; signal: string | null; error?: Error; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(python, ['-c', script, ...args], { timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '', pending = '', error: Error | undefined;
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) if (onProgress && line.startsWith(PROGRESS_PREFIX)) onProgress(line.slice(PROGRESS_PREFIX.length));
      });
      child.on('error', (e) => { error = e; });
      child.on('close', (status, signal) => resolve({ status, signal, error, stdout, stderr }));
    });
    if (r.error || r.status !== 0) {
      const why = r.error?.message ?? ((r.stderr || r.stdout || '').trim().split('\n').pop() || `exit status ${r.status ?? r.signal}`);
      tried.push(`${python}: ${why}`);
      continue;
    }
    try {
      return { ok: true, python, out: JSON.parse(r.stdout.trim().split('\n').pop()!) as T };
    } catch {
      tried.push(`${python}: no JSON answer on stdout`);
    }
  }
  return { ok: false, unavailable: `${what} is not available (${tried.join('; ')}); not installed by the benchmark` };
}
