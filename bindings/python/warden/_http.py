"""The HTTP decision shared by the WSGI and ASGI middlewares.

Statuses and headers (the same as warden's nginx module):

- no credential (no ``Authorization`` header, or a scheme that is not
  accepted): 401 with ``WWW-Authenticate: Bearer realm="..."`` and no error
  attribute (RFC 6750 section 3.1), plus a Basic challenge when Basic is
  accepted;
- a rejected credential: 401 with ``Bearer realm="...", error="invalid_token",
  error_description="<code>"`` (a rejected Basic credential gets the Basic
  challenge and the plain Bearer one);
- ``rate_limited``: 429 with ``Retry-After: <seconds>``;
- accepted but missing a required scope: 403 with ``Bearer realm="...",
  error="insufficient_scope", scope="<required scopes>"``;
- more than one ``Authorization`` header: 400 with ``error="invalid_request"``.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Tuple

from ._core import Result, Verifier

Headers = List[Tuple[str, str]]


def quote(value: str) -> str:
    """An HTTP quoted-string (RFC 9110 section 5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Decision:
    """What a middleware does with a request: pass it on (status 0) or answer."""

    __slots__ = ("status", "reason", "headers", "result")

    def __init__(self, status: int, reason: str, headers: Headers, result: Optional[Result]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.result = result

    def body(self) -> bytes:
        return ("%d %s\n" % (self.status, self.reason)).encode()


class Gate:
    """Verifies one ``Authorization`` value and decides the HTTP outcome."""

    def __init__(
        self,
        verifier: Verifier,
        realm: str = "warden",
        required_scopes: Iterable[str] = (),
        accept_basic: bool = False,
        clock: Optional[Callable[[], Optional[float]]] = None,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError("verifier must be a warden.Verifier")
        if isinstance(required_scopes, str):
            required_scopes = required_scopes.split()
        self.verifier = verifier
        self.realm = realm
        self.required_scopes = tuple(required_scopes)
        self.accept_basic = bool(accept_basic)
        self.clock = clock
        r = quote(realm)
        self._bearer = "Bearer realm=" + r
        self._basic = "Basic realm=" + r + ', charset="UTF-8"'
        self._challenges: Headers = [("WWW-Authenticate", self._bearer)]
        if self.accept_basic:
            self._challenges.append(("WWW-Authenticate", self._basic))
        self._forbidden = (
            self._bearer
            + ', error="insufficient_scope", error_description="insufficient_scope", scope='
            + quote(" ".join(self.required_scopes))
        )

    def is_basic(self, value: bytes) -> bool:
        return value.lstrip(b" \t")[:6].lower() == b"basic "

    def decide(self, values: List[bytes]) -> Decision:
        """``values``: every ``Authorization`` header of the request."""
        if not values:
            return Decision(401, "Unauthorized", list(self._challenges), None)
        if len(values) > 1:
            h = [("WWW-Authenticate", self._bearer + ', error="invalid_request", error_description="several Authorization headers"')]
            return Decision(400, "Bad Request", h, None)
        value = values[0]
        if not self.accept_basic and self.is_basic(value):
            return Decision(401, "Unauthorized", list(self._challenges), None)
        now = self.clock() if self.clock is not None else None
        result = self.verifier.verify_authorization(value, now)
        return self.judge(result)

    def judge(self, result: Result) -> Decision:
        if result.ok:
            if self.required_scopes and not result.has_scopes(self.required_scopes):
                return Decision(403, "Forbidden", [("WWW-Authenticate", self._forbidden)], result)
            return Decision(0, "", [], result)
        if result.code == "rate_limited":
            return Decision(429, "Too Many Requests", [("Retry-After", str(result.retry_after or 1))], result)
        if result.kind == "basic":
            h = [("WWW-Authenticate", self._bearer), ("WWW-Authenticate", self._basic)]
        else:
            h = [("WWW-Authenticate", self._bearer + ', error="invalid_token", error_description=' + quote(result.code))]
            if self.accept_basic:
                h.append(("WWW-Authenticate", self._basic))
        return Decision(401, "Unauthorized", h, result)
