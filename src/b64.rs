//! Strict base64 engines: the one place where warden's base64 rules live.
//!
//! * JWS segments and JWK members: base64url, no padding, canonical trailing
//!   bits (RFC 7515 §2, SPEC §5) — `"AB=="`, `"AB+/"` and `"AF"` are refused.
//! * Basic credentials: standard alphabet with required padding (RFC 7617).
//! * PHC strings: standard alphabet, no padding (PHC string format "B64").

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const fn strict(pad: DecodePaddingMode) -> GeneralPurposeConfig {
    GeneralPurposeConfig::new()
        .with_encode_padding(matches!(pad, DecodePaddingMode::RequireCanonical))
        .with_decode_padding_mode(pad)
        .with_decode_allow_trailing_bits(false)
}

/// base64url without padding, canonical (JWS, JWK).
pub const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, strict(DecodePaddingMode::RequireNone));
/// Standard base64 with canonical padding (HTTP Basic).
pub const STD_PADDED: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, strict(DecodePaddingMode::RequireCanonical));
/// Standard base64 without padding (PHC strings).
pub const STD_NOPAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, strict(DecodePaddingMode::RequireNone));
/// bcrypt's own alphabet, no padding. Trailing bits are ignored, as every
/// bcrypt implementation does (22 characters carry 132 bits for a 128-bit salt).
pub const BCRYPT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// The exact decoded length of `n` unpadded base64 characters, or `None` when
/// no unpadded encoding has that length (`n % 4 == 1`).
#[inline]
pub fn unpadded_decoded_len(n: usize) -> Option<usize> {
    match n % 4 {
        1 => None,
        r => Some(n / 4 * 3 + r.saturating_sub(1)),
    }
}

/// base64url digit values; 0xFF for every byte outside the alphabet
/// (padding, `+`, `/`, `.`, whitespace and non-ASCII included).
const URL_TABLE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// Decode unpadded base64url `input`, appending to `out` (within its spare
/// capacity when the caller reserved enough, so nothing is allocated).
/// Returns the range of `out` that holds the result.
///
/// Strict as RFC 7515 §2 asks: alphabet only, no padding, no length ≡ 1
/// (mod 4), and the unused low bits of the last character must be zero, so
/// every byte string has exactly one accepted encoding. This is the JWS hot
/// path: four characters at a time through a table, one validity test per
/// quantum.
#[inline]
pub fn decode_url_append(input: &[u8], out: &mut Vec<u8>) -> Option<core::ops::Range<usize>> {
    let n = unpadded_decoded_len(input.len())?;
    let start = out.len();
    out.resize(start + n, 0);
    if decode_url_into(input, &mut out[start..]) {
        Some(start..start + n)
    } else {
        out.truncate(start);
        None
    }
}

/// `URL_TABLE` pre-shifted into each of a quantum's four positions, with
/// invalid characters mapped to a value whose top byte is set: decoding a
/// quantum is four loads and three ORs, and one test catches any invalid
/// character.
const fn shifted(shift: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let v = URL_TABLE[i];
        t[i] = if v == 0xFF { 0xFF00_0000 } else { (v as u32) << shift };
        i += 1;
    }
    t
}
static Q0: [u32; 256] = shifted(18);
static Q1: [u32; 256] = shifted(12);
static Q2: [u32; 256] = shifted(6);
static Q3: [u32; 256] = shifted(0);

#[inline(always)]
fn quantum(q: &[u8; 4]) -> u32 {
    Q0[q[0] as usize] | Q1[q[1] as usize] | Q2[q[2] as usize] | Q3[q[3] as usize]
}

#[inline(always)]
fn put3(o: &mut [u8; 3], v: u32) {
    *o = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
}

/// Decode `input` into `dst`, which is exactly `unpadded_decoded_len` long.
#[inline]
fn decode_url_into(input: &[u8], dst: &mut [u8]) -> bool {
    let full = input.len() / 4;
    let mut bad = 0u32;
    // Sixteen characters to twelve bytes per step, on fixed-size arrays so
    // that no index needs a bounds check; then single quanta.
    let blocks = full / 4;
    for (i, o) in input.chunks_exact(16).zip(dst.chunks_exact_mut(12)) {
        let i: &[u8; 16] = i.try_into().expect("16");
        let o: &mut [u8; 12] = o.try_into().expect("12");
        let (q0, q1, q2, q3) = (
            quantum(&[i[0], i[1], i[2], i[3]]),
            quantum(&[i[4], i[5], i[6], i[7]]),
            quantum(&[i[8], i[9], i[10], i[11]]),
            quantum(&[i[12], i[13], i[14], i[15]]),
        );
        bad |= q0 | q1 | q2 | q3;
        let (a, rest) = o.split_at_mut(3);
        let (b, rest) = rest.split_at_mut(3);
        let (c, d) = rest.split_at_mut(3);
        put3(a.try_into().expect("3"), q0);
        put3(b.try_into().expect("3"), q1);
        put3(c.try_into().expect("3"), q2);
        put3(d.try_into().expect("3"), q3);
    }
    let done = blocks * 4;
    for (q, o) in input[done * 4..full * 4].chunks_exact(4).zip(dst[done * 3..full * 3].chunks_exact_mut(3)) {
        let v = quantum(q.try_into().expect("4"));
        bad |= v;
        put3(o.try_into().expect("3"), v);
    }
    if bad & 0xFF00_0000 != 0 {
        return false;
    }
    let t = &URL_TABLE;
    let rest = &mut dst[3 * full..];
    match input[4 * full..] {
        [] => true,
        [a, b] => {
            let (a, b) = (t[a as usize], t[b as usize]);
            // 12 bits carry one byte: the last 4 must be zero.
            if (a | b) & 0xC0 != 0 || b & 0x0F != 0 {
                return false;
            }
            rest[0] = a << 2 | b >> 4;
            true
        }
        [a, b, c] => {
            let (a, b, c) = (t[a as usize], t[b as usize], t[c as usize]);
            // 18 bits carry two bytes: the last 2 must be zero.
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 {
                return false;
            }
            let v = (a as u32) << 12 | (b as u32) << 6 | c as u32;
            rest[0] = (v >> 10) as u8;
            rest[1] = (v >> 2) as u8;
            true
        }
        _ => false,
    }
}

/// Decode with `engine`, appending to `out`.
pub fn decode_append(engine: &GeneralPurpose, input: &[u8], out: &mut Vec<u8>) -> Option<core::ops::Range<usize>> {
    let start = out.len();
    // Padded input decodes to at most this many bytes; unpadded to exactly
    // `unpadded_decoded_len`. Either way this bound is tight enough.
    let max = input.len() / 4 * 3 + 3;
    out.resize(start + max, 0);
    match engine.decode_slice(input, &mut out[start..]) {
        Ok(n) => {
            out.truncate(start + n);
            Some(start..start + n)
        }
        Err(_) => {
            out.truncate(start);
            None
        }
    }
}

/// Decode a whole string into a new vector (load time only).
pub fn decode_vec(engine: &GeneralPurpose, input: &str) -> Option<Vec<u8>> {
    engine.decode(input).ok()
}

/// Encode (load time, CLI, tests).
pub fn encode(engine: &GeneralPurpose, bytes: &[u8]) -> String {
    engine.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Option<Vec<u8>> {
        let mut v = Vec::new();
        decode_url_append(s.as_bytes(), &mut v).map(|r| v[r].to_vec())
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(url("").unwrap(), b"");
        assert_eq!(url("YQ").unwrap(), b"a");
        assert_eq!(url("YWI").unwrap(), b"ab");
        assert_eq!(url("_-8").unwrap(), [0xff, 0xef]);
        for bad in ["YQ==", "YQ=", "YR", "YWJ", "Y", "+/8", "YW I", "YW*", "YWI\n"] {
            assert!(url(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn fast_decoder_agrees_with_the_strict_engine() {
        // Every string of length 0..=6 over a small alphabet that includes
        // invalid characters: both decoders accept the same set and agree.
        let alphabet = b"AQgw_-/+=.a0";
        let mut count = 0;
        for len in 0..=6u32 {
            let total = (alphabet.len() as u64).pow(len);
            for mut k in 0..total {
                let mut s = Vec::new();
                for _ in 0..len {
                    s.push(alphabet[(k % alphabet.len() as u64) as usize]);
                    k /= alphabet.len() as u64;
                }
                let mut v = Vec::new();
                let fast = decode_url_append(&s, &mut v).map(|r| v[r].to_vec());
                let reference = URL.decode(&s).ok();
                assert_eq!(fast, reference, "{:?}", String::from_utf8_lossy(&s));
                count += 1;
            }
        }
        assert!(count > 3_000_000 / 2);
        let long: Vec<u8> = (0..=255u8).collect();
        let enc = encode(&URL, &long);
        let mut v = Vec::new();
        let r = decode_url_append(enc.as_bytes(), &mut v).unwrap();
        assert_eq!(&v[r], &long[..]);
    }

    #[test]
    fn lengths() {
        assert_eq!(unpadded_decoded_len(0), Some(0));
        assert_eq!(unpadded_decoded_len(1), None);
        assert_eq!(unpadded_decoded_len(2), Some(1));
        assert_eq!(unpadded_decoded_len(3), Some(2));
        assert_eq!(unpadded_decoded_len(4), Some(3));
        assert_eq!(unpadded_decoded_len(86), Some(64));
    }

    #[test]
    fn basic_base64_requires_padding() {
        let d = |s: &str| {
            let mut v = Vec::new();
            decode_append(&STD_PADDED, s.as_bytes(), &mut v).map(|r| v[r].to_vec())
        };
        assert_eq!(d("YTpi").unwrap(), b"a:b");
        assert_eq!(d("YTpiYw==").unwrap(), b"a:bc");
        assert!(d("YTpiYw").is_none());
        assert!(d("YTpiYw===").is_none());
        assert!(d("YTpiY-==").is_none());
    }

    #[test]
    fn decode_append_keeps_prefix() {
        let mut v = b"xy".to_vec();
        let r = decode_url_append(b"YQ", &mut v).unwrap();
        assert_eq!(r, 2..3);
        assert_eq!(v, b"xya");
        assert!(decode_url_append(b"Y", &mut v).is_none());
        assert_eq!(v, b"xya");
    }
}
