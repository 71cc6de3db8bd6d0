"""The HTTP decision shared by the WSGI and ASGI middlewares.

Statuses and headers are those of warden's nginx module
(bindings/nginx/README.md, "Responses"):

- no credential: 401, ``WWW-Authenticate: Bearer realm="..."`` (and/or
  ``Basic realm="...", charset="UTF-8"``, by accepted kinds), no error
  attribute (RFC 6750 section 3.1);
- a refused JWT or API key (``malformed`` included): 401,
  ``Bearer realm="...", error="invalid_token", error_description="<code>"``;
- a refused Basic credential: 401, ``Basic realm="...", charset="UTF-8"``;
- a credential of a kind the middleware does not accept: refused without
  being verified, 401 with every accepted kind's challenge and no error
  attribute (RFC 6750 section 3.1: an unsupported method is answered like
  no credential); likewise a scheme other than Bearer and Basic (Digest,
  DPoP, ...), whose verdict is ``malformed``;
- ``rate_limited``: 429, ``Retry-After: <seconds>``;
- accepted but missing a required scope: 403,
  ``Bearer realm="...", error="insufficient_scope", scope="<required>"`` (no
  challenge for a Basic credential);
- more than one ``Authorization`` header: 400, ``error="invalid_request"``.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, List, Optional, Tuple

from ._core import Result, Verifier

Headers = List[Tuple[str, str]]

KIND_NAMES = ("jwt", "api_key", "basic")
#: A realm: printable Latin-1 (a quoted-string's qdtext and obs-text, RFC 7230).
_REALM_OK = re.compile(r"[\x20-\x7e\xa0-\xff]*")
#: A scope token: 1*NQCHAR (RFC 6749 section 3.3).
_SCOPE_OK = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def quote(value: str) -> str:
    """An HTTP quoted-string (RFC 9110 section 5.6.4)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Decision:
    """What a middleware does with a request: pass it on (status 0) or answer."""

    __slots__ = ("status", "reason", "headers", "result", "code")

    def __init__(self, status: int, reason: str, headers: Headers, result: Optional[Result], code: str) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.result = result
        #: "ok", the verdict code, or "no_credential", "kind_not_allowed",
        #: "insufficient_scope", "invalid_request" (as nginx's $warden_code).
        self.code = code

    def body(self) -> bytes:
        return ("%d %s\n" % (self.status, self.reason)).encode()


class Gate:
    """Verifies one request's ``Authorization`` value and decides the HTTP outcome."""

    def __init__(
        self,
        verifier: Verifier,
        realm: str = "api",
        required_scopes: Iterable[str] = (),
        kinds: Iterable[str] = ("jwt", "api_key"),
        clock: Optional[Callable[[], Optional[float]]] = None,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError("verifier must be a warden.Verifier")
        if isinstance(required_scopes, str):
            required_scopes = required_scopes.split()
        if isinstance(kinds, str):
            kinds = kinds.split()
        kinds = frozenset(kinds)
        if not kinds or not kinds <= set(KIND_NAMES):
            raise ValueError("kinds must be a non-empty subset of %s" % (KIND_NAMES,))
        required_scopes = tuple(required_scopes)
        # Both go into WWW-Authenticate headers: refused here rather than
        # failing every 401 (ASGI encodes headers as Latin-1) or splitting
        # the header (a CR LF in a WSGI header value).
        if not isinstance(realm, str) or not _REALM_OK.fullmatch(realm):
            raise ValueError("realm must be Latin-1 text without control characters")
        for sc in required_scopes:
            if not isinstance(sc, str) or not _SCOPE_OK.fullmatch(sc):
                raise ValueError("required scope %r is not a scope token (RFC 6749 section 3.3)" % (sc,))
        self.verifier = verifier
        self.realm = realm
        self.required_scopes = required_scopes
        self.kinds = kinds
        self.clock = clock
        r = quote(realm)
        self._bearer = "Bearer realm=" + r
        self._basic = "Basic realm=" + r + ', charset="UTF-8"'
        self._bearer_ok = bool(kinds & {"jwt", "api_key"})
        self._forbidden = self._bearer + ', error="insufficient_scope", scope=' + quote(" ".join(self.required_scopes))

    @property
    def accepts_basic(self) -> bool:
        return "basic" in self.kinds

    def challenges(self, kinds: Iterable[str], error: Optional[str] = None) -> Headers:
        """One WWW-Authenticate per scheme of `kinds` (Bearer with the error, if any)."""
        kinds = set(kinds)
        h: Headers = []
        if kinds & {"jwt", "api_key"}:
            v = self._bearer
            if error is not None:
                v += ', error="invalid_token", error_description=' + quote(error)
            h.append(("WWW-Authenticate", v))
        if "basic" in kinds:
            h.append(("WWW-Authenticate", self._basic))
        return h

    @staticmethod
    def scheme(value: bytes) -> Tuple[bytes, bytes]:
        """(lower-case scheme, credential) of an Authorization value; (b"", b"") if none."""
        v = value.strip(b" \t")
        i = v.find(b" ")
        if i < 0:
            return b"", b""
        return v[:i].lower(), v[i:].lstrip(b" ")

    def is_basic(self, value: bytes) -> bool:
        return self.scheme(value)[0] == b"basic"

    def decide(self, values: List[bytes]) -> Decision:
        """``values``: every ``Authorization`` header of the request."""
        if not values:
            return Decision(401, "Unauthorized", self.challenges(self.kinds), None, "no_credential")
        if len(values) > 1:
            h = [("WWW-Authenticate", self._bearer + ', error="invalid_request", error_description="several Authorization headers"')]
            return Decision(400, "Bad Request", h, None, "invalid_request")
        value = values[0]
        now = self.clock() if self.clock is not None else None
        scheme, credential = self.scheme(value)
        v = self.verifier
        if scheme == b"basic":
            if not self.accepts_basic:
                return self.not_allowed()
            result = v.verify_authorization(value, now)
        elif scheme == b"bearer":
            jwt, key = "jwt" in self.kinds, "api_key" in self.kinds
            if jwt and key:
                result = v.verify_authorization(value, now)
            elif jwt:
                result = v.verify_jwt(credential, now)
            elif key:
                result = v.verify_api_key(credential, now)
            else:
                return self.not_allowed()
        elif scheme:
            # Another scheme (Digest, DPoP, ...): malformed (SPEC section 5),
            # answered like no credential (RFC 6750 section 3.1).
            result = v.verify_authorization(value, now)
            return Decision(401, "Unauthorized", self.challenges(self.kinds), None, result.code)
        else:
            result = v.verify_authorization(value, now)  # another shape: malformed
        return self.judge(result)

    def not_allowed(self) -> Decision:
        return Decision(401, "Unauthorized", self.challenges(self.kinds), None, "kind_not_allowed")

    def judge(self, result: Result) -> Decision:
        if result.ok:
            if result.kind not in self.kinds:
                return self.not_allowed()
            if self.required_scopes and not result.has_scopes(self.required_scopes):
                h = [] if result.kind == "basic" else [("WWW-Authenticate", self._forbidden)]
                return Decision(403, "Forbidden", h, result, "insufficient_scope")
            return Decision(0, "", [], result, "ok")
        if result.code == "rate_limited":
            return Decision(429, "Too Many Requests", [("Retry-After", str(result.retry_after or 1))], result, result.code)
        kind = result.kind if result.kind in self.kinds else None
        return Decision(401, "Unauthorized", self.challenges([kind] if kind else self.kinds, result.code), result, result.code)
