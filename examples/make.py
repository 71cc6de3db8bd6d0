#!/usr/bin/env python3
"""Regenerate the bundled example: keys, config and tokens.

Needs `pip install cryptography`. The committed files are what this wrote; it
is here so the example can be rebuilt or extended, not run by the tests.
The private keys live only in this process: rerunning it makes new keys and
new tokens (and a new config to match).
"""
import base64, hashlib, json, os, subprocess, sys, zlib
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1767225600          # 2026-01-01, the examples' "issued at"
FAR = 4102444800          # 2100-01-01: example tokens stay valid for a while


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def write(path, text):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


hs_secret = os.urandom(32)
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

ecn = ec_key.public_key().public_numbers()
rsan = rsa_key.public_key().public_numbers()
ed_pub = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
jwks = {"keys": [
    {"kty": "oct", "kid": "example-hs256", "alg": "HS256", "k": b64u(hs_secret)},
    {"kty": "EC", "crv": "P-256", "kid": "example-es256", "alg": "ES256", "use": "sig",
     "x": b64u(uint(ecn.x, 32)), "y": b64u(uint(ecn.y, 32))},
    {"kty": "OKP", "crv": "Ed25519", "kid": "example-eddsa", "alg": "EdDSA", "x": b64u(ed_pub)},
    {"kty": "RSA", "kid": "example-rs256", "alg": "RS256", "n": b64u(uint(rsan.n)), "e": b64u(uint(rsan.e))},
]}
write("keys.json", json.dumps(jwks, indent=2) + "\n")


def sign(alg, kid, claims, header_extra=None):
    header = {"alg": alg, "typ": "at+jwt", "kid": kid}
    header.update(header_extra or {})
    si = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
          b64u(json.dumps(claims, separators=(",", ":")).encode())).encode()
    if alg == "HS256":
        import hmac
        sig = hmac.new(hs_secret, si, hashlib.sha256).digest()
    elif alg == "ES256":
        r, s = decode_dss_signature(ec_key.sign(si, ec.ECDSA(hashes.SHA256())))
        sig = uint(r, 32) + uint(s, 32)
    elif alg == "EdDSA":
        sig = ed_key.sign(si)
    else:
        sig = rsa_key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    return si.decode() + "." + b64u(sig)


def claims(**over):
    c = {"iss": "https://auth.example.com", "sub": "user-1842", "aud": "orders-api",
         "iat": NOW, "nbf": NOW, "exp": FAR, "jti": "tok-" + os.urandom(6).hex(),
         "scope": "orders:read orders:write", "name": "Ada Example"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


tokens = {
    "hs256": sign("HS256", "example-hs256", claims()),
    "es256": sign("ES256", "example-es256", claims(sub="svc-reporting", scope="reports:read")),
    "eddsa": sign("EdDSA", "example-eddsa", claims(sub="user-77")),
    "rs256": sign("RS256", "example-rs256", claims(sub="batch-job")),
    "expired": sign("ES256", "example-es256", claims(exp=NOW + 3600)),
    "wrong-audience": sign("HS256", "example-hs256", claims(aud="billing-api")),
    "revoked": sign("EdDSA", "example-eddsa", claims(jti="revoked-0001")),
    "alg-none": b64u(b'{"alg":"none","typ":"at+jwt"}') + "." + b64u(json.dumps(claims()).encode()) + ".",
    "hs256-keyed-with-rsa-kid": sign("HS256", "example-rs256", claims()),
}
# The hs256 token with its payload edited (sub → admin), signature kept.
good = tokens["hs256"].split(".")
edited = json.loads(base64.urlsafe_b64decode(good[1] + "=" * (-len(good[1]) % 4)))
edited["sub"] = "admin"
tokens["tampered"] = ".".join([good[0], b64u(json.dumps(edited, separators=(",", ":")).encode()), good[2]])

# An API key, checksummed as SPEC §5 says.
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def b62(n, width=6):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s.rjust(width, "0")
body = "wk_live_" + "".join(B62[b % 62] for b in os.urandom(40) if b < 248)[:40]
api_key = body + b62(zlib.crc32(body.encode()))

salt = os.urandom(16)
pw = b"correct horse battery staple"
dk = hashlib.pbkdf2_hmac("sha256", pw, salt, 600000)
phc = "$pbkdf2-sha256$i=600000$%s$%s" % (base64.b64encode(salt).decode().rstrip("="),
                                         base64.b64encode(dk).decode().rstrip("="))

config = {
    "jwt": {
        "jwks_file": "keys.json",
        "issuer": ["https://auth.example.com"],
        "audience": ["orders-api"],
        "leeway_s": 30,
        "require": ["exp", "sub"],
        "typ": "at+jwt",
    },
    "api_keys": {
        "prefixes": ["wk_live"],
        "keys": [{"id": "example-key-1", "sha256": hashlib.sha256(api_key.encode()).hexdigest(),
                  "owner": "billing-svc", "scopes": ["orders:read"], "rate": {"per_s": 5, "burst": 10}}],
    },
    "basic": {"users": [{"user": "alice", "hash": phc}], "max_failures_per_min": 5},
    "revoked": {"jti": ["revoked-0001"]},
}
write("warden.json", json.dumps(config, indent=2) + "\n")
for name, tok in tokens.items():
    write("tokens/%s.jwt" % name, tok + "\n")
write("credentials/api-key", api_key + "\n")
write("credentials/basic", "alice:correct horse battery staple\n")
write("credentials/basic-wrong", "alice:tr0ub4dor&3\n")
print("wrote the example into", HERE)
