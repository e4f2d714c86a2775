#!/usr/bin/env python
"""Training throughput of the course's main model: a Burgess VAE on procedural dSprites, through vaelab's Trainer.

Prints images/second after a warm-up, for the device asked for (default: CUDA if present, else CPU), with the data
either pre-rendered on the device or rendered on the fly by the procedural renderer.

    python bench/bench_train.py                      # auto device, batch 64
    python bench/bench_train.py --device cpu --steps 100
    python bench/bench_train.py --device cuda --batch-size 256 --compile
"""
import argparse, tempfile, time
import torch
from vaelab.data import DSprites, ImageBatches
from vaelab.elbo import VAE, VAEConfig
from vaelab.train import TrainConfig, Trainer, hardware, pick_device


def bench(device, steps, batch_size, source, compile_=False, warmup=10):
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        cfg = TrainConfig(steps=warmup + steps, batch_size=batch_size, device=str(device), compile=compile_,
                          run_dir=d, progress=False, ckpt_every=10**9, log_every=warmup + steps)
        data = ImageBatches(source, batch_size, device, seed=0)
        t = Trainer(VAE(VAEConfig(latent_dim=10)), data, cfg)
        t.model.train()
        for s in range(1, warmup + 1): t.train_step(s)
        if device.type == 'cuda': torch.cuda.synchronize()
        t0 = time.perf_counter()
        for s in range(warmup + 1, warmup + steps + 1): t.train_step(s)
        if device.type == 'cuda': torch.cuda.synchronize()
        return steps * batch_size / (time.perf_counter() - t0)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='auto'); ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--batch-size', type=int, default=64); ap.add_argument('--compile', action='store_true')
    a = ap.parse_args()
    dev = pick_device(a.device)
    name = hardware(dev) + ('' if dev.type == 'cuda' else f', {torch.get_num_threads()} threads')
    print(f"device: {name}; Burgess VAE, batch {a.batch_size}, {a.steps} timed steps")
    ds = DSprites()
    pre = ds.images(torch.randint(0, len(ds), (8192,)).numpy(), device=dev)   # pre-rendered, on the device
    for label, src in (('pre-rendered on device', pre), ('rendered on the fly', ds)):
        ips = bench(dev, a.steps, a.batch_size, src, a.compile)
        print(f"  {label:24s} {ips:10.0f} images/s   ({a.batch_size / ips * 1e3:.1f} ms/step)")
