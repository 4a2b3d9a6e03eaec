// A kernel tree as the module the device compiles: the renderer's WGSL with the helper functions
// it calls linked in, its storage bindings as the plan lists them, and the header naming what each
// binding holds.

import type { Graph } from '../src/core/ir/graph.ts';
import { fmtShape } from '../src/core/ir/shape.ts';
import type { KernelIR } from '../kernels/ir.ts';
import type { KernelBinding, PlanKernel } from './compile.ts';
import { renderKernel } from './render.ts';
import { linkKernel } from './wgsl-lib.ts';

/** The kernel's WGSL (without header) and its bindings in binding order. */
export function printKernel(ir: KernelIR): { code: string; bindings: KernelBinding[] } {
  const rendered = renderKernel(ir);
  const bindings: KernelBinding[] = rendered.bindings.map(({ buf, name }, i) => ({ binding: i, tensor: buf.tensor!, access: buf.access, name, ...(buf.elem.w === 4 ? { vec4: true } : {}) }));
  // Directives first: the linker puts helper functions ahead of the kernel.
  const code = [...ir.enables.map((e) => `enable ${e};`), linkKernel(rendered.source, rendered.helpers)].join('\n');
  return { code, bindings };
}

/** A comment block: the kernel, its specialisation, and for each binding the tensor it holds. */
export function kernelHeader(graph: Graph, name: string, k: Pick<PlanKernel, 'kind' | 'config' | 'workgroupSize' | 'dispatch' | 'bindings'>): string {
  const describe = (id: number) => {
    const n = graph.node(id);
    const label = n.op === 'input' || n.op === 'param' ? ` "${n.attrs.name}"` : '';
    const outputName = [...graph.outputs].find(([, v]) => v === id)?.[0];
    return `%${id} ${n.op}${label}${outputName ? ` -> output "${outputName}"` : ''} ${n.type.dtype}${fmtShape(n.type.shape)}`;
  };
  return [
    `// ${name}: ${k.kind} kernel, ${k.config}; workgroup ${k.workgroupSize.join('x')}, dispatch ${k.dispatch.join('x')}`,
    ...k.bindings.map((b) => `//   binding ${b.binding} ${b.name} (${b.access === 'read' ? 'read' : 'read/write'}): ${describe(b.tensor)}`),
  ].map(oneLine).join('\n');
}

/** A header line with any line break in a tensor's name turned into a space (the header is comments). */
const oneLine = (l: string): string => l.replaceAll('\r', ' ').replaceAll('\n', ' ');
