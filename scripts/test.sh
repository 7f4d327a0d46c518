#!/usr/bin/env bash
# One command from a fresh clone to a checked tree: install, ruff, mypy --strict, pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k webchat).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
if [ ! -x /usr/bin/chromium ]; then  # the browser test drives Debian's Chromium, never a download
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing Debian's chromium for the browser test"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "mypy --strict (about a minute, silent until it reports)"
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
