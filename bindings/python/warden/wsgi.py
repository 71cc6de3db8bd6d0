"""WSGI middleware: only requests with an accepted credential reach the app.

    from warden import Verifier
    from warden.wsgi import WardenMiddleware

    app = WardenMiddleware(app, Verifier.from_file("config.json"),
                           realm="orders", required_scopes=["orders:read"])

The verified ``warden.Result`` is ``environ["warden.result"]`` (and the
subject, when there is one, ``environ["REMOTE_USER"]``). Rejections are
answered as warden's nginx module does: 401 with an RFC 6750
``WWW-Authenticate`` challenge, 403 (``insufficient_scope``) for missing
scopes, 429 with ``Retry-After`` when rate limited (see ``warden._http``).
``environ["warden.code"]`` is the decision (``ok``, a verdict code,
``no_credential``, ``kind_not_allowed``, ``insufficient_scope``) for logging
by outer layers.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from ._core import Verifier
from ._http import Decision, Gate

__all__ = ["WardenMiddleware", "ENVIRON_KEY"]

#: The environ key that holds the accepted warden.Result.
ENVIRON_KEY = "warden.result"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]


class WardenMiddleware:
    """Wrap a WSGI application.

    Args:
        app: the WSGI application to protect.
        verifier: a warden.Verifier (shared by every request and thread).
        realm: the ``realm`` of the challenges (default ``"api"``, as nginx's).
        required_scopes: scopes every request's credential must carry (403 otherwise).
        kinds: the credential kinds accepted, among ``"jwt"``, ``"api_key"``, ``"basic"``
            (default JWTs and API keys; a Bearer value is told apart as SPEC section 5
            says, or verified as the only Bearer kind accepted). Another kind is
            refused unverified (401 without an error code, ``kind_not_allowed`` in
            ``Decision.code``), like nginx's ``warden`` directive.
        exempt: ``exempt(environ) -> bool``; True lets the request through unverified
            (health checks, CORS preflight).
        clock: ``clock() -> float`` seconds since the epoch for verification
            (default: warden reads the system clock).
    """

    def __init__(
        self,
        app: WSGIApp,
        verifier: Verifier,
        realm: str = "api",
        required_scopes: Iterable[str] = (),
        kinds: Iterable[str] = ("jwt", "api_key"),
        exempt: Optional[Callable[[dict], bool]] = None,
        clock: Optional[Callable[[], Optional[float]]] = None,
    ) -> None:
        self.app = app
        self.gate = Gate(verifier, realm, required_scopes, kinds, clock)
        self.exempt = exempt

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if self.exempt is not None and self.exempt(environ):
            return self.app(environ, start_response)
        value = environ.get("HTTP_AUTHORIZATION")
        # PEP 3333: header values are latin-1 decoded bytes; get the bytes back.
        values = [] if value is None else [value.encode("latin-1", "replace")]
        decision = self.gate.decide(values)
        environ["warden.code"] = decision.code
        if decision.status == 0:
            result = decision.result
            environ[ENVIRON_KEY] = result
            if result is not None and result.subject is not None:
                environ["REMOTE_USER"] = result.subject
            return self.app(environ, start_response)
        return _answer(decision, start_response)


def _answer(decision: Decision, start_response: StartResponse) -> Iterable[bytes]:
    body = decision.body()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    headers.extend(decision.headers)
    start_response("%d %s" % (decision.status, decision.reason), headers)
    return [body]
