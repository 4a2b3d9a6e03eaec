// What the passes share: which expressions may move (pure values), rebuilding expressions with
// their locals replaced, and the storage a kernel writes. Expressions are shared by reference
// (one subtree read by many statements), so the walks here remember what they saw.

import { Buf, walkStmts, operandsOf, type Expr, type Local, type Stmt } from '../../kernels/ir.ts';
import { assembled } from './simplify.ts';

/** The buffers the statements write (stores). */
export function writtenBuffers(body: readonly Stmt[]): ReadonlySet<Buf> {
  const out = new Set<Buf>();
  walkStmts(body, (s) => {
    if (s.k === 'store') out.add(s.buf);
  });
  return out;
}

/**
 * Whether expressions are values that do not depend on where they are evaluated in the kernel:
 * no `var`, no workgroup or function-scope array, no storage the kernel writes, no subgroup
 * operation (collective: its lanes must reach it together). Such a value may be computed earlier
 * (hoisted) or shared by equal expressions. One checker per kernel (it remembers sub-results).
 */
export function movableChecker(written: ReadonlySet<Buf>): (e: Expr) => boolean {
  const memo = new WeakMap<Expr, boolean>();
  const check = (e: Expr): boolean => {
    const hit = memo.get(e);
    if (hit !== undefined) return hit;
    let ok: boolean;
    if (e.k === 'local') ok = e.x.kind !== 'var';
    else if (e.k === 'load') ok = e.buf.kind !== 'workgroup' && e.buf.kind !== 'private' && !written.has(e.buf) && check(e.at);
    else if (e.k === 'alu' && (e.op === 'sgBroadcast' || e.op === 'sgAdd' || e.op === 'sgMax')) ok = false;
    else ok = operandsOf(e).every(check);
    memo.set(e, ok);
    return ok;
  };
  return check;
}

/** The locals an expression reads, for each expression asked about (remembered per subtree). */
export function localsReader(): (e: Expr) => ReadonlySet<Local> {
  const memo = new WeakMap<Expr, ReadonlySet<Local>>();
  const NONE: ReadonlySet<Local> = new Set();
  const read = (e: Expr): ReadonlySet<Local> => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: ReadonlySet<Local>;
    if (e.k === 'local') out = new Set([e.x]);
    else {
      const parts = operandsOf(e).map(read).filter((s) => s.size > 0);
      out = parts.length === 0 ? NONE : parts.length === 1 ? parts[0]! : new Set(parts.flatMap((s) => [...s]));
    }
    memo.set(e, out);
    return out;
  };
  return read;
}

/**
 * A rewriter that rebuilds expressions bottom-up with `f` applied to every sub-expression after
 * its operands (the same object back where nothing changed). Shared subtrees are rewritten once.
 */
export function rewriter(f: (e: Expr) => Expr): (e: Expr) => Expr {
  const memo = new WeakMap<Expr, Expr>();
  const rewrite = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr = e;
    if (e.k === 'alu' || e.k === 'call') {
      const args = e.args.map(rewrite);
      if (args.some((a, i) => a !== e.args[i])) out = assembled({ ...e, args });
    } else if (e.k === 'load') {
      const at = rewrite(e.at);
      if (at !== e.at) out = assembled({ ...e, at });
    }
    out = f(out);
    memo.set(e, out);
    return out;
  };
  return rewrite;
}

/** `e` rebuilt bottom-up with `f` applied to every sub-expression (one-off; see `rewriter`). */
export const rewriteExpr = (e: Expr, f: (e: Expr) => Expr): Expr => rewriter(f)(e);

/** The locals a statement defines (let, var, loop counter). */
export function definedBy(s: Stmt): Local | undefined {
  return s.k === 'let' || s.k === 'var' || s.k === 'loop' || s.k === 'halve' ? s.x : undefined;
}
