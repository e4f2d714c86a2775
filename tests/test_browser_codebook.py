"""The codebook explorer (vaelab.vq.codebook_explorer) in a real browser: JupyterLab + headless Chromium (fixtures in
conftest.py).

A small fixture notebook builds the explorer on the zoo's VQ-VAE and eight held-out sprites (the chapter itself runs
under nbdev_test; here only the widget matters, so it is ready in seconds). The test moves the explorer's `code`
slider and its `new code` slider with the keyboard and checks what a student sees: the captions name the new code
and the usage/swap pictures (<img> src) change. Screenshots go to tests/_output/<test name>/.
"""
import time
import pytest
from browser import fixture_notebook, widget_box, sliders, slider_value, slider_label, press, img_src, wait_img_change, wait_text, shot, log

pytestmark = pytest.mark.browser
READY = 'codebook explorer ready'
CELLS = [
    "%matplotlib inline\nfrom vaelab.zoo import pretrained\nfrom vaelab.data import small_dsprites\nfrom vaelab.vq import codebook_explorer",
    f"explorer = codebook_explorer(pretrained('vqvae'), small_dsprites(8, seed=12345), n=8)\nprint({READY!r})\nexplorer",
]


def test_codebook_explorer_sliders(open_notebook, lab, out_dir, tmp_path):
    t0 = time.perf_counter()
    page, name = open_notebook(fixture_notebook(tmp_path/'codebook_fixture.ipynb', CELLS))
    box = widget_box(page, lab, name, READY, '.vaelab-codebook', timeout=300)
    sl = sliders(box)
    assert sl.count() == 5, f'expected 5 sliders (code, image, row, col, new code), found {sl.count()}'
    labels = [slider_label(sl.nth(i)) for i in range(5)]
    assert labels == ['code', 'image', 'row', 'col', 'new code'], labels
    code, new_code = sl.nth(0), sl.nth(4)
    shot(page, out_dir/'before.png', scope=box)

    usage_src = img_src(box, 0)
    press(page, code, 'Home')                                   # code 0
    wait_text(box, 'code 0: used at')
    usage_src2 = wait_img_change(box, usage_src, nth=0)
    assert slider_value(code) == 0
    press(page, code, 'ArrowRight', 2)                          # code 2
    wait_text(box, 'code 2: used at')
    wait_img_change(box, usage_src2, nth=0)

    swap_src = img_src(box, 1)
    press(page, new_code, 'End')                                # the last code goes into the chosen cell
    k = int(slider_value(new_code))
    wait_text(box, f'\u2192 {k};')
    wait_img_change(box, swap_src, nth=1)
    shot(page, out_dir/'after.png', scope=box)
    shot(page, out_dir/'page.png')
    log(f'{name}: code slider -> 0 -> 2 and new code -> {k}: captions and pictures changed; '
        f'{time.perf_counter()-t0:.1f}s in this test; screenshots in {out_dir}')
