"""Unit tests for vaelab.vq (fast: no training beyond a few steps)."""
import math, json
import pytest, torch
from vaelab.vq import (quantize, squared_distances, straight_through, codebook_loss, commitment_loss, ema_update,
                       code_stats, restart_dead_codes, VectorQuantizer, VQVAEConfig, VQVAE, MaskedConv2d,
                       CodePriorConfig, CodePrior, code_maps, swap_code, grid_to_rows)


def test_quantize_matches_cdist():
    g = torch.Generator().manual_seed(0)
    z, E = torch.randn(2, 6, 3, 5, generator=g), torch.randn(10, 6, generator=g)
    q = quantize(z, E)
    ref = torch.cdist(grid_to_rows(z), E).argmin(1).view(2, 3, 5)
    assert torch.equal(q.indices, ref)
    assert torch.allclose(q.quantized[1, :, 2, 4], E[ref[1, 2, 4]])
    assert torch.allclose(squared_distances(grid_to_rows(z), E), torch.cdist(grid_to_rows(z), E) ** 2, atol=1e-4)


def test_quantize_rejects_mismatched_dim():
    with pytest.raises(ValueError, match="codebook's dim"): quantize(torch.randn(1, 4, 2, 2), torch.randn(8, 3))


def test_straight_through_gradients():
    z_e = torch.randn(2, 3, 4, 4, requires_grad=True)
    E = torch.randn(6, 3, requires_grad=True)
    q = quantize(z_e, E)
    out = straight_through(z_e, q.quantized); out.retain_grad()
    (out.sin() * 3).sum().backward()
    assert torch.allclose(out, q.quantized)
    assert torch.allclose(z_e.grad, out.grad)
    assert E.grad is None


def test_codebook_and_commitment_move_one_side_each():
    z_e = torch.randn(2, 3, 4, 4, requires_grad=True); E = torch.randn(6, 3, requires_grad=True)
    codebook_loss(z_e, quantize(z_e, E).quantized).backward()
    assert z_e.grad is None and E.grad.abs().sum() > 0
    z_e.grad = E.grad = None
    commitment_loss(z_e, quantize(z_e, E).quantized).backward()
    assert E.grad is None and z_e.grad.abs().sum() > 0


def test_ema_hand_case():
    N, m, E = ema_update(torch.ones(3), torch.tensor([[1., 0], [0, 1], [2, 2]]),
                         torch.tensor([[3., 0], [1, 0], [0, 3]]), torch.tensor([0, 0, 1]), decay=0.5, eps=0.0)
    assert torch.allclose(N, torch.tensor([1.5, 1, 0.5]))
    assert torch.allclose(E, torch.tensor([[5 / 3, 0], [0, 2], [2, 2]]))


def test_code_stats_and_restarts():
    ppl, use = code_stats(torch.arange(4).repeat(3), 8)
    assert math.isclose(float(ppl), 4, rel_tol=1e-5) and math.isclose(float(use), 0.5)
    E, rows = torch.randn(3, 2), torch.randn(10, 2)
    E2, dead = restart_dead_codes(E, torch.tensor([2., 0., 2.]), rows, 1.0)
    assert dead.tolist() == [False, True, False] and torch.equal(E2[0], E[0])
    assert ((rows - E2[1]).abs().sum(1) == 0).any()


def test_bad_configs():
    with pytest.raises(ValueError, match='num_codes'): VQVAEConfig(num_codes=1)
    with pytest.raises(ValueError, match='num_codes'): VectorQuantizer(1, 4)
    with pytest.raises(ValueError, match='grid_size'): VQVAE(VQVAEConfig(grid_size=6))
    m = VQVAE(VQVAEConfig(embedding_dim=8))
    with pytest.raises(ValueError, match=r'\(B,8,g,g\)'): m.decode(torch.randn(1, 4, 8, 8))


@pytest.mark.parametrize('update', ['ema', 'loss'])
def test_vqvae_contract_and_a_few_steps(update, tmp_path):
    from vaelab.train import Trainer, TrainConfig, load_run
    from vaelab.data import small_dsprites
    cfg = VQVAEConfig(num_codes=16, embedding_dim=4, codebook_update=update, dead_code_threshold=0.5, recon='bernoulli')
    m = VQVAE(cfg)
    assert m.latent_kind == 'discrete'
    x = small_dsprites(32)
    L = m.losses(x, 0)
    assert set(L) >= {'loss', 'recon', 'codebook', 'commitment', 'perplexity', 'usage'}
    assert all(v.ndim == 0 for v in L.values())
    hist = Trainer(m, x, TrainConfig(steps=3, batch_size=8, device='cpu', run_dir=str(tmp_path), progress=False)).fit()
    assert len(hist['perplexity']) == 3
    m2, _ = load_run(tmp_path)
    assert isinstance(m2, VQVAE) and torch.equal(m2.quantizer.codebook, m.quantizer.codebook.cpu())
    assert m2.sample(2).shape == (2, 1, 64, 64)


def test_masked_conv_is_causal():
    layer = MaskedConv2d(2, 3, 5, 'A')
    x = torch.randn(1, 2, 6, 6, requires_grad=True)
    layer(x)[0, :, 2, 3].sum().backward()
    dep = (x.grad.abs().sum(1).flatten() > 0)
    assert not dep[2 * 6 + 3:].any() and dep[:2 * 6 + 3].any()


def test_prior_trains_and_round_trips(tmp_path):
    from vaelab.train import Trainer, TrainConfig, load_run
    from vaelab.data import small_dsprites
    vq = VQVAE(VQVAEConfig(num_codes=16, embedding_dim=4))
    pr = CodePrior(CodePriorConfig(channels=16, layers=2, kernel=3), vqvae=vq)
    before = {k: v.clone() for k, v in pr.vqvae.state_dict().items()}
    Trainer(pr, small_dsprites(32), TrainConfig(steps=2, batch_size=8, device='cpu', run_dir=str(tmp_path), progress=False)).fit()
    assert all(torch.equal(before[k], v) for k, v in pr.vqvae.state_dict().items())   # the VQ-VAE stayed frozen
    p2, _ = load_run(tmp_path)
    assert isinstance(p2, CodePrior) and p2.sample(2).shape == (2, 1, 64, 64)


def test_swap_code():
    vq = VQVAE(VQVAEConfig(num_codes=16, embedding_dim=4)).eval()
    from vaelab.data import small_dsprites
    x = small_dsprites(4)
    g0, g1, b, a = swap_code(vq, x, 1, 2, 3, 5)
    assert int(g1[2, 3]) == 5 and int((g0 != g1).sum()) <= 1
    assert code_maps(g0[None], int(g0[0, 0]))[0, 0, 0]
