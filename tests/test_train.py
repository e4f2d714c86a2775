"End-to-end tests of the spine: CLI, exact resume, NaN stop, bad input (issue: the course spine)."
import json, math, os, subprocess, sys
from pathlib import Path
import pytest
import torch

from vaelab.data import ImageBatches, check_images, small_dsprites
from vaelab.elbo import VAE, VAEConfig
from vaelab.nets import NetConfig
from vaelab.train import NonFiniteLossError, TrainConfig, Trainer, load_run
from vaelab.cli import main

ROOT = Path(__file__).resolve().parents[1]
_exe = Path(sys.executable).parent / 'vaelab'
VAELAB = str(_exe) if _exe.exists() else 'vaelab'   # the console script `pip install -e .` puts next to python


@pytest.fixture(scope='module')
def data():
    return small_dsprites(256, seed=3)


def test_cli_end_to_end(tmp_path):
    "`vaelab train` as a user runs it: a tiny run writes checkpoint, history, config, metrics and PNGs."
    out = tmp_path / 'run'
    r = subprocess.run([VAELAB, 'train', '--steps', '12', '--batch-size', '8',
                        '--latent-dim', '3', '--out', str(out), '--progress', 'false', '--report-n', '600'],
                       capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    for f in ('config.json', 'history.json', 'metrics.json', 'checkpoints/last.pt',
              'loss_curves.png', 'reconstructions.png', 'samples.png', 'traversal.png'):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    hist = json.loads((out / 'history.json').read_text())
    assert hist['step'] == list(range(1, 13)) and len(hist['kl']) == 12
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['steps'] == 12 and math.isfinite(metrics['heldout_loss'])
    assert 0 <= metrics['disentanglement']['mig'] <= 1 and 0 <= metrics['disentanglement']['beta_vae'] <= 1
    model, _ = load_run(out)
    assert model.config.latent_dim == 3


def test_console_script_is_installed():
    r = subprocess.run([VAELAB, '--help'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and 'train' in r.stdout


def _run(data, run_dir, steps=30, interrupt_at=None):
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=4))
    def stop(t):
        if t.step == interrupt_at: raise KeyboardInterrupt
    t = Trainer(model, data, TrainConfig(steps=steps, batch_size=16, ckpt_every=7, run_dir=str(run_dir), progress=False),
                callbacks=[stop])
    try: t.fit(resume=True)
    except KeyboardInterrupt: pass
    return t


def test_resume_after_interruption_is_bit_identical(data, tmp_path):
    full = _run(data, tmp_path / 'full')
    part = _run(data, tmp_path / 'part', interrupt_at=17)
    assert part.step == 17 and json.loads((tmp_path / 'part' / 'history.json').read_text())['step'][-1] == 17
    resumed = _run(data, tmp_path / 'part')
    assert resumed.step == 30
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), f"{k} differs after resume"
    for g in full.opts:
        sa, sb = full.opts[g].state_dict()['state'], resumed.opts[g].state_dict()['state']
        assert all(torch.equal(sa[i]['exp_avg'], sb[i]['exp_avg']) for i in sa)
    assert full.history == resumed.history


def test_nan_stops_with_term_and_step_and_keeps_good_checkpoint(data, tmp_path):
    torch.manual_seed(0)
    t = Trainer(VAE(VAEConfig(latent_dim=4)), data,
                TrainConfig(steps=300, lr=1e6, ckpt_every=1, run_dir=str(tmp_path / 'nan'), progress=False))
    with pytest.raises(NonFiniteLossError, match=r"loss term '\w+' became (nan|inf|-inf) at step \d+"):
        t.fit()
    ck = torch.load(tmp_path / 'nan' / 'checkpoints' / 'last.pt', weights_only=False)
    assert ck['step'] < 300
    assert all(math.isfinite(v) for k, vs in ck['history'].items() if k != 'step' for v in vs)
    assert all(torch.isfinite(p).all() for p in ck['model'].values() if p.is_floating_point())


@pytest.mark.parametrize('x, msg', [
    (torch.rand(2, 1, 64, 64) * 2, r'\[0,1\]'),                       # outside [0, 1]
    (torch.rand(1, 64, 64), r'4-D|rank|\(B,C,H,W\)'),                 # wrong rank
    (torch.rand(2, 3, 64, 64), r'1 channels'),                        # wrong channels
    (torch.rand(2, 1, 32, 32), r'64'),                                # wrong size
    (torch.randint(0, 2, (2, 1, 64, 64)), r'float'),                  # integer dtype
])
def test_bad_images_are_rejected_by_the_model(x, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        VAE(VAEConfig(latent_dim=2)).losses(x)


def test_nothing_is_silently_clipped():
    x = torch.full((1, 1, 64, 64), 1.0001)
    with pytest.raises(ValueError): check_images(x)


def test_empty_dataset_is_rejected():
    with pytest.raises(ValueError, match='empty'):
        Trainer(VAE(VAEConfig(latent_dim=2)), torch.zeros(0, 1, 64, 64), TrainConfig(steps=1, progress=False))


def test_unknown_config_keys_are_rejected(tmp_path):
    with pytest.raises(ValueError, match='valid keys'): VAEConfig.from_dict({'latnet_dim': 3})
    with pytest.raises(ValueError, match='valid keys'): TrainConfig.from_dict({'step': 3})
    (tmp_path / 'c.json').write_text(json.dumps({'modle': 'vae'}))
    with pytest.raises(ValueError, match='valid keys'): main(['train', '--config', str(tmp_path / 'c.json')])
    with pytest.raises(SystemExit): main(['train', '--latnet-dim', '3'])
