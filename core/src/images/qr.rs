//! QR codes at error correction M, as modules. `qrcode` encodes and draws them. For codes up to
//! 64 modules wide (every barcode; URLs up to 251 bytes) the mask is chosen here, by the crate's
//! own penalty rules and so the same mask, only faster; wider codes are the crate's, mask
//! included.

use std::cell::RefCell;
use std::rc::Rc;

use qrcode::bits::Bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};

use crate::error::Error;

/// Every code here is at level M: 15% of its codewords may be lost and it still reads.
const EC_LEVEL: EcLevel = EcLevel::M;
/// The widest code whose mask is chosen here: its rows and columns fit a `u64` each.
const MAX_LINES_WIDTH: usize = 64;

/// A QR code's modules, without a quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    width: usize,
    /// Row-major, `width` per row; `true` is dark.
    dark: Vec<bool>,
}

impl QrModules {
    /// Encodes `text` in one alphanumeric segment (QR's upper-case letters, digits and
    /// ` $%*+-./:`), in the smallest version up to `max_version` that holds it.
    ///
    /// # Errors
    /// [`Error::Internal`] if `text` needs a version above `max_version`.
    pub fn alphanumeric(text: &str, max_version: usize) -> Result<QrModules, Error> {
        for version in 1..=max_version.min(40) as i16 {
            let mut bits = Bits::new(Version::Normal(version));
            // Either fails with `DataTooLong` when the text does not fit this version.
            let fits = bits.push_alphanumeric_data(text.as_bytes()).is_ok()
                && bits.push_terminator(EC_LEVEL).is_ok();
            if fits {
                return QrModules::of_bits(bits);
            }
        }
        Err(Error::internal(format!(
            "qr: {} characters need a version above {max_version}",
            text.len()
        )))
    }

    /// Encodes `text` (a URL) in the segments and the smallest version `qrcode` picks.
    ///
    /// # Errors
    /// [`Error::Internal`] if `text` does not fit a QR code.
    pub fn text(text: &str) -> Result<QrModules, Error> {
        let bits = qrcode::bits::encode_auto(text.as_bytes(), EC_LEVEL).map_err(qr_error)?;
        QrModules::of_bits(bits)
    }

    /// Modules per side (21 for version 1, 4 more a version).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The QR version, 1 to 40.
    pub fn version(&self) -> usize {
        (self.width - 17) / 4
    }

    /// Whether the module at column `x`, row `y` is dark; anything outside the code is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// The runs of dark modules of row `y`, left to right, as `(first column, length)`.
    pub fn dark_runs(&self, y: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let row = &self.dark[y * self.width..(y + 1) * self.width];
        let mut x = 0;
        std::iter::from_fn(move || {
            let start = x + row[x..].iter().position(|d| *d)?;
            let len = row[start..].iter().take_while(|d| **d).count();
            x = start + len;
            Some((start, len))
        })
    }

    /// The code of `bits` with its mask. `qrcode`'s own choice boxes a closure per module of its
    /// finder scan (~0.7 ms a barcode natively, ~4 ms of CPU for a card page); here, up to
    /// [`MAX_LINES_WIDTH`] modules, the code is drawn once and each mask is an exclusive or
    /// with its [`MaskFlips`], kept per isolate, scored on rows and columns as bit lines: ~20 µs
    /// a barcode natively, about a third of it choosing the mask.
    fn of_bits(bits: Bits) -> Result<QrModules, Error> {
        let version = bits.version();
        let width = version.width() as usize;
        if width > MAX_LINES_WIDTH {
            let code = qrcode::QrCode::with_bits(bits, EC_LEVEL).map_err(qr_error)?;
            return Ok(QrModules {
                width,
                dark: dark_modules(code.into_colors()),
            });
        }
        let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EC_LEVEL)
            .map_err(qr_error)?;
        let unmasked = dark_modules(drawn(version, &data, &ec).into_colors());
        let flips = mask_flips(version, data.len(), ec.len());
        let code = Lines::of(&unmasked, width);
        let mut masked = code.clone();
        // `min_by_key` keeps the first of equal scores: the crate's order on a tie.
        let best = (0..MASKS.len())
            .min_by_key(|&m| {
                masked.set_xor(&code, &flips.lines[m]);
                penalty(&masked, width)
            })
            .ok_or_else(|| Error::internal("qr: no mask"))?;
        Ok(QrModules {
            width,
            dark: xor(&unmasked, &flips.modules[best]),
        })
    }
}

fn qr_error(e: qrcode::types::QrError) -> Error {
    Error::internal(format!("qr: {e}"))
}

/// Module by module exclusive or.
fn xor(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(a, b)| a ^ b).collect()
}

/// Modules as `true` for dark (empty ones are light).
fn dark_modules(colors: Vec<Color>) -> Vec<bool> {
    colors.into_iter().map(|c| c == Color::Dark).collect()
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
fn drawn(version: Version, data: &[u8], ec: &[u8]) -> Canvas {
    let mut canvas = Canvas::new(version, EC_LEVEL);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(data, ec);
    canvas
}

/// What each of the eight masks changes in a code of one version, in [`MASKS`]' order (see
/// [`mask_flips`]).
struct MaskFlips {
    /// The modules each mask inverts, row-major.
    modules: [Vec<bool>; 8],
    /// The same as [`Lines`].
    lines: [Lines; 8],
}

/// What each of the eight masks changes in a code of this version (at most
/// [`MAX_LINES_WIDTH`] wide), in [`MASKS`]' order: the data modules it inverts and the dark
/// modules of its format information. Masking is an exclusive or with this, whatever the data
/// (`qrcode`'s `apply_mask` inverts the data modules the mask selects, then draws the format
/// information over light modules), so it is drawn once per isolate by the crate itself, on
/// codewords of zeros, and kept: masking a code then costs one pass instead of a canvas copy
/// and redraw per mask.
fn mask_flips(version: Version, data_len: usize, ec_len: usize) -> Rc<MaskFlips> {
    thread_local! {
        static FLIPS: RefCell<Vec<(Version, Rc<MaskFlips>)>> = const { RefCell::new(Vec::new()) };
    }
    if let Some(found) = FLIPS.with(|f| {
        f.borrow()
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, flips)| Rc::clone(flips))
    }) {
        return found;
    }
    let width = version.width() as usize;
    let canvas = drawn(version, &vec![0; data_len], &vec![0; ec_len]);
    let light = dark_modules(canvas.clone().into_colors());
    let modules = MASKS.map(|pattern| {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        xor(&dark_modules(masked.into_colors()), &light)
    });
    let lines = modules.each_ref().map(|m| Lines::of(m, width));
    let flips = Rc::new(MaskFlips { modules, lines });
    FLIPS.with(|f| f.borrow_mut().push((version, Rc::clone(&flips))));
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

/// ISO/IEC 18004 §7.8.3's mask penalty of a code up to 64 modules wide, computed as `qrcode`
/// computes it (its finder rule and its unrounded balance term included): runs of 5+ (N - 2
/// each), 2×2 blocks (3 each), finder-like `#.###.#` patterns without four light modules on
/// one side (40 each, the crate's constant 360 left out: it shifts every mask alike), and the
/// dark/light balance.
fn penalty(lines: &Lines, width: usize) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::testing::{base32, decode_qr, Rng};

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

    /// The code of this module is the one `qrcode` draws, mask included, module for module:
    /// alphanumeric text of every length a barcode takes, and URLs of versions 1 to 15 (masks
    /// chosen here up to version 11, 61 modules; by the crate from version 12, 65 modules).
    #[test]
    fn the_modules_are_those_qrcode_itself_draws() {
        let theirs = |code: qrcode::QrCode| (code.width(), dark_modules(code.into_colors()));
        for len in 1..=90 {
            for seed in 0..6 {
                let text = base32(len, (len * 31 + seed) as u64);
                let ours = QrModules::alphanumeric(&text, 4).unwrap();
                let mut bits = Bits::new(Version::Normal(ours.version() as i16));
                bits.push_alphanumeric_data(text.as_bytes()).unwrap();
                bits.push_terminator(EC_LEVEL).unwrap();
                let code = qrcode::QrCode::with_bits(bits, EC_LEVEL).unwrap();
                assert_eq!((ours.width, ours.dark), theirs(code), "{text}");
            }
        }
        let mut versions = std::collections::BTreeSet::new();
        for n in 0..300 {
            let url = format!(
                "https://optin.example/s/store-{n}?j={}",
                base32(n % 60 + 1, n as u64)
            ) + &"c".repeat(n);
            let ours = QrModules::text(&url).unwrap();
            versions.insert(ours.version());
            let code = qrcode::QrCode::with_error_correction_level(&url, EC_LEVEL).unwrap();
            assert_eq!((ours.width, ours.dark), theirs(code), "{url}");
        }
        assert_eq!(
            versions,
            (3..=15).collect(),
            "versions on both sides of 64 modules"
        );
    }

    /// A code wider than 64 modules reads back: the crate's mask is a valid one.
    #[test]
    fn a_wide_code_reads_back() {
        let url = format!("https://optin.example/s/{}", "wide".repeat(60));
        let code = QrModules::text(&url).unwrap();
        assert!(code.width() > MAX_LINES_WIDTH, "{}", code.width());
        let (scale, zone) = (4, 4);
        let side = (code.width() + 2 * zone) * scale;
        let grey: Vec<u8> = (0..side * side)
            .map(|i| {
                let (x, y) = (i % side / scale, i / side / scale);
                let dark = x >= zone && y >= zone && code.is_dark(x - zone, y - zone);
                if dark {
                    0
                } else {
                    255
                }
            })
            .collect();
        assert_eq!(decode_qr(side, side, &grey).0, url);
    }

    #[test]
    fn dark_runs_cover_the_dark_modules_of_a_row() {
        let code = QrModules::text("https://optin.example/s/shibuya").unwrap();
        for y in 0..code.width() {
            let mut row = vec![false; code.width()];
            let mut end = 0;
            for (x, len) in code.dark_runs(y) {
                assert!(len > 0 && x >= end, "runs are apart, left to right");
                assert!(x == 0 || !code.is_dark(x - 1, y), "runs are whole");
                row[x..x + len].fill(true);
                end = x + len;
            }
            assert_eq!(row, code.dark[y * code.width()..(y + 1) * code.width()]);
        }
    }

    #[test]
    fn text_longer_than_its_versions_is_an_error() {
        assert!(QrModules::alphanumeric(&"A".repeat(21), 1).is_err());
        assert_eq!(
            QrModules::alphanumeric(&"A".repeat(21), 2)
                .unwrap()
                .version(),
            2
        );
        assert!(QrModules::text(&"x".repeat(3000)).is_err());
    }
}
