// Storage bindings. One binding per tensor: WebGPU forbids overlapping writable bindings, and the
// binding limit counts tensors, so a tensor read both as vectors and as scalars keeps its vec4
// binding and its scalar reads become lanes of vector reads (vectorBindings). Then the bindings
// and module arrays nothing reads or writes any more are dropped (pruneBindings).

import { div, lane, length, load, mod, mul } from '../../kernels/alu.ts';
import { childrenOf, mapExprs, walkExpr, walkStmts, exprsOf, withBody, type Buf, type Expr, type KernelIR, type Stmt } from '../../kernels/ir.ts';
import { rewriter } from './tree.ts';

/** Buffers read, written or measured (arrayLength) anywhere in the kernel. */
function buffersUsed(ir: KernelIR): Set<Buf> {
  const used = new Set<Buf>();
  const reads = (x: Expr) => (x.k === 'load' || x.k === 'length') && used.add(x.buf);
  walkStmts(ir.body, (s) => {
    if (s.k === 'store') used.add(s.buf);
    if (s.k === 'array') used.add(s.buf);
    for (const e of exprsOf(s)) walkExpr(e, reads);
  });
  if (ir.workgroups) walkExpr(ir.workgroups, reads);
  return used;
}

/** Scalar reads of a tensor that also has a vector binding, rewritten as lanes of vector reads. */
export function vectorBindings(ir: KernelIR): KernelIR {
  const used = buffersUsed(ir);
  const vectorOf = new Map<Buf, Buf>();
  for (const v of ir.storage) {
    if (v.elem.w !== 4 || !used.has(v)) continue;
    const s = ir.storage.find((b) => b !== v && b.tensor === v.tensor && b.elem.w === 1);
    if (s && used.has(s)) vectorOf.set(s, v);
  }
  if (vectorOf.size === 0) return ir;
  const lanes = rewriter((x) => {
    const v = x.k === 'load' || x.k === 'length' ? vectorOf.get(x.buf) : undefined;
    if (!v) return x;
    return x.k === 'load' ? lane(load(v, div(x.at, 4)), mod(x.at, 4)) : mul(length(v), 4);
  });
  const rewrite = (block: readonly Stmt[]): Stmt[] =>
    block.map((s) => {
      if (s.k === 'store' && vectorOf.has(s.buf)) throw new Error(`internal error: tensor %${s.buf.tensor} is written as scalars and as vectors in one kernel`);
      return withBody(mapExprs(s, lanes), rewrite(childrenOf(s)));
    });
  return { ...ir, body: rewrite(ir.body), ...(ir.workgroups ? { workgroups: lanes(ir.workgroups) } : {}) };
}

/** Drops the storage bindings and module arrays the kernel no longer uses. */
export function pruneBindings(ir: KernelIR): KernelIR {
  const used = buffersUsed(ir);
  return { ...ir, storage: ir.storage.filter((b) => used.has(b)), moduleArrays: ir.moduleArrays.filter((b) => used.has(b)) };
}
