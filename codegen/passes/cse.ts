// Common subexpressions: a `let` whose value equals one already computed on every path to it (an
// earlier `let` of this block or an enclosing one) is dropped, its uses read the earlier value.
// Only movable values (codegen/passes/tree.ts) are shared: a load of memory the kernel writes, or
// a variable's value, may change between the two.

import { bound, local } from '../../kernels/alu.ts';
import { childrenOf, exprKey, mapExprs, U32, withBody, type Expr, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';
import { isMovable, substitute, writtenBuffers } from './tree.ts';

function cseBlock(block: readonly Stmt[], available: ReadonlyMap<string, Expr>, replaced: Map<Local, Expr>, written: ReturnType<typeof writtenBuffers>): Stmt[] {
  const here = new Map(available);
  const out: Stmt[] = [];
  for (const s0 of block) {
    const s = mapExprs(s0, (e) => substitute(e, replaced));
    if (s.k === 'let' && isMovable(s.value, written)) {
      const key = exprKey(s.value);
      const hit = here.get(key);
      if (hit) {
        replaced.set(s.x, hit);
        continue;
      }
      here.set(key, local(s.x, s.x.ty === U32 ? bound(s.value) : Infinity));
    }
    out.push(withBody(s, cseBlock(childrenOf(s), here, replaced, written)));
  }
  return out;
}

/** Shares equal values computed on every path to their second computation. */
export function cse(ir: KernelIR): KernelIR {
  return { ...ir, body: cseBlock(ir.body, new Map(), new Map(), writtenBuffers(ir.body)) };
}
