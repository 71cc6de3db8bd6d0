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

/// Decode unpadded base64url `input` into `dst`, which must be exactly
/// [`unpadded_decoded_len`] of it long (false otherwise, and for any input
/// [`decode_url_append`] refuses): whole 32-character blocks with AVX2 where
/// the CPU has it, the rest (and everything, elsewhere) with the table
/// decoder below.
#[inline]
pub fn decode_url_into(input: &[u8], dst: &mut [u8]) -> bool {
    if unpadded_decoded_len(input.len()) != Some(dst.len()) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let quanta = input.len() / 4 * 4;
        if quanta >= avx2::BLOCK && std::is_x86_feature_detected!("avx2") {
            let (whole, out) = (quanta / 4 * 3, &mut *dst);
            // SAFETY: the CPU supports AVX2 (checked just above); the input
            // is whole quanta, at least one block, and `out` their bytes.
            if !unsafe { avx2::decode_quanta(&input[..quanta], &mut out[..whole]) } {
                return false;
            }
            return decode_url_last(&input[quanta..], &mut dst[whole..]);
        }
    }
    decode_url_scalar(input, dst)
}

/// The portable decoder: sixteen characters per step through the pre-shifted
/// tables, then single quanta, then the strict final partial quantum.
#[inline]
fn decode_url_scalar(input: &[u8], dst: &mut [u8]) -> bool {
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
    bad & 0xFF00_0000 == 0 && decode_url_last(&input[4 * full..], &mut dst[3 * full..])
}

/// The final partial quantum (none, two or three characters), strictly.
#[inline]
fn decode_url_last(input: &[u8], rest: &mut [u8]) -> bool {
    let t = &URL_TABLE;
    match *input {
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

/// base64url decoding 32 characters at a time with AVX2, after Muła and
/// Lemire ("Faster Base64 Encoding and Decoding Using AVX2 Instructions",
/// 2018), adapted to the URL alphabet. Validity is decided per character from
/// its two nibbles, so the accepted set is exactly the table decoder's; only
/// whole quanta are done here, the caller decodes the strict final partial
/// quantum.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::*;

    /// Characters per step (they decode to 24 bytes).
    pub const BLOCK: usize = 32;

    /// Characters grouped by high nibble; a bit per group.
    const DASH: u8 = 1; // 0x2_: only `-` (0x2D)
    const DIGIT: u8 = 2; // 0x3_: `0`..`9`
    const LETTER: u8 = 4; // 0x4_, 0x6_: `A`..`O`, `a`..`o` (0x_0 is `@` / backquote)
    const UPPER_P: u8 = 8; // 0x5_: `P`..`Z` and `_` (0x5F)
    const LOWER_P: u8 = 16; // 0x7_: `p`..`z`
    const NEVER: u8 = 32; // every other high nibble, non-ASCII included

    const fn hi_groups() -> [u8; 16] {
        let mut t = [NEVER; 16];
        t[2] = DASH;
        t[3] = DIGIT;
        t[4] = LETTER;
        t[5] = UPPER_P;
        t[6] = LETTER;
        t[7] = LOWER_P;
        t
    }

    /// For each low nibble, the groups in which it is *not* a character of
    /// the alphabet: a byte is valid when `lo[l] & hi[h] == 0`.
    const fn lo_invalid() -> [u8; 16] {
        let mut t = [0u8; 16];
        let mut l = 0;
        while l < 16 {
            let mut m = NEVER;
            if l != 0xD {
                m |= DASH;
            }
            if l > 9 {
                m |= DIGIT;
            }
            if l == 0 {
                m |= LETTER;
            }
            if l > 0xA && l != 0xF {
                m |= UPPER_P;
            }
            if l > 0xA {
                m |= LOWER_P;
            }
            t[l] = m;
            l += 1;
        }
        t
    }

    /// What to add to a character, by high nibble, to get its digit value
    /// (`_` is corrected separately: it shares 0x5_ with `P`..`Z`).
    const fn shifts() -> [i8; 16] {
        let mut t = [0i8; 16];
        t[2] = 62 - b'-' as i8;
        t[3] = 52 - b'0' as i8;
        t[4] = -(b'A' as i8);
        t[5] = -(b'A' as i8);
        t[6] = 26 - b'a' as i8;
        t[7] = 26 - b'a' as i8;
        t
    }

    const HI: [u8; 16] = hi_groups();
    const LO: [u8; 16] = lo_invalid();
    const SHIFT: [i8; 16] = shifts();

    #[inline(always)]
    unsafe fn table(t: &[u8; 16]) -> __m256i {
        let x = _mm_loadu_si128(t.as_ptr().cast());
        _mm256_broadcastsi128_si256(x)
    }

    /// Decode `input`, whole quanta and at least one block of them, into
    /// `dst` (exactly their bytes): block after block, and a last block
    /// that overlaps the one before it when the length is not a multiple of
    /// 32 (the overlap is decoded twice, to the same bytes). False when any
    /// character is outside the alphabet.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn decode_quanta(input: &[u8], dst: &mut [u8]) -> bool {
        assert!(input.len() >= BLOCK && input.len() % 4 == 0 && dst.len() == input.len() / 4 * 3);
        let hi_t = table(&HI);
        let lo_t = table(&LO);
        let shift_t = table(&SHIFT.map(|v| v as u8));
        let nibble = _mm256_set1_epi8(0x0F);
        let underscore = _mm256_set1_epi8(b'_' as i8);
        let underscore_fix = _mm256_set1_epi8(33); // 63 - b'_' minus the 0x5_ shift
        let pack_pairs = _mm256_set1_epi32(0x0140_0140);
        let pack_quads = _mm256_set1_epi32(0x0001_1000);
        // Per 128-bit lane: the three value bytes of each 32-bit word, most
        // significant first; then the two lanes' twelve bytes side by side.
        let order = _mm256_setr_epi8(
            2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1,
            -1,
        );
        let lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
        let mut bad = _mm256_setzero_si256();
        let mut block = |at: usize| {
            // SAFETY (both accesses): `at + 32 <= input.len()` and `at` is a
            // multiple of 4, so its 24 output bytes end within `dst`.
            let x = _mm256_loadu_si256(input.as_ptr().add(at).cast());
            let hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nibble);
            let lo = _mm256_and_si256(x, nibble);
            let invalid = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, lo), _mm256_shuffle_epi8(hi_t, hi));
            bad = _mm256_or_si256(bad, invalid);
            let fix = _mm256_and_si256(_mm256_cmpeq_epi8(x, underscore), underscore_fix);
            let v = _mm256_add_epi8(_mm256_add_epi8(x, _mm256_shuffle_epi8(shift_t, hi)), fix);
            let merged = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pack_pairs), pack_quads);
            let out = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(merged, order), lanes);
            let o = dst.as_mut_ptr().add(at / 4 * 3);
            _mm_storeu_si128(o.cast(), _mm256_castsi256_si128(out));
            _mm_storel_epi64(o.add(16).cast(), _mm256_extracti128_si256(out, 1));
        };
        let mut at = 0;
        while at + BLOCK <= input.len() {
            block(at);
            at += BLOCK;
        }
        if at < input.len() {
            block(input.len() - BLOCK);
        }
        _mm256_testz_si256(bad, bad) == 1
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
    fn long_inputs_agree_with_the_strict_engine() {
        // Lengths across several 32-character blocks (the vector path) and
        // every byte value at every position of one of them: the accepted
        // set and the output match the reference engine exactly.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 0..200usize {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let enc = encode(&URL, &bytes);
            let mut v = Vec::new();
            let r = decode_url_append(enc.as_bytes(), &mut v).unwrap();
            assert_eq!(&v[r], &bytes[..], "{len}");
        }
        let base = encode(&URL, &(0..96).map(|_| next() as u8).collect::<Vec<_>>()).into_bytes();
        for at in 0..base.len() {
            for c in 0..=255u8 {
                let mut s = base.clone();
                s[at] = c;
                let mut v = Vec::new();
                let fast = decode_url_append(&s, &mut v).map(|r| v[r].to_vec());
                let reference = URL.decode(&s).ok();
                assert_eq!(fast, reference, "byte {c:#x} at {at}");
                // The portable decoder too, which an AVX2 machine otherwise
                // runs only on short inputs.
                let mut dst = vec![0u8; unpadded_decoded_len(s.len()).unwrap()];
                let portable = decode_url_scalar(&s, &mut dst).then_some(dst);
                assert_eq!(portable, reference, "portable: byte {c:#x} at {at}");
            }
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
