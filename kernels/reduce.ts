// Reductions. `reduceKernel`: one thread per output, looping over the reduced axis (any axis;
// coalesced when the axis is not the last). `rowKernel`: one workgroup per row of the last axis,
// computing every row reduction fused into the kernel in dependency order (tree reduction in
// workgroup memory), then the root: a reduction, or an elementwise output over the row.

import type { Node } from '../src/ir/graph.ts';
import { numel } from '../src/ir/shape.ts';
import { ixVar, printIndex, ZERO, type Index } from './expr.ts';
import { expectOp, f32Lit, FLAT_WORKGROUP, FusionError, nextPow2, spread, type FusionView, type TemplateInput, type TemplateOutput } from './template.ts';

const LOWEST_F32 = -3.4028234663852886e38;

function combiner(r: Node): { init: string; step: (acc: string, v: string) => string } {
  return expectOp(r, 'sum', 'reduceMax').op === 'sum'
    ? { init: f32Lit(0), step: (a, v) => `${a} + ${v}` }
    : { init: f32Lit(LOWEST_F32), step: (a, v) => `max(${a}, ${v})` };
}

const axisOf = (r: Node) => expectOp(r, 'sum', 'reduceMax').attrs.axis;

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

export function rowKernel({ w, graph, plan, root, limits }: TemplateInput): TemplateOutput {
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
    config: `wg${WG} rows${rows}x${n} reductions${reductions.length}`,
  };
}

/** Small last-axis reductions are cheaper as a loop per thread than a workgroup per row. */
export const ROW_KERNEL_MIN_LENGTH = 32;

export function wantsRowKernel(plan: FusionView, root: Node): boolean {
  if (plan.rowReductions(root.id).length > 0) return true;
  if (root.op !== 'sum' && root.op !== 'reduceMax') return false;
  const x = plan.graph.node(root.inputs[0]!);
  return axisOf(root) === x.type.shape.length - 1 && x.type.shape[axisOf(root)]! >= ROW_KERNEL_MIN_LENGTH;
}
