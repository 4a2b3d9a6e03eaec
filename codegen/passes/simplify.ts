// Constant folding as a pass. The constructors of kernels/alu.ts fold as they build, so every
// expression a template made is already folded; what a pass rewrote (new operands under an old
// operation) may not be. This pass rebuilds, through the constructors, every expression whose
// operands changed, bottom-up, so the tree reaches the renderer in folded, canonical form.

import * as A from '../../kernels/alu.ts';
import { mapExprs, withBody, childrenOf, type AluOp, type Expr, type KernelIR, type Stmt } from '../../kernels/ir.ts';

type Rebuild = (args: readonly Expr[], e: Extract<Expr, { k: 'alu' }>) => Expr;
const two = (f: (a: Expr, b: Expr) => Expr): Rebuild => ([a, b]) => f(a!, b!);
const one = (f: (a: Expr) => Expr): Rebuild => ([a]) => f(a!);

/** The constructor of each ALU op (ops without folding rules rebuild as they were). */
const REBUILD: Partial<Record<AluOp, Rebuild>> = {
  add: two(A.add), sub: two(A.sub), mul: two(A.mul), div: two(A.div), mod: two(A.mod), min: two(A.min), max: two(A.max), shr: two(A.shr),
  neg: one(A.neg), abs: one(A.abs), sign: one(A.sign), exp: one(A.exp), log: one(A.log), sqrt: one(A.sqrt), inverseSqrt: one(A.inverseSqrt),
  lt: two((a, b) => A.compare('lt', a, b)), le: two((a, b) => A.compare('le', a, b)), gt: two((a, b) => A.compare('gt', a, b)),
  ge: two((a, b) => A.compare('ge', a, b)), eq: two((a, b) => A.compare('eq', a, b)), ne: two((a, b) => A.compare('ne', a, b)),
  and: (args) => A.and(...args), or: (args) => A.or(...args),
  select: ([f, t, c]) => A.select(f!, t!, c!),
  cast: ([x], e) => A.cast(x!, e.ty.s), splat: one(A.splat), vec4: (args) => A.vec4(args), lane: two(A.lane),
};

/** `e` with every expression whose operands changed rebuilt through its constructor (the same object where nothing did). */
export function simplifyExpr(e: Expr): Expr {
  if (e.k === 'load') {
    const at = simplifyExpr(e.at);
    return at === e.at ? e : A.load(e.buf, at);
  }
  if (e.k !== 'alu' && e.k !== 'call') return e;
  const args = e.args.map(simplifyExpr);
  const same = args.every((a, i) => a === e.args[i]);
  // An expression built by a constructor is folded; one a pass assembled by hand is rebuilt.
  if (same && !unfolded.has(e)) return e;
  return e.k === 'alu' && REBUILD[e.op] ? REBUILD[e.op]!(args, e) : { ...e, args };
}

/** Expressions passes assembled without a constructor (marked by `assembled`), to be rebuilt by simplify. */
const unfolded = new WeakSet<Expr>();
/** Marks an expression a pass assembled by hand (not through kernels/alu.ts) for the next simplify. */
export function assembled<E extends Expr>(e: E): E {
  unfolded.add(e);
  return e;
}

/** Folds constants and simplifies index arithmetic everywhere in the kernel. */
export function simplify(ir: KernelIR): KernelIR {
  const block = (stmts: readonly Stmt[]): Stmt[] => stmts.map((s) => withBody(mapExprs(s, simplifyExpr), block(childrenOf(s))));
  return { ...ir, body: block(ir.body) };
}
