//! The harnesses' world: fixed private keys (test-only, committed under
//! `fuzz/keys/`), the public JWK set and configs built from them, and every
//! token the harness itself signed.
//!
//! The harness is the only holder of these private keys, so the set of
//! messages it signed ([`Fixture::known`]) is exactly the set of signing
//! inputs any accepted token may carry: an accepted token whose signing input
//! is not in it is a forgery.

use super::refimpl::{self, b64url_encode, J};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use warden::keys::Alg;
use warden::{Scratch, Verifier};

/// `now` for every verification in the harnesses.
pub const NOW: f64 = 1_700_000_000.0;

const RSA_PK8: &[u8] = include_bytes!("../keys/rsa2048.pk8");
const P256_PK8: &[u8] = include_bytes!("../keys/p256.pk8");
const P384_PK8: &[u8] = include_bytes!("../keys/p384.pk8");

/// `header.payload` pairs taken from the shared vectors by
/// `fuzz/gen-corpus.sh`; the harness signs each with its own key for the
/// header's alg, so the vectors' edge cases reach the claim checks.
const TEMPLATES: &str = include_str!("../seeds/jwt_templates.txt");

enum Signer {
    Hmac(ring::hmac::Key, Vec<u8>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// What the harness signed for one signing input.
#[derive(Clone, Debug)]
pub struct Signed {
    pub alg: Alg,
    pub sig: Vec<u8>,
}

impl Signed {
    /// Is the signature over a message unique for this alg (so an accepted
    /// token must carry exactly these bytes)? ECDSA (r, s) and (r, n − s) both
    /// verify and PSS is randomized.
    pub fn unique(&self) -> bool {
        !matches!(self.alg, Alg::ES256 | Alg::ES384 | Alg::PS256 | Alg::PS384 | Alg::PS512)
    }
}

pub struct Fixture {
    signers: Vec<(Alg, Signer)>,
    /// `{"keys": [...]}`: per alg a kid-less key, then `fz-<alg>`, then every
    /// kid the templates use with that alg — all the same material.
    pub jwks: Value,
    /// kids configured per alg.
    pub kids: BTreeMap<Alg, Vec<String>>,
    /// signing input → what the harness signed it with.
    pub known: HashMap<Vec<u8>, Signed>,
    /// Tokens the harness minted, own claims first, then the templates.
    pub tokens: Vec<String>,
    /// Tokens accepted by the plain config (a few per alg).
    pub good: Vec<String>,
    /// Basic users (name, password) and their config entries.
    pub users: Vec<(String, String)>,
    pub user_entries: Value,
    /// API keys (key, id) that verify, and the api_keys section.
    pub api_keys: Vec<(String, String)>,
    pub api_section: Value,
}

fn rng() -> SystemRandom {
    SystemRandom::new()
}

fn derive(label: &str, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0u8;
    while out.len() < n {
        let d = ring::digest::digest(&ring::digest::SHA256, format!("warden-fuzz {label} {i}").as_bytes());
        out.extend_from_slice(d.as_ref());
        i += 1;
    }
    out.truncate(n);
    out
}

impl Signer {
    fn new(alg: Alg) -> Signer {
        let hmac = |a, n| {
            let k = derive(&format!("{alg} secret"), n);
            Signer::Hmac(ring::hmac::Key::new(a, &k), k)
        };
        match alg {
            Alg::HS256 => hmac(ring::hmac::HMAC_SHA256, 32),
            Alg::HS384 => hmac(ring::hmac::HMAC_SHA384, 48),
            Alg::HS512 => hmac(ring::hmac::HMAC_SHA512, 64),
            Alg::ES256 => {
                Signer::Ec(EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, P256_PK8, &rng()).unwrap())
            }
            Alg::ES384 => {
                Signer::Ec(EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, P384_PK8, &rng()).unwrap())
            }
            Alg::EdDSA => Signer::Ed(Ed25519KeyPair::from_seed_unchecked(&derive("ed25519 seed", 32)).unwrap()),
            _ => Signer::Rsa(RsaKeyPair::from_pkcs8(RSA_PK8).unwrap()),
        }
    }

    fn sign(&self, alg: Alg, msg: &[u8]) -> Vec<u8> {
        match self {
            Signer::Hmac(k, _) => ring::hmac::sign(k, msg).as_ref().to_vec(),
            Signer::Ec(k) => k.sign(&rng(), msg).unwrap().as_ref().to_vec(),
            Signer::Ed(k) => k.sign(msg).as_ref().to_vec(),
            Signer::Rsa(k) => {
                let pad: &'static dyn sig::RsaEncoding = match alg {
                    Alg::RS256 => &sig::RSA_PKCS1_SHA256,
                    Alg::RS384 => &sig::RSA_PKCS1_SHA384,
                    Alg::RS512 => &sig::RSA_PKCS1_SHA512,
                    Alg::PS256 => &sig::RSA_PSS_SHA256,
                    Alg::PS384 => &sig::RSA_PSS_SHA384,
                    _ => &sig::RSA_PSS_SHA512,
                };
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(pad, &rng(), msg, &mut out).unwrap();
                out
            }
        }
    }

    /// The public JWK members (without `alg`/`kid`).
    fn public_jwk(&self) -> Value {
        match self {
            Signer::Hmac(_, k) => json!({"kty": "oct", "k": b64url_encode(k)}),
            Signer::Rsa(k) => {
                let c: sig::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                json!({"kty": "RSA", "n": b64url_encode(&c.n), "e": b64url_encode(&c.e)})
            }
            Signer::Ec(k) => {
                let p = k.public_key().as_ref();
                let l = (p.len() - 1) / 2;
                let crv = if l == 32 { "P-256" } else { "P-384" };
                json!({"kty": "EC", "crv": crv, "x": b64url_encode(&p[1..1 + l]), "y": b64url_encode(&p[1 + l..])})
            }
            Signer::Ed(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(k.public_key().as_ref())}),
        }
    }
}

/// The alg a header names, decoded, if warden supports it.
pub fn header_alg(header_b64: &[u8]) -> Option<Alg> {
    let h = refimpl::b64url(header_b64).or_else(|| lenient_b64(header_b64))?;
    let j = refimpl::parse_json(&h, 200)?;
    Alg::from_name(j.get("alg")?.as_str()?.as_bytes())
}

fn header_kid(header_b64: &[u8]) -> Option<String> {
    let h = refimpl::b64url(header_b64).or_else(|| lenient_b64(header_b64))?;
    let j = refimpl::parse_json(&h, 200)?;
    j.get("kid")?.as_str().map(str::to_string)
}

/// base64 in either alphabet, padding and trailing bits ignored: only to read
/// which alg a deliberately broken vector header names.
fn lenient_b64(s: &[u8]) -> Option<Vec<u8>> {
    let t: Vec<u8> = s
        .iter()
        .filter(|&&c| c != b'=')
        .map(|&c| match c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        })
        .collect();
    let mut t = t;
    if t.len() % 4 == 1 {
        t.pop();
    }
    // Clear the trailing bits by round-tripping through the bit decoder.
    let mut acc = Vec::new();
    let mut bits = 0u32;
    let mut n = 0u32;
    for &c in &t {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32;
        n = (n << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            acc.push((n >> bits) as u8);
            n &= (1 << bits) - 1;
        }
    }
    Some(acc)
}

fn fixture_build() -> Fixture {
    let signers: Vec<(Alg, Signer)> = Alg::ALL.iter().map(|&a| (a, Signer::new(a))).collect();
    let signer = |a: Alg| &signers.iter().find(|(x, _)| *x == a).unwrap().1;

    let templates: Vec<&str> =
        TEMPLATES.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();

    // kids per alg: fz-<alg>, then the templates' kids.
    let mut kids: BTreeMap<Alg, Vec<String>> = BTreeMap::new();
    for &a in &Alg::ALL {
        kids.entry(a).or_default().push(format!("fz-{}", a.name().to_ascii_lowercase()));
    }
    for t in &templates {
        let h = t.split('.').next().unwrap_or("").as_bytes();
        if let (Some(a), Some(k)) = (header_alg(h), header_kid(h)) {
            let list = kids.entry(a).or_default();
            if !list.contains(&k) {
                list.push(k);
            }
        }
    }
    let mut keys = Vec::new();
    for &a in &Alg::ALL {
        let base = signer(a).public_jwk();
        let mut k = base.clone();
        k["alg"] = json!(a.name());
        keys.push(k);
        for kid in &kids[&a] {
            let mut k = base.clone();
            k["alg"] = json!(a.name());
            k["kid"] = json!(kid);
            keys.push(k);
        }
    }
    let jwks = json!({ "keys": keys });

    let mut known = HashMap::new();
    let mut tokens = Vec::new();
    let mut good = Vec::new();
    let mint = |a: Alg, signing_input: String, known: &mut HashMap<Vec<u8>, Signed>| -> String {
        let s = signer(a).sign(a, signing_input.as_bytes());
        let t = format!("{signing_input}.{}", b64url_encode(&s));
        known.insert(signing_input.into_bytes(), Signed { alg: a, sig: s });
        t
    };
    for (n, &a) in Alg::ALL.iter().enumerate() {
        let kid = format!("fz-{}", a.name().to_ascii_lowercase());
        let headers = [json!({"alg": a.name(), "kid": kid, "typ": "JWT"}), json!({"alg": a.name()})];
        let payloads = [
            json!({"sub": format!("fz-{n}"), "exp": 2_000_000_000u64, "iat": 1_690_000_000u64,
                   "jti": format!("fz-jti-{n}"), "scope": "read write"}),
            json!({"iss": "https://fuzz.example", "aud": "fuzz-api", "sub": format!("fz-aud-{n}"),
                   "exp": 1_700_003_600.5, "nbf": 1_699_999_990, "iat": 1_699_999_000, "scp": ["a", "b"]}),
            json!({"sub": "fz-old", "exp": 1_700_000_000, "iat": 1_600_000_000, "jti": "fz-revoked"}),
        ];
        for h in &headers {
            for (i, p) in payloads.iter().enumerate() {
                let si =
                    format!("{}.{}", b64url_encode(h.to_string().as_bytes()), b64url_encode(p.to_string().as_bytes()));
                let t = mint(a, si, &mut known);
                if i == 0 {
                    good.push(t.clone());
                }
                tokens.push(t);
            }
        }
    }
    for t in &templates {
        let mut parts = t.splitn(3, '.');
        let (h, p) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if let Some(a) = header_alg(h.as_bytes()) {
            tokens.push(mint(a, format!("{h}.{p}"), &mut known));
        }
    }

    // Basic: a PBKDF2 user (1000 iterations, the floor, to keep fuzzing fast)
    // and a bcrypt cost-4 user.
    let users =
        vec![("fz-alice".to_string(), "correct horse".to_string()), ("fz-bob".to_string(), "pässwörd".to_string())];
    let salt = derive("pbkdf2 salt", 16);
    let mut dk = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        core::num::NonZeroU32::new(1000).unwrap(),
        &salt,
        users[0].1.as_bytes(),
        &mut dk,
    );
    let std_nopad = |b: &[u8]| refimpl::b64std_encode(b).trim_end_matches('=').to_string();
    let pbkdf2 = format!("$pbkdf2-sha256$i=1000${}${}", std_nopad(&salt), std_nopad(&dk));
    let salt16: [u8; 16] = derive("bcrypt salt", 16).try_into().unwrap();
    let bcrypt =
        bcrypt::hash_with_salt(users[1].1.as_bytes(), 4, salt16).unwrap().format_for_version(bcrypt::Version::TwoY);
    let user_entries = json!([{"user": users[0].0, "hash": pbkdf2}, {"user": users[1].0, "hash": bcrypt}]);

    // API keys: two prefixes where one extends the other.
    let make_key = |prefix: &str, label: &str| {
        let random: String = derive(label, 40)
            .iter()
            .map(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[(*b % 62) as usize] as char)
            .collect();
        let body = format!("{prefix}_{random}");
        format!("{body}{}", refimpl::base62_6(refimpl::crc32(body.as_bytes())))
    };
    let hex = |k: &str| {
        ring::digest::digest(&ring::digest::SHA256, k.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let k_live = make_key("fz_live", "key live");
    let k_short = make_key("fz", "key short");
    let k_revoked = make_key("fz_live", "key revoked");
    let k_expired = make_key("fz", "key expired");
    let api_section = json!({
        "prefixes": ["fz", "fz_live"],
        "keys": [
            {"id": "fz-live", "sha256": hex(&k_live), "owner": "fz-svc", "scopes": ["orders:read"]},
            {"id": "fz-short", "sha256": hex(&k_short), "not_before": 1_600_000_000, "not_after": 1_800_000_000},
            {"id": "fz-revoked", "sha256": hex(&k_revoked)},
            {"id": "fz-expired", "sha256": hex(&k_expired), "not_after": 1_650_000_000},
        ]
    });
    let api_keys = vec![(k_live, "fz-live".to_string()), (k_short, "fz-short".to_string())];
    let _ = (&k_revoked, &k_expired);
    let mut f = Fixture { signers, jwks, kids, known, tokens, good, users, user_entries, api_keys, api_section };
    f.api_keys.push((k_revoked, "fz-revoked".into()));
    f.api_keys.push((k_expired, "fz-expired".into()));
    f
}

/// The fixture, built once per process.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(fixture_build)
}

impl Fixture {
    /// API keys that verify `ok` (the first two of [`Fixture::api_keys`]).
    pub fn good_api_keys(&self) -> &[(String, String)] {
        &self.api_keys[..2]
    }

    /// Sign `header.payload` text with the harness key for `alg` (tests that
    /// build their own tokens; such tokens are not in [`Fixture::known`]).
    pub fn sign_raw(&self, alg: Alg, signing_input: &str) -> String {
        let s = self.signers.iter().find(|(a, _)| *a == alg).unwrap().1.sign(alg, signing_input.as_bytes());
        format!("{signing_input}.{}", b64url_encode(&s))
    }

    /// Verify with the harness's own public key for `alg` (ring, called
    /// directly: the reference for ECDSA/PSS signatures the harness did not
    /// make byte for byte).
    pub fn verify_with_own_key(&self, alg: Alg, msg: &[u8], s: &[u8]) -> bool {
        let signer = &self.signers.iter().find(|(a, _)| *a == alg).unwrap().1;
        match signer {
            Signer::Hmac(k, _) => ring::hmac::verify(k, msg, s).is_ok(),
            Signer::Ed(k) => sig::UnparsedPublicKey::new(&sig::ED25519, k.public_key().as_ref()).verify(msg, s).is_ok(),
            Signer::Ec(k) => {
                let a: &'static dyn sig::VerificationAlgorithm =
                    if alg == Alg::ES256 { &sig::ECDSA_P256_SHA256_FIXED } else { &sig::ECDSA_P384_SHA384_FIXED };
                sig::UnparsedPublicKey::new(a, k.public_key().as_ref()).verify(msg, s).is_ok()
            }
            Signer::Rsa(k) => {
                let p: &'static sig::RsaParameters = match alg {
                    Alg::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Alg::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Alg::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                    Alg::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Alg::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                    _ => &sig::RSA_PSS_2048_8192_SHA512,
                };
                let c: sig::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
                c.verify(p, msg, s).is_ok()
            }
        }
    }

    /// The JWKs of the whole set pinned to one of `algs`.
    pub fn jwks_subset(&self, algs: &[Alg]) -> Value {
        let keys: Vec<&Value> = self.jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| algs.iter().any(|a| k["alg"] == a.name()))
            .collect();
        json!({ "keys": keys })
    }

    /// Like [`Fixture::jwks_subset`], but only the fixture's own keys (no
    /// kid, or a `fz-` kid): a small set that is quick to load.
    pub fn own_jwks(&self, algs: &[Alg]) -> Value {
        let mut set = self.jwks_subset(algs);
        set["keys"]
            .as_array_mut()
            .unwrap()
            .retain(|k| k.get("kid").map_or(true, |kid| kid.as_str().unwrap().starts_with("fz-")));
        set
    }

    /// Does the JWK `k` (reference-parsed) carry the harness's public key
    /// material for `alg`? (RSA integers compare without leading zeros.)
    pub fn is_own_public_key(&self, alg: Alg, k: &J) -> bool {
        let own = self.signers.iter().find(|(a, _)| *a == alg).unwrap().1.public_jwk();
        let strip = |v: Vec<u8>| v.into_iter().skip_while(|&b| b == 0).collect::<Vec<u8>>();
        let members: &[&str] = match own["kty"].as_str().unwrap() {
            "oct" => &["k"],
            "RSA" => &["n", "e"],
            "EC" => &["x", "y"],
            _ => &["x"],
        };
        members.iter().all(|m| {
            let mine = refimpl::b64url(own[*m].as_str().unwrap().as_bytes()).unwrap();
            let theirs = k.get(m).and_then(J::as_str).and_then(|s| refimpl::b64url(s.as_bytes()));
            match theirs {
                Some(t) if own["kty"] == "RSA" => strip(t) == strip(mine),
                Some(t) => t == mine,
                None => false,
            }
        })
    }

    /// Is `kid` configured for `alg`?
    pub fn has_kid(&self, alg: Alg, kid: &str) -> bool {
        self.kids.get(&alg).is_some_and(|l| l.iter().any(|k| k == kid))
    }

    /// `{"jwt": {...}}` with the whole key set and no policy beyond defaults.
    pub fn plain_config(&self) -> Value {
        json!({"jwt": {"jwks": self.jwks}})
    }

    /// Issuer, audience, leeway, lifetime, required `sub`, and revocations.
    pub fn strict_config(&self) -> Value {
        json!({
            "jwt": {
                "jwks": self.jwks,
                "issuer": ["https://fuzz.example", "https://auth.example.com"],
                "audience": ["fuzz-api", "orders-api"],
                "leeway_s": 30,
                "max_lifetime_s": 31_536_000,
                "require": ["exp", "sub"],
            },
            "revoked": {"jti": ["fz-revoked"], "sub_before": {"fz-old": 1_690_000_000}, "api_key_ids": ["fz-revoked"]},
        })
    }

    /// Credentials of every kind: an HS256 key only (fast to load), API keys
    /// and Basic users.
    pub fn credentials_config(&self) -> Value {
        let hs: Vec<&Value> = self.jwks["keys"].as_array().unwrap().iter().filter(|k| k["alg"] == "HS256").collect();
        json!({
            "jwt": {"jwks": {"keys": hs}},
            "api_keys": self.api_section,
            "basic": {"users": self.user_entries},
            "revoked": {"api_key_ids": ["fz-revoked"]},
        })
    }
}

/// The verifiers the harnesses share: `plain` and `strict` over the whole key
/// set, `nocache` = `plain` without the verified-token cache, `creds` for
/// Authorization / API key / Basic.
pub struct Verifiers {
    pub plain: Verifier,
    pub plain_twin: Verifier,
    pub nocache: Verifier,
    pub strict: Verifier,
    pub creds: Verifier,
}

pub fn verifiers() -> &'static Verifiers {
    static V: OnceLock<Verifiers> = OnceLock::new();
    V.get_or_init(|| {
        let f = fixture();
        let load = |v: &Value| Verifier::from_json(v.to_string().as_bytes()).expect("fixture config loads");
        let mut nc = f.plain_config();
        nc["cache"] = json!({"tokens": 0, "basic_entries": 0});
        let v = Verifiers {
            plain: load(&f.plain_config()),
            plain_twin: load(&f.plain_config()),
            nocache: load(&nc),
            strict: load(&f.strict_config()),
            creds: load(&f.credentials_config()),
        };
        let mut s = Scratch::new();
        for t in &f.good {
            assert!(v.plain.verify_jwt(t.as_bytes(), NOW, &mut s).is_ok(), "fixture token rejected: {t}");
        }
        v
    })
}

/// Decode a JSON document of a token segment with the reference decoders.
pub fn ref_segment(seg: &[u8]) -> Option<J> {
    refimpl::parse_json(&refimpl::b64url(seg)?, refimpl::JWT_MAX_DEPTH)
}
