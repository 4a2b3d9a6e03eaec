// Reads generated WGSL back with wgsl_reflect: the bind-group layout and the workgroup size of a
// kernel come from its code, never from bookkeeping kept beside it.

import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';

export interface ReflectedBinding {
  readonly group: number;
  readonly binding: number;
  readonly name: string;
  readonly access: 'read' | 'read_write';
  readonly elementType: string;
}

export interface ReflectedKernel {
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly bindings: readonly ReflectedBinding[];
}

export function reflectKernel(wgsl: string): ReflectedKernel {
  const r = new WgslReflect(wgsl);
  const entry = r.entry.compute[0];
  if (!entry || r.entry.compute.length !== 1) throw new Error(`expected exactly one compute entry point, found ${r.entry.compute.length}`);
  const bindings = entry.resources
    .map((res) => {
      if (res.access !== 'read' && res.access !== 'read_write') throw new Error(`binding ${res.name}: unexpected access "${res.access}"`);
      const fmt = (res.type as { format?: { name?: string } }).format;
      return { group: res.group, binding: res.binding, name: res.name, access: res.access, elementType: fmt?.name ?? res.type.name } as ReflectedBinding;
    })
    .sort((a, b) => a.group - b.group || a.binding - b.binding);
  const ws = entry.workgroupSize;
  return { entryPoint: entry.name, workgroupSize: [ws?.[0] ?? 1, ws?.[1] ?? 1, ws?.[2] ?? 1], bindings };
}
