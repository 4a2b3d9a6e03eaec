// The expression emitter: turns "the value of node n at index idx" into WGSL statements for a
// kernel template (it implements kernels/template.ts's KernelBuilder). Nodes the fusion plan
// inlines are computed in place by their op's lowering (the LOWER map below); stored nodes are
// read from their buffer; small constant tensors are folded into the code (no binding); values a
// template provides (matmul accumulators, row statistics) are used as given. Index arithmetic is
// built as kernels/expr.ts trees with every shape a compile-time constant, and simplified before
// printing. `finish()` then removes dead lets and the bindings nothing reads any more.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import type { OpAttrs, OpName } from '../src/core/ir/ops.ts';
import { numel, stridesOf, type DType, type Shape } from '../src/core/ir/shape.ts';
import { add, bound, canonicalIndex, div, dot, ixVar, lit, max, min, mod, mul, printIndex, printIx, sub, ZERO, type Index, type Ix } from '../kernels/expr.ts';
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
  /** Bound as array<vec4<f32>> (aligned vector loads and stores) instead of an array of scalars. */
  readonly vec4?: boolean;
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
/** Whether a stored node is a small constant the kernels carry as literals instead of a binding. */
const isFolded = (n: Node): boolean => n.op === 'constant' && n.attrs.fold !== false && n.attrs.data.length <= FOLD_CONSTANT_LIMIT;

export class KernelWriter implements KernelBuilder {
  private readonly out: string[] = [];
  private readonly scopes: Map<string, string>[] = [new Map()];
  private readonly opScopes: number[] = [0];
  private indent = 1;
  private counter = 0;
  private readonly bindingMap = new Map<number, Binding>();
  /** Every binding in registration order (scalar and vec4 views). */
  private readonly bindingOrder: Binding[] = [];
  readonly helpers = new Set<HelperName>();
  private readonly decls: string[] = [];
  /** Values supplied by the kernel template instead of being emitted (anchors). */
  private readonly provided = new Map<number, (idx: Index) => string>();
  /** Vector values supplied by the template (a matmul's vec4 accumulator); undefined: not at that index. */
  private readonly providedVec = new Map<number, (idx: Index, axis: number) => string | undefined>();
  private readonly vec4Bindings = new Map<number, Binding>();
  /** Nodes whose value this kernel computed (for the plan's description). */
  readonly fusedNodes = new Set<number>();
  private readonly folded = new Map<number, string>();
  /** Definitions of the index lets (name -> expression), for simplifying through them. */
  private readonly ixDefs = new Map<string, Ix>();

  constructor(
    readonly graph: Graph,
    readonly fusion: FusionState,
    /**
     * Loop bounds the driver cannot see as constants (CPU adapters): lavapipe fully unrolls loops
     * with small constant trip counts and expands every load per lane, so an unrolled 16-step
     * row loop compiled in 3.4 s instead of 0.2 s (measured; run time unchanged).
     */
    readonly opaqueLoopBounds = false,
  ) {}

  private opaqueUsed = false;

  /** A new local name: prefix, underscore, counter (no WGSL keyword, type or builtin has that form; checked). */
  fresh(prefix = 'v'): string {
    return assertFreeName(`${prefix}_${this.counter++}`);
  }

  line(s: string): void {
    this.out.push('  '.repeat(this.indent) + s);
    const m = /^\s*var\s+([A-Za-z_]\w*)/.exec(s);
    if (m) this.mutable.add(m[1]!);
    // A let written by a template inside loops: treated as depending on all of them.
    const l = /^\s*let\s+([A-Za-z_]\w*)/.exec(s);
    if (l) for (const loop of this.loops) loop.variant.add(l[1]!);
  }

  /**
   * Loops being emitted, outermost first: where their header line is (lets that do not depend on
   * the loop are inserted before it) and the names that vary with the loop.
   */
  private readonly loops: { at: number; indent: number; variant: Set<string> }[] = [];
  /** Names of `var`s (mutable: never hoisted) and of module-scope workgroup arrays. */
  private readonly mutable = new Set<string>();

  /**
   * Emits `let name = expr` hoisted out of every enclosing loop it does not depend on (loop
   * variables, names defined from them, mutable variables and workgroup memory are dependencies).
   * Values are pure (reads of storage the kernel does not write while it runs), so evaluating them
   * earlier is safe: loads of loop-invariant operands (LayerNorm statistics in a matmul prologue,
   * row indices) are then done once instead of once per iteration.
   */
  private emitLet(name: string, expr: string): void {
    const names = expr.match(/\b[A-Za-z_]\w*\b/g) ?? [];
    if (names.some((n) => this.mutable.has(n))) {
      this.line(`let ${name} = ${expr};`);
      return;
    }
    // Innermost loop the expression depends on; hoist to just inside it (or out of all loops).
    let depth = this.loops.length;
    while (depth > 0 && !names.some((n) => this.loops[depth - 1]!.variant.has(n))) depth--;
    if (depth === this.loops.length) {
      this.out.push('  '.repeat(this.indent) + `let ${name} = ${expr};`);
    } else {
      const target = this.loops[depth]!;
      this.out.splice(target.at, 0, '  '.repeat(target.indent) + `let ${name} = ${expr};`);
      for (let d = depth; d < this.loops.length; d++) this.loops[d]!.at++;
    }
    for (let d = 0; d < depth; d++) this.loops[d]!.variant.add(name);
  }

  moduleDecl(s: string): void {
    if (!this.decls.includes(s)) this.decls.push(s);
    const m = /^var<workgroup>\s+([A-Za-z_]\w*)/.exec(s);
    if (m) this.mutable.add(m[1]!);
  }

  /**
   * Emits `let name = expr;` and returns the name (names and literals are returned as they are).
   * No reuse by text: an expression may read state that changes (workgroup memory, accumulators).
   */
  let(expr: string, prefix = 'v'): string {
    if (/^[A-Za-z_][\w.]*$/.test(expr) || /^\(?-?\d[\d.e+-]*u?\)?$/.test(expr)) return expr;
    const name = this.fresh(prefix);
    this.emitLet(name, expr);
    return name;
  }

  /** Index expressions read only lets, loop counters and builtins: equal text, equal value in a scope. */
  letIx(e: Ix, prefix = 'i'): Ix {
    if (e.k === 'const' || e.k === 'var') return e;
    const text = printIx(e);
    const key = `ix:${text}`;
    const name = this.lookup(key) ?? this.let(text, prefix);
    this.remember(key, name);
    this.ixDefs.set(name, e);
    return ixVar(name, bound(e));
  }

  /** A nested block (loop or branch body) with its own memo scope; returns the ops counted inside. */
  block(header: string, body: () => void): number {
    const loopVar = /^\s*for\s*\(\s*var\s+([A-Za-z_]\w*)/.exec(header)?.[1];
    if (loopVar && this.opaqueLoopBounds) {
      // `k < 64u` -> `k < 64u + opaque0` (opaque0 is 0 at run time; see the constructor).
      const m = /^(\s*for\s*\([^;]*;\s*[A-Za-z_]\w*\s*<\s*)(\d+u)(\s*;.*)$/.exec(header);
      if (m) {
        header = `${m[1]}${m[2]} + opaque0${m[3]}`;
        this.opaqueUsed = true;
      }
    }
    if (loopVar) {
      this.loops.push({ at: this.out.length, indent: this.indent, variant: new Set([loopVar]) });
    }
    this.line(`${header} {`);
    this.indent++;
    this.scopes.push(new Map());
    this.opScopes.push(0);
    body();
    this.scopes.pop();
    const ops = this.opScopes.pop()!;
    this.indent--;
    this.line('}');
    if (loopVar) this.loops.pop();
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

  provideVec(id: number, at: (idx: Index, axis: number) => string | undefined): void {
    this.providedVec.set(id, at);
  }

  /**
   * The same tensor as `buffer(id)`, bound a second time as array<vec4<f32>> (the binding's range
   * is the tensor's; callers only use it when the tensor's length is a multiple of 4).
   */
  bufferVec4(id: number, write = false): string {
    id = this.fusion.storage(id);
    const node = this.graph.node(id);
    if (node.type.dtype !== 'f32') throw new Error(`vec4 binding of a ${node.type.dtype} tensor (%${id})`);
    const prev = this.vec4Bindings.get(id);
    if (prev) return prev.name;
    const access = write || !BUFFER_LEAVES.has(node.op) ? 'read_write' : 'read';
    const b: Binding = { tensor: id, name: `buf${this.bindingOrder.length}v`, dtype: 'f32', access, vec4: true };
    this.vec4Bindings.set(id, b);
    this.bindingOrder.push(b);
    return b.name;
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
    const b: Binding = { tensor: id, name: `buf${this.bindingOrder.length}`, dtype: node.type.dtype, access };
    this.bindingMap.set(id, b);
    this.bindingOrder.push(b);
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
    // Axis indices from the offset's definition (not its name), so that the simplifier sees
    // (r·64 + k) / 64 = r, (r·64 + k) % 64 = k for k < 64, ...
    const e = f.k === 'var' ? (this.ixDefs.get(f.name) ?? f) : f;
    const idx = shape.map((dim, k) => (dim === 1 ? ZERO : this.letIx(k === 0 ? div(e, st[k]!) : mod(div(e, st[k]!), dim), 'i')));
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
      v = isFolded(stored)
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
   * Node `id`'s values at idx, idx + e, idx + 2e, idx + 3e (e: the unit step along `axis`) as one
   * vec4<f32>. The caller guarantees idx[axis] is a multiple of 4 and idx[axis] + 3 is in range.
   * Stored tensors contiguous along the axis are read with one aligned vec4 load; inlined
   * elementwise ops and views are lowered on vectors; anything else is assembled from four
   * scalar values (always correct, just more loads).
   */
  vec4(id: number, at: Index, axis: number): string {
    const node = this.graph.node(id);
    const shape = node.type.shape;
    const idx = canonicalIndex(at, shape);
    if (shape[axis] === 1) throw new Error(`vec4 along an axis of extent 1 (%${id})`);
    const key = `v4:${id}@${printIndex(idx)}#${axis}`;
    const hit = this.lookup(key);
    if (hit) return hit;
    const v = this.vec4Uncached(node, idx, axis);
    this.remember(key, v);
    return v;
  }

  /** `vec4` of a node this kernel computes even if it is stored (a kernel's root). */
  computeVec4(id: number, at: Index, axis: number): string {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const pv = this.providedVec.get(id);
    const v = pv?.(idx, axis);
    if (v !== undefined) return v;
    if (node.type.dtype !== 'f32') throw new FusionError(id, `vector of a ${node.type.dtype} node`);
    const lower = VEC_LOWER[node.op] as VecLowering<OpName> | undefined;
    const out = lower?.(this, node as Node<OpName>, idx, axis);
    if (out !== undefined) {
      this.fusedNodes.add(id);
      return out;
    }
    // No vector form here: four scalars computed in place.
    const parts = [0, 1, 2, 3].map((j) => this.compute(id, idx.map((e, a) => (a === axis ? add(e, j) : e))));
    return this.let(`vec4<f32>(${parts.join(', ')})`, 'vq');
  }

  vec4Reaches(id: number, axis: number, target: number): number | undefined {
    return vecReach(this.graph, this.fusion, id, axis, target);
  }

  /** Load sequences one vec4 of `id` along `axis` costs (1 when it is one aligned vector load). */
  vec4Loads(id: number, axis: number): number {
    return vecLoadCount(this.graph, this.fusion, id, axis);
  }

  private splat(v: string): string {
    // A literal splat stays inline (readable, and free); values get a name.
    return /^\(?-?\d[\d.e+-]*\)?$/.test(v) ? `vec4<f32>(${v})` : this.let(`vec4<f32>(${v})`, 'vs');
  }

  private vec4Scalars(node: Node, idx: Index, axis: number): string {
    const parts = [0, 1, 2, 3].map((j) => this.value(node.id, idx.map((e, a) => (a === axis ? add(e, j) : e))));
    return this.let(`vec4<f32>(${parts.join(', ')})`, 'vq');
  }

  /** Input k of an elementwise node as a vector along `axis` of the node (a splat where it is broadcast). */
  inputVecOf(node: Node, k: number, idx: Index, axis: number): string {
    const inp = this.graph.node(node.inputs[k]!);
    const bidx = this.broadcastIndex(idx, inp.type.shape);
    const inAxis = axis - (idx.length - inp.type.shape.length);
    if (inAxis < 0 || inp.type.shape[inAxis] === 1) return this.splat(this.value(inp.id, bidx));
    return this.vec4(inp.id, bidx, inAxis);
  }

  private vec4Uncached(node: Node, idx: Index, axis: number): string {
    const pv = this.providedVec.get(node.id);
    if (pv) {
      const v = pv(idx, axis);
      if (v !== undefined) return v;
    }
    if (node.type.dtype !== 'f32' || this.provided.has(node.id)) return this.vec4Scalars(node, idx, axis);
    if (this.fusion.isMaterialized(node.id)) {
      const stored = this.graph.node(this.fusion.storage(node.id));
      const st = stridesOf(node.type.shape);
      const folded = isFolded(stored);
      if (folded || st[axis] !== 1 || node.type.shape[axis]! % 4 !== 0) return this.vec4Scalars(node, idx, axis);
      const at = idx.reduce<Ix>((acc, e, a) => (node.type.shape[a] === 1 ? acc : add(acc, a === axis ? div(e, 4) : mul(e, st[a]! / 4))), ZERO);
      return this.let(`${this.bufferVec4(node.id)}[${printIx(at)}]`, 'vl');
    }
    const lower = VEC_LOWER[node.op] as VecLowering<OpName> | undefined;
    const v = lower?.(this, node as Node<OpName>, idx, axis);
    if (v !== undefined) {
      this.fusedNodes.add(node.id);
      return v;
    }
    return this.vec4Scalars(node, idx, axis);
  }

  /** The input index a reshape reads for output index idx (shared by the scalar and vector lowerings). */
  reshapeSource(n: Node<'reshape'>, idx: Index): Index {
    const inShape = this.graph.node(n.inputs[0]!).type.shape;
    const known = this.knownFlat(idx, n.type.shape);
    if (known) return this.unflatten(known, inShape);
    const a = n.type.shape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    const b = inShape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    if (a.length === b.length && a.every(([d], k) => d === b[k]![0])) {
      const inIdx: Ix[] = inShape.map(() => ZERO);
      a.forEach(([, ko], k) => (inIdx[b[k]![1]] = idx[ko]!));
      return inIdx;
    }
    return this.unflatten(this.linear(idx, n.type.shape), inShape);
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
    if (this.opaqueUsed) lines.unshift(`  let ${assertFreeName('opaque0')} = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls`);
    let body = lines.join('\n');
    // One binding per tensor (WebGPU forbids overlapping writable bindings, and binding limits
    // count tensors): a tensor read both as vectors and as scalars keeps its vec4 binding, and its
    // scalar reads become component reads of it.
    for (const [id, v] of this.vec4Bindings) {
      const sc = this.bindingMap.get(id);
      if (!sc) continue;
      body = rewriteScalarReads(body, sc.name, v.name);
    }
    const declText = this.decls.join('\n');
    const used = this.bindingOrder.filter((b) => new RegExp(`\\b${b.name}\\b`).test(body) || new RegExp(`\\b${b.name}\\b`).test(declText));
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

  sum: anchor, reduceMax: anchor, topk: anchor, matmul: anchor, scatterAdd: anchor, attentionBackward: anchor,

  // An index already related to a flat offset (an epilogue's) maps through that offset, so the
  // epilogue reaches its accumulator at the very index the template provides it.
  reshape: (w, n, idx) => w.value(n.inputs[0]!, w.reshapeSource(n, idx)),
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
    return w.let(`rand(${printIx(w.linear(idx, n.type.shape))}, ${w.value(seed, [ZERO])}, ${w.value(seed, [lit(1)])}, u32(${w.value(n.inputs[1]!, [ZERO])}))`);
  },
  stopGradient: identity,
  straightThrough: identity,
};

// ---------------------------------------------------------------------------------------------
// Vector (vec4) lowering: four consecutive elements along one axis at once. Returns undefined
// where an op has no vector form (the caller then assembles the vector from scalar values).

type VecLowering<K extends OpName> = (w: KernelWriter, n: Node<K>, idx: Index, axis: number) => string | undefined;

const V4 = 'vec4<f32>';
const vunary = (f: (x: string, w: KernelWriter) => string, cost = 1): VecLowering<OpName> => (w, n, idx, axis) => {
  w.countOps(4 * cost);
  return w.let(f(w.vec4(n.inputs[0]!, idx, axis), w), 'vv');
};
const vhelper = (h: HelperName): VecLowering<OpName> => vunary((x, w) => {
  w.helpers.add(h);
  return `${V4}(${['x', 'y', 'z', 'w'].map((c) => `${h}(${x}.${c})`).join(', ')})`;
}, TRANSCENDENTAL * 2);
const vbinary = (f: (a: string, b: string) => string): VecLowering<OpName> => (w, n, idx, axis) => {
  if (n.inputs.some((i) => w.graph.node(i).type.dtype !== 'f32')) return undefined;
  w.countOps(4);
  return w.let(f(w.inputVecOf(n, 0, idx, axis), w.inputVecOf(n, 1, idx, axis)), 'vv');
};
const videntity: VecLowering<OpName> = (w, n, idx, axis) => w.vec4(n.inputs[0]!, idx, axis);
const none: VecLowering<OpName> = () => undefined;

/** For a reshape read along output `axis`: the input axis the same four elements run along, if any. */
export function reshapeVecAxis(outShape: readonly number[], inShape: readonly number[], axis: number): number | undefined {
  if (outShape[axis]! % 4 !== 0) return undefined;
  const inner = (s: readonly number[], a: number) => s.slice(a + 1).reduce((x, y) => x * y, 1);
  const pOut = inner(outShape, axis);
  for (let b = 0; b < inShape.length; b++) if (inShape[b]! % 4 === 0 && inner(inShape, b) === pOut) return b;
  return undefined;
}

const VEC_LOWER: { readonly [K in OpName]?: VecLowering<K> } = {
  fill: (w, n) => (n.attrs.dtype === 'f32' ? `${V4}(${literal(n.attrs.value, 'f32')})` : undefined),
  neg: vunary((x) => `-${x}`),
  exp: vunary((x) => `exp(${x})`, TRANSCENDENTAL),
  log: vunary((x) => `log(${x})`, TRANSCENDENTAL),
  sqrt: vunary((x) => `sqrt(${x})`, TRANSCENDENTAL),
  rsqrt: vunary((x) => `inverseSqrt(${x})`, TRANSCENDENTAL),
  recip: vunary((x) => `${V4}(1.0) / ${x}`),
  tanh: vhelper('tanh'),
  erf: vhelper('erf'),
  sigmoid: vhelper('sigmoid'),
  relu: vunary((x) => `max(${x}, ${V4}(0.0))`),
  sign: vunary((x) => `sign(${x})`),
  abs: vunary((x) => `abs(${x})`),
  add: vbinary((a, b) => `${a} + ${b}`),
  sub: vbinary((a, b) => `${a} - ${b}`),
  mul: vbinary((a, b) => `${a} * ${b}`),
  div: vbinary((a, b) => `${a} / ${b}`),
  max: vbinary((a, b) => `max(${a}, ${b})`),
  min: vbinary((a, b) => `min(${a}, ${b})`),
  compare: (w, n, idx, axis) => {
    if (n.inputs.some((i) => w.graph.node(i).type.dtype !== 'f32')) return undefined;
    w.countOps(4);
    return w.let(`select(${V4}(0.0), ${V4}(1.0), ${w.inputVecOf(n, 0, idx, axis)} ${CMP[n.attrs.kind]} ${w.inputVecOf(n, 1, idx, axis)})`, 'vv');
  },
  select: (w, n, idx, axis) => {
    if (n.inputs.some((i) => w.graph.node(i).type.dtype !== 'f32')) return undefined;
    w.countOps(4);
    const [c, t, f] = [0, 1, 2].map((k) => w.inputVecOf(n, k, idx, axis));
    return w.let(`select(${f}, ${t}, ${c} != ${V4}(0.0))`, 'vv');
  },
  cast: none,
  reshape: (w, n, idx, axis) => {
    const inShape = w.graph.node(n.inputs[0]!).type.shape;
    const b = reshapeVecAxis(n.type.shape, inShape, axis);
    return b === undefined ? undefined : w.vec4(n.inputs[0]!, w.reshapeSource(n, idx), b);
  },
  permute: (w, n, idx, axis) => {
    const inIdx = new Array<Ix>(idx.length);
    n.attrs.perm.forEach((p, k) => (inIdx[p] = idx[k]!));
    return w.vec4(n.inputs[0]!, inIdx, n.attrs.perm[axis]!);
  },
  slice: (w, n, idx, axis) =>
    n.attrs.starts[axis]! % 4 === 0 ? w.vec4(n.inputs[0]!, idx.map((e, k) => add(e, n.attrs.starts[k]!)), axis) : undefined,
  broadcast: (w, n, idx, axis) => w.inputVecOf(n, 0, idx, axis),
  gather: (w, n, idx, axis) => {
    const [src, ix] = n.inputs.map((i) => w.graph.node(i)) as [Node, Node];
    const g = n.attrs.axis;
    if (axis === g || (axis < g && ix.type.shape[axis] !== 1)) return undefined;
    const ixIdx = ix.type.shape.map((d, k) => (k === g ? idx[g]! : d === 1 ? ZERO : idx[k]!));
    const raw = w.value(ix.id, ixIdx);
    const len = src.type.shape[g]!;
    const known = /^i32\((\d+)\)$/.exec(raw);
    const j = known ? lit(Math.min(Number(known[1]), len - 1)) : ixVar(w.let(`u32(clamp(${raw}, 0, ${len - 1}))`, 'i'), len);
    return w.vec4(src.id, idx.map((e, k) => (k === g ? j : e)), axis);
  },
  stopGradient: videntity,
  straightThrough: videntity,
};

/**
 * Load sequences (buffer reads) it takes to produce one vec4 of node `id` along `axis` with the
 * vector lowering above: 1 for an aligned contiguous read, 4 where four scalars are assembled,
 * summed over the leaves. Lets a template pick the axis along which an operand is cheap to read.
 */
export function vecLoadCount(graph: Graph, fusion: FusionState, id: number, axis: number): number {
  const scalarMemo = new Map<number, number>();
  const scalar = (n: number): number => {
    const hit = scalarMemo.get(n);
    if (hit !== undefined) return hit;
    const node = graph.node(n);
    let c: number;
    if (fusion.isMaterialized(n)) {
      const stored = graph.node(fusion.storage(n));
      c = isFolded(stored) ? 0 : 1;
    } else c = node.inputs.reduce((s, i) => s + scalar(i), 0);
    scalarMemo.set(n, c);
    return c;
  };
  const memo = new Map<string, number>();
  const vec = (n: number, a: number): number => {
    const key = `${n}#${a}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const node = graph.node(n);
    const shape = node.type.shape;
    const viaInput = (k: number): number => {
      const inp = graph.node(node.inputs[k]!);
      const inAxis = a - (shape.length - inp.type.shape.length);
      return inAxis < 0 || inp.type.shape[inAxis] === 1 ? scalar(inp.id) : vec(inp.id, inAxis);
    };
    let c: number;
    if (node.type.dtype !== 'f32') c = 4 * scalar(n);
    else if (fusion.isMaterialized(n)) {
      const st = stridesOf(shape);
      c = scalar(n) === 0 ? 0 : st[a] === 1 && shape[a]! % 4 === 0 ? 1 : 4;
    } else {
      switch (node.op) {
        case 'permute': c = vec(node.inputs[0]!, node.attrs.perm[a]!); break;
        case 'reshape': {
          const b = reshapeVecAxis(shape, graph.node(node.inputs[0]!).type.shape, a);
          c = b === undefined ? 4 * scalar(n) : vec(node.inputs[0]!, b);
          break;
        }
        case 'slice': c = node.attrs.starts[a]! % 4 === 0 ? vec(node.inputs[0]!, a) : 4 * scalar(n); break;
        case 'broadcast': c = viaInput(0); break;
        case 'gather': {
          const ix = graph.node(node.inputs[1]!);
          const g = node.attrs.axis;
          c = a === g || (a < g && ix.type.shape[a] !== 1) ? 4 * scalar(n) : vec(node.inputs[0]!, a) + scalar(ix.id);
          break;
        }
        case 'stopGradient': case 'straightThrough': c = vec(node.inputs[0]!, a); break;
        default:
          c = VEC_LOWER[node.op] && VEC_LOWER[node.op] !== none && node.inputs.every((i) => graph.node(i).type.dtype === 'f32')
            ? node.inputs.reduce((s, _i, k) => s + viaInput(k), 0)
            : 4 * scalar(n);
      }
    }
    memo.set(key, c);
    return c;
  };
  return vec(id, axis);
}

/**
 * Whether the vector lowering of `id` (a kernel root, computed in place) along `axis` reaches node
 * `target` (a provided accumulator) only through vector lowerings: the axis it arrives with, or
 * undefined when some path would need `target` as scalars (or arrives along different axes).
 */
export function vecReach(graph: Graph, fusion: FusionState, id: number, axis: number, target: number): number | undefined {
  const reaches = new Map<number, boolean>();
  const dependsOn = (n: number, isRoot = false): boolean => {
    if (n === target) return true;
    if (!isRoot && fusion.isMaterialized(n)) return false;
    const hit = reaches.get(n);
    if (hit !== undefined) return hit;
    const r = graph.node(n).inputs.some((i) => dependsOn(i));
    reaches.set(n, r);
    return r;
  };
  const BAD = -1, NONE = -2;
  const combine = (a: number, b: number) => (a === NONE ? b : b === NONE ? a : a === b ? a : BAD);
  const visit = (n: number, a: number, isRoot = false): number => {
    if (n === target) return a;
    if (!dependsOn(n, isRoot)) return NONE;
    const node = graph.node(n);
    const shape = node.type.shape;
    const via = (k: number, inAxis: number | undefined): number => {
      const inp = graph.node(node.inputs[k]!);
      if (inAxis === undefined || inAxis < 0 || inp.type.shape[inAxis] === 1) return dependsOn(inp.id) ? BAD : NONE;
      return visit(inp.id, inAxis);
    };
    switch (node.op) {
      case 'reshape': return via(0, reshapeVecAxis(shape, graph.node(node.inputs[0]!).type.shape, a));
      case 'permute': return via(0, node.attrs.perm[a]);
      case 'slice': return node.attrs.starts[a]! % 4 === 0 ? via(0, a) : BAD;
      case 'stopGradient': case 'straightThrough': return via(0, a);
      case 'broadcast': return via(0, a - (shape.length - graph.node(node.inputs[0]!).type.shape.length));
      default: {
        const lower = VEC_LOWER[node.op];
        if (!lower || lower === none || node.type.dtype !== 'f32' || node.inputs.some((i) => graph.node(i).type.dtype !== 'f32')) return BAD;
        if (OPS_WITH_VIEW_SEMANTICS.has(node.op)) return BAD;
        let r = NONE;
        node.inputs.forEach((_i, k) => (r = combine(r, via(k, a - (shape.length - graph.node(node.inputs[k]!).type.shape.length)))));
        return r;
      }
    }
  };
  const r = visit(id, axis, true);
  return r >= 0 ? r : undefined;
}

/** Ops with a vector lowering that are not elementwise (handled case by case above). */
const OPS_WITH_VIEW_SEMANTICS: ReadonlySet<OpName> = new Set(['gather', 'fill']);

/** `name[e]` -> `vname[(e) / 4u][(e) % 4u]` (reads only: a scalar store through a vector binding is refused). */
export function rewriteScalarReads(body: string, name: string, vname: string): string {
  const re = new RegExp(`\\b${name}\\[`, 'g');
  let out = '', last = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    let depth = 1, i = m.index + m[0].length;
    while (i < body.length && depth > 0) {
      if (body[i] === '[') depth++;
      else if (body[i] === ']') depth--;
      i++;
    }
    const e = body.slice(m.index + m[0].length, i - 1);
    if (/^\s*=[^=]/.test(body.slice(i))) throw new Error(`internal error: ${name} is written as scalars and as vectors in one kernel`);
    const simple = /^[A-Za-z_]\w*$|^\d+u$/.test(e.trim());
    const ex = simple ? e.trim() : `(${e})`;
    out += `${body.slice(last, m.index)}${vname}[${ex} / 4u][${ex} % 4u]`;
    last = i;
    re.lastIndex = i;
  }
  return out + body.slice(last);
}
