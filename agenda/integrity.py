"""Proof that nothing was lost or altered: hash-chain, parent-link, acceptance and event checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agenda import records
from agenda.model import Code, from_iso, revision_hash
from agenda.state import build_state
from agenda.workspace import Workspace


@dataclass(frozen=True)
class Problem:
    summit: str
    item: str  # item number, or "" for summit-wide problems
    revision: str  # revision label, or ""
    message: str

    def __str__(self) -> str:
        where = " ".join(x for x in (self.summit, self.item, self.revision) if x)
        return f"{where}: {self.message}"


def check(ws: Workspace) -> list[Problem]:
    """Verify every record (its id, clock, scope, links and, for 0.1 revisions, the 0.1 hash)
    and every event of the workspace."""
    problems: list[Problem] = []
    pinned = ws.pinned() if ws.exchange_get("identity") is not None else None
    for entry in ws.summits():
        stored, events = ws.stored(entry.slug)
        ws.forget(entry.slug)  # one summit in memory at a time
        problems.extend(check_summit(entry.slug, stored, events, pinned=pinned))
    folder = ws.summits_dir.name
    for name in ws.orphans():
        problems.append(Problem(f"{folder}/{name}", "", "", "a summit file the index does not "
                                "name (left by an interrupted operation); no command reads "
                                "it: move it aside, or delete it"))
    if ws.unfinished():
        problems.append(Problem(ws.intent.name, "", "", "an operation over several files was "
                                "interrupted and could not be tidied up (is the folder "
                                "read-only?); the index shows the workspace as it was "
                                "before it"))
    return problems


def _names(stored: list[Any]) -> dict[str, tuple[str, str]]:
    """uuid -> (item number, revision label), to name problems as people know them; built
    from the records as stored, their ids taken on trust (best effort)."""
    trusted = []
    for doc in stored:
        try:
            trusted.append(records.decode(doc, verify=False))
        except records.RecordError:
            continue
    names: dict[str, tuple[str, str]] = {}
    codes = [None, *{r.author for r in trusted if r.author}]
    for viewer in codes:
        try:
            state = build_state(trusted, viewer)
        except Exception:  # noqa: BLE001 - a damaged history may not fold; names are a courtesy
            continue
        for item in state.items:
            names[item.uuid] = (item.number, "")
            for revision in state.history(item):
                names[revision.uuid] = (item.number, revision.label)
    return names


def check_summit(slug: str, stored: list[Any], events: list[Any], *,
                 pinned: Mapping[str, bytes] | None = None) -> list[Problem]:
    """Problems of one summit; `pinned` (a bound workspace's trusted root keys) adds the
    check of every record's signature."""
    found: list[Problem] = []
    names = _names(stored)

    def problem(where: str, message: str, record: Any = None) -> None:
        item, label = "", where
        if record is not None:
            body = record.body if isinstance(record, records.Record) else \
                record.get("record", {}).get("body", {})
            uuid = record.uuid if isinstance(record, records.Record) else \
                records.uuid_from_id(str(record.get("id", "0" * 64)).ljust(32, "0"))
            if uuid in names:
                item, label = names[uuid]
                label = label or where
            elif isinstance(body, dict) and body.get("item") in names:
                item = names[body["item"]][0]
        found.append(Problem(slug, item, label, message))

    decoded: list[records.Record] = []
    for index, doc in enumerate(stored, start=1):
        try:
            decoded.append(records.decode(doc))
        except records.RecordError:
            problem(f"record {index}", "content hash does not match: the text or its metadata "
                    "was altered after it was written", doc if isinstance(doc, dict) else None)
            try:  # its links are still checked, so that one alteration is one problem
                decoded.append(records.decode(doc, verify=False))
            except records.RecordError:
                continue
    genesis = [r for r in decoded if r.kind == records.GENESIS]
    if len(genesis) != 1:
        problem("", f"{len(genesis)} genesis records (expected exactly one)")
        return found
    summit_id = genesis[0].id
    body = genesis[0].body
    codes = {d.get("code") for d in body.get("delegations", [])}
    chair = body.get("chair") or {}
    writers = codes | ({chair.get("code")} if chair else set()) | {""}
    known: dict[str, records.Record] = {genesis[0].id: genesis[0]}
    by_uuid: dict[str, records.Record] = {genesis[0].uuid: genesis[0]}
    items: set[str] = set()
    # Records are checked in an order where every dep comes first; a record whose deps are
    # missing is reported, and the rest are checked without it.
    for record in sorted(decoded, key=records.order_key):
        if record is genesis[0]:
            continue
        where = f"{record.kind} {record.short}"

        def here(message: str, record: records.Record = record, where: str = where) -> None:
            problem(where, message, record)

        why = records.problem(record, known, summit_id)
        if why:
            here(why)
        if record.author not in writers:
            here(f"written by {record.author!r}, who takes no part in the summit")
        known[record.id] = record
        by_uuid[record.uuid] = record
        rbody = record.body
        if record.kind == records.ITEM_ADD:
            items.add(record.uuid)
        item = rbody.get("item")
        if item is not None and item not in items:
            here("it names an item that does not exist")
        if record.kind == records.REVISION:
            _check_revision(record, by_uuid, here)
        if record.kind in (records.ACCEPTANCE, records.CONFIRM):
            verb = "accepted" if record.kind == records.ACCEPTANCE else "confirmed"
            target = by_uuid.get(rbody.get("revision", ""))
            if target is None or target.kind != records.REVISION:
                here(f"{record.author} {verb} a revision that does not exist")
            elif not target.joint:
                here(f"{record.author} {verb} an internal draft")
            elif target.body.get("item") != item:
                here(f"{record.author} {verb} another item's revision")
            if record.author not in codes:
                here(f"{record.author or 'nobody'} is no party and accepts nothing")
    if pinned is not None:
        from agenda.exchange.keys import signature_problems

        for record, why in signature_problems(decoded, pinned):
            problem(f"{record.kind} {record.short}", why, record)
    for n, doc in enumerate(events, start=1):
        shape = _event_shape(doc)
        if shape:
            problem(f"event {n}", shape)
        elif doc["item"] and doc["item"] not in items:
            problem("", f"event {doc['action']!r} names an item that does not exist")
    return found


EVENT_FIELDS = ("uuid", "created", "actor", "action", "item", "detail")


def _event_shape(doc: Any) -> str:
    """What is wrong with a stored event's structure ("" when nothing): the log reads each
    field, so `check` refuses what the log could not show."""
    if not isinstance(doc, dict):
        return f"is not an object ({str(doc)[:40]!r})"
    for name in EVENT_FIELDS:
        if not isinstance(doc.get(name), str):
            return f"has no text field {name!r}"
    if not isinstance(doc.get("private_to", ""), str):
        return "has a field 'private_to' that is not text"
    try:
        from_iso(doc["created"])
    except (ValueError, TypeError, OverflowError):
        return f"has a time that is not one ({doc['created'][:40]!r})"
    return ""


def _check_revision(record: records.Record, by_uuid: dict[str, records.Record],
                    problem: Any) -> None:
    body = record.body
    if body.get("code") not in {c.value for c in Code}:
        problem(f"unknown change code {body.get('code')!r}")
    parents = []
    for parent in body.get("parents", []):
        found = by_uuid.get(parent)
        if found is None or found.kind != records.REVISION:
            problem(f"parent {parent[:8]} does not exist")
            continue
        if found.body.get("item") != body.get("item"):
            problem("parent belongs to another item")
        if record.joint and not found.joint:
            problem("a tabled text descends from an internal draft")
        parents.append((parent, found.body.get("hash", "") if found.legacy else found.id))
    if record.legacy:
        # 0.1 hashed the revision number in; it is checked with 0.1's formula.
        expected = revision_hash(
            item=body.get("item", ""), number=body.get("number", 0), delegation=record.author,
            parents=parents, text=body.get("text", ""), code=body.get("code", ""),
            justification=body.get("justification", ""),
            visibility="tabled" if record.joint else "internal", created=record.created)
        if expected != body.get("hash"):
            problem("content hash does not match: the text or its metadata was "
                    "altered after it was tabled")
