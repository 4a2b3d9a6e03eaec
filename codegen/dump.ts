// A kernel tree as text, for people: one statement per line, expressions as S-expressions with
// their types, locals by hint and number. What `compile --tree` writes next to each kernel's WGSL,
// to see what a template built and what the passes made of it.

import { childrenOf, exprsOf, type Buf, type Expr, type KernelIR, type Local, type Stmt, type Ty } from '../kernels/ir.ts';

const tyText = (t: Ty): string => (t.w === 1 ? t.s : `${t.s}x4`);

/** Names locals and buffers in order of first appearance (`hint#n`). */
class Names {
  private readonly names = new Map<Local | Buf, string>();
  of(x: Local | Buf): string {
    let n = this.names.get(x);
    if (n === undefined) this.names.set(x, (n = `${x.hint}#${this.names.size}`));
    return n;
  }
}

function exprText(e: Expr, names: Names): string {
  switch (e.k) {
    case 'lit': return `${e.v}:${tyText(e.ty)}`;
    case 'local': return names.of(e.x);
    case 'builtin': return `${e.b}${e.comp === undefined ? '' : `.${'xyz'[e.comp]}`}`;
    case 'load': return `(load ${names.of(e.buf)} ${exprText(e.at, names)})`;
    case 'length': return `(length ${names.of(e.buf)})`;
    case 'alu': return `(${e.op}:${tyText(e.ty)} ${e.args.map((a) => exprText(a, names)).join(' ')})`;
    case 'call': return `(call ${e.fn} ${e.args.map((a) => exprText(a, names)).join(' ')})`;
  }
}

function stmtText(s: Stmt, names: Names): string {
  const ex = exprsOf(s).map((e) => exprText(e, names));
  switch (s.k) {
    case 'let': case 'var': case 'assign': return `${s.k} ${names.of(s.x)} ${ex[0]}`;
    case 'array': return `array ${names.of(s.buf)} ${tyText(s.buf.elem)}[${s.buf.length}]${ex.length ? ` ${ex.join(' ')}` : ''}`;
    case 'store': return `store ${names.of(s.buf)} ${ex.join(' ')}`;
    case 'loop': return `loop ${names.of(s.x)} from ${ex[0]} to ${ex[1]} step ${ex[2]}`;
    case 'halve': return `halve ${names.of(s.x)} from ${ex[0]}`;
    case 'if': return `if ${ex[0]}`;
    case 'return': case 'barrier': return s.k;
  }
}

/** The kernel tree, indented by nesting. */
export function treeText(ir: KernelIR): string {
  const names = new Names();
  const out = ir.storage.map((b, i) => `binding ${i} ${names.of(b)} ${b.access} ${tyText(b.elem)}[] (tensor %${b.tensor})`);
  for (const b of ir.moduleArrays) out.push(`${b.kind} ${names.of(b)} ${tyText(b.elem)}[${b.length}]`);
  out.push(`workgroup ${ir.workgroupSize.join('x')}${ir.enables.length ? `, enables ${ir.enables.join(' ')}` : ''}`);
  const visit = (body: readonly Stmt[], indent: string) => {
    for (const s of body) {
      out.push(`${indent}${stmtText(s, names)}`);
      visit(childrenOf(s), `${indent}  `);
    }
  };
  visit(ir.body, '');
  return `${out.join('\n')}\n`;
}
