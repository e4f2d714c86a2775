"""Reusable helpers for end-to-end widget tests: JupyterLab + headless Chromium driven by Playwright.

Used through the session fixtures in `tests/conftest.py` (`lab`, `chromium`, `open_notebook`, `out_dir`);
any test module can also call these functions directly. Nothing here is imported by `vaelab`.

Layout of a test:
    page = open_notebook('nbs/05_latent_widgets.ipynb')   # copies it into the server's temp root, opens it
    run_all(page, lab, until_text='traversal ready')      # Run All with the retries JupyterLab needs
    s = sliders(page).nth(0); before = img_src(widget_box(page, 0))
    press(page, s, 'ArrowRight', 3)
    wait_img_change(widget_box(page, 0), before)
    shot(page, out_dir/'after.png')

What we learned driving JupyterLab 4 here (see the shared recipe recipes/browser_widgets.md):
- the toolbar can say "idle" before the kernel's websocket is usable; a Run All issued then does nothing.
  `wait_kernel_ready` asks the server (`/api/sessions`) for *this notebook's* kernel: idle and >= 1 connection.
- a "Select Kernel" dialog can open on a fresh profile; `settle` accepts it.
- ipywidgets 8 sliders are noUiSlider: the handle (`.noUi-handle`, role=slider, aria-valuenow) takes the
  keyboard (Arrow keys step, Home/End jump to the ends).
"""
from __future__ import annotations

import json, os, shutil, signal, socket, subprocess, sys, time, urllib.request, uuid
from pathlib import Path

CHROMIUM = os.environ.get('VAELAB_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']
REPO = Path(__file__).resolve().parents[1]
# cells that nbdev_test would not run (tst_flags in settings.ini) + the export cell (needs settings.ini)
SKIP_CELLS = ('#| slow', '#| gpu', '#| notest', '#| eval: false', 'nbdev_export()')


def log(msg, t0=[time.perf_counter()]):
    "Print `msg` with seconds since import (pytest shows it with -s or on failure)."
    print(f'[browser {time.perf_counter()-t0[0]:7.2f}s] {msg}', flush=True)


# ----------------------------------------------------------------------------------- availability
def missing_browser_parts() -> list[str]:
    "What is missing to run browser tests here (empty list = everything is present)."
    missing = []
    if not Path(CHROMIUM).exists(): missing.append(f'chromium executable {CHROMIUM} (apt-get install chromium)')
    import importlib.util
    for mod in ('playwright', 'jupyterlab', 'ipywidgets', 'nbformat'):
        if importlib.util.find_spec(mod) is None: missing.append(f'python package {mod}')
    if not (Path(sys.executable).parent/'jupyter').exists() and shutil.which('jupyter') is None:
        missing.append('jupyter executable')
    return missing


def skip_or_fail(reason: str):
    "Skip the test with `reason` on a workstation; fail it when env CI is set (in CI it must run)."
    import pytest
    if os.environ.get('CI'):
        pytest.fail(f'browser test cannot run in CI: {reason}. In CI it must run: install what is missing.')
    print(f'SKIPPING browser test: {reason}', flush=True)
    pytest.skip(reason)


# ----------------------------------------------------------------------------------- servers
def free_port() -> int:
    "An unused TCP port on 127.0.0.1."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r: return json.load(r)


def wait_http(url, timeout=120.0, proc=None) -> float:
    "Poll `url` until it answers 200; return seconds waited. Fails fast if `proc` died."
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'server exited with code {proc.returncode} before answering {url}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return time.perf_counter() - t
        except Exception: time.sleep(0.2)
    raise TimeoutError(f'no HTTP 200 from {url} within {timeout}s')


class JupyterLab:
    "A private JupyterLab server (own process group, temp root dir, token, runtime/config dirs) on 127.0.0.1."
    def __init__(self, root: Path, port: int | None = None, token: str | None = None, extra_pythonpath=(REPO,)):
        self.root = Path(root).resolve(); self.root.mkdir(parents=True, exist_ok=True)
        self.port, self.token = port or free_port(), token or uuid.uuid4().hex
        self.base = f'http://127.0.0.1:{self.port}'
        self.proc, self.logfile = None, self.root/'jupyterlab.log'
        pp = os.pathsep.join([str(p) for p in extra_pythonpath] + [os.environ.get('PYTHONPATH', '')]).strip(os.pathsep)
        # kernels start in the temp root, so point them at the repo's cached runs (what nbdev_test in nbs/ writes)
        runs = os.environ.get('VAELAB_RUNS', str(REPO/'nbs'/'runs'))
        self.env = dict(os.environ, VAELAB_RUNS=runs, JUPYTER_RUNTIME_DIR=str(self.root/'.jrt'), JUPYTER_CONFIG_DIR=str(self.root/'.jcfg'),
                        IPYTHONDIR=str(self.root/'.ipython'), PYTHONPATH=pp, MPLBACKEND='module://matplotlib_inline.backend_inline')

    def start(self, timeout=120.0):
        "Start `jupyter lab` as a child process group and wait until its REST API answers."
        exe = Path(sys.executable).parent/'jupyter'
        cmd = [str(exe if exe.exists() else shutil.which('jupyter')), 'lab', '--no-browser', '--ip=127.0.0.1',
               f'--port={self.port}', f'--ServerApp.token={self.token}', f'--ServerApp.root_dir={self.root}',
               f'--LabApp.workspaces_dir={self.root/".jws"}', '--LabApp.news_url=None',
               '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--ServerApp.port_retries=0']
        if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--allow-root')
        self._log = open(self.logfile, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.root, start_new_session=True)
        dt = wait_http(self.api('status'), timeout, self.proc)
        log(f'jupyter lab pid {self.proc.pid} on {self.base} ready after {dt:.1f}s (log {self.logfile})')
        return self

    def api(self, path: str) -> str: return f'{self.base}/api/{path}?token={self.token}'
    def url(self, nb_name: str) -> str:
        "Notebook URL; `reset` starts from an empty workspace, so tabs of earlier tests are not restored over it."
        return f'{self.base}/lab/tree/{nb_name}?reset&token={self.token}'

    def sessions(self) -> list[dict]: return _get_json(self.api('sessions'))

    def shutdown_session(self, nb_name: str):
        "Stop the kernel of notebook `nb_name` (frees memory between tests)."
        for s in self.sessions():
            if s.get('path', '').endswith(nb_name):
                req = urllib.request.Request(self.api(f'sessions/{s["id"]}'), method='DELETE')
                try: urllib.request.urlopen(req, timeout=10).close()
                except Exception as e: log(f'could not stop session of {nb_name}: {e}')

    def copy_in(self, nb: str | Path, name: str | None = None, drop=SKIP_CELLS) -> str:
        """Copy notebook `nb` into the server root, as `nbdev_test` would run it: outputs cleared (every output a
        test sees comes from its own run) and cells containing any string in `drop` removed (`#| slow`/`gpu`/
        `notest` cells, and the `nbdev_export()` cell, which needs settings.ini). Returns the copy's name."""
        import nbformat
        nb = Path(nb); nb = nb if nb.is_absolute() else REPO/nb
        if not nb.exists(): raise FileNotFoundError(f'notebook {nb} not found')
        name = name or f'{nb.stem}_{uuid.uuid4().hex[:6]}.ipynb'
        book = nbformat.read(str(nb), as_version=4)
        book.cells = [c for c in book.cells if not (c.cell_type == 'code' and any(d in c.source for d in drop))]
        for c in book.cells:
            if c.cell_type == 'code': c.outputs, c.execution_count = [], None
        book.metadata.pop('widgets', None)
        nbformat.write(book, str(self.root/name)); return name

    def stop(self):
        "SIGTERM this server's own process group (server + its kernels); SIGKILL after 15 s."
        p = self.proc
        if p is None or p.poll() is not None: return
        os.killpg(p.pid, signal.SIGTERM)
        try: p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.wait(5)
        self._log.close(); log(f'jupyter lab pid {p.pid} stopped')

    def __enter__(self): return self.start()
    def __exit__(self, *a): self.stop()


# ----------------------------------------------------------------------------------- browser
def launch_chromium(pw, headless=True):
    "Launch Debian's Chromium through Playwright (no `playwright install`: it would download a browser)."
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless)


def wait_kernel_ready(lab: JupyterLab, nb_name: str, timeout=90.0) -> float:
    "Wait until the kernel of `nb_name` is idle with a websocket connection (server's view)."
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        for s in lab.sessions():
            k = s.get('kernel') or {}
            if s.get('path', '').endswith(nb_name) and k.get('execution_state') == 'idle' and k.get('connections', 0) >= 1:
                return time.perf_counter() - t
        time.sleep(0.25)
    raise TimeoutError(f'kernel of {nb_name} never became idle with a connection within {timeout}s')


def settle(page, wait_s=1.5):
    "Close what a fresh JupyterLab profile may pop up (kernel chooser, news toast)."
    time.sleep(wait_s)
    dlg = page.locator('.jp-Dialog')
    if dlg.count():
        log('accepting dialog: ' + ' '.join(dlg.first.inner_text().split())[:90])
        page.locator('.jp-Dialog .jp-mod-accept').first.click()
    no = page.get_by_role('button', name='No', exact=True)
    if no.count(): no.first.click()


def open_notebook(browser, lab: JupyterLab, nb_name: str, viewport=(1280, 1000), timeout=90.0):
    "Open `nb_name` (already in lab.root) in a new page; return the page once its kernel is ready."
    page = browser.new_page(viewport={'width': viewport[0], 'height': viewport[1]})
    t = time.perf_counter()
    page.goto(lab.url(nb_name))
    page.locator('.jp-Notebook:visible').first.wait_for(timeout=timeout*1000)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=timeout*1000)
    wait_kernel_ready(lab, nb_name, timeout)
    log(f'{nb_name}: open, kernel idle+connected after {time.perf_counter()-t:.1f}s')
    return page


def _has_error(page) -> str | None:
    # JupyterLab renders a traceback as a stderr output; warnings are stderr too, so look for 'Traceback'
    err = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', has_text='Traceback')
    return err.first.inner_text() if err.count() else None


def run_all(page, lab: JupyterLab, nb_name: str, until_text: str, timeout=120.0, first_output_s=30.0, attempts=3):
    """Run > Run All Cells, then wait until an output contains `until_text` (the notebook's "ready" marker).
    Retries Run All when no cell produced any output within `first_output_s` (seen on cold kernels).
    Raises with the notebook's traceback if a cell errored."""
    t = time.perf_counter()
    for attempt in range(1, attempts + 1):
        settle(page)
        page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
        page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
        try:
            page.locator('.jp-InputArea-prompt', has_text='[1]').first.wait_for(timeout=first_output_s*1000)
            break
        except Exception:
            log(f'{nb_name}: Run All attempt {attempt}: first cell did not finish in {first_output_s}s; retrying')
    else:
        raise AssertionError(f'{nb_name}: Run All Cells never started executing')
    deadline = t + timeout
    while time.perf_counter() < deadline:
        if page.locator('.jp-OutputArea-output', has_text=until_text).count(): break
        if (tb := _has_error(page)): raise AssertionError(f'{nb_name}: a cell raised during Run All:\n{tb[-3000:]}')
        time.sleep(0.5)
    else:
        raise TimeoutError(f'{nb_name}: no output containing {until_text!r} within {timeout}s')
    log(f'{nb_name}: Run All reached {until_text!r} after {time.perf_counter()-t:.1f}s (attempt {attempt})')


def wait_idle(lab: JupyterLab, nb_name: str, timeout=60.0):
    "Wait until the notebook's kernel finished everything queued (e.g. the rest of Run All)."
    return wait_kernel_ready(lab, nb_name, timeout)


# ----------------------------------------------------------------------------------- widgets

def fixture_notebook(path, cells) -> Path:
    "Write a notebook of code `cells` (strings) with a Python 3 kernelspec to `path` (a small fixture for a widget test)."
    import nbformat
    from nbformat.v4 import new_notebook, new_code_cell
    nb = new_notebook(cells=[new_code_cell(c) for c in cells],
                      metadata={'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}})
    nbformat.write(nb, str(path)); return Path(path)

def widget_box(page, lab: JupyterLab, nb_name: str, until_text: str, selector: str, timeout=120.0):
    "Run All until `until_text`, then wait for the first element matching `selector` (a widget's CSS class); return it."
    run_all(page, lab, nb_name, until_text=until_text, timeout=timeout)
    box = page.locator(selector).first
    box.wait_for(timeout=30_000)
    return box


def sliders(scope):
    "All ipywidgets sliders (int and float) under `scope` (a page or locator)."
    return scope.locator('.widget-slider')


def slider_value(slider) -> float:
    "Current value of an ipywidgets-8 slider, as the browser shows it (aria-valuenow of its handle)."
    return float(slider.locator('.noUi-handle').first.get_attribute('aria-valuenow'))


def slider_label(slider) -> str:
    "The slider's description text."
    return (slider.locator('.widget-label').first.text_content() or '').strip()


def press(page, slider, key='ArrowRight', times=1, pause=0.05):
    "Focus the slider handle (scrolled into view) and press `key` `times` times."
    h = slider.locator('.noUi-handle').first
    h.scroll_into_view_if_needed(); h.click()
    for _ in range(times): page.keyboard.press(key); time.sleep(pause)


def img_src(scope, nth=0, timeout=30.0) -> str:
    "The `src` of the `nth` <img> under `scope` (matplotlib outputs are data: URLs, so a new picture = new src)."
    return scope.locator('img').nth(nth).get_attribute('src', timeout=timeout*1000)


def wait_img_change(scope, old_src: str, nth=0, timeout=30.0) -> str:
    "Wait until the `nth` <img> under `scope` shows something other than `old_src`; return the new src."
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        try:
            s = img_src(scope, nth, timeout=2)
            if s and s != old_src: return s
        except Exception: pass
        time.sleep(0.2)
    raise AssertionError(f'image did not change within {timeout}s')


def wait_text(scope, text: str, selector='.jp-OutputArea-output, .widget-label, .widget-html-content', timeout=30.0):
    "Wait until an output/label under `scope` contains `text` (what the user reads)."
    scope.locator(selector, has_text=text).first.wait_for(timeout=timeout*1000)


def shot(page, path: Path, scope=None) -> Path:
    "Screenshot the page viewport (or just `scope`, scrolled into view) to `path`; returns the path."
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    if scope is not None:
        scope.scroll_into_view_if_needed(); scope.screenshot(path=str(path))
    else: page.screenshot(path=str(path))
    log(f'screenshot {path}'); return path


def save_failure(page, out: Path, tag='FAILURE'):
    "Save a screenshot and the HTML of `page` into `out` for post-mortem."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(out/f'{tag}.png'), full_page=True); (out/f'{tag}.html').write_text(page.content())
        log(f'failure evidence saved in {out}')
    except Exception as e: log(f'could not save failure evidence: {e}')
