//! 1-bit greyscale PNGs: a white page, ink drawn on it in rectangles, QR codes among them.

use super::qr::QrModules;
use crate::error::Error;

/// A 1-bit page, packed as the PNG stores it: rows of `width.div_ceil(8)` bytes, the leftmost
/// pixel in the most significant bit, 1 for white.
pub struct Bitmap {
    width: usize,
    height: usize,
    row_bytes: usize,
    pixels: Vec<u8>,
}

impl Bitmap {
    /// A white page of `width`×`height` pixels.
    pub fn white(width: usize, height: usize) -> Bitmap {
        let row_bytes = width.div_ceil(8);
        Bitmap {
            width,
            height,
            row_bytes,
            pixels: vec![0xFF; row_bytes * height],
        }
    }

    /// Pixels per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Inks the rectangle of `w`×`h` pixels from (`x`, `y`); what falls off the page is not drawn.
    pub fn ink(&mut self, x: usize, y: usize, w: usize, h: usize) {
        let (left, right) = (x.min(self.width), x.saturating_add(w).min(self.width));
        if left == right {
            return;
        }
        let (first, last) = (left / 8, (right - 1) / 8);
        // The bits of pixels `from..to` of one byte (0 ≤ from < to ≤ 8).
        let bits = |from: usize, to: usize| ((0xFFu16 >> from) & !(0xFFu16 >> to)) as u8;
        for row in y.min(self.height)..y.saturating_add(h).min(self.height) {
            let bytes = &mut self.pixels[row * self.row_bytes..][first..=last];
            if first == last {
                bytes[0] &= !bits(left % 8, right - first * 8);
                continue;
            }
            bytes[0] &= !bits(left % 8, 8);
            bytes[last - first] &= !bits(0, right - last * 8);
            bytes[1..last - first].fill(0);
        }
    }

    /// Draws `code`'s dark modules, `module`×`module` pixels each, its top left corner at
    /// (`left`, `top`).
    pub fn draw_qr(&mut self, code: &QrModules, left: usize, top: usize, module: usize) {
        for y in 0..code.width() {
            for (x, len) in code.dark_runs(y) {
                self.ink(left + x * module, top + y * module, len * module, module);
            }
        }
    }

    /// The PNG: greyscale, 1 bit per pixel.
    ///
    /// # Errors
    /// [`Error::Internal`] if the encoder fails (a side of 0 or above 2³¹ pixels).
    pub fn encode(&self, compression: png::Compression) -> Result<Vec<u8>, Error> {
        let fail = |e: png::EncodingError| Error::internal(format!("png: {e}"));
        let side = |n: usize| u32::try_from(n).map_err(|_| Error::internal("png: too large"));
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side(self.width)?, side(self.height)?);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(compression);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(&self.pixels).map_err(fail)?;
        writer.finish().map_err(fail)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::testing::{decode_png, decode_qr, Rng};

    /// The packed page is the page drawn pixel by pixel, for rectangles of every alignment,
    /// partly off the page included.
    #[test]
    fn ink_is_the_pixels_of_its_rectangles() {
        let mut rng = Rng(0xB17);
        for width in [1, 7, 8, 9, 23, 64, 77] {
            let height = 11;
            let mut page = Bitmap::white(width, height);
            let mut pixels = vec![true; width * height];
            for _ in 0..20 {
                let (x, y) = (rng.below(width + 4), rng.below(height + 2));
                let (w, h) = (rng.below(width + 3), rng.below(5));
                page.ink(x, y, w, h);
                for py in y..(y + h).min(height) {
                    for px in x..(x + w).min(width) {
                        pixels[py * width + px] = false;
                    }
                }
            }
            let (w, h, grey, depth, _) = decode_png(&page.encode(png::Compression::Fast).unwrap());
            assert_eq!((w, h, depth), (width, height, png::BitDepth::One));
            let white: Vec<bool> = grey.iter().map(|g| *g == 255).collect();
            assert_eq!(white, pixels, "width {width}");
        }
    }

    #[test]
    fn a_drawn_code_reads_back() {
        let url = "https://optin.example/s/umeda";
        let code = QrModules::text(url).unwrap();
        let side = (code.width() + 8) * 3;
        let mut page = Bitmap::white(side, side);
        page.draw_qr(&code, 12, 12, 3);
        let (w, h, grey, ..) = decode_png(&page.encode(png::Compression::Balanced).unwrap());
        assert_eq!(decode_qr(w, h, &grey).0, url);
    }
}
