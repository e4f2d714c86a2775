"""The pretrained zoo as a user gets it: from a built wheel (not the source tree), offline, on the CPU;
its cards; `vaelab zoo`."""
import json, os, subprocess, sys, zipfile
from pathlib import Path
import pytest

from vaelab.zoo import names, card, pretrained, ZOO_DIR
from vaelab.train import MODELS

ROOT = Path(__file__).resolve().parents[1]
CARD_KEYS = {'name', 'model', 'description', 'data', 'command', 'steps', 'batch_size', 'lr', 'seed', 'train_seconds',
             'hardware', 'scores'}


def test_zoo_ships_models_within_budget():
    assert names(), "the package ships no pretrained models"
    size = sum(f.stat().st_size for f in ZOO_DIR.rglob('*') if f.is_file())
    assert size <= 25e6, f"the zoo is {size / 1e6:.1f} MB; the budget is 25 MB"


@pytest.mark.parametrize('name', names())
def test_every_card_says_how_it_was_trained_and_how_it_scores(name):
    c = card(name)
    assert CARD_KEYS <= set(c), CARD_KEYS - set(c)
    assert c['command'].startswith(('vaelab train', 'python zoo/build.py')) and c['steps'] > 0
    if c['model'] in MODELS:
        assert f"--model {c['model']}" in c['command']
        assert {'reconstruction', 'generation'} <= set(c['scores'])


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    "A wheel built from the repository, unpacked into its own folder."
    d = tmp_path_factory.mktemp('wheel')
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-w', str(d), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    whl = next(d.glob('vaelab-*.whl'))
    with zipfile.ZipFile(whl) as z: z.extractall(d / 'site')
    return d / 'site'


def test_wheel_contains_the_zoo_and_loads_it_offline(wheel, tmp_path):
    for n in names():
        for f in ('model.safetensors', 'config.json', 'card.json'):
            assert (wheel / 'vaelab' / 'pretrained' / n / f).is_file(), (n, f)
    code = ("import vaelab, vaelab.zoo as z, torch; "
            "assert vaelab.__file__.startswith(%r), vaelab.__file__; "
            "m = z.pretrained('vae'); x = torch.rand(2, 1, 64, 64).round(); "
            "print(type(m).__name__, m.reconstruct(x).shape, next(m.parameters()).device)") % str(wheel)
    env = {**os.environ, 'PYTHONPATH': str(wheel), 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ['VAE', 'torch.Size([2,', '1,', '64,', '64])', 'cpu']


def test_unknown_name_and_cli_cards():
    with pytest.raises(ValueError, match='expected one of'): pretrained('beta-vae')
    exe = Path(sys.executable).parent / 'vaelab'
    r = subprocess.run([str(exe), 'zoo'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and all(f'`{n}`' in r.stdout for n in names())
    r = subprocess.run([str(exe), 'zoo', names()[0]], capture_output=True, text=True, timeout=300)
    assert json.loads(r.stdout) == card(names()[0])


def test_headline_card_scores_are_what_chapter_6_computes_now():
    "The shipped β-VAE's card quotes the disentanglement scores that today's metric code gives its shipped weights."
    import importlib.util
    sys.path.insert(0, str(ROOT / 'zoo'))
    try:
        spec = importlib.util.spec_from_file_location('zoo_build', ROOT / 'zoo' / 'build.py')
        build = importlib.util.module_from_spec(spec); spec.loader.exec_module(build)
    finally: sys.path.remove(str(ROOT / 'zoo'))
    quoted, now = card('beta_vae')['scores']['disentanglement'], build.disentanglement_scores(pretrained('beta_vae').eval())
    assert set(quoted) == set(now)
    stale = {k: (quoted[k], now[k]) for k in now if abs(quoted[k] - now[k]) > 5e-4}
    assert not stale, f"card scores (quoted, now) out of date; run `python zoo/build.py rescore beta_vae`: {stale}"
