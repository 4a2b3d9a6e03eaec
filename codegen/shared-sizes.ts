// Kernels that differ only in a size share one module. Blocks after a token merge compute what the
// blocks before it compute at fewer tokens; their kernels' trees are the same but for the
// integer constants the token count enters (strides, divisors, bounds, clamps), and integral f32
// constants of the graph that follow it (a merge's sort key T − i). Where several
// kernels of a plan have equal trees up to those constants, and each differing constant is an
// affine function c = (a·P + b) / d of the length P of a binding they all have (read at run time with
// arrayLength; one binding for most, another where a constant needs it), every one of them is
// rewritten to compute its constants from those lengths: their printed
// code is then equal, and the device compiles one module for all of them. Rounded functions
// c = m·⌊(a·P + b) / d⌋ count too: a merge's set sizes, ⌊(T − 1)/2⌋, follow the token count so,
// and strides of such a size times a width.
//
// Correct by construction: the function is fitted to every member's own constants exactly, and
// each member reads its own binding's length, so each computes exactly the constants it had (an
// f32 one as the same integer; a driver may still round a sum in another order than with a literal).
// Members whose constants do not fit one function keep their own code.

import { add, cast, div, f32, i32, length, mul, sub, u32 } from '../kernels/alu.ts';
import { childrenOf, F32, I32, mapExprs, U32, withBody, type Buf, type Expr, type KernelIR, type Stmt } from '../kernels/ir.ts';
import type { Graph } from '../src/core/ir/graph.ts';
import { numel } from '../src/core/ir/shape.ts';
import { printKernel } from './print.ts';

/**
 * A kernel as far as sharing is concerned: its tree, the length of each of its storage bindings
 * (in elements of the binding's type), and whether each holds parameters or values computed from
 * them alone (weights: kernels whose weights differ in size never share; a feature width read at
 * run time would cost the hot loops their constants, where a token count costs index arithmetic).
 */
interface SizedKernel {
  readonly ir: KernelIR;
  readonly lengths: readonly number[];
  readonly weights: readonly boolean[];
  /** Its printed code, where there is one: kernels no other one matches up to digits are passed over unprinted. */
  readonly code?: string;
}

/** Kernel tree `ir` (printed as `code`) of a plan over `graph`, with its bindings' lengths and which hold weights. */
function sizedKernel(graph: Graph, ir: KernelIR, code?: string): SizedKernel {
  return { ir, code, lengths: ir.storage.map((b) => numel(graph.node(b.tensor!).type.shape) / b.elem.w), weights: ir.storage.map((b) => graph.fromParameters(b.tensor!)) };
}

/**
 * The kernels of a plan over `graph` (trees with their printed code; undefined: not to share, as
 * the tuner's specialised variants) that now share a module, rewritten and printed, by index.
 * What compile does for single kernels and codegen/steps.ts for batched dispatches.
 */
export function sharedModules(graph: Graph, kernels: readonly ({ readonly ir: KernelIR; readonly code: string } | undefined)[]): Map<number, { ir: KernelIR } & ReturnType<typeof printKernel>> {
  const candidates = kernels.flatMap((k, i) => (k ? [i] : []));
  const out = new Map<number, { ir: KernelIR } & ReturnType<typeof printKernel>>();
  for (const [j, ir] of shareSizes(candidates.map((i) => sizedKernel(graph, kernels[i]!.ir, kernels[i]!.code)))) out.set(candidates[j]!, { ir, ...printKernel(ir) });
  return out;
}

/** Code with every number masked: kernels whose trees differ only in constants print equal so. */
export const digitsMasked = (code: string): string => code.replace(/\d+/g, '#');

/**
 * The sizes of the weights a kernel binds, in binding order ('·' for the others): kernels whose
 * weights differ in size never share a module.
 */
export const weightSizes = (graph: Graph, ir: KernelIR): string => weightKey(sizedKernel(graph, ir));

const weightKey = (k: SizedKernel): string => k.lengths.map((n, i) => (k.weights[i] ? n : '·')).join(',');

/**
 * Kernels that may share with another: those whose code, digits aside, another kernel of a
 * different code has (equal trees up to integer constants print equal up to digits). Printing
 * each kernel once more with its constants masked is most of what sharing costs.
 */
function mayShare(kernels: readonly SizedKernel[]): boolean[] {
  const codes = new Map<string, Set<string | undefined>>();
  const keyOf = (k: SizedKernel) => (k.code === undefined ? undefined : digitsMasked(k.code));
  for (const k of kernels) {
    const key = keyOf(k);
    if (key !== undefined) codes.set(key, (codes.get(key) ?? new Set()).add(k.code));
  }
  return kernels.map((k) => {
    const key = keyOf(k);
    return key === undefined || codes.get(key)!.size > 1;
  });
}

/**
 * Whether literal `e` may be a size: an integer (u32 or i32), or an f32 of an integral value (a
 * graph constant a token count enters, as a merge's sort key n − i).
 */
const isSizeLiteral = (e: Expr & { k: 'lit' }): boolean =>
  e.ty === U32 || e.ty === I32 || (e.ty === F32 && Number.isInteger(e.v) && Math.abs(e.v) < 2 ** 24);

/** Every literal of `e` that may be a size replaced by `f` of it, operands first (the order literalsAndShape numbers them in). */
function mapLiterals(e: Expr, f: (lit: Expr) => Expr): Expr {
  switch (e.k) {
    case 'lit': return isSizeLiteral(e) ? f(e) : e;
    // A subgroup broadcast's lane and a vector's component must stay constants of the code.
    case 'alu': return { ...e, args: e.args.map((a, i) => (i > 0 && (e.op === 'sgBroadcast' || e.op === 'lane') ? a : mapLiterals(a, f))) };
    case 'call': return { ...e, args: e.args.map((a) => mapLiterals(a, f)) };
    case 'load': return { ...e, at: mapLiterals(e.at, f) };
    default: return e;
  }
}

/** The kernel with every integer literal replaced by `f` of it, in program order. */
function withLiterals(ir: KernelIR, f: (lit: Expr) => Expr): KernelIR {
  const stmts = (body: readonly Stmt[]): Stmt[] => body.map((s) => withBody(mapExprs(s, (e) => mapLiterals(e, f)), stmts(childrenOf(s))));
  const body = stmts(ir.body);
  return { ...ir, body, ...(ir.workgroups ? { workgroups: mapLiterals(ir.workgroups, f) } : {}) };
}

/** The kernel's integer literals in program order, and its code with them masked (equal for kernels that differ only in them). */
function literalsAndShape(ir: KernelIR): { values: number[]; shape: string } {
  const values: number[] = [];
  const masked = withLiterals(ir, (lit) => {
    values.push((lit as { v: number }).v);
    return lit.ty === I32 ? i32(0) : lit.ty === F32 ? f32(0) : u32(0);
  });
  return { values, shape: printKernel(masked).code };
}

/** c = m·⌊(a·P + b) / d⌋ with integers a, b, d > 0 and m > 0 (a·P + b ≥ 0 wherever it is used). */
interface Affine {
  readonly a: number;
  readonly b: number;
  readonly d: number;
  readonly m: number;
}

/** Whether `f` gives every (P, c) pair's c, computing in u32 range (non-negative numerators). */
const fitsAll = (f: Affine, points: readonly (readonly [number, number])[]): boolean =>
  Math.abs(f.b) < 2 ** 31 && f.d < 2 ** 31 &&
  points.every(([p, c]) => Math.abs(f.a * p) < 2 ** 31 && f.a * p + f.b >= 0 && f.m * Math.floor((f.a * p + f.b) / f.d) === c);

/** The function through (P, c) pairs, exact at every one, else rounded down; undefined where none is found. */
function fitAffine(points: readonly (readonly [number, number])[]): Affine | undefined {
  if (points.some(([, c]) => c < 0)) return undefined;
  const [p0, c0] = points[0]!;
  const other = points.find(([p]) => p !== p0);
  if (!other) return undefined;
  const [p1, c1] = other;
  const g = gcd(Math.abs(c1 - c0), Math.abs(p1 - p0));
  let a = (c1 - c0) / g, d = (p1 - p0) / g;
  if (d < 0) [a, d] = [-a, -d];
  const exact = { a, b: c0 * d - a * p0, d, m: 1 };
  if (fitsAll(exact, points)) return exact;
  // A stride is a count times a width: round the count, then scale.
  const m = points.reduce((g, [, c]) => gcd(g, c), 0);
  return fitRounded(points, 1) ?? (m > 1 ? fitRounded(points, m) : undefined);
}

/** Rounded-down fits tried: divisors of the token step up to this. */
const MAX_ROUNDED_DIVISOR = 8;

/**
 * c/m = ⌊(α·t + β) / δ⌋ over t = (P − P₀)/G, G the gcd of the P steps (the token count's step),
 * for small δ and α about δ times the slope, β the least that fits every point; as a function of
 * P: a = α, b = β·G − α·P₀, d = δ·G (exact: P − P₀ is a multiple of G).
 */
function fitRounded(points: readonly (readonly [number, number])[], m: number): Affine | undefined {
  const p0 = points[0]![0];
  const G = points.reduce((g, [p]) => gcd(g, Math.abs(p - p0)), 0);
  const t = points.map(([p]) => (p - p0) / G), c = points.map(([, v]) => v / m);
  const lo = t.indexOf(Math.min(...t)), hi = t.indexOf(Math.max(...t));
  const slope = (c[hi]! - c[lo]!) / (t[hi]! - t[lo]!);
  for (let delta = 1; delta <= MAX_ROUNDED_DIVISOR; delta++) {
    for (let alpha = Math.floor(delta * slope) - 1; alpha <= Math.ceil(delta * slope) + 1; alpha++) {
      const beta = Math.max(...t.map((tj, j) => c[j]! * delta - alpha * tj));
      if (t.some((tj, j) => beta > c[j]! * delta + delta - 1 - alpha * tj)) continue;
      const f = { a: alpha, b: beta * G - alpha * p0, d: delta * G, m };
      if (fitsAll(f, points)) return f;
    }
  }
  return undefined;
}

const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

/** m·⌊(a·P + b) / d⌋ as u32 arithmetic that stays in range for the fitted points (each a non-negative integer). */
function affineOf(f: Affine, P: Expr): Expr {
  const scaled = f.a === 0 ? u32(0) : mul(P, u32(Math.abs(f.a)));
  const sum = f.a >= 0 ? (f.b >= 0 ? add(scaled, u32(f.b)) : sub(scaled, u32(-f.b))) : sub(u32(f.b), scaled);
  const rounded = f.d === 1 ? sum : div(sum, u32(f.d));
  return f.m === 1 ? rounded : mul(rounded, u32(f.m));
}

/**
 * The trees of `kernels` where some share a module by reading sizes at run time (others as they
 * were), by index. Kernels are grouped by their code with integer literals masked; each group is
 * split into clusters (largestCluster), and each cluster of two or more is rewritten.
 */
function shareSizes(kernels: readonly SizedKernel[]): Map<number, KernelIR> {
  const groups = new Map<string, Member[]>();
  const candidates = mayShare(kernels);
  kernels.forEach((k, index) => {
    if (!candidates[index]) return;
    const { values, shape } = literalsAndShape(k.ir);
    const key = `${shape}|${weightKey(k)}`;
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    group.push({ index, values, lengths: k.lengths });
  });
  const out = new Map<number, KernelIR>();
  for (let rest of groups.values()) {
    while (rest.length >= 2) {
      const cluster = largestCluster(rest);
      const joined = new Set(cluster.members);
      if (cluster.fit) for (const m of cluster.members) out.set(m.index, rewritten(kernels[m.index]!.ir, cluster.fit));
      rest = rest.filter((m) => !joined.has(m));
    }
  }
  return out;
}

interface Member {
  readonly index: number;
  readonly values: readonly number[];
  readonly lengths: readonly number[];
}

/** A differing literal as a function of one binding's length. */
interface SizeFit {
  readonly binding: number;
  readonly f: Affine;
}

/** Members sharing a module, and how each literal they differ in follows a binding's length, by position (none while they do not differ). */
interface Cluster {
  readonly members: readonly Member[];
  readonly fit?: ReadonlyMap<number, SizeFit>;
}

/**
 * The largest cluster with `group`'s first member that joining the others in order builds (each
 * joins if the cluster still fits), tried for each binding as the preferred source of sizes. One
 * order can block a better cluster: two copies of a kernel at one token count but of other sets
 * (a merge's two scatter-adds) leave only a set's size to tell members apart, which the token
 * counts of the others need not follow.
 */
function largestCluster(group: readonly Member[]): Cluster {
  let best: Cluster = { members: [group[0]!] };
  for (let binding = 0; binding < group[0]!.lengths.length; binding++) {
    let cluster: Cluster = { members: [group[0]!] };
    for (const m of group.slice(1)) cluster = fitCluster([...cluster.members, m], binding) ?? cluster;
    if (cluster.members.length > best.members.length) best = cluster;
    if (best.members.length === group.length) break;
  }
  return best;
}

/**
 * `members` as one cluster, if each literal they differ in is a function of some binding's length
 * (binding `preferred` where it fits, so that one length serves most); undefined if one is of none.
 * A literal can need its own binding: a product of two sets' sizes (a score matrix's count) is
 * no function of the token count rounded, but is the length of the matrix it sizes.
 */
function fitCluster(members: readonly Member[], preferred: number): Cluster | undefined {
  const first = members[0]!;
  const positions = first.values.map((_, i) => i).filter((i) => members.some((m) => m.values[i] !== first.values[i]));
  if (!positions.length) return { members };
  const fitFrom = (binding: number, i: number): SizeFit | undefined => {
    const f = fitAffine(members.map((m) => [m.lengths[binding]!, m.values[i]!] as const));
    return f && { binding, f };
  };
  const fit = new Map<number, SizeFit>();
  for (const i of positions) {
    let found = fitFrom(preferred, i);
    for (let binding = 0; !found && binding < first.lengths.length; binding++) found = fitFrom(binding, i);
    if (!found) return undefined;
    fit.set(i, found);
  }
  return { members, fit };
}

/** `ir` with each fitted literal computed from its binding's length. */
function rewritten(ir: KernelIR, fit: ReadonlyMap<number, SizeFit>): KernelIR {
  let at = 0;
  return withLiterals(ir, (lit) => {
    const found = fit.get(at++);
    if (!found) return lit;
    const size = affineOf(found.f, length(ir.storage[found.binding] as Buf));
    return lit.ty === I32 ? cast(size, 'i32') : lit.ty === F32 ? cast(size, 'f32') : size;
  });
}
