//! Stored password hashes: PHC `$pbkdf2-sha256$` (ring) and bcrypt
//! `$2b$`/`$2y$` (the `bcrypt` crate's core function, called on pre-parsed
//! salt and cost so a verification allocates nothing).

use crate::b64;
use core::num::NonZeroU32;

/// PBKDF2 iteration counts below this are refused at load time
/// (RFC 8018 §4.2's floor; OWASP asks for 600,000 with SHA-256).
pub const MIN_PBKDF2_ITERATIONS: u32 = 1000;
/// What `warden hash-password` uses (OWASP 2023 for PBKDF2-HMAC-SHA256).
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;
/// bcrypt costs below this are refused at load time.
pub const MIN_BCRYPT_COST: u32 = 4;
/// The dearest hashes loaded: each check of a password costs this much
/// (about 2 s for PBKDF2 at 10,000,000 iterations, 4 s for bcrypt at cost
/// 16, on a server core), and unknown names pay it too (their decoys copy
/// the users' costs). Past these, one hash line made every Basic request
/// run for minutes to hours: a config mistake would be a denial of service.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
pub const MAX_BCRYPT_COST: u32 = 16;
/// PBKDF2 computes one full run of its iterations per 32 bytes of output:
/// a longer stored hash multiplies the cost. 64 bytes is twice SHA-256's.
const MAX_PBKDF2_HASH: usize = 64;
const MAX_PBKDF2_SALT: usize = 64;

/// A parsed password hash.
#[derive(Clone, Debug)]
pub enum PasswordHash {
    Pbkdf2 { iterations: NonZeroU32, salt: Box<[u8]>, hash: Box<[u8]> },
    Bcrypt { cost: u32, salt: [u8; 16], hash: [u8; 23] },
}

impl PasswordHash {
    /// Parse a PHC PBKDF2-SHA256 string or a bcrypt hash.
    pub fn parse(s: &str) -> Result<PasswordHash, String> {
        if let Some(rest) = s.strip_prefix("$pbkdf2-sha256$") {
            return parse_pbkdf2(rest);
        }
        if s.starts_with("$2b$") || s.starts_with("$2y$") {
            return parse_bcrypt(s);
        }
        Err(refusal(s))
    }

    /// Does `password` match? Constant time in the password and hash.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            PasswordHash::Pbkdf2 { iterations, salt, hash } => {
                ring::pbkdf2::verify(ring::pbkdf2::PBKDF2_HMAC_SHA256, *iterations, salt, password, hash).is_ok()
            }
            PasswordHash::Bcrypt { cost, salt, hash } => {
                // bcrypt hashes the password with a terminating NUL and looks
                // at 72 bytes at most (as OpenBSD and htpasswd do).
                let mut buf = [0u8; 73];
                let n = password.len().min(72);
                buf[..n].copy_from_slice(&password[..n]);
                let input = &buf[..(n + 1).min(72)];
                let out = bcrypt::bcrypt(*cost, *salt, input);
                crate::ct::eq(&out[..23], hash)
            }
        }
    }

    /// A hash of the same scheme and cost that no password matches in
    /// practice: verified against for unknown users so that they cost as
    /// much as known ones.
    pub fn decoy(&self) -> PasswordHash {
        match self {
            PasswordHash::Pbkdf2 { iterations, hash, .. } => PasswordHash::Pbkdf2 {
                iterations: *iterations,
                salt: vec![0x5a; 16].into(),
                hash: vec![0xa5; hash.len()].into(),
            },
            PasswordHash::Bcrypt { cost, .. } => {
                PasswordHash::Bcrypt { cost: *cost, salt: [0x5a; 16], hash: [0xa5; 23] }
            }
        }
    }
}

/// Why a hash format is refused (SPEC §1: plain, crypt, MD5/apr1, `{SHA}`).
fn refusal(s: &str) -> String {
    let what = if s.starts_with("$apr1$") {
        "an Apache MD5 ($apr1$) hash"
    } else if s.starts_with("$1$") {
        "an MD5-crypt ($1$) hash"
    } else if s.starts_with("{SHA}") {
        "an unsalted SHA-1 ({SHA}) hash"
    } else if s.starts_with("$2a$") || s.starts_with("$2x$") {
        "a bcrypt $2a$/$2x$ hash (use $2b$ or $2y$)"
    } else if s.starts_with("$5$") || s.starts_with("$6$") {
        "a SHA-crypt hash"
    } else if s.len() == 13 && !s.starts_with('$') {
        "a DES crypt hash"
    } else {
        "plain text or an unknown hash format"
    };
    format!("{what} is refused; use PBKDF2 (`warden hash-password`) or bcrypt $2y$/$2b$")
}

fn parse_pbkdf2(rest: &str) -> Result<PasswordHash, String> {
    let bad = || "malformed $pbkdf2-sha256$ hash: expected $pbkdf2-sha256$i=N$<salt>$<hash>".to_string();
    let mut parts = rest.split('$');
    let (Some(params), Some(salt), Some(hash), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let iterations: u32 = params.strip_prefix("i=").and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    if iterations < MIN_PBKDF2_ITERATIONS {
        return Err(format!("PBKDF2 with {iterations} iterations is too weak (at least {MIN_PBKDF2_ITERATIONS})"));
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(format!(
            "PBKDF2 with {iterations} iterations is too slow to check per request (at most {MAX_PBKDF2_ITERATIONS})"
        ));
    }
    let salt = b64::decode_vec(&b64::STD_NOPAD, salt).ok_or_else(bad)?;
    let hash = b64::decode_vec(&b64::STD_NOPAD, hash).ok_or_else(bad)?;
    if !(8..=MAX_PBKDF2_SALT).contains(&salt.len()) || !(16..=MAX_PBKDF2_HASH).contains(&hash.len()) {
        return Err(format!(
            "PBKDF2 salt must be 8 to {MAX_PBKDF2_SALT} bytes and the hash 16 to {MAX_PBKDF2_HASH} (each 32 bytes \
             of hash costs all the iterations again)"
        ));
    }
    Ok(PasswordHash::Pbkdf2 {
        iterations: NonZeroU32::new(iterations).ok_or_else(bad)?,
        salt: salt.into(),
        hash: hash.into(),
    })
}

fn parse_bcrypt(s: &str) -> Result<PasswordHash, String> {
    let bad = || "malformed bcrypt hash: expected $2y$NN$<53 characters>".to_string();
    // Byte offsets below are character offsets only in ASCII (a bcrypt hash
    // is ASCII; anything else would make the slices split a character).
    if s.len() != 60 || !s.is_ascii() || s.as_bytes()[6] != b'$' {
        return Err(bad());
    }
    let cost: u32 = s[4..6].parse().map_err(|_| bad())?;
    if !(MIN_BCRYPT_COST..=MAX_BCRYPT_COST).contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is out of range ({MIN_BCRYPT_COST}..={MAX_BCRYPT_COST}: past that a check takes \
             seconds to hours)"
        ));
    }
    let salt = b64::decode_vec(&b64::BCRYPT, &s[7..29]).ok_or_else(bad)?;
    let hash = b64::decode_vec(&b64::BCRYPT, &s[29..]).ok_or_else(bad)?;
    Ok(PasswordHash::Bcrypt {
        cost,
        salt: salt.try_into().map_err(|_| bad())?,
        hash: hash.try_into().map_err(|_| bad())?,
    })
}

/// A new PHC PBKDF2-SHA256 hash of `password` (random 16-byte salt), with
/// an iteration count the loader accepts (else an error, not a hash that
/// would be refused or silently stronger than asked).
pub fn hash_password(password: &[u8], iterations: u32) -> Result<String, String> {
    use ring::rand::SecureRandom;
    if !(MIN_PBKDF2_ITERATIONS..=MAX_PBKDF2_ITERATIONS).contains(&iterations) {
        return Err(format!(
            "{iterations} iterations is out of range ({MIN_PBKDF2_ITERATIONS}..={MAX_PBKDF2_ITERATIONS})"
        ));
    }
    let it = NonZeroU32::new(iterations).expect("at least MIN_PBKDF2_ITERATIONS");
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut salt).map_err(|_| "the system random generator failed")?;
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, it, &salt, password, &mut out);
    Ok(format!(
        "$pbkdf2-sha256$i={}${}${}",
        it,
        b64::encode(&b64::STD_NOPAD, &salt),
        b64::encode(&b64::STD_NOPAD, &out)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_round_trip() {
        let h = hash_password(b"s3cret", 1000).unwrap();
        assert!(h.starts_with("$pbkdf2-sha256$i=1000$"));
        let p = PasswordHash::parse(&h).unwrap();
        assert!(p.verify(b"s3cret"));
        assert!(!p.verify(b"s3cret "));
        assert!(!p.decoy().verify(b"s3cret"));
    }

    #[test]
    fn bcrypt_matches_reference() {
        // Generated by the bcrypt crate's own hasher (and so htpasswd -B).
        let h = bcrypt::hash_with_salt(b"hunter2", 4, [7u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoY);
        let p = PasswordHash::parse(&h).unwrap();
        assert!(p.verify(b"hunter2"));
        assert!(!p.verify(b"hunter3"));
        assert!(!p.verify(b""));
        let long = [b'x'; 100];
        let hl = bcrypt::hash_with_salt(&long[..], 4, [9u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoB);
        let pl = PasswordHash::parse(&hl).unwrap();
        assert!(pl.verify(&long[..80]), "bcrypt looks at 72 bytes");
        assert!(!pl.verify(&long[..71]));
    }

    #[test]
    fn weak_formats_refused() {
        for (h, what) in [
            ("$apr1$abc$def", "apr1"),
            ("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "SHA"),
            ("$1$salt$hash", "MD5"),
            ("rUa4hMGE2g6R.", "DES"),
            ("plain", "plain"),
            ("$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "2a"),
            ("$pbkdf2-sha256$i=10$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "weak"),
            ("$pbkdf2-sha256$600000$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "malformed"),
            ("$2y$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "cost"),
            ("$2y$10$short", "malformed"),
            ("$2b$10$aaaaaaaaaaaaaaaaaaaaa\u{e9}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "malformed"),
            // Too dear to check per request (an audit's: each hung a
            // Basic request, an unknown name's too, for hours).
            (
                "$pbkdf2-sha256$i=4294967295$FXNssQdTjjj55jc74Zcghg$5qwsQgVR8rIwg79cFXdaMWDjAkPtutuLXVvposWyfx4",
                "too slow",
            ),
            ("$pbkdf2-sha256$i=10000001$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "too slow"),
            ("$2y$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "out of range"),
            ("$2y$17$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "out of range"),
        ] {
            let e = PasswordHash::parse(h).unwrap_err();
            assert!(e.contains(what), "{h}: {e}");
        }
        // A stored hash longer than 64 bytes (each 32 bytes costs all the
        // iterations again), or a huge salt.
        let b = |n: usize| b64::encode(&b64::STD_NOPAD, &vec![7u8; n]);
        let e = PasswordHash::parse(&format!("$pbkdf2-sha256$i=1000${}${}", b(16), b(65))).unwrap_err();
        assert!(e.contains("16 to 64"), "{e}");
        let e = PasswordHash::parse(&format!("$pbkdf2-sha256$i=1000${}${}", b(65), b(32))).unwrap_err();
        assert!(e.contains("8 to 64"), "{e}");
        // The bounds themselves load.
        assert!(PasswordHash::parse(&format!("$pbkdf2-sha256$i=10000000${}${}", b(64), b(64))).is_ok());
        assert!(PasswordHash::parse("$2y$16$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234").is_ok());
    }

    #[test]
    fn hash_password_refuses_counts_the_loader_would() {
        assert!(hash_password(b"pw", 999).unwrap_err().contains("out of range"));
        assert!(hash_password(b"pw", MAX_PBKDF2_ITERATIONS + 1).is_err());
        assert!(hash_password(b"pw", 1).is_err(), "not silently raised to 1,000");
    }
}
