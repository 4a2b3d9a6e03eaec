// The one place WGSL is written: a kernel tree (kernels/ir.ts), after the passes, printed as a
// module — bindings, module arrays, the entry point with the builtins its body reads. Locals are
// named here, in order of definition (`hint_n`), and bindings by position (`buf<i>`), so kernels
// that compute the same thing on other tensors print the same text (and share one pipeline).

import { BUILTINS, type Buf, type Builtin, type Expr, type ExprOf, type Helper, type KernelIR, type Local, type Stmt, type Ty } from '../kernels/ir.ts';
import { assertFreeName } from './wgsl-names.ts';

/** A rendered kernel: the module text (helpers not yet linked) and what it binds and calls. */
export interface RenderedKernel {
  readonly source: string;
  /** The storage bindings in binding order, with their printed names. */
  readonly bindings: readonly { readonly buf: Buf; readonly name: string }[];
  readonly helpers: ReadonlySet<Helper>;
}

const SCALAR_TYPE: Record<Ty['s'], string> = { f32: 'f32', i32: 'i32', u32: 'u32', bool: 'bool' };
/** The WGSL type of `t`. */
export const wgslType = (t: Ty): string => (t.w === 1 ? SCALAR_TYPE[t.s] : `vec4<${SCALAR_TYPE[t.s]}>`);

/** A WGSL f32 literal. */
export function f32Text(v: number): string {
  const s = Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : `${v}`;
  return v < 0 ? `(${s})` : s;
}

/** Operator precedence levels (higher binds tighter); 9: primary expressions and calls. */
const INFIX: Partial<Record<ExprOf<'alu'>['op'], { op: string; prec: number }>> = {
  mul: { op: '*', prec: 6 }, div: { op: '/', prec: 6 }, mod: { op: '%', prec: 6 },
  add: { op: '+', prec: 5 }, sub: { op: '-', prec: 5 },
  shr: { op: '>>', prec: 4 },
  lt: { op: '<', prec: 3 }, le: { op: '<=', prec: 3 }, gt: { op: '>', prec: 3 }, ge: { op: '>=', prec: 3 }, eq: { op: '==', prec: 3 }, ne: { op: '!=', prec: 3 },
  and: { op: '&&', prec: 2 }, or: { op: '||', prec: 1 },
};
const CALLS: Partial<Record<ExprOf<'alu'>['op'], string>> = {
  abs: 'abs', sign: 'sign', exp: 'exp', log: 'log', sqrt: 'sqrt', inverseSqrt: 'inverseSqrt', min: 'min', max: 'max',
  select: 'select', fma: 'fma', clamp: 'clamp', dot: 'dot', sgBroadcast: 'subgroupBroadcast', sgAdd: 'subgroupAdd', sgMax: 'subgroupMax',
};
const LANES = ['x', 'y', 'z', 'w'];

/** Prints expressions and statements with the names chosen for locals and buffers. */
class Printer {
  private readonly names = new Map<Local | Buf, string>();
  private counter = 0;
  readonly helpers = new Set<Helper>();
  readonly builtins = new Set<Builtin>();

  constructor(bindings: readonly Buf[], moduleArrays: readonly Buf[]) {
    bindings.forEach((b, i) => this.names.set(b, `buf${i}`));
    // Hints repeat when kernels are batched into one module (each part's `red`): number the repeats.
    const taken = new Set<string>();
    moduleArrays.forEach((b, i) => {
      const hint = b.kind === 'table' ? `table${i}` : b.hint;
      const name = taken.has(hint) ? `${hint}_m${i}` : hint;
      taken.add(name);
      this.names.set(b, assertFreeName(name));
    });
  }

  /** The name of a local or buffer, chosen at its definition. */
  define(x: Local | Buf): string {
    const name = assertFreeName(`${x.hint}_${this.counter++}`);
    this.names.set(x, name);
    return name;
  }
  name(x: Local | Buf): string {
    const n = this.names.get(x);
    if (n === undefined) throw new Error(`internal error: ${x instanceof Object && 'kind' in x ? x.kind : ''} "${x.hint}" used before its definition`);
    return n;
  }

  /** `e` as WGSL, parenthesised when its precedence is below `min`. */
  expr(e: Expr, min = 0): string {
    const [text, prec] = this.exprPrec(e);
    return prec < min ? `(${text})` : text;
  }

  private exprPrec(e: Expr): [string, number] {
    switch (e.k) {
      case 'lit': return [literalText(e), 9];
      case 'local': return [this.name(e.x), 9];
      case 'builtin':
        this.builtins.add(e.b);
        return [BUILTINS[e.b].vec3 ? `${e.b}.${LANES[e.comp ?? 0]}` : e.b, 9];
      case 'load': return [`${this.name(e.buf)}[${this.expr(e.at)}]`, 9];
      case 'length': return [`arrayLength(&${this.name(e.buf)})`, 9];
      case 'call':
        this.helpers.add(e.fn);
        return [`${e.fn}(${e.args.map((a) => this.expr(a)).join(', ')})`, 9];
      case 'alu': return this.alu(e);
    }
  }

  private alu(e: ExprOf<'alu'>): [string, number] {
    const args = e.args;
    const infix = INFIX[e.op];
    if (infix) {
      if (infix.prec <= 2) {
        // && and || chain only with themselves: any other operand below a relational is parenthesised.
        const side = (a: Expr, first: boolean) => (first && a.k === 'alu' && a.op === e.op ? this.expr(a) : this.expr(a, 3));
        return [`${side(args[0]!, true)} ${infix.op} ${side(args[1]!, false)}`, infix.prec];
      }
      // Left-associative; shift operands must be unary expressions; relational operands are shifts or above.
      const lhs = e.op === 'shr' ? 7 : infix.prec === 3 ? 4 : infix.prec;
      const rhs = e.op === 'shr' || infix.prec === 3 ? lhs : infix.prec + 1;
      return [`${this.expr(args[0]!, lhs)} ${infix.op} ${this.expr(args[1]!, rhs)}`, infix.prec];
    }
    const call = CALLS[e.op];
    if (call) return [`${call}(${args.map((a) => this.expr(a)).join(', ')})`, 9];
    switch (e.op) {
      // Operands of unary ops are primary expressions: never `--x` (a decrement token).
      case 'neg': return [`-${this.expr(args[0]!, 9)}`, 8];
      case 'not': return [`!${this.expr(args[0]!, 9)}`, 8];
      case 'cast': case 'splat': case 'vec4': return [`${wgslType(e.ty)}(${args.map((a) => this.expr(a)).join(', ')})`, 9];
      case 'lane': {
        const i = args[1]!;
        return [i.k === 'lit' ? `${this.expr(args[0]!, 9)}.${LANES[i.v]}` : `${this.expr(args[0]!, 9)}[${this.expr(i)}]`, 9];
      }
      default: throw new Error(`internal error: no WGSL for ALU op ${e.op}`);
    }
  }

  stmts(body: readonly Stmt[], indent: string, out: string[]): void {
    for (const s of body) this.stmt(s, indent, out);
  }

  private stmt(s: Stmt, ind: string, out: string[]): void {
    const inner = `${ind}  `;
    switch (s.k) {
      case 'let': {
        const value = this.expr(s.value);
        out.push(`${ind}let ${this.define(s.x)} = ${value};${s.note ? ` // ${s.note}` : ''}`);
        return;
      }
      case 'var': {
        const init = this.expr(s.init);
        out.push(`${ind}var ${this.define(s.x)} = ${init};`);
        return;
      }
      case 'array': {
        const t = `array<${wgslType(s.buf.elem)}, ${s.buf.length}>`;
        const init = s.init && s.init.map((e) => this.expr(e)).join(', ');
        out.push(init ? `${ind}var ${this.define(s.buf)} = ${t}(${init});` : `${ind}var ${this.define(s.buf)}: ${t};`);
        return;
      }
      case 'assign': out.push(`${ind}${this.name(s.x)} = ${this.expr(s.value)};`); return;
      case 'store': out.push(`${ind}${this.name(s.buf)}[${this.expr(s.at)}] = ${this.expr(s.value)};`); return;
      case 'loop': {
        const from = this.expr(s.from), to = this.expr(s.to, 4), step = this.expr(s.step);
        const x = this.define(s.x);
        const next = s.step.k === 'lit' && s.step.v === 1 ? `${x}++` : `${x} += ${step}`;
        out.push(`${ind}for (var ${x} = ${from}; ${x} < ${to}; ${next}) {`);
        this.stmts(s.body, inner, out);
        out.push(`${ind}}`);
        return;
      }
      case 'halve': {
        const from = this.expr(s.from);
        const x = this.define(s.x);
        out.push(`${ind}for (var ${x} = ${from}; ${x} > 0u; ${x} = ${x} >> 1u) {`);
        this.stmts(s.body, inner, out);
        out.push(`${ind}}`);
        return;
      }
      case 'if': {
        const cond = this.expr(s.cond);
        const only = s.body.length === 1 ? s.body[0]! : undefined;
        if (only && (only.k === 'return' || only.k === 'store' || only.k === 'assign')) {
          const one: string[] = [];
          this.stmt(only, '', one);
          out.push(`${ind}if (${cond}) { ${one[0]} }`);
          return;
        }
        out.push(`${ind}if (${cond}) {`);
        this.stmts(s.body, inner, out);
        out.push(`${ind}}`);
        return;
      }
      case 'return': out.push(`${ind}return;`); return;
      case 'barrier': out.push(`${ind}${s.storage ? 'storageBarrier' : 'workgroupBarrier'}();`); return;
    }
  }
}

function literalText(e: ExprOf<'lit'>): string {
  switch (e.ty.s) {
    case 'f32': return f32Text(e.v);
    case 'u32': return `${e.v}u`;
    case 'i32': return e.v < 0 ? `(${e.v}i)` : `${e.v}i`;
    case 'bool': return e.v ? 'true' : 'false';
  }
}

const BUILTIN_ORDER: readonly Builtin[] = ['wid', 'nwg', 'lid3', 'lid', 'sid'];

/** Prints a kernel (after its passes) as a WGSL module with entry point `main`. */
export function renderKernel(ir: KernelIR): RenderedKernel {
  const p = new Printer(ir.storage, ir.moduleArrays);
  const body: string[] = [];
  p.stmts(ir.body, '  ', body);
  const bindings = ir.storage.map((buf, i) => ({ buf, name: `buf${i}` }));
  const decls = bindings.map(({ buf, name }, i) => `@group(0) @binding(${i}) var<storage, ${buf.access}> ${name}: array<${wgslType(buf.elem)}>;`);
  const arrays = ir.moduleArrays.map((b) => {
    const t = `array<${wgslType(b.elem)}, ${b.length}>`;
    if (b.kind === 'workgroup') return `var<workgroup> ${p.name(b)}: ${t};`;
    const values = b.values!.map((v) => literalText({ k: 'lit', ty: b.elem, v }));
    return `var<private> ${p.name(b)}: ${t} = ${t}(${values.join(', ')});`;
  });
  const params = BUILTIN_ORDER.filter((b) => p.builtins.has(b)).map((b) => `@builtin(${BUILTINS[b].attr}) ${b}: ${BUILTINS[b].vec3 ? 'vec3u' : 'u32'}`);
  const source = [
    ...decls,
    ...arrays,
    '',
    `@compute @workgroup_size(${ir.workgroupSize.join(', ')})`,
    `fn main(${params.join(', ')}) {`,
    ...body,
    '}',
    '',
  ].join('\n');
  return { source, bindings, helpers: p.helpers };
}
