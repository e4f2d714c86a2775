"""Homework end to end: student copies, exercise checks, grading, nbgrader (vaelab.exercises, vaelab.assignments).

The instructor's source is the chapters 02-10 themselves (nbs/NN_*.ipynb), each with its "### Exercises with checks"
section of nbgrader solution cells; a secret is planted in every solution (code, outputs, metadata, attachments) of
a temp copy. Kernels are slow to start on a loaded machine (each imports torch), so the tests share them and run
only the exercise sections, and the slow waits run in the background (`background`) while the rest goes on:

- student copies hold no trace of a solution (code, outputs, metadata, attachments) and keep every check;
- the exercise section of every student copy runs top to bottom in one shared kernel, each check reporting
  "not implemented yet"; with the instructor's cells pasted back every check passes;
- every mistake a check claims to recognise has a planted buggy implementation in nbs/13_exercises.ipynb, whose
  cells (run by nbdev_test) assert that the check's message names it; here we check that coverage;
- `vaelab grade` on three made-up submissions (correct; a memory hog, then a bug; a syntax error, then an endless
  loop) gives the expected table within the time limit, the memory limit holding with torch imported;
- nbgrader's own `generate_assignment` accepts every chapter and writes the same stubs as `vaelab assignments`.

Set VAELAB_FULL_ASSIGNMENTS=1 to also run every *whole* student copy top to bottom (minutes per chapter).
"""
import ast, copy, os, re, subprocess, sys, threading, time
from pathlib import Path
# jsonschema (under nbformat and nbgrader) builds a Lark grammar at import for its optional IRI format check: 3 s of
# CPU per process for a check nbformat never makes. Blocking that optional module here and in the nbgrader process:
NO_IRI = "import sys; sys.modules.setdefault('rfc3987_syntax', None)"
exec(NO_IRI)
import nbformat, pytest
import jupyter_client.manager, nbclient   # imported before any thread starts: concurrent first imports race

REPO = Path(__file__).resolve().parents[1]
NBS = REPO / 'nbs'
sys.path.insert(0, str(REPO))
from vaelab.assignments import (chapter_notebooks, assignments_main, grade_main, execute_submission, check_calls,
                                check_records, notebook_results, SOLUTION, CODE_STUB)
from vaelab.exercises import EXERCISES, MISTAKES

DEF = re.compile(r'^def (my_\w+)\(', re.M)
CLASSICS = {'mean-latent': 'mean instead of sum over latent dims', 'mean-pixels': 'mean instead of sum over pixels',
            'half': 'the missing ½', 'sigma': 'σ vs σ² vs log σ² confusion', 'sign': 'a flipped sign',
            'beta-term': 'β applied to the wrong term',
            'detach-codebook': 'a missing detach that lets the reconstruction train the codebook',
            'detach-feature': 'a missing detach that lets the feature loss train the discriminator',
            'ei-max': 'EI for maximisation in a minimisation problem', 'log-base': 'natural vs base-2 logarithms'}


# ------------------------------------------------------------------------------------------- helpers
def exercise_section(nb):
    "The exercise cells of a chapter: from the cell importing the checks to the end (a self-contained notebook)."
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and 'from vaelab.exercises import' in c.source)
    sec = copy.deepcopy(nb); sec.cells = sec.cells[start:]
    return sec


def with_secrets(nb, tag):
    "Plant a unique secret in every solution region, in the solution cells' outputs, metadata and (markdown) attachments."
    secrets = []
    for i, c in enumerate(nb.cells):
        if SOLUTION[0] not in c.source: continue
        s = f'SECRET-{tag}-{i}'; secrets.append(s)
        lines = c.source.split('\n'); k = next(j for j, l in enumerate(lines) if SOLUTION[0] in l)
        lines.insert(k + 1, lines[k].replace(f'### {SOLUTION[0]}', f'# {s}')); c.source = '\n'.join(lines)
        c.outputs = [nbformat.v4.new_output('stream', text=s)]
        c.metadata.setdefault('nbgrader', {})['checksum'] = (s + 'x' * 32)[:32]; c.metadata['tags'] = [s]   # nbgrader: 32 chars
    md = nbformat.v4.new_markdown_cell(f'Explain.\n\n### {SOLUTION[0]}\nBecause SECRET-{tag}-md ![a](attachment:a.png)\n### {SOLUTION[1]}',
                                       attachments={'a.png': {'image/png': 'U0VDUkVU'}}, metadata={'nbgrader': dict(
                                           solution=True, grade=True, points=1, grade_id='explain', locked=False, schema_version=3, task=False)})
    nb.cells.append(md); secrets.append(f'SECRET-{tag}-md')
    nb.metadata['widgets'] = {'state': {'x': f'SECRET-{tag}-widget'}}; secrets.append(f'SECRET-{tag}-widget')
    return secrets


def paste_solutions(student, instructor):
    "The student copy with every `def my_<name>` cell replaced by the instructor's (markers and all)."
    ref = {m: c for c in instructor.cells if c.cell_type == 'code' for m in DEF.findall(c.source)}
    nb = copy.deepcopy(student)
    for i, c in enumerate(nb.cells):
        names = DEF.findall(c.source) if c.cell_type == 'code' else []
        if names: nb.cells[i] = copy.deepcopy(ref[names[0]]); nb.cells[i].outputs = []
    return nb


def run_in_one_kernel(notebooks, cwd, timeout=300):
    "Execute notebooks one after another in ONE kernel (each must run without an error); returns seconds per notebook."
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    km = KernelManager(kernel_name='python3')
    km.start_kernel(cwd=str(cwd), env={**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg', 'PYTHONPATH': str(REPO)})
    times = []
    try:
        for nb in notebooks:
            t = time.perf_counter()
            client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False, resources={'metadata': {'path': str(cwd)}})
            try: client.execute()
            finally:
                if client.kc is not None: client.kc.stop_channels()
            times.append(time.perf_counter() - t)
    finally: km.shutdown_kernel(now=True)
    return times


def _submission(student_nb, bodies):
    "A student's notebook: the student copy with `bodies` {name: code replacing the stub} filled in."
    nb = copy.deepcopy(student_nb)
    for c in nb.cells:
        for name, body in bodies.items():
            if c.cell_type == 'code' and f'def my_{name}(' in c.source:
                c.source = c.source.replace(f'{CODE_STUB[0]}\n    {CODE_STUB[1]}', body)
    return nb


GOOD = {'reparameterize': 'return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)',
        'gaussian_kl': 'return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)',
        'bernoulli_nll': 'return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)'}
HOG = 'big = torch.empty(4 << 30, dtype=torch.uint8); big.fill_(1)\n    ' + GOOD['reparameterize']   # 4 GB > the 3 GB limit
SUBMISSIONS = {'ann': GOOD,                                                                                      # correct
               'bob': {**GOOD, 'reparameterize': HOG,                                                            # memory hog,
                       'gaussian_kl': 'return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).mean(-1)'},          # then a bug
               'cid': {**GOOD, 'reparameterize': 'return mu +* logvar',                                          # syntax error,
                       'gaussian_kl': 'import time\n    while True: time.sleep(0.05)'}}    # then a hang (sleeping: no CPU taken)
LIMIT, MEMORY_GB = 45, 3      # grading limits: seconds per notebook (while the other tests load the CPU), GB per kernel


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def course(tmp_path_factory):
    "Instructor source folder (the chapters 02-10 with secrets planted) and the secrets planted in each."
    src = tmp_path_factory.mktemp('course') / 'nbs'; src.mkdir()
    secrets = {}
    for path in chapter_notebooks(NBS):
        nb = nbformat.read(str(path), as_version=4)
        secrets[path.name] = with_secrets(nb, path.stem[:2])
        nbformat.write(nb, str(src / path.name))
    return src, secrets


@pytest.fixture(scope='module')
def copies(course, tmp_path_factory):
    "The student copies written by `vaelab assignments OUT --src SRC` (the CLI entry point)."
    src, _ = course
    out = tmp_path_factory.mktemp('student')
    paths = assignments_main([str(out), '--src', str(src)])
    return out, paths


@pytest.fixture(scope='module')
def background(course, copies, tmp_path_factory):
    """Start the slow jobs that mostly wait: `vaelab grade` on SUBMISSIONS (a thread; its kernels are processes) and
    nbgrader's `generate_assignment` on every chapter (a process). Tests join them with `.result()`."""
    src, _ = course
    out, _ = copies
    st = exercise_section(nbformat.read(str(out / '02_elbo.ipynb'), as_version=4))
    gdir = tmp_path_factory.mktemp('grading')
    for who, bodies in SUBMISSIONS.items():
        p = gdir / 'submitted' / who / 'ch02' / '02_elbo.ipynb'; p.parent.mkdir(parents=True)
        nbformat.write(_submission(st, bodies), str(p))
    ndir = tmp_path_factory.mktemp('nbgrader')
    (ndir / 'source' / 'hw').mkdir(parents=True)                       # every chapter, as one nbgrader assignment
    for nb in sorted(src.glob('*.ipynb')): (ndir / 'source' / 'hw' / nb.name).write_bytes(nb.read_bytes())
    nbg = subprocess.Popen([sys.executable, '-c', NO_IRI + '; from nbgrader.apps.nbgraderapp import main; main()',   # `nbgrader`
                           'generate_assignment', 'hw', '--force', '--no-db'],
                           cwd=ndir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jobs = {'grade': Job(lambda: grade_main([str(gdir), '--out', str(gdir / 'grades'), '--timeout', str(LIMIT), '--jobs', '3',
                                             '--memory-gb', str(MEMORY_GB), '--no-progress'])),
            'nbgrader': Job(lambda: (nbg.communicate(timeout=300), nbg.returncode))}
    jobs['grade'].dir, jobs['nbgrader'].dir = gdir, ndir
    yield jobs
    for j in jobs.values(): j.thread.join()
    if nbg.poll() is None: nbg.kill()


class Job:
    "A function run in a thread; `.result()` waits for it and returns its value (or raises its exception) and its seconds."
    def __init__(self, fn):
        self.t0 = time.perf_counter()
        def run():
            try: self.value, self.error = fn(), None
            except BaseException as e: self.value, self.error = None, e
            self.seconds = time.perf_counter() - self.t0
        self.thread = threading.Thread(target=run, daemon=True); self.thread.start()

    def result(self):
        self.thread.join()
        if self.error is not None: raise self.error
        return self.value, self.seconds


# ------------------------------------------------------------------------------------------- student copies
def test_one_student_copy_per_chapter_and_no_solution_left(course, copies):
    src, secrets = course
    out, paths = copies
    assert [p.name for p in paths] == [p.name for p in chapter_notebooks(src)], paths
    for p in paths:
        text = p.read_text()
        leaked = [s for s in secrets[p.name] if s in text]
        assert not leaked, f'{p.name}: solution text leaked: {leaked}'
        assert 'U0VDUkVU' not in text, f'{p.name}: an attachment of a solution survived'
        nb = nbformat.read(str(p), as_version=4); nbformat.validate(nb)
        assert all(not c.get('outputs') and c.get('execution_count') is None for c in nb.cells if c.cell_type == 'code')
        assert set(nb.metadata) <= {'kernelspec', 'language_info'}, nb.metadata
        assert not any('nbdev_export(' in c.source or re.search(r'^#\|\s*export', c.source, re.M) for c in nb.cells)
        src_nb = nbformat.read(str(src / p.name), as_version=4)
        want = [m for c in src_nb.cells if c.cell_type == 'code' for m in re.findall(r'\bcheck_\w+\(', c.source)]
        got = [m for c in nb.cells if c.cell_type == 'code' for m in re.findall(r'\bcheck_\w+\(', c.source)]
        assert got == want and len(got) >= 2, (p.name, got, want)          # every check kept, in order
        stubs = [c for c in nb.cells if DEF.search(c.source)]
        assert stubs and all(CODE_STUB[1] in c.source for c in stubs), p.name


def test_student_copies_report_not_implemented_then_pasted_solutions_pass(course, copies, background, tmp_path):
    "Every student copy's exercise section, then the same with the solutions pasted back, in one kernel (grading and nbgrader run meanwhile)."
    src, _ = course
    out, paths = copies
    t = time.perf_counter()
    students = [exercise_section(nbformat.read(str(p), as_version=4)) for p in paths]
    pasted = [paste_solutions(s, nbformat.read(str(src / p.name), as_version=4)) for s, p in zip(students, paths)]
    secs = run_in_one_kernel(students + pasted, tmp_path)    # raises if any cell of any copy raised: Run All never stops
    for p, s, f in zip(paths, students, pasted):
        want = [m for m, _ in check_calls(s)]
        todo, done = check_records(s), check_records(f)
        assert sorted(todo) == sorted(want) and all(r['status'] == 'todo' for r in todo.values()), (p.name, todo)
        bad = {k: r['message'] for k, r in done.items() if r['status'] != 'pass'}
        assert sorted(done) == sorted(want) and not bad, (p.name, bad)
    n = sum(len(check_records(s)) for s in students)
    assert n >= 18, n                                       # 2-4 exercises in each of 9 chapters
    print(f'{len(paths)} student copies x 2 runs, {n} exercises, one kernel: {time.perf_counter() - t:.1f}s;',
          ' '.join(f'{p.name[:2]}:{a:.1f}+{b:.1f}s' for p, a, b in zip(paths, secs, secs[len(paths):])))


@pytest.mark.skipif(not os.environ.get('VAELAB_FULL_ASSIGNMENTS'),
                    reason='whole chapters take minutes: set VAELAB_FULL_ASSIGNMENTS=1 (or a list of chapters, e.g. 05,07)')
def test_whole_student_copies_run_top_to_bottom(copies):
    "Every student copy, all cells that nbdev_test runs, in the grader's kernel: no stop, every check 'not implemented yet'."
    out, paths = copies
    want = os.environ['VAELAB_FULL_ASSIGNMENTS']
    if want != '1': paths = [p for p in paths if p.name[:2] in want.split(',')]
    os.environ.setdefault('VAELAB_RUNS', str(NBS / 'runs'))      # cached runs, as nbdev_test in nbs/ uses them
    failed = []
    for p in paths:
        t = time.perf_counter()
        nb, problem = execute_submission(p, timeout=1800, memory_gb=8)
        res = notebook_results(nb, problem)
        errors = [(i, o.get('ename'), o.get('evalue')) for i, c in enumerate(nb.cells) if c.cell_type == 'code'
                  for o in c.get('outputs', []) if o.get('output_type') == 'error']
        ok = not problem and not errors and res and all(s == 'todo' for s, _ in res.values())
        print(f'{p.name}: {"ok" if ok else "FAILED"} in {time.perf_counter() - t:.0f}s; {problem or ""} {errors[:3]} {res}', flush=True)
        if not ok: failed.append((p.name, problem, errors[:3], res))
    assert paths and not failed, failed


# ------------------------------------------------------------------------------------------- checks
def test_every_recognised_mistake_has_a_planted_bug():
    "Coverage: nbs/13_exercises.ipynb plants, for every (exercise, mistake) a check claims, a buggy implementation."
    nb = nbformat.read(str(NBS / '13_exercises.ipynb'), as_version=4)
    planted = set()
    for c in nb.cells:
        if c.cell_type != 'code': continue
        for node in ast.walk(ast.parse(c.source)):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'planted' and len(node.args) == 3:
                ex, m = node.args[0], node.args[2]
                if isinstance(ex, ast.Constant) and isinstance(m, ast.Constant) and m.value: planted.add((ex.value, m.value))
    claimed = {(e.name, m) for e in EXERCISES.values() for m in e.mistakes}
    assert claimed <= planted, f'mistakes without a planted bug: {sorted(claimed - planted)}'
    for key, phrase in CLASSICS.items():
        assert MISTAKES[key][0] == phrase, (key, MISTAKES[key][0])
        assert any(key in e.mistakes for e in EXERCISES.values()), key
    per = {}
    for e in EXERCISES.values(): per.setdefault(e.chapter, []).append(e.name)
    assert sorted(per) == [f'{c:02d}' for c in range(2, 11)] and all(2 <= len(v) <= 4 for v in per.values()), per


# ------------------------------------------------------------------------------------------- grading
def test_grade_three_submissions(background):
    "`vaelab grade` (CLI entry point) on SUBMISSIONS: scores, diagnoses, time limit, memory limit, CSV and markdown."
    rows, dt = background['grade'].result()
    gdir = background['grade'].dir / 'grades'
    table = {r['student']: r for r in rows}
    md = (gdir / 'grades.md').read_text()
    print(md, f'\ngraded in {dt:.0f}s')
    assert list(table) == ['ann', 'bob', 'cid']
    assert [table[s]['score'] for s in table] == ['3/3', '1/3', '0/3']
    assert all(table['ann'][e] == 'passed' for e in GOOD)                        # torch imports and works under the limit
    mem = table['bob']['reparameterize']
    assert mem.startswith('error: your reparameterize raised') and 'allocate' in mem, mem      # the memory limit holds...
    assert table['bob']['gaussian_kl'].startswith('wrong: Looks like mean instead of sum over latent dims'), table['bob']
    assert table['bob']['bernoulli_nll'] == 'passed'                              # ... and the kernel carries on
    assert table['cid']['reparameterize'].startswith('error: the cell defining my_reparameterize raised SyntaxError'), table['cid']
    assert f'time limit ({LIMIT} s)' in table['cid']['gaussian_kl'] and 'time limit' in table['cid']['bernoulli_nll']
    csv_rows = (gdir / 'grades.csv').read_text().splitlines()
    assert csv_rows[0] == 'student,score,reparameterize,gaussian_kl,bernoulli_nll' and len(csv_rows) == 4
    lines = md.strip().split('\n')
    assert len(lines) == 5 and all(l.startswith('|') and l.endswith('|') for l in lines), md         # one line per row
    assert lines[0].split(' | ')[:2] == ['| student', 'score'] and lines[2].startswith('| ann | 3/3 | passed |'), lines[:3]
    assert dt < LIMIT + 90, f'grading took {dt:.0f}s for a {LIMIT}s limit'


# ------------------------------------------------------------------------------------------- nbgrader
def test_nbgrader_generate_assignment_accepts_the_source(background, copies):
    "nbgrader's own CLI turns every instructor chapter into the same student stubs; it needs the nbgrader cell metadata."
    out, paths = copies
    ((stdout, stderr), rc), _ = background['nbgrader'].result()
    assert rc == 0, stderr[-3000:]
    ndir = background['nbgrader'].dir
    sol = lambda book: [c.source for c in book.cells if DEF.search(c.source)]
    for p in paths:
        rel = nbformat.read(str(ndir / 'release' / 'hw' / p.name), as_version=4)
        ours = nbformat.read(str(p), as_version=4)
        assert sol(rel) == sol(ours) and all(CODE_STUB[1] in s for s in sol(rel)), p.name      # the same stubs as ours
        assert not any(SOLUTION[0] in c.source for c in rel.cells), p.name
    nb = nbformat.read(str(ndir / 'source' / 'hw' / '02_elbo.ipynb'), as_version=4)
    from nbgrader.preprocessors import ClearSolutions                                   # what nbdev_clean leaves without
    bare = copy.deepcopy(nb)                                                            # allowed_cell_metadata_keys = nbgrader
    for c in bare.cells: c.metadata = {}
    with pytest.raises(RuntimeError, match='non-solution cell'): ClearSolutions().preprocess(bare, {})
