// Reading an image file without a window between the check and the read: the path is opened
// without blocking, the open file is checked with fstat (a folder, a FIFO or a device is refused
// before a byte is read, and a file over the limit before it is read), and that same open file is
// read. A path checked with stat and then read by name could be swapped in between. Node and
// Deno only (node:fs is imported where it is used).

import { nodeImport } from '../util/node-import.ts';
import { count, display, errorText } from '../util/text.ts';

/** How a reader names what it reads in its messages, and the error it throws. */
export interface CheckedReadWords {
  /** The message for a folder: "is a directory, not a PNG file". */
  readonly folder: string;
  /** What the size limit is for: "PNG files". */
  readonly limitFor: string;
  readonly error: (message: string) => Error;
}

/** The bytes of the regular file at `path`, at most `maxBytes` of them; errors name the path. */
export async function readCheckedFile(path: string, maxBytes: number, words: CheckedReadWords): Promise<Uint8Array> {
  const where = display(path);
  const fs = await nodeImport<typeof import('node:fs')>('node:fs');
  let handle: import('node:fs/promises').FileHandle | undefined;
  let refusal: string | undefined;
  try {
    handle = await fs.promises.open(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (st.isDirectory()) refusal = words.folder;
    else if (!st.isFile()) refusal = 'is not a regular file';
    else if (st.size > maxBytes) refusal = `the file is ${count(st.size)} bytes, over the ${count(maxBytes)}-byte limit for ${words.limitFor}`;
    if (refusal !== undefined) throw words.error(`${where}: ${refusal}`);
    const buf = new Uint8Array(st.size);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = (await handle.read(buf, n, buf.length - n, n)).bytesRead;
    return buf.subarray(0, n);
  } catch (e) {
    if (refusal !== undefined) throw e;
    throw words.error(`${where}: cannot read the file (${errorText(e)})`);
  } finally {
    await handle?.close();
  }
}
