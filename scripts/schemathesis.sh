#!/usr/bin/env bash
# Checks the running Worker against openapi.yaml with schemathesis (--checks all): no 5xx, every
# schema-valid request accepted, every schema-violating one rejected, only documented statuses,
# content types, headers and bodies, 405 for undeclared methods, 401 without the bearer token.
#
# Starts the release build under `wrangler dev` on a free loopback port with a fresh local state
# and test secrets, seeds what the API needs to reach its interesting answers (stores, a notice in
# force, coupons, two members, a POS key), runs schemathesis, and always stops the Worker.
# Builds the Worker only when build/index.js is older than the sources. Exits non-zero when
# schemathesis finds anything.
#
# Tuning (environment): SCHEMATHESIS_MAX_EXAMPLES (default 40 per operation and phase),
# SCHEMATHESIS_ARGS (extra options, e.g. `--include-path-regex admin/coupons`). The generation is
# deterministic (the same cases every run) unless SCHEMATHESIS_SEED asks for a random one.
# No hooks: every rule of a request is in openapi.yaml, so schemathesis's own generation is the
# test. tests/schemathesis/schemathesis.toml holds the test data only (a credential per security
# scheme, the seeded members and barcode) and the till's documented 422s.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

if [ ! -x .venv/bin/schemathesis ]; then
  echo "schemathesis is missing: run scripts/setup.sh (make setup)" >&2
  exit 1
fi
if [ ! -f build/index.js ] || [ -n "$(find src Cargo.toml Cargo.lock -newer build/index.js -print -quit)" ]; then
  echo "==> build/index.js is missing or older than the sources: building"
  bash scripts/build.sh
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
ADMIN_TOKEN=schemathesis-admin-token-7d41
LINE_SECRET=schemathesis-line-channel-secret
META_VERIFY_TOKEN=schemathesis-meta-verify-token
SIGNING_KEYS=st1:c2NoZW1hdGhlc2lzLXNpZ25pbmcta2V5LTAxMjM0NTY3ODk=
work=$(mktemp -d -t optin-schemathesis.XXXXXX)
mkdir -p test-artifacts
log=test-artifacts/wrangler-schemathesis.log
cat >"$work/secrets.env" <<EOF
ADMIN_TOKEN=$ADMIN_TOKEN
LINE_CHANNEL_SECRET=$LINE_SECRET
LINE_CHANNEL_ACCESS_TOKEN=schemathesis-line-access-token
META_APP_SECRET=schemathesis-meta-app-secret
META_VERIFY_TOKEN=$META_VERIFY_TOKEN
META_ACCESS_TOKEN=schemathesis-meta-access-token
SIGNING_KEYS=$SIGNING_KEYS
PSEUDONYM_KEY=schemathesis-pseudonym-key-0123456789
EOF

# wrangler in its own process group (set -m), stopped as a group whatever happens: killing only
# a parent would leave workerd serving the port (docs/testing.md).
server=""
stop() {
  if [ -n "$server" ]; then
    kill -TERM -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "==> starting the Worker on $BASE (state in $work, log in $log)"
set -m
# The platform APIs point at a closed loopback port: replies fail fast and are only logged.
SKIP_WORKER_BUILD=1 CI=true wrangler dev --ip 127.0.0.1 --port "$PORT" \
  --persist-to "$work/state" --env-file "$work/secrets.env" \
  --inspector-port "$(free_port)" --show-interactive-dev-session=false \
  --var "LINE_API_BASE:http://127.0.0.1:9" --var "GRAPH_API_BASE:http://127.0.0.1:9" \
  --var "PUBLIC_BASE_URL:https://shop.example" \
  </dev/null >"$log" 2>&1 &
server=$!
set +m
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "wrangler dev exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done

echo "==> seeding: stores, a notice in force, coupons, two members, a POS key"
BASE="$BASE" ADMIN_TOKEN="$ADMIN_TOKEN" LINE_SECRET="$LINE_SECRET" QUIET=1 CARD_ONLY=1 \
  bash scripts/seed-demo.sh >/dev/null
auth=(-H "authorization: Bearer $ADMIN_TOKEN")
# A second member (seed-demo.sh made the first), followed on LINE: the one erasure may erase.
other=Uschemathesis00000000000000000002
now_ms=$(($(date +%s) * 1000))
body="{\"destination\":\"Ust\",\"events\":[{\"type\":\"follow\",\"mode\":\"active\",\"timestamp\":$now_ms,\"source\":{\"type\":\"user\",\"userId\":\"$other\"},\"webhookEventId\":\"01STFOLLOW0000000000000002\",\"deliveryContext\":{\"isRedelivery\":false},\"replyToken\":\"st-reply-token\",\"follow\":{\"isUnblocked\":false}}]}"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$LINE_SECRET" -binary | base64)
curl -fsS -o /dev/null -X POST -H "content-type: application/json" -H "x-line-signature: $sig" \
  --data-binary "$body" "$BASE/webhooks/line"
member_of() { # LINE user id -> member number
  curl -fsS "${auth[@]}" "$BASE/api/admin/consent?channel=line&subject=$1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["member_number"])'
}
ST_MEMBER_GET=$(member_of Udemo0000000000000000000000000001)
ST_MEMBER_DELETE=$(member_of "$other")
# The till's own store, coupon (every store, no consent needed, valid for 90 days) and POS key.
# Other requests may overwrite, revoke or erase them as the run goes on: the till's routes then
# answer 401, 404 or 422, which the checks accept (schemathesis.toml).
put_json() { curl -fsS -o /dev/null -X PUT "${auth[@]}" -H "content-type: application/json" -d "$2" "$BASE$1"; }
ST_POS_STORE=st-till
put_json "/api/admin/stores/$ST_POS_STORE" '{"names":{"en":"Till store"},"address":"1 Test St","timezone":"UTC"}'
put_json /api/admin/coupons/st-till "{\"title\":{\"en\":\"Till coupon\"},\"valid_from\":\"$(date -u -d '-1 day' +%FT%TZ)\",\"valid_until\":\"$(date -u -d '+90 days' +%FT%TZ)\",\"requires_consent\":false}"
ST_POS_KEY=$(curl -sS "${auth[@]}" -H "content-type: application/json" -d '{"label":"schemathesis"}' \
  "$BASE/api/admin/stores/$ST_POS_STORE/pos-keys" |
  python3 -c 'import json, sys; print(json.load(sys.stdin).get("key") or "pk_aaaaaaaa_" + "a" * 40)')
# The member's card barcode, made by an independent implementation of its layout
# (core/src/codes/: base32 of `B | kid length | kid | member u40 | expires u32 | coupon | tag`, the tag
# the first 80 bits of HMAC-SHA256 with the signing key), valid for a day.
ST_MEMBER_CODE=$(python3 - "$SIGNING_KEYS" "$ST_MEMBER_GET" <<'PY'
import base64, hashlib, hmac, sys, time
kid, key = sys.argv[1].split(",")[0].split(":", 1)
body = (b"B" + bytes([len(kid)]) + kid.encode() + int(sys.argv[2]).to_bytes(5, "big")
        + (int(time.time()) + 86400).to_bytes(4, "big") + bytes([0]))
tag = hmac.new(base64.b64decode(key), body, hashlib.sha256).digest()[:10]
print(base64.b32encode(body + tag).decode().rstrip("="))
PY
)
export ST_ADMIN_TOKEN="$ADMIN_TOKEN" ST_POS_KEY ST_META_VERIFY_TOKEN="$META_VERIFY_TOKEN"
export ST_MEMBER_GET ST_MEMBER_DELETE ST_MEMBER_CODE
echo "    members $ST_MEMBER_GET (read) and $ST_MEMBER_DELETE (erased), POS key ${ST_POS_KEY:0:12}…"

generation=(--generation-deterministic)
[ -z "${SCHEMATHESIS_SEED:-}" ] || generation=(--seed "$SCHEMATHESIS_SEED" --generation-database :memory:)

# One worker: schemathesis's threads parsing Python source at once hit a CPython 3.11 bug
# ("SystemError: AST constructor recursion depth mismatch", python/cpython#106905), and two
# workers were no faster on these two cores (the generation is the bottleneck).
echo "==> schemathesis run openapi.yaml --checks all"
started=$(date +%s)
status=0
.venv/bin/schemathesis --config-file tests/schemathesis/schemathesis.toml run openapi.yaml \
  --url "$BASE" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
  "${generation[@]}" \
  --workers 1 \
  --request-timeout 20 \
  --report junit --report-dir test-artifacts/schemathesis \
  --report-junit-path test-artifacts/schemathesis/junit.xml \
  --no-color \
  ${SCHEMATHESIS_ARGS:-} || status=$?
echo "==> schemathesis took $(($(date +%s) - started))s (exit $status)"
exit "$status"
