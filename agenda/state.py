"""A summit as one viewer sees it, computed from its records: labels, positions, statuses, order.

`build_state(records, viewer)` is a pure function: the same set of records, in any insertion
order, gives the same state, because the records are folded in one total order, `(lamport,
id)` (records.order_key). The fold is incremental (`Fold.apply`): the workspace keeps one fold
per viewer and feeds it the records it writes, which always sort last, so tabling does not
recompute a summit's history; a record that sorts earlier (one that arrived from elsewhere)
makes the workspace fold again from the start.

Numbers people read are computed here and nowhere else: `v1…vn` are an item's tabled texts in
the order, `d1…dn` the viewer's own internal drafts, and `2.3` the item's place among sorted
sections and items. The negotiation rules themselves live in rules.py.
"""

from __future__ import annotations

import _thread  # the locks threading hands out, without importing threading
import bisect
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from agenda import records, rules
from agenda.frozen import frozen
from agenda.model import (
    _MOMENTS,
    Acceptance,
    AgendaError,
    Code,
    Decision,
    Delegation,
    Event,
    Item,
    Note,
    NotFound,
    Revision,
    Section,
    Status,
    Summit,
    Visibility,
    counted_apart,
    from_iso,
)
from agenda.records import Record

if TYPE_CHECKING:  # the merge engine (and the diff under it) loads only when an item compiles
    from agenda import merge

_CODES = {code.value: code for code in Code}
# As plain names: a member looked up through its enum class costs ten times more (3.11).
_TABLED, _INTERNAL = Visibility.TABLED, Visibility.INTERNAL
_NOC, _CMP = Code.NOC, Code.CMP
# from_iso's own memo, asked first where a read asks it of every item and text (a datetime
# is never false): the call costs more than the lookup (40,000 of them at 20,000 items).
_moments = _MOMENTS
_PROPOSED, _FINAL = Status.PROPOSED, Status.FINAL
_new = object.__new__
_PLACE = attrgetter("key", "add_id")  # an item's place in its section: (order key, add id)
_UUID = attrgetter("uuid")
# The labels of the first texts of an item, as `Revision.label` spells them (`v3`, `d2`).
_LABELS_SPELLED = 256
_TABLED_LABELS = tuple(f"v{n}" for n in range(_LABELS_SPELLED))
_DRAFT_LABELS = tuple(f"d{n}" for n in range(_LABELS_SPELLED))
_ABSENT: Any = object()  # no label remembered (a remembered one may be anything)


_gc_lock = _thread.allocate_lock()
_gc_pausers = 0
_gc_was_enabled = False
_gc_keep = False


def keep_after_bulk(keep: bool = True) -> None:
    """Whether what a `bulk()` made is kept out of every later collection (`gc.freeze`): for
    a command, whose process ends soon after its read (and whose start froze the imported
    core, which `gc.unfreeze` would bring back). Never in the app: a frozen object is never
    collected, even once it is garbage."""
    global _gc_keep
    _gc_keep = keep


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a summit's records are decoded and folded.

    Folding makes tens of thousands of small, acyclic objects, and each batch of them set off
    a collection that walked all the others again: a third of opening a summit of 20,000
    items (3.3 → 2.1 s). Nothing here makes cycles, so nothing waits to be collected. Nested
    and concurrent uses (the app's workers) leave the collector as the first one found it.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                # What the read made is promoted to the oldest generation in one step
                # (`freeze` then `unfreeze` move lists, they walk nothing). Left young,
                # the first collection once the collector is back on walks every object
                # the read made (some 750,000 at 20,000 items: a fifth of the read), only
                # to find them alive: a state lives on. A command keeps them frozen. Not
                # while something else is frozen (the app freezes what its first frame
                # built): `unfreeze` would bring that back too.
                if _gc_keep:
                    gc.freeze()
                elif gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


def _revision_of(values: dict[str, Any]) -> Revision:
    """A Revision without the frozen dataclass's field-by-field `__init__`: the fold makes one
    per revision record, and at ~1,000 records a summit this was a tenth of opening one."""
    revision: Revision = _new(Revision)
    _set(revision, "__dict__", values)  # given whole: faster than filling one
    return revision


_set = object.__setattr__

# Order keys place sections and items: lists of integers compared element by element, so a
# key can always be found between two others without renumbering anything.
SPACING = 1 << 20
OrderKey = tuple[int, ...]
SortKey = tuple[int, str, int, int, str]


def key_between(low: Sequence[int] | None, high: Sequence[int] | None) -> list[int]:
    """An order key strictly between low and high (None: no bound on that side)."""
    if low is None and high is None:
        return [SPACING]
    if high is None:
        assert low is not None
        return [low[0] + SPACING]
    if low is None or not low:
        return [high[0] - SPACING]
    if not high:
        raise ValueError("no key sorts below an empty key")
    if high[0] - low[0] > 1:
        return [(low[0] + high[0]) // 2]
    if high[0] - low[0] == 1:
        return [low[0], *key_between(low[1:] or None, None)]
    return [low[0], *key_between(low[1:] or None, high[1:] or None)]


def keys_in_order(count: int) -> list[list[int]]:
    return [[(index + 1) * SPACING] for index in range(count)]


_ROSTER = frozenset({records.GENESIS, records.SUMMIT_UPDATE})


def _index_item(index: dict[str, list[Record]], record: Record) -> None:
    """File a record under the item its fold touches (`RecordSet.touching`)."""
    kind = record.kind
    if kind in _ROSTER:
        index[""].append(record)
        return
    key = record.uuid if kind == records.ITEM_ADD else record.body.get("item")
    if type(key) is str and key:
        found = index.get(key)
        if found is None:
            index[key] = [record]
        else:
            found.append(record)


def find_item(summit: Summit, items: Iterable[Item], ref: str) -> Item:
    """An item by its number ("2.3") or uuid, or a refusal naming the summit."""
    wanted = ref.strip()
    for item in items:
        if wanted in (item.number, item.uuid):
            return item
    raise no_item(summit, wanted)


def no_item(summit: Summit, wanted: str) -> NotFound:
    """The refusal of an item reference the summit has no item for."""
    return NotFound(f'No item {wanted} in summit "{summit.title}"')


def find_revision(history: Sequence[Revision], number: str, label: str) -> Revision:
    """A revision of item `number` by its label (`v3`, or `d2` for the viewer's draft), short
    id (`#7f3a2c`) or uuid, or a refusal listing the labels there are."""
    wanted = label.strip()
    lowered = wanted.lower()
    short = lowered.startswith("#") and len(lowered) >= 5
    matches = [r for r in history
               if r.label == lowered or r.uuid == wanted
               or (short and r.id.startswith(lowered[1:]))]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise AgendaError(f"{wanted} names {len(matches)} revisions of item {number}; "
                          "give more characters of the short id")
    known = ", ".join(r.label for r in history) or "none"
    raise NotFound(f"No revision {wanted} of item {number} (revisions: {known})")


# The records of a summit as stored -----------------------------------------------------------


class RecordSet:
    """Every record of one summit in the workspace, whatever its scope, in the one order.

    Joint records are ordered by `(lamport, id)`. A team record (an internal draft, a note)
    sorts right after the last joint record its author had seen, among its team's records in
    their own `(lamport, id)` order: joint clocks never count team records (so the tabled
    sequence shows no trace of drafting), and a draft still sits where it was written.

    Keeps what a writer needs to extend the history: the heads each scope family has seen and
    their clocks. Joint records see joint records only; a delegation's team records see the
    joint records and its own team's.
    """

    def __init__(self) -> None:
        self.by_id: dict[str, Record] = {}
        self.ordered: list[Record] = []
        self._keys: list[SortKey] = []
        self._anchor: dict[str, Record] = {}  # team record id -> last joint record it saw
        self._joint_heads: set[str] = set()
        self._team_heads: dict[str, set[str]] = {}
        self._team_seen: dict[str, set[str]] = {}
        # The records each item's fold reads, in the order (`touching`), once asked for:
        # under "" the roster's (genesis, summit updates). Extended by records added last.
        self._by_item: dict[str, list[Record]] | None = None

    def __len__(self) -> int:
        return len(self.ordered)

    def __contains__(self, rid: object) -> bool:
        return rid in self.by_id

    def sort_key(self, record: Record) -> SortKey:
        if record.joint:
            return (record.lamport, record.id, 0, 0, "")
        anchor = self._anchor[record.id]
        return (anchor.lamport, anchor.id, 1, record.lamport, record.id)

    def add(self, record: Record) -> bool:
        """Add a record whose deps are here; True when it sorts after every other record."""
        if record.id in self.by_id:
            return True
        if not record.joint:
            anchors = [self.by_id[d] if self.by_id[d].joint else self._anchor[d]
                       for d in record.deps]
            self._anchor[record.id] = max(anchors, key=records.order_key)
        self.by_id[record.id] = record
        key = self.sort_key(record)
        last = not self._keys or key > self._keys[-1]
        if last:
            self._keys.append(key)
            self.ordered.append(record)
            if self._by_item is not None:
                _index_item(self._by_item, record)
        else:
            self._by_item = None
            index = bisect.bisect(self._keys, key)
            self._keys.insert(index, key)
            self.ordered.insert(index, record)
        if record.joint:
            self._joint_heads.difference_update(record.deps)
            self._joint_heads.add(record.id)
        else:
            code = record.scope.removeprefix(records.TEAM_PREFIX)
            self._team_seen.setdefault(code, set()).update(record.deps)
            heads = self._team_heads.setdefault(code, set())
            heads.difference_update(record.deps)
            heads.add(record.id)
        return last

    def add_all(self, new: Iterable[Record]) -> bool:
        """`add` of each record in turn; True when each sorted after every record before it.
        A joint record that sorts last (nearly every record of a journal read whole) is
        added here in a few steps, the rest by `add`."""
        by_id, keys, ordered, joint_heads = self.by_id, self._keys, self.ordered, \
            self._joint_heads
        last = keys[-1] if keys else None
        in_order = True
        for record in new:
            rid = record.id
            if record.joint and rid not in by_id:
                key = (record.lamport, rid, 0, 0, "")  # sort_key of a joint record
                if last is None or key > last:
                    by_id[rid] = record
                    keys.append(key)
                    ordered.append(record)
                    if self._by_item is not None:
                        _index_item(self._by_item, record)
                    joint_heads.difference_update(record.deps)
                    joint_heads.add(rid)
                    last = key
                    continue
            in_order = self.add(record) and in_order
            last = keys[-1] if keys else None
        return in_order

    def touching(self, uuid: str) -> list[Record]:
        """The records `fold_item` folds for the item `uuid`, in the order: the roster's
        (genesis, summit updates), its ITEM_ADD, and every record whose body names it. One
        pass over the set makes the index for every item, kept while records are added last
        (a write on one item folds it two or three times: 40,000 records scanned each)."""
        index = self._by_item
        if index is None:
            index = {"": []}
            for record in self.ordered:
                _index_item(index, record)
            self._by_item = index
        roster, own = index[""], index.get(uuid, [])
        if not roster or not own:
            return list(roster or own)
        from heapq import merge

        return list(merge(roster, own, key=self.sort_key))

    def clock(self, scope: str) -> tuple[int, list[str]]:
        """The lamport value and deps of a new record written in `scope` now."""
        if scope == records.JOINT and len(self._joint_heads) == 1:
            # The usual case, each record of an import among them: one head to follow.
            (head,) = self._joint_heads
            return self.by_id[head].lamport + 1, [head]
        deps = set(self._joint_heads)
        if scope != records.JOINT:
            code = scope.removeprefix(records.TEAM_PREFIX)
            deps = (deps - self._team_seen.get(code, set())) | self._team_heads.get(code, set())
        lamport = 1 + max((self.by_id[d].lamport for d in deps), default=0)
        return lamport, sorted(deps)

    def frontier(self) -> tuple[list[Record], dict[str, Record]]:
        """The records a later record may name as its deps (every scope family's heads), and
        the joint record each team head sorts after: all that `resumed` needs to order
        records appended after these (snapshot.py's checkpoint)."""
        heads = [self.by_id[rid] for rid in sorted(self._joint_heads)]
        for code in sorted(self._team_heads):
            heads.extend(self.by_id[rid] for rid in sorted(self._team_heads[code]))
        anchors = {r.id: self._anchor[r.id] for r in heads if not r.joint}
        return heads, anchors

    @classmethod
    def resumed(cls, heads: Iterable[Record], anchors: Mapping[str, Record],
                last: SortKey | None) -> RecordSet:
        """A set that holds only a frontier (`frontier()`) and the key of the last record
        before it: `add` then orders records appended after that point exactly as the whole
        set would (True: it sorts last), and raises KeyError for a record whose deps lie
        behind the frontier. For folding a journal's tail; `ordered` holds the tail only, so
        it is never a summit's set to write from."""
        every = cls()
        for record in heads:
            every.by_id[record.id] = record
            if record.joint:
                every._joint_heads.add(record.id)
            else:
                every._anchor[record.id] = anchors[record.id]
                code = record.scope.removeprefix(records.TEAM_PREFIX)
                every._team_heads.setdefault(code, set()).add(record.id)
        if last is not None:
            every._keys.append(last)
        return every

    def keyed(self) -> Iterable[tuple[Record, SortKey]]:
        """Every record in the order with its sort key: the keys kept beside the order, not
        worked out again (a set `resumed` keeps one more key than records: then they are)."""
        if len(self._keys) == len(self.ordered):
            return zip(self.ordered, self._keys, strict=True)
        return ((record, self.sort_key(record)) for record in self.ordered)

    def summit_id(self) -> str:
        if self.ordered and self.ordered[0].kind == records.GENESIS:
            return self.ordered[0].id  # it depends on nothing, so it sorts first
        genesis = next((r for r in self.ordered if r.kind == records.GENESIS), None)
        return genesis.id if genesis else ""


# The fold of one item ------------------------------------------------------------------------


@frozen
class ItemView:
    """What a viewer sees of one item, frozen at one moment."""

    item: Item
    history: tuple[Revision, ...]  # the viewer's visible texts, in the order
    tabled: tuple[Revision, ...]
    acceptances: tuple[Acceptance, ...]
    decisions: tuple[Decision, ...]
    notes: tuple[Note, ...]
    positions: Mapping[str, str]  # delegation code -> uuid of the text it stands on
    accepted_by: Mapping[str, frozenset[str]]  # revision uuid -> who ever stood on it
    rounds: tuple[Mapping[str, str], ...]  # the positions after each tabling or acceptance


class ItemFold:
    """The running fold of one item's records (see rules.py for the rules it applies)."""

    # Slots: a read makes one per item (20,000), and its handlers and listing read them.
    __slots__ = ("uuid", "add_id", "owner", "title", "tags", "section", "key", "created",
                 "history", "tabled", "by_uuid", "acceptances", "decisions", "notes",
                 "positions", "accepted_by", "rounds", "drafts", "override", "soft",
                 "confirmed", "final_on", "_summit", "_status", "_view", "_item")

    def __init__(self, record: Record, section: str, key: OrderKey) -> None:
        body = record.body
        self.uuid = record.uuid
        self.add_id = record.id
        self.owner = record.author
        self.title: str = body["title"]
        self.tags: tuple[str, ...] = tuple(body.get("tags", ()))
        self.section = section
        self.key = key
        self.created = record.created
        self.history: list[Revision] = []
        self.tabled: list[Revision] = []
        self.by_uuid: dict[str, Revision] = {}
        self.acceptances: list[Acceptance] = []
        self.decisions: list[Decision] = []
        self.notes: list[Note] = []
        self.positions: dict[str, str] = {}
        self.accepted_by: dict[str, set[str]] = {}
        self.rounds: list[dict[str, str]] = []
        self.drafts = 0
        self.override: Status | None = None  # a decision in force (deferred, withdrawn)
        self.soft: Status | None = None  # a 0.1 status set by hand, until the texts move
        self.confirmed: dict[str, str] = {}
        self.final_on: str | None = None
        self._summit: Summit | None = None
        self._status: Status | None = _PROPOSED
        self._view: ItemView | None = None
        self._item: Item | None = None

    def changed(self) -> None:
        self._view = None

    def recompute(self, summit: Summit) -> None:
        """The status may have changed: it is worked out again when next asked for, so a
        history folded from scratch counts the brackets of a text only when it matters."""
        self._summit = summit
        self._status = None
        self.changed()

    @property
    def status(self) -> Status:
        if self._status is None:
            assert self._summit is not None
            if self.final_on is not None:
                self._status = _FINAL
            elif self.override is not None:
                self._status = self.override
            elif self.soft is not None:
                self._status = self.soft
            else:
                self._status = rules.text_status(self._summit, self.tabled, self.positions)
        return self._status

    def agreed_on(self, summit: Summit) -> str | None:
        latest = self.tabled[-1] if self.tabled else None
        if latest is None or not rules.is_agreed(summit, latest, self.positions):
            return None
        return latest.uuid

    def item(self, slug: str, number: str, section: Section) -> Item:
        cached = self._item
        status = self.status
        if cached is None or (cached.number, cached.section_uuid, cached.section, cached.title,
                              cached.status, cached.tags) != (
                number, section.uuid, section.title, self.title, status, self.tags):
            # Not `Item(...)`: its fields given whole (a read builds one per item).
            cached = _new(Item)
            _set(cached, "__dict__", {
                "uuid": self.uuid, "summit": slug, "section": section.title,
                "section_uuid": section.uuid, "number": number, "title": self.title,
                "owner": self.owner, "status": status, "tags": self.tags,
                "created": _moments.get(self.created) or from_iso(self.created)})
            self._item = cached
            self._view = None
        return cached

    def view(self, item: Item) -> ItemView:
        view = self._view
        if view is None:
            view = self._view = _new(ItemView)  # its fields given whole, as `item` does
            _set(view, "__dict__", {
                "item": item, "history": tuple(self.history), "tabled": tuple(self.tabled),
                "acceptances": tuple(self.acceptances), "decisions": tuple(self.decisions),
                "notes": tuple(self.notes), "positions": self.positions.copy(),
                "accepted_by": {uuid: frozenset(codes)
                                for uuid, codes in self.accepted_by.items()},
                "rounds": tuple(self.rounds)})
        return view


def _standing(revision: Revision, by_uuid: Mapping[str, Revision],
              positions: Mapping[str, str]) -> tuple[str, ...]:
    """`rules.standing_on_new_text(revision, rules.restated_by(revision, by_uuid),
    positions)`: only a NOC restates a text and only a compilation has no author standing
    on it, so the usual text (20,000 of them read at 20,000 items) is stood on by its author
    alone without asking the rules twice (tests/test_state_read.py holds the two equal)."""
    code = revision.code
    if code == _NOC:
        return rules.standing_on_new_text(revision, rules.restated_by(revision, by_uuid),
                                          positions)
    if code == _CMP:
        return ()
    return (revision.delegation,)


def fresh_item(add: Record, text: Record, roster: Summit, slug: str, number: str,
               section: Section) -> tuple[Item, Revision]:
    """What a fold of an item's ADD record followed by its first text, tabled by its owner
    (and of no earlier label), shows of it: the item, numbered `number` in `section`, and that
    text. An import into a new summit asks this instead of folding each item: nothing else in
    the batch touches a new item, so the history, positions and rounds a fold keeps would be
    built only to be dropped (tests/test_import_fastpath.py holds it to the fold)."""
    body = add.body
    revision = _revision_of({
        "uuid": text.uuid, "item": add.uuid, "number": 1, "delegation": text.author,
        "parents": (), "text": text.body["text"], "code": _CODES[text.body["code"]],
        "justification": text.body.get("justification", ""),
        "visibility": Visibility.TABLED, "created": from_iso(text.created),
        "hash": text.id, "id": text.id, "was": "", "after_final": False})
    standing = rules.standing_on_new_text(revision, None, {})
    status = rules.text_status(roster, (revision,), dict.fromkeys(standing, revision.uuid))
    item = Item(uuid=add.uuid, summit=slug, section=section.title, section_uuid=section.uuid,
                number=number, title=body["title"], owner=add.author, status=status,
                tags=tuple(body.get("tags", ())), created=from_iso(add.created))
    return item, revision


# The fold of a summit ------------------------------------------------------------------------


class Fold:
    """Records folded one by one, in the order, into what `viewer` may see.

    `viewer` None is the joint view: tabled material only. A delegation also sees its own
    team's records (internal drafts and notes); another delegation's never reach the fold.
    """

    def __init__(self, viewer: str | None, slug: str,
                 labels: Mapping[str, str] | None = None) -> None:
        self.viewer = viewer
        self.slug = slug
        self.labels = labels if labels is not None else {}
        self.last: SortKey | None = None
        self.roster: Summit | None = None  # who takes part, for the rules (no sections)
        self._summit: Summit | None = None
        self.fields: dict[str, Any] = {}
        self.sections: dict[str, tuple[str, OrderKey, str]] = {}  # uuid -> title, key, id
        self.items: dict[str, ItemFold] = {}
        self._numbered: tuple[Item, ...] | None = None
        self._summit_record: Record | None = None
        # What the last snapshot showed, so that the next one rebuilds only the items that
        # records have touched since (tabling in a summit of 2,000 items: 7.8 → ~1 ms).
        self._slots: dict[str, tuple[int, Section]] = {}
        self._views: dict[str, ItemView] = {}
        self._dirty: set[str] = set()
        # The views of the last whole numbering, made when first asked for (`LazyViews`),
        # until a record is folded: then every one still unmade is made first (`_settle`).
        self._pending: _Pending | None = None

    @classmethod
    def resumed(cls, viewer: str | None, slug: str, labels: Mapping[str, str],
                genesis: Record, fields: Mapping[str, Any], last: SortKey | None,
                items: Mapping[str, ItemFold]) -> Fold:
        """A fold picked up where an earlier one stopped (snapshot.py's checkpoint): the
        summit's genesis and fields as they stood, the key of the last record folded, and the
        item folds records after it may touch. Only records that leave the structure alone
        (no sections, items added or placed, no summit update) may be applied to it."""
        fold = cls(viewer, slug, labels)
        fold.fields = dict(fields)
        fold._summit_record = genesis
        fold.roster = fold._build_summit(())
        fold.last = last
        for item in items.values():
            item.recompute(fold.roster)
        fold.items = dict(items)
        return fold

    def visible(self, record: Record) -> bool:
        return record.joint or (self.viewer is not None
                                and record.scope == records.team(self.viewer))

    def apply(self, record: Record, key: SortKey) -> None:
        """Fold one more record; `key` (RecordSet.sort_key) must follow every earlier one."""
        self.apply_all(((record, key),))

    def apply_all(self, keyed: Iterable[tuple[Record, SortKey]]) -> None:
        """`apply` of each (record, key) in turn, in one loop: a full read folds every record
        of the summit this way (40,000 at 20,000 items)."""
        if self._pending is not None:
            self._settle()
        last = self.last
        own = records.team(self.viewer) if self.viewer is not None else None
        handlers, dirty = _HANDLERS, self._dirty
        # Touched items matter only to a snapshot that renumbers nothing: before the first
        # (a full read), `numbered` builds every item and forgets them.
        track = self._numbered is not None
        try:
            for record, key in keyed:
                if last is not None and key <= last:
                    raise ValueError("records must be folded in order")
                last = key
                if not (record.joint or record.scope == own):
                    continue
                handler = handlers.get(record.kind)
                if handler is not None:
                    handler(self, record)
                    if track:
                        item = record.body.get("item")
                        if isinstance(item, str):
                            dirty.add(item)
        finally:
            self.last = last

    # Summit and structure ------------------------------------------------------------------

    def _genesis(self, record: Record) -> None:
        body = record.body
        self.fields = {name: body.get(name, "") for name in
                       ("title", "venue", "dates", "host", "preamble")}
        self._summit_record = record
        for section in body.get("sections", ()):
            self.sections[section["uuid"]] = (section["title"], tuple(section["order"]),
                                              record.id)
        self._restructure()

    def _summit_update(self, record: Record) -> None:
        for name, value in record.body.get("fields", {}).items():
            if name in self.fields:
                self.fields[name] = value
        self.roster = None
        self._restructure()

    def _section_add(self, record: Record) -> None:
        body = record.body
        self.sections[record.uuid] = (body["title"], tuple(body["order"]), record.id)
        self._restructure()

    def _section_place(self, record: Record) -> None:
        found = self.sections.get(record.body["section"])
        if found is not None:
            self.sections[record.body["section"]] = (found[0], tuple(record.body["order"]),
                                                     found[2])
            self._restructure()

    def _section_rename(self, record: Record) -> None:
        found = self.sections.get(record.body["section"])
        if found is not None:
            self.sections[record.body["section"]] = (record.body["title"], found[1], found[2])
            self._restructure()

    def _item_add(self, record: Record) -> None:
        body = record.body
        fold = ItemFold(record, body["section"], tuple(body["order"]))
        self.items[fold.uuid] = fold
        if self.roster is not None:  # `_restructure`, in the usual case: one per item read
            self._summit = self._numbered = None
        else:
            self._restructure()

    def _item_retitle(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is not None:
            fold.title = record.body["title"]
            fold.changed()

    def _item_place(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is not None:
            fold.section, fold.key = record.body["section"], tuple(record.body["order"])
            self._restructure()

    def _item_tag(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is not None:
            fold.tags = tuple(record.body["tags"])
            fold.changed()

    def _restructure(self) -> None:
        """Forget the computed structure; it is built again when next asked for."""
        self._summit = None
        self._numbered = None
        if self._summit_record is not None and self.roster is None:
            self.roster = self._build_summit(())

    def _build_summit(self, sections: tuple[Section, ...]) -> Summit:
        genesis = self._summit_record
        assert genesis is not None
        body = genesis.body
        return Summit(
            uuid=str(body["uuid"]) if genesis.legacy else genesis.uuid,
            slug=self.slug, title=self.fields["title"], venue=self.fields["venue"],
            dates=self.fields["dates"],
            delegations=tuple(Delegation(**d) for d in body["delegations"]),
            sections=sections, created=from_iso(genesis.created),
            chair=Delegation(**body["chair"]) if body.get("chair") else None,
            host=self.fields["host"], preamble=self.fields["preamble"])

    @property
    def summit(self) -> Summit | None:
        if self._summit is None and self._summit_record is not None:
            ordered = sorted(self.sections.items(), key=lambda kv: (kv[1][1], kv[1][2]))
            members: dict[str, list[ItemFold]] = {uuid: [] for uuid, _ in ordered}
            for fold in self.items.values():
                if fold.section in members:
                    members[fold.section].append(fold)
            self._summit = self._build_summit(tuple(
                Section(uuid, title, tuple(map(_UUID, sorted(members[uuid], key=_PLACE))))
                for uuid, (title, _, _) in ordered))
        return self._summit

    # Texts and acts --------------------------------------------------------------------------

    def _revision(self, record: Record) -> None:
        body = record.body
        fold = self.items.get(body["item"])
        if fold is None:
            return
        assert self.roster is not None
        tabled = record.joint
        if tabled:
            number = len(fold.tabled) + 1
        else:
            fold.drafts += 1
            number = fold.drafts
        rid = record.id
        was = ""
        if self.labels:  # a label remembered from before concurrent texts met
            # Every text written here has its label remembered (20,000 at 20,000 items),
            # nearly always the one it has: spelled from a table, not formatted each time.
            shown = self.labels.get(rid, _ABSENT)
            if shown is not _ABSENT:
                names = _TABLED_LABELS if tabled else _DRAFT_LABELS
                label = names[number] if number < _LABELS_SPELLED else \
                    f"{'v' if tabled else 'd'}{number}"
                was = shown if shown != label else ""
        revision = _revision_of({
            "uuid": record.uuid, "item": fold.uuid, "number": number,
            "delegation": record.author, "parents": tuple(body.get("parents", ())),
            "text": body["text"], "code": _CODES[body["code"]],
            "justification": body.get("justification", ""),
            "visibility": _TABLED if tabled else _INTERNAL,
            "created": _moments.get(record.created) or from_iso(record.created),
            "hash": body["hash"] if body.get("legacy") else rid, "id": rid,
            "was": was, "after_final": tabled and fold.final_on is not None})
        uuid = revision.uuid
        fold.history.append(revision)
        fold.by_uuid[uuid] = revision
        if tabled:
            fold.tabled.append(revision)
            if fold.final_on is None:
                positions = fold.positions
                standing = _standing(revision, fold.by_uuid, positions)
                fold.accepted_by[uuid] = set(standing)
                for code in standing:
                    positions[code] = uuid
                fold.rounds.append(positions.copy())
                fold.soft = None
            else:
                fold.accepted_by[uuid] = set()
            # `fold.recompute(self.roster)`, spelled out: once per text of a full read.
            fold._summit, fold._status, fold._view = self.roster, None, None
        else:
            fold._view = None  # `fold.changed()`

    def _acceptance(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is None:
            return
        assert self.roster is not None
        target = record.body["revision"]
        fold.acceptances.append(Acceptance(record.uuid, fold.uuid, target, record.author,
                                           from_iso(record.created)))
        if fold.final_on is None and target in fold.accepted_by:
            fold.accepted_by[target].add(record.author)
            fold.positions[record.author] = target
            fold.rounds.append(dict(fold.positions))
            fold.soft = None
        fold.recompute(self.roster)

    def _decision(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is None:
            return
        assert self.roster is not None
        action = record.body["status"]
        void = rules.decision_void(self.roster, fold.owner, fold.status, action, record.author,
                                   legacy=record.legacy)
        if not void:
            target = rules.DECISIONS[action]
            fold.override = target if target in rules.STICKY else None
            fold.soft = None
        fold.decisions.append(Decision(record.uuid, fold.uuid, record.author, action, "",
                                       from_iso(record.created), void))
        fold.recompute(self.roster)

    def _confirm(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is None:
            return
        assert self.roster is not None
        target = record.body["revision"]
        void = rules.confirm_void(self.roster, fold.status, fold.agreed_on(self.roster),
                                  target, record.author, fold.confirmed)
        if not void:
            fold.confirmed[record.author] = target
            fold.final_on = rules.final_on(self.roster, fold.confirmed)
        fold.decisions.append(Decision(record.uuid, fold.uuid, record.author, "confirm",
                                       target, from_iso(record.created), void))
        fold.recompute(self.roster)

    def _legacy_status(self, record: Record) -> None:
        """A status 0.1 stored that the converted history alone would not give."""
        fold = self.items.get(record.body["item"])
        if fold is None or not record.legacy:
            return
        assert self.roster is not None
        status = Status(record.body["status"])
        if status == Status.FINAL:
            fold.final_on = fold.tabled[-1].uuid if fold.tabled else ""
        elif status in rules.STICKY:
            fold.override = status
        else:
            fold.soft = status
        fold.recompute(self.roster)

    def _note(self, record: Record) -> None:
        fold = self.items.get(record.body["item"])
        if fold is None:
            return
        fold.notes.append(Note(record.uuid, fold.uuid, record.author, record.body["text"],
                               from_iso(record.created)))
        fold.changed()

    # Snapshots -------------------------------------------------------------------------------

    def numbered(self) -> tuple[Item, ...]:
        """The items in agenda order, each numbered; rebuilt whole only when the structure
        (sections, places) changed, otherwise only where records touched an item."""
        summit = self.summit
        if summit is None:
            return ()
        if self._numbered is None:
            if self._pending is not None:
                self._settle()  # a snapshot taken before may still make its views
            found: list[Item] = []
            slots: dict[str, tuple[int, Section]] = {}
            pending: dict[str, tuple[ItemFold, Item]] = {}
            folds, slug, append = self.items, self.slug, found.append
            for number, section, uuid in numbering(summit):
                slots[uuid] = (len(found), section)
                fold = folds[uuid]
                item = fold.item(slug, number, section)
                append(item)
                pending[uuid] = (fold, item)
            self._numbered, self._slots, self._views = tuple(found), slots, {}
            self._pending = _Pending(pending)
            self._dirty.clear()
        elif self._dirty:
            touched = list(self._numbered)
            for uuid in self._dirty:
                slot = self._slots.get(uuid)
                if slot is None:
                    continue
                index, section = slot
                touched[index] = self.items[uuid].item(self.slug, touched[index].number,
                                                       section)
                self._views[uuid] = self.items[uuid].view(touched[index])
            self._numbered = tuple(touched)
            self._dirty.clear()
        return self._numbered

    def snapshot(self, events: Sequence[Event] | Callable[[], Sequence[Event]] = (),
                 count: int | Callable[[], int] | None = None) -> SummitState:
        """The state as it stands; `events` is the local log, or a function that builds it
        (then `count` says how many of its entries belong to this moment)."""
        summit = self._summit_or_refusal()
        items = self.numbered()
        views: Mapping[str, ItemView] = LazyViews(self._pending) if self._pending is not None \
            else dict(self._views)
        return SummitState(summit, items, views, self._log(events, count), self.viewer)

    def _settle(self) -> None:
        """Before the folds move: every view of the last whole numbering made (a snapshot
        that holds them lazily keeps them as they were), and held as `numbered` keeps them."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._views = dict(pending.settle())

    def narrowed(self, ref: str,
                 events: Sequence[Event] | Callable[[], Sequence[Event]] = (),
                 count: int | Callable[[], int] | None = None) -> SummitState:
        """The state as it stands narrowed to one item, named by its number or uuid as
        `SummitState.item` finds it (the same refusal otherwise): `items` holds that item
        alone, and `views` its view, both exactly as `snapshot()` holds them.

        What a write on one item reads (`summit table`, `accept`, a note, a status): a full
        snapshot numbers every item and works out every status, the latest text's brackets
        counted for each (a second at 20,000 items), for the one the write needs.
        """
        summit = self._summit_or_refusal()
        number, section, uuid = numbered_as(summit, ref)
        fold = self.items[uuid]
        item = fold.item(self.slug, number, section)
        return SummitState(summit, (item,), {uuid: fold.view(item)}, self._log(events, count),
                           self.viewer)

    def numbered_folds(self) -> Iterator[tuple[str, Section, ItemFold]]:
        """Each item's number, section and fold, in agenda order, without making its `Item`
        (`numbered` makes them all): `summit items` with nothing kept lists from these (at
        20,000 items, 40 ms of making items), and its keeper makes the state after the
        output. The same refusal as `snapshot` for a summit without a genesis."""
        folds = self.items
        return ((number, section, folds[uuid])
                for number, section, uuid in numbering(self._summit_or_refusal()))

    def _summit_or_refusal(self) -> Summit:
        summit = self.summit
        if summit is None:
            raise AgendaError(f"The summit {self.slug} has no genesis record")
        return summit

    def _log(self, events: Sequence[Event] | Callable[[], Sequence[Event]],
             count: int | Callable[[], int] | None) -> _EventLog:
        if callable(events):
            return _EventLog(events, count or 0, self.viewer)
        fixed = events
        return _EventLog(lambda: fixed, len(fixed), self.viewer)


_HANDLERS = {
    records.GENESIS: Fold._genesis,
    records.SUMMIT_UPDATE: Fold._summit_update,
    records.SECTION_ADD: Fold._section_add,
    records.SECTION_PLACE: Fold._section_place,
    records.SECTION_RENAME: Fold._section_rename,
    records.ITEM_ADD: Fold._item_add,
    records.ITEM_RETITLE: Fold._item_retitle,
    records.ITEM_PLACE: Fold._item_place,
    records.ITEM_TAG: Fold._item_tag,
    records.REVISION: Fold._revision,
    records.ACCEPTANCE: Fold._acceptance,
    records.DECISION: Fold._decision,
    records.CONFIRM: Fold._confirm,
    records.LEGACY_STATUS: Fold._legacy_status,
    records.NOTE: Fold._note,
}

FOLDED = frozenset(_HANDLERS)  # the kinds a fold reads; any other kind only moves its clock
# The kinds that touch one item and leave the structure (sections, places, numbers, the
# roster) as it was: all a resumed fold (`Fold.resumed`) may be given.
ONE_ITEM = frozenset({records.ITEM_RETITLE, records.ITEM_TAG, records.REVISION,
                      records.ACCEPTANCE, records.DECISION, records.CONFIRM,
                      records.LEGACY_STATUS, records.NOTE})


def build_state(all_records: Iterable[Record], viewer: str | None, *, slug: str = "",
                labels: Mapping[str, str] | None = None,
                events: Sequence[Event] = ()) -> SummitState:
    """The summit as `viewer` sees it: a pure function of the set of records."""
    every = RecordSet()
    for record in sorted(set(all_records), key=records.order_key):
        every.add(record)
    return fold_all(every, viewer, slug, labels).snapshot(events)


def fold_all(every: RecordSet, viewer: str | None, slug: str,
             labels: Mapping[str, str] | None = None) -> Fold:
    """A fold of every record of the set, in the one order."""
    fold = Fold(viewer, slug, labels)
    fold.apply_all(every.keyed())
    return fold


def fold_item(every: RecordSet, viewer: str | None, slug: str,
              labels: Mapping[str, str] | None, uuid: str) -> ItemFold | None:
    """One item's fold as `fold_all` leaves it, from that item's records alone (None when no
    record adds it).

    Every handler that touches an item reads only that item's fold, the labels and the
    roster, which the genesis and the summit's updates make (sections, places and other
    items move numbers, never a status or a text). So a write that needs one item's joint
    status (`summit table` as a delegation logs it) folds its few records instead of the
    whole summit a second time (40,000 records at 20,000 items);
    tests/test_state_read.py holds it to `fold_all` for any writes.
    """
    fold = Fold(viewer, slug, labels)
    key = every.sort_key
    fold.apply_all((record, key(record)) for record in every.touching(uuid))
    return fold.items.get(uuid)


def narrowed_alone(every: RecordSet, viewer: str | None, slug: str,
                   labels: Mapping[str, str] | None, ref: str,
                   events: Sequence[Event] | Callable[[], Sequence[Event]] = (),
                   count: int | Callable[[], int] | None = None) -> SummitState:
    """`fold_all(every, viewer, slug, labels).narrowed(ref, events, count)` without folding
    every item's texts and acts: the structure (every record of a kind outside `ONE_ITEM`:
    the roster, the sections, the items added and placed) numbers the items, as the whole
    fold does, and the item named is folded from its own records (`fold_item`). What a write
    on one item read in full needs (the viewer's whole fold is then made by the keeper after
    the output); tests/test_state_read.py holds it to `Fold.narrowed`."""
    structure = Fold(viewer, slug, labels)
    structure.apply_all((record, key) for record, key in every.keyed()
                        if record.kind not in ONE_ITEM)
    summit = structure._summit_or_refusal()
    number, section, uuid = numbered_as(summit, ref)
    fold = fold_item(every, viewer, slug, labels, uuid)
    assert fold is not None  # the structure holds it: a record added it
    item = fold.item(slug, number, section)
    return SummitState(summit, (item,), {uuid: fold.view(item)},
                       structure._log(events, count), viewer)


def take_counts(folds: Iterable[ItemFold], counts: Mapping[str, int]) -> None:
    """Give each item's latest tabled text the bracket count made apart from the same text
    (`records.counts_apart`, by record id), before its status and the listing ask for it."""
    for fold in folds:
        tabled = fold.tabled
        if tabled:
            latest = tabled[-1]
            count = counts.get(latest.id)
            if count is not None:
                counted_apart(latest, count)


def numbered_as(summit: Summit, ref: str) -> tuple[str, Section, str]:
    """The number, section and uuid of the item `ref` names (its number or uuid), as
    `SummitState.item` finds it; the same refusal otherwise."""
    wanted = ref.strip()
    for number, section, uuid in numbering(summit):
        if wanted == uuid or wanted == number:
            return number, section, uuid
    raise no_item(summit, wanted)


def numbering(summit: Summit) -> Iterator[tuple[str, Section, str]]:
    """Each item's number ("2.3": its section's place, then its own, from 1), section and
    uuid, in agenda order."""
    for s_index, section in enumerate(summit.sections, start=1):
        prefix = f"{s_index}."
        for i_index, uuid in enumerate(section.items, start=1):
            yield f"{prefix}{i_index}", section, uuid


def text_counts(texts: ItemView | ItemFold) -> tuple[int, int]:
    """What `summit items` shows of an item's texts, from its view or from its fold while
    they agree: the brackets of the last tabled text, and how many texts it has."""
    tabled = texts.tabled
    return (tabled[-1].brackets if tabled else 0), len(texts.history)


class _Pending:
    """The views of one whole numbering (`Fold.numbered`), each made from its item's fold
    when first asked for, while nothing has been folded since; `settle` makes the rest
    before the fold moves. A full read made 20,000 of them (a tenth of `summit items` with
    nothing kept) for a listing that reads two numbers of each; its keeper makes them after
    the output. Locked: a thread of the app may ask while the workspace folds."""

    __slots__ = ("entries", "made", "open", "lock")

    def __init__(self, entries: dict[str, tuple[ItemFold, Item]]) -> None:
        self.entries = entries
        self.made: dict[str, ItemView] = {}
        self.open = True
        self.lock = _thread.allocate_lock()

    def view(self, uuid: str) -> ItemView | None:
        made = self.made.get(uuid)
        if made is None:
            entry = self.entries.get(uuid)
            if entry is None:
                return None
            with self.lock:
                made = self.made.get(uuid)
                if made is None:
                    assert self.open, "a view made after its fold moved"
                    made = self.made[uuid] = entry[0].view(entry[1])
        return made

    def listed(self, uuids: Iterable[str]) -> list[tuple[int, int]]:
        """What `summit items` shows of each item's texts, their views unmade: the brackets
        of the last tabled text and how many texts it has (snapshot.listing)."""
        entries, made = self.entries, self.made
        with self.lock:
            if not self.open:  # settled: every view made
                return [text_counts(made[uuid]) for uuid in uuids]
            return [text_counts(entries[uuid][0]) for uuid in uuids]

    def settle(self) -> dict[str, ItemView]:
        with self.lock:
            if self.open:
                made = self.made
                for uuid, (fold, item) in self.entries.items():
                    if uuid not in made:
                        made[uuid] = fold.view(item)
                self.open = False
        return self.made


class LazyViews(Mapping[str, "ItemView"]):
    """`SummitState.views` of a whole numbering: each view made when first asked for
    (`_Pending`), the same as `ItemFold.view` made at the snapshot."""

    __slots__ = ("_pending",)

    def __init__(self, pending: _Pending) -> None:
        self._pending = pending

    def __getitem__(self, uuid: str) -> ItemView:
        view = self._pending.view(uuid)
        if view is None:
            raise KeyError(uuid)
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._pending.entries)

    def __len__(self) -> int:
        return len(self._pending.entries)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self._pending.entries

    def listed(self, uuids: Iterable[str]) -> list[tuple[int, int]]:
        """(brackets of the last tabled text, texts) of each item, without making views."""
        return self._pending.listed(uuids)


# The state ------------------------------------------------------------------------------------


class _EventLog:
    """The local event log as the viewer may see it, built only when someone reads it.

    `source()` gives the workspace's list of events, which only grows (a reload makes a new
    one), so its first `count` entries are the log as it stood at the snapshot. `count` may
    be a function that says how many, while the journal has not parsed the log yet
    (`SummitFile.event_count`).
    """

    def __init__(self, source: Callable[[], Sequence[Event]], count: int | Callable[[], int],
                 viewer: str | None) -> None:
        self._source, self._count, self._viewer = source, count, viewer
        self._visible: tuple[Event, ...] | None = None

    def visible(self) -> tuple[Event, ...]:
        if self._visible is None:
            count = self._count if isinstance(self._count, int) else self._count()
            self._visible = tuple(
                e for e in self._source()[:count]
                if not e.private_to or e.private_to == self._viewer)
        return self._visible


@frozen(eq=False)
class SummitState:
    """Everything one viewer may see of a summit, read at one moment.

    `viewer` is a delegation code, or None for the joint view (tabled material only). The fold
    never sees what the viewer may not, so nothing in here can leak it.
    """

    summit: Summit
    items: tuple[Item, ...]
    views: Mapping[str, ItemView] = field(repr=False)
    log: _EventLog = field(repr=False)
    viewer: str | None

    @property
    def events(self) -> tuple[Event, ...]:
        """The local event log (audit trail) as the viewer may see it."""
        return self.log.visible()

    def item(self, ref: str) -> Item:
        """An item by its number ("2.3") or uuid."""
        return find_item(self.summit, self.items, ref)

    def _view(self, item: Item) -> ItemView | None:
        return self.views.get(item.uuid)

    @property
    def revisions(self) -> Mapping[str, tuple[Revision, ...]]:
        return {uuid: view.history for uuid, view in self.views.items()}

    @property
    def acceptances(self) -> Mapping[str, tuple[Acceptance, ...]]:
        return {uuid: view.acceptances for uuid, view in self.views.items()}

    @property
    def notes(self) -> Mapping[str, tuple[Note, ...]]:
        return {uuid: view.notes for uuid, view in self.views.items() if view.notes}

    def history(self, item: Item) -> tuple[Revision, ...]:
        view = self._view(item)
        return view.history if view else ()

    def tabled(self, item: Item) -> tuple[Revision, ...]:
        view = self._view(item)
        return view.tabled if view else ()

    def decisions(self, item: Item) -> tuple[Decision, ...]:
        view = self._view(item)
        return view.decisions if view else ()

    def revision(self, item: Item, label: str) -> Revision:
        """A revision by its label (`v3`, or `d2` for the viewer's draft), short id (`#7f3a2c`)
        or uuid."""
        return find_revision(self.history(item), item.number, label)

    def latest(self, item: Item, delegation: str | None = None) -> Revision | None:
        """The latest tabled revision of the item, or of one delegation."""
        for revision in reversed(self.tabled(item)):
            if delegation is None or revision.delegation == delegation:
                return revision
        return None

    def latest_draft(self, item: Item) -> Revision | None:
        """The viewer's latest internal draft, if it is newer than every tabled text."""
        history = self.history(item)
        if history and not history[-1].tabled:
            return history[-1]
        return None

    def accepted_by(self, revision: Revision) -> frozenset[str]:
        """Delegations that stood on this text at some point: its author (unless a
        compilation), those who accepted it, and a side whose text a NOC restated."""
        view = self.views.get(revision.item)
        return view.accepted_by.get(revision.uuid, frozenset()) if view else frozenset()

    def stands_on(self, item: Item, delegation: str) -> Revision | None:
        """A delegation's position: the text of its last standing act (rules.py)."""
        view = self._view(item)
        if view is None or delegation not in view.positions:
            return None
        target = view.positions[delegation]
        return next(r for r in view.tabled if r.uuid == target)

    def positions(self, item: Item) -> dict[str, Revision]:
        """Each delegation's current position on the item, in the summit's delegation order."""
        # The view read once (as stands_on would, the first text of that uuid): a cold export
        # asks this of every item, twice.
        view = self._view(item)
        if view is None or not view.positions:
            return {}
        stands = view.positions
        firsts = {r.uuid: r for r in reversed(view.tabled)}
        return {code: firsts[stands[code]] for code in self.summit.codes if code in stands}

    def position_rounds(self, item: Item) -> tuple[dict[str, Revision], ...]:
        """Each delegation's position after every tabling or acceptance, in the order."""
        view = self._view(item)
        if view is None:
            return ()
        by_uuid = {r.uuid: r for r in view.tabled}
        return tuple({code: by_uuid[uuid] for code, uuid in positions.items()
                      if code in self.summit.codes} for positions in view.rounds)

    def agreement_gap(self, item: Item) -> str | None:
        view = self._view(item)
        return rules.agreement_gap(self.summit, self.latest(item),
                                   view.positions if view else {})

    def current_text(self, item: Item) -> str:
        latest = self.latest(item)
        return latest.text if latest else ""

    def bracket_count(self, item: Item) -> int:
        latest = self.latest(item)
        return latest.brackets if latest else 0

    def total_brackets(self) -> int:
        return sum(self.bracket_count(item) for item in self.items)

    def agreed(self) -> bool:
        """Nothing is agreed until everything is agreed."""
        return rules.agreed([i.status for i in self.items])

    def item_notes(self, item: Item) -> tuple[Note, ...]:
        view = self._view(item)
        return view.notes if view else ()


# Compilation ---------------------------------------------------------------------------------


def ancestors(revision: Revision, by_uuid: Mapping[str, Revision]) -> set[str]:
    """The revision and every revision it descends from (by parent links)."""
    lineage = _lineage_unless(revision, by_uuid, None)
    assert lineage is not None  # no stop: the walk always ends with its set
    return lineage


def _lineage_unless(revision: Revision, by_uuid: Mapping[str, Revision],
                    stop: str | None) -> set[str] | None:
    """ancestors(revision), or None as soon as the walk meets `stop`."""
    seen: set[str] = set()
    stack = [revision.uuid]
    while stack:
        uuid = stack.pop()
        if uuid in seen:
            continue
        found = by_uuid.get(uuid)
        if found is None:
            continue
        if uuid == stop:
            return None
        seen.add(uuid)
        stack.extend(found.parents)
    return seen


def common_ancestor(revisions: Iterable[Revision], history: Iterable[Revision]) -> Revision | None:
    """The latest revision every given revision descends from: the base of a three-way merge."""
    given = list(revisions)
    if not given:
        return None
    ordered = list(history)
    by_uuid = {r.uuid: r for r in ordered}
    first, *others = given
    shared = ancestors(first, by_uuid)
    for other in others:
        if not shared:
            return None
        # A position that descends from the first (a side built on the other's text, the
        # usual case) has every ancestor of it too: its walk stops there, changing nothing.
        lineage = _lineage_unless(other, by_uuid, first.uuid)
        if lineage is not None:
            shared &= lineage
    if not shared:
        return None
    for revision in reversed(ordered):
        if revision.uuid in shared:
            return revision
    return None


@frozen
class Compilation:
    item: Item
    base: Revision | None
    agreed_base: bool  # False: the base only aligned the texts, every difference is bracketed
    positions: dict[str, Revision]
    result: merge.MergeResult


def compile_item(state: SummitState, item: Item, base: str | None = None, *,
                 positions: dict[str, Revision] | None = None) -> Compilation:
    """Merge the delegations' positions on an item into a compilation text.

    The base is the latest text every side once stood on: edits made by one side since then
    are taken, divergent ones bracketed. With no such agreed text, the positions' common
    ancestor only aligns them and every difference is bracketed, since nothing either side
    wrote has been accepted by the other. `base` (e.g. "v2") forces a base, taken as agreed.
    `positions`: the item's `state.positions`, when the caller has read them already.
    """
    # The item's view read once, where state.tabled and state.accepted_by would each look it
    # up again (the latter for every text): a cold export compiles every item.
    view = state._view(item)
    tabled = view.tabled if view else ()
    if positions is None:
        positions = state.positions(item)
    if not positions:
        raise AgendaError(f"Item {item.number} has no tabled text to compile")
    if base is not None:
        base_revision: Revision | None = state.revision(item, base)
        agreed = True
    else:
        sides = positions.keys()
        accepted = view.accepted_by if view else {}
        nobody: frozenset[str] = frozenset()
        base_revision = next(
            (r for r in reversed(tabled) if sides <= accepted.get(r.uuid, nobody)), None)
        agreed = base_revision is not None
        if base_revision is None:
            base_revision = common_ancestor(positions.values(), tabled)
    from agenda import merge

    texts = [(code, revision.text) for code, revision in positions.items()]
    if len({text for _, text in texts}) == 1:
        # Every side stands on the same words: nothing to merge, and the text's bracket
        # count is the one its revision keeps (the rules' count, counted once per revision).
        first = next(iter(positions.values()))
        result = merge.MergeResult(first.text, 0)
        result.__dict__["brackets"] = first.brackets  # a cached value, as MergeResult's own
    else:
        # Records never change, so a merge is named by the ids of its inputs: the exports,
        # the app and the bracket count of one state share each item's merge, and the
        # merge's own bracket count (MergeResult.brackets), counted once and kept with it.
        key = (base_revision.id if base_revision else "", agreed,
               tuple((code, revision.id) for code, revision in positions.items()))
        cached = _MERGES.get(key)
        if cached is None:
            cached = merge.merge_texts(base_revision.text if base_revision else "", texts,
                                       agreed_base=agreed)
            with _MERGES_LOCK:  # the app's workers are threads
                if len(_MERGES) >= _MERGES_KEPT:
                    del _MERGES[next(iter(_MERGES))]
                _MERGES[key] = cached
        result = cached
    return Compilation(item, base_revision, agreed, positions, result)


_MERGES_KEPT = 4096
_MERGES_LOCK = _thread.allocate_lock()
_MERGES: dict[tuple[str, bool, tuple[tuple[str, str], ...]], merge.MergeResult] = {}


# A writer's clock from a checkpoint -----------------------------------------------------------


def seen_heads(every: RecordSet) -> dict[str, list[str]]:
    """For each team, the joint heads its records have seen: what `clock` subtracts from the
    joint heads for a team record, and all of `_team_seen` a set resumed from the frontier
    needs (a joint record that is no head any more is never a dep again)."""
    heads = every._joint_heads
    seen = {code: sorted(ids & heads) for code, ids in every._team_seen.items()}
    return {code: ids for code, ids in sorted(seen.items()) if ids}


def resume_seen(every: RecordSet, seen: Mapping[str, Iterable[str]]) -> None:
    """Give a set `RecordSet.resumed` made the heads each team had seen (`seen_heads`), so
    that its `clock` is the whole set's."""
    every._team_seen = {code: set(ids) for code, ids in seen.items()}


def sorts_last(every: RecordSet, scope: str) -> bool:
    """Whether a record written in `scope` now sorts after every record of the set, whatever
    its id. A joint one always does (its clock passes every joint record's); a team record
    sorts after the last joint record its team has seen, among team records by clock, so it
    may sort before another team's longer run of drafts (a full read then folds again)."""
    if scope == records.JOINT or not every._keys:
        return True
    lamport, deps = every.clock(scope)
    anchor = max((every.by_id[d] if every.by_id[d].joint else every._anchor[d] for d in deps),
                 key=records.order_key)
    return (anchor.lamport, anchor.id, 1, lamport) > tuple(every._keys[-1][:4])


class ResumedSet(RecordSet):
    """A set `resumed` from a frontier for a writer: its summit's id is the genesis's, which
    its `ordered` (the tail only) does not hold."""

    genesis_id = ""

    def summit_id(self) -> str:
        return self.genesis_id
