// Loop-invariant code motion: a `let` inside a loop whose value reads nothing the loop changes
// (its counter, values defined in it, variables, memory the kernel writes) is computed once,
// before the loop, instead of once per iteration: loads of loop-invariant operands (LayerNorm
// statistics in a matmul prologue, row indices, a bias in an epilogue loop). Inner loops first, so
// a value moves out of every loop it does not depend on. Values are pure and reads are robust, so
// evaluating one earlier (or where an enclosing `if` would have skipped it) is safe.

import { walkStmts, type KernelIR, type Local, type Stmt } from '../../kernels/ir.ts';
import { definedBy, isMovable, localsOf, writtenBuffers } from './tree.ts';

type Written = ReturnType<typeof writtenBuffers>;

function hoistBlock(block: readonly Stmt[], written: Written): Stmt[] {
  const out: Stmt[] = [];
  for (const s of block) {
    if (s.k === 'loop' || s.k === 'halve') {
      const { kept, hoisted } = extractInvariant(s, hoistBlock(s.body, written), written);
      out.push(...hoisted, { ...s, body: kept });
    } else if (s.k === 'if') out.push({ ...s, body: hoistBlock(s.body, written) });
    else out.push(s);
  }
  return out;
}

/** Splits a loop's (already hoisted) body into the lets that do not depend on the loop and the rest. */
function extractInvariant(loop: Stmt & { x: Local }, body: readonly Stmt[], written: Written): { kept: Stmt[]; hoisted: Stmt[] } {
  // Everything defined inside the loop varies with it, until it is hoisted.
  const inside = new Set<Local>([loop.x]);
  walkStmts(body, (s) => {
    const x = definedBy(s);
    if (x) inside.add(x);
  });
  const hoisted: Stmt[] = [];
  const visit = (block: readonly Stmt[]): Stmt[] =>
    block.flatMap((s): Stmt[] => {
      if (s.k === 'let' && isMovable(s.value, written) && localsOf(s.value).every((x) => !inside.has(x))) {
        inside.delete(s.x);
        hoisted.push(s);
        return [];
      }
      // Nested loops keep what depends on them (their own pass ran first); ifs are looked into.
      return s.k === 'if' ? [{ ...s, body: visit(s.body) }] : [s];
    });
  return { kept: visit(body), hoisted };
}

/** Moves loop-invariant values out of loops. */
export function hoist(ir: KernelIR): KernelIR {
  return { ...ir, body: hoistBlock(ir.body, writtenBuffers(ir.body)) };
}
