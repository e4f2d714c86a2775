#!/usr/bin/env python
"""Training speed of vaelab next to Pythae, model by model, on the same 64x64x3 networks (Larsen et al. 2016).

For each of VAE, beta-VAE, VQ-VAE and VAEGAN this trains for a fixed number of steps at one batch size, in vaelab
and in Pythae (clementchadebec/benchmark_VAE), and prints images/second, the ratio vaelab/Pythae and the device.

* Identical networks: the Pythae models are given vaelab's own encoder/decoder/discriminator modules wrapped as
  Pythae `BaseEncoder`/`BaseDecoder`/`BaseDiscriminator` subclasses, initialised from the same seed; the table
  prints both trainable-parameter counts.
* vaelab is measured through `vaelab.train.Trainer.train_step` (what `fit` runs each step) on `ImageBatches`
  resident on the device, with the trainer's defaults (bf16 autocast + fused Adam on CUDA; `--amp off` for fp32).
* Pythae is measured with its models' `forward` and its trainers' own optimiser code
  (`BaseTrainer._optimizers_step`, `CoupledOptimizerAdversarialTrainer._optimizers_step` for VAEGAN) called on
  batches already on the device, plus the `loss.item()` its training loop does every step. Its DataLoader is left
  out (that favours Pythae). Pythae runs in fp32, its default (its amp is fp16 and is switched off for BCE losses).
* The algorithms follow each library (e.g. Pythae's VAEGAN runs the discriminator four times per step, vaelab's
  once on a concatenated batch), so the ratio measures "the same model family on the same nets, as each library
  trains it".

Pythae is never a vaelab dependency: `bash bench/setup_pythae_venv.sh` makes bench/.venv (reusing the installed
torch); this script runs its Pythae half in that venv through a subprocess.

    python bench/bench_speed.py --device cpu --steps 20 --batch-size 16     # CPU, small
    python bench/bench_speed.py --device cuda --steps 200 --batch-size 64   # GPU
    python bench/bench_speed.py --device cuda --compile --channels-last      # + torch.compile, NHWC
"""
import argparse, json, os, subprocess, tempfile, time
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent
MODELS = ('vae', 'beta_vae', 'vqvae', 'vaegan')
N_IMAGES = 1024                      # random images kept on the device; batches are drawn from them


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def device_name(dev):
    return torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def images(dev, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(N_IMAGES, 3, 64, 64, generator=g).to(dev)


# ---------------------------------------------------------------- vaelab models (also the nets Pythae gets)
def vaelab_model(name, latent_dim):
    "The vaelab model `name` on the Larsen 64x64x3 nets."
    torch.manual_seed(0)
    if name == 'vae':
        from vaelab.elbo import VAE, VAEConfig
        return VAE(VAEConfig(arch='larsen', img_channels=3, latent_dim=latent_dim))
    if name == 'beta_vae':
        from vaelab.beta import BetaVAE, BetaVAEConfig
        return BetaVAE(BetaVAEConfig(arch='larsen', img_channels=3, latent_dim=latent_dim, beta=4.0))
    if name == 'vqvae':
        from vaelab.vq import VQVAE, VQVAEConfig
        return VQVAE(VQVAEConfig(arch='larsen', img_channels=3, grid_size=8, num_codes=512, embedding_dim=64,
                                 codebook_update='ema', recon='mse'))
    if name == 'vaegan':
        from vaelab.vaegan import VAEGAN, VAEGANConfig
        return VAEGAN(VAEGANConfig(arch='larsen', img_channels=3, latent_dim=latent_dim))
    raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")


def n_params(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def time_vaelab(name, dev, a):
    "images/s of vaelab's Trainer.train_step on device-resident ImageBatches (+ the log buffering fit does)."
    from vaelab.data import ImageBatches
    from vaelab.train import TrainConfig, Trainer
    model = vaelab_model(name, a.latent_dim)
    with tempfile.TemporaryDirectory() as d:
        cfg = TrainConfig(steps=a.warmup + a.steps, batch_size=a.batch_size, device=str(dev), amp=a.amp,
                          compile=a.compile, channels_last=a.channels_last, run_dir=d, progress=False,
                          ckpt_every=10**9, log_every=10**9)
        t = Trainer(model, ImageBatches(images(dev), a.batch_size, dev, seed=0), cfg)
        t.model.train()
        buf = []
        for s in range(1, a.warmup + 1): t.train_step(s)
        sync(dev); t0 = time.perf_counter()
        for s in range(a.warmup + 1, a.warmup + a.steps + 1):
            logs = t.train_step(s); buf.append(torch.stack(list(logs.values())))
        torch.stack(buf).cpu()           # the one host sync fit would do at its next log step
        sync(dev)
        return a.steps * a.batch_size / (time.perf_counter() - t0), n_params(model)


# ---------------------------------------------------------------- Pythae half (runs inside bench/.venv)
def pythae_model(name, latent_dim):
    "The Pythae model `name` on vaelab's networks (same modules, same seed, hence the same initial weights)."
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseEncoder, BaseDecoder, BaseDiscriminator
    ref = vaelab_model(name, latent_dim)          # built from seed 0, exactly as time_vaelab builds it

    class Enc(BaseEncoder):                        # Gaussian encoder: vaelab's net outputs (mu, logvar) stacked
        def __init__(self, net): BaseEncoder.__init__(self); self.net = net
        def forward(self, x):
            mu, logvar = self.net(x).chunk(2, dim=1)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class GridEnc(BaseEncoder):                    # VQ encoder: (B, D, g, g) grid
        def __init__(self, net): BaseEncoder.__init__(self); self.net = net
        def forward(self, x): return ModelOutput(embedding=self.net(x))

    class Dec(BaseDecoder):                        # Pythae wants probabilities (BCE) or means (MSE): sigmoid of logits
        def __init__(self, net): BaseDecoder.__init__(self); self.net = net
        def forward(self, z): return ModelOutput(reconstruction=torch.sigmoid(self.net(z)))

    class Dis(BaseDiscriminator):                  # level 1: conv features, level 2: Dis_l (fc) features
        def __init__(self, net): BaseDiscriminator.__init__(self); self.net = net; self.depth = 2
        def forward(self, x, output_layer_levels=None):
            h = self.net.convs(x); f = self.net.features(h)
            out = ModelOutput(embedding=torch.sigmoid(self.net.head(f)))
            for lvl in output_layer_levels or []:
                out[f"embedding_layer_{2 if lvl == -1 else lvl}"] = h if lvl == 1 else f
            return out

    if name in ('vae', 'beta_vae'):
        from pythae.models import VAE, VAEConfig, BetaVAE, BetaVAEConfig
        if name == 'vae': cfg, cls = VAEConfig(input_dim=(3, 64, 64), latent_dim=latent_dim, reconstruction_loss='bce'), VAE
        else: cfg, cls = BetaVAEConfig(input_dim=(3, 64, 64), latent_dim=latent_dim, reconstruction_loss='bce', beta=4.0), BetaVAE
        return cls(cfg, encoder=Enc(ref.encoder), decoder=Dec(ref.decoder)), ref
    if name == 'vqvae':
        from pythae.models import VQVAE, VQVAEConfig
        c = ref.config
        cfg = VQVAEConfig(input_dim=(3, 64, 64), latent_dim=c.embedding_dim, num_embeddings=c.num_codes,
                          commitment_loss_factor=c.beta, use_ema=True, decay=c.decay)
        return VQVAE(cfg, encoder=GridEnc(ref.encoder), decoder=Dec(ref.decoder)), ref
    if name == 'vaegan':
        from pythae.models import VAEGAN, VAEGANConfig
        cfg = VAEGANConfig(input_dim=(3, 64, 64), latent_dim=latent_dim, reconstruction_layer=2)
        return VAEGAN(cfg, encoder=Enc(ref.encoder), decoder=Dec(ref.decoder), discriminator=Dis(ref.discriminator)), ref


def time_pythae(name, dev, a):
    "images/s of a Pythae model's forward + its trainer's optimiser step (+ the per-step loss.item() of its loop)."
    from types import SimpleNamespace
    from pythae.trainers import BaseTrainer, CoupledOptimizerAdversarialTrainer
    model, ref = pythae_model(name, a.latent_dim)
    model = model.to(dev).train()
    if name == 'vaegan':
        ns = SimpleNamespace(**{f"{k}_optimizer": torch.optim.Adam(getattr(model, k).parameters(), lr=a.lr)
                                for k in ('encoder', 'decoder', 'discriminator')})
        step_fn = CoupledOptimizerAdversarialTrainer._optimizers_step
    else:
        ns, step_fn = SimpleNamespace(optimizer=torch.optim.Adam(model.parameters(), lr=a.lr)), BaseTrainer._optimizers_step
    data, g = images(dev), torch.Generator(dev).manual_seed(0)
    def one():
        x = data[torch.randint(len(data), (a.batch_size,), generator=g, device=dev)]
        out = model({'data': x}, epoch=1, dataset_size=len(data), uses_ddp=False)
        step_fn(ns, out)
        return out.loss.item()
    for _ in range(a.warmup): one()
    sync(dev); t0 = time.perf_counter()
    for _ in range(a.steps): one()
    sync(dev)
    return a.steps * a.batch_size / (time.perf_counter() - t0), n_params(model)


def pythae_worker(a):
    dev = torch.device(a.device)
    res = {}
    for name in a.models.split(','):
        try: ips, n = time_pythae(name, dev, a); res[name] = {'ips': ips, 'params': n}
        except Exception as e: res[name] = {'error': f"{type(e).__name__}: {e}"}
    print('PYTHAE_JSON ' + json.dumps(res))


def run_pythae(a, dev):
    py = Path(a.pythae_python)
    if not py.exists(): return {m: {'error': f"no Pythae venv at {py}; run bash bench/setup_pythae_venv.sh"} for m in a.models.split(',')}
    argv = [str(py), __file__, '--pythae-worker', '--device', str(dev), '--steps', str(a.steps), '--warmup', str(a.warmup),
            '--batch-size', str(a.batch_size), '--latent-dim', str(a.latent_dim), '--lr', str(a.lr), '--models', a.models]
    r = subprocess.run(argv, capture_output=True, text=True)
    line = [l for l in r.stdout.splitlines() if l.startswith('PYTHAE_JSON ')]
    if r.returncode or not line: return {m: {'error': f"Pythae worker failed: {r.stderr[-2000:]}"} for m in a.models.split(',')}
    return json.loads(line[-1][len('PYTHAE_JSON '):])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='auto'); ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--warmup', type=int, default=5); ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--latent-dim', type=int, default=128); ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--amp', default='auto', help="vaelab autocast: 'auto' (bf16 on CUDA), 'bf16' or 'off'")
    ap.add_argument('--compile', action='store_true', help='vaelab: torch.compile the losses')
    ap.add_argument('--channels-last', action='store_true', help='vaelab: NHWC model and batches')
    ap.add_argument('--pythae-python', default=str(HERE / '.venv' / 'bin' / 'python'))
    ap.add_argument('--pythae-worker', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.pythae_worker: return pythae_worker(a)
    from vaelab.train import pick_device
    dev = pick_device(a.device)
    if dev.type == 'cuda': torch.backends.cudnn.benchmark = True
    print(f"device: {device_name(dev)}; torch {torch.__version__}; batch {a.batch_size}; {a.steps} timed steps after "
          f"{a.warmup} warm-up; vaelab amp={a.amp} compile={a.compile} channels_last={a.channels_last}; Pythae fp32")
    ours = {}
    for m in a.models.split(','):
        try: ours[m] = time_vaelab(m, dev, a)
        except Exception as e: ours[m] = e
    theirs = run_pythae(a, dev)
    print(f"{'model':10s} {'params vaelab':>14s} {'params Pythae':>14s} {'vaelab img/s':>13s} {'Pythae img/s':>13s} {'vaelab/Pythae':>14s}")
    for m in a.models.split(','):
        o, p = ours[m], theirs.get(m, {'error': 'missing'})
        if isinstance(o, Exception): print(f"{m:10s} vaelab failed: {type(o).__name__}: {o}"); continue
        if 'error' in p: print(f"{m:10s} {o[1]:14,d} {'-':>14s} {o[0]:13.1f} {'-':>13s} {'-':>14s}   Pythae: {p['error'][:300]}"); continue
        print(f"{m:10s} {o[1]:14,d} {p['params']:14,d} {o[0]:13.1f} {p['ips']:13.1f} {o[0] / p['ips']:14.2f}")


if __name__ == '__main__':
    main()
