// Matmul variants as data: each variant is a named template with a configuration, offered for a
// problem only when its requirements hold on the device (subgroup size, workgroup limits), and
// rendered by its template. The code generator picks one per kernel: by default a heuristic per
// adapter class, or whatever a chooser (the on-device tuner) returns for the kernel's signature.

import { matmulProblem, type MatmulProblem } from './matmul.ts';
import { GRANULE, GRANULE_SUM_BYTES, TILE_STATISTICS_BYTES, tiledConfig, tiledMatmul, type TiledConfig } from './matmul-tiled.ts';
import { defaultVec4Config, describeVec4, vec4Matmul, vec4Supported, type Vec4Config } from './matmul-vec4.ts';
import { canStoreVec4 } from './matmul.ts';
import type { TemplateInput, TemplateLimits, TemplateOutput } from './template.ts';

/**
 * A matmul template with its configuration: `tiled` (workgroup-memory tiles), `vec4` (vec4 register
 * blocks, no barriers) or `subgroup` (`vec4` sharing loads across a subgroup).
 */
export type MatmulVariant = (
  | { readonly name: 'tiled'; readonly config: TiledConfig }
  | { readonly name: 'subgroup'; readonly config: Vec4Config }
  | { readonly name: 'vec4'; readonly config: Vec4Config }
) & {
  /**
   * Every size a constant of this kernel's code, row counts included, where the plan reads them
   * at run time (`compileGraph({ specialize: 'rows' })`): the tuner keeps it where it measures a
   * gain (src/core/runtime/tune.ts), at the price of a module per row count.
   */
  readonly specialized?: boolean;
};

export type MatmulVariantName = MatmulVariant['name'];
export const MATMUL_VARIANT_NAMES: readonly MatmulVariantName[] = ['tiled', 'subgroup', 'vec4'];

/**
 * What a matmul kernel computes, as far as speed is concerned: sizes, and how its operands and
 * epilogue read (buffer reads per vec4 of each operand along its two axes; vector or scalar
 * stores). Kernels with equal keys share a tuning result.
 */
export interface MatmulSignature {
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Reads per vec4 of A along m and along k; of B along k and along n. */
  readonly a: readonly [number, number];
  readonly b: readonly [number, number];
  readonly storeVec4: boolean;
  readonly key: string;
}

/** The signature of the matmul kernel `t` renders. */
export function matmulSignature(t: TemplateInput): MatmulSignature {
  const p = matmulProblem(t);
  const w = t.w;
  const ra = p.a.type.shape.length, rb = p.b.type.shape.length;
  const loads = (id: number, ax: number, ext: number) => (ext % 4 === 0 ? w.vec4Loads(id, ax) : 4 * w.vec4Loads(id, ax));
  const a = [loads(p.a.id, ra - 2, p.M), loads(p.a.id, ra - 1, p.K)] as const;
  const b = [loads(p.b.id, rb - 2, p.K), loads(p.b.id, rb - 1, p.N)] as const;
  const storeVec4 = canStoreVec4(w, t, p);
  const second = t.plan.secondProduct(t.root.id);
  const extra = second === undefined ? '' : ` +k${t.graph.node(t.graph.node(second).inputs[0]!).type.shape.at(-1)}`;
  return {
    batch: p.batchCount, M: p.M, N: p.N, K: p.K, a, b, storeVec4,
    key: `${p.batchCount}x${p.M}x${p.N}x${p.K} a${a.join('/')} b${b.join('/')} ${storeVec4 ? 'v' : 's'}${extra}`,
  };
}

export const describeVariant = (v: MatmulVariant): string =>
  `${v.name === 'tiled' ? `tiled ${v.config.wy * v.config.tm}x${v.config.wx * v.config.tn}x${v.config.bk}` : describeVec4(v.config)}${v.specialized ? ' specialised' : ''}`;

/**
 * The variants (with their configurations) that may run this problem on this device, best guess
 * first. A normalised row operand (`rowStatistics`: LayerNorm as a prologue) and a second
 * product in the epilogue (`secondProduct`) run in any design but a swapped one.
 */
export function offeredVariants(p: MatmulProblem, limits: TemplateLimits, needs: { readonly rowStatistics?: boolean; readonly secondProduct?: boolean; readonly granules?: boolean } = {}): MatmulVariant[] {
  // The tiled design keeps room in workgroup memory for the row statistics and granule sums.
  const reserved = (needs.rowStatistics ? TILE_STATISTICS_BYTES : 0) + (needs.granules ? GRANULE_SUM_BYTES : 0);
  const all = allVariants(p, { ...limits, maxWorkgroupStorageBytes: limits.maxWorkgroupStorageBytes - reserved });
  // Granule sums (codegen/fusion/epilogue-granules.ts): only the tiled design computes them, in tiles one granule wide.
  if (needs.granules) return all.filter((v) => v.name === 'tiled' && v.config.wx * v.config.tn === GRANULE);
  // Tiles of 128 rows only for plain products (the prologue's statistics and a second k loop are sized for 64).
  const plain = needs.rowStatistics || needs.secondProduct ? all.filter((v) => (v.name === 'tiled' && !isLargeTile(v)) || (v.name !== 'tiled' && !v.config.swap)) : all;
  // The biggest tile second, so that a quick search (the default and the next two) times it
  // beside the best guess of the subgroup design (the tuner's pick on an H200, docs/bench-h200).
  const big = plain.find(isLargeTile);
  return big ? [plain[0]!, big, ...plain.slice(1).filter((v) => v !== big)] : plain;
}

function allVariants(p: MatmulProblem, limits: TemplateLimits): MatmulVariant[] {
  const out: MatmulVariant[] = [];
  if (limits.subgroupSize > 0) {
    const S = limits.subgroupSize;
    const first = defaultVec4Config(p, limits, true);
    out.push({ name: 'subgroup', config: first });
    for (const swap of [false, true]) {
      for (const rows of [16, 8]) {
        const c: Vec4Config = { rows, lanes: S, groups: 1, subgroup: true, swap };
        if (vec4Supported(c, limits, p.batchCount) && !sameVec4(c, first)) out.push({ name: 'subgroup', config: c });
      }
    }
  }
  const v4 = defaultVec4Config(p, limits, false);
  out.push({ name: 'vec4', config: v4 });
  const alt: Vec4Config = { ...v4, swap: !v4.swap };
  if (vec4Supported(alt, limits, p.batchCount)) out.push({ name: 'vec4', config: alt });
  if (p.batchCount <= limits.maxWorkgroupsPerDimension) {
    out.push({ name: 'tiled', config: tiledConfig(p.M, p.N, p.K, limits.maxInvocationsPerWorkgroup, limits.maxWorkgroupStorageBytes) });
    for (const config of largeTiles(p, limits)) out.push({ name: 'tiled', config });
  }
  return out;
}

/** Whether `v` is one of the tiled design's 128-row tiles (largeTiles). */
const isLargeTile = (v: MatmulVariant): boolean => v.name === 'tiled' && v.config.tm === 8;

/**
 * Tiles of 128 rows for big products on GPUs: 8 × 8 or 8 × 4 accumulators per thread, twice the
 * FMAs per value staged of the default 64 × 64 tile (the design the fastest WebGPU and CUDA fp32
 * kernels use). Offered where they fill and fit, for the tuner to time: it keeps one only where
 * it measures faster.
 */
function largeTiles(p: MatmulProblem, limits: TemplateLimits): TiledConfig[] {
  if (limits.adapterClass !== 'gpu' || limits.maxInvocationsPerWorkgroup < 256) return [];
  const out: TiledConfig[] = [];
  for (const tn of [8, 4]) {
    const c: TiledConfig = { tm: 8, tn, bk: 8, wx: 16, wy: 16 };
    const BM = c.wy * c.tm, BN = c.wx * c.tn;
    if (p.M >= BM && p.N >= BN && p.K >= c.bk && (BM + BN) * c.bk * 4 <= limits.maxWorkgroupStorageBytes) out.push(c);
  }
  return out;
}

const sameVec4 = (a: Vec4Config, b: Vec4Config) => a.rows === b.rows && a.lanes === b.lanes && a.groups === b.groups && a.subgroup === b.subgroup && a.swap === b.swap;

/** Adapter classes the default heuristic distinguishes. */
export type AdapterClass = 'cpu' | 'gpu';

/**
 * The variant used without tuning: on CPU adapters the subgroup design when the subgroup size is
 * known, else vec4; on GPUs the tiled workgroup-memory design (the classic one for hardware).
 */
export function defaultVariant(offered: readonly MatmulVariant[], adapter: AdapterClass): MatmulVariant {
  // Tiles of 128 rows are the tuner's to choose, never a default.
  const pick = (name: MatmulVariantName) => offered.find((v) => v.name === name && !isLargeTile(v));
  const order: MatmulVariantName[] = adapter === 'gpu' ? ['tiled', 'subgroup', 'vec4'] : ['subgroup', 'vec4', 'tiled'];
  for (const n of order) {
    const v = pick(n);
    if (v) return v;
  }
  throw new Error('no matmul variant fits this device');
}

export function renderMatmul(t: TemplateInput, v: MatmulVariant): TemplateOutput {
  return v.name === 'tiled' ? tiledMatmul(t, v.config) : vec4Matmul(t, v.config);
}
