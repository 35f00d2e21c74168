"""Proof that nothing was lost or altered: hash-chain checks, consistent backups, restore."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from agenda import records
from agenda.journal import is_journal
from agenda.model import AgendaError, Code, now_utc, revision_hash, to_iso
from agenda.state import build_state
from agenda.store import APP, atomic_write
from agenda.workspace import Workspace

BACKUP_FORMAT = "summit-agenda-backup"
MANIFEST = "summit-agenda-backup.json"
BACKUPS_KEPT = 7


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
    for doc in events:
        if not isinstance(doc, dict) or (doc.get("item") and doc["item"] not in items):
            problem("", f"event {doc.get('action') if isinstance(doc, dict) else doc!r} "
                        "names an item that does not exist")
    return found


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


# Backups ------------------------------------------------------------------------------------

def backup(ws: Workspace, dest: Path) -> Path:
    """Write a consistent snapshot of the whole workspace to one zip file.

    The lock is held while the files are read, so a writer in another process waits for the
    moment the copy takes instead of being caught half-way; compression happens after.
    """
    with ws.lock.hold():
        members = {_member_name(ws, path): path.read_bytes() for path in ws.files()}
    manifest = {"format": BACKUP_FORMAT, "app": APP, "version": 1,
                "created": to_iso(now_utc()), "workspace": ws.path.name}
    buffer = io.BytesIO()
    # Level 1: JSON still shrinks about fivefold, at a fraction of the default's time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(MANIFEST, orjson.dumps(manifest))
        for name, raw in members.items():
            archive.writestr(name, raw)
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, buffer.getvalue())
    return dest


def _member_name(ws: Workspace, path: Path) -> str:
    return "workspace.json" if path == ws.path else f"summits/{path.name}"


def read_backup(path: Path) -> dict[str, bytes]:
    """The files of a backup, each already checked to be a readable Summit Agenda file."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = orjson.loads(archive.read(MANIFEST))
            files = {n: archive.read(n) for n in archive.namelist() if n != MANIFEST}
    except (OSError, KeyError, zipfile.BadZipFile, orjson.JSONDecodeError) as exc:
        raise AgendaError(f"{path} is not a readable Summit Agenda backup ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise AgendaError(f"{path} is not a Summit Agenda backup")
    if "workspace.json" not in files or any(
        not (n == "workspace.json" or (n.startswith("summits/") and "/" not in n[8:]
                                       and n[8:] not in ("", ".", "..")))
        for n in files
    ):
        raise AgendaError(f"{path} has an unexpected layout; nothing was restored")
    for name, raw in files.items():
        if name != "workspace.json" and is_journal(raw):
            if orjson.loads(raw.split(b"\n", 1)[0]).get("app") != APP:
                raise AgendaError(f"{path}: {name} is not a Summit Agenda file")
            continue
        try:
            meta = orjson.loads(raw)["_meta"]["1"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise AgendaError(f"{path}: {name} is damaged; nothing was restored") from None
        if meta.get("app") != APP:
            raise AgendaError(f"{path}: {name} is not a Summit Agenda file")
    return files


def restore(ws: Workspace, source: Path) -> Path:
    """Put a backup in place of the workspace; the replaced files are kept aside.

    Returns the folder where the replaced files now live.
    """
    files = read_backup(source)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = ws.path.with_name(f"{ws.path.stem}.replaced-{stamp}")
    with ws.lock.hold():
        aside.mkdir(mode=0o700)
        for path in ws.files():
            if path.exists():
                shutil.copy2(path, aside / _member_name(ws, path).replace("/", "-"))
        ws.summits_dir.mkdir(mode=0o700, exist_ok=True)
        for name, raw in files.items():
            if name != "workspace.json":
                atomic_write(ws.summits_dir / name.removeprefix("summits/"), raw)
        atomic_write(ws.path, files["workspace.json"])
    return aside


def backups_folder() -> Path:
    """Where automatic backups go: the user data folder's `backups/`."""
    from platformdirs import user_data_path

    return user_data_path("summit-agenda") / "backups"


def automatic_backup(ws: Workspace, folder: Path, keep: int = BACKUPS_KEPT) -> list[Path]:
    """Snapshot the workspace before a schema migration, and once a day of use.

    Daily snapshots beyond the last `keep` are deleted; pre-migration ones are kept.
    """
    key = hashlib.sha256(str(ws.path.resolve()).encode()).hexdigest()[:10]
    prefix = f"{ws.path.stem}-{key}-"
    written = []
    schema = ws.pending_migration()
    if schema is not None:
        before = folder / f"{prefix}before-schema{schema}.backup"
        if not before.exists():
            written.append(backup(ws, before))
    today = folder / f"{prefix}{now_utc():%Y-%m-%d}.backup"
    if not today.exists():
        written.append(backup(ws, today))
        for old in sorted(folder.glob(f"{prefix}[0-9]*.backup"))[:-keep]:
            old.unlink(missing_ok=True)
    return written

