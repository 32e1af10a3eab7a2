//! The pass's images, drawn here so the pass needs no asset pipeline: a card mark in the
//! brand colour (icon, logo) at 1×, 2× and 3×. Drawn once per isolate at the edge.

use crate::error::Error;

/// The card's colour (white text on it passes WCAG AA: 9.7:1).
pub const BRAND_RGB: [u8; 3] = [0x1b, 0x4d, 0x3e];
pub const BRAND_HEX: &str = "#1b4d3e";

/// `(file name, PNG)` of every image a store card carries.
///
/// # Errors
/// Only if PNG encoding fails.
pub fn pass_images() -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut files = Vec::new();
    for (suffix, scale) in [("", 1), ("@2x", 2), ("@3x", 3)] {
        // icon: 29 pt square (notifications, the lock screen); logo: at most 160×50 pt.
        files.push((format!("icon{suffix}.png"), mark(29 * scale, 29 * scale)?));
        files.push((format!("logo{suffix}.png"), mark(50 * scale, 50 * scale)?));
    }
    Ok(files)
}

/// A white card with a stripe on the brand colour, `w`×`h` pixels, as an RGB PNG.
pub fn mark(w: usize, h: usize) -> Result<Vec<u8>, Error> {
    let mut pixels = Vec::with_capacity(w * h * 3);
    let (cx0, cx1, cy0, cy1) = (w / 6, w - w / 6, h * 3 / 10, h * 7 / 10);
    let (sy0, sy1) = (cy0 + (cy1 - cy0) / 5, cy0 + (cy1 - cy0) * 2 / 5);
    for y in 0..h {
        for x in 0..w {
            let on_card = (cx0..cx1).contains(&x) && (cy0..cy1).contains(&y);
            let stripe = on_card && (sy0..sy1).contains(&y);
            let rgb = if on_card && !stripe {
                [0xff, 0xff, 0xff]
            } else {
                BRAND_RGB
            };
            pixels.extend_from_slice(&rgb);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w as u32, h as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let failed = |_| Error::Internal {
            cause: "the pass image could not be encoded".into(),
        };
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&pixels).map_err(failed)?;
    }
    Ok(out)
}
