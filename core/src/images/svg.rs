//! A QR code as the `d` of one SVG path: the horizontal runs of dark modules, one unit a module.

use super::qr::QrModules;

/// The path of `code`'s dark modules, each run `M{x} {y}h{len}v1h-{len}z`, shifted right and down
/// by `quiet_zone` units. Digits and the letters M, h, v, z only: nothing to escape.
pub fn path(code: &QrModules, quiet_zone: usize) -> String {
    // Written by hand, not with `write!`: dozens of runs per row, and the formatting machinery
    // would be most of the cost of a card page's barcodes.
    let mut d = String::with_capacity(code.width() * code.width() * 2);
    for y in 0..code.width() {
        for (x, len) in code.dark_runs(y) {
            d.push('M');
            push_number(&mut d, x + quiet_zone);
            d.push(' ');
            push_number(&mut d, y + quiet_zone);
            d.push('h');
            push_number(&mut d, len);
            d.push_str("v1h-");
            push_number(&mut d, len);
            d.push('z');
        }
    }
    d
}

/// Appends `n` in decimal.
fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Parses a [`path`] back into the modules it covers, `size`×`size` row-major, checking that
/// every run closes on itself, fits and overlaps no other.
#[cfg(test)]
pub fn modules_of_path(d: &str, size: usize) -> Vec<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_covers_the_dark_modules_inside_the_quiet_zone() {
        let code = QrModules::text("https://optin.example/s/shibuya-01?c=spring").unwrap();
        for zone in [0, 4, 6] {
            let size = code.width() + 2 * zone;
            let grid = modules_of_path(&path(&code, zone), size);
            for y in 0..size {
                for x in 0..size {
                    let dark = x >= zone && y >= zone && code.is_dark(x - zone, y - zone);
                    assert_eq!(grid[y * size + x], dark, "zone {zone}, module {x},{y}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut out = String::new();
        for n in [0, 7, 10, 99, 100, 4096] {
            push_number(&mut out, n);
            out.push(',');
        }
        assert_eq!(out, "0,7,10,99,100,4096,");
    }
}
