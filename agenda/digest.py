"""SHA-256 and HMAC-SHA-256 for the whole core, without loading OpenSSL for a small workspace.

Importing hashlib loads OpenSSL's libcrypto and probes every algorithm: about 6 ms of a
command's start, more than a demo command's whole work (bench/bench_startup.py). Python's
own SHA-256 module loads in a fraction of that, but hashes about ten times slower. So each
process uses its own module until it has hashed BUDGET bytes, and hashlib's from then on; the
digests are the same either way (tests/test_digest.py), only the cost differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:  # Python's own SHA-256 (`_sha2` from 3.12, `_sha256` before)
    from _sha2 import sha256 as _own  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    try:
        from _sha256 import sha256 as _own  # type: ignore[import-not-found, no-redef, unused-ignore]
    except ImportError:  # a build without it: OpenSSL's for everything
        _own = None

# Hmac's own comparison, without importing hmac (which imports OpenSSL's bindings).
from _operator import _compare_digest as compare_digest  # noqa: E402, F401

# Bytes for the own module (about 4 ms of its time) before OpenSSL's (about 6 ms to load).
BUDGET = 1 << 19
_left = BUDGET
_openssl: Any = None
_BLOCK = 64
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


if TYPE_CHECKING:  # for mypy only: making a Protocol class costs a command's start
    from typing import Protocol

    class Hash(Protocol):
        """What both modules' SHA-256 objects offer (hashlib's `_Hash`)."""

        def update(self, data: bytes | memoryview, /) -> None: ...
        def digest(self) -> bytes: ...
        def hexdigest(self) -> str: ...
        def copy(self) -> Hash: ...


def _constructor(size: int) -> Any:
    """The SHA-256 to hash `size` bytes with (and whatever is added to it, within reason)."""
    global _left, _openssl
    if _openssl is None:
        if _own is not None and size <= _left:
            _left -= size
            return _own
        import hashlib

        _openssl = hashlib.sha256
    return _openssl


def sha256(data: bytes | memoryview = b"") -> Hash:
    """hashlib.sha256(data), from whichever module costs this process less."""
    hasher: Hash = _constructor(len(data))(data)
    return hasher


def hmac_sha256(key: bytes, message: bytes) -> str:
    """hmac.new(key, message, hashlib.sha256).hexdigest(), as RFC 2104 defines it."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner: Hash = _constructor(_BLOCK + len(message))(key.translate(_IPAD))
    inner.update(message)
    outer: Hash = _constructor(_BLOCK + 32)(key.translate(_OPAD))
    outer.update(inner.digest())
    return outer.hexdigest()
