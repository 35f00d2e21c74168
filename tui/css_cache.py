"""Parsed Textual CSS kept between runs, as Python keeps bytecode: a start skips the CSS parse.

Textual parses the app's stylesheet and every widget's DEFAULT_CSS at each start, in Python:
some 45 ms of the first frame on the test machine (bench/bench_tui.py), against some 10 ms
for a minimal app. The parsed rules of a run are kept in the user's cache folder and read
back at the next start (a few ms).

* **Same rules.** An entry is found by a digest of everything the parse reads: the CSS text,
  where it comes from, its flags, the theme's variables; the file is named after the Textual
  installed and the Python version. Anything else (a changed app.tcss, another theme) is
  parsed as before and kept for next time. Entries no start used are dropped at the next save.
* **Only ours.** The rules are pickled, so the file is prefixed by an HMAC-SHA256 of its
  bytes under a key of 32 random bytes made for this user (0600, in the same cache folder): a
  file this user's app did not write is ignored, as is one that fails to load.
* **Best effort.** A missing, unreadable or damaged file, or a folder that cannot be written,
  only means parsing as before; never an error, never a slower start than without it.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agenda.digest import compare_digest, hmac_sha256, sha256, user_key
from agenda.paths import cache_dir

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.css.stylesheet import Stylesheet

MAC_BYTES = 64  # hex


def cache_key(folder: Path) -> bytes | None:
    """This user's key for what the app keeps in its cache folder (the CSS here, the first
    frame's diffs in tui/kept_diffs.py); made (0600, exclusively) when absent."""
    return user_key(folder / "css.key", create=True)


def folder_stamps(folder: str, wanted: Callable[[os.DirEntry[str]], bool]) -> list[str]:
    """The name, size and time of each wanted entry of `folder`, by name: what a cache named
    after them is valid for, as Python checks bytecode against its sources (none for a folder
    that cannot be read)."""
    stamps = []
    try:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if wanted(entry):
                info = entry.stat()
                stamps.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
    except OSError:
        pass
    return stamps


def _file_name() -> str:
    """Named after the Python version and the Textual installed: the size and time of each of
    its CSS modules, as Python checks its bytecode against its sources (`textual.__version__`
    reads the package metadata: some 20 ms of imports)."""
    import textual.css

    stamps = folder_stamps(os.fspath(Path(textual.css.__file__).parent),
                           lambda entry: entry.name.endswith(".py"))
    textual_id = sha256("\n".join(stamps).encode()).hexdigest()[:16]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"css-{textual_id}-py{python}.bin"


def _identity_hash() -> None:
    """Rule sets hashed by identity in C rather than in Python.

    Textual's RuleSet hashes by `id(self)`, in a Python `__hash__`. Styling a widget looks up
    every rule of the stylesheet in a set of the widget's candidates: some 7,000 calls of it
    before the first frame (about a sixth of the styling). `object.__hash__` is the same
    identity hash, computed in C: the same sets, the same rules matched."""
    from textual.css.model import RuleSet

    RuleSet.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]


def read_signed(path: Path, key: bytes) -> bytes | None:
    """The bytes kept at `path`, if this user's app signed them with `key`; else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    mac, payload = data[:MAC_BYTES], data[MAC_BYTES:]
    if not compare_digest(mac, hmac_sha256(key, payload).encode()):
        return None
    return payload


def write_signed(path: Path, key: bytes, payload: bytes) -> None:
    """Keep `payload` at `path` (0600), signed with `key`; a folder that cannot be written
    keeps nothing."""
    mac = hmac_sha256(key, payload).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            view = memoryview(mac + payload)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        # No fsync: a file torn by a crash fails its HMAC and is computed again.
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


class CssCache:
    """The rules parsed by earlier starts, looked up before Textual parses."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_dir()
        self.path = self.folder / _file_name()
        self.key = cache_key(self.folder)
        self.kept: dict[str, Any] = self._load()
        self.used: dict[str, Any] = {}  # what this run parsed or found: the next file
        self.added = 0  # entries parsed in this run
        self.found = 0  # entries read from the file
        self._saved = 0  # `added` when last saved (nothing new: no save)
        self._signature: tuple[object, str] | None = None
        self._stylesheet: Stylesheet | None = None

    def _load(self) -> dict[str, Any]:
        if self.key is None:
            return {}
        payload = read_signed(self.path, self.key)
        if payload is None:
            return {}
        try:
            kept = pickle.loads(payload)  # noqa: S301 - our own bytes: the HMAC says so
        except Exception:  # noqa: BLE001 - a file of another Textual: parse as before
            return {}
        return kept if isinstance(kept, dict) else {}

    def _variables(self, stylesheet: Stylesheet) -> str:
        """A digest of the theme's variables, once per variables dict (Textual replaces the
        dict when they change)."""
        variables = stylesheet._variables
        if self._signature is None or self._signature[0] is not variables:
            text = repr(sorted(variables.items())).encode()
            self._signature = (variables, sha256(text).hexdigest())
        return self._signature[1]

    def _tokens_key(self, stylesheet: Stylesheet) -> str:
        return f"variable-tokens-{self._variables(stylesheet)}"

    def install(self, stylesheet: Stylesheet) -> None:
        """Look up this stylesheet's parses here first (Textual is pinned: pyproject)."""
        _identity_hash()
        self._stylesheet = stylesheet
        # The theme's variables as tokens: Textual tokenizes all of them when a style first
        # names one ("$text-muted"), some 2 ms of the first frame. Kept like the rules.
        tokens = self.kept.get(self._tokens_key(stylesheet))
        if isinstance(tokens, dict) and stylesheet._Stylesheet__variable_tokens is None:
            stylesheet._Stylesheet__variable_tokens = tokens  # type: ignore[attr-defined]
            self.used[self._tokens_key(stylesheet)] = tokens
        parse = stylesheet._parse_rules
        textual_cache = stylesheet._parse_cache

        def parse_rules(css: str, read_from: Any, is_default_rules: bool = False,
                        tie_breaker: int = 0, scope: str = "") -> Any:
            parse_key = (css, read_from, is_default_rules, tie_breaker, scope)
            rules = textual_cache.get(parse_key)
            if rules is not None:
                return rules
            digest = sha256(repr((*parse_key, self._variables(stylesheet))).encode()
                            ).hexdigest()
            rules = self.kept.get(digest)
            if rules is not None:
                self.found += 1
                textual_cache[parse_key] = rules
            else:
                rules = parse(css, read_from, is_default_rules, tie_breaker, scope)
                self.added += 1
            self.used[digest] = rules
            return rules

        stylesheet._parse_rules = parse_rules  # type: ignore[method-assign]

    def save(self) -> None:
        """Keep what this run parsed for the next start; nothing new, nothing written."""
        stylesheet = self._stylesheet
        tokens = getattr(stylesheet, "_Stylesheet__variable_tokens", None)
        new_tokens = False
        if stylesheet is not None and tokens is not None:
            key = self._tokens_key(stylesheet)
            new_tokens = key not in self.used
            if new_tokens:
                self.used[key] = tokens
        if (self.added == self._saved and not new_tokens) or self.key is None:
            return
        self._saved = self.added
        try:
            payload = pickle.dumps(dict(self.used), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - rules that do not pickle are only parsed again
            return
        write_signed(self.path, self.key, payload)
