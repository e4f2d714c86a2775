#!/usr/bin/env python
"""Training step time of every registered model, trained the way `vaelab train --model M` trains it.

For each name in `vaelab.train.MODELS` this runs `vaelab train --model M --steps S` (in-process, the CLI's own
defaults for the model; the code prior on the zoo's VQ-VAE), reads the run's training wall time from its checkpoint,
and prints ms/step and images/s with the load average, so a reader can tell a busy machine from a slow model.

    python bench/bench_models.py                 # all models, 40 steps each, CPU (or CUDA if present)
    python bench/bench_models.py --steps 100 --models vae vaegan
"""
import argparse, contextlib, io, os, tempfile, time
import torch


def step_time(name, steps, out, extra=()):
    "Seconds per step of `vaelab train --model name --steps steps` (checkpoint wall time / steps)."
    from vaelab.cli import train_main
    from vaelab.train import load_checkpoint_file
    argv = ['--model', name, '--steps', str(steps), '--out', out, '--progress', 'False', '--report-n', '0', *extra]
    if name == 'code_prior': argv += ['--vqvae', 'zoo:vqvae']
    with contextlib.redirect_stdout(io.StringIO()): run = train_main(argv)   # keep the table readable
    ck = load_checkpoint_file(run / 'checkpoints' / 'last.pt')
    return ck['seconds'] / ck['step']


def main(argv=None):
    from vaelab.train import MODELS, TrainConfig, hardware, model_class
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--models', nargs='*', default=None, help='registry names (default: all)')
    a = ap.parse_args(argv)
    rows = []
    for name in a.models or list(MODELS):
        with tempfile.TemporaryDirectory() as d:
            s = step_time(name, a.steps, d)
        bs = TrainConfig.for_model(model_class(name)).batch_size
        rows.append((name, s, bs))
        print(f"{name:12s} {1000 * s:8.1f} ms/step  {bs / s:8.0f} images/s  (batch {bs}, load average {os.getloadavg()[0]:.1f})", flush=True)
    dev = hardware() + ('' if torch.cuda.is_available() else f', {torch.get_num_threads()} threads')
    print(f"device: {dev}; torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}")
    return rows


if __name__ == '__main__':
    main()
