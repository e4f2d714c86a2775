"Unit tests of vaelab.beta (fast, CPU): schedules, β_norm, capacity objective, per-dimension KL, the model, a 2-step sweep."
import json, math
import pytest
import torch
from torch.distributions import Normal, kl_divergence
from vaelab.beta import (beta_norm, beta_from_norm, linear_warmup, cyclical, capacity, capacity_loss, kl_per_dim,
                         active_units, BetaVAEConfig, BetaVAE, evaluate_vae, beta_sweep, markdown_table, runs_dir)
from vaelab.elbo import VAE, VAEConfig
from vaelab.data import small_dsprites


def test_beta_norm_roundtrip_and_paper_value():
    assert beta_norm(4, 10, 4096) == pytest.approx(4 * 10 / 4096)
    for b in (0.1, 1, 250):
        assert beta_from_norm(beta_norm(b, 32, 12288), 32, 12288) == pytest.approx(b)
    with pytest.raises(ValueError, match='input_dim'): beta_norm(1, 10, 0)


@pytest.mark.parametrize('step,expected', [(0, 0.), (30, 1.2), (75, 3.), (1000, 4.)])
def test_linear_warmup(step, expected):
    assert linear_warmup(step, 100, 4.) == pytest.approx(expected)


def test_cyclical_restarts_and_holds():
    T, K = 1200, 3                         # cycles of 400 steps, ramp over the first 200
    vals = [cyclical(t, T, K, 0.5, 2.) for t in (0, 100, 200, 399, 400, 500, 1199, 1200, 5000)]
    assert vals == pytest.approx([0., 1., 2., 2., 0., 1., 2., 2., 2.])
    with pytest.raises(ValueError, match='ratio'): cyclical(0, 10, 1, 0.)


def test_capacity_schedule_and_gradient_sign():
    assert [capacity(t, 20., 100) for t in (0, 50, 100, 10**6)] == pytest.approx([0., 10., 20., 20.])
    grads = []
    for kl0 in (4., 6.):                   # C = 5: below C the penalty pulls KL up, above it pushes KL down
        kl = torch.tensor(kl0, requires_grad=True)
        capacity_loss(kl, 5., gamma=3.).backward(); grads.append(kl.grad.item())
    assert grads == pytest.approx([-3., 3.])


def test_kl_per_dim_matches_torch_distributions():
    mu, logvar = torch.randn(32, 6), torch.randn(32, 6)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0., 1.)).mean(0)
    torch.testing.assert_close(kl_per_dim(mu, logvar), ref, rtol=1e-5, atol=1e-5)
    assert active_units(torch.stack([torch.randn(200), 0.01 * torch.randn(200)], 1)).tolist() == [True, False]


def test_config_validation_and_json_roundtrip():
    c = BetaVAEConfig(latent_dim=4, beta=2., schedule='cyclical', warmup_steps=100, cycles=2)
    assert BetaVAEConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    with pytest.raises(ValueError, match='schedule'): BetaVAEConfig(schedule='cosine')
    with pytest.raises(ValueError, match='warmup_steps'): BetaVAEConfig(schedule='cyclical')
    with pytest.raises(TypeError, match='BetaVAEConfig'): BetaVAE(VAEConfig())


def _losses(model, x, step):
    torch.manual_seed(5); return model.losses(x, step)


def test_regularizer_follows_schedule_and_beta1_is_vae():
    x = small_dsprites(6, seed=3)
    torch.manual_seed(0); vae = VAE(VAEConfig(latent_dim=3))
    b1 = BetaVAE(BetaVAEConfig(latent_dim=3)); b1.load_state_dict(vae.state_dict())
    torch.testing.assert_close(_losses(vae, x, 0)['loss'], _losses(b1, x, 0)['loss'])
    lin = BetaVAE(BetaVAEConfig(latent_dim=3, beta=8., schedule='linear', warmup_steps=40)); lin.load_state_dict(vae.state_dict())
    o = _losses(lin, x, 10)
    assert (o['loss'] - o['recon']).item() == pytest.approx(2. * o['kl'].item(), abs=1e-3)   # float32: loss ~ 500 nats
    assert o['beta_t'].item() == pytest.approx(2.)
    cap = BetaVAE(BetaVAEConfig(latent_dim=3, schedule='capacity', gamma=7., c_max=1e4, c_steps=10)); cap.load_state_dict(vae.state_dict())
    o = _losses(cap, x, 5)                  # C_5 = 5000 nats, far above the KL
    assert (o['loss'] - o['recon']).item() == pytest.approx(7. * (5000. - o['kl'].item()), abs=0.05)
    assert o['capacity'].item() == pytest.approx(5000.)


def test_evaluate_is_per_image_and_batch_invariant():
    torch.manual_seed(0); m = BetaVAE(BetaVAEConfig(latent_dim=3))
    x = small_dsprites(7, seed=4)
    a, b = evaluate_vae(m, x), evaluate_vae(m, x, batch_size=2)
    for k in ('kl', 'bce', 'mse'): assert a[k] == pytest.approx(b[k], rel=1e-4)
    assert a['elbo'] == pytest.approx(-(a['recon'] + a['kl']))
    assert 0 < a['mse'] < 1 and a['recon'] > 0


def test_tiny_sweep_caches_runs(tmp_path, monkeypatch):
    from vaelab.train import TrainConfig
    monkeypatch.setenv('VAELAB_RUNS', str(tmp_path))
    assert runs_dir() == tmp_path
    data, ev = small_dsprites(64, seed=1), small_dsprites(16, seed=2)
    cfg = TrainConfig(steps=2, batch_size=8, progress=False)
    rows = beta_sweep((1, 4), data, ev, BetaVAEConfig(latent_dim=3), cfg, tag='t')
    assert [r['beta'] for r in rows] == [1., 4.] and all((tmp_path/'beta-sweep-t'/f'beta={b}'/'config.json').exists() for b in (1, 4))
    again = beta_sweep((1, 4), data, ev, BetaVAEConfig(latent_dim=3), cfg, tag='t')   # loaded, not retrained
    for r, s in zip(rows, again): assert r['kl'] == pytest.approx(s['kl'], rel=1e-5)
    assert isinstance(again[0]['model'], BetaVAE) and again[1]['model'].config.beta == 4.
    md = markdown_table(rows)
    assert md.count('\n') == 4 and md.startswith('| beta |')


def test_sweep_warm_start_starts_every_run_from_the_given_weights(tmp_path, monkeypatch):
    from vaelab.train import TrainConfig
    monkeypatch.setenv('VAELAB_RUNS', str(tmp_path))
    torch.manual_seed(123); init = BetaVAE(BetaVAEConfig(latent_dim=3))
    rows = beta_sweep((0.5, 8), small_dsprites(32, seed=1), small_dsprites(8, seed=2), BetaVAEConfig(latent_dim=3),
                      TrainConfig(steps=1, batch_size=8, lr=1e-4, progress=False), tag='w', init_from=init)
    for r in rows:   # one Adam step of lr 1e-4 moves each weight by at most ~1e-4
        for (k, a), b in zip(init.state_dict().items(), r['model'].state_dict().values()):
            assert (a.float() - b.float().cpu()).abs().max() < 2e-4, k
