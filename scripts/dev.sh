#!/usr/bin/env bash
# Builds the Worker, runs it under `wrangler dev` on 127.0.0.1:8787 with local KV, Durable
# Objects and Queues persisted under .wrangler/state, starts the feed's local receiver on :8789,
# seeds the demo and prints the URLs. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

PORT="${PORT:-8787}"
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  echo "==> created .dev.vars from .dev.vars.example (demo secrets; git ignores it)"
fi
# The wallet settings from the local test keys (scripts/wallet-keys.sh), once.
if ! grep -q '^APPLE_PASS_CERT=-----' .dev.vars; then
  grep -v -E '^(APPLE_|GOOGLE_WALLET_)' .dev.vars >.dev.vars.tmp || true
  cat .wallet-dev/wallet.env >>.dev.vars.tmp
  mv .dev.vars.tmp .dev.vars
  echo "==> wallet settings from .wallet-dev/ added to .dev.vars"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is in use: stop what serves it, or run PORT=8788 make dev" >&2
  exit 1
fi

echo "==> building the Worker (release)"
bash scripts/build.sh

echo "==> starting wrangler dev on http://127.0.0.1:$PORT"
# Own process group, so stopping it stops wrangler and workerd together.
set -m
# Card links and QR codes point at this server, whatever the port.
SKIP_WORKER_BUILD=1 wrangler dev --ip 127.0.0.1 --port "$PORT" \
  --var "PUBLIC_BASE_URL:http://127.0.0.1:$PORT" \
  --show-interactive-dev-session=false --test-scheduled &
server=$!
set +m
stop() { kill -TERM -- "-$server" 2>/dev/null || true; }
trap stop EXIT INT TERM

for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 0.5
done

# The feed's local receiver (scripts/feed_receiver.py): verifies and prints every event.
FEED_PORT="${FEED_PORT:-$((PORT + 2))}"
set -m
.venv/bin/python scripts/feed_receiver.py --port "$FEED_PORT" &
receiver=$!
set +m
stop() { kill -TERM -- "-$server" "-$receiver" 2>/dev/null || true; }
for _ in $(seq 1 40); do
  curl -fsS -o /dev/null "http://127.0.0.1:$FEED_PORT/_received" 2>/dev/null && break
  sleep 0.25
done

FEED_RECEIVER="http://127.0.0.1:$FEED_PORT" BASE="http://127.0.0.1:$PORT" bash scripts/seed-demo.sh
wait "$server"
