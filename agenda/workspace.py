"""The negotiation's operations: create summits, add items, table, accept, decide, notes.

A workspace is one JSON file (the summit index, a TinyDB file) and a folder beside it holding
one append-only journal per summit (journal.py). Every operation writes immutable records
(records.py); what anyone sees is computed from them (state.py, by the rules in rules.py).
Every operation runs in a transaction: the workspace lock is held, files changed by other
processes are re-read, and all of the operation's records, with the local event that logs
them, land in one commit or not at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import orjson
from tinydb import Query

from agenda import records, rules, undo
from agenda.digest import sha256
from agenda.frozen import frozen
from agenda.journal import Journal
from agenda.model import (
    OPEN_STATUSES,
    SLUG_RE,
    Acceptance,
    AgendaError,
    Code,
    Delegation,
    Event,
    Item,
    Note,
    NotFound,
    Revision,
    Section,
    Status,
    Summit,
    check_delegation_code,
    check_transition,
    clean_title,
    from_iso,
    now_utc,
    slugify,
    to_iso,
)
from agenda.records import Record
from agenda.state import (
    Compilation,
    Fold,
    ItemFold,
    RecordSet,
    SummitState,
    bulk,
    compile_item,
    fold_all,
    fold_item,
    fresh_item,
    key_between,
    keys_in_order,
    narrowed_alone,
    take_counts,
)
from agenda.store import (
    StoreError,
    WorkspaceLock,
    atomic_write,
    file_mode,
    folder_mode,
    forget_cached_ids,
    fsync_folder,
    open_db,
    remove_stale_temp_files,
    storage_of,
)

if TYPE_CHECKING:  # the exchange's keys load cryptography only in bound workspaces
    from agenda.exchange.keys import Identity

_T = TypeVar("_T")


class _Unvouched(Exception):
    """A checker did not vouch for the records a whole read trusted (`Workspace._verified`)."""

MAX_TEXT_BYTES = 1_000_000
MAX_LINE = 500

DEFAULT_SECTIONS = (
    "Political & Strategic",
    "Trade & Economic",
    "Connectivity",
    "Energy",
    "Health",
    "Defence & Military-Technical",
    "Multilateral",
)


@frozen
class NewItem:
    """An item to propose: where it goes, what it says, and why."""

    section: str  # title, number or uuid
    title: str
    text: str
    why: str = ""
    tags: tuple[str, ...] = ()


@frozen
class SummitEntry:
    """A summit as listed in the workspace index (without opening its file)."""

    slug: str
    uuid: str
    title: str
    venue: str
    dates: str
    created: datetime


@frozen
class AddedItem:
    """What an import reports of an item it added (`add_items_streamed`): not the whole
    Item, 100k of which were held to the end of an import."""

    uuid: str
    number: str
    title: str
    status: Status


class _Tally(Sequence[str]):
    """A transaction's record ids, event uuids or event details, as its `ops` entry uses
    them (undo.op_entry): the first few, and how many. An import's 300k were held to the
    commit for that."""

    KEEP = 3

    def __init__(self) -> None:
        self.first: list[str] = []
        self.total = 0

    def append(self, value: str) -> None:
        if self.total < self.KEEP:
            self.first.append(value)
        self.total += 1

    def extend(self, values: Sequence[str]) -> None:
        room = self.KEEP - len(self.first)
        if room > 0:
            self.first.extend(values[:room])
        self.total += len(values)

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            if (index.stop is None or index.stop < 0 or index.stop > self.KEEP
                    or index.start not in (None, 0) or index.step not in (None, 1)):
                raise IndexError("a tally keeps its first few entries only")
            return self.first[index]
        if not 0 <= index < len(self.first):
            raise IndexError("a tally keeps its first few entries only")
        return self.first[index]


def new_uuid() -> str:
    """A random (version 4) uuid, spelled as `str(uuid.uuid4())` spells it, at a sixth of its
    cost: an import writes two or three events per item, each with one. They are made 256 at
    a time, from one read of the system's random source."""
    try:
        return _UUIDS.pop()  # atomic: threads never share one
    except IndexError:
        pass
    raw = bytearray(os.urandom(16 * 256))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC)
    h = raw.hex()
    made = [f"{h[n:n + 8]}-{h[n + 8:n + 12]}-{h[n + 12:n + 16]}-{h[n + 16:n + 20]}-"
            f"{h[n + 20:n + 32]}" for n in range(0, len(h), 32)]
    uuid = made.pop()
    _UUIDS.extend(made)
    return uuid


_VERSION_4 = bytes(b & 0x0F | 0x40 for b in range(256))
_VARIANT_RFC = bytes(b & 0x3F | 0x80 for b in range(256))
_UUIDS: list[str] = []
# A child process must not hand out its parent's uuids again.
os.register_at_fork(after_in_child=_UUIDS.clear)


_STAMP_HEAD: dict[tuple[int, ...], str] = {}


def _stamp(moment: datetime) -> str:
    """`to_iso(moment)`, its date and time to the second formatted once a second: an import
    stamps two records and two or three events per item, and `isoformat` of an aware time
    was a tenth of the write."""
    if moment.tzinfo is not UTC:
        return to_iso(moment)
    key = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    head = _STAMP_HEAD.get(key)
    if head is None:
        _STAMP_HEAD.clear()  # one second at a time (threads may race here: harmlessly)
        head = _STAMP_HEAD[key] = moment.replace(microsecond=0, tzinfo=None).isoformat()
    return f"{head}.{moment.microsecond:06d}Z"


def check_text(text: str, *, allow_empty: bool = False) -> str:
    """Bodies are stored faithfully, but a text must be text, and of a sane size."""
    if "\x00" in text:
        raise AgendaError("The text contains NUL bytes; is it a binary file?")
    try:
        size = len(text.encode("utf-8"))  # one encoding for both checks: an import has 100k
        surrogates = False
    except UnicodeEncodeError:
        size, surrogates = len(text.encode("utf-8", "surrogatepass")), True
    if size > MAX_TEXT_BYTES:
        raise AgendaError(
            f"The text is {size:,} bytes; a revision is limited to {MAX_TEXT_BYTES:,} bytes"
        )
    if surrogates:
        raise AgendaError("The text is not valid Unicode (it contains lone surrogates)")
    if not allow_empty and not text.strip():
        raise AgendaError("The text is empty; give the item some text")
    return text


def _checked(spec: NewItem) -> NewItem:
    """A new item's title and text checked, its tags trimmed: the same spec when nothing
    changes (an import's 100k specs are not held twice)."""
    title, text = clean_title(spec.title, "item title"), check_text(spec.text)
    tags = tuple(t.strip() for t in spec.tags if t.strip())
    if title is spec.title and text is spec.text and tags == spec.tags \
            and type(spec.tags) is tuple:
        return spec
    return NewItem(spec.section, title, text, spec.why, tags)


def _check_plain(specs: Sequence[NewItem]) -> None:
    """The records are written as `records.make_own` takes them: of their kinds' shapes by
    construction, from these strings."""
    if any(not isinstance(spec.why, str) or not all(isinstance(t, str) for t in spec.tags)
           for spec in specs):
        raise AgendaError("A justification or a tag is not text")


def check_line(value: str, what: str) -> str:
    """A one-line detail (venue, dates, host): may be empty, never control characters."""
    return clean_title(value, what) if value.strip() else ""


class SummitFile:
    """One summit's journal and what has been computed from it, kept up to date.

    The records are decoded once; each viewer's fold is extended with the records written
    since, and rebuilt only when a record arrives that sorts before what it has folded.
    """

    def __init__(self, slug: str, journal: Journal) -> None:
        self.slug = slug
        self.journal = journal
        self.legacy: tuple[list[Record], list[dict[str, Any]]] | None = None
        # The running transaction's records and what its events said: one undoable operation.
        self.op_ids = _Tally()
        self.op_events = _Tally()
        self.op_what = _Tally()
        self.op_actors: set[str] = set()
        # The viewer of the write on one item this transaction read (`item_state`), for
        # keeping its checkpoint once committed (`Workspace.keep_written`).
        self.written_as: tuple[str | None] | None = None
        # Set by a read-only command's whole read (`Workspace._file`): its records are
        # decoded trusting their ids while the journal's checker hashes them, and the
        # checker's verdict is asked once the state is folded (`verified`).
        self.verify_later = False
        self._reset()

    def _reset(self) -> None:
        self.generation = -1
        self.every = RecordSet()
        self.introduced: set[str] = set()  # devices whose key.cert this summit holds
        self.folds: dict[str | None, Fold] = {}
        self.seen = 0
        self._events: list[Event] = []
        # None: the journal's, taken when first asked for (deferred: `Journal.lazy_tables`).
        self._event_docs: list[dict[str, Any]] | None = []
        # Its records decoded trusting the journal's checker, not yet vouched for (`verified`).
        self._trusting = False

    def event_count(self) -> int | Callable[[], int]:
        """How many entries the event log has, or, while the journal has not parsed it
        (`Journal.deferring`), a function that says how many the read found."""
        docs = self._event_docs
        if docs is None:
            if self.journal.deferring:
                return self.journal.count_later("events")
            docs = self._event_docs = self.journal.logs.get("events", [])
        return len(docs)

    def events(self) -> list[Event]:
        """The local event log, its entries built on first reading."""
        docs = self._event_docs
        if docs is None:
            docs = self._event_docs = self.journal.logs.get("events", [])
        if len(docs) < len(self._events):
            self._events = []
        self._events.extend(_event(doc) for doc in docs[len(self._events):])
        return self._events

    def sync(self) -> None:
        """Take in what the journal holds that has not been decoded yet."""
        journal = self.journal
        journal.load()
        if journal.generation != self.generation:
            self._reset()
            self.generation = journal.generation
            self.legacy = None
            if journal.legacy is not None:
                from agenda.migrate import convert

                self.legacy = convert(journal.legacy)
        # The ids of a whole read's records, when checked apart (Journal.check_apart).
        checked = journal.ids_checked(whole=self.seen == 0 and self.legacy is None)
        event_docs: list[dict[str, Any]] | None
        if self.legacy is not None:
            docs_records, events = self.legacy
            new_records = docs_records[self.seen:]
            event_docs = events
        else:
            docs = journal.records_log()[self.seen:]
            if checked is not None and self.verify_later:
                # Trusted until the state is folded: `verified` asks the checker then.
                trusted = records.decode_trusting(docs, shaped=True)
                if trusted is None and not checked():
                    self.read_again()  # refused, but not of the lines parsed whole
                    return
                new_records = trusted if trusted is not None else records.decode_all(docs)
                self._trusting = trusted is not None
            else:
                new_records = records.decode_all(docs, checked)
            event_docs = None if journal.deferring else journal.logs.get("events", [])
        self._take(new_records)
        self._event_docs = event_docs

    def records_verified(self) -> bool:
        """`verified`'s first half: the records of a whole read decoded trusting their ids
        are the journal's, their ids checked (`Journal.vouched_records`); the lines parsed
        in parts are yet to be vouched for whole (`verified`)."""
        return not (self._trusting or self.journal.in_parts) or self.journal.vouched_records()

    def verified(self) -> bool:
        """Whether the records of a whole read decoded trusting their ids (`verify_later`)
        are the journal's as a read without a checker finds them: the checker vouched for
        the lines and the ids (`Journal.vouched`). Else `read_again` before using them."""
        return not (self._trusting or self.journal.in_parts) or self.journal.vouched()

    def read_again(self) -> None:
        """Read the file again, every line parsed whole and every id hashed, as a read
        without a checker does; the folds are made again when asked for."""
        self.journal.read_whole_again()
        self._reset()
        self.sync()

    def _take(self, new_records: Sequence[Record]) -> None:
        """Add records to the set and extend every fold, or drop the folds (rebuilt when next
        asked for) when one of them sorts before what they have folded."""
        in_order = self.every.add_all(new_records)
        for record in new_records:
            if record.kind == records.KEY_CERT and record.signer:
                self.introduced.add(record.signer)
        self.seen += len(new_records)
        if not in_order:
            self.folds.clear()
            return
        if self.folds:
            for record in new_records:
                key = self.every.sort_key(record)
                for fold in self.folds.values():
                    fold.apply(record, key)

    def add_own(self, record: Record) -> None:
        """A record this workspace just wrote and appended: no need to decode it again."""
        if self.legacy is not None or self.seen != len(self.journal.records_log()) - 1:
            self.sync()
            return
        self._take([record])

    def fold(self, viewer: str | None) -> Fold:
        fold = self.folds.get(viewer)
        if fold is None:
            labels = self.journal.puts.setdefault("labels", {}) if self.legacy is None else {}
            with bulk():
                fold = fold_all(self.every, viewer, self.slug, labels)
            self.folds[viewer] = fold
        return fold

    def fold_later(self, viewer: str | None
                   ) -> Callable[[], tuple[Fold, RecordSet, tuple[int, int]]]:
        """The viewer's fold, the record set and the journal's counts, the fold (when not
        held) made only when the function returned is called, by a keeper after the
        command's output, from the records in memory now (nothing is taken in after)."""
        every, counts = self.every, self.journal.counts()
        held = self.folds.get(viewer)
        labels = self.journal.puts.setdefault("labels", {})
        slug = self.slug

        def folded() -> tuple[Fold, RecordSet, tuple[int, int]]:
            if held is not None:
                return held, every, counts
            with bulk():
                return fold_all(every, viewer, slug, labels), every, counts

        return folded

    def alone(self, viewer: str | None, ref: str) -> SummitState:
        """`fold(viewer).narrowed(ref, ...)`, without folding every item when that fold is not
        held (`state.narrowed_alone`): a write that keeps after its output leaves the
        viewer's whole fold to its keeper."""
        if viewer in self.folds or self.legacy is not None:
            return self.fold(viewer).narrowed(ref, self.events, self.event_count())
        return narrowed_alone(self.every, viewer, self.slug,
                              self.journal.puts.setdefault("labels", {}), ref, self.events,
                              self.event_count())

    def item_fold(self, viewer: str | None, uuid: str) -> ItemFold:
        """One item's fold as `viewer` sees it: from the viewer's fold when one is held, else
        from that item's records alone (`state.fold_item`), without folding the summit."""
        fold = self.folds.get(viewer)
        if fold is not None or self.legacy is not None:
            return self.fold(viewer).items[uuid]
        found = fold_item(self.every, viewer, self.slug,
                          self.journal.puts.setdefault("labels", {}), uuid)
        if found is None:
            raise KeyError(uuid)
        return found

    def code_of(self, viewer: str) -> str:
        """A delegation's code as the summit spells it. Delegations are named only by the
        genesis, so they are looked up there, not in the joint view: a read as one
        delegation folded 20,000 items twice (the joint view, then its own). A refusal
        comes from the joint view, in its words (it names the summit's current title)."""
        roster = next((f.roster for f in self.folds.values() if f.roster is not None), None)
        genesis = self.every.by_id.get(self.every.summit_id())
        if roster is None and genesis is not None:
            scratch = Fold(None, self.slug)
            scratch.apply(genesis, self.every.sort_key(genesis))
            roster = scratch.roster
        if roster is not None:
            wanted = viewer.strip().upper()
            if any(d.code == wanted for d in roster.actors):
                return roster.delegation(viewer).code
        return self.summit().delegation(viewer).code

    def summit(self) -> Summit:
        summit = self.fold(None).summit
        if summit is None:
            raise StoreError(f"{self.journal.path} holds no summit")
        return summit


class ServedFile(SummitFile):
    """A summit file a write on one item reads from kept data (`snapshot.serve`), not in
    full: the record set's frontier, one viewer's fold holding the item (and those the
    journal's tail touched), the item's number and section, and a journal that appends
    without holding the file (`Journal.serve`). Only that viewer and item can be read from
    it (`narrowed`); the workspace drops it at the end of the transaction, after `keep` has
    kept the checkpoint anew (committed) or at once (rolled back)."""

    def __init__(self, slug: str, journal: Journal, every: RecordSet, fold: Fold,
                 item: Item, keep: Callable[[ServedFile], None]) -> None:
        super().__init__(slug, journal)
        self.every, self.folds = every, {fold.viewer: fold}
        self.viewer, self.served_item, self.keep = fold.viewer, item, keep
        self.generation = journal.generation

    def sync(self) -> None:
        """Nothing to take in: the file was read under the lock, and its own records are
        taken as they are written (`add_own`)."""

    def add_own(self, record: Record) -> None:
        self._take([record])

    def fold(self, viewer: str | None) -> Fold:
        return self.folds[viewer]  # KeyError: `narrowed` only serves its own viewer

    def item_fold(self, viewer: str | None, uuid: str) -> ItemFold:
        """The item's fold as `viewer` sees it. The joint view's status is the served
        viewer's: a status folds joint records only (a draft or a note moves none), and the
        checkpoint serves no item a tabled text restates a draft of (`snapshot.serve`)."""
        if viewer is not None and viewer != self.viewer:
            raise KeyError(viewer)
        return self.folds[self.viewer].items[uuid]

    def summit(self) -> Summit:
        roster = self.folds[self.viewer].roster
        assert roster is not None
        return roster

    def narrowed(self, viewer: str | None, ref: str) -> SummitState | None:
        """`Fold.narrowed` for the served viewer and item; None for any other. The summit is
        its roster (no sections): a write on an item reads only who takes part."""
        item = self.served_item
        if viewer != self.viewer or ref.strip() not in (item.number, item.uuid):
            return None
        fold = self.folds[self.viewer]
        shown = fold.items[item.uuid].item(self.slug, item.number, Section(
            item.section_uuid, item.section))
        return SummitState(self.summit(), (shown,), {item.uuid: fold.items[item.uuid].view(
            shown)}, fold._log((), 0), self.viewer)


class ServedAdd(ServedFile):
    """The summit file `summit add` reads from the joint view's kept checkpoint
    (`snapshot.serve_add`): as a `ServedFile`, and the summit's sections in order, each with
    its items, the joint fold holding each section's last item (its order key) and the items
    the write adds. Only `add_items` of one item reads it; nothing is narrowed."""

    def __init__(self, slug: str, journal: Journal, every: RecordSet, fold: Fold,
                 sections: Sequence[Section], keep: Callable[[ServedFile], None]) -> None:
        SummitFile.__init__(self, slug, journal)
        self.every, self.folds = every, {fold.viewer: fold}
        self.viewer, self.keep = fold.viewer, keep
        self.generation = journal.generation
        self.sections = tuple(sections)

    def summit(self) -> Summit:
        return replace(super().summit(), sections=self.sections)

    def narrowed(self, viewer: str | None, ref: str) -> SummitState | None:
        return None


def _event(doc: Mapping[str, Any]) -> Event:
    return Event(doc["uuid"], from_iso(doc["created"]), doc["actor"], doc["action"],
                 doc["item"], doc["detail"], doc.get("private_to", ""))


class Workspace:
    """A workspace file and its summits; safe to share between threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.path = Path(path).expanduser()
        self.clock = clock
        self.summits_dir = self.path.with_name(self.path.stem + ".summits")
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; --db names a workspace file")
        self.lock = WorkspaceLock(self.path.with_name(self.path.name + ".lock"))
        if not self.path.exists():
            if not create:
                raise NotFound(
                    f"No workspace at {self.path}; create a summit with `summit new` "
                    "or try `summit demo`"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._index = open_db(self.path, kind="workspace", lock=self.lock)
        self._summits: dict[str, SummitFile] = {}
        self._identity: Identity | None = None  # the device key, while the binding names it
        self._tx_identity: tuple[Identity | None] | None = None  # read once per transaction
        self.intent = self.path.with_name(self.path.name + ".intent")
        self._obsolete: set[str] = set()  # summit files the transaction stops naming
        self.recovered: list[str] = []  # what tidying up after a killed operation did
        self.migration_backup: Path | None = None  # set by backup.automatic_backup
        # A write on one item read from kept data, and its checkpoint kept after the commit
        # (snapshot.serve, snapshot.keep_written): set by the commands that write, so the
        # core never imports what sits above it, and the app (which holds its summits in
        # memory) never pays for keeping.
        self.serve: Callable[[Workspace, str, str | None, str], ServedFile | None] | None = None
        self.keep_written: Callable[[Workspace, str, str | None], None] | None = None
        # `summit add` of one item on a large summit reads the joint view's kept checkpoint
        # (snapshot.serve_add), set by that command as `serve` is.
        self.serve_add: Callable[[Workspace, str, str], ServedAdd | None] | None = None
        # The bytes of a summit's file `serve` read under the lock and could not serve from
        # (no checkpoint for its viewer): the write's whole read parses them (`offer`).
        self._offered: tuple[str, tuple[int, int, int], bytes] | None = None
        # Set by a command that keeps after its output (cli._keeping_later): a write on one
        # item read in full folds that item alone (`SummitFile.alone`), and its keeper the
        # viewer's whole fold (`written_later`).
        self.fold_later = False
        # Any other commit that changed a summit (its structure, most often: an import, an
        # item added, moved or retitled, a receive) keeps the checkpoints it made stale, so
        # the next read is served rather than read in full (snapshot.keep_changed).
        self.keep_changed: Callable[[Workspace, str, bool], object] | None = None
        if not self.path.exists():
            with self.lock.hold():
                if not self.path.exists():
                    storage_of(self._index).create()
                    storage_of(self._index).commit()
        # Leftovers of a killed writer are tidied by whoever opens the workspace next, but
        # only when no writer is at work or waiting: a reader never waits for the lock.
        with self.lock.try_hold() as free:
            if free:
                try:
                    remove_stale_temp_files(self.path.parent, self.path.name)
                    remove_stale_temp_files(self.summits_dir)
                    self._recover()
                except OSError:
                    pass  # read-only media: nothing to tidy can be written; `check` says so
        self._reload_index()

    def close(self) -> None:
        self._index.close()

    # Transactions -------------------------------------------------------------------------

    def _reload_index(self) -> bool:
        if storage_of(self._index).refresh():
            forget_cached_ids(self._index)
            return True
        return False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock, see other processes' commits, and commit every change at the end."""
        with self.lock.hold():
            outermost = self.lock.depth == 1
            try:
                if outermost:
                    self._tx_identity = None
                    self._reload_index()
                    for summit in self._summits.values():
                        summit.journal.refresh()
                    self._recover()
                    if storage_of(self._index).migrated_from is not None:
                        self._migrate_summits()
                yield
            except BaseException:
                if outermost:
                    self._tx_identity = None
                    self._rollback()
                raise
            if outermost:
                self._tx_identity = None
                self._commit()

    def _commit(self) -> None:
        """Summit files first, then the index: the index commit is the one commit point.

        The index never names a summit whose file is missing; files this commit creates,
        or stops naming, are listed first in the intent log, so that whatever a kill or a
        full disk interrupts, the next writer (or this one, at once) removes those of them
        the committed index does not name, and the operation happened whole or not at all.
        """
        if self.lock.pending():
            # Computed under a deferred hold: commit only what was computed from the files
            # as they still are; else the operation runs again, under the lock.
            self.lock.take()
            if not (storage_of(self._index).unchanged()
                    and all(s.journal.unchanged() for s in self._summits.values())):
                self._rollback()
                raise _Stale
        listed = sorted({s.journal.path.name for s in self._summits.values()
                         if s.journal.dirty and not s.journal.path.exists()} | self._obsolete)
        changed = [slug for slug, s in self._summits.items()
                   if s.journal.dirty and not isinstance(s, ServedFile)]
        try:
            if listed:
                atomic_write(self.intent, orjson.dumps({"files": listed, "pid": os.getpid()}),
                             mode=file_mode(self.path))
            for summit in self._summits.values():
                self._log_operation(summit)
                summit.journal.commit()
            storage_of(self._index).commit()
        except BaseException:
            self._rollback()
            if listed:
                try:
                    self._recover()
                except (OSError, AgendaError):
                    pass  # the next writer tidies up
            raise
        self._obsolete.clear()
        for slug in [slug for slug, summit in self._summits.items() if summit.journal.released]:
            # Written out, not held (an import into a new summit): read when next asked for.
            del self._summits[slug]
        self._keep_checkpoints(changed)
        if listed:
            self._recover(report=False)

    def _keep_checkpoints(self, changed: Sequence[str]) -> None:
        """After a commit, still under the lock: a write served from kept data keeps it anew
        and is dropped (read in full when next asked for); a write on one item read in full
        keeps its viewer's checkpoint, so that the next is served; any other summit the
        commit `changed` (written out and released ones too) keeps what the commit made
        stale (`keep_changed`). Best effort."""
        # A summit written out and released is no longer held (`keep_changed` reads it again).
        released = [slug for slug in changed if slug not in self._summits]
        others = []
        for slug, summit in list(self._summits.items()):
            written, summit.written_as = summit.written_as, None
            if isinstance(summit, ServedFile):
                del self._summits[slug]
                summit.keep(summit)
            elif written is not None and self.keep_written is not None:
                self.keep_written(self, slug, written[0])
            elif slug in changed:
                others.append(slug)
        # A commit over many summits (a migration: the upgrade) keeps nothing: each is read
        # in full when next asked for, rather than all of them now, under the lock.
        if self.keep_changed is not None and len(changed) == 1:
            for slug in others:
                self.keep_changed(self, slug, True)
            for slug in released:
                self.keep_changed(self, slug, False)

    def compute_then_commit(self, body: Callable[[], _T]) -> _T:
        """Run an operation's body without the lock, then take it only to commit.

        The body reads and computes as a transaction does (for an import: parsing aside,
        matching and building every record), on the files as first read; the commit takes
        the lock and checks that no file it read changed meanwhile, else it runs the body
        again under the lock. A long import holds the lock for its write alone.
        """
        if self.lock.held() or self.intent.exists() or self.pending_migration() is not None:
            with self.transaction():
                return body()
        try:
            with self.lock.deferred(), self.transaction():
                return body()
        except _Stale:
            with self.transaction():
                return body()

    def _recover(self, *, report: bool = True) -> None:
        """Finish or undo an operation over several files that was interrupted: remove every
        file its intent log lists that the committed index does not name. Under the lock."""
        if not self.lock.really_held():
            return  # the intent may be a live writer's, whose files it is about to name
        try:
            raw = self.intent.read_bytes()
        except FileNotFoundError:
            return
        try:
            intent = orjson.loads(raw)
            listed = intent["files"]
            if not isinstance(listed, list):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            intent, listed = {}, []  # torn before it was ever acted on: nothing was written
        named = self._named_on_disk()
        if named is None:
            return  # a damaged index is refused by name elsewhere; touch nothing
        aside = self._uncommitted_aside(intent)
        if aside is not None:
            import shutil  # only here: a kill mid-restore is rare, start-up is not
            shutil.rmtree(aside, ignore_errors=True)
            if report:
                self.recovered.append(f"an interrupted restore left {aside.name}/ with copies "
                                      "of files it never replaced; removed")
        removed = []
        for name in listed:
            if isinstance(name, str) and name not in named and _plain_name(name):
                try:
                    (self.summits_dir / name).unlink()
                    removed.append(name)
                except FileNotFoundError:
                    pass
        if removed and self.summits_dir.is_dir():
            fsync_folder(self.summits_dir)
        self.intent.unlink(missing_ok=True)
        fsync_folder(self.path.parent)
        if report and removed:
            self.recovered.append(
                f"an interrupted operation left {', '.join(removed)} in "
                f"{self.summits_dir.name}/; removed (the index never named them)")

    def _uncommitted_aside(self, intent: object) -> Path | None:
        """The folder of copies a restore's intent names, if that restore never committed.

        A restore lists the folder it keeps the replaced files in, and the digest of the index
        it is about to commit: once the index on disk has that digest, the copies are the
        user's only way back and stay; before, they copy files still in place and go. The name
        is trusted only in the one shape a restore gives it, beside the workspace."""
        if not isinstance(intent, dict):
            return None
        name, digest = intent.get("aside"), intent.get("index")
        if not (isinstance(name, str) and isinstance(digest, str) and "\x00" not in name
                and name == Path(name).name and name.startswith(f"{self.path.stem}.replaced-")):
            return None
        folder = self.path.with_name(name)
        try:
            if sha256(self.path.read_bytes()).hexdigest() == digest:
                return None
        except OSError:
            return None  # an unreadable index is refused by name elsewhere; touch nothing
        return folder if folder.is_dir() and not folder.is_symlink() else None

    def _named_on_disk(self) -> set[str] | None:
        """The summit files the committed index names, read from disk; None if unreadable."""
        try:
            data = orjson.loads(self.path.read_bytes())
            return {str(doc.get("file")) for doc in data.get("summits", {}).values()}
        except (OSError, orjson.JSONDecodeError, AttributeError, TypeError):
            return None

    def orphans(self) -> list[str]:
        """Summit files in the summits folder that the index does not name, and that no
        operation under way (its intent log) is about to name or remove (for check)."""
        named = self._named_on_disk() or set()
        try:
            listed = orjson.loads(self.intent.read_bytes())["files"]
            named |= {name for name in listed if isinstance(name, str)}
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            pass
        try:
            present = sorted(p.name for p in self.summits_dir.iterdir() if _plain_name(p.name))
        except OSError:
            return []
        return [name for name in present if name not in named]

    def unfinished(self) -> bool:
        """An operation's intent log is left and no writer is at work: it was interrupted
        and has not been tidied (the folder is read-only, say)."""
        if not self.intent.exists():
            return False
        with self.lock.try_hold() as free:
            return free and self.intent.exists()

    def fresh_file(self, base: str, taken: Collection[str] = ()) -> str:
        """A name for a new summit file: `base.json`, else `base.N.json`, never one in use."""
        named = self._named_on_disk() or set()
        for n in range(1, 10_000):
            name = f"{base}.json" if n == 1 else f"{base}.{n}.json"
            if name not in taken and name not in named and \
                    not (self.summits_dir / name).exists():
                return name
        raise StoreError(f"{self.summits_dir} holds too many files named {base}.*; "
                         "nothing was changed")

    def _log_operation(self, summit: SummitFile) -> None:
        """One `ops` entry for the records this transaction wrote (see undo.py)."""
        if summit.op_ids:
            actor = summit.op_actors.pop() if len(summit.op_actors) == 1 else ""
            summit.journal.append(undo.OPS, [undo.op_entry(summit.op_ids, summit.op_events,
                                                           actor, summit.op_what)])
        self._forget_operation(summit)

    @staticmethod
    def _forget_operation(summit: SummitFile) -> None:
        summit.op_ids, summit.op_events, summit.op_what = _Tally(), _Tally(), _Tally()
        summit.op_actors = set()

    def _rollback(self) -> None:
        """Forget uncommitted changes, and summits whose file was never written."""
        storage_of(self._index).rollback()
        forget_cached_ids(self._index)
        self._obsolete.clear()
        for slug, summit in list(self._summits.items()):
            self._forget_operation(summit)
            summit.written_as = None
            if isinstance(summit, ServedFile):
                del self._summits[slug]  # it holds records that were never written
                continue
            if summit.journal.dirty:
                summit.journal.rollback()
                summit._reset()
            if not summit.journal.path.exists():
                del self._summits[slug]

    def _migrate_summits(self) -> None:
        """Write every 0.1 summit file as a journal of records (see migrate.py).

        Runs inside the first write transaction after opening a 0.1 workspace, and never
        without the backup taken before it (backup.automatic_backup), which holds the files
        as 0.1 wrote them. The journals are new files, named by the index only when it is
        committed; the 0.1 files go then: a killed migration leaves the 0.1 workspace whole.
        """
        schema = storage_of(self._index).migrated_from
        if self.migration_backup is None or not self.migration_backup.exists():
            raise StoreError(f"{self.path} is in an older format (schema {schema}) and has "
                             "not been backed up before upgrading; nothing was changed")
        index = self._index.table("summits")
        taken: set[str] = set()
        for entry in self.summits():
            summit = self._file(entry.slug)
            if summit.legacy is None:
                continue
            converted, events = summit.legacy
            old = summit.journal.path.name
            name = self.fresh_file(entry.slug, taken)
            taken.add(name)
            journal = Journal(self.summits_dir / name, self.lock)
            journal.create()
            journal.replace_all(
                {"records": [records.encode(r) for r in converted], "events": events},
                {"labels": {}})
            fresh = SummitFile(entry.slug, journal)
            self._summits[entry.slug] = fresh
            index.update({"file": name}, Query().slug == entry.slug)
            self._obsolete.add(old)

    def _summits_folder(self) -> None:
        if not self.summits_dir.is_dir():
            self.summits_dir.mkdir(mode=folder_mode(self.path))
            os.chmod(self.summits_dir, folder_mode(self.path))  # past the umask

    def pending_migration(self) -> int | None:
        """The older schema the workspace is still written in, until its next commit."""
        with self.lock.thread_only():
            self._reload_index()
            return storage_of(self._index).migrated_from

    def changed_on_disk(self) -> bool:
        """True when another process committed since this workspace last read (for the TUI)."""
        with self.lock.thread_only():
            changed = [self._reload_index()]
            changed += [summit.journal.refresh() for summit in self._summits.values()]
            return any(changed)

    # Summits ------------------------------------------------------------------------------

    def summits(self) -> list[SummitEntry]:
        with self.lock.thread_only():
            self._reload_index()
            docs = self._index.table("summits").all()
        return [
            SummitEntry(d["slug"], d["uuid"], d["title"], d.get("venue", ""),
                        d.get("dates", ""), from_iso(d["created"]))
            for d in docs
        ]

    def resolve_slug(self, slug: str | None = None) -> str:
        """The summit named by slug, or the only one; a clear error otherwise."""
        entries = self.summits()
        slugs = [e.slug for e in entries]
        if slug is not None:
            if slug in slugs:
                return slug
            listed = ", ".join(slugs) or "none yet"
            raise NotFound(f"No summit {slug!r} in this workspace (summits: {listed})")
        if len(entries) == 1:
            return entries[0].slug
        if not entries:
            raise NotFound("The workspace has no summit yet; create one with `summit new` "
                           "or try `summit demo`")
        raise AgendaError(f"The workspace has {len(entries)} summits; pick one with "
                          f"--summit ({', '.join(slugs)})")

    def files(self) -> list[Path]:
        """The workspace index and every summit file it names, index first."""
        with self.lock.thread_only():
            self._reload_index()
            docs = self._index.table("summits").all()
        return [self.path, *(self.summits_dir / d["file"] for d in docs)]

    def stored(self, slug: str) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every stored record of a summit as stored (undecoded), and its local events: for
        integrity checks, which must see what is on disk, not what decoding made of it."""
        with self.lock.thread_only():
            summit = self._file(slug, decode=False)
            journal = summit.journal
            if journal.legacy is not None:
                from agenda.migrate import convert

                converted, events = convert(journal.legacy)
                return [records.encode(r) for r in converted], list(events)
            return list(journal.logs.get("records", [])), list(journal.logs.get("events", []))

    def _summit_path(self, name: object) -> Path:
        """A summit file named by the index: only ever a plain file in the summits folder,
        whatever a crafted index says (issue 11: paths from files are never trusted)."""
        if not isinstance(name, str) or not name or name != Path(name).name \
                or name.startswith(".") or "\x00" in name:
            raise StoreError(f"{self.path} names a summit file {name!r} outside "
                             f"{self.summits_dir.name}/; nothing was opened or changed")
        return self.summits_dir / name

    def forget(self, slug: str) -> None:
        """Drop a summit's records from memory (a walk over every summit keeps one at a time)."""
        with self.lock.thread_only():
            summit = self._summits.get(slug)
            if summit is not None and not summit.journal.dirty:
                del self._summits[slug]

    def _file(self, slug: str, *, decode: bool = True, identify: bool = False,
              offered: tuple[tuple[int, int, int] | None, bytes] | None = None,
              in_parts: bool = False) -> SummitFile:
        summit = self._summits.get(slug)
        if summit is None:
            summit = SummitFile(slug, Journal(self._indexed_path(slug), self.lock))
            self._summits[slug] = summit
        if identify:
            summit.journal.identify = True
        if self.fold_later:
            summit.journal.hold_bytes = True  # its keeper hashes them (written_bytes_later)
        if identify or self.fold_later:  # a command's whole read (snapshot.py's)
            summit.journal.check_apart = records.ids_apart if self.fold_later else \
                records.checked_apart
        # A read-only command's whole read, or the read of a write on one item that keeps
        # after its output (`item_state`): its tables and ids vouched for late (`_verified`).
        summit.journal.lazy_tables = summit.verify_later = \
            (identify and not self.fold_later) or in_parts
        if offered is not None:
            summit.journal.offer(*offered)
        with bulk():
            summit.journal.refresh()
            if decode:
                summit.sync()
        return summit

    def create_summit(
        self,
        title: str,
        delegations: Sequence[Delegation],
        *,
        slug: str | None = None,
        venue: str = "",
        dates: str = "",
        sections: Sequence[str] = DEFAULT_SECTIONS,
        chair: Delegation | None = None,
        host: str = "",
        preamble: str = "",
    ) -> SummitEntry:
        title = clean_title(title, "summit title")
        venue, dates = check_line(venue, "venue"), check_line(dates, "dates")
        host = check_line(host, "host")
        preamble = check_text(preamble, allow_empty=True) if preamble else ""
        codes = [check_delegation_code(d.code) for d in delegations]
        if chair is not None:
            chair = Delegation(check_delegation_code(chair.code),
                               clean_title(chair.name, "name of the chair"), chair.head.strip())
            if chair.code in codes:
                raise AgendaError(f"The chair's code {chair.code} is also a delegation's; "
                                  "give the chair a code of its own (e.g. CH)")
        if len(codes) < 2:
            raise AgendaError("A summit needs at least two delegations (e.g. --delegation IN=India "
                              "--delegation RU=Russia)")
        if len(set(codes)) != len(codes):
            raise AgendaError(f"Delegation codes repeat: {', '.join(codes)}")
        delegations = [
            Delegation(code, clean_title(d.name, f"name of delegation {code}"),
                       check_line(d.head, f"head of delegation {code}"))
            for code, d in zip(codes, delegations, strict=True)
        ]
        section_titles = [clean_title(s, "section title") for s in sections]
        if len(set(section_titles)) != len(section_titles):
            raise AgendaError("Section titles repeat; each section needs its own title")
        slug = slug.strip() if slug is not None else slugify(title)
        if not SLUG_RE.match(slug):
            raise AgendaError(f"The slug {slug!r} must be lower-case letters, digits and dashes "
                              "(at most 60)")
        with self.transaction():
            index = self._index.table("summits")
            if index.search(Query().slug == slug):
                raise AgendaError(f"A summit with slug {slug!r} already exists; choose another "
                                  "with --slug")
            created = to_iso(self.clock())
            self._summits_folder()
            # A file of that name that the index does not name (`summit check` reports it)
            # is left as it is; the summit gets a free name.
            path = self.summits_dir / self.fresh_file(slug)
            identity = self.identity()
            if identity is not None and identity.home not in codes and \
                    (chair is None or chair.code != identity.home):
                raise AgendaError(f"This workspace is {identity.home}'s; it can only create "
                                  f"a summit {identity.home} takes part in")
            genesis = records.make(
                kind=records.GENESIS, summit="", scope=records.JOINT,
                author=identity.home if identity else "", lamport=1, deps=[], created=created,
                signer=identity.device if identity else None, body={
                    "slug": slug, "title": title, "venue": venue, "dates": dates,
                    "host": host, "preamble": preamble,
                    "delegations": [{"code": d.code, "name": d.name, "head": d.head}
                                    for d in delegations],
                    "chair": {"code": chair.code, "name": chair.name, "head": chair.head}
                    if chair else None,
                    "sections": [{"uuid": new_uuid(), "title": s, "order": key}
                                 for s, key in zip(section_titles,
                                                   keys_in_order(len(section_titles)),
                                                   strict=True)],
                })
            if identity is not None:
                genesis = identity.sign(genesis)
            summit = self._start_summit(slug, path, genesis)
            if identity is not None:
                summit.sync()
                self._write(summit, records.KEY_CERT, identity.home, {"cert": identity.cert})
            self._event(summit, "", "summit.create", "", f"created summit {title}")
            index.insert({"slug": slug, "uuid": genesis.uuid, "title": title,
                          "venue": venue, "dates": dates, "file": path.name,
                          "created": created})
        return SummitEntry(slug, genesis.uuid, title, venue, dates, from_iso(created))

    def update_details(self, slug: str, *, title: str | None = None, venue: str | None = None,
                       dates: str | None = None, host: str | None = None,
                       preamble: str | None = None, actor: str = "") -> None:
        """Change the summit's title, venue, dates, host or preamble (the last change wins)."""
        fields: dict[str, str] = {}
        if title is not None:
            fields["title"] = clean_title(title, "summit title")
        for name, value in (("venue", venue), ("dates", dates), ("host", host)):
            if value is not None:
                fields[name] = check_line(value, name)
        if preamble is not None:
            fields["preamble"] = check_text(preamble, allow_empty=True)
        if not fields:
            return
        with self.transaction():
            summit = self._file(slug)
            self._write(summit, records.SUMMIT_UPDATE, actor, {"fields": fields})
            self._event(summit, actor, "summit.details", "",
                        "changed the summit's " + ", ".join(fields))
            index = self._index.table("summits")
            shown = {k: v for k, v in fields.items() if k in ("title", "venue", "dates")}
            if shown:
                index.update(shown, Query().slug == slug)

    # Reading ------------------------------------------------------------------------------

    def state(self, slug: str, viewer: str | None = None, *,
              item: str | None = None, identify: bool = False,
              offered: tuple[tuple[int, int, int] | None, bytes] | None = None
              ) -> SummitState:
        """The summit as `viewer` may see it (None: the joint view, tabled material only).

        `item` (a number or uuid), when given, must name an item of the summit. `identify`:
        a whole read of the file also names its bytes, for `read_identity` (kept data).
        `offered`: the file's bytes and the stamp they were read under, which a whole read
        uses if the file still has that stamp (`Journal.offer`).
        """
        def read(summit: SummitFile) -> SummitState:
            code = summit.code_of(viewer) if viewer is not None else None
            return summit.fold(code).snapshot(summit.events, summit.event_count())

        with self.lock.thread_only(), bulk():
            state = self._verified(slug, read, identify=identify, offered=offered)
        if item is not None:
            state.item(item)
        return state

    def item_state(self, slug: str, viewer: str | None, ref: str) -> SummitState:
        """The summit as `viewer` sees it, narrowed to the item `ref` names (a number or uuid;
        NotFound otherwise): `items` holds that item alone (`Fold.narrowed`). What a write on
        one item reads, without numbering every item and working out every status."""
        with self.lock.thread_only(), bulk():
            writing = self.lock.really_held() and not self.lock.frozen()
            summit = self._summits.get(slug)
            if summit is None and writing and self.serve is not None:
                if self._tx_identity is None:
                    self._tx_identity = (self.identity(),)
                if self._tx_identity[0] is None:  # a device would introduce itself first
                    summit = self.serve(self, slug, viewer, ref)
                    if summit is not None:
                        self._summits[slug] = summit
            offered, self._offered = self._offered, None
            if isinstance(summit, ServedFile):
                code = viewer.strip().upper() if viewer is not None else None
                state = summit.narrowed(code, ref)
                if state is not None:
                    return state
                if summit.journal.dirty:
                    raise RuntimeError("a write served from kept data read another item")
                del self._summits[slug]
            def read(summit: SummitFile) -> SummitState:
                code = summit.code_of(viewer) if viewer is not None else None
                if writing and self.serve is not None and self._tx_identity == (None,):
                    summit.written_as = (code,)
                    if self.fold_later:
                        return summit.alone(code, ref)
                return summit.fold(code).narrowed(ref, summit.events, summit.event_count())

            # Vouched for before the write appends anything (`_verified`).
            return self._verified(slug, read, offered=offered[1:] if offered is not None
                                  and offered[0] == slug else None,
                                  in_parts=self.fold_later and writing)

    def offer(self, slug: str, stamp: tuple[int, int, int], raw: bytes) -> None:
        """The summit's file as `serve` just read it under the write's lock, with the stamp it
        was read under: the write's whole read (`item_state`) parses these bytes, if the file
        still has that stamp (`Journal.offer`), instead of reading it a second time."""
        self._offered = (slug, stamp, raw)

    def _served_add(self, slug: str, section: str) -> ServedAdd | None:
        """The summit `add_items` of one item reads from kept data (`serve_add`), when a
        command set it, the lock is held for the write and no device must introduce itself;
        held until the commit, as a served write on one item is (`item_state`)."""
        writing = self.lock.really_held() and not self.lock.frozen()
        if self.serve_add is None or not writing or slug in self._summits:
            return None
        if self._tx_identity is None:
            self._tx_identity = (self.identity(),)
        if self._tx_identity[0] is not None:
            return None  # a device would introduce itself first: read in full
        served = self.serve_add(self, slug, section)
        if served is not None:
            self._summits[slug] = served
        return served

    def summit_path(self, slug: str) -> Path:
        """The summit's journal file, named by the index, without reading it."""
        with self.lock.thread_only():
            summit = self._summits.get(slug)
            if summit is not None:
                return summit.journal.path
            return self._indexed_path(slug)

    def _indexed_path(self, slug: str) -> Path:
        """The summit's file as the index names it (the index read again if it lacks it)."""
        found = self._index.table("summits").search(Query().slug == slug)
        if not found:
            self._reload_index()
            found = self._index.table("summits").search(Query().slug == slug)
        if not found:
            raise NotFound(f"No summit {slug!r} in this workspace")
        return self._summit_path(found[0].get("file"))

    def read_identity(self, slug: str, *, later: bool = False
                      ) -> tuple[int, str] | Callable[[], tuple[int, str]] | None:
        """(size, SHA-256) of the bytes the summit's state in memory was read from in one
        whole read, as last loaded (no refresh); None when it was read in steps or written, or
        without `state(..., identify=True)`. `later`: if not hashed yet, a function that
        hashes those bytes (`Journal.identity_later`), for a keeper after the output."""
        with self.lock.thread_only():
            summit = self._summits.get(slug)
            if summit is None or summit.legacy is not None \
                    or summit.generation != summit.journal.generation:
                return None
            return summit.journal.identity_later() if later else summit.journal.identity

    def read_fold(self, slug: str, viewer: str | None
                  ) -> tuple[Fold, RecordSet, tuple[int, int]] | None:
        """The viewer's fold, the record set and the journal's counts (`Journal.counts`) as
        last read in one whole read, when `read_identity` names the bytes they were read
        from (snapshot.py's checkpoint)."""
        with self.lock.thread_only():
            summit = self._summits.get(slug)
            if summit is None or not summit.journal.identified:
                return None
            return self.written_fold(slug, viewer)

    def item_read(self, slug: str, viewer: str | None, ref: str, *,
                  offered: tuple[tuple[int, int, int] | None, bytes] | None = None
                  ) -> SummitState:
        """`state(slug, viewer, identify=True, offered=offered)` narrowed to the item `ref`
        names, as `Fold.narrowed` gives it (the same refusal for an unknown item), from a
        whole read of the file, without folding every item (`SummitFile.alone`): what
        `summit show` and `history` read when nothing kept serves them, their keeper making
        the viewer's whole fold after the output (`read_fold_later`)."""
        def read(summit: SummitFile) -> SummitState:
            return summit.alone(summit.code_of(viewer) if viewer is not None else None, ref)

        with self.lock.thread_only(), bulk():
            return self._verified(slug, read, identify=True, offered=offered)

    def _verified(self, slug: str, read: Callable[[SummitFile], _T], *,
                  offered: tuple[tuple[int, int, int] | None, bytes] | None,
                  identify: bool = False, in_parts: bool = False) -> _T:
        """`read(self._file(slug, ...))`, its answer or refusal only once the journal's
        checker vouched for what a read-only whole read trusted (`SummitFile.verified`;
        `read` may ask for the records alone earlier, `records_verified`, and raise
        `_Unvouched` when they are not): else the file is read again as a read without a
        checker reads it, and `read` asked again, so the answer or the refusal is that
        read's."""
        summit: SummitFile | None = None
        try:
            summit = self._file(slug, identify=identify, offered=offered, in_parts=in_parts)
            answer = read(summit)
            if summit.verified():
                return answer
        except Exception:
            summit = summit or self._summits.get(slug)
            if summit is None or summit.verified():
                raise
        summit.read_again()
        return read(summit)

    def whole_fold(self, slug: str, viewer: str | None,
                   made: Callable[[Fold, list[tuple[str, Section, ItemFold]]], _T], *,
                   offered: tuple[tuple[int, int, int] | None, bytes] | None = None
                   ) -> tuple[Fold, _T]:
        """The fold `state(slug, viewer, identify=True, offered=offered)` snapshots, and
        what `made` makes of it and its items' numbers, sections and folds
        (`Fold.numbered_folds`), nothing else made from it: what `summit items` lists from
        when nothing kept serves it, its keeper making the state after the output. The
        same refusals as `state`. `made` may run while the journal's checker is still
        vouching for the lines it parsed in parts (its records vouched for), and again if
        that fails."""

        def read(summit: SummitFile) -> tuple[Fold, _T]:
            fold = summit.fold(summit.code_of(viewer) if viewer is not None else None)
            numbered = list(fold.numbered_folds())
            if not summit.records_verified():
                raise _Unvouched  # read again (`_verified`)
            # The latest texts' bracket counts, made by the checker while this one folded.
            said = summit.journal.checked_said
            if said:
                take_counts((item for _, _, item in numbered),
                            records.counts_apart(summit.journal.records_log(), said))
            return fold, made(fold, numbered)

        with self.lock.thread_only(), bulk():
            return self._verified(slug, read, identify=True, offered=offered)

    def read_fold_later(self, slug: str, viewer: str | None
                        ) -> Callable[[], tuple[Fold, RecordSet, tuple[int, int]]] | None:
        """`read_fold`, the viewer's fold (when not held) made only when the function
        returned is called (`SummitFile.fold_later`), for a keeper after the output."""
        with self.lock.thread_only():
            summit = self._summits.get(slug)
            if summit is None or not summit.journal.identified or summit.legacy is not None \
                    or isinstance(summit, ServedFile) \
                    or summit.generation != summit.journal.generation:
                return None
            return summit.fold_later(viewer)

    def event_log(self, slug: str
                  ) -> tuple[Callable[[], list[Event]], int | Callable[[], int]]:
        """The summit's event log as `state` hands it to a snapshot: read when asked for, the
        entries there are now (`Fold.snapshot`)."""
        with self.lock.thread_only():
            summit = self._summits[slug]
            return summit.events, summit.event_count()

    def written_later(self, slug: str, viewer: str | None
                      ) -> Callable[[], tuple[Fold, RecordSet, tuple[int, int]]] | None:
        """`written_fold`, but the viewer's fold, when not held, made only when the function
        returned is called (by a keeper after the command's output), from the records in
        memory: they are the file's, whole, as this process's last commit left it, and a
        command that keeps after its output adds none after it (`fold_later`)."""
        with self.lock.thread_only():
            summit = self._written_whole(slug)
            if summit is None or summit.journal is None:
                return None
            return summit.fold_later(viewer)

    def written_bytes_later(self, slug: str) -> Callable[[], tuple[int, str]] | None:
        """The summit file's identity (size, SHA-256) as this process's last commit left it,
        as a function that hashes the bytes its journal holds (`Journal.written_later`: read
        whole by a write that keeps after its output, and the lines it appended), for that
        write's keeper; None when they are not held. Called with the lock held."""
        with self.lock.thread_only():
            summit = self._written_whole(slug)
            return summit.journal.written_later() if summit is not None else None

    def written_fold(self, slug: str, viewer: str | None
                     ) -> tuple[Fold, RecordSet, tuple[int, int]] | None:
        """`read_fold` for the file as this process's last commit left it, read under the
        lock that commit holds (nothing else can have written it): the viewer's fold when
        the contents in memory are the file's, whole (snapshot.keep_written)."""
        with self.lock.thread_only():
            summit = self._written_whole(slug)
            if summit is None or summit.journal is None or viewer not in summit.folds:
                return None
            return summit.folds[viewer], summit.every, summit.journal.counts()

    def _written_whole(self, slug: str) -> SummitFile | None:
        """The summit held in memory when its contents are the file's, whole, as this
        process's last commit left it (a journal read in full, nothing pending, the file
        unchanged since, every record line read): what `written_fold` and `written_later`
        fold from. Called with the lock held."""
        summit = self._summits.get(slug)
        journal = summit.journal if summit is not None else None
        if summit is None or journal is None or summit.legacy is not None \
                or isinstance(summit, ServedFile) or journal.partial or journal.dirty \
                or summit.generation != journal.generation \
                or not journal.unchanged() \
                or summit.seen != len(journal.records_log()):
            return None
        return summit

    def summit(self, slug: str) -> Summit:
        """The summit's title, delegations and sections, without its items and history."""
        with self.lock.thread_only():
            return self._file(slug).summit()

    # Writing ------------------------------------------------------------------------------

    def _write(self, summit: SummitFile, kind: str, author: str, body: dict[str, Any],
               *, scope: str = records.JOINT, own: bool = False) -> Record:
        """Append one record, extending the history every viewer's fold has seen.

        `own`: `body` was built for this record alone and is of its kind's shape by
        construction (`records.make_own`): the journal's document holds that very body, not
        a copy.
        """
        if summit.legacy is not None:
            raise StoreError(f"{summit.journal.path} is still in the 0.1 format")
        # Read once per transaction: a large import writes 200k records, and each lookup
        # searched the index (and each introduction check the whole summit) again.
        if self._tx_identity is None:
            self._tx_identity = (self.identity(),)
        identity = self._tx_identity[0]
        if identity is not None:
            author = _home_author(identity.home, author)
            if kind != records.KEY_CERT and identity.device not in summit.introduced:
                # A device introduces itself before its first record, so that every
                # receiver can check that record's signature.
                self._write(summit, records.KEY_CERT, author, {"cert": identity.cert})
        lamport, deps = summit.every.clock(scope)
        summit_id, created = summit.every.summit_id(), _stamp(self.clock())
        signer = identity.device if identity else None
        doc: dict[str, Any] | None = None
        if own:
            record, doc = records.make_own(kind=kind, summit=summit_id, scope=scope,
                                           author=author, lamport=lamport, deps=deps,
                                           created=created, body=body, signer=signer)
        else:
            record = records.make(kind=kind, summit=summit_id, scope=scope, author=author,
                                  lamport=lamport, deps=deps, created=created, body=body,
                                  signer=signer)
        if identity is not None:
            record = identity.sign(record)
            if doc is not None:
                doc["sig"] = record.sig
        summit.journal.append("records", [doc or records.encode(record)])
        summit.add_own(record)
        summit.op_ids.append(record.id)
        summit.op_actors.add(record.author)
        return record

    def _event(self, summit: SummitFile, actor: str, action: str, item: str, detail: str,
               private_to: str = "", *, sync: bool = True) -> None:
        """Log what an operation did. `sync=False`: the caller brings the event log into
        view once, after a batch of entries (an import logs two or three per item)."""
        uuid = new_uuid()
        summit.journal.append("events", [{
            "uuid": uuid, "created": _stamp(self.clock()), "actor": actor,
            "action": action, "item": item, "detail": detail, "private_to": private_to}])
        summit.op_events.append(uuid)
        summit.op_what.append(detail)
        if sync:
            summit.sync()

    def _remember_label(self, summit: SummitFile, revision: Revision) -> None:
        """The label shown now, so that a later reordering can say "was v3"."""
        summit.journal.put("labels", revision.id, sys.intern(revision.label))  # "v1", 100k times

    def add_section(self, slug: str, title: str, *, actor: str = "") -> None:
        title = clean_title(title, "section title")
        with self.transaction():
            summit = self._file(slug)
            sections = summit.summit().sections
            if any(s.title.casefold() == title.casefold() for s in sections):
                raise AgendaError(f"Section {title!r} already exists")
            last = _section_key(summit, sections[-1].uuid) if sections else None
            self._write(summit, records.SECTION_ADD, actor,
                        {"title": title, "order": key_between(last, None)})
            self._event(summit, actor, "section.add", "", f"added section {title}")

    def move_section(self, slug: str, section: str, position: int, *, actor: str = "") -> None:
        """Move a section (by title or 1-based number) to a 1-based position."""
        with self.transaction():
            summit = self._file(slug)
            sections = list(summit.summit().sections)
            index = _section_index(sections, section)
            if not 1 <= position <= len(sections):
                raise AgendaError(f"Position {position} is outside 1–{len(sections)}")
            moved = sections.pop(index)
            keys = [_section_key(summit, s.uuid) for s in sections]
            low = keys[position - 2] if position >= 2 else None
            high = keys[position - 1] if position - 1 < len(keys) else None
            self._write(summit, records.SECTION_PLACE, actor,
                        {"section": moved.uuid, "order": key_between(low, high)})
            self._event(summit, actor, "section.move", "",
                        f"moved section {moved.title} to position {position}")

    def add_item(
        self,
        slug: str,
        *,
        section: str,
        title: str,
        text: str,
        delegation: str,
        why: str = "",
        tags: Sequence[str] = (),
    ) -> Item:
        """A new item at the end of its section, with its first revision: an ADD, tabled."""
        (item,) = self.add_items(slug, [NewItem(section, title, text, why, tuple(tags))],
                                 delegation=delegation)
        return item

    def add_items_streamed(self, slug: str, new: Iterable[NewItem], *, delegation: str,
                           each: Callable[[AddedItem], None]) -> None:
        """`add_items` for an import, telling `each` what each item is (an `AddedItem`) rather
        than returning them all. Into a summit this transaction created, the specs are read
        one at a time and the records written out as they are made (see `_add_fresh`):
        nothing grows with the number of items. Until the commit, the summit cannot be read
        again."""
        with self.transaction():
            summit = self._file(slug)
            if not (summit.journal.rewriting and not summit.journal.path.exists()
                    and summit.legacy is None):
                for item in self.add_items(slug, list(new), delegation=delegation):
                    each(AddedItem(item.uuid, item.number, item.title, item.status))
                return
            root = summit.summit()
            code = root.delegation(delegation).code
            placing = _Placing(summit, root.sections)
            summit.folds.clear()

            def checked() -> Iterator[NewItem]:
                for spec in new:
                    spec = _checked(spec)
                    _check_plain([spec])
                    yield spec

            for item in self._add_fresh(summit, checked(), code, root, placing, each=each):
                each(AddedItem(item.uuid, item.number, item.title, item.status))  # signed

    def add_items(self, slug: str, new: Sequence[NewItem], *, delegation: str) -> list[Item]:
        """Propose several items at once (an import), each with its ADD, in one commit.

        Each item goes through `_write` and `_event` as any operation's records do, in
        constant work per item: the folds already open take its two records as they are
        made, its status and label are read from the joint fold, and the event log is
        brought into view once, at the end. A batch larger than the summit goes through
        `_add_fresh`, which writes the same in one pass without a fold.
        """
        specs = [_checked(spec) for spec in new]
        _check_plain(specs)
        with self.transaction():
            served = self._served_add(slug, specs[0].section) if len(specs) == 1 else None
            summit: SummitFile = served or self._file(slug)
            root = summit.summit()
            code = root.delegation(delegation).code
            placing = _Placing(summit, root.sections)
            added: list[str] = []
            numbered: dict[str, Item] = {}
            if specs:
                if summit.legacy is not None:
                    raise StoreError(f"{summit.journal.path} is still in the 0.1 format")
                if served is None and len(summit.every) < len(specs):
                    # A batch larger than the summit (an import into a new one) is not folded
                    # into the views as it is written: that held every item's fold through the
                    # commit (~3 KB an item) for a state nobody may read. The views are folded
                    # again, in one pass, when next asked for.
                    summit.folds.clear()
                    return self._add_fresh(summit, specs, code, root, placing)
                joint = summit.fold(None)
                for spec in specs:
                    section, key, number = placing.next(spec.section)
                    target = section.uuid
                    item = self._write(summit, records.ITEM_ADD, code, {
                        "title": spec.title, "section": target, "order": key,
                        "tags": list(spec.tags)}, own=True)
                    uuid = item.uuid
                    self._event(summit, code, "item.add", uuid,
                                f"{code} proposed item {number} {spec.title}", sync=False)
                    self._write(summit, records.REVISION, code, {
                        "item": uuid, "code": Code.ADD.value, "text": spec.text,
                        "justification": spec.why, "parents": []}, own=True)
                    folded = joint.items[uuid]
                    label = folded.tabled[-1].label
                    self._event(summit, code, "revision.table", uuid,
                                f"{code} tabled {label} (ADD) of item {number}", sync=False)
                    self._remember_label(summit, folded.tabled[-1])
                    self._log_status_change(summit, code, uuid, number, Status.PROPOSED,
                                            folded.status, sync=False)
                    added.append(uuid)
                    if served is not None:  # numbered as a snapshot would: no item moved
                        numbered[uuid] = folded.item(summit.slug, number, section)
                summit.sync()  # the event log in view, as `_event` leaves it
            if served is not None:
                return [numbered[uuid] for uuid in added]
            # The new items as the snapshot numbers them, without building every item's view
            # (a snapshot of 100k items, its memory held through the commit).
            fold = summit.folds.get(code) or summit.fold(None)
            laid_out = fold.summit
            assert laid_out is not None  # the genesis is folded: `summit.summit()` said so
            wanted = set(added)
            by_uuid = {uuid: fold.items[uuid].item(fold.slug, f"{s_index}.{i_index}", section)
                       for s_index, section in enumerate(laid_out.sections, start=1)
                       for i_index, uuid in enumerate(section.items, start=1)
                       if uuid in wanted}
        return [by_uuid[uuid] for uuid in added]

    def _add_fresh(self, summit: SummitFile, specs: Iterable[NewItem], code: str, root: Summit,
                   placing: _Placing, *, each: Callable[[AddedItem], None] | None = None,
                   ) -> list[Item]:
        """`add_items` for a batch larger than the summit (an import into a new one), in one
        pass: the same records, events and labels, in the same order and with the same clock
        readings, as writing each item through `_write` and `_event`.

        Each new item's status and label come from `state.fresh_item` (nothing else in the
        batch touches it), not from a fold. Without a device key the records are chained
        here, each on the one before (what `RecordSet.clock` gives a lone writer), and reach
        the journal, the record set and the event log once, at the end.

        `each` (a summit this transaction creates): unless a device key signs the records,
        they, their events and labels are written out (`Journal.write_out`) a batch at a time
        as they are made, and never reach the record set; `each` is told what each item is,
        and nothing is returned. Memory stays bounded whatever the number of items, and the
        summit is read from its file when next asked for.
        """
        clock, every, stamp, make_own = self.clock, summit.every, _stamp, records.make_own
        if self._tx_identity is None:
            self._tx_identity = (self.identity(),)
        chained = self._tx_identity[0] is None
        stream = each is not None and chained
        lamport, deps = every.clock(records.JOINT)
        summit_id = every.summit_id()
        made: list[Record] = []
        docs: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        labels: list[tuple[str, str]] = []
        items: list[Item] = []
        written = 0
        add_kind, text_kind, joint, add_code = (records.ITEM_ADD, records.REVISION,
                                                records.JOINT, Code.ADD.value)
        journal = summit.journal

        def write(kind: str, body: dict[str, Any], plain: bool) -> Record:
            nonlocal lamport, deps
            if not chained:
                return self._write(summit, kind, code, body, own=True)
            record, doc = make_own(kind=kind, summit=summit_id, scope=joint, author=code,
                                   lamport=lamport, deps=deps, created=stamp(clock()),
                                   body=body, plain=plain)
            made.append(record)
            docs.append(doc)
            lamport, deps = lamport + 1, [record.id]
            return record

        def event(action: str, uuid: str, detail: str) -> None:
            events.append({"uuid": new_uuid(), "created": stamp(clock()), "actor": code,
                           "action": action, "item": uuid, "detail": detail,
                           "private_to": ""})

        def tally() -> None:
            """What the transaction's `ops` entry says of the records and events made."""
            summit.op_ids.extend([record.id for record in made])
            summit.op_events.extend([e["uuid"] for e in events])
            summit.op_what.extend([e["detail"] for e in events])

        def write_out() -> None:
            nonlocal written
            written += len(made)
            journal.write_out({"records": docs, "events": events},
                              {"labels": dict(labels)})
            tally()
            for batch in (made, docs, events, labels):
                batch.clear()

        for spec in specs:
            section, key, number = placing.next(spec.section)
            target = section.uuid
            # Plain by construction: the title, tags, text and justification are strings
            # (checked; a subclass hashes as its string, as it does through `make`), the
            # section a uuid read from a record; only the order key needs looking at.
            add = write(add_kind, {"title": spec.title, "section": target, "order": key,
                                   "tags": list(spec.tags)}, -records.MAX_INT < min(key) and
                        max(key) < records.MAX_INT)
            uuid = add.uuid
            event("item.add", uuid, f"{code} proposed item {number} {spec.title}")
            text = write(text_kind, {"item": uuid, "code": add_code, "text": spec.text,
                                     "justification": spec.why, "parents": []}, True)
            item, revision = fresh_item(add, text, root, summit.slug, number, section)
            label = revision.label
            event("revision.table", uuid, f"{code} tabled {label} (ADD) of item {number}")
            labels.append((revision.id, sys.intern(label)))
            if item.status != Status.PROPOSED:
                event("item.status", uuid, _status_detail(number, Status.PROPOSED, item.status))
            if stream:
                assert each is not None
                each(AddedItem(uuid, number, item.title, item.status))
                if len(made) >= _WRITE_OUT:
                    write_out()
            else:
                items.append(item)
        if stream:
            write_out()
            if written:
                summit.op_actors.add(code)
            return []
        if made:
            journal.append("records", docs)
            summit.op_actors.add(code)
            if summit.seen == len(journal.records_log()) - len(made):
                summit._take(made)
            else:
                summit.sync()
        for rid, label in labels:
            journal.put("labels", rid, label)
        journal.append("events", events)
        tally()
        summit.sync()  # the event log in view, as `_event` leaves it
        return items

    def _table_record(self, summit: SummitFile, item: str, author: str, text: str,
                      code: Code, why: str, *, tabled: bool,
                      parents: Sequence[str]) -> Revision:
        scope = records.JOINT if tabled else records.team(author)
        record = self._write(summit, records.REVISION, author, {
            "item": item, "code": code.value, "text": text, "justification": why,
            "parents": list(parents)}, scope=scope)
        if self.fold_later and author not in summit.folds:
            history = summit.item_fold(author, item).history  # the keeper folds the rest
        else:
            history = summit.fold(author).items[item].history
        revision = next(r for r in reversed(history) if r.id == record.id)
        self._remember_label(summit, revision)
        return revision

    def _log_status(self, summit: SummitFile, actor: str, item: str, number: str,
                    before: Status, why: str = "") -> None:
        """Log a status the records just changed, as 0.1's event log did."""
        self._log_status_change(summit, actor, item, number, before,
                                summit.item_fold(None, item).status, why)

    def _log_status_change(self, summit: SummitFile, actor: str, item: str, number: str,
                           before: Status, after: Status, why: str = "", *,
                           sync: bool = True) -> None:
        """The event for a status change, when there is one (an import knows `after` from
        its own scratch fold, without the joint view's)."""
        if after != before:
            self._event(summit, actor, "item.status", item,
                        _status_detail(number, before, after, why), sync=sync)

    def table(
        self,
        slug: str,
        item_ref: str,
        *,
        delegation: str,
        text: str | None = None,
        code: Code = Code.MOD,
        why: str = "",
        internal: bool = False,
        base: str | None = None,
    ) -> Revision:
        """Table (or, internal=True, save as a draft) a new revision of an item's text.

        NOC restates the other side's latest tabled text (text may be omitted); SUP proposes
        to delete the item's text (text may be empty); ADD is only an item's first revision.
        `base` (a revision of the item: label, short id or uuid) is the text the new one was
        written from, its parent, instead of the author's position (a draft begun earlier).
        """
        if code == Code.ADD:
            raise AgendaError("ADD is the code of an item's first revision; use MOD, SUP or NOC")
        if code == Code.CMP:
            raise AgendaError("A compilation text is made by `summit merge --table`, not typed")
        with self.transaction():
            state = self.item_state(slug, delegation, item_ref)
            author = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            parents: tuple[str, ...] | None = None
            if code == Code.NOC:
                restated = rules.text_to_restate(state.tabled(item), author)
                if restated is None:
                    raise AgendaError(f"Item {item.number} has no text tabled by another "
                                      "delegation to restate (NOC)")
                if text is not None and text != restated.text:
                    raise AgendaError(
                        f"NOC restates {restated.delegation}'s {restated.label} unchanged; "
                        "the text given differs from it (use MOD for a change)")
                text, parents = restated.text, (restated.uuid,)
            if text is None:
                raise AgendaError("No text given")
            if base is not None and parents is None:
                parents = _parent_from(state, item, base, tabled=not internal)
            check_text(text, allow_empty=code == Code.SUP)
            return self._insert_revision(slug, state, item, author, text, code, why,
                                         not internal, parents)

    def _insert_revision(self, slug: str, state: SummitState, item: Item, author: str,
                         text: str, code: Code, why: str, tabled: bool,
                         parents: tuple[str, ...] | None = None) -> Revision:
        if item.status not in OPEN_STATUSES:
            hint = "set it back to proposed first" if item.status == Status.WITHDRAWN else \
                "its text can no longer change"
            raise AgendaError(f"Item {item.number} is {item.status.value}; {hint}")
        if parents is None:
            parents = rules.default_parents(state.tabled(item), state.stands_on(item, author))
        summit = self._file(slug)
        revision = self._table_record(summit, item.uuid, author, text, code, why,
                                      tabled=tabled, parents=parents)
        if tabled:
            self._event(summit, author, "revision.table", item.uuid,
                        f"{author} tabled {revision.label} ({code.value}) of item {item.number}")
            lapsed = " (the agreement on the earlier text lapses)" \
                if item.status == Status.AGREED_AD_REF else ""
            self._log_status(summit, author, item.uuid, item.number, item.status, lapsed)
        else:
            self._event(summit, author, "revision.draft", item.uuid,
                        f"{author} saved internal draft {revision.label} of item {item.number}",
                        private_to=author)
        return revision

    def accept(self, slug: str, item_ref: str, *, delegation: str,
               revision: str | None = None) -> Acceptance:
        """Accept a tabled revision (default: the other side's latest tabled text).

        When every delegation stands on the latest tabled text and it has no brackets, the
        item becomes agreed ad referendum.
        """
        with self.transaction():
            state = self.item_state(slug, delegation, item_ref)
            code = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            if item.status not in OPEN_STATUSES:
                raise AgendaError(f"Item {item.number} is {item.status.value}; nothing to accept")
            if revision is None:
                target = rules.text_to_accept(state.tabled(item), code)
                if target is None:
                    raise AgendaError(f"Item {item.number} has no text tabled by another "
                                      "delegation to accept")
            else:
                target = state.revision(item, revision)
            if not target.tabled:
                raise AgendaError(f"{target.label} is an internal draft; only a tabled text can "
                                  "be accepted")
            if not rules.is_party(state.summit, code):
                raise AgendaError(f"The chair ({code}) accepts no text; only the delegations "
                                  f"({', '.join(state.summit.codes)}) do")
            if state.stands_on(item, code) == target:
                whose = "its own text" if target.delegation == code and \
                    target.code != Code.CMP else "already accepted"
                raise AgendaError(f"{code} stands on {target.label} of item {item.number} "
                                  f"already ({whose})")
            summit = self._file(slug)
            record = self._write(summit, records.ACCEPTANCE, code,
                                 {"item": item.uuid, "revision": target.uuid})
            self._event(summit, code, "revision.accept", item.uuid,
                        f"{code} accepted {target.label} of item {item.number}")
            self._log_status(summit, code, item.uuid, item.number, item.status,
                             " (every delegation accepted " + target.label + ")")
            return Acceptance(record.uuid, item.uuid, target.uuid, code,
                              from_iso(record.created))

    def set_status(self, slug: str, item_ref: str, status: Status, *,
                   actor: str = "") -> Item:
        """Record a decision on an item: defer, resume, withdraw, reopen; or, for `final`, the
        acting delegation's confirmation by its capital.

        The other statuses follow from the texts and acceptances, and are refused here with
        what would bring them about.
        """
        with self.transaction():
            state = self.item_state(slug, None, item_ref)
            item = state.item(item_ref)
            code = state.summit.delegation(actor).code if actor else ""
            check_transition(item.number, item.status, status)
            summit = self._file(slug)
            if status == Status.FINAL:
                self._confirm(summit, state, item, code)
            else:
                action = next((a for a, s in rules.DECISIONS.items() if s == status), None)
                if action is None:
                    gap = state.agreement_gap(item)
                    why = f"it cannot be agreed ad referendum: {gap}" if gap else \
                        "its status follows from the texts"
                    raise AgendaError(f"Item {item.number} cannot be set to {status.value} by "
                                      f"hand; {why}")
                void = rules.decision_void(state.summit, item.owner, item.status, action, code)
                if void:
                    raise AgendaError(f"Item {item.number} cannot be {status.value}: {void}")
                self._write(summit, records.DECISION, code, {"item": item.uuid,
                                                             "status": action})
                self._log_status(summit, code, item.uuid, item.number, item.status)
            return self.item_state(slug, None, item.uuid).item(item.uuid)

    def _confirm(self, summit: SummitFile, state: SummitState, item: Item, code: str) -> None:
        fold = summit.fold(None).items[item.uuid]
        agreed_on = fold.agreed_on(state.summit)
        void = rules.confirm_void(state.summit, item.status, agreed_on, agreed_on or "", code,
                                  fold.confirmed)
        if void:
            raise AgendaError(f"Item {item.number} cannot be confirmed: {void}")
        assert agreed_on is not None
        self._write(summit, records.CONFIRM, code, {"item": item.uuid, "revision": agreed_on})
        label = next(r.label for r in state.tabled(item) if r.uuid == agreed_on)
        waiting = [c for c in state.summit.codes
                   if c != code and fold.confirmed.get(c) != agreed_on]
        self._event(summit, code, "item.confirm", item.uuid,
                    f"{code}'s capital confirmed {label} of item {item.number}"
                    + (f" (waiting for {', '.join(waiting)})" if waiting else ""))
        self._log_status(summit, code, item.uuid, item.number, item.status)

    def add_note(self, slug: str, item_ref: str, *, delegation: str, text: str) -> Note:
        """A private note: seen only when acting as the delegation that wrote it."""
        check_text(text)
        with self.transaction():
            state = self.item_state(slug, delegation, item_ref)
            code = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            summit = self._file(slug)
            record = self._write(summit, records.NOTE, code, {"item": item.uuid, "text": text},
                                 scope=records.team(code))
            self._event(summit, code, "note.add", item.uuid,
                        f"{code} noted on item {item.number}", private_to=code)
            return Note(record.uuid, item.uuid, code, text, from_iso(record.created))

    def retitle_item(self, slug: str, item_ref: str, title: str, *, actor: str = "") -> Item:
        title = clean_title(title, "item title")
        with self.transaction():
            item = self.state(slug, item=item_ref).item(item_ref)
            summit = self._file(slug)
            self._write(summit, records.ITEM_RETITLE, actor, {"item": item.uuid,
                                                              "title": title})
            self._event(summit, actor, "item.retitle", item.uuid,
                        f"item {item.number}: {item.title} → {title}")
            return self.state(slug).item(item.uuid)

    def move_item(self, slug: str, item_ref: str, *, section: str | None = None,
                  position: int | None = None, actor: str = "") -> Item:
        """Move an item to a section (title or number) and 1-based position (default: end)."""
        with self.transaction():
            item = self.state(slug, item=item_ref).item(item_ref)
            summit = self._file(slug)
            sections = list(summit.summit().sections)
            source = next(s for s in sections if item.uuid in s.items)
            target = source if section is None else sections[_section_index(sections, section)]
            others = [uuid for uuid in target.items if uuid != item.uuid]
            size = len(others) + 1
            position = size if position is None else position
            if not 1 <= position <= size:
                raise AgendaError(f"Position {position} is outside 1–{size} in section "
                                  f"{target.title}")
            low = _item_key(summit, others[position - 2]) if position >= 2 else None
            high = _item_key(summit, others[position - 1]) if position - 1 < len(others) \
                else None
            self._write(summit, records.ITEM_PLACE, actor, {
                "item": item.uuid, "section": target.uuid, "order": key_between(low, high)})
            moved = self.state(slug).item(item.uuid)
            self._event(summit, actor, "item.move", item.uuid,
                        f"item {item.number} moved to {moved.number}")
            return moved

    def shift_item(self, slug: str, item_ref: str, offset: int, *, actor: str = "") -> Item:
        """Move an item up (-1) or down (+1); past a section's edge it crosses into the next."""
        with self.transaction():
            state = self.state(slug, item=item_ref)
            item = state.item(item_ref)
            sections = state.summit.sections
            s_index = next(i for i, s in enumerate(sections) if s.uuid == item.section_uuid)
            position = sections[s_index].items.index(item.uuid) + 1 + offset
            if 1 <= position <= len(sections[s_index].items):
                return self.move_item(slug, item.uuid, position=position, actor=actor)
            n_index = s_index + (1 if offset > 0 else -1)
            if not 0 <= n_index < len(sections):
                raise AgendaError(f"Item {item.number} is already at the "
                                  f"{'end' if offset > 0 else 'top'} of the agenda")
            neighbour = sections[n_index]
            return self.move_item(slug, item.uuid, section=neighbour.uuid,
                                  position=1 if offset > 0 else len(neighbour.items) + 1,
                                  actor=actor)

    # Undo ---------------------------------------------------------------------------------

    def undoable(self, slug: str, actor: str | None = None) -> undo.Undoable:
        """The newest local operation of `actor` (None: of anyone), and whether it may be
        undone (see undo.py); NotFound when there is none."""
        with self.lock.thread_only():
            summit = self._file(slug)
            return self._undoable(summit, slug, actor)

    def _undoable(self, summit: SummitFile, slug: str, actor: str | None) -> undo.Undoable:
        if summit.legacy is not None:
            raise NotFound("Nothing to undo: this summit has not been written since 0.1")
        if actor is not None:
            actor = summit.summit().delegation(actor).code if actor else ""
        found = undo.newest(summit.journal.logs.get("records", []),
                            summit.journal.logs.get(undo.OPS, []), actor,
                            undo.left_count(self.exchange_get, slug))
        if found is None:
            who = f" by {actor}" if actor else ""
            raise NotFound(f"Nothing to undo{who} in this workspace")
        return found

    def undo(self, slug: str, actor: str | None = None) -> undo.Undoable:
        """Take back the newest local operation of `actor`: its records leave the journal
        (rewritten atomically) when nothing builds on them and they never left the machine."""
        with self.transaction():
            summit = self._file(slug)
            found = self._undoable(summit, slug, actor)
            if not found.allowed:
                raise AgendaError(f"Cannot undo {found.what or 'the last operation'}: "
                                  f"{found.refusal}")
            journal = summit.journal
            logs, puts = undo.without(journal.logs, journal.puts, found)
            journal.replace_all(logs, puts)
            summit._reset()
            summit.sync()
            self._event(summit, found.actor, "undo", "",
                        f"{found.actor or 'the workspace'} undid: {found.what}")
            self._forget_operation(summit)
            return found

    # Records from elsewhere ---------------------------------------------------------------

    def import_records(self, slug: str, docs: Sequence[Any]) -> tuple[int, list[str]]:
        """Add records written in another workspace: (how many were new, refusals).

        Each record is checked against its causal past (its id, its clock, its scope, who
        may write it) before it is stored; a refused record is named and never stored, and
        the rest are imported. Labels shown before keep being remembered, so a text whose
        label moved says "was vN".
        """
        with self.transaction():
            summit = self._file(slug)
            before = _labels_shown(summit)
            refused: list[str] = []
            fresh: list[Record] = []
            known = dict(summit.every.by_id)
            decoded: list[Record] = []
            for doc in docs:
                try:
                    decoded.append(records.decode(doc))
                except records.RecordError as error:
                    refused.append(str(error))
            check_signature = self._signature_check([*known.values(), *decoded])
            for record in decoded:
                if record.id in known:
                    continue
                problem = records.problem(record, known, summit.every.summit_id()) or \
                    check_signature(record)
                if problem:
                    refused.append(f"record {record.short}: {problem}")
                    continue
                known[record.id] = record
                fresh.append(record)
            if fresh:
                fresh.sort(key=records.order_key)
                summit.journal.append("records", [records.encode(r) for r in fresh])
                # Every label shown is remembered as it was first shown: those shown before
                # the import as they stood then (one remembered already stays, so "was v3"
                # outlives the next import), then those the import brought, as they stand.
                remembered = summit.journal.puts.get("labels", {})
                for rid, label in before.items():
                    if rid not in remembered:
                        summit.journal.put("labels", rid, label)
                summit.sync()
                remembered = summit.journal.puts.get("labels", {})
                for rid, label in _labels_shown(summit).items():
                    if rid not in remembered:
                        summit.journal.put("labels", rid, label)
                self._event(summit, "", "records.import", "",
                            f"imported {len(fresh)} record{'s' if len(fresh) != 1 else ''}")
            return len(fresh), refused

    # Exchange: home delegation, keys, trust (see agenda/exchange) ---------------------------

    def exchange_get(self, name: str, default: Any = None) -> Any:
        """A setting of the exchange kept in the workspace index (identity, trust, remotes)."""
        with self.lock.thread_only():
            self._reload_index()
            found = self._index.table("exchange").search(Query().name == name)
        return found[0]["value"] if found else default

    def exchange_put(self, name: str, value: Any) -> None:
        self._tx_identity = None  # a binding written now applies to the next record
        with self.transaction():
            table = self._index.table("exchange")
            if table.search(Query().name == name):
                table.update({"value": value}, Query().name == name)
            else:
                table.insert({"name": name, "value": value})

    def identity(self) -> Identity | None:
        """The home delegation and device key of a bound workspace; None when never bound."""
        doc = self.exchange_get("identity")
        if doc is None:
            return None
        cached = self._identity
        if cached is None or cached.device != doc["device"]:
            from agenda.exchange.keys import load_identity

            cached = self._identity = load_identity(self.path, doc)
        return cached

    def pinned(self) -> dict[str, bytes]:
        """Root public keys of the delegations this workspace trusts (its own included)."""
        from agenda.exchange.keys import unb64

        return {code: unb64(entry["root"], "a pinned root key")
                for code, entry in self.exchange_get("trust", {}).items()}

    def _signature_check(self, known: Sequence[Record]) -> Callable[[Record], str]:
        """How a bound workspace checks a received record's signature (unbound: it does not)."""
        if self.exchange_get("identity") is None:
            return lambda record: ""
        from agenda.exchange.keys import certificates, revocations, signature_problem

        pinned = self.pinned()
        certs = certificates(known, pinned, [
            cert for entry in self.exchange_get("trust", {}).values()
            for cert in entry.get("certs", [])])
        revoked = revocations(known, pinned)
        return lambda record: signature_problem(record, certs, revoked)

    def write_key_record(self, slug: str, kind: str, body: dict[str, Any]) -> Record:
        """Write a key certificate or revocation into a summit, signed by this device."""
        if kind not in (records.KEY_CERT, records.KEY_REVOKE, records.BASELINE_SIGN):
            raise AgendaError(f"{kind} is not a key record")
        with self.transaction():
            return self._write(self._file(slug), kind, "", body)

    def _start_summit(self, slug: str, path: Path, genesis: Record) -> SummitFile:
        """A new summit's journal holding its genesis record, written at the commit."""
        journal = Journal(path, self.lock)
        journal.create()
        journal.append("records", [records.encode(genesis)])
        summit = SummitFile(slug, journal)
        summit.op_ids.append(genesis.id)  # so that undo knows a creation when it sees one
        self._summits[slug] = summit
        return summit

    def adopt(self, genesis: Record) -> str:
        """Start a summit from another workspace's genesis record (checked by the caller):
        its journal and index entry. The slug is the creator's, or a free variant of it."""
        with self.transaction():
            index = self._index.table("summits")
            taken = {d["slug"] for d in index.all()}
            base = str(genesis.body.get("slug") or "summit")
            if not SLUG_RE.match(base):
                base = "summit"
            slug, n = base, 1
            while slug in taken:
                n += 1
                slug = f"{base[:56]}-{n}"
            self._summits_folder()
            path = self.summits_dir / self.fresh_file(slug)
            summit = self._start_summit(slug, path, genesis)
            title = str(genesis.body.get("title", ""))
            self._event(summit, "", "summit.join", "",
                        f"joined summit {title}, created by {genesis.author}")
            index.insert({"slug": slug, "uuid": genesis.uuid, "title": title,
                          "venue": str(genesis.body.get("venue", "")),
                          "dates": str(genesis.body.get("dates", "")), "file": path.name,
                          "created": genesis.created})
        return slug

    # Compilation --------------------------------------------------------------------------

    def compile(self, slug: str, item_ref: str, *, base: str | None = None,
                viewer: str | None = None) -> Compilation:
        """The compilation text of an item's positions (see state.compile_item)."""
        state = self.state(slug, viewer, item=item_ref)
        return compile_item(state, state.item(item_ref), base)

    def table_compilation(self, slug: str, item_ref: str, *, delegation: str,
                          base: str | None = None) -> Revision:
        """Table the compilation text as a CMP revision whose parents are the positions."""
        with self.transaction():
            compiled = self.compile(slug, item_ref, base=base)
            state = self.state(slug, delegation, item=item_ref)
            author = state.summit.delegation(delegation).code
            parents = tuple(dict.fromkeys(r.uuid for r in compiled.positions.values()))
            sides = ", ".join(f"{c} {r.label}" for c, r in compiled.positions.items())
            return self._insert_revision(
                slug, state, state.item(compiled.item.uuid), author, compiled.result.text,
                Code.CMP, f"Compilation of {sides}", True, parents)


class _Stale(Exception):  # noqa: N818 - a signal, not an error anyone sees
    """Another process committed while an operation computed under a deferred hold."""


def _plain_name(name: str) -> bool:
    """A summit file's name as the workspace writes them (no temp file, no folder)."""
    return bool(name) and name == Path(name).name and not name.startswith(".") \
        and name.endswith(".json") and "\x00" not in name


def _parent_from(state: SummitState, item: Item, base: str, *,
                 tabled: bool) -> tuple[str, ...] | None:
    """The parent of a text written from `base`: base itself, or, for a tabled text written
    from an internal draft, the draft's tabled ancestor (a tabled text never names a draft,
    which the other side cannot see); None when there is none (the usual parent, then)."""
    start: Revision | None = state.revision(item, base)
    by_uuid = {r.uuid: r for r in state.history(item)}
    while tabled and start is not None and not start.tabled:
        start = next((by_uuid[p] for p in start.parents if p in by_uuid), None)
    return (start.uuid,) if start is not None else None


def _status_detail(number: str, before: Status, after: Status, why: str = "") -> str:
    return f"item {number}: {before.value} → {after.value}{why}"


def _home_author(home: str, author: str) -> str:
    """A bound workspace writes as its home delegation only (and by default)."""
    if author in ("", home):
        return home
    raise AgendaError(f"Only {author}'s own workspace can write as {author}; this workspace "
                      f"is {home}'s")


# Records an import writes out at a time (`_add_fresh`): about 1 MB of documents.
_WRITE_OUT = 2048


class _Placing:
    """Where each new item of a batch goes: its section, its order key after the section's
    last item, and its number there."""

    def __init__(self, summit: SummitFile, sections: Sequence[Section]) -> None:
        self.sections = list(sections)
        self.last_keys: dict[str, list[int] | None] = {
            s.uuid: (_item_key(summit, s.items[-1]) if s.items else None)
            for s in self.sections}
        self.counts = {s.uuid: len(s.items) for s in self.sections}
        self.index: dict[str, int] = {}  # a spec's section reference -> its index

    def next(self, ref: str) -> tuple[Section, list[int], str]:
        """The section, order key and number of the next item added to `ref`."""
        index = self.index.get(ref)
        if index is None:
            index = self.index[ref] = _section_index(self.sections, ref)
        target = self.sections[index].uuid
        key = key_between(self.last_keys[target], None)
        self.last_keys[target] = key
        self.counts[target] += 1
        return self.sections[index], key, f"{index + 1}.{self.counts[target]}"


def _section_index(sections: Sequence[Any], ref: str) -> int:
    """A section by uuid, 1-based number, or title (case-insensitive)."""
    wanted = ref.strip()
    for index, section in enumerate(sections):
        if wanted == section.uuid or wanted.casefold() == section.title.casefold():
            return index
    if wanted.isdigit() and 1 <= int(wanted) <= len(sections):
        return int(wanted) - 1
    known = "; ".join(s.title for s in sections)
    raise NotFound(f"No section {wanted!r} (sections: {known})")


def _labels_shown(summit: SummitFile) -> dict[str, str]:
    """Record id -> label, of every revision the joint view or any delegation's view shows."""
    shown = {}
    for viewer in (None, *summit.summit().codes):
        state = summit.fold(viewer).snapshot()
        for item in state.items:
            for revision in state.history(item):
                shown[revision.id] = revision.label
    return shown


def _section_key(summit: SummitFile, uuid: str) -> list[int]:
    return list(summit.fold(None).sections[uuid][1])


def _item_key(summit: SummitFile, uuid: str) -> list[int]:
    return list(summit.fold(None).items[uuid].key)
