"""The Python API: constructors, results, claims, errors, run-time changes."""

import copy
import hashlib
import json
import logging
import math
import pickle

import pytest

import warden
from conftest import API_KEY, HS_SECRET, NOW, api_key, b64u, base_config, hs256, token


def test_version_and_codes():
    assert warden.library_version == "0.1.0"
    assert warden.CODES[0] == "ok" and warden.CODES[7] == "bad_signature" and warden.CODES[18] == "rate_limited"
    assert len(warden.CODES) == 19


def test_from_file_and_from_config(tmp_path, config):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(config))
    for v in (warden.Verifier.from_file(p), warden.Verifier.from_file(str(p)), warden.Verifier.from_config(config),
              warden.Verifier.from_config(json.dumps(config)), warden.Verifier.from_config(json.dumps(config).encode())):
        assert v.verify_jwt(token(), NOW).ok
        v.close()
        assert v.closed


def test_config_errors(tmp_path):
    with pytest.raises(warden.ConfigError) as e:
        warden.Verifier.from_file(tmp_path / "missing.json")
    assert "missing.json" in str(e.value)
    bad = {"jwt": {"jwks": {"keys": [{"kty": "oct", "kid": "x", "alg": "HS256", "k": b64u(b"short")}]}}}
    with pytest.raises(warden.ConfigError):
        warden.Verifier.from_config(bad)
    with pytest.raises(warden.ConfigError) as e:
        warden.Verifier.from_config({"jwt": {"leeway": 3}})
    assert "leeway" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, warden.WardenError)
    with pytest.raises(TypeError):
        warden.Verifier.from_config(42)
    with pytest.raises(TypeError):
        warden.Verifier()


def test_accepted_jwt(verifier):
    r = verifier.verify_jwt(token(sub="Øystein", scope="orders:read orders:write", jti="j-1", roles={"a": [1, 2]}), NOW)
    assert r and r.ok and r.code == "ok" and r.kind == "jwt"
    assert r.subject == "Øystein" and r.kid == "hs" and r.key_id is None
    assert r.scopes == ("orders:read", "orders:write")
    assert r.has_scope("orders:read") and r.has_scopes(["orders:read", "orders:write"]) and not r.has_scope("x")
    assert r.exp == NOW + 3600 and isinstance(r.exp, float)
    assert r.retry_after is None
    assert r.claim("jti") == "j-1" and r.claim("nope") is None and r.claim("nope", 5) == 5
    assert r.claim_path("roles.a") == [1, 2] and r.claim_path("roles.b", "d") == "d"
    assert r.claims["sub"] == "Øystein"
    assert json.loads(r.payload) == r.claims
    assert "Øystein" in repr(r)


def test_result_is_immutable_snapshot(verifier):
    a = verifier.verify_jwt(token(sub="first", roles=["x"]), NOW)
    b = verifier.verify_jwt(token(sub="second", scope="s2"), NOW)
    c = verifier.verify_api_key(API_KEY, NOW)
    d = verifier.verify_jwt("bad", NOW)
    # Later verifications on the same thread reuse the C result: the snapshots stay.
    assert a.subject == "first" and a.scopes == ("orders:read",) and a.claim("sub") == "first"
    assert b.subject == "second" and b.scopes == ("s2",)
    assert c.subject == "billing" and c.key_id == "key-1" and c.scopes == ("orders:read", "orders:write")
    assert d.code == "malformed"
    with pytest.raises(AttributeError):
        a.subject = "x"
    with pytest.raises(AttributeError):
        a.anything = 1
    roles = a.claim("roles")
    roles.append("y")
    assert a.claim("roles") == ["x"]
    claims = a.claims
    claims["sub"] = "changed"
    assert a.claims["sub"] == "first"
    assert copy.deepcopy(a) is a
    p = pickle.loads(pickle.dumps(a))
    assert p.subject == "first" and p.claim("roles") == ["x"]


def test_results_are_equal_by_what_they_show(verifier):
    # The lazily read scopes once made two results of one token unequal
    # after one was read, and JWT results unhashable (an audit's finding).
    t = token(sub="same")
    r1, r2 = verifier.verify_jwt(t, NOW), verifier.verify_jwt(t, NOW)
    assert r1 == r2 and hash(r1) == hash(r2)
    assert r1.scopes == ("orders:read",)
    assert r1 == r2 and hash(r1) == hash(r2) and len({r1, r2}) == 1
    assert r1 != verifier.verify_jwt(token(sub="other"), NOW)
    assert r1 != verifier.verify_jwt(t, NOW + 7200)
    k = verifier.verify_api_key(API_KEY, NOW)
    assert k == verifier.verify_api_key(API_KEY, NOW + 1) and hash(k) is not None


def test_a_verifier_cannot_be_copied_or_pickled(verifier):
    # A copy owned the same native handle: the second free (or a verify
    # after the first) crashed the process (an audit's finding).
    for make_copy in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="share it|pickled"):
            make_copy(verifier)
    assert verifier.verify_jwt(token(), NOW).ok


def test_accepts_str_and_bytes(verifier):
    t = token()
    assert verifier.verify_jwt(t.encode(), NOW).ok
    assert verifier.verify_jwt(bytearray(t.encode()), NOW).ok
    assert verifier.verify_jwt(memoryview(t.encode()), NOW).ok
    with pytest.raises(TypeError):
        verifier.verify_jwt(123, NOW)


def test_rejections(verifier):
    t = token()
    assert verifier.verify_jwt(t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1], NOW).code == "bad_signature"
    r = verifier.verify_jwt(t, NOW + 3600)
    assert not r and r.code == "expired" and r.kind == "jwt"
    assert r.subject is None and r.scopes == () and r.exp is None and r.claim("sub") is None and r.claims == {}
    assert verifier.verify_jwt(token(exp=None), NOW).code == "missing_claim"
    assert verifier.verify_jwt(hs256({"exp": NOW + 5}, kid="other"), NOW).code == "unknown_key"
    assert verifier.verify_jwt(hs256({"exp": NOW + 5}, secret=b"x" * 32), NOW).code == "bad_signature"
    assert verifier.verify_api_key(API_KEY[:-1] + "0", NOW).code == "bad_api_key"
    assert verifier.verify_basic("alice", "nope", NOW).code == "bad_credentials"
    assert verifier.verify_authorization("Digest x", NOW).code == "malformed"


def test_clock(verifier):
    # now=None (the default) is the system clock.
    import time

    t = hs256({"sub": "u", "exp": time.time() + 60})
    assert verifier.verify_jwt(t).ok
    assert verifier.verify_jwt(t, None).ok
    assert verifier.verify_jwt(hs256({"sub": "u", "exp": time.time() - 60})).code == "expired"


def test_usage_errors(verifier):
    with pytest.raises(ValueError):
        verifier.verify_jwt(token(), math.nan)
    with pytest.raises(ValueError):
        verifier.verify_jwt(token(), math.inf)
    with pytest.raises(TypeError):
        verifier.verify_jwt(token(), "tomorrow")
    # Past a double's range: ValueError everywhere, not OverflowError; text
    # is refused everywhere, not read as a number on some paths.
    for call in (lambda now: verifier.verify_jwt(token(), now),
                 lambda now: verifier.verify_authorization("Bearer x.y.z", now),
                 lambda now: verifier.revoke_jti("j", now=now),
                 lambda now: verifier.revoke_jti("j", until=now)):
        with pytest.raises(ValueError):
            call(10**400)
        with pytest.raises(TypeError):
            call("1700000000")
    verifier.close()
    with pytest.raises(ValueError, match="closed"):
        verifier.verify_jwt(token(), NOW)
    with pytest.raises(ValueError, match="closed"):
        verifier.reload()
    verifier.close()  # twice is fine


def test_api_key_and_rate_limit(verifier):
    r = verifier.verify_api_key(API_KEY, NOW)
    assert r.ok and r.kind == "api_key" and r.key_id == "key-1" and r.subject == "billing" and r.exp is None
    assert verifier.verify_authorization("Bearer " + API_KEY, NOW).ok  # burst 2
    r = verifier.verify_api_key(API_KEY, NOW)
    assert r.code == "rate_limited" and r.retry_after >= 1 and r.kind == "api_key"
    assert "retry_after" in repr(r)
    assert verifier.verify_api_key(API_KEY, NOW + 10).ok


def test_basic(verifier):
    r = verifier.verify_basic("alice", "wonderland", NOW)
    assert r.ok and r.kind == "basic" and r.subject == "alice" and r.scopes == ()
    assert verifier.verify_basic(b"alice", b"wonderland", NOW).ok
    import base64

    r = verifier.verify_authorization("Basic " + base64.b64encode(b"alice:wonderland").decode(), NOW)
    assert r.ok and r.kind == "basic" and r.claim("sub") is None


def test_authorization_claims(verifier):
    r = verifier.verify_authorization("  bearer  " + token(sub="via-header", x=1) + " \t", NOW)
    assert r.ok and r.subject == "via-header" and r.claim("x") == 1


def test_revocation(verifier):
    t = token(jti="jti-9")
    assert verifier.verify_jwt(t, NOW).ok
    verifier.revoke_jti("jti-9", until=NOW + 7200, now=NOW)
    assert verifier.verify_jwt(t, NOW).code == "revoked"
    assert verifier.unrevoke_jti("jti-9") is True
    assert verifier.unrevoke_jti("jti-9") is False
    assert verifier.verify_jwt(t, NOW).ok
    verifier.revoke_subject_before("user-1", NOW, now=NOW)
    assert verifier.verify_jwt(t, NOW).code == "revoked"
    assert verifier.unrevoke_subject("user-1")
    verifier.revoke_api_key_id("key-1", now=NOW)
    assert verifier.verify_api_key(API_KEY, NOW).code == "revoked"
    assert verifier.unrevoke_api_key_id("key-1")
    assert not verifier.unrevoke_api_key_id("key-1")


def test_set_jwks_for_one_of_several_profiles():
    other = b"o" * 32
    v = warden.Verifier.from_config({"jwt": [
        {"issuer": "https://a", "jwks": {"keys": []}},
        {"issuer": "https://b", "jwks": {"keys": []}},
    ]})
    t = hs256({"sub": "u", "iss": "https://b", "exp": NOW + 5}, secret=other)
    assert v.verify_jwt(t, NOW).code == "unsupported_alg"
    keys = {"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(other)}]}
    with pytest.raises(warden.ConfigError, match="name the issuer"):
        v.set_jwks(keys)
    v.set_jwks(keys, issuer="https://b")
    assert v.verify_jwt(t, NOW).ok
    assert v.verify_jwt(hs256({"sub": "u", "iss": "https://a", "exp": NOW + 5}, secret=other), NOW).code == "unsupported_alg"
    with pytest.raises(warden.ConfigError, match="nobody"):
        v.set_jwks(keys, issuer="https://nobody")
    v.close()


def test_reload_and_jwks(tmp_path, config):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(config))
    v = warden.Verifier.from_file(p)
    t = token()
    assert v.verify_jwt(t, NOW).ok
    other = b"o" * 32
    v.set_jwks({"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(other)}]})
    assert v.verify_jwt(t, NOW).code == "bad_signature"
    assert v.verify_jwt(hs256({"sub": "u", "exp": NOW + 5}, secret=other), NOW).ok
    assert v.counter("key_set_swap") == 1
    v.reload()
    assert v.verify_jwt(t, NOW).ok
    p.write_text('{"jwt": {"leeway": 1}}')
    with pytest.raises(warden.ConfigError) as e:
        v.reload()
    assert "leeway" in str(e.value) and "leeway" in v.last_error()
    assert v.verify_jwt(t, NOW).ok  # the old config keeps serving
    with pytest.raises(warden.ConfigError):
        v.set_jwks({"keys": [{"kty": "oct", "kid": "w", "alg": "HS256", "k": b64u(b"weak")}]})
    v.reload_from_config(base_config(jwt={"jwks": {"keys": []}}))
    assert v.verify_jwt(t, NOW).code == "unsupported_alg"
    q = tmp_path / "second.json"
    q.write_text(json.dumps(config))
    v.reload_from_file(q)
    assert v.verify_jwt(t, NOW).ok
    v.close()


def test_stats(verifier):
    verifier.verify_jwt(token(), NOW)
    verifier.verify_jwt("x", NOW)
    assert verifier.verdict_count("jwt", "ok") == 1
    assert verifier.verdict_count("jwt", "malformed") == 1
    text = verifier.prometheus()
    assert 'kind="jwt"' in text
    with pytest.raises(ValueError):
        verifier.counter("nope")
    with pytest.raises(ValueError):
        verifier.verdict_count("jwt", "nope")


def test_installed_package_has_library_and_types():
    import os

    pkg = os.path.dirname(warden.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    if os.environ.get("WARDEN_EXPECT_INSTALLED"):
        assert os.path.isfile(os.path.join(pkg, "_lib", "libwarden.so"))
        assert "site-packages" in pkg


SCOPE_SHAPES = [
    {"scope": "a b c"},
    {"scope": "a  b "},
    {"scope": "  "},
    {"scope": ""},
    {"scope": "a\tb c"},
    {"scope": "\u00e9t\u00e9 x\u2003y"},
    {"scope": 7, "scp": ["p", "q"]},
    {"scope": None, "scp": ["p"]},
    {"scp": ["p", 1, "q", None, ["r"], "s t"]},
    {"scp": "a string  of scopes"},
    {"scope": 7, "scp": "entra style"},
    {"scp": []},
    {"scope": "x", "scp": ["y"]},
    {},
]


@pytest.mark.parametrize("shape", SCOPE_SHAPES, ids=[json.dumps(s) for s in SCOPE_SHAPES])
def test_jwt_scopes_match_the_c_api(verifier, shape):
    """JWT scopes are derived from the payload in Python (no foreign call per
    scope): they must equal what warden_result_scope hands out."""
    t = hs256(dict({"sub": "s", "exp": NOW + 60}, **shape)).encode()
    want = c_api_scopes(verifier, t)
    r = verifier.verify_jwt(t, NOW)
    assert r.ok and list(r.scopes) == want
    r = verifier.verify_authorization(b"Bearer " + t, NOW)
    assert r.ok and list(r.scopes) == want


def c_api_scopes(verifier, t):
    """The scopes of token t, one warden_result_scope call each."""
    import ctypes

    from warden import _core, _native

    slot = _core._Slot()
    assert _native.verify_jwt(verifier._h, t, len(t), float(NOW), slot.addr) == 0
    want = []
    for i in range(slot.r.scope_count):
        assert _native.result_scope(slot.addr, i, slot.sp_ref, slot.sl_ref) == 0
        want.append(ctypes.string_at(slot.sp.value, slot.sl.value).decode())
    return want


# Payload texts as an identity provider writes them (compact, UTF-8 as is),
# and the shapes that must leave the no-parser path of _plain_scope: its
# expected outcome ("plain": read without json.loads; "parse": handed to it).
PAYLOAD_TEXTS = [
    ('{"sub":"s","exp":%d,"scope":"a b  c"}', "plain"),
    ('{"sub":"s","exp":%d,"scope":"été x y"}', "plain"),
    ('{"sub":"s","exp":%d,"scope":""}', "plain"),
    ('{"sub":"s","exp":%d,"v":"scope","scope":"z"}', "plain"),
    ('{"sub":"s","exp":%d,"list":["scope",":"],"scope":"w"}', "plain"),
    ('{"sub":"s","exp":%d}', "plain"),
    ('{"sub":"s","exp":%d,"x":{"scope":"nested"},"scope":"top"}', "parse"),
    ('{"sub":"s","exp":%d,"x":{"scope":"nested"}}', "parse"),
    ('{"sub":"s","exp":%d,"x":[{"scope":"in an array"}]}', "parse"),
    ('{"sub":"s","exp":%d,"name":"a{b","scope":"q"}', "parse"),
    ('{"sub":"s","exp":%d,"scope" : "spaced out"}', "parse"),
    ('{"sub":"s","exp":%d,"scope":"a\\u0020b c"}', "parse"),
    ('{"sub":"s","exp":%d,"k":"\\"scope\\":\\"evil\\"","scope":"ok"}', "parse"),
    ('{"sub":"s","exp":%d,"scope":7,"scp":["p"]}', "parse"),
    ('{"sub":"s","exp":%d,"scp":["p","q"]}', "parse"),
]


@pytest.mark.parametrize("text,path", PAYLOAD_TEXTS, ids=[t for t, _ in PAYLOAD_TEXTS])
def test_jwt_scopes_of_payload_texts_match_the_c_api(verifier, text, path):
    """The scopes read from the payload text without a JSON parser, where
    that is safe, equal warden_result_scope's; every other shape is parsed."""
    import hmac

    from warden import _core

    payload = (text % (NOW + 60)).encode()
    assert (_core._plain_scope(payload) is not None) == (path == "plain")
    header = b64u(json.dumps({"alg": "HS256", "kid": "hs"}).encode())
    signing = (header + "." + b64u(payload)).encode()
    t = signing + b"." + b64u(hmac.new(HS_SECRET, signing, hashlib.sha256).digest()).encode()
    want = c_api_scopes(verifier, t)
    r = verifier.verify_jwt(t, NOW)
    assert r.ok and list(r.scopes) == want


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 40])
def test_api_key_scopes_in_one_call(n):
    """API key scopes are read with warden_result_scopes: one foreign call
    into the slot's 16 entries, a second into a larger array past them."""
    import hashlib

    import warden

    scopes = ["s%d-%s" % (i, "\u00e9" * i) for i in range(n)]
    key = api_key("tk_test", "Z" * 30 + "%02d" % n)
    cfg = {
        "api_keys": {
            "prefixes": ["tk_test"],
            "keys": [
                {"id": "k", "sha256": hashlib.sha256(key.encode()).hexdigest(), "owner": "o", "scopes": scopes},
                {"id": "k0", "sha256": hashlib.sha256(API_KEY.encode()).hexdigest(), "owner": "o0"},
            ],
        }
    }
    v = warden.Verifier.from_config(cfg)
    try:
        for _ in range(2):  # the slot's array reused
            r = v.verify_api_key(key, NOW)
            assert r.ok and r.scopes == tuple(scopes) and r.key_id == "k"
            r = v.verify_api_key(API_KEY, NOW)
            assert r.ok and r.scopes == () and r.key_id == "k0"
    finally:
        v.close()


def test_empty_strings(verifier):
    r = verifier.verify_jwt(token(sub=""), NOW)
    assert r.ok and r.subject == ""


def test_remote_key_events_go_to_the_warden_logger(caplog):
    # The failed first fetch is logged while the verifier is made (on this
    # thread), the refresher's retries from warden's own thread; none after
    # close().
    import threading
    import time

    cfg = {"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": True,
                   "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}}
    caplog.set_level(logging.INFO, logger="warden")

    def events():
        return [r for r in caplog.records if r.name == "warden" and "127.0.0.1:9" in r.getMessage()]

    v = warden.Verifier.from_config(cfg)
    first = events()
    assert first and first[0].levelno == logging.WARNING
    assert first[0].thread == threading.get_ident()
    deadline = time.time() + 5
    while time.time() < deadline and not any(r.thread != threading.get_ident() for r in events()):
        time.sleep(0.02)
    assert any(r.thread != threading.get_ident() and r.levelno == logging.WARNING for r in events())
    v.close()
    n = len(events())
    time.sleep(0.4)
    assert len(events()) == n


def test_open_verifiers_stop_logging_at_exit(tmp_path):
    # A verifier left open with a failing provider: the interpreter exits
    # cleanly (its retries stop logging before finalization).
    import subprocess
    import sys

    script = tmp_path / "open_at_exit.py"
    script.write_text(
        "import time, warden\n"
        "cfg = {'jwt': {'jwks_uri': 'http://127.0.0.1:9/jwks', 'allow_insecure_loopback': True,\n"
        "               'refresh': {'min_s': 0.01, 'max_s': 0.02, 'timeout_s': 0.05}}}\n"
        "vs = [warden.Verifier.from_config(cfg) for _ in range(8)]\n"
        "time.sleep(0.3)\n"
        "print('done')\n"
    )
    for _ in range(5):
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout == "done\n", (r.returncode, r.stderr[-2000:])


def test_a_log_handler_may_free_its_own_verifier():
    # The garbage collector can run inside warden's log callback (a verifier
    # in a reference cycle, collected on the refresher thread) and free the
    # verifier there: that must not wait for the very call it is in. A
    # handler that closes the verifier does the same, deterministically.
    import threading
    cfg = {"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": True,
                   "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}}
    v = warden.Verifier.from_config(cfg)
    closed_on = []
    done = threading.Event()

    class Closer(logging.Handler):
        def emit(self, record):
            if not v.closed:
                v.close()
                closed_on.append(threading.current_thread() is not threading.main_thread())
                done.set()

    log = logging.getLogger("warden")
    handler = Closer()
    log.addHandler(handler)
    try:
        assert done.wait(5), "the refresher's retry closes the verifier (no deadlock)"
        assert closed_on == [True] and v.closed
    finally:
        log.removeHandler(handler)


def test_pause_refresh_and_a_forked_child_refreshing_on_its_own():
    # gunicorn --preload / uWSGI: the app's verifier is made in the master,
    # which forks workers. A worker has no refresher thread of the master's
    # (threads do not survive fork()): it starts its own. The master may
    # pause its own.
    import os
    import time
    cfg = {"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": True,
                   "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}}
    v = warden.Verifier.from_config(cfg)
    failures = lambda: v.counter("jwks_fetch_failure")
    deadline = time.time() + 5
    while time.time() < deadline and failures() < 2:
        time.sleep(0.02)
    assert failures() >= 2, "the refresher retries"
    v.pause_refresh()
    paused_at = failures()
    time.sleep(0.4)
    assert failures() == paused_at, "no request once pause_refresh returned"
    pid = os.fork()
    if pid == 0:  # the child: its first verification starts its refresher
        code = 1
        try:
            born = failures()
            v.verify_jwt("eyJhbGciOiJFUzI1NiJ9.e30.AAAA", now=1.75e9)
            end = time.time() + 5
            while time.time() < end and failures() < born + 2:
                time.sleep(0.02)
            code = 0 if failures() >= born + 2 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child refreshes on its own"
    assert failures() == paused_at, "the parent stays paused"
    v.resume_refresh()
    deadline = time.time() + 5
    while time.time() < deadline and failures() < paused_at + 2:
        time.sleep(0.02)
    assert failures() >= paused_at + 2
    v.close()
    with pytest.raises(ValueError):
        v.pause_refresh()
