//! The words of the shopper pages, per language.

use crate::lang::Lang;

/// Every fixed text of the landing and privacy pages.
pub struct Texts {
    pub club: &'static str,
    pub intro: &'static str,
    pub benefits_title: &'static str,
    pub benefits: [&'static str; 3],
    pub join_title: &'static str,
    pub join_hint: &'static str,
    pub no_channel: &'static str,
    pub favourite_title: &'static str,
    pub favourite_label: &'static str,
    pub favourite_update: &'static str,
    pub consent: &'static str,
    /// The consent line where no button brings offers.
    pub consent_card: &'static str,
    /// Under a button whose channel carries marketing for this store.
    pub with_offers: &'static str,
    /// Under a button whose channel cannot (no promise of offers).
    pub card_and_chat: &'static str,
    pub notice_version: &'static str,
    pub read_notice: &'static str,
    pub no_notice: &'static str,
    pub stop_anytime: &'static str,
    pub languages: &'static str,
    pub privacy_title: &'static str,
    pub earlier_versions: &'static str,
    pub activated_on: &'static str,
    pub not_activated: &'static str,
}

pub fn channel_label(lang: Lang, channel: &str) -> &'static str {
    match (lang, channel) {
        (Lang::Ja, "line") => "LINEで登録",
        (Lang::Ja, "whatsapp") => "WhatsAppで登録",
        (Lang::Ja, "messenger") => "Messengerで登録",
        (Lang::Ja, _) => "Instagramで登録",
        (Lang::En, "line") => "Join on LINE",
        (Lang::En, "whatsapp") => "Join on WhatsApp",
        (Lang::En, "messenger") => "Join on Messenger",
        (Lang::En, _) => "Join on Instagram",
        (Lang::Fr, "line") => "Rejoindre sur LINE",
        (Lang::Fr, "whatsapp") => "Rejoindre sur WhatsApp",
        (Lang::Fr, "messenger") => "Rejoindre sur Messenger",
        (Lang::Fr, _) => "Rejoindre sur Instagram",
    }
}

/// What a channel button brings, under its label: offers and the card, or the card and a chat.
pub fn what_it_brings(lang: Lang, offers: bool) -> &'static str {
    let t = texts(lang);
    if offers {
        t.with_offers
    } else {
        t.card_and_chat
    }
}

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

static EN: Texts = Texts {
    club: "Members' club",
    intro: "Join in one tap from your chat app and carry your membership card on your phone.",
    benefits_title: "What you get",
    benefits: [
        "A digital membership card, right in your chat app",
        "Coupons you redeem by showing a barcode at the till",
        "News and offers from your favourite store",
    ],
    join_title: "Join in your chat app",
    join_hint: "The app opens with a message ready to send: just send it.",
    no_channel: "Joining is not open yet. Please ask a member of staff.",
    favourite_title: "Your favourite store",
    favourite_label: "Favourite store",
    favourite_update: "Update",
    consent: "By joining on an app that brings weekly offers, you agree to receive marketing messages from us there, as described in our consent notice.",
    consent_card: "By joining, you get your membership card and a chat with the store, as described in our consent notice. We send no marketing messages on these apps.",
    with_offers: "Weekly offers and your card",
    card_and_chat: "Your card and a chat with the store",
    notice_version: "Notice version",
    read_notice: "Read the consent notice",
    no_notice: "Our consent notice is being updated.",
    stop_anytime: "You can stop at any time: send STOP in the chat, block the account, or tap “Stop messages” on your card.",
    languages: "Language",
    privacy_title: "Consent notice",
    earlier_versions: "All versions",
    activated_on: "In force since",
    not_activated: "Not in force",
};

static JA: Texts = Texts {
    club: "会員クラブ",
    intro: "チャットアプリからワンタップで登録。会員証をスマートフォンで持ち歩けます。",
    benefits_title: "会員特典",
    benefits: [
        "チャットアプリで使えるデジタル会員証",
        "レジでバーコードを見せるだけで使えるクーポン",
        "お気に入り店舗からのお知らせとお得な情報",
    ],
    join_title: "チャットアプリで登録",
    join_hint: "アプリが開き、送信するメッセージが入力されています。そのまま送信してください。",
    no_channel: "現在、登録を受け付けていません。スタッフにお声がけください。",
    favourite_title: "お気に入り店舗",
    favourite_label: "お気に入り店舗",
    favourite_update: "変更",
    consent: "毎週のお得情報が届くアプリで登録すると、同意事項に記載のとおり、そのアプリで当社からのマーケティングメッセージを受け取ることに同意したことになります。",
    consent_card: "登録すると、同意事項に記載のとおり会員証と店舗とのチャットをご利用いただけます。これらのアプリではマーケティングメッセージはお送りしません。",
    with_offers: "毎週のお得情報と会員証",
    card_and_chat: "会員証と店舗とのチャット",
    notice_version: "同意事項のバージョン",
    read_notice: "同意事項を読む",
    no_notice: "同意事項を更新中です。",
    stop_anytime: "配信はいつでも停止できます。チャットで「停止」と送る、アカウントをブロックする、または会員証の「配信停止」をタップしてください。",
    languages: "言語",
    privacy_title: "同意事項",
    earlier_versions: "すべてのバージョン",
    activated_on: "適用開始日",
    not_activated: "未適用",
};

static FR: Texts = Texts {
    club: "Club des membres",
    intro: "Rejoignez-nous en un geste depuis votre messagerie et gardez votre carte de membre sur votre téléphone.",
    benefits_title: "Vos avantages",
    benefits: [
        "Une carte de membre numérique, dans votre messagerie",
        "Des coupons à utiliser en montrant un code-barres en caisse",
        "Les nouvelles et offres de votre magasin préféré",
    ],
    join_title: "Rejoindre depuis votre messagerie",
    join_hint: "L’application s’ouvre avec un message prêt à envoyer : envoyez-le simplement.",
    no_channel: "L’inscription n’est pas encore ouverte. Adressez-vous au personnel.",
    favourite_title: "Votre magasin préféré",
    favourite_label: "Magasin préféré",
    favourite_update: "Mettre à jour",
    consent: "En vous inscrivant sur une application qui apporte les offres de la semaine, vous acceptez d’y recevoir nos messages marketing, comme décrit dans notre notice de consentement.",
    consent_card: "En vous inscrivant, vous obtenez votre carte de membre et une discussion avec le magasin, comme décrit dans notre notice de consentement. Nous n’envoyons aucun message marketing sur ces applications.",
    with_offers: "Offres de la semaine et votre carte",
    card_and_chat: "Votre carte et une discussion avec le magasin",
    notice_version: "Version de la notice",
    read_notice: "Lire la notice de consentement",
    no_notice: "Notre notice de consentement est en cours de mise à jour.",
    stop_anytime: "Vous pouvez arrêter à tout moment : envoyez STOP dans la conversation, bloquez le compte ou touchez « Arrêter les messages » sur votre carte.",
    languages: "Langue",
    privacy_title: "Notice de consentement",
    earlier_versions: "Toutes les versions",
    activated_on: "En vigueur depuis le",
    not_activated: "Pas en vigueur",
};
