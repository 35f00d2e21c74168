"""A 0.1 summit file, converted into records that reproduce everything it showed.

The conversion is deterministic (the same file always gives the same bytes), so that every
delegation converting its copy of a shared 0.1 workspace gets the same joint records:

* joint records form one chain in 0.1's own order: the genesis (with the sections as they
  stand), every item as it stands (title, place, tags), then the tabled revisions in tabling
  order with each acceptance after the last text of its item written before it; their lamport
  values are 1…n, so the labels `v1…vn` come out as 0.1 numbered them;
* a delegation's internal drafts and notes chain in its own team, each after the joint record
  it followed in 0.1, so `d1…dn` and the order of history are kept too;
* records keep their 0.1 uuids, and revisions their 0.1 hash (which `summit check` verifies
  with the 0.1 formula); they carry `legacy: true` and no signature;
* where 0.1 stored a status that the rules would not compute from the converted history (a
  status set by hand), a `status.legacy` record keeps it;
* the event log stays a local table, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agenda import records
from agenda.records import Record
from agenda.state import RecordSet, fold_all, keys_in_order


def convert(tables: dict[str, Any]) -> tuple[list[Record], list[dict[str, Any]]]:
    """(records, events) from the tables of a 0.1 summit file."""
    summit = tables["summit"]["1"]
    items = list(tables.get("items", {}).values())
    revisions = list(tables.get("revisions", {}).values())
    acceptances = list(tables.get("acceptances", {}).values())
    notes = list(tables.get("notes", {}).values())
    events = list(tables.get("events", {}).values())

    chain: list[Record] = []
    summit_id = ""

    def joint(kind: str, author: str, created: str, body: dict[str, Any]) -> Record:
        deps = [chain[-1].id] if chain else []
        record = records.make(kind=kind, summit=summit_id, scope=records.JOINT, author=author,
                              lamport=len(chain) + 1, deps=deps, created=created,
                              body={**body, "legacy": True})
        chain.append(record)
        return record

    sections = summit["sections"]
    section_keys = keys_in_order(len(sections))
    genesis = joint(records.GENESIS, "", summit["created"], {
        "uuid": summit["uuid"], "slug": summit["slug"], "title": summit["title"],
        "venue": summit.get("venue", ""), "dates": summit.get("dates", ""),
        "host": summit.get("host", ""), "preamble": summit.get("preamble", ""),
        "delegations": summit["delegations"], "chair": summit.get("chair"),
        "sections": [{"uuid": s["uuid"], "title": s["title"], "order": key}
                     for s, key in zip(sections, section_keys, strict=True)],
    })
    summit_id = genesis.id
    place = {}
    for section in sections:
        for uuid, key in zip(section["items"], keys_in_order(len(section["items"])),
                             strict=True):
            place[uuid] = (section["uuid"], key)
    for doc in items:
        section, key = place[doc["uuid"]]
        joint(records.ITEM_ADD, doc["owner"], doc["created"], {
            "uuid": doc["uuid"], "title": doc["title"], "section": section, "order": key,
            "tags": list(doc.get("tags", []))})

    # Tabled texts in tabling order; each acceptance after the last text of its item that
    # was written before it.
    tabled = [d for d in revisions if d["visibility"] == "tabled"]
    after: dict[int, list[dict[str, Any]]] = {}
    for acceptance in acceptances:
        index = max((i for i, d in enumerate(tabled)
                     if d["item"] == acceptance["item"] and d["created"] <= acceptance["created"]),
                    default=-1)
        after.setdefault(index, []).append(acceptance)
    by_revision: dict[str, Record] = {}

    def accept(doc: dict[str, Any]) -> None:
        joint(records.ACCEPTANCE, doc["delegation"], doc["created"], {
            "uuid": doc["uuid"], "item": doc["item"], "revision": doc["revision"]})

    for doc in after.get(-1, []):
        accept(doc)
    for index, doc in enumerate(tabled):
        by_revision[doc["uuid"]] = joint(records.REVISION, doc["delegation"], doc["created"],
                                         _revision_body(doc))
        for acceptance in after.get(index, []):
            accept(acceptance)

    # Statuses 0.1 stored that the converted history does not give.
    every = RecordSet()
    for record in chain:
        every.add(record)
    fold = fold_all(every, None, summit["slug"])
    for doc in items:
        computed = fold.items[doc["uuid"]].status
        if computed.value != doc["status"]:
            joint(records.LEGACY_STATUS, "", doc["created"],
                  {"item": doc["uuid"], "status": doc["status"]})

    team_records: list[Record] = []
    last_team: dict[str, Record] = {}

    def team(kind: str, author: str, created: str, anchor: Record,
             body: dict[str, Any]) -> None:
        previous = last_team.get(author)
        deps = sorted({anchor.id, *([previous.id] if previous else [])})
        lamport = 1 + max(anchor.lamport, previous.lamport if previous else 0)
        record = records.make(kind=kind, summit=summit_id, scope=records.team(author),
                              author=author, lamport=lamport, deps=deps, created=created,
                              body={**body, "legacy": True})
        last_team[author] = record
        team_records.append(record)

    anchor = _anchors(revisions, by_revision, chain)
    for doc in revisions:
        if doc["visibility"] != "tabled":
            team(records.REVISION, doc["delegation"], doc["created"], anchor(doc),
                 _revision_body(doc))
    for doc in notes:
        team(records.NOTE, doc["delegation"], doc["created"], chain[-1],
             {"uuid": doc["uuid"], "item": doc["item"], "text": doc["text"]})
    return chain + team_records, events


def _revision_body(doc: dict[str, Any]) -> dict[str, Any]:
    return {"uuid": doc["uuid"], "item": doc["item"], "code": doc["code"], "text": doc["text"],
            "justification": doc["justification"], "parents": list(doc["parents"]),
            "number": doc["number"], "hash": doc["hash"]}


def _anchors(revisions: list[dict[str, Any]], by_revision: dict[str, Record],
             chain: list[Record]) -> Callable[[dict[str, Any]], Record]:
    """The joint record an internal draft followed in 0.1: the last tabled text before it, or
    the record of its item's proposal when no text had been tabled before it."""
    last: Record | None = None
    found: dict[str, Record] = {}
    first_item = next((r for r in chain if r.kind == records.ITEM_ADD), chain[0])
    for doc in revisions:
        if doc["visibility"] == "tabled":
            last = by_revision[doc["uuid"]]
        else:
            found[doc["uuid"]] = last or first_item
    # An anchor must come after the item.add of the draft's own item.
    adds = {r.body["uuid"]: r for r in chain if r.kind == records.ITEM_ADD}

    def anchor(doc: dict[str, Any]) -> Record:
        candidate = found[doc["uuid"]]
        own = adds[doc["item"]]
        return max(candidate, own, key=records.order_key)

    return anchor
