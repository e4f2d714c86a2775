"""Train the whole zoo at once on one GPU within a wall-clock budget (maintainers' script; students never need it).

    python zoo/gpu.py --seconds 450 --pack $OUT

Every model of JOBS runs as its own `vaelab train` process, all at the same time (one GPU, one CPU core each).
At the deadline each gets SIGTERM, which makes `vaelab train` checkpoint the step it reached; since no schedule
of these runs depends on `--steps`, the run folder is then exactly the run of `--steps K` for the K it reached,
and its config.json says so. The VQ-VAE stops at half time and its code prior trains on it for the other half.
`--pack DIR` writes the run folders (weights, config, history; optimiser state dropped) as at most 7 tar files
of < 15 MiB plus summary.json, for `python zoo/build.py export NAME` on any machine.
"""
import argparse, json, os, signal, subprocess, sys, tarfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = Path('zoo/runs')
GPU = '--batch-size 64 --ckpt-every 2000 --progress False --report-n 0 --device cuda --amp off'
VAE = f'--lr 5e-4 --channels-last True {GPU}'
B256 = f"--lr 1e-3 --channels-last True {GPU.replace('--batch-size 64', '--batch-size 256')}"
JOBS = {   # name: the flags of its `vaelab train` (the script adds --steps, --out)
    'vae': f'--model vae {VAE}',
    'ae': f'--model ae {VAE}',
    'ae_noise': f'--model ae --code-noise 0.05 {VAE}',
    'ae_noise_small': f'--model ae --code-noise 0.01 {VAE}',
    'beta_vae_b4_long': f'--model beta_vae --beta 4 {VAE}',
    'beta_vae_b8_long': f'--model beta_vae --beta 8 {VAE}',
    'beta_vae_b16_long': f'--model beta_vae --beta 16 {VAE}',
    'beta_vae_capacity': f'--model beta_vae --schedule capacity --capacity-weight 1000 --c-max 25 --c-steps 15000 {VAE}',
    'dcgan': f'--model dcgan {GPU}',
    'vaegan': f'--model vaegan --channels-last True {GPU}',
    'vaegan_conv': f'--model vaegan --feature-layer conv --channels-last True {GPU}',
    'beta_vaegan': f'--model vaegan --beta 4 --channels-last True {GPU}',
    'beta_vaegan_conv': f'--model vaegan --beta 4 --feature-layer conv --channels-last True {GPU}',
    'vqvae': f'--model vqvae {VAE}',
    # second round (`--only`): the first round's VAEGANs reconstructed nothing; these change one thing each
    'vaegan_init': f'--model vaegan --init default --channels-last True {GPU}',
    'vaegan_init_conv': f'--model vaegan --init default --feature-layer conv --channels-last True {GPU}',
    'vaegan_init_lr1e4': f'--model vaegan --init default --lr 1e-4 --channels-last True {GPU}',
    'beta_vaegan_init': f'--model vaegan --beta 4 --init default --channels-last True {GPU}',
    'beta_vaegan_init_conv': f'--model vaegan --beta 4 --init default --feature-layer conv --channels-last True {GPU}',
    # third round (`--only`): β-VAEs on 4x the images per step (a GPU step of this small net costs about the same for
    # 64 and 256 images), and the VAEGAN with a pixel term λ·BCE added to its feature likelihood
    **{f'beta_vae_b{b}_bs256': f'--model beta_vae --beta {b} {B256}' for b in (4, 6, 8, 12, 16)},
    **{f'beta_vae_b{b}_bs256_s1': f'--model beta_vae --beta {b} --seed 1 {B256}' for b in (4, 8)},
    **{f'{m}_px{w:g}'.replace('.', ''): f'--model vaegan{" --beta 4" if m == "beta_vaegan" else ""} --pixel-weight {w} --channels-last True {GPU}'
       for m in ('vaegan', 'beta_vaegan') for w in (1, 0.1)},
}
LATER = {'code_prior': f'--model code_prior --vqvae {RUNS}/vqvae --lr 1e-3 {GPU}'}   # starts when vqvae stops
MAX_STEPS = 1_000_000          # never reached: the deadline stops every run


def command(job, steps, device=None):
    "The `vaelab train` command of job `job` stopped at `steps` (device None: no --device flag, so 'auto' picks one)."
    flags = {**JOBS, **LATER}[job]
    flags = flags.replace('--device cuda', f'--device {device}') if device else flags.replace(' --device cuda', '')
    return f"vaelab train {flags} --steps {steps} --out {RUNS}/{job}"


def launch(name, flags, log):
    """`vaelab train FLAGS --steps MAX --out zoo/runs/NAME` as a process (through the console script's entry point, so
    vaelab needs no install there: PYTHONPATH=. is enough)."""
    cmd = [sys.executable, '-c', 'import sys; from vaelab.cli import console; sys.argv[0] = "vaelab"; sys.exit(console())',
           'train', *flags.split(), '--steps', str(MAX_STEPS), '--out', str(RUNS / name)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, 'OMP_NUM_THREADS': '1'})


def stop(procs, grace=90):
    "SIGTERM every process (each checkpoints the step it reached), wait for them, SIGKILL stragglers."
    for p in procs.values():
        if p.poll() is None: p.send_signal(signal.SIGTERM)
    t = time.time()
    for p in procs.values():
        try: p.wait(max(1, grace - (time.time() - t)))
        except subprocess.TimeoutExpired: p.kill()


def settle(name, device):
    "Make the run folder the run of `--steps K` (K = step reached), drop the optimiser state -> summary row."
    import torch
    d = ROOT / RUNS / name; ck_path = d / 'checkpoints' / 'last.pt'
    if not ck_path.exists(): return {'name': name, 'error': 'no checkpoint'}
    ck = torch.load(ck_path, map_location='cpu', weights_only=True)
    cfg = json.loads((d / 'config.json').read_text()); cfg['train']['steps'] = ck['step']
    (d / 'config.json').write_text(json.dumps(cfg, indent=2))
    ck.pop('opts', None); torch.save(ck, ck_path)
    last = {k: round(v[-1], 5) for k, v in ck['history'].items() if k != 'step' and v}
    return {'name': name, 'steps': ck['step'], 'seconds': round(ck['seconds'], 1), 'hardware': ck['hardware'],
            'steps_per_s': round(ck['step'] / max(ck['seconds'], 1e-9), 1), 'last': last,
            'command': command(name, ck['step'], device)}


def pictures(names, path):
    "One PNG: per run, 8 reconstructions of held-out sprites (or samples) - a first look at what trained."
    import torch, matplotlib; matplotlib.use('Agg')
    from vaelab.train import load_run, plot_images
    from vaelab.data import small_dsprites
    x, rows = small_dsprites(8, seed=2024), {}
    for n in names:
        try:
            m = load_run(ROOT / RUNS / n)[0]
            with torch.no_grad():
                if getattr(m, 'has_encoder', True) and hasattr(m, 'reconstruct'): rows[f'{n} recon'] = m.reconstruct(x).float().clamp(0, 1)
                if hasattr(m, 'sample'): rows[f'{n} sample'] = m.sample(8).float().clamp(0, 1)
        except Exception as e: print(f"picture of {n} failed: {e!r}")
    plot_images({'data': x, **rows}).savefig(path, dpi=60)


def pack(names, out, limit=15 * 2**20):
    "Greedy bins of run folders into out/runs-K.tar, each below `limit` bytes."
    size = lambda n: sum(f.stat().st_size for f in (ROOT / RUNS / n).rglob('*') if f.is_file())
    bins = []
    for n in sorted(names, key=size, reverse=True):
        b = next((b for b in bins if b[0] + size(n) < limit), None)
        if b is None: bins.append([0, []]); b = bins[-1]
        b[0] += size(n); b[1].append(n)
    for i, (_, ns) in enumerate(bins):
        with tarfile.open(Path(out) / f'runs-{i}.tar', 'w') as t:
            for n in ns: t.add(ROOT / RUNS / n, arcname=str(RUNS / n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seconds', type=float, default=450, help='wall-clock budget of the training (default 450)')
    ap.add_argument('--pack', default='', help='folder for the tar files and summary.json (default: none)')
    ap.add_argument('--only', default='', help='comma-separated subset of the jobs (default: all)')
    ap.add_argument('--device', default='cuda', help="training device of every job (default 'cuda')")
    a = ap.parse_args()
    dev = lambda f: f.replace('--device cuda', f'--device {a.device}')
    jobs = {k: dev(v) for k, v in JOBS.items() if not a.only or k in a.only.split(',')}
    later = {k: dev(v) for k, v in LATER.items() if 'vqvae' in jobs}
    (ROOT / RUNS).mkdir(parents=True, exist_ok=True)
    logs = {n: open(ROOT / RUNS / f'{n}.log', 'w') for n in [*jobs, *later]}
    t0 = time.time()
    procs = {n: launch(n, f, logs[n]) for n, f in jobs.items()}
    if later:
        while time.time() - t0 < a.seconds / 2: time.sleep(2)
        stop({'vqvae': procs['vqvae']})
        procs.update({n: launch(n, f, logs[n]) for n, f in later.items()})
    while time.time() - t0 < a.seconds and any(p.poll() is None for p in procs.values()): time.sleep(2)
    stop(procs)
    print(f"trained for {time.time() - t0:.0f} s")
    rows = [settle(n, a.device) for n in procs]
    for r in rows:
        if 'error' in r: print(f"--- {r['name']} log tail\n" + (ROOT / RUNS / f"{r['name']}.log").read_text()[-1500:])
    print(json.dumps(rows, indent=1))
    if a.pack:
        Path(a.pack).mkdir(parents=True, exist_ok=True)
        (Path(a.pack) / 'summary.json').write_text(json.dumps(rows, indent=1))
        ok = [r['name'] for r in rows if 'error' not in r]
        try: pictures(ok, Path(a.pack) / 'first-look.png')
        except Exception as e: print(f"pictures failed: {e!r}")
        pack(ok, a.pack)


if __name__ == '__main__':
    main()
