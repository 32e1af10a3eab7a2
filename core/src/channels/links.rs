//! The channel buttons of the landing page: the exact link shape of each platform, carrying a
//! join code. A channel whose setting is missing simply has no button.

use crate::channels::reach;
use crate::consent::Channel;
use crate::settings::config::Config;

/// One channel button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLink {
    pub channel: &'static str,
    pub href: String,
}

impl ChannelLink {
    /// Whether the button brings offers: its channel carries marketing for a store in
    /// `country` ([`reach::marketing_deliverable`]).
    pub fn brings_offers(&self, country: Option<&str>) -> bool {
        Channel::parse(self.channel).is_some_and(|c| reach::marketing_deliverable(c, country))
    }
}

/// `JOIN {code}`: the text the chat apps pre-fill.
pub fn join_text(code: &str) -> String {
    format!("JOIN {code}")
}

/// The buttons of every configured channel, in a fixed order.
///
/// - LINE: `https://line.me/R/oaMessage/{basic id}/?{text}`, both percent-encoded as UTF-8
///   (`@` is `%40`, a space `%20`: LINE URL scheme docs, "Opening chat screen").
/// - WhatsApp: `https://wa.me/{number}?text={text}`.
/// - Messenger: `https://m.me/{page}?ref={code}`; Instagram: `https://ig.me/m/{username}?ref={code}`.
pub fn channel_links(config: &Config, code: &str) -> Vec<ChannelLink> {
    let text = percent_encode(&join_text(code));
    let mut links = Vec::new();
    if let Some(id) = config.line_bot_basic_id.get() {
        links.push(ChannelLink {
            channel: "line",
            href: format!("https://line.me/R/oaMessage/{}/?{text}", percent_encode(id)),
        });
    }
    if let Some(number) = config.whatsapp_number.get() {
        links.push(ChannelLink {
            channel: "whatsapp",
            href: format!("https://wa.me/{number}?text={text}"),
        });
    }
    if let Some(page) = config.messenger_page.get() {
        links.push(ChannelLink {
            channel: "messenger",
            href: format!("https://m.me/{page}?ref={code}"),
        });
    }
    if let Some(user) = config.instagram_username.get() {
        links.push(ChannelLink {
            channel: "instagram",
            href: format!("https://ig.me/m/{user}?ref={code}"),
        });
    }
    links
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        Config::from_lookup(|n| map.get(n).map(|v| v.to_string()))
    }

    #[test]
    fn links_have_the_exact_shapes_of_the_contract() {
        let c = config(&[
            ("LINE_BOT_BASIC_ID", "@123abcde"),
            ("WHATSAPP_NUMBER", "15551234567"),
            ("MESSENGER_PAGE", "demo.page"),
            ("INSTAGRAM_USERNAME", "demo.shop"),
        ]);
        let links = channel_links(&c, "ABC234");
        let hrefs: Vec<&str> = links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                "https://line.me/R/oaMessage/%40123abcde/?JOIN%20ABC234",
                "https://wa.me/15551234567?text=JOIN%20ABC234",
                "https://m.me/demo.page?ref=ABC234",
                "https://ig.me/m/demo.shop?ref=ABC234",
            ]
        );
    }

    #[test]
    fn unconfigured_channels_have_no_button() {
        let links = channel_links(&config(&[("WHATSAPP_NUMBER", "15551234567")]), "X");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].channel, "whatsapp");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
