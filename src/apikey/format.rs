//! The API key text format: base62 random part, CRC-32 checksum, generation.

/// base62 digits, in value order (SPEC §5).
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters a key must have at least (30 × log2(62) ≈ 178 bits).
pub const MIN_RANDOM: usize = 30;
/// Random characters `generate` writes (≈ 238 bits).
pub const GEN_RANDOM: usize = 40;
const CHECKSUM: usize = 6;

/// CRC-32 tables for slicing-by-8: `T[0]` is the classic byte table, `T[k]`
/// advances a byte through k more zero bytes, so eight input bytes cost
/// eight independent lookups instead of eight dependent steps.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 8 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            k += 1;
        }
        i += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !0u32;
    let mut chunks = data.chunks_exact(8);
    for b in &mut chunks {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) ^ c;
        let hi = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        c = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The value of six base62 digits (most significant first), or `None` for a
/// character outside the alphabet.
#[inline]
fn base62_value(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |v, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        Some(v * 62 + d as u64)
    })
}

/// The six-character base62 checksum of `body` (most significant first).
pub fn base62_crc(body: &[u8]) -> [u8; CHECKSUM] {
    let mut v = crc32(body) as u64;
    let mut out = [b'0'; CHECKSUM];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    out
}

/// Does `key` (whose configured prefix is `plen` bytes, followed by `_`) have
/// a base62 random part of at least `MIN_RANDOM` (30) characters and a correct
/// checksum?
#[inline]
pub fn check_format(key: &[u8], plen: usize) -> bool {
    let secret = &key[plen + 1..];
    if secret.len() < MIN_RANDOM + CHECKSUM || !secret.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, sum) = key.split_at(key.len() - CHECKSUM);
    // Decoding the six digits and comparing numbers is the same test as
    // encoding the CRC and comparing text (62^6 > 2^32, so the encoding is
    // one-to-one), without six divisions.
    base62_value(sum) == Some(crc32(body) as u64)
}

/// A new key with `prefix`, from the operating system's randomness (ring).
pub fn generate(prefix: &str) -> Result<String, String> {
    use ring::rand::SecureRandom;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("prefix {prefix:?} must be non-empty ASCII letters, digits and '_'"));
    }
    let rng = ring::rand::SystemRandom::new();
    let mut key = String::with_capacity(prefix.len() + 1 + GEN_RANDOM + CHECKSUM);
    key.push_str(prefix);
    key.push('_');
    let mut filled = 0;
    while filled < GEN_RANDOM {
        let mut buf = [0u8; 64];
        rng.fill(&mut buf).map_err(|_| "the system random generator failed".to_string())?;
        for b in buf {
            // Rejection sampling: 248 = 4 × 62, so accepted bytes are uniform.
            if b < 248 && filled < GEN_RANDOM {
                key.push(BASE62[(b % 62) as usize] as char);
                filled += 1;
            }
        }
    }
    let sum = base62_crc(key.as_bytes());
    key.push_str(core::str::from_utf8(&sum).expect("base62 is ASCII"));
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn sliced_crc_matches_the_bitwise_definition() {
        fn bitwise(data: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in data {
                c ^= b as u32;
                for _ in 0..8 {
                    c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                }
            }
            !c
        }
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(crc32(&data[..len]), bitwise(&data[..len]), "{len}");
        }
    }

    #[test]
    fn base62_value_inverts_the_encoding() {
        for v in [0u64, 1, 61, 62, 0xFFFF_FFFF, 123456789] {
            let mut s = [b'0'; 6];
            let mut x = v;
            for slot in s.iter_mut().rev() {
                *slot = BASE62[(x % 62) as usize];
                x /= 62;
            }
            assert_eq!(base62_value(&s), Some(v));
        }
        assert_eq!(base62_value(b"00000-"), None);
    }

    #[test]
    fn base62_is_padded_msd_first() {
        // crc32("") = 0 → all zeros; 0xFFFFFFFF = "4gfFC3" in base62.
        assert_eq!(&base62_crc(b""), b"000000");
        let mut v: u64 = 0xFFFF_FFFF;
        let mut s = [0u8; 6];
        for slot in s.iter_mut().rev() {
            *slot = BASE62[(v % 62) as usize];
            v /= 62;
        }
        assert_eq!(&s, b"4gfFC3");
    }

    #[test]
    fn generated_keys_check_out() {
        let k = generate("wk_live").unwrap();
        assert!(k.starts_with("wk_live_"));
        assert_eq!(k.len(), "wk_live_".len() + GEN_RANDOM + CHECKSUM);
        assert!(check_format(k.as_bytes(), 7));
        assert_ne!(generate("wk").unwrap(), generate("wk").unwrap());
        assert!(generate("").is_err());
        assert!(generate("a-b").is_err());
    }

    #[test]
    fn format_rules() {
        let body = format!("p_{}", "a".repeat(MIN_RANDOM));
        let ok = format!("{body}{}", core::str::from_utf8(&base62_crc(body.as_bytes())).unwrap());
        assert!(check_format(ok.as_bytes(), 1));
        let short = format!("p_{}", "a".repeat(MIN_RANDOM - 1));
        let short = format!("{short}{}", core::str::from_utf8(&base62_crc(short.as_bytes())).unwrap());
        assert!(!check_format(short.as_bytes(), 1));
        let body = format!("p_{}-", "a".repeat(MIN_RANDOM));
        let dash = format!("{body}{}", core::str::from_utf8(&base62_crc(body.as_bytes())).unwrap());
        assert!(!check_format(dash.as_bytes(), 1));
    }
}
