// Where this package's own files are, whether it runs from its sources (a clone), from dist/ (the
// built package) or from node_modules/fpet-webgpu in someone else's project: the nearest folder
// above this module whose package.json names the package. Node and Deno only (file system).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's name in package.json. */
export const PACKAGE_NAME = 'fpet-webgpu';

let root: string | undefined;

/** The package's root folder (absolute); throws if no package.json above this module names it. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package folder above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A file of the package by its path inside it, e.g. `models/vit-mnist-fashion.safetensors` (absolute). */
export const packageFile = (path: string): string => join(packageRoot(), path);
