"""Tests of vaelab.tune: GP posterior and EI against independent formulas, the report's Figure 5
suggestion, resume from the search file, failures and bad input."""
import json, math, warnings
import numpy as np
import pytest
from scipy.stats import norm

from vaelab.tune import BayesOpt, check_bounds, expected_improvement, make_gp

BETA = np.array([1., 50., 100., 150.])               # 004_407f97fe1ecaddc6.txt, Tables 2 and 4
FID = np.array([139.33, 147.92, 137.98, 151.08])


def chol_posterior(x, y, xs, sf, l, noise):
    "Independent zero-mean GP posterior (Cholesky form): mean and std of f at xs."
    k = lambda a, b: sf**2 * np.exp(-0.5 * (np.subtract.outer(a, b) / l)**2)
    L = np.linalg.cholesky(k(x, x) + noise * np.eye(len(x)))
    a = np.linalg.solve(L.T, np.linalg.solve(L, y))
    ks = k(x, xs)
    v = np.linalg.solve(L, ks)
    return ks.T @ a, np.sqrt(np.clip(sf**2 - (v**2).sum(0), 0, None))


def report_search(extra=()):
    bo = BayesOpt((1, 150), sigma_f=50., length_scale=30., n_init=4)
    for b, f in [*zip(BETA, FID), *extra]: bo.observe(b, f)
    return bo


def parabola(x): return (x - 0.3)**2


# ---------------------------------------------------------------- bounds and GP
@pytest.mark.parametrize('bounds, msg', [((1, 1), 'empty'), ((5, 1), 'reversed'), ((0, math.nan), 'finite'),
                                         ((1,), 'pair'), (3, 'pair'), (('a', 2), 'pair')])
def test_bad_bounds(bounds, msg):
    with pytest.raises((ValueError, TypeError), match=msg): check_bounds(bounds)
    with pytest.raises((ValueError, TypeError), match=msg): BayesOpt().run(parabola, bounds=bounds, n_iter=2)


@pytest.mark.parametrize('noise', [1e-6, 1.0, 30.0])
def test_sklearn_posterior_matches_formula(noise):
    xs = np.linspace(-20, 170, 97)
    mu, sd = make_gp(50., 30., noise=noise).fit(BETA[:, None], FID).predict(xs[:, None], return_std=True)
    mu_ref, sd_ref = chol_posterior(BETA, FID, xs, 50., 30., noise)
    np.testing.assert_allclose(mu, mu_ref, atol=1e-6)
    np.testing.assert_allclose(sd, sd_ref, atol=1e-4)


def test_fixed_kernel_is_not_fitted_and_not_normalised():
    gp = make_gp(50., 30.).fit(BETA[:, None], FID)
    assert gp.kernel_.k1.constant_value == 2500. and gp.kernel_.k2.length_scale == 30.
    far = gp.predict(np.array([[1e4]]), return_std=True)
    np.testing.assert_allclose([far[0][0], far[1][0]], [0., 50.], atol=1e-8)   # zero-mean prior, raw units
    with pytest.raises(ValueError, match='both'): make_gp(sigma_f=50.)
    with pytest.raises(ValueError, match='> 0'): make_gp(0., 30.)


# ---------------------------------------------------------------- expected improvement
@pytest.mark.parametrize('mu, sd, best, xi', [(130., 8., 126.75, 0.), (140., 20., 126.75, 1.5), (120., 3., 126.75, 0.)])
def test_ei_matches_monte_carlo(mu, sd, best, xi):
    f = np.random.default_rng(1).normal(mu, sd, 500_000)
    gain = np.maximum(best - xi - f, 0)
    assert abs(expected_improvement(mu, sd, best, xi) - gain.mean()) < 4 * gain.std() / np.sqrt(len(f))


def test_ei_limits_and_derivatives():
    np.testing.assert_allclose(expected_improvement([120., 130.], [0., 0.], 126.75), [6.75, 0.])
    # far below the incumbent EI -> best - mu; far above -> 0 (a maximisation formula gets both wrong)
    assert abs(expected_improvement(50., 1., 126.75) - 76.75) < 1e-9
    assert expected_improvement(500., 1., 126.75) < 1e-12
    h, u = 1e-5, (126.75 - 131.) / 7.
    d_mu = (expected_improvement(131. + h, 7., 126.75) - expected_improvement(131. - h, 7., 126.75)) / (2 * h)
    d_sd = (expected_improvement(131., 7. + h, 126.75) - expected_improvement(131., 7. - h, 126.75)) / (2 * h)
    assert abs(d_mu + norm.cdf(u)) < 1e-6 and abs(d_sd - norm.pdf(u)) < 1e-6
    with pytest.raises(ValueError, match='>= 0'): expected_improvement(0., -1., 0.)


# ---------------------------------------------------------------- the report's Figure 5
def test_report_suggestion_where_the_derivation_says():
    bo = report_search()
    s = bo.suggest()
    g = np.linspace(1, 150, 14_901)
    mu, sd = chol_posterior(BETA, FID, g, 50., 30., 1e-6)
    ei = expected_improvement(mu, sd, FID.min())
    assert abs(s - g[ei.argmax()]) < 0.02                        # the loop maximises the derived EI
    mid = (g > 50) & (g < 100)
    assert g[mid][sd[mid].argmax()] < s < g[mid][mu[mid].argmin()]   # between σ peak and μ minimum
    assert abs(s - 76.32) < 3                                     # the report's (unrounded) suggestion
    assert bo.acquisition([76.32])[0] > 0.97 * ei.max()           # the report's value is on the EI plateau


def test_report_after_beta_75():
    bo4, bo5 = report_search(), report_search([(75., 126.75)])
    s5 = bo5.suggest()
    assert 75 < s5 < 100
    assert bo5.acquisition([s5])[0] < bo4.acquisition([bo4.suggest()])[0] / 5
    mu, sd = bo5.predict([75.])
    assert abs(mu[0] - 126.75) < 0.05 and sd[0] < 0.1


# ---------------------------------------------------------------- the loop
def test_design_then_ei_finds_minimum():
    bo = BayesOpt((0, 1))
    best = bo.run(parabola, n_iter=9, progress=False)
    np.testing.assert_allclose(bo.X[:3], [0, .5, 1])
    assert abs(best[0] - 0.3) < 0.02 and best[1] == bo.y.min()
    assert len(set(np.round(bo.X, 9))) == len(bo.X)              # never the same point twice


def test_min_dist_keeps_suggestions_apart():
    bo = BayesOpt((0, 1), min_dist=0.1)
    bo.run(parabola, n_iter=8, progress=False)
    assert np.diff(np.sort(bo.X)).min() >= 0.1 - 1e-9
    with pytest.raises(ValueError, match='min_dist'): BayesOpt((0, 1), min_dist=-1)


def test_resume_calls_objective_only_for_new_points(tmp_path):
    calls = []
    def f(x, run_dir=None):
        calls.append((x, run_dir)); return parabola(x)
    BayesOpt((0, 1), path=tmp_path).run(f, n_iter=2, progress=False)
    assert len(calls) == 2
    saved = json.loads((tmp_path/'search.json').read_text())
    assert [p['status'] for p in saved['points']] == ['ok', 'ok'] and saved['bounds'] == [0., 1.]
    assert all({'x', 'y', 'status', 'run_dir', 'seconds'} <= set(p) for p in saved['points'])
    bo = BayesOpt(path=tmp_path)                                  # bounds come from the file
    bo.run(f, bounds=(0, 1), n_iter=4, progress=False)
    assert len(calls) == 4 and len(bo.records) == 4
    assert {c[0] for c in calls[2:]}.isdisjoint({c[0] for c in calls[:2]})
    assert all((tmp_path/f'point_{i:03d}').is_dir() for i in range(4))
    BayesOpt(path=tmp_path).run(f, n_iter=4, progress=False)      # nothing left to do
    assert len(calls) == 4
    with pytest.raises(ValueError, match='bounds'): BayesOpt((0, 2), path=tmp_path)
    with pytest.raises(ValueError, match='bounds'): BayesOpt(path=tmp_path).run(f, bounds=(0, 2), n_iter=5)


def test_resume_is_deterministic(tmp_path):
    full = BayesOpt((0, 1)); full.run(parabola, n_iter=5, progress=False)
    BayesOpt((0, 1), path=tmp_path).run(parabola, n_iter=3, progress=False)
    part = BayesOpt((0, 1), path=tmp_path); part.run(parabola, n_iter=5, progress=False)
    np.testing.assert_allclose(part.X, full.X, atol=1e-9)


def test_interrupted_point_is_redone_first(tmp_path):
    calls = []
    def f(x, run_dir=None):
        calls.append((x, run_dir))
        if len(calls) == 3: raise KeyboardInterrupt
        return parabola(x)
    with pytest.raises(KeyboardInterrupt): BayesOpt((0, 1), path=tmp_path).run(f, n_iter=4, progress=False)
    saved = json.loads((tmp_path/'search.json').read_text())['points']
    assert [p['status'] for p in saved] == ['ok', 'ok', 'running']
    BayesOpt((0, 1), path=tmp_path).run(f, n_iter=4, progress=False)
    assert calls[3] == calls[2] and len(calls) == 5


def test_nan_is_recorded_as_failed_and_kept_out_of_the_gp(tmp_path):
    def f(x): return float('nan') if x > 0.8 else parabola(x)
    bo = BayesOpt((0, 1), path=tmp_path)
    with pytest.warns(UserWarning, match='failed'): bo.run(f, n_iter=6, progress=False)
    saved = json.loads((tmp_path/'search.json').read_text())['points']
    assert saved[2]['x'] == 1.0 and saved[2]['status'] == 'failed' and saved[2]['y'] is None
    assert 1.0 not in bo.X and np.isfinite(bo.y).all() and len(bo.X) == 5
    assert all(abs(r['x'] - 1.0) > 1e-3 for r in bo.records[3:])  # a failed point is not suggested again
    assert len(bo.gp().y_train_) == 5                             # only finite points reach the GP
    with pytest.raises(ValueError, match='failed'): bo.observe(0.4, float('nan'))


def test_all_failed_is_a_clear_error():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(RuntimeError, match='all 3 evaluated points failed'):
            BayesOpt((0, 1)).run(lambda x: math.inf, n_iter=5, progress=False)


def test_bad_observations_and_objectives():
    bo = BayesOpt((0, 1))
    with pytest.raises(ValueError, match='outside'): bo.observe(2., 0.)
    with pytest.raises(TypeError, match='real number'): bo.observe(.5, 'x')
    with pytest.raises(TypeError, match='real number'): BayesOpt((0, 1)).run(lambda x: None, n_iter=2, progress=False)
    with pytest.raises(ValueError, match='n_iter'): BayesOpt((0, 1)).run(parabola, n_iter=0)
    with pytest.raises(ValueError, match='bounds'): BayesOpt().suggest()
    with pytest.raises(ValueError, match='n_init'): BayesOpt((0, 1), n_init=1)


def test_tensor_objective_value():
    torch = pytest.importorskip('torch')
    bo = BayesOpt((0, 1))
    bo.run(lambda x: torch.tensor(parabola(x)), n_iter=4, progress=False)
    assert bo.y.dtype == np.float64 and len(bo.y) == 4


# ---------------------------------------------------------------- the dSprites objective and the CLI
def test_dsprites_objective_tiny_run(tmp_path):
    pytest.importorskip('vaelab.train')
    from vaelab.tune import dsprites_beta_objective
    kw = dict(steps=3, batch_size=8, latent_dim=3, n_train=32, n_val=16)
    v = dsprites_beta_objective(2.0, tmp_path/'run', **kw)
    assert math.isfinite(v) and v > 0
    saved = json.loads((tmp_path/'run'/'objective.json').read_text())
    assert saved['beta'] == 2.0 and saved['heldout_neg_elbo'] == v
    assert dsprites_beta_objective(2.0, tmp_path/'run', **kw) == v          # finished run: loaded, same score
    with pytest.raises(ValueError, match='beta'): dsprites_beta_objective(0., None, **kw)


def test_dsprites_objective_divergence_is_nan(monkeypatch):
    train = pytest.importorskip('vaelab.train')
    from vaelab.tune import dsprites_beta_objective
    def boom(*a, **k): raise train.NonFiniteLossError('loss is nan at step 1')
    monkeypatch.setattr(train, 'fit_or_load', boom)
    with pytest.warns(UserWarning, match='diverged'):
        assert math.isnan(dsprites_beta_objective(1.0, None, steps=2, batch_size=4, latent_dim=2, n_train=8, n_val=8))


def test_cli_runs_and_resumes(tmp_path, capsys):
    from vaelab.tune import main
    bo = main(['--search-dir', str(tmp_path), '--objective', 'math:cos', '--bounds', '2', '4.5', '--n-iter', '6'])
    assert abs(bo.best[0] - math.pi) < 0.01 and 'best: x=' in capsys.readouterr().out
    assert len(main(['--search-dir', str(tmp_path), '--objective', 'math:cos', '--n-iter', '7']).records) == 7
    with pytest.raises(ValueError, match='module:function'):
        main(['--search-dir', str(tmp_path), '--objective', 'cos', '--n-iter', '8'])
    with pytest.raises(SystemExit): main([])                                 # --search-dir is required


def test_vaegan_fid_objective_code_path(tmp_path, monkeypatch):
    "The GPU objective's code path on the CPU, with random 'CelebA' and a stand-in for FID (no weights here)."
    data = pytest.importorskip('vaelab.data'); ev = pytest.importorskip('vaelab.evaluate')
    pytest.importorskip('vaelab.vaegan')
    from vaelab.tune import vaegan_fid_objective, vaegan_fid_ready
    rng = np.random.default_rng(0)
    fake_celeba = {s: rng.integers(0, 256, (16, 3, 64, 64), dtype=np.uint8) for s in ('train', 'test')}
    monkeypatch.setattr(data, 'celeba64', lambda root, split='train', **k: fake_celeba[split])
    seen = {}
    def fake_fid(real, fake):
        seen.update(real=tuple(real.shape), fake=tuple(fake.shape), lo=float(fake.min()), hi=float(fake.max()))
        return 42.0
    monkeypatch.setattr(ev, 'fid', fake_fid)
    v = vaegan_fid_objective(10., tmp_path/'run', steps=1, n_samples=8, latent_dim=8, batch_size=4, device='cpu')
    assert v == 42.0 and seen['real'] == seen['fake'] == (8, 3, 64, 64) and 0 <= seen['lo'] <= seen['hi'] <= 1
    assert (tmp_path/'run'/'checkpoints'/'last.pt').exists()
    assert isinstance(vaegan_fid_ready(), str)
