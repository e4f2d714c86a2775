"""Tests of vaelab.vaegan: GAN losses, stabilisers, gradient routing through the Trainer, the naive
accumulation bug, collapse reporting, configs and the model contract. Small models, CPU, a few seconds each."""
import math, tempfile, warnings
import pytest
import torch
from torch import nn
import torch.nn.functional as F

from vaelab.vaegan import (gan_targets, gan_d_loss, gan_g_loss, d_collapse, feature_nll, vaegan_network_losses,
                           own_loss_grads, DCGAN, DCGANConfig, VAEGAN, VAEGANConfig)
from vaelab.train import Trainer, TrainConfig, MODELS, model_class, load_run
from vaelab.data import small_dsprites


@pytest.fixture(scope='module')
def xs():
    return small_dsprites(16, seed=3)


# ---------------------------------------------------------------- pure losses
def test_gan_losses_match_functional_and_hand_cases():
    torch.manual_seed(0)
    lr, lf = torch.randn(32) * 2.5, torch.randn(32) * 2.5      # moderate: F.binary_cross_entropy on probabilities clamps
    pr, pf = torch.sigmoid(lr), torch.sigmoid(lf)
    want = F.binary_cross_entropy(pr, torch.ones(32)) + F.binary_cross_entropy(pf, torch.zeros(32))
    assert torch.allclose(gan_d_loss(lr, lf), want, atol=1e-4)
    assert torch.allclose(gan_d_loss(lr, lf), -(pr.log() + (1 - pf).log()).mean(), atol=1e-4)
    assert torch.allclose(gan_g_loss(lf), -pf.log().mean(), atol=1e-4)
    assert torch.allclose(gan_g_loss(lf, 'minimax'), (1 - pf).log().mean(), atol=1e-4)
    z = torch.zeros(4)
    assert math.isclose(gan_d_loss(z, (z, z)).item(), 3 * math.log(2), rel_tol=1e-6)
    # soft labels are BCE against the soft target
    soft = F.binary_cross_entropy(pr, torch.full((32,), .95)) + F.binary_cross_entropy(pf, torch.full((32,), .05))
    assert torch.allclose(gan_d_loss(lr, lf, 0.95, 0.05), soft, atol=1e-4)


def test_nonsaturating_gradient_does_not_vanish():
    l = torch.tensor([-8.0], requires_grad=True)
    g_mm, = torch.autograd.grad(gan_g_loss(l, 'minimax'), l)
    g_ns, = torch.autograd.grad(gan_g_loss(l, 'nonsat'), l)
    assert torch.allclose(g_mm, -torch.sigmoid(l.detach()))          # sign: descending raises the logit
    assert torch.allclose(g_ns, torch.sigmoid(l.detach()) - 1)
    assert g_ns.abs() > 1000 * g_mm.abs()


def test_targets_and_swaps():
    assert torch.equal(gan_targets(5, True, 0.95, 0.05), torch.full((5,), 0.95))
    assert torch.equal(gan_targets(5, False, 0.95, 0.05, swap_prob=1.0), torch.full((5,), 0.95))
    t = gan_targets(100_000, False, 0.95, 0.05, swap_prob=0.05, generator=torch.Generator().manual_seed(1))
    assert abs((t == 0.95).float().mean().item() - 0.05) < 0.004
    with pytest.raises(ValueError, match='swap_prob'): gan_targets(3, True, swap_prob=2)


def test_feature_nll_is_gaussian_without_constant():
    torch.manual_seed(0)
    a, b = torch.randn(3, 7), torch.randn(3, 7)
    ref = -torch.distributions.Normal(b, 1.).log_prob(a).sum(1) - 3.5 * math.log(2 * math.pi)
    assert torch.allclose(feature_nll(a, b), ref, atol=1e-4)
    with pytest.raises(ValueError, match='differ'): feature_nll(a, b[:, :3])


def test_network_losses_signs():
    prior, llike, dl, gl = (torch.tensor(v) for v in (2.0, 3.0, 5.0, 7.0))
    L = vaegan_network_losses(prior, llike, dl, gl, gamma=0.5, beta=10.0)
    assert L['encoder'].item() == 10 * 2 + 3
    assert L['decoder'].item() == 0.5 * 3 + 7
    assert L['discriminator'].item() == 5          # the discriminator never sees the feature loss


def test_d_collapse_flag():
    big = torch.full((6,), 15.)
    assert d_collapse(big, -big).item() == 1.0
    assert d_collapse(big, big).item() == 0.0
    assert d_collapse(torch.full((6,), 2.9), torch.full((6,), -2.9)).item() == 0.0   # soft-label optimum is healthy


# ---------------------------------------------------------------- gradient routing
def _applied_vs_own(model, one_step):
    "Applied update (SGD lr=1 parameter deltas) minus own-loss autograd, per group; the spy catches the step's losses."
    refs, losses = [], model.losses
    def spy(x, step=0):
        L = losses(x, step); refs.append(own_loss_grads(model, L)); return L
    model.losses = spy
    before = {g: [p.detach().clone() for p in ps] for g, ps in model.param_groups().items()}
    try: one_step(model)
    finally: del model.losses
    assert len(refs) == 1
    return {g: max((b - p.detach() - r).abs().max().item() for b, p, r in zip(before[g], ps, refs[0][g]))
            for g, ps in model.param_groups().items()}


def _trainer_sgd_step(xs):
    def step(model):
        t = Trainer(model, xs, TrainConfig(steps=1, batch_size=8, progress=False, run_dir=tempfile.mkdtemp()))
        t.opts = {g: torch.optim.SGD(ps, lr=1.0) for g, ps in t.groups.items()}
        t.train_step(1)
    return step


def _naive_sgd_step(xs):
    def step(model):
        L = model.losses(xs[:8], 0)
        opts = {g: torch.optim.SGD(ps, lr=1.0) for g, ps in model.param_groups().items()}
        for o in opts.values(): o.zero_grad()
        L['encoder'].backward(retain_graph=True); L['decoder'].backward(retain_graph=True); L['discriminator'].backward()
        for o in opts.values(): o.step()
    return step


@pytest.mark.parametrize('gen_loss', ['nonsat', 'minimax'])
def test_trainer_applies_only_own_loss_gradients_vaegan(xs, gen_loss):
    torch.manual_seed(0)
    err = _applied_vs_own(VAEGAN(VAEGANConfig(latent_dim=4, gen_loss=gen_loss, init='default')), _trainer_sgd_step(xs))
    assert set(err) == {'encoder', 'decoder', 'discriminator'}
    assert all(e < 1e-5 for e in err.values()), err


def test_trainer_applies_only_own_loss_gradients_dcgan(xs):
    torch.manual_seed(0)
    err = _applied_vs_own(DCGAN(), _trainer_sgd_step(xs))
    assert set(err) == {'generator', 'discriminator'} and all(e < 1e-5 for e in err.values()), err


def test_cross_terms_are_not_zero(xs):
    "Guard against a vacuous routing test: the feature loss does reach D's weights, the GAN loss the decoder/encoder."
    torch.manual_seed(0)
    m = VAEGAN(VAEGANConfig(latent_dim=4, init='default'))
    L = m.losses(xs[:8]); grp = m.param_groups()
    def norm(loss, g):
        gs = torch.autograd.grad(loss, grp[g], retain_graph=True, allow_unused=True)
        return sum(x.pow(2).sum() for x in gs if x is not None).sqrt().item()
    assert norm(L['encoder'], 'discriminator') > 1e-3      # L_llike depends on Dis
    assert norm(L['discriminator'], 'decoder') > 1e-3      # L_GAN depends on Dec
    assert norm(L['discriminator'], 'encoder') > 1e-6      # ... and on Enc through x~


def test_naive_accumulating_loop_is_caught(xs):
    "The Pythae-0.1.2-style loop (3 backward, then 3 step) fails the routing check; its decoder descends L_dis."
    torch.manual_seed(0)
    cfg = VAEGANConfig(latent_dim=4, gen_loss='minimax', real_label=1., fake_label=0., swap_prob=0., init='default')
    err = _applied_vs_own(VAEGAN(cfg), _naive_sgd_step(xs))
    assert err['decoder'] > 1e-4 and err['discriminator'] > 1e-4, err
    # the applied decoder update is the accumulated sum of all three losses' gradients
    torch.manual_seed(0); m = VAEGAN(cfg); state = {k: v.clone() for k, v in m.state_dict().items()}
    torch.manual_seed(5); L = m.losses(xs[:8], 0); dec = m.param_groups()['decoder']
    flat = lambda gs: torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for p, g in zip(dec, gs)])
    g = {k: flat(torch.autograd.grad(L[k], dec, retain_graph=True, allow_unused=True)) for k in ('encoder', 'decoder', 'discriminator')}
    m.load_state_dict(state); torch.manual_seed(5)
    before = torch.cat([p.detach().flatten().clone() for p in dec])
    _naive_sgd_step(xs)(m)
    applied = before - torch.cat([p.detach().flatten() for p in dec])
    assert torch.allclose(applied, g['encoder'] + g['decoder'] + g['discriminator'], atol=1e-4)
    adv = g['decoder'] - cfg.gamma * g['encoder']                    # the decoder's own adversarial gradient
    assert F.cosine_similarity(adv, g['discriminator'], dim=0) < -0.5   # the added term opposes it


# ---------------------------------------------------------------- collapse reporting
class _Oracle(nn.Module):
    def __init__(self): super().__init__(); self.scale = nn.Parameter(torch.tensor(40.))
    def forward(self, x): return self.scale * (x.flatten(1).amax(1) - 0.75), x[:, :, 20:24, 20:24].flatten(1)


def test_collapse_is_reported_in_history(xs):
    torch.manual_seed(0)
    m = VAEGAN(VAEGANConfig(latent_dim=4)); m.discriminator = _Oracle()
    with pytest.warns(RuntimeWarning, match='collapsed'):
        h = Trainer(m, xs, TrainConfig(steps=2, batch_size=8, progress=False, run_dir=tempfile.mkdtemp())).fit()
    assert h['d_collapse'] == [1.0, 1.0]


def test_healthy_start_is_not_flagged(xs):
    torch.manual_seed(0)
    L = VAEGAN(VAEGANConfig(latent_dim=4)).losses(xs)
    assert L['d_collapse'].item() == 0.0
    L = DCGAN().losses(xs)
    assert L['d_collapse'].item() == 0.0 and 0 < L['d_real'] < 1


# ---------------------------------------------------------------- configs, contract, training
def test_configs_validate_and_roundtrip(tmp_path):
    c = VAEGANConfig(gamma=0.5, beta=75.0, swap_prob=0.0)
    c.save(tmp_path / 'c.json'); assert VAEGANConfig.load(tmp_path / 'c.json') == c
    with pytest.raises(ValueError, match='gen_loss'): VAEGANConfig(gen_loss='x')
    with pytest.raises(ValueError, match='fake_label'): VAEGANConfig(real_label=0.1, fake_label=0.5)
    with pytest.raises(ValueError, match='valid keys'): VAEGANConfig.from_dict({'gama': 1})
    with pytest.raises(ValueError, match='gen_loss'): DCGANConfig(gen_loss='wgan')
    assert VAEGANConfig().lr == 3e-4 and VAEGANConfig().init == 'normal002'


def test_models_registered():
    assert model_class('vaegan') is VAEGAN and model_class('dcgan') is DCGAN


def test_optim_config_and_groups():
    m = VAEGAN()
    oc = m.optim_config()
    assert set(oc) == {'encoder', 'decoder', 'discriminator'} and all(v['lr'] == 3e-4 for v in oc.values())
    ids = [id(p) for ps in m.param_groups().values() for p in ps]
    assert len(ids) == len(set(ids)) == len(list(m.parameters()))


def test_bad_input_is_refused(xs):
    with pytest.raises(ValueError, match=r'\[0,1\]'): VAEGAN().losses(xs * 3)
    with pytest.raises(ValueError, match='channel'): VAEGAN().losses(torch.rand(2, 3, 64, 64))
    with pytest.raises(NotImplementedError, match='no encoder'): DCGAN().encode(xs)


def test_short_training_runs_and_reloads(xs, tmp_path):
    torch.manual_seed(0)
    m = VAEGAN(VAEGANConfig(latent_dim=4, beta=4.0))
    h = Trainer(m, xs, TrainConfig(steps=3, batch_size=8, progress=False, run_dir=str(tmp_path / 'r'))).fit()
    for k in ('encoder', 'decoder', 'discriminator', 'prior', 'llike', 'd_real', 'd_collapse'):
        assert len(h[k]) == 3 and all(math.isfinite(v) for v in h[k])
    m2, h2 = load_run(tmp_path / 'r')
    assert isinstance(m2, VAEGAN) and m2.config.beta == 4.0
    assert torch.allclose(m2.reconstruct(xs[:4]), m.eval().cpu().reconstruct(xs[:4]), atol=1e-6)
    hd = Trainer(DCGAN(), xs, TrainConfig(steps=2, batch_size=8, progress=False, run_dir=str(tmp_path / 'd'))).fit()
    assert set(hd) >= {'generator', 'discriminator', 'd_real', 'd_fake', 'd_collapse'}
