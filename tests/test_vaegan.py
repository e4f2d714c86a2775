"""End-to-end tests of vaelab.vaegan with the registry, the Trainer and run folders (the unit checks, including the
gradient-routing proof and the naive-loop counterexample, live in nbs/08_vaegan.ipynb). Small models, CPU."""
import math
import torch
from vaelab.vaegan import DCGAN, VAEGAN, VAEGANConfig
from vaelab.train import Trainer, TrainConfig, model_class, load_run
from vaelab.data import small_dsprites


def test_models_registered():
    assert model_class('vaegan') is VAEGAN and model_class('dcgan') is DCGAN


def test_vaegan_trains_with_its_defaults_logs_the_glossary_terms_and_reloads(tmp_path):
    xs = small_dsprites(16, seed=3)
    torch.manual_seed(0)
    m = VAEGAN(VAEGANConfig(latent_dim=4, beta=4.0))
    t = Trainer(m, xs, TrainConfig.for_model(m, steps=3, batch_size=8, progress=False, run_dir=str(tmp_path / 'r')))
    assert set(t.opts) == {'encoder', 'decoder', 'discriminator'}
    for o in t.opts.values():                                  # the report's optimiser settings reach every network
        assert o.param_groups[0]['lr'] == 3e-4 and tuple(o.param_groups[0]['betas']) == (0.5, 0.999)
    h = t.fit()
    for k in ('encoder', 'decoder', 'discriminator', 'kl', 'feature_nll', 'gen_adv', 'mse', 'd_real', 'd_recon',
              'd_prior', 'd_collapse'):
        assert len(h[k]) == 3 and all(math.isfinite(v) for v in h[k]), k
    m2, _ = load_run(tmp_path / 'r')
    assert isinstance(m2, VAEGAN) and m2.config.beta == 4.0
    assert torch.allclose(m2.reconstruct(xs[:4]), m.eval().cpu().reconstruct(xs[:4]), atol=1e-6)


def test_dcgan_trains_and_reloads(tmp_path):
    xs = small_dsprites(16, seed=3)
    torch.manual_seed(0)
    m = DCGAN()
    hd = Trainer(m, xs, TrainConfig.for_model(m, steps=2, batch_size=8, progress=False, run_dir=str(tmp_path / 'd'))).fit()
    assert {'generator', 'discriminator', 'd_real', 'd_fake', 'd_collapse'} <= set(hd)
    m2, _ = load_run(tmp_path / 'd')
    z = torch.randn(3, m.config.latent_dim)
    assert torch.allclose(m2.decode(z), m.eval().cpu().decode(z), atol=1e-6)
