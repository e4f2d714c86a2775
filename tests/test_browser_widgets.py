"""The latent widgets of chapter 5 (vaelab.widgets) in a real browser: JupyterLab + headless Chromium (fixtures in
conftest.py).

A small fixture notebook shows the three widgets on the zoo models chapter 5 uses (the chapter itself runs under
nbdev_test; here only the widgets matter), then the test checks what a student sees:
- the traversal widget has one slider per latent, labelled with its KL in decreasing order, informative latents
  first and unused ones (KL about 0) last; moving the top slider to +3 and -3 changes the decoded picture each
  time, and the caption names the latent and its value;
- the interpolation and arithmetic widgets redraw when their sliders move, and their captions say what is shown.
Screenshots go to tests/_output/<test name>/ (path printed). Skips outside CI when chromium/playwright are
missing; fails in CI.
"""
import re, time
import pytest
from browser import fixture_notebook, widget_box, sliders, slider_value, slider_label, press, img_src, wait_img_change, wait_text, shot, log

pytestmark = pytest.mark.browser
READY = 'latent widgets ready'
CELLS = [   # chapter 5's models: the beta = 6 zoo model for traversals, the beta = 1 VAE for interpolation and arithmetic
    "%matplotlib inline\nfrom vaelab.zoo import pretrained\nfrom vaelab.data import small_dsprites\n"
    "from vaelab.widgets import TraversalWidget, InterpolationWidget, ArithmeticWidget\n"
    "bvae, vae, data = pretrained('beta_vae'), pretrained('vae'), small_dsprites(1024, seed=0)",
    "TraversalWidget(bvae, data)", "InterpolationWidget(vae, data, a=3, b=7)",
    f"aw = ArithmeticWidget(vae, data)\nprint({READY!r})\naw",
]


def _latent_labels(box):
    "[(latent index, KL in nats)] read off the slider labels, e.g. 'z3 (2.41 nats)', top to bottom."
    sl = sliders(box)
    out = []
    for i in range(sl.count()):
        m = re.fullmatch(r'z(\d+) \(([\d.]+) nats\)', slider_label(sl.nth(i)))
        assert m, f'slider {i} label {slider_label(sl.nth(i))!r} is not "zD (K nats)"'
        out.append((int(m[1]), float(m[2])))
    return out


def _move_and_see(page, box, slider, key, caption, old_src):
    "Press `key` on `slider`; wait for `caption` in the box and a new picture; return the new picture's src."
    press(page, slider, key)
    wait_text(box, caption)
    return wait_img_change(box, old_src)


def test_latent_widgets_in_browser(open_notebook, lab, out_dir, tmp_path):
    t0 = time.perf_counter()
    page, name = open_notebook(fixture_notebook(tmp_path/'widgets_fixture.ipynb', CELLS))
    box = widget_box(page, lab, name, READY, '.vaelab-traversal', timeout=300)
    labels = _latent_labels(box)
    assert len(labels) == 10 and sorted(d for d, _ in labels) == list(range(10)), labels
    kls = [k for _, k in labels]
    assert kls == sorted(kls, reverse=True), f'sliders not in order of decreasing KL: {labels}'
    assert kls[0] > 0.5 and kls[-1] < 0.05, f'expected informative latents first and unused ones last: {labels}'
    top, dim = sliders(box).nth(0), f'z{labels[0][0]}'
    before = img_src(box)
    shot(page, out_dir/'traversal_before.png', scope=box)
    after = _move_and_see(page, box, top, 'End', f'{dim} = +3.00', before)    # noUiSlider: End = the maximum
    assert slider_value(top) == pytest.approx(3.0)
    shot(page, out_dir/'traversal_plus3.png', scope=box)
    _move_and_see(page, box, top, 'Home', f'{dim} = -3.00', after)
    assert slider_value(top) == pytest.approx(-3.0)
    shot(page, out_dir/'traversal_minus3.png', scope=box)

    ibox = page.locator('.vaelab-interpolation').first
    t = sliders(ibox).nth(0)
    assert slider_label(t) == 't'
    _move_and_see(page, ibox, t, 'End', 't = 1.00 (slerp)', img_src(ibox))
    shot(page, out_dir/'interpolation_t1.png', scope=ibox)

    abox = page.locator('.vaelab-arithmetic').first
    alpha = sliders(abox).nth(0)
    _move_and_see(page, abox, alpha, 'End', 'α = +3.00', img_src(abox))
    shot(page, out_dir/'arithmetic_alpha3.png', scope=abox)
    shot(page, out_dir/'page.png')
    log(f'{name}: traversal slider {dim} ({labels[0][1]:.2f} nats) -> +3 -> -3, interpolation t -> 1, arithmetic '
        f'α -> 3: pictures and captions changed; {time.perf_counter()-t0:.1f}s; screenshots in {out_dir}')
