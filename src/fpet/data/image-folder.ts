// An image folder as a data set, in torchvision's ImageFolder layout: one subfolder per class
// (images anywhere below it, symbolic links followed), classes sorted by name; either `train/` and
// a held-out folder (`val/`, `validation/`, `valid/` or `test/`) each in that layout, or the class
// folders directly, split here with a fixed seed (./splits.ts). PNG and JPEG files (.png, .jpg,
// .jpeg, .jpe, .jfif; the content decides the format); hidden files and other files are ignored,
// other image formats (.gif, .webp, ...) are reported.
//
// The first scan decodes every image once, in the decoding threads, with a progress bar: an
// unreadable or odd file (corrupt, truncated, CMYK JPEG, over the pixel limit, smaller than
// FOLDER_LIMITS.minSide, a symbolic link loop, a FIFO) is found before any GPU work and reported
// by name — all of them at once — or left out and counted with `skipBad`. Verdicts are cached per
// file (size and modification time) under $XDG_CACHE_HOME/fpet-webgpu/image-folders/, so later
// scans of the same folder only list it. Nothing is kept decoded: training decodes batches as it
// goes (./image-source.ts). Node and Deno only.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../../core/util/atomic.ts';
import { fsErrorText } from '../../core/util/errno.ts';
import { readSmallFile } from '../../core/util/files.ts';
import { Progress } from '../../core/util/progress.ts';
import { capLines, count, display, listOf } from '../../core/util/text.ts';
import type { ImageOptions } from '../../core/io/image.ts';
import type { ImagePool } from './image-pool.ts';
import { verifyImage, type Verdict } from './image-load.ts';
import { holdOut } from './splits.ts';

/** Bounds of an image folder. */
export const FOLDER_LIMITS = Object.freeze({
  /** Images in one folder (train and held-out together). */
  maxImages: 2_000_000,
  /** Folder levels below a class folder. */
  maxDepth: 32,
  /** Images smaller than this on either side are refused (a 1×1 placeholder is not a picture). */
  minSide: 8,
  maxClasses: 100_000,
  /** Bytes of the scan cache file read back. */
  maxCacheBytes: 512 * 2 ** 20,
});

/** File name endings read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif'] as const;
const OTHER_IMAGE_EXTENSIONS = new Set(['.gif', '.bmp', '.webp', '.tif', '.tiff', '.heic', '.heif', '.avif', '.ppm', '.pgm', '.pbm', '.ico', '.jp2']);
/** Names of the held-out folder beside `train/`, in order of preference. */
export const HELD_OUT_FOLDERS = ['val', 'validation', 'valid', 'test'] as const;

/** One image of a folder: where it is, its class, and what the walk saw of it. */
export interface FolderImage {
  readonly path: string;
  /** The path relative to the folder's root (for messages and the cache). */
  readonly rel: string;
  readonly label: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** How a folder is scanned and split. */
export interface FolderScanOptions {
  /** Leave unreadable files (and classes left empty) out, counted, instead of stopping (default false). */
  readonly skipBad?: boolean;
  /** Without a held-out folder: the fraction of every class held out (default 0.2). */
  readonly valSplit?: number;
  /** Seed of that split (default 0). */
  readonly splitSeed?: number;
  /** Decoding threads for the first scan (absent: the main thread). */
  readonly pool?: ImagePool;
  /** Show the scan's progress bar (default true). */
  readonly progress?: boolean;
  /** Read and write the verdict cache (default true). */
  readonly cache?: boolean;
  readonly limits?: ImageOptions['limits'];
}

/** A scanned image folder: classes, the train and held-out images, and what was left out. */
export interface ImageFolder {
  readonly root: string;
  readonly classes: readonly string[];
  readonly train: readonly FolderImage[];
  readonly val: readonly FolderImage[];
  /** Where the held-out images come from, in words ("val/", "20% of each class, seed 0"). */
  readonly valFrom: string;
  /** Why each left-out file or class was left out (with skipBad). */
  readonly skipped: readonly string[];
  /** Files that are not images (or hidden), ignored. */
  readonly ignored: number;
  /** Images decoded by this scan (the rest had a cached verdict). */
  readonly decoded: number;
}

/** A folder that cannot be used as data: the message names the folder or the files. */
export class ImageFolderError extends Error {
  override name = 'ImageFolderError';
}

const byCodePoint = (a: string, b: string) => {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
  return x.length - y.length;
};

/** What a walk collects: candidate images per class, problems, ignored files. */
interface Walk {
  readonly images: FolderImage[];
  readonly bad: string[];
  ignored: number;
  readonly root: string;
}

/** Sorted entries of a folder, or undefined (recorded as a problem) when it cannot be listed. */
function listFolder(dir: string, w: Walk): string[] | undefined {
  try {
    return readdirSync(dir).sort(byCodePoint);
  } catch (e) {
    w.bad.push(`${display(dir)}: cannot list the folder: ${fsErrorText(e)}`);
    return undefined;
  }
}

/** stat (following links), or undefined with the problem recorded: a link loop, a broken link, no access. */
function statEntry(path: string, w: Walk): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'is a symbolic link loop' : code === 'ENOENT' ? 'is a broken symbolic link' : `cannot be read: ${fsErrorText(e)}`;
    w.bad.push(`${display(path)}: ${why}`);
    return undefined;
  }
}

/** Collects the images below one class folder (depth-first, sorted), following links but never round a loop. */
function walkClass(dir: string, rel: string, label: number, w: Walk, ancestors: ReadonlySet<string>, depth: number): void {
  for (const name of listFolder(dir, w) ?? []) {
    if (name.startsWith('.')) {
      w.ignored++;
      continue;
    }
    const path = join(dir, name), relPath = `${rel}/${name}`;
    const st = statEntry(path, w);
    if (!st) continue;
    const ext = extname(name).toLowerCase();
    if (st.isDirectory()) {
      const id = `${st.dev}:${st.ino}`;
      if (ancestors.has(id)) w.bad.push(`${display(path)}: is a symbolic link loop (it leads back to a folder above it)`);
      else if (depth >= FOLDER_LIMITS.maxDepth) w.bad.push(`${display(path)}: is more than ${FOLDER_LIMITS.maxDepth} folders deep`);
      else walkClass(path, relPath, label, w, new Set([...ancestors, id]), depth + 1);
    } else if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) {
      if (!st.isFile()) w.bad.push(`${display(path)}: is not a regular file`);
      else w.images.push({ path, rel: relPath, label, size: st.size, mtimeMs: st.mtimeMs });
      if (w.images.length > FOLDER_LIMITS.maxImages) throw new ImageFolderError(`${display(w.root)}: more than ${count(FOLDER_LIMITS.maxImages)} images; use a smaller folder`);
    } else if (OTHER_IMAGE_EXTENSIONS.has(ext)) {
      w.bad.push(`${display(path)}: is a ${ext.slice(1).toUpperCase()} file; only PNG and JPEG are read (convert it, e.g. \`magick in${ext} out.png\`)`);
    } else {
      w.ignored++;
    }
  }
}

/** The class folders of `dir` (sorted), each walked; top-level files are ignored. */
function walkSplit(dir: string, rel: string, w: Walk): { names: string[]; images: FolderImage[] } {
  const start = w.images.length;
  const names: string[] = [];
  const self = statSync(dir);
  for (const name of listFolder(dir, w) ?? []) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const st = statEntry(path, w);
    if (!st?.isDirectory()) {
      if (st) w.ignored++;
      continue;
    }
    const label = names.length;
    names.push(name);
    if (names.length > FOLDER_LIMITS.maxClasses) throw new ImageFolderError(`${display(dir)}: more than ${count(FOLDER_LIMITS.maxClasses)} class folders`);
    walkClass(path, rel ? `${rel}/${name}` : name, label, w, new Set([`${self.dev}:${self.ino}`, `${st.dev}:${st.ino}`]), 1);
  }
  return { names, images: w.images.slice(start) };
}

/** The folder's layout: `train/` and a held-out folder, or class folders directly. */
function layoutOf(root: string): { train: string; held?: string } {
  let st: Stats;
  try {
    st = statSync(root);
  } catch (e) {
    throw new ImageFolderError(`image folder ${display(root)}: ${fsErrorText(e)}`);
  }
  if (!st.isDirectory()) throw new ImageFolderError(`image folder ${display(root)}: is not a folder`);
  const isDir = (name: string) => {
    try {
      return statSync(join(root, name)).isDirectory();
    } catch {
      return false;
    }
  };
  if (!isDir('train')) return { train: '' };
  return { train: 'train', held: HELD_OUT_FOLDERS.find(isDir) };
}

// ---------------------------------------------------------------------------------------------
// Verdicts: decoded once, cached by size and modification time

type CacheEntry = [size: number, mtimeMs: number, width: number, height: number] | [size: number, mtimeMs: number, reason: string];
const CACHE_FORMAT = 'fpet-webgpu/image-folder-scan/1';

/** The cache file of a folder scanned with these limits, or undefined when there is no home to put it in. */
function cacheFile(root: string, o: FolderScanOptions): string | undefined {
  const env = process.env;
  let base: string;
  try {
    base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  } catch {
    return undefined;
  }
  const key = createHash('sha256').update(JSON.stringify([CACHE_FORMAT, realpathSync(root), FOLDER_LIMITS.minSide, o.limits ?? null])).digest('hex').slice(0, 32);
  return join(base, 'fpet-webgpu', 'image-folders', `${key}.json`);
}

/** The cached verdicts of a folder (empty when there are none, or the file is not one this version wrote). */
function readCache(file: string | undefined): Map<string, CacheEntry> {
  const out = new Map<string, CacheEntry>();
  if (!file) return out;
  try {
    const data = JSON.parse(readSmallFile(file, FOLDER_LIMITS.maxCacheBytes, 'scan cache').toString('utf8')) as { format?: unknown; entries?: unknown };
    if (data.format !== CACHE_FORMAT || typeof data.entries !== 'object' || data.entries === null) return out;
    for (const [rel, e] of Object.entries(data.entries as Record<string, unknown>)) {
      const ok = Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'number'
        && ((e.length === 4 && Number.isInteger(e[2]) && Number.isInteger(e[3])) || (e.length === 3 && typeof e[2] === 'string'));
      if (ok) out.set(rel, e as CacheEntry);
    }
  } catch {
    // no cache yet, or an unreadable one: everything is decoded again
  }
  return out;
}

async function writeCache(file: string | undefined, entries: Map<string, CacheEntry>): Promise<void> {
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ format: CACHE_FORMAT, entries: Object.fromEntries(entries) }));
  } catch {
    // a cache that cannot be written only costs the next scan its time
  }
}

/** Decodes every image whose verdict is not cached (in the pool's threads, at most 64 in flight), with a progress bar. */
async function verifyAll(root: string, images: readonly FolderImage[], o: FolderScanOptions): Promise<{ verdicts: Verdict[]; decoded: number }> {
  const file = o.cache === false ? undefined : cacheFile(root, o);
  const cache = readCache(file);
  const verdicts: Verdict[] = new Array(images.length);
  const todo: number[] = [];
  images.forEach((img, i) => {
    const e = cache.get(img.rel);
    if (e && e[0] === img.size && e[1] === img.mtimeMs) verdicts[i] = e.length === 4 ? { width: e[2], height: e[3] } : { reason: e[2] };
    else todo.push(i);
  });
  const bar = o.progress === false || todo.length === 0 ? undefined : new Progress({ label: `first scan of ${display(root, 60)}`, total: todo.length, unit: 'img' });
  const verify = async (i: number) => {
    const task = { kind: 'verify' as const, path: images[i]!.path, minSide: FOLDER_LIMITS.minSide, limits: o.limits };
    verdicts[i] = o.pool ? await o.pool.run(task) : verifyImage(task);
    bar?.tick(1);
  };
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(64, todo.length) }, async () => {
    while (next < todo.length) await verify(todo[next++]!);
  }));
  bar?.done();
  if (todo.length) {
    const fresh = new Map<string, CacheEntry>();
    images.forEach((img, i) => {
      const v = verdicts[i]!;
      fresh.set(img.rel, 'reason' in v ? [img.size, img.mtimeMs, v.reason] : [img.size, img.mtimeMs, v.width, v.height]);
    });
    await writeCache(file, fresh);
  }
  return { verdicts, decoded: todo.length };
}

// ---------------------------------------------------------------------------------------------
// The scan

const problems = (root: string, bad: readonly string[]) => `image folder ${display(root)}: ${count(bad.length)} ${bad.length === 1 ? 'file or folder cannot be used' : 'files or folders cannot be used'} (--skip-bad leaves them out and counts them):\n  ${capLines(bad, 20, 'more').join('\n  ')}`;

/**
 * Scans an image folder: lists it, decodes every image not verified before (progress bar, cached
 * verdicts), and returns its classes and its train and held-out images. Problems are errors naming
 * every file at once, or, with `skipBad`, left out and listed in `skipped`.
 */
export async function scanImageFolder(root: string, o: FolderScanOptions = {}): Promise<ImageFolder> {
  const layout = layoutOf(root);
  const w: Walk = { images: [], bad: [], ignored: 0, root };
  const train = walkSplit(layout.train ? join(root, layout.train) : root, layout.train, w);
  const held = layout.held ? walkSplit(join(root, layout.held), layout.held, w) : undefined;
  const where = layout.train ? `${display(join(root, 'train'))}` : display(root);
  if (train.names.length === 0) throw new ImageFolderError(`image folder ${where}: no class folders (the layout: one subfolder of PNG / JPEG images per class${layout.train ? '' : ', or train/ and val/ each holding such subfolders'})`);
  const { verdicts, decoded } = await verifyAll(root, [...train.images, ...(held?.images ?? [])], o);
  const usable = (offset: number) => (_: FolderImage, i: number) => !('reason' in verdicts[offset + i]!);
  const bad = [...w.bad, ...verdicts.flatMap((v) => ('reason' in v ? [v.reason] : []))];
  if (bad.length && !o.skipBad) throw new ImageFolderError(problems(root, bad));
  const skipped = [...bad];
  const kept = keptClasses(train.names, train.images.filter(usable(0)), layout.train, o, skipped, root);
  const trainImages = relabel(train.images.filter(usable(0)), train.names, kept);
  let val: FolderImage[], valFrom: string;
  if (held) {
    val = heldOutImages(held, held.images.filter(usable(train.images.length)), kept, layout.held!, o, skipped, root);
    valFrom = `${layout.held}/`;
    if (!val.length) throw new ImageFolderError(`image folder ${display(join(root, layout.held!))}: holds no usable images of the training classes`);
    return { root, classes: kept, train: trainImages, val, valFrom, skipped, ignored: w.ignored, decoded };
  }
  const fraction = o.valSplit ?? 0.2, seed = o.splitSeed ?? 0;
  const split = holdOut(Int32Array.from(trainImages, (m) => m.label), kept.length, fraction, seed);
  if (!split.held.length) throw new ImageFolderError(`image folder ${display(root)}: holding out ${fraction} of each class leaves no held-out images (${trainImages.length} images in ${kept.length} classes); raise --val-split or add a val/ folder`);
  valFrom = `${+(100 * fraction).toFixed(2)}% of each class held out (split seed ${seed})`;
  return { root, classes: kept, train: split.train.map((i) => trainImages[i]!), val: split.held.map((i) => trainImages[i]!), valFrom, skipped, ignored: w.ignored, decoded };
}

/** The classes with usable training images; an empty class folder is an error, or left out with skipBad. */
function keptClasses(names: readonly string[], images: readonly FolderImage[], rel: string, o: FolderScanOptions, skipped: string[], root: string): string[] {
  const counts = new Array<number>(names.length).fill(0);
  for (const m of images) counts[m.label]!++;
  const empty = names.filter((_, k) => counts[k] === 0);
  const folder = (n: string) => display(rel ? `${rel}/${n}` : n);
  if (empty.length && !o.skipBad) throw new ImageFolderError(`image folder ${display(root)}: ${empty.length === 1 ? 'the class folder' : 'class folders'} ${listOf(empty.map((n) => (rel ? `${rel}/${n}` : n)))} ${empty.length === 1 ? 'holds' : 'hold'} no usable PNG or JPEG images; add images, remove the folder, or pass --skip-bad to leave the class out`);
  for (const n of empty) skipped.push(`class ${folder(n)} left out: no usable images`);
  const kept = names.filter((_, k) => counts[k]! > 0);
  if (!kept.length) throw new ImageFolderError(`image folder ${display(root)}: no class folder holds a usable image`);
  return kept;
}

/** Images relabelled from their folder's class index to the kept classes' (images of left-out classes dropped). */
function relabel(images: readonly FolderImage[], names: readonly string[], kept: readonly string[]): FolderImage[] {
  const to = names.map((n) => kept.indexOf(n));
  return images.filter((m) => to[m.label]! >= 0).map((m) => ({ ...m, label: to[m.label]! }));
}

/** The held-out folder's images, labelled by the training classes; a class training lacks is an error, or left out with skipBad. */
function heldOutImages(held: { names: string[] }, images: readonly FolderImage[], kept: readonly string[], rel: string, o: FolderScanOptions, skipped: string[], root: string): FolderImage[] {
  const unknown = held.names.filter((n) => !kept.includes(n));
  if (unknown.length && !o.skipBad) throw new ImageFolderError(`image folder ${display(root)}: ${rel}/ has class ${unknown.length === 1 ? 'folder' : 'folders'} ${listOf(unknown)} that train/ lacks (or whose training images are all unusable); the held-out classes must be training classes (--skip-bad leaves them out)`);
  for (const n of unknown) skipped.push(`${display(`${rel}/${n}`)} left out: not a training class`);
  return relabel(images, held.names, kept);
}
