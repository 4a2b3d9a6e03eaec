// Names of the temporary files the atomic writers create next to their target: a fixed prefix,
// the writing process's id, a random part and the target's name, e.g.
//
//   .fpet-webgpu-tmp.4242.9f3a0c1d.checkpoint.safetensors
//
// so that cleanup recognises its own temporaries (and the process that wrote them) and leaves
// every other file alone. Universal (no Node imports).

/** What every temporary name starts with. */
export const TEMP_PREFIX = '.fpet-webgpu-tmp.';

/** Characters of the target's name kept in a temporary name (file names are at most 255 bytes). */
const TARGET_CHARS = 100;

/** The temporary name for `target` (a base name) written by process `pid`; `nonce` is hex. */
export function tempName(target: string, pid: number, nonce: string): string {
  return `${TEMP_PREFIX}${pid}.${nonce}.${target.slice(0, TARGET_CHARS)}`;
}

/** The process id of a temporary name this project writes, or undefined for any other name. */
export function tempNamePid(name: string): number | undefined {
  if (!name.startsWith(TEMP_PREFIX)) return undefined;
  const [pid, nonce, ...target] = name.slice(TEMP_PREFIX.length).split('.');
  if (!pid || !/^[1-9]\d{0,9}$/.test(pid) || !nonce || !/^[0-9a-f]{8,16}$/.test(nonce) || target.join('.') === '') return undefined;
  return Number(pid);
}
