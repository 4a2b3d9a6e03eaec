// An independent float64 reference of a ViT with AdaptFormer adapters and ToMe token merging,
// written from the published algorithm (Bolya et al., ICLR 2023: `bipartite_soft_matching` and
// `merge_wavg` in facebookresearch/ToMe, tome/merge.py; the timm patch, tome/patch/timm.py) and
// timm's VisionTransformer, in plain loops over arrays. It shares no code with src/fpet/models or the
// IR: the tests compare our whole-model logits and gradients with it.
//
// ToMe with a class token, per merge block, on the block's keys averaged over heads (the metric):
//   a = tokens at even positions (cls is a[0]), b = odd positions; scores = â·b̂ᵀ, row 0 = −∞;
//   node_max, node_idx = max over b; edge order = node_max descending; the first r edges merge
//   (src → dst = node_idx), the rest are unmerged and sorted by position (cls first);
//   merge_wavg: x·size and size are summed into dst; output [unmerged a..., b...]; x = Σ/size.
// r is clamped to (tokens − 1) // 2. Proportional attention adds log(size) of each key after the
// first merge.

export interface RefConfig {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpHidden: number;
  readonly numClasses: number;
  /** Width of timm's tanh pre-logits layer, or 0 when the model has none. */
  readonly representationSize: number;
  /** AdaptFormer (ReLU, scale s, parallel to the MLP) bottleneck width, 0 for none. */
  readonly adapterDim: number;
  readonly adapterScale: number;
  readonly adapterBias: boolean;
  /** ToMe: blocks that merge, and r per block. */
  readonly tomeBlocks: readonly number[];
  readonly tomeR: number;
}

type W = ReadonlyMap<string, ArrayLike<number>>;
type Mat = number[][];

function get(w: W, name: string): ArrayLike<number> {
  const v = w.get(name);
  if (!v) throw new Error(`reference: missing weight ${name}`);
  return v;
}

/** y = x · Wᵀ + b for W stored [out, in] (PyTorch Linear). */
function linear(x: Mat, weight: ArrayLike<number>, outDim: number, bias?: ArrayLike<number>): Mat {
  const inDim = x[0]!.length;
  return x.map((row) => {
    const y = new Array<number>(outDim);
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < inDim; i++) s += row[i]! * weight[o * inDim + i]!;
      y[o] = s;
    }
    return y;
  });
}

function layerNorm(x: Mat, g: ArrayLike<number>, b: ArrayLike<number>): Mat {
  return x.map((row) => {
    const n = row.length;
    const mean = row.reduce((s, v) => s + v, 0) / n;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    const inv = 1 / Math.sqrt(variance + 1e-6);
    return row.map((v, i) => (v - mean) * inv * g[i]! + b[i]!);
  });
}

/** erf by its Taylor series (|x| < 3) and Laplace's continued fraction for erfc beyond. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let sum = 0, term = a, n = 0;
    while (Math.abs(term) > 1e-18 * Math.abs(sum) || n < 3) {
      sum += term / (2 * n + 1);
      n++;
      term *= (-a * a) / n;
      if (n > 200) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let frac = 0;
  for (let k = 60; k >= 1; k--) frac = (k / 2) / (a + frac);
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + frac));
}

const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / z);
}

interface Merge {
  /** Unmerged a-positions (into the a list), ascending; src a-positions merged; their b-positions. */
  readonly unm: number[];
  readonly src: number[];
  readonly dst: number[];
}

/** ToMe's bipartite_soft_matching with class_token=True, on one image's metric [n, c]. */
export function bipartiteSoftMatching(metric: Mat, r: number): Merge {
  const norm = metric.map((row) => {
    const l = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => v / l);
  });
  const a = norm.filter((_, t) => t % 2 === 0), b = norm.filter((_, t) => t % 2 === 1);
  const nodeMax: number[] = [], nodeIdx: number[] = [];
  a.forEach((ra, i) => {
    let best = -Infinity, arg = 0;
    if (i > 0) {
      b.forEach((rb, j) => {
        const s = ra.reduce((acc, v, k) => acc + v * rb[k]!, 0);
        if (s > best) [best, arg] = [s, j];
      });
    }
    nodeMax.push(best);
    nodeIdx.push(arg);
  });
  const edges = nodeMax.map((_, i) => i).sort((p, q) => nodeMax[q]! - nodeMax[p]! || p - q);
  const src = edges.slice(0, r);
  return { unm: edges.slice(r).sort((p, q) => p - q), src, dst: src.map((i) => nodeIdx[i]!) };
}

/** merge_wavg: size-weighted average of the merged tokens; returns the new x and size. */
export function mergeWavg(m: Merge, x: Mat, size: number[]): { x: Mat; size: number[] } {
  const xs = x.map((row, t) => row.map((v) => v * size[t]!));
  const aX = xs.filter((_, t) => t % 2 === 0), bX = xs.filter((_, t) => t % 2 === 1).map((r) => [...r]);
  const aS = size.filter((_, t) => t % 2 === 0), bS = size.filter((_, t) => t % 2 === 1);
  m.src.forEach((i, e) => {
    const j = m.dst[e]!;
    aX[i]!.forEach((v, k) => (bX[j]![k]! += v));
    bS[j]! += aS[i]!;
  });
  const outX = [...m.unm.map((i) => aX[i]!), ...bX];
  const outS = [...m.unm.map((i) => aS[i]!), ...bS];
  return { x: outX.map((row, t) => row.map((v) => v / outS[t]!)), size: outS };
}

/** Logits [batch][classes] of the ViT + AdaptFormer + ToMe model on images [batch, C, H, W] (flat). */
export function referenceLogits(cfg: RefConfig, w: W, images: ArrayLike<number>, batch: number): number[][] {
  const { patchSize: p, inChannels: C, dim: D, heads: H } = cfg;
  const g = cfg.imageSize / p, hd = D / H;
  const out: number[][] = [];
  for (let bi = 0; bi < batch; bi++) {
    // Patch embedding = a stride-p convolution.
    const patches: Mat = [];
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        const v: number[] = [];
        for (let c = 0; c < C; c++) for (let py = 0; py < p; py++) for (let px = 0; px < p; px++) {
          v.push(images[((bi * C + c) * cfg.imageSize + gy * p + py) * cfg.imageSize + gx * p + px]!);
        }
        patches.push(v);
      }
    }
    const cls = Array.from(get(w, 'cls_token'));
    const pos = get(w, 'pos_embed');
    let x: Mat = [cls, ...linear(patches, get(w, 'patch_embed.proj.weight'), D, get(w, 'patch_embed.proj.bias'))]
      .map((row, t) => row.map((v, k) => v + pos[t * D + k]!));
    let size: number[] | undefined;
    for (let blk = 0; blk < cfg.depth; blk++) {
      const P = (n: string) => get(w, `blocks.${blk}.${n}`);
      const n = x.length;
      const qkv = linear(layerNorm(x, P('norm1.weight'), P('norm1.bias')), P('attn.qkv.weight'), 3 * D, P('attn.qkv.bias'));
      const attnOut: Mat = x.map(() => new Array<number>(D).fill(0));
      const metric: Mat = x.map(() => new Array<number>(hd).fill(0));
      for (let h = 0; h < H; h++) {
        const q = qkv.map((r) => r.slice(h * hd, (h + 1) * hd));
        const k = qkv.map((r) => r.slice(D + h * hd, D + (h + 1) * hd));
        const v = qkv.map((r) => r.slice(2 * D + h * hd, 2 * D + (h + 1) * hd));
        k.forEach((row, t) => row.forEach((val, c) => (metric[t]![c]! += val / H)));
        for (let i = 0; i < n; i++) {
          const att = softmaxRow(k.map((kr, j) => kr.reduce((s, val, c) => s + val * q[i]![c]!, 0) / Math.sqrt(hd) + (size ? Math.log(size[j]!) : 0)));
          for (let c = 0; c < hd; c++) attnOut[i]![h * hd + c] = att.reduce((s, a, j) => s + a * v[j]![c]!, 0);
        }
      }
      const proj = linear(attnOut, P('attn.proj.weight'), D, P('attn.proj.bias'));
      x = x.map((row, t) => row.map((val, c) => val + proj[t]![c]!));
      if (cfg.tomeBlocks.includes(blk)) {
        const r = Math.min(cfg.tomeR, Math.floor((n - 1) / 2));
        if (r > 0) ({ x, size } = mergeWavg(bipartiteSoftMatching(metric, r), x, size ?? x.map(() => 1)));
      }
      const y = x;
      const h1 = linear(layerNorm(y, P('norm2.weight'), P('norm2.bias')), P('mlp.fc1.weight'), cfg.mlpHidden, P('mlp.fc1.bias')).map((r) => r.map(gelu));
      const mlp = linear(h1, P('mlp.fc2.weight'), D, P('mlp.fc2.bias'));
      let adapter: Mat | undefined;
      if (cfg.adapterDim > 0) {
        const down = linear(y, P('adapter_mlp.down.weight'), cfg.adapterDim, cfg.adapterBias ? P('adapter_mlp.down.bias') : undefined).map((r) => r.map((v) => Math.max(v, 0)));
        adapter = linear(down, P('adapter_mlp.up.weight'), D, cfg.adapterBias ? P('adapter_mlp.up.bias') : undefined);
      }
      x = y.map((row, t) => row.map((val, c) => val + mlp[t]![c]! + (adapter ? cfg.adapterScale * adapter[t]![c]! : 0)));
    }
    let feat = layerNorm([x[0]!], get(w, 'norm.weight'), get(w, 'norm.bias'));
    if (cfg.representationSize > 0) feat = linear(feat, get(w, 'pre_logits.fc.weight'), cfg.representationSize, get(w, 'pre_logits.fc.bias')).map((r) => r.map(Math.tanh));
    out.push(linear(feat, get(w, 'head.weight'), cfg.numClasses, get(w, 'head.bias'))[0]!);
  }
  return out;
}

/** Mean cross-entropy of the reference logits against integer labels. */
export function referenceLoss(logits: number[][], labels: readonly number[]): number {
  return logits.reduce((s, row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((z, v) => z + Math.exp(v - m), 0));
    return s + lse - row[labels[i]!]!;
  }, 0) / logits.length;
}
