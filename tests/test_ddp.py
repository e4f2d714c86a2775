"Multi-process training with torchrun (issue: multi-GPU training): 2 CPU processes on the gloo backend."
import json, os, socket, subprocess, sys, textwrap
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# Runs `vaelab train` exactly as the console script does, but on every rank other than 0 any write to disk made
# through torch.save / Path.write_text / Path.mkdir / Figure.savefig raises: the run folder must be written by rank 0 only.
LAUNCH = textwrap.dedent('''
    import os, sys, pathlib, torch
    if os.environ.get('RANK', '0') != '0':
        def forbid(*a, **k): raise AssertionError(f"rank {os.environ['RANK']} wrote to disk: {a[:2]}")
        import matplotlib.figure
        _save = torch.save          # collectives pickle objects with torch.save into memory buffers: allow those
        torch.save = lambda obj, f, *a, **k: forbid(obj, f) if isinstance(f, (str, os.PathLike)) else _save(obj, f, *a, **k)
        pathlib.Path.write_text = forbid; pathlib.Path.mkdir = forbid
        matplotlib.figure.Figure.savefig = forbid
    from vaelab.cli import main
    main(sys.argv[1:])
''')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _torchrun(tmp_path, *args):
    script = tmp_path / 'launch.py'; script.write_text(LAUNCH)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'): env.pop(k, None)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_addr=127.0.0.1',
           f'--master_port={_free_port()}', str(script), 'train', '--device', 'cpu', '--batch-size', '8',
           '--latent-dim', '3', '--progress', 'false', '--ckpt-every', '3',
           '--report-n', '300', *args]            # rank 0 still scores the run (small pool) while rank 1 waits
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r


def test_two_processes_identical_weights_rank0_writes_and_resume(tmp_path):
    out = tmp_path / 'run'
    _torchrun(tmp_path, '--steps', '4', '--out', str(out))
    ddp = json.loads((out / 'ddp.json').read_text())
    assert ddp['world_size'] == 2 and ddp['backend'] == 'gloo' and ddp['batch_per_rank'] == 4 and ddp['step'] == 4
    d0, d1 = ddp['weights_sha256']
    assert d0 == d1                      # gradients (and buffers) were averaged: both copies are bit-identical
    for f in ('config.json', 'history.json', 'metrics.json', 'checkpoints/last.pt', 'reconstructions.png'):
        assert (out / f).is_file(), f
    assert not list(out.rglob('*.tmp'))
    assert set(json.loads((out / 'metrics.json').read_text())['disentanglement']) >= {'mig', 'dci_d'}   # rank 0 scored it
    h = json.loads((out / 'history.json').read_text())
    assert h['step'] == [1, 2, 3, 4]
    ck = torch.load(out / 'checkpoints' / 'last.pt', weights_only=False)
    assert len(ck['rng_ranks']) == 2 and not torch.equal(ck['rng_ranks'][0][0], ck['rng_ranks'][1][0])
    # resume to step 6 from the step-4 checkpoint, still 2 processes
    _torchrun(tmp_path, '--steps', '6', '--out', str(out), '--resume')
    ddp2 = json.loads((out / 'ddp.json').read_text())
    assert ddp2['step'] == 6 and ddp2['weights_sha256'][0] == ddp2['weights_sha256'][1] != d0
    h2 = json.loads((out / 'history.json').read_text())
    assert h2['step'] == list(range(1, 7)) and h2['loss'][:4] == h['loss']
