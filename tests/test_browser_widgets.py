"""05_latent_widgets in a real browser: JupyterLab + headless Chromium (fixtures in conftest.py).

Runs a copy of nbs/05_latent_widgets.ipynb (slow cells and the export cell dropped, as nbdev_test would),
moves the traversal widget's top slider with the keyboard, and checks what a student sees: the slider's
readout, the caption, and the decoded picture (<img> src) all change. Screenshots before/after are saved under
tests/_output/<test name>/ (path printed). Skips outside CI when chromium/playwright are missing; fails in CI.
"""
import time
import pytest
from browser import run_all, sliders, slider_value, slider_label, press, img_src, wait_img_change, wait_text, shot, log

pytestmark = pytest.mark.browser
NB = 'nbs/05_latent_widgets.ipynb'
READY = 'latent widgets: all checks passed'


def test_traversal_slider_changes_image(open_notebook, lab, out_dir):
    t0 = time.perf_counter()
    page, name = open_notebook(NB)
    run_all(page, lab, name, until_text=READY, timeout=150)

    box = page.locator('.vaelab-traversal').first
    box.wait_for(timeout=30_000)
    sl = sliders(box)
    assert sl.count() == 10, f'expected one slider per latent (10), found {sl.count()}'
    top = sl.nth(0)
    label = slider_label(top)                        # e.g. 'z3 (2.41 nats)': highest-KL latent first
    dim = label.split()[0]
    before_src, before_val = img_src(box), slider_value(top)
    shot(page, out_dir/'before.png', scope=box)

    press(page, top, 'End')                          # noUiSlider: End jumps to the maximum (+3 prior std devs)
    wait_text(box, f'{dim} = +3.00')                 # the caption names the latent and its new value
    after_src = wait_img_change(box, before_src)
    assert slider_value(top) == pytest.approx(3.0), slider_value(top)
    assert after_src != before_src
    shot(page, out_dir/'after.png', scope=box)

    press(page, top, 'Home')                         # and back to the minimum: another new picture
    wait_text(box, f'{dim} = -3.00')
    wait_img_change(box, after_src)
    shot(page, out_dir/'after_home.png', scope=box)
    shot(page, out_dir/'page.png')
    log(f'{name}: slider {label!r} moved {before_val:+.2f} -> +3 -> -3, picture changed each time; '
        f'{time.perf_counter()-t0:.1f}s in this test; screenshots in {out_dir}')
