"""warden: in-process verification of JWTs, API keys and HTTP Basic credentials.

    import warden

    verifier = warden.Verifier.from_file("/etc/warden/config.json")
    result = verifier.verify_authorization(request_headers["Authorization"])
    if result.ok:
        print("hello", result.subject, result.scopes)
    else:
        print("rejected:", result.code)          # "expired", "bad_signature", ...

Rejections are results, never exceptions: exceptions are raised only for
refused configs (ConfigError), misuse (TypeError/ValueError) and internal
bugs (InternalError). Results are immutable snapshots. Verification is one
ctypes foreign call, which releases the GIL: share one Verifier between all
threads. ``warden.wsgi`` and ``warden.asgi`` hold HTTP middlewares.
"""

from ._core import (
    CODES,
    COUNTERS,
    KINDS,
    ConfigError,
    InternalError,
    Result,
    Verifier,
    WardenError,
)
from ._native import version as _version

__version__ = "0.1.0"
#: Version of the loaded libwarden.
library_version: str = _version().decode()

__all__ = [
    "CODES",
    "COUNTERS",
    "KINDS",
    "ConfigError",
    "InternalError",
    "Result",
    "Verifier",
    "WardenError",
    "library_version",
]
