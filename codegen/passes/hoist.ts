// Loop-invariant code motion: a `let` inside a loop whose value reads nothing the loop changes
// (its counter, values defined in it, variables, memory the kernel writes) is computed once,
// before the loop, instead of once per iteration: loads of loop-invariant operands (LayerNorm
// statistics in a matmul prologue, row indices, a bias in an epilogue loop). Inner loops first, so
// a value moves out of every loop it does not depend on. Values are pure and reads are robust, so
// evaluating one earlier (or where an enclosing `if` would have skipped it) is safe.

import type { Expr, KernelIR, Local, Stmt } from '../../kernels/ir.ts';
import { definedBy, localsReader, movableChecker, writtenBuffers } from './tree.ts';

interface Analysis {
  readonly movable: (e: Expr) => boolean;
  readonly locals: (e: Expr) => ReadonlySet<Local>;
}

/** A block with its loops' invariants hoisted, and every local defined in it (nested blocks included). */
function hoistBlock(block: readonly Stmt[], a: Analysis): { stmts: Stmt[]; defined: Set<Local> } {
  const stmts: Stmt[] = [];
  const defined = new Set<Local>();
  for (const s of block) {
    const x = definedBy(s);
    if (x) defined.add(x);
    if (s.k === 'loop' || s.k === 'halve' || s.k === 'if') {
      const inner = hoistBlock(s.body, a);
      for (const y of inner.defined) defined.add(y);
      if (s.k === 'if') stmts.push({ ...s, body: inner.stmts });
      else {
        const { kept, hoisted } = extractInvariant(s.x, inner, a);
        stmts.push(...hoisted, { ...s, body: kept });
      }
    } else stmts.push(s);
  }
  return { stmts, defined };
}

/** Splits a loop's (already hoisted) body into the lets that do not depend on the loop and the rest. */
function extractInvariant(counter: Local, body: { stmts: Stmt[]; defined: ReadonlySet<Local> }, a: Analysis): { kept: Stmt[]; hoisted: Stmt[] } {
  // Everything defined inside the loop varies with it, until it is hoisted.
  const inside = new Set<Local>(body.defined);
  inside.add(counter);
  const hoisted: Stmt[] = [];
  const invariant = (e: Expr) => {
    for (const x of a.locals(e)) if (inside.has(x)) return false;
    return a.movable(e);
  };
  const visit = (block: readonly Stmt[]): Stmt[] =>
    block.flatMap((s): Stmt[] => {
      if (s.k === 'let' && invariant(s.value)) {
        inside.delete(s.x);
        hoisted.push(s);
        return [];
      }
      // Nested loops keep what depends on them (their own pass ran first); ifs are looked into.
      return s.k === 'if' ? [{ ...s, body: visit(s.body) }] : [s];
    });
  return { kept: visit(body.stmts), hoisted };
}

/** Moves loop-invariant values out of loops. */
export function hoist(ir: KernelIR): KernelIR {
  return { ...ir, body: hoistBlock(ir.body, { movable: movableChecker(writtenBuffers(ir.body)), locals: localsReader() }).stmts };
}
