// ONNX export of an inference graph: every IR node becomes standard ONNX operators (default
// domain, opset 17, IR version 8), parameters become initializers under their own names, graph
// inputs stay inputs, and the chosen outputs are the model's outputs. The lowering follows each
// op's float64 reference in src/core/ir/ops.ts, not the model that built the graph: any graph of ops
// with an ONNX equivalent exports, and the tests run random graphs through ONNX Runtime.
//
// The model is built as onnx-proto (protobufjs) messages and encoded with its encoder.
//
// Semantics that need more than a one-to-one operator (see LOWER below):
// - compare → Less/LessOrEqual/Greater/GreaterOrEqual/Equal (ne: Not∘Equal), then Cast to float
//   (the IR's compare is an f32 0/1 mask); select → Where(Cast(mask, bool), a, b).
// - rsqrt → Reciprocal∘Sqrt. sum → ReduceSum (axes input), reduceMax → ReduceMax (axes
//   attribute in opset 17), both keepdims=1 as the IR's reductions.
// - topk → TopK(largest, sorted): ONNX breaks ties by the lower index, as the IR does; its int64
//   indices are cast back to the IR's i32.
// - gather: the IR's index [...P, M] broadcasts over the prefix axes. When P is all ones it is
//   ONNX Gather on the flattened index; otherwise the index is reshaped to the source's rank,
//   Expanded to the output's shape and used by GatherElements.
// - scatterAdd → ScatterElements(zeros, expanded index, updates, reduction "add").
// - stopGradient and straightThrough (forward value = its first input) → Identity; the
//   straight-through surrogate (input 1) only carries a gradient and is not exported.
// - fill → ConstantOfShape (a scalar: an initializer); constant → an initializer.
// - rand has no ONNX equivalent (the IR's counter-based generator): a training graph is refused
//   with the nodes named.
//
// Idiomatic forms (opts.idioms, default on): softmax written as exp(x − stopGradient(max x)) /
// sum(exp(..)) along one axis is exported as one Softmax node, which is what ONNX Runtime and
// other back ends optimise. The match is structural and exact (the same axis, the max only used
// there); every other node is lowered one by one.

import onnxProto from 'onnx-proto';
import type { Graph, Node } from '../ir/graph.ts';
import type { CompareKind, OpAttrs, OpName } from '../ir/ops.ts';
import { fmtShape, numel, type DType, type Shape } from '../ir/shape.ts';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type IModelProto = onnxProto.onnx.IModelProto;

/** The operator set the exporter writes (ai.onnx, default domain). */
export const ONNX_OPSET = 17;
/** ONNX IR version 8 (ONNX 1.10–1.13): what the onnx-proto schema describes; opsets up to 18. */
export const ONNX_IR_VERSION = 8;

/** A graph or its weights that cannot be exported (the message names the nodes, parameters or outputs). */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/** Parameter values by name: a Map or a plain object of arrays. */
export type WeightSource = ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>;

/** What to export and with which weights, names and metadata. */
export interface OnnxExportOptions {
  /** Graph outputs to export (default: `logits` when the graph has it, else every output). */
  readonly outputs?: readonly string[];
  /** Values of every parameter the outputs depend on (they become initializers). */
  readonly weights: WeightSource;
  /** Emit recognised idioms as one ONNX operator (Softmax); default true. */
  readonly idioms?: boolean;
  /** The model's graph name. */
  readonly name?: string;
  readonly docString?: string;
  /** String metadata stored in the model (e.g. the model spec). */
  readonly metadata?: Readonly<Record<string, string>>;
}

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

const onnxType = (d: DType): number => (d === 'f32' ? DT.FLOAT : d === 'i32' ? DT.INT32 : DT.UINT32);

/** Little-endian bytes of `values` stored as `dtype`. */
function rawBytes(dtype: number, values: ArrayLike<number>): Uint8Array {
  let arr: Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint8Array;
  switch (dtype) {
    case DT.FLOAT: arr = Float32Array.from(values); break;
    case DT.INT32: arr = Int32Array.from(values); break;
    case DT.UINT32: arr = Uint32Array.from(values); break;
    case DT.INT64: arr = BigInt64Array.from(Array.from(values, (v) => BigInt(v))); break;
    case DT.BOOL: arr = Uint8Array.from(values, (v) => (v ? 1 : 0)); break;
    default: throw new OnnxExportError(`internal: no raw encoding for ONNX data type ${dtype}`);
  }
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 || arr.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length), w = arr.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j]!;
  return out;
}

function tensorProto(name: string, dtype: number, dims: readonly number[], values: ArrayLike<number>): ITensorProto {
  return { name, dataType: dtype, dims: [...dims], rawData: rawBytes(dtype, values) };
}

type AttrValue = { i: number } | { ints: readonly number[] } | { f: number } | { s: string } | { t: ITensorProto };

function attribute(name: string, v: AttrValue): IAttributeProto {
  if ('i' in v) return { name, type: AT.INT, i: v.i };
  if ('ints' in v) return { name, type: AT.INTS, ints: [...v.ints] };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  if ('s' in v) return { name, type: AT.STRING, s: new TextEncoder().encode(v.s) };
  return { name, type: AT.TENSOR, t: v.t };
}

function valueInfo(name: string, dtype: DType, shape: Shape): IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnxType(dtype), shape: { dim: shape.map((d) => ({ dimValue: d })) } } } };
}

/** Collects ONNX nodes and initializers with unique value names. */
class Emitter {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly cached = new Map<string, string>();
  private count = 0;

  constructor(reserved: Iterable<string>) {
    for (const r of reserved) this.used.add(r);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns its output names. */
  node(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, opts: { outputs?: number; label?: string; out?: string } = {}): string[] {
    const n = opts.outputs ?? 1;
    const outputs = Array.from({ length: n }, (_, i) => (i === 0 && opts.out ? opts.out : this.fresh(`_${opts.label ?? op}_${this.count}${n > 1 ? `_${i}` : ''}`)));
    this.nodes.push({
      opType: op,
      name: `${opts.label ?? op}#${this.count++}`,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  one(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, label?: string): string {
    return this.node(op, inputs, attrs, { label })[0]!;
  }

  initializer(base: string, dtype: number, dims: readonly number[], values: ArrayLike<number>, exact = false): string {
    const name = exact ? base : this.fresh(base);
    if (exact) this.used.add(name);
    this.initializers.push(tensorProto(name, dtype, dims, values));
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, pads), shared between nodes. */
  i64(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.cached.get(key);
    if (!name) {
      name = this.initializer(`_i64_${values.join('_').replace(/-/g, 'm') || 'empty'}`, DT.INT64, [values.length], values);
      this.cached.set(key, name);
    }
    return name;
  }
}

interface LowerContext {
  readonly e: Emitter;
  readonly graph: Graph;
  /** ONNX value name of IR node `id`. */
  value(id: number): string;
  /** Name for this node's result (the node's own label). */
  readonly label: string;
}

type Lowering<K extends OpName> = (c: LowerContext, n: Node<K>) => string;

const unary = (op: string): Lowering<OpName> => (c, n) => c.e.one(op, [c.value(n.inputs[0]!)], {}, c.label);
const binary = (op: string): Lowering<OpName> => (c, n) => c.e.one(op, [c.value(n.inputs[0]!), c.value(n.inputs[1]!)], {}, c.label);
const leafError = (_c: LowerContext, n: Node): never => {
  throw new OnnxExportError(`internal: leaf %${n.id} (${n.op}) is not lowered as an operator`);
};

const COMPARE: Record<CompareKind, string> = { lt: 'Less', le: 'LessOrEqual', gt: 'Greater', ge: 'GreaterOrEqual', eq: 'Equal', ne: 'Equal' };

/** An index tensor as ONNX's index ops accept it (int32 or int64). */
function indexValue(c: LowerContext, id: number): string {
  const t = c.graph.node(id).type;
  return t.dtype === 'u32' ? c.e.one('Cast', [c.value(id)], { to: { i: DT.INT64 } }) : c.value(id);
}

/** The IR's [...P, M] index reshaped to rank `rank` (trailing ones) and expanded to `shape`. */
function expandedIndex(c: LowerContext, idxId: number, rank: number, shape: Shape): string {
  const idx = c.graph.node(idxId).type.shape;
  const padded = [...idx, ...Array<number>(rank - idx.length).fill(1)];
  const r = c.e.one('Reshape', [indexValue(c, idxId), c.e.i64(padded)]);
  return padded.every((d, i) => d === shape[i]) ? r : c.e.one('Expand', [r, c.e.i64([...shape])]);
}

/** One lowering per IR op (a total map: a new op without an ONNX lowering does not compile). */
const LOWER: { readonly [K in OpName]: Lowering<K> | 'unsupported' } = {
  input: leafError,
  param: leafError,
  fill: (c, n) => {
    const dt = onnxType(n.type.dtype);
    if (n.type.shape.length === 0) return c.e.initializer(`_fill_${n.id}`, dt, [], [n.attrs.value]);
    return c.e.one('ConstantOfShape', [c.e.i64([...n.type.shape])], { value: { t: tensorProto('value', dt, [1], [n.attrs.value]) } }, c.label);
  },
  constant: (c, n) => c.e.initializer(`_const_${n.id}`, onnxType(n.type.dtype), n.type.shape, n.attrs.data),

  neg: unary('Neg'), exp: unary('Exp'), log: unary('Log'), sqrt: unary('Sqrt'), recip: unary('Reciprocal'),
  tanh: unary('Tanh'), erf: unary('Erf'), relu: unary('Relu'), sigmoid: unary('Sigmoid'), sign: unary('Sign'), abs: unary('Abs'),
  rsqrt: (c, n) => c.e.one('Reciprocal', [c.e.one('Sqrt', [c.value(n.inputs[0]!)])], {}, c.label),

  add: binary('Add'), sub: binary('Sub'), mul: binary('Mul'), div: binary('Div'), max: binary('Max'), min: binary('Min'),
  matmul: binary('MatMul'),

  compare: (c, n) => {
    const dt = c.graph.node(n.inputs[0]!).type.dtype;
    // ONNX Runtime's comparisons take int32/int64/float: u32 goes through int64 (exact).
    const arg = (id: number) => (dt === 'u32' ? c.e.one('Cast', [c.value(id)], { to: { i: DT.INT64 } }) : c.value(id));
    let b = c.e.one(COMPARE[n.attrs.kind], [arg(n.inputs[0]!), arg(n.inputs[1]!)]);
    if (n.attrs.kind === 'ne') b = c.e.one('Not', [b]);
    return c.e.one('Cast', [b], { to: { i: DT.FLOAT } }, c.label);
  },
  select: (c, n) => {
    const cond = c.e.one('Cast', [c.value(n.inputs[0]!)], { to: { i: DT.BOOL } });
    return c.e.one('Where', [cond, c.value(n.inputs[1]!), c.value(n.inputs[2]!)], {}, c.label);
  },
  cast: (c, n) => c.e.one('Cast', [c.value(n.inputs[0]!)], { to: { i: onnxType(n.attrs.dtype) } }, c.label),

  sum: (c, n) => c.e.one('ReduceSum', [c.value(n.inputs[0]!), c.e.i64([n.attrs.axis])], { keepdims: { i: 1 } }, c.label),
  reduceMax: (c, n) => c.e.one('ReduceMax', [c.value(n.inputs[0]!)], { axes: { ints: [n.attrs.axis] }, keepdims: { i: 1 } }, c.label),
  topk: (c, n) => {
    const [, idx] = c.e.node('TopK', [c.value(n.inputs[0]!), c.e.i64([n.attrs.k])], { axis: { i: n.attrs.axis }, largest: { i: 1 }, sorted: { i: 1 } }, { outputs: 2 });
    return c.e.one('Cast', [idx!], { to: { i: DT.INT32 } }, c.label);
  },

  reshape: (c, n) => c.e.one('Reshape', [c.value(n.inputs[0]!), c.e.i64([...n.attrs.shape])], {}, c.label),
  permute: (c, n) => c.e.one('Transpose', [c.value(n.inputs[0]!)], { perm: { ints: n.attrs.perm } }, c.label),
  slice: (c, n) => {
    const src = c.graph.node(n.inputs[0]!).type.shape;
    const axes = src.map((_, i) => i).filter((i) => n.attrs.starts[i] !== 0 || n.attrs.ends[i] !== src[i]);
    if (axes.length === 0) return c.e.one('Identity', [c.value(n.inputs[0]!)], {}, c.label);
    return c.e.one('Slice', [c.value(n.inputs[0]!), c.e.i64(axes.map((i) => n.attrs.starts[i]!)), c.e.i64(axes.map((i) => n.attrs.ends[i]!)), c.e.i64(axes)], {}, c.label);
  },
  pad: (c, n) => c.e.one('Pad', [c.value(n.inputs[0]!), c.e.i64([...n.attrs.before, ...n.attrs.after])], { mode: { s: 'constant' } }, c.label),
  concat: (c, n) => c.e.one('Concat', n.inputs.map((i) => c.value(i)), { axis: { i: n.attrs.axis } }, c.label),
  broadcast: (c, n) => c.e.one('Expand', [c.value(n.inputs[0]!), c.e.i64([...n.attrs.shape])], {}, c.label),

  gather: (c, n) => {
    const [src, idx] = n.inputs as [number, number];
    const a = n.attrs.axis;
    const idxShape = c.graph.node(idx).type.shape;
    if (idxShape.slice(0, a).every((d) => d === 1)) {
      // The same index row for every prefix position: plain Gather on the flattened index.
      const flat = c.e.one('Reshape', [indexValue(c, idx), c.e.i64([idxShape[a]!])]);
      return c.e.one('Gather', [c.value(src), flat], { axis: { i: a } }, c.label);
    }
    const rank = c.graph.node(src).type.shape.length;
    return c.e.one('GatherElements', [c.value(src), expandedIndex(c, idx, rank, n.type.shape)], { axis: { i: a } }, c.label);
  },
  scatterAdd: (c, n) => {
    const [src, idx] = n.inputs as [number, number];
    const srcType = c.graph.node(src).type;
    const zeros = c.e.one('ConstantOfShape', [c.e.i64([...n.type.shape])], { value: { t: tensorProto('value', onnxType(n.type.dtype), [1], [0]) } });
    const index = expandedIndex(c, idx, srcType.shape.length, srcType.shape);
    return c.e.one('ScatterElements', [zeros, index, c.value(src)], { axis: { i: n.attrs.axis }, reduction: { s: 'add' } }, c.label);
  },

  rand: 'unsupported',
  attentionBackward: 'unsupported', // training graphs only
  stopGradient: (c, n) => c.e.one('Identity', [c.value(n.inputs[0]!)], {}, c.label),
  straightThrough: (c, n) => c.e.one('Identity', [c.value(n.inputs[0]!)], {}, c.label),
};

/** The inputs a node's exported value depends on (straightThrough: only its forward value). */
const forwardInputs = (n: Node): readonly number[] => (n.op === 'straightThrough' ? n.inputs.slice(0, 1) : n.inputs);

/** Nodes the given outputs need (1 = live); `deps` gives a node's dependencies. */
function liveNodes(graph: Graph, outputs: readonly number[], deps: (n: Node) => readonly number[] = forwardInputs): Uint8Array {
  const live = new Uint8Array(graph.nodes.length);
  for (const id of outputs) live[id] = 1;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const j of deps(graph.nodes[i]!)) live[j] = 1;
  }
  return live;
}

/** Ops (with node ids) among the nodes the outputs need that have no ONNX equivalent. */
export function unsupportedOps(graph: Graph, outputs: readonly string[] = [...graph.outputs.keys()]): { op: OpName; nodes: number[] }[] {
  const live = liveNodes(graph, outputs.map((o) => graph.output(o).id));
  const by = new Map<OpName, number[]>();
  for (const n of graph.nodes) {
    if (live[n.id] && LOWER[n.op] === 'unsupported') by.set(n.op, [...(by.get(n.op) ?? []), n.id]);
  }
  return [...by].map(([op, nodes]) => ({ op, nodes }));
}

interface SoftmaxMatch {
  readonly x: number;
  readonly axis: number;
}

/**
 * Softmax idiom: y = e / sum(e, a) with e = exp(x − stopGradient(reduceMax(x, a))) (src/core/ir/nn.ts
 * softmax). Returns, per matched division node, the source x and the axis; the exp, sum, sub, max
 * and stopGradient nodes must have no other user (else the plain lowering is kept).
 */
function findSoftmax(graph: Graph, live: Uint8Array): Map<number, SoftmaxMatch> {
  const users = new Map<number, number>();
  for (const n of graph.nodes) if (live[n.id]) for (const i of forwardInputs(n)) users.set(i, (users.get(i) ?? 0) + 1);
  const only = (id: number, count = 1) => users.get(id) === count;
  const found = new Map<number, SoftmaxMatch>();
  for (const n of graph.nodes) {
    if (!live[n.id] || n.op !== 'div') continue;
    const [eId, sId] = n.inputs as [number, number];
    const e = graph.node(eId), s = graph.node(sId);
    if (e.op !== 'exp' || s.op !== 'sum' || s.inputs[0] !== eId || !only(eId, 2) || !only(sId)) continue;
    const axis = (s.attrs as OpAttrs['sum']).axis;
    const d = graph.node(e.inputs[0]!);
    if (d.op !== 'sub' || !only(d.id)) continue;
    const [xId, gId] = d.inputs as [number, number];
    const g = graph.node(gId);
    if (g.op !== 'stopGradient' || !only(gId)) continue;
    const m = graph.node(g.inputs[0]!);
    if (m.op !== 'reduceMax' || m.inputs[0] !== xId || (m.attrs as OpAttrs['reduceMax']).axis !== axis || !only(m.id)) continue;
    if (graph.node(xId).type.shape.join() !== n.type.shape.join()) continue;
    found.set(n.id, { x: xId, axis });
  }
  return found;
}

const weightOf = (w: WeightSource, name: string): ArrayLike<number> | undefined =>
  w instanceof Map ? w.get(name) : (w as Readonly<Record<string, ArrayLike<number>>>)[name];

/**
 * Builds the ONNX model of `graph`'s chosen outputs. Throws OnnxExportError naming the ops and
 * nodes without an ONNX equivalent, parameters without a value, and unknown outputs.
 */
export function exportOnnx(graph: Graph, opts: OnnxExportOptions): onnxProto.onnx.ModelProto {
  const outNames = exportedOutputs(graph, opts);
  const outIds = outNames.map((o) => graph.output(o).id);
  let live = liveNodes(graph, outIds);
  const softmax = opts.idioms === false ? new Map<number, SoftmaxMatch>() : findSoftmax(graph, live);
  // A matched division depends on its source only (the nodes inside the idiom are not emitted).
  if (softmax.size) live = liveNodes(graph, outIds, (n) => (softmax.has(n.id) ? [softmax.get(n.id)!.x] : forwardInputs(n)));

  const leaves = graph.nodes.filter((n) => live[n.id] && (n.op === 'input' || n.op === 'param')) as Node<'input' | 'param'>[];
  const clash = outNames.filter((o) => leaves.some((n) => n.attrs.name === o));
  if (clash.length) throw new OnnxExportError(`ONNX export: output name(s) ${clash.join(', ')} are also input or parameter names (ONNX value names must be unique)`);
  const e = new Emitter([...leaves.map((n) => n.attrs.name), ...outNames]);
  const values = new Map<number, string>();
  const inputs = lowerLeaves(e, leaves, opts.weights, values);
  lowerNodes(e, graph, live, softmax, values);

  // A protobuf message is limited to 2 GiB; larger models need ONNX's external-data files.
  const bytes = e.initializers.reduce((acc, t) => acc + (t.rawData?.length ?? 0), 0);
  if (bytes > 2 ** 31 - 2 ** 26) throw new OnnxExportError(`ONNX export: ${(bytes / 2 ** 30).toFixed(2)} GiB of initializers exceed the 2 GiB protobuf limit (external data is not supported by this exporter)`);

  const outputs = outNames.map((name, i) => {
    const id = outIds[i]!;
    e.node('Identity', [values.get(id)!], {}, { out: name, label: `output_${name}` });
    const t = graph.node(id).type;
    return valueInfo(name, t.dtype, t.shape);
  });
  return modelProto(opts, e, inputs, outputs);
}

/** The outputs to export (checked: they exist, and every op they need has an ONNX equivalent). */
function exportedOutputs(graph: Graph, opts: OnnxExportOptions): readonly string[] {
  const outNames = opts.outputs ?? (graph.outputs.has('logits') ? ['logits'] : [...graph.outputs.keys()]);
  if (outNames.length === 0) throw new OnnxExportError('ONNX export: no outputs to export');
  for (const o of outNames) {
    if (!graph.outputs.has(o)) throw new OnnxExportError(`ONNX export: the graph has no output "${o}" (outputs: ${[...graph.outputs.keys()].join(', ')})`);
  }
  const bad = unsupportedOps(graph, outNames);
  if (bad.length) {
    const list = bad.map((b) => `${b.op} (node${b.nodes.length > 1 ? 's' : ''} ${b.nodes.slice(0, 8).map((i) => `%${i}`).join(', ')}${b.nodes.length > 8 ? `, … ${b.nodes.length} in all` : ''})`).join('; ');
    const hint = bad.some((b) => b.op === 'rand') ? ' — rand draws dropout/DropPath masks in training graphs: export an inference graph (build the model without `training`)' : '';
    throw new OnnxExportError(`ONNX export: op(s) with no ONNX equivalent: ${list}${hint}`);
  }
  return outNames;
}

/** Inputs become graph inputs, parameters initializers under their own names (recorded in `values`); returns the inputs. */
function lowerLeaves(e: Emitter, leaves: readonly Node<'input' | 'param'>[], weights: WeightSource, values: Map<number, string>): IValueInfoProto[] {
  const inputs: IValueInfoProto[] = [];
  const missing: string[] = [];
  for (const n of leaves) {
    const name = n.attrs.name;
    values.set(n.id, name);
    if (n.op === 'input') {
      inputs.push(valueInfo(name, n.type.dtype, n.type.shape));
      continue;
    }
    const w = weightOf(weights, name);
    if (!w) {
      missing.push(`${name} ${fmtShape(n.type.shape)}`);
      continue;
    }
    if (w.length !== numel(n.type.shape)) {
      throw new OnnxExportError(`ONNX export: parameter "${name}" has ${w.length} values, its shape ${fmtShape(n.type.shape)} needs ${numel(n.type.shape)}`);
    }
    e.initializer(name, DT.FLOAT, n.type.shape, w, true);
  }
  if (missing.length) throw new OnnxExportError(`ONNX export: no value for parameter(s) ${missing.join(', ')}`);
  return inputs;
}

/** Lowers every live node not yet in `values` in graph order (matched softmax idioms as one Softmax). */
function lowerNodes(e: Emitter, graph: Graph, live: Uint8Array, softmax: ReadonlyMap<number, SoftmaxMatch>, values: Map<number, string>): void {
  const ctx = (n: Node): LowerContext => ({
    e,
    graph,
    label: `${n.op}_${n.id}`,
    value: (id) => {
      const v = values.get(id);
      if (v === undefined) throw new OnnxExportError(`internal: %${id} used by %${n.id} before it was lowered`);
      return v;
    },
  });
  for (const n of graph.nodes) {
    if (!live[n.id] || values.has(n.id)) continue;
    const sm = softmax.get(n.id);
    if (sm) {
      values.set(n.id, e.one('Softmax', [values.get(sm.x)!], { axis: { i: sm.axis } }, `softmax_${n.id}`));
      continue;
    }
    const lower = LOWER[n.op] as Lowering<OpName> | 'unsupported';
    if (lower === 'unsupported') throw new OnnxExportError(`internal: unsupported op ${n.op} at %${n.id}`);
    values.set(n.id, lower(ctx(n), n));
  }
}

/** The model message around the emitted nodes and initializers. */
function modelProto(opts: OnnxExportOptions, e: Emitter, inputs: IValueInfoProto[], outputs: IValueInfoProto[]): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'fpet-webgpu',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: opts.name ?? 'fpet_webgpu_graph',
      node: e.nodes,
      initializer: e.initializers,
      input: inputs,
      output: outputs,
    },
  });
}

/** The serialized model (protobuf bytes), as written to a .onnx file. */
export function encodeOnnx(model: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** exportOnnx + encodeOnnx. */
export function onnxBytes(graph: Graph, opts: OnnxExportOptions): Uint8Array {
  return encodeOnnx(exportOnnx(graph, opts));
}

/** Operator types of a model with their counts (for reports and tests). */
export function operatorCounts(model: IModelProto): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of model.graph?.node ?? []) m.set(n.opType ?? '?', (m.get(n.opType ?? '?') ?? 0) + 1);
  return m;
}
