"""Train and export the pretrained zoo shipped in vaelab/pretrained/ (maintainers' script; students never need it).

    python zoo/build.py status               # where every zoo model stands
    python zoo/build.py train NAME [NAME..]  # train (or --resume) the runs under zoo/runs/ with the commands below
    python zoo/build.py train NAME:N         # ... but stop at step N for now (a provisional export; resume later)
    python zoo/build.py export NAME [NAME..] # write vaelab/pretrained/NAME/ with its card (scores computed here)
    python zoo/build.py rescore NAME [NAME..] # recompute a shipped card's disentanglement scores from its shipped weights

Every model is trained by the exact `vaelab train` command in PLAN (the model card records it); the factor
classifier of chapter 9 by `python zoo/build.py train factor_classifier`. Runs live in zoo/runs/<name>/ so an
interrupted training continues with --resume (`train` adds it when a checkpoint exists).
"""
import json, shlex, subprocess, sys, time
from pathlib import Path
from gpu import RUNS, command                 # zoo/gpu.py: the job list, its commands and run folders (relative to the repository root)

ROOT = Path(__file__).resolve().parents[1]
# Trained all at once on one GPU by `python zoo/gpu.py`: each entry is one of its jobs, stopped by the deadline at
# the step it names (gpu.command spells out the command; it runs on a CPU too, taking hours per model).
PLAN = {   # name: (the command that trained it, one-line description for the card)
    'factor_classifier': ('python zoo/build.py train factor_classifier',
                          "dSprites factor classifier (chapter 9): its features define the sample Fréchet distance (FD)"),
    'vae': (command('vae', 16187),
        'VAE (β = 1), 10 latents: the ELBO of chapter 2, and β = 1 of the β sweep of chapter 4'),
    'ae': (command('ae', 16188),
        'plain autoencoder: reconstructs, but random codes decode to fragments (chapter 2)'),
    'ae_noise': (command('ae_noise', 16150),
        'autoencoder trained with code noise N(0, 0.05 R²) per coordinate: a capacity of a few nats (chapter 2)'),
    'beta_vae': (command('beta_vae_b6_bs256', 12868),
        'β-VAE (β = 6), 256 images per step: posX, posY and scale each in its own latent, shape and orientation in a fourth; the best FactorVAE score of the β sweep (chapters 4-6)'),
    'beta_vae_b4': (command('beta_vae_b4_bs256', 12896),
        'β sweep of chapter 4: β = 4, 256 images per step'),
    'beta_vae_b8': (command('beta_vae_b8_bs256', 12929),
        'β sweep of chapter 4: β = 8, 256 images per step'),
    'beta_vae_b16': (command('beta_vae_b16_bs256', 12886),
        'β sweep of chapter 4: β = 16, 256 images per step'),
    'vqvae': (command('vqvae', 15093),
        'VQ-VAE, 8×8 grid of 64 codes (EMA codebook), Bernoulli likelihood (chapter 7)'),
    'code_prior': (command('code_prior', 8199),
        "PixelCNN prior over the zoo VQ-VAE's code grids: its samples are sprites (chapter 7)"),
    'dcgan': (command('dcgan', 10763),
        'DCGAN (Radford et al. 2016), width 16 (chapter 8)'),
    'vaegan': (command('vaegan_px1', 6481),
        "VAEGAN (Larsen et al. 2016) on the Burgess backbone, with a pixel term (λ = 1) added to its feature likelihood: without it the decoder ignores the code on dSprites (chapter 8)"),
    'beta_vaegan': (command('beta_vaegan_px1', 6475),
        'β-VAE-GAN, β = 4, with the same pixel term (λ = 1) (chapter 8)'),
}


def run_dir(name):
    cmd = PLAN[name][0].split()
    return Path(cmd[cmd.index('--out') + 1]) if '--out' in cmd else RUNS / name


def train_classifier(steps=6000):
    "Train chapter 9's factor classifier and write it as a run folder (config.json + checkpoints/last.pt)."
    import torch
    from vaelab.evaluate import train_factor_classifier, FactorClassifierConfig
    from vaelab.train import hardware
    t0 = time.time()
    model, acc = train_factor_classifier(steps=steps, batch_size=64, lr=1e-3, seed=0)
    d = run_dir('factor_classifier'); (d / 'checkpoints').mkdir(parents=True, exist_ok=True)
    torch.save({'model': model.state_dict(), 'step': steps, 'seconds': time.time() - t0, 'hardware': hardware('cpu')},
               d / 'checkpoints' / 'last.pt')
    cfg = {'model': 'factor_classifier', 'data': 'dsprites', 'model_config': FactorClassifierConfig().to_dict(),
           'train': {'steps': steps, 'batch_size': 64, 'lr': 1e-3, 'seed': 0, 'run_dir': str(d)}}
    (d / 'config.json').write_text(json.dumps(cfg, indent=2))
    (d / 'accuracy.json').write_text(json.dumps(dict(zip(('shape', 'scale', 'orientation', 'posX', 'posY'), acc)), indent=2))


def train(name, until=None):
    "Run (or resume) NAME's command; `until` stops it earlier at that many steps (a later `train` continues)."
    if name == 'factor_classifier': return train_classifier()
    cmd = shlex.split(PLAN[name][0])
    if until: cmd[cmd.index('--steps') + 1] = str(until)
    if (run_dir(name) / 'checkpoints' / 'last.pt').exists(): cmd.append('--resume')
    subprocess.run(cmd, check=True, cwd=ROOT)


def scores(name):
    "The evaluation part of a card: chapter 9's scorer on 1,000 held-out dSprites, chapter 6's metrics, extras."
    def score(model):
        import torch
        from vaelab.data import small_dsprites
        from vaelab.evaluate import evaluate_model, factor_accuracy, FactorClassifier
        if isinstance(model, FactorClassifier):
            return json.loads((run_dir(name) / 'accuracy.json').read_text())
        x = small_dsprites(1000, seed=2024)
        out = evaluate_model(model, x, n_samples=1000, seed=0, lpips_model=None)
        if getattr(model, 'latent_kind', '') == 'continuous' and getattr(model, 'has_encoder', True):
            out['disentanglement'] = disentanglement_scores(model)
        if hasattr(model, 'quantizer') or hasattr(model, 'vqvae'):
            out['codes'] = code_scores(model, x)
        return out
    return score


def disentanglement_scores(model):
    "Chapter 6's six metrics on 10,000 dSprites encoded by the model (the card's `disentanglement` block)."
    from vaelab.data import DSprites
    from vaelab.disentangle import sample_codes, evaluate_codes
    ds = DSprites(); codes, factors = sample_codes(ds, model, n=10000, rng=0)
    return {k: round(float(v), 4) for k, v in evaluate_codes(codes, factors, ds.factor_names[1:], seed=0).scores.items()}


def rescore(name):
    "Recompute the `disentanglement` block of a shipped card from its shipped weights (after chapter 6's metrics change)."
    from vaelab.zoo import pretrained
    card = ROOT / 'vaelab' / 'pretrained' / name / 'card.json'
    info = json.loads(card.read_text())
    if 'disentanglement' not in info['scores']: return print(f'{name}: no disentanglement scores on its card')
    old, new = info['scores']['disentanglement'], disentanglement_scores(pretrained(name).eval())
    info['scores']['disentanglement'] = new
    card.write_text(json.dumps(info, indent=2))                     # as vaelab.zoo.export_run writes it
    print(name, {k: f'{old.get(k)} -> {v}' for k, v in new.items() if old.get(k) != v})


def code_scores(model, x):
    "VQ-VAE extras: held-out perplexity and usage of the codes; for the prior, its held-out NLL."
    import torch
    from vaelab.train import evaluating
    vq = getattr(model, 'vqvae', model)
    with evaluating(model):
        L = vq.losses(x)
        out = {'perplexity': float(L['perplexity']), 'usage': float(L['usage'])}
        if vq is not model:
            P = model.losses(x); out.update(prior_nll=float(P['loss']), bits_per_code=float(P['bits_per_code']),
                                            uniform_nll=float(P['uniform_nll']))
    return out


def export(name):
    from vaelab.zoo import export_run
    info = export_run(run_dir(name), name, PLAN[name][0], PLAN[name][1], scores=scores(name))
    print(json.dumps(info, indent=2))


def status():
    import torch
    for name in PLAN:
        ck = run_dir(name) / 'checkpoints' / 'last.pt'
        step = torch.load(ck, weights_only=True)['step'] if ck.exists() else 0
        target = int(PLAN[name][0].split('--steps ')[1].split()[0]) if '--steps' in PLAN[name][0] else 6000
        shipped = (ROOT / 'vaelab' / 'pretrained' / name / 'card.json').exists()
        print(f"{name:18s} {step:>6d} / {target:<6d} steps   {'exported' if shipped else ''}")


if __name__ == '__main__':
    what, names = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ('status', [])
    for n in names:
        if n.split(':')[0] not in PLAN: sys.exit(f"unknown zoo model {n!r}; expected one of {list(PLAN)}")
    if what == 'status': status()
    elif what == 'train':
        for n in names: train(n.split(':')[0], *[int(u) for u in n.split(':')[1:]])
    elif what == 'rescore':
        for n in names: rescore(n)
    else:
        for n in names: export(n)
