#!/usr/bin/env bash
# Release build of the Worker into build/ (entry.js, index.js, index_bg.wasm): worker-build (cargo,
# wasm-bindgen, wasm-opt with the flags of Cargo.toml's [package.metadata.wasm-pack]), then one
# more wasm-opt pass that rewrites the module without its name section. worker-build always
# keeps the names (`--debuginfo`): ~400 KB, ~97 KB gzipped, that only profiles and stack traces
# read. KEEP_NAMES=1 keeps them, for a CPU profile with Rust function names (`make bench PROFILE=`).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
worker-build --release
# The main module: plain handlers over worker-build's entry class (see the file's header).
cp src/edge/runtime/entry.js build/entry.js
if [ -z "${KEEP_NAMES:-}" ]; then
  # The features worker-build enables (and no others: workerd must read every encoding used).
  wasm-opt build/index_bg.wasm -o build/index_bg.stripped.wasm --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
  mv build/index_bg.stripped.wasm build/index_bg.wasm
fi
