"""Tests of vaelab.disentangle: metric properties on constructed codes, hand cases, sampling, bad input, widget."""
import numpy as np, pytest, torch
from vaelab.disentangle import (GroundTruthData, ToyGroundTruth, check_ground_truth, check_codes_factors, sample_codes,
                                discretize, mutual_info_matrix, entropies, mig, modularity, sap, sap_matrix, dci_from_importance, dci,
                                beta_vae_score, factor_vae_score, fixed_factor_groups, evaluate_codes, score_disentanglement, SCORE_NAMES,
                                MetricReport, explorer_figure, MetricExplorer, fit_gbt, gbt_predict, presort)

SIZES = np.array([3, 6, 10, 8])


@pytest.fixture(scope='module')
def pool():
    r = np.random.default_rng(0)
    f = r.integers(0, SIZES, size=(3000, len(SIZES)))
    return f, f / (SIZES - 1), r


@pytest.fixture(scope='module')
def reports(pool):
    f, v, r = pool
    Q = np.linalg.qr(r.normal(size=(4, 4)))[0]
    reps = {'factors': v + 0.01 * r.normal(size=v.shape),
            'permuted': (v + 0.01 * r.normal(size=v.shape))[:, [2, 0, 3, 1]] * [3., -1, 0.2, 50],
            'rotated': ((v - v.mean(0)) / v.std(0)) @ Q,
            'noise': r.normal(size=v.shape)}
    return {k: evaluate_codes(z, f, n_points=1500).scores for k, z in reps.items()}


def test_perfect_code_near_top(reports):
    s = reports['factors']
    assert s['beta_vae'] > 0.99 and s['factor_vae'] > 0.99 and s['mig'] > 0.85 and s['dci_d'] > 0.9
    assert s['dci_c'] > 0.9 and s['modularity'] > 0.95 and s['explicitness'] > 0.95 and s['sap'] > 0.2


def test_permutation_and_rescaling_invariant(reports):
    for k in SCORE_NAMES:      # SAP as published fits its SVMs on the raw latents: not scale-invariant (tested below)
        if k != 'sap': assert reports['permuted'][k] == pytest.approx(reports['factors'][k], abs=0.03), k


def test_rotation_lowers_disentanglement_not_information(reports):
    f, r = reports['factors'], reports['rotated']
    for k in ('mig', 'dci_d', 'dci_c'): assert r[k] < f[k] - 0.2, k
    assert r['sap'] < 0.5 * f['sap']
    assert r['modularity'] < f['modularity'] and r['explicitness'] > f['explicitness'] - 0.02


def test_noise_at_bottom(reports):
    n = reports['noise']
    assert n['beta_vae'] < 0.35 and n['factor_vae'] < 0.4 and n['mig'] < 0.02 and n['sap'] < 0.03
    assert n['dci_d'] < 0.15 and abs(n['explicitness'] - 0.5) < 0.05


def test_nuisance_keeps_d_duplicates_lose_completeness(pool):
    f, v, r = pool
    base = v + 0.01 * r.normal(size=v.shape)
    d0 = dci(base, f); dn = dci(np.c_[base, r.normal(size=(len(v), 3))], f)
    dd = dci(np.c_[base, v + 0.05 * r.normal(size=v.shape)], f)
    assert dn['disentanglement'] > d0['disentanglement'] - 0.03 and dd['disentanglement'] > d0['disentanglement'] - 0.03
    assert dd['completeness'] < d0['completeness'] - 0.08


def test_hand_cases():
    r = np.random.default_rng(1); c = r.integers(0, 2, size=(4000, 2))
    assert mig(np.c_[c, c[:, 0]], c)['mig'] == pytest.approx(0.5, abs=1e-3)
    np.testing.assert_allclose(modularity([[1., 0, 0], [1, 1, 1], [0, 0, 0]])[1], [1, 0, 0])
    np.testing.assert_allclose(dci_from_importance(np.eye(3))[:2], (1, 1))
    np.testing.assert_allclose(dci_from_importance([[1., 1, 1], [0, 0, 0]])[:2], (0, 1), atol=1e-9)
    x = r.normal(size=(2000, 2))
    for j in range(2): np.testing.assert_array_equal(np.bincount(discretize(x)[:, j], minlength=20), np.histogram(x[:, j], 20)[0])
    from sklearn.metrics import mutual_info_score
    b = discretize(c[:, :1] + r.normal(size=(4000, 1)))
    assert mutual_info_matrix(b, c)[0, 0] == pytest.approx(mutual_info_score(c[:, 0], b[:, 0]), abs=1e-12)
    assert entropies(c)[0] == pytest.approx(mutual_info_score(c[:, 0], c[:, 0]), abs=1e-12)


def test_fixed_factor_groups_share_value():
    r = np.random.default_rng(2); pool = r.integers(0, [3, 40], size=(5000, 2)); k = r.integers(0, 2, 300)
    g = fixed_factor_groups(pool, k, 32, r)
    assert (np.ptp(pool[g, k[:, None]], axis=1) == 0).all()
    i1, i2 = fixed_factor_groups(pool, k, 32, r, partners=True)
    assert (pool[i1, k[:, None]] == pool[i2, k[:, None]]).all() and (i1 != i2).all()


def test_factor_vae_prunes_collapsed_latents(pool):
    f, v, r = pool
    z = np.c_[v + 0.01 * r.normal(size=v.shape), 1e-4 * r.normal(size=(len(v), 2))]   # two collapsed latents
    out = factor_vae_score(z, f, 1000, 500)
    assert out['active_latents'] == 4 and out['factor_vae'] > 0.99
    assert factor_vae_score(1e-4 * r.normal(size=v.shape), f, 100, 50)['factor_vae'] == 0


def test_sampling_with_oracle_and_protocol():
    toy = ToyGroundTruth(); assert isinstance(toy, GroundTruthData)
    z, c = sample_codes(toy, toy.oracle, n=500, rng=0, batch_size=128)
    np.testing.assert_allclose(z, toy.values(c), atol=1e-9)
    with pytest.raises(TypeError, match='lacks factor_sizes'): check_ground_truth(object())
    with pytest.raises(TypeError, match='lacks factor_sizes'): sample_codes([1, 2], toy.oracle, n=10)
    with pytest.raises(ValueError, match=r'expected codes of shape \(10, D\)'): sample_codes(toy, lambda x: x[:2], n=10)


def test_sampling_a_model_on_dsprites():
    from vaelab.data import DSprites
    from vaelab.elbo import VAE, VAEConfig
    torch.manual_seed(0)
    m = VAE(VAEConfig(latent_dim=4))
    z, c = sample_codes(DSprites(), m, n=40, rng=0, batch_size=16)
    assert z.shape == (40, 4) and c.shape == (40, 5)       # colour (one value) dropped


def test_bad_input():
    r = np.random.default_rng(3); z, f = r.normal(size=(50, 3)), r.integers(0, 3, size=(50, 2))
    with pytest.raises(ValueError, match='50 codes and 49 factor rows'): mig(z, f[:49])
    with pytest.raises(ValueError, match='factor 1 takes a single value'): dci(z, np.c_[f[:, :1], np.zeros(50)])
    zn = z.copy(); zn[7, 2] = np.nan
    with pytest.raises(ValueError, match='NaN/inf.*sample 7, latent 2'): sap(zn, f)
    with pytest.raises(ValueError, match=r'2-D array \(N, D\)'): beta_vae_score(z[:, 0], f)
    with pytest.raises(TypeError, match='integer classes'): mig(z, f + 0.5)
    with pytest.raises(ValueError, match='at least 2 latents'): mig(z[:, :1], f)
    with pytest.raises(ValueError, match="'gbt', 'gbt-sklearn' or 'forest'"): dci(z, f, importance='lasso')
    with pytest.raises(ValueError, match='at least 2 classes'): fit_gbt(z, np.zeros(50))


def test_explorer_callbacks():
    import matplotlib; matplotlib.use('Agg')
    r = np.random.default_rng(4)
    reps = {'a': MetricReport({s: 0.5 for s in SCORE_NAMES}, r.random((3, 2)), r.random((3, 2)), ('x', 'y')),
            'b': MetricReport({s: 0.9 for s in SCORE_NAMES}, r.random((5, 2)), r.random((5, 2)), ('x', 'y'))}
    ex = MetricExplorer(reps)
    assert ex.state['run'] == 'a' and ex.latent.max == 2
    ex.run.value = 'b'
    assert ex.state['run'] == 'b' and ex.latent.max == 4 and 'b' in ex.picture.axes[1].get_title()
    ex.latent.value = 4; assert ex.state['latent'] == 4
    ex.runs.value = ('b',); assert len(ex.picture.axes[0].patches) == len(SCORE_NAMES)
    with pytest.raises(ValueError, match='latent: expected 0..2'): explorer_figure(reps, run='a', latent=3)


def _svm_reference(z, c, n_train):
    "disentanglement_lib's SAP score matrix, written out: LinearSVC(C=0.01, class_weight='balanced') on each raw latent."
    from sklearn.svm import LinearSVC
    return np.array([[(LinearSVC(C=0.01, class_weight='balanced').fit(z[:n_train, j:j+1], c[:n_train, k]).predict(z[n_train:, j:j+1])
                       == c[n_train:, k]).mean() for k in range(c.shape[1])] for j in range(z.shape[1])])


def test_sap_default_is_the_published_raw_latent_score():
    r = np.random.default_rng(7); c = r.integers(0, [3, 6], size=(3000, 2)); z = c / [2, 5] + 0.01 * r.normal(size=(3000, 2))
    for scale in (1., 0.1, 10.):
        np.testing.assert_array_equal(sap_matrix(z * scale, c), _svm_reference(z * scale, c, 2000))
    raw = [sap(z * s, c)['sap'] for s in (0.1, 1., 10.)]
    std = [sap(z * s, c, standardize=True)['sap'] for s in (0.1, 1., 10.)]
    assert raw[0] < raw[1] - 0.05 and raw[2] > raw[1] + 0.05         # the published score moves with the scale ...
    assert max(std) - min(std) < 1e-12                                 # ... the standardised option does not


def _dsprites_like(n, dim, seed):
    r = np.random.default_rng(seed); sizes = np.array([3, 6, 40, 32, 32]); c = r.integers(0, sizes, size=(n, 5))
    W = r.normal(size=(5, dim)) * (r.random((5, dim)) < 0.4) + np.eye(5, dim)
    return (c / (sizes - 1)) @ W + 0.05 * r.normal(size=(n, dim)), c


def test_gbt_by_hand():
    r = np.random.default_rng(8); y = r.integers(0, 2, 400)
    z = np.c_[r.normal(size=400), y + 0.05 * r.normal(size=400)]      # latent 1 separates the classes
    m = fit_gbt(z, y, n_stages=5, device='cpu')
    assert m.importance[1] > 0.99 and (gbt_predict(m, z) == y).all()
    assert m.feats[0][0].tolist() == [[1]] and 0.3 < m.thrs[0][0].item() < 0.7     # first split: latent 1 between the classes
    P = presort(np.array([[2.], [0.], [1.], [1.]]), 'cpu')
    assert P.order.tolist() == [[1, 2, 3, 0]] and P.close.tolist() == [[1]]


def test_dci_default_is_boosted_trees_as_sklearn():
    z, c = _dsprites_like(1200, 5, 3)
    a, b = dci(z, c[:, :2]), dci(z, c[:, :2], importance='gbt-sklearn')
    for key in ('disentanglement', 'completeness', 'informativeness'): assert a[key] == pytest.approx(b[key], abs=0.01), key
    f = dci(z, c[:, :2], importance='forest')
    assert f['importance'].shape == a['importance'].shape and not np.allclose(f['importance'], a['importance'])


def test_score_disentanglement_times_the_encoding():
    from vaelab.elbo import VAE, VAEConfig
    torch.manual_seed(0)
    rep = score_disentanglement(VAE(VAEConfig(latent_dim=3)), n=300, n_points=200, importance='forest')
    assert list(rep.seconds)[:2] == ['encode', 'beta_vae'] and all(s >= 0 for s in rep.seconds.values())
