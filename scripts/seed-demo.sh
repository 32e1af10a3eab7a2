#!/usr/bin/env bash
# Seeds the demo into a running Worker through its admin API (two stores, a consent notice in
# force), then prints the URLs to open. Reads ADMIN_TOKEN from .dev.vars. Idempotent: every call
# is a PUT of the same data (an activated notice is frozen, so a re-run leaves it as it is).
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

put /api/admin/stores/shibuya '{"names":{"ja":"渋谷店","en":"Shibuya","fr":"Shibuya"},"address":"1-2-3 Jingumae, Shibuya-ku, Tokyo","timezone":"Asia/Tokyo"}'
put /api/admin/stores/umeda '{"names":{"ja":"梅田店","en":"Umeda","fr":"Umeda"},"address":"4-5-6 Kakuda-cho, Kita-ku, Osaka","timezone":"Asia/Tokyo"}'
put /api/admin/notices/2026-11 '{"texts":{
  "en":{"title":"Marketing messages","body":"We send you offers and news of your favourite store in the chat app you chose.\n\nYou can stop at any time: send STOP, block the account, or tap Stop messages on your card."},
  "ja":{"title":"マーケティングメッセージについて","body":"ご選択のチャットアプリで、お気に入り店舗のクーポンやお知らせをお送りします。\n\n「停止」と送る、アカウントをブロックする、または会員証の「配信停止」をタップすると、いつでも停止できます。"},
  "fr":{"title":"Messages marketing","body":"Nous vous envoyons les offres et nouvelles de votre magasin préféré dans la messagerie choisie.\n\nVous pouvez arrêter à tout moment : envoyez STOP, bloquez le compte ou touchez Arrêter les messages sur votre carte."}}}'
curl -fsS -X POST "${auth[@]}" "$BASE/api/admin/notices/2026-11/activate" -o /dev/null
[ -z "${QUIET:-}" ] || exit 0

cat <<MSG

==> the demo is running (stores shibuya and umeda, consent notice 2026-11 in force)
    landing page:    $BASE/s/shibuya        (?lang=ja|en|fr, ?c=spring for a campaign)
    consent notice:  $BASE/privacy
    poster (SVG):    curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/stores/shibuya/poster.svg -o poster.svg
    poster (PNG):    curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/stores/shibuya/poster.png -o poster.png
    settings report: curl -H 'authorization: Bearer $ADMIN_TOKEN' $BASE/api/admin/config
    webhooks:        $BASE/webhooks/line, $BASE/webhooks/meta (secrets in .dev.vars)
    health:          $BASE/healthz
    (Ctrl-C stops the server; data persists under .wrangler/state)
MSG
