// Importing Node built-ins (and Node-only packages) only where they are used, so that modules
// that also run in browsers can hold file functions without pulling `node:fs` into a bundle. The
// specifier is a variable on purpose: bundlers (esbuild, Vite) and Deno's module graph follow
// string literals only. In Node and Deno the import works as usual; in a browser it rejects.

export function nodeImport<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

export const nodeFs = () => nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
export const nodePath = () => nodeImport<typeof import('node:path')>('node:path');
export const nodeCrypto = () => nodeImport<typeof import('node:crypto')>('node:crypto');

/** An environment variable where the runtime has `process.env` (Node, Deno's Node globals); undefined in browsers. */
export function envVar(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}
