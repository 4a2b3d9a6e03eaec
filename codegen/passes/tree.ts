// What the passes share: which expressions may move (pure values), rebuilding expressions with
// their locals replaced, and the storage a kernel writes.

import { Buf, walkExpr, walkStmts, type Expr, type Local, type Stmt } from '../../kernels/ir.ts';

/** The buffers the statements write (stores). */
export function writtenBuffers(body: readonly Stmt[]): ReadonlySet<Buf> {
  const out = new Set<Buf>();
  walkStmts(body, (s) => {
    if (s.k === 'store') out.add(s.buf);
  });
  return out;
}

/**
 * Whether `e` is a value that does not depend on where it is evaluated in the kernel: no `var`,
 * no workgroup or function-scope array, no storage the kernel writes, no subgroup operation
 * (collective: its lanes must reach it together). Such a value may be computed earlier (hoisted)
 * or shared by equal expressions.
 */
export function isMovable(e: Expr, written: ReadonlySet<Buf>): boolean {
  let ok = true;
  walkExpr(e, (x) => {
    if (x.k === 'local' && x.x.kind === 'var') ok = false;
    else if (x.k === 'load' && (x.buf.kind === 'workgroup' || x.buf.kind === 'private' || written.has(x.buf))) ok = false;
    else if (x.k === 'alu' && (x.op === 'sgBroadcast' || x.op === 'sgAdd' || x.op === 'sgMax')) ok = false;
  });
  return ok;
}

/** The locals `e` reads. */
export function localsOf(e: Expr): Local[] {
  const out: Local[] = [];
  walkExpr(e, (x) => {
    if (x.k === 'local') out.push(x.x);
  });
  return out;
}

/** `e` rebuilt bottom-up with `f` applied to every sub-expression after its operands (identity where nothing changes). */
export function rewriteExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  let out: Expr = e;
  if (e.k === 'alu' || e.k === 'call') {
    const args = e.args.map((a) => rewriteExpr(a, f));
    if (args.some((a, i) => a !== e.args[i])) out = { ...e, args };
  } else if (e.k === 'load') {
    const at = rewriteExpr(e.at, f);
    if (at !== e.at) out = { ...e, at };
  }
  return f(out);
}

/** `e` with the locals in `map` replaced by their expressions. */
export function substitute(e: Expr, map: ReadonlyMap<Local, Expr>): Expr {
  if (map.size === 0) return e;
  return rewriteExpr(e, (x) => (x.k === 'local' ? (map.get(x.x) ?? x) : x));
}

/** The locals a statement defines (let, var, loop counter). */
export function definedBy(s: Stmt): Local | undefined {
  return s.k === 'let' || s.k === 'var' || s.k === 'loop' || s.k === 'halve' ? s.x : undefined;
}
