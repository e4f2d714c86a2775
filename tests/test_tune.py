"""Cross-module test of vaelab.tune (the notebook checks the GP, EI and the loop on analytic objectives):
a search whose points are real training runs (`fit_or_load`) scored by chapter 9's `evaluate_model`, interrupted
after a run finished, resumes in the same run folder without training again."""
import pytest
import torch

from vaelab.tune import BayesOpt
from vaelab.train import TrainConfig, fit_or_load
from vaelab.beta import BetaVAE, BetaVAEConfig
from vaelab.evaluate import evaluate_model
from vaelab.data import small_dsprites


def test_interrupted_search_of_training_runs_resumes_without_retraining(tmp_path):
    scored = []
    def objective(beta, run_dir):
        "Held-out −ELBO of a β-VAE trained for 4 steps in run_dir; 'interrupted' once after the third run trained."
        cfg = TrainConfig(steps=4, batch_size=8, run_dir=str(run_dir), ckpt_every=2, progress=False)
        torch.manual_seed(0)
        model, _ = fit_or_load(BetaVAE(BetaVAEConfig(latent_dim=3, beta=float(beta))), small_dsprites(32, 0), cfg)
        scored.append(run_dir)
        if len(scored) == 3: raise KeyboardInterrupt                 # the run finished, its score was never recorded
        return -evaluate_model(model, small_dsprites(16, 1), lpips_model=None, fd_model=None)['reconstruction']['ELBO']

    with pytest.raises(KeyboardInterrupt): BayesOpt((0.5, 4.0), path=tmp_path).run(objective, n_iter=4, progress=False)
    ck = {d: (tmp_path / d / 'checkpoints' / 'last.pt') for d in ('point_000', 'point_001', 'point_002')}
    assert all(p.is_file() for p in ck.values())
    stamps = {d: p.stat().st_mtime_ns for d, p in ck.items()}
    bo = BayesOpt(path=tmp_path)
    bo.run(objective, n_iter=4, progress=False)
    assert scored[3] == scored[2] and len(scored) == 5                # the interrupted point is redone first, same folder
    assert all(ck[d].stat().st_mtime_ns == t for d, t in stamps.items())   # ...and loaded, not trained again
    assert [r['status'] for r in bo.records] == ['ok'] * 4 and bo.best[1] == min(bo.y)
    assert bo.y[2] > 0                                                # a −ELBO in nats per image
