#!/usr/bin/env python
"""Run notebooks and store their outputs, so the docs site (nbdev_proc_nbs / nbdev_docs) shows the figures.

Cells are skipped exactly as `nbdev_test` skips them (the `tst_flags` of settings.ini: `#| slow`, `#| gpu`,
`#| notest`, `#| eval: false`, and the `nbdev_export()` cell). Run `nbdev_clean` afterwards.

    python tests/refresh_outputs.py                  # every notebook
    python tests/refresh_outputs.py nbs/05_*.ipynb   # some
"""
import os, sys
from configparser import ConfigParser
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parents[1]


def skip_flags():
    cfg = ConfigParser(); cfg.read(ROOT / 'settings.ini')
    return set(cfg['DEFAULT'].get('tst_flags', 'notest').split())


def directives(src):
    "The `#|` directive names of a cell ('eval: false' spelled out)."
    out = set()
    for line in src.splitlines():
        d = line[2:].strip() if line.startswith('#|') else ''
        if d.replace(' ', '') == 'eval:false': out.add('eval: false')
        elif d: out.add(d.split()[0])
    return out


def refresh(fn, flags):
    nb = read_nb(fn)
    def skip(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        return bool(directives(cell.source) & (flags | {'eval: false'}))
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    os.environ['IN_TEST'] = '1'        # the same budgets as nbdev_test
    cwd = os.getcwd(); os.chdir(fn.parent)
    try: CaptureShell(fn).run_all(nb, exc_stop=True, preproc=skip)
    finally: os.chdir(cwd)
    write_nb(nb, fn)


if __name__ == '__main__':
    fns = [Path(f).resolve() for f in sys.argv[1:]] or sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))
    for fn in fns:
        print(f'running {fn.name}', flush=True); refresh(fn, skip_flags())
