#!/usr/bin/env bash
# Fuzzes the pure core with cargo-fuzz (libFuzzer, nightly toolchain): every signed code's
# verifier, the LINE and Meta webhook parsers and signature checks, the member slot, and the
# feed's answer handling. FUZZ_SECONDS (default 60) bounds each target; FUZZ_RUNS instead runs
# each for that many executions (e.g. 10000000). Not part of `make test` (CI's time is budgeted).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || { echo "a nightly toolchain is needed (rustup toolchain install nightly)" >&2; exit 1; }
mkdir -p fuzz/corpus
if [ -n "${FUZZ_RUNS:-}" ]; then bound=(-runs="$FUZZ_RUNS"); else bound=(-max_total_time="$SECONDS_EACH"); fi
for target in codes webhooks member_slot feed_delivery; do
  mkdir -p "fuzz/corpus/$target"
  echo "==> $target: ${bound[*]}"
  started=$(date +%s)
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- "${bound[@]}" -print_final_stats=1 2>&1 |
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|SUMMARY|panicked|ERROR' || true
  echo "    took $(($(date +%s) - started))s"
done
