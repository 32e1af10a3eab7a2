//! The shopper's language: the ones we speak, and the choice from `Accept-Language` and the
//! `lang` query override.

/// A language the shopper pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Ja,
    En,
    Fr,
}

impl Lang {
    /// Every supported language, in the order pages list them.
    pub const ALL: [Lang; 3] = [Lang::Ja, Lang::En, Lang::Fr];

    /// The BCP 47 primary tag (`ja`, `en`, `fr`), as used in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Parses a language tag by its primary subtag, case-insensitively: `fr-CA` is French.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Chooses the page language: the `lang` query parameter when it names one we speak, else the
    /// best-weighted `Accept-Language` entry we speak (ties keep header order), else `fallback`.
    pub fn negotiate(query: Option<&str>, accept_language: Option<&str>, fallback: Lang) -> Lang {
        if let Some(lang) = query.and_then(Lang::parse) {
            return lang;
        }
        let mut best: Option<(Lang, u16)> = None;
        for item in accept_language.unwrap_or("").split(',').take(32) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_qvalue);
            match weight {
                Some(w) if w > 0 && best.is_none_or(|(_, b)| w > b) => best = Some((lang, w)),
                _ => {}
            }
        }
        best.map_or(fallback, |(lang, _)| lang)
    }
}

/// An RFC 9110 qvalue as thousandths (`0.8` → 800), or `None` when malformed.
fn parse_qvalue(q: &str) -> Option<u16> {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let millis = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(millis),
        "1" if millis == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_override_wins_over_the_header() {
        assert_eq!(Lang::negotiate(Some("fr"), Some("ja"), Lang::En), Lang::Fr);
    }

    #[test]
    fn unknown_query_falls_back_to_the_header() {
        assert_eq!(
            Lang::negotiate(Some("de"), Some("ja-JP"), Lang::En),
            Lang::Ja
        );
    }

    #[test]
    fn header_weights_are_respected() {
        let cases = [
            ("de-DE,de;q=0.9,fr;q=0.5,ja;q=0.7", Lang::Ja),
            ("en-US,en;q=0.9,ja;q=0.8", Lang::En),
            ("fr-CA", Lang::Fr),
            ("ja;q=0, fr;q=0.1", Lang::Fr),
            ("*", Lang::En),
            ("ja;q=2,fr", Lang::Fr),
            ("", Lang::En),
        ];
        for (header, want) in cases {
            assert_eq!(
                Lang::negotiate(None, Some(header), Lang::En),
                want,
                "{header}"
            );
        }
    }

    #[test]
    fn ties_keep_header_order() {
        assert_eq!(Lang::negotiate(None, Some("fr,ja"), Lang::En), Lang::Fr);
    }

    #[test]
    fn nothing_usable_gives_the_fallback() {
        assert_eq!(Lang::negotiate(None, None, Lang::Ja), Lang::Ja);
        assert_eq!(Lang::negotiate(None, Some("de, es"), Lang::Ja), Lang::Ja);
    }
}
