// Row fusion: a last-axis reduction read by kernels over the same rows is computed inside the
// first of them (LayerNorm statistics, softmax max and sum, their backward sums) — and written
// there when later kernels read it too — legal only when a symbolic index analysis proves every
// read of it in that kernel is at the kernel's own row.

import type { Graph, Node } from '../../src/core/ir/graph.ts';
import { sameShape } from '../../src/core/ir/shape.ts';
import { ANCHORS, BUFFER_LEAVES, ELEMENTWISE, type FusionPass, type FusionPlan, type FusionState } from './plan.ts';

/**
 * Row fusion: a last-axis reduction read by one kernel over the same rows is computed inside it;
 * one read by several kernels (LayerNorm's statistics in training, read again by the backward) is
 * computed by the first of them and also written there, for the later ones: no kernel of its own.
 * Latest reductions first so that chains (mean -> variance -> normalise) collapse.
 */
function fuseRowReductions({ graph, plan, outputs }: FusionState): void {
  const { nodes } = graph;
  const mat = plan.materialized;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const r = nodes[k]!;
    if ((r.op !== 'sum' && r.op !== 'reduceMax') || outputs.has(r.id) || !mat.has(r.id) || plan.epilogueGranules.has(r.id)) continue;
    const inShape = graph.node(r.inputs[0]!).type.shape;
    if (r.attrs.axis !== inShape.length - 1) continue;
    const owners = readerKernels(plan, r.id);
    if (owners.length === 0) continue;
    // The first kernel that reads r (kernels run in root order).
    const root = graph.node(Math.min(...owners));
    if (plan.anchorOf.has(root.id) || !sameShape(rowDomain(graph, root) ?? [], inShape)) {
      hostInInputWriter(plan, r);
      continue;
    }
    if (owners.length === 1) {
      mat.delete(r.id);
      plan.rowFused.set(r.id, root.id);
      // Legal only if the root's kernel reads r at its own row (prefix, 0) wherever it reads it.
      if (!readsOnlyAtOwnRow(plan, root, r)) plan.unfuse(r.id);
    } else if (readsOnlyAtOwnRow(plan, root, r)) {
      plan.rowFused.set(r.id, root.id);
      plan.join(root.id, r.id);
    }
  }
}

/**
 * A row reduction whose readers cannot host it (a matmul epilogue: LayerNorm backward's Σ dx̂)
 * is computed, and written, by the kernel that writes its input over the same rows — in the loop
 * that writes that input, which it then reads as computed — instead of by a kernel of its own.
 */
function hostInInputWriter(plan: FusionPlan, r: Node): void {
  const graph = plan.graph;
  const written = [...plan.members(r.id).reads].filter((id) => !BUFFER_LEAVES.has(graph.node(id).op));
  if (!written.length) return;
  const host = graph.node(Math.max(...written));
  const inShape = graph.node(r.inputs[0]!).type.shape;
  if (plan.writer(host.id) !== host.id || plan.anchorOf.has(host.id) || ANCHORS.has(host.op) || host.type.dtype !== 'f32') return;
  if (!sameShape(rowDomain(graph, host) ?? [], inShape) || plan.aliasOf.has(host.id)) return;
  plan.rowFused.set(r.id, host.id);
  plan.join(host.id, r.id);
  if (!readsOnlyAtOwnRow(plan, host, r)) {
    plan.unjoin(r.id);
    plan.rowFused.delete(r.id);
  }
}

/** The kernels (by the root that writes them) that read stored node `id`. */
function readerKernels(plan: FusionPlan, id: number): number[] {
  const out = new Set<number>();
  for (const root of plan.roots()) if (root.id !== id && plan.members(root.id).reads.has(id)) out.add(plan.writer(root.id));
  out.delete(id);
  return [...out];
}

/** The [rows..., N] iteration space of a kernel root that can host row reductions, if any. */
export function rowDomain(graph: Graph, root: Node): readonly number[] | undefined {
  if (root.op === 'sum' || root.op === 'reduceMax') {
    const inShape = graph.node(root.inputs[0]!).type.shape;
    return root.attrs.axis === inShape.length - 1 ? inShape : undefined;
  }
  if (ANCHORS.has(root.op)) return undefined;
  return root.type.shape;
}

/**
 * Gives row-fused reductions a kernel of their own again where the fusion broke (stores made for
 * the binding limit): another kernel would have to compute one, its root reads it off-row, or a
 * kernel reads a written one before its root's kernel runs.
 */
export function dropBrokenRowFusions(plan: FusionPlan): boolean {
  let changed = false;
  for (const [r, root] of [...plan.rowFused]) {
    const foreign = plan.roots().some((k) => k.id !== root && k.id !== r && plan.members(k.id).computed.has(r));
    const early = plan.isMaterialized(r) && readerKernels(plan, r).some((k) => k < root);
    if (foreign || early || !readsOnlyAtOwnRow(plan, plan.graph.node(root), plan.graph.node(r))) {
      plan.unfuse(r);
      changed = true;
    }
  }
  return changed;
}

/**
 * Symbolic index of one read, per axis of the node read: the axis of the kernel's row domain it
 * equals, 0 (a broadcast or unit axis), or unknown (offset, gathered, permuted into a mix...).
 */
type SymIndex = readonly (number | 'zero' | 'other')[];

/**
 * Whether every read of the row reduction `r` inside the row kernel of `root` is at the kernel's
 * own row: [row prefix..., 0]. Decided on the graph, before any WGSL is written, by propagating
 * symbolic indices from the root down through the nodes its kernel computes.
 */
function readsOnlyAtOwnRow(plan: FusionPlan, root: Node, r: Node): boolean {
  const graph = plan.graph;
  const domain = rowDomain(graph, root)!;
  const canon = (shape: readonly number[], s: SymIndex): SymIndex => s.map((a, k) => (shape[k] === 1 ? 'zero' : a));
  const rowRead = canon(r.type.shape, domain.map((_, k) => (k === domain.length - 1 ? 'zero' : k)));
  const full: SymIndex = domain.map((_, k) => k);
  const seen = new Set<string>();
  let legal = true;
  const visit = (id: number, sym: SymIndex, isRoot = false): void => {
    if (!legal) return;
    const n = graph.node(id);
    const s = canon(n.type.shape, sym);
    const key = `${id}@${s.join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (id === r.id && !isRoot) {
      if (s.join() !== rowRead.join()) legal = false;
      return;
    }
    // The root read by a row reduction the kernel hosts: only the element the loop computes.
    if (id === root.id && !isRoot) {
      if (s.join() !== full.join()) legal = false;
      return;
    }
    if (!isRoot && plan.isMaterialized(id)) return;
    if (plan.rowFused.get(id) === root.id) {
      // A row reduction of this kernel: its input is read over the whole row domain.
      visit(n.inputs[0]!, full);
      return;
    }
    if (!isRoot && ANCHORS.has(n.op)) {
      legal = false; // an anchor computed in place: not something a row kernel provides
      return;
    }
    n.inputs.forEach((inp, k) => visit(inp, inputIndex(graph, n, k, s)));
  };
  if (root.op === 'sum' || root.op === 'reduceMax') visit(root.inputs[0]!, full);
  else visit(root.id, full, true);
  // Row reductions the kernel hosts that its root does not read (they read the root).
  for (const [red, host] of plan.rowFused) if (host === root.id) visit(graph.node(red).inputs[0]!, full);
  return legal;
}

/** The symbolic index at which node `n` (read at `s`) reads its input `k`. */
function inputIndex(graph: Graph, n: Node, k: number, s: SymIndex): SymIndex {
  const inShape = graph.node(n.inputs[k]!).type.shape;
  const other = (): SymIndex => inShape.map(() => 'other');
  const broadcastFrom = (): SymIndex => {
    const off = s.length - inShape.length;
    return inShape.map((d, a) => (d === 1 ? 'zero' : s[a + off]!));
  };
  switch (n.op) {
    case 'reshape': {
      // Only unit axes inserted or removed keep a symbolic correspondence.
      const outAxes = n.type.shape.map((d, a) => [d, a] as const).filter(([d]) => d !== 1);
      const inAxes = inShape.map((d, a) => [d, a] as const).filter(([d]) => d !== 1);
      if (outAxes.length !== inAxes.length || outAxes.some(([d], i) => d !== inAxes[i]![0])) return other();
      const res: ('zero' | number | 'other')[] = inShape.map(() => 'zero');
      outAxes.forEach(([, ao], i) => (res[inAxes[i]![1]] = s[ao]!));
      return res;
    }
    case 'permute': {
      const res = new Array<number | 'zero' | 'other'>(inShape.length);
      n.attrs.perm.forEach((p, a) => (res[p] = s[a]!));
      return res;
    }
    case 'slice':
      return s.map((a, ax) => (n.attrs.starts[ax] === 0 ? a : 'other'));
    case 'pad':
      return s.map((a, ax) => (n.attrs.before[ax] === 0 && n.attrs.after[ax] === 0 ? a : 'other'));
    case 'concat':
      return s.map((a, ax) => (ax === n.attrs.axis ? 'other' : a));
    case 'gather':
      return k === 0 ? s.map((a, ax) => (ax === n.attrs.axis ? 'other' : a)) : other();
    case 'rand':
      return other();
    default:
      return broadcastFrom();
  }
}

export const FUSE_ROW_REDUCTIONS: FusionPass = { name: 'fuse-row-reductions', run: fuseRowReductions };

/**
 * A stored elementwise root that only one row kernel over the same rows reads (LayerNorm
 * backward's dx̂, read by the kernel of Σ dx̂ and dx) is computed there instead, with the row
 * reductions it hosted: one kernel and one intermediate tensor fewer.
 */
function inlineRowInputs({ graph, plan, outputs, opts }: FusionState): void {
  for (const n of plan.roots()) {
    if (!ELEMENTWISE.has(n.op) || outputs.has(n.id) || plan.anchorOf.has(n.id) || plan.siblings.has(n.id) || plan.aliasOf.has(n.id)) continue;
    const readers = new Set(plan.roots().filter((k) => k.id !== n.id && plan.members(k.id).reads.has(n.id)).map((k) => plan.writer(k.id)));
    if (readers.size !== 1) continue;
    const host = graph.node([...readers][0]!);
    if (ANCHORS.has(host.op) || plan.anchorOf.has(host.id) || !sameShape(rowDomain(graph, host) ?? [], n.type.shape)) continue;
    if (![...plan.rowFused.values()].includes(host.id)) continue; // a row kernel already
    const hosted = [...plan.rowFused].filter(([, h]) => h === n.id).map(([r]) => r);
    plan.materialized.delete(n.id);
    for (const r of hosted) plan.rowFused.set(r, host.id);
    const legal = [...plan.rowFused].filter(([, h]) => h === host.id).every(([r]) => readsOnlyAtOwnRow(plan, host, graph.node(r)));
    if (!legal || plan.members(host.id).reads.size + plan.outputsOf(host.id) > opts.maxBindings) {
      plan.materialized.add(n.id);
      for (const r of hosted) plan.rowFused.set(r, n.id);
    }
  }
}

export const INLINE_ROW_INPUTS: FusionPass = { name: 'inline-row-inputs', run: inlineRowInputs };
