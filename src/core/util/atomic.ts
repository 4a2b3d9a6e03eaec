// Atomic file replacement: readers see either the old content or the new, never a partial file,
// even if the process dies mid-write. Write a temporary file in the same directory (rename is
// only atomic within one file system), fsync it, rename it over the target, then fsync the
// directory so the rename itself survives a crash. Temporaries are named by ./temp-names.ts (a
// fixed prefix and the process id), so that ./files.ts removeStaleTemporaries can tell a killed
// write's leftovers from anyone else's files.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsErrorText } from './errno.ts';
import { tempName } from './temp-names.ts';
import { display } from './text.ts';

/** Options of writeFileAtomic. */
export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o666 & ~umask); an existing file's mode is kept. */
  readonly mode?: number;
}

/** The temporary name used next to `path` (hidden, unique per call, with this process's id). */
export function tempPathFor(path: string): string {
  return join(dirname(path), tempName(basename(path), process.pid, randomBytes(4).toString('hex')));
}

/**
 * Writes `data` to `path` atomically. A failure (a full disk, a read-only file system, a folder in
 * the way) is an Error naming `path` — never the temporary — and leaves an existing file as it was.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  let mode = opts.mode;
  let existed = false;
  try {
    const st = await fsp.stat(path);
    existed = true;
    mode ??= st.mode & 0o7777;
  } catch {
    mode ??= 0o666;
  }
  let handle: fsp.FileHandle | undefined;
  try {
    // 'wx': fail rather than follow or clobber something already at the temporary name.
    handle = await fsp.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw Object.assign(new Error(`cannot write ${display(path)}: ${fsErrorText(e)}; ${existed ? 'the existing file is unchanged' : 'nothing was written'}`), { code: (e as NodeJS.ErrnoException).code });
  }
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  // Not every platform can open or fsync a directory (Windows cannot); the data is safe anyway.
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => {});
  }
}
