#!/usr/bin/env python
"""Time every disentanglement metric of vaelab.disentangle on N samples of a D-dimensional code of dSprites.

The representation needs no model: the five varying dSprites factors (vaelab.data.DSprites().sample_factors),
scaled to [0, 1], mixed by a fixed random (D x 5) matrix plus noise. Prints seconds per metric and the scores.
Usage: python bench/bench_metrics.py [--n 10000] [--dim 10] [--importance forest|gbt]
"""
import argparse, os, platform, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=10_000)
    ap.add_argument('--dim', type=int, default=10)
    ap.add_argument('--importance', default='forest', choices=['forest', 'gbt'])
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    import numpy as np
    from vaelab.data import DSprites
    from vaelab import disentangle as dis
    ds = DSprites()
    rng = np.random.default_rng(a.seed)
    cls = ds.sample_factors(a.n, rng)[:, 1:]                       # drop colour (one value)
    vals = cls / (np.array(ds.factor_sizes[1:]) - 1)
    W = rng.normal(size=(vals.shape[1], a.dim)) * (rng.random((vals.shape[1], a.dim)) < 0.4) + np.eye(vals.shape[1], a.dim)
    codes = vals @ W + 0.05 * rng.normal(size=(a.n, a.dim))
    print(f'{a.n} samples, {a.dim}-D code, factors {ds.factor_names[1:]}; {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), '
          f'load average {os.getloadavg()[0]:.1f}')
    t = time.perf_counter()
    rep = dis.evaluate_codes(codes, cls, ds.factor_names[1:], n_points=10_000, importance=a.importance, seed=a.seed)
    total = time.perf_counter() - t
    for k, s in rep.seconds.items(): print(f'{k:12s} {s:7.2f} s')
    print(f'{"total":12s} {total:7.2f} s')
    print('scores:', ', '.join(f'{k}={v:.3f}' for k, v in rep.scores.items()))


if __name__ == '__main__': main()
