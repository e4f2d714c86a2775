#!/usr/bin/env python
"""Time DCI with scikit-learn's GradientBoostingClassifier (disentanglement_lib's definition) and with vaelab's
boosted trees (the compiled scan on a CPU; with --tensor also the vectorised tensor search) on the same arrays, in one
run, and print the times, the differences and the speed ratio.

The representation needs no model: the five varying dSprites factors (3, 6, 40, 32, 32 classes) scaled to [0, 1],
mixed by a fixed sparse random (5 x D) matrix plus noise; the first --train points fit, the next --test points test.
The CPU is often shared: the load average is printed next to the times, and the ratio (both measured in this run)
is the number to compare.
Usage: python bench/bench_dci.py [--train 10000] [--test 5000] [--dim 10] [--seed 0] [--stages 100] [--device cpu|cuda] [--tensor] [--skip-sklearn]
"""
import argparse, os, time


def code(n, dim, seed):
    "Factor classes (n, 5) with dSprites' sizes and a code (n, dim) mixing them."
    import numpy as np
    rng = np.random.default_rng(seed); sizes = np.array([3, 6, 40, 32, 32])
    c = rng.integers(0, sizes, size=(n, 5))
    W = rng.normal(size=(5, dim)) * (rng.random((5, dim)) < 0.4) + np.eye(5, dim)
    return (c / (sizes - 1)) @ W + 0.05 * rng.normal(size=(n, dim)), c


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--train', type=int, default=10_000)
    ap.add_argument('--test', type=int, default=5_000)
    ap.add_argument('--dim', type=int, default=10)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--stages', type=int, default=100, help="boosting stages (DCI as published: 100; fewer only for a quick check)")
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--tensor', action='store_true', help="also time vaelab's vectorised tensor search on this device")
    ap.add_argument('--skip-sklearn', action='store_true', help='time only vaelab (no ratio)')
    a = ap.parse_args(argv)
    import numpy as np
    from vaelab.disentangle import dci
    from vaelab.train import hardware
    z, c = code(a.train + a.test, a.dim, a.seed)
    frac = a.train / (a.train + a.test)
    print(f'{a.train:,} train / {a.test:,} test points, {a.dim}-D code, factor classes (3, 6, 40, 32, 32), {a.stages} stages; '
          f'CPU: {hardware("cpu")}; device {a.device}', flush=True)
    res = {}
    t = time.perf_counter(); dci(z[:300], c[:300], n_stages=1, device=a.device)      # compiles, or loads numba's cache
    print(f'first call (compiles, or loads numba\'s cache): {time.perf_counter() - t:.1f} s, not counted', flush=True)
    runs = [('vaelab', dict(importance='gbt', device=a.device))] + [('tensor', dict(importance='gbt', device=a.device, search='tensor'))] * a.tensor
    for name, kw in runs + [('sklearn', dict(importance='gbt-sklearn'))] * (not a.skip_sklearn):
        load0 = os.getloadavg()[0]; t = time.perf_counter(); cpu = time.process_time()
        out = dci(z, c, train_frac=frac, n_stages=a.stages, **kw)
        res[name] = (out, time.perf_counter() - t, time.process_time() - cpu)
        print(f"{name:8s} {res[name][1]:8.1f} s wall {res[name][2]:8.1f} s CPU  (load average {load0:.1f} -> {os.getloadavg()[0]:.1f})  "
              f"D {out['disentanglement']:.4f}  C {out['completeness']:.4f}  I {out['informativeness']:.4f}", flush=True)
    if 'sklearn' in res:
        v, s = res['vaelab'][0], res['sklearn'][0]
        print(f"|vaelab - sklearn|: importance {np.abs(v['importance'] - s['importance']).max():.1e}, "
              f"D {abs(v['disentanglement'] - s['disentanglement']):.1e}, C {abs(v['completeness'] - s['completeness']):.1e}, "
              f"test accuracy {abs(v['informativeness'] - s['informativeness']):.1e}")
        for name in [n for n in ('vaelab', 'tensor') if n in res]:
            print(f"speed ratio sklearn / {name}: {res['sklearn'][1] / res[name][1]:.1f}x wall, {res['sklearn'][2] / res[name][2]:.1f}x CPU time")


if __name__ == '__main__': main()
