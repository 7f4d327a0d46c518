#!/usr/bin/env bash
# One command from a fresh clone to a running omnibot (http://127.0.0.1:8080 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export HF_HUB_OFFLINE=1
echo "starting omnibot (a first start also exports the encoder and trains the model: about 20 s)"
exec .venv/bin/omnibot serve
