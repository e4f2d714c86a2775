"Cross-module tests of the β sweep: trainer + run folders under $VAELAB_RUNS + chapter 9's scorer (the schedules and the model are checked in chapter 4)."
import pytest
import torch
from vaelab.beta import BetaVAEConfig, BetaVAE, beta_sweep
from vaelab.train import TrainConfig, runs_dir, markdown_table
from vaelab.data import small_dsprites


def test_tiny_sweep_caches_runs_under_vaelab_runs(tmp_path, monkeypatch):
    monkeypatch.setenv('VAELAB_RUNS', str(tmp_path))
    assert runs_dir() == tmp_path
    data, ev = small_dsprites(64, seed=1), small_dsprites(16, seed=2)
    cfg = TrainConfig(steps=2, batch_size=8, progress=False)
    out = beta_sweep((1, 4), data, ev, BetaVAEConfig(latent_dim=3), cfg, tag='t')
    assert list(out) == [1., 4.] and all((tmp_path / 'beta-sweep-t' / f'beta={b}' / 'config.json').exists() for b in (1, 4))
    again = beta_sweep((1, 4), data, ev, BetaVAEConfig(latent_dim=3), cfg, tag='t')      # loaded, not retrained
    for b in out:
        assert out[b][1]['KL'] == pytest.approx(again[b][1]['KL'], rel=1e-5)
        assert isinstance(again[b][0], BetaVAE) and again[b][0].config.beta == b
    md = markdown_table({b: row for b, (_, row) in out.items()}, index='β')
    assert md.count('\n') == 3 and md.startswith('| β | beta | beta_norm | KL |')


def test_sweep_warm_start_starts_every_run_from_the_given_weights(tmp_path, monkeypatch):
    monkeypatch.setenv('VAELAB_RUNS', str(tmp_path))
    torch.manual_seed(123); init = BetaVAE(BetaVAEConfig(latent_dim=3))
    out = beta_sweep((0.5, 8), small_dsprites(32, seed=1), small_dsprites(8, seed=2), BetaVAEConfig(latent_dim=3),
                     TrainConfig(steps=1, batch_size=8, lr=1e-4, progress=False), tag='w', init_from=init)
    for model, _ in out.values():   # one Adam step of lr 1e-4 moves each weight by at most ~1e-4
        for (k, a), b in zip(init.state_dict().items(), model.state_dict().values()):
            assert (a.float() - b.float().cpu()).abs().max() < 2e-4, k
