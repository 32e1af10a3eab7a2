//! What the images' tests share: deterministic random text, and PNG and QR decoders.

/// A xorshift64 generator: deterministic, no crates.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Base32 text of `len` characters, as the codes are: the encoding of random bytes.
pub fn base32(len: usize, seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let bytes: Vec<u8> = (0..len.div_ceil(8) * 5).map(|_| rng.next() as u8).collect();
    let mut text = data_encoding::BASE32_NOPAD.encode(&bytes);
    text.truncate(len);
    text
}

/// Width, height and one grey byte a pixel of a PNG, with its bit depth and colour type.
pub fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>, png::BitDepth, png::ColorType) {
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
pub fn decode_qr(w: usize, h: usize, grey: &[u8]) -> (String, usize, u16) {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (meta, content) = grids[0].decode().unwrap();
    (content, meta.version.0, meta.ecc_level)
}

/// rqrr's `ecc_level` is the format information's two bits: M is 0 (L 1, H 2, Q 3).
pub const RQRR_ECC_M: u16 = 0;
