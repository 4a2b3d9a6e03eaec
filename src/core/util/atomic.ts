// Atomic file replacement: readers see either the old content or the new, never a partial file,
// even if the process dies mid-write. Write a temporary file in the same directory (rename is
// only atomic within one file system), fsync it, rename it over the target, then fsync the
// directory so the rename itself survives a crash.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o666 & ~umask); an existing file's mode is kept. */
  readonly mode?: number;
}

/** The temporary name used next to `path` (hidden, unique per call). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  let mode = opts.mode;
  if (mode === undefined) {
    try {
      mode = (await fsp.stat(path)).mode & 0o7777;
    } catch {
      mode = 0o666;
    }
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
    throw e;
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
