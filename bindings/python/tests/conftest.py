"""Shared fixtures: where the conformance vectors are, and small configs."""

import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent  # bindings/python/tests -> repository root


def vectors_dir() -> pathlib.Path:
    env = os.environ.get("WARDEN_VECTORS")
    return pathlib.Path(env) if env else ROOT.parent / "shared" / "vectors"


# A 32-byte HS256 secret ("warden-python-binding-test-secret" cut to 32), as a JWK.
HS_SECRET = b"warden-python-binding-test-secre"


def b64u(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload: dict, kid: str = "hs", secret: bytes = HS_SECRET, header: dict = None) -> str:
    """Mint an HS256 token with the standard library only."""
    import hashlib
    import hmac
    import json

    h = {"alg": "HS256", "typ": "JWT", "kid": kid}
    if header:
        h.update(header)
    signing = b64u(json.dumps(h, separators=(",", ":")).encode()) + "." + b64u(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64u(sig)


def api_key(prefix: str, random_part: str) -> str:
    """A well-formed API key: CRC-32 of `<prefix>_<random>` in 6 base62 digits."""
    import zlib

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    body = prefix + "_" + random_part
    n = zlib.crc32(body.encode())
    digits = ""
    for _ in range(6):
        n, d = divmod(n, 62)
        digits = alphabet[d] + digits
    return body + digits


NOW = 1_700_000_000
API_KEY = api_key("tk_test", "A" * 10 + "b" * 10 + "C" * 10 + "d2")
PASSWORD_HASH_ITER = 1000


def pbkdf2_phc(password: bytes, salt: bytes = b"0123456789abcdef", iterations: int = PASSWORD_HASH_ITER) -> str:
    import base64
    import hashlib

    dk = hashlib.pbkdf2_hmac("sha256", password, salt, iterations, 32)
    enc = lambda b: base64.b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return "$pbkdf2-sha256$i=%d$%s$%s" % (iterations, enc(salt), enc(dk))


def base_config(**extra) -> dict:
    import hashlib

    cfg = {
        "jwt": {
            "jwks": {"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(HS_SECRET)}]},
            "leeway_s": 0,
        },
        "api_keys": {
            "prefixes": ["tk_test"],
            "keys": [
                {
                    "id": "key-1",
                    "sha256": hashlib.sha256(API_KEY.encode()).hexdigest(),
                    "owner": "billing",
                    "scopes": ["orders:read", "orders:write"],
                    "rate": {"per_s": 1, "burst": 2},
                }
            ],
        },
        "basic": {"users": [{"user": "alice", "hash": pbkdf2_phc(b"wonderland")}]},
    }
    cfg.update(extra)
    return cfg


@pytest.fixture
def config() -> dict:
    return base_config()


@pytest.fixture
def verifier(config):
    import warden

    with warden.Verifier.from_config(config) as v:
        yield v


def token(sub="user-1", scope="orders:read", exp=NOW + 3600, **claims) -> str:
    payload = {"sub": sub, "iat": NOW - 10}
    if exp is not None:
        payload["exp"] = exp
    if scope is not None:
        payload["scope"] = scope
    payload.update(claims)
    return hs256(payload)
