#!/usr/bin/env bash
# One command from a fresh clone to a running omnibot (http://127.0.0.1:8080 by default).
# Settings come from the environment and ./.env (see .env.example); data goes to ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export HF_HUB_OFFLINE=1
# omnibot itself says when a first start exports the encoder and trains, and how long it takes
echo "starting omnibot from $PWD (for the omnibot command in your shell: source .venv/bin/activate)"
exec .venv/bin/omnibot serve
