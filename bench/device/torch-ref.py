# CUDA reference on the same GPU: torch fp32 matmul (TF32 off) and ViT-Ti/16 b1 forward (timm), median ms.
import json, time, torch
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = 'cuda'
def bench(f, n=50):
    for _ in range(5): f()
    torch.cuda.synchronize()
    ts = []
    for _ in range(n):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); f(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); return ts[len(ts) // 2]
out = {'torch': torch.__version__, 'gpu': torch.cuda.get_device_name(0)}
for n in (1024, 4096):
    a = torch.rand(n, n, device=dev); b = torch.rand(n, n, device=dev)
    ms = bench(lambda: a @ b)
    out[f'matmul{n}_fp32_ms'] = ms; out[f'matmul{n}_fp32_gflops'] = 2 * n**3 / (ms * 1e6)
try:
    import timm
    m = timm.create_model('vit_tiny_patch16_224', pretrained=False).to(dev).eval()
    x = torch.rand(1, 3, 224, 224, device=dev)
    with torch.inference_mode():
        out['vit_ti_b1_ms'] = bench(lambda: m(x))
        x100 = torch.rand(100, 3, 224, 224, device=dev)
        out['vit_ti_b100_ms'] = bench(lambda: m(x100), 20)
except Exception as e:
    out['vit_error'] = repr(e)
print('TORCHREF', json.dumps(out))
