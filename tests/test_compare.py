"""End-to-end tests of vaelab.compare beyond the notebook's: a VQ-VAE and an autoencoder trained by `vaelab train`
compared with a β-VAE; the report's numbers against chapter 9's scorer on the same images; missing LPIPS weights."""
import json, math
import pytest
import torch

from vaelab import compare as C
from vaelab.cli import main as vaelab, heldout_images, load_model
from vaelab.evaluate import evaluate_model
import vaelab.evaluate as ev

TINY = ['--steps', '3', '--batch-size', '8', '--progress', 'false', '--report-n', '0']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "A β-VAE, a VQ-VAE and an autoencoder trained for 3 steps through the command line -> {name: run folder}."
    root = tmp_path_factory.mktemp('runs')
    for m in ('beta_vae', 'vqvae', 'ae'): vaelab(['train', '--model', m, *TINY, '--out', str(root / m)])
    return {m: root / m for m in ('beta_vae', 'vqvae', 'ae')}


def test_report_is_the_scorer_on_the_same_images(runs, tmp_path):
    res = C.run_comparison(list(runs.values()), tmp_path / 'rep', n_eval=16, n_samples=16, device='cpu', lpips=False, grid_n=4)
    x = heldout_images('dsprites', 16, 'cpu', 0)
    for name, run in runs.items():
        want = evaluate_model(load_model(str(run))[0], x, n_samples=16, seed=0, lpips_model=None)
        for table in ('reconstruction', 'generation'):
            got = res['tables'][table][name]
            assert list(got) == list(want[table])
            for c, v in want[table].items():
                assert got[c] == v if isinstance(v, str) else got[c] == pytest.approx(v, rel=1e-5), (name, table, c)
    vq = res['models']['vqvae']['model_config']
    assert res['tables']['reconstruction']['vqvae']['KL'] == pytest.approx(vq['grid_size'] ** 2 * math.log(vq['num_codes']))
    assert res['tables']['reconstruction']['ae']['KL'].startswith('unavailable: AE has no posterior')
    assert list(res['tables']['generation'])[0] == C.FLOOR
    saved = json.loads((tmp_path / 'rep' / 'results.json').read_text())
    assert saved['tables'] == json.loads(json.dumps(res['tables'])) and saved['config']['n_eval'] == 16
    html = (tmp_path / 'rep' / 'report.html').read_text()
    assert f"{res['tables']['reconstruction']['beta_vae']['GMSD']:.4g}" in html and '<td>real data (FD floor)</td>' in html


def test_missing_lpips_weights_are_a_reason_not_a_crash(runs, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))           # no weights there
    ev._LPIPS_CACHE.clear()
    res = C.run_comparison([runs['beta_vae']], tmp_path / 'rep', n_eval=8, n_samples=8, device='cpu', lpips=True, grid_n=4)
    assert res['tables']['reconstruction']['beta_vae']['LPIPS'] == 'unavailable: missing weights alexnet-owt-7be5be79.pth'
    assert 'missing weights alexnet-owt-7be5be79.pth' in (tmp_path / 'rep' / 'report.md').read_text()


def test_nothing_to_compare_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match='at least one run folder'): C.run_comparison([], tmp_path / 'rep')
