"""End-to-end tests of vaelab.vq with the Trainer and run folders (the unit checks live in nbs/07_vq_vae.ipynb).
Small models, CPU, a few training steps each."""
import shutil
import pytest, torch
from vaelab.vq import VQVAEConfig, VQVAE, CodePriorConfig, CodePrior
from vaelab.train import Trainer, TrainConfig, load_run
from vaelab.data import small_dsprites


@pytest.mark.parametrize('update', ['ema', 'loss'])
def test_vqvae_trains_and_its_codebook_survives_the_run_folder(update, tmp_path):
    "Trainer + checkpoint + load_run: the codebook (a buffer under EMA, a parameter under 'loss') round-trips."
    m = VQVAE(VQVAEConfig(num_codes=16, latent_dim=4, codebook_update=update, dead_code_threshold=0.5))
    before = m.quantizer.codebook.detach().clone()
    hist = Trainer(m, small_dsprites(32), TrainConfig(steps=3, batch_size=8, device='cpu', run_dir=str(tmp_path),
                                                      progress=False)).fit()
    assert len(hist['perplexity']) == 3 and len(hist['usage']) == 3
    assert not torch.equal(m.quantizer.codebook.detach().cpu(), before)          # the codebook was trained
    m2, _ = load_run(tmp_path)
    assert isinstance(m2, VQVAE) and torch.equal(m2.quantizer.codebook, m.quantizer.codebook.detach().cpu())
    assert torch.equal(m2.quantizer.usage_count, m.quantizer.usage_count.cpu())
    x = small_dsprites(4, seed=9)
    assert torch.allclose(m2.reconstruct(x), m.cpu().eval().reconstruct(x), atol=1e-6)


def test_code_prior_trains_on_a_vqvae_run_and_loads_without_it(tmp_path):
    "for_training reads a VQ-VAE run folder; the Trainer leaves the frozen VQ-VAE untouched; the prior's run folder alone reloads both."
    Trainer(VQVAE(VQVAEConfig(num_codes=16, latent_dim=4)), small_dsprites(32),
            TrainConfig(steps=2, batch_size=8, device='cpu', run_dir=str(tmp_path / 'vq'), progress=False)).fit()
    pr = CodePrior.for_training(CodePriorConfig(vqvae=str(tmp_path / 'vq'), prior_channels=16, prior_layers=2, prior_kernel=3))
    before = {k: v.clone() for k, v in pr.vqvae.state_dict().items()}
    Trainer(pr, small_dsprites(32), TrainConfig(steps=2, batch_size=8, device='cpu', run_dir=str(tmp_path / 'pr'),
                                                progress=False)).fit()
    assert all(torch.equal(before[k], v) for k, v in pr.vqvae.state_dict().items())   # the VQ-VAE stayed frozen
    shutil.rmtree(tmp_path / 'vq')
    p2, _ = load_run(tmp_path / 'pr')
    assert isinstance(p2, CodePrior) and p2.config.num_codes == 16
    assert torch.equal(p2.vqvae.quantizer.codebook, before['quantizer.codebook'])
    g = torch.Generator().manual_seed(0)
    assert p2.sample(2, g).shape == (2, 1, 64, 64)
