//! What each channel can carry, per country, as the platforms allow it: whether a **marketing**
//! message can reach a shopper who opted in there. The one table of these rules; a platform
//! change is a line here and a test below. Read from the platforms' pages on 2026-12-03.
//!
//! Where a page is ambiguous, the reading that never over-promises wins: a country whose
//! subscribers may not be reachable counts as unreachable.
//!
//! - **LINE**: push, multicast, broadcast and narrowcast messages go to the account's friends;
//!   the Messaging API reference ("Sending messages", developers.line.biz/en/reference/
//!   messaging-api/) states no country restriction on sending. Marketing: yes, everywhere.
//! - **WhatsApp**: marketing templates go to users who opted in, except that "WhatsApp does not
//!   currently deliver marketing template messages to WhatsApp users with United States phone
//!   numbers" ("Per-user marketing template message limits", developers.facebook.com/
//!   documentation/business-messaging/whatsapp/templates/marketing-templates/per-user-limits,
//!   updated 2026-04-29). A US number cannot be told from another +1 number (Canada, the
//!   Caribbean) by its digits alone, so every +1 number counts as a US one, and a store in a
//!   +1 country offers no WhatsApp marketing.
//! - **Messenger**: since recurring notifications ended on 2026-02-10, marketing goes only
//!   through the Marketing Message API for Messenger (developers.facebook.com/documentation/
//!   business-messaging/messenger-platform/marketing-messages-on-messenger, updated
//!   2026-04-17): the business must be in one of its regions, and "messages can be sent to
//!   users/subscribers in all regions except: European Union, Japan, South Korea, Australia,
//!   United Kingdom". The store's country stands for both the business and its shoppers
//!   (all we know of a subscriber's region), so an Australian store, though an eligible
//!   business, offers none. The rest of the EEA and Switzerland are read as excluded too.
//! - **Instagram**: no marketing, broadcast or recurring message API at all ("Messenger
//!   Platform and IG Messaging API policy", updated 2026-09-28; "Message Tags": sponsored
//!   messages and one-time notifications "are not available for IG Messaging API"):
//!   conversations only (the 24-hour window, private replies). Marketing: nowhere.

use crate::consent::Channel;

/// The Marketing Message API for Messenger's business regions (the page above).
const MESSENGER_BUSINESS_REGIONS: &[&str] = &[
    "AE", "AU", "BR", "CL", "CO", "HK", "ID", "IL", "IN", "MX", "MY", "NZ", "PE", "PH", "SA", "SG",
    "TH", "TW", "US", "VN",
];

/// Where Messenger marketing cannot reach subscribers: the EU's 27, Japan, South Korea,
/// Australia, the United Kingdom (the page above); and, never to over-promise, the rest of the
/// EEA (Iceland, Liechtenstein, Norway) and Switzerland.
const MESSENGER_EXCLUDED_SUBSCRIBERS: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", // the EU
    "AU", "GB", "JP", "KR", // named on the page
    "CH", "IS", "LI", "NO", // read as excluded too
];

/// The countries of calling code +1 (the North American Numbering Plan): their shoppers'
/// WhatsApp numbers cannot be told from US ones.
const NANP_COUNTRIES: &[&str] = &[
    "AG", "AI", "AS", "BB", "BM", "BS", "CA", "DM", "DO", "GD", "GU", "JM", "KN", "KY", "LC", "MP",
    "MS", "PR", "SX", "TC", "TT", "US", "VC", "VG", "VI",
];

/// Whether a marketing message can reach a shopper who opted in on `channel` at a store in
/// `country` (ISO 3166-1 alpha-2, upper case). An unknown country (no store country and no
/// `JURISDICTION`) gets only what every country gets.
pub fn marketing_deliverable(channel: Channel, country: Option<&str>) -> bool {
    let Some(country) = country else {
        return channel == Channel::Line;
    };
    match channel {
        Channel::Line => true,
        Channel::Whatsapp => !NANP_COUNTRIES.contains(&country),
        Channel::Messenger => {
            MESSENGER_BUSINESS_REGIONS.contains(&country)
                && !MESSENGER_EXCLUDED_SUBSCRIBERS.contains(&country)
        }
        Channel::Instagram => false,
    }
}

/// Whether a marketing message can reach this channel account of a store in `country`: as
/// [`marketing_deliverable`], and none of the person's `ids` on the channel (its own and its
/// aliases) rules it out ([`ids_reachable`]).
pub fn account_marketing_deliverable<'a>(
    channel: Channel,
    country: Option<&str>,
    ids: impl IntoIterator<Item = &'a str>,
) -> bool {
    marketing_deliverable(channel, country) && ids_reachable(channel, ids)
}

/// Whether none of a person's ids on `channel` rules marketing out whatever the country: a
/// WhatsApp id of calling code +1 never gets it ([`is_plus_one`]; see the module's notes).
pub fn ids_reachable<'a>(channel: Channel, ids: impl IntoIterator<Item = &'a str>) -> bool {
    channel != Channel::Whatsapp || !ids.into_iter().any(is_plus_one)
}

/// A WhatsApp id of calling code +1: a phone number (digits with the calling code) starting
/// with 1, or a business-scoped user id whose country prefix (`US.1349…`, Meta's
/// "Business-scoped user IDs") is a +1 country.
fn is_plus_one(subject: &str) -> bool {
    match subject.split_once('.') {
        Some((country, _)) => NANP_COUNTRIES.contains(&country),
        None => subject.starts_with('1') && subject.bytes().all(|b| b.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the table, for a store in France, Japan, the United States, Australia,
    /// Canada, Brazil and Switzerland.
    #[test]
    fn every_row_of_the_table() {
        use Channel::*;
        let table = [
            // (country, LINE, WhatsApp, Messenger, Instagram)
            ("FR", [true, true, false, false]),
            ("JP", [true, true, false, false]),
            ("US", [true, false, true, false]),
            ("AU", [true, true, false, false]),
            ("CA", [true, false, false, false]),
            ("BR", [true, true, true, false]),
            ("CH", [true, true, false, false]),
            ("TH", [true, true, true, false]),
            ("GB", [true, true, false, false]),
        ];
        for (country, expected) in table {
            let got = [Line, Whatsapp, Messenger, Instagram]
                .map(|c| marketing_deliverable(c, Some(country)));
            assert_eq!(got, expected, "{country}");
        }
        let unknown =
            [Line, Whatsapp, Messenger, Instagram].map(|c| marketing_deliverable(c, None));
        assert_eq!(
            unknown,
            [true, false, false, false],
            "no country: what every one gets"
        );
    }

    #[test]
    fn every_eligible_business_region_outside_the_exclusions_gets_messenger_marketing() {
        for country in MESSENGER_BUSINESS_REGIONS {
            assert_eq!(
                marketing_deliverable(Channel::Messenger, Some(country)),
                *country != "AU",
                "{country}"
            );
        }
        for country in MESSENGER_EXCLUDED_SUBSCRIBERS {
            assert!(
                !marketing_deliverable(Channel::Messenger, Some(country)),
                "{country}"
            );
        }
    }

    #[test]
    fn a_plus_one_whatsapp_number_is_never_reachable() {
        use Channel::*;
        for (channel, country, ids, reachable) in [
            (Whatsapp, "FR", &["33612345678"][..], true),
            (Whatsapp, "FR", &["14155550123"], false),
            (Whatsapp, "US", &["33612345678"], false),
            // A business-scoped user id names its country: a +1 country's is never reachable.
            (Whatsapp, "FR", &["US.13491208655302741918"], false),
            (Whatsapp, "FR", &["CA.1349120865530274"], false),
            (Whatsapp, "FR", &["FR.13491208655302741918"], true),
            // Any id of the person counts: a +1 number kept beside a business-scoped id.
            (
                Whatsapp,
                "FR",
                &["FR.13491208655302741918", "14155550123"],
                false,
            ),
            // Only WhatsApp ids are phone numbers.
            (Line, "FR", &["1000"], true),
            (Instagram, "FR", &["17841400000000000"], false),
        ] {
            assert_eq!(
                account_marketing_deliverable(channel, Some(country), ids.iter().copied()),
                reachable,
                "{channel:?} {country} {ids:?}"
            );
        }
    }
}
