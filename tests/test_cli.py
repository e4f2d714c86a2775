"""The command line as a user meets it, through the installed console script `vaelab`:
every registered model trains, loads, evaluates and compares; SIGTERM checkpoints and the run resumes
bit for bit; user errors are one line and exit status 2; a planted pickle payload is refused;
TensorBoard event files hold the logged terms and figures."""
import dataclasses, json, os, pickle, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch

from vaelab.train import MODELS, model_class, load_run, weights_digest

_exe = Path(sys.executable).parent / 'vaelab'
VAELAB = str(_exe) if _exe.exists() else 'vaelab'      # the console script `pip install -e .` installs
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}
SMOKE = {**ENV, 'VAELAB_SMOKE': '1'}                    # tiny budgets: 2 steps, a few dozen images
TINY = ['--batch-size', '8', '--progress', 'false', '--report-n', '0']


def vaelab(*args, env=ENV, cwd=None, timeout=600):
    "Run the console script; return the CompletedProcess."
    return subprocess.run([VAELAB, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def needed_runs(name):
    "Registered models a model trains on top of: config fields named after a registry entry (e.g. code_prior's `vqvae`)."
    return [f.name for f in dataclasses.fields(model_class(name).config_class) if f.name in MODELS]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Every registered model trained for 2 steps through `vaelab train` (dependencies first, two processes at a time:
    most of each run is starting Python and writing figures) -> {name: run folder}."""
    root, out, todo, running = tmp_path_factory.mktemp('matrix'), {}, list(MODELS), {}
    while todo or running:
        ready = [n for n in todo if all(d in out for d in needed_runs(n))]
        if ready and len(running) < 2:
            name = ready[0]; todo.remove(name)
            extra = [a for d in needed_runs(name) for a in (f"--{d.replace('_', '-')}", out[d])]
            with open(root / f'{name}.log', 'w') as log:        # a file, not a pipe: no process waits on a full pipe
                running[name] = subprocess.Popen([VAELAB, 'train', '--model', name, *TINY, *map(str, extra), '--out',
                                                  str(root / name)], stdout=log, stderr=subprocess.STDOUT, env=SMOKE)
            continue
        name, p = next(iter(running.items()))         # wait for the oldest
        p.wait(timeout=600); del running[name]
        assert p.returncode == 0, f"vaelab train --model {name} failed:\n{(root / f'{name}.log').read_text()[-3000:]}"
        out[name] = root / name
    return out


@pytest.mark.parametrize('name', list(MODELS))
def test_every_model_trains_loads_and_evaluates(runs, name):
    run = runs[name]
    for f in ('config.json', 'history.json', 'metrics.json', 'checkpoints/last.pt', 'samples.png', 'loss_curves.png'):
        assert (run / f).is_file(), f
    model, hist = load_run(run)
    assert type(model) is model_class(name) and hist['step'][-1] == 2
    r = vaelab('evaluate', run, '--n', '16', env=SMOKE)
    assert r.returncode == 0, r.stderr[-3000:]
    scores = json.loads((run / 'metrics.json').read_text())
    assert set(scores) == {'reconstruction', 'generation'}
    has_encoder = getattr(model, 'has_encoder', True)
    assert isinstance(scores['reconstruction']['MSE'], float) == has_encoder
    assert all(isinstance(scores['generation'][k], float) or not has_encoder for k in ('SSIM', 'GMSD'))


def test_main_job_writes_figures_and_metrics(tmp_path):
    "`vaelab train` with the main job's settings (fewer steps): run folder with figures, held-out scores, disentanglement."
    out = tmp_path / 'run'
    r = vaelab('train', '--steps', '12', '--batch-size', '8', '--latent-dim', '3', '--out', out, '--progress', 'false',
               '--report-n', '600')
    assert r.returncode == 0, r.stderr[-3000:]
    for f in ('config.json', 'history.json', 'metrics.json', 'checkpoints/last.pt', 'loss_curves.png',
              'reconstructions.png', 'samples.png', 'traversal.png'):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    assert json.loads((out / 'history.json').read_text())['step'] == list(range(1, 13))
    m = json.loads((out / 'metrics.json').read_text())
    assert m['steps'] == 12 and m['reconstruction']['KL'] >= 0 and m['reconstruction']['BCE'] > 0
    assert set(m['disentanglement']) == {'beta_vae', 'factor_vae', 'mig', 'dci_d', 'dci_c', 'dci_i', 'sap', 'modularity', 'explicitness'}
    assert all(0 <= v <= 1 for v in m['disentanglement'].values())


def test_compare_two_models(runs, tmp_path):
    r = vaelab('compare', runs['vae'], runs['dcgan'], '--out', tmp_path / 'report', '--no-lpips', env=SMOKE)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'report' / 'results.json').read_text())
    assert list(res['tables']['reconstruction']) == ['vae', 'dcgan']
    assert (tmp_path / 'report' / 'figures' / 'dcgan.png').is_file()


def test_model_help_lists_its_own_flags_and_real_defaults():
    from vaelab.cli import train_parser           # the parser the console script prints (one torch import for all)
    for name in MODELS:
        text = train_parser(name).format_help()
        for f in dataclasses.fields(model_class(name).config_class):
            assert f"--{f.name.replace('_', '-')}" in text, (name, f.name)
    words = lambda r: ' '.join(r.stdout.split())           # argparse wraps help lines
    assert 'Adam learning rate (default: 0.0002)' in words(vaelab('train', '--model', 'dcgan', '--help'))
    assert '--steps STEPS optimisation steps (one mini-batch each) (default: 3000)' in words(vaelab('train', '--help'))
    assert "4 is Higgins et al.'s dSprites setting (β = 1 would be a plain VAE) (default: 4.0)" in words(vaelab('train', '--model', 'beta_vae', '--help'))


def test_config_json_round_trips(runs, tmp_path):
    "A run's config.json fed back with --config reproduces the run bit for bit."
    src = runs['beta_vae']
    r = vaelab('train', '--config', src / 'config.json', '--out', tmp_path / 'again', '--report-n', '0', env=SMOKE)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = load_run(src)[0], load_run(tmp_path / 'again')[0]
    assert weights_digest(a) == weights_digest(b)
    assert json.loads((tmp_path / 'again' / 'config.json').read_text())['model_config'] == \
           json.loads((src / 'config.json').read_text())['model_config']


def _wait_for(path, timeout=300):
    t0 = time.time()
    while not Path(path).exists():
        if time.time() - t0 > timeout: raise TimeoutError(f"{path} did not appear")
        time.sleep(0.2)


def test_sigterm_checkpoints_and_resume_is_bit_identical(tmp_path):
    args = ['train', '--latent-dim', '4', '--batch-size', '8', '--progress', 'false', '--report-n', '0', '--ckpt-every', '100000']
    p = subprocess.Popen([VAELAB, *args, '--steps', '100000', '--out', str(tmp_path / 'run')], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / 'run' / 'config.json'); time.sleep(3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert 'SIGTERM at step' in err and '--resume' in err and 'Traceback' not in err
    step = torch.load(tmp_path / 'run' / 'checkpoints' / 'last.pt', weights_only=True)['step']
    assert step > 0
    total = step + 5
    r1 = vaelab(*args, '--steps', total, '--out', tmp_path / 'run', '--resume')
    r2 = vaelab(*args, '--steps', total, '--out', tmp_path / 'straight')
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr[-2000:] + r2.stderr[-2000:]
    (m1, h1), (m2, h2) = load_run(tmp_path / 'run'), load_run(tmp_path / 'straight')
    assert weights_digest(m1) == weights_digest(m2)
    assert h1['loss'] == h2['loss'] and h1['step'][-1] == total


@pytest.fixture(scope='module')
def tiny_run(runs):
    return runs['vae']


@pytest.mark.parametrize('args, says', [
    (['train', '--stpes', '3'], 'unrecognized arguments: --stpes'),
    (['train', '--steps', 'many'], "invalid int value: 'many'"),
    (['train', '--model', 'vea'], "unknown model 'vea'"),
    (['train', '--beta', '-1', '--model', 'vae'], 'beta must be >= 0'),
    (['train', '--data', 'imagenet'], 'unknown data spec'),
    (['train', '--config', 'nope.json'], 'no such file'),
    (['train', '--resume', '--out', 'nowhere'], 'no checkpoint'),
    (['evaluate', 'nowhere'], 'not a run folder'),
    (['frobnicate'], "unknown command 'frobnicate'"),
])
def test_user_errors_are_one_line_and_exit_2(args, says, tmp_path):
    r = vaelab(*args, cwd=tmp_path)
    assert r.returncode == 2, (args, r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('vaelab: error: ') and says in lines[0], r.stderr


def _copy_run(src, dst):
    import shutil
    shutil.copytree(src, dst); return dst


def test_corrupt_checkpoint_names_path_and_remedy(tiny_run, tmp_path):
    run = _copy_run(tiny_run, tmp_path / 'run')
    ck = run / 'checkpoints' / 'last.pt'
    ck.write_bytes(ck.read_bytes()[:1000])
    r = vaelab('evaluate', run)
    assert r.returncode == 2 and str(ck) in r.stderr and 'delete it' in r.stderr and 'Traceback' not in r.stderr


class _Payload:
    "Unpickling this creates a file: the stand-in for an attacker's shell command."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.touch, (Path(self.path),))


def test_planted_pickle_payload_is_refused(tiny_run, tmp_path):
    run, flag = _copy_run(tiny_run, tmp_path / 'shared-run'), tmp_path / 'PWNED'
    ck = torch.load(run / 'checkpoints' / 'last.pt', weights_only=True)
    ck['history'] = _Payload(flag)
    torch.save(ck, run / 'checkpoints' / 'last.pt')
    for cmd in (['evaluate', run], ['train', '--out', run, '--resume', *TINY]):
        r = vaelab(*cmd)
        assert r.returncode == 2 and 'refusing to load' in r.stderr, r.stderr[-2000:]
    with pytest.raises(ValueError, match='refusing to load'): load_run(run)
    assert not flag.exists()
    cfg = json.loads((run / 'config.json').read_text()); cfg['model'] = 'os:system'
    (run / 'config.json').write_text(json.dumps(cfg))
    r = vaelab('evaluate', run)
    assert r.returncode == 2 and '--trust-code' in r.stderr


def test_tensorboard_event_file_has_terms_and_images(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    r = vaelab('train', '--steps', '3', '--latent-dim', '2', '--log', 'tensorboard', '--out', tmp_path / 'tb', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    acc = EventAccumulator(str(tmp_path / 'tb' / 'tensorboard')).Reload()
    tags = acc.Tags()
    assert {'loss', 'recon', 'kl', 'elbo'} <= set(tags['scalars'])
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3]
    hist = json.loads((tmp_path / 'tb' / 'history.json').read_text())
    assert [e.value for e in acc.Scalars('kl')] == pytest.approx(hist['kl'], rel=1e-6)
    assert {'reconstructions', 'samples'} <= set(tags['images'])
