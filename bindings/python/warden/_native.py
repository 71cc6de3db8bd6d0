"""ctypes declarations of include/warden.h.

The library is ``warden/_lib/libwarden.so``, put there when the package is
built (setup.py runs cargo). ``WARDEN_LIBRARY`` overrides the path; a source
checkout without a built package falls back to the crate's
``target/release`` (or ``$CARGO_TARGET_DIR/release``).

Functions are loaded through ``ctypes.CDLL``, so every call releases the
GIL for its duration: other Python threads run while warden verifies.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)

_LIBNAME = "libwarden.dylib" if sys.platform == "darwin" else "libwarden.so"

# Status codes (enum warden_code).
OK = 0
RATE_LIMITED = 18
INVALID_ARGUMENT = 100
INTERNAL = 101
CONFIG = 102
NOT_FOUND = 103
BUFFER_TOO_SMALL = 104
WRONG_TYPE = 105

# Kinds (enum warden_kind).
KIND_NONE = 0
KIND_JWT = 1
KIND_API_KEY = 2
KIND_BASIC = 3


class CResult(Structure):
    """struct warden_result (pointers as c_void_p: they are read with string_at)."""

    _fields_ = [
        ("code", c_uint32),
        ("kind", c_uint32),
        ("subject", c_void_p),
        ("subject_len", c_size_t),
        ("kid", c_void_p),
        ("kid_len", c_size_t),
        ("key_id", c_void_p),
        ("key_id_len", c_size_t),
        ("scope_count", c_size_t),
        ("exp", c_double),
        ("has_exp", c_bool),
        ("retry_after_s", c_uint64),
        ("internal", c_void_p),
    ]


def _candidates():
    env = os.environ.get("WARDEN_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "_lib", _LIBNAME)
    # A source checkout (bindings/python/warden -> repository root).
    root = os.path.abspath(os.path.join(here, "..", "..", ".."))
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target")
    if not os.path.isabs(target):
        target = os.path.join(root, target)
    yield os.path.join(target, "release", _LIBNAME)


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        if os.path.isfile(path):
            return ctypes.CDLL(path)
        tried.append(path)
    raise ImportError(
        "warden: libwarden not found (tried %s); reinstall the package with "
        "`pip install ./bindings/python` from a warden checkout" % ", ".join(tried)
    )


lib = _load()

_P = c_void_p  # opaque pointers (verifier, result) travel as addresses
_u8p = c_char_p  # bytes objects are passed without copying
_size_p = POINTER(c_size_t)
_ptr_p = POINTER(c_void_p)


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


version = _fn("warden_version", c_char_p)
code_str = _fn("warden_code_str", c_char_p, c_uint32)
kind_str = _fn("warden_kind_str", c_char_p, c_uint32)
result_init = _fn("warden_result_init", c_uint32, _P)
result_free = _fn("warden_result_free", None, _P)
result_scope = _fn("warden_result_scope", c_uint32, _P, c_size_t, _ptr_p, _size_p)
result_scopes = _fn("warden_result_scopes", c_uint32, _P, _P, c_size_t, _size_p)

# void (*warden_log_fn)(void *user_data, uint32_t level, const char *msg, size_t msg_len)
LOG_FN = CFUNCTYPE(None, c_void_p, c_uint32, c_void_p, c_size_t)
LOG_INFO, LOG_WARN, LOG_ERROR = 1, 2, 3
verifier_new_from_file_with_logger = _fn(
    "warden_verifier_new_from_file_with_logger",
    c_uint32, c_char_p, c_size_t, LOG_FN, c_void_p, POINTER(c_void_p), c_char_p, c_size_t,
)
verifier_new_from_json_with_logger = _fn(
    "warden_verifier_new_from_json_with_logger",
    c_uint32, _u8p, c_size_t, LOG_FN, c_void_p, POINTER(c_void_p), c_char_p, c_size_t,
)
verifier_free = _fn("warden_verifier_free", None, _P)
verifier_set_logger = _fn("warden_verifier_set_logger", c_uint32, _P, LOG_FN, c_void_p)
verifier_pause_refresh = _fn("warden_verifier_pause_refresh", c_uint32, _P)
verifier_resume_refresh = _fn("warden_verifier_resume_refresh", c_uint32, _P)
verifier_reload = _fn("warden_verifier_reload", c_uint32, _P)
verifier_reload_from_file = _fn("warden_verifier_reload_from_file", c_uint32, _P, c_char_p, c_size_t)
verifier_reload_from_json = _fn("warden_verifier_reload_from_json", c_uint32, _P, _u8p, c_size_t)
verifier_set_jwks = _fn("warden_verifier_set_jwks", c_uint32, _P, _u8p, c_size_t)
verifier_set_jwks_for = _fn("warden_verifier_set_jwks_for", c_uint32, _P, c_char_p, c_size_t, _u8p, c_size_t)
verifier_last_error = _fn("warden_verifier_last_error", c_uint32, _P, c_char_p, c_size_t, _size_p)

revoke_jti = _fn("warden_revoke_jti", c_uint32, _P, c_char_p, c_size_t, c_double, c_double)
revoke_subject_before = _fn("warden_revoke_subject_before", c_uint32, _P, c_char_p, c_size_t, c_double, c_double)
revoke_api_key_id = _fn("warden_revoke_api_key_id", c_uint32, _P, c_char_p, c_size_t, c_double)
unrevoke_jti = _fn("warden_unrevoke_jti", c_uint32, _P, c_char_p, c_size_t)
unrevoke_subject = _fn("warden_unrevoke_subject", c_uint32, _P, c_char_p, c_size_t)
unrevoke_api_key_id = _fn("warden_unrevoke_api_key_id", c_uint32, _P, c_char_p, c_size_t)

stats_verdicts = _fn("warden_stats_verdicts", c_uint32, _P, c_uint32, c_uint32, POINTER(c_uint64))
stats_counter = _fn("warden_stats_counter", c_uint32, _P, c_uint32, POINTER(c_uint64))
stats_prometheus = _fn("warden_stats_prometheus", c_uint32, _P, c_char_p, c_size_t, _size_p)

verify_jwt = _fn("warden_verify_jwt", c_uint32, _P, _u8p, c_size_t, c_double, _P)
verify_api_key = _fn("warden_verify_api_key", c_uint32, _P, _u8p, c_size_t, c_double, _P)
verify_basic = _fn("warden_verify_basic", c_uint32, _P, _u8p, c_size_t, _u8p, c_size_t, c_double, _P)
verify_authorization = _fn("warden_verify_authorization", c_uint32, _P, _u8p, c_size_t, c_double, _P)

string_at = ctypes.string_at
