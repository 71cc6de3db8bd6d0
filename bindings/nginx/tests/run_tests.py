#!/usr/bin/env python3
"""End-to-end tests of ngx_http_warden_module against the nginx from Debian's
package: every case of every shared vector file as an HTTP request, plus the
module's own features (scopes, claim variables, status, reload, logging).

    run_tests.py --module build/ngx_http_warden_module.so --vectors ../shared/vectors

Prints one line per failure and a final "N passed, M failed" line; exits 1 on
any failure. Python 3 standard library only.
"""

import argparse
import base64
import glob
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import request  # noqa: E402

PASSED = 0
FAILED = 0
VERBOSE = False


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        if VERBOSE:
            print(f"ok    {name}")
    else:
        FAILED += 1
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))
    return cond


def header(hs, name):
    v = hs.get(name.lower())
    return v[0] if v else None


def upstream(body):
    try:
        return json.loads(body)["headers"]
    except (ValueError, KeyError):
        return {}


def up(hdrs, name):
    v = hdrs.get(name.lower())
    return v[0] if v else None


COOKIE_SAFE = re.compile(r"^[A-Za-z0-9._\-+/=~*]+$")

# headers every protected vector location passes upstream
PASS_UP = """
        proxy_set_header X-Warden-Subject $warden_subject;
        proxy_set_header X-Warden-Kind $warden_kind;
        proxy_set_header X-Warden-Key-Id $warden_key_id;
        proxy_set_header X-Warden-Scopes $warden_scopes;
        proxy_set_header X-Warden-Exp $warden_exp;
        proxy_set_header X-Warden-Code $warden_code;
"""


def write_unit(dirname, data):
    os.makedirs(dirname, exist_ok=True)
    os.chmod(dirname, 0o755)
    for name, content in data.get("files", {}).items():
        with open(os.path.join(dirname, name), "w", encoding="utf-8", newline="") as f:
            f.write(content)
    path = os.path.join(dirname, "config.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data["config"], f)
    return path


def unit_locations(unit, cfg, echo):
    return f"""
    location /v/{unit}/ {{ warden_config {cfg}; warden on; proxy_pass http://127.0.0.1:{echo}; }}
    location /k/{unit}/ {{ warden_config {cfg}; warden api_key; warden_credential $http_x_api_key;
                          proxy_pass http://127.0.0.1:{echo}; }}
    location /j/{unit}/ {{ warden_config {cfg}; warden jwt; warden_credential $cookie_token;
                          proxy_pass http://127.0.0.1:{echo}; }}
"""


# ---------------------------------------------------------------------------
# the vectors

def plan_vectors(vectors_dir, tmp, echo):
    """Write every vector file's config; returns (locations text, units,
    load-error files). A file with `repeat` cases gets one config (so one
    verifier, with fresh rate-limit state) per case, as the CLI gets one
    process per case."""
    locs = []
    units = []
    load_errors = []
    for path in sorted(glob.glob(os.path.join(vectors_dir, "*.json"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("expect_load") == "error":
            load_errors.append((stem, data))
            continue
        cases = data.get("cases", [])
        per_case = any("repeat" in c for c in cases)
        if per_case:
            for i, case in enumerate(cases):
                unit = f"{stem}-{i}"
                cfg = write_unit(os.path.join(tmp, "v", unit), data)
                locs.append(unit_locations(unit, cfg, echo))
                units.append((stem, unit, [(i, case)]))
        else:
            cfg = write_unit(os.path.join(tmp, "v", stem), data)
            locs.append(unit_locations(stem, cfg, echo))
            units.append((stem, stem, list(enumerate(cases))))
    return "".join(locs), units, load_errors


def case_requests(unit, case):
    """The requests a case becomes: [(label, path, headers, expected kind)]."""
    now = case.get("now")
    base = [("X-Test-Now", repr(now) if isinstance(now, float) else str(now))] if now is not None else []
    out = []
    if "jwt" in case:
        tok = case["jwt"]
        out.append(("bearer", f"/v/{unit}/", base + [("Authorization", "Bearer " + tok)], "jwt"))
        if tok and COOKIE_SAFE.match(tok):
            out.append(("cookie", f"/j/{unit}/", base + [("Cookie", "token=" + tok)], "jwt"))
    elif "api_key" in case:
        key = case["api_key"]
        # a bare key in its own header (SPEC: Bearer would make an unknown
        # prefix a JWT, so it is not the same test)
        out.append(("x-api-key", f"/k/{unit}/", base + [("X-Api-Key", key)], "api_key"))
    elif "basic" in case:
        cred = base64.b64encode(case["basic"].encode("utf-8")).decode()
        out.append(("basic", f"/v/{unit}/", base + [("Authorization", "Basic " + cred)], "basic"))
    elif "authorization" in case:
        v = case["authorization"]
        scheme = v.strip(" \t").split(" ", 1)
        if len(scheme) == 2 and scheme[0].lower() not in ("bearer", "basic"):
            kind = "other"  # Digest, DPoP, ...: answered like no credential
        else:
            kind = "basic" if v.strip(" \t").lower().startswith("basic") else "jwt"
        out.append(("authorization", f"/v/{unit}/", base + [("Authorization", v)], kind))
    return out


def run_case(port, stem, unit, i, case, secrets):
    expect = case["expect"]
    reqs = case_requests(unit, case)
    if not reqs:
        check(f"{stem}[{i}] {case['name']}: a credential this suite knows how to send", False, str(sorted(case)))
    for label, path, headers, kind in reqs:
        name = f"{stem}[{i}] {case['name']} ({label})"
        for _, v in headers:
            secrets.add(v.split(" ", 1)[-1].split("=", 1)[-1] if v.startswith(("Bearer ", "Basic ", "token=")) else v)
        n = int(case.get("repeat", 1))
        for _ in range(n):
            status, hs, body = request(port, path, headers)
        code = header(hs, "X-Warden-Code")
        if expect == "ok":
            if not check(name, status == 200 and code == "ok", f"status {status}, code {code}"):
                continue
            got = upstream(body)
            for field, want in case.get("expect_fields", {}).items():
                if field == "subject":
                    have = up(got, "X-Warden-Subject")
                elif field == "kind":
                    have = up(got, "X-Warden-Kind")
                elif field in ("kid", "key_id"):
                    have = up(got, "X-Warden-Key-Id")
                elif field == "scopes":
                    s = up(got, "X-Warden-Scopes")
                    have = s.split(" ") if s else []
                elif field == "exp":
                    s = up(got, "X-Warden-Exp")
                    have = float(s) if s else None
                    want = float(want)
                else:
                    continue
                check(f"{name} field {field}", have == want, f"{have!r} != {want!r}")
            check(f"{name} code upstream", up(got, "X-Warden-Code") == "ok")
        elif expect == "rate_limited":
            ra = header(hs, "Retry-After")
            check(name, status == 429 and code == "rate_limited" and ra is not None
                  and ra.isdigit() and int(ra) >= 1,
                  f"status {status}, code {code}, Retry-After {ra}")
        elif kind == "other":
            # RFC 6750 3.1: an unsupported scheme gets the challenges and no error code
            wa = hs.get("www-authenticate", [])
            ok = status == 401 and code == expect and wa and not any("error=" in w for w in wa)
            check(name, ok, f"status {status}, code {code}, WWW-Authenticate {wa}")
        else:
            wa = hs.get("www-authenticate", [])
            ok = status == 401 and code == expect and wa
            bearer = [w for w in wa if w.startswith("Bearer ")]
            if ok and bearer:
                ok = all(f'error="invalid_token", error_description="{expect}"' in w for w in bearer)
            if ok and kind == "basic" and not bearer:
                ok = any(w.startswith('Basic realm="vectors"') for w in wa)
            if ok and kind != "basic":
                ok = bool(bearer) and bearer[0].startswith('Bearer realm="vectors"')
            check(name, ok, f"status {status}, code {code}, WWW-Authenticate {wa}")


# ---------------------------------------------------------------------------
# the module's own features

CLAIMS_SECRET = b"claims-secret-0123456789abcdef-xyz!"
RELOAD_A = b"reload-secret-A-0123456789abcdef-xyz"
RELOAD_B = b"reload-secret-B-0123456789abcdef-xyz"


def feature_configs(tmp):
    d = os.path.join(tmp, "features")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    claims = os.path.join(d, "claims.json")
    with open(claims, "w") as f:
        json.dump({"jwt": {"jwks": {"keys": [harness.hs256_jwk(CLAIMS_SECRET, "claims-k1")]}}}, f)
    # readable by root only, like a file of secrets: the master reads it, the
    # workers (user nobody) cannot and use the master's copy
    private = os.path.join(d, "private.json")
    with open(private, "w") as f:
        json.dump({"jwt": {"jwks": {"keys": [harness.hs256_jwk(CLAIMS_SECRET, "claims-k1")]}}}, f)
    os.chmod(private, 0o600)
    reload_cfg = os.path.join(d, "reload.json")
    write_reload(reload_cfg, RELOAD_A, "r1")
    return claims, reload_cfg


def write_reload(path, secret, kid):
    with open(path + ".tmp", "w") as f:
        json.dump({"jwt": {"jwks": {"keys": [harness.hs256_jwk(secret, kid)]}}}, f)
    os.replace(path + ".tmp", path)


def feature_locations(echo, claims, reload_cfg, vdir):
    fields = os.path.join(vdir, "fields", "config.json")
    basic = os.path.join(vdir, "basic", "config.json")
    return f"""
    location /open/ {{ proxy_pass http://127.0.0.1:{echo}; }}

    location /claims/ {{
        warden_config {claims}; warden jwt;
        proxy_set_header X-Email $warden_claim_email;
        proxy_set_header X-Groups $warden_claim_groups;
        proxy_set_header X-N $warden_claim_n;
        proxy_set_header X-Evil $warden_claim_evil;
        proxy_set_header X-Name $warden_claim_name;
        proxy_set_header X-Missing $warden_claim_missing;
        proxy_set_header X-Roles $roles;
        proxy_set_header X-Obj $claim_obj;
        proxy_set_header X-Tenant $tenant;
        proxy_set_header X-Mixed $mixed;
        proxy_set_header X-Deep $deep;
        proxy_set_header X-Level $level;
        {PASS_UP}
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /scope-ok/ {{
        warden_config {claims}; warden jwt; warden_require_scope read write;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /scope-bad/ {{
        warden_config {claims}; warden jwt; warden_require_scope read admin;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /jwt-only/ {{
        warden_config {fields}; warden jwt; warden_realm "only \\"jwt\\"";
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /basic-only/ {{
        warden_config {fields}; warden basic;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /any/ {{
        warden_config {fields}; warden on;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /fwd/ {{
        warden_config {fields}; warden on;
        warden_credential $http_x_forwarded_authorization authorization;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /threaded/ {{
        warden_config {basic}; warden basic; warden_thread_pool default;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /redirected/ {{
        warden_config {claims}; warden jwt;
        error_page 401 /denied;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location = /denied {{
        internal;
        return 401 "denied: $warden_code\\n";
    }}
    location /reload/ {{
        warden_config {reload_cfg}; warden jwt;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /sat-open/ {{
        satisfy any; allow 127.0.0.1; deny all;
        warden_config {fields}; warden on;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /sat-closed/ {{
        satisfy any; allow 192.0.2.1; deny all;
        warden_config {fields}; warden on;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /private/ {{
        warden_config {os.path.join(os.path.dirname(claims), "private.json")}; warden jwt;
        proxy_pass http://127.0.0.1:{echo};
    }}
    location /lx/ {{
        warden_config {claims};
        limit_except GET {{ warden jwt; }}
        proxy_pass http://127.0.0.1:{echo};
    }}
    location = /warden_status {{ warden_status; }}
"""


def claims_token():
    return harness.hs256(CLAIMS_SECRET, {
        "sub": "claire", "exp": 4102444800, "scope": "read write",
        "realm_access": {"roles": ["admin", "ops"], "level": {"n": 3}},
        "groups": ["g1", "g2"], "email": "c@example.com", "n": 42,
        "obj": {"a": 1}, "https://example.com/tenant": "t1",
        "evil": "x\r\nX-Injected: 1", "name": 'Zo\u00eb "Z" \\ \U0001F511',
        "mixed": ["a", 1, True, None, {"k": "v"}],
    }, kid="claims-k1")


def expired_token():
    return harness.hs256(CLAIMS_SECRET, {"sub": "x", "exp": 1000}, kid="claims-k1")


def test_features(port, vectors_dir, secrets):
    # unprotected location works
    status, _, _ = request(port, "/open/x")
    check("unprotected location", status == 200)

    tok = claims_token()
    secrets.add(tok)
    status, hs, body = request(port, "/claims/x", [("Authorization", "Bearer " + tok)])
    got = upstream(body)
    if check("claims: accepted", status == 200, f"status {status}"):
        want = {
            "x-warden-subject": "claire", "x-warden-kind": "jwt", "x-warden-key-id": "claims-k1",
            "x-warden-scopes": "read write", "x-warden-exp": "4102444800", "x-warden-code": "ok",
            "x-email": "c@example.com", "x-groups": "g1,g2", "x-n": "42",
            "x-roles": "admin;ops", "x-obj": '{"a":1}', "x-tenant": "t1",
            "x-mixed": 'a|1|true||{"k":"v"}', "x-evil": "x  X-Injected: 1",
            "x-name": 'Zo\u00eb "Z" \\ \U0001F511', "x-level": "3",
        }
        for k, v in want.items():
            check(f"claims: {k}", up(got, k) == v, f"{up(got, k)!r} != {v!r}")
        check("claims: missing claim not sent", up(got, "x-missing") is None, repr(up(got, "x-missing")))
        check("claims: missing nested claim not sent", up(got, "x-deep") is None, repr(up(got, "x-deep")))
        check("claims: no header injection", "x-injected" not in got, json.dumps(got))

    # $warden_exp beyond a 64-bit integer, and with a fraction: as given
    for exp, want in [(1e300, "1.0000000000000001e+300"), (4102444800.5, "4102444800.5")]:
        t = harness.hs256(CLAIMS_SECRET, {"sub": "x", "exp": exp}, kid="claims-k1")
        status, _, body = request(port, "/claims/x", [("Authorization", "Bearer " + t)])
        got_exp = up(upstream(body), "x-warden-exp") if status == 200 else None
        check(f"claims: $warden_exp of {exp!r}", got_exp == want, f"{status} {got_exp!r}")

    # scopes
    status, hs, _ = request(port, "/scope-ok/x", [("Authorization", "Bearer " + tok)])
    check("scope: all required scopes present -> 200", status == 200, f"status {status}")
    status, hs, body = request(port, "/scope-bad/x", [("Authorization", "Bearer " + tok)])
    wa = hs.get("www-authenticate", [])
    check("scope: missing scope -> 403 insufficient_scope",
          status == 403 and wa == ['Bearer realm="api", error="insufficient_scope", scope="read admin"'],
          f"status {status}, {wa}")

    # a request without a credential right after an accepted one (same worker,
    # same recycled result object) shows no identity
    status, hs, _ = request(port, "/scope-ok/x")
    check("no credential after an accepted request: no subject leaks",
          status == 401 and header(hs, "X-Warden-Subject") is None and header(hs, "X-Warden-Code") == "no_credential",
          f"status {status}, subject {header(hs, 'X-Warden-Subject')!r}, code {header(hs, 'X-Warden-Code')!r}")
    b_wrong = base64.b64encode(b"nobody:x").decode()
    request(port, "/scope-ok/x", [("Authorization", "Bearer " + tok)])
    status, hs, _ = request(port, "/jwt-only/x", [("Authorization", "Basic " + b_wrong)])
    check("kind_not_allowed after an accepted request: no subject leaks",
          status == 401 and header(hs, "X-Warden-Subject") is None, f"subject {header(hs, 'X-Warden-Subject')!r}")

    # no credential: a challenge without an error code (RFC 6750 3.1)
    status, hs, _ = request(port, "/jwt-only/x")
    wa = hs.get("www-authenticate", [])
    check("no credential -> 401 Bearer challenge, no error, realm quoted",
          status == 401 and wa == ['Bearer realm="only \\"jwt\\""'], f"status {status}, {wa}")
    status, hs, _ = request(port, "/any/x")
    wa = hs.get("www-authenticate", [])
    check("no credential, all kinds -> Bearer and Basic challenges",
          status == 401 and wa == ['Bearer realm="api"', 'Basic realm="api", charset="UTF-8"'],
          f"status {status}, {wa}")

    # kinds
    fields = json.load(open(os.path.join(vectors_dir, "fields.json")))
    key = next(c["api_key"] for c in fields["cases"] if "api_key" in c and c["expect"] == "ok")
    basic = next(c["basic"] for c in fields["cases"] if "basic" in c and c["expect"] == "ok")
    jwt_case = next(c for c in fields["cases"] if "jwt" in c and c["expect"] == "ok")
    now = [("X-Test-Now", str(jwt_case["now"]))]
    secrets.update([key, basic.split(":", 1)[1]])
    status, hs, _ = request(port, "/jwt-only/x", [("Authorization", "Bearer " + key)])
    check("jwt-only location: API key as Bearer is not a JWT -> 401",
          status == 401 and any('error_description="malformed"' in w for w in hs.get("www-authenticate", [])),
          f"status {status}, {hs.get('www-authenticate')}")
    b = base64.b64encode(basic.encode()).decode()
    status, hs, _ = request(port, "/jwt-only/x", [("Authorization", "Basic " + b)])
    check("jwt-only location: Basic -> 401 with the Bearer challenge and no error code (RFC 6750 3.1)",
          status == 401 and hs.get("www-authenticate") == ['Bearer realm="only \\"jwt\\""'],
          f"status {status}, {hs.get('www-authenticate')}")
    for value in ("Digest username=x", "Negotiate abc", "bearerx y"):
        status, hs, _ = request(port, "/any/x", [("Authorization", value)])
        check(f"another scheme ({value.split()[0]}) -> 401 malformed, every challenge, no error code (RFC 6750 3.1)",
              status == 401 and hs.get("www-authenticate") == ['Bearer realm="api"', 'Basic realm="api", charset="UTF-8"'],
              f"status {status}, {hs.get('www-authenticate')}")
    status, hs, _ = request(port, "/any/x", [("Authorization", "garbage")])
    check("another shape (no scheme) -> 401 malformed, with its error code",
          status == 401 and any('error_description="malformed"' in w for w in hs.get("www-authenticate", [])),
          f"status {status}, {hs.get('www-authenticate')}")
    status, hs, _ = request(port, "/basic-only/x", [("Authorization", "Bearer " + key)])
    check("basic-only location: Bearer -> 401 with a Basic challenge",
          status == 401 and hs.get("www-authenticate") == ['Basic realm="api", charset="UTF-8"'],
          f"status {status}, {hs.get('www-authenticate')}")
    status, hs, _ = request(port, "/basic-only/x", [("Authorization", "Basic " + b)])
    check("basic-only location: Basic -> 200", status == 200, f"status {status}")

    # credential from another header, in Authorization syntax
    status, _, body = request(port, "/fwd/x", now + [("X-Forwarded-Authorization", "Bearer " + jwt_case["jwt"])])
    check("warden_credential $var authorization: JWT", status == 200, f"status {status}")
    status, _, _ = request(port, "/fwd/x", now + [("X-Forwarded-Authorization", "Basic " + b)])
    check("warden_credential $var authorization: Basic", status == 200, f"status {status}")
    status, _, _ = request(port, "/fwd/x", now + [("Authorization", "Bearer " + jwt_case["jwt"])])
    check("warden_credential $var: the Authorization header is not used", status == 401, f"status {status}")

    # Basic in the thread pool
    bj = json.load(open(os.path.join(vectors_dir, "basic.json")))
    for c in bj["cases"]:
        if "basic" not in c:
            continue
        secrets.add(c["basic"].split(":", 1)[1])
        cred = base64.b64encode(c["basic"].encode()).decode()
        status, hs, _ = request(port, "/threaded/x", [("Authorization", "Basic " + cred)])
        want = 200 if c["expect"] == "ok" else 401
        check(f"thread pool: {c['name']}", status == want, f"status {status}")

    # ... and the worker keeps serving while a password is being checked
    wrong = base64.b64encode(b"alice:not the password").decode()
    done = {}

    def slow():
        t = time.time()
        done["status"] = request(port, "/threaded/x", [("Authorization", "Basic " + wrong)])[0]
        done["t"] = time.time()
        done["took"] = done["t"] - t

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.02)
    status, _, _ = request(port, "/open/x")
    t_open = time.time()
    th.join()
    if VERBOSE:
        print(f"      password check took {done.get('took', 0) * 1000:.0f} ms; the other request "
              f"was answered {(done.get('t', 0) - t_open) * 1000:.0f} ms before it")
    check("thread pool: other requests are served during a password check",
          status == 200 and done.get("status") == 401 and t_open < done["t"],
          f"open at {t_open:.3f}, basic done at {done.get('t', 0):.3f} after {done.get('took', 0):.3f}s")

    # a config file the workers cannot read: the master's copy verifies
    status, _, _ = request(port, "/private/x", [("Authorization", "Bearer " + tok)])
    status2, _, _ = request(port, "/private/x", [("Authorization", "Bearer " + expired_token())])
    check("config readable by root only: verified with the master's copy", (status, status2) == (200, 401),
          f"{status} {status2}")

    # satisfy any: an address rule may grant access instead; no challenge is left behind
    status, hs, _ = request(port, "/sat-open/x")
    check("satisfy any, address allowed: 200 without WWW-Authenticate",
          status == 200 and "www-authenticate" not in hs, f"status {status}, {hs.get('www-authenticate')}")
    status, hs, _ = request(port, "/sat-closed/x")
    check("satisfy any, address denied: 401 with both challenges in one field",
          status == 401 and hs.get("www-authenticate") == ['Bearer realm="api", Basic realm="api", charset="UTF-8"'],
          f"status {status}, {hs.get('www-authenticate')}")

    # limit_except: only the other methods need a credential
    status, _, _ = request(port, "/lx/x")
    status2, _, _ = request(port, "/lx/x", method="POST")
    status3, _, _ = request(port, "/lx/x", [("Authorization", "Bearer " + tok)], method="POST")
    check("limit_except GET { warden jwt; }: GET open, POST needs a JWT",
          (status, status2, status3) == (200, 401, 200), f"{status} {status2} {status3}")

    # variables survive an internal redirect (error_page)
    expired = harness.hs256(CLAIMS_SECRET, {"sub": "x", "exp": 1000}, kid="claims-k1")
    secrets.add(expired)
    status, _, body = request(port, "/redirected/x", [("Authorization", "Bearer " + expired)])
    check("error_page: $warden_code after the internal redirect",
          status == 401 and body == b"denied: expired\n", f"status {status}, {body!r}")


def status_metrics(port, path="/warden_status"):
    status, hs, body = request(port, path)
    metrics = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            metrics[k] = int(v)
    return status, hs, metrics


def test_status(port, sent_ok_jwt):
    status, hs, m = status_metrics(port)
    check("status: 200 text/plain", status == 200 and (header(hs, "content-type") or "").startswith("text/plain"),
          f"status {status}, {header(hs, 'content-type')}")
    for kind, code in (("jwt", "ok"), ("jwt", "bad_signature"), ("jwt", "expired"), ("api_key", "rate_limited"),
                       ("basic", "rate_limited"), ("jwt", "revoked"), ("api_key", "revoked"),
                       ("basic", "bad_credentials")):
        k = f'warden_verdicts_total{{kind="{kind}",code="{code}"}}'
        check(f"status: {k} > 0", m.get(k, 0) > 0, str(m.get(k)))
    k = 'warden_verdicts_total{kind="jwt",code="ok"}'
    check("status: jwt ok counts every accepted JWT", m.get(k, 0) >= sent_ok_jwt, f"{m.get(k)} < {sent_ok_jwt}")
    for k in ('warden_nginx_refusals_total{reason="no_credential"}',
              'warden_nginx_refusals_total{reason="insufficient_scope"}',
              'warden_nginx_refusals_total{reason="kind_not_allowed"}',
              "warden_token_cache_hits_total", "warden_basic_cache_hits_total"):
        check(f"status: {k} > 0", m.get(k, 0) > 0, str(m.get(k)))
    status, _, _ = request(port, "/warden_status", method="POST")
    check("status: POST refused", status == 405, f"status {status}")
    return m


def test_reload(ng, port):
    tok_a = harness.hs256(RELOAD_A, {"sub": "a", "exp": 4102444800}, kid="r1")
    tok_b = harness.hs256(RELOAD_B, {"sub": "b", "exp": 4102444800}, kid="r2")
    auth_a = [("Authorization", "Bearer " + tok_a)]
    auth_b = [("Authorization", "Bearer " + tok_b)]
    s_a, _, _ = request(port, "/reload/x", auth_a)
    s_b, hs, _ = request(port, "/reload/x", auth_b)
    check("reload: before, key r1 accepted and r2 unknown", s_a == 200 and s_b == 401, f"{s_a} {s_b}")
    _, _, before = status_metrics(port)

    workers = ng.worker_pids()
    cfg = os.path.join(ng.prefix, "features", "reload.json")
    write_reload(cfg, RELOAD_B, "r2")
    r = ng.reload()
    check("reload: nginx -s reload with a good config", r.returncode == 0, r.stderr)
    deadline = time.time() + 15
    s_b = None
    while time.time() < deadline:
        s_b, _, _ = request(port, "/reload/x", auth_b)
        if s_b == 200 and not (set(ng.worker_pids()) & set(workers)):
            break
        time.sleep(0.1)
    s_a, hs, _ = request(port, "/reload/x", auth_a)
    check("reload: the changed config is in force (r2 accepted, r1 refused)",
          s_b == 200 and s_a == 401, f"r2 {s_b}, r1 {s_a}")
    check("reload: new workers", not (set(ng.worker_pids()) & set(workers)), f"{workers} {ng.worker_pids()}")
    _, _, after = status_metrics(port)
    k = 'warden_verdicts_total{kind="jwt",code="ok"}'
    check("reload: counters survive a reload", after.get(k, 0) > before.get(k, 0), f"{before.get(k)} -> {after.get(k)}")

    # a broken config: the reload is refused, the old workers keep serving
    workers = ng.worker_pids()
    log_before = len(ng.log_text())
    with open(cfg, "w") as f:
        f.write('{"jwt": {"jwks": {"keys": [{"kty": "oct", "alg": "HS256", "kid": "r3", "k": "c2hvcnQ"}]}}}')
    t = ng.test_config()
    check("broken config: nginx -t fails naming the file",
          t.returncode != 0 and "warden_config" in t.stderr and "reload.json" in t.stderr and "refused" in t.stderr,
          t.stderr.strip())
    # `nginx -s reload` (what systemd's ExecReload runs) reads the config first
    r = ng.reload()
    check("broken config: nginx -s reload fails with warden's message",
          r.returncode != 0 and "warden_config" in r.stderr and "refused" in r.stderr, r.stderr.strip())
    # a SIGHUP sent to the master directly: it logs why and keeps the old config
    os.kill(ng.master_pid(), signal.SIGHUP)
    msg = ""
    deadline = time.time() + 10
    while time.time() < deadline:
        new = ng.log_text()[log_before:]
        m = re.search(r"\[emerg\].*warden_config.*reload\.json.*", new)
        if m:
            msg = m.group(0)
            break
        time.sleep(0.1)
    check("broken config: SIGHUP reload refused with warden's message in the error log", bool(msg),
          ng.log_tail(5))
    if msg:
        print(f"      (error log: {msg[:300]})")
    time.sleep(0.5)
    s_b, _, _ = request(port, "/reload/x", auth_b)
    check("broken config: the running workers keep serving the last good config", s_b == 200, f"status {s_b}")
    check("broken config: same workers", ng.worker_pids() == workers, f"{workers} {ng.worker_pids()}")
    write_reload(cfg, RELOAD_B, "r2")


def own_nginx(tmp, name, module):
    """An nginx of a test's own in tmp/name (readable by the workers, with an
    index.html to serve): its prefix, the Nginx, a free port, and the head
    and temp-path parts of a configuration."""
    prefix = os.path.join(tmp, name)
    os.makedirs(prefix, exist_ok=True)
    os.chmod(prefix, 0o755)
    with open(os.path.join(prefix, "index.html"), "w") as f:
        f.write("ok\n")
    ng = harness.Nginx(prefix, "", module)
    main_, temps = ng.head()
    return prefix, ng, harness.free_port(), main_, temps


def test_workers(tmp, module, vectors_dir):
    """Two workers: the status page adds up what both counted."""
    ec = json.load(open(os.path.join(vectors_dir, "jwt_ec.json")))
    case = next(c for c in ec["cases"] if c["expect"] == "ok" and "repeat" not in c)
    prefix, ng, port, main_, temps = own_nginx(tmp, "two-workers", module)
    cfg = write_unit(os.path.join(prefix, "cfg"), ec)
    ng.write_conf(main_ + "worker_processes 2;\nevents { accept_mutex off; }\nhttp {\n" + temps + f"""
    access_log off;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{ warden_config {cfg}; warden jwt; warden_now {case["now"]}; return 204; }}
        location /t/ {{ warden_config {cfg}; warden jwt; warden_now {case["now"]}; alias {prefix}/; }}
        location = /status {{ warden_status; }}
    }}
}}
""")
    try:
        ng.start(port)
        # A worker just forked may not carry its process title yet.
        deadline = time.time() + 5
        while time.time() < deadline and len(ng.worker_pids()) < 2:
            time.sleep(0.05)
        pids = ng.worker_pids()
        check("two workers running", len(pids) == 2, str(pids))
        n = 40
        statuses = [request(port, "/t/", [("Authorization", "Bearer " + case["jwt"])])[0] for _ in range(n)]
        check("two workers: every request accepted", statuses == [200] * n, str(set(statuses)))
        time.sleep(1.5)   # workers add their counts every second
        _, _, m = status_metrics(port, "/status")
        k = 'warden_verdicts_total{kind="jwt",code="ok"}'
        check("two workers: verdicts of both workers counted", m.get(k) == n, f"{m.get(k)} != {n}")
        hits, misses = m.get("warden_token_cache_hits_total", 0), m.get("warden_token_cache_misses_total", 0)
        check("two workers: cache events of both workers counted",
              hits + misses == n and 1 <= misses <= 2, f"hits {hits}, misses {misses}")
        # Counted, then a reload at once (well within a second): the old
        # workers add what they counted as they exit.
        workers = ng.worker_pids()
        statuses = [request(port, "/t/", [("Authorization", "Bearer " + case["jwt"])])[0] for _ in range(n)]
        r = ng.reload()
        deadline = time.time() + 15
        while time.time() < deadline and set(ng.worker_pids()) & set(workers):
            time.sleep(0.05)
        _, _, m = status_metrics(port, "/status")
        check("two workers: counts of exiting workers kept",
              r.returncode == 0 and statuses == [200] * n and m.get(k) == 2 * n,
              f"{m.get(k)} != {2 * n} ({statuses.count(200)} accepted, reload rc {r.returncode})")
    finally:
        ng.stop()


def refresher_threads(pid):
    """warden's refresher threads in process pid (they are named)."""
    task = f"/proc/{pid}/task"
    names = []
    for t in os.listdir(task):
        try:
            with open(os.path.join(task, t, "comm")) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names.count("warden-jwks")


def test_remote_key_events(tmp, module):
    """Remote key-set events reach the error log: the first fetch's failure
    at nginx -t and at each worker's start (logged by the thread that makes
    the verifier), the refresher thread's retries (queued, logged by the
    worker's event loop within a second)."""
    prefix, ng, port, main_, temps = own_nginx(tmp, "remote-events", module)
    cfg = os.path.join(prefix, "remote.json")
    remote = {"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": True,
                      "refresh": {"min_s": 0.01, "max_s": 0.02, "timeout_s": 0.2}}}
    with open(cfg, "w") as f:
        json.dump(remote, f)
    # As root, a copy the workers cannot read: they use the master's, and
    # refresh it themselves.
    private = os.path.join(prefix, "remote-private.json")
    with open(private, "w") as f:
        json.dump(remote, f)
    os.chmod(private, 0o600)
    ng.write_conf(main_ + "worker_processes 1;\nevents {}\nhttp {\n" + temps + f"""
    access_log off;
    proxy_cache_path {prefix}/cache keys_zone=remote_test:1m;
    server {{
        listen 127.0.0.1:{port};
        location /t/ {{ warden_config {cfg}; warden jwt; alias {prefix}/; }}
        location /p/ {{ warden_config {private}; warden jwt; alias {prefix}/; }}
    }}
}}
""")
    mark = f'warden: "{cfg}": '
    r = ng.test_config()
    check("remote keys: nginx -t shows why the first fetch failed",
          r.returncode == 0 and mark in r.stderr and "127.0.0.1:9" in r.stderr and "[warn]" in r.stderr,
          r.stderr.strip()[:400])
    try:
        ng.start(port)
        deadline = time.time() + 10
        lines = []
        while time.time() < deadline:
            lines = [l for l in ng.log_text().splitlines() if mark in l and "127.0.0.1:9" in l]
            if len(lines) >= 4:
                break
            time.sleep(0.2)
        check("remote keys: the start-up fetch and the refresher's retries are logged (warn)",
              len(lines) >= 4 and all("[warn]" in l for l in lines), "\n".join(lines[:5]) or ng.log_tail(10))
        # Retried every 10-20 ms: past 16 events a second the rest are counted.
        while time.time() < deadline and "more key-set events not logged" not in ng.log_text():
            time.sleep(0.2)
        check("remote keys: events past the queue are counted in one line",
              re.search(r"\[warn\].*warden: \d+ more key-set events not logged", ng.log_text()) is not None,
              ng.log_tail(5))
        status, _, _ = request(port, "/t/", [("Authorization", "Bearer x.y.z")])
        check("remote keys: requests are answered meanwhile", status == 401, str(status))
        # The master makes no requests: its refreshers are paused. The
        # worker refreshes its own verifiers and, as root, the master's copy.
        fallback = os.getuid() == 0
        if fallback:
            mark_p = f'warden: "{private}": '
            check("remote keys: the worker refreshes the master's copy it uses",
                  any("using the copy loaded by the master" in l and "remote-private.json" in l
                      for l in ng.log_text().splitlines())
                  and sum(mark_p in l and "127.0.0.1:9" in l for l in ng.log_text().splitlines()) >= 4,
                  ng.log_tail(10))
        threads = {pid: refresher_threads(pid) for pid in [ng.master_pid()] + ng.worker_pids()}
        check("remote keys: refresher threads in the worker only",
              threads[ng.master_pid()] == 0
              and [threads[w] for w in ng.worker_pids()] == [2 if fallback else 1], str(threads))
        managers = ng.child_pids(b"cache manager process")
        check("remote keys: the cache manager loads no verifier (no refresher, no fetches)",
              len(managers) == 1 and refresher_threads(managers[0]) == 0,
              str({m: refresher_threads(m) for m in managers}))
    finally:
        ng.stop()
    log = ng.log_text()
    check("remote keys: no alerts or crashes", not re.search(r"\[(alert|crit)\]|exited on signal", log),
          ng.log_tail(10))


def phc_pbkdf2(password, iterations):
    import base64
    import hashlib

    salt = b"warden-nginx-test-salt"
    dk = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")
    return f"$pbkdf2-sha256$i={iterations}${b64(salt)}${b64(dk)}"


def test_thread_pool_overflow(tmp, module):
    """A check that fails before its verdict (the thread pool queue is full)
    answers 500, and an error_page that sends the 500 into a protected
    location does not let the request through there."""
    import threading

    prefix, ng, port, main_, temps = own_nginx(tmp, "pool-overflow", module)
    back = harness.free_port()
    cfg = os.path.join(prefix, "basic.json")
    with open(cfg, "w") as f:
        json.dump({"basic": {"users": [{"user": "alice", "hash": phc_pbkdf2(b"right", 300_000)}]}}, f)
    ng.write_conf(main_ + "thread_pool wp threads=1 max_queue=1;\nworker_processes 1;\nevents {}\nhttp {\n"
                  + temps + f"""
    access_log off;
    server {{
        listen 127.0.0.1:{back};
        location / {{ return 200 "SECRET $uri\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{port};
        warden_config {cfg}; warden basic jwt; warden_thread_pool wp;
        location /api/ {{ error_page 500 = @fallback; proxy_pass http://127.0.0.1:{back}; }}
        location @fallback {{ proxy_pass http://127.0.0.1:{back}; }}
        location /page/ {{ error_page 500 /files/; proxy_pass http://127.0.0.1:{back}; }}
        location /files/ {{ warden jwt; alias {prefix}/; }}
    }}
}}
""")
    results = []
    lock = threading.Lock()

    def guess(path, i):
        cred = base64.b64encode(b"mallory:guess%d" % i).decode()
        status, _, body = request(port, path, [("Authorization", "Basic " + cred)])
        with lock:
            results.append((status, body))

    try:
        ng.start(port)
        for path in ("/api/x", "/page/x"):
            del results[:]
            threads = [threading.Thread(target=guess, args=(path, i)) for i in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(s for s, _ in results)
            leaked = [b for s, b in results if s == 200 or b"SECRET" in b or b"ok\n" == b]
            check(f"thread pool overflow via {path}: no guess gets through an error_page",
                  not leaked and set(statuses) <= {401, 500}, str(statuses))
            check(f"thread pool overflow via {path}: the queue did overflow (the case is exercised)",
                  500 in statuses, str(statuses))
    finally:
        ng.stop()


def test_load_errors(load_errors, tmp, module, echo):
    for stem, data in load_errors:
        d = os.path.join(tmp, "le", stem)
        cfg = write_unit(d, data)
        prefix = os.path.join(tmp, "le-nginx", stem)
        os.makedirs(prefix, exist_ok=True)
        ng = harness.Nginx(prefix, "", module)
        main, temps = ng.head()
        ng.write_conf(main + "events {}\nhttp {\n" + temps + f"warden_config {cfg};\n"
                      f"server {{ listen 127.0.0.1:{harness.free_port()}; location / {{ warden on; }} }}\n}}\n")
        r = ng.test_config()
        ok = r.returncode != 0 and "warden_config" in r.stderr and "refused" in r.stderr and cfg in r.stderr
        check(f"{stem}: nginx -t refuses the config with warden's message", ok, r.stderr.strip()[:300])

    # configuration mistakes of the module's own
    prefix = os.path.join(tmp, "le-nginx", "module")
    os.makedirs(prefix, exist_ok=True)
    ng = harness.Nginx(prefix, "", module)
    main, temps = ng.head()
    for label, body, needle in (
        ("warden on without warden_config", "location / { warden on; }", "no \"warden_config\""),
        ("unknown kind", "location / { warden jwt oauth; }", "invalid value \"oauth\""),
        ("bad credential source", "location / { warden_credential cookie; }", "invalid credential source"),
    ):
        ng.write_conf(main + "events {}\nhttp {\n" + temps +
                      f"server {{ listen 127.0.0.1:{harness.free_port()}; {body} }}\n}}\n")
        r = ng.test_config()
        check(f"nginx -t: {label}", r.returncode != 0 and needle in r.stderr, r.stderr.strip()[:300])


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    module = os.path.abspath(args.module)

    tmp = tempfile.mkdtemp(prefix="warden-nginx-")
    os.chmod(tmp, 0o755)   # the workers (user nobody) load the configs themselves
    echo_port, port, fport = harness.free_port(), harness.free_port(), harness.free_port()
    echo = harness.start_echo(echo_port)

    vector_locs, units, load_errors = plan_vectors(args.vectors, tmp, echo_port)
    claims, reload_cfg = feature_configs(tmp)
    ng = harness.Nginx(tmp, "", module)
    main_, temps = ng.head()
    conf = main_ + "worker_processes 1;\nevents { worker_connections 256; }\n" + "http {\n" + temps + f"""
    access_log off;
    warden_claim_set $roles realm_access.roles ";";
    warden_claim_set $level realm_access.level.n;
    warden_claim_set $claim_obj obj;
    warden_claim_set $tenant https://example.com/tenant;
    warden_claim_set $mixed mixed "|";
    warden_claim_set $deep realm_access.nope;

    server {{
        listen 127.0.0.1:{port};
        warden_realm "vectors";
        warden_now $http_x_test_now;
        add_header X-Warden-Code $warden_code always;
        {PASS_UP}
        {vector_locs}
    }}
    server {{
        listen 127.0.0.1:{fport};
        warden_now $http_x_test_now;
        add_header X-Warden-Code $warden_code always;
        add_header X-Warden-Subject $warden_subject always;
        {feature_locations(echo_port, claims, reload_cfg, os.path.join(tmp, "v"))}
    }}
}}
"""
    ng.write_conf(conf)

    secrets = set()
    t0 = time.time()
    try:
        t = ng.test_config()
        if not check("nginx -t accepts the test configuration", t.returncode == 0, t.stderr):
            raise RuntimeError("nginx -t failed")
        ng.start(port)
        sent_ok_jwt = 0
        for stem, unit, cases in units:
            for i, case in cases:
                run_case(port, stem, unit, i, case, secrets)
                if case["expect"] == "ok" and "jwt" in case:
                    sent_ok_jwt += 1
        print(f"      vectors: {time.time() - t0:.1f}s")
        test_features(fport, args.vectors, secrets)
        test_status(fport, sent_ok_jwt)

        log = ng.log_text()
        check("error log: refusals are logged (info, verdict code only)",
              "warden: refused jwt credential: bad_signature" in log, ng.log_tail(5))
        leaked = [s for s in secrets if len(s) >= 8 and s in log]
        check("error log: no credential appears in the error log", not leaked, f"{len(leaked)} leaked, e.g. {leaked[:1]}")
        notices = [l for l in log.splitlines() if "could not load" in l]
        check("error log: workers loaded their own verifiers, except the root-only file",
              all("private.json" in l and "using the copy loaded by the master" in l for l in notices)
              and (bool(notices) or os.getuid() != 0), "\n".join(notices[:3]))
        check("error log: no alerts or crashes",
              not re.search(r"\[(alert|crit)\]|exited on signal", log), ng.log_tail(10))

        test_reload(ng, fport)
        test_workers(tmp, module, args.vectors)
        test_remote_key_events(tmp, module)
        test_thread_pool_overflow(tmp, module)
        test_load_errors(load_errors, tmp, module, echo_port)
        log = ng.log_text()
        check("error log: no alerts or crashes at the end",
              not re.search(r"\[(alert|crit)\]|exited on signal", log), ng.log_tail(10))
    except Exception:  # a broken harness is a failure too, with the summary line
        import traceback
        check("the suite ran to the end", False, traceback.format_exc() + ng.log_tail(10))
    finally:
        ng.stop()
        echo.shutdown()
        if args.keep or FAILED:
            print(f"      kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"      total {time.time() - t0:.1f}s")
    print(f"{PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
