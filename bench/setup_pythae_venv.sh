#!/usr/bin/env bash
# Create bench/.venv (git-ignored) with Pythae for bench/bench_speed.py -- Pythae is never a vaelab dependency.
# --system-site-packages reuses the installed torch/numpy/scipy/scikit-learn, so only Pythae's small extras are added.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q "pythae==0.1.2"     # latest release; needs pydantic>=2, cloudpickle, imageio
"$venv/bin/python" -m pip check || echo "warning: pip check reports conflicts (see above)"
"$venv/bin/python" -c "import pythae, torch; print('pythae', pythae.__version__ if hasattr(pythae, '__version__') else '0.1.2', 'torch', torch.__version__)"
echo "Pythae venv ready: $venv"
