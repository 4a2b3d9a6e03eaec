// Dispatch batching: kernels that do not depend on each other run as one dispatch, each on its
// own range of workgroups. On GPUs a step is bound by launches (~25-35 µs of API time each on
// Vulkan), and a backward pass has many independent kernels (a weight's gradient beside its
// input's, every parameter's AdamW update). Two decisions, kept apart:
//  - scheduleBatches (planning, before memory is planned): which kernels may share a dispatch;
//    the memory plan then treats a batch as one step, so its kernels never share bytes;
//  - batchKernels (rendering, also after tuning has changed variants): one kernel tree whose body
//    runs part p for the workgroups [offset_p, offset_p + count_p) — or nothing, when the parts
//    turn out not to fit together (their dispatches then run one after the other, still correct).

import { u32, add, mul, div, mod, sub, ge, lt, and, or, bool, local, builtin, isZero } from '../kernels/alu.ts';
import { BOOL, Buf, Local, U32, agreeOnAccess, childrenOf, mapExprs, withBody, type AluOp, type Expr, type KernelIR, type Stmt, type StmtOf } from '../kernels/ir.ts';
import { pruneBindings, vectorBindings } from './passes/bindings.ts';
import { rewriter } from './passes/tree.ts';

/** What scheduling needs to know of a kernel. */
export interface BatchCandidate {
  readonly workgroupSize: readonly [number, number, number];
  /** Tensors it reads and writes (storage ids; each is one binding). */
  readonly reads: ReadonlySet<number>;
  readonly writes: ReadonlySet<number>;
  readonly workgroupBytes: number;
}

/** The limits a batch must respect (a dispatch's bindings and workgroup memory). */
export interface BatchLimits {
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
}

/** Kernels per batch at most: bigger modules compile slower, and few launches are left to save. */
export const MAX_BATCH_PARTS = 6;
/**
 * How many batches back a kernel may move: a kernel placed early keeps its inputs and outputs
 * alive longer, so the reordering is kept local (the memory plan grows little).
 */
const WINDOW = 4;

/**
 * Kernel `index` rendered with `invocations` invocations per workgroup, where it has such a form
 * (a small tiled matmul in a narrower workgroup), else undefined. Lets a kernel join a batch of
 * another workgroup size: an attention kernel's one-subgroup workgroup beside the matmul of a
 * merge metric computed from the same keys.
 */
export type ReshapeForBatch = (index: number, invocations: number) => BatchCandidate | undefined;

/**
 * Groups kernels (given in a valid launch order) into batches of mutually independent kernels
 * with as many invocations per workgroup that fit one dispatch's limits. A kernel joins the earliest batch,
 * among the last WINDOW, that comes after every batch writing what it reads; where its own
 * workgroup size differs from the batch's, `reshape` may offer a form with the batch's (the
 * caller then renders the kernel so: see `reshapedMembers`). Returns the batches in launch order,
 * each a list of kernel indices in their original order.
 */
export function scheduleBatches(kernels: readonly BatchCandidate[], limits: BatchLimits, reshape?: ReshapeForBatch): number[][] {
  const placed = [...kernels];
  const batches: number[][] = [];
  const writtenIn = new Map<number, number>(); // tensor -> last batch writing it
  const readIn = new Map<number, number>(); // tensor -> last batch reading it
  const after = (b: number | undefined): number => (b === undefined ? 0 : b + 1);
  kernels.forEach((k, i) => {
    let earliest = 0;
    // After what it reads is written, and (a buffer updated in place) after every earlier
    // reader and writer of what it writes.
    for (const t of k.reads) earliest = Math.max(earliest, after(writtenIn.get(t)));
    for (const t of k.writes) earliest = Math.max(earliest, after(writtenIn.get(t)), after(readIn.get(t)));
    let chosen = -1;
    for (let b = Math.max(earliest, batches.length - WINDOW); b < batches.length; b++) {
      const members = batches[b]!.map((j) => placed[j]!);
      const size = invocations(members[0]!.workgroupSize);
      const form = size === invocations(k.workgroupSize) ? k : reshape?.(i, size);
      if (form && fits(members, form, limits)) {
        placed[i] = form;
        chosen = b;
        break;
      }
    }
    if (chosen < 0) {
      chosen = batches.length;
      batches.push([]);
    }
    batches[chosen]!.push(i);
    for (const t of k.writes) writtenIn.set(t, chosen);
    for (const t of k.reads) readIn.set(t, Math.max(chosen, readIn.get(t) ?? 0));
  });
  return batches;
}

/** Whether kernel `k` may join `batch`: as many invocations per workgroup, limits kept, and nothing shared that one writes. */
function fits(batch: readonly BatchCandidate[], k: BatchCandidate, limits: BatchLimits): boolean {
  if (batch.length >= MAX_BATCH_PARTS) return false;
  if (batch.some((o) => invocations(o.workgroupSize) !== invocations(k.workgroupSize))) return false;
  for (const o of batch) {
    for (const t of k.writes) if (o.reads.has(t) || o.writes.has(t)) return false;
    for (const t of o.writes) if (k.reads.has(t)) return false;
  }
  const bindings = new Set([k, ...batch].flatMap((o) => [...o.reads, ...o.writes]));
  const bytes = batch.reduce((s, o) => s + o.workgroupBytes, k.workgroupBytes);
  return bindings.size <= limits.maxStorageBuffersPerShaderStage && bytes <= limits.maxComputeWorkgroupStorageSize;
}

/** Invocations per workgroup: parts of one dispatch need as many, whatever the workgroup's shape. */
export const invocations = (size: readonly number[]): number => size[0]! * size[1]! * size[2]!;

/**
 * The members of `batches` that scheduleBatches placed through `reshape`: kernel index → the
 * invocations per workgroup of its batch (its first member's, which never reshapes).
 */
export function reshapedMembers(kernels: readonly { readonly workgroupSize: readonly number[] }[], batches: readonly (readonly number[])[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of batches) {
    const size = invocations(kernels[b[0]!]!.workgroupSize);
    for (const i of b.slice(1)) if (invocations(kernels[i]!.workgroupSize) !== size) out.set(i, size);
  }
  return out;
}

/** Bytes of workgroup memory a kernel tree declares. */
export const workgroupBytes = (ir: KernelIR): number =>
  ir.moduleArrays.reduce((s, b) => s + (b.kind === 'workgroup' ? (b.length ?? 0) * 4 * b.elem.w : 0), 0);

/** A storage view's identity across kernels: the tensor and whether it is viewed as vec4. */
const viewKey = (b: Buf): string => `${b.tensor}:${b.elem.w}`;

/** One part of a batched dispatch: a kernel tree and the workgroups it was dispatched with. */
export interface BatchPart {
  readonly ir: KernelIR;
  readonly dispatch: readonly [number, number, number];
}

/**
 * One kernel tree running every part on its own range of a flat workgroup index, or undefined
 * when the parts do not fit one dispatch (invocations per workgroup, bindings, workgroup memory).
 * The dispatch has the first part's workgroup shape; a part of another shape with as many
 * invocations (a 16×16 tiled matmul beside a 256-wide row kernel) reads its local ids from the
 * flat local index.
 * Storage bindings of the same tensor (and view) are shared; a part's workgroup ids and counts
 * become values computed from the flat index (never folded: see opaque-loop-bounds).
 */
export function batchKernels(parts: readonly BatchPart[], limits: BatchLimits): { ir: KernelIR; dispatch: [number, number, number] } | undefined {
  const size = parts[0]!.ir.workgroupSize;
  if (parts.some((p) => invocations(p.ir.workgroupSize) !== invocations(size))) return undefined;
  if (parts.reduce((s, p) => s + workgroupBytes(p.ir), 0) > limits.maxComputeWorkgroupStorageSize) return undefined;
  // One view per tensor and width shared by all parts; a tensor read as scalars by one part and
  // as vectors by another then keeps one binding (vectorBindings), as within a kernel.
  const shared = new Map<string, Buf>();
  for (const p of parts) {
    for (const b of p.ir.storage) {
      const key = viewKey(b);
      const s = shared.get(key) ?? new Buf('storage', b.hint, b.elem, undefined, b.tensor, undefined, b.arena);
      if (b.access === 'read_write') s.access = 'read_write';
      shared.set(key, s);
    }
  }
  agreeOnAccess([...shared.values()]);
  if (new Set(parts.flatMap((p) => p.ir.storage.map((b) => b.tensor))).size > limits.maxStorageBuffersPerShaderStage) return undefined;
  const total = parts.reduce((s, p) => s + count(p.dispatch), 0);
  const max = limits.maxComputeWorkgroupsPerDimension;
  const rows = Math.ceil(total / max);
  if (rows > max) return undefined;
  const dispatch: [number, number, number] = [Math.ceil(total / rows), rows, 1];
  // Parts whose row count is read at run time have their workgroup count read then too: the
  // module is then the same for every row count (its dispatch size is not part of it).
  const sizedAtRunTime = parts.map((p) => p.ir.workgroups !== undefined && p.dispatch[2] === 1);
  const anyAtRunTime = sizedAtRunTime.some(Boolean);
  const flat = new Local('wg', U32, 'let');
  const body: Stmt[] = [{ k: 'let', x: flat, value: rows === 1 && !anyAtRunTime ? builtin('wid', 0) : add(builtin('wid', 0), mul(builtin('wid', 1), builtin('nwg', 0))) }];
  let offset: Expr = u32(0);
  const bodies = parts.map((p) => withoutGuardReturns(p.ir.body));
  if (bodies.some((b) => b === undefined)) return undefined;
  const toShared = (b: Buf) => shared.get(viewKey(b))!;
  for (const [i, p] of parts.entries()) {
    const n = sizedAtRunTime[i] ? sharedLengths(p.ir.workgroups!, toShared) : u32(count(p.dispatch));
    const end = add(offset, n);
    const inRange = isZero(offset) ? lt(local(flat), end) : and(ge(local(flat), offset), lt(local(flat), end));
    body.push({ k: 'if', cond: inRange, body: partBody(p, size, bodies[i]!, sub(local(flat), offset), toShared, sizedAtRunTime[i] ? n : undefined) });
    offset = end;
  }
  const ir: KernelIR = {
    body,
    storage: [...shared.values()],
    moduleArrays: parts.flatMap((p) => p.ir.moduleArrays),
    workgroupSize: size,
    enables: [...new Set(parts.flatMap((p) => p.ir.enables))],
  };
  return { ir: pruneBindings(vectorBindings(ir)), dispatch };
}

const count = (d: readonly number[]): number => d[0]! * d[1]! * d[2]!;

/** `e` (a part's workgroup count) reading the shared bindings' lengths. */
const sharedLengths = (e: Expr, shared: (b: Buf) => Buf): Expr => rewriter((x) => (x.k === 'length' ? { ...x, buf: shared(x.buf) } : x))(e);

/**
 * A part's statements with its workgroup id taken from `index` (its own flat workgroup index)
 * and its workgroup counts made constants, its storage buffers replaced by the shared ones. A part
 * sized at run time (`groups`: its workgroup count) sees one flat row of workgroups: it indexes
 * workgroups by flatWorkgroup only (TemplateOutput.workgroups).
 */
function partBody(p: BatchPart, size: readonly number[], stmts: readonly Stmt[], index: Expr, shared: (b: Buf) => Buf, groups?: Expr): Stmt[] {
  const [x, y] = p.dispatch;
  const f = new Local('part', U32, 'let');
  const ids = [new Local('wx', U32, 'let'), new Local('wy', U32, 'let'), new Local('wz', U32, 'let')] as const;
  const values = groups ? [local(f), u32(0), u32(0)] : [mod(local(f), u32(x)), mod(div(local(f), u32(x)), u32(y)), div(local(f), u32(x * y))];
  const counts = groups ? [groups, u32(1), u32(1)] : p.dispatch.map((d) => u32(d));
  const head: Stmt[] = [{ k: 'let', x: f, value: index }, ...ids.map((id, i): Stmt => ({ k: 'let', x: id, value: values[i]! }))];
  // A part whose workgroup has another shape (as many invocations) takes its local ids from the
  // flat local index, as WGSL numbers them: x fastest.
  const [a, b] = p.ir.workgroupSize;
  const reshaped = p.ir.workgroupSize.join() !== size.join();
  const lid = builtin('lid', undefined, invocations(size));
  const localIds = [mod(lid, u32(a)), mod(div(lid, u32(a)), u32(b)), div(lid, u32(a * b))];
  const rewrite = rewriter((e) => {
    if (reshaped && e.k === 'builtin' && e.b === 'lid3') return localIds[e.comp ?? 0]!;
    if (e.k === 'builtin' && e.b === 'wid') return local(ids[e.comp ?? 0]); // no bound: nothing folds through it
    if (e.k === 'builtin' && e.b === 'nwg') return counts[e.comp ?? 0]!;
    if ((e.k === 'load' || e.k === 'length') && e.buf.kind === 'storage') return { ...e, buf: shared(e.buf) };
    return e;
  });
  const block = (stmts: readonly Stmt[]): Stmt[] =>
    stmts.map((s) => {
      const r = withBody(mapExprs(s, rewrite), block(childrenOf(s)));
      return r.k === 'store' && r.buf.kind === 'storage' ? { ...r, buf: shared(r.buf) } : r;
    });
  return [...head, ...block(stmts)];
}

/**
 * `stmts` with each guard `if (c) { return; }` turned into `if (!c) { what follows }`, or
 * undefined when a `return` is left elsewhere. A part must not return: after a return in
 * non-uniform control flow WGSL treats the rest of the entry point (the later parts, with their
 * barriers and subgroup operations) as non-uniform.
 */
export function withoutGuardReturns(stmts: readonly Stmt[]): Stmt[] | undefined {
  const at = stmts.findIndex((s) => s.k === 'if' && s.body.length === 1 && s.body[0]!.k === 'return');
  const head = at < 0 ? stmts : stmts.slice(0, at);
  if (head.some(hasReturn)) return undefined;
  if (at < 0) return [...stmts];
  const rest = withoutGuardReturns(stmts.slice(at + 1));
  if (rest === undefined) return undefined;
  const guard = stmts[at] as StmtOf<'if'>;
  return rest.length === 0 ? [...head] : [...head, { k: 'if', cond: negate(guard.cond), body: rest }];
}

const hasReturn = (s: Stmt): boolean => s.k === 'return' || childrenOf(s).some(hasReturn);

const FLIPPED: Partial<Record<AluOp, AluOp>> = { lt: 'ge', ge: 'lt', le: 'gt', gt: 'le', eq: 'ne', ne: 'eq' };

/** !c, with comparisons flipped and De Morgan applied so the printed condition stays readable. */
function negate(c: Expr): Expr {
  if (c.k === 'lit') return bool(c.v === 0);
  if (c.k === 'alu' && c.args.length === 2 && c.ty.w === 1) {
    const flipped = FLIPPED[c.op];
    if (flipped && c.args[0]!.ty.s !== 'f32') return { ...c, op: flipped }; // NaN: !(a < b) is not a >= b for floats
    if (c.op === 'or') return and(negate(c.args[0]!), negate(c.args[1]!));
    if (c.op === 'and') return or(negate(c.args[0]!), negate(c.args[1]!));
  }
  return { k: 'alu', op: 'not', ty: BOOL, args: [c] };
}
