"""Cross-module tests of vaelab.evaluate (the notebook checks every metric under its definition):
the FID plumbing through pytorch-fid's Inception network, and the pretrained zoo's model cards against the scorer."""
import pytest
import torch

from vaelab import evaluate as ev
from vaelab.data import small_dsprites
from vaelab.zoo import pretrained, card


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    "A TORCH_HOME without any weights; caches of loaded networks cleared before and after."
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    ev._LPIPS_CACHE.clear(); ev._INCEPTION_CACHE.clear()
    yield tmp_path
    ev._LPIPS_CACHE.clear(); ev._INCEPTION_CACHE.clear()


def test_fid_plumbing_with_random_inception(empty_torch_home):
    "pytorch-fid's network built from a weights file at the expected place: resizing, channel repeat, batching."
    pytest.importorskip('pytorch_fid')                                  # optional dependency (pip install pytorch-fid)
    import torchvision
    torch.manual_seed(0)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=True)
    ck = empty_torch_home / 'hub' / 'checkpoints'; ck.mkdir(parents=True)
    torch.save(net.state_dict(), ck / ev.FID_WEIGHTS)                  # where pytorch-fid looks for its weights
    x = small_dsprites(6, seed=3)
    f = ev.inception_features(x, batch_size=4)
    assert f.shape == (6, 2048) and f.dtype == torch.float64 and torch.isfinite(f).all()
    torch.testing.assert_close(f, ev.inception_features(x.repeat(1, 3, 1, 1), batch_size=6))   # gray == RGB copy
    tr = float(ev.feature_stats(f)[1].trace())
    assert tr > 0 and abs(ev.fid(x, x)) < 1e-6 * tr
    assert ev.fid(x, small_dsprites(6, seed=4)) > 1e-3 * tr
    res = ev.evaluate_model(_tiny_vae(), x, n_samples=6, lpips_model=None, fd_model=None, fid_model='auto')
    assert isinstance(res['generation']['FID'], float) and res['generation']['FID'] > 0


def _tiny_vae():
    from vaelab.elbo import VAE, VAEConfig
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=4)).eval()


def one_per_class(names):
    "The first zoo name of every model class (the others run the same code and differ only in their weights)."
    seen = {}
    for n in names: seen.setdefault(card(n)['model'] + str(card(n)['data']), n)
    return list(seen.values())


@pytest.mark.parametrize('name', one_per_class(ev.generative_zoo()))
def test_zoo_card_reconstruction_scores_are_the_scorers(name):
    "A zoo model of every class, loaded from its safetensors: the reconstruction row of its card is what the scorer gives."
    model, x = pretrained(name), ev.zoo_heldout()
    g = torch.Generator().manual_seed(1)                                # evaluate_model's ELBO generator for seed 0
    fresh = ev.summarize(ev.score_images(model, x, lpips_model=None, generator=g))
    stored = card(name)['scores']['reconstruction']
    for col, v in stored.items():
        if isinstance(v, str): assert fresh[col] == v, (col, fresh[col], v)
        else: assert fresh[col] == pytest.approx(v, rel=1e-4, abs=1e-7), (col, fresh[col], v)
