"""WSGI and ASGI middlewares: statuses and headers (RFC 6750), identity passed on."""

import asyncio
import base64
from wsgiref.util import setup_testing_defaults

import pytest

import warden
from warden.asgi import WardenMiddleware as AsgiMiddleware
from warden.wsgi import WardenMiddleware as WsgiMiddleware
from conftest import API_KEY, NOW, token

CLOCK = lambda: NOW  # noqa: E731
BASIC_OK = "Basic " + base64.b64encode(b"alice:wonderland").decode()
BASIC_BAD = "Basic " + base64.b64encode(b"alice:nope").decode()


# ---------------------------------------------------------------- WSGI


def wsgi_app(environ, start_response):
    r = environ["warden.result"]
    body = ("hello %s %s %s" % (r.kind, r.subject, environ.get("REMOTE_USER"))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def wsgi_call(app, authorization=None, path="/orders"):
    environ = {"SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "", "wsgi.multithread": True}
    setup_testing_defaults(environ)
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status
        seen["headers"] = headers

    it = app(environ, start_response)
    try:
        body = b"".join(it)
    finally:
        if hasattr(it, "close"):
            it.close()
    return int(seen["status"].split()[0]), seen["headers"], body


def values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


@pytest.fixture
def wsgi(verifier):
    return WsgiMiddleware(wsgi_app, verifier, realm="orders", clock=CLOCK)


def test_wsgi_ok(wsgi):
    status, headers, body = wsgi_call(wsgi, "Bearer " + token(sub="u-7"))
    assert status == 200 and body == b"hello jwt u-7 u-7"
    status, _, body = wsgi_call(wsgi, "Bearer " + API_KEY)
    assert status == 200 and body == b"hello api_key billing billing"


def test_wsgi_missing_credential(wsgi):
    status, headers, body = wsgi_call(wsgi)
    assert status == 401
    # RFC 6750 section 3.1: no error attribute when the request has no credential.
    assert values(headers, "WWW-Authenticate") == ['Bearer realm="orders"']
    assert body.startswith(b"401")
    # Basic is not accepted by this middleware: refused unverified, and
    # answered like no credential (RFC 6750 section 3.1: an unsupported
    # method gets no error code); so is a scheme other than Bearer/Basic.
    for value in (BASIC_OK, "Digest username=x", "DPoP abc"):
        status, headers, _ = wsgi_call(wsgi, value)
        assert status == 401 and values(headers, "WWW-Authenticate") == ['Bearer realm="orders"'], value
    # Another shape (no scheme) is a malformed Bearer credential.
    status, headers, _ = wsgi_call(wsgi, "garbage")
    assert status == 401 and 'error_description="malformed"' in values(headers, "WWW-Authenticate")[0]


def test_wsgi_invalid_token(wsgi):
    status, headers, _ = wsgi_call(wsgi, "Bearer " + token(exp=NOW - 1))
    assert status == 401
    assert values(headers, "WWW-Authenticate") == [
        'Bearer realm="orders", error="invalid_token", error_description="expired"'
    ]
    status, headers, _ = wsgi_call(wsgi, "Bearer not.a.token")
    assert status == 401 and 'error_description="malformed"' in values(headers, "WWW-Authenticate")[0]


def test_wsgi_rate_limited(wsgi):
    for _ in range(2):
        assert wsgi_call(wsgi, "Bearer " + API_KEY)[0] == 200
    status, headers, _ = wsgi_call(wsgi, "Bearer " + API_KEY)
    assert status == 429
    assert int(values(headers, "Retry-After")[0]) >= 1
    assert values(headers, "WWW-Authenticate") == []


def test_wsgi_scopes(verifier):
    app = WsgiMiddleware(wsgi_app, verifier, realm="orders", required_scopes=["orders:write"], clock=CLOCK)
    status, headers, _ = wsgi_call(app, "Bearer " + token(scope="orders:read"))
    assert status == 403
    assert values(headers, "WWW-Authenticate") == ['Bearer realm="orders", error="insufficient_scope", scope="orders:write"']
    assert wsgi_call(app, "Bearer " + token(scope="orders:read orders:write"))[0] == 200


def test_wsgi_basic(verifier):
    app = WsgiMiddleware(wsgi_app, verifier, realm='a "quoted" realm', kinds=("jwt", "api_key", "basic"), clock=CLOCK)
    status, headers, _ = wsgi_call(app)
    assert status == 401
    assert values(headers, "WWW-Authenticate") == [
        'Bearer realm="a \\"quoted\\" realm"',
        'Basic realm="a \\"quoted\\" realm", charset="UTF-8"',
    ]
    status, _, body = wsgi_call(app, BASIC_OK)
    assert status == 200 and body == b"hello basic alice alice"
    # A refused Basic credential gets the Basic challenge only (as nginx).
    status, headers, _ = wsgi_call(app, BASIC_BAD)
    assert status == 401 and values(headers, "WWW-Authenticate") == ['Basic realm="a \\"quoted\\" realm", charset="UTF-8"']
    # A refused Bearer credential gets the Bearer challenge only.
    status, headers, _ = wsgi_call(app, "Bearer x")
    assert status == 401 and values(headers, "WWW-Authenticate") == [
        'Bearer realm="a \\"quoted\\" realm", error="invalid_token", error_description="malformed"'
    ]
    # Basic users have no scopes: 403 without a challenge.
    scoped = WsgiMiddleware(wsgi_app, verifier, kinds=["basic"], required_scopes=["a"], clock=CLOCK)
    status, headers, _ = wsgi_call(scoped, BASIC_OK)
    assert status == 403 and values(headers, "WWW-Authenticate") == []


def test_wsgi_single_bearer_kind(verifier):
    jwt_only = WsgiMiddleware(wsgi_app, verifier, kinds=["jwt"], clock=CLOCK)
    assert wsgi_call(jwt_only, "Bearer " + token())[0] == 200
    status, headers, _ = wsgi_call(jwt_only, "Bearer " + API_KEY)  # verified as a JWT
    assert status == 401 and 'error_description="malformed"' in values(headers, "WWW-Authenticate")[0]
    keys_only = WsgiMiddleware(wsgi_app, verifier, kinds="api_key", clock=CLOCK)
    assert wsgi_call(keys_only, "Bearer " + API_KEY)[0] == 200
    status, headers, _ = wsgi_call(keys_only, "Bearer " + token())  # verified as an API key
    assert status == 401 and 'error_description="bad_api_key"' in values(headers, "WWW-Authenticate")[0]
    status, headers, _ = wsgi_call(keys_only, BASIC_OK)
    assert status == 401 and values(headers, "WWW-Authenticate") == ['Bearer realm="api"']
    with pytest.raises(ValueError):
        WsgiMiddleware(wsgi_app, verifier, kinds=["nope"])


def test_realm_and_scopes_must_fit_a_header(verifier):
    # A realm ASGI cannot encode (Latin-1) failed every 401 with an
    # exception; a CR LF split a WSGI header (an audit's finding).
    for realm in ("Zürich €", "api\r\nSet-Cookie: x=1", "tab\there"):
        for cls in (WsgiMiddleware, AsgiMiddleware):
            with pytest.raises(ValueError, match="realm"):
                cls(wsgi_app, verifier, realm=realm)
    for scope in ("two words", 'quo"te', "", "back\\slash", "é"):
        with pytest.raises(ValueError, match="scope token"):
            WsgiMiddleware(wsgi_app, verifier, required_scopes=[scope])
    ok = WsgiMiddleware(wsgi_app, verifier, realm="Zürich", required_scopes=["orders:read"], clock=CLOCK)
    status, headers, _ = wsgi_call(ok)
    assert status == 401 and values(headers, "WWW-Authenticate") == ['Bearer realm="Zürich"']


def test_wsgi_exempt(verifier):
    app = WsgiMiddleware(lambda e, s: (s("204 No Content", []), [b""])[1], verifier,
                         exempt=lambda environ: environ["PATH_INFO"] == "/healthz")
    assert wsgi_call(app, path="/healthz")[0] == 204
    assert wsgi_call(app, path="/other")[0] == 401


def test_wsgi_under_wsgiref(verifier):
    """The middleware passes wsgiref's validator (PEP 3333 conformance)."""
    from wsgiref.validate import validator

    app = validator(WsgiMiddleware(validator(wsgi_app), verifier, clock=CLOCK))
    for auth, status in ((None, 401), ("Bearer " + token(), 200), ("Bearer " + token(exp=NOW - 5), 401)):
        got, _, _ = wsgi_call(app, auth)
        assert got == status


# ---------------------------------------------------------------- ASGI


async def asgi_app(scope, receive, send):
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        return
    r = scope["warden.result"]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": ("hello %s %s" % (r.kind, r.subject)).encode()})


def asgi_call(app, *authorizations, kind="http"):
    scope = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders",
        "raw_path": b"/orders",
        "query_string": b"",
        "headers": [(b"host", b"localhost")] + [(b"authorization", a.encode()) for a in authorizations],
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False} if kind == "http" else {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    if kind == "websocket":
        return sent
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
    return start["status"], headers, body


@pytest.fixture
def asgi(verifier):
    return AsgiMiddleware(asgi_app, verifier, realm="orders", required_scopes="orders:read", clock=CLOCK)


def test_asgi_ok(asgi):
    status, _, body = asgi_call(asgi, "Bearer " + token(sub="u-8"))
    assert status == 200 and body == b"hello jwt u-8"


def test_asgi_statuses(asgi):
    status, headers, body = asgi_call(asgi)
    assert status == 401 and values(headers, "www-authenticate") == ['Bearer realm="orders"']
    assert values(headers, "content-type") == ["text/plain; charset=utf-8"]
    assert values(headers, "content-length") == [str(len(body))]
    status, headers, _ = asgi_call(asgi, "Bearer " + token(scope=None) + "x")
    assert status == 401
    assert values(headers, "www-authenticate") == [
        'Bearer realm="orders", error="invalid_token", error_description="bad_signature"'
    ]
    status, headers, _ = asgi_call(asgi, "Bearer " + token(scope="other"))
    assert status == 403 and 'error="insufficient_scope"' in values(headers, "www-authenticate")[0]
    assert asgi_call(asgi, "Bearer " + API_KEY)[0] == 200
    assert asgi_call(asgi, "Bearer " + API_KEY)[0] == 200
    status, headers, _ = asgi_call(asgi, "Bearer " + API_KEY)
    assert status == 429 and int(values(headers, "retry-after")[0]) >= 1
    status, headers, _ = asgi_call(asgi, "Bearer " + token(), "Bearer " + token())
    assert status == 400 and 'error="invalid_request"' in values(headers, "www-authenticate")[0]


def test_asgi_basic_offloaded(verifier):
    app = AsgiMiddleware(asgi_app, verifier, kinds=("jwt", "basic"), clock=CLOCK)
    status, _, body = asgi_call(app, BASIC_OK)
    assert status == 200 and body == b"hello basic alice"
    status, headers, _ = asgi_call(app, BASIC_BAD)
    assert status == 401 and values(headers, "www-authenticate") == ['Basic realm="api", charset="UTF-8"']


def test_asgi_websocket_and_lifespan(asgi, verifier):
    assert asgi_call(asgi, "Bearer " + token(), kind="websocket") == [{"type": "websocket.accept"}]
    closed = asgi_call(asgi, kind="websocket")
    assert closed[0]["type"] == "websocket.close" and closed[0]["code"] == 1008

    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(AsgiMiddleware(inner, verifier)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


def test_asgi_scope_not_mutated(asgi):
    scope_seen = {}

    async def inner(scope, receive, send):
        scope_seen.update(scope)
        await asgi_app(scope, receive, send)

    app = AsgiMiddleware(inner, asgi.gate.verifier, clock=CLOCK)
    asgi_call(app, "Bearer " + token())
    assert isinstance(scope_seen["warden.result"], warden.Result)
    assert scope_seen["warden.code"] == "ok"
