// The on-device tuner: for every matmul kernel signature of a plan (sizes, batch, how its operands
// and epilogue read: kernels/matmul-variants.ts), the variants the code generator offers are
// compiled and timed on this device, each result checked against the float64 reference of the
// kernel, and the fastest correct one is kept. Choices persist per adapter (adapter info and
// driver) in a cache file on Node (~/.cache/fpet-webgpu, respecting XDG_CACHE_HOME), in
// localStorage in browsers, in memory elsewhere, keyed by what was measured: the signature and the
// code of every variant timed. A second run does no search; a change to the generated code of any
// of a signature's variants searches it again.
//
// Modes, always chosen by the caller: 'off' (the heuristic defaults, deterministic: the library's
// default), 'quick' (the command line's default: the biggest signatures first, at most three
// candidates each, within a time budget; what is left over keeps its default, stored as not
// searched, until a full run; where the caller says how often it will run the plan, only what can
// pay back its search within those runs), 'full' (every signature, every candidate).

import { compileGraph, kernelSubgraph, renderKernelVariant, type CompiledPlan, type MatmulChooser, type PlanKernel } from '../../../codegen/compile.ts';
import { describeVariant, type MatmulVariant } from '../../../kernels/matmul-variants.ts';
import { readsLengths } from '../../../kernels/ir.ts';
import type { Graph } from '../ir/graph.ts';
import { evaluate } from '../ir/interpret.ts';
import { numel } from '../ir/shape.ts';
import type { GpuContext } from './device.ts';
import { compileAhead } from './compile-ahead.ts';
import { tempName } from '../util/temp-names.ts';
import type { Program as ProgramType } from './program.ts';

/**
 * How much the on-device tuner searches: `off` (heuristic defaults, deterministic), `quick`
 * (biggest signatures first, within a time budget) or `full` (every signature, every candidate).
 */
export type TuneMode = 'off' | 'quick' | 'full';

/** One matmul variant the tuner timed for a signature, or why it was rejected. */
export interface TuneCandidate {
  readonly label: string;
  readonly variant: MatmulVariant;
  /** Milliseconds per dispatch, undefined when it failed (compile error or wrong result). */
  readonly ms?: number;
  readonly error?: string;
}

/** The tuner's choice for one matmul signature, as stored per adapter. */
export interface TuneEntry {
  readonly label: string;
  readonly variant: MatmulVariant;
  /** Milliseconds per dispatch of the chosen variant (undefined when it was not searched). */
  readonly ms?: number;
  /** Not searched (quick mode: budget spent, too small to matter, or not worth a search in that run): the default is kept until a full run. */
  readonly searched: boolean;
  /** What the results were checked against: the float64 interpreter, or (large kernels) the tiled variant. */
  readonly checkedAgainst: 'float64' | 'tiled';
  readonly candidates: readonly TuneCandidate[];
  readonly mode: TuneMode;
  readonly at: string;
}

/** Progress of a tuning search, reported per signature started and per candidate timed. */
export interface TuneProgress {
  readonly done: number;
  readonly total: number;
  readonly signature: string;
  /** The candidate just timed (absent on the line that starts a signature). */
  readonly candidate?: TuneCandidate;
  readonly elapsedMs: number;
}

/** Where tuning choices persist between runs, as entries keyed by signature. */
export interface TuneStore {
  /** Where the choices live (a file path, "localStorage", "memory"). */
  readonly where: string;
  /** The stored entries; empty when nothing (or nothing readable) is stored. */
  load(): Promise<Record<string, TuneEntry>>;
  /** Replaces the stored entries with `entries`. */
  save(entries: Record<string, TuneEntry>): Promise<void>;
}

export interface TuneOptions {
  readonly mode?: TuneMode;
  /** Wall-clock budget of the search (quick: 30 s, full: unbounded). */
  readonly budgetMs?: number;
  readonly onProgress?: (p: TuneProgress) => void;
  /** Where choices persist (default: per adapter, see defaultTuneStore). */
  readonly store?: TuneStore;
  /**
   * How many times the caller will run the plan (a training run's steps, an evaluation's
   * batches). Quick mode then searches a signature only where a better variant could save more
   * over those runs than the search costs (see SEARCH_GAIN); absent: every signature the budget
   * allows.
   */
  readonly expectedRuns?: number;
}

/** Where a plan's matmul variants came from: the chooser to compile with and the entries behind it. */
export interface TuneResult {
  readonly chooser: MatmulChooser;
  /** Identifies the choices for the plan cache. */
  readonly key: string;
  /** Entries for the signatures of this plan (tuned now or loaded). */
  readonly entries: Readonly<Record<string, TuneEntry>>;
  /** Signatures searched in this call (0: everything came from the cache). */
  readonly searched: number;
  /** Signatures left at their default in this call (quick: budget spent, or too small to matter). */
  readonly skipped: number;
  /** Of those, the ones whose search would have cost more than it could save over the expected runs. */
  readonly unprofitable: number;
  /** Whether the plan tuned was compiled ahead on the device while deciding what to search (quick mode with expectedRuns). */
  readonly compiledAhead: boolean;
  readonly ms: number;
  readonly where: string;
}

/** One line saying where a plan's matmul variants came from. */
export function describeTune(t: TuneResult): string {
  const n = Object.keys(t.entries).length;
  const cached = n - t.searched - t.skipped;
  const parts = [`${n} matmul signature${n === 1 ? '' : 's'}`];
  if (cached > 0) parts.push(`${cached} from the cache`);
  if (t.searched > 0) parts.push(`${t.searched} timed now (${(t.ms / 1000).toFixed(1)} s)`);
  if (t.skipped > t.unprofitable) parts.push(`${t.skipped - t.unprofitable} left at the default until a full search (--tune full)`);
  if (t.unprofitable > 0) parts.push(`${t.unprofitable} kept at the default (searching would cost more than it can save in this run)`);
  return `kernel variants: ${parts.join(', ')} [${t.where}]`;
}

/** The tuning modes, for option parsers. */
export const TUNE_MODES: readonly TuneMode[] = ['off', 'quick', 'full'];

// ---------------------------------------------------------------------------------------------
// Stores

const nodeImport = <T>(specifier: string): Promise<T> => import(specifier) as Promise<T>;
const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' && !('Deno' in globalThis);

/** FNV-1a, 64 bits as 16 hex digits. */
export function hash64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** What identifies an adapter for stored timings: adapter info (the description names the driver), runtime, subgroup size. */
export async function adapterIdentity(ctx: GpuContext): Promise<string> {
  const i = ctx.info;
  return JSON.stringify({
    vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    runtime: i.runtime, fallback: i.isFallbackAdapter, subgroup: i.subgroupSize,
  });
}

/**
 * The key of a signature's tuning result: the signature and a hash of the code of every variant
 * offered for it (what a search would time). Changed kernel templates change the key.
 */
export function measuredKey(plan: CompiledPlan, index: number, render: VariantRenderer = variantRenderer(plan)): string {
  const k = plan.kernels[index]!;
  const codes = k.matmul!.offered.map((v) => `${describeVariant(v)}\n${render(index, v).code}`);
  return `${k.matmul!.signature.key} #${hash64(codes.join('\n'))}`;
}

/** Kernel `index` of a plan rendered with a matmul variant. */
type VariantRenderer = (index: number, v: MatmulVariant) => PlanKernel;

/** Renders kernels of `plan` with variants, each once: the key, compiling ahead and timing all use a candidate's code. */
function variantRenderer(plan: CompiledPlan): VariantRenderer {
  const rendered = new Map<string, PlanKernel>();
  return (index, v) => {
    const key = `${index} ${JSON.stringify(v)}`;
    let k = rendered.get(key);
    if (!k) rendered.set(key, (k = renderKernelVariant(plan, index, v)));
    return k;
  };
}

const memoryStores = new Map<string, Record<string, TuneEntry>>();

/** A store held in memory for this process, shared by every store with the same `id`. */
export function memoryTuneStore(id = 'default'): TuneStore {
  return {
    where: 'memory',
    load: async () => ({ ...(memoryStores.get(id) ?? {}) }),
    save: async (e) => void memoryStores.set(id, { ...e }),
  };
}

/** The store for this adapter: a JSON file on Node, localStorage in browsers, memory elsewhere. */
export async function defaultTuneStore(ctx: GpuContext): Promise<TuneStore> {
  const identity = await adapterIdentity(ctx);
  const id = hash64(identity);
  if (isNode()) {
    const os = await nodeImport<typeof import('node:os')>('node:os');
    const path = await nodeImport<typeof import('node:path')>('node:path');
    const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
    const env = process.env;
    const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
    const file = path.join(base, 'fpet-webgpu', `tune-${id}.json`);
    return {
      where: file,
      async load() {
        try {
          const data = JSON.parse(await fs.readFile(file, 'utf8')) as { identity?: string; entries?: Record<string, TuneEntry> };
          return data.identity === identity && data.entries ? data.entries : {};
        } catch {
          return {};
        }
      },
      async save(entries) {
        await fs.mkdir(path.dirname(file), { recursive: true });
        // Named as every atomic writer of the project names its temporaries (src/core/util/temp-names.ts).
        const tmp = path.join(path.dirname(file), tempName(path.basename(file), process.pid, Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')));
        await fs.writeFile(tmp, JSON.stringify({ identity, entries }, null, 1));
        await fs.rename(tmp, file);
      },
    };
  }
  const ls = (globalThis as { localStorage?: Storage }).localStorage;
  if (ls) {
    const key = `fpet-webgpu-tune-${id}`;
    return {
      where: 'localStorage',
      load: async () => {
        try {
          return (JSON.parse(ls.getItem(key) ?? '{}') as Record<string, TuneEntry>) ?? {};
        } catch {
          return {};
        }
      },
      save: async (e) => ls.setItem(key, JSON.stringify(e)),
    };
  }
  return memoryTuneStore(id);
}

// ---------------------------------------------------------------------------------------------
// The search

/** The variant of `offered` equal to `v` (same name and configuration), if any; specialised if `v` is. */
function findOffered(offered: readonly MatmulVariant[], v: MatmulVariant): MatmulVariant | undefined {
  const label = describeVariant({ ...v, specialized: false });
  const found = offered.find((o) => describeVariant(o) === label);
  return found && v.specialized ? { ...found, specialized: true } : found;
}

/**
 * Below this relative gain a kernel keeps reading its row counts at run time (one module for
 * every token count) rather than being specialised (a module per count; must-have of issue 27).
 */
export const SPECIALIZE_GAIN = 0.03;

/**
 * Whether a specialised rendering earns its module, from paired rounds timed alternately (generic,
 * specialised, generic, ...): its median at least SPECIALIZE_GAIN below the generic median, and
 * faster in all rounds but one. Single timings of a small kernel vary by 2× on a software
 * adapter: one comparison would specialise at random, a module per token count each time.
 */
export function keepSpecialized(genericMs: readonly number[], specializedMs: readonly number[]): boolean {
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const wins = specializedMs.filter((t, i) => t < genericMs[i]!).length;
  return specializedMs.length >= 3 && wins >= specializedMs.length - 1 && median(specializedMs) <= median(genericMs) * (1 - SPECIALIZE_GAIN);
}

/** Dispatches per timing of a bound kernel: about 4 ms of work, 1 to 64. */
async function repsFor(bound: Awaited<ReturnType<ProgramType['bindKernel']>>): Promise<number> {
  return Math.max(1, Math.min(64, Math.ceil(4 / Math.max(await bound.time(1), 1e-3))));
}

/** Rounds of paired timings for keepSpecialized. */
const PAIRED_ROUNDS = 5;

/** Kernel `index` with variant `v`, generic and specialised, timed alternately (ms per dispatch). */
async function pairedTimes(prog: ProgramType, render: VariantRenderer, index: number, v: MatmulVariant): Promise<{ generic: number[]; specialized: number[] }> {
  const g = await prog.bindKernel(render(index, { ...v, specialized: false }));
  const s = await prog.bindKernel(render(index, { ...v, specialized: true }));
  await g.run(1);
  await s.run(1);
  const reps = await repsFor(g);
  const out = { generic: [] as number[], specialized: [] as number[] };
  for (let r = 0; r < PAIRED_ROUNDS; r++) {
    out.generic.push(await g.time(reps));
    out.specialized.push(await s.time(reps));
  }
  return out;
}

/** A chooser answering from stored entries (undefined: the default). */
export function chooserFrom(entries: Readonly<Record<string, TuneEntry>>): MatmulChooser {
  return (sig, offered) => {
    const e = entries[sig.key];
    return e ? findOffered(offered, e.variant) : undefined;
  };
}

/**
 * The family of a signature: the signature without M and K (the row counts: M, and a weight
 * gradient's K). Kernels that differ only in row counts read them at run time, so with one
 * variant they share a module (blocks before and after FPET's merge); masking a forward
 * matmul's K as well only groups more widely (alignment keeps each member within 3% of its best).
 */
export const signatureFamily = (signature: string): string => signature.replace(/^(\d+)x\d+x(\d+)x\d+/, '$1x?x$2x?');

/**
 * Entries with one variant per family wherever that costs each member less than SPECIALIZE_GAIN
 * over its own best (as measured; a member left at its default accepts only the default): fewer
 * distinct modules to compile, for timings that differ by less than their noise. Greedy: the
 * variant most members accept first.
 */
export function alignFamilies(entries: Readonly<Record<string, TuneEntry>>): Record<string, TuneEntry> {
  const out: Record<string, TuneEntry> = { ...entries };
  const families = new Map<string, string[]>();
  for (const sig of Object.keys(entries).sort()) families.set(signatureFamily(sig), [...(families.get(signatureFamily(sig)) ?? []), sig]);
  for (const members of families.values()) {
    // For each member, the variants (by label) within the gain of its best.
    const accepts = new Map(members.map((sig) => {
      const e = entries[sig]!;
      const ok = e.searched && e.ms !== undefined ? e.candidates.filter((c) => c.ms !== undefined && c.ms <= e.ms! * (1 + SPECIALIZE_GAIN)) : [];
      return [sig, new Map<string, TuneCandidate | undefined>([[e.label, undefined], ...ok.map((c) => [c.label, c] as const)])];
    }));
    let left = [...members];
    while (left.length > 1) {
      const labels = [...new Set(left.flatMap((sig) => [...accepts.get(sig)!.keys()]))].sort();
      const votes = (label: string) => left.filter((sig) => accepts.get(sig)!.has(label)).length;
      const best = labels.reduce((a, b) => (votes(b) > votes(a) ? b : a));
      if (votes(best) < 2) break;
      for (const sig of left.filter((x) => accepts.get(x)!.has(best))) {
        const c = accepts.get(sig)!.get(best);
        if (c) out[sig] = { ...entries[sig]!, label: c.label, variant: c.variant, ms: c.ms };
      }
      left = left.filter((sig) => !accepts.get(sig)!.has(best));
    }
  }
  return out;
}

/** Values for a kernel's read tensors: positive f32 (log, sqrt and division stay finite), zero indices. */
function fillValues(n: number, dtype: string, seed: number): Float32Array | Int32Array {
  if (dtype !== 'f32') return new Int32Array(n);
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = 0.5 + (s >>> 0) / 4294967296;
  }
  return out;
}

/** max |a − b| ≤ tol · max(1, max |b|), NaN only where the reference has one. */
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean {
  if (a.length !== b.length) return false;
  let scale = 1;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i]!)) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(y)) continue;
    if (!(Math.abs(x - y) <= tol * scale)) return false;
  }
  return true;
}

/** Kernels up to this many FLOPs are checked against the float64 interpreter; larger ones against the tiled variant. */
const FLOAT64_CHECK_FLOPS = 3e8;
/** Candidates a quick search times per signature: the default and the next two offered. */
const QUICK_CANDIDATES = 3;

/**
 * Tunes the matmul kernels of `plan` (compiled with default choices) on the device: signatures
 * missing from the store are searched, biggest first. Returns a chooser for compileGraph.
 */
export async function tunePlan(ctx: GpuContext, plan: CompiledPlan, opts: TuneOptions, Program: typeof ProgramType): Promise<TuneResult> {
  const t0 = performance.now();
  const mode = opts.mode ?? 'quick';
  if (opts.expectedRuns !== undefined && !(Number.isFinite(opts.expectedRuns) && opts.expectedRuns >= 0)) {
    throw new RangeError(`tune: expectedRuns must be a finite number >= 0 (how many times the plan will run), got ${opts.expectedRuns}`);
  }
  const store = opts.store ?? (await defaultTuneStore(ctx));
  const entries = mode === 'off' ? {} : await store.load();
  // Signatures of this plan, with their total FLOPs, one kernel to time, and the key of what timing it measures.
  const render = variantRenderer(plan);
  const bySig = new Map<string, { index: number; flops: number; kernel: PlanKernel; key: string }>();
  plan.kernels.forEach((k, index) => {
    if (!k.matmul) return;
    const s = bySig.get(k.matmul.signature.key);
    if (s) s.flops += k.flops;
    else bySig.set(k.matmul.signature.key, { index, flops: k.flops, kernel: k, key: mode === 'off' ? '' : measuredKey(plan, index, render) });
  });
  // Quick: what no earlier run decided; full: also what quick runs left unsearched.
  const wanted = (key: string) => !entries[key] || (mode === 'full' && (!entries[key]!.searched || entries[key]!.mode !== 'full'));
  const todo = mode === 'off' ? [] : [...bySig.values()].filter((s) => wanted(s.key) && s.kernel.matmul!.offered.length > 1).sort((a, b) => b.flops - a.flops);
  const budget = opts.budgetMs ?? (mode === 'full' ? Infinity : 30_000);
  const totalFlops = [...bySig.values()].reduce((a, s) => a + s.flops, 0);
  let searched = 0, skipped = 0, unprofitable = 0, compiledAhead = false;
  const keepDefault = (key: string, k: PlanKernel): TuneEntry =>
    ({ label: describeVariant(k.matmul!.variant), variant: k.matmul!.variant, searched: false, checkedAgainst: 'float64', candidates: [], mode, at: new Date().toISOString() });
  if (todo.length) {
    const prog = await Program.create(ctx, plan);
    try {
      compiledAhead = mode === 'quick' && opts.expectedRuns !== undefined;
      const payback = compiledAhead ? await searchPayback(prog, plan, opts.expectedRuns!) : undefined;
      if (payback) todo.sort((a, b) => payback.savingMs(b.kernel) - payback.savingMs(a.kernel));
      for (const [i, s] of todo.entries()) {
        const key = s.key;
        // Quick mode decides every signature in one run: past the budget, or below 1% of the
        // plan's matmul work, a signature keeps its default (a full run searches it later).
        if (mode === 'quick' && (performance.now() - t0 > budget || s.flops < 0.01 * totalFlops)) {
          entries[key] = keepDefault(key, s.kernel);
          skipped++;
          continue;
        }
        if (payback && payback.savingMs(s.kernel) < payback.searchMs()) {
          entries[key] = keepDefault(key, s.kernel);
          skipped++;
          unprofitable++;
          continue;
        }
        const signature = s.kernel.matmul!.signature.key;
        opts.onProgress?.({ done: i, total: todo.length, signature, elapsedMs: performance.now() - t0 });
        const started = performance.now();
        const entry = await tuneSignature(ctx, prog, plan, render, s.index, mode, (candidate) =>
          opts.onProgress?.({ done: i, total: todo.length, signature, candidate, elapsedMs: performance.now() - t0 }));
        payback?.searched(performance.now() - started);
        if (entry) {
          entries[key] = entry;
          searched++;
          await store.save(entries);
        }
      }
    } finally {
      prog.destroy();
    }
    await store.save(entries);
  }
  // This plan's entries, by signature (what the chooser is asked with).
  const found: Record<string, TuneEntry> = {};
  for (const [sig, s] of bySig) if (entries[s.key]) found[sig] = entries[s.key]!;
  const mine = alignFamilies(found);
  const chooser = chooserFrom(mine);
  const keyText = Object.entries(mine).map(([k, e]) => `${k}=${e.label}`).sort().join(';');
  return { chooser, key: `tuned:${hash64(keyText)}`, entries: mine, searched, skipped, unprofitable, compiledAhead, ms: performance.now() - t0, where: store.where };
}

/**
 * What a quick search may save, as a fraction of the default's time. Measured on lavapipe over the
 * main job's 23 signatures (2026-12-07): the default was fastest in 18, the mean saving 5%, the
 * largest 51% (a 0.4 ms kernel); 0.1 leans towards searching.
 */
export const SEARCH_GAIN = 0.1;

/** Quick searches with an expected run count: what each signature could save, and what a search costs. */
interface Payback {
  /** Time a better variant of `k`'s signature could save over the expected runs (ms): SEARCH_GAIN of its kernels' time. */
  savingMs(k: PlanKernel): number;
  /** What searching one signature costs (ms): measured once one was, estimated from compiling the plan before that. */
  searchMs(): number;
  /** Records the wall time of one signature's search. */
  searched(ms: number): void;
}

/**
 * Compiles the plan's own kernels (what the run needs anyway where defaults stay, so the plan
 * compiled afterwards finds them ready) and profiles one step: each kernel's time is its share,
 * by FLOPs, of its dispatch's. A search compiles its candidates: until one has been timed, it is
 * taken to cost QUICK_CANDIDATES times what a kernel of this plan took to compile. Undefined
 * without timestamp queries (the search then goes by the budget alone).
 */
async function searchPayback(prog: ProgramType, plan: CompiledPlan, expectedRuns: number): Promise<Payback | undefined> {
  const compileMs = (await prog.warmup()) / Math.max(1, plan.uniqueModules);
  const times = await prog.profile(1);
  if (!times) return undefined;
  const kernelMs = new Array<number>(plan.kernels.length).fill(0);
  plan.steps.forEach((step, i) => {
    const flops = step.parts.reduce((a, p) => a + plan.kernels[p]!.flops, 0);
    const share = (p: number) => (flops > 0 ? plan.kernels[p]!.flops / flops : 1 / step.parts.length);
    for (const p of step.parts) kernelMs[p] = times[i]!.ms * share(p);
  });
  const perSignature = new Map<string, number>();
  plan.kernels.forEach((k, i) => {
    if (k.matmul) perSignature.set(k.matmul.signature.key, (perSignature.get(k.matmul.signature.key) ?? 0) + kernelMs[i]!);
  });
  const measured: number[] = [];
  return {
    savingMs: (k) => SEARCH_GAIN * expectedRuns * (perSignature.get(k.matmul!.signature.key) ?? 0),
    searchMs: () => (measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : QUICK_CANDIDATES * compileMs),
    searched: (ms) => void measured.push(ms),
  };
}

/** Kernel `index` rendered with variant `v`, timed on the device (ms per dispatch, the best of 3) and checked against `reference`. */
async function timeCandidate(ctx: GpuContext, prog: ProgramType, plan: CompiledPlan, render: VariantRenderer, index: number, v: MatmulVariant, reference: ArrayLike<number> | undefined): Promise<TuneCandidate> {
  const label = describeVariant(v);
  try {
    const bound = await prog.bindKernel(render(index, v));
    await bound.run(1); // drivers that compile at the first dispatch do it here
    const reps = await repsFor(bound);
    let ms = Infinity;
    for (let r = 0; r < 3; r++) ms = Math.min(ms, await bound.time(reps));
    const out = await prog.readTensor(plan.kernels[index]!.root);
    const errors = ctx.takeErrors();
    if (errors.length) return { label, variant: v, error: errors.map((e) => e.message).join('; ') };
    if (reference && !close(out, reference, 2e-3)) return { label, variant: v, error: 'result differs from the reference' };
    return { label, variant: v, ms };
  } catch (e) {
    return { label, variant: v, error: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}

/** Compiles the candidates at once, on the compile helpers too, before any is timed; one that fails is left to timeCandidate to report. */
async function compileCandidatesAhead(ctx: GpuContext, plan: CompiledPlan, render: VariantRenderer, index: number, candidates: readonly MatmulVariant[]): Promise<void> {
  const kernels = candidates.flatMap((v) => {
    try {
      return [render(index, v)];
    } catch {
      return [];
    }
  });
  await compileAhead(ctx, kernels, (tensor) => plan.tensors.get(tensor)!.bytes).catch(() => undefined);
}

async function tuneSignature(ctx: GpuContext, prog: ProgramType, plan: CompiledPlan, render: VariantRenderer, index: number, mode: TuneMode, report: (c: TuneCandidate) => void): Promise<TuneEntry | undefined> {
  const k = plan.kernels[index]!;
  const info = k.matmul!;
  const defaultLabel = describeVariant(info.variant);
  const rest = info.offered.filter((v) => describeVariant(v) !== defaultLabel);
  // Quick: the default and the next two offered (the best guesses of each family come first).
  const candidates = [info.variant, ...(mode === 'full' ? rest : rest.slice(0, QUICK_CANDIDATES - 1))];
  if (ctx.compileHelpers) await compileCandidatesAhead(ctx, plan, render, index, candidates);
  // Inputs: every tensor the kernel reads.
  const { graph: sub, reads } = kernelSubgraph(plan, index);
  const feeds: Record<string, ArrayLike<number>> = {};
  for (const id of reads) {
    const t = plan.tensors.get(id)!;
    const data = fillValues(numel(t.shape), t.dtype, id * 2654435761);
    prog.writeTensor(id, data);
    feeds[`t${id}`] = data;
  }
  let reference: ArrayLike<number> | undefined;
  let checkedAgainst: TuneEntry['checkedAgainst'] = 'float64';
  if (k.flops <= FLOAT64_CHECK_FLOPS) reference = evaluate(sub as Graph, feeds).outputs.out!.data;
  else {
    checkedAgainst = 'tiled';
    const tiled = info.offered.find((v) => v.name === 'tiled');
    if (tiled) {
      const bound = await prog.bindKernel(render(index, tiled));
      await bound.run(1);
      reference = Float32Array.from(await prog.readTensor(k.root));
    }
  }
  const results: TuneCandidate[] = [];
  const measure = async (v: MatmulVariant) => {
    const c = await timeCandidate(ctx, prog, plan, render, index, v, reference);
    results.push(c);
    report(c);
    return c;
  };
  for (const v of candidates) await measure(v);
  const ok = results.filter((c) => c.ms !== undefined).sort((a, b) => a.ms! - b.ms!);
  if (!ok.length) return undefined;
  let best = ok[0]!;
  // Full mode, where the plan reads this kernel's row counts at run time: the best variant with
  // every size a constant, checked, then kept only for a gain measured in paired rounds (it costs
  // a module per token count).
  if (mode === 'full' && readsLengths(k.ir) && !best.variant.specialized) {
    const c = await measure({ ...best.variant, specialized: true });
    if (c.ms !== undefined) {
      const paired = await pairedTimes(prog, render, index, best.variant);
      if (keepSpecialized(paired.generic, paired.specialized)) best = { ...c, ms: Math.min(...paired.specialized) };
    }
  }
  return { label: best.label, variant: best.variant, ms: best.ms!, searched: true, checkedAgainst, candidates: results, mode, at: new Date().toISOString() };
}

/**
 * Compiles with tuned matmul variants (searching what the store lacks). `compiledAhead`: the
 * returned plan's kernels were already compiled on the device (the defaults stayed, and the
 * pay-back rule compiled them).
 */
export async function compileTuned(graph: Graph, ctx: GpuContext, compileOpts: Parameters<typeof compileGraph>[1], opts: TuneOptions, Program: typeof ProgramType): Promise<{ plan: CompiledPlan; tune: TuneResult; compiledAhead: boolean }> {
  const base = compileGraph(graph, compileOpts);
  const tune = await tunePlan(ctx, base, opts, Program);
  const plan = choosesDefaults(base, tune.chooser) ? base : compileGraph(graph, { ...compileOpts, matmulVariant: tune.chooser, variantKey: tune.key });
  return { plan, tune, compiledAhead: plan === base && tune.compiledAhead };
}

/** Whether `chooser` picks, for every matmul of `plan`, the variant the plan was compiled with (the plan then stands as it is). */
function choosesDefaults(plan: CompiledPlan, chooser: MatmulChooser): boolean {
  return plan.kernels.every((k) => {
    if (!k.matmul) return true;
    const chosen = chooser(k.matmul.signature, k.matmul.offered);
    return chosen === undefined || JSON.stringify(chosen) === JSON.stringify(k.matmul.variant);
  });
}
