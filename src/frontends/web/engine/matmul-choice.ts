// Matmul variants chosen for compile time on a software adapter. On SwiftShader the default
// CPU-adapter variant (16 rows per lane) of a matmul whose operand is gathered (a concatenation
// read in place: 12 buffer reads per vec4 instead of 1 to 4) unrolls so many guarded loads that
// the driver takes over a minute to compile it: 80.8 s for the AdaptFormer training step's
// blocks.5.attn.qkv backward (1x400x64x192, "a12/12") against 0.44 s with 8 rows per lane, the
// other 56 kernels of the step taking 3 s together (measured in headless Chromium, 2 CPU cores).
// So, on a software adapter, such matmuls use the same variant with at most 8 rows per lane;
// every other kernel keeps the default. (A fix in the code generator's default would make this
// unnecessary; until then the page passes this chooser through compile's matmulVariant option.)

import type { MatmulChooser } from '../../../../codegen/compile.ts';
import { defaultVariant, type MatmulVariant } from '../../../../kernels/matmul-variants.ts';

/** Reads per vec4 above which an operand counts as gathered (contiguous reads take 1 to 4). */
const GATHERED_READS = 4;
/** Rows per lane at most for a gathered operand. */
const MAX_ROWS = 8;

/** The chooser, and the key that lets the code generator cache plans compiled with it. */
export const COMPILE_FRIENDLY: { readonly matmulVariant: MatmulChooser; readonly variantKey: string } = {
  variantKey: `page-compile-friendly-r${MAX_ROWS}`,
  matmulVariant: (sig, offered) => {
    const def = defaultVariant(offered, 'cpu');
    if (def.name === 'tiled' || def.config.rows <= MAX_ROWS) return undefined;
    if (Math.max(...sig.a, ...sig.b) <= GATHERED_READS) return undefined;
    const same = (v: MatmulVariant) => v.name === def.name && v.config.swap === def.config.swap && v.config.rows <= MAX_ROWS;
    return offered.find((v) => v.name !== 'tiled' && same(v));
  },
};
