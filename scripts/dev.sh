#!/usr/bin/env bash
# Builds the Worker, runs it under `wrangler dev` on 127.0.0.1:8787 with local KV and Durable
# Objects persisted under .wrangler/state, seeds the demo and prints the URLs. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

PORT="${PORT:-8787}"
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  echo "==> created .dev.vars from .dev.vars.example (demo secrets; git ignores it)"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is in use: stop what serves it, or run PORT=8788 make dev" >&2
  exit 1
fi

echo "==> building the Worker (release)"
worker-build --release

echo "==> starting wrangler dev on http://127.0.0.1:$PORT"
# Own process group, so stopping it stops wrangler and workerd together.
set -m
SKIP_WORKER_BUILD=1 wrangler dev --ip 127.0.0.1 --port "$PORT" \
  --show-interactive-dev-session=false &
server=$!
set +m
stop() { kill -TERM -- "-$server" 2>/dev/null || true; }
trap stop EXIT INT TERM

for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 0.5
done

BASE="http://127.0.0.1:$PORT" bash scripts/seed-demo.sh
wait "$server"
