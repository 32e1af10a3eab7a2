#!/usr/bin/env bash
# Cold start beside the JS peer (`make peer` runs it after side_by_side.sh, which leaves both
# sides' configs and builds in bench-results/). For each side: a KV workerd that outlives the
# restarts, one seeding start (the demo, as side_by_side.sh seeds it), then RUNS fresh processes
# (peer and project alternating) timed to the first 200 of /healthz and RUNS to the first 200 of
# the demo card page (bench/cold_start.py). `RUNS` (7) tunes it.
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
out=$PWD/bench-results; peer=$out/peer-js; here=${PEER_BENCH:-$PWD/../shared/peer-bench}
W=$peer/node_modules/.bin/workerd
[ -f "$out/sbs.capnp" ] && [ -f "$peer/sbs.capnp" ] && [ -x "$W" ] ||
  { echo "no side-by-side configs in bench-results/: run ../shared/peer-bench/side_by_side.sh first"; exit 1; }
secret() { grep -E "^$1=" .dev.vars.example | cut -d= -f2- | cut -d, -f1; }
ADMIN=$(secret ADMIN_TOKEN); LINE_SECRET=$(secret LINE_CHANNEL_SECRET)
PSEUDO=$(secret PSEUDONYM_KEY); SIGNING=$(grep -E '^SIGNING_KEYS=' .dev.vars.example | cut -d= -f2-)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill ${pids[*]:-} 2>/dev/null' EXIT
wait_ok() { for _ in $(seq 200); do curl -sf -m 1 -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

# side dir config kv-module: writes DIR/cold.tmpl.capnp (KV external, @PORT@, @DO@) and seeds DIR/cold.do
prepare() {
  local who=$1 dir=$2 config=$3 kvjs=$4 kp sp
  kp=$(free_port); sp=$(free_port)
  cp "$kvjs" "$dir/cold-kv.js"   # embeds are relative to the config
  cat >"$dir/cold-kv.capnp" <<EOF
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "kv", worker = (modules = [(name = "kv.js", esModule = embed "cold-kv.js")], compatibilityDate = "2026-04-26")) ],
  sockets = [ (name = "http", address = "127.0.0.1:$kp", http = (), service = "kv") ],
);
EOF
  (cd "$dir" && exec "$W" serve cold-kv.capnp) >"$dir/cold-kv.log" 2>&1 & pids+=($!)
  sed -E -e "s|\(name = \"kv\", worker = \.kv\)|(name = \"kv\", external = (address = \"127.0.0.1:$kp\", http = ()))|" \
    -e "s/(name = \"http\", address = \"127\.0\.0\.1:)[0-9]+/\1@PORT@/" \
    -e '/name = "floor", worker = \.floor/d' -e '/name = "floor", address = /d' \
    -e "s|(name = \"do-disk\", disk = \(path = \")[^\"]+|\1@DO@|" "$dir/$config" >"$dir/cold.tmpl.capnp"
  grep -q "external = (address = \"127.0.0.1:$kp\"" "$dir/cold.tmpl.capnp" || { echo "$who: no KV service to move"; exit 1; }
  rm -rf "$dir/cold.do" && mkdir -p "$dir/cold.do"
  sed -e "s/@PORT@/$sp/" -e "s|@DO@|$dir/cold.do|" "$dir/cold.tmpl.capnp" >"$dir/cold.seed.capnp"
  (cd "$dir" && exec "$W" serve cold.seed.capnp --experimental) >"$dir/cold-seed.log" 2>&1 & local spid=$!
  wait_ok "http://127.0.0.1:$sp/healthz" || { echo "$who: the seeding server did not start ($dir/cold-seed.log)"; exit 1; }
  local base=http://127.0.0.1:$sp
  QUIET=1 ADMIN_TOKEN="$ADMIN" BASE="$base" bash scripts/seed-demo.sh >/dev/null || { echo "$who: seed failed"; exit 1; }
  if [ "$who" = proj ]; then
    LINE_SECRET="$LINE_SECRET" ADMIN_TOKEN="$ADMIN" BASE="$base" CARD_ONLY=1 bash scripts/seed-demo.sh |
      sed -E 's|^https?://[^/]+||' >"$dir/cold.card"
  else
    python3 "$here/peer_demo.py" "$base" "$LINE_SECRET" "$PSEUDO" "$SIGNING" >"$dir/cold.card"
  fi
  [ -s "$dir/cold.card" ] && curl -sf -o /dev/null "$base$(cat "$dir/cold.card")" || { echo "$who: no demo card"; exit 1; }
  kill "$spid"; wait "$spid" 2>/dev/null
}

prepare proj "$out" sbs.capnp "$PWD/bench/kv-memory.js"
prepare peer "$peer" sbs.capnp "$peer/kv-memory.js"
python3 bench/cold_start.py "$W" "$out/cold.tmpl.capnp" "$peer/cold.tmpl.capnp" \
  "$(cat "$out/cold.card")" "$(cat "$peer/cold.card")" "$RUNS"
