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

/// Decode unpadded base64url `input`, appending to `out` (within its spare
/// capacity when the caller reserved enough, so nothing is allocated).
/// Returns the range of `out` that holds the result.
#[inline]
pub fn decode_url_append(input: &[u8], out: &mut Vec<u8>) -> Option<core::ops::Range<usize>> {
    decode_append(&URL, input, out)
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
