"""Every case of every shared vector file (SPEC section 4), through the binding.

Vectors come from $WARDEN_VECTORS or <checkout>/../shared/vectors; new files
are picked up without code changes. As `warden verify` runs one process per
case, each case gets a fresh verifier (rate limits and failure budgets start
empty).
"""

import base64
import json
import pathlib

import pytest

import warden
from conftest import vectors_dir

VECTORS = vectors_dir()
FILES = sorted(VECTORS.glob("*.json"))


def _load(path: pathlib.Path) -> dict:
    with open(path, "rb") as f:
        return json.load(f)


def _params():
    out = []
    for path in FILES:
        doc = _load(path)
        if doc.get("expect_load") == "error":
            out.append(pytest.param(path, None, id="%s:expect_load" % path.stem))
            continue
        for i, case in enumerate(doc["cases"]):
            out.append(pytest.param(path, i, id="%s:%03d:%s" % (path.stem, i, case.get("name", ""))))
    return out


def test_vectors_present():
    assert FILES, "no vector files in %s (set WARDEN_VECTORS)" % VECTORS


_dirs = {}


def _config_path(path: pathlib.Path, doc: dict, factory) -> pathlib.Path:
    """The file's config written to its own directory, with its `files` beside it."""
    if path not in _dirs:
        d = factory.mktemp(path.stem)
        for name, content in doc.get("files", {}).items():
            assert "/" not in name and name not in ("", ".", "..")
            (d / name).write_bytes(content.encode("utf-8"))
        cfg = d / "config.json"
        cfg.write_text(json.dumps(doc["config"]), encoding="utf-8")
        _dirs[path] = cfg
    return _dirs[path]


def _verify(v: warden.Verifier, case: dict) -> warden.Result:
    now = case["now"]
    if "jwt" in case:
        return v.verify_jwt(case["jwt"], now)
    if "api_key" in case:
        return v.verify_api_key(case["api_key"], now)
    if "basic" in case:
        pair = case["basic"]
        if ":" not in pair:
            # `warden verify --basic` takes USER:PASS; without a colon there is no
            # user/password pair to hand to verify_basic. The same bytes as a Basic
            # Authorization value are the same credential (SPEC section 5: no
            # colon after decoding -> malformed).
            return v.verify_authorization("Basic " + base64.b64encode(pair.encode()).decode(), now)
        user, _, password = pair.partition(":")
        return v.verify_basic(user, password, now)
    return v.verify_authorization(case["authorization"], now)


def _fields(r: warden.Result) -> dict:
    got = {"ok": r.ok, "kind": r.kind}
    for name in ("subject", "kid", "key_id", "exp"):
        if getattr(r, name) is not None:
            got[name] = getattr(r, name)
    if r.kind == "api_key" or r.scopes:
        got["scopes"] = list(r.scopes)
    return got


@pytest.mark.parametrize("path,index", _params())
def test_vector(path, index, tmp_path_factory):
    doc = _load(path)
    cfg = _config_path(path, doc, tmp_path_factory)
    if index is None:
        assert doc["cases"] == []
        with pytest.raises(warden.ConfigError) as info:
            warden.Verifier.from_file(cfg)
        # SECURITY if it loaded; the message names the file.
        assert "config.json" in str(info.value)
        return
    case = doc["cases"][index]
    v = warden.Verifier.from_file(cfg)
    try:
        for _ in range(case.get("repeat", 1)):
            r = _verify(v, case)
    finally:
        v.close()
    expect = case["expect"]
    if expect == "ok":
        assert r.ok, "expected ok, got %r" % (r,)
        assert r.code == "ok"
        for name, want in case.get("expect_fields", {}).items():
            got = _fields(r)
            assert name in got and got[name] == want, "field %s: expected %r, got %r" % (name, want, got)
    else:
        assert not r.ok, "SECURITY: accepted, expected %s: %r" % (expect, r)
        assert r.code == expect
        if expect == "rate_limited":
            assert r.retry_after is not None and r.retry_after >= 1
        else:
            assert r.retry_after is None
