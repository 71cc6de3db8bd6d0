"""PyJWT and joserfc as interop peers of warden.

    python peer.py mint pyjwt|joserfc OUT.json
        Generate a key per algorithm, sign one token per algorithm (and an
        expired HS256 token), and write a vectors-format file (SPEC §4):
        {"config": {"jwt": {"jwks": ...}}, "cases": [...], "peer": {...}}.
    python peer.py verify pyjwt|joserfc PROBES.json
        For each probe {"name", "token", "alg", "key": JWK}, print one line
        "name<TAB>accept|reject" as the library's verifier decides with the
        algorithm pinned (informational: which peers are laxer than warden).
"""

import base64
import json
import os
import sys

NOW = 1700000000
ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def claims(lib, alg):
    return {"iss": "https://interop.example", "sub": f"{lib}-{alg}", "iat": NOW - 60, "exp": NOW + 3600}


def rsa_pem(public_key):
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def mint_pyjwt():
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    secrets = {"HS256": os.urandom(32), "HS384": os.urandom(48), "HS512": os.urandom(64)}
    jwks, cases = [], []
    for alg in ALGS:
        kid = f"pyjwt-{alg.lower()}"
        if alg.startswith("HS"):
            signing = secrets[alg]
            jwk = {"kty": "oct", "k": b64(secrets[alg])}
        elif alg[:2] in ("RS", "PS"):
            signing = rsa_key
            jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
        elif alg == "ES256":
            signing = p256
            jwk = json.loads(ECAlgorithm.to_jwk(p256.public_key()))
        elif alg == "ES384":
            signing = p384
            jwk = json.loads(ECAlgorithm.to_jwk(p384.public_key()))
        else:
            signing = ed
            jwk = json.loads(OKPAlgorithm.to_jwk(ed.public_key()))
        jwk.update({"alg": alg, "kid": kid})
        jwks.append(jwk)
        token = jwt.encode(claims("pyjwt", alg), signing, algorithm=alg, headers={"kid": kid})
        cases.append({"name": f"pyjwt {alg}", "now": NOW, "jwt": token, "expect": "ok",
                      "expect_fields": {"subject": f"pyjwt-{alg}", "kid": kid}})
    expired = dict(claims("pyjwt", "HS256"), exp=NOW - 1)
    cases.append({"name": "pyjwt HS256 expired 1 s ago", "now": NOW, "expect": "expired",
                  "jwt": jwt.encode(expired, secrets["HS256"], algorithm="HS256", headers={"kid": "pyjwt-hs256"})})
    peer = {"rsa_public_pem": rsa_pem(rsa_key.public_key()), "hs256_secret": b64(secrets["HS256"])}
    return jwks, cases, peer


def mint_joserfc():
    from joserfc import jwt
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

    rsa_key = RSAKey.generate_key(2048)
    p256 = ECKey.generate_key("P-256")
    p384 = ECKey.generate_key("P-384")
    ed = OKPKey.generate_key("Ed25519")
    secrets = {"HS256": OctKey.generate_key(256), "HS384": OctKey.generate_key(384), "HS512": OctKey.generate_key(512)}
    jwks, cases = [], []
    for alg in ALGS:
        kid = f"joserfc-{alg.lower()}"
        key = secrets.get(alg) or {"RS": rsa_key, "PS": rsa_key}.get(alg[:2]) or \
            {"ES256": p256, "ES384": p384, "EdDSA": ed}[alg]
        jwk = key.as_dict(private=False)
        jwk = {k: v for k, v in jwk.items() if k not in ("kid", "use", "key_ops", "alg")}
        jwk.update({"alg": alg, "kid": kid})
        jwks.append(jwk)
        token = jwt.encode({"alg": alg, "kid": kid}, claims("joserfc", alg), key, algorithms=[alg])
        cases.append({"name": f"joserfc {alg}", "now": NOW, "jwt": token, "expect": "ok",
                      "expect_fields": {"subject": f"joserfc-{alg}", "kid": kid}})
    expired = dict(claims("joserfc", "HS256"), exp=NOW - 1)
    cases.append({"name": "joserfc HS256 expired 1 s ago", "now": NOW, "expect": "expired",
                  "jwt": jwt.encode({"alg": "HS256", "kid": "joserfc-hs256"}, expired, secrets["HS256"],
                                    algorithms=["HS256"])})
    from cryptography.hazmat.primitives import serialization  # noqa: F401 (joserfc depends on it)
    pem = rsa_key.as_pem(private=False)
    pem = pem.decode() if isinstance(pem, bytes) else pem
    hs = secrets["HS256"].as_dict(private=True)["k"]
    return jwks, cases, {"rsa_public_pem": pem, "hs256_secret": hs}


def verify(lib, probes):
    for p in probes:
        ok = False
        try:
            if lib == "pyjwt":
                import jwt

                key = jwt.PyJWK(p["key"]).key
                opts = {"require": ["exp"]}
                jwt.decode(p["token"], key, algorithms=[p["alg"]], options=opts, leeway=0)
                ok = True
            else:
                from joserfc import jwt
                from joserfc.jwk import import_key

                key = import_key(p["key"])
                tok = jwt.decode(p["token"], key, algorithms=[p["alg"]])
                jwt.JWTClaimsRegistry(exp={"essential": True}).validate(tok.claims)
                ok = True
        except Exception:  # any refusal counts as a rejection
            ok = False
        print(f"{p['name']}\t{'accept' if ok else 'reject'}")


def main():
    cmd, lib, path = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "mint":
        jwks, cases, peer = mint_pyjwt() if lib == "pyjwt" else mint_joserfc()
        doc = {"config": {"jwt": {"jwks": {"keys": jwks}}}, "cases": cases, "peer": peer}
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
    else:
        with open(path) as f:
            verify(lib, json.load(f))


if __name__ == "__main__":
    main()
