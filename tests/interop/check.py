"""Run peer-minted tokens and a shared set of broken tokens through `warden verify`.

    python3 check.py WARDEN_BIN WORK_DIR PEER_FILE... [--probe-peer NAME=CMD ...]

Each PEER_FILE is a vectors-format file (SPEC §4) written by a peer library,
with an extra "peer" member (its RSA public key PEM and HS256 secret). For
each file: every case must give its expected verdict, and so must tokens
derived from the peer's tokens by the classic attacks (alg none, stripped or
shortened signature, HMAC keyed with the RSA public key, unknown kid,
tampered payload, DER ECDSA signature, JWE shape), each with the code the
RFCs and SPEC §3/§5 demand.

Then the "probes": HS256 tokens, each validly signed but with one defect,
verified by warden (expected codes asserted) and by every peer named with
--probe-peer (informational: where a peer is laxer than warden is printed
and written to WORK_DIR/laxness.tsv).

Prints "N passed, M failed"; exits 1 if anything failed. Standard library only.
"""

import base64
import hashlib
import hmac
import json
import os
import shlex
import subprocess
import sys
import time


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def seg(obj):
    return b64(json.dumps(obj, separators=(",", ":")).encode())


class Runner:
    def __init__(self, warden, work):
        self.warden, self.work = warden, work
        self.passed, self.failed = 0, []

    def verify(self, config_path, now, token):
        p = subprocess.run([self.warden, "verify", "--config", config_path, "--now", str(now), "--jwt", token],
                           capture_output=True, text=True)
        if p.returncode not in (0, 1):
            return p.returncode, {"error": f"exit {p.returncode}: {p.stderr.strip()}"}
        return p.returncode, json.loads(p.stdout)

    def check(self, label, config_path, now, token, expect, fields=None):
        rc, out = self.verify(config_path, now, token)
        if expect == "ok":
            good = rc == 0 and out.get("ok") is True and all(out.get(k) == v for k, v in (fields or {}).items())
        else:
            good = rc == 1 and out.get("ok") is False and out.get("error") == expect
        if good:
            self.passed += 1
        else:
            tag = "SECURITY: accepted" if expect != "ok" and rc == 0 else "mismatch"
            self.failed.append(f"{label}: {tag}: expected {expect}, got {out}")
        return out


def der_ecdsa(raw):
    """r||s → ASN.1 DER SEQUENCE { INTEGER r, INTEGER s }."""
    def integer(b):
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return b"\x02" + bytes([len(b)]) + b
    half = len(raw) // 2
    body = integer(raw[:half]) + integer(raw[half:])
    return b"\x30" + bytes([len(body)]) + body


def derived(cases, peer):
    """(label, token, expected code) for attacks built from a peer's tokens."""
    by_alg = {}
    for c in cases:
        if c["expect"] == "ok":
            h = json.loads(unb64(c["jwt"].split(".")[0]))
            by_alg[h["alg"]] = (c["jwt"], h.get("kid"))
    out = []
    rs_tok, rs_kid = by_alg["RS256"]
    hs_tok, hs_kid = by_alg["HS256"]
    _, rs_payload, _ = rs_tok.split(".")
    for name in ["none", "None", "NONE"]:
        out.append((f"alg {name} with the RS256 kid, empty signature (RFC 8725 §3.1, RFC 7518 §3.6)",
                    f"{seg({'alg': name, 'kid': rs_kid})}.{rs_payload}.", "unsupported_alg"))
    h, p, s = hs_tok.split(".")
    out.append(("alg none keeping the HS256 signature", f"{seg({'alg': 'none', 'kid': hs_kid})}.{p}.{s}",
                "unsupported_alg"))
    pem = peer["rsa_public_pem"].encode()

    def hmac_token(header, payload_seg, key):
        si = f"{seg(header)}.{payload_seg}"
        return f"{si}.{b64(hmac.new(key, si.encode(), hashlib.sha256).digest())}"

    out.append(("HS256 keyed with the RSA public key PEM, RS256 kid (CVE-2015-9235)",
                hmac_token({"alg": "HS256", "kid": rs_kid}, rs_payload, pem), "unknown_key"))
    out.append(("HS256 keyed with the RSA public key PEM, no kid",
                hmac_token({"alg": "HS256"}, rs_payload, pem), "bad_signature"))
    out.append(("HS256 keyed with the RSA public key PEM without its final newline, RS256 kid",
                hmac_token({"alg": "HS256", "kid": rs_kid}, rs_payload, pem.rstrip()), "unknown_key"))
    h, p, s = rs_tok.split(".")
    out.append(("RS256 header with a kid nobody has", f"{seg({'alg': 'RS256', 'kid': 'no-such-kid'})}.{p}.{s}",
                "unknown_key"))
    out.append(("PS256 header on the RS256 signature (kid of the RS256 key)",
                f"{seg({'alg': 'PS256', 'kid': rs_kid})}.{p}.{s}", "unknown_key"))
    out.append(("5 segments (JWE compact shape)", f"{h}.{p}.{s}.{s}.{s}", "malformed"))
    for alg, (tok, kid) in sorted(by_alg.items()):
        h, p, s = tok.split(".")
        claims = json.loads(unb64(p))
        claims["sub"] = "admin"
        out.append((f"{alg} signature stripped (CVE-2020-28042)", f"{h}.{p}.", "bad_signature"))
        out.append((f"{alg} signature cut by one byte", f"{h}.{p}.{b64(unb64(s)[:-1])}", "bad_signature"))
        out.append((f"{alg} payload tampered (sub: admin)", f"{h}.{seg(claims)}.{s}", "bad_signature"))
        out.append((f"{alg} header and payload swapped (the claims have no alg)", f"{p}.{h}.{s}", "unsupported_alg"))
        if alg.startswith("ES"):
            out.append((f"{alg} signature DER-encoded instead of r||s (RFC 7518 §3.4)",
                        f"{h}.{p}.{b64(der_ecdsa(unb64(s)))}", "bad_signature"))
    return out


def probes(secret, now):
    """HS256 tokens with one defect each: (name, token, warden's expected code, why)."""
    def signed(header_json, payload_json, pad_sig=False, mangle_sig=None):
        si = f"{b64(header_json.encode())}.{b64(payload_json.encode())}"
        sig = b64(hmac.new(secret, si.encode(), hashlib.sha256).digest())
        if mangle_sig:
            sig = mangle_sig(sig)
        return f"{si}.{sig}" + ("=" if pad_sig else "")

    def unsigned(header_json, payload_json):
        return f"{b64(header_json.encode())}.{b64(payload_json.encode())}."

    H = '{"alg":"HS256","typ":"JWT"}'
    exp, past = now + 3600, now - 3600
    last_char = lambda s: s[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(s[-1]) | 1)]
    return [
        ("baseline", signed(H, f'{{"sub":"p","exp":{exp}}}'), "ok", "valid"),
        ("alg none, no signature", unsigned('{"alg":"none"}', f'{{"sub":"p","exp":{exp}}}'),
         "unsupported_alg", "RFC 8725 §3.2: unsecured JWS never accepted for authentication"),
        ("signature stripped", signed(H, f'{{"sub":"p","exp":{exp}}}').rsplit(".", 1)[0] + ".", "bad_signature",
         "RFC 7515 §5.2 step 7"),
        ("exp given twice, the last one in the future",
         signed(H, f'{{"sub":"p","exp":{past},"exp":{exp}}}'), "malformed",
         "RFC 7519 §4 allows last-wins parsing but RFC 8259 §4 calls duplicates non-interoperable; "
         "SPEC §5 refuses them so no two parsers can read different claims"),
        ("exp given twice, the first one in the future",
         signed(H, f'{{"sub":"p","exp":{exp},"exp":{past}}}'), "malformed", "as above"),
        ("sub given twice", signed(H, f'{{"sub":"user","sub":"admin","exp":{exp}}}'), "malformed", "as above"),
        ("alg given twice in the header (none, HS256)",
         signed('{"alg":"none","alg":"HS256"}', f'{{"sub":"p","exp":{exp}}}'), "malformed",
         "RFC 7515 §4: header parameter names MUST be unique"),
        ("exp as a string", signed(H, f'{{"sub":"p","exp":"{exp}"}}'), "malformed",
         "RFC 7519 §4.1.4: exp MUST be a NumericDate (a JSON number)"),
        ("exp 1e400 (beyond a double)", signed(H, '{"sub":"p","exp":1e400}'), "malformed",
         "SPEC §5: NumericDate must be within a double"),
        ("exp missing", signed(H, '{"sub":"p"}'), "missing_claim", "policy: exp required"),
        ("crit naming exp", signed('{"alg":"HS256","crit":["exp"]}', f'{{"sub":"p","exp":{exp}}}'),
         "crit_unsupported", "RFC 7515 §4.1.11: crit extensions not understood MUST be rejected"),
        ("'=' padding after the signature", signed(H, f'{{"sub":"p","exp":{exp}}}', pad_sig=True), "malformed",
         "RFC 7515 §2: base64url without padding"),
        ("signature with non-zero trailing bits",
         signed(H, f'{{"sub":"p","exp":{exp}}}', mangle_sig=last_char), "malformed",
         "RFC 4648 §3.5 and SPEC §5: one encoding per value"),
        ("aud present, verifier has no audience", signed(H, f'{{"sub":"p","aud":"other-api","exp":{exp}}}'),
         "bad_audience", "RFC 7519 §4.1.3: a recipient not in aud MUST reject"),
        ("nbf one hour ahead", signed(H, f'{{"sub":"p","nbf":{exp},"exp":{exp + 60}}}'), "not_yet_valid",
         "RFC 7519 §4.1.5"),
        ("iat one hour ahead", signed(H, f'{{"sub":"p","iat":{exp},"exp":{exp + 60}}}'), "issued_in_future",
         "SPEC §1: iat in the future beyond leeway"),
        ("unpaired surrogate in sub", signed(H, f'{{"sub":"\\ud800","exp":{exp}}}'), "malformed",
         "RFC 8259 §8.2 / RFC 7519 §7.2: claims are UTF-8"),
        ("BOM before the payload", signed(H, f'\ufeff{{"sub":"p","exp":{exp}}}'), "malformed",
         "RFC 8259 §8.1: no byte order mark in JSON texts that are exchanged"),
    ]


def main():
    args = sys.argv[1:]
    warden, work = args[0], args[1]
    files, probe_peers = [], []
    i = 2
    while i < len(args):
        if args[i] == "--probe-peer":
            name, cmd = args[i + 1].split("=", 1)
            probe_peers.append((name, cmd))
            i += 2
        else:
            files.append(args[i])
            i += 1
    r = Runner(warden, work)
    for f in files:
        doc = json.load(open(f))
        name = os.path.basename(f).rsplit(".", 1)[0]
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        config = os.path.join(d, "config.json")
        json.dump(doc["config"], open(config, "w"))
        n0, f0 = r.passed, len(r.failed)
        for c in doc["cases"]:
            r.check(f"{name} / {c['name']}", config, c["now"], c["jwt"], c["expect"], c.get("expect_fields"))
        minted = r.passed - n0
        now = doc["cases"][0]["now"]
        for label, token, code in derived(doc["cases"], doc["peer"]):
            r.check(f"{name} / {label}", config, now, token, code)
        print(f"{name}: {len(doc['cases'])} minted tokens ({minted} as expected), "
              f"{r.passed - n0 - minted + len(r.failed) - f0} broken derivatives; "
              f"{len(r.failed) - f0} failed")

    # Probes, at the real time so that peers (which read the clock) agree.
    now = int(time.time())
    secret = os.urandom(32)
    key = {"kty": "oct", "alg": "HS256", "k": b64(secret)}
    d = os.path.join(work, "probes")
    os.makedirs(d, exist_ok=True)
    config = os.path.join(d, "config.json")
    json.dump({"jwt": {"jwks": {"keys": [key]}}}, open(config, "w"))
    plist = probes(secret, now)
    probe_file = os.path.join(d, "probes.json")
    json.dump([{"name": n, "token": t, "alg": "HS256", "key": key} for n, t, _, _ in plist], open(probe_file, "w"))
    verdicts = {}
    for pname, cmd in probe_peers:
        p = subprocess.run(shlex.split(cmd) + [probe_file], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"probe peer {pname} failed: {p.stderr.strip()[:500]}")
        verdicts[pname] = dict(line.split("\t", 1) for line in p.stdout.splitlines() if "\t" in line)
    rows = []
    for n, t, want, why in plist:
        out = r.check(f"probe / {n}", config, now, t, want)
        got = "ok" if out.get("ok") else out.get("error")
        peers = {pn: verdicts[pn].get(n, "?") for pn, _ in probe_peers}
        lax = [pn for pn, v in peers.items() if v == "accept" and want != "ok"]
        rows.append((n, got, peers, lax, why))
    with open(os.path.join(work, "laxness.tsv"), "w") as f:
        f.write("probe\twarden\t" + "\t".join(pn for pn, _ in probe_peers) + "\twhy\n")
        for n, got, peers, lax, why in rows:
            f.write(f"{n}\t{got}\t" + "\t".join(peers.values()) + f"\t{why}\n")
    print()
    print(f"{'probe':48} {'warden':18} " + " ".join(f"{pn:11}" for pn, _ in probe_peers))
    for n, got, peers, lax, why in rows:
        print(f"{n[:48]:48} {got:18} " + " ".join(f"{v:11}" for v in peers.values()))
    lax_rows = [(n, lax, why) for n, _, _, lax, why in rows if lax]
    if lax_rows:
        print("\npeers laxer than warden (informational):")
        for n, lax, why in lax_rows:
            print(f"  {n}: accepted by {', '.join(lax)} — {why}")
    print()
    for f in r.failed:
        print("FAIL", f)
    print(f"{r.passed} passed, {len(r.failed)} failed")
    sys.exit(1 if r.failed else 0)


if __name__ == "__main__":
    main()
