#!/usr/bin/env python
"""Wall time of a disentanglement_lib-scale beta-VAE run: 300,000 steps x batch 64 on dSprites, Burgess nets.

The images are rendered on the training device by vaelab's procedural dSprites renderer (`ImageBatches` over a
`DSprites` source), so nothing crosses the PCIe bus per step. The run goes through `Trainer.fit` exactly as a course
run does (logging, checkpoints, figures), with disentanglement_lib's optimiser settings (Adam, lr 1e-4).

On CUDA it trains the full budget and prints the measured time. On a CPU a full run would take days, so it runs
`--cpu-steps` steps after a warm-up, prints their time and an EXTRAPOLATION to 300,000 steps (labelled as such).

    python bench/bench_dsprites_300k.py                                  # GPU: the real 300k run
    python bench/bench_dsprites_300k.py --compile --channels-last        # + torch.compile, NHWC
    python bench/bench_dsprites_300k.py --device cpu --cpu-steps 20      # CPU: a few steps + extrapolation
"""
import argparse, json, tempfile, time
import torch
from vaelab.beta import BetaVAE, BetaVAEConfig
from vaelab.data import DSprites, ImageBatches
from vaelab.train import TrainConfig, Trainer, hardware, pick_device


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='auto'); ap.add_argument('--steps', type=int, default=300_000)
    ap.add_argument('--batch-size', type=int, default=64); ap.add_argument('--beta', type=float, default=4.0)
    ap.add_argument('--cpu-steps', type=int, default=20, help='CPU: steps actually timed before extrapolating')
    ap.add_argument('--warmup', type=int, default=5, help='CPU: untimed warm-up steps')
    ap.add_argument('--compile', action='store_true'); ap.add_argument('--channels-last', action='store_true')
    ap.add_argument('--out', default='', help='run folder (default: a temporary folder, deleted at the end)')
    a = ap.parse_args()
    dev = pick_device(a.device)
    name = hardware(dev)
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    full = dev.type == 'cuda'
    steps = a.steps if full else a.warmup + a.cpu_steps
    model = BetaVAE(BetaVAEConfig(arch='burgess', img_channels=1, latent_dim=10, beta=a.beta))
    data = ImageBatches(DSprites(), a.batch_size, dev, seed=0)          # rendered on `dev` batch by batch
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(steps=steps, batch_size=a.batch_size, lr=1e-4, device=str(dev), compile=a.compile,
                          channels_last=a.channels_last, run_dir=a.out or tmp, progress=full,
                          log_every=1000 if full else 0, ckpt_every=50_000 if full else 10**9)
        t = Trainer(model, data, cfg)
        marks = {}
        def mark(tr):
            if tr.step == a.warmup:
                if dev.type == 'cuda': torch.cuda.synchronize(dev)
                marks['t_warm'] = time.perf_counter()
        t.callbacks.append(mark)
        t0 = time.perf_counter(); t.fit()
        if dev.type == 'cuda': torch.cuda.synchronize(dev)
        t1 = time.perf_counter()
        last = {k: round(v[-1], 3) for k, v in t.history.items() if k != 'step'}
    timed = steps - a.warmup
    per_step = (t1 - marks['t_warm']) / timed
    print(f"device: {name}; beta-VAE (Burgess nets, beta={a.beta}), batch {a.batch_size}, dSprites rendered on the device;"
          f" compile={a.compile} channels_last={a.channels_last}")
    if full:
        print(f"MEASURED: {steps:,d} steps in {t1 - t0:.1f} s wall ({(t1 - t0) / 60:.1f} min, including warm-up, logging,"
              f" checkpoints and figures); steady state {1e3 * per_step:.2f} ms/step = {a.batch_size / per_step:,.0f} images/s")
    else:
        print(f"measured {timed} steps after {a.warmup} warm-up: {1e3 * per_step:.1f} ms/step = {a.batch_size / per_step:,.0f} images/s")
        print(f"EXTRAPOLATION (not measured): {a.steps:,d} steps would take about {a.steps * per_step / 3600:.1f} h on this CPU")
    print('final terms:', json.dumps(last))


if __name__ == '__main__':
    main()
