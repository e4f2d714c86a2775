#!/usr/bin/env python
"""Throughput of the dSprites renderer (vaelab.data): images/s on the CPU and on CUDA if available.

Two routes are timed:
  * `render`      - arbitrary factor classes, one inside-test per pixel per image (random batches);
  * `render_all`  - the whole 737,280-image grid via one lattice mask per (shape, scale, orientation).
Wall time and process CPU time are both printed: on a shared machine wall time includes waiting.
CPU runs are repeated for each torch thread count in --threads (on a busy 2-core machine 1 thread wins).
Usage: python bench/bench_render.py [--batch 4096] [--reps 3] [--no-all] [--devices cpu,cuda] [--threads 1,2]
"""
import argparse, time
import torch
from vaelab.data import DSprites
from vaelab.train import hardware

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def bench_render(ds, dev, batch, reps):
    "images/s of `render` on random classes (classes drawn on the device, as ImageBatches does)."
    g = torch.Generator(device=dev); g.manual_seed(0)
    idx = lambda: torch.randint(len(ds), (batch,), generator=g, device=dev)
    ds.render(ds._classes_t(idx())); _sync(dev)                      # warm-up
    t, c = time.perf_counter(), time.process_time()
    for _ in range(reps): ds.render(ds._classes_t(idx()))
    _sync(dev)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return reps*batch/wall, wall, cpu

def bench_render_all(ds, dev, threads):
    t, c = time.perf_counter(), time.process_time()
    out = ds.render_all(device=dev, progress=False, threads=threads); _sync(dev)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    assert out.shape == (len(ds), 1, 64, 64)
    return len(ds)/wall, wall, cpu

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=4096); p.add_argument('--reps', type=int, default=3)
    p.add_argument('--no-all', action='store_true', help='skip render_all (needs 3 GB of RAM)')
    p.add_argument('--devices', default='cpu,cuda')
    p.add_argument('--threads', default='1,2', help='CPU thread counts to try')
    a = p.parse_args()
    ds = DSprites()
    print(f"torch {torch.__version__}, CPU: {hardware('cpu')}" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no CUDA"))
    for name in a.devices.split(','):
        if name == 'cuda' and not torch.cuda.is_available(): print('cuda: not available, skipped'); continue
        dev = torch.device(name)
        for th in ([int(t) for t in a.threads.split(',')] if name == 'cpu' else [torch.get_num_threads()]):
            torch.set_num_threads(th); tag = f"{name} {th} thr" if name == 'cpu' else name
            ips, wall, cpu = bench_render(ds, dev, a.batch, a.reps)
            print(f"{tag:9s} render     (batch {a.batch}, x{a.reps}): {ips:10,.0f} images/s  (wall {wall:.2f} s, CPU {cpu:.2f} s)")
            if not a.no_all:
                ips, wall, cpu = bench_render_all(ds, dev, th)
                print(f"{tag:9s} render_all ({len(ds):,} images): {ips:10,.0f} images/s  (wall {wall:.1f} s, CPU {cpu:.1f} s)")
