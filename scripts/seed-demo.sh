#!/usr/bin/env bash
# Seeds the demo into a running Worker through its admin API, then prints the URLs to open.
# Reads ADMIN_TOKEN from .dev.vars. Idempotent: every call is a PUT of the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-http://127.0.0.1:8787}"
ADMIN_TOKEN=$(grep -E '^ADMIN_TOKEN=' .dev.vars | cut -d= -f2-)
auth=(-H "authorization: Bearer $ADMIN_TOKEN")

check() { curl -fsS "${auth[@]}" "$@" -o /dev/null; }
check "$BASE/api/admin/config"

cat <<MSG

==> the demo is running
    health:          $BASE/healthz
    settings report: curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/config
    (Ctrl-C stops the server; data persists under .wrangler/state)
MSG
