// One default matmul variant per family. Blocks at different token counts (after a merge, or in
// each of ToMe's blocks) have matmul kernels that compute the same thing at other row counts. The
// default heuristic picks a variant per size (padding decides between 8 and 16 rows per lane), so
// members of one family can get different variants, whose code differs in structure: they cannot
// share a module (codegen/shared-sizes.ts), and each costs a compile. Here every member whose
// variant came from the default takes the variant of the family's heaviest member, where that
// variant is offered to it and its code then differs from the heaviest member's only in digits
// (else it keeps its own). Then, within a family, vector stores give way to scalar ones where
// other members cannot store vectors (their column count is no multiple of 4: a merge's score
// matrix at each block's set sizes), and so do map kernels' vectors (a log of each block's token
// sizes, vectors at 40 tokens, scalars at 35). The tuner's choices are left alone: it measured them.

import type { Graph } from '../src/core/ir/graph.ts';
import type { KernelIR } from '../kernels/ir.ts';
import { describeVariant, type MatmulVariant } from '../kernels/matmul-variants.ts';
import { digitsMasked, weightSizes } from './shared-sizes.ts';

/** What this pass reads of a rendered kernel. */
export interface FamilyMember {
  readonly kind: string;
  readonly config: string;
  readonly code: string;
  readonly flops: number;
  /** Fused graph nodes the kernel computes. */
  readonly nodes: readonly number[];
  readonly ir: KernelIR;
  readonly matmul?: {
    readonly variant: MatmulVariant;
    readonly offered: readonly MatmulVariant[];
    readonly source: string;
    readonly signature: { readonly a: readonly number[]; readonly b: readonly number[]; readonly storeVec4: boolean };
  };
}

/** How a member is rendered again: with its family's default matmul variant, or as scalars where vectors would fit. */
export interface FamilyRender {
  readonly familyDefault?: MatmulVariant;
  readonly scalar?: boolean;
}

/** Kernels of `kernels` re-rendered (by `render`) so that their family shares modules, by index. */
export function familyVariants<K extends FamilyMember>(graph: Graph, kernels: readonly K[], render: (index: number, how: FamilyRender) => K): Map<number, K> {
  const out = new Map<number, K>();
  for (const members of families(graph, kernels)) {
    if (new Set(members.map((i) => describeVariant(kernels[i]!.matmul!.variant))).size < 2) continue;
    const leader = members.reduce((a, b) => (kernels[b]!.flops > kernels[a]!.flops ? b : a));
    const want = describeVariant(kernels[leader]!.matmul!.variant);
    const shape = digitsMasked(kernels[leader]!.code);
    for (const i of members) {
      if (i === leader || describeVariant(kernels[i]!.matmul!.variant) === want) continue;
      const variant = kernels[i]!.matmul!.offered.find((v) => describeVariant(v) === want);
      if (!variant) continue;
      const again = render(i, { familyDefault: variant });
      if (digitsMasked(again.code) === shape) out.set(i, again);
    }
  }
  const current = kernels.map((k, i) => out.get(i) ?? k);
  for (const [i, k] of familyStores(graph, current, render)) out.set(i, k);
  for (const [i, k] of familyMaps(graph, current, render)) out.set(i, k);
  return out;
}

/**
 * Map kernels computing vectors, re-rendered as scalars where their family (fused ops and weight
 * sizes alike) has scalar members: the last axis is a token count there, a multiple of 4 in some
 * blocks only.
 */
function familyMaps<K extends FamilyMember>(graph: Graph, kernels: readonly K[], render: (index: number, how: FamilyRender) => K): Map<number, K> {
  const groups = groupBy(kernels, (k) => (k.kind === 'map' ? `${fusedOps(graph, k)}|${weightSizes(graph, k.ir)}` : undefined));
  return scalarForms(kernels, groups, (k) => / vec4/.test(k.config), () => ({ scalar: true }), render);
}

/**
 * Members of a family (fused ops, variant and weight sizes alike) that store vectors, re-rendered
 * with scalar stores where the family has members that store scalars. A vector store saves
 * little on the small products where column counts follow token counts, and a module costs a compile.
 */
function familyStores<K extends FamilyMember>(graph: Graph, kernels: readonly K[], render: (index: number, how: FamilyRender) => K): Map<number, K> {
  const groups = groupBy(kernels, (k) => (k.matmul?.source === 'default' && k.matmul.variant.name !== 'tiled' ? `${fusedOps(graph, k)}|${describeVariant(k.matmul.variant)}|${weightSizes(graph, k.ir)}` : undefined));
  return scalarForms(kernels, groups, (k) => k.matmul!.signature.storeVec4, (k) => ({ familyDefault: k.matmul!.variant, scalar: true }), render);
}

/**
 * Within each group, the members `isVector` says compute vectors, rendered again the scalar way
 * (`scalarHow`), where the group has scalar members and the code then differs from one of theirs
 * only in digits (else a member keeps its own).
 */
function scalarForms<K extends FamilyMember>(kernels: readonly K[], groups: readonly number[][], isVector: (k: K) => boolean, scalarHow: (k: K) => FamilyRender, render: (index: number, how: FamilyRender) => K): Map<number, K> {
  const out = new Map<number, K>();
  for (const members of groups) {
    const scalar = new Set(members.filter((i) => !isVector(kernels[i]!)).map((i) => digitsMasked(kernels[i]!.code)));
    if (!scalar.size) continue;
    for (const i of members.filter((i) => isVector(kernels[i]!))) {
      const again = render(i, scalarHow(kernels[i]!));
      if (scalar.has(digitsMasked(again.code))) out.set(i, again);
    }
  }
  return out;
}

/** Indices of `kernels` grouped by `keyOf` (undefined: in no group). */
function groupBy<K>(kernels: readonly K[], keyOf: (k: K) => string | undefined): number[][] {
  const groups = new Map<string, number[]>();
  kernels.forEach((k, i) => {
    const key = keyOf(k);
    if (key !== undefined) groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

const fusedOps = (graph: Graph, k: FamilyMember): string => k.nodes.map((id) => graph.node(id).op).join(',');

/**
 * Default-variant matmul kernels grouped by what they compute, sizes aside: the ops they fuse and
 * the shapes of the weights they bind (kernels over weights of other sizes never share a module).
 * How they read their operands may still differ with the sizes (vector reads where an extent is a
 * multiple of 4): a member whose code then differs from the leader's keeps its own.
 */
function families(graph: Graph, kernels: readonly FamilyMember[]): number[][] {
  return groupBy(kernels, (k) => (k.matmul?.source === 'default' ? `${fusedOps(graph, k)}|${weightSizes(graph, k.ir)}` : undefined));
}
