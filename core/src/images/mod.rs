//! QR codes as images: the card's barcodes ([`barcode`]) and the store posters ([`poster`]).
//! Both encode with [`qr`], draw SVG paths with [`svg`] and 1-bit PNGs with [`png`]; they keep
//! only their own layout, text and sizes.

pub mod barcode;
pub mod png;
pub mod poster;
pub mod qr;
pub mod svg;

#[cfg(test)]
mod testing;
