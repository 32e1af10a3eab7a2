//! Base32 (RFC 4648 §6, upper case, no padding) and hex, the two text encodings of our codes,
//! keys and signatures. Hand-written (~100 lines) instead of `data-encoding`, whose generic
//! encoder and decoder would add ~40 KB to the Worker's wasm; they are checked against it in the
//! tests. Decoding is strict where it matters: a base32 text has exactly one form (no padding,
//! no impossible length, unused trailing bits zero), so a signed code cannot be re-spelt.

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Base32 of `bytes`, upper case, without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        // 8 bits a byte, 5 a character: 1 → 2, 2 → 4, 3 → 5, 4 → 7, 5 → 8 characters.
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            let index = (bits >> (35 - 5 * i)) & 31;
            out.push(char::from(BASE32[index as usize]));
        }
    }
    out
}

/// [`base32`] in lower case: the ids and key names people and logs see (`pk_…`, `fe_…`, `rd_…`,
/// pseudonyms).
pub fn base32_lower(bytes: &[u8]) -> String {
    base32(bytes).to_ascii_lowercase()
}

/// The bytes of an upper-case, unpadded base32 text; `None` for any other character, a length
/// no byte string encodes to (1, 3 or 6 characters past a multiple of 8), or non-zero unused
/// trailing bits.
pub fn base32_decode(text: &[u8]) -> Option<Vec<u8>> {
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    for chunk in text.chunks(8) {
        let mut bits = 0u64;
        for &c in chunk {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'2'..=b'7' => c - b'2' + 26,
                _ => return None,
            };
            bits = bits << 5 | u64::from(value);
        }
        let used = chunk.len() * 5;
        let bytes = used / 8;
        // The bits past the last whole byte must be zero.
        if bits & ((1 << (used - bytes * 8)) - 1) != 0 {
            return None;
        }
        bits >>= used - bytes * 8;
        for i in (0..bytes).rev() {
            out.push((bits >> (8 * i)) as u8);
        }
    }
    Some(out)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// The bytes of a hex text in either case; `None` for an odd length or any other character.
pub fn hex_decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    text.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_encoding::{BASE32_NOPAD, HEXLOWER, HEXLOWER_PERMISSIVE};

    /// A xorshift64 generator: deterministic, no crates.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded.as_bytes()).unwrap(), plain.as_bytes());
        }
        assert_eq!(hex(b"\x00\x7f\xff"), "007fff");
        assert_eq!(hex_decode(b"007FfF").unwrap(), b"\x00\x7f\xff");
    }

    #[test]
    fn encodings_match_data_encoding() {
        for len in 0..80 {
            for seed in 0..20 {
                let b = bytes(seed * 101 + len as u64, len);
                assert_eq!(base32(&b), BASE32_NOPAD.encode(&b));
                assert_eq!(hex(&b), HEXLOWER.encode(&b));
            }
        }
    }

    /// Every text of up to 4 characters over an alphabet with invalid characters, and random
    /// longer ones, decode (or fail) exactly as `data-encoding` decodes them.
    #[test]
    fn decoding_accepts_and_refuses_what_data_encoding_does() {
        let alphabet = b"AZ27Q01a=8 f";
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .filter(|t| t.len() == texts.last().unwrap().len())
                .flat_map(|t| {
                    alphabet.iter().map(move |c| {
                        let mut t = t.clone();
                        t.push(*c);
                        t
                    })
                })
                .collect();
            texts.extend(longer);
        }
        for seed in 0..3000u64 {
            let len = (seed % 40) as usize;
            texts.push(
                bytes(seed, len)
                    .iter()
                    .map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[usize::from(b % 32)])
                    .collect(),
            );
        }
        for t in &texts {
            assert_eq!(base32_decode(t), BASE32_NOPAD.decode(t).ok(), "{t:?}");
            let hex_text: Vec<u8> = t
                .iter()
                .map(|c| if *c == b'Q' { b'c' } else { *c })
                .collect();
            assert_eq!(
                hex_decode(&hex_text),
                HEXLOWER_PERMISSIVE.decode(&hex_text).ok()
            );
        }
        for seed in 0..500u64 {
            let hex_text = hex(&bytes(seed, (seed % 33) as usize)).to_uppercase();
            assert_eq!(
                hex_decode(hex_text.as_bytes()),
                HEXLOWER_PERMISSIVE.decode(hex_text.as_bytes()).ok()
            );
        }
    }
}
