#!/usr/bin/env bash
# Creates .venv and installs omnibot into it: the CPU build of torch first (pip would otherwise
# pull a multi-GB CUDA build for sentence-transformers), then the project.
# Usage: scripts/install.sh [dev]     ("dev" adds the test, lint and browser-test tools)
# One .venv serves both: the stamp records pyproject.toml's hash and the extra installed, and a
# dev install satisfies a plain one (scripts/serve.sh after scripts/test.sh installs nothing).
# Each step is announced with its time. On a terminal pip's own output and progress show too;
# otherwise (CI) it goes to the log only. A failed step prints the log and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
python=${PYTHON:-python3}
fresh=""
[ -x .venv/bin/python ] || { "$python" -m venv .venv; fresh=1; }
stamp=.venv/.omnibot-installed
hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
have_hash="" have_extra=""
[ -f "$stamp" ] && read -r have_hash have_extra <"$stamp"
if [ "$have_hash" = "$hash" ] && { [ -z "$extra" ] || [ "$have_extra" = "$extra" ]; }; then
  exit 0  # already installed (a dev install includes everything a plain one has)
fi
[ -n "$have_extra" ] && [ -z "$extra" ] && extra=$have_extra  # never drop the dev tools
log=.venv/install.log
steps=3
pip_install() {
  if [ -t 1 ]; then
    # pip sees a pipe, not the terminal: FORCE_COLOR keeps its live progress bars drawn.
    FORCE_COLOR=1 .venv/bin/python -m pip install "$@" 2>&1 | tee -a "$log" && return
    # What failed is already on the screen; printing the log again would only repeat it.
    echo "install failed; the whole output is in $log" >&2
  else
    .venv/bin/python -m pip install "$@" >>"$log" 2>&1 && return
    cat "$log"
  fi
  exit 1
}
step() {  # step N TITLE PIP-ARGS...: one install step, announced, timed
  local number=$1 title=$2 start=$SECONDS
  shift 2
  echo "[$number/$steps] $title"
  pip_install "$@"
  echo "[$number/$steps] $title: done in $((SECONDS - start)) s"
}
if [ -n "$fresh" ] || [ -z "$have_hash" ]; then
  echo "installing omnibot into .venv (log: $log); a first install takes a few minutes"
elif [ "$have_hash" != "$hash" ]; then
  echo "updating omnibot in .venv: pyproject.toml changed (log: $log)"
else
  echo "adding the $extra tools to .venv (log: $log)"
fi
: >"$log"
begin=$SECONDS
step 1 "upgrading pip" --upgrade pip
# TORCH_INDEX_URL may name a CPU-only wheel index (e.g. https://download.pytorch.org/whl/cpu)
# when torch 2.13.0 is not already on this disk.
step 2 "torch 2.13.0 (CPU build)" torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
step 3 "omnibot and its dependencies" -e ".${extra:+[$extra]}"
echo "$hash $extra" >"$stamp"
echo "omnibot installed in $((SECONDS - begin)) s"
