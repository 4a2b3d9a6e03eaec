// File-system errors in words: what a failed open, write, rename or mkdir means, for messages that
// name the file the user asked for (never a temporary name) and what to do. Universal: no Node
// imports, so the safetensors code the web page bundles can use it.

import { errorText } from './text.ts';

const WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'something is already there',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
  EXDEV: 'not on the same file system',
  ENXIO: 'no reader or device at the other end',
};

/** "no space left on the device (ENOSPC)" for an errno error; another error's message, escaped and clipped. */
export function fsErrorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && Object.hasOwn(WORDS, code)) return `${WORDS[code]} (${code})`;
  return errorText(e, 200);
}
