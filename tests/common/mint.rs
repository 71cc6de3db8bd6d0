//! Minting tokens in tests with ring: HS256, ES256 and EdDSA keys made fresh,
//! and RS256 with the fixed 2048-bit key of fuzz/keys (ring makes no RSA keys).
#![allow(dead_code)]

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Value};
use warden::b64;

pub fn b64u(b: &[u8]) -> String {
    b64::encode(&b64::URL, b)
}

pub enum Signer {
    Hs256(Vec<u8>),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(RsaKeyPair),
}

pub struct TestKey {
    pub kid: String,
    pub signer: Signer,
}

impl TestKey {
    pub fn hs256(kid: &str) -> TestKey {
        let secret: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(kid.len() as u8)).collect();
        TestKey { kid: kid.into(), signer: Signer::Hs256(secret) }
    }

    pub fn es256(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pk8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pk8.as_ref(), &rng).unwrap();
        TestKey { kid: kid.into(), signer: Signer::Es256(kp) }
    }

    pub fn eddsa(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let pk8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        TestKey { kid: kid.into(), signer: Signer::EdDsa(Ed25519KeyPair::from_pkcs8(pk8.as_ref()).unwrap()) }
    }

    pub fn rs256(kid: &str) -> TestKey {
        let kp = RsaKeyPair::from_pkcs8(include_bytes!("../../fuzz/keys/rsa2048.pk8")).unwrap();
        TestKey { kid: kid.into(), signer: Signer::Rs256(kp) }
    }

    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Hs256(_) => "HS256",
            Signer::Es256(_) => "ES256",
            Signer::EdDsa(_) => "EdDSA",
            Signer::Rs256(_) => "RS256",
        }
    }

    /// The public JWK (the secret, for HMAC).
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Hs256(k) => json!({"kty": "oct", "alg": "HS256", "kid": self.kid, "k": b64u(k)}),
            Signer::Es256(kp) => {
                let p = kp.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": self.kid,
                       "x": b64u(&p[1..33]), "y": b64u(&p[33..65])})
            }
            Signer::EdDsa(kp) => json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": self.kid,
                                        "x": b64u(kp.public_key().as_ref())}),
            Signer::Rs256(kp) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = kp.public().into();
                json!({"kty": "RSA", "alg": "RS256", "kid": self.kid, "n": b64u(&c.n), "e": b64u(&c.e)})
            }
        }
    }

    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        self.sign_text(&header.to_string(), &claims.to_string())
    }

    /// A token of exactly this header and payload text (escapes and all).
    #[allow(dead_code)]
    pub fn sign_text(&self, header: &str, payload: &str) -> String {
        let si = format!("{}.{}", b64u(header.as_bytes()), b64u(payload.as_bytes()));
        let sig = match &self.signer {
            Signer::Hs256(k) => {
                ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k), si.as_bytes()).as_ref().to_vec()
            }
            Signer::Es256(kp) => kp.sign(&SystemRandom::new(), si.as_bytes()).unwrap().as_ref().to_vec(),
            Signer::EdDsa(kp) => kp.sign(si.as_bytes()).as_ref().to_vec(),
            Signer::Rs256(kp) => {
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), si.as_bytes(), &mut sig).unwrap();
                sig
            }
        };
        format!("{si}.{}", b64u(&sig))
    }

    /// A token with header `{"alg", "kid"}` and `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"alg": self.alg(), "kid": self.kid}), claims)
    }
}

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}
