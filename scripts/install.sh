#!/usr/bin/env bash
# Creates .venv and installs omnibot into it: the CPU build of torch first (pip would otherwise
# pull a multi-GB CUDA build for sentence-transformers), then the project.
# Usage: scripts/install.sh [dev]     ("dev" adds the test, lint and browser-test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.omnibot-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extra"
log=.venv/install.log
pip_install() {
  .venv/bin/python -m pip install "$@" >>"$log" 2>&1 || { cat "$log"; exit 1; }
}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing omnibot into .venv (log: $log)"
  : >"$log"
  pip_install --upgrade pip
  # TORCH_INDEX_URL may name a CPU-only wheel index where torch 2.13.0 is not on this disk.
  pip_install torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  pip_install -e ".${extra:+[$extra]}"
  echo "$want" > "$stamp"
fi
