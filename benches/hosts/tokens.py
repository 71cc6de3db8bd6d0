#!/usr/bin/env python3
"""Mint the one set of tokens and keys every host benchmark uses.

    benches/hosts/tokens.py DIR [--validity SECONDS]

Python standard library plus the `openssl` command line tool. The tokens
have the shape of the Rust benches' fixtures (benches/common/mod.rs): header
{"alg","kid","typ"} with a kid like "hs256-2025-01", the same ~230-byte
payload (iss, sub, aud, exp, iat, nbf, jti, scope, name), and RS256 signed
with the committed key benches/data/rsa2048.pk8.der. The HS256 secret and the
ES256 and Ed25519 keys are fresh on every call, as in the Rust benches. The
tokens expire a day after they are minted (--validity), because the peer
libraries read the system clock.

DIR receives:

    tokens.json   everything below, for the Python, Go and nginx benchmarks:
                  {"now", "issuer", "audience", "subject",
                   "algs": [{"alg", "kid", "token", "jwk", "key_file"}, ...],
                   "config": warden's config (these keys, issuer and audience
                             policy, verified-token cache off)}
    config.json   that config alone
    <ALG>.jwt     the token (HS256, RS256, ES256, EdDSA)
    <ALG>.key     what a peer library verifies with: the raw HMAC secret for
                  HS256, the public key as PEM (SubjectPublicKeyInfo) otherwise
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RSA_KEY = os.path.join(ROOT, "benches", "data", "rsa2048.pk8.der")
ISSUER = "https://auth.example.com"
AUDIENCE = "orders-api"
SUBJECT = "user_2Nf8kQ4tXb7LmZ9pR3vW"
ALGS = ["HS256", "RS256", "ES256", "EdDSA"]


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def der(buf: bytes, pos: int = 0):
    """One DER element at `pos`: (tag, contents, position after it)."""
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, buf[pos:pos + n], pos + n


def der_items(buf: bytes):
    pos, out = 0, []
    while pos < len(buf):
        tag, val, pos = der(buf, pos)
        out.append((tag, val))
    return out


def spki_key_bits(spki_der: bytes) -> bytes:
    """The subjectPublicKey bits of a SubjectPublicKeyInfo (unused-bits byte dropped)."""
    _, seq, _ = der(spki_der)
    (_, _alg), (tag, bits) = der_items(seq)
    assert tag == 0x03 and bits[0] == 0, "unexpected SubjectPublicKeyInfo"
    return bits[1:]


def uint(b: bytes) -> bytes:
    """A DER INTEGER's contents as an unsigned big-endian number (leading 0 dropped)."""
    return b.lstrip(b"\0") or b"\0"


def payload(now: int, validity: int) -> bytes:
    iat = now - 30
    return (
        f'{{"iss":"{ISSUER}","sub":"{SUBJECT}","aud":"{AUDIENCE}","exp":{iat + validity},"iat":{iat},'
        f'"nbf":{iat},"jti":"6f1c2e8a-93b4-4d7e-b0a5-2c9f8e71d346","scope":"orders:read orders:write",'
        f'"name":"Alexandra Whitfield-Rodriguez"}}'
    ).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--validity", type=int, default=86400, help="seconds from iat to exp (default a day)")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    now = int(time.time())
    body = b64u(payload(now, args.validity))
    algs = []
    with tempfile.TemporaryDirectory(prefix="warden-bench-keys-") as tmp:
        for alg in ALGS:
            kid = f"{alg.lower()}-2025-01"
            header = f'{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}'.encode()
            signing_input = (b64u(header) + "." + body).encode()
            priv = os.path.join(tmp, alg + ".pem")
            if alg == "HS256":
                import hashlib
                import hmac

                secret = os.urandom(32)
                sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
                jwk = {"kty": "oct", "alg": alg, "kid": kid, "k": b64u(secret)}
                key_file = secret
            else:
                if alg == "RS256":
                    openssl("pkey", "-inform", "DER", "-in", RSA_KEY, "-out", priv)
                elif alg == "ES256":
                    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", priv)
                else:
                    openssl("genpkey", "-algorithm", "ed25519", "-out", priv)
                pub_der = openssl("pkey", "-in", priv, "-pubout", "-outform", "DER")
                key_file = openssl("pkey", "-in", priv, "-pubout")
                bits = spki_key_bits(pub_der)
                if alg == "RS256":
                    _, rsa_seq, _ = der(bits)
                    (_, n), (_, e) = der_items(rsa_seq)
                    jwk = {"kty": "RSA", "alg": alg, "kid": kid, "n": b64u(uint(n)), "e": b64u(uint(e))}
                    sig = openssl("dgst", "-sha256", "-sign", priv, data=signing_input)
                elif alg == "ES256":
                    assert len(bits) == 65 and bits[0] == 4, "uncompressed P-256 point expected"
                    jwk = {"kty": "EC", "alg": alg, "kid": kid, "crv": "P-256",
                           "x": b64u(bits[1:33]), "y": b64u(bits[33:])}
                    _, rs, _ = der(openssl("dgst", "-sha256", "-sign", priv, data=signing_input))
                    (_, r), (_, s) = der_items(rs)
                    sig = uint(r).rjust(32, b"\0") + uint(s).rjust(32, b"\0")
                else:
                    assert len(bits) == 32
                    jwk = {"kty": "OKP", "alg": alg, "kid": kid, "crv": "Ed25519", "x": b64u(bits)}
                    msg = os.path.join(tmp, "msg")
                    with open(msg, "wb") as f:
                        f.write(signing_input)
                    sig = openssl("pkeyutl", "-sign", "-rawin", "-inkey", priv, "-in", msg)
            token = signing_input.decode() + "." + b64u(sig)
            for suffix, data in ((".jwt", token.encode()), (".key", key_file)):
                with open(os.path.join(args.dir, alg + suffix), "wb") as f:
                    f.write(data)
            algs.append({"alg": alg, "kid": kid, "token": token, "jwk": jwk, "key_file": alg + ".key"})
    config = {
        "jwt": {"jwks": {"keys": [a["jwk"] for a in algs]}, "issuer": [ISSUER], "audience": [AUDIENCE]},
        # Every call checks the signature: the verified-token cache is off.
        "cache": {"tokens": 0},
    }
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(args.dir, "tokens.json"), "w") as f:
        json.dump({"now": now, "issuer": ISSUER, "audience": AUDIENCE, "subject": SUBJECT, "algs": algs,
                   "config": config}, f, indent=1)
    print(f"tokens.py: {', '.join(ALGS)} tokens ({len(base64.urlsafe_b64decode(body + '=='))}-byte payload) "
          f"in {args.dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
