//! Property-checking harnesses for warden.
//!
//! Every harness is a plain function `fn(&[u8])` in [`targets`] that panics
//! when a property fails. Two drivers run them:
//!
//! * `fuzz/fuzz_targets/*.rs`: libFuzzer through `cargo fuzz` (nightly),
//!   coverage-guided, seeded from `fuzz/corpus/<target>/`;
//! * `tests/fuzz_smoke.rs` in the main crate (stable `cargo test`): the seed
//!   corpus plus deterministic mutations from [`Rng`] and [`mutate`].
//!
//! The properties compare warden with references that share no code with it
//! ([`refimpl`]) and with itself under conditions that must not matter (a
//! used scratch, the verified-token cache, a twin verifier, the
//! `Authorization` route).

pub mod corpus;
pub mod fixture;
pub mod refimpl;
pub mod targets;

use warden::{Code, Kind, Verdict};

/// What a verdict says, owned, for comparisons.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Ok {
        kind: Kind,
        subject: Option<String>,
        kid: Option<String>,
        key_id: Option<String>,
        scopes: Vec<String>,
        exp_text: Option<String>,
    },
    Err(Code),
}

impl Outcome {
    pub fn of(v: Verdict<'_>) -> Outcome {
        match v {
            Ok(v) => Outcome::Ok {
                kind: v.kind(),
                subject: v.subject().map(str::to_string),
                kid: v.kid().map(str::to_string),
                key_id: v.key_id().map(str::to_string),
                scopes: v.scopes().map(str::to_string).collect(),
                exp_text: v.exp_text().map(str::to_string),
            },
            Err(r) => Outcome::Err(r.code),
        }
    }

    pub fn code(&self) -> Code {
        match self {
            Outcome::Ok { .. } => Code::Ok,
            Outcome::Err(c) => *c,
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok { .. })
    }
}

/// A small deterministic PRNG (xorshift64*), so smoke runs are reproducible.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Bytes a mutation likes to insert: the structural characters of tokens,
/// base64, JSON and headers.
const INTERESTING: &[u8] = b".=_-+/ \t\"\\{}[]:,0e-AQ\x00\xff\r\n";

/// Interesting JSON fragments for JSON-level mutations.
const JSON_BITS: &[&str] = &[
    "null",
    "true",
    "0",
    "-0",
    "1e308",
    "1e400",
    "-1",
    "1.5",
    "9007199254740993",
    "\"\"",
    "\"none\"",
    "[]",
    "{}",
    "[\"x\"]",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\u0048S256\"",
    "\"9999999999\"",
    " ",
    "\u{feff}",
];

/// Apply 1–4 random edits to `data` (byte-level, segment-level for tokens,
/// and JSON-level inside base64url segments). `others` supplies splices.
pub fn mutate(rng: &mut Rng, data: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(12) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(d.len() + 1);
                d.insert(i, *rng.pick(INTERESTING));
            }
            3 if !d.is_empty() => {
                let i = rng.below(d.len());
                let n = 1 + rng.below(4.min(d.len() - i));
                d.drain(i..i + n);
            }
            4 if !d.is_empty() => {
                let n = rng.below(d.len());
                d.truncate(n);
            }
            5 => {
                // Swap or duplicate dot-separated segments.
                let mut segs: Vec<Vec<u8>> = d.split(|&b| b == b'.').map(<[u8]>::to_vec).collect();
                let (i, j) = (rng.below(segs.len()), rng.below(segs.len()));
                if rng.below(2) == 0 {
                    segs.swap(i, j);
                } else {
                    let s = segs[i].clone();
                    segs.insert(j, s);
                }
                d = segs.join(&b'.');
            }
            6 if !others.is_empty() => {
                // Splice: a prefix of this, the suffix of another.
                let o = rng.pick(others);
                let (i, j) = (rng.below(d.len() + 1), rng.below(o.len() + 1));
                d.truncate(i);
                d.extend_from_slice(&o[j..]);
            }
            7 | 8 => d = mutate_json_segment(rng, &d),
            9 if !d.is_empty() => {
                // Duplicate a range.
                let i = rng.below(d.len());
                let n = 1 + rng.below(16.min(d.len() - i));
                let r = d[i..i + n].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, r);
            }
            10 if !d.is_empty() => {
                // Flip ASCII case of one byte.
                let i = rng.below(d.len());
                d[i] = if d[i].is_ascii_lowercase() { d[i].to_ascii_uppercase() } else { d[i].to_ascii_lowercase() };
            }
            _ => {
                let i = rng.below(d.len() + 1);
                let s = *rng.pick(JSON_BITS);
                d.splice(i..i, s.bytes());
            }
        }
    }
    d
}

/// Decode one base64url segment (header or payload), edit its JSON text, and
/// re-encode it. Without a decodable segment, edit the bytes as JSON.
fn mutate_json_segment(rng: &mut Rng, d: &[u8]) -> Vec<u8> {
    let segs: Vec<&[u8]> = d.split(|&b| b == b'.').collect();
    let idx = rng.below(segs.len().min(2));
    let Some(mut json) = refimpl::b64url(segs[idx]) else {
        return edit_json(rng, d.to_vec());
    };
    json = edit_json(rng, json);
    let enc = refimpl::b64url_encode(&json);
    let mut out: Vec<Vec<u8>> = segs.iter().map(|s| s.to_vec()).collect();
    out[idx] = enc.into_bytes();
    out.join(&b'.')
}

fn edit_json(rng: &mut Rng, mut j: Vec<u8>) -> Vec<u8> {
    // Positions right after a structural character are where edits matter.
    let spots: Vec<usize> = j.iter().enumerate().filter(|(_, &c)| b"{[,:".contains(&c)).map(|(i, _)| i + 1).collect();
    let at = if spots.is_empty() { rng.below(j.len() + 1) } else { *rng.pick(&spots) };
    match rng.below(5) {
        0 => j.splice(at..at, b" ".iter().copied()).for_each(drop),
        1 => {
            // Duplicate the first member.
            if let (Some(s), Some(e)) = (j.iter().position(|&c| c == b'{'), j.iter().position(|&c| c == b',')) {
                if s < e {
                    let m = j[s + 1..=e].to_vec();
                    j.splice(s + 1..s + 1, m);
                }
            }
        }
        2 => {
            let names: &[&str] =
                &["alg", "kid", "crit", "typ", "exp", "nbf", "iat", "aud", "iss", "sub", "jti", "jwk", "jku"];
            let m = format!("\"{}\":{},", rng.pick(names), rng.pick(JSON_BITS));
            let at = j.iter().position(|&c| c == b'{').map_or(0, |p| p + 1);
            j.splice(at..at, m.into_bytes());
        }
        3 => {
            let s = rng.pick(JSON_BITS);
            j.splice(at..at, s.bytes());
        }
        _ => {
            if !j.is_empty() {
                let i = rng.below(j.len());
                j[i] = *rng.pick(INTERESTING);
            }
        }
    }
    j
}
