// Per-row top-k, i32 indices in (value descending, index ascending) order — the tie rule of the
// reference interpreter. Two designs: for small k one thread per row makes k passes, each taking
// the largest entry after the previous pick (k·n work, k·n steps in sequence); for k of at least
// half the row (a merge's full order of its tokens) one thread per entry counts the entries
// ranked before it and writes its index at that rank (n² work, n steps in sequence). A chain of
// sorts within each image (a merge's), with the maps reading them, runs as one kernel, one
// workgroup per image (chainKernel).

import { numel } from '../src/core/ir/shape.ts';
import type { Node } from '../src/core/ir/graph.ts';
import { add, and, bounded, cast, compare, f32, ge, lt, mul, or, u32, type Index } from './alu.ts';
import type { Buf, Expr } from './ir.ts';
import { expectOp, flatWorkgroup, FusionError, groupsAtRunTime, spread, type TemplateInput, type TemplateOutput } from './template.ts';

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
  /** The output's shape (the row shape with k along the axis). */
  readonly outShape: readonly number[];
}

/** The rows of topk `node` along its axis. */
function topkRows(t: TemplateInput, node: Node): TopkRows {
  const x = t.graph.node(node.inputs[0]!);
  const { axis, k } = expectOp(node, 'topk').attrs;
  const rowsShape = x.type.shape.map((d, i) => (i === axis ? 1 : d));
  return { t, x, axis, k, n: x.type.shape[axis]!, rowsShape, rows: numel(rowsShape), out: t.w.buffer(node.id, true), outShape: node.type.shape };
}

/** Whether top-k rows of length n are ordered by ranking every entry (k at least half the row), not by k scans. */
export const sortsByRanks = (k: number, n: number): boolean => 2 * k >= n;
const byRanks = (r: TopkRows): boolean => sortsByRanks(r.k, r.n);

export function topkKernel(t: TemplateInput): TemplateOutput {
  const r = topkRows(t, t.root);
  return byRanks(r) ? rankTopk(r) : scanTopk(r);
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
  const ops = scanRow(r, r.t.w.unflatten(thread(r.t.w, r.rows), r.rowsShape));
  return topkOutput(r, r.rows, r.rows * r.k * r.n * (ops + 2), '');
}

/** Row `idx`'s k passes, each storing the index of the largest entry after the previous pick; returns the ops of one step. */
function scanRow(r: TopkRows, idx: Index): number {
  const { t: { w }, x, k, n, out } = r;
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
    w.store(out, w.linear(along(r, idx, t), r.outShape), cast(bestJ.ref, 'i32'));
    w.assign(prevV, bestV.ref);
    w.assign(prevJ, bestJ.ref);
  });
  return ops;
}

/** One thread per entry: its rank (entries before it in the order), its index stored at that rank if below k. */
function rankTopk(r: TopkRows): TemplateOutput {
  const total = r.rows * r.n;
  const [row, j] = r.t.w.unflatten(thread(r.t.w, total), [r.rows, r.n]) as [Expr, Expr];
  const ops = rankEntry(r, r.t.w.unflatten(row, r.rowsShape), j);
  return topkOutput(r, total, total * r.n * (ops + 2), ' ranks');
}

/** Entry j of row `idx`: counts the entries ranked before it, stores j at that rank if below k; returns the ops of one count. */
function rankEntry(r: TopkRows, idx: Index, j: Expr): number {
  const { t: { w }, x, k, n, out } = r;
  const v = w.let(w.value(x.id, along(r, idx, j)), 'v');
  const rank = w.variable(u32(0), 'rank');
  const ops = w.loop('i', 0, n, 1, (i) => {
    const u = w.value(x.id, along(r, idx, i));
    w.when(or(compare('gt', u, v), and(compare('eq', u, v), lt(i, j))), () => w.assign(rank, add(rank.ref, 1)));
  });
  w.when(lt(rank.ref, k), () => w.store(out, w.linear(along(r, idx, rank.ref), r.outShape), cast(j, 'i32')));
  return ops;
}

/**
 * A per-image chain (codegen/fusion/selection-chains.ts): each stage a sort whose rows lie within
 * one image (axis 0), or a map over the image's elements, reading only earlier stages' results for
 * that image. One workgroup per image runs the stages in order, its invocations sharing each
 * stage's rows (sorts by rank: entries; maps: elements), a storage barrier between stages.
 */
export function chainKernel(t: TemplateInput): TemplateOutput {
  const { w, graph } = t;
  const stages = t.plan.chain(t.root.id)!.map((id) => graph.node(id));
  const other = t.plan.siblings(t.root.id).find((id) => !stages.some((n) => n.id === id));
  if (other !== undefined) throw new FusionError(other, `joined to the chain of %${t.root.id} but not one of its stages`);
  const images = stages[0]!.type.shape[0]!;
  const count = w.runtimeCount(images, [t.root.id]);
  const image = w.let(flatWorkgroup(w), 'image');
  w.exitIf(ge(image, count));
  const lid = w.builtin('lid', undefined, WG);
  const inImage = (shape: readonly number[], e: Expr): Index => [bounded(image, images), ...w.unflatten(e, shape.slice(1))];
  let flops = 0;
  stages.forEach((node, s) => {
    if (s > 0) w.barrier('storage');
    if (node.op !== 'topk') {
      const out = w.buffer(node.id, true);
      const ops = w.loop('e', lid, numel(node.type.shape) / images, WG, (e) => {
        const idx = inImage(node.type.shape, e);
        w.store(out, w.linear(idx, node.type.shape), w.compute(node.id, idx));
      });
      flops += numel(node.type.shape) * ops;
      return;
    }
    const r = topkRows(t, node);
    const rows = r.rows / images;
    let ops = 0;
    if (byRanks(r)) {
      w.loop('e', lid, rows * r.n, WG, (e) => {
        const [row, j] = w.unflatten(e, [rows, r.n]) as [Expr, Expr];
        ops = rankEntry(r, inImage(r.rowsShape, row), j);
      });
      flops += r.rows * r.n * r.n * (ops + 2);
    } else {
      w.loop('e', lid, rows, WG, (e) => void (ops = scanRow(r, inImage(r.rowsShape, e))));
      flops += r.rows * r.k * r.n * (ops + 2);
    }
  });
  const config = `wg${WG} chain ${stages.map((n) => (n.op === 'topk' ? `k${(n as Node<'topk'>).attrs.k}` : n.op)).join(',')}`;
  return { kind: 'topk', workgroupSize: [WG, 1, 1], dispatch: spread(images, t.limits), flops, config, ...groupsAtRunTime(w, count, 1) };
}
