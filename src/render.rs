//! Barcodes of the member card and its coupons as images: inline SVG for the card page and PNG
//! for `GET /card/{card}/barcode.png`. A QR code at error correction M, black on white, with a
//! quiet zone of [`QUIET_ZONE`] = 6 modules (the specification asks for 4 at the least; phones
//! at the till read better with more).
//!
//! Payloads are base32 text (RFC 4648, no padding: A–Z and 2–7), at most [`MAX_PAYLOAD`] = 90
//! characters. They are encoded as one segment in QR alphanumeric mode (5.5 bits a character)
//! in the smallest version that holds them: version 4 at level M holds exactly 90 alphanumeric
//! characters, so every payload fits a 33×33 code (byte mode would need version 5 from 63 on).

use std::cell::RefCell;
use std::rc::Rc;

use maud::{html, PreEscaped};
use qrcode::bits::Bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};

use crate::error::Error;

/// Modules of white around the code, on each side.
pub const QUIET_ZONE: usize = 6;
/// Pixels per module of the PNG served at `GET /card/{card}/barcode.png`.
pub const PNG_SCALE: u32 = 8;
/// Characters a version-4 QR code holds at level M in alphanumeric mode.
pub const MAX_PAYLOAD: usize = 90;
/// The largest QR version a payload may need.
const MAX_VERSION: i16 = 4;
/// The largest PNG side, in pixels, [`Barcode::png`] draws.
const MAX_PNG_SIDE: u32 = 4096;

/// A QR code's modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    /// The QR version (1–4).
    pub version: i16,
    /// Modules per side, without the quiet zone (21, 25, 29 or 33).
    pub width: usize,
    /// Row-major, `width` per row; `true` is dark.
    dark: Vec<bool>,
}

impl Barcode {
    /// Encodes a payload of upper-case letters and digits in QR alphanumeric mode at level M,
    /// in the smallest version that holds it.
    ///
    /// # Errors
    /// [`Error::Internal`] for a payload that is empty, longer than [`MAX_PAYLOAD`], has a
    /// character other than `A`–`Z` and `0`–`9`, or would need a version above 4.
    pub fn encode(payload: &str) -> Result<Barcode, Error> {
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
        for version in 1..=MAX_VERSION {
            let mut bits = Bits::new(Version::Normal(version));
            // Either fails with `DataTooLong` when the payload does not fit this version.
            let fits = bits.push_alphanumeric_data(payload.as_bytes()).is_ok()
                && bits.push_terminator(EcLevel::M).is_ok();
            if !fits {
                continue;
            }
            let (width, dark) = modules(bits, EcLevel::M)?;
            return Ok(Barcode {
                version,
                width,
                dark,
            });
        }
        Err(Error::internal(format!(
            "barcode payload of {} characters needs a QR version above {MAX_VERSION}",
            payload.len()
        )))
    }

    /// Whether the module at column `x`, row `y` (without the quiet zone) is dark; anything
    /// outside the code is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// Modules per side of the image, quiet zone included.
    pub fn size(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The SVG, inline or standalone: a white square (the quiet zone included) and one black
    /// path of the horizontal runs of dark modules, one unit a module. No width or height: the
    /// page's CSS sizes it. `label` (caller text, escaped) names it for screen readers.
    pub fn svg(&self, label: &str) -> String {
        // Written by hand, not with `write!`: dozens of runs per row, and the formatting
        // machinery would be most of the cost of a card page's barcodes.
        let mut d = String::with_capacity(self.width * self.width * 2);
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while self.is_dark(x, y) {
                    x += 1;
                }
                let len = x - start;
                d.push('M');
                push_number(&mut d, start + QUIET_ZONE);
                d.push(' ');
                push_number(&mut d, y + QUIET_ZONE);
                d.push('h');
                push_number(&mut d, len);
                d.push_str("v1h-");
                push_number(&mut d, len);
                d.push('z');
            }
        }
        let n = self.size();
        html! {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n) " " (n) } role="img"
                aria-label=(label) shape-rendering="crispEdges" {
                rect width=(n) height=(n) fill="#fff" {}
                // Digits and the letters M, h, v, z only: nothing to escape.
                path fill="#000" d=(PreEscaped(&d)) {}
            }
        }
        .into_string()
    }

    /// A 1-bit greyscale PNG (1 is white), `scale`×`scale` pixels a module, quiet zone included.
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
        let (scale, px) = (scale as usize, side as usize);
        let row_bytes = px.div_ceil(8);
        let mut pixels = vec![0xFFu8; row_bytes * px];
        for my in 0..self.width {
            // Draw the first pixel row of this module row, then copy it `scale - 1` times.
            let top = (my + QUIET_ZONE) * scale * row_bytes;
            for mx in (0..self.width).filter(|&mx| self.is_dark(mx, my)) {
                let left = (mx + QUIET_ZONE) * scale;
                for x in left..left + scale {
                    pixels[top + x / 8] &= !(0x80 >> (x % 8));
                }
            }
            for copy in 1..scale {
                pixels.copy_within(top..top + row_bytes, top + copy * row_bytes);
            }
        }
        let fail = |e: png::EncodingError| Error::internal(format!("png: {e}"));
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(&pixels).map_err(fail)?;
        writer.finish().map_err(fail)?;
        Ok(out)
    }
}

/// The modules of a QR code (`true` is dark, row-major): `qrcode` draws it, and the mask is
/// chosen here by the same penalty rules as `qrcode::QrCode::with_bits`, so the code is the
/// same module for module. The crate's own choice boxes a closure per module of its finder
/// scan, which made one code cost ~0.7 ms (native, opt-level z) and the card page ~4 ms of CPU.
/// Here the code is drawn once and masking is linear: each mask is an exclusive or with its
/// [`MaskFlips`], kept per isolate, and for codes up to 64 modules wide (every barcode) with
/// their rows and columns as bit lines, so a mask is scored from 2×width exclusive ors without
/// building its grid: ~20 µs a barcode natively, about a third of it choosing the mask (~53 µs
/// when each masked grid is built and turned into bit lines, ~130 µs module by module).
///
/// # Errors
/// [`Error::Internal`] if the bits do not fit their version (the callers size them first).
pub fn modules(bits: Bits, ec_level: EcLevel) -> Result<(usize, Vec<bool>), Error> {
    let version = bits.version();
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec_level)
        .map_err(|e| Error::internal(format!("qr: {e}")))?;
    let width = version.width() as usize;
    let unmasked = dark_modules(drawn(version, ec_level, &data, &ec));
    let flips = mask_flips(version, ec_level, data.len(), ec.len());
    // `min_by_key` keeps the first of equal scores: the crate's order on a tie.
    let best = match &flips.lines {
        Some(lines) => {
            let code = Lines::of(&unmasked, width);
            let mut masked = code.clone();
            (0..MASKS.len()).min_by_key(|&m| {
                masked.set_xor(&code, &lines[m]);
                penalty_of_lines(&masked, width)
            })
        }
        None => (0..MASKS.len()).min_by_key(|&m| {
            let dark: Vec<bool> = xor(&unmasked, &flips.modules[m]);
            penalty_of_slices(&dark, width)
        }),
    }
    .ok_or_else(|| Error::internal("qr: no mask"))?;
    Ok((width, xor(&unmasked, &flips.modules[best])))
}

/// Module by module exclusive or.
fn xor(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(a, b)| a ^ b).collect()
}

/// A square of at most 64×64 modules as bit lines: bit `x` of `rows[y]` and bit `y` of
/// `columns[x]` are both module (`x`, `y`), 1 for dark.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Lines {
    rows: Vec<u64>,
    columns: Vec<u64>,
}

impl Lines {
    /// The lines of a row-major grid `width` modules wide (`width` ≤ 64).
    fn of(dark: &[bool], width: usize) -> Lines {
        let mut lines = Lines {
            rows: vec![0; width],
            columns: vec![0; width],
        };
        for (y, row) in dark.chunks_exact(width).enumerate() {
            for (x, _) in row.iter().enumerate().filter(|(_, d)| **d) {
                lines.rows[y] |= 1 << x;
                lines.columns[x] |= 1 << y;
            }
        }
        lines
    }

    /// Makes these lines `a ^ b` (all three of one width).
    fn set_xor(&mut self, a: &Lines, b: &Lines) {
        for (out, (a, b)) in self.rows.iter_mut().zip(a.rows.iter().zip(&b.rows)) {
            *out = a ^ b;
        }
        for (out, (a, b)) in self
            .columns
            .iter_mut()
            .zip(a.columns.iter().zip(&b.columns))
        {
            *out = a ^ b;
        }
    }
}

/// The code before masking: function patterns and the codewords (the format information's
/// modules stay empty until a mask is applied).
fn drawn(version: Version, ec_level: EcLevel, data: &[u8], ec: &[u8]) -> Canvas {
    let mut canvas = Canvas::new(version, ec_level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(data, ec);
    canvas
}

/// A canvas's modules, `true` for dark (empty ones are light).
fn dark_modules(canvas: Canvas) -> Vec<bool> {
    canvas
        .into_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect()
}

/// What each of the eight masks changes in a code of one version and level, in [`MASKS`]'
/// order (see [`mask_flips`]).
struct MaskFlips {
    /// The modules each mask inverts, row-major.
    modules: [Vec<bool>; 8],
    /// The same as [`Lines`], for codes up to 64 modules wide.
    lines: Option<[Lines; 8]>,
}

/// The flips of one version and level.
type FlipsOf = ((Version, EcLevel), Rc<MaskFlips>);

/// What each of the eight masks changes in a code of this version and level, in [`MASKS`]'
/// order: the data modules it inverts and the dark modules of its format information. Masking
/// is an exclusive or with this, whatever the data (`qrcode`'s `apply_mask` inverts the data
/// modules the mask selects, then draws the format information over light modules), so it is
/// drawn once per isolate by the crate itself, on codewords of zeros, and kept: masking a
/// code then costs one pass instead of a canvas copy and redraw per mask.
fn mask_flips(
    version: Version,
    ec_level: EcLevel,
    data_len: usize,
    ec_len: usize,
) -> Rc<MaskFlips> {
    thread_local! {
        static FLIPS: RefCell<Vec<FlipsOf>> = const { RefCell::new(Vec::new()) };
    }
    let key = (version, ec_level);
    if let Some(found) = FLIPS.with(|f| {
        f.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| Rc::clone(v))
    }) {
        return found;
    }
    let width = version.width() as usize;
    let canvas = drawn(version, ec_level, &vec![0; data_len], &vec![0; ec_len]);
    let light = dark_modules(canvas.clone());
    let modules = MASKS.map(|pattern| {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        xor(&dark_modules(masked), &light)
    });
    let lines = (width <= 64).then(|| modules.each_ref().map(|m| Lines::of(m, width)));
    let flips = Rc::new(MaskFlips { modules, lines });
    FLIPS.with(|f| f.borrow_mut().push((key, Rc::clone(&flips))));
    flips
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// Appends `n` in decimal.
fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// ISO/IEC 18004 §7.8.3's mask penalty of a code up to 64 modules wide, computed as `qrcode`
/// computes it (its finder rule and its unrounded balance term included): runs of 5+ (N - 2
/// each), 2×2 blocks (3 each), finder-like `#.###.#` patterns without four light modules on
/// one side (40 each, the crate's constant 360 left out: it shifts every mask alike), and the
/// dark/light balance. [`penalty_of_slices`] is the same for any width, module by module.
fn penalty_of_lines(lines: &Lines, width: usize) -> u32 {
    let all = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let mut score = 0u32;
    for &line in lines.rows.iter().chain(&lines.columns) {
        // Runs of 5+: a run of N holds N - 4 windows of five alike modules and starts one
        // sequence of them, so it scores (N - 4) + 2 = N - 2.
        let alike = !(line ^ (line >> 1)) & all(width - 1);
        let fives = alike & (alike >> 1) & (alike >> 2) & (alike >> 3);
        score += fives.count_ones() + 2 * (fives & !(fives << 1)).count_ones();
        // Finder-like windows `#.###.#` starting at each bit of `found`.
        if width >= 7 {
            let mut found = all(width - 6);
            for (k, dark) in [true, false, true, true, true, false, true]
                .iter()
                .enumerate()
            {
                found &= if *dark { line >> k } else { !line >> k };
            }
            while found != 0 {
                let at = found.trailing_zeros() as usize;
                found &= found - 1;
                let before = (line >> at.saturating_sub(4)) & all(at.min(4));
                let after_len = width.saturating_sub(at + 7).min(4);
                let after = if after_len == 0 {
                    0
                } else {
                    (line >> (at + 7)) & all(after_len)
                };
                if before == 0 || after == 0 {
                    score += 40;
                }
            }
        }
    }
    for pair in lines.rows.windows(2) {
        let same_down = !(pair[0] ^ pair[1]);
        let same_across = !(pair[0] ^ (pair[0] >> 1));
        let blocks = same_down & (same_down >> 1) & same_across & all(width - 1);
        score += 3 * blocks.count_ones();
    }
    let dark_count: usize = lines.rows.iter().map(|r| r.count_ones() as usize).sum();
    let ratio = dark_count * 200 / (width * width);
    score + ratio.abs_diff(100) as u32
}

/// [`penalty_of_lines`] module by module, for any width.
fn penalty_of_slices(dark: &[bool], width: usize) -> u32 {
    const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
    let columns: Vec<bool> = (0..width * width)
        .map(|i| dark[(i % width) * width + i / width])
        .collect();
    let mut score = 0u32;
    for line in dark.chunks_exact(width).chain(columns.chunks_exact(width)) {
        for run in line.chunk_by(|a, b| a == b) {
            if run.len() >= 5 {
                score += run.len() as u32 - 2;
            }
        }
        for (start, window) in line.windows(7).enumerate() {
            if window != FINDER {
                continue;
            }
            let before = &line[start.saturating_sub(4)..start];
            let after = &line[(start + 7).min(width)..(start + 11).min(width)];
            if !before.contains(&true) || !after.contains(&true) {
                score += 40;
            }
        }
    }
    for (row, next) in dark
        .chunks_exact(width)
        .zip(dark.chunks_exact(width).skip(1))
    {
        for x in 0..width - 1 {
            let c = row[x];
            if row[x + 1] == c && next[x] == c && next[x + 1] == c {
                score += 3;
            }
        }
    }
    let ratio = dark.iter().filter(|d| **d).count() * 200 / dark.len();
    score + ratio.abs_diff(100) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::QrCode;

    /// Characters QR alphanumeric mode holds at level M, versions 1 to 4.
    const CAPACITY: [usize; 4] = [20, 38, 61, 90];

    /// The smallest version whose alphanumeric capacity at level M holds `len` characters.
    fn expected_version(len: usize) -> i16 {
        CAPACITY.iter().position(|&c| len <= c).unwrap() as i16 + 1
    }

    /// A xorshift64 generator: deterministic, no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Base32 text of `len` characters, as the codes are: the encoding of random bytes.
    fn base32(len: usize, seed: u64) -> String {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let bytes: Vec<u8> = (0..len.div_ceil(8) * 5).map(|_| rng.next() as u8).collect();
        let mut text = data_encoding::BASE32_NOPAD.encode(&bytes);
        text.truncate(len);
        text
    }

    /// Width, height and one grey byte a pixel of a PNG, with its bit depth and colour type.
    fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>, png::BitDepth, png::ColorType) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let (depth, colour) = (reader.info().bit_depth, reader.info().color_type);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        assert_eq!(frame.bit_depth, png::BitDepth::Eight, "expanded to 8 bits");
        let (w, h) = (frame.width as usize, frame.height as usize);
        buf.truncate(w * h);
        (w, h, buf, depth, colour)
    }

    /// The one QR code of a greyscale image, read by rqrr: its text, version and ECC level.
    fn decode_qr(w: usize, h: usize, grey: &[u8]) -> (String, usize, u16) {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        let (meta, content) = grids[0].decode().unwrap();
        (content, meta.version.0, meta.ecc_level)
    }

    /// rqrr's `ecc_level` is the format information's two bits: M is 0 (L 1, H 2, Q 3).
    const RQRR_ECC_M: u16 = 0;

    /// The line-as-bits penalty is the module-by-module one, on random grids of every width it
    /// takes (sparse, balanced and dense), and on grids made of finder-like patterns.
    #[test]
    fn the_bit_penalty_is_the_slice_penalty() {
        let mut rng = Rng(0x5EED);
        for width in 1..=64 {
            for density in [2, 50, 98] {
                for _ in 0..6 {
                    let dark: Vec<bool> = (0..width * width)
                        .map(|_| rng.below(100) < density)
                        .collect();
                    assert_eq!(
                        penalty_of_lines(&Lines::of(&dark, width), width),
                        penalty_of_slices(&dark, width),
                        "width {width}, density {density}"
                    );
                }
            }
            let finders: Vec<bool> = (0..width * width)
                .map(|i| [true, false, true, true, true, false, true, false][(i + i / width) % 8])
                .collect();
            assert_eq!(
                penalty_of_lines(&Lines::of(&finders, width), width),
                penalty_of_slices(&finders, width)
            );
        }
    }

    /// Masking bit lines is masking the grid: the lines of `a ^ b` are those of `a` exclusive-or
    /// those of `b`, rows and columns alike.
    #[test]
    fn lines_mask_as_the_grid_does() {
        let mut rng = Rng(0x11E5);
        for width in [1, 21, 33, 63, 64] {
            let grid = |rng: &mut Rng| -> Vec<bool> {
                (0..width * width).map(|_| rng.below(2) == 1).collect()
            };
            let (a, b) = (grid(&mut rng), grid(&mut rng));
            let mut masked = Lines::of(&a, width);
            masked.set_xor(&Lines::of(&a, width), &Lines::of(&b, width));
            assert_eq!(masked, Lines::of(&xor(&a, &b), width), "width {width}");
        }
    }

    /// The mask chosen here is the one `qrcode` chooses: the same code, module for module, for
    /// barcodes of every length and for poster URLs (byte mode, larger versions).
    #[test]
    fn the_modules_are_those_qrcode_itself_draws() {
        let theirs = |code: QrCode| -> Vec<bool> {
            code.into_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect()
        };
        for len in 1..=MAX_PAYLOAD {
            for seed in 0..6 {
                let text = base32(len, (len * 31 + seed) as u64);
                let ours = Barcode::encode(&text).unwrap();
                let mut bits = Bits::new(Version::Normal(ours.version));
                bits.push_alphanumeric_data(text.as_bytes()).unwrap();
                bits.push_terminator(EcLevel::M).unwrap();
                let code = QrCode::with_bits(bits, EcLevel::M).unwrap();
                assert_eq!(ours.width, code.width());
                assert_eq!(ours.dark, theirs(code), "{text}");
            }
        }
        for n in 0..200 {
            let url = format!(
                "https://optin.example/s/store-{n}?j={}",
                base32(n % 60 + 1, n as u64)
            );
            let bits = qrcode::bits::encode_auto(url.as_bytes(), EcLevel::M).unwrap();
            let (width, dark) = modules(bits, EcLevel::M).unwrap();
            let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
            assert_eq!(width, code.width());
            assert_eq!(dark, theirs(code), "{url}");
        }
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
            let code = Barcode::encode(&text).unwrap();
            assert_eq!(code.version, version, "{len} characters");
            assert_eq!(code.width, 17 + 4 * version as usize);
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
            assert_eq!(read_version, version as usize);
            assert!(read_version <= 4);
            assert_eq!(ecc, RQRR_ECC_M, "error correction M");
        }
    }

    #[test]
    fn a_payload_with_every_alphanumeric_digit_round_trips() {
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let code = Barcode::encode(text).unwrap();
        let (w, h, grey, ..) = decode_png(&code.png(3).unwrap());
        assert_eq!(decode_qr(w, h, &grey).0, text);
    }

    /// Parses our own path (`M{x} {y}h{len}v1h-{len}z` runs) back into a module grid of
    /// `size`×`size`, quiet zone included.
    fn svg_modules(svg: &str, size: usize) -> Vec<bool> {
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut grid = vec![false; size * size];
        for run in d.split('z').filter(|r| !r.is_empty()) {
            let rest = run.strip_prefix('M').unwrap();
            let (x, rest) = rest.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let (len, back) = rest.split_once("v1h-").unwrap();
            assert_eq!(len, back, "the run closes on itself");
            let (x, y, len): (usize, usize, usize) =
                (x.parse().unwrap(), y.parse().unwrap(), len.parse().unwrap());
            assert!(len > 0 && x + len <= size && y < size);
            for cell in &mut grid[y * size + x..y * size + x + len] {
                assert!(!*cell, "runs do not overlap");
                *cell = true;
            }
        }
        grid
    }

    #[test]
    fn the_svg_is_one_small_path_that_decodes_to_the_payload() {
        for len in [20, 47, 90] {
            let text = base32(len, 7 + len as u64);
            let code = Barcode::encode(&text).unwrap();
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
            let grid = svg_modules(&svg, n);
            for y in 0..n {
                for x in 0..n {
                    let dark = x >= QUIET_ZONE
                        && y >= QUIET_ZONE
                        && code.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
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
            assert_eq!(version, code.version as usize);
            assert_eq!(ecc, RQRR_ECC_M);
        }
    }

    #[test]
    fn the_svg_escapes_a_hostile_label() {
        let code = Barcode::encode("ABC234").unwrap();
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
            let code = Barcode::encode(&base32(len, 3)).unwrap();
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
        let code = Barcode::encode("MEMBER2").unwrap();
        assert_eq!(code.version, 1);
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
                matches!(Barcode::encode(bad), Err(Error::Internal { .. })),
                "{bad:?}"
            );
        }
        let longest = "Z".repeat(MAX_PAYLOAD);
        assert_eq!(Barcode::encode(&longest).unwrap().version, 4);
        assert!(Barcode::encode("0189").is_ok(), "all of QR's digits");
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
            let code = Barcode::encode(&text).unwrap();
            assert_eq!(code.version, expected_version(len), "{text}");
            assert_eq!(code.width, 17 + 4 * code.version as usize);
            assert_eq!(code.dark.len(), code.width * code.width);
            if round % 20 == 0 {
                let (w, h, grey, ..) = decode_png(&code.png(3).unwrap());
                assert_eq!(decode_qr(w, h, &grey).0, text);
            }
        }
    }
}
