"""The first frame's word diffs and merges, kept between starts: it skips the diff engine.

The first frame shows the first item's Positions: its compilation (a merge, agenda/merge.py)
and each position's word diff against the viewer's (agenda/diff.py). The first diff of a
process imports rapidfuzz and builds the engine's patterns, some 6 ms of a first frame of
about 170 ms on the test machine (bench/bench_tui.py), for a demo item's diffs of well under a
millisecond. Both are functions of their texts alone, so what the first frame asked is kept
in the user's cache folder, and the next start's first frame is answered from there, as
tui/css_cache.py answers the CSS parse; the engine is imported after the frame.

* **The same answers.** An answer is looked up by the very texts asked (the texts are the
  key, not a digest of them) and is what the engine returned for them. The file is named after
  the engine: the size and time of every module of `agenda/` and of rapidfuzz, and the Python
  version; anything else is computed as before. A hypothesis test holds kept answers to the
  engine's.
* **Only ours.** The file is marshalled strings, numbers and tuples, prefixed by an
  HMAC-SHA256 of its bytes under this user's key (tui/css_cache.py's): a file this user's app
  did not write is ignored, as is one that fails to load.
* **Small.** What the last starts' first frames asked, up to KEPT of each kind, the latest
  first (a few KB: a demo item's are 1.6 KB), so that starts in a few workspaces or summits
  in turn each find their own.
* **Best effort.** A missing, unreadable or damaged file, or a folder that cannot be written,
  only means computing as before.
"""

from __future__ import annotations

import marshal
import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from agenda import merge
from agenda.digest import sha256
from agenda.paths import cache_dir
from tui.css_cache import cache_key, folder_stamps, read_signed, write_signed

if TYPE_CHECKING:
    from agenda.diff import Op

FORMAT = 1
KEPT = 16  # diffs, and merges, kept: those of the last few first frames
DiffKey = tuple[str, str]
OpRow = tuple[str, str, int | None]


def _module(entry: os.DirEntry[str]) -> bool:
    return entry.is_file() and not entry.name.startswith(".")


def _file_name() -> str:
    """Named after the engine: the size and time of every module of agenda/ and of rapidfuzz
    (found without importing it), as Python checks bytecode against its sources."""
    import agenda

    folders = [*agenda.__path__]
    spec = PathFinder.find_spec("rapidfuzz")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folders += [location, os.path.join(location, "distance")]
    stamps = [f"{folder}\n" + "\n".join(folder_stamps(folder, _module)) for folder in folders]
    engine = sha256("\n".join(stamps).encode()).hexdigest()[:16]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"diffs-{engine}-py{python}.bin"


class KeptDiffs:
    """What the last start's first frame diffed and merged, answered before the engine loads.

    `start()` answers from the file (merges through agenda.merge.GIVEN, diffs through
    `diff_words` below) and notes what is asked; `settle()`, once the first frame is out, ends
    both; `save()` keeps what was asked, if it differs from what was kept.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else cache_dir()
        self.path = self.folder / _file_name()
        self.key = cache_key(self.folder)
        self.diffs: dict[DiffKey, tuple[OpRow, ...]] = {}
        self.merges: dict[merge.MergeKey, tuple[str, int]] = {}
        self._load()
        self.found = 0  # answers taken from the file (diffs and merges)
        self.asked_diffs: dict[DiffKey, tuple[OpRow, ...]] = {}
        self.asked_merges: dict[merge.MergeKey, tuple[str, int]] = {}
        self.noting = False

    def _load(self) -> None:
        if self.key is None:
            return
        payload = read_signed(self.path, self.key)
        if payload is None:
            return
        try:
            kept: Any = marshal.loads(payload)
            version, diffs, merges = kept
        except Exception:  # noqa: BLE001 - another format: computed as before
            return
        if version == FORMAT and isinstance(diffs, dict) and isinstance(merges, dict):
            self.diffs, self.merges = diffs, merges

    # Before the first frame ---------------------------------------------------------------

    def start(self) -> None:
        """Answer from the file and note what is asked, until settle()."""
        global _current
        _current = self
        self.noting = True
        merge.GIVEN.update({key: merge.MergeResult(text, conflicts)
                            for key, (text, conflicts) in self.merges.items()})
        merge.NOTED = {}

    def diff_words(self, a: str, b: str) -> list[Op]:
        from agenda.diff import Op, diff_words

        rows = self.diffs.get((a, b))
        if rows is not None:
            self.found += 1
            ops = [Op(kind, text, words) for kind, text, words in rows]  # type: ignore[arg-type]
        else:
            ops = diff_words(a, b)
            rows = tuple((op.op, op.text, op.words) for op in ops)
        if self.noting:
            self.asked_diffs[(a, b)] = rows
        return ops

    def settle(self) -> None:
        """The first frame is out: what it merged is noted; answers end here."""
        global _current
        if _current is self:
            _current = None
        if self.noting:
            self.noting = False
            noted = merge.NOTED or {}
            self.found += sum(1 for key in noted if key in merge.GIVEN)
            self.asked_merges = {key: (result.text, result.conflicts)
                                 for key, result in noted.items()}
            merge.NOTED = None
            merge.GIVEN.clear()

    def save(self) -> None:
        """Keep what the first frame asked for the next start, before what earlier starts
        asked; nothing new asked: no write."""
        if self.key is None or self.noting:
            return
        if self.asked_diffs.keys() <= self.diffs.keys() \
                and self.asked_merges.keys() <= self.merges.keys():
            return
        diffs = _latest(self.asked_diffs, self.diffs)
        merges = _latest(self.asked_merges, self.merges)
        try:
            payload = marshal.dumps((FORMAT, diffs, merges), 4)
        except ValueError:  # not marshallable: cannot happen with str, int, None, tuples
            return
        write_signed(self.path, self.key, payload)
        self.diffs, self.merges = diffs, merges


K = TypeVar("K")
V = TypeVar("V")


def _latest(asked: dict[K, V], kept: dict[K, V]) -> dict[K, V]:
    """What was asked, then what was kept and not asked again: KEPT at most."""
    latest = dict(asked)
    for key, value in kept.items():
        if len(latest) >= KEPT:
            break
        latest.setdefault(key, value)
    return dict(list(latest.items())[:KEPT])


_current: KeptDiffs | None = None


def diff_words(a: str, b: str) -> list[Op]:
    """agenda.diff.diff_words(a, b), answered from the kept file before the first frame."""
    kept = _current
    if kept is not None:
        return kept.diff_words(a, b)
    from agenda.diff import diff_words as engine

    return engine(a, b)
