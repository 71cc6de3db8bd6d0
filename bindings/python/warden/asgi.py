"""ASGI middleware: only connections with an accepted credential reach the app.

    from warden import Verifier
    from warden.asgi import WardenMiddleware

    app = WardenMiddleware(app, Verifier.from_file("config.json"), realm="orders")

HTTP and WebSocket connections are checked (``lifespan`` passes through).
The verified ``warden.Result`` is ``scope["warden.result"]`` in the scope the
app receives (a copy of the server's). Answers are those of the WSGI
middleware and of warden's nginx module: 401 with an RFC 6750 challenge, 403
(``insufficient_scope``), 429 with ``Retry-After``. A rejected WebSocket is
closed before it is accepted (code 1008; the server answers the handshake
with 403).

JWT and API key checks take microseconds and run inline. A Basic password
check can take tens of milliseconds (PBKDF2/bcrypt), so under asyncio it runs
in the default executor (the GIL is released while warden works).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable, List, MutableMapping, Optional

from ._core import Verifier
from ._http import Decision, Gate

__all__ = ["WardenMiddleware", "SCOPE_KEY"]

#: The scope key that holds the accepted warden.Result.
SCOPE_KEY = "warden.result"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class WardenMiddleware:
    """Wrap an ASGI 3 application. Arguments as ``warden.wsgi.WardenMiddleware``;
    ``exempt(scope) -> bool`` receives the ASGI scope."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        realm: str = "api",
        required_scopes: Iterable[str] = (),
        kinds: Iterable[str] = ("jwt", "api_key"),
        exempt: Optional[Callable[[Scope], bool]] = None,
        clock: Optional[Callable[[], Optional[float]]] = None,
    ) -> None:
        self.app = app
        self.gate = Gate(verifier, realm, required_scopes, kinds, clock)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket") or (self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        values: List[bytes] = [v for (k, v) in scope.get("headers", ()) if k.lower() == b"authorization"]
        if len(values) == 1 and self.gate.accepts_basic and self.gate.is_basic(values[0]):
            decision = await _offload(self.gate.decide, values)
        else:
            decision = self.gate.decide(values)
        if decision.status == 0:
            scope = dict(scope)
            scope[SCOPE_KEY] = decision.result
            scope["warden.code"] = decision.code
            await self.app(scope, receive, send)
        elif kind == "http":
            await _answer(decision, send)
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": "%d %s" % (decision.status, decision.reason)})


async def _offload(fn: Callable[[List[bytes]], Decision], values: List[bytes]) -> Decision:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (e.g. trio): verify inline
        return fn(values)
    return await loop.run_in_executor(None, fn, values)


async def _answer(decision: Decision, send: Send) -> None:
    body = decision.body()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in decision.headers)
    await send({"type": "http.response.start", "status": decision.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
