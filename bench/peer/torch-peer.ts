// PyTorch on the CPU as an optional peer: what a user without a GPU runs instead. One python
// script (TORCH_SCRIPT) takes a list of jobs and times them in one subprocess (bench/peer/python.ts:
// $FPET_BENCH_PYTHON, python3, /usr/bin/python3; the first that can `import torch`):
//   - matmul: torch.matmul float32 on [m,k]@[n,k]ᵀ ('linear', the models' layout) or [m,k]@[k,n];
//   - vit: a plain torch ViT in timm's layout and parameter names (pre-norm blocks, LayerNorm eps
//     1e-6, qkv with bias, exact GELU, F.scaled_dot_product_attention as timm's fused attention,
//     cls-token pooling), optionally with AdaptFormer adapters parallel to every MLP (bias-free,
//     ReLU, scale 1, dropout on the hidden activations in training) and DropPath in training;
//     inference in eval mode under torch.inference_mode(), or one training step (forward,
//     cross-entropy, backward, AdamW over the trainable parameters only: names containing
//     "adapter" or starting with "head.", as src/fpet/models/model.ts decides; the backbone frozen).
// Weights are random (torch's default init, adapters' up-projections zero as ours): only time is
// compared. Threads: torch's default (torch.get_num_threads(), reported). Every job is a warm-up
// and then repeats until its time budget is spent (at least 5, at most 50 for models), median.
// The geometry comes from the caller's ModelSpec (torchVitJob), so it is the one our suites run.

import type { GpuRuntime } from '../../src/core/runtime/device.ts';
import type { ModelSpec } from '../../src/fpet/models/model.ts';
import type { VitConfig } from '../../src/fpet/models/vit.ts';
import type { AdamWConfig } from '../../src/fpet/train/optimizer.ts';
import { runPython } from './python.ts';

export const TORCH_SCRIPT = `
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def timed(step, warmup, min_reps, max_reps, budget_s):
    for _ in range(warmup):
        step()
    ts = []
    start = time.perf_counter()
    while len(ts) < max_reps and (len(ts) < min_reps or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return {'medianMs': ts[len(ts) // 2], 'minMs': ts[0], 'maxMs': ts[-1], 'reps': len(ts)}


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Adapter(nn.Module):
    # AdaptFormer as src/fpet/models/pet.ts: s * U * Drop(ReLU(Dn * z)), bias-free, U zero-initialised.
    def __init__(self, dim, width, dropout, scale):
        super().__init__()
        self.down = nn.Linear(dim, width, bias=False)
        self.up = nn.Linear(width, dim, bias=False)
        nn.init.zeros_(self.up.weight)
        self.drop = nn.Dropout(dropout)
        self.scale = scale

    def forward(self, z):
        out = self.up(self.drop(F.relu(self.down(z))))
        return out if self.scale == 1 else out * self.scale


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p <= 0:
            return x
        keep = 1 - self.p
        return x * x.new_empty(x.shape[0], 1, 1).bernoulli_(keep).div_(keep)


class Block(nn.Module):
    def __init__(self, c, adapter, drop_path):
        super().__init__()
        dim = c['dim']
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, c['heads'])
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, round(dim * c['mlpRatio']))
        self.drop_path = DropPath(drop_path)
        self.adapter_mlp = Adapter(dim, adapter['dim'], adapter['dropout'], adapter['scale']) if adapter else None

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        out = x + self.drop_path(self.mlp(self.norm2(x)))
        # AdaptFormer: parallel to the MLP, from the MLP block's un-normalised input.
        return out + self.adapter_mlp(x) if self.adapter_mlp is not None else out


class PreLogits(nn.Module):
    def __init__(self, dim, size):
        super().__init__()
        self.fc = nn.Linear(dim, size)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class PatchEmbed(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.proj = nn.Conv2d(c['inChannels'], c['dim'], c['patchSize'], stride=c['patchSize'])

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    # timm's VisionTransformer layout and parameter names (as src/fpet/models/vit.ts).
    def __init__(self, c, adapter=None, drop_path=0.0, input_crop=None):
        super().__init__()
        dim, depth = c['dim'], c['depth']
        self.input_crop = input_crop
        tokens = (c['imageSize'] // c['patchSize']) ** 2 + 1
        self.patch_embed = PatchEmbed(c)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        rate = lambda i: drop_path * i / (depth - 1) if depth > 1 else drop_path
        self.blocks = nn.ModuleList([Block(c, adapter, rate(i)) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        rep = c.get('representationSize', 0)
        self.pre_logits = PreLogits(dim, rep) if rep > 0 else None
        self.head = nn.Linear(rep if rep > 0 else dim, c['numClasses'])

    def forward(self, images):
        if self.input_crop:  # the central crop scaled back up, as src/fpet/models/input-crop.ts
            s, k = images.shape[-1], self.input_crop
            o = (s - k) // 2
            images = F.interpolate(images[:, :, o:o + k, o:o + k], size=(s, s), mode='bilinear', align_corners=False)
        x = self.patch_embed(images)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for b in self.blocks:
            x = b(x)
        x = self.norm(x)[:, 0]
        return self.head(self.pre_logits(x) if self.pre_logits is not None else x)


def run_matmul(job):
    out = []
    with torch.inference_mode():
        for (m, k, n, linear) in job['shapes']:
            a = torch.rand(m, k)
            w = torch.rand(n, k) if linear else torch.rand(k, n)
            f = (lambda: torch.matmul(a, w.t())) if linear else (lambda: torch.matmul(a, w))
            reps = max(3, min(200, int(2e9 / (2 * m * n * k + 1))))
            out.append(timed(f, 2, reps, reps, 0)['medianMs'])
    return {'kind': 'matmul', 'ms': out}


def run_vit(job):
    c, batch = job['vit'], job['batch']
    model = ViT(c, job.get('adapter'), job.get('dropPath', 0.0), job.get('inputCrop'))
    x = torch.rand(batch, c['inChannels'], c['imageSize'], c['imageSize'])
    params = sum(p.numel() for p in model.parameters())
    budget = job.get('budgetS', 2.0)
    if job['mode'] == 'train':
        for name, p in model.named_parameters():
            p.requires_grad_(job.get('trainAll', False) or 'adapter' in name or name.startswith('head.'))
        trainable = [p for p in model.parameters() if p.requires_grad]
        o = job['adamw']
        opt = torch.optim.AdamW(trainable, lr=o['lr'], betas=(o['beta1'], o['beta2']), eps=o['eps'], weight_decay=o['weightDecay'])
        y = torch.tensor([(i * 7) % c['numClasses'] for i in range(batch)])
        model.train()
        losses = []

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())

        t = timed(step, 3, 5, 50, budget)
        ok = all(l == l and abs(l) < 1e30 for l in losses)
        n_trainable = sum(p.numel() for p in trainable)
    else:
        model.eval()
        with torch.inference_mode():
            logits = model(x)
            ok = bool(torch.isfinite(logits).all())
            t = timed(lambda: model(x), 2, 5, 50, budget)
        n_trainable = 0
    return {'kind': 'vit', 'label': job['label'], 'mode': job['mode'], 'batch': batch, 'params': params, 'trainable': n_trainable, 'finite': ok, **t}


if __name__ == '__main__':
    torch.manual_seed(0)
    jobs = json.loads(sys.argv[1])
    results = [run_matmul(j) if j['kind'] == 'matmul' else run_vit(j) for j in jobs]
    print(json.dumps({'python': sys.executable, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))
`;

export type TorchJob =
  | { readonly kind: 'matmul'; readonly shapes: readonly (readonly [m: number, k: number, n: number, linear: boolean])[] }
  | {
    readonly kind: 'vit';
    readonly label: string;
    readonly mode: 'infer' | 'train';
    readonly vit: VitConfig;
    readonly batch: number;
    /** AdaptFormer adapters parallel to every MLP, or none (the backbone). */
    readonly adapter?: { readonly dim: number; readonly dropout: number; readonly scale: number };
    readonly dropPath?: number;
    /** The model sees the central N×N pixels scaled back up (ModelSpec.inputCrop). */
    readonly inputCrop?: number;
    /** Training: every parameter trainable (full fine-tuning) instead of adapters and head. */
    readonly trainAll?: boolean;
    readonly adamw?: AdamWConfig & { readonly lr: number };
    /** Seconds of timed repeats (after the warm-up; at least 5 repeats). */
    readonly budgetS: number;
  };

export interface TorchVitResult {
  readonly kind: 'vit';
  readonly label: string;
  readonly mode: 'infer' | 'train';
  readonly batch: number;
  readonly params: number;
  readonly trainable: number;
  /** Logits (inference) or losses (training) were finite. */
  readonly finite: boolean;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly reps: number;
}

export interface TorchMatmulResult {
  readonly kind: 'matmul';
  /** Median ms per shape, in the job's order. */
  readonly ms: readonly number[];
}

export type TorchResult = TorchMatmulResult | TorchVitResult;

export type TorchPeer =
  | { readonly ok: true; readonly python: string; readonly torch: string; readonly threads: number; readonly label: string; readonly results: readonly TorchResult[] }
  | { readonly ok: false; readonly unavailable: string };

/**
 * The torch job for a model spec of ours: the backbone (PET 'linear', probe) or AdaptFormer
 * (fp32) without merging, with the spec's input crop; inference, or one training step with AdamW (`adamw`) and the spec's
 * dropout and DropPath.
 */
export function torchVitJob(label: string, spec: ModelSpec, mode: 'infer' | 'train', budgetS: number, adamw?: AdamWConfig & { lr: number }): TorchJob {
  const { pet } = spec;
  if (spec.merge) throw new Error('torch peer: it times the backbone and AdaptFormer only, without token merging');
  if (pet.method !== 'linear' && pet.method !== 'full' && !(pet.method === 'adaptformer' && pet.bits === 32 && !pet.bias)) {
    throw new Error(`torch peer: it times the backbone (linear, full) and 32-bit bias-free AdaptFormer only, not ${pet.method}${pet.bits === 1 ? ' 1-bit' : ''}${pet.bias ? ' with biases' : ''}`);
  }
  if (mode === 'train' && !adamw) throw new Error('torch peer: a training job needs the AdamW settings');
  const dropout = mode === 'train' ? spec.training?.dropout ?? 0 : 0;
  return {
    kind: 'vit', label, mode, vit: spec.vit, batch: spec.batch, budgetS,
    ...(spec.inputCrop !== undefined ? { inputCrop: spec.inputCrop } : {}),
    ...(pet.method === 'adaptformer' ? { adapter: { dim: pet.dim, dropout, scale: pet.scale } } : {}),
    ...(mode === 'train' ? { dropPath: spec.training?.dropPath ?? 0, trainAll: pet.method === 'full', adamw } : {}),
  };
}

/** Runs the jobs in one python subprocess (timeout: `timeoutMs`); results in the jobs' order. */
export async function torchPeer(runtime: GpuRuntime, jobs: readonly TorchJob[], timeoutMs = 180_000): Promise<TorchPeer> {
  const r = await runPython<{ python: string; torch: string; threads: number; results: TorchResult[] }>(runtime, 'PyTorch', TORCH_SCRIPT, [JSON.stringify(jobs)], timeoutMs);
  if (!r.ok) return { ok: false, unavailable: r.unavailable };
  const o = r.out;
  return { ok: true, python: o.python, torch: o.torch, threads: o.threads, results: o.results, label: `PyTorch ${o.torch} eager on the CPU, ${o.threads} threads (torch default), ${o.python}` };
}

/** The result of job `i` when torch ran, of the kind expected. */
export function torchResult<K extends TorchResult['kind']>(peer: TorchPeer, i: number, kind: K): Extract<TorchResult, { kind: K }> | undefined {
  if (!peer.ok) return undefined;
  const r = peer.results[i];
  return r?.kind === kind ? (r as Extract<TorchResult, { kind: K }>) : undefined;
}
