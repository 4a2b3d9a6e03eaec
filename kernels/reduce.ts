// Reductions. `reduceKernel`: one thread per output, looping over the reduced axis (any axis;
// coalesced when the axis is not the last). `rowKernel`: the row reductions fused into a kernel
// (LayerNorm statistics, softmax max and sum, their backward sums), then the root: a reduction, or
// an elementwise output over the row. Two shapes:
//  - one row per lane (CPU adapters, or many rows): each lane loops over its row with vec4 reads,
//    reductions that do not depend on each other share one loop (LayerNorm's Σx and a backward
//    pass's two sums), no workgroup memory and no barrier;
//  - one workgroup per row (GPUs, or few long rows): strided loops and a tree reduction in
//    workgroup memory.

import type { Node } from '../src/core/ir/graph.ts';
import { numel } from '../src/core/ir/shape.ts';
import { canonicalIndex, ixVar, printIndex, ZERO, type Index, type Ix } from './expr.ts';
import { expectOp, f32Lit, FLAT_WORKGROUP, FusionError, nextPow2, spread, type FusionView, type KernelBuilder, type TemplateInput, type TemplateOutput } from './template.ts';

const LOWEST_F32 = -3.4028234663852886e38;

function combiner(r: Node): { init: string; step: (acc: string, v: string) => string } {
  return expectOp(r, 'sum', 'reduceMax').op === 'sum'
    ? { init: f32Lit(0), step: (a, v) => `${a} + ${v}` }
    : { init: f32Lit(LOWEST_F32), step: (a, v) => `max(${a}, ${v})` };
}

const axisOf = (r: Node) => expectOp(r, 'sum', 'reduceMax').attrs.axis;

/** A reduction along any axis: one thread per output element, looping over the reduced axis. */
export function reduceKernel({ w, graph, root, limits }: TemplateInput): TemplateOutput {
  const WG = 64;
  const x = graph.node(root.inputs[0]!);
  const axis = axisOf(root);
  const n = x.type.shape[axis]!;
  const outN = numel(root.type.shape);
  const out = w.buffer(root.id, true);
  w.line(`let g = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (g >= ${outN}u) { return; }`);
  const idx = w.unflatten(ixVar('g', outN), root.type.shape);
  const { init, step } = combiner(root);
  w.line(`var acc = ${init};`);
  const k = ixVar('k', n);
  const loopOps = w.block(`for (var k = 0u; k < ${n}u; k++)`, () => {
    const v = w.value(x.id, idx.map((e, i) => (i === axis ? k : e)));
    w.line(`acc = ${step('acc', v)};`);
  });
  w.line(`${out}[g] = acc;`);
  return {
    kind: 'reduce',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(outN / WG), limits),
    flops: outN * n * (loopOps + 1),
    config: `wg${WG} loop${n}`,
  };
}

/** A row kernel (row reductions fused, then the root), one row per lane or one workgroup per row by adapter and row count. */
export function rowKernel(t: TemplateInput): TemplateOutput {
  const { graph, root, limits } = t;
  const domain = root.op === 'sum' || root.op === 'reduceMax' ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const rows = numel(domain.slice(0, -1));
  // Lanes need enough rows to fill workgroups on every core; a GPU wants coalesced row reads.
  return !t.baseline && limits.adapterClass === 'cpu' && rows >= 16 ? rowLaneKernel(t) : rowGroupKernel(t);
}

/** Groups the kernel's row reductions into passes: each pass only needs results of earlier passes. */
function reductionPasses(plan: FusionView, reductions: readonly Node[]): Node[][] {
  const level = new Map<number, number>();
  const passes: Node[][] = [];
  for (const r of reductions) {
    // The pass after the latest reduction r reads (through nodes computed in place).
    let lv = 0;
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      const l = level.get(id);
      if (l !== undefined) {
        lv = Math.max(lv, l + 1);
        return;
      }
      if (plan.stored(id)) return;
      for (const i of plan.graph.node(id).inputs) visit(i);
    };
    visit(r.inputs[0]!);
    level.set(r.id, lv);
    (passes[lv] ??= []).push(r);
  }
  return passes;
}

/** Σ(x − c·Σx)² over a row: the reduction `centred`, its x and Σx, and c. */
interface CentredMoment {
  readonly centred: number;
  readonly sum: number;
  readonly x: number;
  readonly scale: number;
}

/**
 * Whether row reduction `r` is Σ(x − c·S)² with S = Σx another reduction of the kernel (how
 * src/core/ir/nn.ts writes LayerNorm's variance: mean = S·(1/n), xc = x − mean, Σ xc·xc).
 */
function centredMoment(graph: TemplateInput['graph'], plan: FusionView, r: Node, reductions: readonly Node[]): CentredMoment | undefined {
  if (r.op !== 'sum') return undefined;
  const sq = graph.node(r.inputs[0]!);
  if (sq.op !== 'mul' || sq.inputs[0] !== sq.inputs[1] || plan.stored(sq.id)) return undefined;
  const d = graph.node(sq.inputs[0]!);
  if (d.op !== 'sub' || plan.stored(d.id)) return undefined;
  const x = graph.node(d.inputs[0]!);
  const m = graph.node(d.inputs[1]!);
  if (plan.stored(m.id)) return undefined;
  // m = S·c (either order) or S / n.
  const literal = (id: number) => {
    const n = graph.node(id);
    return n.op === 'fill' && n.type.dtype === 'f32' ? n.attrs.value : undefined;
  };
  let sumId: number | undefined, scale: number | undefined;
  if (m.op === 'mul') {
    for (const [a, b] of [[0, 1], [1, 0]] as const) {
      const c = literal(m.inputs[b]!);
      if (c !== undefined) [sumId, scale] = [m.inputs[a]!, c];
    }
  } else if (m.op === 'div') {
    const c = literal(m.inputs[1]!);
    if (c !== undefined && c !== 0) [sumId, scale] = [m.inputs[0]!, 1 / c];
  }
  if (sumId === undefined || scale === undefined) return undefined;
  const S = graph.node(sumId);
  if (S.op !== 'sum' || S.inputs[0] !== x.id || !reductions.some((q) => q.id === S.id) || !sameShapeArr(S.type.shape, r.type.shape)) return undefined;
  return { centred: r.id, sum: S.id, x: x.id, scale };
}

const sameShapeArr = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

const hcombine = (r: Node, v: string): string =>
  r.op === 'sum' ? `${v}.x + ${v}.y + ${v}.z + ${v}.w` : `max(max(${v}.x, ${v}.y), max(${v}.z, ${v}.w))`;

/** One row per lane: reductions in passes over the row (vec4 reads), then the root over the row. */
export function rowLaneKernel(t: TemplateInput): TemplateOutput {
  const k = rowLanes(t);
  const { n, rows, WG, vec, reductions } = k;
  // Centred second moments (LayerNorm's Σ(x − c·Σx)²) come from the first pass: two moments of
  // x shifted by its row's first element (accurate while that element is near the mean).
  const moments = new Map(reductions.map((r) => [r.id, centredMoment(t.graph, t.plan, r, reductions)] as const).filter((e): e is [number, CentredMoment] => e[1] !== undefined));
  const passes = reductionPasses(t.plan, reductions.filter((r) => !moments.has(r.id)));
  let flops = 0;
  for (const pass of passes) flops += emitLanePass(k, pass, [...moments.values()].filter((mo) => pass.some((r) => r.id === mo.sum)));
  flops += emitLaneOutput(k);
  return {
    kind: 'row',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(Math.ceil(rows / WG), t.limits),
    flops,
    config: `lanes wg${WG} rows${rows}x${n}${vec ? ' vec4' : ''} reductions${reductions.length} passes${passes.length}${moments.size ? ' moments' : ''}`,
  };
}

/** A row-per-lane kernel being written: the row domain, the lane's row and the reductions it computes. */
interface RowLanes {
  readonly w: KernelBuilder;
  readonly graph: TemplateInput['graph'];
  readonly root: Node;
  /** The root is itself a row reduction (written once per row). */
  readonly isReduction: boolean;
  /** Row length, its axis, and the number of rows. */
  readonly n: number;
  readonly last: number;
  readonly rows: number;
  readonly WG: number;
  /** Rows are read with vec4s (n a multiple of 4). */
  readonly vec: boolean;
  /** The output buffer. */
  readonly out: string;
  /** The lane's row index (all axes but the last). */
  readonly prefix: Index;
  /** The row's reductions, the root last when it is one. */
  readonly reductions: readonly Node[];
}

/** The row domain and the reductions; writes the lane's row index. */
function rowLanes({ w, graph, plan, root, limits }: TemplateInput): RowLanes {
  const isReduction = root.op === 'sum' || root.op === 'reduceMax';
  const domain = isReduction ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const n = domain[domain.length - 1]!;
  const last = domain.length - 1;
  const rowsShape = [...domain.slice(0, -1), 1];
  const rows = numel(rowsShape);
  const WG = Math.min(64, limits.maxInvocationsPerWorkgroup, Math.max(8, nextPow2(Math.ceil(rows / 8))));
  const vec = n % 4 === 0;
  const out = w.buffer(root.id, true);
  w.line(`let row = (${FLAT_WORKGROUP}) * ${WG}u + lid;`);
  w.line(`if (row >= ${rows}u) { return; }`);
  const prefix = w.unflatten(ixVar('row', rows), rowsShape).slice(0, -1);
  const reductions = plan.rowReductions(root.id).map((id) => graph.node(id));
  if (isReduction) reductions.push(root);
  return { w, graph, root, isReduction, n, last, rows, WG, vec, out, prefix, reductions };
}

/** Index of element e of the lane's row. */
const rowAt = (k: RowLanes, e: Ix): Index => [...k.prefix, e];

/** Makes reduction r's value, read anywhere in the lane's row, the WGSL value `result`. */
function provideRow({ w, prefix }: RowLanes, r: Node, result: string): void {
  const want = printIndex(canonicalIndex([...prefix, ZERO], r.type.shape));
  w.provide(r.id, (idx) => {
    if (printIndex(idx) !== want) throw new FusionError(r.id, `row reduction read outside its row ([${printIndex(idx)}] vs [${want}])`);
    return result;
  });
}

/** The shifted sums of a centred moment: the shift x₀ and the accumulators of Σy and Σy². */
interface ShiftedSums {
  readonly mo: CentredMoment;
  readonly x0: string;
  readonly sy: string;
  readonly qy: string;
}

/** One loop over the row for `pass` (and the shifted sums of `moments`); provides the results. Returns its flops. */
function emitLanePass(k: RowLanes, pass: readonly Node[], moments: readonly CentredMoment[]): number {
  const { w, n, rows, vec, last } = k;
  const accs = pass.map((r) => {
    const { init } = combiner(r);
    const acc = w.fresh('acc');
    w.line(`var ${acc} = ${vec ? `vec4<f32>(${init})` : init};`);
    return acc;
  });
  // Shifted sums Σ(x − x₀) and Σ(x − x₀)² for the moments whose Σx this pass computes.
  const shifted = moments.map((mo): ShiftedSums => {
    const x0 = w.let(w.value(mo.x, rowAt(k, ZERO)), 'x0');
    const sy = w.fresh('sy'), qy = w.fresh('qy');
    w.line(`var ${sy} = ${vec ? 'vec4<f32>(0.0)' : '0.0'};`);
    w.line(`var ${qy} = ${vec ? 'vec4<f32>(0.0)' : '0.0'};`);
    return { mo, x0, sy, qy };
  });
  const ops = w.block(vec ? `for (var j = 0u; j < ${n}u; j += 4u)` : `for (var j = 0u; j < ${n}u; j++)`, () => {
    const j = ixVar('j', n);
    pass.forEach((r, i) => {
      const { step } = combiner(r);
      const v = vec ? w.vec4(r.inputs[0]!, rowAt(k, j), last) : w.value(r.inputs[0]!, rowAt(k, j));
      w.line(`${accs[i]} = ${vec && r.op === 'reduceMax' ? `max(${accs[i]}, ${v})` : step(accs[i]!, v)};`);
    });
    for (const s of shifted) {
      const v = vec ? w.vec4(s.mo.x, rowAt(k, j), last) : w.value(s.mo.x, rowAt(k, j));
      const y = w.let(`${v} - ${vec ? `vec4<f32>(${s.x0})` : s.x0}`, 'y');
      w.line(`${s.sy} = ${s.sy} + ${y};`);
      w.line(`${s.qy} = ${s.qy} + ${y} * ${y};`);
    }
  });
  pass.forEach((r, i) => provideRow(k, r, w.let(vec ? hcombine(r, accs[i]!) : accs[i]!, 'r')));
  for (const s of shifted) provideCentredMoment(k, s);
  return rows * n * (vec ? ops / 4 : ops) + rows * n * (pass.length + 3 * shifted.length);
}

/** Provides a centred moment from its shifted sums and its Σx. */
function provideCentredMoment(k: RowLanes, s: ShiftedSums): void {
  const { w, graph, n, vec, prefix } = k;
  // With m = c·Σx and t = m − x₀: Σ(x − m)² = Σy² − 2t·Σy + n·t², y = x − x₀.
  const sy = w.let(vec ? `${s.sy}.x + ${s.sy}.y + ${s.sy}.z + ${s.sy}.w` : s.sy, 'sy');
  const qy = w.let(vec ? `${s.qy}.x + ${s.qy}.y + ${s.qy}.z + ${s.qy}.w` : s.qy, 'qy');
  const sum = w.value(s.mo.sum, [...prefix, ZERO]);
  const t = w.let(`${f32Lit(s.mo.scale)} * ${sum} - ${s.x0}`, 't');
  provideRow(k, graph.node(s.mo.centred), w.let(`max(${qy} - 2.0 * ${t} * ${sy} + ${f32Lit(n)} * ${t} * ${t}, 0.0)`, 'r'));
}

/** The root: one value per row (a reduction), else the row itself (vec4 stores when possible). Returns its flops. */
function emitLaneOutput(k: RowLanes): number {
  const { w, root, n, rows, vec, last, out, prefix } = k;
  if (k.isReduction) {
    w.line(`${out}[row] = ${w.compute(root.id, [...prefix, ZERO])};`);
    return 0;
  }
  if (vec && root.type.dtype === 'f32') {
    const outV = w.bufferVec4(root.id, true);
    const ops = w.block(`for (var j = 0u; j < ${n}u; j += 4u)`, () => {
      w.line(`${outV}[row * ${n / 4}u + j / 4u] = ${w.computeVec4(root.id, rowAt(k, ixVar('j', n)), last)};`);
    });
    return rows * n * ops / 4;
  }
  const ops = w.block(`for (var j = 0u; j < ${n}u; j++)`, () => {
    w.line(`${out}[row * ${n}u + j] = ${w.compute(root.id, rowAt(k, ixVar('j', n)))};`);
  });
  return rows * n * ops;
}

/** One workgroup per row: strided loops and a barrier tree per reduction. */
export function rowGroupKernel({ w, graph, plan, root, limits }: TemplateInput): TemplateOutput {
  const isReduction = root.op === 'sum' || root.op === 'reduceMax';
  const domain = isReduction ? graph.node(root.inputs[0]!).type.shape : root.type.shape;
  const n = domain[domain.length - 1]!;
  const rowsShape = [...domain.slice(0, -1), 1];
  const rows = numel(rowsShape);
  const WG = Math.min(limits.maxInvocationsPerWorkgroup, 256, Math.max(32, nextPow2(n)));
  const out = w.buffer(root.id, true);
  w.line(`let row = ${FLAT_WORKGROUP};`);
  w.line(`if (row >= ${rows}u) { return; }`);
  w.moduleDecl(`var<workgroup> red: array<f32, ${WG}>;`);
  const prefix = w.unflatten(ixVar('row', rows), rowsShape).slice(0, -1);
  const j = ixVar('j', n);
  const at = (e: typeof j): Index => [...prefix, e];

  const reductions = plan.rowReductions(root.id).map((id) => graph.node(id));
  if (isReduction) reductions.push(root);
  let flops = 0;
  for (const r of reductions) {
    const { init, step } = combiner(r);
    const acc = w.fresh('acc');
    w.line(`var ${acc} = ${init};`);
    const ops = w.block(`for (var j = lid; j < ${n}u; j += ${WG}u)`, () => {
      w.line(`${acc} = ${step(acc, w.value(r.inputs[0]!, at(j)))};`);
    });
    flops += rows * n * (ops + 1);
    w.line(`red[lid] = ${acc};`);
    w.line('workgroupBarrier();');
    w.block(`for (var s = ${WG / 2}u; s > 0u; s = s >> 1u)`, () => {
      w.line(`if (lid < s) { red[lid] = ${step('red[lid]', 'red[lid + s]')}; }`);
      w.line('workgroupBarrier();');
    });
    const result = w.let('red[0]', 'r');
    w.line('workgroupBarrier();');
    const want = printIndex([...prefix, ZERO]);
    w.provide(r.id, (idx) => {
      if (printIndex(idx) !== want) throw new FusionError(r.id, `row reduction read outside its row ([${printIndex(idx)}] vs [${want}])`);
      return result;
    });
  }
  if (isReduction) {
    w.line(`if (lid == 0u) { ${out}[row] = ${w.compute(root.id, [...prefix, ZERO])}; }`);
  } else {
    const ops = w.block(`for (var j = lid; j < ${n}u; j += ${WG}u)`, () => {
      w.line(`${out}[row * ${n}u + j] = ${w.compute(root.id, at(j))};`);
    });
    flops += rows * n * ops;
  }
  return {
    kind: 'row',
    params: '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32',
    workgroupSize: [WG, 1, 1],
    dispatch: spread(rows, limits),
    flops,
    config: `group wg${WG} rows${rows}x${n} reductions${reductions.length}`,
  };
}

/** Small last-axis reductions are cheaper as a loop per thread than a workgroup per row. */
export const ROW_KERNEL_MIN_LENGTH = 32;

/** Whether `root`'s kernel is a row kernel: it hosts row reductions, or is a long last-axis reduction itself. */
export function wantsRowKernel(plan: FusionView, root: Node): boolean {
  if (plan.rowReductions(root.id).length > 0) return true;
  if (root.op !== 'sum' && root.op !== 'reduceMax') return false;
  const x = plan.graph.node(root.inputs[0]!);
  return axisOf(root) === x.type.shape.length - 1 && x.type.shape[axisOf(root)]! >= ROW_KERNEL_MIN_LENGTH;
}
