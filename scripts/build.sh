#!/usr/bin/env bash
# Release build of the Worker into build/ (index.js + index_bg.wasm).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
worker-build --release
