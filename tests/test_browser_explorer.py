"""End-to-end test of the disentanglement metric explorer (vaelab.disentangle.MetricExplorer) in JupyterLab + Chromium.

A small fixture notebook (constructed codes, so it runs in seconds) builds the explorer for three runs, one with an
(untrained) model for the traversal row; the test moves the latent slider and changes the heatmap run in the
browser and checks that the caption and the figure change. Screenshots go to tests/_output/<test name>/.
"""
import pytest
from browser import fixture_notebook, run_all, sliders, press, img_src, wait_img_change, wait_text, shot, slider_value

pytestmark = pytest.mark.browser

CELLS = [
    "%matplotlib inline\nimport numpy as np, torch\nfrom vaelab.disentangle import evaluate_codes, MetricExplorer\n"
    "from vaelab.elbo import VAE, VAEConfig",
    "r = np.random.default_rng(0); sizes = np.array([3, 6, 10, 8])\nf = r.integers(0, sizes, size=(1500, 4)); v = f / (sizes - 1)\n"
    "Q = np.linalg.qr(r.normal(size=(4, 4)))[0]\n"
    "reports = {'factors': evaluate_codes(v + 0.01 * r.normal(size=v.shape), f, list('abcd'), n_points=500),\n"
    "           'rotated': evaluate_codes(((v - v.mean(0)) / v.std(0)) @ Q, f, list('abcd'), n_points=500),\n"
    "           'model': evaluate_codes(r.normal(size=(1500, 4)), f, list('abcd'), n_points=500)}\n"
    "torch.manual_seed(0); model = VAE(VAEConfig(latent_dim=4)).eval()",
    "ex = MetricExplorer(reports, {'model': model})\nprint('explorer ready')\nex",
]


def test_metric_explorer_in_browser(open_notebook, lab, out_dir, tmp_path):
    page, name = open_notebook(fixture_notebook(tmp_path/'explorer_fixture.ipynb', CELLS))
    run_all(page, lab, name, until_text='explorer ready', timeout=180)
    wait_text(page, 'factors: z0 shares most information with a')
    box = page.locator('.widget-vbox').first
    before = img_src(box)
    shot(page, out_dir/'explorer_before.png')

    s = sliders(page).nth(0)                               # the latent slider
    press(page, s, 'ArrowRight', 2)
    wait_text(page, 'factors: z2 shares most information with c')
    assert slider_value(s) == 2
    after_latent = wait_img_change(box, before)
    shot(page, out_dir/'explorer_latent2.png')

    page.locator('.widget-dropdown select').first.select_option('model')   # heatmaps + traversal of the model run
    wait_text(page, 'model: z2 shares most information with')
    wait_img_change(box, after_latent)
    shot(page, out_dir/'explorer_model_run.png')
