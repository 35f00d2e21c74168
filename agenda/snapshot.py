"""Kept readings: what `summit items`, `show` and `history` print, saved after a full read,
vouched for by HMAC, and read instead while the summit's file holds exactly the same bytes.

Reading a summit of 20,000 items decodes, checks and folds 40,000 records (seconds), while a
command prints a listing of a few hundred kilobytes, or one item. After a full read, both are
kept as plain data:

* **the listing** (`summit items`): one small file;
* **the item readings** (`summit show`, `summit history`, and their `--json`): for every item,
  its fields, bracket count, the viewer's visible revisions with who stood on each, and its
  decisions: lines of 64 items, with an index of numbers and uuids to rows, so a read parses
  the index and one line, not 20,000 items. The item's row is turned back into the
  same `Revision`s and `Decision`s, and printed by the same code as after a full read
  (`ItemReading`), so the two can only differ if the data does (the hypothesis test checks
  it never does).

Why kept readings and not a per-item index into the journal: an item's status folds only its
own records and the roster (rules.py), so one item could be folded alone, but its number
("2.3") depends on every item's place, the labels on the summit-wide puts, and the records
would still be sliced out of commit lines of thousands of records. The readings are built
from the state the full read already holds (an eighth to a quarter more on that read at
20,000 items), and at a show they cost reading one file, one HMAC and one line.

* **Keyed by the journal's bytes.** A full read asked to (`Workspace.state(identify=True)`)
  records the length and SHA-256 of the bytes it parsed (`Journal.identity`, reset by any
  incremental read or write; no other read hashes). The kept data names that length and
  digest; a later read hashes the file as it is now and uses it only on an exact match. Any
  change (a byte anywhere, a cut tail, another file of the same size, a commit appended
  since) is a mismatch: a full read, then new kept data. Nothing is extended by the tail:
  it is cheap to rebuild from a full read, and the journal's per-line CRC32 is no digest to
  chain on. The data also names the code that made it (size and mtime of the modules that
  fold and print: an upgrade is a mismatch).
* **Unforgeable (#11).** A workspace may be crafted by an attacker, so kept data is never
  pickled or evaluated: it is orjson, prefixed by an HMAC-SHA256 of its bytes under a key of
  32 random bytes made for this user, kept 0600 in the user's cache folder, never in a
  workspace. Only this user's own earlier full read, which refused or accepted those exact
  bytes, can vouch for it; a full read of the same bytes, as the same viewer, gives the same
  data, so the kept data never accepts what a full read would refuse (an unknown viewer or
  item is never kept: it goes to the full read, which refuses it in its own words). Data whose
  HMAC fails, or of an unexpected shape (checked field by field, as input), is ignored and
  replaced at the next full read.
* **Where.** `$XDG_CACHE_HOME/summit-agenda/kept/` (the platform's cache folder elsewhere),
  one listing and one readings file per summit file (its real path), slug and viewer. Not
  beside the workspace, so backups and exchange never carry it. Written 0600 and renamed into
  place, without fsync (a file torn by a crash fails its HMAC), best effort: a read-only or
  full disk skips it, never an error. `summit check` and every
  write read the journal in full, as before.
* **Not kept: writes.** `summit table` (and every write) reads the journal in full. A write
  appends a record whose clock names the summit's heads, is checked by the rules against the
  acting viewer's state, logs events and labels, and commits through the journal, which holds
  every line in memory (to roll back, and to rewrite the file when puts pile up). Doing that
  from kept data means a second write path with its own proof of equality: not done.

How each command stands against issue 13's ≤ 2× the floor on one summit of 20,000 items
(`bench/bench_startup.py --big`, load 2–3, the floor parsing the 40 MB file: 0.88 s):

* `items`, `show`, `history` on a file unchanged since a full read: 0.69×, 0.40×, 0.43×
  (they hash the journal, read one kept file, check its HMAC, parse what they print);
* the first of them after a write: a full read, 7–8×: missed. Hashing the file and keeping
  the listing and readings make it 1.24× a read alone (in-process, same run: 4.48 against
  3.62 s; the listing 0.1 s, the readings 0.4 s of it);
* `table`: a full read, 5.8×: missed, for the reason above.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agenda.frozen import frozen
from agenda.journal import digest
from agenda.model import Code, Decision, Item, Revision, Visibility, from_iso
from agenda.paths import cache_dir
from agenda.state import SummitState, bulk, find_revision
from agenda.store import StoreError, read_file, replacing

if TYPE_CHECKING:
    from agenda.workspace import Workspace

VERSION = 2  # 2: names the code that made it
KEY_BYTES = 32
FIELDS = ("number", "title", "section", "status", "owner", "tags", "brackets", "revisions",
          "uuid")


def listing(state: SummitState) -> dict[str, Any]:
    """What `summit items` shows of a state, as plain data (straight from the fold's views:
    `state.bracket_count(i)` and `len(state.history(i))`, 20,000 times at every full read)."""
    views = state.views
    rows = []
    for i in state.items:
        view = views.get(i.uuid)
        tabled = view.tabled if view else ()
        rows.append([i.number, i.title, i.section, i.status.value, i.owner, list(i.tags),
                     tabled[-1].brackets if tabled else 0, len(view.history) if view else 0,
                     i.uuid])
    return {"items": rows, "empty": [s.title for s in state.summit.sections if not s.items]}


@frozen
class ItemReading:
    """What `summit show` and `summit history` print of one item, as one viewer sees it."""

    number: str
    title: str
    section: str
    status: str
    owner: str
    uuid: str
    brackets: int
    history: tuple[Revision, ...]  # the viewer's visible texts, in the order
    accepted: Mapping[str, tuple[str, ...]]  # tabled revision uuid -> who stood on it, sorted
    decisions: tuple[Decision, ...]

    @classmethod
    def of(cls, state: SummitState, item: Item) -> ItemReading:
        history = state.history(item)
        return cls(item.number, item.title, item.section, item.status.value, item.owner,
                   item.uuid, state.bracket_count(item), history,
                   {r.uuid: tuple(sorted(state.accepted_by(r))) for r in history if r.tabled},
                   state.decisions(item))

    def latest(self) -> Revision | None:
        """The latest tabled revision (`SummitState.latest`)."""
        return next((r for r in reversed(self.history) if r.tabled), None)

    def latest_draft(self) -> Revision | None:
        """The viewer's latest draft, if newer than every tabled text."""
        return self.history[-1] if self.history and not self.history[-1].tabled else None

    def revision(self, label: str) -> Revision:
        return find_revision(self.history, self.number, label)

    def accepted_by(self, revision: Revision) -> tuple[str, ...]:
        return self.accepted.get(revision.uuid, ())


def items(ws: Workspace, slug: str, viewer: str | None) -> dict[str, Any]:
    """The listing of `summit items`: the kept one while it holds, else from a full read
    (then kept)."""
    shown = load(ws.summit_path(slug), slug, viewer)
    if shown is None:
        shown = listing(_full_read(ws, slug, viewer))
    return shown


def item(ws: Workspace, slug: str, viewer: str | None, ref: str) -> ItemReading:
    """One item as `summit show` and `history` print it: from the kept readings while they
    hold, else from a full read (then kept). An unknown item is refused by the full read."""
    found = load_item(ws.summit_path(slug), slug, viewer, ref)
    if found is None:
        state = _full_read(ws, slug, viewer)
        found = ItemReading.of(state, state.item(ref))
    return found


def _full_read(ws: Workspace, slug: str, viewer: str | None) -> SummitState:
    """The state from a whole read of the journal, its listing and readings kept."""
    state = ws.state(slug, viewer, identify=True)
    identity = ws.read_identity(slug)
    key = _key(create=True) if identity is not None else None
    if identity is not None and key is not None:
        path = ws.summit_path(slug)
        with bulk():  # 20,000 rows of small objects: no collector walking the state's
            keep(path, key, identity, slug, viewer, listing(state))
            keep_readings(path, key, identity, slug, viewer, state)
    return state


def _key(create: bool) -> bytes | None:
    """This user's HMAC key; made (0600, exclusively) when `create` and absent."""
    path = cache_dir() / "kept.key"
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
        except OSError:
            return None
        return _key(create=False)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        # Another user's key, or one others may read, vouches for nothing.
        if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return None
        key = os.read(fd, KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES and create:
        # A key cut short (a process killed while making it) would turn keeping off for good.
        try:
            path.unlink()
        except OSError:
            return None
        return _key(create=True)
    return key if len(key) == KEY_BYTES else None


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode()


def _place(journal: Path, slug: str, viewer: str | None, kind: str = "listing") -> Path:
    name = orjson.dumps([str(journal.resolve()), slug, viewer]
                        + ([kind] if kind != "listing" else []))
    return cache_dir() / "kept" / (hashlib.sha256(name).hexdigest() + ".json")


_CODE: list[str] = []
_FOLDING = ("records", "state", "rules", "model", "brackets", "snapshot")


def _code() -> str:
    """The code that folds and prints, named by its modules' sizes and mtimes: kept data made
    by another version (an upgrade, a checkout) is not used. Six stats, taken once."""
    if not _CODE:
        here = Path(__file__).parent
        stats: list[Any] = [VERSION]
        for name in _FOLDING:
            try:
                info = os.stat(here / f"{name}.py")
                stats.append([name, info.st_size, info.st_mtime_ns])
            except OSError:
                stats.append([name])  # run from bytecode alone: named by the version only
        _CODE.append(hashlib.sha256(orjson.dumps(stats)).hexdigest())
    return _CODE[0]


def _identity(journal: Path) -> tuple[int, str] | None:
    try:
        raw = read_file(journal)  # as the journal reads it: a refusal is the full read's
    except (OSError, StoreError):
        return None
    return digest(raw)


def _vouched(place: Path) -> bytes | None:
    """A kept file's payload, if this user's key vouches for it."""
    key = _key(create=False)
    if key is None:
        return None
    try:
        with open(place, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    mac, _, payload = data.partition(b"\n")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    return payload


def _current(kept: Any, journal: Path, slug: str, viewer: str | None, kind: str) -> bool:
    """Whether a vouched header is of this kind, summit, viewer and code, and names the
    journal's bytes as they are now (hashed last: the cheap refusals first)."""
    return (isinstance(kept, dict) and kept.get("v") == VERSION and kept.get("kind") == kind
            and kept.get("code") == _code() and kept.get("slug") == slug
            and kept.get("viewer") == viewer
            and isinstance(kept.get("size"), int) and isinstance(kept.get("sha256"), str)
            and [kept["size"], kept["sha256"]] == list(_identity(journal) or ()))


def load(journal: Path, slug: str, viewer: str | None) -> dict[str, Any] | None:
    """The kept listing if this user's key vouches for it and the file is unchanged."""
    payload = _vouched(_place(journal, slug, viewer))
    if payload is None:
        return None
    try:
        kept = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not _well_formed(kept) or not _current(kept, journal, slug, viewer, "listing"):
        return None
    return {"items": kept["items"], "empty": kept["empty"]}


def _well_formed(kept: Any) -> bool:
    """The shape `keep` writes; anything else (an older version, a bug) is not used."""
    if not (isinstance(kept, dict) and isinstance(kept.get("items"), list)
            and isinstance(kept.get("empty"), list)
            and all(isinstance(t, str) for t in kept["empty"])):
        return False
    return all(_typed(row, _LISTED) and all(isinstance(tag, str) for tag in row[5])
               for row in kept["items"])


def _write(place: Path, key: bytes, payload: bytes) -> None:
    """Replace a kept file by a rename, without fsync: a file cut short by a crash fails its
    HMAC and is only ignored, so durability would cost 16 MB of flushing for nothing."""
    tmp = place.with_name(f".{place.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        place.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with replacing(tmp, place):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                _put(fd, (_mac(key, payload), b"\n", payload))
            finally:
                os.close(fd)
    except OSError:
        pass  # a read-only or full disk: the next read is a full one, as without a cache


def _put(fd: int, parts: tuple[bytes, ...]) -> None:
    for part in parts:
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view):]


def _head(identity: tuple[int, str], slug: str, viewer: str | None,
          kind: str) -> dict[str, Any]:
    return {"v": VERSION, "kind": kind, "code": _code(), "size": identity[0],
            "sha256": identity[1], "slug": slug, "viewer": viewer}


def keep(journal: Path, key: bytes, identity: tuple[int, str], slug: str,
         viewer: str | None, shown: dict[str, Any]) -> None:
    """Save a listing made by a full read of the bytes `identity` names; best effort."""
    payload = orjson.dumps({**_head(identity, slug, viewer, "listing"), **shown})
    _write(_place(journal, slug, viewer), key, payload)


# Item readings -------------------------------------------------------------------------------

# The fields of a kept reading's revision and decision, in order (read back in `_from_plain`);
# one C call per object: the readings of 20,000 items are made at every full read.
_REVISION_FIELDS = attrgetter("uuid", "item", "number", "delegation", "parents", "text", "code",
                              "justification", "visibility", "created", "hash", "id", "was",
                              "after_final")
_DECISION_FIELDS = attrgetter("uuid", "item", "delegation", "action", "revision", "created",
                              "void")
_ITEM_FIELDS = attrgetter("number", "title", "section", "status", "owner", "uuid")


def _plain(state: SummitState, item: Item) -> list[Any]:
    """`ItemReading.of(state, item)` as plain data, built straight from the fold's view, no
    objects in between. Enums and datetimes are left to orjson (values, RFC 3339 times)."""
    view = state.views.get(item.uuid)
    if view is None:
        history: tuple[Revision, ...] = ()
        accepted: Mapping[str, frozenset[str]] = {}
        decisions: tuple[Decision, ...] = ()
        brackets = 0
    else:
        history, accepted, decisions = view.history, view.accepted_by, view.decisions
        brackets = view.tabled[-1].brackets if view.tabled else 0  # state.bracket_count
    return [*_ITEM_FIELDS(item), brackets,
            [_REVISION_FIELDS(r) for r in history],
            [[uuid, sorted(codes)] for uuid, codes in accepted.items()],  # tabled texts
            [_DECISION_FIELDS(d) for d in decisions]]


def _typed(row: Any, types: tuple[type, ...]) -> bool:
    return isinstance(row, list) and len(row) == len(types) and all(
        isinstance(v, t) and (t is not int or not isinstance(v, bool))
        for v, t in zip(row, types, strict=True))


_LISTED = (str, str, str, str, str, list, int, int, str)  # a row of `listing`, as FIELDS
_ITEM = (str, str, str, str, str, str, int, list, list, list)
_REVISION = (str, str, int, str, list, str, str, str, str, str, str, str, str, bool)
_DECISION = (str, str, str, str, str, str, str)


def _from_plain(row: Any) -> ItemReading | None:
    """An item's kept line read back, checked as input: a wrong shape reads as nothing."""
    if not _typed(row, _ITEM):
        return None
    history, accepted, decisions = row[7], row[8], row[9]
    if not (all(_typed(r, _REVISION) and all(isinstance(p, str) for p in r[4])
                for r in history)
            and all(_typed(a, (str, list)) and all(isinstance(c, str) for c in a[1])
                    for a in accepted)
            and all(_typed(d, _DECISION) for d in decisions)):
        return None
    try:
        revisions = tuple(Revision(
            uuid=r[0], item=r[1], number=r[2], delegation=r[3], parents=tuple(r[4]),
            text=r[5], code=Code(r[6]), justification=r[7], visibility=Visibility(r[8]),
            created=from_iso(r[9]), hash=r[10], id=r[11], was=r[12], after_final=r[13])
            for r in history)
        acts = tuple(Decision(d[0], d[1], d[2], d[3], d[4], from_iso(d[5]), d[6])
                     for d in decisions)
    except (ValueError, TypeError):
        return None
    return ItemReading(row[0], row[1], row[2], row[3], row[4], row[5], row[6], revisions,
                       {a[0]: tuple(a[1]) for a in accepted}, acts)


CHUNK = 64  # items a line: one orjson call each to write, ~50 KB to parse for one item


def keep_readings(journal: Path, key: bytes, identity: tuple[int, str], slug: str,
                  viewer: str | None, state: SummitState) -> None:
    """Save every item's reading, made by a full read of the bytes `identity` names: lines of
    `CHUNK` items, found through an index of numbers and uuids; best effort."""
    at: dict[str, int] = {}
    rows = []
    for n, shown in enumerate(state.items):
        rows.append(_plain(state, shown))
        at.setdefault(shown.number, n)  # the first item named wins, as in find_item
        at.setdefault(shown.uuid, n)
    lines = [orjson.dumps(rows[start:start + CHUNK]) for start in range(0, len(rows), CHUNK)]
    spans, offset = [], 0
    for line in lines:
        spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    head = orjson.dumps({**_head(identity, slug, viewer, "readings"), "at": at,
                         "lines": spans})
    _write(_place(journal, slug, viewer, "readings"), key, b"\n".join([head, *lines]))


def load_item(journal: Path, slug: str, viewer: str | None, ref: str) -> ItemReading | None:
    """An item's kept reading if this user's key vouches for it and the file is unchanged;
    None for an item it does not name (the full read gives the refusal)."""
    payload = _vouched(_place(journal, slug, viewer, "readings"))
    if payload is None:
        return None
    end = payload.find(b"\n")
    try:
        kept = orjson.loads(payload[:end] if end >= 0 else payload)
    except orjson.JSONDecodeError:
        return None
    if not (_current(kept, journal, slug, viewer, "readings")
            and isinstance(kept.get("at"), dict) and isinstance(kept.get("lines"), list)):
        return None
    n = kept["at"].get(ref.strip())
    if not (_typed([n], (int,)) and 0 <= n < len(kept["lines"]) * CHUNK):
        return None
    span, base = kept["lines"][n // CHUNK], end + 1
    if not (_typed(span, (int, int)) and end >= 0
            and 0 <= span[0] <= span[1] <= len(payload) - base):
        return None
    try:
        chunk = orjson.loads(payload[base + span[0]:base + span[1]])
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(chunk, list) and n % CHUNK < len(chunk)):
        return None
    row = chunk[n % CHUNK]
    found = _from_plain(row)
    if found is None or ref.strip() not in (found.number, found.uuid):
        return None
    return found
