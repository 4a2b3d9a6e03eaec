// Common subexpressions: a `let` whose value equals one already computed on every path to it (an
// earlier `let` of this block or an enclosing one) is dropped, its uses read the earlier value.
// Only movable values (codegen/passes/tree.ts) are shared: a load of memory the kernel writes, or
// a variable's value, may change between the two.

import { bound, local } from '../../kernels/alu.ts';
import { childrenOf, exprKey, mapExprs, U32, withBody, type Expr, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';
import { assembled } from './simplify.ts';
import { movableChecker, writtenBuffers } from './tree.ts';

/** Shares equal values computed on every path to their second computation. */
export function cse(ir: KernelIR): KernelIR {
  const movable = movableChecker(writtenBuffers(ir.body));
  const replaced = new Map<Local, Expr>();
  // Plain recursion: values are small (what they read is let-bound), a memo costs more than it saves.
  const substitute = (e: Expr): Expr => {
    if (e.k === 'local') return replaced.get(e.x) ?? e;
    if (e.k === 'load') {
      const at = substitute(e.at);
      return at === e.at ? e : assembled({ ...e, at });
    }
    if (e.k !== 'alu' && e.k !== 'call') return e;
    const args = e.args.map(substitute);
    return args.every((a, i) => a === e.args[i]) ? e : assembled({ ...e, args });
  };
  // Values available in each enclosing block, innermost last (a chain, not copies: blocks are many).
  const scopes: Map<string, Expr>[] = [];
  const lookup = (key: string): Expr | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const hit = scopes[i]!.get(key);
      if (hit) return hit;
    }
    return undefined;
  };
  const block = (stmts: readonly Stmt[]): Stmt[] => {
    const here = new Map<string, Expr>();
    scopes.push(here);
    const out: Stmt[] = [];
    for (const s0 of stmts) {
      const s = replaced.size ? mapExprs(s0, substitute) : s0;
      if (s.k === 'let' && movable(s.value)) {
        const key = exprKey(s.value);
        const hit = lookup(key);
        if (hit) {
          replaced.set(s.x, hit);
          continue;
        }
        here.set(key, local(s.x, s.x.ty === U32 ? bound(s.value) : Infinity));
      }
      out.push(withBody(s, block(childrenOf(s))));
    }
    scopes.pop();
    return out;
  };
  return { ...ir, body: block(ir.body) };
}
