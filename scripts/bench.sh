#!/usr/bin/env bash
# Benchmarks the release build on workerd directly (the production runtime; wrangler dev's proxy
# would measure itself) with wrk on loopback, bounded in time. The same workerd also serves a
# plain JavaScript /healthz (bench/floor.js): the runtime's floor, measured in the same run.
#
# Trustworthy on 2 shared cores: workerd is pinned to one core and wrk (one thread) to the other,
# so req/s tracks the CPU each request costs; every endpoint runs ROUNDS times (default 2),
# the rounds alternating over the whole list, and the median is reported with each round's
# figure, next to its ratio to our /healthz and to the JavaScript floor, and the target from
# bench/endpoints.tsv. Absolute req/s vary ~4x between days here: compare ratios of one run.
#
# DURATION (default 10s) and CONNECTIONS (16) tune the load; ENDPOINTS (a regex of names, e.g.
# 'scan|redeem') picks endpoints (the two floors always run); `feed` is the events feed's
# deliveries per second (under wrangler dev, after the rest). SERVER_CPU / LOAD_CPU pick the cores;
# SKIP_BUILD=1 measures the build already in build/.
#
# PROFILE (a regex of names) also takes a CPU profile of the Worker through workerd's inspector
# during round 1 of those endpoints: bench-results/NAME.cpuprofile, top functions printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
source scripts/env.sh

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
ROUNDS="${ROUNDS:-2}"
SERVER_CPU="${SERVER_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
OUT=bench-results
mkdir -p "$OUT"
# wrk's output of an earlier run would be read as this one's (the count-backs add up every round).
rm -f "$OUT"/*.txt "$OUT"/*.cpuprofile
pin() { # pin CPU COMMAND…: on a single-core machine there is nothing to separate
  if [ "$(nproc)" -gt 1 ]; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A profile names Rust functions only if the build keeps the wasm name section.
[ -z "${PROFILE:-}" ] || export KEEP_NAMES=1
if [ -n "${SKIP_BUILD:-}" ]; then
  echo "==> the build already in build/ (SKIP_BUILD)"
else
  echo "==> release build${KEEP_NAMES:+ (with the name section)}"
  bash scripts/build.sh >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
fi

secret() { grep -E "^$1=" .dev.vars.example | cut -d= -f2- | cut -d, -f1; }
echo "==> signing ${BODIES:-60000} webhook bodies per endpoint (python hmac)"
python3 bench/make_bodies.py "$OUT" "${BODIES:-60000}" "$(secret LINE_CHANNEL_SECRET)" "$(secret META_APP_SECRET)"

port=$(free_port)
floor_port=$(free_port)
[ -z "${PROFILE:-}" ] || INSPECTOR="127.0.0.1:$(free_port)"
# Bindings: [vars] from wrangler.toml and demo secrets from .dev.vars.example, as text bindings.
bindings=$(
  {
    sed -n '/^\[vars\]/,/^\[/p' wrangler.toml | grep -E '^[A-Z_]+ = ' | sed -E 's/^([A-Z_]+) = "(.*)"$/\1=\2/'
    grep -E '^[A-Z_]+=' .dev.vars.example
  } | sed -E 's/^([A-Z_]+)=(.*)$/    (name = "\1", text = "\2"),/'
)
# The same compatibility date as wrangler.toml: the bench runs what deploys.
compat_date=$(sed -n 's/^compatibility_date = "\(.*\)"$/\1/p' wrangler.toml)
rm -rf "$OUT/do" && mkdir -p "$OUT/do"
sed -e "s|@PORT@|$port|" -e "s|@COMPAT_DATE@|$compat_date|" -e "s|@FLOOR_PORT@|$floor_port|" -e "s|@DO_DIR@|$ROOT/$OUT/do|" bench/workerd.capnp.template |
  awk -v b="$bindings" '{ if ($0 == "@BINDINGS@") print b; else print }' >"$OUT/workerd.capnp"

echo "==> workerd serve on 127.0.0.1:$port (the JavaScript floor on :$floor_port), pinned to CPU $SERVER_CPU"
set -m
pin "$SERVER_CPU" workerd serve "$OUT/workerd.capnp" --experimental ${INSPECTOR:+--inspector-addr="$INSPECTOR"} >"$OUT/workerd.log" 2>&1 &
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

# Each round takes its own share of the signed bodies, so no event repeats across rounds.
split_bodies() {
  local file=$1 r
  for r in $(seq 1 "$ROUNDS"); do
    awk -v r="$r" -v n="$ROUNDS" '(NR - 1) % n == r - 1' "$OUT/$file" >"$OUT/round$r-$file"
  done
}
while IFS=$'\t' read -r name _ _ bodies _; do
  case "$name" in ''|'#'*) continue ;; esac
  [ "$bodies" = "-" ] || split_bodies "$bodies"
done <bench/endpoints.tsv

workerd_pid=$(pgrep -n -f "workerd serve $OUT/workerd.capnp")
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$workerd_pid/stat"; }
picked() { # the floors always run: every ratio needs them
  [ -z "${ENDPOINTS:-}" ] || [ "$1" = healthz ] || [ "$1" = js_floor ] || [[ "$1" =~ ^(${ENDPOINTS})$ ]]
}
: >"$OUT/rates.tsv"
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round of $ROUNDS"
  while IFS=$'\t' read -r name method path bodies header _; do
    case "$name" in ''|'#'*) continue ;; esac
    picked "$name" || continue
    args=(-t1 -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 5s)
    [ "$bodies" = "-" ] || args+=(-s bench/signed.lua)
    [ "$header" != "admin" ] || args+=(-H "Authorization: Bearer $admin_token")
    [ "$method" = "GET" ] || [ "$bodies" != "-" ] || { echo "$name: a $method needs bodies" >&2; exit 1; }
    target="http://127.0.0.1:$port${path//@CARD@/$card_path}"
    [[ "$path" != @FLOOR@* ]] || target="http://127.0.0.1:$floor_port${path#@FLOOR@}"
    profiler=""
    if [ -n "${PROFILE:-}" ] && [ "$round" = 1 ] && [[ "$name" =~ ^(${PROFILE})$ ]]; then
      pin "$LOAD_CPU" node bench/profile.mjs "ws://$INSPECTOR/main" "$(( ${DURATION%s} - 2 ))" "$OUT/$name" \
        >"$OUT/$name.profile.txt" 2>&1 &
      profiler=$!
    fi
    cpu_before=$(cpu_ticks)
    BENCH_BODIES="$OUT/round$round-$bodies" SIG_HEADER="$header" THREADS=1 \
      pin "$LOAD_CPU" wrk "${args[@]}" "$target" >"$OUT/$name.$round.txt" 2>&1
    cpu_after=$(cpu_ticks)
    if [ -n "$profiler" ]; then
      wait "$profiler" || true
      echo "--- $name: CPU profile (bench-results/$name.cpuprofile)"; head -"${TOP:-25}" "$OUT/$name.profile.txt"
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$name.$round.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$OUT/$name.$round.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$OUT/$name.$round.txt")
    errors=$(grep -E 'Non-2xx|Socket errors' "$OUT/$name.$round.txt" | tr -s ' ' | paste -sd';' - || true)
    served=$(awk '/requests in/ {print $1}' "$OUT/$name.$round.txt")
    # workerd's CPU time per request served (user + system, all its threads): what a request
    # costs even when the figure is bound by latency (one Durable Object serialises its requests).
    cpu_us=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="${served:-0}" \
      'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$rps" "$p50" "$p99" "$errors" "$cpu_us" >>"$OUT/rates.tsv"
  done <bench/endpoints.tsv
done

# Medians, ratios to our /healthz and to the JavaScript floor, and each endpoint's target.
python3 bench/report.py bench/endpoints.tsv "$OUT/rates.tsv" | tee "$OUT/report.txt"

# Every redemption answered 200 must be recorded once: count them back through the access
# export (each request of the run was a distinct member and coupon; a replay would also be 200).
ran() { grep -q "^$1	" "$OUT/rates.tsv"; }
if ran redeem; then
  sent=$(cat "$OUT"/redeem.*.txt | awk '/requests in/ {n += $1} END {print n}')
  refused=$(cat "$OUT"/redeem.*.txt | awk '/Non-2xx/ {n += $5} END {print n + 0}')
  read -r recorded doubles < <(python3 bench/count_redemptions.py "http://127.0.0.1:$port" "$admin_token" "$OUT/till-members.txt")
  # `recorded` may exceed `answered 200` by the requests in flight when wrk stopped (at most one
  # per connection): the Worker finished them, wrk did not wait for the answers.
  printf '\nredemptions: %s sent, %s answered 200, %s recorded, %s doubles\n' \
    "$sent" "$((sent - ${refused:-0}))" "$recorded" "$doubles"
fi

# Every landing view must be counted: compare the funnel's count with the requests served.
if ran landing; then
  served=$(( $(cat "$OUT"/landing.*.txt | awk '/requests in/ {n += $1} END {print n + 0}') + 1 ))
  # Views are counted after the response, coalesced in batches: give the last ones time to land.
  for waited in $(seq 0 30); do
    counted=$(curl -fsS -H "authorization: Bearer $admin_token" "http://127.0.0.1:$port/api/admin/stats?from=$(date -u -d '-1 day' +%F)&to=$(date -u -d '+1 day' +%F)" |
      python3 -c 'import json,sys; print(sum(r["landing_views"] for r in json.load(sys.stdin)["stats"] if r.get("store_id") == "shibuya"))')
    [ "$counted" -lt "$served" ] || break
    sleep 1
  done
  printf '\nlanding views: %s served, %s counted (after waiting %s s)\n' "$served" "$counted" "$waited"
fi

# The events feed's deliveries per second, end to end. workerd alone has no queue broker, so this
# one runs under `wrangler dev` (same build), with the local receiver verifying every delivery.
# ENDPOINTS picks it as `feed`; FEED_EVENTS sets how many new shoppers (two events each).
# Then the delivery latency of three receivers side by side (bench/feed_latency.py;
# FEED_LATENCY_SHOPPERS at FEED_LATENCY_RATE a second).
if [ -z "${ENDPOINTS:-}" ] || [[ feed =~ ^(${ENDPOINTS})$ ]]; then
  kill -TERM -- "-$server" 2>/dev/null || true
  dev_port=$(free_port)
  rx_port=$(free_port)
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
  # Cause → first attempt for a healthy receiver beside a flaky and a trickling one.
  python3 bench/feed_latency.py "http://127.0.0.1:$dev_port" "$admin_token" \
    "$(secret LINE_CHANNEL_SECRET)" .venv/bin/python "${FEED_LATENCY_SHOPPERS:-100}" "${FEED_LATENCY_RATE:-20}"
  kill -TERM -- "-$dev" "-$rx" 2>/dev/null || true
fi

wasm_raw=$(stat -c %s build/index_bg.wasm)
wasm_gz=$(gzip -9c build/index_bg.wasm | wc -c)
upload=$(wrangler deploy --dry-run --outdir "$OUT/dist" 2>&1 | grep -o 'Total Upload:.*' || echo "Total Upload: (dry run failed, see wrangler)")
printf 'landing page HTML: %s bytes\nwasm: %s bytes, %s bytes gzip -9\n%s\n' "$landing_bytes" "$wasm_raw" "$wasm_gz" "$upload"
printf '(load: wrk -t1 -c%s -d%s on loopback pinned to CPU %s, workerd to CPU %s, %s rounds, %s cores; raw wrk output in %s/)\n' \
  "$CONNECTIONS" "$DURATION" "$LOAD_CPU" "$SERVER_CPU" "$ROUNDS" "$(nproc)" "$OUT"
