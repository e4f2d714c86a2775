"""Shared pytest fixtures. Browser fixtures are session-scoped: one JupyterLab server and one Chromium
serve every browser test (latent widgets, disentanglement explorer, VQ codebook explorer, ...).

A browser test looks like:

    import pytest
    from browser import run_all, sliders, press, img_src, wait_img_change, shot
    pytestmark = pytest.mark.browser

    def test_my_widget(open_notebook, lab, out_dir):
        page, name = open_notebook('nbs/07_vq_vae.ipynb')
        run_all(page, lab, name, until_text='explorer ready')
        ...
        shot(page, out_dir/'after.png')

Without chromium/playwright the browser fixtures skip the test with the reason printed; with env CI set
they fail instead (in CI the browser tests must run). Playwright and JupyterLab are imported only when a
browser fixture is used, so plain unit tests never pay for them.
"""
import os, sys, time
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))   # so tests can `import browser`
import browser as B

OUTPUT_ROOT = Path(os.environ.get('VAELAB_TEST_OUTPUT', Path(__file__).parent/'_output'))


def pytest_configure(config):
    config.addinivalue_line('markers', 'browser: end-to-end test in JupyterLab + headless Chromium (slow-ish, ~1 min)')


@pytest.fixture(scope='session')
def browser_ready():
    "Skip (outside CI) or fail (in CI) when chromium/playwright/jupyterlab are missing."
    missing = B.missing_browser_parts()
    if missing: B.skip_or_fail('missing ' + ', '.join(missing))
    return True


@pytest.fixture(scope='session')
def lab(browser_ready, tmp_path_factory):
    "One private JupyterLab server for the whole session (temp root dir, random port and token)."
    server = B.JupyterLab(tmp_path_factory.mktemp('jupyterlab'))
    try: server.start()
    except Exception as e:
        log = server.logfile.read_text()[-3000:] if server.logfile.exists() else ''
        server.stop(); pytest.fail(f'JupyterLab did not start: {e}\n{log}')
    yield server
    server.stop()


@pytest.fixture(scope='session')
def chromium(browser_ready):
    "One headless Chromium (Debian's /usr/bin/chromium through Playwright) for the whole session."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        t = time.perf_counter()
        b = B.launch_chromium(pw)
        B.log(f'chromium launched in {time.perf_counter() - t:.1f}s')
        yield b
        b.close()


@pytest.fixture
def out_dir(request):
    "A per-test output folder for screenshots: tests/_output/<test name>/ (path printed)."
    d = OUTPUT_ROOT/request.node.name
    d.mkdir(parents=True, exist_ok=True)
    print(f'test output folder: {d}', flush=True)
    return d


@pytest.fixture
def open_notebook(lab, chromium, out_dir):
    """Factory: `page, name = open_notebook('nbs/XX.ipynb')` copies the notebook (outputs cleared) into the
    server root, opens it, waits for its kernel. On test failure a screenshot + HTML go to `out_dir`;
    afterwards the page is closed and the kernel stopped."""
    opened = []
    def _open(nb, viewport=(1280, 1000)):
        name = lab.copy_in(nb)
        page = B.open_notebook(chromium, lab, name, viewport=viewport)
        opened.append((page, name)); return page, name
    yield _open
    for page, name in opened:
        if _failed.get(id(out_dir)): B.save_failure(page, out_dir)
        try: page.close()
        finally: lab.shutdown_session(name)


_failed = {}

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    "Remember failures of the call phase so `open_notebook` can save evidence before closing pages."
    outcome = yield
    rep = outcome.get_result()
    if rep.when == 'call' and rep.failed and 'out_dir' in getattr(item, 'funcargs', {}):
        _failed[id(item.funcargs['out_dir'])] = True
