//! The funnel as a chart: the SVG of `GET /api/admin/stats?format=svg`, which the admin console
//! shows as an image. Pure: the rows [`crate::funnel::stats::rows`] made, in; the SVG text, out.
//!
//! Summed over every row asked for: the funnel of four stages as horizontal bars (landing views,
//! opt-ins split by channel, cards issued, redemptions), each with its name, its number and the
//! conversion from the stage before; under it, landing views and opt-ins per day (each day summed
//! across stores). Labels in Japanese, English or French.
//!
//! Accessible as one image (`role="img"`, a `<title>` and a `<desc>` that says the totals in
//! words). Every label is text next to its bar, never a colour alone; every colour is at least
//! 4.5:1 against the white background (WCAG AA for text, and more than the 3:1 bars need). No
//! script, no external reference, no font but the system's; every text is escaped (maud).

use std::collections::BTreeMap;

use maud::html;

use crate::consent::Channel;
use crate::funnel::stats::{Days, Row};
use crate::lang::Lang;
use crate::time::{format_day, parse_day};

/// The chart's size in user units (also its `width` and `height`: it scales with `max-width`).
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 560;
/// With more days than this, the day axis labels every nth day only (at most this many labels).
pub const MAX_DAY_LABELS: usize = 31;

const TEXT: &str = "#1b1d21";
const MUTED: &str = "#4b5563";
const AXIS: &str = "#6b7280";
const GRID: &str = "#d1d5db";
const VIEWS: &str = "#1d4ed8";
const CARDS: &str = "#0e7490";
const REDEMPTIONS: &str = "#475569";
/// Opt-ins of a day (all channels).
const OPT_INS: &str = "#c2410c";

fn channel_colour(channel: Channel) -> &'static str {
    match channel {
        Channel::Line => "#15803d",
        Channel::Whatsapp => "#b45309",
        Channel::Messenger => "#6d28d9",
        Channel::Instagram => "#be185d",
    }
}

/// The funnel's numbers, summed over the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub views: i64,
    /// Grants per channel, in [`Channel::ALL`]'s order.
    pub grants: [i64; 4],
    pub cards: i64,
    pub redemptions: i64,
}

impl Totals {
    pub fn of(rows: &[Row]) -> Totals {
        let mut t = Totals::default();
        for r in rows {
            t.views += r.landing_views;
            for (i, c) in Channel::ALL.iter().enumerate() {
                t.grants[i] += r.grants.get(*c);
            }
            t.cards += r.cards_issued;
            t.redemptions += r.redemptions;
        }
        t
    }

    pub fn opt_ins(&self) -> i64 {
        self.grants.iter().sum()
    }

    /// The four stages, in funnel order.
    fn stages(&self) -> [i64; 4] {
        [self.views, self.opt_ins(), self.cards, self.redemptions]
    }
}

/// `n` as a share of `of`, rounded to the whole percent, as `lang` writes it (`42%`, `42 %`);
/// `—` when `of` is 0.
pub fn percent(n: i64, of: i64, lang: Lang) -> String {
    if of <= 0 {
        return "—".to_owned();
    }
    let p = (n.max(0) * 200 + of) / (2 * of);
    match lang {
        Lang::Fr => format!("{p}\u{202f}%"),
        Lang::Ja | Lang::En => format!("{p}%"),
    }
}

/// The words of the chart in one language.
struct Words {
    funnel: &'static str,
    all_stores: &'static str,
    stages: [&'static str; 4],
    conversion: &'static str,
    per_day: &'static str,
    empty: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            funnel: "Funnel",
            all_stores: "All stores",
            stages: ["Views", "Opt-ins", "Cards", "Redemptions"],
            conversion: "Conversion",
            per_day: "Per day",
            empty: "No activity in this range",
        },
        Lang::Ja => Words {
            funnel: "ファネル",
            all_stores: "全店舗",
            stages: ["ページ閲覧", "オプトイン", "会員証発行", "クーポン利用"],
            conversion: "転換率",
            per_day: "日別",
            empty: "この期間の活動はありません",
        },
        Lang::Fr => Words {
            funnel: "Entonnoir",
            all_stores: "Tous les magasins",
            stages: ["Vues", "Inscriptions", "Cartes", "Utilisations"],
            conversion: "Conversion",
            per_day: "Par jour",
            empty: "Aucune activité sur cette période",
        },
    }
}

/// The range as a phrase: one day, or from one day to another.
fn range(lang: Lang, days: Days) -> String {
    let (from, to) = (format_day(days.from), format_day(days.to));
    match (lang, from == to) {
        (_, true) => from,
        (Lang::En, false) => format!("{from} to {to}"),
        (Lang::Ja, false) => format!("{from}〜{to}"),
        (Lang::Fr, false) => format!("du {from} au {to}"),
    }
}

/// `n` and its noun, singular or plural as `lang` has it (French: 0 and 1 are singular).
fn count(lang: Lang, n: i64, one: &str, many: &str) -> String {
    let singular = match lang {
        Lang::En => n == 1,
        Lang::Fr => n <= 1,
        Lang::Ja => true,
    };
    format!("{n} {}", if singular { one } else { many })
}

/// The totals in one sentence (the chart's `<desc>`).
pub fn describe(lang: Lang, days: Days, store: Option<&str>, t: &Totals) -> String {
    let w = words(lang);
    let who = store.map_or(w.all_stores.to_owned(), |s| match lang {
        Lang::En => format!("Store {s}"),
        Lang::Ja => format!("店舗 {s}"),
        Lang::Fr => format!("Magasin {s}"),
    });
    let sep = if lang == Lang::Ja { "、" } else { ", " };
    let channels = Channel::ALL
        .iter()
        .zip(t.grants)
        .map(|(c, n)| format!("{} {n}", c.app_name()))
        .collect::<Vec<_>>()
        .join(sep);
    let range = range(lang, days);
    let opt_ins = t.opt_ins();
    match lang {
        Lang::En => format!(
            "{who}, {range}: {}, {} ({channels}), {} issued, {}.",
            count(lang, t.views, "landing view", "landing views"),
            count(lang, opt_ins, "opt-in", "opt-ins"),
            count(lang, t.cards, "card", "cards"),
            count(lang, t.redemptions, "redemption", "redemptions"),
        ),
        Lang::Ja => format!(
            "{who}、{range}：ページ閲覧 {} 件、オプトイン {opt_ins} 件（{channels}）、会員証発行 {} 件、クーポン利用 {} 件。",
            t.views, t.cards, t.redemptions
        ),
        Lang::Fr => format!(
            "{who}, {range}\u{a0}: {}, {} ({channels}), {}, {}.",
            count(lang, t.views, "vue de la page d’accueil", "vues de la page d’accueil"),
            count(lang, opt_ins, "inscription", "inscriptions"),
            count(lang, t.cards, "carte émise", "cartes émises"),
            count(lang, t.redemptions, "utilisation", "utilisations"),
        ),
    }
}

/// Views and opt-ins per day, every day of `days` (zeros included) and any other day a row has.
fn per_day(rows: &[Row], days: Days) -> Vec<(i64, i64, i64)> {
    let mut by_day: BTreeMap<i64, (i64, i64)> =
        (days.from..=days.to).map(|d| (d, (0, 0))).collect();
    for r in rows {
        let Some(d) = parse_day(&r.day) else { continue };
        let entry = by_day.entry(d).or_default();
        entry.0 += r.landing_views;
        entry.1 += r.grants.total();
    }
    by_day.into_iter().map(|(d, (v, o))| (d, v, o)).collect()
}

/// How many days apart the day axis labels are: every day up to [`MAX_DAY_LABELS`] days.
pub fn label_step(days: usize) -> usize {
    days.div_ceil(MAX_DAY_LABELS).max(1)
}

/// A coordinate, to a tenth.
fn at(x: f64) -> String {
    let s = format!("{x:.1}");
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => s,
    }
}

/// The chart of `rows` (the days of `days`; `store`: the one store asked for, if any).
pub fn svg(rows: &[Row], days: Days, store: Option<&str>, lang: Lang) -> String {
    let w = words(lang);
    let totals = Totals::of(rows);
    let stages = totals.stages();
    let empty = stages.iter().all(|n| *n == 0);
    let heading = format!(
        "{} · {} · {}",
        w.funnel,
        store.unwrap_or(w.all_stores),
        range(lang, days)
    );
    let desc = describe(lang, days, store, &totals);

    // The funnel: a name column, bars scaled to the largest stage, numbers after the bars and
    // the conversion in a column of its own on the right.
    let (name_x, bar_x, bar_max, bar_h) = (16.0, 170.0, 440.0, 26.0);
    let top_of = [80.0, 128.0, 200.0, 248.0];
    let largest = stages.iter().copied().max().unwrap_or(0).max(1) as f64;
    let length = |n: i64| bar_max * n.max(0) as f64 / largest;
    let colours = [VIEWS, OPT_INS, CARDS, REDEMPTIONS];
    // The opt-ins bar: one segment per channel, edges rounded from the running sum (no gaps).
    let opt_len = length(totals.opt_ins());
    let mut segments = Vec::new();
    let mut before = 0;
    for (c, n) in Channel::ALL.iter().zip(totals.grants) {
        if n > 0 {
            let all = totals.opt_ins() as f64;
            let x0 = bar_x + opt_len * before as f64 / all;
            let x1 = bar_x + opt_len * (before + n) as f64 / all;
            segments.push((channel_colour(*c), x0, x1 - x0));
        }
        before += n;
    }

    // Per day: views and opt-ins side by side, scaled to the day with the most.
    let series = per_day(rows, days);
    let (plot_x, plot_w, plot_top, plot_h) = (56.0, 728.0, 344.0, 150.0);
    let plot_bottom = plot_top + plot_h;
    let day_max = series
        .iter()
        .map(|(_, v, o)| (*v).max(*o))
        .max()
        .unwrap_or(0);
    let band = plot_w / series.len().max(1) as f64;
    let bar_w = (band * 0.4).min(32.0);
    let step = label_step(series.len());
    let height = |n: i64| {
        if day_max > 0 {
            plot_h * n.max(0) as f64 / day_max as f64
        } else {
            0.0
        }
    };

    let chart = html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT)
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-labelledby="stats-chart-title" aria-describedby="stats-chart-desc"
            lang=(lang.code()) font-family="system-ui, sans-serif" {
            title id="stats-chart-title" { (heading) }
            desc id="stats-chart-desc" { (desc) }
            rect width=(WIDTH) height=(HEIGHT) fill="#ffffff" {}
            text x=(name_x) y="30" font-size="18" font-weight="700" fill=(TEXT) { (heading) }
            @if empty {
                text x=(name_x) y="54" font-size="14" fill=(MUTED) { (w.empty) }
            }
            text x="784" y="70" font-size="12" fill=(MUTED) text-anchor="end" { (w.conversion) }
            @for (i, n) in stages.iter().enumerate() {
                @let top = top_of[i];
                @let baseline = at(top + 18.0);
                text x=(name_x) y=(baseline) font-size="14" font-weight="700" fill=(TEXT) {
                    (w.stages[i])
                }
                @if i == 1 {
                    @for (colour, x, width) in &segments {
                        rect x=(at(*x)) y=(top) width=(at(*width)) height=(bar_h) fill=(*colour)
                            stroke="#ffffff" stroke-width="1" {}
                    }
                } @else if *n > 0 {
                    rect x=(bar_x) y=(top) width=(at(length(*n))) height=(bar_h)
                        fill=(colours[i]) {}
                }
                text x=(at(bar_x + length(*n) + 8.0)) y=(baseline) font-size="14"
                    font-weight="700" fill=(TEXT) { (n) }
                @if i > 0 {
                    text x="784" y=(baseline) font-size="14" fill=(TEXT) text-anchor="end" {
                        (percent(*n, stages[i - 1], lang))
                    }
                }
            }
            // The channels of the opt-ins, under their bar: a swatch, the name and the number.
            @for (i, (c, n)) in Channel::ALL.iter().zip(totals.grants).enumerate() {
                @let x = bar_x + 150.0 * i as f64;
                rect x=(at(x)) y="162" width="12" height="12" fill=(channel_colour(*c)) {}
                text x=(at(x + 17.0)) y="172" font-size="12" fill=(TEXT) { (c.app_name()) " " (n) }
            }
            text x=(name_x) y="318" font-size="16" font-weight="700" fill=(TEXT) { (w.per_day) }
            @for (i, (colour, label)) in [(VIEWS, w.stages[0]), (OPT_INS, w.stages[1])]
                .iter()
                .enumerate() {
                @let x = 520.0 + 132.0 * i as f64;
                rect x=(at(x)) y="307" width="12" height="12" fill=(*colour) {}
                text x=(at(x + 17.0)) y="317" font-size="12" fill=(TEXT) { (label) }
            }
            @if day_max > 0 {
                line x1=(plot_x) y1=(plot_top) x2=(plot_x + plot_w) y2=(plot_top) stroke=(GRID)
                    stroke-dasharray="4 4" {}
                text x=(at(plot_x - 6.0)) y=(at(plot_top + 4.0)) font-size="11" fill=(MUTED)
                    text-anchor="end" { (day_max) }
            }
            text x=(at(plot_x - 6.0)) y=(at(plot_bottom + 4.0)) font-size="11" fill=(MUTED)
                text-anchor="end" { "0" }
            @for (i, (day, views, opt_ins)) in series.iter().enumerate() {
                @let mid = plot_x + band * (i as f64 + 0.5);
                @if *views > 0 {
                    rect x=(at(mid - bar_w)) y=(at(plot_bottom - height(*views))) width=(at(bar_w))
                        height=(at(height(*views))) fill=(VIEWS) {}
                }
                @if *opt_ins > 0 {
                    rect x=(at(mid)) y=(at(plot_bottom - height(*opt_ins))) width=(at(bar_w))
                        height=(at(height(*opt_ins))) fill=(OPT_INS) {}
                }
                @if i % step == 0 {
                    @let (lx, ly) = (at(mid + 4.0), at(plot_bottom + 14.0));
                    text x=(lx) y=(ly) font-size="10" fill=(MUTED) text-anchor="end"
                        transform=(format!("rotate(-45 {lx} {ly})")) {
                        (format_day(*day).get(5..).unwrap_or_default())
                    }
                }
            }
            line x1=(plot_x) y1=(plot_bottom) x2=(plot_x + plot_w) y2=(plot_bottom) stroke=(AXIS) {}
        }
    };
    chart.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funnel::stats::{grant, rows, Count, CARD, REDEMPTION, VIEW};
    use crate::ids::StoreId;

    fn day(s: &str) -> i64 {
        parse_day(s).unwrap()
    }

    fn days(from: &str, to: &str) -> Days {
        Days {
            from: day(from),
            to: day(to),
        }
    }

    fn counts(list: &[(&str, &str, i64)]) -> Vec<Count> {
        list.iter()
            .map(|(d, m, n)| Count {
                day: (*d).into(),
                metric: (*m).into(),
                n: *n,
            })
            .collect()
    }

    /// Two stores over three days, and a change of no store.
    fn sample() -> (Vec<Row>, Days) {
        let range = days("2026-11-22", "2026-11-24");
        let (a, b) = (
            StoreId::parse("shibuya").unwrap(),
            StoreId::parse("umeda").unwrap(),
        );
        let line = grant(Channel::Line);
        let instagram = grant(Channel::Instagram);
        let mut all = rows(
            Some(&a),
            "Asia/Tokyo",
            range,
            &counts(&[
                ("2026-11-22", VIEW, 60),
                ("2026-11-23", VIEW, 40),
                ("2026-11-23", &line, 30),
                ("2026-11-23", &instagram, 5),
                ("2026-11-23", CARD, 20),
                ("2026-11-24", REDEMPTION, 9),
            ]),
        );
        all.extend(rows(
            Some(&b),
            "Asia/Tokyo",
            range,
            &counts(&[("2026-11-23", VIEW, 100), ("2026-11-24", &line, 7)]),
        ));
        all.extend(rows(
            None,
            "UTC",
            range,
            &counts(&[("2026-11-24", &grant(Channel::Whatsapp), 2)]),
        ));
        (all, range)
    }

    /// Every tag closed in order (a start tag, its end tag; `<x/>` alone), and nothing outside
    /// the root: enough of XML to catch a broken template.
    fn assert_balanced(svg: &str) {
        assert!(svg.starts_with("<svg "), "{}", &svg[..40]);
        assert!(svg.ends_with("</svg>"));
        let mut open: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').expect("a tag is closed");
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "no `<` inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "end tag in order");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap();
                open.push(name);
            }
            rest = &rest[end + 1..];
            if open.is_empty() {
                assert!(rest.is_empty(), "nothing after the root: {rest}");
            }
        }
        assert!(open.is_empty(), "unclosed: {open:?}");
    }

    /// WCAG 2 contrast of `#rrggbb` against white.
    fn contrast_on_white(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap() as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
        1.05 / (l + 0.05)
    }

    #[test]
    fn the_funnel_shows_each_stage_its_number_and_the_conversion() {
        let (rows, range) = sample();
        let t = Totals::of(&rows);
        assert_eq!(
            t,
            Totals {
                views: 200,
                grants: [37, 2, 0, 5],
                cards: 20,
                redemptions: 9
            }
        );
        let svg = svg(&rows, range, None, Lang::En);
        assert_balanced(&svg);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"viewBox="0 0 800 560""#));
        assert!(svg.contains(
            "<title id=\"stats-chart-title\">Funnel · All stores · 2026-11-22 to 2026-11-24</title>"
        ));
        assert!(svg.contains(
            "<desc id=\"stats-chart-desc\">All stores, 2026-11-22 to 2026-11-24: 200 landing views, \
             44 opt-ins (LINE 37, WhatsApp 2, Messenger 0, Instagram 5), 20 cards issued, \
             9 redemptions.</desc>"
        ));
        for label in ["Views", "Opt-ins", "Cards", "Redemptions", "Per day"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
        for number in ["200", "44", "20", "9"] {
            assert!(svg.contains(&format!(">{number}</text>")), "{number}");
        }
        // 44 of 200, 20 of 44, 9 of 20.
        for share in ["22%", "45%", "45%"] {
            assert!(svg.contains(&format!(">{share}</text>")), "{share}");
        }
        for legend in ["LINE 37", "WhatsApp 2", "Messenger 0", "Instagram 5"] {
            assert!(svg.contains(&format!(">{legend}</text>")), "{legend}");
        }
        // Three channels have opt-ins: three segments, in their own colours.
        for c in [Channel::Line, Channel::Whatsapp, Channel::Instagram] {
            assert_eq!(
                svg.matches(channel_colour(c)).count(),
                2,
                "segment and swatch"
            );
        }
        assert_eq!(svg.matches(channel_colour(Channel::Messenger)).count(), 1);
        for d in ["11-22", "11-23", "11-24"] {
            assert!(svg.contains(&format!(">{d}</text>")), "{d}");
        }
        assert!(!svg.contains("No activity"));
        for outside in ["<script", "href", "url(", "http://", "@import", "<style"] {
            let without_ns = svg.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
            assert!(!without_ns.contains(outside), "{outside}");
        }
    }

    #[test]
    fn conversions_round_and_a_stage_after_nothing_shows_a_dash() {
        assert_eq!(percent(42, 100, Lang::En), "42%");
        assert_eq!(percent(1, 3, Lang::En), "33%");
        assert_eq!(percent(2, 3, Lang::Ja), "67%");
        assert_eq!(percent(1, 2, Lang::Fr), "50\u{202f}%");
        assert_eq!(percent(3, 2, Lang::En), "150%");
        assert_eq!(percent(5, 0, Lang::En), "—");
    }

    #[test]
    fn an_empty_range_says_so_and_still_draws() {
        let range = days("2026-11-01", "2026-11-07");
        let store = StoreId::parse("shibuya").unwrap();
        let rows = rows(Some(&store), "Asia/Tokyo", range, &[]);
        let svg = svg(&rows, range, Some("shibuya"), Lang::En);
        assert_balanced(&svg);
        assert!(svg.contains(">No activity in this range</text>"));
        assert!(svg.contains(
            "Store shibuya, 2026-11-01 to 2026-11-07: 0 landing views, 0 opt-ins \
             (LINE 0, WhatsApp 0, Messenger 0, Instagram 0), 0 cards issued, 0 redemptions."
        ));
        assert_eq!(
            svg.matches(">—</text>").count(),
            3,
            "no conversion from zero"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(!svg.contains("stroke-dasharray"), "no maximum line at zero");
        // No rows at all, and no day: the frame alone.
        let none = svg_of_nothing();
        assert_balanced(&none);
        assert!(none.contains("No activity in this range"));
    }

    fn svg_of_nothing() -> String {
        let inverted = Days {
            from: day("2026-11-02"),
            to: day("2026-11-01"),
        };
        svg(&[], inverted, None, Lang::En)
    }

    #[test]
    fn every_text_is_escaped() {
        let range = days("2026-11-01", "2026-11-01");
        let svg = svg(&[], range, Some("<b>&\"x\"</b>"), Lang::En);
        assert_balanced(&svg);
        // In the title, the heading and the summary.
        assert_eq!(
            svg.matches("&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;").count(),
            3
        );
        assert!(!svg.contains("<b>") && !svg.contains("\"x\""));
    }

    #[test]
    fn past_a_month_only_every_nth_day_is_labelled() {
        assert_eq!(label_step(1), 1);
        assert_eq!(label_step(31), 1);
        assert_eq!(label_step(32), 2);
        assert_eq!(label_step(92), 3);
        let month = days("2026-11-01", "2026-11-30");
        let all = svg(&[], month, None, Lang::En);
        assert_eq!(all.matches("rotate(-45").count(), 30);
        let long = days("2026-09-01", "2026-11-30");
        let store = StoreId::parse("shibuya").unwrap();
        let rows = rows(
            Some(&store),
            "Asia/Tokyo",
            long,
            &counts(&[("2026-10-15", VIEW, 3)]),
        );
        let svg = svg(&rows, long, None, Lang::En);
        assert_balanced(&svg);
        let labels = svg.matches("rotate(-45").count();
        assert_eq!(labels, 31, "91 days, every third labelled");
        assert!(svg.contains(">09-01</text>") && svg.contains(">09-04</text>"));
        assert!(!svg.contains(">09-02</text>") && !svg.contains(">09-03</text>"));
    }

    #[test]
    fn labels_and_the_summary_speak_japanese_and_french() {
        let (rows, range) = sample();
        let ja = svg(&rows, range, None, Lang::Ja);
        assert_balanced(&ja);
        assert!(ja.contains(r#"lang="ja""#));
        for label in [
            "ページ閲覧",
            "オプトイン",
            "会員証発行",
            "クーポン利用",
            "日別",
            "転換率",
        ] {
            assert!(ja.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(ja.contains(
            "全店舗、2026-11-22〜2026-11-24：ページ閲覧 200 件、オプトイン 44 件\
             （LINE 37、WhatsApp 2、Messenger 0、Instagram 5）、会員証発行 20 件、クーポン利用 9 件。"
        ));
        assert!(ja.contains(">22%</text>"));
        let fr = svg(&rows, range, Some("shibuya"), Lang::Fr);
        assert_balanced(&fr);
        for label in ["Vues", "Inscriptions", "Cartes", "Utilisations", "Par jour"] {
            assert!(fr.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(fr.contains(">22\u{202f}%</text>"));
        assert!(fr.contains("Magasin shibuya, du 2026-11-22 au 2026-11-24\u{a0}: 200 vues"));
        let empty = svg(&[], days("2026-11-01", "2026-11-01"), None, Lang::Fr);
        assert!(empty.contains("Aucune activité sur cette période"));
        assert!(empty.contains("0 vue de la page d’accueil, 0 inscription"));
    }

    #[test]
    fn every_colour_reads_on_white() {
        let mut colours = vec![TEXT, MUTED, VIEWS, CARDS, REDEMPTIONS, OPT_INS];
        colours.extend(Channel::ALL.iter().map(|c| channel_colour(*c)));
        for c in &colours {
            assert!(
                contrast_on_white(c) >= 4.5,
                "{c}: {:.2}",
                contrast_on_white(c)
            );
        }
        let mut distinct = colours.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), colours.len(), "one colour per series");
        // The axis is a line (3:1 for graphics); the dashed grid is decoration.
        assert!(contrast_on_white(AXIS) >= 3.0);
    }
}
