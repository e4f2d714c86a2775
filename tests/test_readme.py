"README.md, nbs/index.ipynb and .ci/run agree on the two set-up commands."
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN_CMD = 'pip install -e . && vaelab train'
TEST_CMD = 'pip install -e ".[dev]" && tests/run'


def setup_commands(text):
    "Commands in the README's code blocks that install something: the set-up commands."
    blocks = re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.S)
    return [l.split('#')[0].strip() for b in blocks for l in b.splitlines() if 'pip install' in l]


def test_readme_has_exactly_the_two_setup_commands():
    assert setup_commands((ROOT / 'README.md').read_text()) == [MAIN_CMD, TEST_CMD]


def test_readme_is_in_step_with_index_notebook():
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())
    md = '\n\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    assert md.strip() in (ROOT / 'README.md').read_text(), "README.md is out of step with nbs/index.ipynb"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / '.ci' / 'run').read_text()
    assert f"cmd='{TEST_CMD}'" in ci and 'eval "$cmd"' in ci


def test_quarto_config_single_source():
    nbs_q = ROOT / 'nbs' / '_quarto.yml'
    assert nbs_q.resolve() == (ROOT / '_quarto.yml').resolve(), "nbs/_quarto.yml must link to the top-level _quarto.yml"
