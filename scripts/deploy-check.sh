#!/usr/bin/env bash
# `wrangler deploy --dry-run`: validates wrangler.toml and bundles the Worker without uploading.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
source scripts/env.sh
bash scripts/build.sh
wrangler deploy --dry-run --outdir dist
