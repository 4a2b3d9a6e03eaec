// Dead code: `let`s nothing reads are dropped, repeatedly (dropping one can leave another unread).

import { childrenOf, exprsOf, walkExpr, withBody, walkStmts, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';

function uses(body: readonly Stmt[]): Map<Local, number> {
  const n = new Map<Local, number>();
  walkStmts(body, (s) => {
    for (const e of exprsOf(s)) walkExpr(e, (x) => x.k === 'local' && n.set(x.x, (n.get(x.x) ?? 0) + 1));
    if (s.k === 'assign') n.set(s.x, (n.get(s.x) ?? 0) + 1);
  });
  return n;
}

function dropUnread(block: readonly Stmt[], read: ReadonlyMap<Local, number>): Stmt[] {
  return block.filter((s) => s.k !== 'let' || (read.get(s.x) ?? 0) > 0).map((s) => withBody(s, dropUnread(childrenOf(s), read)));
}

/** Drops every `let` whose value nothing reads. */
export function dce(ir: KernelIR): KernelIR {
  let body = ir.body;
  for (;;) {
    const next = dropUnread(body, uses(body));
    if (countStmts(next) === countStmts(body)) return { ...ir, body };
    body = next;
  }
}

function countStmts(body: readonly Stmt[]): number {
  let n = 0;
  walkStmts(body, () => n++);
  return n;
}
