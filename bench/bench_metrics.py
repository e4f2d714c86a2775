#!/usr/bin/env python
"""Time every disentanglement metric of vaelab.disentangle at disentanglement_lib's sizes.

Default: one model (an untrained 10-latent beta-VAE: encoding costs the same as a trained one), a pool of N dSprites
images encoded once (10,000 train / 5,000 test for N = 15,000), then all six metrics; prints seconds per step,
the total and the scores. With --codes the representation needs no model: the five varying dSprites factors scaled
to [0, 1], mixed by a fixed random (5 x D) matrix plus noise. With --zoo NAME the model is the shipped pretrained one
(e.g. beta_vae), as in chapter 6's timing table.
Usage: python bench/bench_metrics.py [--n 15000] [--dim 10] [--codes | --zoo NAME] [--importance gbt|gbt-sklearn|forest]
"""
import argparse, os, time


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=15_000)
    ap.add_argument('--dim', type=int, default=10)
    ap.add_argument('--codes', action='store_true', help='synthetic codes instead of encoding a pool with a model')
    ap.add_argument('--zoo', default=None, help="score the zoo's pretrained model of this name (e.g. beta_vae) instead of an untrained one")
    ap.add_argument('--importance', default='gbt', choices=['gbt', 'gbt-sklearn', 'forest'])
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args(argv)
    import numpy as np, torch
    from vaelab.data import DSprites
    from vaelab import disentangle as dis
    from vaelab.train import hardware
    ds = DSprites()
    print(f'{a.n} samples, {a.dim}-D code, factors {ds.factor_names[1:]}; CPU: {hardware("cpu")}, '
          f'load average {os.getloadavg()[0]:.1f}', flush=True)
    t = time.perf_counter()
    if a.codes:
        rng = np.random.default_rng(a.seed)
        cls = ds.sample_factors(a.n, rng)[:, 1:]                       # drop colour (one value)
        vals = cls / (np.array(ds.factor_sizes[1:]) - 1)
        W = rng.normal(size=(vals.shape[1], a.dim)) * (rng.random((vals.shape[1], a.dim)) < 0.4) + np.eye(vals.shape[1], a.dim)
        codes = vals @ W + 0.05 * rng.normal(size=(a.n, a.dim))
        rep = dis.evaluate_codes(codes, cls, ds.factor_names[1:], n_points=10_000, importance=a.importance, seed=a.seed)
    else:
        if a.zoo:
            from vaelab.zoo import pretrained
            model = pretrained(a.zoo).eval()
        else:
            from vaelab.beta import BetaVAE, BetaVAEConfig
            torch.manual_seed(a.seed)
            model = BetaVAE(BetaVAEConfig(latent_dim=a.dim)).eval()
        rep = dis.score_disentanglement(model, ds, n=a.n, seed=a.seed, n_points=10_000, importance=a.importance)
    total = time.perf_counter() - t
    for k, s in rep.seconds.items(): print(f'{k:12s} {s:7.2f} s')
    print(f'{"total":12s} {total:7.2f} s   (load average {os.getloadavg()[0]:.1f})')
    print('scores:', ', '.join(f'{k}={v:.3f}' for k, v in rep.scores.items()))


if __name__ == '__main__': main()
