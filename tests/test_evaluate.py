"Tests of vaelab.evaluate: every metric against a reference or a hand case, offline weight handling, the tables."
import math
import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm
from scipy.signal import convolve2d
from skimage.metrics import structural_similarity as sk_ssim

from vaelab import evaluate as ev
from vaelab.elbo import VAE, AE, VAEConfig, gaussian_kl
from vaelab.data import small_dsprites


@pytest.fixture
def g():
    return torch.Generator().manual_seed(0)


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    "A TORCH_HOME without any weights; caches of loaded networks cleared before and after."
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    ev._LPIPS_CACHE.clear(); ev._INCEPTION_CACHE.clear()
    yield tmp_path
    ev._LPIPS_CACHE.clear(); ev._INCEPTION_CACHE.clear()


# ---------------------------------------------------------------- input validation
@pytest.mark.parametrize('metric', [ev.mse_per_image, ev.bce_per_image, ev.ssim, ev.gmsd])
def test_metrics_reject_bad_images(metric):
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match=r'\[0,1\]'): metric(x, x * 255)
    with pytest.raises(ValueError, match='same shape'): metric(x, torch.rand(2, 1, 32, 16))
    with pytest.raises(ValueError, match='4 dimensions'): metric(x[0], x[0])
    with pytest.raises(TypeError): metric((x * 255).to(torch.uint8), (x * 255).to(torch.uint8))


# ---------------------------------------------------------------- pixel losses
def test_pixel_losses_per_image_means(g):
    a, b = torch.rand(3, 3, 8, 8, generator=g), torch.rand(3, 3, 8, 8, generator=g)
    torch.testing.assert_close(ev.mse_per_image(a, b), ((a - b) ** 2).mean((1, 2, 3)))
    want = torch.stack([torch.nn.functional.binary_cross_entropy(a[i], b[i]) for i in range(3)])
    torch.testing.assert_close(ev.bce_per_image(a, b), want, atol=1e-5, rtol=1e-5)
    ent = torch.distributions.Bernoulli(probs=b).entropy().mean((1, 2, 3))
    torch.testing.assert_close(ev.bce_per_image(b, b), ent, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- SSIM
def _sk(x, y):
    return torch.tensor([sk_ssim(a, b, channel_axis=0, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False) for a, b in zip(x.double().numpy(), y.double().numpy())])


@pytest.mark.parametrize('shape', [(3, 1, 64, 64), (2, 3, 40, 33), (2, 1, 11, 11)])
def test_ssim_matches_skimage(g, shape):
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    y = (x + 0.15 * torch.randn(shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    torch.testing.assert_close(ev.ssim(x, y), _sk(x, y), atol=1e-10, rtol=0)
    torch.testing.assert_close(ev.ssim(x.float(), y.float()).double(), _sk(x, y), atol=1e-4, rtol=0)


def test_ssim_structured_and_identity():
    sq = torch.zeros(2, 1, 64, 64); sq[:, :, 20:40, 18:44] = 1
    sq2 = torch.roll(sq, (3, -2), (2, 3)) * 0.7
    torch.testing.assert_close(ev.ssim(sq, sq2).double(), _sk(sq, sq2), atol=1e-4, rtol=0)
    torch.testing.assert_close(ev.ssim(sq, sq), torch.ones(2))
    with pytest.raises(ValueError, match='11x11'): ev.ssim(torch.rand(1, 1, 10, 10), torch.rand(1, 1, 10, 10))


# ---------------------------------------------------------------- GMSD
def _gmsd_np(r, d, c=170.0):
    "Plain numpy GMSD (Xue et al. 2014) of two 2-D arrays."
    h, w = r.shape[0] // 2 * 2, r.shape[1] // 2 * 2
    down = lambda a: a[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))
    hx = np.array([[1, 0, -1]] * 3) / 3
    mag = lambda a: np.hypot(convolve2d(a, hx, mode='same'), convolve2d(a, hx.T, mode='same'))
    mr, md = mag(down(r)), mag(down(d))
    return ((2 * mr * md + c) / (mr ** 2 + md ** 2 + c)).std(ddof=1)


def test_gmsd_matches_numpy_and_constant(g):
    r = torch.rand(3, 1, 64, 64, generator=g, dtype=torch.float64)
    d = (r + 0.1 * torch.randn(r.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    want = torch.tensor([_gmsd_np(255 * a[0].numpy(), 255 * b[0].numpy()) for a, b in zip(r, d)])
    torch.testing.assert_close(ev.gmsd(r, d), want, atol=1e-10, rtol=0)   # [0,1] with c=170/255² == paper on 0-255
    torch.testing.assert_close(ev.gmsd(d, r), want, atol=1e-10, rtol=0)   # symmetric
    assert math.isclose(ev.GMSD_C, 170 / 255 ** 2) and abs(ev.GMSD_C - 0.0026) < 2e-5


def test_gmsd_identity_and_colour(g):
    x = torch.rand(2, 3, 32, 32, generator=g)
    assert (ev.gmsd(x, x) == 0).all()
    y = (x + 0.2 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    lum = lambda t: (0.299 * t[:, :1] + 0.587 * t[:, 1:2] + 0.114 * t[:, 2:])
    torch.testing.assert_close(ev.gmsd(x, y), ev.gmsd(lum(x), lum(y)))
    assert (ev.gmsd(x, y) > 0).all()


# ---------------------------------------------------------------- Fréchet distance
def _fid_sqrtm(m1, s1, m2, s2):
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(sqrtm(s1 @ s2)).real)


@pytest.mark.parametrize('n,d', [(400, 16), (12, 30)])
def test_frechet_distance_matches_sqrtm(n, d):
    rng = np.random.default_rng(1)
    a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    b = rng.normal(0.5, 1.5, size=(n, d))
    ours = ev.fid_from_features(a, b)
    ref = _fid_sqrtm(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert math.isclose(ours, ref, rel_tol=1e-6)
    assert math.isclose(ours, ev.fid_from_features(b, a), rel_tol=1e-8)


def test_frechet_distance_on_generated_features():
    rng = np.random.default_rng(2)
    va, vb, mu = rng.uniform(0.2, 2, 20), rng.uniform(0.2, 2, 20), rng.normal(size=20)
    exact = (mu ** 2).sum() + ((np.sqrt(va) - np.sqrt(vb)) ** 2).sum()
    assert math.isclose(ev.frechet_distance(mu, np.diag(va), 0 * mu, np.diag(vb)), exact, rel_tol=1e-10)
    fa = mu + np.sqrt(va) * rng.normal(size=(20000, 20))
    fb = np.sqrt(vb) * rng.normal(size=(20000, 20))
    assert abs(ev.fid_from_features(fa, fb) - exact) < 0.05 * exact
    assert abs(ev.fid_from_features(fa, fa)) < 1e-8
    with pytest.raises(ValueError, match=r'\(N, D\)'): ev.feature_stats(np.zeros(5))


# ---------------------------------------------------------------- offline weights
def test_missing_weights_fail_fast_with_file_and_folder(empty_torch_home):
    with pytest.raises(FileNotFoundError) as e: ev.load_lpips('alex')
    assert 'alexnet-owt-7be5be79.pth' in str(e.value) and str(empty_torch_home) in str(e.value)
    with pytest.raises(FileNotFoundError) as e: ev.load_inception()
    assert ev.FID_WEIGHTS in str(e.value) and 'checkpoints' in str(e.value)
    assert ev.resolve_lpips('auto') == 'unavailable: missing weights alexnet-owt-7be5be79.pth'


# ---------------------------------------------------------------- LPIPS plumbing (random backbone)
def test_lpips_plumbing_random_backbone(g):
    m = ev.load_lpips(random_backbone=True)
    x, y = torch.rand(4, 3, 64, 64, generator=g), torch.rand(4, 3, 64, 64, generator=g)
    d = ev.lpips_distance(x, y, m)
    assert d.shape == (4,) and (d > 0).all()
    torch.testing.assert_close(d, m(2 * x - 1, 2 * y - 1).flatten())
    torch.testing.assert_close(ev.lpips_distance(y, x, m, batch_size=3), d, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ev.lpips_distance(x, x, m), torch.zeros(4), atol=1e-6, rtol=0)
    gray = x[:, :1]
    torch.testing.assert_close(ev.lpips_distance(gray, y[:, :1], m), ev.lpips_distance(gray.repeat(1, 3, 1, 1), y[:, :1].repeat(1, 3, 1, 1), m))
    with pytest.raises(ValueError, match=r'\[0,1\]'): ev.lpips_distance(x, 2 * y - 1, m)


# ---------------------------------------------------------------- FID plumbing (random Inception weights)
def test_fid_plumbing_with_random_inception(empty_torch_home, g):
    pytest.importorskip('pytorch_fid')
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
    with pytest.raises(ValueError, match=r'\[0,1\]'): ev.inception_features(x * 2)


# ---------------------------------------------------------------- IWAE on a model with an exact likelihood
def _linear_gaussian(seed=0):
    g = torch.Generator().manual_seed(seed)
    D, M, s = 5, 2, 0.4
    W = torch.linalg.qr(torch.randn(D, M, generator=g, dtype=torch.float64))[0] * torch.tensor([1.5, 0.7], dtype=torch.float64)
    b = torch.randn(D, generator=g, dtype=torch.float64)
    X = (torch.randn(30, M, generator=g, dtype=torch.float64) @ W.T + b + s * torch.randn(30, D, generator=g, dtype=torch.float64))
    log_px = torch.distributions.MultivariateNormal(b, W @ W.T + s ** 2 * torch.eye(D, dtype=torch.float64)).log_prob(X)
    def log_joint(z):
        return torch.distributions.Normal(z @ W.T + b, s).log_prob(X).sum(-1) + torch.distributions.Normal(0., 1.).log_prob(z).sum(-1)
    var = 1 / (1 + (W ** 2).sum(0) / s ** 2)
    mu = (X - b) @ W * var / s ** 2
    return log_joint, mu, var.log().expand_as(mu), log_px


def test_iwae_exact_posterior_gives_log_px(g):
    log_joint, mu, lv, log_px = _linear_gaussian()
    for k in (1, 10):
        torch.testing.assert_close(ev.iwae_bound(log_joint, mu, lv, k=k, generator=g), log_px, atol=1e-9, rtol=0)


def test_iwae_between_elbo_and_log_px_and_grows_with_k(g):
    log_joint, mu, lv, log_px = _linear_gaussian()
    mu, lv = 0.5 * mu, lv + 1.0                                           # a poor posterior
    L = [torch.stack([ev.iwae_bound(log_joint, mu, lv, k=k, generator=g) for _ in range(100)]).mean().item() for k in (1, 10, 300)]
    assert L[0] < L[1] < L[2] < log_px.mean().item()
    with pytest.raises(ValueError, match='k must be'): ev.iwae_bound(log_joint, mu, lv, k=0)


def test_iwae_from_log_weights_hand_case():
    lw = torch.log(torch.tensor([[1.], [3.]]))                            # weights 1 and 3: log of their mean = log 2
    torch.testing.assert_close(ev.iwae_from_log_weights(lw), torch.tensor([math.log(2.)]))


# ---------------------------------------------------------------- model terms
@pytest.fixture
def vae_and_x():
    torch.manual_seed(0)
    return VAE(VAEConfig(latent_dim=4)).eval(), small_dsprites(8, seed=5)


def test_model_kl_elbo_match_vae_losses(vae_and_x):
    vae, x = vae_and_x
    with torch.no_grad():
        torch.manual_seed(3); e = ev.elbo_per_image(vae, x, likelihood='model')
        torch.manual_seed(3); ref = vae.losses(x)['elbo']
        torch.testing.assert_close(e.mean(), ref, atol=1e-3, rtol=1e-6)
        torch.testing.assert_close(ev.kl_per_image(vae, x), gaussian_kl(*vae.encode(x)))
        iw = ev.iwae_per_image(vae, x, k=4)
    assert iw.shape == (8,) and torch.isfinite(iw).all()
    with pytest.raises(ev.Unavailable, match='no posterior'): ev.kl_per_image(AE(VAEConfig()), x)
    with pytest.raises(ev.Unavailable): ev.iwae_per_image(AE(VAEConfig()), x)
    with pytest.raises(ValueError, match='likelihood'): ev.log_likelihood(vae, torch.zeros(8, 4), x, 'poisson')


def test_vq_kl_is_log_codebook_size():
    vq = pytest.importorskip('vaelab.vq')
    m = vq.VQVAE(vq.VQVAEConfig(num_codes=16, embedding_dim=4)).eval()
    x = small_dsprites(3, seed=1)
    with torch.no_grad():
        kl = ev.kl_per_image(m, x)
        torch.testing.assert_close(kl, torch.full((3,), m.config.grid_size ** 2 * math.log(16)))
        assert torch.isfinite(ev.elbo_per_image(m, x)).all()


# ---------------------------------------------------------------- tables and figure
def test_comparison_tables(vae_and_x):
    vae, x = vae_and_x
    ae = AE(VAEConfig(latent_dim=4))
    vae.train()
    t = ev.comparison_tables({'VAE': vae, 'AE': ae}, x, n_samples=5, lpips_model=None)
    assert vae.training                                                   # training flag restored
    rec, gen = t['reconstruction'], t['generation']
    assert set(rec) == set(gen) == {'VAE', 'AE'}
    for row in (*rec.values(), *gen.values()): assert list(row) == list(ev.COLUMNS)
    with torch.no_grad():
        vae.eval()
        assert math.isclose(rec['VAE']['MSE'], ev.mse_per_image(vae.reconstruct(x), x).mean().item(), rel_tol=1e-5)
        xg = ev.generate(vae, 5)
        assert math.isclose(gen['VAE']['SSIM'], ev.ssim(vae.reconstruct(xg), xg).mean().item(), rel_tol=1e-5)
    assert rec['AE']['KL'].startswith('unavailable:') and rec['VAE']['LPIPS'] == 'unavailable: LPIPS switched off'
    md = ev.table_markdown(rec, 'Reconstruction')
    rows = [l for l in md.splitlines() if l.startswith('| VAE') or l.startswith('| AE')]
    assert len(rows) == 2 and all(l.replace('\\|', '').count('|') == len(ev.COLUMNS) + 2 for l in rows)
    assert 'LPIPS ↓' in md and '<caption>Generation</caption>' in ev.table_html(gen, 'Generation')


def test_generate_is_seeded(vae_and_x):
    vae, _ = vae_and_x
    torch.testing.assert_close(ev.generate(vae, 3, seed=7), ev.generate(vae, 3, seed=7))
    assert not torch.equal(ev.generate(vae, 3, seed=7), ev.generate(vae, 3, seed=8))


def test_orig_recon_gen_figure(vae_and_x):
    import matplotlib; matplotlib.use('Agg')
    vae, x = vae_and_x
    fig = ev.orig_recon_gen_figure(vae, x, n=4, title='t')
    assert [a.get_ylabel() for a in fig.axes] == ['Original', 'Reconstruction', 'Generated']
