//! Barcodes of the member card and its coupons as images: inline SVG for the card page and PNG
//! for `GET /card/{card}/barcode.png`. A QR code at error correction M, black on white, with a
//! quiet zone of [`QUIET_ZONE`] = 6 modules (the specification asks for 4 at the least; phones
//! at the till read better with more).
//!
//! Payloads are base32 text (RFC 4648, no padding: A–Z and 2–7), at most [`MAX_PAYLOAD`] = 90
//! characters. They are encoded as one segment in QR alphanumeric mode (5.5 bits a character)
//! in the smallest version that holds them: version 4 at level M holds exactly 90 alphanumeric
//! characters, so every payload fits a 33×33 code (byte mode would need version 5 from 63 on).

use maud::{html, PreEscaped};

use super::png::Bitmap;
use super::qr::QrModules;
use super::svg;
use crate::error::Error;

/// Modules of white around the code, on each side.
pub const QUIET_ZONE: usize = 6;
/// Pixels per module of the PNG served at `GET /card/{card}/barcode.png`.
pub const PNG_SCALE: u32 = 8;
/// Characters a version-4 QR code holds at level M in alphanumeric mode.
pub const MAX_PAYLOAD: usize = 90;
/// The largest QR version a payload may need.
const MAX_VERSION: usize = 4;
/// The largest PNG side, in pixels, [`BarcodeImage::png`] draws.
const MAX_PNG_SIDE: u32 = 4096;

/// A barcode's QR code, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarcodeImage {
    /// The code, version 1 to 4, without its quiet zone.
    pub qr: QrModules,
}

impl BarcodeImage {
    /// Encodes a payload of upper-case letters and digits in QR alphanumeric mode at level M,
    /// in the smallest version that holds it.
    ///
    /// # Errors
    /// [`Error::Internal`] for a payload that is empty, longer than [`MAX_PAYLOAD`], has a
    /// character other than `A`–`Z` and `0`–`9`, or would need a version above 4.
    pub fn encode(payload: &str) -> Result<BarcodeImage, Error> {
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            return Err(Error::internal(format!(
                "barcode payload of {} bytes, not 1 to {MAX_PAYLOAD}",
                payload.len()
            )));
        }
        if let Some(bad) = payload
            .bytes()
            .position(|b| !(b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            return Err(Error::internal(format!(
                "barcode payload has a byte outside A-Z 0-9 at {bad}"
            )));
        }
        Ok(BarcodeImage {
            qr: QrModules::alphanumeric(payload, MAX_VERSION)?,
        })
    }

    /// Modules per side of the image, quiet zone included.
    pub fn size(&self) -> usize {
        self.qr.width() + 2 * QUIET_ZONE
    }

    /// The SVG, inline or standalone: a white square (the quiet zone included) and one black
    /// path of the horizontal runs of dark modules, one unit a module. No width or height: the
    /// page's CSS sizes it. `label` (caller text, escaped) names it for screen readers.
    pub fn svg(&self, label: &str) -> String {
        let n = self.size();
        html! {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n) " " (n) } role="img"
                aria-label=(label) shape-rendering="crispEdges" {
                rect width=(n) height=(n) fill="#fff" {}
                path fill="#000" d=(PreEscaped(svg::path(&self.qr, QUIET_ZONE))) {}
            }
        }
        .into_string()
    }

    /// A 1-bit greyscale PNG, `scale`×`scale` pixels a module, quiet zone included.
    ///
    /// # Errors
    /// [`Error::Internal`] if `scale` is 0 or makes a side larger than 4096 pixels, or if the
    /// encoder fails.
    pub fn png(&self, scale: u32) -> Result<Vec<u8>, Error> {
        let side = u32::try_from(self.size())
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .filter(|side| (1..=MAX_PNG_SIDE).contains(side))
            .ok_or_else(|| Error::internal(format!("barcode png scale {scale}")))?;
        let (scale, side) = (scale as usize, side as usize);
        let mut image = Bitmap::white(side, side);
        let zone = QUIET_ZONE * scale;
        image.draw_qr(&self.qr, zone, zone, scale);
        image.encode(png::Compression::Balanced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::svg::modules_of_path;
    use crate::images::testing::{base32, decode_png, decode_qr, Rng, RQRR_ECC_M};

    /// Characters QR alphanumeric mode holds at level M, versions 1 to 4.
    const CAPACITY: [usize; 4] = [20, 38, 61, 90];

    /// The smallest version whose alphanumeric capacity at level M holds `len` characters.
    fn expected_version(len: usize) -> usize {
        CAPACITY.iter().position(|&c| len <= c).unwrap() + 1
    }

    #[test]
    fn payloads_of_every_version_round_trip_through_a_real_decoder_via_the_png() {
        for (len, version) in [
            (1, 1),
            (20, 1),
            (21, 2),
            (38, 2),
            (47, 3),
            (61, 3),
            (62, 4),
            (74, 4),
            (90, 4),
        ] {
            let text = base32(len, len as u64);
            assert_eq!(text.len(), len);
            let code = BarcodeImage::encode(&text).unwrap();
            assert_eq!(code.qr.version(), version, "{len} characters");
            assert_eq!(code.qr.width(), 17 + 4 * version);
            let png = code.png(PNG_SCALE).unwrap();
            assert!(png.len() < 1024, "{} bytes", png.len());
            let (w, h, grey, depth, colour) = decode_png(&png);
            assert_eq!(
                (depth, colour),
                (png::BitDepth::One, png::ColorType::Grayscale)
            );
            assert_eq!((w, h), (code.size() * 8, code.size() * 8));
            let (read, read_version, ecc) = decode_qr(w, h, &grey);
            assert_eq!(read, text);
            assert_eq!(read_version, version);
            assert!(read_version <= 4);
            assert_eq!(ecc, RQRR_ECC_M, "error correction M");
        }
    }

    #[test]
    fn a_payload_with_every_alphanumeric_digit_round_trips() {
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let code = BarcodeImage::encode(text).unwrap();
        let (w, h, grey, ..) = decode_png(&code.png(3).unwrap());
        assert_eq!(decode_qr(w, h, &grey).0, text);
    }

    #[test]
    fn the_svg_is_one_small_path_that_decodes_to_the_payload() {
        for len in [20, 47, 90] {
            let text = base32(len, 7 + len as u64);
            let code = BarcodeImage::encode(&text).unwrap();
            let svg = code.svg("Member card");
            let n = code.size();
            assert!(svg.starts_with(&format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" role=\"img\" \
                 aria-label=\"Member card\" shape-rendering=\"crispEdges\">"
            )));
            assert!(svg.contains(&format!(
                "<rect width=\"{n}\" height=\"{n}\" fill=\"#fff\">"
            )));
            assert_eq!(svg.matches("<path").count(), 1);
            assert!(svg.contains("<path fill=\"#000\" d=\"M"));
            let open = svg.split('>').next().unwrap();
            assert!(
                !open.contains("width") && !open.contains("height"),
                "{open}"
            );
            assert!(svg.ends_with("</svg>"));
            if len == 90 {
                assert!(svg.len() < 6 * 1024, "{} bytes", svg.len());
            }
            let d = svg
                .split(" d=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let grid = modules_of_path(d, n);
            for y in 0..n {
                for x in 0..n {
                    let dark = x >= QUIET_ZONE
                        && y >= QUIET_ZONE
                        && code.qr.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
                    assert_eq!(grid[y * n + x], dark, "module {x},{y}");
                }
            }
            let scale = 4;
            let side = n * scale;
            let grey: Vec<u8> = (0..side * side)
                .map(|i| {
                    let (x, y) = (i % side / scale, i / side / scale);
                    if grid[y * n + x] {
                        0
                    } else {
                        255
                    }
                })
                .collect();
            let (read, version, ecc) = decode_qr(side, side, &grey);
            assert_eq!(read, text);
            assert_eq!(version, code.qr.version());
            assert_eq!(ecc, RQRR_ECC_M);
        }
    }

    #[test]
    fn the_svg_escapes_a_hostile_label() {
        let code = BarcodeImage::encode("ABC234").unwrap();
        let svg = code.svg("\"><script>alert('x')</script><x a=\"&");
        assert!(!svg.contains("<script"));
        assert!(svg.contains(
            "aria-label=\"&quot;&gt;&lt;script&gt;alert('x')&lt;/script&gt;&lt;x a=&quot;&amp;\""
        ));
        assert_eq!(
            svg.matches('<').count(),
            6,
            "svg, rect, path and their ends: {svg}"
        );
    }

    #[test]
    fn the_outer_six_modules_of_the_png_are_white_and_the_code_starts_right_after() {
        for len in [5, 90] {
            let code = BarcodeImage::encode(&base32(len, 3)).unwrap();
            let (w, h, grey, ..) = decode_png(&code.png(PNG_SCALE).unwrap());
            let zone = QUIET_ZONE * PNG_SCALE as usize;
            for y in 0..h {
                for x in 0..w {
                    if x < zone || y < zone || x >= w - zone || y >= h - zone {
                        assert_eq!(grey[y * w + x], 255, "pixel {x},{y}");
                    }
                }
            }
            // The finder patterns' corners are dark: the quiet zone is exactly six modules.
            assert_eq!(grey[zone * w + zone], 0);
            assert_eq!(grey[zone * w + w - zone - 1], 0);
            assert_eq!(grey[(h - zone - 1) * w + zone], 0);
        }
    }

    #[test]
    fn png_scales_are_honoured_and_absurd_ones_are_errors() {
        let code = BarcodeImage::encode("MEMBER2").unwrap();
        assert_eq!(code.qr.version(), 1);
        let (w, ..) = decode_png(&code.png(1).unwrap());
        assert_eq!(w, 21 + 2 * QUIET_ZONE);
        let (w, ..) = decode_png(&code.png(5).unwrap());
        assert_eq!(w, (21 + 2 * QUIET_ZONE) * 5);
        assert!(code.png(0).is_err());
        assert!(code.png(1000).is_err());
        assert!(code.png(u32::MAX).is_err());
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        let long = "A".repeat(MAX_PAYLOAD + 1);
        for bad in [
            "",
            long.as_str(),
            "abc",
            "ABCdEF",
            "AB CD",
            "AB-CD",
            "AB$CD",
            "AB:CD",
            "ABCD=",
            "ÉTÉ",
            "AB\0",
            "AB\n",
        ] {
            assert!(
                matches!(BarcodeImage::encode(bad), Err(Error::Internal { .. })),
                "{bad:?}"
            );
        }
        let longest = "Z".repeat(MAX_PAYLOAD);
        assert_eq!(BarcodeImage::encode(&longest).unwrap().qr.version(), 4);
        assert!(BarcodeImage::encode("0189").is_ok(), "all of QR's digits");
    }

    #[test]
    fn random_payloads_of_every_length_fit_version_4() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for round in 0..400 {
            let len = 1 + rng.below(MAX_PAYLOAD);
            let text: String = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())] as char)
                .collect();
            let code = BarcodeImage::encode(&text).unwrap();
            assert_eq!(code.qr.version(), expected_version(len), "{text}");
            assert_eq!(code.qr.width(), 17 + 4 * code.qr.version());
            if round % 20 == 0 {
                let (w, h, grey, ..) = decode_png(&code.png(3).unwrap());
                assert_eq!(decode_qr(w, h, &grey).0, text);
            }
        }
    }
}
