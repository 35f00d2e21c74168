"""Proof that nothing was lost or altered: hash-chain, parent-link, acceptance and event checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agenda.model import Code, Status, Visibility, revision_hash
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
    """Verify every hash, parent link, acceptance, note and event of the workspace."""
    problems: list[Problem] = []
    for entry in ws.summits():
        problems.extend(check_summit(entry.slug, ws.records(entry.slug)))
    return problems


def check_summit(slug: str, records: dict[str, list[dict[str, Any]]]) -> list[Problem]:
    found: list[Problem] = []

    def problem(item: str, revision: str, message: str) -> None:
        found.append(Problem(slug, item, revision, message))

    (summit,) = records["summit"] or [{}]
    codes = {d["code"] for d in summit.get("delegations", [])}
    if summit.get("chair"):
        codes.add(summit["chair"]["code"])
    numbers: dict[str, str] = {}
    for s_index, section in enumerate(summit.get("sections", []), start=1):
        for i_index, uuid in enumerate(section["items"], start=1):
            if uuid in numbers:
                problem(numbers[uuid], "", f"item is listed twice (also as {s_index}.{i_index})")
            numbers.setdefault(uuid, f"{s_index}.{i_index}")
    items = {d["uuid"]: d for d in records["items"]}
    for uuid, doc in items.items():
        if uuid not in numbers:
            problem(uuid[:8], "", f"item {doc.get('title')!r} is in no section")
        if doc.get("status") not in {s.value for s in Status}:
            problem(numbers.get(uuid, uuid[:8]), "", f"unknown status {doc.get('status')!r}")
    for uuid in numbers:
        if uuid not in items:
            problem(numbers[uuid], "", "a section lists an item that does not exist")

    revisions = {d["uuid"]: d for d in records["revisions"]}
    counters: dict[tuple[str, str, str], int] = {}
    for doc in records["revisions"]:
        number = numbers.get(doc["item"], doc["item"][:8])
        tabled = doc.get("visibility") == Visibility.TABLED
        label = f"{'v' if tabled else 'd'}{doc.get('number')}"
        if doc["item"] not in items:
            problem(number, label, "revision of an item that does not exist")
        if doc.get("delegation") not in codes:
            problem(number, label, f"unknown delegation {doc.get('delegation')!r}")
        if doc.get("code") not in {c.value for c in Code}:
            problem(number, label, f"unknown change code {doc.get('code')!r}")
        key = (doc["item"], "v" if tabled else "d", "" if tabled else doc.get("delegation", ""))
        counters[key] = counters.get(key, 0) + 1
        if doc.get("number") != counters[key]:
            problem(number, label, f"numbering gap: expected {key[1]}{counters[key]}")
        parents = []
        for parent in doc.get("parents", []):
            if parent not in revisions:
                problem(number, label, f"parent {parent[:8]} does not exist")
                continue
            if revisions[parent]["item"] != doc["item"]:
                problem(number, label, "parent belongs to another item")
            if tabled and revisions[parent].get("visibility") != Visibility.TABLED:
                problem(number, label, "a tabled text descends from an internal draft")
            parents.append((parent, revisions[parent].get("hash", "")))
        try:
            expected = revision_hash(
                item=doc["item"], number=doc["number"], delegation=doc["delegation"],
                parents=parents, text=doc["text"], code=doc["code"],
                justification=doc["justification"], visibility=doc["visibility"],
                created=doc["created"])
        except KeyError as missing:
            problem(number, label, f"missing field {missing}")
            continue
        if expected != doc.get("hash"):
            problem(number, label, "content hash does not match: the text or its metadata "
                                   "was altered after it was tabled")

    for doc in records["acceptances"]:
        target = revisions.get(doc.get("revision", ""))
        number = numbers.get(doc.get("item", ""), "?")
        if target is None:
            problem(number, "", f"{doc.get('delegation')} accepted a revision that does not "
                                "exist")
        elif target.get("visibility") != Visibility.TABLED:
            problem(number, "", f"{doc.get('delegation')} accepted an internal draft")
        elif target["item"] != doc.get("item"):
            problem(number, "", "acceptance points at another item's revision")
        if doc.get("delegation") not in codes:
            problem(number, "", f"acceptance by unknown delegation {doc.get('delegation')!r}")
    for doc in records["notes"]:
        if doc.get("item") not in items or doc.get("delegation") not in codes:
            problem(numbers.get(doc.get("item", ""), "?"), "",
                    "note of an unknown item or delegation")
    for doc in records["events"]:
        if doc.get("item") and doc["item"] not in items:
            problem("", "", f"event {doc.get('action')!r} names an item that does not exist")
    return found
