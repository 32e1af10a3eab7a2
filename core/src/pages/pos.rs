//! The till page (`GET /pos`): what cashiers use with a keyboard-wedge barcode scanner. The page
//! is static (no server data, the same for every till): `pos.js` keeps the POS key and register
//! id on the device, tells a scanner's keystrokes from typing, and talks to `POST /api/pos/scan`
//! and `POST /api/pos/redeem`. Every word the script shows comes from this page (a `<template>`
//! of `data-t` entries), so the script itself has no language and the CSP needs no inline script.

use maud::{html, PreEscaped};

use crate::lang::Lang;
use crate::pages::layout::document_with_manifest;

/// The script of the till page, served from `static/`.
pub const TILL_SCRIPT: &str = "/assets/pos.js";
/// The till's web app manifest (an installable till), served from `static/`.
pub const TILL_MANIFEST: &str = "/pos.webmanifest";

/// What a transaction or register id may be (docs/till.md), as an HTML `pattern`.
const ID_PATTERN: &str = "[A-Za-z0-9._:\\-]{1,64}";

/// The fixed words of the page itself.
struct TillTexts {
    title: &'static str,
    store: &'static str,
    register: &'static str,
    change_key: &'static str,
    languages: &'static str,
    noscript: &'static str,
    setup_title: &'static str,
    setup_hint: &'static str,
    key_label: &'static str,
    key_hint: &'static str,
    register_label: &'static str,
    register_hint: &'static str,
    save: &'static str,
    cancel: &'static str,
    forget: &'static str,
    customer: &'static str,
    ready_title: &'static str,
    ready_hint: &'static str,
    result: &'static str,
    waiting: &'static str,
    manual_label: &'static str,
    manual_button: &'static str,
    txn_label: &'static str,
    txn_hint: &'static str,
    keys_title: &'static str,
    key_digits: &'static str,
    key_enter: &'static str,
    key_esc: &'static str,
    connection: &'static str,
    conflicts_title: &'static str,
    conflicts_hint: &'static str,
    conflicts_clear: &'static str,
}

static EN: TillTexts = TillTexts {
    title: "Coupon till",
    store: "Store",
    register: "Register",
    change_key: "Change key",
    languages: "Language",
    noscript: "This till page needs JavaScript.",
    setup_title: "Set up this till",
    setup_hint:
        "Enter the POS key of this store once. It stays on this device until you change it.",
    key_label: "POS key",
    key_hint: "From the store manager (created in the admin API).",
    register_label: "Register id",
    register_hint: "For example R1. Letters, digits and . _ : - (up to 64).",
    save: "Save and start",
    cancel: "Cancel",
    forget: "Forget the key on this device",
    customer: "Customer",
    ready_title: "Ready to scan",
    ready_hint: "Scan the member card or a coupon barcode. No need to click anywhere first.",
    result: "Result",
    waiting: "Waiting for a scan",
    manual_label: "Code (if the scanner fails)",
    manual_button: "Look up",
    txn_label: "Register transaction no. (optional)",
    txn_hint: "Left empty, the till makes one for each redemption.",
    keys_title: "Keys",
    key_digits: "redeem that coupon",
    key_enter: "redeem the highlighted coupon",
    key_esc: "clear, next customer",
    connection: "Connection",
    conflicts_title: "Refused after the connection returned",
    conflicts_hint: "These redemptions were made offline and refused when they were sent. The store manager sees them too.",
    conflicts_clear: "Clear this list on this till",
};

static JA: TillTexts = TillTexts {
    title: "クーポン レジ",
    store: "店舗",
    register: "レジ",
    change_key: "キーを変更",
    languages: "言語",
    noscript: "このレジ画面には JavaScript が必要です。",
    setup_title: "このレジの設定",
    setup_hint: "店舗の POS キーを一度だけ入力してください。変更するまでこの端末に保存されます。",
    key_label: "POS キー",
    key_hint: "店長から受け取ったキー（管理 API で発行）。",
    register_label: "レジ ID",
    register_hint: "例：R1。英数字と . _ : -（64 文字まで）。",
    save: "保存して開始",
    cancel: "キャンセル",
    forget: "この端末からキーを削除",
    customer: "お客さま",
    ready_title: "スキャンできます",
    ready_hint:
        "会員証またはクーポンのバーコードをスキャンしてください。事前のクリックは不要です。",
    result: "結果",
    waiting: "スキャン待ち",
    manual_label: "コード（スキャンできないとき）",
    manual_button: "照会",
    txn_label: "レジ取引番号（任意）",
    txn_hint: "空欄のときは、利用ごとにレジが番号を作ります。",
    keys_title: "キー操作",
    key_digits: "その番号のクーポンを利用",
    key_enter: "選択中のクーポンを利用",
    key_esc: "クリアして次のお客さまへ",
    connection: "通信",
    conflicts_title: "通信復旧後に拒否された利用",
    conflicts_hint: "オフライン中に受け付け、送信時に拒否された利用です。店長も確認できます。",
    conflicts_clear: "この端末の一覧を消去",
};

static FR: TillTexts = TillTexts {
    title: "Caisse coupons",
    store: "Magasin",
    register: "Caisse",
    change_key: "Changer de clé",
    languages: "Langue",
    noscript: "Cette page de caisse a besoin de JavaScript.",
    setup_title: "Configurer cette caisse",
    setup_hint: "Saisissez une seule fois la clé de caisse du magasin. Elle reste sur cet appareil jusqu’à ce que vous la changiez.",
    key_label: "Clé de caisse",
    key_hint: "Fournie par le responsable du magasin (créée par l’API d’administration).",
    register_label: "Identifiant de caisse",
    register_hint: "Par exemple R1. Lettres, chiffres et . _ : - (64 au plus).",
    save: "Enregistrer et commencer",
    cancel: "Annuler",
    forget: "Oublier la clé sur cet appareil",
    customer: "Client",
    ready_title: "Prêt à scanner",
    ready_hint: "Scannez la carte de membre ou le code-barres d’un coupon. Inutile de cliquer avant.",
    result: "Résultat",
    waiting: "En attente d’un scan",
    manual_label: "Code (si le scanner échoue)",
    manual_button: "Chercher",
    txn_label: "N° de transaction caisse (facultatif)",
    txn_hint: "Vide, la caisse en crée un pour chaque utilisation.",
    keys_title: "Touches",
    key_digits: "utiliser ce coupon",
    key_enter: "utiliser le coupon en surbrillance",
    key_esc: "effacer, client suivant",
    connection: "Connexion",
    conflicts_title: "Refusés au retour de la connexion",
    conflicts_hint: "Ces utilisations ont été faites hors ligne et refusées à leur envoi. Le responsable du magasin les voit aussi.",
    conflicts_clear: "Effacer cette liste sur cette caisse",
};

fn till_texts(lang: Lang) -> &'static TillTexts {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// The words `pos.js` shows, by key. `{name}` marks a value the script fills in (it replaces
/// them as plain text). Every language has the same keys in the same order (a test checks).
fn script_texts(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("looking_up", "Looking up…"),
            ("member_number", "Member number"),
            ("favourite_store", "Favourite store"),
            ("favourite_none", "none"),
            ("offers_on", "Receives offers"),
            ("offers_off", "Offers stopped"),
            ("coupons", "Coupons"),
            ("coupons_none", "No coupons for this member."),
            ("usable_count", "{n} usable"),
            ("status_available", "Available"),
            ("status_redeemed", "Redeemed"),
            ("status_expired", "Expired"),
            ("status_not_yet_valid", "Not yet valid"),
            ("status_not_valid_here", "Not valid at this store"),
            ("status_needs_consent", "Needs consent to offers"),
            ("valid_until", "Valid until {date}"),
            ("valid_from", "Valid from {date}"),
            ("redeemed_where", "{when} · {store} · register {register}"),
            ("this_store", "this store"),
            ("store_named", "store {store}"),
            ("scanned_coupon", "Scanned coupon"),
            ("redeem_hint", "Press {key} or click to redeem"),
            ("redeeming", "Redeeming…"),
            ("ok_title", "Coupon redeemed"),
            ("ok_detail", "{when} · transaction {txn}"),
            ("ok_replayed", "Already recorded for this transaction: nothing was redeemed twice."),
            ("next_scan", "Ready for the next scan."),
            ("refused", "Not redeemed"),
            ("already_redeemed", "Already redeemed"),
            ("already_redeemed_detail", "Redeemed {when} at {store}, register {register}."),
            ("transaction_conflict", "Transaction no. already used"),
            ("transaction_conflict_detail", "This transaction number belongs to another member’s purchase. Correct or clear it, then try again."),
            ("expired", "Coupon expired"),
            ("expired_detail", "It was valid until {date}."),
            ("not_yet_valid", "Not valid yet"),
            ("not_yet_valid_detail", "It can be used from {date}."),
            ("not_valid_here", "Not valid at this store"),
            ("not_valid_here_detail", "This coupon is for other stores."),
            ("consent_withdrawn", "Member stopped our offers"),
            ("consent_withdrawn_detail", "This coupon is for members who receive our offers. They can opt in again from their chat app."),
            ("invalid_code", "Code not accepted"),
            ("invalid_code_detail", "Ask the customer to open their card again (with a connection) and scan the new code."),
            ("coupon_mismatch", "Wrong coupon barcode"),
            ("coupon_mismatch_detail", "The scanned barcode names another coupon. Scan the member card instead."),
            ("unknown_member", "Unknown member"),
            ("unknown_member_detail", "This card is no longer valid: the membership was closed."),
            ("unknown_coupon", "Unknown coupon"),
            ("unknown_coupon_detail", "This coupon no longer exists."),
            ("unavailable", "Not confirmed: no answer"),
            ("unavailable_detail", "Check the connection, then press Retry. The same transaction number is sent again, so the coupon is never redeemed twice."),
            ("scan_unavailable_detail", "Check the connection, then press Retry or scan again."),
            ("other_error", "Request refused"),
            ("retry", "Retry"),
            ("unauthorized", "The POS key was refused (wrong or revoked). Enter a valid key."),
            ("id_invalid", "1 to 64 characters: letters, digits and . _ : -"),
            ("key_missing", "Enter the POS key."),
            ("live_member", "Member {number}: {n} usable coupons."),
            ("net_online", "Online"),
            ("net_offline", "Offline"),
            ("net_syncing", "Sending the kept redemptions…"),
            ("queue_count", "{n} waiting to be sent"),
            ("queue_none", "nothing waiting"),
            ("status_queued", "Kept, to confirm"),
            ("offline_title", "Offline: not confirmed yet"),
            ("offline_coupon_detail", "The code looks right. Redeem it now: it will be confirmed when the connection returns."),
            ("offline_member_detail", "As this till last saw the member, {when}. Redemptions will be confirmed when the connection returns."),
            ("offline_member_unknown", "This till has not seen this member yet. Offline, scan the coupon’s own barcode to redeem it."),
            ("offline_unknown_coupon", "Coupon {id}"),
            ("queued_title", "Kept on this till"),
            ("queued_detail", "Transaction {txn}. It will be sent when the connection returns; a refusal shows below and to the manager."),
            ("queued_already", "Already kept on this till for this member."),
            ("offline_limit", "Offline limit reached"),
            ("offline_limit_detail", "This till may keep {n} unconfirmed redemptions. Wait for the connection, or ask the manager."),
            ("offline_code_expired", "This code has expired: ask the member to open their card again."),
            ("synced", "{n} kept redemptions confirmed."),
            ("conflicts_count", "{n} refused"),
            ("conflict_row", "{coupon} · transaction {txn} · taken {when}"),
            ("conflict_first", "Redeemed first {when} at {store}, register {register}."),
            ("offline_too_old", "Kept too long"),
            ("offline_in_future", "Till clock is wrong"),
("offline_too_old_detail", "It was kept on the till longer than the store allows."),
            ("offline_in_future_detail", "It is dated later than now: check this till’s date and time."),
        ],
        Lang::Ja => &[
            ("looking_up", "照会中…"),
            ("member_number", "会員番号"),
            ("favourite_store", "お気に入り店舗"),
            ("favourite_none", "なし"),
            ("offers_on", "お知らせ受信中"),
            ("offers_off", "配信停止中"),
            ("coupons", "クーポン"),
            ("coupons_none", "この会員のクーポンはありません。"),
            ("usable_count", "利用可能 {n} 件"),
            ("status_available", "利用可能"),
            ("status_redeemed", "利用済み"),
            ("status_expired", "期限切れ"),
            ("status_not_yet_valid", "期間前"),
            ("status_not_valid_here", "この店舗では利用不可"),
            ("status_needs_consent", "配信への同意が必要"),
            ("valid_until", "{date} まで有効"),
            ("valid_from", "{date} から有効"),
            ("redeemed_where", "{when}・{store}・レジ {register}"),
            ("this_store", "この店舗"),
            ("store_named", "店舗 {store}"),
            ("scanned_coupon", "スキャンしたクーポン"),
            ("redeem_hint", "{key} キーまたはクリックで利用"),
            ("redeeming", "処理中…"),
            ("ok_title", "クーポン利用完了"),
            ("ok_detail", "{when}・取引 {txn}"),
            ("ok_replayed", "この取引ですでに記録済みです。二重には利用されていません。"),
            ("next_scan", "次のスキャンができます。"),
            ("refused", "利用できません"),
            ("already_redeemed", "利用済みです"),
            ("already_redeemed_detail", "{when} に {store}（レジ {register}）で利用されました。"),
            ("transaction_conflict", "取引番号が使用済みです"),
            ("transaction_conflict_detail", "この取引番号は別の会員のお会計で使われています。番号を直すか消してから、もう一度お試しください。"),
            ("expired", "有効期限切れです"),
            ("expired_detail", "{date} まで有効でした。"),
            ("not_yet_valid", "まだ利用できません"),
            ("not_yet_valid_detail", "{date} から利用できます。"),
            ("not_valid_here", "この店舗では利用できません"),
            ("not_valid_here_detail", "このクーポンは他の店舗向けです。"),
            ("consent_withdrawn", "お知らせの配信を停止中の会員です"),
            ("consent_withdrawn_detail", "このクーポンはお知らせを受信中の会員向けです。チャットアプリから再登録できます。"),
            ("invalid_code", "コードを確認できません"),
            ("invalid_code_detail", "通信できる状態で会員証を開き直していただき、新しいコードをスキャンしてください。"),
            ("coupon_mismatch", "別のクーポンのバーコードです"),
            ("coupon_mismatch_detail", "スキャンしたバーコードは別のクーポンのものです。会員証をスキャンしてください。"),
            ("unknown_member", "会員が見つかりません"),
            ("unknown_member_detail", "この会員証は無効です（退会済み）。"),
            ("unknown_coupon", "クーポンが見つかりません"),
            ("unknown_coupon_detail", "このクーポンはもう存在しません。"),
            ("unavailable", "未確認：応答がありません"),
            ("unavailable_detail", "通信を確認して「再試行」を押してください。同じ取引番号で送るので、二重に利用されることはありません。"),
            ("scan_unavailable_detail", "通信を確認して「再試行」を押すか、もう一度スキャンしてください。"),
            ("other_error", "処理できませんでした"),
            ("retry", "再試行"),
            ("unauthorized", "POS キーが拒否されました（誤りまたは無効化）。有効なキーを入力してください。"),
            ("id_invalid", "1〜64 文字の英数字と . _ : -"),
            ("key_missing", "POS キーを入力してください。"),
            ("live_member", "会員 {number}：利用可能なクーポン {n} 件。"),
            ("net_online", "オンライン"),
            ("net_offline", "オフライン"),
            ("net_syncing", "保存した利用を送信中…"),
            ("queue_count", "送信待ち {n} 件"),
            ("queue_none", "送信待ちなし"),
            ("status_queued", "保存済み・確認待ち"),
            ("offline_title", "オフライン：未確認"),
            ("offline_coupon_detail", "コードの形式は正しいです。今すぐ利用でき、通信が戻ったときに確認されます。"),
            ("offline_member_detail", "この端末が最後に確認した会員情報（{when}）です。利用は通信が戻ったときに確認されます。"),
            ("offline_member_unknown", "この端末ではまだ確認していない会員です。オフライン中は、クーポン自体のバーコードをスキャンしてください。"),
            ("offline_unknown_coupon", "クーポン {id}"),
            ("queued_title", "この端末に保存しました"),
            ("queued_detail", "取引 {txn}。通信が戻ったときに送信します。拒否された場合は下に表示され、店長にも届きます。"),
            ("queued_already", "この会員のこのクーポンは、すでにこの端末に保存されています。"),
            ("offline_limit", "オフライン上限に達しました"),
            ("offline_limit_detail", "この端末が保存できる未確認の利用は {n} 件までです。通信が戻るのを待つか、店長に相談してください。"),
            ("offline_code_expired", "このコードは期限切れです。会員証を開き直していただいてください。"),
            ("synced", "保存していた {n} 件の利用が確認されました。"),
            ("conflicts_count", "拒否 {n} 件"),
            ("conflict_row", "{coupon}・取引 {txn}・受付 {when}"),
            ("conflict_first", "先に {when} に {store}（レジ {register}）で利用されています。"),
            ("offline_too_old", "保存期間が長すぎます"),
            ("offline_in_future", "レジの時計が不正です"),
("offline_too_old_detail", "店舗が認める期間を超えて端末に保存されていました。"),
            ("offline_in_future_detail", "現在より後の日時になっています。この端末の日時を確認してください。"),
        ],
        Lang::Fr => &[
            ("looking_up", "Recherche…"),
            ("member_number", "Numéro de membre"),
            ("favourite_store", "Magasin préféré"),
            ("favourite_none", "aucun"),
            ("offers_on", "Reçoit les offres"),
            ("offers_off", "Offres arrêtées"),
            ("coupons", "Coupons"),
            ("coupons_none", "Aucun coupon pour ce membre."),
            ("usable_count", "{n} utilisable(s)"),
            ("status_available", "Disponible"),
            ("status_redeemed", "Déjà utilisé"),
            ("status_expired", "Expiré"),
            ("status_not_yet_valid", "Pas encore valable"),
            ("status_not_valid_here", "Non valable dans ce magasin"),
            ("status_needs_consent", "Consentement aux offres requis"),
            ("valid_until", "Valable jusqu’au {date}"),
            ("valid_from", "Valable à partir du {date}"),
            ("redeemed_where", "{when} · {store} · caisse {register}"),
            ("this_store", "ce magasin"),
            ("store_named", "magasin {store}"),
            ("scanned_coupon", "Coupon scanné"),
            ("redeem_hint", "Touche {key} ou clic pour l’utiliser"),
            ("redeeming", "Utilisation…"),
            ("ok_title", "Coupon utilisé"),
            ("ok_detail", "{when} · transaction {txn}"),
            ("ok_replayed", "Déjà enregistré pour cette transaction : rien n’a été utilisé deux fois."),
            ("next_scan", "Prêt pour le scan suivant."),
            ("refused", "Non utilisé"),
            ("already_redeemed", "Déjà utilisé"),
            ("already_redeemed_detail", "Utilisé le {when} à {store}, caisse {register}."),
            ("transaction_conflict", "N° de transaction déjà pris"),
            ("transaction_conflict_detail", "Ce numéro de transaction appartient à l’achat d’un autre membre. Corrigez-le ou effacez-le, puis réessayez."),
            ("expired", "Coupon expiré"),
            ("expired_detail", "Il était valable jusqu’au {date}."),
            ("not_yet_valid", "Pas encore valable"),
            ("not_yet_valid_detail", "Utilisable à partir du {date}."),
            ("not_valid_here", "Non valable dans ce magasin"),
            ("not_valid_here_detail", "Ce coupon est réservé à d’autres magasins."),
            ("consent_withdrawn", "Le membre a arrêté nos offres"),
            ("consent_withdrawn_detail", "Ce coupon est réservé aux membres qui reçoivent nos offres. Il peut se réinscrire depuis sa messagerie."),
            ("invalid_code", "Code refusé"),
            ("invalid_code_detail", "Demandez au client de rouvrir sa carte (avec une connexion) et scannez le nouveau code."),
            ("coupon_mismatch", "Code-barres d’un autre coupon"),
            ("coupon_mismatch_detail", "Le code-barres scanné désigne un autre coupon. Scannez plutôt la carte de membre."),
            ("unknown_member", "Membre inconnu"),
            ("unknown_member_detail", "Cette carte n’est plus valable : l’adhésion a été close."),
            ("unknown_coupon", "Coupon inconnu"),
            ("unknown_coupon_detail", "Ce coupon n’existe plus."),
            ("unavailable", "Non confirmé : pas de réponse"),
            ("unavailable_detail", "Vérifiez la connexion puis appuyez sur Réessayer. Le même numéro de transaction est renvoyé : le coupon n’est jamais utilisé deux fois."),
            ("scan_unavailable_detail", "Vérifiez la connexion puis appuyez sur Réessayer ou scannez à nouveau."),
            ("other_error", "Demande refusée"),
            ("retry", "Réessayer"),
            ("unauthorized", "La clé de caisse a été refusée (erronée ou révoquée). Saisissez une clé valable."),
            ("id_invalid", "1 à 64 caractères : lettres, chiffres et . _ : -"),
            ("key_missing", "Saisissez la clé de caisse."),
            ("live_member", "Membre {number} : {n} coupon(s) utilisable(s)."),
            ("net_online", "En ligne"),
            ("net_offline", "Hors ligne"),
            ("net_syncing", "Envoi des utilisations gardées…"),
            ("queue_count", "{n} en attente d’envoi"),
            ("queue_none", "rien en attente"),
            ("status_queued", "Gardé, à confirmer"),
            ("offline_title", "Hors ligne : pas encore confirmé"),
            ("offline_coupon_detail", "Le code a la bonne forme. Utilisez-le maintenant : il sera confirmé au retour de la connexion."),
            ("offline_member_detail", "Tel que cette caisse a vu le membre, {when}. Les utilisations seront confirmées au retour de la connexion."),
            ("offline_member_unknown", "Cette caisse n’a pas encore vu ce membre. Hors ligne, scannez le code-barres du coupon lui-même."),
            ("offline_unknown_coupon", "Coupon {id}"),
            ("queued_title", "Gardé sur cette caisse"),
            ("queued_detail", "Transaction {txn}. Elle sera envoyée au retour de la connexion ; un refus s’affichera ci-dessous et chez le responsable."),
            ("queued_already", "Déjà gardé sur cette caisse pour ce membre."),
            ("offline_limit", "Limite hors ligne atteinte"),
            ("offline_limit_detail", "Cette caisse peut garder {n} utilisations non confirmées. Attendez la connexion ou demandez au responsable."),
            ("offline_code_expired", "Ce code a expiré : demandez au membre de rouvrir sa carte."),
            ("synced", "{n} utilisation(s) gardée(s) confirmée(s)."),
            ("conflicts_count", "{n} refusée(s)"),
            ("conflict_row", "{coupon} · transaction {txn} · prise le {when}"),
            ("conflict_first", "Utilisé d’abord le {when} à {store}, caisse {register}."),
            ("offline_too_old", "Gardé trop longtemps"),
            ("offline_in_future", "Horloge de la caisse fausse"),
("offline_too_old_detail", "Elle est restée sur la caisse plus longtemps que le magasin ne l’accepte."),
            ("offline_in_future_detail", "Elle est datée après maintenant : vérifiez la date et l’heure de cette caisse."),
        ],
    }
}

/// A barcode reader, drawn once (no image request).
fn scanner_icon() -> PreEscaped<&'static str> {
    PreEscaped(
        r##"<svg class="till-idle-icon" viewBox="0 0 96 64" aria-hidden="true" focusable="false"><path d="M6 6h10v4H10v8H6zM80 6h10v12h-4v-8h-6zM6 46h4v8h6v4H6zM86 46h4v12H80v-4h6z" fill="currentColor"/><path d="M20 16h4v32h-4zM28 16h2v32h-2zM34 16h6v32h-6zM44 16h2v32h-2zM50 16h4v32h-4zM58 16h2v32h-2zM64 16h6v32h-6zM74 16h2v32h-2z" fill="currentColor"/><path d="M4 31h88v2H4z" fill="#d93025"/></svg>"##,
    )
}

/// Renders the till page in `lang`. The page carries no data of any store or member.
pub fn till_page(lang: Lang) -> String {
    let t = till_texts(lang);
    let body = html! {
        div class="till" id="till" {
            header class="till-bar" {
                h1 class="till-title" { (t.title) }
                dl class="till-where" {
                    div { dt { (t.store) } dd id="till-store" { "—" } }
                    div { dt { (t.register) } dd id="till-register" { "—" } }
                }
                p id="till-net" class="till-net" data-state="online" role="status" aria-label=(t.connection) {
                    span class="till-net-dot" aria-hidden="true" {}
                    span id="till-net-text" class="till-net-text" {}
                    span id="till-net-count" class="till-net-count" {}
                }
                button type="button" id="till-change-key" class="till-quiet" hidden { (t.change_key) }
                nav class="till-langs" aria-label=(t.languages) {
                    @for l in Lang::ALL {
                        @if l == lang {
                            span aria-current="true" lang=(l.code()) { (l.code()) }
                        } @else {
                            a href={ "/pos?lang=" (l.code()) } hreflang=(l.code()) lang=(l.code()) { (l.code()) }
                        }
                    }
                }
            }
            noscript { p class="till-alert" { (t.noscript) } }
            section id="till-setup" class="till-setup" aria-labelledby="till-setup-title" hidden {
                h2 id="till-setup-title" { (t.setup_title) }
                p class="till-hint" { (t.setup_hint) }
                p id="till-setup-error" class="till-alert" role="alert" hidden {}
                form id="till-setup-form" autocomplete="off" novalidate {
                    div class="till-field" {
                        label for="till-key" { (t.key_label) }
                        input id="till-key" name="key" type="password" required autocomplete="off"
                            spellcheck="false" aria-describedby="till-key-hint";
                        p id="till-key-hint" class="till-hint" { (t.key_hint) }
                    }
                    div class="till-field" {
                        label for="till-register-id" { (t.register_label) }
                        input id="till-register-id" name="register" type="text" required
                            pattern=(ID_PATTERN) autocomplete="off" spellcheck="false"
                            autocapitalize="characters" aria-describedby="till-register-hint";
                        p id="till-register-hint" class="till-hint" { (t.register_hint) }
                    }
                    div class="till-actions" {
                        button type="submit" class="till-primary" { (t.save) }
                        button type="button" id="till-setup-cancel" class="till-secondary" hidden { (t.cancel) }
                        button type="button" id="till-forget" class="till-danger" hidden { (t.forget) }
                    }
                }
            }
            div id="till-work" class="till-work" hidden {
                section id="till-result" class="till-result" aria-labelledby="till-result-title" tabindex="-1" data-state="idle" {
                    h2 id="till-result-title" class="visually-hidden" { (t.result) }
                    div id="till-result-body" class="till-result-body" {
                        p class="till-result-waiting" { (t.waiting) }
                    }
                }
                section class="till-customer" aria-labelledby="till-customer-title" {
                    h2 id="till-customer-title" class="visually-hidden" { (t.customer) }
                    div id="till-idle" class="till-idle" {
                        (scanner_icon())
                        p class="till-idle-title" { (t.ready_title) }
                        p class="till-hint" { (t.ready_hint) }
                    }
                    div id="till-member" class="till-member" tabindex="-1" hidden {}
                }
                section id="till-conflicts" class="till-conflicts" aria-labelledby="till-conflicts-title" hidden {
                    h2 id="till-conflicts-title" { (t.conflicts_title) }
                    p class="till-hint" { (t.conflicts_hint) }
                    ul id="till-conflict-list" {}
                    button type="button" id="till-conflicts-clear" class="till-secondary" { (t.conflicts_clear) }
                }
                div class="till-controls" {
                    form id="till-manual-form" class="till-field" autocomplete="off" novalidate {
                        label for="till-code" { (t.manual_label) }
                        div class="till-inline" {
                            input id="till-code" name="code" type="text" autocomplete="off"
                                spellcheck="false" autocapitalize="characters";
                            button type="submit" class="till-secondary" { (t.manual_button) }
                        }
                    }
                    form id="till-txn-form" class="till-field" autocomplete="off" novalidate {
                        label for="till-txn" { (t.txn_label) }
                        input id="till-txn" name="transaction" type="text" pattern=(ID_PATTERN)
                            autocomplete="off" spellcheck="false" aria-describedby="till-txn-hint";
                        p id="till-txn-hint" class="till-hint" { (t.txn_hint) }
                    }
                    section class="till-keys" aria-labelledby="till-keys-title" {
                        h2 id="till-keys-title" { (t.keys_title) }
                        dl {
                            div { dt { kbd { "1" } "–" kbd { "9" } } dd { (t.key_digits) } }
                            div { dt { kbd { "Enter" } } dd { (t.key_enter) } }
                            div { dt { kbd { "Esc" } } dd { (t.key_esc) } }
                        }
                    }
                }
            }
            div id="till-live" class="visually-hidden" role="status" aria-live="polite" {}
            template id="till-texts" {
                @for (key, text) in script_texts(lang) {
                    span data-t=(key) { (text) }
                }
            }
        }
    };
    document_with_manifest(lang, t.title, body, TILL_SCRIPT, TILL_MANIFEST).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = include_str!("../../../static/assets/pos.js");

    fn ids_of(html: &str, attr: &str) -> Vec<String> {
        let needle = format!("{attr}=\"");
        html.match_indices(&needle)
            .map(|(i, _)| {
                let rest = &html[i + needle.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
            .collect()
    }

    #[test]
    fn every_language_renders_with_its_lang_attribute_and_the_script() {
        for lang in Lang::ALL {
            let page = till_page(lang);
            assert!(page.starts_with("<!DOCTYPE html>"), "{lang:?}");
            assert!(
                page.contains(&format!("<html lang=\"{}\">", lang.code())),
                "{lang:?}"
            );
            assert!(
                page.contains("<script src=\"/assets/pos.js\" defer></script>"),
                "{lang:?}"
            );
            assert!(page.contains(till_texts(lang).title), "{lang:?}");
            assert!(page.contains("class=\"till\""), "{lang:?}");
        }
        assert!(till_page(Lang::Ja).contains("レジ取引番号"));
        assert!(till_page(Lang::Fr).contains("Clé de caisse"));
    }

    #[test]
    fn the_page_has_no_inline_script_style_or_handler() {
        for lang in Lang::ALL {
            let page = till_page(lang);
            assert_eq!(page.matches("<script").count(), 1, "only the one script");
            assert!(!page.contains("<style"), "{lang:?}");
            assert!(!page.contains(" style="), "{lang:?}");
            assert!(
                !page.match_indices(" on").any(|(i, _)| page[i + 3..]
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .count()
                    > 0
                    && page[i + 3..]
                        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                        .starts_with('=')),
                "no inline event handler: {lang:?}"
            );
            assert!(!page.contains("javascript:"), "{lang:?}");
            // No member, store or key is ever in the page: it is the same for every till.
            assert!(!page.contains("Bearer"), "{lang:?}");
        }
    }

    #[test]
    fn every_input_has_a_label() {
        for lang in Lang::ALL {
            let page = till_page(lang);
            let labelled = ids_of(&page, "for");
            let inputs = page.matches("<input ").count();
            assert_eq!(inputs, 4, "key, register, code, transaction");
            for chunk in page.split("<input ").skip(1) {
                let id = ids_of(&format!(" {chunk}"), "id")[0].clone();
                assert!(labelled.contains(&id), "{lang:?}: input {id} has no label");
            }
        }
    }

    #[test]
    fn ids_are_unique_and_descriptions_exist() {
        let page = till_page(Lang::En);
        let ids = ids_of(&page, " id");
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[..i].contains(id), "duplicate id {id}");
        }
        for described in ids_of(&page, "aria-describedby")
            .iter()
            .chain(&ids_of(&page, "aria-labelledby"))
        {
            assert!(ids.contains(described), "{described} is not on the page");
        }
    }

    #[test]
    fn script_texts_have_the_same_keys_in_every_language() {
        let keys = |lang| {
            script_texts(lang)
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
        };
        let en = keys(Lang::En);
        for (i, key) in en.iter().enumerate() {
            assert!(!en[..i].contains(key), "{key} twice");
        }
        for lang in Lang::ALL {
            assert_eq!(keys(lang), en, "{lang:?}");
            for (key, text) in script_texts(lang) {
                assert!(!text.is_empty(), "{lang:?} {key}");
                // The same placeholders in every translation.
                let english = script_texts(Lang::En)
                    .iter()
                    .find(|(k, _)| k == key)
                    .unwrap()
                    .1;
                let holes = |s: &str| {
                    let mut h: Vec<String> = s
                        .split('{')
                        .skip(1)
                        .map(|p| p[..p.find('}').unwrap()].to_owned())
                        .collect();
                    h.sort();
                    h
                };
                assert_eq!(holes(text), holes(english), "{lang:?} {key}");
            }
        }
    }

    #[test]
    fn every_text_the_script_asks_for_is_on_the_page() {
        // The script asks with t("key") or t("key", {...}), and by error code with t(code).
        let asked: Vec<&str> = SCRIPT
            .match_indices("t(\"")
            .filter(|(i, _)| {
                *i == 0
                    || !SCRIPT.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && !b"_.$".contains(&SCRIPT.as_bytes()[i - 1])
            })
            .map(|(i, _)| {
                let rest = &SCRIPT[i + 3..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert!(asked.len() > 20, "found {}", asked.len());
        let en: Vec<&str> = script_texts(Lang::En).iter().map(|(k, _)| *k).collect();
        for key in asked {
            assert!(
                en.contains(&key),
                "pos.js asks for {key}, the page lacks it"
            );
        }
        for code in [
            "already_redeemed",
            "transaction_conflict",
            "expired",
            "not_yet_valid",
            "not_valid_here",
            "consent_withdrawn",
            "invalid_code",
            "coupon_mismatch",
            "unknown_member",
            "unknown_coupon",
            "offline_too_old",
            "offline_in_future",
        ] {
            assert!(en.contains(&code), "{code}");
            assert!(en.contains(&format!("{code}_detail").as_str()), "{code}");
        }
    }

    #[test]
    fn the_script_is_language_free() {
        // No word of any page language in the script: they all come from the page.
        for lang in Lang::ALL {
            for (_, text) in script_texts(lang) {
                // Neither a phrase anywhere nor a word as a string literal.
                if text.contains(' ') && text.chars().count() > 8 {
                    assert!(!SCRIPT.contains(text), "{text}");
                }
                assert!(!SCRIPT.contains(&format!("\"{text}\"")), "{text}");
            }
        }
        assert!(!SCRIPT
            .chars()
            .any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)));
    }
}
