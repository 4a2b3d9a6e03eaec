// The trained files this package ships, by what they are, and where they are on this machine
// (inside the clone or the installed package). Node and Deno only.

import { relative, isAbsolute } from 'node:path';
import { packageFile } from '../../core/util/package-root.ts';
import { SHIPPED_BACKBONE } from '../train/model-files.ts';

/** The shipped files, by their path inside the package. */
export const SHIPPED_FILES = {
  /** The vit-mnist backbone pre-trained on Fashion-MNIST (docs/backbone.md). */
  backbone: SHIPPED_BACKBONE,
  /** The main job's AdaptFormer + FPET adapters for that backbone (MNIST, 20×20 input crop). */
  fpetAdapters: 'models/mnist-adaptformer-fpet.safetensors',
} as const;

/** The absolute path of a shipped file. */
export function shippedPath(file: keyof typeof SHIPPED_FILES): string {
  return packageFile(SHIPPED_FILES[file]);
}

/** A shipped file's path as a user would type it here: relative to the working folder when inside it, else absolute. */
export function shippedPathFromHere(file: keyof typeof SHIPPED_FILES): string {
  const abs = shippedPath(file);
  const rel = relative(process.cwd(), abs);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}
