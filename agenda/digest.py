"""SHA-256 and HMAC-SHA-256 for the whole core, without loading OpenSSL for a small workspace.

Importing hashlib loads OpenSSL's libcrypto and probes every algorithm: about 6 ms of a
command's start, more than a demo command's whole work (bench/bench_startup.py). Python's
own SHA-256 module loads in a fraction of that, but hashes about ten times slower. So each
process uses its own module until it has hashed BUDGET bytes, and hashlib's from then on; the
digests are the same either way (tests/test_digest.py), only the cost differs.
"""

from __future__ import annotations

import os
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
    from pathlib import Path
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
        _openssl = _load_openssl()
    return _openssl


def _load_openssl() -> Any:
    """OpenSSL's SHA-256 as hashlib hands it out (`_hashlib.openssl_sha256`, once it has
    made one), without importing hashlib itself: that also loads blake2 and walks its list
    of algorithms, about 0.6 ms of a command that reads a summit in full."""
    try:
        from _hashlib import openssl_sha256
    except ImportError:  # a build without OpenSSL's bindings: hashlib's own fallback
        import hashlib

        return hashlib.sha256
    try:
        openssl_sha256(usedforsecurity=False)  # as hashlib tries it first
    except ValueError:  # a policy that blocks it: hashlib decides
        import hashlib

        return hashlib.sha256
    return openssl_sha256


def expect(size: int) -> None:
    """A caller is about to hash about `size` bytes in many small messages (a summit's records
    read whole): past what is left of the budget, OpenSSL's from now on. Otherwise the first
    budget's worth would be hashed at a tenth of OpenSSL's speed (~1.1 ms) before OpenSSL
    was loaded all the same."""
    global _openssl
    if _openssl is None and (_own is None or size > _left):
        _openssl = _load_openssl()


def settled() -> Any:
    """OpenSSL's SHA-256 once this process has moved to it for good (then a loop over many
    small messages, the records of a summit being read, calls it straight, not through
    `sha256`'s two steps each); None while its own module still serves."""
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


KEY_BYTES = 32


def user_key(path: Path, create: bool) -> bytes | None:
    """This user's HMAC key kept at `path` (KEY_BYTES random bytes, 0600), made exclusively
    when `create` and absent; None when there is none to be had. A key another user owns, or
    one others may read, vouches for nothing; one cut short (a process killed while making
    it) is made again, or keeping would be off for good."""
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            if not create:
                return None
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                try:
                    os.write(fd, os.urandom(KEY_BYTES))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except FileExistsError:
                pass  # another process made it meanwhile: read theirs
            except OSError:
                return None
            continue
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                return None
            key = os.read(fd, KEY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(key) == KEY_BYTES:
            return key
        if not create:
            return None
        try:
            path.unlink()
        except OSError:
            return None
    return None
