"""Verifier and Result: the Pythonic face of the C ABI (include/warden.h)."""

from __future__ import annotations

import atexit
import binascii
import copy
import ctypes
import json
import logging
import math
import os
import struct
import threading
import weakref
from typing import Any, Iterable, Mapping, Optional, Tuple, Union

from . import _native as _n

__all__ = [
    "CODES",
    "KINDS",
    "COUNTERS",
    "ConfigError",
    "InternalError",
    "Result",
    "Verifier",
    "WardenError",
]

StrOrBytes = Union[str, bytes, bytearray, memoryview]
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

#: The verdict codes of SPEC section 3, by number (``CODES[0] == "ok"``).
CODES: Tuple[str, ...] = tuple(_n.code_str(i).decode() for i in range(19))
_CODE_NUM = {name: i for i, name in enumerate(CODES)}
#: Credential kinds, by number (``KINDS[0]`` is ``None``: no verdict).
KINDS: Tuple[Optional[str], ...] = (None, "jwt", "api_key", "basic")
_KIND_NUM = {"jwt": 1, "api_key": 2, "basic": 3}
#: Event counters (``Verifier.counter``), in the order of ``enum warden_counter``.
COUNTERS: Tuple[str, ...] = (
    "token_cache_hit",
    "token_cache_miss",
    "basic_cache_hit",
    "basic_cache_miss",
    "reload",
    "reload_failure",
    "key_set_swap",
    "revocation",
    "jwks_fetch",
    "jwks_fetch_failure",
)


class WardenError(Exception):
    """Base of every exception warden raises (rejections are results, not exceptions)."""


class ConfigError(WardenError, ValueError):
    """A config, reload or JWK Set was refused; the message says where and why."""


class InternalError(WardenError, RuntimeError):
    """warden caught a bug of its own (a Rust panic); the call had no effect."""


# --------------------------------------------------------------------------
# Results


# An accepted JWT's payload, kept as the bytes the caller passed and decoded
# on first use: [source bytes, source is an Authorization value, payload JSON
# bytes, parsed claims, scopes]. Keeping a reference to the (immutable) bytes
# object is the cheapest correct snapshot: nothing is copied at verification
# time, and the claims stay readable after any number of later
# verifications. warden has already checked the payload (strict RFC 8259, no
# duplicate members, valid UTF-8), so Python's json module reads the same
# values. (A list, not an object: it is made on every accepted JWT.)
_SRC, _AUTH, _RAW, _PARSED, _SCOPES = range(5)


def _payload(p: list) -> bytes:
    raw = p[_RAW]
    if raw is None:
        token = p[_SRC]
        if p[_AUTH]:
            # "Bearer <token>", trimmed of spaces/tabs (SPEC section 5).
            token = token.strip(b" \t").split(None, 1)[1].strip(b" \t")
        seg = token.split(b".", 2)[1]
        raw = p[_RAW] = _a2b(seg.translate(_URLSAFE) + b"=" * (-len(seg) % 4))
    return raw  # type: ignore[no-any-return]


def _claims(p: list) -> dict:
    parsed = p[_PARSED]
    if parsed is None:
        parsed = p[_PARSED] = json.loads(_payload(p).decode("utf-8"))
    return parsed  # type: ignore[no-any-return]


def _jwt_scopes(p: list) -> Tuple[str, ...]:
    """The scopes of an accepted JWT by warden's rule (src/jwt/mod.rs): the
    ``scope`` claim when it is a string, split on spaces with empty parts
    dropped; else ``scp``, split the same way when it is a string, or its
    string items when it is an array; else none.

    Computed from the payload on first use, so that a verification does not
    pay one foreign call per scope; tests/test_api.py checks it against
    warden_result_scope over many shapes."""
    scopes = p[_SCOPES]
    if scopes is None:
        scopes = _plain_scope(_payload(p))
        if scopes is None:
            claims = _claims(p)
            scope = claims.get("scope")
            if not isinstance(scope, str):
                scope = claims.get("scp")
            if isinstance(scope, str):
                scopes = tuple(x for x in scope.split(" ") if x)
            else:
                scopes = tuple(x for x in scope if isinstance(x, str)) if isinstance(scope, list) else ()
        p[_SCOPES] = scopes
    return scopes  # type: ignore[no-any-return]


def _plain_scope(raw: bytes) -> Optional[Tuple[str, ...]]:
    """The scopes of the usual payload without a JSON parser (json.loads
    cost more than the whole verification), or None to parse it.

    warden accepted the payload as strict JSON. Without a backslash, every
    quote opens or closes a string, so ``"scope":`` can only be a member
    name and its colon; with no ``{`` but the first, there is one object and
    that member is top-level. The string value then ends at the next quote
    and holds no escape."""
    if b"\\" in raw or raw.count(b"{") != 1:
        return None
    i = raw.find(b'"scope":"')
    if i < 0:
        # No member named scope at all (``"scope" :`` with spaces still has
        # ``"scope"``), and no scp to read: none.
        return None if b'"scope"' in raw or b'"scp"' in raw else ()
    start = i + 9
    return tuple(filter(None, raw[start : raw.index(b'"', start)].decode().split(" ")))


_MISSING: Any = object()
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_a2b = binascii.a2b_base64


class Result(tuple):
    """The verdict of one verification: an immutable snapshot.

    It owns copies of everything it shows, so it stays valid (and unchanged)
    after later verifications, on any thread. ``bool(result)`` is ``ok``.

    Attributes:
        ok: accepted?
        code: ``"ok"`` or the SPEC section 3 code (``"expired"``, ``"bad_signature"``, ...).
        kind: ``"jwt"``, ``"api_key"``, ``"basic"`` (for a rejected Authorization value,
            the kind its scheme announced), or ``None``.
        subject: the JWT ``sub``, the API key's owner, the Basic user (accepted only).
        kid: the ``kid`` of the JWK that verified a JWT (accepted JWTs only).
        key_id: the API key's ``id`` (accepted API keys only).
        scopes: tuple of scopes (JWT ``scope``, else ``scp``, split on spaces, or an ``scp`` array; API key scopes).
        exp: the JWT ``exp`` as a float, or ``None``.
        retry_after: whole seconds before a retry can succeed (``rate_limited`` only).
    """

    __slots__ = ()

    @property
    def ok(self) -> bool:
        """Whether the credential was accepted."""
        return tuple.__getitem__(self, 0)  # type: ignore[no-any-return]

    @property
    def code(self) -> str:
        """``"ok"`` or the SPEC section 3 verdict code."""
        return tuple.__getitem__(self, 1)  # type: ignore[no-any-return]

    @property
    def kind(self) -> Optional[str]:
        """``"jwt"``, ``"api_key"``, ``"basic"`` or ``None``."""
        return tuple.__getitem__(self, 2)  # type: ignore[no-any-return]

    @property
    def subject(self) -> Optional[str]:
        """The JWT ``sub``, the API key's owner, the Basic user (accepted only)."""
        return tuple.__getitem__(self, 3)  # type: ignore[no-any-return]

    @property
    def kid(self) -> Optional[str]:
        """The ``kid`` of the key that verified a JWT (accepted JWTs only)."""
        return tuple.__getitem__(self, 4)  # type: ignore[no-any-return]

    @property
    def key_id(self) -> Optional[str]:
        """The API key's configured ``id`` (accepted API keys only)."""
        return tuple.__getitem__(self, 5)  # type: ignore[no-any-return]

    @property
    def scopes(self) -> Tuple[str, ...]:
        """The granted scopes (empty when rejected)."""
        scopes = tuple.__getitem__(self, 6)
        if scopes is None:  # an accepted JWT: read from its payload on first use
            return _jwt_scopes(tuple.__getitem__(self, 9))  # type: ignore[no-any-return]
        return scopes  # type: ignore[no-any-return]

    @property
    def exp(self) -> Optional[float]:
        """The JWT ``exp`` (accepted JWTs with ``exp`` only)."""
        return tuple.__getitem__(self, 7)  # type: ignore[no-any-return]

    @property
    def retry_after(self) -> Optional[int]:
        """Seconds until a retry can succeed (``rate_limited`` only)."""
        return tuple.__getitem__(self, 8)  # type: ignore[no-any-return]

    def __new__(cls, *args: Any, **kwargs: Any) -> "Result":
        raise TypeError("Result objects are made by Verifier.verify_*")

    def __bool__(self) -> bool:
        return tuple.__getitem__(self, 0)

    def __repr__(self) -> str:
        if not self[0]:
            extra = ", retry_after=%d" % self[8] if self[8] is not None else ""
            return "Result(ok=False, code=%r, kind=%r%s)" % (self[1], self[2], extra)
        parts = ["ok=True", "kind=%r" % (self[2],)]
        for name, i in (("subject", 3), ("kid", 4), ("key_id", 5)):
            if self[i] is not None:
                parts.append("%s=%r" % (name, self[i]))
        if self.scopes:
            parts.append("scopes=%r" % (self.scopes,))
        if self[7] is not None:
            parts.append("exp=%r" % (self[7],))
        return "Result(%s)" % ", ".join(parts)

    def __reduce__(self) -> Any:
        return (_rebuild, (tuple(self),))

    # Equal by what it shows: the lazily filled cache it also holds made
    # two results of one token unequal once one had been read, and every
    # JWT result unhashable.
    def _shown(self) -> tuple:
        return tuple.__getitem__(self, slice(0, 6)) + (self.scopes,) + tuple.__getitem__(self, slice(7, 9))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Result):
            return self._shown() == other._shown()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Result):
            return self._shown() != other._shown()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._shown())

    def __copy__(self) -> "Result":
        return self

    def __deepcopy__(self, memo: Any) -> "Result":
        return self

    # ---- scopes

    def has_scope(self, scope: str) -> bool:
        """Whether the accepted credential carries ``scope``."""
        return scope in self.scopes

    def has_scopes(self, scopes: Iterable[str]) -> bool:
        """Whether it carries every scope in ``scopes``."""
        have = self.scopes
        return all(s in have for s in scopes)

    # ---- claims (accepted JWTs)

    @property
    def claims(self) -> dict:
        """A new dict of every claim of an accepted JWT (``{}`` otherwise)."""
        p = tuple.__getitem__(self, 9)
        return json.loads(_payload(p).decode("utf-8")) if p is not None else {}

    @property
    def payload(self) -> Optional[bytes]:
        """The JWT payload's JSON text, as signed (``None`` unless an accepted JWT)."""
        p = tuple.__getitem__(self, 9)
        return _payload(p) if p is not None else None

    def claim(self, name: str, default: Any = None) -> Any:
        """A top-level claim of an accepted JWT as a Python value (``default`` if absent).

        Objects and arrays are returned as fresh copies: the result never changes.
        """
        p = tuple.__getitem__(self, 9)
        if p is None:
            return default
        value = _claims(p).get(name, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, (dict, list)):
            return copy.deepcopy(value)
        return value

    def claim_path(self, path: str, default: Any = None) -> Any:
        """A nested claim by dotted path (``"realm_access.roles"``), as warden_result_claim_path."""
        p = tuple.__getitem__(self, 9)
        if p is None:
            return default
        value: Any = _claims(p)
        for step in path.split("."):
            if not isinstance(value, dict) or step not in value:
                return default
            value = value[step]
        if isinstance(value, (dict, list)):
            return copy.deepcopy(value)
        return value


_tuple_new = tuple.__new__


def _rebuild(items: tuple) -> Result:
    return _tuple_new(Result, items)


def _rejection(code: int, kind: int, retry_after: Optional[int] = None) -> Result:
    return _tuple_new(Result, (False, CODES[code], KINDS[kind], None, None, None, (), None, retry_after, None))


# Rejections without retry_after are the same value every time: share them.
_REJECTIONS = [[_rejection(c, k) for k in range(4)] for c in range(19)]


# --------------------------------------------------------------------------
# Per-thread C result


class _Slot:
    """One warden_result per thread, reused for every verification on it.

    A verification is then one foreign call plus reads of this struct; the
    Result handed out copies what it needs before the slot is reused.
    """

    __slots__ = ("r", "addr", "ptr", "sp", "sl", "sp_ref", "sl_ref", "scopes", "scopes_ptr", "__weakref__")

    def __init__(self) -> None:
        self.r = _n.CResult()
        self.addr = ctypes.addressof(self.r)
        # Passing a ready c_void_p is much cheaper than converting an int each call.
        self.ptr = ctypes.c_void_p(self.addr)
        _n.result_init(self.addr)
        self.sp = ctypes.c_void_p()
        self.sl = ctypes.c_size_t()
        self.sp_ref = ctypes.byref(self.sp)
        self.sl_ref = ctypes.byref(self.sl)
        # warden_str[_SCOPES_CAP]: every scope of a verdict in one foreign call.
        self.scopes = (ctypes.c_char * (_SCOPES_CAP * _STR.size))()
        self.scopes_ptr = ctypes.c_void_p(ctypes.addressof(self.scopes))

    def __del__(self) -> None:
        try:
            _n.result_free(self.addr)
        except Exception:  # interpreter shutdown
            pass


_tls = threading.local()


def _new_slot() -> _Slot:
    s = _tls.slot = _Slot()
    return s


# code, kind, subject, subject_len, kid, kid_len, key_id, key_id_len,
# scope_count, exp, has_exp, retry_after_s, internal
_LAYOUT = struct.Struct("@IIPNPNPNNd?QP")
if _LAYOUT.size != ctypes.sizeof(_n.CResult):  # pragma: no cover
    raise ImportError("warden: struct warden_result layout mismatch")
_unpack = _LAYOUT.unpack_from
_result_scopes = _n.result_scopes
# warden_str {const char *ptr; size_t len;}; a slot holds _SCOPES_CAP of them.
_STR = struct.Struct("@PN")
_SCOPES_CAP = 16
_STRS = [struct.Struct("@" + "PN" * n) for n in range(_SCOPES_CAP + 1)]


def _scopes(slot: _Slot, n: int) -> Tuple[str, ...]:
    """The n scopes of the accepted verdict in slot, in one foreign call
    (a second, into a larger array, past _SCOPES_CAP)."""
    if n <= _SCOPES_CAP:
        buf, ptr, layout = slot.scopes, slot.scopes_ptr, _STRS[n]
    else:
        buf = (ctypes.c_char * (n * _STR.size))()
        ptr, layout = ctypes.c_void_p(ctypes.addressof(buf)), struct.Struct("@" + "PN" * n)
    rc = _result_scopes(slot.ptr, ptr, n, slot.sl_ref)
    if rc != 0:  # pragma: no cover - a bug in warden (an InternalError, not fewer scopes)
        _raise(_n.INTERNAL, "the scopes of an accepted verdict could not be read")
    f = layout.unpack_from(buf)
    return tuple([_copy(f[i], f[i + 1]) for i in range(0, 2 * n, 2)])


def _accepted(slot: _Slot, src: Optional[bytes], authorization: bool) -> Result:
    (_, kind, sp, sl, kp, kl, ip, il, n, exp, has_exp, _, _) = _unpack(slot.r)
    subject = _copy(sp, sl) if sp else None
    kid = _copy(kp, kl) if kp else None
    if kind == 1 and src is not None:
        # JWT: claims and scopes come from the accepted payload, lazily.
        return _tuple_new(
            Result,
            (True, "ok", "jwt", subject, kid, None, None if n else (), exp if has_exp else None, None,
             [src, authorization, None, None, None]),
        )
    key_id = _copy(ip, il) if ip else None
    scopes = _scopes(slot, n) if n else ()
    return _tuple_new(
        Result,
        (True, "ok", KINDS[kind], subject, kid, key_id, scopes, exp if has_exp else None, None, None),
    )


def _copy(addr: int, n: int) -> str:
    """The UTF-8 string of n bytes at addr (a ctypes array view copied out:
    cheaper than ctypes.string_at, which is itself a foreign call)."""
    return (_c_char * n).from_address(addr).raw.decode()


_c_char = ctypes.c_char


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


def _as_json(value: Any, what: str) -> bytes:
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return _as_bytes(value, what)
    if isinstance(value, Mapping):
        return json.dumps(value).encode("utf-8")
    raise TypeError("%s must be a dict or JSON text, not %s" % (what, type(value).__name__))


def _time(now: Any, what: str = "now") -> float:
    if now is None:
        return 0.0
    # Text is no time, whatever float() makes of it: the verify calls
    # refuse it (ctypes does), and so does every other call.
    if isinstance(now, (str, bytes, bytearray)):
        raise TypeError("%s must be a number of seconds or None" % what)
    try:
        t = float(now)
    except (TypeError, ValueError):
        raise TypeError("%s must be a number of seconds or None" % what) from None
    except OverflowError:  # an int past a double's range (10**400)
        raise ValueError("%s must be finite" % what) from None
    if not math.isfinite(t):
        raise ValueError("%s must be finite" % what)
    return t


# --------------------------------------------------------------------------
# Verifier


#: Where warden's remote key-set events go (``jwks_uri``/``discovery``
#: configs only): at WARNING a failed fetch (the last good key set keeps
#: serving, or a reload is refused), keys skipped as unusable, fetched keys a
#: configured key shadows; a successful fetch at INFO. Configure it like any
#: library's logger.
logger = logging.getLogger("warden")
_LEVELS = {_n.LOG_INFO: logging.INFO, _n.LOG_WARN: logging.WARNING, _n.LOG_ERROR: logging.ERROR}


def _log_event(_user_data: Any, level: int, msg: int, n: int) -> None:
    # Runs on the thread that creates the verifier (its first fetch) or on
    # warden's refresher thread; ctypes takes the GIL for it. Never raises
    # into C.
    try:
        logger.log(_LEVELS.get(level, logging.ERROR), "%s", ctypes.string_at(msg, n).decode("utf-8", "replace"))
    except Exception:  # pragma: no cover - a broken handler must not break warden's thread
        pass


# One C callback for every verifier, alive as long as the module: a
# verifier's refresher thread may call it until the verifier is freed (the
# free waits for a call in flight; ctypes releases the GIL while it waits).
_log_sink = _n.LOG_FN(_log_event)
# Verifiers still open at exit stop logging before the interpreter
# finalizes: a foreign thread entering Python then would be ended by the
# interpreter (pthread_exit) in the middle of warden's code.
_open_verifiers: "weakref.WeakSet[Verifier]" = weakref.WeakSet()


@atexit.register
def _quiet_at_exit() -> None:
    for v in list(_open_verifiers):
        h = v._h
        if h:
            _n.verifier_set_logger(h, _n.LOG_FN(), None)  # a NULL function: no logger


class Verifier:
    """A loaded warden config: verifies JWTs, API keys and Basic credentials.

    One verifier is meant to be shared by every thread of a process; all
    methods are thread-safe (``close`` excepted: call it when no other thread
    uses the verifier). Verification releases the GIL (ctypes foreign calls
    do), so threads verify in parallel.

    ``now`` arguments are seconds since the epoch; ``None`` (the default)
    means the system clock.
    """

    __slots__ = ("_h", "_hp", "__weakref__")
    _h: Optional[int]
    _hp: Optional[ctypes.c_void_p]

    def __init__(self) -> None:
        raise TypeError("use Verifier.from_file(path) or Verifier.from_config(config)")

    # It owns a native handle: a copy would free it twice (and verify with
    # it after the first free). Share the one object; it is thread-safe.
    def __copy__(self) -> "Verifier":
        raise TypeError("a Verifier cannot be copied: share it (it is thread-safe)")

    def __deepcopy__(self, memo: Any) -> "Verifier":
        raise TypeError("a Verifier cannot be copied: share it (it is thread-safe)")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("a Verifier cannot be pickled: load the config in the other process")

    @classmethod
    def _wrap(cls, handle: int) -> "Verifier":
        self = object.__new__(cls)
        self._h = handle
        self._hp = ctypes.c_void_p(handle)  # what the verify calls pass (cheaper than an int)
        _open_verifiers.add(self)
        return self

    @classmethod
    def from_file(cls, path: PathLike) -> "Verifier":
        """Load the config file at ``path`` (SPEC section 1); relative ``jwks_file`` and
        ``htpasswd_file`` names are relative to the file. Raises ConfigError when refused."""
        p = os.fsencode(path)
        out = ctypes.c_void_p()
        err = ctypes.create_string_buffer(2048)
        rc = _n.verifier_new_from_file_with_logger(p, len(p), _log_sink, None, ctypes.byref(out), err, len(err))
        return cls._made(rc, out, err)

    @classmethod
    def from_config(cls, config: Union[Mapping[str, Any], str, bytes]) -> "Verifier":
        """Load a config given as a dict (or JSON text). Relative file names in it
        resolve against the current directory. Raises ConfigError when refused."""
        text = _as_json(config, "config")
        out = ctypes.c_void_p()
        err = ctypes.create_string_buffer(2048)
        rc = _n.verifier_new_from_json_with_logger(text, len(text), _log_sink, None, ctypes.byref(out), err, len(err))
        return cls._made(rc, out, err)

    @classmethod
    def _made(cls, rc: int, out: ctypes.c_void_p, err: Any) -> "Verifier":
        if rc == _n.OK and out.value:
            return cls._wrap(out.value)
        msg = err.value.decode("utf-8", "replace") or _n.code_str(rc).decode()
        if rc == _n.CONFIG:
            raise ConfigError(msg)
        _raise(rc, msg)
        raise AssertionError  # pragma: no cover

    # ---- lifetime

    def close(self) -> None:
        """Free the verifier now (also done when it is garbage-collected).
        Results it produced stay valid. Using it afterwards raises ValueError."""
        h, self._h = self._h, None
        self._hp = None  # verify calls now pass NULL: invalid_argument, reported as closed
        if h:
            _n.verifier_free(h)

    def __enter__(self) -> "Verifier":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._h is None

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise ValueError("the verifier is closed")
        return h

    # ---- verification (the hot path: one foreign call, then field reads)

    def verify_jwt(self, token: StrOrBytes, now: Optional[float] = None) -> Result:
        """Verify a compact JWS (without ``Bearer``)."""
        if token.__class__ is not bytes:
            token = _as_bytes(token, "token")
        try:
            slot = _tls.slot
        except AttributeError:
            slot = _new_slot()
        try:
            code = _verify_jwt(self._hp, token, len(token), now or 0.0, slot.ptr)  # type: ignore[arg-type]
        except (ctypes.ArgumentError, OverflowError):
            raise self._bad_args(now) from None
        if code == 0:
            return _accepted(slot, token, False)  # type: ignore[arg-type]
        return self._rejected(code, slot, now)

    def verify_api_key(self, key: StrOrBytes, now: Optional[float] = None) -> Result:
        """Verify an API key (``<prefix>_<random><checksum>``)."""
        if key.__class__ is not bytes:
            key = _as_bytes(key, "key")
        try:
            slot = _tls.slot
        except AttributeError:
            slot = _new_slot()
        try:
            code = _verify_api_key(self._hp, key, len(key), now or 0.0, slot.ptr)  # type: ignore[arg-type]
        except (ctypes.ArgumentError, OverflowError):
            raise self._bad_args(now) from None
        if code == 0:
            return _accepted(slot, None, False)
        return self._rejected(code, slot, now)

    def verify_basic(self, user: StrOrBytes, password: StrOrBytes, now: Optional[float] = None) -> Result:
        """Verify a Basic user and password (compared as raw UTF-8 octets; bytes are
        passed as they are). Takes milliseconds (PBKDF2/bcrypt) unless cached; the GIL
        is released meanwhile."""
        if user.__class__ is not bytes:
            user = _as_bytes(user, "user")
        if password.__class__ is not bytes:
            password = _as_bytes(password, "password")
        try:
            slot = _tls.slot
        except AttributeError:
            slot = _new_slot()
        try:
            code = _verify_basic(
                self._hp, user, len(user), password, len(password), now or 0.0, slot.ptr  # type: ignore[arg-type]
            )
        except (ctypes.ArgumentError, OverflowError):
            raise self._bad_args(now) from None
        if code == 0:
            return _accepted(slot, None, False)
        return self._rejected(code, slot, now)

    def verify_authorization(self, value: StrOrBytes, now: Optional[float] = None) -> Result:
        """Verify an HTTP ``Authorization`` header value: ``Bearer <JWT>``,
        ``Bearer <API key>`` or ``Basic <base64>``. ``result.kind`` says which."""
        if value.__class__ is not bytes:
            value = _as_bytes(value, "value")
        try:
            slot = _tls.slot
        except AttributeError:
            slot = _new_slot()
        try:
            code = _verify_authorization(self._hp, value, len(value), now or 0.0, slot.ptr)  # type: ignore[arg-type]
        except (ctypes.ArgumentError, OverflowError):
            raise self._bad_args(now) from None
        if code == 0:
            return _accepted(slot, value, True)  # type: ignore[arg-type]
        return self._rejected(code, slot, now)

    def _rejected(self, code: int, slot: _Slot, now: Any) -> Result:
        if code < 18:
            return _REJECTIONS[code][slot.r.kind]
        if code == 18:
            r = slot.r
            return _rejection(18, r.kind, int(r.retry_after_s))
        if code == _n.INVALID_ARGUMENT:
            if self._h is None:
                raise ValueError("the verifier is closed")
            _time(now)  # raises for a non-finite now
        _raise(code, "")
        raise AssertionError  # pragma: no cover

    def _bad_args(self, now: Any) -> Exception:
        try:
            _time(now)
        except (TypeError, ValueError) as e:
            return e
        return TypeError("invalid argument")

    # ---- configuration at run time

    def reload(self) -> None:
        """Re-read the config file (from_file verifiers). On ConfigError the old
        config keeps serving."""
        self._check(_n.verifier_reload(self._handle()))

    def reload_from_file(self, path: PathLike) -> None:
        """Switch to the config file at ``path`` (all or nothing)."""
        p = os.fsencode(path)
        self._check(_n.verifier_reload_from_file(self._handle(), p, len(p)))

    def reload_from_config(self, config: Union[Mapping[str, Any], str, bytes]) -> None:
        """Switch to ``config`` (a dict or JSON text; all or nothing)."""
        text = _as_json(config, "config")
        self._check(_n.verifier_reload_from_json(self._handle(), text, len(text)))

    def set_jwks(self, jwks: Union[Mapping[str, Any], str, bytes], issuer: Optional[str] = None) -> None:
        """Replace the JWT key set with a JWK Set (``{"keys": [...]}``), keeping the policy.
        With several issuer profiles, ``issuer`` names the profile whose keys are replaced."""
        text = _as_json(jwks, "jwks")
        if issuer is None:
            self._check(_n.verifier_set_jwks(self._handle(), text, len(text)))
        else:
            iss = _as_bytes(issuer, "issuer")
            self._check(_n.verifier_set_jwks_for(self._handle(), iss, len(iss), text, len(text)))

    def pause_refresh(self) -> None:
        """Stop refreshing remote key sets in the background in this process
        (returns once the refresher thread has exited): for a process that
        only forks workers, e.g. a gunicorn master with ``preload_app``. A
        forked child refreshes on its own regardless (its first verification
        starts its refresher); configs (re)loaded meanwhile still fetch their
        sources once. Undone by ``resume_refresh``."""
        self._check(_n.verifier_pause_refresh(self._handle()))

    def resume_refresh(self) -> None:
        """Refresh remote key sets in the background again after ``pause_refresh``."""
        self._check(_n.verifier_resume_refresh(self._handle()))

    def last_error(self) -> str:
        """The message of the most recent refused reload or key set ("" if none)."""
        h = self._handle()
        needed = ctypes.c_size_t()
        buf = ctypes.create_string_buffer(1024)
        rc = _n.verifier_last_error(h, buf, len(buf), ctypes.byref(needed))
        if rc == _n.BUFFER_TOO_SMALL:
            buf = ctypes.create_string_buffer(needed.value + 1)
            rc = _n.verifier_last_error(h, buf, len(buf), ctypes.byref(needed))
        return buf.value.decode("utf-8", "replace")

    def _check(self, rc: int) -> None:
        if rc == _n.OK:
            return
        if rc == _n.CONFIG:
            raise ConfigError(self.last_error())
        _raise(rc, "")

    # ---- run-time revocation

    def revoke_jti(self, jti: str, until: Optional[float] = None, now: Optional[float] = None) -> None:
        """Reject tokens with this ``jti`` from now on; ``until`` (the token's exp)
        lets warden forget the entry once it has passed."""
        b = _as_bytes(jti, "jti")
        _raise(_n.revoke_jti(self._handle(), b, len(b), _time(until, "until"), _time(now)), "")

    def revoke_subject_before(self, subject: str, before: float, now: Optional[float] = None) -> None:
        """Reject tokens of ``subject`` issued at or before ``before`` (and those without iat)."""
        b = _as_bytes(subject, "subject")
        if before is None:
            raise TypeError("before must be a number of seconds")
        _raise(_n.revoke_subject_before(self._handle(), b, len(b), _time(before, "before"), _time(now)), "")

    def revoke_api_key_id(self, key_id: str, now: Optional[float] = None) -> None:
        """Reject the API key with this configured ``id`` from now on."""
        b = _as_bytes(key_id, "key_id")
        _raise(_n.revoke_api_key_id(self._handle(), b, len(b), _time(now)), "")

    def unrevoke_jti(self, jti: str) -> bool:
        """Undo revoke_jti; False when there was no such run-time revocation."""
        b = _as_bytes(jti, "jti")
        return _found(_n.unrevoke_jti(self._handle(), b, len(b)))

    def unrevoke_subject(self, subject: str) -> bool:
        """Undo revoke_subject_before; False when there was none."""
        b = _as_bytes(subject, "subject")
        return _found(_n.unrevoke_subject(self._handle(), b, len(b)))

    def unrevoke_api_key_id(self, key_id: str) -> bool:
        """Undo revoke_api_key_id; False when there was none."""
        b = _as_bytes(key_id, "key_id")
        return _found(_n.unrevoke_api_key_id(self._handle(), b, len(b)))

    # ---- statistics

    def verdict_count(self, kind: str, code: str) -> int:
        """How many verifications of ``kind`` ended with ``code`` so far."""
        if kind not in _KIND_NUM or code not in _CODE_NUM:
            raise ValueError("unknown kind or code: %r, %r" % (kind, code))
        out = ctypes.c_uint64()
        _raise(_n.stats_verdicts(self._handle(), _KIND_NUM[kind], _CODE_NUM[code], ctypes.byref(out)), "")
        return out.value

    def counter(self, name: str) -> int:
        """The value of an event counter (one of COUNTERS)."""
        try:
            which = COUNTERS.index(name)
        except ValueError:
            raise ValueError("unknown counter %r (one of %s)" % (name, ", ".join(COUNTERS))) from None
        out = ctypes.c_uint64()
        _raise(_n.stats_counter(self._handle(), which, ctypes.byref(out)), "")
        return out.value

    def prometheus(self) -> str:
        """Every counter in the Prometheus text exposition format."""
        h = self._handle()
        needed = ctypes.c_size_t()
        size = 4096
        while True:
            buf = ctypes.create_string_buffer(size)
            rc = _n.stats_prometheus(h, buf, size, ctypes.byref(needed))
            if rc == _n.OK:
                return buf.value.decode()
            if rc != _n.BUFFER_TOO_SMALL:
                _raise(rc, "")
            size = needed.value + 1024


_verify_jwt = _n.verify_jwt
_verify_api_key = _n.verify_api_key
_verify_basic = _n.verify_basic
_verify_authorization = _n.verify_authorization


def _found(rc: int) -> bool:
    if rc == _n.OK:
        return True
    if rc == _n.NOT_FOUND:
        return False
    _raise(rc, "")
    return False  # pragma: no cover


def _raise(rc: int, msg: str) -> None:
    if rc == _n.OK:
        return
    name = _n.code_str(rc).decode()
    if rc == _n.INVALID_ARGUMENT:
        raise ValueError("warden: invalid argument" + (": " + msg if msg else ""))
    if rc == _n.INTERNAL:
        raise InternalError("warden: internal error (a bug in warden)" + (": " + msg if msg else ""))
    if rc == _n.CONFIG:
        raise ConfigError(msg or name)
    raise WardenError("warden: %s%s" % (name, ": " + msg if msg else ""))
