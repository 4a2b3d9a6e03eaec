// The expression emitter: turns "the value of node n at index idx" into WGSL statements.
// Nodes the fusion plan inlines are computed in place (their lowering below); materialized
// nodes are read from their buffer; anchors (matmul accumulators, row reductions) are
// provided by the kernel template. Every shape is a compile-time constant, so all index
// arithmetic is emitted with literal strides that the shader compiler folds.

import type { Graph, Node } from '../src/ir/graph.ts';
import type { OpAttrs, OpName } from '../src/ir/ops.ts';
import { stridesOf, type DType, type Shape } from '../src/ir/shape.ts';
import type { WgslHelper } from './wgsl-lib.ts';
import { BUFFER_LEAVES } from './fuse.ts';
import { assertFreeName } from './wgsl-names.ts';

/**
 * A template asked to render something the fusion plan should never have decided (a bug in the
 * planner's legality rules, not a condition to recover from).
 */
export class FusionError extends Error {
  constructor(readonly node: number, why: string) {
    super(`internal error: the fusion plan is not renderable at node %${node}: ${why}`);
  }
}

/** Index expressions are WGSL u32 expressions, one per axis. */
export type Index = readonly string[];

export const u = (n: number): string => `${n}u`;
const isLit = (s: string) => /^\d+u$/.test(s);
const litVal = (s: string) => Number(s.slice(0, -1));

export function wgslType(dtype: DType): string {
  return dtype === 'f32' ? 'f32' : dtype;
}

/** A float literal for WGSL (finite only: WGSL has no reliable infinities). */
export function f32Lit(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot emit non-finite constant ${v} in WGSL; mask instead`);
  const s = Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : `${v}`;
  return v < 0 ? `(${s})` : s;
}

export function literal(v: number, dtype: DType): string {
  return dtype === 'f32' ? f32Lit(v) : dtype === 'i32' ? `i32(${Math.trunc(v)})` : `u32(${Math.trunc(v)})`;
}

export interface Binding {
  readonly tensor: number;
  readonly name: string;
  readonly dtype: DType;
  readonly access: 'read' | 'read_write';
}

export interface FusionView {
  /** Whether node `id` lives in memory (read it) rather than being computed in place. */
  isMaterialized(id: number): boolean;
  /** The node whose buffer holds `id` (itself, or the input of a buffer-sharing reshape). */
  storage(id: number): number;
}

/** Arithmetic cost of one lowering, for FLOP estimates (views and reads cost 0). */
const TRANSCENDENTAL = 4;

export class KernelWriter {
  private readonly out: string[] = [];
  private readonly scopes: Map<string, string>[] = [new Map()];
  private readonly opScopes: number[] = [0];
  private indent = 1;
  private counter = 0;
  readonly bindings = new Map<number, Binding>();
  readonly helpers = new Set<WgslHelper>();
  /** Values supplied by the kernel template instead of being emitted (anchors). */
  readonly provided = new Map<number, (idx: Index) => string>();
  /** Nodes whose value this kernel computed (for the plan's description). */
  readonly fusedNodes = new Set<number>();

  constructor(
    readonly graph: Graph,
    readonly fusion: FusionView,
  ) {}

  /** A new local name: prefix, underscore, counter (no WGSL keyword, type or builtin has that form; checked). */
  fresh(prefix = 'v'): string {
    return assertFreeName(`${prefix}_${this.counter++}`);
  }

  line(s: string): void {
    this.out.push('  '.repeat(this.indent) + s);
  }

  /** Emits `let name = expr;` and returns the name. */
  let(expr: string, prefix = 'v'): string {
    if (/^[A-Za-z_]\w*$/.test(expr) || isLit(expr)) return expr;
    const name = this.fresh(prefix);
    this.line(`let ${name} = ${expr};`);
    return name;
  }

  /** A nested block (loop or branch body) with its own memo scope; returns the ops counted inside. */
  block(header: string, body: () => void): number {
    this.line(`${header} {`);
    this.indent++;
    this.scopes.push(new Map());
    this.opScopes.push(0);
    body();
    this.scopes.pop();
    const ops = this.opScopes.pop()!;
    this.indent--;
    this.line('}');
    return ops;
  }

  /** Ops counted at the current scope so far. */
  get opsHere(): number {
    return this.opScopes[this.opScopes.length - 1]!;
  }
  countOps(n: number): void {
    this.opScopes[this.opScopes.length - 1]! += n;
  }

  get body(): string {
    return this.out.join('\n');
  }

  /**
   * Registers a buffer binding for a materialized node and returns its WGSL name.
   * Kernel outputs share one arena buffer, and WebGPU forbids binding a buffer both read-only and
   * writable in one dispatch, so tensors of the work arena are always bound read_write (their
   * ranges never overlap: the memory planner keeps every tensor live at a step disjoint).
   */
  buffer(id: number, write = false): string {
    id = this.fusion.storage(id);
    const node = this.graph.node(id);
    const access = write || !BUFFER_LEAVES.has(node.op) ? 'read_write' : 'read';
    const prev = this.bindings.get(id);
    if (prev) return prev.name;
    // Named by position, not node id, so structurally identical kernels have identical WGSL.
    const b: Binding = { tensor: id, name: `buf${this.bindings.size}`, dtype: node.type.dtype, access };
    this.bindings.set(id, b);
    return b.name;
  }

  /** Binding declarations, in binding-index order. */
  declarations(): string {
    return [...this.bindings.values()]
      .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${wgslType(b.dtype)}>;`)
      .join('\n');
  }

  private lookup(key: string): string | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const hit = this.scopes[s]!.get(key);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  private remember(key: string, v: string): void {
    this.scopes[this.scopes.length - 1]!.set(key, v);
  }

  /**
   * Records that `idx` (in `shape`) and the flat offset `flat` name the same element, so that a
   * reshape between them resolves to the very same index expressions (which is what lets an
   * epilogue reach its matmul accumulator through a reshape).
   */
  relate(flat: string, shape: Shape, idx: Index): void {
    this.remember(`lin:${shape}:${idx.join(',')}`, flat);
    this.remember(`unf:${shape}:${flat}`, idx.join('|'));
  }

  knownFlat(idx: Index, shape: Shape): string | undefined {
    return this.lookup(`lin:${shape}:${idx.join(',')}`);
  }

  /** Row-major flat offset of `idx` in a tensor of `shape`. */
  linear(idx: Index, shape: Shape): string {
    const known = this.knownFlat(idx, shape);
    if (known) return known;
    const st = stridesOf(shape);
    const terms: string[] = [];
    let c = 0;
    idx.forEach((e, k) => {
      if (shape[k] === 1) return;
      if (isLit(e)) c += litVal(e) * st[k]!;
      else terms.push(st[k] === 1 ? e : `${e} * ${u(st[k]!)}`);
    });
    if (c) terms.push(u(c));
    return terms.length ? terms.join(' + ') : '0u';
  }

  /** Splits a flat u32 index into per-axis indices of `shape`. */
  unflatten(flat: string, shape: Shape): string[] {
    const f = this.let(flat, 'f');
    const known = this.lookup(`unf:${shape}:${f}`);
    if (known) return known.split('|');
    const st = stridesOf(shape);
    const idx = shape.map((dim, k) => {
      if (dim === 1) return '0u';
      const q = st[k] === 1 ? f : `${f} / ${u(st[k]!)}`;
      return this.let(k === 0 ? q : `(${q}) % ${u(dim)}`, 'i');
    });
    this.relate(f, shape, idx);
    return idx;
  }

  /** The value of node `id` at `idx`, emitting whatever statements it needs. */
  value(id: number, at: Index): string {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const key = `${id}@${idx.join(',')}`;
    const hit = this.lookup(key);
    if (hit) return hit;
    const v = !this.provided.has(id) && this.fusion.isMaterialized(id)
      ? this.let(`${this.buffer(id)}[${this.linear(idx, node.type.shape)}]`)
      : this.compute(id, idx);
    this.remember(key, v);
    return v;
  }

  /** Computes node `id` in this kernel (for a kernel's root, even though it is materialized). */
  compute(id: number, at: Index): string {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const provide = this.provided.get(id);
    if (provide) return provide(idx);
    this.fusedNodes.add(id);
    return (LOWER[node.op] as Lowering<OpName>)(this, node as Node<OpName>, idx);
  }

  /** Index into an input of shape `inShape` that was broadcast to the output index `idx`. */
  broadcastIndex(idx: Index, inShape: Shape): string[] {
    const off = idx.length - inShape.length;
    return inShape.map((d, k) => (d === 1 ? '0u' : idx[k + off]!));
  }

  input(node: Node, k: number, idx: Index): string {
    const inp = this.graph.node(node.inputs[k]!);
    return this.value(inp.id, this.broadcastIndex(idx, inp.type.shape));
  }
}

type Lowering<K extends OpName> = (w: KernelWriter, n: Node<K>, idx: Index) => string;

const unary = (f: (x: string, w: KernelWriter) => string, cost = 1): Lowering<OpName> => (w, n, idx) => {
  w.countOps(cost);
  return w.let(f(w.input(n, 0, idx), w));
};
const helper = (h: WgslHelper): Lowering<OpName> => unary((x, w) => {
  w.helpers.add(h);
  return `${h}(${x})`;
}, TRANSCENDENTAL * 2);
const binary = (f: (a: string, b: string) => string): Lowering<OpName> => (w, n, idx) => {
  w.countOps(1);
  return w.let(f(w.input(n, 0, idx), w.input(n, 1, idx)));
};
const identity: Lowering<OpName> = (w, n, idx) => w.value(n.inputs[0]!, idx);
const anchor: Lowering<OpName> = (_w, n) => {
  throw new FusionError(n.id, `${n.op} must be materialized or provided by its kernel template`);
};

const CMP: Record<OpAttrs['compare']['kind'], string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

/** How each op is computed in place. Anchors (loops) are lowered by kernel templates instead. */
export const LOWER: { readonly [K in OpName]: Lowering<K> } = {
  input: anchor, param: anchor, constant: anchor,
  fill: (_w, n) => literal(n.attrs.value, n.attrs.dtype),

  neg: unary((x) => `-${x}`),
  exp: unary((x) => `exp(${x})`, TRANSCENDENTAL),
  log: unary((x) => `log(${x})`, TRANSCENDENTAL),
  sqrt: unary((x) => `sqrt(${x})`, TRANSCENDENTAL),
  rsqrt: unary((x) => `inverseSqrt(${x})`, TRANSCENDENTAL),
  recip: unary((x) => `1.0 / ${x}`),
  tanh: helper('tanh'),
  erf: helper('erf'),
  relu: unary((x) => `max(${x}, 0.0)`),
  sigmoid: helper('sigmoid'),
  sign: unary((x) => `sign(${x})`),
  abs: unary((x) => `abs(${x})`),

  add: binary((a, b) => `${a} + ${b}`),
  sub: binary((a, b) => `${a} - ${b}`),
  mul: binary((a, b) => `${a} * ${b}`),
  div: binary((a, b) => `${a} / ${b}`),
  max: binary((a, b) => `max(${a}, ${b})`),
  min: binary((a, b) => `min(${a}, ${b})`),
  compare: (w, n, idx) => {
    w.countOps(1);
    return w.let(`select(0.0, 1.0, ${w.input(n, 0, idx)} ${CMP[n.attrs.kind]} ${w.input(n, 1, idx)})`);
  },
  select: (w, n, idx) => {
    w.countOps(1);
    return w.let(`select(${w.input(n, 2, idx)}, ${w.input(n, 1, idx)}, ${w.input(n, 0, idx)} != 0.0)`);
  },
  cast: (w, n, idx) => w.let(`${wgslType(n.attrs.dtype)}(${w.input(n, 0, idx)})`),

  sum: anchor, reduceMax: anchor, topk: anchor, matmul: anchor, scatterAdd: anchor,

  reshape: (w, n, idx) => {
    const src = w.graph.node(n.inputs[0]!);
    const inShape = src.type.shape;
    // An index already related to a flat offset (an epilogue's) maps through that offset.
    const known = w.knownFlat(idx, n.type.shape);
    if (known) return w.value(src.id, w.unflatten(known, inShape));
    // Fast path: only size-1 axes inserted or removed.
    const a = n.type.shape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    const b = inShape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    if (a.length === b.length && a.every(([d], k) => d === b[k]![0])) {
      const inIdx = inShape.map(() => '0u');
      a.forEach(([, ko], k) => (inIdx[b[k]![1]] = idx[ko]!));
      return w.value(src.id, inIdx);
    }
    return w.value(src.id, w.unflatten(w.linear(idx, n.type.shape), inShape));
  },
  permute: (w, n, idx) => {
    const inIdx = new Array<string>(idx.length);
    n.attrs.perm.forEach((p, k) => (inIdx[p] = idx[k]!));
    return w.value(n.inputs[0]!, inIdx);
  },
  slice: (w, n, idx) => w.value(n.inputs[0]!, idx.map((e, k) => addLit(e, n.attrs.starts[k]!))),
  pad: (w, n, idx) => {
    const src = w.graph.node(n.inputs[0]!);
    const conds: string[] = [];
    const inIdx = idx.map((e, k) => {
      const before = n.attrs.before[k]!, dim = src.type.shape[k]!;
      if (before === 0 && n.attrs.after[k] === 0) return e;
      conds.push(before ? `${e} >= ${u(before)} && ${e} < ${u(before + dim)}` : `${e} < ${u(dim)}`);
      return w.let(`min(${before ? `max(${e}, ${u(before)}) - ${u(before)}` : e}, ${u(dim - 1)})`, 'i');
    });
    const v = w.value(src.id, inIdx);
    return w.let(`select(${literal(0, n.type.dtype)}, ${v}, ${conds.join(' && ')})`);
  },
  concat: (w, n, idx) => {
    const axis = n.attrs.axis;
    let at = 0;
    let acc = '';
    for (const id of n.inputs) {
      const len = w.graph.node(id).type.shape[axis]!;
      const local = w.let(`min(max(${idx[axis]}, ${u(at)}) - ${u(at)}, ${u(len - 1)})`, 'i');
      const v = w.value(id, idx.map((e, k) => (k === axis ? local : e)));
      acc = acc ? w.let(`select(${acc}, ${v}, ${idx[axis]} >= ${u(at)})`) : v;
      at += len;
    }
    return acc;
  },
  broadcast: (w, n, idx) => w.value(n.inputs[0]!, w.broadcastIndex(idx, w.graph.node(n.inputs[0]!).type.shape)),
  gather: (w, n, idx) => {
    const [src, ix] = n.inputs.map((i) => w.graph.node(i)) as [Node, Node];
    const axis = n.attrs.axis;
    const ixIdx = ix.type.shape.map((d, k) => (k === axis ? idx[axis]! : d === 1 ? '0u' : idx[k]!));
    const raw = w.value(ix.id, ixIdx);
    // Out-of-range indices are clamped (robust access); the reference interpreter rejects them.
    const j = w.let(`u32(clamp(i32(${raw}), 0, ${src.type.shape[axis]! - 1}))`, 'i');
    return w.value(src.id, idx.map((e, k) => (k === axis ? j : e)));
  },

  rand: (w, n, idx) => {
    const seed = w.graph.node(n.inputs[0]!).id;
    w.helpers.add('rand');
    w.countOps(TRANSCENDENTAL);
    return w.let(`rand(${w.linear(idx, n.type.shape)}, ${w.value(seed, ['0u'])}, ${w.value(seed, ['1u'])}, ${u(n.attrs.stream >>> 0)})`);
  },
  stopGradient: identity,
  straightThrough: identity,
};

/** The index of an axis of extent 1 is 0 whatever expression reached it: one spelling per element. */
export function canonicalIndex(idx: Index, shape: Shape): Index {
  return shape.some((d, k) => d === 1 && idx[k] !== '0u') ? idx.map((e, k) => (shape[k] === 1 ? '0u' : e)) : idx;
}

function addLit(e: string, c: number): string {
  if (c === 0) return e;
  return isLit(e) ? u(litVal(e) + c) : `(${e} + ${u(c)})`;
}
