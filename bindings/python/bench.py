#!/usr/bin/env python3
"""warden's Python binding against PyJWT and joserfc, on the same tokens, in one run.

    python3 bindings/python/bench.py [--seconds S] [--check] [--tokens FILE] [--json FILE]

It makes (or refreshes) a virtual environment, bindings/python/.bench-venv,
installs ``./bindings/python pyjwt joserfc cryptography`` there and runs
itself again inside it (``--no-venv`` runs in the current environment).

Tokens (one per alg: HS256, RS256 2048-bit, ES256, EdDSA/Ed25519) are minted
here with ``cryptography``: a header with ``kid``, a payload of about 250
bytes (iss, sub, aud, exp, iat, nbf, jti, scope, name). ``--tokens`` takes
them instead from the tokens.json of benches/hosts/tokens.py, the set every
host benchmark shares (benches/all.sh passes it). Every library does
the same work per call: verify the signature with the key pinned to the alg,
check exp/nbf/iat, issuer and audience, and hand back the identity:

- warden:  ``r = verifier.verify_jwt(token); r.ok and r.subject`` (verified-token
  cache off, so every call checks the signature; the "+claims" column also
  reads ``r.scopes`` and the whole claims dict);
- PyJWT:   ``jwt.decode(token, key, algorithms=[alg], audience=..., issuer=...)``;
- joserfc: ``jwt.decode(token, key, algorithms=[alg])`` then
  ``JWTClaimsRegistry(iss=..., aud=...).validate(claims)``.

Calls are timed in this thread's CPU time (``--wall`` for wall-clock time),
in interleaved rounds (warden, PyJWT, joserfc, repeat); the best round of
each is reported, so the three share the machine's noise.
``--check`` exits 1 unless warden is >= 10x PyJWT on HS256 and faster than
PyJWT and joserfc on every alg. ``--json`` writes the times and versions for
benches/report.py. No test depends on these timings.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV = os.path.join(HERE, ".bench-venv")


def _bootstrap(use_current: bool, argv) -> None:
    """Run inside bindings/python/.bench-venv with this checkout's warden installed."""
    if use_current or os.environ.get("WARDEN_BENCH_CHILD"):
        return
    py = os.path.join(VENV, "bin", "python")
    import shutil

    shutil.rmtree(os.path.join(HERE, "build"), ignore_errors=True)  # no stale files in the wheel
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    subprocess.check_call(
        [py, "-m", "pip", "install", "-q", "./bindings/python", "pyjwt", "joserfc", "cryptography"], cwd=ROOT
    )
    shutil.rmtree(os.path.join(HERE, "build"), ignore_errors=True)
    env = dict(os.environ, WARDEN_BENCH_CHILD="1")
    env.pop("WARDEN_LIBRARY", None)
    os.chdir("/")  # import the installed package, not the source tree
    os.execve(py, [py, os.path.abspath(__file__)] + argv, env)


NOW = int(time.time())
ISS = "https://auth.example.com"
AUD = "orders-api"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def make_keys():
    """(alg, kid, public JWK, PyJWT key, joserfc key, sign(bytes) -> bytes) per alg."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

    out = []
    secret = hashlib.sha256(b"warden bench secret").digest()
    jwk = {"kty": "oct", "kid": "bench-hs256", "alg": "HS256", "k": b64u(secret)}
    out.append(("HS256", jwk, secret, OctKey.import_key(jwk), lambda m: hmac.new(secret, m, hashlib.sha256).digest()))

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = rsa_key.public_key()
    nums = pub.public_numbers()
    jwk = {"kty": "RSA", "kid": "bench-rs256", "alg": "RS256", "n": uint(nums.n), "e": uint(nums.e)}
    out.append(
        ("RS256", jwk, pub, RSAKey.import_key(jwk), lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA256()))
    )

    ec_key = ec.generate_private_key(ec.SECP256R1())
    pub = ec_key.public_key()
    nums = pub.public_numbers()
    jwk = {
        "kty": "EC", "crv": "P-256", "kid": "bench-es256", "alg": "ES256",
        "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big")),
    }

    def es256(m):
        r, s = decode_dss_signature(ec_key.sign(m, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    out.append(("ES256", jwk, pub, ECKey.import_key(jwk), es256))

    ed_key = ed25519.Ed25519PrivateKey.generate()
    pub = ed_key.public_key()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": "bench-eddsa", "alg": "EdDSA", "x": b64u(raw)}
    out.append(("EdDSA", jwk, pub, OKPKey.import_key(jwk), ed_key.sign))
    return out


def mint(alg: str, kid: str, sign) -> str:
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    payload = {
        "iss": ISS,
        "sub": "user-1842@customers.example.com",
        "aud": AUD,
        "exp": NOW + 86400,
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "jti": "5c1c1a8e-8f3b-4b5e-9a4f-1d2e3f4a5b6c",
        "scope": "orders:read orders:write invoices:read",
        "name": "Ada Lovelace-Byron of the Analytical Engine",
    }
    signing = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + b64u(
        json.dumps(payload, separators=(",", ":")).encode()
    )
    return signing + "." + b64u(sign(signing.encode()))


def load_tokens(path):
    """(alg, jwk, PyJWT key, joserfc key, token) per alg, subject, config, from tokens.py's tokens.json."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from joserfc.jwk import import_key

    with open(path) as f:
        data = json.load(f)
    out = []
    for a in data["algs"]:
        with open(os.path.join(os.path.dirname(path), a["key_file"]), "rb") as f:
            raw = f.read()
        key = raw if a["alg"].startswith("HS") else load_pem_public_key(raw)
        out.append((a["alg"], a["jwk"], key, import_key(a["jwk"]), a["token"]))
    return out, data["subject"], data["config"], data["issuer"], data["audience"]


def best_per_call(fn, seconds: float, clock) -> float:
    """Seconds per call: calibrate a batch of ~20 ms, run batches for `seconds`, keep the best."""
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt > 0.02:
            break
        n *= 2
    best = dt / n
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t0) / n)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="time per library per round (default 0.5)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--check", action="store_true", help="exit 1 unless the targets are met")
    ap.add_argument("--wall", action="store_true",
                    help="time in wall-clock seconds instead of this thread's CPU time")
    ap.add_argument("--no-venv", action="store_true",
                    help="run in the current environment (warden, pyjwt, joserfc, cryptography installed)")
    ap.add_argument("--tokens", help="tokens.json from benches/hosts/tokens.py (default: mint tokens here)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    # The bootstrap runs this script again from another directory: absolute paths.
    args.tokens = args.tokens and os.path.abspath(args.tokens)
    args.json = args.json and os.path.abspath(args.json)
    argv, rest = [], iter(sys.argv[1:])
    for a in rest:
        if a in ("--tokens", "--json"):
            next(rest, None)
        elif not a.startswith(("--tokens=", "--json=")):
            argv.append(a)
    argv += [x for name in ("tokens", "json") if getattr(args, name) for x in ("--" + name, getattr(args, name))]
    _bootstrap(args.no_venv, argv)

    import warnings

    # joserfc >= 1.4 warns that "EdDSA" is deprecated in favour of "Ed25519"
    # (RFC 9864); the tokens here use "EdDSA", as SPEC section 1 does.
    warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")
    import joserfc
    import jwt as pyjwt
    from joserfc import jwt as jose_jwt

    import warden

    # Thread CPU time (CLOCK_THREAD_CPUTIME_ID): time spent descheduled on a
    # shared machine does not count. Everything measured runs on this thread.
    clock = time.perf_counter if args.wall else time.thread_time
    iss, aud = ISS, AUD
    subject = "user-1842@customers.example.com"
    if args.tokens:
        samples, subject, config, iss, aud = load_tokens(args.tokens)
    else:
        samples = [(alg, jwk, pk, jk, mint(alg, jwk["kid"], sign)) for alg, jwk, pk, jk, sign in make_keys()]
        config = {
            "jwt": {"jwks": {"keys": [s[1] for s in samples]}, "issuer": [ISS], "audience": [AUD]},
            # Measure signature checks, not the verified-token cache (RS/ES/EdDSA).
            "cache": {"tokens": 0},
        }
    verifier = warden.Verifier.from_config(config)
    registry = jose_jwt.JWTClaimsRegistry(iss={"essential": True, "value": iss}, aud={"essential": True, "value": aud})

    versions = {"warden": warden.__version__, "libwarden": warden.library_version, "pyjwt": pyjwt.__version__,
                "joserfc": getattr(joserfc, "__version__", "?"), "python": sys.version.split()[0]}
    try:
        import cryptography

        versions["cryptography"] = cryptography.__version__
    except ImportError:
        pass
    print("warden %(warden)s (Python binding, libwarden %(libwarden)s), PyJWT %(pyjwt)s, joserfc %(joserfc)s, "
          "Python %(python)s" % versions)
    rows = []
    ok = True
    for alg, jwk, pyjwt_key, jose_key, token in samples:
        tb = token.encode()

        def w(tb=tb):
            r = verifier.verify_jwt(tb)
            return r.ok and r.subject

        def w_claims(tb=tb):
            r = verifier.verify_jwt(tb)
            return r.ok and r.subject and r.scopes and r.claims

        def p(token=token, key=pyjwt_key, alg=alg):
            return pyjwt.decode(token, key, algorithms=[alg], audience=aud, issuer=iss)["sub"]

        def j(token=token, key=jose_key, alg=alg):
            t = jose_jwt.decode(token, key, algorithms=[alg])
            registry.validate(t.claims)
            return t.claims["sub"]

        # Every library accepts the token and finds the same subject.
        assert w() == subject and p() == subject and j() == subject, alg
        assert verifier.verify_jwt(tb[:-4] + (b"AAAA" if tb[-4:] != b"AAAA" else b"BBBB")).code == "bad_signature"
        times = {"warden": [], "warden+claims": [], "pyjwt": [], "joserfc": []}
        for _ in range(args.rounds):
            for name, fn in (("warden", w), ("warden+claims", w_claims), ("pyjwt", p), ("joserfc", j)):
                times[name].append(best_per_call(fn, args.seconds, clock))
        t = {k: min(v) for k, v in times.items()}
        rows.append((alg, len(token), t))
        # The targets: >= 10x PyJWT on HS256; faster than PyJWT and joserfc on every alg.
        need = 10.0 if alg == "HS256" else 1.0
        if t["pyjwt"] / t["warden"] < need or t["joserfc"] / t["warden"] <= 1.0:
            ok = False

    print()
    print("%-6s %6s  %10s %14s %10s %10s  %11s %13s" % (
        "alg", "bytes", "warden us", "+claims us", "PyJWT us", "joserfc us", "vs PyJWT", "vs joserfc"))
    for alg, size, t in rows:
        print("%-6s %6d  %10.2f %14.2f %10.2f %10.2f  %10.1fx %12.1fx" % (
            alg, size, t["warden"] * 1e6, t["warden+claims"] * 1e6, t["pyjwt"] * 1e6, t["joserfc"] * 1e6,
            t["pyjwt"] / t["warden"], t["joserfc"] / t["warden"]))
    print()
    print("ratios: library time / warden time (verify + subject); '+claims' also reads scopes and every claim;"
          " %s time per call." % ("wall-clock" if args.wall else "thread CPU"))
    print("targets (>= 10x PyJWT on HS256, faster than both on every alg): %s" % ("met" if ok else "NOT met"))
    verifier.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": versions, "clock": "wall" if args.wall else "thread_cpu",
                       "seconds": args.seconds, "rounds": args.rounds, "shared_tokens": bool(args.tokens),
                       "algs": [{"alg": alg, "bytes": size, **{k.replace("+", "_") + "_ns": v * 1e9 for k, v in t.items()}}
                                for alg, size, t in rows]}, f, indent=1)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
