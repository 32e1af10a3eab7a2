// The admin console (GET /admin): store staff run the programme from a browser. A client of the
// documented admin JSON API (openapi.yaml) and nothing else: every action is one of its calls,
// with the admin token as a bearer, and the API's own auth decides. The token is entered once
// per browser session and kept in this tab's sessionStorage only (gone when the tab closes);
// nothing else is stored but the console's language. Every text reaches the page through
// textContent or attributes (never innerHTML), so names, titles and notices typed by anyone are
// shown as text. Posters, charts and downloads are fetched with the token and shown as blob:
// URLs (the CSP in static/_headers allows nothing else).
"use strict";

const TOKEN_KEY = "optin.console.token";
const LANG_KEY = "optin.console.lang";
const LANGS = ["ja", "en", "fr"];
const CHANNELS = ["line", "whatsapp", "messenger", "instagram"];
const CHANNEL_NAMES = { line: "LINE", whatsapp: "WhatsApp", messenger: "Messenger", instagram: "Instagram" };
// The setting that turns each channel's button on (GET /api/admin/config reports its status).
const CHANNEL_SETTINGS = { line: "LINE_BOT_BASIC_ID", whatsapp: "WHATSAPP_NUMBER", messenger: "MESSENGER_PAGE", instagram: "INSTAGRAM_USERNAME" };

const TEXTS = {
  en: {
    title: "Admin console", skip: "Skip to content", language: "Language", signOut: "Sign out",
    sections: "Sections", save: "Save", cancel: "Cancel", edit: "Edit", close: "Close",
    copy: "Copy", copied: "Copied.", loading: "Loading…", saved: "Saved.", yes: "Yes", no: "No",
    none: "—", actions: "Actions", new: "New", refresh: "Refresh", all: "All",
    "signin.title": "Sign in", "signin.token": "Admin token",
    "signin.hint": "The ADMIN_TOKEN of this Worker. It is kept in this browser tab only, until you sign out or close the tab.",
    "signin.submit": "Sign in", "signin.wrong": "This token was not accepted. Nothing was changed. Check it and try again.",
    "signin.expired": "The admin token is no longer accepted (it may have been changed). Sign in again; nothing was changed.",
    "signin.network": "The Worker could not be reached. Check the connection and try again.",
    "nav.stores": "Stores", "nav.coupons": "Coupons", "nav.notices": "Consent notices", "nav.funnel": "Funnel",
    "nav.members": "Members", "nav.keys": "POS keys", "nav.feeds": "Events feed",
    "lang.ja": "Japanese", "lang.en": "English", "lang.fr": "French",
    "error.generic": "The request failed", "error.network": "The Worker could not be reached. Look again before retrying: a change may or may not have been made.",
    "stores.title": "Stores", "stores.empty": "No store yet. Create the first one.", "stores.new": "New store",
    "stores.id": "Store id", "stores.idHint": "1 to 32 of a–z, 0–9 and -, used in the landing URL. It cannot be changed later.",
    "stores.name": "Name", "stores.nameIn": "Name ({lang})", "stores.namesHint": "At least one language.",
    "stores.address": "Address", "stores.timezone": "Time zone", "stores.timezoneHint": "An IANA time zone, e.g. Asia/Tokyo. The funnel counts this store's days in it.",
    "stores.country": "Country", "stores.countryHint": "ISO 3166-1 alpha-2, e.g. FR. Empty: the deployment's JURISDICTION. Which apps can carry offers depends on it.", "stores.offers": "Offers on", "stores.noOffers": "none (card and chat only)", "stores.deadChannel": "{app} is configured but can carry offers in none of these stores: its shoppers get their card and a chat only, never offers.",
    "stores.editing": "Edit store {id}", "stores.creating": "New store", "stores.poster": "Poster",
    "poster.title": "Poster of {id}", "poster.campaign": "Campaign (optional)", "poster.campaignHint": "1 to 32 of a–z, 0–9 and -. Lets the funnel tell posters apart.",
    "poster.landing": "Landing page URL", "poster.preview": "Poster preview for {id}", "poster.svg": "Download SVG (for the printer)",
    "poster.png": "Download PNG", "poster.show": "Show poster",
    "coupons.title": "Coupons", "coupons.empty": "No coupon yet.", "coupons.new": "New coupon",
    "coupons.id": "Coupon id", "coupons.idHint": "1 to 16 of a–z, 0–9 and - (it travels in barcodes). It cannot be changed later.",
    "coupons.titleIn": "Title ({lang})", "coupons.descriptionIn": "Description ({lang}, optional)",
    "coupons.from": "Valid from", "coupons.until": "Valid until (exclusive)", "coupons.timesHint": "In this browser's time zone ({zone}).", "coupons.neverValid": "Saved, but it ends before it starts: no member can see or redeem it.",
    "coupons.stores": "Stores", "coupons.storesHint": "None ticked: every store.", "coupons.everyStore": "Every store",
    "coupons.consent": "Only for members who accept marketing messages", "coupons.window": "Valid",
    "coupons.requiresConsent": "Needs consent", "coupons.editing": "Edit coupon {id}", "coupons.creating": "New coupon",
    "coupons.preview": "Preview on a member's card", "coupons.previewLang": "Preview language",
    "coupons.barcode": "Coupon barcode", "coupons.untitled": "(no title in this language)",
    "notices.title": "Consent notices", "notices.empty": "No notice yet.", "notices.new": "New draft",
    "notices.version": "Version", "notices.versionHint": "1 to 32 of letters, digits, . _ and -, e.g. 2026-11.",
    "notices.status": "Status", "notices.inForce": "In force", "notices.draft": "Draft", "notices.earlier": "Was in force",
    "notices.created": "Created", "notices.activated": "Activated", "notices.titleIn": "Title ({lang})", "notices.bodyIn": "Text ({lang})",
    "notices.editing": "Edit draft {version}", "notices.creating": "New draft", "notices.compare": "Compare",
    "notices.compareTitle": "Draft {draft} beside the version in force", "notices.current": "In force: {version}",
    "notices.noCurrent": "No version is in force yet.", "notices.proposed": "Draft: {version}",
    "notices.added": "added", "notices.removed": "removed", "notices.missing": "(not in this language)",
    "notices.activate": "Activate…", "notices.activateTitle": "Activate version {version}?",
    "notices.activateText": "This cannot be undone. From now on every new consent refers to version {version}, and it can no longer be edited. Consents already given keep the version they were given under.",
    "notices.activateOk": "Activate {version}", "notices.activatedNow": "Version {version} is now in force.",
    "notices.frozen": "In force or was: frozen.",
    "funnel.title": "Funnel", "funnel.from": "From", "funnel.to": "To", "funnel.store": "Store", "funnel.allStores": "All stores",
    "funnel.show": "Show", "funnel.csv": "Download CSV", "funnel.chart": "Funnel chart", "funnel.table": "Per store and day",
    "funnel.day": "Day", "funnel.views": "Landing views", "funnel.optins": "Opt-ins", "funnel.cards": "Cards issued",
    "funnel.redemptions": "Redemptions", "funnel.withdrawals": "Withdrawals", "funnel.cardOnly": "Of which card only (no offers)", "funnel.total": "Total", "funnel.noStore": "(no store)",
    "funnel.empty": "No rows in this range.", "funnel.hint": "Days are each store's own calendar days. Empty dates: each store's today.",
    "members.title": "Members", "members.number": "Member number", "members.numberHint": "12 digits, from the card or the till.",
    "members.lookup": "Look up", "members.notFound": "No member has this number.", "members.summary": "Member {number}",
    "members.created": "Member since", "members.cardIssued": "Card issued", "members.favourite": "Favourite store",
    "members.lang": "Language", "members.consent": "Marketing consent", "members.granted": "Granted", "members.notGranted": "Not granted",
    "members.card": "Card", "members.openCard": "Open the member's card", "members.accounts": "Chat accounts",
    "members.alsoKnownAs": "Also known as", "members.linked": "Linked", "members.state": "State",
    "members.history": "Consent history", "members.when": "When", "members.action": "Change", "members.source": "How",
    "members.notice": "Notice", "members.campaign": "Campaign", "members.redemptions": "Redemptions", "members.coupon": "Coupon",
    "members.register": "Register", "members.transaction": "Transaction", "members.posKey": "POS key", "members.noRedemptions": "No redemption.",
    "members.receipts": "Download consent receipts (JSON)", "members.receiptsUnavailable": "Receipts unavailable: the setting {setting} is missing.",
    "members.export": "Download the whole access export (JSON)",
    "members.erase": "Erase this member…", "members.eraseTitle": "Erase member {number}?",
    "members.eraseText": "This cannot be undone. Their chat ids are replaced by pseudonyms, their card stops working, and the consent history is kept only as pseudonymous evidence. Type the member number to confirm.",
    "members.eraseConfirm": "Member number to confirm", "members.eraseOk": "Erase", "members.erased": "Member {number} was erased: {events} consent records made pseudonymous.", "members.erasing": "Member {number} is erased; its consent records are being made pseudonymous: {events} so far…",
    "state.granted": "granted", "state.withdrawn": "withdrawn", "state.unknown": "unknown",
    "keys.title": "POS keys", "keys.store": "Store", "keys.label": "Label (optional)", "keys.labelHint": "For example the register, Till 1.",
    "keys.create": "Create a key", "keys.once": "Copy this key now: it is shown only this once. Enter it on the till (/pos).",
    "keys.key": "New POS key", "keys.id": "Key id", "keys.created": "Created", "keys.status": "Status", "keys.active": "Active",
    "keys.revokedAt": "Revoked {when}", "keys.revoke": "Revoke…", "keys.revokeTitle": "Revoke key {id}?",
    "keys.revokeText": "Tills using this key stop working at once. The record stays, as evidence of which till redeemed what.",
    "keys.revokeOk": "Revoke", "keys.empty": "No key for this store.", "keys.noStores": "Create a store first.",
    "feeds.title": "Events feed", "feeds.url": "Receiver URL", "feeds.urlHint": "https:// (or http:// to localhost). Every event is POSTed there, signed (Standard Webhooks).",
    "feeds.add": "Add endpoint", "feeds.once": "Copy this signing secret now: it is shown only this once.", "feeds.secret": "Signing secret",
    "feeds.empty": "No endpoint yet.", "feeds.status": "Status", "feeds.active": "Active", "feeds.disabled": "Disabled (410 Gone)",
    "feeds.delivered": "Delivered", "feeds.backlog": "Waiting", "feeds.dead": "Dead letters", "feeds.lastSuccess": "Last success",
    "feeds.lastFailure": "Last failure", "feeds.rotate": "Rotate secret", "feeds.rotated": "New secret for {id}; the previous one signs until {when}.",
    "feeds.delete": "Delete…", "feeds.deleteTitle": "Delete this endpoint?", "feeds.deleteText": "Nothing more is delivered to {url}; its waiting deliveries and dead letters are dropped.",
    "feeds.deleteOk": "Delete", "feeds.deadLetters": "Dead letters", "feeds.deadOf": "Dead letters of {url}", "feeds.deadEmpty": "No dead letter.",
    "feeds.event": "Event", "feeds.time": "Event time", "feeds.attempts": "Attempts", "feeds.reason": "Last failure", "feeds.deadAt": "Given up",
    "feeds.replayDead": "Send the dead letters again", "feeds.replayed": "{queued} queued again; {remaining} dead letters left.",
    "feeds.replayRange": "Send a time range again", "feeds.replayFrom": "From (UTC day)", "feeds.replayTo": "To (UTC day, included)",
    "feeds.replayOk": "Send again", "feeds.replayQueued": "Events from {from} to {to} queued again.", "feeds.secrets": "Secrets in force",
  },
  ja: {
    title: "管理コンソール", skip: "本文へ移動", language: "言語", signOut: "サインアウト",
    sections: "メニュー", save: "保存", cancel: "キャンセル", edit: "編集", close: "閉じる",
    copy: "コピー", copied: "コピーしました。", loading: "読み込み中…", saved: "保存しました。", yes: "はい", no: "いいえ",
    none: "—", actions: "操作", new: "新規", refresh: "更新", all: "すべて",
    "signin.title": "サインイン", "signin.token": "管理トークン",
    "signin.hint": "この Worker の ADMIN_TOKEN です。サインアウトするかタブを閉じるまで、このタブにだけ保存されます。",
    "signin.submit": "サインイン", "signin.wrong": "このトークンは受け付けられませんでした。何も変更されていません。確認してもう一度お試しください。",
    "signin.expired": "管理トークンが受け付けられなくなりました(変更された可能性があります)。もう一度サインインしてください。何も変更されていません。",
    "signin.network": "Worker に接続できませんでした。接続を確認してもう一度お試しください。",
    "nav.stores": "店舗", "nav.coupons": "クーポン", "nav.notices": "同意の説明文", "nav.funnel": "ファネル",
    "nav.members": "会員", "nav.keys": "POS キー", "nav.feeds": "イベント配信",
    "lang.ja": "日本語", "lang.en": "英語", "lang.fr": "フランス語",
    "error.generic": "リクエストに失敗しました", "error.network": "Worker に接続できませんでした。変更が反映されたかどうか、もう一度確認してからやり直してください。",
    "stores.title": "店舗", "stores.empty": "店舗はまだありません。最初の店舗を作成してください。", "stores.new": "店舗を追加",
    "stores.id": "店舗 ID", "stores.idHint": "a–z、0–9、- の 1〜32 文字。ランディング URL に使われ、後から変更できません。",
    "stores.name": "店舗名", "stores.nameIn": "店舗名({lang})", "stores.namesHint": "少なくとも 1 言語。",
    "stores.address": "住所", "stores.timezone": "タイムゾーン", "stores.timezoneHint": "IANA のタイムゾーン(例: Asia/Tokyo)。ファネルはこの店舗の日付で集計します。",
    "stores.country": "国", "stores.countryHint": "ISO 3166-1 alpha-2(例: JP)。空欄ならデプロイの JURISDICTION。お得情報を届けられるアプリは国によって異なります。", "stores.offers": "お得情報を届けられるアプリ", "stores.noOffers": "なし(会員証とチャットのみ)", "stores.deadChannel": "{app} は設定されていますが、どの店舗でもお得情報を届けられません。会員証とチャットのみになります。",
    "stores.editing": "店舗 {id} を編集", "stores.creating": "店舗を追加", "stores.poster": "ポスター",
    "poster.title": "{id} のポスター", "poster.campaign": "キャンペーン(任意)", "poster.campaignHint": "a–z、0–9、- の 1〜32 文字。ファネルでポスターを区別できます。",
    "poster.landing": "ランディングページの URL", "poster.preview": "{id} のポスターのプレビュー", "poster.svg": "SVG をダウンロード(印刷用)",
    "poster.png": "PNG をダウンロード", "poster.show": "ポスターを表示",
    "coupons.title": "クーポン", "coupons.empty": "クーポンはまだありません。", "coupons.new": "クーポンを追加",
    "coupons.id": "クーポン ID", "coupons.idHint": "a–z、0–9、- の 1〜16 文字(バーコードに入ります)。後から変更できません。",
    "coupons.titleIn": "タイトル({lang})", "coupons.descriptionIn": "説明({lang}、任意)",
    "coupons.from": "開始日時", "coupons.until": "終了日時(この時刻を含まない)", "coupons.timesHint": "このブラウザのタイムゾーン({zone})です。", "coupons.neverValid": "保存しましたが、終了日時が開始日時より前のため、どの会員にも表示・利用されません。",
    "coupons.stores": "店舗", "coupons.storesHint": "何も選ばなければ全店舗。", "coupons.everyStore": "全店舗",
    "coupons.consent": "マーケティングメッセージに同意した会員だけ", "coupons.window": "有効期間",
    "coupons.requiresConsent": "同意が必要", "coupons.editing": "クーポン {id} を編集", "coupons.creating": "クーポンを追加",
    "coupons.preview": "会員証での表示", "coupons.previewLang": "プレビューの言語",
    "coupons.barcode": "クーポンのバーコード", "coupons.untitled": "(この言語のタイトルはありません)",
    "notices.title": "同意の説明文", "notices.empty": "説明文はまだありません。", "notices.new": "下書きを作成",
    "notices.version": "バージョン", "notices.versionHint": "英数字と . _ - の 1〜32 文字(例: 2026-11)。",
    "notices.status": "状態", "notices.inForce": "適用中", "notices.draft": "下書き", "notices.earlier": "以前の適用版",
    "notices.created": "作成", "notices.activated": "適用開始", "notices.titleIn": "タイトル({lang})", "notices.bodyIn": "本文({lang})",
    "notices.editing": "下書き {version} を編集", "notices.creating": "下書きを作成", "notices.compare": "比較",
    "notices.compareTitle": "下書き {draft} と適用中の版の比較", "notices.current": "適用中: {version}",
    "notices.noCurrent": "適用中の版はまだありません。", "notices.proposed": "下書き: {version}",
    "notices.added": "追加", "notices.removed": "削除", "notices.missing": "(この言語はありません)",
    "notices.activate": "適用する…", "notices.activateTitle": "バージョン {version} を適用しますか?",
    "notices.activateText": "元に戻せません。これ以降の新しい同意はすべてバージョン {version} を参照し、この版は編集できなくなります。すでにいただいた同意は、その時の版のままです。",
    "notices.activateOk": "{version} を適用", "notices.activatedNow": "バージョン {version} を適用しました。",
    "notices.frozen": "適用済みのため変更できません。",
    "funnel.title": "ファネル", "funnel.from": "開始日", "funnel.to": "終了日", "funnel.store": "店舗", "funnel.allStores": "全店舗",
    "funnel.show": "表示", "funnel.csv": "CSV をダウンロード", "funnel.chart": "ファネルのグラフ", "funnel.table": "店舗・日ごと",
    "funnel.day": "日付", "funnel.views": "ページ表示", "funnel.optins": "オプトイン", "funnel.cards": "会員証発行",
    "funnel.redemptions": "クーポン利用", "funnel.withdrawals": "配信停止", "funnel.cardOnly": "うち会員証のみ(お得情報なし)", "funnel.total": "合計", "funnel.noStore": "(店舗なし)",
    "funnel.empty": "この期間のデータはありません。", "funnel.hint": "日付は各店舗の現地の日付です。日付が空欄なら各店舗の今日。",
    "members.title": "会員", "members.number": "会員番号", "members.numberHint": "会員証またはレジに表示される 12 桁。",
    "members.lookup": "検索", "members.notFound": "この番号の会員はいません。", "members.summary": "会員 {number}",
    "members.created": "登録日時", "members.cardIssued": "会員証の発行", "members.favourite": "よく行く店舗",
    "members.lang": "言語", "members.consent": "マーケティングへの同意", "members.granted": "同意あり", "members.notGranted": "同意なし",
    "members.card": "会員証", "members.openCard": "会員証を開く", "members.accounts": "チャットのアカウント",
    "members.alsoKnownAs": "別の ID", "members.linked": "連携", "members.state": "状態",
    "members.history": "同意の履歴", "members.when": "日時", "members.action": "変更", "members.source": "方法",
    "members.notice": "説明文", "members.campaign": "キャンペーン", "members.redemptions": "クーポン利用", "members.coupon": "クーポン",
    "members.register": "レジ", "members.transaction": "取引", "members.posKey": "POSキー", "members.noRedemptions": "利用はありません。",
    "members.receipts": "同意レシートをダウンロード(JSON)", "members.receiptsUnavailable": "レシートは作成できません: 設定 {setting} がありません。",
    "members.export": "開示データ全体をダウンロード(JSON)",
    "members.erase": "この会員を消去…", "members.eraseTitle": "会員 {number} を消去しますか?",
    "members.eraseText": "元に戻せません。チャットの ID は仮名に置き換えられ、会員証は使えなくなり、同意の履歴は仮名の記録としてのみ残ります。確認のため会員番号を入力してください。",
    "members.eraseConfirm": "確認のための会員番号", "members.eraseOk": "消去", "members.erased": "会員 {number} を消去しました。同意の記録 {events} 件を仮名化しました。", "members.erasing": "会員 {number} を消去しました。同意の記録を仮名化しています（これまでに {events} 件）…",
    "state.granted": "同意", "state.withdrawn": "停止", "state.unknown": "不明",
    "keys.title": "POS キー", "keys.store": "店舗", "keys.label": "ラベル(任意)", "keys.labelHint": "例: レジ 1。",
    "keys.create": "キーを作成", "keys.once": "今すぐこのキーをコピーしてください。表示は今回だけです。レジ(/pos)に入力します。",
    "keys.key": "新しい POS キー", "keys.id": "キー ID", "keys.created": "作成", "keys.status": "状態", "keys.active": "有効",
    "keys.revokedAt": "{when} に無効化", "keys.revoke": "無効にする…", "keys.revokeTitle": "キー {id} を無効にしますか?",
    "keys.revokeText": "このキーを使っているレジはすぐに使えなくなります。どのレジが何を処理したかの記録は残ります。",
    "keys.revokeOk": "無効にする", "keys.empty": "この店舗のキーはありません。", "keys.noStores": "先に店舗を作成してください。",
    "feeds.title": "イベント配信", "feeds.url": "受信先 URL", "feeds.urlHint": "https://(localhost なら http://)。すべてのイベントが署名付きで POST されます(Standard Webhooks)。",
    "feeds.add": "受信先を追加", "feeds.once": "今すぐこの署名シークレットをコピーしてください。表示は今回だけです。", "feeds.secret": "署名シークレット",
    "feeds.empty": "受信先はまだありません。", "feeds.status": "状態", "feeds.active": "有効", "feeds.disabled": "無効(410 Gone)",
    "feeds.delivered": "配信済み", "feeds.backlog": "待機中", "feeds.dead": "配信不能", "feeds.lastSuccess": "最後の成功",
    "feeds.lastFailure": "最後の失敗", "feeds.rotate": "シークレットを更新", "feeds.rotated": "{id} の新しいシークレットです。以前のものは {when} まで署名に使われます。",
    "feeds.delete": "削除…", "feeds.deleteTitle": "この受信先を削除しますか?", "feeds.deleteText": "{url} にはもう何も配信されません。待機中の配信と配信不能分は破棄されます。",
    "feeds.deleteOk": "削除", "feeds.deadLetters": "配信不能", "feeds.deadOf": "{url} の配信不能分", "feeds.deadEmpty": "配信不能分はありません。",
    "feeds.event": "イベント", "feeds.time": "イベント日時", "feeds.attempts": "試行回数", "feeds.reason": "最後の失敗", "feeds.deadAt": "断念",
    "feeds.replayDead": "配信不能分を再送", "feeds.replayed": "{queued} 件を再送待ちにしました。残りの配信不能分は {remaining} 件です。",
    "feeds.replayRange": "期間を指定して再送", "feeds.replayFrom": "開始(UTC の日付)", "feeds.replayTo": "終了(UTC の日付、その日を含む)",
    "feeds.replayOk": "再送", "feeds.replayQueued": "{from} から {to} のイベントを再送待ちにしました。", "feeds.secrets": "有効なシークレット",
  },
  fr: {
    title: "Console d’administration", skip: "Aller au contenu", language: "Langue", signOut: "Se déconnecter",
    sections: "Rubriques", save: "Enregistrer", cancel: "Annuler", edit: "Modifier", close: "Fermer",
    copy: "Copier", copied: "Copié.", loading: "Chargement…", saved: "Enregistré.", yes: "Oui", no: "Non",
    none: "—", actions: "Actions", new: "Nouveau", refresh: "Actualiser", all: "Tous",
    "signin.title": "Connexion", "signin.token": "Jeton d’administration",
    "signin.hint": "L’ADMIN_TOKEN de ce Worker. Il n’est gardé que dans cet onglet, jusqu’à la déconnexion ou la fermeture de l’onglet.",
    "signin.submit": "Se connecter", "signin.wrong": "Ce jeton n’a pas été accepté. Rien n’a été modifié. Vérifiez-le et réessayez.",
    "signin.expired": "Le jeton d’administration n’est plus accepté (il a peut-être changé). Reconnectez-vous ; rien n’a été modifié.",
    "signin.network": "Le Worker est injoignable. Vérifiez la connexion et réessayez.",
    "nav.stores": "Magasins", "nav.coupons": "Coupons", "nav.notices": "Notices de consentement", "nav.funnel": "Entonnoir",
    "nav.members": "Membres", "nav.keys": "Clés de caisse", "nav.feeds": "Flux d’événements",
    "lang.ja": "japonais", "lang.en": "anglais", "lang.fr": "français",
    "error.generic": "La requête a échoué", "error.network": "Le Worker est injoignable. Vérifiez avant de réessayer : la modification a pu être faite ou non.",
    "stores.title": "Magasins", "stores.empty": "Aucun magasin pour l’instant. Créez le premier.", "stores.new": "Nouveau magasin",
    "stores.id": "Identifiant du magasin", "stores.idHint": "1 à 32 caractères a–z, 0–9 et -, dans l’URL de la page d’accueil. Il ne peut plus changer ensuite.",
    "stores.name": "Nom", "stores.nameIn": "Nom ({lang})", "stores.namesHint": "Au moins une langue.",
    "stores.address": "Adresse", "stores.timezone": "Fuseau horaire", "stores.timezoneHint": "Un fuseau IANA, p. ex. Europe/Paris. L’entonnoir compte les jours du magasin dans ce fuseau.",
    "stores.country": "Pays", "stores.countryHint": "ISO 3166-1 alpha-2, par ex. FR. Vide : le JURISDICTION du déploiement. Les applications qui peuvent porter les offres en dépendent.", "stores.offers": "Offres sur", "stores.noOffers": "aucune (carte et discussion seulement)", "stores.deadChannel": "{app} est configuré mais ne peut porter d’offres dans aucun de ces magasins : ses clients n’ont que leur carte et une discussion, jamais d’offres.",
    "stores.editing": "Modifier le magasin {id}", "stores.creating": "Nouveau magasin", "stores.poster": "Affiche",
    "poster.title": "Affiche de {id}", "poster.campaign": "Campagne (facultatif)", "poster.campaignHint": "1 à 32 caractères a–z, 0–9 et -. Distingue les affiches dans l’entonnoir.",
    "poster.landing": "URL de la page d’accueil", "poster.preview": "Aperçu de l’affiche de {id}", "poster.svg": "Télécharger le SVG (pour l’imprimeur)",
    "poster.png": "Télécharger le PNG", "poster.show": "Afficher l’affiche",
    "coupons.title": "Coupons", "coupons.empty": "Aucun coupon pour l’instant.", "coupons.new": "Nouveau coupon",
    "coupons.id": "Identifiant du coupon", "coupons.idHint": "1 à 16 caractères a–z, 0–9 et - (il voyage dans les codes-barres). Il ne peut plus changer ensuite.",
    "coupons.titleIn": "Titre ({lang})", "coupons.descriptionIn": "Description ({lang}, facultatif)",
    "coupons.from": "Valable à partir du", "coupons.until": "Valable jusqu’au (exclu)", "coupons.timesHint": "Dans le fuseau de ce navigateur ({zone}).", "coupons.neverValid": "Enregistré, mais il finit avant de commencer : aucun membre ne peut le voir ni l’utiliser.",
    "coupons.stores": "Magasins", "coupons.storesHint": "Aucun coché : tous les magasins.", "coupons.everyStore": "Tous les magasins",
    "coupons.consent": "Seulement pour les membres qui acceptent les messages marketing", "coupons.window": "Validité",
    "coupons.requiresConsent": "Consentement requis", "coupons.editing": "Modifier le coupon {id}", "coupons.creating": "Nouveau coupon",
    "coupons.preview": "Aperçu sur la carte d’un membre", "coupons.previewLang": "Langue de l’aperçu",
    "coupons.barcode": "Code-barres du coupon", "coupons.untitled": "(pas de titre dans cette langue)",
    "notices.title": "Notices de consentement", "notices.empty": "Aucune notice pour l’instant.", "notices.new": "Nouveau brouillon",
    "notices.version": "Version", "notices.versionHint": "1 à 32 lettres, chiffres, . _ et -, p. ex. 2026-11.",
    "notices.status": "État", "notices.inForce": "En vigueur", "notices.draft": "Brouillon", "notices.earlier": "Ancienne version",
    "notices.created": "Créée", "notices.activated": "En vigueur depuis", "notices.titleIn": "Titre ({lang})", "notices.bodyIn": "Texte ({lang})",
    "notices.editing": "Modifier le brouillon {version}", "notices.creating": "Nouveau brouillon", "notices.compare": "Comparer",
    "notices.compareTitle": "Le brouillon {draft} face à la version en vigueur", "notices.current": "En vigueur : {version}",
    "notices.noCurrent": "Aucune version n’est encore en vigueur.", "notices.proposed": "Brouillon : {version}",
    "notices.added": "ajouté", "notices.removed": "supprimé", "notices.missing": "(absent dans cette langue)",
    "notices.activate": "Mettre en vigueur…", "notices.activateTitle": "Mettre en vigueur la version {version} ?",
    "notices.activateText": "C’est irréversible. Dès maintenant, chaque nouveau consentement renvoie à la version {version}, qui ne peut plus être modifiée. Les consentements déjà donnés gardent leur version.",
    "notices.activateOk": "Mettre {version} en vigueur", "notices.activatedNow": "La version {version} est en vigueur.",
    "notices.frozen": "En vigueur ou l’a été : figée.",
    "funnel.title": "Entonnoir", "funnel.from": "Du", "funnel.to": "Au", "funnel.store": "Magasin", "funnel.allStores": "Tous les magasins",
    "funnel.show": "Afficher", "funnel.csv": "Télécharger le CSV", "funnel.chart": "Graphique de l’entonnoir", "funnel.table": "Par magasin et par jour",
    "funnel.day": "Jour", "funnel.views": "Vues de la page", "funnel.optins": "Inscriptions", "funnel.cards": "Cartes émises",
    "funnel.redemptions": "Coupons utilisés", "funnel.withdrawals": "Désinscriptions", "funnel.cardOnly": "Dont carte seule (sans offres)", "funnel.total": "Total", "funnel.noStore": "(sans magasin)",
    "funnel.empty": "Aucune ligne sur cette période.", "funnel.hint": "Les jours sont ceux du calendrier de chaque magasin. Dates vides : le jour même de chaque magasin.",
    "members.title": "Membres", "members.number": "Numéro de membre", "members.numberHint": "12 chiffres, sur la carte ou à la caisse.",
    "members.lookup": "Rechercher", "members.notFound": "Aucun membre n’a ce numéro.", "members.summary": "Membre {number}",
    "members.created": "Membre depuis", "members.cardIssued": "Carte émise", "members.favourite": "Magasin préféré",
    "members.lang": "Langue", "members.consent": "Consentement marketing", "members.granted": "Donné", "members.notGranted": "Non donné",
    "members.card": "Carte", "members.openCard": "Ouvrir la carte du membre", "members.accounts": "Comptes de messagerie",
    "members.alsoKnownAs": "Autres identifiants", "members.linked": "Lié", "members.state": "État",
    "members.history": "Historique du consentement", "members.when": "Date", "members.action": "Changement", "members.source": "Comment",
    "members.notice": "Notice", "members.campaign": "Campagne", "members.redemptions": "Coupons utilisés", "members.coupon": "Coupon",
    "members.register": "Caisse", "members.transaction": "Transaction", "members.posKey": "Clé de caisse", "members.noRedemptions": "Aucun coupon utilisé.",
    "members.receipts": "Télécharger les reçus de consentement (JSON)", "members.receiptsUnavailable": "Reçus indisponibles : le réglage {setting} manque.",
    "members.export": "Télécharger toutes les données (JSON)",
    "members.erase": "Effacer ce membre…", "members.eraseTitle": "Effacer le membre {number} ?",
    "members.eraseText": "C’est irréversible. Ses identifiants de messagerie sont remplacés par des pseudonymes, sa carte cesse de fonctionner et l’historique du consentement n’est gardé que comme preuve pseudonyme. Saisissez le numéro de membre pour confirmer.",
    "members.eraseConfirm": "Numéro de membre pour confirmer", "members.eraseOk": "Effacer", "members.erased": "Le membre {number} a été effacé : {events} enregistrements de consentement pseudonymisés.", "members.erasing": "Le membre {number} est effacé ; ses enregistrements de consentement sont en cours de pseudonymisation : {events} jusqu’ici…",
    "state.granted": "donné", "state.withdrawn": "retiré", "state.unknown": "inconnu",
    "keys.title": "Clés de caisse", "keys.store": "Magasin", "keys.label": "Libellé (facultatif)", "keys.labelHint": "Par exemple la caisse, Caisse 1.",
    "keys.create": "Créer une clé", "keys.once": "Copiez cette clé maintenant : elle n’est affichée qu’une fois. Saisissez-la sur la caisse (/pos).",
    "keys.key": "Nouvelle clé de caisse", "keys.id": "Identifiant", "keys.created": "Créée", "keys.status": "État", "keys.active": "Active",
    "keys.revokedAt": "Révoquée le {when}", "keys.revoke": "Révoquer…", "keys.revokeTitle": "Révoquer la clé {id} ?",
    "keys.revokeText": "Les caisses qui l’utilisent cessent aussitôt de fonctionner. L’enregistrement reste, comme preuve de quelle caisse a validé quoi.",
    "keys.revokeOk": "Révoquer", "keys.empty": "Aucune clé pour ce magasin.", "keys.noStores": "Créez d’abord un magasin.",
    "feeds.title": "Flux d’événements", "feeds.url": "URL du destinataire", "feeds.urlHint": "https:// (ou http:// vers localhost). Chaque événement y est envoyé, signé (Standard Webhooks).",
    "feeds.add": "Ajouter le destinataire", "feeds.once": "Copiez ce secret de signature maintenant : il n’est affiché qu’une fois.", "feeds.secret": "Secret de signature",
    "feeds.empty": "Aucun destinataire pour l’instant.", "feeds.status": "État", "feeds.active": "Actif", "feeds.disabled": "Désactivé (410 Gone)",
    "feeds.delivered": "Livrés", "feeds.backlog": "En attente", "feeds.dead": "Lettres mortes", "feeds.lastSuccess": "Dernier succès",
    "feeds.lastFailure": "Dernier échec", "feeds.rotate": "Changer le secret", "feeds.rotated": "Nouveau secret pour {id} ; l’ancien signe jusqu’au {when}.",
    "feeds.delete": "Supprimer…", "feeds.deleteTitle": "Supprimer ce destinataire ?", "feeds.deleteText": "Plus rien n’est envoyé à {url} ; ses envois en attente et ses lettres mortes sont abandonnés.",
    "feeds.deleteOk": "Supprimer", "feeds.deadLetters": "Lettres mortes", "feeds.deadOf": "Lettres mortes de {url}", "feeds.deadEmpty": "Aucune lettre morte.",
    "feeds.event": "Événement", "feeds.time": "Date de l’événement", "feeds.attempts": "Tentatives", "feeds.reason": "Dernier échec", "feeds.deadAt": "Abandonné le",
    "feeds.replayDead": "Renvoyer les lettres mortes", "feeds.replayed": "{queued} remis en file ; {remaining} lettres mortes restantes.",
    "feeds.replayRange": "Renvoyer une période", "feeds.replayFrom": "Du (jour UTC)", "feeds.replayTo": "Au (jour UTC, inclus)",
    "feeds.replayOk": "Renvoyer", "feeds.replayQueued": "Événements du {from} au {to} remis en file.", "feeds.secrets": "Secrets en vigueur",
  },
};

// What a member's card says around a coupon (src/pages/card.rs), for the coupon preview.
const CARD_WORDS = {
  ja: { coupons: "クーポン", until: "有効期限" },
  en: { coupons: "Your coupons", until: "Valid until" },
  fr: { coupons: "Vos coupons", until: "Valable jusqu’au" },
};

const SECTIONS = ["stores", "coupons", "notices", "funnel", "members", "keys", "feeds"];

let lang = "en";
const $ = (id) => document.getElementById(id);

function t(key, vars = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** An element: `attrs` are properties (`class`, `for`, `data-*` and `aria-*` as attributes),
 *  children are nodes or strings (as text), null and false skipped. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "for") node.htmlFor = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name.startsWith("data-") || name.startsWith("aria-") || name === "role" || name === "list") node.setAttribute(name, value === true ? "" : value);
    else node[name] = value;
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let fieldCount = 0;
/** A labelled field: label, control, hint (described-by). */
function field(label, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const parts = [el("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("p", { class: "hint", id: hintId }, hint));
  }
  return el("div", { class: "field" }, parts);
}

function table(caption, headers, rows) {
  return el("div", { class: "table-wrap", tabIndex: 0, role: "region", "aria-label": caption },
    el("table", {},
      el("caption", { class: "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
}

function announce(text) {
  const status = $("status");
  status.textContent = "";
  setTimeout(() => { status.textContent = text; }, 50);
}

/** A message box in `container`: ok / error / info, replacing the previous one. */
function message(container, kind, text) {
  container.querySelector(":scope > .message")?.remove();
  const box = el("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  // Under the container's heading, if it starts with one.
  const first = container.firstElementChild;
  if (first && /^H[1-3]$/.test(first.tagName)) first.after(box);
  else container.prepend(box);
  return box;
}

/** One formatter per language (a table has a date in every row). */
const dateFormats = {};
function when(ms) {
  if (ms === null || ms === undefined) return t("none");
  dateFormats[lang] ??= new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  return dateFormats[lang].format(new Date(ms));
}
const whenIso = (iso) => (iso ? when(Date.parse(iso)) : t("none"));

function localized(map) {
  if (!map) return "";
  return map[lang] ?? map.en ?? map.ja ?? map.fr ?? Object.values(map)[0] ?? "";
}

// ---- The API ----

class ApiError extends Error {
  constructor(status, code, text) {
    super(text);
    this.status = status;
    this.code = code;
  }
}

/** Web storage, which a browser may block (then the token lives in this page only). */
let tokenInPage = null;
function token() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return tokenInPage; }
}
function keepToken(value) {
  tokenInPage = value;
  try {
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch { /* blocked: kept in the page only */ }
}

/** One call of the admin API. JSON in and out unless `as` says "blob" or "text". A 401 signs
 *  out (the token changed); other errors throw an ApiError with the API's own code and message. */
async function api(method, path, { body, as = "json", tokenOverride } = {}) {
  const headers = { authorization: `Bearer ${tokenOverride ?? token()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let text = `${t("error.generic")} (HTTP ${response.status}).`;
    try {
      const json = await response.json();
      code = json.error?.code ?? code;
      text = `${json.error?.message ?? text} (${code})`;
    } catch { /* not JSON */ }
    if (response.status === 401 && tokenOverride === undefined) {
      signOut(t("signin.expired"));
    }
    throw new ApiError(response.status, code, text);
  }
  if (response.status === 204) return null;
  if (as === "blob") return response.blob();
  if (as === "text") return response.text();
  return response.json();
}

/** Runs `action`; an error is shown in `container` (never thrown further). */
async function guarded(container, action) {
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    message(container, "error", e.message || String(e));
    return undefined;
  }
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, class: "visually-hidden" }, filename);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function copyButton(getText) {
  return el("button", {
    type: "button", class: "secondary",
    onclick: async () => {
      try { await navigator.clipboard.writeText(getText()); announce(t("copied")); } catch { /* no permission: the text is selectable */ }
    },
  }, t("copy"));
}

/** A secret shown once: a highlighted box with the value and a copy button. */
function shownOnce(label, text, value) {
  const id = `once${++fieldCount}`;
  return el("div", { class: "once", role: "status" },
    el("p", { class: "once-text" }, text),
    el("label", { for: id }, label),
    el("div", { class: "row" },
      el("input", { id, value, readOnly: true, class: "mono wide", spellcheck: false, "data-secret": "" }),
      copyButton(() => value)));
}

// ---- The confirmation dialog ----

/** Asks before something irreversible: resolves true only on the confirm button. With
 *  `typed`, the button stays disabled until that exact text is typed. */
function confirmDialog({ title, text, ok, typed, typedLabel }) {
  const dialog = $("dialog");
  $("dialog-title").textContent = title;
  const body = $("dialog-body");
  body.replaceChildren(el("p", {}, text));
  const okButton = $("dialog-ok");
  okButton.textContent = ok;
  okButton.className = "danger";
  $("dialog-cancel").textContent = t("cancel");
  let input = null;
  if (typed) {
    input = el("input", { inputMode: "numeric", autocomplete: "off", class: "mono" });
    body.append(field(typedLabel, input));
    okButton.disabled = true;
    input.addEventListener("input", () => { okButton.disabled = input.value.trim() !== typed; });
  } else {
    okButton.disabled = false;
  }
  return new Promise((resolve) => {
    const finish = (answer) => {
      okButton.onclick = null;
      $("dialog-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    okButton.onclick = () => finish(true);
    $("dialog-cancel").onclick = () => finish(false);
    dialog.onclose = () => finish(false);
    dialog.showModal();
    (input ?? $("dialog-cancel")).focus();
  });
}

// ---- Sign-in, navigation, language ----

function setLang(next) {
  lang = LANGS.includes(next) ? next : "en";
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* blocked: not kept */ }
  document.documentElement.lang = lang;
  document.title = t("title");
  $("brand").textContent = t("title");
  $("skip").textContent = t("skip");
  $("lang-label").textContent = t("language");
  $("lang").value = lang;
  $("signout").textContent = t("signOut");
  $("nav").setAttribute("aria-label", t("sections"));
}

function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGS.includes(asked)) return asked;
  let kept = null;
  try { kept = localStorage.getItem(LANG_KEY); } catch { /* blocked */ }
  if (LANGS.includes(kept)) return kept;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

function signOut(why) {
  keepToken(null);
  showSignIn(why);
}

function showSignIn(why) {
  $("nav").hidden = true;
  $("signout").hidden = true;
  const input = el("input", { type: "password", autocomplete: "off", spellcheck: false, required: true, class: "wide" });
  const form = el("form", { class: "panel signin", "aria-labelledby": "signin-title" },
    el("h1", { id: "signin-title" }, t("signin.title")),
    field(t("signin.token"), input, t("signin.hint")),
    el("button", { type: "submit" }, t("signin.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) return;
    try {
      // The cheapest admin call: it answers 200 only to the right token, and changes nothing.
      await api("GET", "/api/admin/config", { tokenOverride: candidate });
    } catch (e) {
      message(form, "error", e.status === 401 ? t("signin.wrong") : e.status === 0 ? t("signin.network") : e.message);
      input.select();
      return;
    }
    keepToken(candidate);
    showApp();
  });
  $("main").replaceChildren(form);
  if (why) message(form, "error", why);
  input.focus();
}

function currentSection() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0];
  return SECTIONS.includes(name) ? name : "stores";
}

function showApp() {
  $("signout").hidden = false;
  const nav = $("nav");
  nav.hidden = false;
  const section = currentSection();
  nav.replaceChildren(el("ul", {}, SECTIONS.map((name) =>
    el("li", {}, el("a", { href: `#/${name}`, "aria-current": name === section ? "page" : null }, t(`nav.${name}`))))));
  // Each view renders into its own element: a view still loading when the person moves on
  // fills a detached element, never the next view.
  const view = el("div", { class: "view" });
  $("main").replaceChildren(view);
  const render = VIEWS[section];
  render(view).catch((e) => message(view, "error", e.message || String(e)));
}

/** Brings a new panel into view and moves the focus to its heading. */
function focusPanel(box) {
  const h = box.querySelector("h2");
  if (!h) return;
  h.tabIndex = -1;
  h.focus();
  h.scrollIntoView({ block: "start" });
}

/** After an action changed the view: focus its heading, and say what happened. */
function done(text) {
  $("main").querySelector("h1")?.focus();
  if (text) announce(text);
}

function heading(main, text) {
  const h1 = el("h1", { tabIndex: -1 }, text);
  main.append(h1);
  return h1;
}

// ---- Stores ----

let storesCache = [];
async function loadStores() {
  storesCache = (await api("GET", "/api/admin/stores")).stores;
  return storesCache;
}

function storeName(store) {
  return localized(store.names) || store.id;
}

async function viewStores(main) {
  heading(main, t("stores.title"));
  const area = el("div", { class: "stack" });
  const listBox = el("section", { class: "panel", "aria-label": t("stores.title") });
  const editor = el("div");
  const poster = el("div");
  main.append(area);
  area.append(listBox, editor, poster);
  const newButton = el("button", { type: "button", onclick: () => storeEditor(editor, null, refresh) }, t("stores.new"));

  async function refresh() {
    const stores = await guarded(listBox, loadStores);
    if (!stores) return;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (stores.length === 0) {
      listBox.append(el("p", {}, t("stores.empty")));
      return;
    }
    // Which apps carry offers in each store (the platforms' rules for its country), and a
    // word for a configured app that carries them in none.
    const offersIn = (s) => CHANNELS.filter((c) => s.marketing_deliverable?.[c]);
    const settings = (await guarded(listBox, () => api("GET", "/api/admin/config")))?.settings ?? {};
    for (const c of CHANNELS) {
      if (settings[CHANNEL_SETTINGS[c]] === "set" && !stores.some((s) => s.marketing_deliverable?.[c])) {
        listBox.append(el("p", { class: "message warning", role: "status", "data-dead-channel": c }, t("stores.deadChannel", { app: CHANNEL_NAMES[c] })));
      }
    }
    listBox.append(table(t("stores.title"), [t("stores.id"), t("stores.name"), t("stores.country"), t("stores.offers"), t("stores.timezone"), t("stores.address"), t("actions")],
      stores.map((s) => el("tr", { "data-store": s.id },
        el("td", { class: "mono" }, s.id),
        el("td", {}, LANGS.filter((l) => s.names[l]).map((l) => el("span", { lang: l, class: "name" }, s.names[l]))),
        el("td", { class: "mono" }, s.country ?? "—"),
        el("td", { "data-offers": offersIn(s).join(",") }, offersIn(s).map((c) => CHANNEL_NAMES[c]).join(", ") || t("stores.noOffers")),
        el("td", {}, s.timezone),
        el("td", {}, s.address),
        el("td", { class: "buttons" },
          el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${s.id}`, onclick: () => storeEditor(editor, s, refresh) }, t("edit")),
          el("button", { type: "button", class: "secondary", "aria-label": `${t("stores.poster")} ${s.id}`, onclick: () => posterPanel(poster, s) }, t("stores.poster")))))));
  }
  await refresh();
}

function storeEditor(container, store, refreshed) {
  const id = el("input", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", value: store?.id ?? "", readOnly: !!store, name: "store-id" });
  const names = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 80, value: store?.names?.[l] ?? "", lang: l, name: `name-${l}` })]));
  const address = el("input", { required: true, maxLength: 200, value: store?.address ?? "", class: "wide", name: "address" });
  const zones = (Intl.supportedValuesOf?.("timeZone") ?? []).concat(["UTC"]);
  const listId = `zones${++fieldCount}`;
  const zone = el("input", { required: true, maxLength: 64, value: store?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, list: listId, autocomplete: "off", spellcheck: false, name: "timezone" });
  // The store's own country only (an empty field keeps JURISDICTION's).
  const country = el("input", { maxLength: 2, pattern: "[A-Za-z]{2}", value: store?.own_country ?? "", autocomplete: "off", spellcheck: false, class: "mono", name: "country" });
  const title = store ? t("stores.editing", { id: store.id }) : t("stores.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    field(t("stores.id"), id, store ? null : t("stores.idHint")),
    el("fieldset", {}, el("legend", {}, `${t("stores.name")} — ${t("stores.namesHint")}`),
      LANGS.map((l) => field(t("stores.nameIn", { lang: t(`lang.${l}`) }), names[l]))),
    field(t("stores.address"), address),
    field(t("stores.timezone"), zone, t("stores.timezoneHint")),
    field(t("stores.country"), country, t("stores.countryHint")),
    el("datalist", { id: listId }, zones.map((z) => el("option", { value: z }))),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      names: Object.fromEntries(LANGS.filter((l) => names[l].value.trim()).map((l) => [l, names[l].value])),
      address: address.value,
      timezone: zone.value.trim(),
      country: country.value.trim() ? country.value.trim().toUpperCase() : null,
    };
    const saved = await guarded(form, () => api("PUT", `/api/admin/stores/${encodeURIComponent(id.value.trim())}`, { body }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    done(t("saved"));
  });
  container.replaceChildren(form);
  (store ? names[lang] : id).focus();
}

function posterPanel(container, store) {
  const campaign = el("input", { pattern: "[a-z0-9][a-z0-9\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", name: "campaign" });
  const landing = el("input", { readOnly: true, class: "mono wide", name: "landing-url" });
  const preview = el("img", { class: "poster", alt: t("poster.preview", { id: store.id }) });
  const box = el("section", { class: "panel", "aria-label": t("poster.title", { id: store.id }) });
  let previewUrl = null;
  const query = () => {
    const c = campaign.value.trim();
    return c ? `?c=${encodeURIComponent(c)}` : "";
  };
  // The API's URL (PUBLIC_BASE_URL, the one the poster's QR code carries); this origin without it.
  const updateLanding = () => { landing.value = `${store.landing_url ?? `${location.origin}/s/${store.id}`}${query()}`; };
  const base = `/api/admin/stores/${encodeURIComponent(store.id)}/poster`;
  async function show() {
    if (!campaign.checkValidity()) { campaign.reportValidity(); return; }
    const blob = await guarded(box, () => api("GET", `${base}.svg${query()}`, { as: "blob" }));
    if (!blob) return;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    preview.src = previewUrl;
  }
  async function save(format) {
    if (!campaign.checkValidity()) { campaign.reportValidity(); return; }
    const blob = await guarded(box, () => api("GET", `${base}.${format}${query()}`, { as: "blob" }));
    const c = campaign.value.trim();
    if (blob) download(blob, `poster-${store.id}${c ? `-${c}` : ""}.${format}`);
  }
  campaign.addEventListener("input", updateLanding);
  campaign.addEventListener("change", show);
  updateLanding();
  box.append(
    el("h2", {}, t("poster.title", { id: store.id })),
    field(t("poster.campaign"), campaign, t("poster.campaignHint")),
    field(t("poster.landing"), landing),
    el("div", { class: "row" }, copyButton(() => landing.value)),
    el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", onclick: show }, t("poster.show")),
      el("button", { type: "button", onclick: () => save("svg") }, t("poster.svg")),
      el("button", { type: "button", onclick: () => save("png") }, t("poster.png"))),
    el("div", { class: "poster-frame" }, preview));
  container.replaceChildren(box);
  show();
  focusPanel(box);
}

// ---- Coupons ----

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const fromLocalInput = (value) => new Date(value).toISOString();

async function viewCoupons(main) {
  heading(main, t("coupons.title"));
  const listBox = el("section", { class: "panel", "aria-label": t("coupons.title") });
  const editor = el("div");
  main.append(el("div", { class: "stack" }, listBox, editor));
  await guarded(listBox, loadStores);
  const newButton = el("button", { type: "button", onclick: () => couponEditor(editor, null, refresh) }, t("coupons.new"));
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/coupons"));
    if (!answer) return;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (answer.coupons.length === 0) {
      listBox.append(el("p", {}, t("coupons.empty")));
      return;
    }
    listBox.append(table(t("coupons.title"), [t("coupons.id"), t("coupons.titleIn", { lang: t(`lang.${lang}`) }), t("coupons.window"), t("coupons.stores"), t("coupons.requiresConsent"), t("actions")],
      answer.coupons.map((c) => el("tr", { "data-coupon": c.id },
        el("td", { class: "mono" }, c.id),
        el("td", {}, localized(c.title)),
        el("td", {}, `${whenIso(c.valid_from)} – ${whenIso(c.valid_until)}`),
        el("td", {}, c.stores?.length ? c.stores.join(", ") : t("coupons.everyStore")),
        el("td", {}, c.requires_consent ? t("yes") : t("no")),
        el("td", { class: "buttons" }, el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${c.id}`, onclick: () => couponEditor(editor, c, refresh) }, t("edit")))))));
  }
  await refresh();
}

function couponEditor(container, coupon, refreshed) {
  const id = el("input", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,15}", autocomplete: "off", spellcheck: false, class: "mono", value: coupon?.id ?? "", readOnly: !!coupon, name: "coupon-id" });
  const titles = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 80, value: coupon?.title?.[l] ?? "", lang: l, class: "wide", name: `title-${l}` })]));
  const descriptions = Object.fromEntries(LANGS.map((l) => [l, el("textarea", { maxLength: 500, rows: 2, value: coupon?.description?.[l] ?? "", lang: l, name: `description-${l}` })]));
  const now = new Date();
  const inAMonth = new Date(now.getTime() + 30 * 86_400_000);
  const from = el("input", { type: "datetime-local", step: 1, required: true, value: toLocalInput(coupon?.valid_from ?? now.toISOString()), name: "valid-from" });
  const until = el("input", { type: "datetime-local", step: 1, required: true, value: toLocalInput(coupon?.valid_until ?? inAMonth.toISOString()), name: "valid-until" });
  const chosen = new Set(coupon?.stores ?? []);
  // A store the list lacks (it failed to load, or was just made elsewhere) stays chosen.
  const listed = storesCache.concat([...chosen].filter((c) => !storesCache.some((s) => s.id === c)).map((c) => ({ id: c, names: {} })));
  const storeBoxes = listed.map((s) => {
    const box = el("input", { type: "checkbox", value: s.id, checked: chosen.has(s.id), id: `cs${++fieldCount}` });
    return el("div", { class: "check" }, box, el("label", { for: box.id }, `${storeName(s)} (${s.id})`));
  });
  const consent = el("input", { type: "checkbox", checked: coupon ? coupon.requires_consent : true, id: `cc${++fieldCount}` });
  const previewLang = el("select", { name: "preview-lang" }, LANGS.map((l) => el("option", { value: l, selected: l === lang }, t(`lang.${l}`))));
  const preview = el("div", { class: "preview" });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function renderPreview() {
    const l = previewLang.value;
    const words = CARD_WORDS[l];
    // As the card picks (src/coupons.rs): the language asked, else the first it has (BTreeMap
    // order: en, fr, ja), and the coupon id for a title in none.
    const pickLike = (inputs) => [l, "en", "fr", "ja"].map((k) => inputs[k].value.trim()).find((v) => v) ?? "";
    const title = pickLike(titles) || id.value.trim();
    const description = pickLike(descriptions);
    let untilDay = "";
    if (until.value) {
      // The card shows the last valid day (UTC), as src/pages/card.rs does.
      const last = new Date(new Date(until.value).getTime() - 1);
      untilDay = Number.isNaN(last.getTime()) || Math.abs(last.getFullYear()) > 9999 ? "" : last.toISOString().slice(0, 10);
    }
    preview.replaceChildren(
      el("div", { class: "card-mock", lang: l },
        el("p", { class: "card-mock-heading" }, words.coupons),
        el("div", { class: "coupon-mock" },
          el("p", { class: "coupon-mock-title" }, title || t("coupons.untitled")),
          description ? el("p", { class: "coupon-mock-description" }, description) : null,
          el("p", { class: "coupon-mock-meta" }, `${words.until} ${untilDay}`),
          el("div", { class: "barcode-mock", role: "img", "aria-label": t("coupons.barcode") }))));
  }

  const title = coupon ? t("coupons.editing", { id: coupon.id }) : t("coupons.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    el("div", { class: "split" },
      el("div", {},
        field(t("coupons.id"), id, coupon ? null : t("coupons.idHint")),
        LANGS.map((l) => field(t("coupons.titleIn", { lang: t(`lang.${l}`) }), titles[l])),
        LANGS.map((l) => field(t("coupons.descriptionIn", { lang: t(`lang.${l}`) }), descriptions[l])),
        el("fieldset", {}, el("legend", {}, t("coupons.window")),
          el("p", { class: "hint" }, t("coupons.timesHint", { zone })),
          field(t("coupons.from"), from), field(t("coupons.until"), until)),
        el("fieldset", {}, el("legend", {}, `${t("coupons.stores")} — ${t("coupons.storesHint")}`), storeBoxes),
        el("div", { class: "check" }, consent, el("label", { for: consent.id }, t("coupons.consent")))),
      el("aside", { class: "preview-side", "aria-label": t("coupons.preview") },
        el("h3", {}, t("coupons.preview")),
        field(t("coupons.previewLang"), previewLang),
        preview)),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("input", renderPreview);
  form.addEventListener("change", renderPreview);
  renderPreview();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const pick = (inputs) => Object.fromEntries(LANGS.filter((l) => inputs[l].value.trim()).map((l) => [l, inputs[l].value]));
    const description = pick(descriptions);
    const stores = storeBoxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    const saved = await guarded(form, () => api("PUT", `/api/admin/coupons/${encodeURIComponent(id.value.trim())}`, {
      body: {
        title: pick(titles),
        description: Object.keys(description).length ? description : null,
        valid_from: fromLocalInput(from.value),
        valid_until: fromLocalInput(until.value),
        stores: stores.length ? stores : null,
        requires_consent: consent.checked,
      },
    }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    // An empty window is kept as sent (that is how a scheduled coupon is cancelled): say so.
    const neverValid = (saved.warnings || []).some((w) => w.code === "never_valid");
    done(neverValid ? t("coupons.neverValid") : t("saved"));
  });
  container.replaceChildren(form);
  (coupon ? titles[lang] : id).focus();
}

// ---- Consent notices ----

async function viewNotices(main) {
  heading(main, t("notices.title"));
  const listBox = el("section", { class: "panel", "aria-label": t("notices.title") });
  const work = el("div");
  main.append(el("div", { class: "stack" }, listBox, work));
  const newButton = el("button", { type: "button", onclick: () => noticeEditor(work, null, refresh) }, t("notices.new"));
  let state = { notices: [], active: null };
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/notices"));
    if (!answer) return;
    state = answer;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (answer.notices.length === 0) {
      listBox.append(el("p", {}, t("notices.empty")));
      return;
    }
    const active = answer.notices.find((n) => n.version === answer.active) ?? null;
    listBox.append(table(t("notices.title"), [t("notices.version"), t("notices.status"), t("notices.created"), t("notices.activated"), t("actions")],
      answer.notices.map((n) => {
        const status = n.version === answer.active ? "inForce" : n.activated_at_ms ? "earlier" : "draft";
        return el("tr", { "data-notice": n.version },
          el("td", { class: "mono" }, n.version),
          el("td", {}, el("span", { class: `chip ${status}` }, t(`notices.${status}`))),
          el("td", {}, when(n.created_at_ms)),
          el("td", {}, n.activated_at_ms ? when(n.activated_at_ms) : t("none")),
          el("td", { class: "buttons" },
            status === "draft"
              ? el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${n.version}`, onclick: () => noticeEditor(work, n, refresh) }, t("edit"))
              : el("span", { class: "hint" }, t("notices.frozen")),
            status === "draft"
              ? el("button", { type: "button", class: "secondary", "aria-label": `${t("notices.compare")} ${n.version}`, onclick: () => compare(work, n, active, refresh) }, t("notices.compare"))
              : null));
      })));
  }
  await refresh();
}

function noticeEditor(container, notice, refreshed) {
  const version = el("input", { required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", value: notice?.version ?? "", readOnly: !!notice, name: "notice-version" });
  const titles = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 120, value: notice?.texts?.[l]?.title ?? "", lang: l, class: "wide", name: `notice-title-${l}` })]));
  const bodies = Object.fromEntries(LANGS.map((l) => [l, el("textarea", { maxLength: 20000, rows: 8, value: notice?.texts?.[l]?.body ?? "", lang: l, name: `notice-body-${l}` })]));
  const title = notice ? t("notices.editing", { version: notice.version }) : t("notices.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    field(t("notices.version"), version, notice ? null : t("notices.versionHint")),
    LANGS.map((l) => el("fieldset", {}, el("legend", {}, t(`lang.${l}`)),
      field(t("notices.titleIn", { lang: t(`lang.${l}`) }), titles[l]),
      field(t("notices.bodyIn", { lang: t(`lang.${l}`) }), bodies[l]))),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = Object.fromEntries(LANGS.filter((l) => titles[l].value.trim() || bodies[l].value.trim())
      .map((l) => [l, { title: titles[l].value, body: bodies[l].value }]));
    const saved = await guarded(form, () => api("PUT", `/api/admin/notices/${encodeURIComponent(version.value.trim())}`, { body: { texts } }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    done(t("saved"));
  });
  container.replaceChildren(form);
  (notice ? titles[lang] : version).focus();
}

/** Lines of `mine` marked against `theirs`: a line the other text lacks is `added` (or
 *  `removed`, on the side of the version in force). Line by line: notices are edited as lines. */
function markedLines(mine, theirs, mark) {
  const other = new Set((theirs ?? "").split("\n").map((l) => l.trim()));
  return (mine ?? "").split("\n").map((line) => {
    const changed = line.trim() !== "" && !other.has(line.trim());
    return el("p", { class: changed ? `line ${mark}` : "line" },
      changed ? el("span", { class: "visually-hidden" }, `${t(`notices.${mark}`)}: `) : null,
      line || "\u00a0");
  });
}

function compare(container, draft, active, refreshed) {
  const box = el("section", { class: "panel", "aria-label": t("notices.compareTitle", { draft: draft.version }) },
    el("h2", {}, t("notices.compareTitle", { draft: draft.version })));
  for (const l of LANGS) {
    const mine = draft.texts[l];
    const theirs = active?.texts?.[l];
    if (!mine && !theirs) continue;
    box.append(el("h3", {}, t(`lang.${l}`)),
      el("div", { class: "side-by-side", lang: l },
        el("div", { class: "side current" },
          el("p", { class: "side-label" }, active ? t("notices.current", { version: active.version }) : t("notices.noCurrent")),
          theirs ? [el("div", { class: "side-title" }, markedLines(theirs.title, mine?.title, "removed")), markedLines(theirs.body, mine?.body, "removed")] : el("p", { class: "hint" }, active ? t("notices.missing") : "")),
        el("div", { class: "side proposed" },
          el("p", { class: "side-label" }, t("notices.proposed", { version: draft.version })),
          mine ? [el("div", { class: "side-title" }, markedLines(mine.title, theirs?.title, "added")), markedLines(mine.body, theirs?.body, "added")] : el("p", { class: "hint" }, t("notices.missing")))));
  }
  const activate = el("button", {
    type: "button", class: "danger",
    onclick: async () => {
      const yes = await confirmDialog({
        title: t("notices.activateTitle", { version: draft.version }),
        text: t("notices.activateText", { version: draft.version }),
        ok: t("notices.activateOk", { version: draft.version }),
      });
      if (!yes) { activate.focus(); return; }
      const answer = await guarded(box, () => api("POST", `/api/admin/notices/${encodeURIComponent(draft.version)}/activate`));
      if (!answer) return;
      container.replaceChildren();
      await refreshed();
      message($("main").querySelector(".panel"), "ok", t("notices.activatedNow", { version: draft.version }));
      done(t("notices.activatedNow", { version: draft.version }));
    },
  }, t("notices.activate"));
  box.append(el("div", { class: "row" }, activate, el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("close"))));
  container.replaceChildren(box);
  focusPanel(box);
}

// ---- Funnel ----

async function viewFunnel(main) {
  heading(main, t("funnel.title"));
  const stores = (await guarded(main, loadStores)) ?? [];
  const from = el("input", { type: "date", name: "from" });
  const to = el("input", { type: "date", name: "to" });
  const store = el("select", { name: "store" }, el("option", { value: "" }, t("funnel.allStores")),
    stores.map((s) => el("option", { value: s.id }, `${storeName(s)} (${s.id})`)));
  const results = el("div", { class: "stack", id: "funnel-results" });
  let chartUrl = null;
  const query = (extra) => {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    if (store.value) q.set("store", store.value);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `/api/admin/stats?${q}`;
  };
  const form = el("form", { class: "panel filters", "aria-label": t("funnel.title") },
    el("div", { class: "row wrap" }, field(t("funnel.from"), from), field(t("funnel.to"), to), field(t("funnel.store"), store)),
    el("p", { class: "hint" }, t("funnel.hint")),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("funnel.show")),
      el("button", {
        type: "button", class: "secondary",
        onclick: async () => {
          const csv = await guarded(form, () => api("GET", query({ format: "csv" }), { as: "blob" }));
          if (csv) download(csv, `stats-${from.value || "today"}-${to.value || "today"}.csv`);
        },
      }, t("funnel.csv"))));
  main.append(form, results);

  // Only the latest request's answer is shown: an earlier one arriving late (the first
  // showing, still loading when the filters changed) must not overwrite it.
  let latest = 0;
  async function show() {
    const mine = ++latest;
    const shownStore = store.value;
    form.querySelector(":scope > .message")?.remove();
    const answer = await guarded(form, () => api("GET", query({ format: "json" })));
    if (!answer || mine !== latest) return;
    const chart = await guarded(form, () => api("GET", query({ format: "svg", lang }), { as: "blob" }));
    if (mine !== latest) return;
    const rows = answer.stats;
    const total = { views: 0, optins: Object.fromEntries(CHANNELS.map((c) => [c, 0])), cards: 0, redemptions: 0 };
    for (const r of rows) {
      total.views += r.landing_views;
      for (const c of CHANNELS) total.optins[c] += r.grants[c];
      total.cards += r.cards_issued;
      total.redemptions += r.redemptions;
    }
    const optinSum = CHANNELS.reduce((n, c) => n + total.optins[c], 0);
    const img = el("img", { class: "chart", alt: `${t("funnel.chart")}: ${t("funnel.views")} ${total.views}, ${t("funnel.optins")} ${optinSum}, ${t("funnel.cards")} ${total.cards}, ${t("funnel.redemptions")} ${total.redemptions}` });
    if (chart) {
      if (chartUrl) URL.revokeObjectURL(chartUrl);
      chartUrl = URL.createObjectURL(chart);
      img.src = chartUrl;
    }
    const headers = [t("funnel.store"), t("funnel.day"), t("funnel.views"),
      ...CHANNELS.map((c) => `${t("funnel.optins")} ${CHANNEL_NAMES[c]}`), t("funnel.cardOnly"), t("funnel.cards"), t("funnel.redemptions"), t("funnel.withdrawals")];
    // Opt-ins no offer can reach (purpose `card`), apart from those that can.
    const cardOnly = (r) => CHANNELS.reduce((n, c) => n + (r.card_only_grants?.[c] ?? 0), 0);
    const line = (cells, cls) => el("tr", { class: cls }, cells.map((c, i) => el("td", { class: i >= 2 ? "num" : "nowrap" }, c)));
    const body = rows.map((r) => line([r.store_id ?? t("funnel.noStore"), r.day, r.landing_views, ...CHANNELS.map((c) => r.grants[c]), cardOnly(r), r.cards_issued, r.redemptions,
      CHANNELS.reduce((n, c) => n + r.withdrawals[c], 0)], null));
    body.push(line([t("funnel.total"), `${answer.from} – ${answer.to}`, total.views, ...CHANNELS.map((c) => total.optins[c]), rows.reduce((n, r) => n + cardOnly(r), 0), total.cards, total.redemptions,
      rows.reduce((n, r) => n + CHANNELS.reduce((m, c) => m + r.withdrawals[c], 0), 0)], "total"));
    results.replaceChildren(
      el("section", { class: "panel", "aria-label": t("funnel.chart") }, el("h2", {}, t("funnel.chart")), el("div", { class: "chart-frame" }, img)),
      el("section", { class: "panel", "aria-label": t("funnel.table") }, el("h2", {}, t("funnel.table")),
        rows.length ? table(t("funnel.table"), headers, body) : el("p", {}, t("funnel.empty"))));
    results.dataset.store = shownStore;
    results.dataset.views = String(total.views);
    results.dataset.optins = String(optinSum);
    results.dataset.cards = String(total.cards);
    results.dataset.redemptions = String(total.redemptions);
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  await show();
}

// ---- Members ----

async function viewMembers(main) {
  heading(main, t("members.title"));
  const number = el("input", { required: true, inputMode: "numeric", pattern: "[0-9 ]{12,15}", maxLength: 15, autocomplete: "off", class: "mono", name: "member-number" });
  const result = el("div", { class: "stack" });
  const form = el("form", { class: "panel", "aria-label": t("members.title") },
    field(t("members.number"), number, t("members.numberHint")),
    el("button", { type: "submit" }, t("members.lookup")));
  main.append(form, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(":scope > .message")?.remove();
    result.replaceChildren();
    const wanted = number.value.replace(/\s/g, "");
    let answer;
    try {
      answer = await api("GET", `/api/admin/members/${encodeURIComponent(wanted)}`);
    } catch (e) {
      if (e.status !== 401) message(form, "error", e.status === 404 ? t("members.notFound") : e.message);
      return;
    }
    showMember(result, answer.member);
  });
  const asked = location.hash.split("/")[2];
  if (asked) { number.value = asked; form.requestSubmit(); } else number.focus();
}

function showMember(container, m) {
  const dl = (pairs) => el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const box = el("section", { class: "panel member", "aria-labelledby": "member-title" },
    el("h2", { id: "member-title" }, t("members.summary", { number: m.number })),
    dl([
      [t("members.created"), when(m.created_at_ms)],
      [t("members.cardIssued"), when(m.card_issued_at_ms)],
      [t("members.favourite"), m.favourite_store ?? t("none")],
      [t("members.lang"), m.lang ?? t("none")],
      [t("members.consent"), m.consent_granted ? t("members.granted") : t("members.notGranted")],
      [t("members.card"), /^https?:\/\//.test(m.card_url ?? "") ? el("a", { href: m.card_url, target: "_blank", rel: "noopener noreferrer" }, t("members.openCard")) : t("none")],
    ]),
    el("h3", {}, t("members.accounts")));
  for (const s of m.subjects) {
    box.append(el("div", { class: "subject" },
      el("h4", {}, `${CHANNEL_NAMES[s.channel] ?? s.channel} · `, el("span", { class: "mono" }, s.user_id)),
      dl([
        [t("members.state"), el("span", { class: `chip ${s.state}` }, t(`state.${s.state}`))],
        [t("members.linked"), when(s.linked_at_ms)],
        ...(s.also_known_as.length ? [[t("members.alsoKnownAs"), s.also_known_as.join(", ")]] : []),
      ]),
      table(`${t("members.history")} ${CHANNEL_NAMES[s.channel]}`, [t("members.when"), t("members.action"), t("members.source"), t("funnel.store"), t("members.campaign"), t("members.notice")],
        s.events.map((e) => el("tr", {},
          el("td", {}, when(e.occurred_at_ms)),
          el("td", {}, t(`state.${e.action}`)),
          el("td", {}, e.source),
          el("td", {}, e.store_id ?? t("none")),
          el("td", {}, e.campaign_id ?? t("none")),
          el("td", {}, e.notice_version ?? t("none")))))));
  }
  box.append(el("h3", {}, t("members.redemptions")),
    m.redemptions.length
      ? table(t("members.redemptions"), [t("members.when"), t("members.coupon"), t("funnel.store"), t("members.register"), t("members.transaction"), t("members.posKey")],
        m.redemptions.map((r) => el("tr", {}, el("td", {}, whenIso(r.redeemed_at)), el("td", { class: "mono" }, r.coupon_id), el("td", {}, r.store_id),
          el("td", {}, r.register_id), el("td", { class: "mono" }, r.transaction_id), el("td", { class: "mono" }, r.pos_key_id ?? t("none")))))
      : el("p", {}, t("members.noRedemptions")));
  const downloads = el("div", { class: "row wrap" },
    m.receipts_unavailable ? null : el("button", {
      type: "button", class: "secondary",
      onclick: () => download(new Blob([JSON.stringify({ receipts: m.receipts }, null, 2)], { type: "application/json" }), `receipts-${m.number}.json`),
    }, t("members.receipts")),
    el("button", {
      type: "button", class: "secondary",
      onclick: () => download(new Blob([JSON.stringify({ member: m }, null, 2)], { type: "application/json" }), `member-${m.number}.json`),
    }, t("members.export")));
  box.append(downloads);
  if (m.receipts_unavailable) box.append(el("p", { class: "hint" }, t("members.receiptsUnavailable", { setting: m.receipts_unavailable })));
  const erase = el("button", {
    type: "button", class: "danger",
    onclick: async () => {
      const yes = await confirmDialog({
        title: t("members.eraseTitle", { number: m.number }),
        text: t("members.eraseText"),
        ok: t("members.eraseOk"),
        typed: m.number,
        typedLabel: t("members.eraseConfirm"),
      });
      if (!yes) { erase.focus(); return; }
      const call = () => api("DELETE", `/api/admin/members/${encodeURIComponent(m.number)}`);
      let answer = await guarded(box, call);
      if (!answer) return;
      const say = (a) => t(a.erased.complete === false ? "members.erasing" : "members.erased",
        { number: m.number, events: a.erased.events_redacted });
      const erased = el("p", { class: "message ok", tabIndex: -1, role: "status" }, say(answer));
      container.replaceChildren(el("section", { class: "panel" }, erased));
      erased.focus();
      announce(erased.textContent);
      // A long history is rewritten in steps by the member's object: ask again for progress.
      while (answer && answer.erased.complete === false) {
        await new Promise((done) => setTimeout(done, 2000));
        answer = await guarded(container, call);
        if (answer) erased.textContent = say(answer);
      }
      if (answer) announce(erased.textContent);
    },
  }, t("members.erase"));
  box.append(el("div", { class: "row danger-zone" }, erase));
  container.replaceChildren(box);
}

// ---- POS keys ----

async function viewKeys(main) {
  heading(main, t("keys.title"));
  const stores = (await guarded(main, loadStores)) ?? [];
  if (stores.length === 0) {
    main.append(el("p", { class: "panel" }, t("keys.noStores")));
    return;
  }
  const asked = location.hash.split("/")[2];
  const store = el("select", { name: "key-store" }, stores.map((s) => el("option", { value: s.id, selected: s.id === asked }, `${storeName(s)} (${s.id})`)));
  const label = el("input", { maxLength: 40, autocomplete: "off", name: "key-label" });
  const created = el("div");
  const listBox = el("section", { class: "panel", "aria-label": t("keys.title") });
  const form = el("form", { class: "panel", "aria-label": t("keys.create") },
    field(t("keys.store"), store),
    field(t("keys.label"), label, t("keys.labelHint")),
    el("button", { type: "submit" }, t("keys.create")));
  // Outside the form: Enter in the key's field must not make another key.
  main.append(el("div", { class: "stack" }, form, created, listBox));
  const path = (id = store.value) => `/api/admin/stores/${encodeURIComponent(id)}/pos-keys`;
  async function refresh() {
    const asked = store.value;
    const answer = await guarded(listBox, () => api("GET", path(asked)));
    // An answer for a store no longer chosen is dropped.
    if (!answer || store.value !== asked) return;
    listBox.replaceChildren(el("h2", {}, `${t("keys.title")} · ${store.value}`));
    if (answer.pos_keys.length === 0) {
      listBox.append(el("p", {}, t("keys.empty")));
      return;
    }
    listBox.append(table(t("keys.title"), [t("keys.id"), t("keys.label"), t("keys.created"), t("keys.status"), t("actions")],
      answer.pos_keys.map((k) => el("tr", { "data-key": k.id },
        el("td", { class: "mono" }, k.id),
        el("td", {}, k.label ?? t("none")),
        el("td", {}, whenIso(k.created_at)),
        el("td", {}, k.revoked_at ? el("span", { class: "chip withdrawn" }, t("keys.revokedAt", { when: whenIso(k.revoked_at) })) : el("span", { class: "chip granted" }, t("keys.active"))),
        el("td", { class: "buttons" }, k.revoked_at ? null : el("button", {
          type: "button", class: "danger", "aria-label": `${t("keys.revoke")} ${k.id}`,
          onclick: async (event) => {
            const button = event.currentTarget;
            const yes = await confirmDialog({ title: t("keys.revokeTitle", { id: k.id }), text: t("keys.revokeText"), ok: t("keys.revokeOk") });
            if (!yes) { button.focus(); return; }
            if (await guarded(listBox, () => api("DELETE", `${path(k.store_id)}/${encodeURIComponent(k.id)}`))) {
              await refresh();
              done();
            }
          },
        }, t("keys.revoke")))))));
  }
  store.addEventListener("change", () => { created.replaceChildren(); refresh(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = label.value.trim() ? { label: label.value } : {};
    const answer = await guarded(form, () => api("POST", path(), { body }));
    if (!answer) return;
    label.value = "";
    created.replaceChildren(shownOnce(t("keys.key"), t("keys.once"), answer.key));
    await refresh();
  });
  await refresh();
}

// ---- Events feed ----

async function viewFeeds(main) {
  heading(main, t("feeds.title"));
  const url = el("input", { type: "url", required: true, maxLength: 2048, class: "wide", autocomplete: "off", spellcheck: false, name: "feed-url" });
  const created = el("div");
  const listBox = el("section", { class: "panel", "aria-label": t("feeds.title") });
  const detail = el("div");
  const form = el("form", { class: "panel", "aria-label": t("feeds.add") },
    field(t("feeds.url"), url, t("feeds.urlHint")),
    el("button", { type: "submit" }, t("feeds.add")));
  main.append(el("div", { class: "stack" }, form, created, listBox, detail));
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/feeds"));
    if (!answer) return;
    listBox.replaceChildren(el("h2", {}, t("feeds.title")));
    if (answer.feeds.length === 0) {
      listBox.append(el("p", {}, t("feeds.empty")));
      return;
    }
    listBox.append(table(t("feeds.title"), [t("feeds.url"), t("feeds.status"), t("feeds.delivered"), t("feeds.backlog"), t("feeds.dead"), t("feeds.lastSuccess"), t("feeds.lastFailure"), t("feeds.secrets"), t("actions")],
      answer.feeds.map((f) => el("tr", { "data-feed": f.id },
        el("td", { class: "mono break" }, f.url),
        el("td", {}, el("span", { class: `chip ${f.status === "active" ? "granted" : "withdrawn"}` }, f.status === "active" ? t("feeds.active") : t("feeds.disabled"))),
        el("td", { class: "num" }, f.delivered),
        el("td", { class: "num" }, f.backlog),
        el("td", { class: "num" }, f.dead_letters),
        el("td", {}, whenIso(f.last_success_at)),
        el("td", {}, f.last_failure_at ? `${whenIso(f.last_failure_at)} · ${f.last_failure ?? ""}` : t("none")),
        el("td", { class: "num" }, f.signing_secrets),
        el("td", { class: "buttons" },
          el("button", {
            type: "button", class: "secondary", "aria-label": `${t("feeds.rotate")} ${f.url}`,
            onclick: async () => {
              const rotated = await guarded(listBox, () => api("POST", `/api/admin/feeds/${f.id}/rotate`));
              if (!rotated) return;
              created.replaceChildren(shownOnce(t("feeds.secret"), t("feeds.rotated", { id: f.url, when: whenIso(rotated.previous_secret_expires_at) }), rotated.secret));
              await refresh();
              created.querySelector("input")?.focus();
            },
          }, t("feeds.rotate")),
          el("button", { type: "button", class: "secondary", "aria-label": `${t("feeds.deadLetters")} ${f.url}`, onclick: () => deadLetters(detail, f, refresh) }, t("feeds.deadLetters")),
          el("button", {
            type: "button", class: "danger", "aria-label": `${t("feeds.delete")} ${f.url}`,
            onclick: async (event) => {
              const button = event.currentTarget;
              const yes = await confirmDialog({ title: t("feeds.deleteTitle"), text: t("feeds.deleteText", { url: f.url }), ok: t("feeds.deleteOk") });
              if (!yes) { button.focus(); return; }
              const ok = await guarded(listBox, async () => { await api("DELETE", `/api/admin/feeds/${f.id}`); return true; });
              if (ok) { detail.replaceChildren(); await refresh(); done(); }
            },
          }, t("feeds.delete")))))));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await guarded(form, () => api("POST", "/api/admin/feeds", { body: { url: url.value } }));
    if (!answer) return;
    url.value = "";
    created.replaceChildren(shownOnce(t("feeds.secret"), t("feeds.once"), answer.secret));
    await refresh();
  });
  await refresh();
}

async function deadLetters(container, feed, refreshList) {
  const box = el("section", { class: "panel", "aria-label": t("feeds.deadOf", { url: feed.url }) }, el("h2", {}, t("feeds.deadOf", { url: feed.url })));
  container.replaceChildren(box);
  const answer = await guarded(box, () => api("GET", `/api/admin/feeds/${feed.id}/dead-letters?limit=100`));
  if (!answer) return;
  box.append(answer.dead_letters.length
    ? table(t("feeds.deadLetters"), [t("feeds.event"), t("feeds.time"), t("feeds.attempts"), t("feeds.reason"), t("feeds.deadAt")],
      answer.dead_letters.map((d) => el("tr", {}, el("td", { class: "mono" }, d.event_id), el("td", {}, whenIso(d.time)), el("td", { class: "num" }, d.attempts),
        el("td", {}, d.reason), el("td", {}, whenIso(d.dead_at)))))
    : el("p", {}, t("feeds.deadEmpty")));
  const replayDead = el("button", {
    type: "button", disabled: answer.remaining === 0,
    onclick: async () => {
      const queued = await guarded(box, () => api("POST", `/api/admin/feeds/${feed.id}/replay`, { body: { dead_letters: true } }));
      if (!queued) return;
      message(box, "ok", t("feeds.replayed", { queued: queued.queued, remaining: queued.dead_letters_remaining }));
      await refreshList();
    },
  }, t("feeds.replayDead"));
  const today = new Date().toISOString().slice(0, 10);
  const from = el("input", { type: "date", required: true, value: today, name: "replay-from" });
  const to = el("input", { type: "date", required: true, value: today, name: "replay-to" });
  const range = el("form", { class: "subpanel", "aria-label": t("feeds.replayRange") },
    el("h3", {}, t("feeds.replayRange")),
    el("div", { class: "row wrap" }, field(t("feeds.replayFrom"), from), field(t("feeds.replayTo"), to)),
    el("button", { type: "submit" }, t("feeds.replayOk")));
  range.addEventListener("submit", async (event) => {
    event.preventDefault();
    const queued = await guarded(range, () => api("POST", `/api/admin/feeds/${feed.id}/replay`, { body: { from: from.value, to: to.value } }));
    if (queued) message(range, "ok", t("feeds.replayQueued", { from: from.value, to: to.value }));
  });
  box.append(el("div", { class: "row" }, replayDead), range);
  focusPanel(box);
}

const VIEWS = { stores: viewStores, coupons: viewCoupons, notices: viewNotices, funnel: viewFunnel, members: viewMembers, keys: viewKeys, feeds: viewFeeds };

// ---- Start ----

function start() {
  setLang(initialLang());
  $("lang").addEventListener("change", (event) => {
    setLang(event.target.value);
    if (token()) showApp(); else showSignIn();
  });
  $("signout").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", () => {
    // Only the console's own routes (#/section); the skip link's #main is not one.
    if (!token() || !location.hash.startsWith("#/")) return;
    showApp();
    $("main").querySelector("h1")?.focus();
  });
  if (token()) showApp(); else showSignIn();
}

start();
