// Dead code: `let`s nothing reads are dropped, and `var`s nothing reads but their own updates
// (an accumulation whose result is never used), with their assignments; and with them the reads
// they made (dropping one can leave another unread): use counts, then a worklist of locals whose
// count fell to zero.

import { childrenOf, exprsOf, walkStmts, withBody, type Expr, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';

/** Calls `visit` on every local occurrence in `e` except those of `self` (a var's reads in its own updates). */
function eachLocal(e: Expr, visit: (x: Local) => void, self?: Local): void {
  if (e.k === 'local') {
    if (e.x !== self) visit(e.x);
  } else if (e.k === 'load') eachLocal(e.at, visit, self);
  else if (e.k === 'alu' || e.k === 'call') for (const a of e.args) eachLocal(a, visit, self);
}

/** Drops every `let` whose value nothing reads and every `var` only its own assignments read. */
export function dce(ir: KernelIR): KernelIR {
  // Reads per local (per occurrence), and what each let or var computes from (a var: its initial
  // value and every value assigned to it, its own reads there left out).
  const reads = new Map<Local, number>();
  const sources = new Map<Local, { e: Expr; self?: Local }[]>();
  const count = (x: Local) => reads.set(x, (reads.get(x) ?? 0) + 1);
  walkStmts(ir.body, (s) => {
    if (s.k === 'let' || s.k === 'var') sources.set(s.x, [{ e: s.k === 'let' ? s.value : s.init }]);
    if (s.k === 'assign') {
      sources.get(s.x)?.push({ e: s.value, self: s.x });
      eachLocal(s.value, count, s.x);
    } else for (const e of exprsOf(s)) eachLocal(e, count);
  });
  const dead = new Set<Local>();
  const drop = (x: Local): void => {
    if (dead.has(x)) return;
    dead.add(x);
    // Each local the dropped definitions read loses those reads.
    for (const { e, self } of sources.get(x)!) {
      eachLocal(e, (y) => {
        const left = (reads.get(y) ?? 0) - 1;
        reads.set(y, left);
        if (left === 0 && sources.has(y)) drop(y);
      }, self);
    }
  };
  for (const x of [...sources.keys()]) if ((reads.get(x) ?? 0) === 0) drop(x);
  if (dead.size === 0) return ir;
  const gone = (s: Stmt) => (s.k === 'let' || s.k === 'var' || s.k === 'assign') && dead.has(s.x);
  const keep = (block: readonly Stmt[]): Stmt[] => block.filter((s) => !gone(s)).map((s) => withBody(s, keep(childrenOf(s))));
  return { ...ir, body: keep(ir.body) };
}
