//! Barcodes of the member card and its coupons as images: inline SVG for the card page and PNG
//! for `GET /card/{card}/barcode.png`. A QR code at error correction M, black on white, with a
//! quiet zone of 6 modules (the specification asks for 4; phones at the till read better with
//! more). Payloads are base32 text (A–Z, 2–7), encoded in QR alphanumeric mode, version ≤ 4.

use maud::html;
use qrcode::{Color, EcLevel, QrCode, Version};

use crate::error::Error;

/// Modules of white around the code.
pub const QUIET_ZONE: usize = 6;
/// Pixels per module of the PNG.
pub const PNG_SCALE: u32 = 8;
/// Characters a version-4 QR code holds at level M in alphanumeric mode.
pub const MAX_PAYLOAD: usize = 90;

/// A QR code's modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    /// The QR version (1–4).
    pub version: i16,
    /// Modules per side, without the quiet zone.
    pub width: usize,
    dark: Vec<bool>,
}

impl Barcode {
    /// Encodes a payload of upper-case letters and digits.
    ///
    /// # Errors
    /// [`Error::Internal`] for a payload that is empty, too long, of other characters, or that
    /// would need a version above 4 (none of ours does).
    pub fn encode(payload: &str) -> Result<Barcode, Error> {
        if payload.is_empty()
            || payload.len() > MAX_PAYLOAD
            || !payload
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(Error::internal("barcode payload is not 1-90 of A-Z 0-9"));
        }
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|e| Error::internal(format!("qr: {e}")))?;
        let version = match code.version() {
            Version::Normal(v) if v <= 4 => v,
            v => return Err(Error::internal(format!("barcode needs QR {v:?}"))),
        };
        Ok(Barcode {
            version,
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Sides of the image in modules, quiet zone included.
    pub fn size(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The SVG: a white square and one path of horizontal runs of dark modules; no width or
    /// height (the page sizes it). `label` names it for screen readers.
    pub fn svg(&self, label: &str) -> String {
        let mut d = String::with_capacity(self.width * self.width);
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let len = x - start;
                d.push_str(&format!(
                    "M{} {}h{len}v1h-{len}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE
                ));
            }
        }
        let n = self.size();
        html! {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n) " " (n) } role="img"
                aria-label=(label) shape-rendering="crispEdges" {
                rect width=(n) height=(n) fill="#fff" {}
                path fill="#000" d=(d) {}
            }
        }
        .into_string()
    }

    /// A 1-bit greyscale PNG, `scale` pixels per module, quiet zone included.
    ///
    /// # Errors
    /// [`Error::Internal`] if the encoder fails.
    pub fn png(&self, scale: u32) -> Result<Vec<u8>, Error> {
        let scale = scale.max(1) as usize;
        let side = self.size() * scale;
        let row_bytes = side.div_ceil(8);
        let mut pixels = vec![0xFFu8; row_bytes * side];
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = (x / scale, y / scale);
                let dark = mx >= QUIET_ZONE
                    && my >= QUIET_ZONE
                    && self.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE);
                if dark {
                    pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        let fail = |e: png::EncodingError| Error::internal(format!("png: {e}"));
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(&pixels).map_err(fail)?;
        writer.finish().map_err(fail)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(len: usize, seed: u64) -> String {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(x % 32) as usize] as char
            })
            .collect()
    }

    fn decode_grey(w: usize, h: usize, grey: &[u8]) -> (String, usize) {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (meta, content) = grids[0].decode().unwrap();
        (content, meta.version.0)
    }

    fn decode_png(bytes: &[u8]) -> (String, usize) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (frame.width as usize, frame.height as usize);
        let grey: Vec<u8> = buf[..w * h].to_vec();
        decode_grey(w, h, &grey)
    }

    #[test]
    fn payloads_of_every_size_round_trip_through_a_real_decoder() {
        for len in [20, 47, 74, 87, 90] {
            let text = payload(len, len as u64);
            let code = Barcode::encode(&text).unwrap();
            assert!(code.version <= 4, "{len}: version {}", code.version);
            let (read, version) = decode_png(&code.png(PNG_SCALE).unwrap());
            assert_eq!(read, text);
            assert!(version <= 4);
        }
    }

    /// Rasterises our own SVG path (`M x y h n v1 h-n z` runs) at 4 px per module.
    fn rasterise_svg(svg: &str, size: usize) -> Vec<u8> {
        let scale = 4;
        let side = size * scale;
        let mut grey = vec![255u8; side * side];
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let len: usize = rest.split('v').next().unwrap().parse().unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            for py in y * scale..(y + 1) * scale {
                for px in x * scale..(x + len) * scale {
                    grey[py * side + px] = 0;
                }
            }
        }
        grey
    }

    #[test]
    fn the_svg_decodes_is_small_and_escapes_its_label() {
        let text = payload(90, 7);
        let code = Barcode::encode(&text).unwrap();
        let svg = code.svg("<script>\"'");
        assert!(svg.len() < 6_000, "{} bytes", svg.len());
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(!svg.contains("<script>"));
        let side = code.size() * 4;
        let (read, _) = decode_grey(side, side, &rasterise_svg(&svg, code.size()));
        assert_eq!(read, text);
    }

    #[test]
    fn the_quiet_zone_is_white() {
        let code = Barcode::encode(&payload(47, 3)).unwrap();
        for i in 0..code.size() {
            for j in 0..QUIET_ZONE {
                let at = |x: usize, y: usize| {
                    x >= QUIET_ZONE
                        && y >= QUIET_ZONE
                        && code.is_dark(x - QUIET_ZONE, y - QUIET_ZONE)
                };
                assert!(!at(i, j) && !at(j, i) && !at(i, code.size() - 1 - j));
            }
        }
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        for bad in ["", "abc", "AB CD", "AB-CD", &"A".repeat(91), "ÉTÉ"] {
            assert!(Barcode::encode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn random_payload_lengths_all_fit_version_4() {
        for seed in 1..200u64 {
            let len = 1 + (seed * 7919 % 90) as usize;
            let code = Barcode::encode(&payload(len, seed)).unwrap();
            assert!((1..=4).contains(&code.version));
        }
    }
}
