// The emitter: builds one kernel's IR tree for a kernel template (it implements
// kernels/template.ts's KernelBuilder). "The value of node n at index idx" becomes an expression:
// nodes the fusion plan inlines are computed in place by their op's lowering (codegen/lower.ts),
// stored nodes are loaded from their buffer, small constant tensors are folded into the code (no
// binding), and values a template provides (matmul accumulators, row statistics) are used as
// given. Values are memoised per scope, so a node read twice at one index is computed once. The
// finished tree goes through the passes of codegen/passes/ and is printed by codegen/render.ts.

import type { Graph, Node } from '../src/core/ir/graph.ts';
import type { OpName } from '../src/core/ir/ops.ts';
import { numel, stridesOf, type Shape } from '../src/core/ir/shape.ts';
import {
  add, bound, builtin, lowest, canonicalIndex, cast, div, indexKey, length, literal, load, local, mod, mul, splat, sub, u32, vec4,
  type Index,
} from '../kernels/alu.ts';
import { agreeOnAccess, Buf, exprKey, exprSize, Local, U32, VEC4, walkExpr, ty, type Builtin, type Expr, type KernelIR, type Stmt, type Ty } from '../kernels/ir.ts';
import { FusionError, type KernelBuilder, type Variable } from '../kernels/template.ts';
import { BUFFER_LEAVES } from './fusion/plan.ts';
import { LOWER, SCALAR, type Lanes, type Lowering, type LowerContext } from './lower.ts';
import { vecLoadCount, vecReach } from './vector-analysis.ts';
import { arenaOf, isFolded, type FusionState } from './stored.ts';

export type { FusionState };

/**
 * What a kernel's code is specialised to: 'all' sizes (each is a constant of the code), or all but
 * the row counts (`rows`: tokens × batch are read from the bindings' lengths at run time, so the
 * blocks before and after a token merge, which differ only in rows, share one module).
 */
export type Specialize = 'rows' | 'all';

/** Whether an index expression reads only lets, loop counters, builtins and constants (so equal keys mean equal values in a scope). */
function isPureIndex(e: Expr): boolean {
  let pure = true;
  walkExpr(e, (x) => {
    if (x.k === 'load' || x.k === 'call' || (x.k === 'local' && x.x.kind === 'var')) pure = false;
  });
  return pure;
}

export class KernelWriter implements KernelBuilder, LowerContext {
  /** The blocks being built, outermost first (the kernel's body, then open loop and if bodies). */
  private readonly blocks: Stmt[][] = [[]];
  /** Memos per block: node values by index, index lets by key, flat/unflattened index relations. */
  private readonly scopes: Map<string, unknown>[] = [new Map()];
  private readonly opScopes: number[] = [0];
  private readonly scalarBuffers = new Map<number, Buf>();
  private readonly vectorBuffers = new Map<number, Buf>();
  /** Every storage binding in registration order (scalar and vec4 views). */
  private readonly storage: Buf[] = [];
  private readonly moduleArrays: Buf[] = [];
  private readonly tables = new Map<number, Buf>();
  /** Values supplied by the kernel template instead of being emitted (anchors). */
  private readonly provided = new Map<number, (idx: Index) => Expr>();
  /** Vector values supplied by the template (a matmul's vec4 accumulator); undefined: not at that index. */
  private readonly providedVec = new Map<number, (idx: Index, axis: number) => Expr | undefined>();
  /** Definitions of the u32 lets, for simplifying through them (unflatten). */
  private readonly defs = new Map<Local, Expr>();
  /** Nodes whose value this kernel computed (for the plan's description). */
  readonly fusedNodes = new Set<number>();

  constructor(
    readonly graph: Graph,
    readonly fusion: FusionState,
    /** 'all': every size is a constant of the code; 'rows': row counts are read at run time (runtimeCount). */
    readonly specialize: Specialize,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Statements

  private push(s: Stmt): void {
    this.blocks[this.blocks.length - 1]!.push(s);
  }

  /** Runs `body` in a new block and memo scope; returns its statements and the ops counted inside. */
  private nested(body: () => void): { stmts: Stmt[]; ops: number } {
    this.blocks.push([]);
    this.scopes.push(new Map());
    this.opScopes.push(0);
    body();
    this.scopes.pop();
    return { stmts: this.blocks.pop()!, ops: this.opScopes.pop()! };
  }

  let(e: Expr, hint = 'v'): Expr {
    if (e.k === 'lit' || e.k === 'local' || e.k === 'builtin') return e;
    // Index arithmetic reads only values fixed in the scope: equal keys, equal values.
    const memoKey = e.ty === U32 && isPureIndex(e) ? `ix:${exprKey(e)}` : undefined;
    const hit = memoKey === undefined ? undefined : this.lookup<Expr>(memoKey);
    if (hit) return hit;
    const x = new Local(hint, e.ty, 'let');
    this.push({ k: 'let', x, value: e });
    if (e.ty === U32) this.defs.set(x, e);
    const v = e.ty === U32 ? local(x, bound(e), lowest(e)) : local(x);
    if (memoKey !== undefined) this.remember(memoKey, v);
    return v;
  }

  variable(init: Expr, hint = 'acc'): Variable {
    const x = new Local(hint, init.ty, 'var');
    this.push({ k: 'var', x, init });
    return { ref: local(x) };
  }

  assign(v: Variable, e: Expr): void {
    if (v.ref.k !== 'local' || v.ref.x.kind !== 'var') throw new Error('assign: not a variable');
    this.push({ k: 'assign', x: v.ref.x, value: e });
  }

  store(buf: Buf, at: Expr, value: Expr): void {
    this.push({ k: 'store', buf, at, value });
  }

  loop(hint: string, from: Expr | number, to: Expr | number, step: Expr | number, body: (i: Expr) => void): number {
    const x = new Local(hint, U32, 'loop');
    const [f, t, s] = [from, to, step].map((e) => (typeof e === 'number' ? u32(e) : e)) as [Expr, Expr, Expr];
    // Inside the body i < to: its bound is `to` itself when constant, or one past the last value
    // a constant loop reaches (i + 3 < to in a loop stepping 4 from 0 to a multiple of 4).
    const b = f.k === 'lit' && t.k === 'lit' && s.k === 'lit' && t.v > f.v && s.v > 0 ? f.v + s.v * Math.floor((t.v - f.v - 1) / s.v) + 1 : t.k === 'lit' ? t.v : bound(t);
    const { stmts, ops } = this.nested(() => body(local(x, b)));
    this.push({ k: 'loop', x, from: f, to: t, step: s, body: stmts });
    return ops;
  }

  halvingLoop(hint: string, from: number, body: (s: Expr) => void): void {
    const x = new Local(hint, U32, 'loop');
    const { stmts } = this.nested(() => body(local(x, from + 1)));
    this.push({ k: 'halve', x, from: u32(from), body: stmts });
  }

  when(cond: Expr, body: () => void): number {
    if (cond.k === 'lit' && !cond.v) return 0;
    const { stmts, ops } = this.nested(body);
    if (cond.k === 'lit') for (const s of stmts) this.push(s);
    else this.push({ k: 'if', cond, body: stmts });
    this.opScopes[this.opScopes.length - 1]! += ops;
    return ops;
  }

  exitIf(cond: Expr): void {
    if (cond.k === 'lit' && !cond.v) return;
    this.push({ k: 'if', cond, body: [{ k: 'return' }] });
  }

  barrier(memory: 'workgroup' | 'storage' = 'workgroup'): void {
    this.push(memory === 'storage' ? { k: 'barrier', storage: true } : { k: 'barrier' });
  }

  builtin(b: Builtin, comp?: 0 | 1 | 2, limit = Infinity): Expr {
    return builtin(b, comp, limit);
  }

  get opsHere(): number {
    return this.opScopes[this.opScopes.length - 1]!;
  }
  countOps(n: number): void {
    this.opScopes[this.opScopes.length - 1]! += n;
  }

  // ---------------------------------------------------------------------------------------------
  // Memory

  /**
   * Registers a storage binding for a stored node. Kernel outputs share one arena buffer, and
   * WebGPU forbids binding a buffer both read-only and writable in one dispatch, so tensors of the
   * work arena are always bound read_write (their ranges never overlap: the memory planner keeps
   * every tensor live at a step disjoint), and so are the parameter arena's in a kernel writing
   * over a parameter.
   */
  buffer(id: number, write = false): Buf {
    return this.binding(id, write, this.scalarBuffers, ty(this.graph.node(this.fusion.storage(id)).type.dtype));
  }

  /** The same tensor bound a second time as array<vec4<f32>> (callers only use it when its length is a multiple of 4). */
  bufferVec4(id: number, write = false): Buf {
    const node = this.graph.node(this.fusion.storage(id));
    if (node.type.dtype !== 'f32') throw new Error(`vec4 binding of a ${node.type.dtype} tensor (%${node.id})`);
    return this.binding(id, write, this.vectorBuffers, VEC4);
  }

  private binding(id: number, write: boolean, views: Map<number, Buf>, elem: Ty): Buf {
    id = this.fusion.storage(id);
    const prev = views.get(id);
    // A parameter read, then written over (an update written back in place), is bound read_write.
    if (prev && write) prev.access = 'read_write';
    if (prev) return prev;
    const arena = arenaOf(this.graph.node(id));
    const b = new Buf('storage', 'buf', elem, undefined, id, undefined, arena);
    // Every kernel writes the work arena (its outputs), so those bindings are read_write from the
    // start; the parameter arena's only where the kernel writes over one (finish: agreeOnAccess).
    if (write || arena === 'work') b.access = 'read_write';
    views.set(id, b);
    this.storage.push(b);
    return b;
  }

  workgroupArray(hint: string, elem: Ty, length: number): Buf {
    const b = new Buf('workgroup', hint, elem, length);
    this.moduleArrays.push(b);
    return b;
  }

  privateArray(hint: string, elem: Ty, length: number, init?: readonly Expr[]): Buf {
    const b = new Buf('private', hint, elem, length);
    this.push({ k: 'array', buf: b, ...(init ? { init } : {}) });
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // Indices

  private lookup<T>(key: string): T | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const hit = this.scopes[s]!.get(key);
      if (hit !== undefined) return hit as T;
    }
    return undefined;
  }
  private remember(key: string, v: unknown): void {
    this.scopes[this.scopes.length - 1]!.set(key, v);
  }

  relate(flat: Expr, shape: Shape, idx: Index): void {
    const canon = canonicalIndex(idx, shape);
    this.remember(`lin:${shape}:${indexKey(canon)}`, flat);
    this.remember(`unf:${shape}:${exprKey(flat)}`, canon);
  }

  private knownFlat(idx: Index, shape: Shape): Expr | undefined {
    const f = this.lookup<Expr>(`lin:${shape}:${indexKey(canonicalIndex(idx, shape))}`);
    return f && (f.k === 'local' ? { ...f, bound: Math.min(f.bound, numel(shape)) } : f);
  }

  linear(idx: Index, shape: Shape): Expr {
    const known = this.knownFlat(idx, shape);
    if (known) return known;
    return this.linearTerms(idx, shape).reduce((flat, t) => add(flat, mul(t.e, t.stride)), u32(0));
  }

  /**
   * An index's terms index·stride. Adjacent axes split off one value, (v / n)·(n·s) + (v % n)·s,
   * are one term v·s: a [B, T, C] tensor addressed from a row of [B·T, C] costs no division.
   */
  private linearTerms(idx: Index, shape: Shape): { e: Expr; stride: number }[] {
    const canon = canonicalIndex(idx, shape), st = stridesOf(shape);
    const terms: { e: Expr; stride: number }[] = [];
    let axis = 0;
    while (axis < canon.length) {
      let e = canon[axis]!, k = axis;
      for (let merged = this.mergedAxes(e, canon[k + 1], shape[k + 1]); merged; merged = this.mergedAxes(e, canon[k + 1], shape[k + 1])) [e, k] = [merged, k + 1];
      if (shape[k] !== 1 || k === canon.length - 1) terms.push({ e, stride: st[k]! });
      axis = k + 1;
    }
    return terms;
  }

  /** `a·n + b` when a = X / (Q·n) and b = (X / Q) % n (Q = 1: X % n): X / Q; else undefined. */
  private mergedAxes(a: Expr, b: Expr | undefined, n: number | undefined): Expr | undefined {
    if (b === undefined || n === undefined || n <= 1) return undefined;
    const def = (e: Expr): Expr => (e.k === 'local' ? this.defs.get(e.x) ?? e : e);
    const lit = (e: Expr | undefined) => (e?.k === 'lit' ? e.v : undefined);
    const da = def(a), db = def(b);
    if (da.k !== 'alu' || da.op !== 'div' || db.k !== 'alu' || db.op !== 'mod' || lit(db.args[1]) !== n) return undefined;
    const inner = def(db.args[0]!);
    const [x, q] = inner.k === 'alu' && inner.op === 'div' && lit(inner.args[1]) !== undefined ? [inner.args[0]!, lit(inner.args[1])!] : [db.args[0]!, 1];
    if (lit(da.args[1]) !== q * n || exprKey(def(da.args[0]!)) !== exprKey(def(x))) return undefined;
    return q === 1 ? x : db.args[0]!.k === 'local' ? db.args[0]! : div(x, q);
  }

  unflatten(flat: Expr, shape: Shape): Index {
    const f = this.let(flat, 'f');
    const known = this.lookup<Index>(`unf:${shape}:${exprKey(f)}`);
    if (known) return known;
    const st = stridesOf(shape);
    // Axis indices from the offset's definition where that simplifies them ((r·64 + k) / 64 = r,
    // (r·64 + k) % 64 = k for k < 64, ...), else from its name.
    const def = f.k === 'local' ? this.defs.get(f.x) : undefined;
    const axisIndex = (e: Expr, k: number) => (k === 0 ? div(e, st[k]!) : mod(div(e, st[k]!), shape[k]!));
    const smaller = (k: number) => {
      const byName = axisIndex(f, k);
      const byDef = def && axisIndex(def, k);
      return byDef && exprSize(byDef) <= exprSize(byName) ? byDef : byName;
    };
    const idx = shape.map((dim, k) => (dim === 1 ? u32(0) : this.let(smaller(k), 'i')));
    // Each axis index is < its extent (the flat offset is in range).
    const bounded = idx.map((x, k) => (x.k === 'local' ? { ...x, bound: Math.min(x.bound, shape[k]!) } : x));
    this.relate(f, shape, bounded);
    return bounded;
  }

  broadcastIndex(idx: Index, inShape: Shape): Index {
    const off = idx.length - inShape.length;
    return inShape.map((d, k) => (d === 1 ? u32(0) : idx[k + off]!));
  }

  /** The input index a reshape reads for output index idx (shared by the scalar and vector lowerings). */
  reshapeSource(n: Node<'reshape'>, idx: Index): Index {
    const inShape = this.graph.node(n.inputs[0]!).type.shape;
    const known = this.knownFlat(idx, n.type.shape);
    if (known) return this.unflatten(known, inShape);
    const a = n.type.shape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    const b = inShape.map((d, k) => [d, k] as const).filter(([d]) => d !== 1);
    if (a.length === b.length && a.every(([d], k) => d === b[k]![0])) {
      const inIdx: Expr[] = inShape.map(() => u32(0));
      a.forEach(([, ko], k) => (inIdx[b[k]![1]] = idx[ko]!));
      return inIdx;
    }
    return this.unflatten(this.linear(idx, n.type.shape), inShape);
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  provide(id: number, at: (idx: Index) => Expr): void {
    this.provided.set(id, at);
  }

  provideVec(id: number, at: (idx: Index, axis: number) => Expr | undefined): void {
    this.providedVec.set(id, at);
  }

  /**
   * Records that this kernel has just computed stored node `id` at `at` as `v` (a vec4 along
   * `axis` when given): later reads of those elements in the same scope use `v`, not a load of
   * what this kernel writes (AdamW's new moments feed the new parameter in one kernel).
   */
  written(id: number, at: Index, v: Expr, axis?: number): void {
    const idx = canonicalIndex(at, this.graph.node(id).type.shape);
    this.remember(axis === undefined ? `${id}@${indexKey(idx)}` : `v4:${id}@${indexKey(idx)}#${axis}`, v);
  }

  value(id: number, at: Index): Expr {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const key = `${id}@${indexKey(idx)}`;
    const hit = this.lookup<Expr>(key);
    if (hit) return hit;
    let v: Expr;
    if (!this.provided.has(id) && this.fusion.isMaterialized(id)) {
      const stored = this.graph.node(this.fusion.storage(id));
      const flat = this.linear(idx, node.type.shape);
      v = isFolded(stored) ? this.foldedConstant(stored as Node<'constant'>, flat) : this.let(load(this.buffer(id), flat));
    } else {
      v = this.compute(id, idx);
    }
    this.remember(key, v);
    return v;
  }

  /**
   * A small constant tensor read at flat offset `at`, without a buffer: a literal when the offset
   * is known or all values are equal, an affine formula of the offset when the data is one, else
   * a module-scope table.
   */
  private foldedConstant(n: Node<'constant'>, at: Expr): Expr {
    const data = n.attrs.data, dtype = n.type.dtype;
    if (at.k === 'lit') return literal(data[at.v]!, dtype);
    if (data.every((v) => v === data[0])) return literal(data[0]!, dtype);
    // Integer-valued affine data (token positions, column numbers): exact in any dtype.
    const first = data[0]!, step = data.length > 1 ? data[1]! - first : 0;
    const exact = (v: number) => Number.isInteger(v) && Math.abs(v) < 2 ** 24;
    if (data.every((v, i) => v === first + i * step && exact(v)) && exact(step)) {
      const x = cast(at, dtype);
      const scaled = step === 1 ? x : mul(x, literal(Math.abs(step), dtype));
      const e = first === 0 && step >= 0 ? scaled : step >= 0 ? add(literal(first, dtype), scaled) : sub(literal(first, dtype), scaled);
      return this.let(e);
    }
    let table = this.tables.get(n.id);
    if (!table) {
      table = new Buf('table', 'table', ty(dtype), data.length, undefined, Array.from(data));
      this.tables.set(n.id, table);
      this.moduleArrays.push(table);
    }
    return this.let(load(table, at));
  }

  readsThrough(id: number): boolean {
    if (this.provided.has(id) || this.fusion.isMaterialized(id)) return false;
    this.fusedNodes.add(id);
    return true;
  }

  compute(id: number, at: Index): Expr {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const provide = this.provided.get(id);
    if (provide) return provide(idx);
    this.fusedNodes.add(id);
    const v = (LOWER[node.op] as Lowering<OpName>)(this, node as Node<OpName>, idx, SCALAR);
    if (!v) throw new FusionError(id, `${node.op} has no scalar lowering`);
    return v;
  }

  input(node: Node, k: number, idx: Index, lanes: Lanes): Expr {
    const inp = this.graph.node(node.inputs[k]!);
    const bidx = this.broadcastIndex(idx, inp.type.shape);
    if (lanes.width === 1) return this.value(inp.id, bidx);
    const inAxis = lanes.axis - (idx.length - inp.type.shape.length);
    if (inAxis < 0 || inp.type.shape[inAxis] === 1) return this.splat(this.value(inp.id, bidx));
    return this.vec4(inp.id, bidx, inAxis);
  }

  valueAt(id: number, idx: Index, lanes: Lanes): Expr {
    return lanes.width === 1 ? this.value(id, idx) : this.vec4(id, idx, lanes.axis);
  }

  /** A scalar in all four lanes: literal splats stay inline (free), values get a name. */
  private splat(v: Expr): Expr {
    return v.k === 'lit' ? splat(v) : this.let(splat(v), 'vs');
  }

  // ---------------------------------------------------------------------------------------------
  // Vectors

  /**
   * Node `id`'s values at idx, idx + e, idx + 2e, idx + 3e (e: the unit step along `axis`) as one
   * vec4<f32>. The caller guarantees idx[axis] is a multiple of 4 and idx[axis] + 3 is in range.
   * Stored tensors contiguous along the axis are read with one aligned vec4 load; inlined
   * elementwise ops and views are lowered on vectors; anything else is assembled from four
   * scalar values (always correct, just more loads).
   */
  vec4(id: number, at: Index, axis: number): Expr {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    if (node.type.shape[axis] === 1) throw new Error(`vec4 along an axis of extent 1 (%${id})`);
    const key = `v4:${id}@${indexKey(idx)}#${axis}`;
    const hit = this.lookup<Expr>(key);
    if (hit) return hit;
    const v = this.vec4Uncached(node, idx, axis);
    this.remember(key, v);
    return v;
  }

  computeVec4(id: number, at: Index, axis: number): Expr {
    const node = this.graph.node(id);
    const idx = canonicalIndex(at, node.type.shape);
    const v = this.providedVec.get(id)?.(idx, axis);
    if (v !== undefined) return v;
    if (node.type.dtype !== 'f32') throw new FusionError(id, `vector of a ${node.type.dtype} node`);
    const out = (LOWER[node.op] as Lowering<OpName>)(this, node as Node<OpName>, idx, { width: 4, axis });
    if (out !== undefined) {
      this.fusedNodes.add(id);
      return out;
    }
    // No vector form here: four scalars computed in place.
    return this.let(vec4(this.alongAxis(idx, axis).map((i) => this.compute(id, i))), 'vq');
  }

  vec4Reaches(id: number, axis: number, target: number): number | undefined {
    return vecReach(this.graph, this.fusion, id, axis, target);
  }

  vec4Loads(id: number, axis: number): number {
    return vecLoadCount(this.graph, this.fusion, id, axis);
  }

  /** The four indices idx, idx + e, idx + 2e, idx + 3e along `axis`. */
  private alongAxis(idx: Index, axis: number): Index[] {
    return [0, 1, 2, 3].map((j) => idx.map((e, a) => (a === axis ? add(e, j) : e)));
  }

  private vec4Scalars(node: Node, idx: Index, axis: number): Expr {
    return this.let(vec4(this.alongAxis(idx, axis).map((i) => this.value(node.id, i))), 'vq');
  }

  private vec4Uncached(node: Node, idx: Index, axis: number): Expr {
    const pv = this.providedVec.get(node.id)?.(idx, axis);
    if (pv !== undefined) return pv;
    if (node.type.dtype !== 'f32' || this.provided.has(node.id)) return this.vec4Scalars(node, idx, axis);
    if (this.fusion.isMaterialized(node.id)) {
      const stored = this.graph.node(this.fusion.storage(node.id));
      const st = stridesOf(node.type.shape);
      if (isFolded(stored) || st[axis] !== 1 || node.type.shape[axis]! % 4 !== 0) return this.vec4Scalars(node, idx, axis);
      // The vector axis is the last (stride 1): every other stride is a multiple of 4.
      const at = this.linearTerms(idx, node.type.shape).reduce<Expr>((acc, t) => add(acc, t.stride === 1 ? div(t.e, 4) : mul(t.e, t.stride / 4)), u32(0));
      return this.let(load(this.bufferVec4(node.id), at), 'vl');
    }
    const v = (LOWER[node.op] as Lowering<OpName>)(this, node as Node<OpName>, idx, { width: 4, axis });
    if (v !== undefined) {
      this.fusedNodes.add(node.id);
      return v;
    }
    return this.vec4Scalars(node, idx, axis);
  }

  // ---------------------------------------------------------------------------------------------
  // Sizes at run time

  runtimeCount(count: number, tensors: readonly number[]): Expr {
    if (this.specialize === 'all') return u32(count);
    for (const id of tensors) {
      const leaf = this.boundTensor(id);
      if (leaf === undefined) continue;
      const n = numel(this.graph.node(leaf).type.shape);
      if (count <= 0 || n % count !== 0) continue;
      // A vector view already bound serves (one binding per tensor); else the scalar one.
      const buf = this.vectorBuffers.get(leaf) ?? this.buffer(leaf);
      const scalars = buf.elem.w === 4 ? mul(length(buf), 4) : length(buf);
      return this.let(n === count ? scalars : div(scalars, n / count), 'n');
    }
    return u32(count);
  }

  /** The tensor bound for node `id`'s values, through views that keep its element count (undefined: none). */
  private boundTensor(id: number): number | undefined {
    const isBound = (n: Node) => this.fusion.isMaterialized(n.id) || BUFFER_LEAVES.has(n.op);
    const n = this.graph.throughViews(id, (v) => !isBound(v));
    if (!isBound(n)) return undefined;
    const stored = this.graph.node(this.fusion.storage(n.id));
    return isFolded(stored) ? undefined : stored.id;
  }

  withoutLets(e: Expr): Expr {
    if (e.k === 'local') {
      const def = this.defs.get(e.x);
      return def ? this.withoutLets(def) : e;
    }
    if (e.k !== 'alu') return e;
    return { ...e, args: e.args.map((a) => this.withoutLets(a)) };
  }

  // ---------------------------------------------------------------------------------------------

  /** The kernel built so far, for the passes and the renderer. */
  finish(workgroupSize: readonly [number, number, number], enables: readonly string[] = [], workgroups?: Expr): KernelIR {
    if (this.blocks.length !== 1) throw new Error('internal error: a kernel was finished inside an open block');
    agreeOnAccess(this.storage);
    return { body: this.blocks[0]!, storage: this.storage, moduleArrays: this.moduleArrays, workgroupSize, enables, ...(workgroups ? { workgroups } : {}) };
  }
}
