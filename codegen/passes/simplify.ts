// Constant folding as a pass: every expression rebuilt through the simplifying constructors of
// kernels/alu.ts, so a tree made or edited by other means (passes, templates composing pieces)
// reaches the renderer in folded, canonical form.

import * as A from '../../kernels/alu.ts';
import { mapExprs, withBody, childrenOf, type AluOp, type Expr, type KernelIR, type Stmt } from '../../kernels/ir.ts';
import { rewriteExpr } from './tree.ts';

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

/** `e` rebuilt through the constructors. */
export const simplifyExpr = (e: Expr): Expr =>
  rewriteExpr(e, (x) => (x.k === 'alu' && REBUILD[x.op] ? REBUILD[x.op]!(x.args, x) : x));

function simplifyBlock(block: readonly Stmt[]): Stmt[] {
  return block.map((s) => withBody(mapExprs(s, simplifyExpr), simplifyBlock(childrenOf(s))));
}

/** Folds constants and simplifies index arithmetic everywhere in the kernel. */
export function simplify(ir: KernelIR): KernelIR {
  return { ...ir, body: simplifyBlock(ir.body) };
}
