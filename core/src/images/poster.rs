//! Printable store posters: a QR code to the store's landing page with the store's name and a
//! call to action in its languages. SVG is the print master (vector, every language as text,
//! set in the printer's fonts); PNG is A4 at 300 dpi, 1 bit per pixel, with the text lines its
//! embedded bitmap font can draw (Latin script and hiragana; other scripts are left to the SVG).

use maud::{html, PreEscaped};

use super::png::Bitmap;
use super::qr::QrModules;
use super::svg;
use crate::error::Error;
use crate::lang::Lang;
use crate::stores::Store;

/// A4 at 300 dpi, in pixels.
pub const PNG_WIDTH: usize = 2480;
pub const PNG_HEIGHT: usize = 3508;
/// Modules of white around the code (the QR specification's quiet zone).
const QUIET_ZONE: usize = 4;

/// The call to action and the line under it, per language.
pub fn call_to_action(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => (
            "Scan to join our members' club",
            "Membership card and coupons in your chat app",
        ),
        Lang::Ja => (
            "スキャンして会員クラブに登録",
            "チャットアプリで会員証とクーポン",
        ),
        Lang::Fr => (
            "Scannez pour rejoindre le club",
            "Carte de membre et coupons dans votre messagerie",
        ),
    }
}

/// The SVG poster (A4, millimetres).
///
/// # Errors
/// [`Error::Internal`] if the URL does not fit a QR code (it always does for our URLs).
pub fn poster_svg(store: &Store, url: &str) -> Result<String, Error> {
    let code = QrModules::text(url)?;
    let full = (code.width() + 2 * QUIET_ZONE) as f64;
    let qr_size = 140.0;
    let qr_x = (210.0 - qr_size) / 2.0;
    let qr_y = 60.0;
    let langs = store.languages();
    let names = distinct_names(store);
    let names_top = 220;
    let lines_top = names_top + names.len() * 13 + 2;
    let font = "'Hiragino Sans','Noto Sans JP','Noto Sans CJK JP','Yu Gothic',system-ui,sans-serif";
    let svg = html! {
        svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297"
            font-family=(font) {
            title { (store.name(langs.first().copied().unwrap_or(Lang::En))) }
            rect width="210" height="297" fill="#ffffff" {}
            @for (i, lang) in langs.iter().enumerate() {
                text x="105" y=(format!("{}", 24 + i * 14)) text-anchor="middle" font-size="9"
                    font-weight="700" fill="#1b1d21" lang=(lang.code()) { (call_to_action(*lang).0) }
            }
            g transform=(format!("translate({qr_x} {qr_y}) scale({})", qr_size / full)) {
                rect width=(full) height=(full) fill="#ffffff" {}
                path d=(PreEscaped(svg::path(&code, QUIET_ZONE))) fill="#000000" {}
            }
            @for (i, (lang, name)) in names.iter().enumerate() {
                text x="105" y=(format!("{}", names_top + i * 13)) text-anchor="middle" font-size="11"
                    font-weight="700" fill="#1b1d21" lang=(lang.code()) { (name) }
            }
            @for (i, lang) in langs.iter().enumerate() {
                text x="105" y=(format!("{}", lines_top + i * 7)) text-anchor="middle"
                    font-size="5" fill="#5c6370" lang=(lang.code()) { (call_to_action(*lang).1) }
            }
            text x="105" y="288" text-anchor="middle" font-size="3.5" fill="#5c6370"
                font-family="ui-monospace,monospace" { (url) }
        }
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        svg.into_string()
    ))
}

/// The store's names in its languages, each distinct name once.
fn distinct_names(store: &Store) -> Vec<(Lang, &str)> {
    let mut names: Vec<(Lang, &str)> = Vec::new();
    for lang in store.languages() {
        let name = store.name(lang);
        if !names.iter().any(|(_, n)| *n == name) {
            names.push((lang, name));
        }
    }
    names
}

/// Draws a line centred at `y` if the font has every character; returns whether it did.
fn text_centred(page: &mut Bitmap, text: &str, y: usize, max_scale: usize) -> bool {
    let Some(glyphs) = glyphs(text) else {
        return false;
    };
    let usable = page.width() - 2 * 160;
    let scale = max_scale.min(usable / (glyphs.len() * 8).max(1)).max(1);
    if glyphs.len() * 8 * scale > usable {
        // Too long even at the smallest size: the SVG, the print master, carries the line.
        return false;
    }
    let mut x = (page.width() - glyphs.len() * 8 * scale) / 2;
    for glyph in glyphs {
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // font8x8: the least significant bit is the leftmost pixel.
                if bits & (1 << col) != 0 {
                    page.ink(x + col * scale, y + row * scale, scale, scale);
                }
            }
        }
        x += 8 * scale;
    }
    true
}

/// The glyphs of a text, or `None` if the font lacks one of its characters.
fn glyphs(text: &str) -> Option<Vec<[u8; 8]>> {
    use font8x8::UnicodeFonts;
    text.chars()
        .map(|c| {
            font8x8::BASIC_FONTS
                .get(c)
                .or_else(|| font8x8::LATIN_FONTS.get(c))
                .or_else(|| font8x8::HIRAGANA_FONTS.get(c))
                .or(match c {
                    '’' => font8x8::BASIC_FONTS.get('\''),
                    _ => None,
                })
        })
        .collect()
}

/// The PNG poster: A4 at 300 dpi, 1 bit per pixel.
///
/// # Errors
/// As [`poster_svg`], or if encoding fails.
pub fn poster_png(store: &Store, url: &str) -> Result<Vec<u8>, Error> {
    let code = QrModules::text(url)?;
    let mut page = Bitmap::white(PNG_WIDTH, PNG_HEIGHT);
    let langs = store.languages();
    let mut y = 200;
    for lang in &langs {
        if text_centred(&mut page, call_to_action(*lang).0, y, 9) {
            y += 120;
        }
    }
    let module = 1700 / (code.width() + 2 * QUIET_ZONE);
    let size = module * (code.width() + 2 * QUIET_ZONE);
    let left = (PNG_WIDTH - size) / 2 + QUIET_ZONE * module;
    let top = 620 + QUIET_ZONE * module;
    page.draw_qr(&code, left, top, module);
    let mut y = 620 + size + 140;
    for (_, name) in distinct_names(store) {
        if text_centred(&mut page, name, y, 12) {
            y += 140;
        }
    }
    text_centred(&mut page, url, PNG_HEIGHT - 200, 4);
    page.encode(png::Compression::Fast)
}

/// The URL a poster's QR code points to.
pub fn landing_url(base: &str, store: &Store, campaign: Option<&str>) -> String {
    match campaign {
        Some(c) => format!("{base}/s/{}?c={c}", store.id),
        None => format!("{base}/s/{}", store.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StoreId;
    use crate::images::svg::modules_of_path;
    use crate::images::testing::{decode_png, decode_qr};
    use std::collections::BTreeMap;

    fn store(names: &[(&str, &str)]) -> Store {
        Store {
            id: StoreId::parse("shibuya-01").unwrap(),
            names: names
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            address: "x".into(),
            timezone: "Asia/Tokyo".into(),
            country: None,
            latitude: None,
            longitude: None,
            updated_at_ms: 0,
        }
    }

    const URL: &str = "https://shop.example/s/shibuya-01?c=spring-2026";

    #[test]
    fn the_poster_url_fits_qr_version_4_at_level_m() {
        let width = QrModules::text(URL).unwrap().width();
        assert!(width <= 33, "version 4 is 33 modules wide, got {width}");
    }

    /// The PNG is A4 at 300 dpi, its code reads back, and each of its modules is a square of
    /// `module` pixels, dark where the code is, inside four modules of white.
    #[test]
    fn png_poster_is_a4_at_300_dpi_and_decodes_to_the_url() {
        for url in [URL, "https://shop.example/s/shibuya-01"] {
            let png = poster_png(&store(&[("en", "Shibuya"), ("ja", "渋谷店")]), url).unwrap();
            let (w, h, grey, depth, _) = decode_png(&png);
            assert_eq!((w, h, depth), (PNG_WIDTH, PNG_HEIGHT, png::BitDepth::One));
            assert_eq!(decode_qr(w, h, &grey).0, url);
            let code = QrModules::text(url).unwrap();
            let full = code.width() + 2 * QUIET_ZONE;
            let module = 1700 / full;
            let (left, top) = ((PNG_WIDTH - module * full) / 2, 620);
            for y in 0..full * module {
                for x in 0..full * module {
                    let (mx, my) = (x / module, y / module);
                    let dark = mx >= QUIET_ZONE
                        && my >= QUIET_ZONE
                        && code.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE);
                    let ink = grey[(top + y) * w + left + x] == 0;
                    assert_eq!(ink, dark, "{url}: pixel {x},{y}");
                }
            }
        }
    }

    /// A landing URL longer than the PNG can print (a long `PUBLIC_BASE_URL`) is left to the
    /// SVG instead of overflowing the page.
    #[test]
    fn a_url_too_long_for_the_png_is_left_out_of_it_not_a_crash() {
        let long = format!("https://{}.example/s/shibuya", "a".repeat(300));
        let mut page = Bitmap::white(PNG_WIDTH, PNG_HEIGHT);
        assert!(!text_centred(&mut page, &long, PNG_HEIGHT - 200, 4));
        assert!(text_centred(&mut page, URL, PNG_HEIGHT - 200, 4));
    }

    /// The SVG's code is the URL's, inside four modules of white, and reads back.
    #[test]
    fn svg_poster_draws_the_code_of_the_url() {
        let svg = poster_svg(&store(&[("en", "Shibuya")]), URL).unwrap();
        let code = QrModules::text(URL).unwrap();
        let full = code.width() + 2 * QUIET_ZONE;
        assert!(svg.contains(&format!("<rect width=\"{full}\" height=\"{full}\"")));
        let d = svg
            .split("<path d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let grid = modules_of_path(d, full);
        let scale = 4;
        let side = full * scale;
        let grey: Vec<u8> = (0..side * side)
            .map(|i| {
                let (x, y) = (i % side / scale, i / side / scale);
                let dark = x >= QUIET_ZONE
                    && y >= QUIET_ZONE
                    && code.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
                assert_eq!(grid[y * full + x], dark, "module {x},{y}");
                if dark {
                    0
                } else {
                    255
                }
            })
            .collect();
        assert_eq!(decode_qr(side, side, &grey).0, URL);
    }

    #[test]
    fn svg_poster_escapes_names_and_carries_every_language() {
        let svg = poster_svg(
            &store(&[
                ("en", "<Shibuya & Co>"),
                ("ja", "渋谷店"),
                ("fr", "Shibuya"),
            ]),
            URL,
        )
        .unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("&lt;Shibuya &amp; Co&gt;"));
        assert!(svg.contains("スキャンして会員クラブに登録"));
        assert!(svg.contains("Scannez pour rejoindre le club"));
        assert!(svg.contains(URL.replace('&', "&amp;").as_str()));
        assert!(
            !svg.contains("<path d") || svg.contains("</path>"),
            "XML, not HTML void tags"
        );
    }

    #[test]
    fn text_lines_the_font_lacks_are_left_to_the_svg() {
        assert!(glyphs("Scan to join").is_some());
        assert!(glyphs("Carte de membre, coupons: «oui» é").is_some());
        assert!(glyphs("ひらがな").is_some());
        assert!(glyphs("渋谷店").is_none());
    }
}
