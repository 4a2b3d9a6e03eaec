// The graph IR: an append-only list of nodes in topological order, built by calling ops on
// Tensor handles. Every node's type is inferred (and checked) by its op's rule when recorded.

import { OPS, type OpAttrs, type OpName, type CompareKind } from './ops.ts';
import { ShapeError, assertValidShape, fmtShape, normAxis, numel, type DType, type Shape, type TensorType } from './shape.ts';

/** One recorded op application. */
export interface NodeOf<K extends OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly number[];
  readonly attrs: OpAttrs[K];
  readonly type: TensorType;
}

/**
 * A node: a union discriminated by `op`, so that testing `n.op === 'permute'` narrows `n.attrs`
 * to the permute's attributes (no casts). `Node<'sum' | 'reduceMax'>` is the union of those two.
 */
export type Node<K extends OpName = OpName> = { [P in K]: NodeOf<P> }[K];

/** An immutable, pruned graph with named outputs. Node ids are indices into `nodes`. */
export class Graph {
  constructor(
    readonly nodes: readonly Node[],
    readonly outputs: ReadonlyMap<string, number>,
  ) {}

  /** The node with id `id`; throws when the graph has none. */
  node(id: number): Node {
    const n = this.nodes[id];
    if (!n) throw new Error(`graph has no node ${id}`);
    return n;
  }

  /** The node behind output `name`; throws, listing the outputs, when there is none. */
  output(name: string): Node {
    const id = this.outputs.get(name);
    if (id === undefined) throw new Error(`graph has no output "${name}" (outputs: ${[...this.outputs.keys()].join(', ')})`);
    return this.node(id);
  }

  /** Every node of op `op`, in topological order, typed by it. */
  nodesOf<K extends OpName>(op: K): Node<K>[] {
    return this.nodes.filter((n) => n.op === op) as Node[] as Node<K>[];
  }

  /**
   * The node `id` reads its elements from: from `id`, down the data input of each view
   * (reshape, permute — same elements, another layout) that `follow` accepts (default: all).
   */
  throughViews(id: number, follow: (view: Node) => boolean = () => true): Node {
    let n = this.node(id);
    while ((n.op === 'reshape' || n.op === 'permute') && follow(n)) n = this.node(n.inputs[0]!);
    return n;
  }

  /**
   * Whether node `id` is a parameter, or computed elementwise (through views) from parameters and
   * constants only; with `frozen`, from non-trainable parameters only. Its sizes are features,
   * never row counts, and its values change only when a parameter is written.
   */
  fromParameters(id: number, frozen = false): boolean {
    const n = this.throughViews(id);
    if (n.op === 'param') return !frozen || !(n as Node<'param'>).attrs.trainable;
    if (n.op === 'fill' || n.op === 'constant') return true;
    return OPS[n.op].kind === 'elementwise' && n.inputs.every((i) => this.fromParameters(i, frozen));
  }

  /** The `input` nodes, in topological order. */
  get inputs(): Node<'input'>[] {
    return this.nodesOf('input');
  }

  /** The `param` nodes (trainable or not), in topological order. */
  get params(): Node<'param'>[] {
    return this.nodesOf('param');
  }

  /** One line per node, for debugging and error messages. */
  toString(): string {
    const outName = new Map([...this.outputs].map(([k, v]) => [v, k]));
    return this.nodes
      .map((n) => {
        const attrs = describeAttrs(n.attrs);
        const out = outName.has(n.id) ? `  -> ${outName.get(n.id)}` : '';
        return `%${n.id} = ${n.op}(${n.inputs.map((i) => `%${i}`).join(', ')})${attrs} : ${n.type.dtype}${fmtShape(n.type.shape)}${out}`;
      })
      .join('\n');
  }
}

function describeAttrs(a: object): string {
  const parts = Object.entries(a)
    .filter(([k]) => k !== 'shape' && k !== 'dtype')
    .map(([k, v]) => `${k}=${v instanceof Float64Array ? `<${v.length} values>` : Array.isArray(v) ? `[${v}]` : v}`);
  return parts.length ? ` {${parts.join(', ')}}` : '';
}

/** The other operand of a Tensor method: a number becomes a scalar of the tensor's dtype. */
export type Operand = Tensor | number;

/** A handle to a node being built. Calling an op method records a new node in the builder. */
export class Tensor implements TensorType {
  constructor(
    readonly b: GraphBuilder,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  /** Number of axes (0 for a scalar). */
  get rank(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** Dimension `axis`, negative axes counting from the end. */
  dim(axis: number): number {
    return this.shape[normAxis('dim', axis, this.rank)]!;
  }

  private lift(v: Operand): Tensor {
    return typeof v === 'number' ? this.b.scalar(v, this.dtype) : v;
  }
  private bin(op: OpName & ('add' | 'sub' | 'mul' | 'div' | 'max' | 'min'), o: Operand): Tensor {
    return this.b.op(op, [this, this.lift(o)], {});
  }

  /** this + o, elementwise with broadcasting (f32). */
  add(o: Operand) { return this.bin('add', o); }
  /** this − o, elementwise with broadcasting (f32). */
  sub(o: Operand) { return this.bin('sub', o); }
  /** this · o, elementwise with broadcasting (f32). */
  mul(o: Operand) { return this.bin('mul', o); }
  /** this / o, elementwise with broadcasting (f32). */
  div(o: Operand) { return this.bin('div', o); }
  /** max(this, o), elementwise with broadcasting (f32); ties send the gradient to `this`. */
  maximum(o: Operand) { return this.bin('max', o); }
  /** min(this, o), elementwise with broadcasting (f32); ties send the gradient to `this`. */
  minimum(o: Operand) { return this.bin('min', o); }

  /** −this, elementwise (f32). */
  neg() { return this.b.op('neg', [this], {}); }
  /** eˣ, elementwise (f32). */
  exp() { return this.b.op('exp', [this], {}); }
  /** Natural logarithm, elementwise (f32). */
  log() { return this.b.op('log', [this], {}); }
  /** Square root, elementwise (f32). */
  sqrt() { return this.b.op('sqrt', [this], {}); }
  /** 1/√x, elementwise (f32). */
  rsqrt() { return this.b.op('rsqrt', [this], {}); }
  /** 1/x, elementwise (f32). */
  recip() { return this.b.op('recip', [this], {}); }
  /** Hyperbolic tangent, elementwise (f32). */
  tanh() { return this.b.op('tanh', [this], {}); }
  /** The error function, elementwise (f32). */
  erf() { return this.b.op('erf', [this], {}); }
  /** max(x, 0), elementwise (f32). */
  relu() { return this.b.op('relu', [this], {}); }
  /** 1/(1 + e⁻ˣ), elementwise (f32). */
  sigmoid() { return this.b.op('sigmoid', [this], {}); }
  /** −1, 0 or 1, elementwise (f32); passes no gradient. */
  sign() { return this.b.op('sign', [this], {}); }
  /** |x|, elementwise (f32). */
  abs() { return this.b.op('abs', [this], {}); }
  /** x², elementwise (f32). */
  square() { return this.mul(this); }

  /** `this <kind> o` as an f32 0/1 mask, with broadcasting; both operands must have one dtype. Passes no gradient. */
  compare(kind: CompareKind, o: Operand) { return this.b.op('compare', [this, this.lift(o)], { kind }); }
  /** this ? a : b, elementwise with broadcasting; `this` is a 0/1 mask. */
  select(a: Operand, b: Operand) { return this.b.op('select', [this, this.lift(a), this.lift(b)], {}); }
  /** Converts to `dtype`; to an integer dtype it truncates towards zero. Passes no gradient. */
  cast(dtype: DType) { return this.b.op('cast', [this], { dtype }); }

  /** Reductions keep the reduced axis (size 1) unless keepDim is false. */
  sum(axis: number, keepDim = true) { return this.reduce('sum', axis, keepDim); }
  /** Maximum along `axis`, kept as length 1 unless keepDim is false. */
  max(axis: number, keepDim = true) { return this.reduce('reduceMax', axis, keepDim); }
  /** Mean along `axis`, kept as length 1 unless keepDim is false. */
  mean(axis: number, keepDim = true) { return this.sum(axis, keepDim).mul(1 / this.dim(axis)); }
  /** Sum of every element, as a scalar of shape []. */
  sumAll(): Tensor {
    return this.reshape([this.size]).sum(0, false);
  }
  private reduce(op: 'sum' | 'reduceMax', axis: number, keepDim: boolean): Tensor {
    const a = normAxis(op, axis, this.rank);
    const r = this.b.op(op, [this], { axis: a });
    return keepDim ? r : r.reshape(this.shape.filter((_, i) => i !== a));
  }
  /** Indices (i32) of the k largest entries along `axis`, largest first; ties go to the lower index. */
  topk(k: number, axis = -1) { return this.b.op('topk', [this], { axis: normAxis('topk', axis, this.rank), k }); }
  /** Index (i32) of the largest entry along `axis`, ties to the lower index; the axis is dropped unless keepDim. */
  argmax(axis = -1, keepDim = false) {
    const a = normAxis('argmax', axis, this.rank);
    const r = this.topk(1, a);
    return keepDim ? r : r.reshape(this.shape.filter((_, i) => i !== a));
  }

  /** Batched matrix product over the last two axes; batch axes broadcast. */
  matmul(o: Tensor) { return this.b.op('matmul', [this, o], {}); }

  /** The same elements (row-major) in a new shape; one entry may be -1, inferred. Throws ShapeError when the sizes differ. */
  reshape(shape: readonly number[]): Tensor {
    const inferred = inferReshape(this.shape, shape);
    return this.b.op('reshape', [this], { shape: inferred });
  }
  /** Reorders the axes: output axis i is input axis `perm[i]` (negative entries count from the end). */
  permute(perm: readonly number[]) { return this.b.op('permute', [this], { perm: perm.map((p) => normAxis('permute', p, this.rank)) }); }
  /** Swaps two axes (the last two by default). */
  transpose(a = -2, b = -1): Tensor {
    const perm = [...this.shape.keys()];
    const i = normAxis('transpose', a, this.rank), j = normAxis('transpose', b, this.rank);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    return this.permute(perm);
  }
  /** Half-open ranges per axis; axes not given are kept whole. Negative bounds count from the end. */
  slice(ranges: readonly (readonly [number, number] | null)[]): Tensor {
    const starts: number[] = [], ends: number[] = [];
    this.shape.forEach((d, i) => {
      const r = ranges[i];
      const s = r ? (r[0] < 0 ? r[0] + d : r[0]) : 0;
      const e = r ? (r[1] < 0 ? r[1] + d : r[1]) : d;
      starts.push(s);
      ends.push(e);
    });
    return this.b.op('slice', [this], { starts, ends });
  }
  /** Slice of one axis. */
  narrow(axis: number, start: number, length: number): Tensor {
    const a = normAxis('narrow', axis, this.rank);
    return this.slice(this.shape.map((_, i) => (i === a ? [start, start + length] as const : null)));
  }
  /** Zero padding: `before[i]` and `after[i]` elements (non-negative integers) at the two ends of axis i. */
  pad(before: readonly number[], after: readonly number[]) { return this.b.op('pad', [this], { before: [...before], after: [...after] }); }
  /** Repeats along axes of length 1, and new leading axes, to `shape` (NumPy broadcasting). */
  broadcastTo(shape: readonly number[]) { return this.b.op('broadcast', [this], { shape: [...shape] }); }
  /** out[p.., j, s..] = this[p.., idx[p.., j], s..]; idx: i32 [...P, M], P broadcastable to this's prefix. */
  gather(idx: Tensor, axis: number) { return this.b.op('gather', [this, idx], { axis: normAxis('gather', axis, this.rank) }); }
  /** out[p.., idx[p.., j], s..] += this[p.., j, s..]; the axis gets length `size`. */
  scatterAdd(idx: Tensor, axis: number, size: number) {
    return this.b.op('scatterAdd', [this, idx], { axis: normAxis('scatterAdd', axis, this.rank), size });
  }
  /** Identity in the forward pass; autodiff passes no gradient through it. */
  stopGradient() { return this.b.op('stopGradient', [this], {}); }
  /** Forward value of `this`, gradient routed to `surrogate` (the straight-through estimator). */
  straightThrough(surrogate: Tensor) { return this.b.op('straightThrough', [this, surrogate], {}); }
}

function inferReshape(from: Shape, to: readonly number[]): number[] {
  const total = numel(from);
  const free = to.filter((d) => d === -1).length;
  if (free > 1) throw new ShapeError(`reshape: at most one -1 allowed in ${fmtShape(to)}`);
  if (free === 0) return [...to];
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (known === 0 || total % known !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} to ${fmtShape(to)}`);
  return to.map((d) => (d === -1 ? total / known : d));
}

/** Records nodes. `build()` returns the Graph reachable from the named outputs. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly outputs = new Map<string, number>();
  private readonly leafNames = new Map<string, number>();

  /**
   * Records op `op` on `inputs`, the general form behind the Tensor methods. The op's rule infers
   * the result type; ShapeError when it rejects the inputs.
   */
  op<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs[K]): Tensor {
    const rule = OPS[op];
    if (rule.arity >= 0 && inputs.length !== rule.arity) {
      throw new ShapeError(`${op}: expects ${rule.arity} inputs, got ${inputs.length}`);
    }
    for (const t of inputs) {
      if (t.b !== this) throw new Error(`${op}: input %${t.id} belongs to another graph builder`);
    }
    const type = rule.infer(inputs, attrs);
    assertValidShape(op, type.shape);
    return this.record(op, inputs.map((t) => t.id), attrs, type);
  }

  /** Appends a node whose type is already known (used when copying graphs). */
  record<K extends OpName>(op: K, inputs: readonly number[], attrs: OpAttrs[K], type: TensorType): Tensor {
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs, attrs, type } as Node);
    return new Tensor(this, id, type.shape, type.dtype);
  }

  /** A handle to node `id` of this builder; throws when there is none. */
  tensor(id: number): Tensor {
    const n = this.nodes[id];
    if (!n) throw new Error(`builder has no node ${id}`);
    return new Tensor(this, id, n.type.shape, n.type.dtype);
  }

  private newLeaf<K extends 'input' | 'param'>(op: K, attrs: OpAttrs[K]): Tensor {
    if (this.leafNames.has(attrs.name)) throw new Error(`${op}: the name "${attrs.name}" is already used`);
    const t = this.op(op, [], attrs);
    this.leafNames.set(attrs.name, t.id);
    return t;
  }

  /** A named graph input, fed at every run. Input and parameter names share one namespace; a repeated name throws. */
  input(name: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.newLeaf('input', { name, shape: [...shape], dtype });
  }
  /** A named parameter; only trainable ones receive gradients by default. */
  param(name: string, shape: readonly number[], opts: { trainable?: boolean } = {}): Tensor {
    return this.newLeaf('param', { name, shape: [...shape], trainable: opts.trainable ?? false });
  }
  /** A constant of shape [], written into kernel code (see runtimeScalar for one kept in a buffer). */
  scalar(value: number, dtype: DType = 'f32'): Tensor {
    return this.op('fill', [], { value, shape: [], dtype });
  }
  /** A tensor of `shape` with every element `value`; written into kernel code, never stored. */
  fill(value: number, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.op('fill', [], { value, shape: [...shape], dtype });
  }
  /** A constant tensor: `data` holds numel(shape) values, row-major. Small ones may be folded into kernel code. */
  constant(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.op('constant', [], { data: Float64Array.from(data), shape: [...shape], dtype });
  }
  /**
   * A scalar kept in a buffer instead of printed into kernel code, so that kernels differing only
   * in this value (the drop rates of different blocks) share one pipeline: one driver compile.
   */
  runtimeScalar(value: number, dtype: DType = 'f32'): Tensor {
    return this.op('constant', [], { data: Float64Array.of(value), shape: [], dtype, fold: false });
  }
  /** Uniform [0,1) numbers from `seed` (i32 [seed, step]); `stream` separates independent draws. */
  rand(shape: readonly number[], seed: Tensor, stream: number): Tensor {
    return this.op('rand', [seed, this.op('constant', [], { data: Float64Array.of(stream), shape: [1], dtype: 'i32', fold: false })], { shape: [...shape] });
  }
  /** Joins `parts` along `axis`; they must agree in dtype and in every other dimension. */
  concat(parts: readonly Tensor[], axis: number): Tensor {
    if (parts.length === 0) throw new ShapeError('concat: needs at least one input');
    return this.op('concat', parts, { axis: normAxis('concat', axis, parts[0]!.rank) });
  }

  /** Names `t` as an output; `build()` keeps only what the outputs depend on. Throws when `name` is taken. */
  output(name: string, t: Tensor): void {
    if (this.outputs.has(name)) throw new Error(`output "${name}" is already defined`);
    this.outputs.set(name, t.id);
  }

  /**
   * A builder holding a copy of `graph` (its leaves, nodes and outputs), to extend it: autodiff
   * and the optimizer add their nodes this way. `tensors[id]` is the copy of node `id`.
   */
  static from(graph: Graph): { b: GraphBuilder; tensors: Tensor[] } {
    const b = new GraphBuilder();
    const tensors = graph.nodes.map((n) => b.record(n.op, n.inputs, n.attrs, n.type));
    for (const n of graph.nodes) if (n.op === 'input' || n.op === 'param') b.leafNames.set(n.attrs.name, n.id);
    for (const [name, id] of graph.outputs) b.output(name, tensors[id]!);
    return { b, tensors };
  }

  /** The named input or parameter. */
  leaf(name: string): Tensor {
    const id = this.leafNames.get(name);
    if (id === undefined) throw new Error(`no input or parameter named "${name}"`);
    return this.tensor(id);
  }

  /** The graph of everything the outputs depend on, renumbered densely in topological order. */
  build(): Graph {
    return pruneToOutputs(this.nodes, this.outputs);
  }
}

/** The nodes the outputs depend on (and those `keep` names), renumbered densely in their order. */
export function pruneToOutputs(nodes: readonly Node[], outputs: ReadonlyMap<string, number>, keep?: (n: Node) => boolean): Graph {
  const live = new Uint8Array(nodes.length);
  for (const id of outputs.values()) live[id] = 1;
  if (keep) for (const n of nodes) if (keep(n)) live[n.id] = 1;
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of nodes[i]!.inputs) live[j] = 1;
  }
  const remap = new Map<number, number>();
  const kept: Node[] = [];
  for (const n of nodes) {
    if (!live[n.id]) continue;
    remap.set(n.id, kept.length);
    kept.push({ ...n, id: kept.length, inputs: n.inputs.map((i) => remap.get(i)!) });
  }
  return new Graph(kept, new Map([...outputs].map(([k, v]) => [k, remap.get(v)!])));
}
