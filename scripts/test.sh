#!/usr/bin/env bash
# Every check and every test: formatting, clippy (native and wasm32), the core's unit tests, the
# release build, a deploy dry run, the end-to-end tests against the built Worker, then
# schemathesis checking the running Worker against openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "clippy -D warnings (native: the core, the Worker crate, the e2e tests)"
cargo clippy --workspace --all-targets --features optin-edge/e2e --locked -- -D warnings

step "clippy -D warnings (wasm32: the Worker)"
cargo clippy -p optin-edge --lib --target wasm32-unknown-unknown --locked -- -D warnings

step "unit tests of the core (native)"
cargo test --workspace --locked

step "release build of the Worker"
bash scripts/build.sh

step "wrangler deploy --dry-run"
wrangler deploy --dry-run --outdir dist 2>&1 | grep -E 'Total Upload|error|Error' || true
test -s dist/entry.js

step "end-to-end tests (wrangler dev, workerd, local KV and Durable Objects)"
cargo test --features e2e --test e2e --locked

step "schemathesis: the OpenAPI against the running Worker"
bash scripts/schemathesis.sh
