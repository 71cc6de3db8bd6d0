//! The API key text format: base62 random part, CRC-32 checksum, generation.

/// base62 digits, in value order (SPEC §5).
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters a key must have at least (30 × log2(62) ≈ 178 bits).
pub const MIN_RANDOM: usize = 30;
/// Random characters `generate` writes (≈ 238 bits).
pub const GEN_RANDOM: usize = 40;
const CHECKSUM: usize = 6;

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
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
/// a base62 random part of at least [`MIN_RANDOM`] characters and a correct
/// checksum?
#[inline]
pub fn check_format(key: &[u8], plen: usize) -> bool {
    let secret = &key[plen + 1..];
    if secret.len() < MIN_RANDOM + CHECKSUM || !secret.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, sum) = key.split_at(key.len() - CHECKSUM);
    base62_crc(body) == sum
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
