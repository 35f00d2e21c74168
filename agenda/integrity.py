"""Proof that nothing was lost or altered: hash-chain checks, consistent backups, restore."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from agenda.model import AgendaError, Code, Status, Visibility, now_utc, revision_hash, to_iso
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

