// Storage bindings. One binding per tensor: WebGPU forbids overlapping writable bindings, and the
// binding limit counts tensors, so a tensor read both as vectors and as scalars keeps its vec4
// binding and its scalar reads become lanes of vector reads (vectorBindings). Then the bindings
// and module arrays nothing reads or writes any more are dropped (pruneBindings).

import { div, lane, load, mod } from '../../kernels/alu.ts';
import { childrenOf, mapExprs, walkExpr, walkStmts, exprsOf, withBody, type Buf, type KernelIR, type Stmt } from '../../kernels/ir.ts';
import { rewriter } from './tree.ts';

/** Buffers read or written anywhere in the statements. */
function buffersUsed(body: readonly Stmt[]): Set<Buf> {
  const used = new Set<Buf>();
  walkStmts(body, (s) => {
    if (s.k === 'store') used.add(s.buf);
    if (s.k === 'array') used.add(s.buf);
    for (const e of exprsOf(s)) walkExpr(e, (x) => x.k === 'load' && used.add(x.buf));
  });
  return used;
}

/** Scalar reads of a tensor that also has a vector binding, rewritten as lanes of vector reads. */
export function vectorBindings(ir: KernelIR): KernelIR {
  const used = buffersUsed(ir.body);
  const vectorOf = new Map<Buf, Buf>();
  for (const v of ir.storage) {
    if (v.elem.w !== 4 || !used.has(v)) continue;
    const s = ir.storage.find((b) => b !== v && b.tensor === v.tensor && b.elem.w === 1);
    if (s && used.has(s)) vectorOf.set(s, v);
  }
  if (vectorOf.size === 0) return ir;
  const lanes = rewriter((x) => {
    const v = x.k === 'load' ? vectorOf.get(x.buf) : undefined;
    return v && x.k === 'load' ? lane(load(v, div(x.at, 4)), mod(x.at, 4)) : x;
  });
  const rewrite = (block: readonly Stmt[]): Stmt[] =>
    block.map((s) => {
      if (s.k === 'store' && vectorOf.has(s.buf)) throw new Error(`internal error: tensor %${s.buf.tensor} is written as scalars and as vectors in one kernel`);
      return withBody(mapExprs(s, lanes), rewrite(childrenOf(s)));
    });
  return { ...ir, body: rewrite(ir.body) };
}

/** Drops the storage bindings and module arrays the kernel no longer uses. */
export function pruneBindings(ir: KernelIR): KernelIR {
  const used = buffersUsed(ir.body);
  return { ...ir, storage: ir.storage.filter((b) => used.has(b)), moduleArrays: ir.moduleArrays.filter((b) => used.has(b)) };
}
