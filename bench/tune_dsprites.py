"""Bayesian optimisation of β for a β-VAE on procedural dSprites (the `#| slow` search of nbs/10_bayesopt.ipynb).

Objective: held-out negative ELBO (KL weight 1, nats per image) after `--steps` training steps.
Resumable: rerun with the same --search-dir and only unfinished points are trained.
Usage: python bench/tune_dsprites.py --search-dir runs/tune-dsprites-beta [--steps 1000 --n-iter 8]
"""
import argparse, json, time
from functools import partial
from vaelab.tune import BayesOpt, dsprites_beta_objective

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--search-dir', default='runs/tune-dsprites-beta')
    p.add_argument("--steps", type=int, default=1000); p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--n-iter', type=int, default=8); p.add_argument('--bounds', type=float, nargs=2, default=(0.1, 4.0))
    p.add_argument('--noise', type=float, default=1e-2); p.add_argument('--device', default='auto')
    a = p.parse_args()
    t0 = time.time()
    bo = BayesOpt(tuple(a.bounds), noise=a.noise, path=a.search_dir)
    best = bo.run(partial(dsprites_beta_objective, steps=a.steps, batch_size=a.batch_size, device=a.device), n_iter=a.n_iter)
    for r in bo.records: print(f"beta={r['x']:.4f}  objective={r['y']}  status={r['status']}  seconds={r['seconds']}")
    print(json.dumps(dict(best_beta=best[0], best_objective=best[1], wall_seconds=round(time.time() - t0, 1))))
