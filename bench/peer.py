#!/usr/bin/env python3
"""The PyTorch peer of Ravine's benchmark (bench/run.ts --peer).

Re-implements the built-in MNIST CNN and MLP from the tfjs model description that
bench/run.ts dumps (layers, Keras-layout weights as .npy), and runs the same jobs on the same
inputs, directions and PGD random starts:

  surface  the 101 x 101 grid S(a, b) = CE / margin of clip(x + a d1 + b d2), batched and
           one point at a time;
  metric   psi(x) = max KL(p(x) || p(x + delta)) by PGD-20 on 100 samples, p = softmax(z / std z);
  fgsm/pgd accuracy under FGSM and PGD-20 at eps on 1,000 samples.

Layout notes (Keras vs PyTorch): conv kernels are HWIO in tfjs and OIHW in torch; data is
NHWC in tfjs and NCHW here, so activations are permuted back to NHWC before Flatten (Keras
flattens in (h, w, c) order); tfjs 'same' padding puts the odd pixel after (bottom/right),
which torch's symmetric `padding=` cannot express, so convolutions pad explicitly.

Usage: python3 bench/peer.py <dir> <runs> <threads> [batched [<name>.json]]   (writes <dir>/peer.json
and .npy results; with `batched`, only the batched jobs, into <dir>/peer-1thread.json or <name>.json). With
RAVINE_PEER_DEVICE=cuda the jobs run on the GPU (bench/gpu/run.sh, on a lent GPU machine); every
timed job ends with its results copied back to the CPU, so the times include the GPU's work.
"""
import ctypes
import json
import os
import platform
import sys
import time


def keep_freed_memory():
    """Stops glibc's malloc from handing freed memory back to the kernel (M_TRIM_THRESHOLD) and
    from serving large blocks by mmap (M_MMAP_THRESHOLD, at its 32 MiB maximum). Without this,
    every batch's activations come back as fresh pages: measured on this 2-core machine, a
    101 x 101 CNN surface at batch 256 took 92,000 page faults and 0.3-0.5 s of system time per
    run, 0.29-0.76 s in all, against 0 faults and 0.15-0.17 s with it; how many faults a run
    took depended on what the process had allocated before, which made the peer's times swing
    from run to run. Returns whether both settings took (False off glibc)."""
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and bool(libc.mallopt(m_trim_threshold, 2**31 - 1))


MALLOC_TUNED = keep_freed_memory()  # before torch allocates anything

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEV = torch.device(os.environ.get('RAVINE_PEER_DEVICE', 'cpu'))


def load(path):
    return np.load(path)


def blas_library():
    """Which BLAS torch's process mapped (the Linear layers' speed depends on it)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line.lower() or 'mkl' in line.lower()}
        return sorted(l for l in libs if l.startswith('/'))
    except OSError:
        return []


class Net(torch.nn.Module):
    """The tfjs Sequential model, layer by layer, returning logits (no final softmax)."""

    def __init__(self, layers, folder):
        super().__init__()
        self.spec = []
        self.params = torch.nn.ParameterList()
        for layer in layers:
            kind = layer['type']
            entry = {'type': kind, 'activation': layer.get('activation', 'linear')}
            if kind == 'conv2d':
                w = torch.from_numpy(load(os.path.join(folder, layer['kernel'])))  # HWIO
                entry['weight'] = len(self.params)
                self.params.append(torch.nn.Parameter(w.permute(3, 2, 0, 1).contiguous(), requires_grad=False))  # OIHW
                entry['bias'] = len(self.params)
                self.params.append(torch.nn.Parameter(torch.from_numpy(load(os.path.join(folder, layer['bias']))), requires_grad=False))
                entry['strides'] = layer['strides']
                entry['pads'] = layer['pads']  # [top, bottom, left, right], tfjs's own split
            elif kind == 'dense':
                w = torch.from_numpy(load(os.path.join(folder, layer['kernel'])))  # [in, out]
                entry['weight'] = len(self.params)
                self.params.append(torch.nn.Parameter(w.t().contiguous(), requires_grad=False))  # [out, in]
                entry['bias'] = len(self.params)
                self.params.append(torch.nn.Parameter(torch.from_numpy(load(os.path.join(folder, layer['bias']))), requires_grad=False))
            elif kind != 'flatten':
                raise ValueError(f'unsupported layer {kind}')
            self.spec.append(entry)

    def forward(self, x_nhwc):
        h = x_nhwc.permute(0, 3, 1, 2)  # NCHW
        nchw = True
        for e in self.spec:
            if e['type'] == 'conv2d':
                t, b, l, r = e['pads']
                if t or b or l or r:
                    h = F.pad(h, (l, r, t, b))
                h = F.conv2d(h, self.params[e['weight']], self.params[e['bias']], stride=tuple(e['strides']))
            elif e['type'] == 'flatten':
                if nchw and h.dim() == 4:
                    h = h.permute(0, 2, 3, 1)  # back to NHWC: Keras flattens (h, w, c)
                nchw = False
                h = h.reshape(h.shape[0], -1)
            else:
                if h.dim() > 2:
                    h = (h.permute(0, 2, 3, 1) if nchw else h).reshape(h.shape[0], -1)
                    nchw = False
                h = F.linear(h, self.params[e['weight']], self.params[e['bias']])
            if e['activation'] == 'relu':
                h = torch.relu(h)
            elif e['activation'] not in ('linear', 'softmax'):  # softmax: we want the logits
                raise ValueError(f"unsupported activation {e['activation']}")
        return h


def cross_entropy(z, y):
    return torch.logsumexp(z, 1) - z.gather(1, y[:, None])[:, 0]


def margin(z, y):
    zy = z.gather(1, y[:, None])[:, 0]
    others = z.clone()
    others.scatter_(1, y[:, None], float('-inf'))
    return zy - others.max(1).values


def grid_axis(r, n):
    """bench/jobs.ts gridAxis: evenly spaced in float64, stored as float32, exact 0 mid-grid."""
    a = np.array([-r + (2 * r * i) / (n - 1) for i in range(n)], dtype=np.float64).astype(np.float32)
    if n % 2 == 1:
        a[(n - 1) // 2] = 0
    return a


def surface(net, x0, y0, d1, d2, n, batch):
    """CE and margin on the n x n grid, rows b[j], columns a[i] (row-major), in chunks."""
    axis = torch.from_numpy(grid_axis(0.3, n)).to(DEV)
    total = n * n
    ca = axis.repeat(n)  # a[p % n]
    cb = axis.repeat_interleave(n)  # b[p // n]
    loss = torch.empty(total)
    marg = torch.empty(total)
    with torch.no_grad():
        for s in range(0, total, batch):
            e = min(total, s + batch)
            k = e - s
            xb = torch.clamp(x0 + (ca[s:e, None, None, None] * d1 + cb[s:e, None, None, None] * d2), 0, 1)
            z = net(xb)
            y = torch.full((k,), y0, dtype=torch.long, device=DEV)
            loss[s:e] = cross_entropy(z, y).cpu()
            marg[s:e] = margin(z, y).cpu()
    return loss.numpy(), marg.numpy()


def project(x, xa, eps):
    return torch.clamp(x + torch.clamp(xa - x, -eps, eps), 0, 1)


def metric(net, xs, starts, eps, steps, alpha, batch):
    """psi per sample: PGD ascent on KL(p(x) || p(x+delta)), best value over iterates."""
    n = xs.shape[0]
    psi = torch.empty(n)
    start_kl = torch.empty(n)
    for s in range(0, n, batch):
        e = min(n, s + batch)
        x = xs[s:e]
        with torch.no_grad():
            z0 = net(x)
            scale = torch.clamp(z0.std(1, unbiased=False, keepdim=True), min=1e-6)
            logp = torch.log_softmax(z0 / scale, 1)
            p = logp.exp()
        xa = project(x, x + starts[s:e], eps)
        best = torch.full((e - s,), float('-inf'), device=DEV)
        for step in range(steps + 1):
            xa = xa.detach().requires_grad_(step < steps)
            with torch.set_grad_enabled(step < steps):
                kl = (p * (logp - torch.log_softmax(net(xa) / scale, 1))).sum(1)
            if step == 0:
                start_kl[s:e] = kl.detach().cpu()
            best = torch.maximum(best, kl.detach())
            if step < steps:
                (g,) = torch.autograd.grad(kl.sum(), xa)
                with torch.no_grad():
                    xa = project(x, xa + alpha * torch.sign(g), eps)
        psi[s:e] = torch.clamp(best, min=0).cpu()
    return psi.numpy(), start_kl.numpy()


def attack(net, xs, ys, starts, method, eps, steps, alpha, batch):
    """Samples classified correctly when clean and at every point the attack visits."""
    n = xs.shape[0]
    correct = 0
    clean_correct = 0
    for s in range(0, n, batch):
        e = min(n, s + batch)
        x, y = xs[s:e], ys[s:e]
        with torch.no_grad():
            robust = net(x).argmax(1) == y
        clean_correct += int(robust.sum())
        if method == 'fgsm':
            xg = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(cross_entropy(net(xg), y).sum(), xg)
            with torch.no_grad():
                robust &= net(torch.clamp(x + eps * torch.sign(g), 0, 1)).argmax(1) == y
        else:
            xa = project(x, x + starts[s:e], eps)
            for step in range(steps + 1):
                xa = xa.detach().requires_grad_(step < steps)
                with torch.set_grad_enabled(step < steps):
                    z = net(xa)
                robust &= z.detach().argmax(1) == y
                if step < steps:
                    (g,) = torch.autograd.grad(cross_entropy(z, y).sum(), xa)
                    with torch.no_grad():
                        xa = project(x, xa + alpha * torch.sign(g), eps)
        correct += int(robust.sum())
    return correct, clean_correct / n


def best_batch(make, ravine_chunk, units):
    """PyTorch at its best: the best of two timed passes per candidate batch size (after a
    warm-up of each), in two rounds; the fastest candidate wins. Candidates: powers of two from 64 to 4096 below the job's size,
    the job's whole size, and Ravine's own chunk."""
    cands = sorted({c for c in [64, 128, 256, 512, 1024, 2048, 4096, ravine_chunk, units] if c <= units})
    swept = {c: float('inf') for c in cands}
    fns = {c: make(c) for c in cands}
    for c in cands:
        fns[c]()  # warm-up
    # Two rounds over all candidates, a candidate judged by its best pass in either: before
    # keep_freed_memory, a 101^2 CNN surface at batch 64 took 1.0 s at first and 0.17 s after a
    # few passes at batch 1024 had run (page faults, which depended on what the process had
    # allocated before); the second round still guards against a pass slowed by other work.
    for _ in range(2):
        for c in cands:
            t0 = time.perf_counter()
            fns[c]()
            swept[c] = min(swept[c], time.perf_counter() - t0)
    return min(swept, key=swept.get), swept


def timed(fn, runs):
    fn()  # warm-up (oneDNN builds its primitives on the first call)
    times = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], times, out


def main():
    folder, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    batched_only = len(sys.argv) > 4 and sys.argv[4] == 'batched'
    torch.set_num_threads(threads)
    meta = json.load(open(os.path.join(folder, 'bench.json')))
    out = {
        'torch': torch.__version__,
        'numpy': np.__version__,
        'python': platform.python_version(),
        'threads': torch.get_num_threads(),
        'mkldnn': bool(torch.backends.mkldnn.is_available()),
        'mallocTuned': MALLOC_TUNED,
        'device': torch.cuda.get_device_name(DEV) if DEV.type == 'cuda' else 'cpu',
        'runs': runs,
        'models': {},
    }
    eps, steps = meta['eps'], meta['steps']
    alpha = 2.5 * eps / steps
    for mid, m in meta['models'].items():
        net = Net(m['layers'], folder).eval().to(DEV)
        shape = m['inputShape']
        x0 = torch.from_numpy(load(os.path.join(folder, meta['x0']))).reshape(1, *shape).to(DEV)
        d1 = torch.from_numpy(load(os.path.join(folder, m['d1']))).reshape(1, *shape).to(DEV)
        d2 = torch.from_numpy(load(os.path.join(folder, m['d2']))).reshape(1, *shape).to(DEV)
        xs_all = torch.from_numpy(load(os.path.join(folder, meta['xs']))).reshape(-1, *shape).to(DEV)
        ys_all = torch.from_numpy(load(os.path.join(folder, meta['labels'])).astype(np.int64)).to(DEV)
        metric_starts = torch.from_numpy(load(os.path.join(folder, meta['metricStarts']))).reshape(-1, *shape).to(DEV)
        attack_starts = torch.from_numpy(load(os.path.join(folder, meta['attackStarts']))).reshape(-1, *shape).to(DEV)
        res = {}
        for job in meta['jobs']:
            kind, mode, size = job['kind'], job['mode'], job['size']
            if batched_only and mode != 'batched':
                continue
            key = f'{kind}/{mode}/{size}'

            def make(batch):
                if kind == 'surface':
                    return lambda: surface(net, x0, int(meta['label0']), d1, d2, size, batch)
                if kind == 'metric':
                    return lambda: metric(net, xs_all[:size], metric_starts[:size], eps, steps, alpha, batch)
                return lambda: attack(net, xs_all[:size], ys_all[:size], attack_starts[:size], kind, eps, steps, alpha, batch)

            ravine_chunk = m['chunkForward'] if kind == 'surface' else m['chunkGradient']
            if mode == 'naive':
                batch, swept = 1, {}
            else:
                batch, swept = best_batch(make, ravine_chunk, size * size if kind == 'surface' else size)
            job_runs = runs if job.get('runs') is None else job['runs']
            med, times, value = timed(make(batch), job_runs)
            entry = {'seconds': med, 'times': times, 'batch': batch, 'ravineChunk': ravine_chunk, 'swept': swept}
            if batched_only:
                pass
            elif kind == 'surface':
                np.save(os.path.join(folder, f'peer-{mid}-surface-{mode}-loss.npy'), value[0])
                np.save(os.path.join(folder, f'peer-{mid}-surface-{mode}-margin.npy'), value[1])
            elif kind == 'metric':
                entry['R'] = float(np.mean(value[0]))
                np.save(os.path.join(folder, f'peer-{mid}-metric-{mode}-psi.npy'), value[0])
                np.save(os.path.join(folder, f'peer-{mid}-metric-{mode}-startkl.npy'), value[1])
            else:
                entry['correct'] = value[0]
                entry['cleanAccuracy'] = value[1]
            res[key] = entry
            print(f'peer {mid:18s} {key:24s} {med:8.3f} s (batch {batch})', flush=True)
        out['models'][mid] = res
    out['blas'] = blas_library()
    name = sys.argv[5] if len(sys.argv) > 5 else 'peer-1thread.json' if batched_only else 'peer.json'
    json.dump(out, open(os.path.join(folder, name), 'w'), indent=1)


if __name__ == '__main__':
    main()
