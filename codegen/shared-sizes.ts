// Kernels that differ only in a size share one module. Blocks after a token merge compute what the
// blocks before it compute at fewer tokens; their kernels' trees are the same but for the u32
// constants the token count enters (strides, divisors, bounds). Where several kernels of a plan
// have equal trees up to those constants, and each differing constant is an affine function
// c = (a·P + b) / d of the length P of one binding they all have (read at run time with
// arrayLength), every one of them is rewritten to compute its constants from P: their printed
// code is then equal, and the device compiles one module for all of them.
//
// Correct by construction: the function is fitted to every member's own constants exactly, and
// each member reads its own binding's length, so each computes exactly the constants it had.
// Members whose constants do not fit one function keep their own code.

import { add, div, length, mul, sub, u32 } from '../kernels/alu.ts';
import { childrenOf, mapExprs, U32, withBody, type Buf, type Expr, type KernelIR, type Stmt } from '../kernels/ir.ts';
import type { Graph } from '../src/core/ir/graph.ts';
import { numel } from '../src/core/ir/shape.ts';
import { printKernel } from './print.ts';

/**
 * A kernel as far as sharing is concerned: its tree, the length of each of its storage bindings
 * (in elements of the binding's type), and whether each holds parameters or values computed from
 * them alone (weights: kernels whose weights differ in size never share; a feature width read at
 * run time would cost the hot loops their constants, where a token count costs index arithmetic).
 */
export interface SizedKernel {
  readonly ir: KernelIR;
  readonly lengths: readonly number[];
  readonly weights: readonly boolean[];
}

/** Kernel tree `ir` of a plan over `graph`, with its bindings' lengths and which hold weights. */
export function sizedKernel(graph: Graph, ir: KernelIR): SizedKernel {
  return { ir, lengths: ir.storage.map((b) => numel(graph.node(b.tensor!).type.shape) / b.elem.w), weights: ir.storage.map((b) => graph.fromParameters(b.tensor!)) };
}

/** Every u32 literal of `e` replaced by `f` of it, operands first (the order literalsAndShape numbers them in). */
function mapLiterals(e: Expr, f: (lit: Expr) => Expr): Expr {
  switch (e.k) {
    case 'lit': return e.ty === U32 ? f(e) : e;
    // A subgroup broadcast's lane and a vector's component must stay constants of the code.
    case 'alu': return { ...e, args: e.args.map((a, i) => (i > 0 && (e.op === 'sgBroadcast' || e.op === 'lane') ? a : mapLiterals(a, f))) };
    case 'call': return { ...e, args: e.args.map((a) => mapLiterals(a, f)) };
    case 'load': return { ...e, at: mapLiterals(e.at, f) };
    default: return e;
  }
}

/** The kernel with every u32 literal replaced by `f` of it, in program order. */
function withLiterals(ir: KernelIR, f: (lit: Expr) => Expr): KernelIR {
  const stmts = (body: readonly Stmt[]): Stmt[] => body.map((s) => withBody(mapExprs(s, (e) => mapLiterals(e, f)), stmts(childrenOf(s))));
  const body = stmts(ir.body);
  return { ...ir, body, ...(ir.workgroups ? { workgroups: mapLiterals(ir.workgroups, f) } : {}) };
}

/** The kernel's u32 literals in program order, and its code with them masked (equal for kernels that differ only in them). */
function literalsAndShape(ir: KernelIR): { values: number[]; shape: string } {
  const values: number[] = [];
  const masked = withLiterals(ir, (lit) => {
    values.push((lit as { v: number }).v);
    return u32(0);
  });
  return { values, shape: printKernel(masked).code };
}

/** c = (a·P + b) / d with integers a, b and d > 0. */
interface Affine {
  readonly a: number;
  readonly b: number;
  readonly d: number;
}

/** The affine function through (P, c) pairs, exact at every one and within u32 range there; undefined where none is. */
function fitAffine(points: readonly (readonly [number, number])[]): Affine | undefined {
  const [p0, c0] = points[0]!;
  const other = points.find(([p]) => p !== p0);
  if (!other) return undefined;
  const [p1, c1] = other;
  const g = gcd(Math.abs(c1 - c0), Math.abs(p1 - p0));
  let a = (c1 - c0) / g, d = (p1 - p0) / g;
  if (d < 0) [a, d] = [-a, -d];
  const b = c0 * d - a * p0;
  const exact = points.every(([p, c]) => a * p + b === c * d && Math.abs(a * p) < 2 ** 31 && Math.abs(b) < 2 ** 31);
  return exact ? { a, b, d } : undefined;
}

const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

/** (a·P + b) / d as u32 arithmetic that stays in range for the fitted points (each a non-negative integer). */
function affineOf(f: Affine, P: Expr): Expr {
  const scaled = f.a === 0 ? u32(0) : mul(P, u32(Math.abs(f.a)));
  const sum = f.a >= 0 ? (f.b >= 0 ? add(scaled, u32(f.b)) : sub(scaled, u32(-f.b))) : sub(u32(f.b), scaled);
  return f.d === 1 ? sum : div(sum, u32(f.d));
}

/**
 * The trees of `kernels` where some share a module by reading a size at run time (others as they
 * were), by index. Kernels are grouped by their code with u32 literals masked; within a group,
 * members join a cluster while one binding's length, different for each, fits every literal they
 * differ in (greedily, in order), and each cluster of two or more is rewritten.
 */
export function shareSizes(kernels: readonly SizedKernel[]): Map<number, KernelIR> {
  const groups = new Map<string, Member[]>();
  kernels.forEach((k, index) => {
    const { values, shape } = literalsAndShape(k.ir);
    const key = `${shape}|${k.lengths.map((n, i) => (k.weights[i] ? n : '·')).join(',')}`;
    groups.set(key, [...(groups.get(key) ?? []), { index, values, lengths: k.lengths }]);
  });
  const out = new Map<number, KernelIR>();
  for (let rest of groups.values()) {
    while (rest.length >= 2) {
      let cluster: Cluster | undefined = { members: [rest[0]!] };
      for (const m of rest.slice(1)) cluster = fitCluster([...cluster!.members, m]) ?? cluster;
      const joined = new Set(cluster!.members);
      if (cluster!.fit) for (const m of cluster!.members) out.set(m.index, rewritten(kernels[m.index]!.ir, cluster!.fit));
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

/** Members sharing a module, and how their differing literals follow a binding's length (none while they do not differ). */
interface Cluster {
  readonly members: readonly Member[];
  readonly fit?: { readonly binding: number; readonly byPosition: ReadonlyMap<number, Affine> };
}

/** `members` as one cluster, if one binding's length fits every literal they differ in; undefined if none does. */
function fitCluster(members: readonly Member[]): Cluster | undefined {
  const first = members[0]!;
  const positions = first.values.map((_, i) => i).filter((i) => members.some((m) => m.values[i] !== first.values[i]));
  if (!positions.length) return { members };
  for (let binding = 0; binding < first.lengths.length; binding++) {
    const P = members.map((m) => m.lengths[binding]!);
    if (new Set(P).size !== members.length) continue;
    const fits = positions.map((i) => fitAffine(members.map((m, j) => [P[j]!, m.values[i]!] as const)));
    if (fits.every((f) => f !== undefined)) return { members, fit: { binding, byPosition: new Map(positions.map((i, j) => [i, fits[j]!])) } };
  }
  return undefined;
}

/** `ir` with each fitted literal computed from its binding's length. */
function rewritten(ir: KernelIR, fit: NonNullable<Cluster['fit']>): KernelIR {
  const buf = ir.storage[fit.binding] as Buf;
  let at = 0;
  return withLiterals(ir, (lit) => {
    const f = fit.byPosition.get(at++);
    return f ? affineOf(f, length(buf)) : lit;
  });
}
