#!/usr/bin/env bash
# Benchmarks the release build on workerd directly (the production runtime; wrangler dev's proxy
# would measure itself) with wrk on loopback, bounded in time. Prints, per endpoint of
# bench/endpoints.tsv, req/s, p50 and p99, then the wasm and upload sizes.
# DURATION (default 10s), CONNECTIONS (16) and THREADS (2) tune the load; ENDPOINTS (a regex of
# names, e.g. 'scan|redeem') picks endpoints; `feed` is the events feed's deliveries per second
# (under wrangler dev, after the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
source scripts/env.sh

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
OUT=bench-results
mkdir -p "$OUT"

echo "==> release build"
worker-build --release >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }

secret() { grep -E "^$1=" .dev.vars.example | cut -d= -f2- | cut -d, -f1; }
echo "==> signing ${BODIES:-60000} webhook bodies per endpoint (python hmac)"
python3 bench/make_bodies.py "$OUT" "${BODIES:-60000}" "$(secret LINE_CHANNEL_SECRET)" "$(secret META_APP_SECRET)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Bindings: [vars] from wrangler.toml and demo secrets from .dev.vars.example, as text bindings.
bindings=$(
  {
    sed -n '/^\[vars\]/,/^\[/p' wrangler.toml | grep -E '^[A-Z_]+ = ' | sed -E 's/^([A-Z_]+) = "(.*)"$/\1=\2/'
    grep -E '^[A-Z_]+=' .dev.vars.example
  } | sed -E 's/^([A-Z_]+)=(.*)$/    (name = "\1", text = "\2"),/'
)
rm -rf "$OUT/do" && mkdir -p "$OUT/do"
sed -e "s|@PORT@|$port|" -e "s|@DO_DIR@|$ROOT/$OUT/do|" bench/workerd.capnp.template |
  awk -v b="$bindings" '{ if ($0 == "@BINDINGS@") print b; else print }' >"$OUT/workerd.capnp"

echo "==> workerd serve on 127.0.0.1:$port"
set -m
workerd serve "$OUT/workerd.capnp" --experimental >"$OUT/workerd.log" 2>&1 &
server=$!
set +m
trap 'kill -TERM -- "-$server" 2>/dev/null || true' EXIT INT TERM
ready=""
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && { ready=1; break; }
  sleep 0.1
done
[ -n "$ready" ] || { echo "workerd did not start:" >&2; cat "$OUT/workerd.log" >&2; exit 1; }
admin_token=$(secret ADMIN_TOKEN)
QUIET=1 ADMIN_TOKEN="$admin_token" BASE="http://127.0.0.1:$port" bash scripts/seed-demo.sh
# The demo shopper (signed LINE follow + JOIN through the webhook) gives the card to measure.
card_path=$(LINE_SECRET="$(secret LINE_CHANNEL_SECRET)" ADMIN_TOKEN="$admin_token" \
  BASE="http://127.0.0.1:$port" CARD_ONLY=1 bash scripts/seed-demo.sh | sed -E 's|^https?://[^/]+||')
[ -n "$card_path" ] || { echo "the demo member's card could not be made" >&2; exit 1; }
landing_bytes=$(curl -fsS "http://127.0.0.1:$port/s/shibuya" | wc -c)
# The till: members, coupons and a POS key made through the API; barcodes signed in Python.
python3 bench/make_till_bodies.py "$OUT" "http://127.0.0.1:$port" "$admin_token" \
  "$(secret LINE_CHANNEL_SECRET)" "$(secret PSEUDONYM_KEY)" "$(secret SIGNING_KEYS)"

: >"$OUT/rates.tsv"
printf '\n%-16s %10s %9s %9s  %s\n' endpoint "req/s" p50 p99 notes
while IFS=$'\t' read -r name method path bodies header what; do
  case "$name" in ''|'#'*) continue ;; esac
  # ENDPOINTS=scan|redeem measures those (and the /healthz floor, for the ratio) only.
  [ -z "${ENDPOINTS:-}" ] || [ "$name" = healthz ] || [[ "$name" =~ ^(${ENDPOINTS})$ ]] || continue
  args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 5s)
  [ "$bodies" = "-" ] || args+=(-s bench/signed.lua)
  [ "$header" != "admin" ] || args+=(-H "Authorization: Bearer $admin_token")
  [ "$method" = "GET" ] || [ "$bodies" != "-" ] || { echo "$name: a $method needs bodies" >&2; exit 1; }
  BENCH_BODIES="$OUT/$bodies" SIG_HEADER="$header" THREADS="$THREADS" \
    wrk "${args[@]}" "http://127.0.0.1:$port${path//@CARD@/$card_path}" >"$OUT/$name.txt" 2>&1
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$OUT/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")
  errors=$(grep -E 'Non-2xx|Socket errors' "$OUT/$name.txt" | tr -s ' ' | paste -sd';' - || true)
  printf '%-16s %10s %9s %9s  %s\n' "$name" "$rps" "$p50" "$p99" "${errors:-$what}"
  printf '%s\t%s\n' "$name" "$rps" >>"$OUT/rates.tsv"
done <bench/endpoints.tsv

# Ratios to the floor measured in this same run (absolute figures vary ~4x between days here).
printf '\nratio to /healthz in this run:\n'
awk -F'\t' 'NR == FNR && $1 == "healthz" { floor = $2 } NR != FNR && floor > 0 {
  printf "  %-16s %5.1f%%\n", $1, 100 * $2 / floor }' "$OUT/rates.tsv" "$OUT/rates.tsv"

# Every redemption answered 200 must be recorded once: count them back through the access
# export (each request of the run was a distinct member and coupon; a replay would also be 200).
ran() { grep -q "^$1	" "$OUT/rates.tsv"; }
if ran redeem; then
  sent=$(awk '/requests in/ {print $1}' "$OUT/redeem.txt")
  refused=$(awk '/Non-2xx/ {print $5}' "$OUT/redeem.txt")
  read -r recorded doubles < <(python3 bench/count_redemptions.py "http://127.0.0.1:$port" "$admin_token" "$OUT/till-members.txt")
  # `recorded` may exceed `answered 200` by the requests in flight when wrk stopped (at most one
  # per connection): the Worker finished them, wrk did not wait for the answers.
  printf '\nredemptions: %s sent, %s answered 200, %s recorded, %s doubles\n' \
    "$sent" "$((sent - ${refused:-0}))" "$recorded" "$doubles"
fi

# Every landing view must be counted: compare the funnel's count with the requests served.
if ran landing; then
  served=$(( $(awk '/requests in/ {print $1}' "$OUT/landing.txt" 2>/dev/null || echo 0) + 1 ))
  sleep 1
  counted=$(curl -fsS -H "authorization: Bearer $admin_token" "http://127.0.0.1:$port/api/admin/stats?from=$(date -u -d '-1 day' +%F)&to=$(date -u -d '+1 day' +%F)" |
    python3 -c 'import json,sys; print(sum(r["landing_views"] for r in json.load(sys.stdin)["stats"] if r["store_id"] == "shibuya"))')
  printf '\nlanding views: %s served, %s counted\n' "$served" "$counted"
fi

# The events feed's deliveries per second, end to end. workerd alone has no queue broker, so this
# one runs under `wrangler dev` (same build), with the local receiver verifying every delivery.
# ENDPOINTS picks it as `feed`; FEED_EVENTS sets how many new shoppers (two events each).
if [ -z "${ENDPOINTS:-}" ] || [[ feed =~ ^(${ENDPOINTS})$ ]]; then
  kill -TERM -- "-$server" 2>/dev/null || true
  dev_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -rf "$OUT/feed-state"
  set -m
  SKIP_WORKER_BUILD=1 CI=true wrangler dev --ip 127.0.0.1 --port "$dev_port" --persist-to "$OUT/feed-state" \
    --env-file .dev.vars.example --show-interactive-dev-session=false >"$OUT/feed-wrangler.log" 2>&1 &
  dev=$!
  .venv/bin/python scripts/feed_receiver.py --port "$rx_port" --quiet >"$OUT/feed-receiver.log" 2>&1 &
  rx=$!
  set +m
  trap 'kill -TERM -- "-$server" "-$dev" "-$rx" 2>/dev/null || true' EXIT INT TERM
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$dev_port/healthz" 2>/dev/null && break
    sleep 0.5
  done
  printf '
'
  python3 bench/feed_deliveries.py "http://127.0.0.1:$dev_port" "$admin_token" \
    "$(secret LINE_CHANNEL_SECRET)" "http://127.0.0.1:$rx_port" "${FEED_EVENTS:-1000}"
  kill -TERM -- "-$dev" "-$rx" 2>/dev/null || true
fi

wasm_raw=$(stat -c %s build/index_bg.wasm)
wasm_gz=$(gzip -9c build/index_bg.wasm | wc -c)
upload=$(wrangler deploy --dry-run --outdir "$OUT/dist" 2>&1 | grep -o 'Total Upload:.*' || echo "Total Upload: (dry run failed, see wrangler)")
printf 'landing page HTML: %s bytes\nwasm: %s bytes, %s bytes gzip -9\n%s\n' "$landing_bytes" "$wasm_raw" "$wasm_gz" "$upload"
printf '(load: wrk -t%s -c%s -d%s on loopback, %s cores; raw wrk output in %s/)\n' "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)" "$OUT"
