#!/usr/bin/env bash
# Seeds the demo into a running Worker through its admin API (two stores, a consent notice in
# force, two coupons), plays a shopper's signed LINE follow + `JOIN {code}` through the real
# webhook, makes a POS key for the Shibuya till, then prints the URLs to open: the demo member's
# card, the till with the key and the member's barcode text to scan, the stats. Reads ADMIN_TOKEN and
# LINE_CHANNEL_SECRET from .dev.vars. Idempotent: PUTs of the same data; the shopper's events
# keep their ids, so a re-run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-http://127.0.0.1:8787}"
ADMIN_TOKEN="${ADMIN_TOKEN:-$(grep -E '^ADMIN_TOKEN=' .dev.vars | cut -d= -f2-)}"
auth=(-H "authorization: Bearer $ADMIN_TOKEN" -H "content-type: application/json")

put() { # path json
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "${auth[@]}" --data "$2" "$BASE$1")
  case "$status" in 200|201|409) ;; *) echo "PUT $1 answered $status" >&2; exit 1 ;; esac
}

put /api/admin/stores/shibuya '{"names":{"ja":"渋谷店","en":"Shibuya","fr":"Shibuya"},"address":"1-2-3 Jingumae, Shibuya-ku, Tokyo","timezone":"Asia/Tokyo","latitude":35.6702,"longitude":139.7027}'
put /api/admin/stores/umeda '{"names":{"ja":"梅田店","en":"Umeda","fr":"Umeda"},"address":"4-5-6 Kakuda-cho, Kita-ku, Osaka","timezone":"Asia/Tokyo","latitude":34.7055,"longitude":135.4983}'
put /api/admin/notices/2026-11 '{"texts":{
  "en":{"title":"Marketing messages","body":"We send you offers and news of your favourite store in the chat app you chose.\n\nYou can stop at any time: send STOP, block the account, or tap Stop messages on your card."},
  "ja":{"title":"マーケティングメッセージについて","body":"ご選択のチャットアプリで、お気に入り店舗のクーポンやお知らせをお送りします。\n\n「停止」と送る、アカウントをブロックする、または会員証の「配信停止」をタップすると、いつでも停止できます。"},
  "fr":{"title":"Messages marketing","body":"Nous vous envoyons les offres et nouvelles de votre magasin préféré dans la messagerie choisie.\n\nVous pouvez arrêter à tout moment : envoyez STOP, bloquez le compte ou touchez Arrêter les messages sur votre carte."}}}'
curl -fsS -X POST "${auth[@]}" "$BASE/api/admin/notices/2026-11/activate" -o /dev/null
from=$(date -u -d '-1 day' +%Y-%m-%dT00:00:00Z)
until=$(date -u -d '+90 days' +%Y-%m-%dT00:00:00Z)
put /api/admin/coupons/welcome-10 "{\"title\":{\"en\":\"10% off your next purchase\",\"ja\":\"次回のお買い物10%オフ\",\"fr\":\"10 % sur votre prochain achat\"},
  \"description\":{\"en\":\"Once, in any store.\",\"ja\":\"全店舗で1回ご利用いただけます。\",\"fr\":\"Une fois, dans tous nos magasins.\"},
  \"valid_from\":\"$from\",\"valid_until\":\"$until\",\"requires_consent\":true}"
put /api/admin/coupons/shibuya-coffee "{\"title\":{\"en\":\"Free coffee at Shibuya\",\"ja\":\"渋谷店 コーヒー1杯無料\",\"fr\":\"Café offert à Shibuya\"},
  \"valid_from\":\"$from\",\"valid_until\":\"$until\",\"stores\":[\"shibuya\"],\"requires_consent\":false}"
[ -z "${QUIET:-}" ] || [ -n "${CARD_ONLY:-}" ] || exit 0

# The events feed, to the local receiver `make dev` started (FEED_RECEIVER: its base URL): the
# demo's endpoint is made afresh each run (its secret is shown only once) and handed to the
# receiver, which verifies every delivery with the standardwebhooks library.
if [ -n "${FEED_RECEIVER:-}" ]; then
  feed_url="$FEED_RECEIVER/feed"
  for id in $(curl -fsS "${auth[@]}" "$BASE/api/admin/feeds" | FEED_URL="$feed_url" python3 -c \
      'import json,os,sys; print(" ".join(f["id"] for f in json.load(sys.stdin)["feeds"] if f["url"] == os.environ["FEED_URL"]))'); do
    curl -fsS -o /dev/null -X DELETE "${auth[@]}" "$BASE/api/admin/feeds/$id"
  done
  feed_secret=$(curl -fsS -X POST "${auth[@]}" --data "{\"url\":\"$feed_url\"}" "$BASE/api/admin/feeds" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  curl -fsS -o /dev/null -X POST --data "{\"secrets\":[\"$feed_secret\"]}" "$FEED_RECEIVER/_control"
fi

# A shopper scans the Shibuya poster, adds the LINE account (follow) and sends `JOIN {code}`
# from the landing page's LINE button, through the real webhook with a real signature.
line_secret="${LINE_SECRET:-$(grep -E '^LINE_CHANNEL_SECRET=' .dev.vars | cut -d= -f2- | cut -d, -f1)}"
code=$(curl -fsS "$BASE/s/shibuya?lang=en" | grep -o 'JOIN%20[A-Z2-7]*' | head -1 | sed 's/JOIN%20//')
shopper=Udemo0000000000000000000000000001
now_ms=$(($(date +%s) * 1000))
line_post() { # body
  local sig
  sig=$(printf '%s' "$1" | openssl dgst -sha256 -hmac "$line_secret" -binary | base64)
  curl -fsS -o /dev/null -X POST -H "content-type: application/json" -H "x-line-signature: $sig" \
    --data-binary "$1" "$BASE/webhooks/line"
}
line_post "{\"destination\":\"Udemo\",\"events\":[{\"type\":\"follow\",\"mode\":\"active\",\"timestamp\":$now_ms,\"source\":{\"type\":\"user\",\"userId\":\"$shopper\"},\"webhookEventId\":\"01DEMOFOLLOW00000000000000\",\"deliveryContext\":{\"isRedelivery\":false},\"replyToken\":\"demo-reply-token-1\",\"follow\":{\"isUnblocked\":false}}]}"
line_post "{\"destination\":\"Udemo\",\"events\":[{\"type\":\"message\",\"mode\":\"active\",\"timestamp\":$((now_ms + 1000)),\"source\":{\"type\":\"user\",\"userId\":\"$shopper\"},\"webhookEventId\":\"01DEMOJOIN0000000000000000\",\"deliveryContext\":{\"isRedelivery\":false},\"replyToken\":\"demo-reply-token-2\",\"message\":{\"type\":\"text\",\"id\":\"demo-message-1\",\"quoteToken\":\"q\",\"text\":\"JOIN $code\"}}]}"
member=$(curl -fsS "${auth[@]}" "$BASE/api/admin/consent?channel=line&subject=$shopper" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["member_number"])')
card_url=$(curl -fsS "${auth[@]}" "$BASE/api/admin/members/$member" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["member"]["card_url"])')
if [ -n "${CARD_ONLY:-}" ]; then
  echo "$card_url"
  exit 0
fi

# A POS key for the Shibuya till. Keys are shown once: the demo keeps its own under .wrangler/
# and makes a new one only when that one no longer works (fresh state, or revoked).
key_file=.wrangler/demo-pos-key
pos_key=$(cat "$key_file" 2>/dev/null || true)
if [ -z "$pos_key" ] || [ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "authorization: Bearer $pos_key" \
    -H 'content-type: application/json' --data '{}' "$BASE/api/pos/scan")" = 401 ]; then
  pos_key=$(curl -fsS -X POST "${auth[@]}" --data '{"label":"Demo till"}' "$BASE/api/admin/stores/shibuya/pos-keys" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  mkdir -p .wrangler && printf '%s\n' "$pos_key" >"$key_file"
fi
# The member's barcode text, as a scanner would type it: signed here with the first key of
# SIGNING_KEYS by the layout of core/src/codes/barcode.rs (the card page draws the same as a QR code).
barcode=$(MEMBER="$member" SIGNING_KEYS="$(grep -E '^SIGNING_KEYS=' .dev.vars | cut -d= -f2-)" python3 - <<'PY'
import base64, hmac, hashlib, os, time
kid, key = os.environ["SIGNING_KEYS"].split(",")[0].split(":", 1)
body = b"B" + bytes([len(kid)]) + kid.encode() + int(os.environ["MEMBER"]).to_bytes(5, "big")
body += (int(time.time()) + 14 * 86400).to_bytes(4, "big") + b"\x00"
tag = hmac.new(base64.b64decode(key), body, hashlib.sha256).digest()[:10]
print(base64.b32encode(body + tag).decode().rstrip("="))
PY
)

cat <<MSG

==> the demo is running (stores shibuya and umeda, consent notice 2026-11 in force, two coupons,
    and one shopper who joined on LINE at Shibuya: member $member)
    admin console:   $BASE/admin   — sign in with ADMIN_TOKEN from .dev.vars: stores, posters,
                     coupons, notices, the funnel, members, POS keys, the events feed
    landing page:    $BASE/s/shibuya        (?lang=ja|en|fr, ?c=spring for a campaign)
    member's card:   $card_url   (open it on a phone-sized window; ?lang=ja|en|fr)
    wallet cards:    $card_url/wallet.pkpass   (Apple Wallet, signed by the local test CA in
                     .wallet-dev/: openssl cms -verify -CAfile .wallet-dev/ca.pem checks it)
                     $card_url/google-wallet   (303 to Google Wallet's save link with the JWT)
    their data page: $card_url/data   (every consent, receipts: $card_url/receipts.json)
    till (cashier):  $BASE/pos   — paste the POS key once: $pos_key
                     then type or paste the member's barcode and press Enter (a scanner does
                     just that), press 1 to redeem the first coupon:
                     $barcode
                     offline: in the browser's DevTools, Network → Offline, scan and redeem
                     (kept on the till; reload still opens it), go back online: it is sent
                     once; refusals show on the till and at
                     $BASE/api/admin/stores/shibuya/offline-conflicts
    stats:           curl -H 'authorization: Bearer $ADMIN_TOKEN' '$BASE/api/admin/stats?format=csv'
    access export:   curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/members/$member
    coupons:         curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/coupons
    consent notice:  $BASE/privacy
    poster (SVG):    curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/stores/shibuya/poster.svg -o poster.svg
    poster (PNG):    curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/stores/shibuya/poster.png -o poster.png
    settings report: curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/config
    webhooks:        $BASE/webhooks/line, $BASE/webhooks/meta (secrets in .dev.vars)
    events feed:     every event is POSTed to the receiver at ${FEED_RECEIVER:-(none)}/feed, which
                     verifies it and prints a "[feed]" line here (redeem at the till to see one);
                     curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/feeds
                     curl -H 'authorization: Bearer $ADMIN_TOKEN' "$BASE/api/admin/export?from=$(date -u +%Y-%m-%d)&to=$(date -u +%Y-%m-%d)"
    retention job:   $BASE/__scheduled   (fires the daily evidence clean-up; a log line counts it)
    health:          $BASE/healthz
    (Ctrl-C stops the server; data persists under .wrangler/state)
MSG
