"The compare command writes the two-table report on procedural dSprites at a tiny budget."
import json
import pytest

from vaelab import compare as C
from vaelab.evaluate import COLUMNS

TINY = ['--steps', '2', '--batch-size', '8', '--n-eval', '8', '--n-samples', '8', '--betas', '0.5,4',
        '--device', 'cpu', '--grid-n', '4', '--no-lpips', '--quiet']


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp('cmp')
    return out, C.main([str(out)] + TINY)


def test_report_files_and_tables(report):
    out, res = report
    for f in ('report.md', 'report.html', 'results.json'): assert (out / f).is_file()
    names = ['VAE', 'β-VAE (β=0.5)', 'β-VAE (β=4)', 'VQ-VAE', 'VAEGAN']
    data = json.loads((out / 'results.json').read_text())
    assert data['config']['steps'] == 2 and data['config']['betas'] == [0.5, 4.0] and data['config']['data'] == 'dsprites'
    for table in ('reconstruction', 'generation'):
        assert list(data['tables'][table]) == names
        for row in data['tables'][table].values(): assert list(row) == list(COLUMNS)
    vae = data['tables']['reconstruction']['VAE']
    assert all(isinstance(vae[c], float) for c in ('BCE', 'MSE', 'KL', 'ELBO', 'SSIM', 'GMSD'))
    assert vae['LPIPS'].startswith('unavailable:')
    md = (out / 'report.md').read_text()
    assert f"{vae['MSE']:.4g}" in md and 'Generation / self-reconstruction' in md and 'SSIM ↑' in md
    assert '<table>' in (out / 'report.html').read_text()


def test_every_built_model_has_run_figures_and_curves(report):
    out, res = report
    built = {n: m for n, m in res['models'].items() if 'slug' in m}
    assert {'VAE', 'β-VAE (β=0.5)', 'β-VAE (β=4)'} <= set(built)
    for n, m in built.items():
        assert (out / 'figures' / f"{m['slug']}.png").is_file() and (out / 'figures' / f"{m['slug']}-loss.png").is_file()
        run = json.loads((out / 'runs' / m['slug'] / 'config.json').read_text())
        assert run['train']['steps'] == 2 and run['train']['seed'] == 0 and run['model_config']['arch'] == 'burgess'
    for n, m in res['models'].items():                              # families whose chapter is missing: marked, not crashed
        if 'slug' not in m: assert all(v.startswith('unavailable:') for v in res['tables']['reconstruction'][n].values())


def test_second_run_loads_instead_of_training(report):
    out, res = report
    again = C.main([str(out)] + TINY)
    assert all(m['reused_run'] for m in again['models'].values() if 'slug' in m)
    assert again['tables']['reconstruction']['VAE']['MSE'] == pytest.approx(res['tables']['reconstruction']['VAE']['MSE'], rel=1e-6)


def test_cli_dispatch_and_bad_arguments(tmp_path):
    from vaelab.cli import main
    res = main(['compare', str(tmp_path), '--models', 'vae'] + TINY)
    assert list(res['tables']['generation']) == ['VAE'] and (tmp_path / 'report.md').is_file()
    with pytest.raises(ValueError, match='subset of'): C.run_comparison(tmp_path, models=('vae', 'gan'))


@pytest.mark.parametrize('module,name', [('vaelab.vq', 'VQ-VAE'), ('vaelab.vaegan', 'VAEGAN')])
def test_vq_and_vaegan_rows(report, module, name):
    pytest.importorskip(module)
    out, res = report
    assert 'slug' in res['models'][name], res['models'][name]
    for table in ('reconstruction', 'generation'):
        row = res['tables'][table][name]
        assert all(isinstance(row[c], float) for c in ('BCE', 'MSE', 'KL', 'ELBO', 'SSIM', 'GMSD')), row
    if name == 'VQ-VAE':
        import math
        c = res['models'][name]['model_config']
        assert res['tables']['reconstruction'][name]['KL'] == pytest.approx(c['grid_size'] ** 2 * math.log(c['num_codes']))


def test_missing_lpips_weights_are_reported_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))           # no weights there
    import vaelab.evaluate as ev
    ev._LPIPS_CACHE.clear()
    res = C.main([str(tmp_path / 'rep'), '--models', 'vae'] + [a for a in TINY if a != '--no-lpips'])
    assert res['tables']['reconstruction']['VAE']['LPIPS'] == 'unavailable: missing weights alexnet-owt-7be5be79.pth'
    md = (tmp_path / 'rep' / 'report.md').read_text()
    assert '**Notes**' in md and str(tmp_path / 'torch' / 'hub' / 'checkpoints') in md
