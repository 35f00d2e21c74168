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
  since) is a mismatch: a full read, then new kept data, unless the file only grew
  (below). The data also names the code that made it (size and mtime of the modules that
  fold and print: an upgrade is a mismatch).
* **Extended by the journal's tail (a checkpoint of the fold).** The readings file also holds
  what the viewer's fold needs to go on from where the full read stopped: each item's line
  carries the rest of its fold (acceptances, notes, positions, rounds, drafts, decisions in
  force, confirms), and the head the key of the last record folded, the genesis and the
  summit's fields, the frontier of the record set (every scope family's heads, and the joint
  record each team head sorts after: `RecordSet.frontier`) and the labels remembered for
  records not read yet. A later read whose journal starts with exactly the kept L bytes (the
  SHA-256 of that prefix matches; L ends a line, and so does the file) parses only the lines
  after L, checked as the journal checks them, decodes their records (ids verified), adds them
  to a set that holds only the frontier (`RecordSet.resumed`: it orders them exactly as the
  whole set would, or says they do not sort last), restores only the items they touch from
  their lines (checked field by field, as input) and applies the records through the same
  `Fold.apply` and handlers (`Fold.resumed`). The touched items' lines and listing rows are
  made by the same code as after a full read; the other lines are copied as they are, and both
  files are kept anew for the whole file. An item added at the end of a section that has kept
  rows (`summit add`, an import into a summit: `_appended`) passes too: it sorts after the
  section's last item by (order key, add id), as `Fold.summit` places items, so no other item
  moves; it is numbered one past that last row, and its row is made as a full read makes it.
  A line never spans two sections, so only that section's last line changes (and the rows'
  index, rebuilt from the listing as the full read builds it); the checkpoint names each
  section's last row (`ends`). Anything else is a full read: a record that changes the
  structure (a section added or placed, an item placed elsewhere or added to an empty section,
  a summit update: numbers and the roster move; `state.ONE_ITEM` and `_appended` say what may
  pass), a record that does not sort after every record
  folded (another machine's, merged into the order) or depends on one behind the frontier, a
  record already read, a label remembered for a record read before L (it would change a text
  folded already), a damaged or unfinished line, a rewritten file (a compaction, an undo).
  The hypothesis test splits any sequence of writes anywhere: the data kept at the split and
  extended is byte for byte what a full read keeps (every line, the listing, the checkpoint).
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
  full disk skips it, never an error. `summit check` and every write but those on one item
  (below) read the journal in full, as before. Tidied at most once a day by a full read that
  keeps (`prune`): the kept files of a summit file that is gone (each kept file's name starts
  with a tag of its journal, whose path is noted under `journals/`), of an older naming, and
  temporaries a killed writer left.
* **Writes on one item, served (`serve`).** `summit table`, `accept`, a note and a status
  (`Workspace.item_state` inside the write's transaction, the lock held) read the acting
  viewer's checkpoint instead of the journal: the file is read and hashed under the lock, the
  kept prefix must match it exactly, the tail is checked and folded as `_extend` does, and
  the item the write names is restored from its line beside those the tail touched. What a
  full read gave the write and a plain checkpoint lacked is now kept or derived:
  * the record set: the genesis id (`state.ResumedSet`), and for each team the joint heads its
    records have seen (`state.seen_heads`: all of `_team_seen` a later `clock` can subtract);
    a draft or a note that would not sort after every record folded (another team's longer
    run of drafts) is not served (`state.sorts_last`);
  * the journal: its lines and superseded puts at the kept point (`Journal.counts`, extended
    by the tail's, unknown once the tail puts anything but labels), so a compaction due is
    seen and left to the full read; the journal appends without holding the file
    (`Journal.serve`) and refuses a whole rewrite. Labels: a write puts only its new record's
    label (a new key), and the tail's labels are checked as `_extend` checks them;
  * the state: the item's number and section from its kept row (no structural record in the
    tail), the summit as its roster (a write reads who takes part, never the sections), the
    joint status from the acting viewer's fold (a status folds joint records only; an item
    one of whose tabled texts names a draft is not served), no event log (no write reads it);
  * a bound workspace introduces its device first (`introduced`): its writes read in full;
  * after the commit, still under the lock, the checkpoint is kept anew for the file's new
    bytes (the line appended hashed onto the prefix's digest), and the served file dropped: the
    next command reads the kept data, or in full. A write read in full on a file over
    `SERVE_FROM` keeps its viewer's checkpoint the same way (`keep_written`), so the next is
    served: that first write pays the keeping (a full read that keeps).
  * `summit add` of one item (`serve_add`, `workspace.ServedAdd`) is served the same way from
    the joint view's checkpoint: what the add reads of the summit is its sections in order
    (kept in the checkpoint), each with its items (the kept listing's rows by their numbers,
    and those the tail added), the order key of each section's last item (restored from its
    line), the clock (the frontier) and the joint fold the new item is folded into, for its
    status and label; its number is its section's count plus one, as `_Placing` says. After
    the commit the checkpoint is kept anew, the new item's row made as `_extend` makes it.
    At 20,000 items it was a full read, 1.1 s of which 0.6 s reading and folding.
  tests/test_write_kept.py holds it to the write after a full read: for any sequence of
  writes, refusals, structural writes, reads that extend, kept data dropped or tampered with,
  the same journal bytes (so the same record ids and events), the same results and refusals,
  and the same kept files as a full read keeps. A tampered journal (a byte changed with its
  checksum made good, a same-size replacement) fails the prefix's SHA-256: the full read
  refuses it as before; a forged or older kept file fails its HMAC or version: ignored.
* **Kept by the write that made it stale (`keep_changed`).** A commit that changes a summit
  otherwise than by a write on one item (an item added, moved or retitled, the summit's
  details, an undo, an import, a receive or sync that changes one summit) leaves every kept
  checkpoint of that summit unusable: its tail is structural. So, after the commit, under the
  lock, it keeps anew the joint view's listing and readings and those of every delegation
  whose readings file exists (the ones it made stale), for the file as the commit left it
  (`keep_written`: the folds the write extended when held, else folded from the records in
  memory), when the file is over `SERVE_FROM`: byte for byte what a full read as that viewer
  keeps (tests/test_write_kept.py's hypothesis test runs every structural write with it).
  Data the commit's tail extends (items added at the end of their sections: `summit add`) is
  left as it is: the next read extends it as after a `table`, and waits for no keeper (at
  20,000 items the add's keeper took 0.55 s after it, and the `table` after it waited).
  An import into a new summit is written out as it is made, its memory bounded whatever its
  size, and no longer held after the commit: it is read in full and kept by a detached
  worker (`keep_worker`: its own session, its streams on /dev/null, the journal's keeping
  lock held), which keeps each delegation's checkpoint too. A commit over several summits (a
  migration) keeps nothing. Only the command line sets it: the app holds its summits in
  memory and never pays for keeping.
* **Kept after the output (`defer_keeping`, `finish_keeping`).** Kept data names the bytes it
  was made from (hashed by the full read, or read under the lock after the commit), and the
  state kept is the one read from exactly those bytes: it can be written later and by
  another process, without the workspace lock. `items`, `show`, `history`, and the writes
  that keep and read nothing kept afterwards (`table`, `note`, `status`, `add`, `move`,
  `retitle`: one transaction each) defer the writing (the rows, their JSON, the files) until
  their output is flushed; the `summit` script then forks a child in its own session, its
  streams on /dev/null, that holds the state copy-on-write and the journal's keeping lock
  (`keeping_lock`) while it writes, in the background (`detached.background`: the lowest
  priority; the lock names its pid, so that the next command's checker takes the core it
  leaves, journal.py's `_core_free`); if another keeper of the journal is still at work (the
  `items` just before a `table`), the child keeps after it (waiting at most `KEEPER_WAIT`),
  not the command before it returns. Kept at once instead: in-process callers (the tests,
  the app), a process with a thread running, `accept` (it prints from what it kept). A
  read of a journal whose keeper is at work first extends its own viewer's kept data if it
  can (a keeper writes whole files renamed into place, so no read sees a torn one): the
  keeper may be keeping another viewer's, and the `show` right after a delegation's first
  write waited 0.5 s at 20,000 items for what it never read.
  Only when that fails (its tail is structural, turned away before the HMAC is checked)
  does it wait for the keeper (`_keeper_done`, at most `KEEPER_WAIT`) rather than read in
  full beside it on the same cores, then read what it kept; a keeper never waits for itself.
  A write on one item that keeps after its output and finds no checkpoint for its viewer
  (`table`, a note, a status, the cache lost) reads in full the bytes `serve` read under the
  lock (`Workspace.offer`), and folds only the structure and its item
  (`state.narrowed_alone`, `Workspace.fold_later`); its keeper makes the rest from what the
  write holds, read under the lock: the digest of the file's bytes as the commit left them,
  the viewer's whole fold (`Workspace.written_later`) and its state. At 100 summits that
  was 5–6 ms of the command's 45 before its output (a second read, a hash, a fold).
* **Passed once.** A read that finds its kept data stale hands the bytes it read and hashed
  to the full read (`Journal.offer`, used only while the file keeps the stamp it was read
  under), and hashes them once however many prefixes it asks for (`_Read`); the readings'
  HMAC is checked only once their head names these bytes.

How each command stands against issue 13's ≤ 2× the floor on one summit of 20,000 items
(`bench/bench_startup.py --big`, load 2.3 falling to 0.8, the floor parsing the 40 MB file:
0.57 s):

* `items`, `show`, `history` on a file unchanged since a full read: 0.77×, 0.57×, 0.53×;
* the first of them after a write that touches items (`table`, `accept`, a note, a status):
  the kept data extended, `items` 1.31×, `show` 0.88× (were 8.2× and 7.3×); in-process, same
  run: 0.50 s against 3.29 s for `Workspace.state` alone;
* after a structural write, an upgrade or a new file: a full read that keeps, 9.6× (1.35× a
  read alone, in-process: the checkpoint makes the readings larger; it was 1.24×);
* `table`: a full read, 7.6×; with its item alone read from the state (`Fold.narrowed`,
  `state.fold_item`): 3.9× (load 6, floor 1.01 s). Served from the acting side's checkpoint
  (`serve`, `bench_startup.py --big --runs 9`, load 7.5 to 8.7, floor 1.51 s): 0.69×, met;
  the first write on the summit (or after a structural one) reads in full and keeps the
  checkpoint: 6.5×. At 100 summits of 2.2 MB (`--scale`, load 7 to 9): 1.42× (was 1.84×).
* right after a structural write (`keep_changed`; `--big --runs 9`, load 1.2 to 1.7, floor
  0.49 s): `items` 0.89× (was a full read: 4.85×), `table` 2.73× (4.54×: it waits for the
  add's keeper still at work, then 0.74×), the `add` paying the keeping: 5.25×. At 100
  summits (`--scale`, load 6.5 to 7.5): 1.09× and 1.44× (1.84× and 1.94× quiet), `add` 2.05×.
  An item added at the end of its section now extends the kept data, and `add` is served
  (`serve_add`; `--big --runs 6`, every case, load 2.9 to 3.7, floor 0.29 s): `add` 1.39×,
  then `items` 0.88×, `table` 0.91× (waiting for no keeper); `show` right after a
  delegation's first `table` (whose keeper keeps that delegation's data) 1.49× (3.24×: it
  waited for that keeper). At 100 summits (load 3): `add` 0.91×, `table` after it 1.19×.
  Right after an import of 20,000 items into a new summit: `items` 0.72×, `table` 0.66×; the
  import returned in 4.15 s and its worker had kept 7.88 s after its start.
* still read in full (the cache lost, an upgrade, kept data of another viewer): at 20,000
  items `items` 3.91× (4.85× before: its keeping after the output, kept 2.41 s after its
  start), `table` 4.56×; at 100 summits (load 6.5 to 7.5) 1.77× and 1.87× (1.84× and 1.94×
  quiet before; target 1.5×: missed: the records' read and fold is the rest, about 70 of
  96 ms in-process).
"""

from __future__ import annotations

import bisect
import functools
import os
import time
from collections.abc import Callable, Mapping
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from agenda import records
from agenda.digest import KEY_BYTES as KEY_BYTES  # tests make keys of this size
from agenda.digest import compare_digest, hmac_sha256, sha256, user_key
from agenda.frozen import frozen
from agenda.journal import Journal, appended, digest
from agenda.model import (
    Acceptance,
    AgendaError,
    Code,
    Decision,
    Item,
    Note,
    Revision,
    Section,
    Status,
    Visibility,
    from_iso,
)
from agenda.paths import cache_dir, keeping_lock
from agenda.paths import journal_tag as _tag
from agenda.paths import resolved as _resolved
from agenda.state import (
    FOLDED,
    ONE_ITEM,
    Fold,
    ItemFold,
    ItemView,
    LazyViews,
    RecordSet,
    ResumedSet,
    SummitState,
    bulk,
    find_revision,
    resume_seen,
    seen_heads,
    sorts_last,
    text_counts,
)
from agenda.store import StoreError, _stamp, read_file, replacing

if TYPE_CHECKING:
    from agenda.workspace import ServedAdd, ServedFile, Workspace

VERSION = 5  # 2: names the code that made it; 3: readings carry the fold's checkpoint;
# 4: the checkpoint serves writes (the heads each team has seen, the journal's counts);
# 5: lines never span two sections, and the checkpoint names each section's last row
FIELDS = ("number", "title", "section", "status", "owner", "tags", "brackets", "revisions",
          "uuid")


def listing(state: SummitState) -> dict[str, Any]:
    """What `summit items` shows of a state, as plain data (straight from the fold's views:
    `state.bracket_count(i)` and `len(state.history(i))`, 20,000 times at every full read;
    from the folds when the views are not made yet, `LazyViews.listed`)."""
    views, items = state.views, state.items
    if isinstance(views, LazyViews):
        rows = [_row(i, i.number, i.section, *texts) for i, texts in
                zip(items, views.listed([i.uuid for i in items]), strict=True)]
    else:
        rows = [_listed(i, views.get(i.uuid)) for i in items]
    return {"items": rows, "empty": [s.title for s in state.summit.sections if not s.items]}


def _listed(i: Item, view: ItemView | None) -> list[Any]:
    return _row(i, i.number, i.section, *(text_counts(view) if view else (0, 0)))


def _row(i: Item | ItemFold, number: str, section: str, brackets: int,
         texts: int) -> list[Any]:
    """A row of the listing, as FIELDS, of an item, or of its fold before the item is made
    (`_listed_read`): both hold its title, status, owner, tags and uuid. The status as
    its value (`str` of a StrEnum member: in C, where `.value` is a Python property)."""
    return [number, i.title, section, str(i.status), i.owner, list(i.tags), brackets, texts,
            i.uuid]


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
    """The listing of `summit items`: the kept one while it holds, else the kept one
    extended by the journal's tail, else from a full read (then kept)."""
    path = ws.summit_path(slug)
    read = _Read.of(path)
    shown, extended = _found(path, slug, viewer, read, lambda: load(path, slug, viewer, read))
    if shown is None and extended is not None:
        shown = extended.listing
    if shown is None:
        shown = _listed_read(ws, slug, viewer, read) if _DEFERRED is not None else \
            listing(_full_read(ws, slug, viewer, read))
    return shown


def item(ws: Workspace, slug: str, viewer: str | None, ref: str) -> ItemReading:
    """One item as `summit show` and `history` print it: from the kept readings while they
    hold, else from them extended by the journal's tail, else from a full read (then
    kept). An unknown item is refused by the full read."""
    path = ws.summit_path(slug)
    read = _Read.of(path)
    found, extended = _found(path, slug, viewer, read,
                             lambda: load_item(path, slug, viewer, ref, read))
    if found is None and extended is not None:
        found = extended.reading(ref)
    if found is None:
        state = _item_read(ws, slug, viewer, ref, read) if _DEFERRED is not None else \
            _full_read(ws, slug, viewer, read)
        found = ItemReading.of(state, state.item(ref))
    return found


_T = TypeVar("_T")


def _found(path: Path, slug: str, viewer: str | None, read: _Read | None,
           loaded: Callable[[], _T | None]) -> tuple[_T | None, _Extended | None]:
    """What a read finds kept: `loaded()` (the kept data as it holds), else the viewer's own
    kept data extended by the journal's tail. That needs no keeper: one at work (on another
    viewer's data, or this one's made stale by a structural write) is waited for only when
    both fail, and then both are asked again."""
    found = loaded()
    extended = _extend(path, slug, viewer, read) if found is None and read else None
    if found is None and extended is None and _keeper_done(path, viewer):
        found = loaded()
        extended = _extend(path, slug, viewer, read) if found is None and read else None
    return found, extended


class _Read:
    """The journal's bytes as a command read them, with the stamp they were read under
    (`Journal.offer`), hashed once however many of their prefixes are asked for."""

    def __init__(self, stamp: tuple[int, int, int] | None, raw: bytes) -> None:
        self.stamp, self.raw = stamp, raw
        self._hashed: tuple[int, Any] | None = None

    @classmethod
    def of(cls, journal: Path) -> _Read | None:
        try:
            stamp = _stamp(journal)
            return cls(stamp, read_file(journal))  # as the journal reads it
        except (OSError, StoreError):
            return None  # the full read refuses it in its own words

    def sha256(self, size: int) -> str:
        """The SHA-256 of the first `size` bytes (the longest prefix hashed is extended)."""
        hashed = self._hashed
        if hashed is not None and hashed[0] <= size:
            hasher = hashed[1].copy()
            hasher.update(memoryview(self.raw)[hashed[0]:size])
        else:
            hasher = sha256(memoryview(self.raw)[:size])
        self._hashed = (size, hasher)
        return str(hasher.hexdigest())

    def names(self, kept: dict[str, Any]) -> bool:
        """Whether a kept header's size and digest are exactly these bytes'."""
        return kept["size"] == len(self.raw) and kept["sha256"] == self.sha256(len(self.raw))


def _full_read(ws: Workspace, slug: str, viewer: str | None,
               read: _Read | None = None) -> SummitState:
    """The state from a whole read of the journal (of `read`, the bytes just read, if the
    file is still as they were read), its listing and readings kept."""
    offered = (read.stamp, read.raw) if read is not None else None
    state = ws.state(slug, viewer, identify=True, offered=offered)
    _keep_read(ws, slug, viewer, ws.read_fold(slug, state.viewer), state)
    return state


def _listed_read(ws: Workspace, slug: str, viewer: str | None,
                 read: _Read | None) -> dict[str, Any]:
    """`listing(_full_read(...))` for a command that keeps after its output (`items`): the
    rows made from the viewer's whole fold (`Workspace.whole_fold`) without making its
    items, the keeper making the state (its items and views) from that fold after the
    output, then keeping it as `_full_read` does."""
    offered = (read.stamp, read.raw) if read is not None else None

    def made(fold: Fold, numbered: list[tuple[str, Section, ItemFold]]) -> dict[str, Any]:
        summit = fold.summit
        assert summit is not None  # `whole_fold` refuses a summit without one
        return {"items": [_row(f, number, section.title, *text_counts(f))
                          for number, section, f in numbered],
                "empty": [s.title for s in summit.sections if not s.items]}

    fold, shown = ws.whole_fold(slug, viewer, made, offered=offered)
    _keep_read(ws, slug, viewer, ws.read_fold(slug, fold.viewer))
    return shown


def _item_read(ws: Workspace, slug: str, viewer: str | None, ref: str,
               read: _Read | None) -> SummitState:
    """`_full_read` narrowed to the item `ref` names, for a command that keeps after its
    output (`show`, `history`): the whole read folds the structure and that item alone
    (`Workspace.item_read`), and the keeper makes the viewer's whole fold and its state
    after the output, from the records the read holds, then keeps them as `_full_read`
    does. At 20,000 items that whole fold is about 200 ms the answer no longer waits for."""
    offered = (read.stamp, read.raw) if read is not None else None
    state = ws.item_read(slug, viewer, ref, offered=offered)
    _keep_read(ws, slug, viewer, ws.read_fold_later(slug, state.viewer))
    return state


def _keep_read(ws: Workspace, slug: str, viewer: str | None,
               folded: _Folded | Callable[[], _Folded] | None,
               state: SummitState | None = None) -> None:
    """Keep what a whole read makes (its listing and readings) from the viewer's fold
    (`folded`, or a function that makes it) and its `state`, else the state made from that
    fold when kept: now, or after the output (`defer_keeping`), the bytes the read parsed
    hashed then, by the keeper."""
    identity = ws.read_identity(slug, later=_DEFERRED is not None)
    key = _key(create=True) if identity is not None and folded is not None else None
    if identity is None or folded is None or key is None:
        return
    made: SummitState | Callable[[Fold], SummitState]
    if state is not None:
        made = state
    else:
        events, count = ws.event_log(slug)
        made = functools.partial(Fold.snapshot, events=events, count=count)
    _keep_state(ws.summit_path(slug), key, identity, slug, viewer, made, folded, tidy=True)


_Folded = tuple[Fold, RecordSet, tuple[int, int]]


def _keep_state(path: Path, key: bytes,
                identity: tuple[int, str] | Callable[[], tuple[int, str]], slug: str,
                viewer: str | None, state: SummitState | Callable[[Fold], SummitState],
                folded: _Folded | Callable[[], _Folded], *, tidy: bool) -> None:
    """Keep a state's listing and readings, as read from the bytes `identity` names (then,
    with `tidy`, prune): now, or once the output is out (`defer_keeping`). `identity`, the
    fold and the state may be made only then (`keep_written`), from what was read under the
    lock."""

    def keeping() -> None:
        named = identity() if callable(identity) else identity
        with bulk():  # 20,000 rows of small objects: no collector walking the state's
            made = folded() if callable(folded) else folded
            shown = state(made[0]) if callable(state) else state
            keep(path, key, named, slug, viewer, listing(shown))
            keep_readings(path, key, named, slug, viewer, shown, *made)
        if tidy:
            prune()

    if _DEFERRED is not None:
        _DEFERRED.append((path, viewer, keeping))
    else:
        keeping()


# A read-only command's keeping, once its output is out (`defer_keeping`, `finish_keeping`).
# Kept data names the bytes the read parsed and hashed, never the file as it is later, so it
# can be written after the command's answer, and by another process, without any lock.
# (journal, the viewer kept, its keeping)
_DEFERRED: list[tuple[Path, str | None, Callable[[], None]]] | None = None


def defer_keeping() -> None:
    """From now on the keeping of a full read, and of a write read in full (`keep_written`),
    waits for `finish_keeping`. Only for a command that reads, or writes in one transaction,
    and reads nothing kept after it: the state kept must stay the one its bytes were read
    into, and what it kept is not there until then."""
    global _DEFERRED
    if _DEFERRED is None:
        _DEFERRED = []


def drop_deferred() -> None:
    """Forget the keeping deferred by a command that failed: best effort, nothing is lost."""
    global _DEFERRED
    _DEFERRED = None


def finish_keeping(detach: bool) -> int | None:
    """Do the keeping deferred since `defer_keeping`: with `detach` (the `summit` script,
    its output flushed), in a forked child of its own session that holds the state read
    copy-on-write and the keeping lock (`keeping_lock`, as a detached keeper does) while it
    writes (after another keeper of the journal, if one is at work), so the command returns
    at once; else, or when a thread is running, here. The child's pid, else None. Best
    effort."""
    global _DEFERRED
    work, _DEFERRED = _DEFERRED or [], None
    if not work:
        return None
    pid = _forked(work) if detach else None
    if pid is None:
        for _, _, keeping in work:
            keeping()
    else:
        # What the child keeps stays referenced here until the script's exit: freeing the
        # state now would walk 20,000 items' objects and copy every page they sit on.
        _HANDED_OVER.append(work)
    return pid


_HANDED_OVER: list[Any] = []


def _forked(work: list[tuple[Path, str | None, Callable[[], None]]]) -> int | None:
    from agenda import detached

    if not detached.may_fork():
        return None
    taken: list[tuple[int, list[str | None]]] = []
    waits: list[tuple[Path, list[str | None]]] = []  # journals another keeper is keeping
    try:
        for journal in dict.fromkeys(path for path, _, _ in work):
            viewers = [viewer for path, viewer, _ in work if path == journal]
            # One look: if the lock is held, the child waits for it, not the command (a
            # `table` right after an `items` whose keeper was at work waited 20 ms here).
            fd = _take_keeping(journal, viewers, tries=1)
            if fd is None:
                waits.append((journal, viewers))  # the child waits for that keeper
            else:
                taken.append((fd, viewers))
        pid = os.fork()
    except OSError:
        for fd, _ in taken:
            os.close(fd)
        return None
    if pid:
        for fd, _ in taken:
            os.close(fd)  # the child holds the locks on its copies until it exits
        return pid
    try:  # the child: nobody reads its output, nobody waits for it
        holding_keeping()
        os.setsid()
        detached.background()  # the next command, and its checker, go first
        for fd, viewers in taken:
            name_kept(fd, viewers)  # with this pid
        detached.streams_on_devnull()
        for journal, viewers in waits:
            # Another keeper of that journal at work (the `items` just before a `table`):
            # its turn after it, here rather than in the command. Past `KEEPER_WAIT`, one
            # that never finishes is not waited for: the files are renamed into place whole.
            deadline = time.monotonic() + KEEPER_WAIT
            while (fd := _take_keeping(journal, viewers)) is None \
                    and time.monotonic() < deadline:
                time.sleep(0.01)
            if fd is not None:
                taken.append((fd, viewers))  # held until the child exits
        for _, _, keeping in work:
            keeping()
    finally:
        os._exit(0)


def _key(create: bool) -> bytes | None:
    """This user's HMAC key for kept data; made (0600, exclusively) when `create` and absent."""
    return user_key(cache_dir() / "kept.key", create)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac_sha256(key, payload).encode()


def _place(journal: Path, slug: str, viewer: str | None, kind: str = "listing") -> Path:
    resolved = _resolved(str(journal))
    name = orjson.dumps([resolved, slug, viewer] + ([kind] if kind != "listing" else []))
    return cache_dir() / "kept" / f"{_tag(resolved)}-{sha256(name).hexdigest()}.json"


# Kept files are never read again once their summit file is gone (a summit deleted, a
# temporary workspace), and a version that names them otherwise leaves the old ones behind.
# A full read that keeps also tidies, at most once a day: for each journal, a note of its path
# (`journals/<tag>`, written before its first kept file), so that the kept files of a journal
# that no longer exists can be found by their name, without opening 14 MB of readings.
PRUNE_EVERY = 24 * 3600  # seconds
STALE_TMP = 3600  # a kept file's temporary older than this was left by a killed writer


def _note_journal(journal: Path) -> None:
    """Write down the journal's real path under its tag, once; best effort."""
    resolved = _resolved(str(journal))
    note = cache_dir() / "journals" / _tag(resolved)
    if note.exists():
        return
    try:
        _replace(note, (os.fsencode(resolved),))
    except OSError:
        pass


def prune(now: float | None = None) -> list[Path]:
    """Remove the kept files no read can use any more: those of a journal whose file is gone
    (its keeping lock too), those named as an older version named them (or of no noted
    journal), and temporaries a killed writer left; at most once every `PRUNE_EVERY` (a mark
    in the cache folder says when), best effort. The files removed, for the tests."""
    now = time.time() if now is None else now
    folder, notes = cache_dir() / "kept", cache_dir() / "journals"
    mark = cache_dir() / "kept.pruned"
    removed: list[Path] = []
    try:
        if now - mark.stat().st_mtime < PRUNE_EVERY:
            return removed
    except FileNotFoundError:
        pass
    except OSError:
        return removed
    try:
        mark.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        os.utime(mark, (now, now))
        live: set[str] = set()
        gone: set[str] = set()
        for entry in _entries(notes):
            if entry.name.startswith("."):
                if _stale(entry, now) and _unlink(entry.path):
                    removed.append(Path(entry.path))
                continue
            try:
                with open(entry.path, "rb") as handle:
                    named = os.fsdecode(handle.read())
            except OSError:
                continue
            if os.path.isfile(named):
                live.add(entry.name)
            else:
                gone.add(entry.name)
                if _unlink(entry.path):
                    removed.append(Path(entry.path))
        for entry in _entries(folder):
            name = entry.name
            tag, dash, _ = name.partition("-")
            if dash and tag in gone and not name.startswith("."):
                dead = True
            elif dash and tag in live and name.endswith(".json"):
                dead = False
            else:  # a temporary, an older version's name, or a journal noted since the scan
                dead = _stale(entry, now)
            if dead and _unlink(entry.path):
                removed.append(Path(entry.path))
        for entry in _entries(cache_dir() / "keeping"):  # the keeping locks (keeping_lock)
            tag, _, kind = entry.name.partition(".")
            if kind == "lock" and tag in gone and _unlink(entry.path):
                removed.append(Path(entry.path))
    except OSError:
        pass  # a read-only or vanished cache folder: nothing to tidy
    return removed


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return [e for e in found if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _stale(entry: os.DirEntry[str], now: float) -> bool:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime > STALE_TMP
    except OSError:
        return False


def _unlink(path: str) -> bool:
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


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
        _CODE.append(sha256(orjson.dumps(stats)).hexdigest())
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
    if not compare_digest(mac, _mac(key, payload)):
        return None
    return payload


def _ours(kept: Any, slug: str, viewer: str | None, kind: str) -> bool:
    """Whether a vouched header is of this kind, summit, viewer and code."""
    return (isinstance(kept, dict) and kept.get("v") == VERSION and kept.get("kind") == kind
            and kept.get("code") == _code() and kept.get("slug") == slug
            and kept.get("viewer") == viewer
            and isinstance(kept.get("size"), int) and isinstance(kept.get("sha256"), str))


def _current(kept: Any, journal: Path, slug: str, viewer: str | None, kind: str,
             read: _Read | None = None) -> bool:
    """Whether a header is of this kind, summit, viewer and code, and names the journal's
    bytes as they are now (`read` just now, else read and hashed here; last: the cheap
    refusals first)."""
    if not _ours(kept, slug, viewer, kind):
        return False
    if read is not None:
        return read.names(kept)
    return [kept["size"], kept["sha256"]] == list(_identity(journal) or ())


def load(journal: Path, slug: str, viewer: str | None,
         read: _Read | None = None) -> dict[str, Any] | None:
    """The kept listing if this user's key vouches for it and the file is unchanged (as
    `read`, when the caller has just read it)."""
    payload = _vouched(_place(journal, slug, viewer))
    if payload is None:
        return None
    try:
        kept = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not _well_formed(kept) or not _current(kept, journal, slug, viewer, "listing", read):
        return None
    return {"items": kept["items"], "empty": kept["empty"]}


def _well_formed(kept: Any) -> bool:
    """The shape `keep` writes; anything else (an older version, a bug) is not used."""
    if not (isinstance(kept, dict) and isinstance(kept.get("items"), list)
            and isinstance(kept.get("empty"), list)
            and all(isinstance(t, str) for t in kept["empty"])):
        return False
    # Exact types, one comparison a row (orjson gives exactly these; a bool is no int).
    return all(type(row) is list and tuple(map(type, row)) == _LISTED
               and all(type(tag) is str for tag in row[5]) for row in kept["items"])


def _write(place: Path, key: bytes, payload: bytes) -> None:
    """Replace a kept file by a rename, without fsync: a file cut short by a crash fails its
    HMAC and is only ignored, so durability would cost 16 MB of flushing for nothing."""
    try:
        _replace(place, (_mac(key, payload), b"\n", payload))
    except OSError:
        pass  # a read-only or full disk: the next read is a full one, as without a cache


def _replace(place: Path, parts: tuple[bytes, ...]) -> None:
    """Put `parts` in place of `place` by a rename, through a temporary of our own (0600)."""
    tmp = place.with_name(f".{place.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    place.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with replacing(tmp, place):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            _put(fd, parts)
        finally:
            os.close(fd)


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
    _note_journal(journal)
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


def _plain(item: Item, view: ItemView | None, fold: ItemFold | None) -> list[Any]:
    """`ItemReading.of(state, item)` as plain data, built straight from the fold's view, no
    objects in between, then what else the item's fold holds (`_held`), for extending it.
    Enums and datetimes are left to orjson (values, RFC 3339 times)."""
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
            [_DECISION_FIELDS(d) for d in decisions],
            _held(fold) if fold is not None else None]


def _held(fold: ItemFold) -> list[Any]:
    """The rest of an item's fold (its history, stands and decisions are the reading's)."""
    return [fold.add_id, list(fold.tags), fold.section, list(fold.key), fold.created,
            [_ACCEPTANCE_FIELDS(a) for a in fold.acceptances],
            [_NOTE_FIELDS(n) for n in fold.notes],
            fold.positions, fold.rounds, fold.drafts, fold.override, fold.soft,
            fold.confirmed, fold.final_on]


_ACCEPTANCE_FIELDS = attrgetter("uuid", "item", "revision", "delegation", "created")
_NOTE_FIELDS = attrgetter("uuid", "item", "delegation", "text", "created")


def _typed(row: Any, types: tuple[type, ...]) -> bool:
    # Exact types, one comparison (orjson gives exactly these; a bool is no int).
    return type(row) is list and tuple(map(type, row)) == types


_LISTED = (str, str, str, str, str, list, int, int, str)  # a row of `listing`, as FIELDS
_ITEM = (str, str, str, str, str, str, int, list, list, list)
_REVISION = (str, str, int, str, list, str, str, str, str, str, str, str, str, bool)
_DECISION = (str, str, str, str, str, str, str)
_HELD = (str, list, str, list, str, list, list, dict, list, int)
_ACCEPTANCE = (str, str, str, str, str)
_NOTE = (str, str, str, str, str)


def _from_plain(row: Any) -> ItemReading | None:
    """An item's kept line read back, checked as input: a wrong shape reads as nothing."""
    if not (isinstance(row, list) and len(row) == len(_ITEM) + 1 and _typed(row[:-1], _ITEM)):
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


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _status(value: Any) -> Status | None:
    return None if value is None else Status(value)  # ValueError for anything else


def _item_fold(row: Any) -> ItemFold | None:
    """An item's fold as a full read left it, from its kept line, checked as input."""
    reading = _from_plain(row)
    held = row[-1] if reading is not None else None
    if not (reading is not None and isinstance(held, list) and len(held) == len(_HELD) + 4
            and _typed(held[:len(_HELD)], _HELD)
            and all(isinstance(t, str) for t in held[1])
            and all(isinstance(k, int) and not isinstance(k, bool) for k in held[3])
            and all(_typed(a, _ACCEPTANCE) for a in held[5])
            and all(_typed(n, _NOTE) for n in held[6])
            and _strings(held[7]) and all(_strings(r) for r in held[8])
            and _strings(held[12]) and (held[13] is None or isinstance(held[13], str))):
        return None
    try:
        override, soft = _status(held[10]), _status(held[11])
        acceptances = [Acceptance(a[0], a[1], a[2], a[3], from_iso(a[4])) for a in held[5]]
        notes = [Note(n[0], n[1], n[2], n[3], from_iso(n[4])) for n in held[6]]
    except (ValueError, TypeError):
        return None
    history = list(reading.history)
    fold: ItemFold = ItemFold.__new__(ItemFold)
    for name, value in {
        "uuid": reading.uuid, "add_id": held[0], "owner": reading.owner,
        "title": reading.title, "tags": tuple(held[1]), "section": held[2],
        "key": tuple(held[3]), "created": held[4], "history": history,
        "tabled": [r for r in history if r.tabled],
        "by_uuid": {r.uuid: r for r in history}, "acceptances": acceptances,
        "decisions": list(reading.decisions), "notes": notes, "positions": dict(held[7]),
        "accepted_by": {uuid: set(codes) for uuid, codes in reading.accepted.items()},
        "rounds": [dict(r) for r in held[8]], "drafts": held[9], "override": override,
        "soft": soft, "confirmed": dict(held[12]), "final_on": held[13], "_summit": None,
        "_status": None, "_view": None, "_item": None}.items():
        setattr(fold, name, value)
    return fold


CHUNK = 64  # items a line: one orjson call each to write, ~50 KB to parse for one item


def keep_readings(journal: Path, key: bytes, identity: tuple[int, str], slug: str,
                  viewer: str | None, state: SummitState, fold: Fold,
                  every: RecordSet, counts: tuple[int, int] | None = None) -> None:
    """Save every item's reading, made by a full read of the bytes `identity` names: lines of
    `CHUNK` items, found through an index of numbers and uuids, with the fold's checkpoint
    (`_checkpoint`); best effort."""
    at: dict[str, int] = {}
    rows = []
    ends: dict[str, int] = {}  # section uuid -> its last row
    views, folds = state.views, fold.items
    for n, shown in enumerate(state.items):
        rows.append(_plain(shown, views.get(shown.uuid), folds.get(shown.uuid)))
        at.setdefault(shown.number, n)  # the first item named wins, as in find_item
        at.setdefault(shown.uuid, n)
        ends[shown.section_uuid] = n
    lines, firsts = [], []
    start = 0
    for end in ends.values():  # each section's rows, in lines of CHUNK
        for first in range(start, end + 1, CHUNK):
            firsts.append(first)
            lines.append(orjson.dumps(rows[first:min(first + CHUNK, end + 1)]))
        start = end + 1
    labels = fold.labels
    sections = [[s.uuid, s.title] for s in state.summit.sections]
    _write_readings(journal, key, identity, slug, viewer, at, firsts, lines,
                    _checkpoint(fold, every, {k: v for k, v in labels.items() if k not in every},
                                counts, ends, sections))


def _checkpoint(fold: Fold, every: RecordSet, orphans: Mapping[str, Any],
                counts: tuple[int, int] | None, ends: Mapping[str, int],
                sections: list[list[str]]) -> dict[str, Any]:
    """What a fold needs, beside its items' lines, to go on from where it stopped: the key
    of the last record folded, the genesis and the summit's fields, the records later ones
    may depend on (`RecordSet.frontier`), and the labels remembered for records not read
    yet (a record appended later is folded with them, as a full read would); and the last
    row of each section that has items (an item appended to it goes after that row), and
    every section's uuid and title, in order (where `summit add` puts an item)."""
    genesis = fold._summit_record
    heads, anchors = every.frontier()
    return {"viewer": fold.viewer, "last": fold.last, "fields": fold.fields,
            "genesis": records.encode(genesis) if genesis is not None else None,
            "heads": [records.encode(r) for r in heads],
            "anchors": {rid: records.encode(r) for rid, r in anchors.items()},
            "orphans": orphans, "seen": seen_heads(every),
            "journal": list(counts) if counts is not None else None, "ends": ends,
            "sections": sections}


def _write_readings(journal: Path, key: bytes, identity: tuple[int, str], slug: str,
                    viewer: str | None, at: Mapping[str, int], firsts: list[int],
                    lines: list[bytes], checkpoint: dict[str, Any]) -> None:
    spans, offset = [], 0
    for line in lines:
        spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    head = orjson.dumps({**_head(identity, slug, viewer, "readings"), "at": at,
                         "lines": spans, "firsts": firsts, "fold": checkpoint})
    _write(_place(journal, slug, viewer, "readings"), key, b"\n".join([head, *lines]))


class _Readings:
    """A vouched readings file: its head, and its lines parsed one at a time."""

    def __init__(self, head: dict[str, Any], payload: bytes, base: int) -> None:
        self.head, self.payload, self.base = head, payload, base
        self.at: dict[str, Any] = head["at"]
        self.spans: list[Any] = head["lines"]
        self.firsts: list[int] = head["firsts"]  # each line's first row

    @classmethod
    def open(cls, journal: Path, slug: str, viewer: str | None,
             wanted: Callable[[dict[str, Any]], bool] = lambda head: True) -> _Readings | None:
        """The readings file, if its head is `wanted` (asked before the HMAC over 14 MB is
        checked: a head that names other bytes is of no use, vouched or not) and this user's
        key vouches for it."""
        key = _key(create=False)
        try:
            with open(_place(journal, slug, viewer, "readings"), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        start = data.find(b"\n") + 1
        end = data.find(b"\n", start)
        head: Any = None
        try:
            head = orjson.loads(data[start:end]) if 0 < start <= end else None
        except orjson.JSONDecodeError:
            return None
        if not (key is not None and _ours(head, slug, viewer, "readings")
                and isinstance(head.get("at"), dict) and isinstance(head.get("lines"), list)
                and _firsts(head.get("firsts"), len(head["lines"])) and wanted(head)):
            return None
        payload = data[start:]
        if not compare_digest(data[:start - 1], _mac(key, payload)):
            return None
        return cls(head, payload, end + 1 - start)

    def index(self, ref: str) -> int | None:
        n = self.at.get(ref.strip())
        if not isinstance(n, int) or isinstance(n, bool):
            return None
        return n if n >= 0 else None

    def line_of(self, n: int) -> int:
        """The line that holds row `n` (-1 for none)."""
        return bisect.bisect_right(self.firsts, n) - 1

    def line(self, number: int) -> bytes | None:
        span: Any = self.spans[number] if 0 <= number < len(self.spans) else None
        if not (_typed(span, (int, int))
                and 0 <= span[0] <= span[1] <= len(self.payload) - self.base):
            return None
        return self.payload[self.base + span[0]:self.base + span[1]]

    def chunk(self, number: int) -> list[Any] | None:
        line = self.line(number)
        try:
            rows = orjson.loads(line) if line is not None else None
        except orjson.JSONDecodeError:
            return None
        return rows if isinstance(rows, list) else None

    def row(self, n: int) -> Any:
        number = self.line_of(n)
        rows = self.chunk(number) if number >= 0 else None
        at = n - self.firsts[number]
        return rows[at] if rows is not None and at < len(rows) else None


def _firsts(firsts: Any, lines: int) -> bool:
    """The first rows of a readings file's lines, as `keep_readings` writes them."""
    return (type(firsts) is list and len(firsts) == lines
            and all(type(n) is int for n in firsts) and (not firsts or firsts[0] == 0)
            and all(a < b for a, b in zip(firsts, firsts[1:], strict=False)))


def _reading(row: Any, ref: str) -> ItemReading | None:
    found = _from_plain(row)
    if found is None or ref.strip() not in (found.number, found.uuid):
        return None
    return found


def load_item(journal: Path, slug: str, viewer: str | None, ref: str,
              read: _Read | None = None) -> ItemReading | None:
    """An item's kept reading if this user's key vouches for it and the file is unchanged
    (as `read`, when the caller has just read it); None for an item it does not name (the
    full read gives the refusal)."""
    kept = _Readings.open(journal, slug, viewer, lambda head: _current(
        head, journal, slug, viewer, "readings", read))
    if kept is None:
        return None
    n = kept.index(ref)
    return _reading(kept.row(n), ref) if n is not None else None


# Extending kept data by the journal's tail ---------------------------------------------------

_CAUGHT = (records.RecordError, KeyError, TypeError, ValueError, AttributeError, IndexError)


@frozen
class _Extended:
    """Kept data brought up to the journal as it is now: the listing, and the readings."""

    listing: dict[str, Any]
    at: Mapping[str, int]  # as the readings' head: number or uuid -> row
    firsts: list[int]  # each line's first row
    lines: list[bytes]  # as kept

    def reading(self, ref: str) -> ItemReading | None:
        n = self.at.get(ref.strip())
        if n is None:
            return None
        number = bisect.bisect_right(self.firsts, n) - 1
        # Read back as kept: enums and datetimes as orjson writes them.
        return _reading(orjson.loads(self.lines[number])[n - self.firsts[number]], ref)


def _extend(journal: Path, slug: str, viewer: str | None, read: _Read) -> _Extended | None:
    """The kept listing and readings of the journal's first L bytes, extended by the commits
    after them, when `raw` (the journal now) starts with exactly those bytes and its tail
    only touches items (`state.ONE_ITEM`); both are kept anew. None otherwise: a full read."""
    resumed = _resume(journal, slug, viewer, read, tail=True)
    if resumed is None:
        return None
    try:
        with bulk():
            return resumed.keep(journal, (len(read.raw), read.sha256(len(read.raw))),
                                resumed.counts)
    except _CAUGHT:
        return None  # the full read refuses it in its own words, or reads it


class _Resumed:
    """Kept data and its fold brought up to the journal's tail in memory, not kept yet: the
    record set's frontier, the viewer's fold holding the items the tail touched (and the one
    a write asked for), the journal's counts (`Journal.counts`; None when unknown)."""

    def __init__(self, key: bytes, slug: str, viewer: str | None, kept: _Readings,
                 listed: dict[str, Any], every: RecordSet, fold: Fold,
                 touched: dict[str, int], rows: dict[int, Any], orphans: dict[str, Any],
                 ids: set[str], counts: tuple[int, int] | None,
                 added: dict[str, tuple[int, str, str]], ends: dict[str, int],
                 sections: list[list[str]]) -> None:
        self.key, self.slug, self.viewer = key, slug, viewer
        self.kept, self.listed, self.every, self.fold = kept, listed, every, fold
        self.touched, self.rows, self.orphans, self.ids = touched, rows, orphans, ids
        self.counts = counts
        # Items the tail added at the end of a section that has kept rows, in the order
        # added: uuid -> (the section's last kept row, its number, the section's title).
        self.added, self.ends, self.sections = added, ends, sections

    def keep(self, journal: Path, identity: tuple[int, str],
             counts: tuple[int, int] | None) -> _Extended | None:
        """Keep the listing and readings of the bytes `identity` names, which the fold has
        folded: the touched items' lines made anew, the others copied as they are."""
        kept, fold, slug = self.kept, self.fold, self.slug
        changed, items = {}, list(self.listed["items"])
        for uuid, n in self.touched.items():
            row, f = self.rows[n], fold.items[uuid]
            shown = f.item(slug, row[0], Section(f.section, row[2]))
            view = f.view(shown)
            changed[n] = _plain(shown, view, f)
            if not (n < len(items) and items[n][8] == uuid):
                return None
            items[n] = _listed(shown, view)
        # Items appended to a section: after its last kept row, their rows made as a full
        # read makes them; as lines never span two sections, only its last line changes.
        after: dict[int, list[tuple[list[Any], list[Any]]]] = {}
        for uuid, (end, numbered, title) in self.added.items():
            f = fold.items[uuid]
            shown = f.item(slug, numbered, Section(f.section, title))
            view = f.view(shown)
            after.setdefault(end, []).append((_listed(shown, view), _plain(shown, view, f)))
        lines, firsts, shift = [], [], 0
        bounds = [*kept.firsts, len(items)]
        for number in range(len(kept.spans)):
            first, end = bounds[number], bounds[number + 1]
            if not first < end <= len(items):
                return None
            mine = [n for n in changed if first <= n < end]
            more = after.get(end - 1, ())
            if mine or more:
                chunk = kept.chunk(number)
                if chunk is None or len(chunk) != end - first:
                    return None
                for n in mine:
                    chunk[n - first] = changed[n]
                chunk.extend(row for _, row in more)
                for start in range(0, len(chunk), CHUNK):
                    firsts.append(first + shift + start)
                    lines.append(orjson.dumps(chunk[start:start + CHUNK]))
            else:
                line = kept.line(number)
                if line is None:
                    return None
                firsts.append(first + shift)
                lines.append(line)
            shift += len(more)
        if shift != sum(map(len, after.values())):
            return None  # a section's last row that ends no line: never kept so
        at, ends = kept.at, self.ends
        if after:
            listed = []
            for n, row in enumerate(items):
                listed.append(row)
                listed.extend(shown for shown, _ in after.get(n, ()))
            items, at = listed, {}
            for n, row in enumerate(items):  # as `keep_readings` names them
                at.setdefault(row[0], n)
                at.setdefault(row[8], n)
            ends = {uuid: end + sum(len(more) for p, more in after.items() if p <= end)
                    for uuid, end in ends.items()}
        shown_now = {"items": items, "empty": self.listed["empty"]}
        orphans = {k: v for k, v in self.orphans.items() if k not in self.ids}
        keep(journal, self.key, identity, slug, self.viewer, shown_now)
        _write_readings(journal, self.key, identity, slug, self.viewer, at, firsts, lines,
                        _checkpoint(fold, self.every, orphans, counts, ends, self.sections))
        return _Extended(shown_now, at, firsts, lines)


def _resume(journal: Path, slug: str, viewer: str | None, read: _Read, *, tail: bool,
            ref: str | None = None) -> _Resumed | None:
    """The kept checkpoint of the journal's first L bytes resumed and extended by the commits
    after them (`tail`: there must be some), when the journal now starts with exactly those
    bytes and its tail only touches items (`state.ONE_ITEM`). `ref`: an item restored even if
    the tail leaves it alone (touched[uuid] names its row). None otherwise: a full read."""
    raw = read.raw
    tails: list[list[dict[str, Any]]] = []

    def extends(head: dict[str, Any]) -> bool:
        """Asked before the HMAC is checked: a tail no resumed fold may take (a structural
        write, which a keeper may be keeping anew) is turned away without reading further."""
        size = head["size"]
        if not (isinstance(head.get("fold"), dict) and 0 < size <= len(raw)
                and (size < len(raw) or not tail)
                and raw[size - 1:size] == b"\n" and raw.endswith(b"\n")):
            return False
        batches = appended(raw[size:])  # a structural tail: not even the prefix hashed
        if batches is None or not _may_pass(batches) or read.sha256(size) != head["sha256"]:
            return False
        tails.append(batches)
        return True

    key = _key(create=False)
    kept = _Readings.open(journal, slug, viewer, extends)
    if key is None or kept is None:
        return None
    size, sha256 = kept.head["size"], kept.head["sha256"]
    shown = _vouched(_place(journal, slug, viewer))
    try:
        listed = orjson.loads(shown) if shown is not None else None
    except orjson.JSONDecodeError:
        return None
    if not (listed is not None and _well_formed(listed)
            and _ours(listed, slug, viewer, "listing")
            and [listed["size"], listed["sha256"]] == [size, sha256]
            and (len(listed["items"]) > kept.firsts[-1] if kept.firsts
                 else not listed["items"])):
        return None
    try:
        with bulk():
            return _resumed(key, slug, viewer, kept, listed, tails[-1], ref)
    except _CAUGHT:
        return None  # the full read refuses it in its own words, or reads it


# What a resumed fold may take: records on one item, and an item added at the end of a
# section that has kept rows (`_appended`); any other kind that folds is structural.
_PASSING = ONE_ITEM | {records.ITEM_ADD}


def _may_pass(batches: list[dict[str, Any]]) -> bool:
    """Whether every record of a tail is of a kind a resumed fold may take (`_resumed` decides
    the rest, its records decoded): else it goes to the full read, or a keeper's data."""
    for batch in batches:
        for doc in batch.get("a", {}).get("records", ()):
            content = doc.get("record") if isinstance(doc, dict) else None
            kind = content.get("kind") if isinstance(content, dict) else None
            if not isinstance(kind, str) or kind in FOLDED and kind not in _PASSING:
                return False
    return True


def _resumed(key: bytes, slug: str, viewer: str | None, kept: _Readings,
             listed: dict[str, Any], batches: list[dict[str, Any]],
             ref: str | None) -> _Resumed | None:
    point = kept.head["fold"]
    last, fields, orphans = point["last"], point["fields"], point["orphans"]
    seen, counts, ends = point["seen"], point["journal"], point["ends"]
    sections = point["sections"]
    if not ((last is None or _typed(last, (int, str, int, int, str))) and _strings(fields)
            and _strings(orphans) and isinstance(point["heads"], list)
            and isinstance(point["anchors"], dict)
            and (point["viewer"] is None or isinstance(point["viewer"], str))
            and isinstance(seen, dict) and all(
                isinstance(ids, list) and all(isinstance(i, str) for i in ids)
                for ids in seen.values())
            and (counts is None or (_typed(counts, (int, int)) and min(counts) >= 0))
            and isinstance(ends, dict) and all(
                type(n) is int and 0 <= n < len(listed["items"]) for n in ends.values())
            and isinstance(sections, list) and all(_typed(s, (str, str)) for s in sections)
            and set(ends) <= {uuid for uuid, _ in sections}):
        return None
    genesis = records.decode(point["genesis"], strict=False)
    heads = [records.decode(doc, strict=False) for doc in point["heads"]]
    anchors = {rid: records.decode(doc, strict=False) for rid, doc in point["anchors"].items()}
    if genesis.kind != records.GENESIS or not all(a.joint for a in anchors.values()) \
            or set(anchors) != {r.id for r in heads if not r.joint}:
        return None
    tail: list[records.Record] = []
    labels = dict(orphans)
    known = set(orphans)
    lines, superseded = counts if counts is not None else (0, 0)
    for batch in batches:
        tail.extend(records.decode(doc, strict=False)
                    for doc in batch.get("a", {}).get("records", ()))
        for table, docs in batch.get("p", {}).items():
            if table != "labels":
                counts = None  # whether its keys were put before is not kept
            for name in docs:
                superseded += name in known if table == "labels" else 0
                known.add(name)
        labels.update(batch.get("p", {}).get("labels", {}))
    lines += len(batches)
    ids = {r.id for r in tail}
    if len(ids) != len(tail) or not set(labels) - set(orphans) <= ids:
        return None  # a label remembered for a record read before: a full read
    every = ResumedSet.resumed(heads, anchors, tuple(last) if last is not None else None)
    assert isinstance(every, ResumedSet)  # `resumed` builds its own class
    every.genesis_id = genesis.id
    resume_seen(every, seen)
    for record in tail:
        if record.kind in FOLDED and record.kind not in ONE_ITEM and not (
                record.kind == records.ITEM_ADD and record.joint):
            return None  # the structure changes: numbers, sections, the roster
        if record.id in every or not every.add(record):
            return None  # sorts before what was folded: a full read folds again in order
    fold = Fold(point["viewer"], slug)
    touched: dict[str, int] = {}
    added = _appended(kept, listed["items"], ends, tail)
    if added is None:
        return None  # an item added elsewhere than at the end of a section with kept rows
    for record in tail:
        uuid = record.body.get("item")
        if record.kind in FOLDED and fold.visible(record) and isinstance(uuid, str):
            n = kept.index(uuid)
            if n is not None:
                touched[uuid] = n
    if ref is not None:
        n = kept.index(ref)
        found = _reading(kept.row(n), ref) if n is not None else None
        if found is None:
            return None  # an unknown item: the full read refuses it
        touched.setdefault(found.uuid, n)  # type: ignore[arg-type]
        if touched[found.uuid] != n:
            return None
    folds: dict[str, ItemFold] = {}
    rows: dict[int, Any] = {}
    for uuid, n in touched.items():
        rows[n] = kept.row(n)
        restored = _item_fold(rows[n])
        if restored is None or restored.uuid != uuid or uuid.strip() != uuid:
            return None
        folds[uuid] = restored
    fold = Fold.resumed(point["viewer"], slug, labels, genesis, fields,
                        tuple(last) if last is not None else None, folds)
    for record in tail:
        fold.apply(record, every.sort_key(record))
    return _Resumed(key, slug, viewer, kept, listed, every, fold, touched, rows, orphans, ids,
                    (lines, superseded) if counts is not None else None, added, ends,
                    sections)


def _appended(kept: _Readings, listed: list[Any], ends: dict[str, int],
              tail: list[records.Record]) -> dict[str, tuple[int, str, str]] | None:
    """The items the tail adds (`summit add`, an import into a summit), when each goes at the
    end of a section that has kept rows: it sorts after its last item by (order key, add id),
    as `Fold.summit` places items, so no other item moves and it is numbered one past that
    last row. For each, in the order added: its section's last kept row, its number, the
    section's title. None for any other add (an empty or unknown section, a place before
    the last item, a uuid already named): a full read."""
    added: dict[str, tuple[int, str, str]] = {}
    last: dict[str, tuple[tuple[int, ...], str]] = {}  # section -> its last (key, add id)
    count: dict[str, int] = {}  # section -> items added to it
    for record in tail:
        if record.kind != records.ITEM_ADD:
            continue
        body = record.body
        section, order = body.get("section"), body.get("order")
        end = ends.get(section) if isinstance(section, str) else None
        if end is None or not (isinstance(order, list) and all(
                type(k) is int for k in order)) or record.uuid in kept.at \
                or record.uuid in added:
            return None
        if section not in last:
            held = _item_fold(kept.row(end))
            if held is None or held.section != section or held.uuid != listed[end][8]:
                return None
            last[section] = (held.key, held.add_id)
        place = (tuple(order), record.id)
        if not place > last[section]:
            return None
        last[section] = place
        prefix, dot, k = listed[end][0].rpartition(".")
        if not (dot and k.isascii() and k.isdigit()):
            return None
        count[section] = count.get(section, 0) + 1
        added[record.uuid] = (end, f"{prefix}.{int(k) + count[section]}", listed[end][2])
    return added


# A write served from the checkpoint ----------------------------------------------------------

# A write on a journal this large keeps its viewer's checkpoint, so that the next is served;
# below it a full read costs little more than a served one, and keeps nothing.
SERVE_FROM = 256 * 1024


def _resume_to_write(path: Path, slug: str, code: str | None, read: _Read,
                     ref: str | None = None) -> _Resumed | None:
    """The viewer's checkpoint extended by the journal's tail, for a write under the lock
    (`serve`, `serve_add`); asked again once a keeper at work that may be keeping this
    viewer's data has finished (`_keeper_done`)."""
    resumed = _resume(path, slug, code, read, tail=False, ref=ref)
    if resumed is None and _keeper_done(path, code):
        resumed = _resume(path, slug, code, read, tail=False, ref=ref)
    return resumed


def serve(ws: Workspace, slug: str, viewer: str | None, ref: str) -> ServedFile | None:
    """The summit file a write on one item (`summit table`, `accept`, a note, a status) as
    `viewer` reads, from that viewer's kept checkpoint extended by the journal's tail; None
    for anything unusual (then the write reads in full, and refuses in its words). Called
    under the workspace lock, which the write holds until its commit: the bytes read here
    are the ones it appends to."""
    from agenda.workspace import ServedFile

    code = viewer.strip().upper() if viewer is not None else None
    path = ws.summit_path(slug)
    read = _Read.of(path)
    if read is None or read.stamp is None:
        return None
    # Not served (no checkpoint for this viewer, or anything unusual): the write reads the
    # file in full, from these bytes if it still has the stamp they were read under.
    ws.offer(slug, read.stamp, read.raw)
    resumed = _resume_to_write(path, slug, code, read, ref)
    if resumed is None or resumed.counts is None or resumed.fold.viewer != code:
        return None
    fold, every = resumed.fold, resumed.every
    roster = fold.roster
    if roster is None or (code is not None and code not in roster.codes):
        return None  # the full read refuses an unknown delegation
    if code is not None and not sorts_last(every, records.team(code)):
        return None  # a draft or note would sort before what was folded
    n = resumed.kept.index(ref)
    uuid = next(u for u, m in resumed.touched.items() if m == n)
    item = fold.items[uuid]
    if code is not None and any(
            r.tabled and any(p in item.by_uuid and not item.by_uuid[p].tabled
                             for p in r.parents) for r in item.history):
        return None  # the joint status might differ from the viewer's
    journal = Journal(path, ws.lock)
    journal.serve(read.stamp, len(read.raw), *resumed.counts)
    if journal.compaction_due():
        return None
    row = resumed.rows[n]  # type: ignore[index]
    shown = item.item(slug, row[0], Section(item.section, row[2]))
    return ServedFile(slug, journal, every, fold, shown,
                      lambda served: _keep_served(path, read, resumed, served))


def serve_add(ws: Workspace, slug: str, section: str) -> ServedAdd | None:
    """The summit file `summit add` (one item, at the end of its section) reads, from the
    joint view's kept checkpoint extended by the journal's tail; None for anything unusual
    (then the add reads in full). What the add reads of the summit: its sections in order,
    each with its items (the kept listing's rows and those the tail added), the order key
    of each section's last item, the record set's frontier for the clock, and the joint
    fold the new item is folded into. Called under the workspace lock, as `serve`. Not for
    an item added to an empty `section` (or none such): its checkpoints would not extend by
    it, and the full read keeps them anew (`keep_changed`)."""
    from agenda.workspace import ServedAdd, _section_index

    path = ws.summit_path(slug)
    read = _Read.of(path)
    if read is None or read.stamp is None:
        return None
    resumed = _resume_to_write(path, slug, None, read)
    if resumed is None or resumed.counts is None or resumed.fold.viewer is not None:
        return None
    fold, kept = resumed.fold, resumed.kept
    if fold.roster is None:
        return None
    members: dict[str, list[str]] = {}
    index = {str(n): uuid for n, (uuid, _) in enumerate(resumed.sections, start=1)}
    for row in resumed.listed["items"]:
        home = index.get(row[0].rpartition(".")[0])
        if home is None:
            return None
        members.setdefault(home, []).append(row[8])
    for uuid, (_, number, _) in resumed.added.items():
        members.setdefault(index[number.rpartition(".")[0]], []).append(uuid)
    laid_out = [Section(uuid, title, tuple(members.get(uuid, ())))
                for uuid, title in resumed.sections]
    try:
        if not laid_out[_section_index(laid_out, section)].items:
            return None
    except AgendaError:
        return None  # the full read refuses it in its own words
    for home, uuids in members.items():
        if uuids[-1] not in fold.items:  # the key after which an item is added
            n = kept.index(uuids[-1])
            last = _item_fold(kept.row(n)) if n is not None else None
            if last is None or last.uuid != uuids[-1] or last.section != home:
                return None
            last.recompute(fold.roster)
            fold.items[last.uuid] = last
    journal = Journal(path, ws.lock)
    journal.serve(read.stamp, len(read.raw), *resumed.counts)
    if journal.compaction_due():
        return None
    return ServedAdd(slug, journal, resumed.every, fold, laid_out,
                     lambda served: _keep_served(path, read, resumed, served))


def _keep_served(path: Path, read: _Read, resumed: _Resumed, served: ServedFile) -> None:
    """After a served write's commit, under the lock: the checkpoint kept anew for the file
    as it now is (the bytes read, and the line the write appended); best effort."""
    try:
        with open(path, "rb") as handle:
            handle.seek(len(read.raw))
            line = handle.read()
        read.sha256(len(read.raw))
        assert read._hashed is not None
        hasher = read._hashed[1].copy()
        hasher.update(line)
        # Items the write added (`serve_add`), beside those of the tail: after their
        # sections' last rows, as `_extend` places them.
        added = _appended(resumed.kept, resumed.listed["items"], resumed.ends,
                          list(resumed.every.ordered))
        if added is None:
            return
        resumed.added = added
        with bulk():
            resumed.keep(path, (len(read.raw) + len(line), str(hasher.hexdigest())),
                         served.journal.counts())
    except (OSError, *_CAUGHT):
        pass


def keep_written(ws: Workspace, slug: str, viewer: str | None,
                 read: _Read | None = None) -> None:
    """After a write on one item read in full, under the lock: keep the viewer's checkpoint
    (its listing and readings) for the file as the write left it, when it is large enough
    that the next write is worth serving (`SERVE_FROM`); best effort. `read`: the file's
    bytes as read under that lock, hashed once for every viewer kept."""
    path = ws.summit_path(slug)
    identity: tuple[int, str] | Callable[[], tuple[int, str]] | None
    state: SummitState | Callable[[Fold], SummitState]
    folded: _Folded | Callable[[], _Folded] | None
    try:
        if os.path.getsize(path) < SERVE_FROM:
            return
        key = _key(create=True)
        if read is not None:
            identity = (len(read.raw), read.sha256(len(read.raw)))
        elif _DEFERRED is not None:
            # Kept after the output: the bytes the write read and appended (held by its
            # journal), else read here, under the lock, and hashed then (by the forked
            # keeper): the same bytes, the same digest.
            identity = ws.written_bytes_later(slug) or functools.partial(digest,
                                                                         read_file(path))
        else:
            identity = _identity(path)
        folded = ws.written_later(slug, viewer) if _DEFERRED is not None else None
        if folded is not None:
            # Kept after the output: the viewer's fold (the write's, or made then from the
            # records the write holds, the file's whole: `written_later`) and the state
            # `ws.state` gives, made then from that fold; nothing folds into them after the
            # commit.
            events, count = ws.event_log(slug)
            state = functools.partial(Fold.snapshot, events=events, count=count)
        else:
            state = ws.state(slug, viewer)
            folded = ws.written_fold(slug, viewer)
    except (OSError, StoreError, *_CAUGHT):
        return
    if key is None or identity is None or folded is None:
        return
    # The bytes, state and fold read under the lock: kept now or after the output.
    _keep_state(path, key, identity, slug, viewer, state, folded, tidy=False)


def keep_changed(ws: Workspace, slug: str, held: bool) -> int | None:
    """After a commit that changed a summit otherwise than through a write on one item (an
    import, an item added, moved or retitled, a receive), under the lock: keep the joint
    view's checkpoint and that of every delegation whose kept data the commit made stale,
    for the file as the commit left it, when it is over `SERVE_FROM`; so the next `items`,
    `show` or `table` is served, not read in full. Each is what a full read as that viewer
    keeps, made from the folds the write extended when it holds them, else folded from the
    records in memory. A summit the commit wrote out and no longer `held` (an import into a
    new summit: its memory bounded whatever its size) is read in full and kept by a detached
    worker (`keep_worker`); its pid, else None. Best effort."""
    path = ws.summit_path(slug)
    try:
        if os.path.getsize(path) < SERVE_FROM:
            return None
    except OSError:
        return None
    if not held:
        return _spawn_keeper(ws.path, slug, path)
    try:
        read = _Read.of(path)  # under the lock: the file as the commit left it
        for viewer in [None, *(d.code for d in ws.summit(slug).actors)]:
            if viewer is not None and not _place(path, slug, viewer, "readings").exists():
                continue
            if read is not None and _resume(path, slug, viewer, read, tail=True) is not None:
                continue  # it extends by the commit (an item added): the next read does that
            keep_written(ws, slug, viewer, read)
    except (OSError, AgendaError, *_CAUGHT):
        pass  # the commit stands; the next read reads in full, and says what is wrong
    return None


def _keeping_fd(journal: Path) -> int | None:
    try:
        place = keeping_lock(journal)
        place.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(place, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return None


def _take_keeping(journal: Path, viewers: list[str | None] | None = None,
                  tries: int = 10) -> int | None:
    """The journal's keeping lock, taken: its descriptor, else None (another keeper holds it,
    or no lock file can be opened). A reader's shared hold, a glance (`_keeper_done`), is
    waited out for a few milliseconds (`tries` looks 2 ms apart). The lock file then names
    the `viewers` whose data the keeper keeps (None: any viewer's, as a detached keeper
    may), for `_keeper_done`."""
    import fcntl

    fd = _keeping_fd(journal)
    if fd is None:
        return None
    for look in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            name_kept(fd, viewers)
            return fd
        except BlockingIOError:
            if look + 1 < tries:
                time.sleep(0.002)
        except OSError:
            break
    os.close(fd)
    return None


def name_kept(fd: int, viewers: list[str | None] | None) -> None:
    """Write, in the keeping lock just taken, whose data its keeper keeps: one line a viewer
    (`-` the joint view), `*` for any; and, once the keeper runs in the background
    (agenda.detached), `pid=N`, so that a reader's checker does not wait for its core
    (journal.py's `_core_free`). Best effort: an empty or unreadable file reads as `*`."""
    from agenda import detached

    named = b"*" if viewers is None else b"\n".join(
        sorted({_viewer_tag(v) for v in viewers}))
    pid = detached.background_pid()
    if pid is not None:
        named += b"\n" + detached.naming(pid)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, named + b"\n", 0)
    except OSError:
        pass


def _viewer_tag(viewer: str | None) -> bytes:
    return b"-" if viewer is None else viewer.strip().upper().encode()


def _keeps_for(named: bytes, viewer: str | None) -> bool:
    """Whether the keeper whose lock's text is `named` (`_lock_text`) may be keeping
    `viewer`'s data: it names that viewer, or any (`*`, empty, unreadable)."""
    words = named.split()
    return not words or b"*" in words or _viewer_tag(viewer) in words


def _lock_text(fd: int) -> bytes:
    """What the keeping lock `fd` names (`name_kept`); empty where it cannot be read."""
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return b""


_ANY = "*"  # `_keeper_done` for whatever viewer the keeper keeps
STARVED_LOOK = 0.25  # seconds between a waiting read's looks at a background keeper's CPU


def _starved(looked: tuple[float, float | None], now: float, cpu: float | None) -> bool:
    """Whether a keeper whose CPU time was `looked[1]` at `looked[0]` and is `cpu` at `now`
    had less than half a core meanwhile. Not when /proc cannot tell."""
    then, before = looked
    return cpu is not None and before is not None and cpu - before < (now - then) / 2


KEEPER_WAIT = 60.0  # seconds a read waits for a keeper at work before reading in full
_HOLDING: list[bool] = []  # this process is the keeper: it never waits for itself


def holding_keeping() -> None:
    """Said by a keeper (the forked child, `keep_worker`) that holds the keeping lock."""
    _HOLDING.append(True)


def _keeper_done(journal: Path, viewer: str | None = _ANY) -> bool:
    """Whether a keeper (a forked child, a detached worker) was at work and has finished:
    a read that found no kept data for its bytes waits for it rather than reading in full
    beside it, on the same cores, to make what it is writing. One open and one lock when
    no keeper is at work (False). A keeper past `KEEPER_WAIT` is not waited for longer, nor
    one whose lock names other viewers than `viewer` (`_take_keeping`): what it keeps is
    not what this read looks for (the `table` as RU right after an `items` that kept the
    joint view waited 0.4 s at 20,000 items for nothing it could read). Nor one in the
    background (its lock names its pid) that had less than half a core over the last
    `STARVED_LOOK` while this read waited (`_starved`): at the lowest priority on a machine
    busy with other work, it may not finish for minutes, and the read reads in full."""
    import fcntl

    from agenda import detached

    if _HOLDING:
        return False
    try:
        fd = os.open(keeping_lock(journal), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        deadline = None
        pid: int | None = None  # the keeper, in the background
        looked: tuple[float, float | None] = (0.0, None)  # when it was looked at; its CPU time
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return deadline is not None
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    named = _lock_text(fd)
                    if viewer != _ANY and not _keeps_for(named, viewer):
                        return False
                    deadline = now + KEEPER_WAIT
                    pid = detached.pid_named(named)
                    if pid is not None:
                        looked = (now, detached.cpu_seconds(pid))
                elif now > deadline:
                    return False
                elif pid is not None and now - looked[0] >= STARVED_LOOK:
                    cpu = detached.cpu_seconds(pid)
                    if _starved(looked, now, cpu):
                        return False
                    looked = (now, cpu)
                time.sleep(0.01)
    except OSError:
        return False
    finally:
        os.close(fd)  # the shared lock with it: a keeper's own never waits for a reader


def _spawn_keeper(workspace: Path, slug: str, journal: Path) -> int | None:
    """Start `agenda.keep_worker` apart from the command (agenda.detached), holding the
    keeping lock taken here; None when another keeper holds it (the next read then reads in
    full, as without one) or nothing can start."""
    from agenda import detached

    fd = _take_keeping(journal)
    if fd is None:
        return None
    try:
        return detached.spawn("agenda.keep_worker", fd, {}, [str(workspace), slug])
    except OSError:
        return None  # best effort: the next read reads in full
    finally:
        os.close(fd)  # the worker holds the lock on its copy until it exits
