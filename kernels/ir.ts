// The kernel IR: every kernel is a tree of statements over typed expressions. Templates build it
// (through kernels/template.ts's KernelBuilder), the passes of codegen/passes/ rewrite it (hoisting,
// common subexpressions, dead code, binding pruning, vector bindings, loop bounds), and
// codegen/render.ts prints it to WGSL once, at the very end. Nothing reads or edits WGSL text.
//
// Expressions are immutable values; locals, buffers and loop counters are objects whose identity
// is the variable (their names are chosen by the renderer). Expression constructors that simplify
// (constant folding, index arithmetic with value bounds) live in kernels/alu.ts.

/** Scalar types of the IR (WGSL's f32, i32, u32, bool). */
export type Scalar = 'f32' | 'i32' | 'u32' | 'bool';
/** Lanes of a value: a scalar or a 4-vector. */
export type Width = 1 | 4;

/** The type of an expression: a scalar type and a width (`vec4<f32>` is f32 × 4). */
export interface Ty {
  readonly s: Scalar;
  readonly w: Width;
}

const TYPES = Object.fromEntries((['f32', 'i32', 'u32', 'bool'] as const).map((s) => [s, [{ s, w: 1 }, { s, w: 4 }] as const])) as Record<Scalar, readonly [Ty, Ty]>;
/** The interned type of scalar `s` at width `w` (types compare by identity). */
export const ty = (s: Scalar, w: Width = 1): Ty => TYPES[s][w === 1 ? 0 : 1];
export const F32 = ty('f32');
export const U32 = ty('u32');
export const I32 = ty('i32');
export const BOOL = ty('bool');
export const VEC4 = ty('f32', 4);

let nextLocalId = 0;

/** A local value: a `let`, a mutable `var`, or a loop counter. Its name is chosen when the kernel is printed. */
export class Local {
  /** A number unique in the process: what common-subexpression keys use. */
  readonly id = nextLocalId++;
  constructor(
    /** A hint for the printed name (`g`, `acc`, `i`...). */
    readonly hint: string,
    readonly ty: Ty,
    readonly kind: 'let' | 'var' | 'loop',
  ) {}
}

/** Invocation builtins of a compute entry point. */
export type Builtin = 'wid' | 'nwg' | 'lid' | 'lid3' | 'sid';

/** The WGSL attribute and type of each builtin (vec3u ones are read by component). */
export const BUILTINS: { readonly [B in Builtin]: { readonly attr: string; readonly vec3: boolean } } = {
  wid: { attr: 'workgroup_id', vec3: true },
  nwg: { attr: 'num_workgroups', vec3: true },
  lid3: { attr: 'local_invocation_id', vec3: true },
  lid: { attr: 'local_invocation_index', vec3: false },
  sid: { attr: 'subgroup_invocation_id', vec3: false },
};

/** What a buffer is: a storage binding, workgroup memory, a function-scope array, or a constant table. */
export type BufKind = 'storage' | 'workgroup' | 'private' | 'table';

/** An array the kernel reads or writes. Identity is the buffer; names are chosen when printed. */
export class Buf {
  constructor(
    readonly kind: BufKind,
    readonly hint: string,
    /** Element type (`vec4<f32>` for a vector view of a tensor). */
    readonly elem: Ty,
    /** Length of fixed-size arrays (workgroup, private, table); storage arrays are runtime-sized. */
    readonly length?: number,
    /** Storage: the graph node whose tensor is bound. */
    readonly tensor?: number,
    /** Table: the constant values. */
    readonly values?: readonly number[],
    /** Storage: the buffer (arena) holding the tensor; see agreeOnAccess. */
    readonly arena?: string,
  ) {}
  /** Storage: whether the kernel may write it (see KernelWriter.buffer for why outputs' arenas are read_write). */
  access: 'read' | 'read_write' = 'read';
}

/**
 * Makes every binding of an arena read_write where one is: WebGPU forbids a writable and a
 * read-only use of one buffer in the same dispatch, even of disjoint ranges. Kernels that only
 * read an arena keep it read-only (and their module then serves plans that never write it).
 */
export function agreeOnAccess(bufs: readonly Buf[]): void {
  const written = new Set(bufs.filter((b) => b.kind === 'storage' && b.access === 'read_write').map((b) => b.arena));
  for (const b of bufs) if (b.kind === 'storage' && b.arena !== undefined && written.has(b.arena)) b.access = 'read_write';
}

/** ALU operations. Arithmetic ops work on scalars and 4-vectors alike; comparisons return bool of the operands' width. */
export type AluOp =
  | 'neg' | 'not' | 'abs' | 'sign' | 'exp' | 'log' | 'sqrt' | 'inverseSqrt'
  | 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max' | 'shr'
  | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or'
  | 'select' | 'fma' | 'clamp' | 'dot'
  | 'cast' | 'splat' | 'vec4' | 'lane'
  | 'sgBroadcast' | 'sgAdd' | 'sgMax';

/** WGSL helper functions a kernel may call (linked into its module when used: codegen/wgsl-lib.ts). */
export type Helper = 'erf' | 'sigmoid' | 'tanh' | 'rand';

/** A typed expression. */
export type Expr =
  /** A scalar literal (bool: 0 or 1). */
  | { readonly k: 'lit'; readonly ty: Ty; readonly v: number }
  /** The value of a local; `bound` is an exclusive upper bound of a u32 value (Infinity if unknown). */
  | { readonly k: 'local'; readonly ty: Ty; readonly x: Local; readonly bound: number; readonly low?: number }
  /** A builtin, by component for vec3u ones (0: x, 1: y, 2: z); `bound` as for locals. */
  | { readonly k: 'builtin'; readonly ty: Ty; readonly b: Builtin; readonly comp?: 0 | 1 | 2; readonly bound: number }
  /** An element of a buffer (`at` is a u32 element index). */
  | { readonly k: 'load'; readonly ty: Ty; readonly buf: Buf; readonly at: Expr }
  /**
   * The length of a storage binding in elements of its type (`arrayLength`): how a kernel reads a
   * size at run time (a row count), so that one module serves every size. u32.
   */
  | { readonly k: 'length'; readonly ty: Ty; readonly buf: Buf }
  | { readonly k: 'alu'; readonly ty: Ty; readonly op: AluOp; readonly args: readonly Expr[] }
  | { readonly k: 'call'; readonly ty: Ty; readonly fn: Helper; readonly args: readonly Expr[] };

/** Expressions of a given kind. */
export type ExprOf<K extends Expr['k']> = Extract<Expr, { k: K }>;

/** A statement. Bodies are arrays of statements in program order. */
export type Stmt =
  /** `let x = value;` (`note`: a comment printed after it, saying why it is there). */
  | { readonly k: 'let'; readonly x: Local; readonly value: Expr; readonly note?: string }
  | { readonly k: 'var'; readonly x: Local; readonly init: Expr }
  /** A function-scope array (private buffer), zeroed or initialised element by element. */
  | { readonly k: 'array'; readonly buf: Buf; readonly init?: readonly Expr[] }
  | { readonly k: 'assign'; readonly x: Local; readonly value: Expr }
  | { readonly k: 'store'; readonly buf: Buf; readonly at: Expr; readonly value: Expr }
  /** `for (var x = from; x < to; x += step)`. */
  | { readonly k: 'loop'; readonly x: Local; readonly from: Expr; readonly to: Expr; readonly step: Expr; readonly body: readonly Stmt[] }
  /** `for (var x = from; x > 0; x = x >> 1)`: the levels of a tree reduction. */
  | { readonly k: 'halve'; readonly x: Local; readonly from: Expr; readonly body: readonly Stmt[] }
  | { readonly k: 'if'; readonly cond: Expr; readonly body: readonly Stmt[] }
  | { readonly k: 'return' }
  /** `workgroupBarrier()`, or `storageBarrier()` (storage writes seen by the whole workgroup) where `storage`. */
  | { readonly k: 'barrier'; readonly storage?: boolean };

/** Statements of a given kind. */
export type StmtOf<K extends Stmt['k']> = Extract<Stmt, { k: K }>;

/** A kernel in IR form: the entry point's body and everything it declares. */
export interface KernelIR {
  readonly body: readonly Stmt[];
  /** Storage bindings in registration order (the binding-pruning pass keeps the used ones). */
  readonly storage: readonly Buf[];
  /** Module-scope arrays: workgroup memory and constant tables. */
  readonly moduleArrays: readonly Buf[];
  readonly workgroupSize: readonly [number, number, number];
  /** WGSL extensions the kernel enables (`subgroups`). */
  readonly enables: readonly string[];
  /**
   * The number of workgroups the kernel runs, when it reads sizes at run time: an expression of
   * its bindings' lengths (no locals), so that a batched dispatch computes each part's range of
   * workgroups at run time too (codegen/batch.ts). Undefined: the dispatch's count is fixed.
   */
  readonly workgroups?: Expr;
}

/** The statements nested in `s` (loop, halve and if bodies), or none. */
export const childrenOf = (s: Stmt): readonly Stmt[] => (s.k === 'loop' || s.k === 'halve' || s.k === 'if' ? s.body : NONE);
const NONE: readonly Stmt[] = [];

/** `s` with its nested body replaced (for loops, halving loops and ifs). */
export function withBody<S extends Stmt>(s: S, body: readonly Stmt[]): S {
  return s.k === 'loop' || s.k === 'halve' || s.k === 'if' ? ({ ...s, body } as S) : s;
}

/** The expressions a statement reads directly (not those of nested statements). */
export function exprsOf(s: Stmt): readonly Expr[] {
  switch (s.k) {
    case 'let': case 'assign': return [s.value];
    case 'var': return [s.init];
    case 'array': return s.init ?? NONE_E;
    case 'store': return [s.at, s.value];
    case 'loop': return [s.from, s.to, s.step];
    case 'halve': return [s.from];
    case 'if': return [s.cond];
    case 'return': case 'barrier': return NONE_E;
  }
}
const NONE_E: readonly Expr[] = [];

/** `s` with each of its direct expressions replaced by `f` of it. */
export function mapExprs(s: Stmt, f: (e: Expr) => Expr): Stmt {
  switch (s.k) {
    case 'let': case 'assign': return { ...s, value: f(s.value) };
    case 'var': return { ...s, init: f(s.init) };
    case 'array': return s.init ? { ...s, init: s.init.map(f) } : s;
    case 'store': return { ...s, at: f(s.at), value: f(s.value) };
    case 'loop': return { ...s, from: f(s.from), to: f(s.to), step: f(s.step) };
    case 'halve': return { ...s, from: f(s.from) };
    case 'if': return { ...s, cond: f(s.cond) };
    case 'return': case 'barrier': return s;
  }
}

/** The direct operands of an expression. */
export const operandsOf = (e: Expr): readonly Expr[] => (e.k === 'alu' || e.k === 'call' ? e.args : e.k === 'load' ? [e.at] : NONE_E);

/** Calls `visit` on `e` and every expression inside it, operands before the expression. */
export function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  for (const o of operandsOf(e)) walkExpr(o, visit);
  visit(e);
}

/** Calls `visit` on every statement of `body`, nested ones included, in program order. */
export function walkStmts(body: readonly Stmt[], visit: (s: Stmt) => void): void {
  for (const s of body) {
    visit(s);
    walkStmts(childrenOf(s), visit);
  }
}

/** Whether the kernel reads a buffer's length (a count read at run time: `runtimeCount`). */
export function readsLengths(ir: KernelIR): boolean {
  let found = false;
  walkStmts(ir.body, (s) => {
    for (const e of exprsOf(s)) walkExpr(e, (x) => { found ||= x.k === 'length'; });
  });
  return found;
}

/** The number of operations in `e` (loads, ALU ops and calls): what "smaller" means when choosing between equal forms. */
export function exprSize(e: Expr): number {
  let n = 0;
  walkExpr(e, (x) => {
    if (x.k === 'alu' || x.k === 'load' || x.k === 'call') n++;
  });
  return n;
}

/**
 * Expressions are interned: each distinct structure (op, type, operands' ids; locals and buffers
 * by identity) gets a small number, remembered per expression object. Two expressions have equal
 * keys exactly when they are the same computation; a key is short whatever the depth. The table
 * starts afresh (keys of older expressions are then recomputed) only at a safe point, between
 * kernels (`restartInterningIfFull`, called by the code generator): a key made before a restart
 * never equals one made after it, so a restart inside a kernel would make one index two keys
 * (an epilogue then no longer finds its accumulator).
 */
const INTERN_LIMIT = 1 << 21;
let generation = 0;
let interned = new Map<string, number>();
const ids = new WeakMap<Expr, number>();
const GENERATION = 2 ** 32;

/** Starts the intern table afresh (exported for tests). */
export function restartInterning(): void {
  generation++;
  interned = new Map();
}

/**
 * Starts the intern table afresh once it holds `limit` structures (default INTERN_LIMIT): call
 * where no key is held (between kernels). Returns whether it restarted.
 */
export function restartInterningIfFull(limit = INTERN_LIMIT): boolean {
  if (interned.size < limit) return false;
  restartInterning();
  return true;
}

/** The interned number of an expression's structure (see exprKey). */
export function exprId(e: Expr): number {
  const hit = ids.get(e);
  if (hit !== undefined && Math.floor(hit / GENERATION) === generation) return hit;
  const shape = shapeOf(e);
  let id = interned.get(shape);
  if (id === undefined) interned.set(shape, (id = interned.size));
  // The generation is part of the number: a key made before a restart (held in a builder's memo,
  // or an operand's number inside a shape being interned across the restart) never equals a key
  // made after it for another expression.
  const full = generation * GENERATION + id;
  ids.set(e, full);
  return full;
}

/** An expression's structure with its operands as their interned numbers. */
function shapeOf(e: Expr): string {
  switch (e.k) {
    case 'lit': return `${e.ty.s}${e.ty.w}:${e.v}`;
    case 'local': return `%${e.x.id}`;
    case 'builtin': return `${e.b}${e.comp ?? ''}`;
    case 'load': return `${bufKey(e.buf)}[${exprId(e.at)}]`;
    case 'length': return `len(${bufKey(e.buf)})`;
    case 'alu': return `${e.op}${e.op === 'cast' ? `<${e.ty.s}${e.ty.w}>` : ''}(${e.args.map(exprId).join(',')})`;
    case 'call': return `${e.fn}(${e.args.map(exprId).join(',')})`;
  }
}

/**
 * A string equal for two expressions exactly when they are the same computation (same ops,
 * operands, locals and buffers): what common-subexpression elimination and the builder's memo
 * compare.
 */
export const exprKey = (e: Expr): string => String(exprId(e));

const bufIds = new WeakMap<Buf, number>();
let nextBufId = 0;
const bufKey = (b: Buf): string => {
  let id = bufIds.get(b);
  if (id === undefined) bufIds.set(b, (id = nextBufId++));
  return `${b.hint}#${id}`;
};
