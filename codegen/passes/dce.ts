// Dead code: `let`s nothing reads are dropped, and with them the reads they made (dropping one can
// leave another unread): use counts, then a worklist of lets whose count fell to zero.

import { childrenOf, exprsOf, walkStmts, withBody, type Expr, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';
import { localsReader } from './tree.ts';

/** Each local's reads, counting every occurrence (a let's value reads its locals once per occurrence). */
function readCounts(body: readonly Stmt[]): Map<Local, number> {
  const n = new Map<Local, number>();
  const count = (e: Expr): void => {
    if (e.k === 'local') n.set(e.x, (n.get(e.x) ?? 0) + 1);
    else if (e.k === 'load') count(e.at);
    else if (e.k === 'alu' || e.k === 'call') for (const a of e.args) count(a);
  };
  walkStmts(body, (s) => {
    for (const e of exprsOf(s)) count(e);
    if (s.k === 'assign') n.set(s.x, (n.get(s.x) ?? 0) + 1);
  });
  return n;
}

/** Drops every `let` whose value nothing reads. */
export function dce(ir: KernelIR): KernelIR {
  const reads = readCounts(ir.body);
  const values = new Map<Local, Expr>();
  walkStmts(ir.body, (s) => s.k === 'let' && values.set(s.x, s.value));
  const dead = new Set<Local>();
  const locals = localsReader();
  const drop = (x: Local): void => {
    if (dead.has(x)) return;
    dead.add(x);
    // Each local the dropped value reads loses the reads it made (walked again: counts are per occurrence).
    const lose = (e: Expr): void => {
      if (e.k === 'local') {
        const left = (reads.get(e.x) ?? 0) - 1;
        reads.set(e.x, left);
        if (left === 0 && values.has(e.x)) drop(e.x);
      } else if (e.k === 'load') lose(e.at);
      else if (e.k === 'alu' || e.k === 'call') for (const a of e.args) lose(a);
    };
    if (locals(values.get(x)!).size > 0) lose(values.get(x)!);
  };
  for (const x of values.keys()) if ((reads.get(x) ?? 0) === 0) drop(x);
  if (dead.size === 0) return ir;
  const keep = (block: readonly Stmt[]): Stmt[] => block.filter((s) => s.k !== 'let' || !dead.has(s.x)).map((s) => withBody(s, keep(childrenOf(s))));
  return { ...ir, body: keep(ir.body) };
}
