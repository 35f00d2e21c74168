"""Undo: which local operation may be taken back, and why not, from a summit's journal alone.

Each write transaction of the workspace logs one entry in the journal's `ops` table naming
its records (the first record's id and how many follow it: one transaction's records are
appended together). An operation may be undone while it is its actor's newest, no other record
builds on it (a record's deps name the heads it had seen, so anything written after it in its
causal past names it or a record that does), it is not a summit's creation, and none of its
records has left the machine. A record has left once `summit sync` exported it into the local
git repository (its `exported` mark) or a packet carried it (the `sent` mark, set by
packets.send through `mark_sent`); both marks count records from the start of the journal.
An undo removes only records at or after those marks, so the marks stay true after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agenda import records
from agenda.frozen import frozen

OPS = "ops"
SENT = "sent"  # exchange setting: slug -> records of the journal a packet has carried


@frozen
class Undoable:
    """The newest operation of an actor, and why it cannot be undone ("" when it can)."""

    actor: str
    what: str  # the operation's own words, from the events it logged
    ids: tuple[str, ...]  # its record ids, in journal order
    refusal: str
    first_event: str = ""  # the uuid of the first event it logged
    events: int = 0  # how many events it logged, from that one on

    @property
    def allowed(self) -> bool:
        return not self.refusal


def op_entry(ids: Sequence[str], events: Sequence[str], actor: str,
             what: Sequence[str]) -> dict[str, Any]:
    """The `ops` entry a transaction logs beside its records and events ("" as the actor
    when several delegations wrote in it, as the demo does)."""
    return {"first": ids[0], "n": len(ids), "events": events[0] if events else "",
            "events_n": len(events), "actor": actor, "what": summary(what)}


def summary(what: Sequence[str], most: int = 3) -> str:
    """An operation's events in one line: a large one (an import) names its first few."""
    shown = "; ".join(what[:most])
    return shown + (f"; and {len(what) - most} more" if len(what) > most else "")


def left_count(get: Callable[[str, Any], Any], slug: str) -> int:
    """How many of the journal's first records have left the machine (sync or packet)."""
    count = 0
    exported = get("exported", {}) or {}
    mark = exported.get("summits", {}).get(slug) if isinstance(exported, Mapping) else None
    if isinstance(mark, list) and mark and isinstance(mark[0], int):
        count = mark[0]
    sent = get(SENT, {}) or {}
    if isinstance(sent, Mapping) and isinstance(sent.get(slug), int):
        count = max(count, sent[slug])
    return count


def mark_sent(ws: Any, counts: Mapping[str, int]) -> None:
    """A packet carried the first `counts[slug]` records of each summit's journal."""
    sent = dict(ws.exchange_get(SENT, {}) or {})
    for slug, count in counts.items():
        sent[slug] = max(int(sent.get(slug, 0)), count)
    ws.exchange_put(SENT, sent)


def newest(docs: Sequence[Mapping[str, Any]], ops: Sequence[Mapping[str, Any]],
           actor: str | None, left: int) -> Undoable | None:
    """The newest operation of `actor` (None: of anyone) still in the journal, judged."""
    position = {doc["id"]: index for index, doc in enumerate(docs)}
    for op in reversed(ops):
        if actor is not None and op.get("actor") != actor:
            continue
        start = position.get(op.get("first"))
        if start is None:
            continue
        mine = docs[start:start + int(op.get("n", 0))]
        ids = tuple(doc["id"] for doc in mine)
        return Undoable(str(op.get("actor", "")), str(op.get("what", "")), ids,
                        _refusal(docs, mine, set(ids), start, left),
                        str(op.get("events", "")), int(op.get("events_n", 0)))
    return None


def _refusal(docs: Sequence[Mapping[str, Any]], mine: Sequence[Mapping[str, Any]],
             ids: set[str], start: int, left: int) -> str:
    if any(doc["record"].get("kind") == records.GENESIS for doc in mine):
        return "a summit's creation is not undone"
    if start < left:
        return "it has left this machine (synced or sent in a packet); table a new text instead"
    builders = [doc for doc in docs if doc["id"] not in ids
                and ids.intersection(doc["record"].get("deps", ()))]
    if builders:
        who = sorted({str(doc["record"].get("author") or "the workspace") for doc in builders})
        return (f"{len(builders)} later record{'s' if len(builders) != 1 else ''} by "
                f"{', '.join(who)} build{'s' if len(builders) == 1 else ''} on it")
    return ""


def without(logs: Mapping[str, list[Any]], puts: Mapping[str, dict[str, Any]],
            undone: Undoable) -> tuple[dict[str, list[Any]], dict[str, dict[str, Any]]]:
    """The journal's tables with the operation's records, its ops entry and labels gone."""
    gone = set(undone.ids)
    new_logs = {table: list(docs) for table, docs in logs.items()}
    new_logs["records"] = [doc for doc in new_logs.get("records", []) if doc["id"] not in gone]
    new_logs[OPS] = [op for op in new_logs.get(OPS, []) if op.get("first") not in gone]
    # Its events go too (the undo's own event says what was undone): an event naming an item
    # that no record creates any more would be a problem for `summit check`.
    events = new_logs.get("events", [])
    start = next((i for i, e in enumerate(events) if e.get("uuid") == undone.first_event), None)
    if start is not None:
        del events[start:start + undone.events]
    new_puts = {table: dict(docs) for table, docs in puts.items()}
    labels = new_puts.get("labels")
    if labels is not None:
        for rid in gone:
            labels.pop(rid, None)
    return new_logs, new_puts
