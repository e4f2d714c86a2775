"""A student copy in a real browser: JupyterLab + headless Chromium (fixtures in conftest.py).

Builds a student copy of the exercise section of chapter 02 (nbs/02_elbo.ipynb) with
`vaelab.assignments.student_notebook` (solutions replaced by `raise NotImplementedError()`), then plays a student:
the first exercise left as it is, the second answered with the classic bug (a mean over the latent dims where the
KL sums them). Run All in JupyterLab must show, in the cell
outputs a student reads, "not implemented yet" under the first check and the named mistake with its hint under the
second. Screenshots go to tests/_output/<test name>/.
"""
import time
import nbformat, pytest
from browser import run_all, wait_text, shot, log
from test_assignments import exercise_section, NBS, CODE_STUB
from vaelab.assignments import student_notebook

pytestmark = pytest.mark.browser
MISTAKE = 'mean instead of sum over latent dims'
BUG = 'return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).mean(-1)'


def student_copy_with_bug(path):
    "Chapter 02's exercise section -> student copy -> a student's answer with the mean-over-latents bug; written to `path`."
    src = exercise_section(nbformat.read(str(NBS / '02_elbo.ipynb'), as_version=4))
    src.metadata = {'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}}
    nb, n = student_notebook(src, '02 exercises')
    assert n == 3, n
    stub = f'{CODE_STUB[0]}\n    {CODE_STUB[1]}'
    cell = next(c for c in nb.cells if 'def my_gaussian_kl(' in c.source)
    assert stub in cell.source and 'BEGIN' not in cell.source
    cell.source = cell.source.replace(stub, BUG)
    nbformat.write(nb, str(path))
    return path


def test_failing_check_shows_its_diagnosis(open_notebook, lab, out_dir, tmp_path):
    t0 = time.perf_counter()
    page, name = open_notebook(student_copy_with_bug(tmp_path / 'ch02_student.ipynb'))
    run_all(page, lab, name, until_text=MISTAKE, timeout=240)

    todo = page.locator('.vaelab-check-todo', has_text='reparameterize: not implemented yet')
    todo.first.wait_for(timeout=30_000)                       # an unfinished exercise: reported, Run All went on
    assert todo.count() == 1, f'the result is shown {todo.count()} times'
    box = page.locator('.vaelab-check-fail', has_text='gaussian_kl: wrong').first
    box.wait_for(timeout=30_000)
    text = ' '.join(box.inner_text().split())
    assert MISTAKE in text and 'Hint:' in text and '1/M' in text, text
    assert 'sum(-1)' not in text, f'the message gives the solution away: {text}'
    wait_text(page, 'ExerciseFailed: gaussian_kl is not right yet')     # a one-line error under it, no traceback
    assert page.locator('.jp-OutputArea-output', has_text='Traceback').count() == 0
    shot(page, out_dir/'diagnosis.png', scope=box)
    shot(page, out_dir/'page.png')
    log(f'{name}: "not implemented yet" and "{MISTAKE}" shown in the outputs; {time.perf_counter()-t0:.1f}s in this test')
