//! Printable store posters: a QR code to the store's landing page with the store's name and a
//! call to action in its languages. SVG is the print master (vector, every language as text,
//! set in the printer's fonts); PNG is A4 at 300 dpi, 1 bit per pixel, with the text lines its
//! embedded bitmap font can draw (Latin script and hiragana; other scripts are left to the SVG).

use maud::html;
use qrcode::EcLevel;

use crate::error::Error;
use crate::lang::Lang;
use crate::stores::Store;

/// A4 at 300 dpi, in pixels.
pub const PNG_WIDTH: u32 = 2480;
pub const PNG_HEIGHT: u32 = 3508;
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

/// The QR modules of `url` at error correction M: `true` is dark. Row-major, `width` per row.
///
/// # Errors
/// [`Error::Internal`] if the URL does not fit a QR code (it always does for our URLs).
pub fn qr_modules(url: &str) -> Result<(usize, Vec<bool>), Error> {
    // The crate picks the segments and the smallest version; `render::modules` draws it.
    let bits = qrcode::bits::encode_auto(url.as_bytes(), EcLevel::M)
        .map_err(|e| Error::internal(format!("qr: {e}")))?;
    crate::render::modules(bits, EcLevel::M)
}

/// The SVG poster (A4, millimetres).
///
/// # Errors
/// As [`qr_modules`].
pub fn poster_svg(store: &Store, url: &str) -> Result<String, Error> {
    let (width, dark) = qr_modules(url)?;
    let mut path = String::with_capacity(dark.len() * 8);
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        path.push_str(&format!("M{} {}h1v1h-1z", i % width, i / width));
    }
    let full = (width + 2 * QUIET_ZONE) as f64;
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
                path transform=(format!("translate({QUIET_ZONE} {QUIET_ZONE})")) d=(path) fill="#000000" {}
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

/// A 1-bit canvas (true = black).
struct Canvas {
    width: usize,
    height: usize,
    ink: Vec<bool>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            width: width as usize,
            height: height as usize,
            ink: vec![false; width as usize * height as usize],
        }
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for row in y..(y + h).min(self.height) {
            let start = row * self.width;
            for cell in &mut self.ink[start + x.min(self.width)..start + (x + w).min(self.width)] {
                *cell = true;
            }
        }
    }

    /// Draws a line centred at `y` if the font has every character; returns whether it did.
    fn text_centred(&mut self, text: &str, y: usize, max_scale: usize) -> bool {
        let Some(glyphs) = glyphs(text) else {
            return false;
        };
        let usable = self.width - 2 * 160;
        let scale = max_scale.min(usable / (glyphs.len() * 8).max(1)).max(1);
        let mut x = (self.width - glyphs.len() * 8 * scale) / 2;
        for glyph in glyphs {
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    // font8x8: the least significant bit is the leftmost pixel.
                    if bits & (1 << col) != 0 {
                        self.fill(x + col * scale, y + row * scale, scale, scale);
                    }
                }
            }
            x += 8 * scale;
        }
        true
    }

    fn to_png(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::internal(format!("png: {e}")))?;
        let row_bytes = self.width.div_ceil(8);
        let mut data = vec![0u8; row_bytes * self.height];
        for (y, row) in self.ink.chunks(self.width).enumerate() {
            for (x, ink) in row.iter().enumerate() {
                if !*ink {
                    // In 1-bit grayscale, 1 is white.
                    data[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        writer
            .write_image_data(&data)
            .map_err(|e| Error::internal(format!("png: {e}")))?;
        writer
            .finish()
            .map_err(|e| Error::internal(format!("png: {e}")))?;
        Ok(out)
    }
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
/// As [`qr_modules`], or if encoding fails.
pub fn poster_png(store: &Store, url: &str) -> Result<Vec<u8>, Error> {
    let (width, dark) = qr_modules(url)?;
    let mut canvas = Canvas::new(PNG_WIDTH, PNG_HEIGHT);
    let langs = store.languages();
    let mut y = 200;
    for lang in &langs {
        if canvas.text_centred(call_to_action(*lang).0, y, 9) {
            y += 120;
        }
    }
    let module = 1700 / (width + 2 * QUIET_ZONE);
    let size = module * (width + 2 * QUIET_ZONE);
    let left = (canvas.width - size) / 2 + QUIET_ZONE * module;
    let top = 620 + QUIET_ZONE * module;
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        canvas.fill(
            left + (i % width) * module,
            top + (i / width) * module,
            module,
            module,
        );
    }
    let mut y = 620 + size + 140;
    for (_, name) in distinct_names(store) {
        if canvas.text_centred(name, y, 12) {
            y += 140;
        }
    }
    canvas.text_centred(url, PNG_HEIGHT as usize - 200, 4);
    canvas.to_png()
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
            updated_at_ms: 0,
        }
    }

    const URL: &str = "https://shop.example/s/shibuya-01?c=spring-2026";

    #[test]
    fn the_poster_url_fits_qr_version_4_at_level_m() {
        let (width, _) = qr_modules(URL).unwrap();
        assert!(width <= 33, "version 4 is 33 modules wide, got {width}");
    }

    #[test]
    fn png_poster_is_a4_at_300_dpi_and_decodes_to_the_url() {
        let png = poster_png(&store(&[("en", "Shibuya"), ("ja", "渋谷店")]), URL).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info().clone();
        assert_eq!((info.width, info.height), (PNG_WIDTH, PNG_HEIGHT));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        let row = (info.width as usize).div_ceil(8);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(
            info.width as usize,
            info.height as usize,
            |x, y| {
                if buf[y * row + x / 8] & (0x80 >> (x % 8)) != 0 {
                    255
                } else {
                    0
                }
            },
        );
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, URL);
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
