"""How every text got where it is: a summit read at one moment, as one delegation may see it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agenda import merge
from agenda.brackets import bracket_count
from agenda.model import (
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
    Visibility,
    from_iso,
)


def summit_from_doc(doc: Mapping[str, Any]) -> Summit:
    return Summit(
        uuid=doc["uuid"],
        slug=doc["slug"],
        title=doc["title"],
        venue=doc.get("venue", ""),
        dates=doc.get("dates", ""),
        delegations=tuple(Delegation(**d) for d in doc["delegations"]),
        sections=tuple(
            Section(uuid=s["uuid"], title=s["title"], items=tuple(s["items"]))
            for s in doc["sections"]
        ),
        created=from_iso(doc["created"]),
        chair=Delegation(**doc["chair"]) if doc.get("chair") else None,
        host=doc.get("host", ""),
        preamble=doc.get("preamble", ""),
    )


def revision_from_doc(doc: Mapping[str, Any]) -> Revision:
    return Revision(
        uuid=doc["uuid"],
        item=doc["item"],
        number=doc["number"],
        delegation=doc["delegation"],
        parents=tuple(doc["parents"]),
        text=doc["text"],
        code=Code(doc["code"]),
        justification=doc["justification"],
        visibility=Visibility(doc["visibility"]),
        created=from_iso(doc["created"]),
        hash=doc["hash"],
    )


def visible(doc: Mapping[str, Any], viewer: str | None) -> bool:
    """Tabled material is joint; internal drafts are seen only by their own delegation."""
    return doc["visibility"] == Visibility.TABLED or doc["delegation"] == viewer


def find_item(summit: Summit, items: Iterable[Item], ref: str) -> Item:
    """An item by its number ("2.3") or uuid, or a refusal naming the summit."""
    wanted = ref.strip()
    for item in items:
        if wanted in (item.number, item.uuid):
            return item
    raise NotFound(f'No item {wanted} in summit "{summit.title}"')


@dataclass(frozen=True, eq=False)
class SummitState:
    """Everything one viewer may see of a summit, read at one moment.

    `viewer` is a delegation code, or None for the joint view (tabled material only). The
    workspace filters before building the state, so nothing in here can leak what the viewer
    may not see.
    """

    summit: Summit
    items: tuple[Item, ...]
    revisions: Mapping[str, tuple[Revision, ...]]  # item uuid -> visible, in tabling order
    acceptances: Mapping[str, tuple[Acceptance, ...]]
    notes: Mapping[str, tuple[Note, ...]]
    events: tuple[Event, ...]
    viewer: str | None

    def item(self, ref: str) -> Item:
        """An item by its number ("2.3") or uuid."""
        return find_item(self.summit, self.items, ref)

    def history(self, item: Item) -> tuple[Revision, ...]:
        return self.revisions.get(item.uuid, ())

    def tabled(self, item: Item) -> tuple[Revision, ...]:
        return tuple(r for r in self.history(item) if r.tabled)

    def revision(self, item: Item, label: str) -> Revision:
        """A revision by its label: `v3` (tabled) or `d2` (the viewer's internal draft)."""
        wanted = label.strip().lower()
        for revision in self.history(item):
            if revision.label == wanted or revision.uuid == label.strip():
                return revision
        known = ", ".join(r.label for r in self.history(item)) or "none"
        raise NotFound(f"No revision {label} of item {item.number} (revisions: {known})")

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
        """Delegations that stand on this text: its author (unless a compilation) and acceptors."""
        codes = {a.delegation for a in self.acceptances.get(revision.item, ())
                 if a.revision == revision.uuid}
        if revision.code != Code.CMP:
            codes.add(revision.delegation)
        if revision.code == Code.NOC:
            # A NOC restates another side's text unchanged: that side stands on it too.
            history = {r.uuid: r for r in self.revisions.get(revision.item, ())}
            codes.update(history[p].delegation for p in revision.parents
                         if p in history and history[p].text == revision.text
                         and history[p].code != Code.CMP)
        return frozenset(codes)

    def stands_on(self, item: Item, delegation: str) -> Revision | None:
        """A delegation's position: the latest tabled text it wrote or accepted."""
        for revision in reversed(self.tabled(item)):
            if delegation in self.accepted_by(revision):
                return revision
        return None

    def positions(self, item: Item) -> dict[str, Revision]:
        """Each delegation's current position on the item, in the summit's delegation order."""
        found = {}
        for code in self.summit.codes:
            revision = self.stands_on(item, code)
            if revision is not None:
                found[code] = revision
        return found

    def current_text(self, item: Item) -> str:
        latest = self.latest(item)
        return latest.text if latest else ""

    def bracket_count(self, item: Item) -> int:
        return bracket_count(self.current_text(item))

    def total_brackets(self) -> int:
        return sum(self.bracket_count(item) for item in self.items)

    def agreed(self) -> bool:
        """Nothing is agreed until everything is agreed."""
        live = [i for i in self.items if i.status != Status.WITHDRAWN]
        return bool(live) and all(i.status == Status.FINAL for i in live)

    def item_notes(self, item: Item) -> tuple[Note, ...]:
        return self.notes.get(item.uuid, ())


def ancestors(revision: Revision, by_uuid: Mapping[str, Revision]) -> set[str]:
    """The revision and every revision it descends from (by parent links)."""
    seen: set[str] = set()
    stack = [revision.uuid]
    while stack:
        uuid = stack.pop()
        if uuid in seen or uuid not in by_uuid:
            continue
        seen.add(uuid)
        stack.extend(by_uuid[uuid].parents)
    return seen


def common_ancestor(revisions: Iterable[Revision], history: Iterable[Revision]) -> Revision | None:
    """The latest revision every given revision descends from: the base of a three-way merge."""
    ordered = list(history)
    by_uuid = {r.uuid: r for r in ordered}
    shared: set[str] | None = None
    for revision in revisions:
        lineage = ancestors(revision, by_uuid)
        shared = lineage if shared is None else shared & lineage
    if not shared:
        return None
    for revision in reversed(ordered):
        if revision.uuid in shared:
            return revision
    return None


@dataclass(frozen=True)
class Compilation:
    item: Item
    base: Revision | None
    agreed_base: bool  # False: the base only aligned the texts, every difference is bracketed
    positions: dict[str, Revision]
    result: merge.MergeResult


def compile_item(state: SummitState, item: Item, base: str | None = None) -> Compilation:
    """Merge the delegations' positions on an item into a compilation text.

    The base is the latest text every side once stood on: edits made by one side since then
    are taken, divergent ones bracketed. With no such agreed text, the positions' common
    ancestor only aligns them and every difference is bracketed, since nothing either side
    wrote has been accepted by the other. `base` (e.g. "v2") forces a base, taken as agreed.
    """
    positions = state.positions(item)
    if not positions:
        raise AgendaError(f"Item {item.number} has no tabled text to compile")
    tabled = state.tabled(item)
    if base is not None:
        base_revision: Revision | None = state.revision(item, base)
        agreed = True
    else:
        base_revision = next(
            (r for r in reversed(tabled) if set(positions) <= state.accepted_by(r)), None)
        agreed = base_revision is not None
        if base_revision is None:
            base_revision = common_ancestor(positions.values(), tabled)
    texts = [(code, revision.text) for code, revision in positions.items()]
    if len({text for _, text in texts}) == 1:
        result = merge.MergeResult(texts[0][1], 0)  # every side stands on the same words
    else:
        result = merge.merge_texts(base_revision.text if base_revision else "", texts,
                                   agreed_base=agreed)
    return Compilation(item, base_revision, agreed, positions, result)
