"""Every shell command printed in README.md or in a notebook's prose runs, so the documentation cannot rot.

Where commands are found (in document order, README.md and the markdown cells of every nbs/*.ipynb):
  * fenced blocks tagged bash, sh, shell or console; an untagged fenced block counts when its first command starts
    with a known command word (vaelab, torchrun, pip, python, nbdev_*, tests/run, for);
  * `$ ` prompts: a leading `$ ` is removed; in a block that has prompt lines, the other lines are output (unless they
    continue a prompted line);
  * inline code spans in prose that start with `vaelab ` (a line break inside the span reads as a space).

How a command is normalised:
  1. line continuations (a trailing backslash) are joined;
  2. comments after an unquoted `#` are dropped, and blank lines;
  3. a leading `pip install ... &&` is stripped (CI has installed the package already);
  4. a command that repeats an earlier one of the same document runs once.

RULES, one parametrized test per (document, command):
  * `vaelab ...` (also `python -m vaelab ...`, `VAR=value` prefixes): a plain `vaelab ARGS` runs in the test's own
    process through `vaelab.cli.main` (the console script's code path, without a 4-second torch import per command);
    anything with shell syntax runs through bash and the installed console script; both with VAELAB_SMOKE=1 (the CLI caps every training budget to 2 steps and metric sample counts), in a fresh
    temporary working directory per document in which the document's commands run in order (so
    `vaelab train --out runs/x` then `vaelab evaluate runs/x` work); timeout 120 s per command (VAELAB_DOCS_TIMEOUT
    overrides it; a `for` loop gets it once per item). Exit status 0 is required.
  * a document with a command that reads the course's own files (`nbdev_export`, `nbdev_clean`,
    `vaelab assignments`) gets as working directory a temporary copy of the repository (nbs/, vaelab/, settings.ini,
    setup.py, README.md, _quarto.yml), so those commands run for real and the working tree is never rewritten.
  * a usage synopsis, i.e. a `vaelab` command with placeholders (ALL-CAPS words such as RUN or OUT_DIR, `[...]`,
    `<...>`, `{a,b}`, `...`; a single capital such as M counts) or alternatives (`train / evaluate`), and an inline
    span that only names a subcommand (`vaelab evaluate`): not runnable as written, so `vaelab SUB [--model M] --help`
    must exit 0 for every subcommand named (with the synopsis's model, if it names one), and every `--flag` it shows
    must appear in that help (for `vaelab tune`, which hands unknown flags to every run: in `vaelab train`'s help).
  * `python bench/SCRIPT.py ...` (a speed claim's command): the script's `main` runs in this process with the small
    sizes of BENCH_SMALL appended (argparse keeps the last value), so the script, its flags and its printed report
    are exercised in seconds; a bench script without an entry there fails (the timings themselves are measured by hand, never in tests).
  * `torchrun ...`: run like a vaelab command on the CPU (CUDA hidden), with `--nproc_per_node` rewritten to 2 and a
    free local master port (gloo backend).
  * `a && b`: each part by its own rule, in order, all must pass (one bash call when every part is a plain run).
    `for X in ...; do ...; done` loops and `;` sequences run through bash when every command in them is a plain run.
  * FIXTURES: a file that a command reads but that no command of the document creates (e.g. `my_run.json`) is written
    into the document's directory first, with the content given in FIXTURES; a `celeba:PATH` data spec gets a tiny
    fake CelebA tree (20 aligned-size JPEGs, the official partition file) at PATH, so the command really runs.
Allow-list (never executed, each with its reason; a check that can run offline is made instead):
  * ALLOWED, by first word: `tests/run` (the suite itself: this file is part of it, running it would recurse);
    `nbdev_test` (tests/run step 4 runs the notebooks; checked: `nbdev_test --help` exits 0 and every name after
    `--flags` is declared in settings.ini `tst_flags`); `nbdev_docs`, `nbdev_preview`, `nbdev_readme`,
    `nbdev_prepare` (need Quarto, which the docs workflow installs).
  * NOT_RUN, by pattern: vaelab commands that need what neither CI nor the document provides: a download
    (`--objective fid`: the Inception weights of FID) or students' work (`vaelab grade`: a folder of submissions).
    Checked instead, as for a synopsis: `vaelab SUB [--model M] --help` exits 0 and shows every `--flag` used.
A documented command that matches neither a rule nor the allow-list fails its test: nothing is skipped silently.
"""
import json, os, re, shlex, shutil, signal, socket, subprocess, time
from configparser import ConfigParser
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = float(os.environ.get('VAELAB_DOCS_TIMEOUT', 120))
SHELL_TAGS = {'bash', 'sh', 'shell', 'console'}
ENV_PREFIX = r'(?:[A-Z_][A-Z0-9_]*=\S*\s+)*'
KNOWN_WORDS = re.compile(rf'^{ENV_PREFIX}(?:vaelab|torchrun|pip3?|python3?|nbdev_\w+|tests/run|for)\b')
FIXTURES = {   # file a documented command reads -> content written into the document's directory before it runs
    'my_run.json': json.dumps({'model': 'vae', 'model_config': {'latent_dim': 6}, 'train': {'batch_size': 32}}, indent=2),
}
ALLOWED = {    # first word -> why the command is not executed
    'tests/run': 'the test suite itself: this test is part of it, running it here would recurse',
    'nbdev_test': 'runs the notebooks, which tests/run step 4 does; its --flags are checked against settings.ini',
    'nbdev_docs': 'needs Quarto, which the docs workflow installs',
    'nbdev_preview': 'needs Quarto, which the docs workflow installs',
    'nbdev_readme': 'needs Quarto, which the docs workflow installs',
    'nbdev_prepare': 'needs Quarto (it calls nbdev_readme); its steps export/test/clean are what tests/run does',
}
NOT_RUN = [    # (pattern, reason): vaelab commands that need a download or students' work; their flags are checked instead
    (r'--objective[ =]fid\b', 'FID needs the Inception weights (pt_inception-2015-12-05, a download from GitHub)'),
    (r'^vaelab grade\b', "grades students' submissions, which no documented command creates (tests/test_assignments.py grades some)"),
]
REPO_COMMANDS = re.compile(r'(?<![\w-])(?:nbdev_export|nbdev_clean|vaelab assignments)\b')   # read the course's own nbs/
BENCH_SMALL = {   # bench script -> flags that shrink it to seconds (appended to the documented command)
    'bench_dci.py': '--train 300 --test 150 --dim 5 --stages 5',
    'bench_metrics.py': '--n 900',
}
FORWARDS = {'tune': 'train'}   # subcommand -> the subcommand its unknown flags go to


# ---- extraction --------------------------------------------------------------------------------------------
def document_markdown(path: Path) -> str:
    "The prose of a document: README.md as is, a notebook's markdown cells joined."
    if path.suffix != '.ipynb': return path.read_text()
    nb = json.loads(path.read_text())
    return '\n\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')


def _strip_comment(line: str) -> str:
    "The line without an unquoted `#` comment (a `#` starts a comment at the start or after whitespace)."
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote: quote = None
        elif ch in '\'"': quote = ch
        elif ch == '#' and (i == 0 or line[i-1].isspace()): return line[:i].rstrip()
    return line.rstrip()


def block_commands(body: str) -> list:
    "Commands of a shell block: prompts, continuations, comments and blank lines handled (rules 1 and 2)."
    lines = body.split('\n')
    if any(re.match(r'\s*\$ ', l) for l in lines):        # prompted: other lines are output, or continuations
        kept, cont = [], False
        for l in lines:
            if re.match(r'\s*\$ ', l) or cont: kept.append(re.sub(r'^\s*\$ ', '', l)); cont = l.rstrip().endswith('\\')
        lines = kept
    text = re.sub(r'[ \t]*\\\n\s*', ' ', '\n'.join(lines))
    return [c for c in (_strip_comment(l).strip() for l in text.split('\n')) if c]


def _inline(prose: str) -> list:
    "Inline code spans that start with `vaelab ` or `python bench/` (newlines inside a span read as spaces)."
    return [re.sub(r'\s+', ' ', s).strip() for s in re.findall(r'(?<!`)`((?:vaelab |python3? bench/)[^`]+)`(?!`)', prose)]


def extract(md: str) -> list:
    "All commands of a document's prose, in order, as (origin, text): origin 'block' or 'inline'."
    out, pos = [], 0
    fence = re.compile(r'^(```+)[ \t]*([\w+-]*)[^\n]*\n(.*?)^\1[ \t]*$', re.S | re.M)
    for m in fence.finditer(md):
        out += [('inline', s) for s in _inline(md[pos:m.start()])]
        tag, cmds = m.group(2).lower(), block_commands(m.group(3))
        if tag in SHELL_TAGS or (not tag and cmds and KNOWN_WORDS.match(cmds[0])):
            out += [('block', c) for c in cmds]
        pos = m.end()
    return out + [('inline', s) for s in _inline(md[pos:])]


def normalise(cmd: str) -> str:
    "Rule 3: a leading `pip install ... &&` is stripped."
    return re.sub(r'^\s*pip3? install\s[^&;]*&&\s*', '', cmd).strip()


# ---- classification ----------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r'(?<![\w$-])[A-Z][A-Z0-9_]*(?![\w=])|\[[^\]]*\]|<[^>]*>|\{[^}]*\}|\.\.\.|\s[/|]\s')


def synopsis_checks(cmd: str):
    "The subcommands a vaelab synopsis names, the --flags it shows, and its --model (None if absent or a placeholder)."
    rest = cmd.split(None, 1)[1]
    head = re.split(r'\s(?=--|[A-Z][A-Z0-9_]*\b|\[|<)', rest)[0]
    subs = [w for w in re.split(r'[\s/|{},]+', head) if re.fullmatch(r'[a-z][a-z_-]*', w)]
    model = re.search(r'--model[ =]([a-z]\w*)\b', rest)
    return subs, re.findall(r'(?<![\w-])(--[a-z][\w-]*)', rest), model and model.group(1)


def _bare(cmd: str) -> str:
    "The command without `VAR=value` prefixes."
    return re.sub(rf'^{ENV_PREFIX}', '', cmd)


def _split(cmd: str, ops: str) -> list:
    "Parts of `cmd` between the operators `ops` (a regex), outside quotes and $(...)."
    parts, depth, quote, cur, i = [], 0, None, '', 0
    while i < len(cmd):
        ch = cmd[i]
        if quote: quote = None if ch == quote else quote
        elif ch in '\'"': quote = ch
        elif cmd.startswith('$(', i): depth += 1
        elif ch == ')' and depth: depth -= 1
        elif not depth:
            m = re.match(ops, cmd[i:])
            if m: parts.append(cur.strip()); cur = ''; i += m.end(); continue
        cur += ch; i += 1
    return [p for p in parts + [cur.strip()] if p]


def classify(origin: str, cmd: str):
    "What to do with one command: (kind, detail), kind in run bench torchrun help not_run nbdev_test chain allowed unknown."
    loop = re.fullmatch(r'(?:for|while)\s[^;]*;\s*do\s+(.*?);?\s*done', cmd.strip())
    if loop:
        kinds = {classify(origin, p)[0] for p in _split(loop.group(1), r';')}
        return ('run', cmd) if kinds == {'run'} else ('unknown', f'a loop over commands that are not all plain runs: {sorted(kinds)}')
    chain = _split(cmd, r'&&')
    if len(chain) > 1:
        parts = [(p, *classify(origin, p)) for p in chain]
        if all(k == 'run' for _, k, _ in parts): return 'run', cmd
        bad = [f'{p!r}: {d}' for p, k, d in parts if k == 'unknown']
        return ('unknown', '; '.join(bad)) if bad else ('chain', parts)
    seq = _split(cmd, r';|\|\||\|')
    if len(seq) > 1:
        kinds = {classify(origin, p)[0] for p in seq}
        return ('run', cmd) if kinds == {'run'} else ('unknown', f'a ;/|/|| sequence of commands that are not all plain runs: {sorted(kinds)}')
    bare = _bare(cmd); words = bare.split(); first = words[0] if words else ''
    if first == 'vaelab' or re.match(r'python3? -m vaelab\b', bare):
        if first == 'vaelab' and (PLACEHOLDER.search(bare[7:]) or (origin == 'inline' and len(words) == 2)):
            return 'help', synopsis_checks(bare)
        for pattern, reason in NOT_RUN:
            if re.search(pattern, bare): return 'not_run', (reason, synopsis_checks(bare))
        return 'run', cmd
    if first == 'torchrun': return 'torchrun', cmd
    bench = re.match(r'python3? bench/(\w+\.py)\b', bare)
    if bench:
        small = BENCH_SMALL.get(bench.group(1))
        return ('bench', (bench.group(1), f'{cmd} {small}')) if small else ('unknown', f'bench script {bench.group(1)!r} has no small sizes in BENCH_SMALL')
    if first in ('nbdev_export', 'nbdev_clean'): return 'run', cmd
    if first == 'nbdev_test': return 'nbdev_test', cmd
    if first in ALLOWED: return 'allowed', ALLOWED[first]
    return 'unknown', f'no rule runs {first!r} and it is not in the allow-list ALLOWED'


def documents() -> list:
    return [ROOT / 'README.md'] + sorted((ROOT / 'nbs').glob('*.ipynb'))


def document_commands(path: Path) -> list:
    "Normalised commands of one document, duplicates removed (rule 4)."
    seen, out = set(), []
    for origin, raw in extract(document_markdown(path)):
        cmd = normalise(raw)
        kind, detail = classify(origin, cmd)
        key = json.dumps(detail) if kind == 'help' else cmd          # the same --help checks count as one command
        if cmd and key not in seen: seen.add(key); out.append((origin, cmd))
    return out


CASES = [(p.relative_to(ROOT).as_posix(), i, origin, cmd) for p in documents() for i, (origin, cmd) in enumerate(document_commands(p))]


# ---- runners -----------------------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _env(**extra):
    env = {**os.environ, 'VAELAB_SMOKE': '1', 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg', 'PYTHONUNBUFFERED': '1', **extra}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'): env.pop(k, None)
    return env


def _clean(raw: bytes) -> str:
    "Output as text, each line at its last carriage return (progress bars collapse to their final state)."
    return '\n'.join(l.rsplit('\r', 1)[-1] for l in raw.decode(errors='replace').split('\n'))


def sh(cmd: str, cwd, env=None, timeout: float = TIMEOUT):
    "Run `cmd` with bash in `cwd`; kill its whole process group on timeout. Returns (returncode or 'timeout', output, seconds)."
    t0 = time.time()
    p = subprocess.Popen(['bash', '-c', cmd], cwd=cwd, env=env or _env(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try: out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); out, _ = p.communicate()
        return 'timeout', _clean(out), time.time() - t0
    return p.returncode, _clean(out), time.time() - t0


def torchrun_cpu(cmd: str) -> str:
    "The torchrun command with 2 processes and a free local port (CPU: CUDA hidden by the caller)."
    cmd = re.sub(r'--nproc[_-]per[_-]node(?:=|\s+)\S+', '--nproc_per_node=2', cmd)
    if '--nproc_per_node' not in cmd: cmd = cmd.replace('torchrun', 'torchrun --nproc_per_node=2', 1)
    if not re.search(r'--(standalone|master[_-]port|rdzv)', cmd):
        cmd = cmd.replace('torchrun', f'torchrun --master_addr=127.0.0.1 --master_port={_free_port()}', 1)
    return cmd


def repo_copy(dst: Path) -> Path:
    "A copy of what nbdev_export/nbdev_clean read and write: nbs/, vaelab/, settings.ini, setup.py, README.md, _quarto.yml."
    for name in ('nbs', 'vaelab'):
        shutil.copytree(ROOT / name, dst / name, symlinks=True, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    for name in ('settings.ini', 'setup.py', 'README.md', '_quarto.yml'):
        if (ROOT / name).exists(): shutil.copy2(ROOT / name, dst / name)
    return dst


def fake_celeba(root: Path, codes=(0,) * 12 + (1,) * 4 + (2,) * 4):
    "A tiny CelebA tree in torchvision's layout: 178x218 JPEGs (a face-sized square) and list_eval_partition.txt."
    import numpy as np
    from PIL import Image
    d = root / 'celeba'; (d / 'img_align_celeba').mkdir(parents=True, exist_ok=True)
    g, lines = np.random.default_rng(0), []
    for i, c in enumerate(codes):
        a = np.zeros((218, 178, 3), np.uint8); a[35:183, 15:163] = g.integers(40, 220, 3)
        Image.fromarray(a).save(d / 'img_align_celeba' / f'{i+1:06d}.jpg', quality=90); lines.append(f'{i+1:06d}.jpg {c}')
    (d / 'list_eval_partition.txt').write_text('\n'.join(lines) + '\n')


def write_fixtures(cmd: str, d: Path):
    "FIXTURES files and fake CelebA trees that `cmd` reads, written into the document's directory `d` if absent."
    for name, content in FIXTURES.items():
        if re.search(rf'(?<![\w/.-]){re.escape(name)}\b', cmd) and not (d / name).exists(): (d / name).write_text(content)
    for path in re.findall(r'celeba:([^\s\'"]+)', cmd):
        if not PLACEHOLDER.fullmatch(path) and not (d / path).exists(): fake_celeba(d / path)


def check_nbdev_test(cmd: str):
    "nbdev_test is allow-listed; its --help must work and its --flags must be declared in settings.ini."
    cfg = ConfigParser(); cfg.read(ROOT / 'settings.ini')
    declared = set(cfg['DEFAULT'].get('tst_flags', '').split())
    words = shlex.split(cmd)
    flags = []
    if '--flags' in words:
        for w in words[words.index('--flags') + 1:]:
            if w.startswith('-'): break
            flags.append(w)
    problems = [f'flag {f!r} is not in settings.ini tst_flags {sorted(declared)}' for f in flags if f not in declared]
    rc, out, _ = sh('nbdev_test --help', ROOT, timeout=60)
    if rc != 0: problems.append(f'`nbdev_test --help` failed ({rc}): {out[-1000:]}')
    return problems


_HELP = {}   # (sub, model) -> (command, exit status, output): the help does not depend on the document


def _help(sub, model, cwd):
    cmd = f'vaelab {sub}' + (f' --model {shlex.quote(model)}' if model else '') + ' --help'
    if (sub, model) not in _HELP: _HELP[sub, model] = (cmd, *in_process(cmd, cwd)[:2])
    return _HELP[sub, model]


SHELL_SYNTAX = re.compile(r'[|;&<>$`()]')

def bench_main(script: str):
    "The `main(argv)` of bench/SCRIPT, loaded from the repository."
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'bench_{Path(script).stem}', ROOT / 'bench' / script)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod.main


def in_process(cmd: str, cwd, main=None):
    """Run a plain `vaelab ...` command through `vaelab.cli.console`'s own `main` (or `python bench/X.py ...` through
    the script's `main`), in this process (no 4 s torch import per command), in `cwd`, with VAELAB_SMOKE=1
    -> (exit status, output, seconds). Same code path as the console script."""
    import contextlib, io, traceback
    argv = shlex.split(cmd)[2:] if main else shlex.split(cmd)[1:]
    if main is None: from vaelab.cli import main
    buf, t0, old = io.StringIO(), time.time(), os.getcwd()
    os.environ['VAELAB_SMOKE'] = '1'
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf): main(argv)
        rc = 0
    except SystemExit as e: rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException: buf.write(traceback.format_exc()); rc = 1
    finally: os.chdir(old); os.environ.pop('VAELAB_SMOKE', None)
    return rc, buf.getvalue(), time.time() - t0


def check_help(subs, flags, model, cwd):
    "`vaelab SUB [--model M] --help` exits 0 for every SUB and mentions every flag (FORWARDS: or the target's) -> problems."
    bad = [] if subs else ['the synopsis names no subcommand']
    for sub in subs:
        cmd, rc, out = _help(sub, model, cwd)
        if rc != 0: bad.append(f'`{cmd}` exited {rc}: {out[-1500:]}'); continue
        missing = [f for f in flags if not re.search(rf'{re.escape(f)}\b', out)]
        if missing and sub in FORWARDS:
            cmd2, rc2, out2 = _help(FORWARDS[sub], model, cwd)
            missing = [f for f in missing if rc2 != 0 or not re.search(rf'{re.escape(f)}\b', out2)]
            cmd = f'{cmd}` nor `{cmd2}'
        bad += [f'`{cmd}` does not mention {f}' for f in missing]
    return bad


# ---- the test ----------------------------------------------------------------------------------------------
_STATE = {}   # document -> {'dir': Path, 'results': {index: (ok, summary)}}


@pytest.fixture(scope='module')
def docs_tmp(tmp_path_factory):
    assert shutil.which('vaelab'), "the `vaelab` console script is not on PATH: run `pip install -e .` first"
    return tmp_path_factory.mktemp('docs_commands')


def run_one(kind, detail, cmd, d: Path):
    "Apply the rule of `kind` to `cmd` in the document's directory `d` -> (ok, summary)."
    if kind == 'unknown': return False, f'not executed: {detail}'
    if kind == 'allowed': return True, f'allow-listed: {detail}'
    if kind == 'nbdev_test':
        problems = check_nbdev_test(cmd)
        return not problems, '; '.join(problems) or f'allow-listed: {ALLOWED["nbdev_test"]}'
    if kind == 'help':
        bad = check_help(*detail, d)
        return not bad, '\n'.join(bad) or f'help of {detail[0]} ok'
    if kind == 'not_run':
        reason, (subs, flags, model) = detail
        bad = check_help(subs[:1], flags, model, d)
        return not bad, '\n'.join(bad) or f'not executed ({reason}); its flags are in --help'
    if kind == 'chain':
        for part, k, det in detail:
            ok, summary = run_one(k, det, part, d)
            if not ok: return False, f'part `{part}` failed: {summary}'
        return True, 'every part passed'
    if kind == 'bench':                          # in this process, like a plain vaelab command (the imports are paid once)
        script, small = detail
        rc, out, secs = in_process(small, ROOT, bench_main(script))
        return rc == 0, f'exit {rc} after {secs:.0f} s (ran `{small}` in-process)\n' + out[-4000:]
    run, env = cmd, _env()
    write_fixtures(cmd, d)
    if re.fullmatch(r'vaelab(\s.*)?', cmd) and not SHELL_SYNTAX.search(cmd):     # a plain run: in this process
        rc, out, secs = in_process(cmd, d)
        return rc == 0, f'exit {rc} after {secs:.0f} s (ran `{cmd}` in {d}, in-process)\n' + '\n'.join(out.strip().split('\n')[-40:])[-4000:]
    if kind == 'torchrun': run, env = torchrun_cpu(cmd), _env(CUDA_VISIBLE_DEVICES='')
    loop = re.match(r'\s*for\s+\w+\s+in\s+([^;]*);', cmd)
    rc, out, secs = sh(run, d, env, timeout=TIMEOUT * (len(loop.group(1).split()) if loop else 1))
    tail = '\n'.join(out.strip().split('\n')[-40:])[-4000:]
    return rc == 0, f'exit {rc} after {secs:.0f} s (ran `{run}` in {d})\n{tail}'


def execute(doc: str, i: int, origin: str, cmd: str, base: Path):
    "Run command `i` of `doc` (after its predecessors, if they have not run yet) -> (ok, summary)."
    if doc not in _STATE:
        d = base / re.sub(r'\W', '_', doc)
        if any(REPO_COMMANDS.search(c) for (dd, j, o, c) in CASES if dd == doc): repo_copy(d)
        else: d.mkdir()
        _STATE[doc] = {'dir': d, 'results': {}}
    st = _STATE[doc]
    if i not in st['results']:
        for (dd, j, o, c) in CASES:
            if dd == doc and j < i and j not in st['results']: execute(doc, j, o, c, base)
        st['results'][i] = run_one(*classify(origin, cmd), cmd, st['dir'])
    return st['results'][i]


@pytest.mark.parametrize('doc,i,origin,cmd', CASES, ids=[f'{d}:{i}:{c[:70]}' for d, i, o, c in CASES])
def test_documented_command(doc, i, origin, cmd, docs_tmp):
    ok, summary = execute(doc, i, origin, cmd, docs_tmp)
    earlier = [f'  (earlier command {j} `{c}` failed too)' for (dd, j, o, c) in CASES
               if dd == doc and j < i and not _STATE[doc]['results'].get(j, (True,))[0]]
    assert ok, f"{doc}: documented command `{cmd}` ({origin}) failed:\n{summary}" + ''.join('\n' + e for e in earlier)


# ---- the rules themselves ----------------------------------------------------------------------------------
def test_extraction_rules():
    md = ('Intro `vaelab train --steps 5` and `vaelab evaluate RUN` and `vaelab compare`, not `python x.py`.\n'
          '```bash\npip install -e . && vaelab train   # the main model\n# a comment line\n\n'
          'vaelab train --model beta_vae \\\n   --beta 4 --out "runs/#1"\n```\n'
          '```console\n$ vaelab evaluate runs/x\n{"mse": 1.0}\n```\n'
          '```\ntorchrun --nproc_per_node=4 $(which vaelab) train\n```\n'
          '```\nsome output, not a command\n```\n'
          '```python\nimport vaelab\n```\n')
    got = [(o, normalise(c)) for o, c in extract(md)]
    assert got == [('inline', 'vaelab train --steps 5'), ('inline', 'vaelab evaluate RUN'), ('inline', 'vaelab compare'),
                   ('block', 'vaelab train'), ('block', 'vaelab train --model beta_vae --beta 4 --out "runs/#1"'),
                   ('block', 'vaelab evaluate runs/x'), ('block', 'torchrun --nproc_per_node=4 $(which vaelab) train')]
    assert [classify(o, c)[0] for o, c in got] == ['run', 'help', 'help', 'run', 'run', 'run', 'torchrun']
    assert normalise('pip install -e ".[dev]" && tests/run') == 'tests/run'


def test_classification_rules():
    assert classify('inline', 'vaelab train / evaluate / compare') == ('help', (['train', 'evaluate', 'compare'], [], None))
    assert classify('inline', 'vaelab compare OUT_DIR [options]') == ('help', (['compare'], [], None))
    assert classify('inline', 'vaelab compare RUN [RUN ...] --out DIR') == ('help', (['compare'], ['--out'], None))
    assert classify('block', 'vaelab train --data celeba:ROOT') == ('help', (['train'], ['--data'], None))
    assert classify('inline', 'vaelab train --model M') == ('help', (['train'], ['--model'], None))
    assert classify('inline', 'vaelab train --model code_prior --vqvae RUN') == ('help', (['train'], ['--model', '--vqvae'], 'code_prior'))
    assert classify('block', 'vaelab train --data celeba:data/celeba')[0] == 'run'
    assert classify('block', 'vaelab train --model vae -O 2')[0] == 'run'
    assert classify('block', 'vaelab tune --objective fid --out t')[0] == 'not_run'
    assert classify('block', 'vaelab grade submissions/')[0] == 'not_run'
    assert classify('block', 'nbdev_export')[0] == 'run' and REPO_COMMANDS.search('vaelab assignments student/')
    assert classify('block', 'VAELAB_SMOKE=1 vaelab train --steps 3')[0] == 'run'
    assert classify('block', 'for m in vae vqvae; do vaelab train --model $m --out runs/$m; done')[0] == 'run'
    assert classify('block', 'for m in a b; do rm -rf $m; done')[0] == 'unknown'
    assert classify('block', 'vaelab train && vaelab evaluate runs/x')[0] == 'run'
    kind, parts = classify('block', 'nbdev_export && nbdev_test --flags slow')
    assert kind == 'chain' and [k for _, k, _ in parts] == ['run', 'nbdev_test']
    assert classify('block', 'vaelab train && rm -rf /')[0] == 'unknown'
    assert classify('block', 'vaelab train | tee log')[0] == 'unknown'
    assert classify('block', "vaelab train --out 'a;b'")[0] == 'run'
    assert classify('block', 'tests/run')[0] == 'allowed' and classify('block', 'nbdev_docs')[0] == 'allowed'
    assert classify('block', 'rm -rf runs')[0] == 'unknown' and classify('block', 'git clone x')[0] == 'unknown'
    assert torchrun_cpu('torchrun --nproc_per_node=4 $(which vaelab) train').startswith('torchrun --master_addr=127.0.0.1 --master_port=')
    assert '--nproc_per_node=2 $(which vaelab)' in torchrun_cpu('torchrun --nproc_per_node 8 $(which vaelab) train')


def test_every_document_is_read_and_readme_commands_found():
    docs = {c[0] for c in CASES}
    assert 'README.md' in docs and any(d.startswith('nbs/') for d in docs)
    readme = [c for (d, i, o, c) in CASES if d == 'README.md']
    assert 'vaelab train' in readme and 'tests/run' in readme


def test_fixtures_and_checks(tmp_path):
    write_fixtures('vaelab train --config my_run.json --data celeba:data/faces', tmp_path)
    assert json.loads((tmp_path / 'my_run.json').read_text())['model'] == 'vae'
    assert len(list((tmp_path / 'data/faces/celeba/img_align_celeba').glob('*.jpg'))) == 20
    from vaelab.data import celeba_partition
    assert {k: len(v) for k, v in celeba_partition(tmp_path / 'data/faces').items()} == {'train': 12, 'valid': 4, 'test': 4}
    assert check_nbdev_test('nbdev_test --flags slow gpu') == []
    assert any("'fast'" in p for p in check_nbdev_test('nbdev_test --flags slow fast'))
    assert check_help(['train'], ['--steps'], None, tmp_path) == []
    assert check_help(['train'], ['--no-such-flag'], None, tmp_path) and check_help(['no-such-command'], [], None, tmp_path)
    assert check_help(['tune'], ['--steps', '--latent-dim'], 'vae', tmp_path) == []          # tune hands these to train
    assert check_help(['tune'], ['--no-such-flag'], 'vae', tmp_path)
    assert check_help(['train'], ['--vqvae'], None, tmp_path) and check_help(['train'], ['--vqvae'], 'code_prior', tmp_path) == []


def test_timeout_kills_the_command(tmp_path):
    rc, out, secs = sh('echo start; sleep 30; echo never', tmp_path, timeout=1)
    assert rc == 'timeout' and 'start' in out and 'never' not in out and secs < 10
    assert _clean(b'a 1%\ra 50%\ra 100%\nnext') == 'a 100%\nnext'
