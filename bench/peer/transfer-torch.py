# The main job's AdaptFormer run re-implemented in PyTorch (CPU), independently of our IR and
# kernels: same backbone file, same 1,000 training and 10,000 test images (written by
# transfer-torch.ts), same recipe. What it is for: telling a recipe limit from a framework bug
# (if both reach the same accuracy, the number is the recipe's), and trying recipes 5-10x faster
# than lavapipe trains.
#
# Model: timm's ViT layout (pre-norm, LayerNorm eps 1e-6, qkv with bias, exact GELU, cls pooling),
# AdaptFormer in the FPET code's form (docs/method.md 1.2: bias-free Dn/U parallel to the MLP,
# reading the attention residual stream, ReLU, dropout on the hidden units, U = 0 at init, scale s,
# not drop-pathed), DropPath linear over depth, the head re-initialised (PyTorch's default Linear
# init). Optimiser: AdamW over names containing "adapter" or starting with "head." (all for
# --method full). LR: linear warm-up from warmup_lr, then timm's cosine f(t) evaluated at fractional
# epochs every step (src/fpet/train/schedule.ts, 'step' mode). Batches: shuffled, last partial batch
# dropped, shifts of up to `augment` pixels per image. Input crop: F.interpolate(align_corners=False).
#
# argv[1]: a JSON file with the options and the data file paths (validation images optional).
# Prints one JSON line.
import json, math, struct, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

o = json.load(open(sys.argv[1]))
torch.set_num_threads(o.get('threads') or torch.get_num_threads())


def tensor_file(path, shape, dtype):
    return torch.frombuffer(bytearray(open(path, 'rb').read()), dtype=dtype).reshape(shape)


def load_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        if v['dtype'] != 'F32':
            raise SystemExit(f'{path}: tensor {k} is {v["dtype"]}, expected F32')
        s, e = v['data_offsets']
        out[k] = torch.frombuffer(bytearray(raw[8 + n + s:8 + n + e]), dtype=torch.float32).reshape(v['shape'])
    return out


vit = o['vit']
D, depth, heads, P, S = vit['dim'], vit['depth'], vit['heads'], vit['patchSize'], vit['imageSize']
classes = o['classes']
X = tensor_file(o['trainImages'], (-1, vit['inChannels'], S, S), torch.float32)
Y = tensor_file(o['trainLabels'], (-1,), torch.int32).long()
Xt = tensor_file(o['testImages'], (-1, vit['inChannels'], S, S), torch.float32)
Yt = tensor_file(o['testLabels'], (-1,), torch.int32).long()
Xv = tensor_file(o['valImages'], (-1, vit['inChannels'], S, S), torch.float32) if o.get('valImages') else None
Yv = tensor_file(o['valLabels'], (-1,), torch.int32).long() if o.get('valImages') else None
crop = o.get('inputCrop')
if crop and crop < S:
    off = (S - crop) // 2
    X, Xt = [F.interpolate(t[:, :, off:off + crop, off:off + crop], size=(S, S), mode='bilinear', align_corners=False) for t in (X, Xt)]
    if Xv is not None:
        Xv = F.interpolate(Xv[:, :, off:off + crop, off:off + crop], size=(S, S), mode='bilinear', align_corners=False)
W = load_safetensors(o['backbone'])


def drop_path(x, rate, training):
    if not training or rate == 0:
        return x
    keep = (torch.rand(x.shape[0], 1, 1) >= rate).float() / (1 - rate)
    return x * keep


class Adapter(nn.Module):
    def __init__(self, d, r):
        super().__init__()
        self.down = nn.Linear(d, r, bias=False)
        self.up = nn.Linear(r, d, bias=False)
        nn.init.zeros_(self.up.weight)
        self.drop = nn.Dropout(o['dropout'])

    def forward(self, x):
        return self.up(self.drop(F.relu(self.down(x))))


class Block(nn.Module):
    def __init__(self, i):
        super().__init__()
        H = round(D * vit['mlpRatio'])
        self.norm1, self.norm2 = nn.LayerNorm(D, eps=1e-6), nn.LayerNorm(D, eps=1e-6)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, H), nn.Linear(H, D)
        self.rate = o['dropPath'] * i / (depth - 1) if depth > 1 else o['dropPath']
        self.adapter = Adapter(D, o['adapterDim']) if o['method'] == 'adaptformer' else None

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(B, N, C)
        y = x + drop_path(self.proj(a), self.rate, self.training)
        out = y + drop_path(self.fc2(F.gelu(self.fc1(self.norm2(y)))), self.rate, self.training)
        if self.adapter is not None:
            out = out + o['adapterScale'] * self.adapter(y)
        return out


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        n = (S // P) ** 2 + 1
        self.patch = nn.Conv2d(vit['inChannels'], D, P, P)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, n, D))
        self.blocks = nn.ModuleList([Block(i) for i in range(depth)])
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


def build(seed):
    torch.manual_seed(seed)
    m = ViT()
    with torch.no_grad():
        m.patch.weight.copy_(W['patch_embed.proj.weight'])
        m.patch.bias.copy_(W['patch_embed.proj.bias'])
        m.cls_token.copy_(W['cls_token'])
        m.pos_embed.copy_(W['pos_embed'])
        m.norm.weight.copy_(W['norm.weight'])
        m.norm.bias.copy_(W['norm.bias'])
        for i, b in enumerate(m.blocks):
            for mod, name in [('norm1', 'norm1'), ('qkv', 'attn.qkv'), ('proj', 'attn.proj'), ('norm2', 'norm2'), ('fc1', 'mlp.fc1'), ('fc2', 'mlp.fc2')]:
                getattr(b, mod).weight.copy_(W[f'blocks.{i}.{name}.weight'])
                getattr(b, mod).bias.copy_(W[f'blocks.{i}.{name}.bias'])
    return m


def shift(x, s):
    if s == 0:
        return x
    out = torch.zeros_like(x)
    for k in range(x.shape[0]):
        dx, dy = torch.randint(-s, s + 1, (2,)).tolist()
        ys, yd = (slice(0, S - dy), slice(dy, S)) if dy >= 0 else (slice(-dy, S), slice(0, S + dy))
        xs, xd = (slice(0, S - dx), slice(dx, S)) if dx >= 0 else (slice(-dx, S), slice(0, S + dx))
        out[k, :, yd, xd] = x[k, :, ys, xs]
    return out


def lr_at(t):  # t in fractional epochs
    if t < o['warmupEpochs']:
        return o['warmupLr'] + t * (o['lr'] - o['warmupLr']) / o['warmupEpochs']
    return o['minLr'] + 0.5 * (o['lr'] - o['minLr']) * (1 + math.cos(math.pi * t / o['epochs']))


def accuracy(m, Xa, Ya):
    m.eval()
    with torch.no_grad():
        right = sum((m(Xa[i:i + 500]).argmax(1) == Ya[i:i + 500]).sum().item() for i in range(0, len(Xa), 500))
    return right / len(Xa)


runs = []
for seed in o['seeds']:
    t0 = time.perf_counter()
    m = build(seed)
    params = [p for n, p in m.named_parameters() if o['method'] == 'full' or 'adapter' in n or n.startswith('head.')]
    for p in m.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=o['lr'], betas=(0.9, 0.999), eps=1e-8, weight_decay=o['weightDecay'])
    B = o['batch']
    steps = len(X) // B
    losses = []
    for epoch in range(o['epochs']):
        m.train()
        order = torch.randperm(len(X))
        total = 0.0
        for i in range(steps):
            idx = order[i * B:(i + 1) * B]
            for g in opt.param_groups:
                g['lr'] = lr_at(epoch + i / steps)
            loss = F.cross_entropy(m(shift(X[idx], o['augment'])), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total / steps)
        print(f'progress: seed {seed} epoch {epoch + 1}/{o["epochs"]}: loss {losses[-1]:.4f}', file=sys.stderr, flush=True)
    runs.append({'seed': seed, 'accuracy': accuracy(m, Xt, Yt), 'valAccuracy': accuracy(m, Xv, Yv) if Xv is not None else None, 'epochLoss': losses, 'seconds': time.perf_counter() - t0})
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'runs': runs}))
