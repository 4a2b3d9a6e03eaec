// Per-row top-k, i32 indices in (value descending, index ascending) order — the tie rule of the
// reference interpreter. Two designs: for small k one thread per row makes k passes, each taking
// the largest entry after the previous pick (k·n work, k·n steps in sequence); for k of at least
// half the row (a merge's full order of its tokens) one thread per entry counts the entries
// ranked before it and writes its index at that rank (n² work, n steps in sequence).

import { numel } from '../src/core/ir/shape.ts';
import { add, and, bounded, cast, compare, f32, ge, lt, mul, or, u32 } from './alu.ts';
import type { Expr } from './ir.ts';
import { expectOp, flatWorkgroup, spread, type TemplateInput, type TemplateOutput } from './template.ts';

const WG = 64;

export function topkKernel(t: TemplateInput): TemplateOutput {
  const node = expectOp(t.root, 'topk');
  const n = t.graph.node(node.inputs[0]!).type.shape[node.attrs.axis]!;
  return 2 * node.attrs.k >= n ? rankTopk(t) : scanTopk(t);
}

/** One thread per row: k passes over the row. */
function scanTopk({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const node = expectOp(root, 'topk');
  const x = graph.node(node.inputs[0]!);
  const { axis, k } = node.attrs;
  const n = x.type.shape[axis]!;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  const rows = numel(rowsShape);
  const out = w.buffer(root.id, true);
  const g0 = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  w.exitIf(ge(g0, rows));
  const idx = w.unflatten(bounded(g0, rows), rowsShape);
  const prevV = w.variable(f32(0), 'prevV');
  const prevJ = w.variable(u32(0), 'prevJ');
  let ops = 0;
  w.loop('t', 0, k, 1, (t) => {
    const bestV = w.variable(f32(0), 'bestV');
    const bestJ = w.variable(u32(n), 'bestJ');
    ops = w.loop('j', 0, n, 1, (j) => {
      const v = w.value(x.id, idx.map((e, i) => (i === axis ? j : e)));
      const after = w.let(or(compare('eq', t, 0), lt(v, prevV.ref), and(compare('eq', v, prevV.ref), compare('gt', j, prevJ.ref))), 'after');
      w.when(and(after, or(compare('eq', bestJ.ref, n), compare('gt', v, bestV.ref))), () => {
        w.assign(bestV, v);
        w.assign(bestJ, j);
      });
    });
    w.store(out, w.linear(idx.map((e, i) => (i === axis ? t : e)), root.type.shape), cast(bestJ.ref, 'i32'));
    w.assign(prevV, bestV.ref);
    w.assign(prevJ, bestJ.ref);
  });
  return {
    kind: 'topk',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(rows / WG), limits),
    flops: rows * k * n * (ops + 2),
    config: `wg${WG} k${k} n${n}`,
  };
}

/** One thread per entry: its rank (entries before it in the order), its index stored at that rank if below k. */
function rankTopk({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const node = expectOp(root, 'topk');
  const x = graph.node(node.inputs[0]!);
  const { axis, k } = node.attrs;
  const n = x.type.shape[axis]!;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  const rows = numel(rowsShape), total = rows * n;
  const out = w.buffer(root.id, true);
  const g0 = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  w.exitIf(ge(g0, total));
  const [row, j] = w.unflatten(bounded(g0, total), [rows, n]) as [Expr, Expr];
  const idx = w.unflatten(row, rowsShape);
  const at = (e: Expr) => idx.map((ix, i) => (i === axis ? e : ix));
  const v = w.let(w.value(x.id, at(j)), 'v');
  const rank = w.variable(u32(0), 'rank');
  const ops = w.loop('i', 0, n, 1, (i) => {
    const u = w.value(x.id, at(i));
    w.when(or(compare('gt', u, v), and(compare('eq', u, v), lt(i, j))), () => w.assign(rank, add(rank.ref, 1)));
  });
  w.when(lt(rank.ref, k), () => w.store(out, w.linear(at(rank.ref), root.type.shape), cast(j, 'i32')));
  return {
    kind: 'topk',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(total / WG), limits),
    flops: total * n * (ops + 2),
    config: `wg${WG} k${k} n${n} ranks`,
  };
}
