// Per-row top-k, i32 indices in (value descending, index ascending) order — the tie rule of the
// reference interpreter. Two designs: for small k one thread per row makes k passes, each taking
// the largest entry after the previous pick (k·n work, k·n steps in sequence); for k of at least
// half the row (a merge's full order of its tokens) one thread per entry counts the entries
// ranked before it and writes its index at that rank (n² work, n steps in sequence).

import { numel } from '../src/core/ir/shape.ts';
import type { Node } from '../src/core/ir/graph.ts';
import { add, and, bounded, cast, compare, f32, ge, lt, mul, or, u32, type Index } from './alu.ts';
import type { Buf, Expr } from './ir.ts';
import { expectOp, flatWorkgroup, spread, type TemplateInput, type TemplateOutput } from './template.ts';

const WG = 64;

/** What both designs need: the rows along `axis`, their count and length, and the output. */
interface TopkRows {
  readonly t: TemplateInput;
  readonly x: Node;
  readonly axis: number;
  readonly k: number;
  readonly n: number;
  readonly rowsShape: readonly number[];
  readonly rows: number;
  readonly out: Buf;
}

export function topkKernel(t: TemplateInput): TemplateOutput {
  const node = expectOp(t.root, 'topk');
  const x = t.graph.node(node.inputs[0]!);
  const { axis, k } = node.attrs;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  const r: TopkRows = { t, x, axis, k, n: x.type.shape[axis]!, rowsShape, rows: numel(rowsShape), out: t.w.buffer(t.root.id, true) };
  return 2 * k >= r.n ? rankTopk(r) : scanTopk(r);
}

/** This invocation's index among `count` threads (the ones past the end exit). */
function thread(w: TemplateInput['w'], count: number): Expr {
  const g = w.let(add(mul(flatWorkgroup(w), WG), w.builtin('lid', undefined, WG)), 'g');
  w.exitIf(ge(g, count));
  return bounded(g, count);
}

/** Index `idx` of a row with `e` along the row's axis. */
const along = (r: TopkRows, idx: Index, e: Expr): Index => idx.map((ix, i) => (i === r.axis ? e : ix));

function topkOutput(r: TopkRows, threads: number, flops: number, config: string): TemplateOutput {
  return { kind: 'topk', workgroupSize: [WG, 1, 1], dispatch: spread(Math.ceil(threads / WG), r.t.limits), flops, config: `wg${WG} k${r.k} n${r.n}${config}` };
}

/** One thread per row: k passes over the row. */
function scanTopk(r: TopkRows): TemplateOutput {
  const { t: { w, root }, x, k, n, out } = r;
  const idx = w.unflatten(thread(w, r.rows), r.rowsShape);
  const prevV = w.variable(f32(0), 'prevV');
  const prevJ = w.variable(u32(0), 'prevJ');
  let ops = 0;
  w.loop('t', 0, k, 1, (t) => {
    const bestV = w.variable(f32(0), 'bestV');
    const bestJ = w.variable(u32(n), 'bestJ');
    ops = w.loop('j', 0, n, 1, (j) => {
      const v = w.value(x.id, along(r, idx, j));
      const after = w.let(or(compare('eq', t, 0), lt(v, prevV.ref), and(compare('eq', v, prevV.ref), compare('gt', j, prevJ.ref))), 'after');
      w.when(and(after, or(compare('eq', bestJ.ref, n), compare('gt', v, bestV.ref))), () => {
        w.assign(bestV, v);
        w.assign(bestJ, j);
      });
    });
    w.store(out, w.linear(along(r, idx, t), root.type.shape), cast(bestJ.ref, 'i32'));
    w.assign(prevV, bestV.ref);
    w.assign(prevJ, bestJ.ref);
  });
  return topkOutput(r, r.rows, r.rows * k * n * (ops + 2), '');
}

/** One thread per entry: its rank (entries before it in the order), its index stored at that rank if below k. */
function rankTopk(r: TopkRows): TemplateOutput {
  const { t: { w, root }, x, k, n, out } = r;
  const total = r.rows * n;
  const [row, j] = w.unflatten(thread(w, total), [r.rows, n]) as [Expr, Expr];
  const idx = w.unflatten(row, r.rowsShape);
  const v = w.let(w.value(x.id, along(r, idx, j)), 'v');
  const rank = w.variable(u32(0), 'rank');
  const ops = w.loop('i', 0, n, 1, (i) => {
    const u = w.value(x.id, along(r, idx, i));
    w.when(or(compare('gt', u, v), and(compare('eq', u, v), lt(i, j))), () => w.assign(rank, add(rank.ref, 1)));
  });
  w.when(lt(rank.ref, k), () => w.store(out, w.linear(along(r, idx, rank.ref), root.type.shape), cast(j, 'i32')));
  return topkOutput(r, total, total * n * (ops + 2), ' ranks');
}
