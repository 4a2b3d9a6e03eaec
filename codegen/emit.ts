// The expression emitter: turns "the value of node n at index idx" into WGSL statements for a
// kernel template (it implements kernels/template.ts's KernelBuilder). Nodes the fusion plan
// inlines are computed in place by their op's lowering (the LOWER map below); stored nodes are
// read from their buffer; small constant tensors are folded into the code (no binding); values a
// template provides (matmul accumulators, row statistics) are used as given. Index arithmetic is
// built as kernels/expr.ts trees with every shape a compile-time constant, and simplified before
// printing. `finish()` then removes dead lets and the bindings nothing reads any more.

import type { Graph, Node } from '../src/ir/graph.ts';
import type { OpAttrs, OpName } from '../src/ir/ops.ts';
import { numel, stridesOf, type DType, type Shape } from '../src/ir/shape.ts';
import { add, bound, canonicalIndex, div, dot, ixVar, lit, max, min, mod, printIndex, printIx, sub, ZERO, type Index, type Ix } from '../kernels/expr.ts';
import { f32Lit, FusionError, type HelperName, type KernelBuilder } from '../kernels/template.ts';
import { BUFFER_LEAVES } from './fuse.ts';
import { assertFreeName } from './wgsl-names.ts';

export function wgslType(dtype: DType): string {
  return dtype === 'f32' ? 'f32' : dtype;
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

export interface FusionState {
  /** Whether node `id` lives in memory (read it) rather than being computed in place. */
  isMaterialized(id: number): boolean;
  /** The node whose buffer holds `id` (itself, or the input of a buffer-sharing reshape). */
  storage(id: number): number;
}

/** Arithmetic cost of one lowering, for FLOP estimates (views and reads cost 0). */
const TRANSCENDENTAL = 4;

/** Constant tensors up to this many values are folded into the code instead of bound as buffers. */
export const FOLD_CONSTANT_LIMIT = 1024;

export class KernelWriter implements KernelBuilder {
  private readonly out: string[] = [];
  private readonly scopes: Map<string, string>[] = [new Map()];
  private readonly opScopes: number[] = [0];
  private indent = 1;
  private counter = 0;
  private readonly bindingMap = new Map<number, Binding>();
  readonly helpers = new Set<HelperName>();
  private readonly decls: string[] = [];
  /** Values supplied by the kernel template instead of being emitted (anchors). */
  private readonly provided = new Map<number, (idx: Index) => string>();
  /** Nodes whose value this kernel computed (for the plan's description). */
  readonly fusedNodes = new Set<number>();
  private readonly folded = new Map<number, string>();

  constructor(
    readonly graph: Graph,
    readonly fusion: FusionState,
  ) {}

  /** A new local name: prefix, underscore, counter (no WGSL keyword, type or builtin has that form; checked). */
  fresh(prefix = 'v'): string {
    return assertFreeName(`${prefix}_${this.counter++}`);
  }

  line(s: string): void {
    this.out.push('  '.repeat(this.indent) + s);
  }

  moduleDecl(s: string): void {
    if (!this.decls.includes(s)) this.decls.push(s);
  }

  /**
   * Emits `let name = expr;` and returns the name (names and literals are returned as they are).
   * No reuse by text: an expression may read state that changes (workgroup memory, accumulators).
   */
  let(expr: string, prefix = 'v'): string {
    if (/^[A-Za-z_][\w.]*$/.test(expr) || /^\(?-?\d[\d.e+-]*u?\)?$/.test(expr)) return expr;
    const name = this.fresh(prefix);
    this.line(`let ${name} = ${expr};`);
    return name;
  }

  /** Index expressions read only lets, loop counters and builtins: equal text, equal value in a scope. */
  letIx(e: Ix, prefix = 'i'): Ix {
    if (e.k === 'const' || e.k === 'var') return e;
    const text = printIx(e);
    const key = `ix:${text}`;
    const name = this.lookup(key) ?? this.let(text, prefix);
    this.remember(key, name);
    return ixVar(name, bound(e));
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

  get opsHere(): number {
    return this.opScopes[this.opScopes.length - 1]!;
  }
  countOps(n: number): void {
    this.opScopes[this.opScopes.length - 1]! += n;
  }

  provide(id: number, at: (idx: Index) => string): void {
    this.provided.set(id, at);
  }

  /**
   * Registers a buffer binding for a stored node and returns its WGSL name. Kernel outputs share
   * one arena buffer, and WebGPU forbids binding a buffer both read-only and writable in one
   * dispatch, so tensors of the work arena are always bound read_write (their ranges never
   * overlap: the memory planner keeps every tensor live at a step disjoint).
   */
  buffer(id: number, write = false): string {
    id = this.fusion.storage(id);
    const node = this.graph.node(id);
    const access = write || !BUFFER_LEAVES.has(node.op) ? 'read_write' : 'read';
    const prev = this.bindingMap.get(id);
    if (prev) return prev.name;
    // Named by position, not node id, so structurally identical kernels have identical WGSL; the
    // kernel's header says which tensor each binding holds.
    const b: Binding = { tensor: id, name: `buf${this.bindingMap.size}`, dtype: node.type.dtype, access };
    this.bindingMap.set(id, b);
    return b.name;
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

  relate(flat: Ix, shape: Shape, idx: Index): void {
    const f = printIx(flat);
    this.remember(`lin:${shape}:${printIndex(canonicalIndex(idx, shape))}`, f);
    this.remember(`unf:${shape}:${f}`, JSON.stringify(canonicalIndex(idx, shape)));
  }

  knownFlat(idx: Index, shape: Shape): Ix | undefined {
    const f = this.lookup(`lin:${shape}:${printIndex(canonicalIndex(idx, shape))}`);
    return f === undefined ? undefined : ixVar(f, numel(shape));
  }

  linear(idx: Index, shape: Shape): Ix {
    return this.knownFlat(idx, shape) ?? dot(canonicalIndex(idx, shape), stridesOf(shape));
  }

  unflatten(flat: Ix, shape: Shape): Index {
    const f = this.letIx(flat, 'f');
    const known = this.lookup(`unf:${shape}:${printIx(f)}`);
    if (known) return JSON.parse(known) as Ix[];
    const st = stridesOf(shape);
    const idx = shape.map((dim, k) => (dim === 1 ? ZERO : this.letIx(k === 0 ? div(f, st[k]!) : mod(div(f, st[k]!), dim), 'i')));
    // Each axis index is < its extent (the flat offset is in range).
    const bounded = idx.map((e, k) => (e.k === 'var' ? ixVar(e.name, Math.min(e.bound, shape[k]!)) : e));
    this.relate(f, shape, bounded);
    return bounded;
  }

  broadcastIndex(idx: Index, inShape: Shape): Index {
    const off = idx.length - inShape.length;
    return inShape.map((d, k) => (d === 1 ? ZERO : idx[k + off]!));
  }

  value(id: number, at: Index): string {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const key = `${id}@${printIndex(idx)}`;
    const hit = this.lookup(key);
    if (hit) return hit;
    let v: string;
    if (!this.provided.has(id) && this.fusion.isMaterialized(id)) {
      const stored = this.graph.node(this.fusion.storage(id));
      v = stored.op === 'constant' && stored.attrs.data.length <= FOLD_CONSTANT_LIMIT
        ? this.foldedConstant(stored as Node<'constant'>, this.linear(idx, node.type.shape))
        : this.let(`${this.buffer(id)}[${printIx(this.linear(idx, node.type.shape))}]`);
    } else {
      v = this.compute(id, idx);
    }
    this.remember(key, v);
    return v;
  }

  /**
   * A small constant tensor read at flat offset `at`, without a buffer: a literal when the offset
   * is known or all values are equal, an affine formula of the offset when the data is one, else
   * a module-scope array.
   */
  private foldedConstant(n: Node<'constant'>, at: Ix): string {
    const data = n.attrs.data, dtype = n.type.dtype;
    if (at.k === 'const') return literal(data[at.v]!, dtype);
    if (data.every((v) => v === data[0])) return literal(data[0]!, dtype);
    // Integer-valued affine data (token positions, column numbers): exact in any dtype.
    const first = data[0]!, step = data.length > 1 ? data[1]! - first : 0;
    const exact = (v: number) => Number.isInteger(v) && Math.abs(v) < 2 ** 24;
    if (data.every((v, i) => v === first + i * step && exact(v)) && exact(step)) {
      const t = wgslType(dtype);
      const scaled = step === 1 ? `${t}(${printIx(at)})` : `${t}(${printIx(at)}) * ${literal(Math.abs(step), dtype)}`;
      const e = first === 0 && step >= 0 ? scaled : `${literal(first, dtype)} ${step >= 0 ? '+' : '-'} ${scaled}`;
      return this.let(e);
    }
    let name = this.folded.get(n.id);
    if (!name) {
      name = this.fresh('table');
      const t = wgslType(dtype);
      this.moduleDecl(`var<private> ${name}: array<${t}, ${data.length}> = array<${t}, ${data.length}>(${Array.from(data, (v) => literal(v, dtype)).join(', ')});`);
      this.folded.set(n.id, name);
    }
    return this.let(`${name}[${printIx(at)}]`);
  }

  compute(id: number, at: Index): string {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const provide = this.provided.get(id);
    if (provide) return provide(idx);
    this.fusedNodes.add(id);
    return (LOWER[node.op] as Lowering<OpName>)(this, node as Node<OpName>, idx);
  }

  input(node: Node, k: number, idx: Index): string {
    const inp = this.graph.node(node.inputs[k]!);
    return this.value(inp.id, this.broadcastIndex(idx, inp.type.shape));
  }

  /**
   * The finished kernel: body lines with dead lets removed (repeatedly: removing one can kill
   * another), and the bindings still used, renumbered in order.
   */
  finish(): { body: string; bindings: Binding[]; moduleDecls: string[] } {
    let lines = [...this.out];
    for (;;) {
      const text = lines.join('\n');
      const uses = new Map<string, number>();
      for (const m of text.matchAll(/\b[A-Za-z_]\w*\b/g)) uses.set(m[0], (uses.get(m[0]) ?? 0) + 1);
      const kept = lines.filter((l) => {
        const m = /^\s*let ([A-Za-z_]\w*) = [^;]*;$/.exec(l);
        return !m || (uses.get(m[1]!) ?? 0) > 1;
      });
      if (kept.length === lines.length) break;
      lines = kept;
    }
    const body = lines.join('\n');
    const declText = this.decls.join('\n');
    const used = [...this.bindingMap.values()].filter((b) => new RegExp(`\\b${b.name}\\b`).test(body) || new RegExp(`\\b${b.name}\\b`).test(declText));
    const moduleDecls = this.decls.filter((d) => {
      const m = /^var<private> ([A-Za-z_]\w*)/.exec(d);
      return !m || new RegExp(`\\b${m[1]}\\b`).test(body);
    });
    return { body, bindings: used, moduleDecls };
  }
}

type Lowering<K extends OpName> = (w: KernelWriter, n: Node<K>, idx: Index) => string;

const unary = (f: (x: string, w: KernelWriter) => string, cost = 1): Lowering<OpName> => (w, n, idx) => {
  w.countOps(cost);
  return w.let(f(w.input(n, 0, idx), w));
};
const helper = (h: HelperName): Lowering<OpName> => unary((x, w) => {
  w.helpers.add(h);
  return `${h}(${x})`;
}, TRANSCENDENTAL * 2);
const binary = (f: (a: string, b: string) => string): Lowering<OpName> => (w, n, idx) => {
  w.countOps(1);
  return w.let(f(w.input(n, 0, idx), w.input(n, 1, idx)));
};
const identity: Lowering<OpName> = (w, n, idx) => w.value(n.inputs[0]!, idx);
const anchor: Lowering<OpName> = (_w, n) => {
  throw new FusionError(n.id, `${n.op} must be stored or provided by its kernel template`);
};

const CMP: Record<OpAttrs['compare']['kind'], string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

/** `e >= c` as WGSL, or undefined when always true. */
const atLeast = (e: Ix, c: number): string | undefined => (c === 0 ? undefined : `${printIx(e)} >= ${c}u`);
/** `e < c` as WGSL, or undefined when always true. */
const below = (e: Ix, c: number): string | undefined => (bound(e) <= c ? undefined : `${printIx(e)} < ${c}u`);

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
    // An index already related to a flat offset (an epilogue's) maps through that offset, so the
    // epilogue reaches its accumulator at the very index the template provides it.
    const known = w.knownFlat(idx, n.type.shape);
    if (known) return w.value(src.id, w.unflatten(known, inShape));
    // Fast path: only size-1 axes inserted or removed.
    const a = n.type.shape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    const b = inShape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    if (a.length === b.length && a.every(([d], k) => d === b[k]![0])) {
      const inIdx: Ix[] = inShape.map(() => ZERO);
      a.forEach(([, ko], k) => (inIdx[b[k]![1]] = idx[ko]!));
      return w.value(src.id, inIdx);
    }
    // Otherwise through the flat offset.
    return w.value(src.id, w.unflatten(w.linear(idx, n.type.shape), inShape));
  },
  permute: (w, n, idx) => {
    const inIdx = new Array<Ix>(idx.length);
    n.attrs.perm.forEach((p, k) => (inIdx[p] = idx[k]!));
    return w.value(n.inputs[0]!, inIdx);
  },
  slice: (w, n, idx) => w.value(n.inputs[0]!, idx.map((e, k) => add(e, n.attrs.starts[k]!))),
  pad: (w, n, idx) => {
    const src = w.graph.node(n.inputs[0]!);
    const conds: string[] = [];
    const inIdx = idx.map((e, k) => {
      const before = n.attrs.before[k]!, dim = src.type.shape[k]!;
      if (before === 0 && n.attrs.after[k] === 0) return e;
      for (const c of [atLeast(e, before), below(e, before + dim)]) if (c) conds.push(c);
      return w.letIx(min(sub(max(e, before), before), dim - 1));
    });
    const v = w.value(src.id, inIdx);
    return conds.length ? w.let(`select(${literal(0, n.type.dtype)}, ${v}, ${conds.join(' && ')})`) : v;
  },
  concat: (w, n, idx) => {
    const axis = n.attrs.axis;
    const e = idx[axis]!;
    let at = 0;
    let acc = '';
    for (const id of n.inputs) {
      const len = w.graph.node(id).type.shape[axis]!;
      // The part's own index, clamped into it; only the part that owns e is selected.
      const local = w.letIx(min(sub(max(e, at), at), len - 1));
      const v = w.value(id, idx.map((x, k) => (k === axis ? local : x)));
      const from = atLeast(e, at);
      acc = acc && from ? w.let(`select(${acc}, ${v}, ${from})`) : v;
      at += len;
    }
    return acc;
  },
  broadcast: (w, n, idx) => w.value(n.inputs[0]!, w.broadcastIndex(idx, w.graph.node(n.inputs[0]!).type.shape)),
  gather: (w, n, idx) => {
    const [src, ix] = n.inputs.map((i) => w.graph.node(i)) as [Node, Node];
    const axis = n.attrs.axis;
    const ixIdx = ix.type.shape.map((d, k) => (k === axis ? idx[axis]! : d === 1 ? ZERO : idx[k]!));
    const raw = w.value(ix.id, ixIdx);
    const len = src.type.shape[axis]!;
    // A folded literal index needs no clamp; a data-dependent one is clamped (robust access; the
    // reference interpreter rejects out-of-range indices).
    const known = /^i32\((\d+)\)$/.exec(raw);
    const j = known ? lit(Math.min(Number(known[1]), len - 1)) : ixVar(w.let(`u32(clamp(${raw}, 0, ${len - 1}))`, 'i'), len);
    return w.value(src.id, idx.map((e, k) => (k === axis ? j : e)));
  },

  rand: (w, n, idx) => {
    const seed = w.graph.node(n.inputs[0]!).id;
    w.helpers.add('rand');
    w.countOps(TRANSCENDENTAL);
    return w.let(`rand(${printIx(w.linear(idx, n.type.shape))}, ${w.value(seed, [ZERO])}, ${w.value(seed, [lit(1)])}, ${n.attrs.stream >>> 0}u)`);
  },
  stopGradient: identity,
  straightThrough: identity,
};
