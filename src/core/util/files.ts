// Files a command reads or writes on the user's behalf, checked the way the commands promise:
//
// - small inputs (a name map, a run manifest) are opened without blocking and read only when
//   fstat says they are regular files under a size limit, so a FIFO, /dev/zero or a huge file is
//   refused before a byte is read (opening a FIFO for reading would otherwise wait for a writer);
// - outputs are checked before any work: not a folder, not an existing file unless replacing was
//   asked for, in a folder that exists or can be created, on a writable file system;
// - temporaries of the atomic writers (./temp-names.ts) left by a process that is gone are removed,
//   and nothing else is.
//
// Node (and Deno) only. Messages name the option and the path, escaped (./text.ts).

import { accessSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fsErrorText } from './errno.ts';
import { count, display } from './text.ts';
import { tempNamePid } from './temp-names.ts';

/** A file that cannot be used as asked; the message names the option (or role) and the path. */
export class FileCheckError extends Error {
  override name = 'FileCheckError';
}

/** What a non-regular file is, in words. */
function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of a regular file of at most `maxBytes`: opened non-blocking, checked with fstat,
 * then read (never more than `maxBytes` + 1 bytes, so a file that grows is refused too).
 * `what` names it in messages ("--name-map", "run.json").
 */
export function readSmallFile(path: string, maxBytes: number, what: string): Buffer {
  const where = `${what} ${display(path)}`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileCheckError(`${where}: cannot open it: ${fsErrorText(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileCheckError(`${where}: is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw new FileCheckError(`${where}: is ${count(st.size)} bytes, over the ${count(maxBytes)}-byte limit`);
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n <= maxBytes; n += got) got = readSync(fd, buf, n, buf.length - n, n);
    if (n > maxBytes) throw new FileCheckError(`${where}: grew past the ${count(maxBytes)}-byte limit while being read`);
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof FileCheckError) throw e;
    throw new FileCheckError(`${where}: cannot read it: ${fsErrorText(e)}`);
  } finally {
    closeSync(fd);
  }
}

/** Whether process `pid` exists (EPERM: it does, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes, from `dir`, the temporaries of this project's atomic writers (./temp-names.ts) whose
 * writing process is gone: a write killed midway. Other files — another program's, a live
 * process's temporaries, links, folders — are left alone. Returns the names removed.
 */
export function removeStaleTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = tempNamePid(name);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      rmSync(path);
      removed.push(name);
    } catch {
      // gone already, or not ours to remove after all
    }
  }
  return removed;
}

/** The nearest existing ancestor of `path` (itself included), or undefined. */
function existingAncestor(path: string): string | undefined {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      statSync(p);
      return p;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return p;
    }
    if (dirname(p) === p) return undefined;
  }
}

/** `dir` (which may not exist yet) can become a folder we write in: no file in its way, writable. */
function checkFolderPath(dir: string, where: string): void {
  const at = existingAncestor(dir);
  if (at === undefined) throw new FileCheckError(`${where}: no part of the path exists`);
  let st;
  try {
    st = statSync(at);
  } catch (e) {
    throw new FileCheckError(`${where}: cannot use ${display(at)}: ${fsErrorText(e)}`);
  }
  if (!st.isDirectory()) throw new FileCheckError(`${where}: ${display(at)} is ${st.isFile() ? 'a file' : kindOf(st)}, not a folder`);
  try {
    accessSync(at, constants.W_OK);
  } catch (e) {
    throw new FileCheckError(`${where}: cannot write in ${display(at)}: ${fsErrorText(e)}`);
  }
}

/**
 * Checks an output file before any work: not a folder or special file, not an existing file
 * unless `replace` (then the message names `replaceFlag`), and its folder exists or can be created
 * on a writable file system.
 */
export function checkOutputFile(path: string, option: string, opts: { replace?: boolean; replaceFlag?: string } = {}): void {
  const where = `${option} ${display(path)}`;
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new FileCheckError(`${where} is a folder; give a file name in it`);
  if (st && !st.isFile()) throw new FileCheckError(`${where} is ${kindOf(st)}, not a regular file`);
  if (st && !opts.replace) throw new FileCheckError(`${where} already exists; replace it with ${opts.replaceFlag ?? '--force'} or choose another ${option}`);
  checkFolderPath(dirname(resolve(path)), where);
}

/** Checks an output folder before any work: not a file, and it exists or can be created where we may write. */
export function checkOutputDir(dir: string, option: string): void {
  const where = `${option} ${display(dir)}`;
  checkFolderPath(dir, where);
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new FileCheckError(`${where} is ${st.isFile() ? 'a file' : kindOf(st)}, not a folder`);
}

/** mkdir -p with a message naming the option and the path instead of raw errno text. */
export function makeDir(dir: string, option: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    checkOutputDir(dir, option);
    throw new FileCheckError(`${option} ${display(dir)}: cannot create the folder: ${fsErrorText(e)}`);
  }
}
