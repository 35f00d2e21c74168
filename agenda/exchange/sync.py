"""`summit sync`: fetch into quarantine, verify, import, export this device's records, push.

Layout (EXCHANGE.md 3.5): one ref per writing device per summit,
`refs/joint/<summit id>/<CODE>/<device>` and `refs/team/...`, each commit's tree holding that
device's records as `<record id>.json`. A device appends only to its own ref, so every push is
a fast-forward; everybody else's refs are relayed unchanged, so signatures survive relaying.

Order of a sync, and why it survives a SIGKILL anywhere: a remote's refs are fetched into
`refs/incoming/<remote>/...` (quarantine); records are verified and imported in one
workspace transaction per summit; only then does the accepted ref move (compare-and-swap).
Killed before the move, the next sync finds the records already imported and just moves it.
Export appends one commit per device ref; push is atomic. Every step is idempotent.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from agenda import records
from agenda.exchange import keys
from agenda.exchange.git import Git, GitError, reason
from agenda.model import AgendaError, from_iso, to_iso
from agenda.records import Record
from agenda.workspace import Workspace

REF_RE = re.compile(r"^refs/(joint|team)/([0-9a-f]{64})/([A-Z][A-Z0-9]{1,7})/([0-9a-f]{32})$")
FILE_RE = re.compile(r"^([0-9a-f]{64})\.json$")
REMOTE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class SyncError(AgendaError):
    """The exchange cannot start (not bound, no remote, another sync running)."""


@dataclass
class Report:
    imported: dict[str, int] = field(default_factory=dict)  # slug -> new records
    joined: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    exported: int = 0
    pushed: list[str] = field(default_factory=list)  # remotes that received something
    waiting: list[str] = field(default_factory=list)  # packets parked for a predecessor
    pending: int = 0  # records whose causal past has not arrived yet
    tabled: dict[str, int] = field(default_factory=dict)  # other delegations' new texts

    def lines(self) -> list[str]:
        out = [f"joined summit {slug}" for slug in self.joined]
        out += [f"{slug}: {n} new record{'s' if n != 1 else ''}"
                for slug, n in self.imported.items() if n]
        if self.exported:
            out.append(f"exported {self.exported} record{'s' if self.exported != 1 else ''}")
        out += [f"pushed to {name}" for name in self.pushed]
        out += self.waiting
        if self.pending:
            out.append(f"{self.pending} record{'s wait' if self.pending != 1 else ' waits'} "
                       "for records not received yet")
        return out or ["nothing new"]


def exchange_dir(ws: Workspace) -> Path:
    return ws.path.with_name(ws.path.stem + ".exchange")


def local_git(ws: Workspace) -> Git:
    return Git(exchange_dir(ws) / "local.git")


def bound(ws: Workspace) -> keys.Identity:
    identity = ws.identity()
    if identity is None:
        raise SyncError("This workspace has no home delegation yet; run `summit keys init "
                        "--as CODE` (or `summit keys enrol`) first")
    return identity


def add_remote(ws: Workspace, name: str, url: str, *, team: bool = False,
               git: Git | None = None) -> None:
    bound(ws)
    if not REMOTE_RE.match(name):
        raise AgendaError(f"The remote name {name!r} must be lower-case letters, digits, "
                          "dashes or underscores")
    if not url.strip():
        raise AgendaError("The remote URL is empty")
    remotes = dict(ws.exchange_get("remotes", {}))
    if name in remotes:
        raise AgendaError(f"A remote {name!r} already exists ({remotes[name]['url']})")
    url = url.strip()
    if "://" not in url and ":" not in url.split("/")[0] and Path(url).exists():
        url = str(Path(url).resolve())  # a path works from any folder the user syncs from
    (git or local_git(ws)).init()
    remotes[name] = {"url": url, "team": team}
    ws.exchange_put("remotes", remotes)


@contextmanager
def sync_lock(ws: Workspace) -> Iterator[None]:
    """One sync at a time per workspace; git runs outside the workspace lock."""
    path = ws.path.with_name(ws.path.name + ".sync.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError("Another sync of this workspace is running; try again when it "
                            "has finished") from None
        yield
    finally:
        os.close(fd)


def sync(ws: Workspace, name: str | None = None, *, git: Git | None = None) -> Report:
    """Sync with one remote, or every remote (team remotes first)."""
    identity = bound(ws)
    remotes = ws.exchange_get("remotes", {})
    if name is not None and name not in remotes:
        raise SyncError(f"No remote {name!r} (remotes: {', '.join(remotes) or 'none yet'}; "
                        "add one with `summit remote add NAME URL`)")
    chosen = [name] if name is not None else sorted(remotes, key=lambda n: (
        not remotes[n]["team"], n))
    if not chosen:
        raise SyncError("No remote yet; add one with `summit remote add NAME URL [--team]`")
    git = git or local_git(ws)
    report = Report()
    with sync_lock(ws):
        git.init()
        reached = []
        for remote in chosen:
            try:
                fetch(ws, git, remote, remotes[remote], report)
            except GitError as error:
                if len(chosen) == 1:
                    raise
                report.refused.append(str(error))  # one remote down: sync with the others
                continue
            reached.append(remote)
        export(ws, git, identity, report)
        for remote in reached:
            try:
                push(ws, git, remote, remotes[remote], report)
            except GitError as error:
                if len(chosen) == 1:
                    raise
                report.refused.append(str(error))
    if reached:
        remember(ws, report)
    return report


# What the last sync did, for the app's header ------------------------------------------------

STATE_FILE = "last-sync.json"


def remember(ws: Workspace, report: Report) -> None:
    """Note when this workspace last synced and what it brought: a local log beside the
    exchange's repository, never in the workspace or a record."""
    from agenda.store import atomic_write

    doc = {"at": to_iso(ws.clock()), "tabled": dict(sorted(report.tabled.items())),
           "new": sum(report.imported.values()), "refused": len(report.refused),
           "pending": report.pending}
    folder = exchange_dir(ws)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(folder / STATE_FILE, orjson.dumps(doc))


def status_line(ws: Workspace, now: datetime) -> str:
    """"synced 2 min ago · RU tabled 2 texts", "not synced yet", "no remote"; "" when the
    workspace is not bound to a delegation (it does not exchange at all)."""
    if ws.exchange_get("identity") is None:
        return ""
    if not ws.exchange_get("remotes"):
        return "no remote"
    try:
        doc = orjson.loads((exchange_dir(ws) / STATE_FILE).read_bytes())
        at = from_iso(doc["at"])
    except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return "not synced yet"
    parts = [f"synced {_ago(now - at)}"]
    tabled = doc.get("tabled") or {}
    parts += [f"{code} tabled {n} text{'s' if n != 1 else ''}"
              for code, n in tabled.items() if isinstance(n, int)]
    if not tabled and doc.get("new"):
        parts.append(f"{doc['new']} new record{'s' if doc['new'] != 1 else ''}")
    if doc.get("pending"):
        parts.append(f"{doc['pending']} pending")
    if doc.get("refused"):
        parts.append(f"{doc['refused']} refused")
    return " · ".join(parts)


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


# Fetch, verify, import -------------------------------------------------------------------

def fetch(ws: Workspace, git: Git, remote: str, spec: dict[str, Any], report: Report) -> None:
    scopes = ("joint", "team") if spec["team"] else ("joint",)
    refspecs = [f"+refs/{s}/*:refs/incoming/{remote}/{s}/*" for s in scopes]
    result = git.fetch(spec["url"], refspecs)
    if result.code != 0:
        raise GitError(f"cannot fetch from {remote} ({spec['url']}): {reason(result.err)}")
    incoming = git.refs(f"refs/incoming/{remote}/")
    take_in(ws, git, f"{remote}", {name.removeprefix(f"refs/incoming/{remote}/"): tip
                                   for name, tip in incoming.items()}, report)


def take_in(ws: Workspace, git: Git, source: str, incoming: dict[str, str],
            report: Report) -> None:
    """Verify and import the records of quarantined refs (`scope/summit/CODE/device` -> tip),
    then accept every ref whose records are all in the workspace."""
    identity = bound(ws)
    local = git.refs("refs/")
    local = {n: t for n, t in local.items() if not n.startswith("refs/incoming/")}
    slugs = {entry.uuid: entry.slug for entry in ws.summits()}
    foreign = set(ws.exchange_get("foreign", []))
    per_summit: dict[str, list[tuple[str, str, str | None, dict[str, str]]]] = {}
    for rest, tip in sorted(incoming.items()):
        ref = f"refs/{rest}"
        found = REF_RE.match(ref)
        if found is None:
            report.refused.append(f"{source}: {ref} is not a summit ref; ignored")
            continue
        scope, sid, code, device = found.groups()
        if sid in foreign:
            continue
        if scope == "team" and code != identity.home:
            report.refused.append(f"{source}: {ref} holds {code}'s internal material; ignored")
            continue
        old = local.get(ref)
        if old == tip or (old is not None and git.is_ancestor(tip, old)):
            continue  # nothing we do not have already
        if old is not None and not git.is_ancestor(old, tip):
            if device == identity.device:
                # Never force-pushed over: the user must find out who writes as this device.
                report.refused.append(f"{source}: this device's own ref for summit "
                                      f"{sid[:12]} holds records this machine did not write "
                                      "(a copied workspace or key?); it is not pushed")
            else:
                report.refused.append(f"{source}: {ref} was rewritten (not a fast-forward); "
                                      "its new records are refused")
            continue
        files = git.tree_files(tip)
        bad = [n for n in files if not FILE_RE.match(n)]
        if bad:
            report.refused.append(f"{source}: {ref} holds a file that is not a record "
                                  f"({bad[0][:40]}); ignored")
            continue
        per_summit.setdefault(sid, []).append((ref, tip, old, files))
    for sid, refs in per_summit.items():
        _take_summit(ws, git, source, sid, refs, slugs, report)


def _take_summit(ws: Workspace, git: Git, source: str, sid: str,
                 refs: list[tuple[str, str, str | None, dict[str, str]]],
                 slugs: dict[str, str], report: Report) -> None:
    slug = slugs.get(records.uuid_from_id(sid))
    known = known_ids(ws, slug) if slug else set()
    wanted = {sha: (ref, _rid(name)) for ref, _, _, files in refs
              for name, sha in files.items() if _rid(name) not in known}
    blobs = git.read_blobs(wanted)
    docs: list[tuple[Record, Any]] = []
    bad_refs: set[str] = set()
    for sha, (ref, rid) in wanted.items():
        why, record, doc = _check_blob(ref, rid, blobs.get(sha))
        if why:
            report.refused.append(f"{source}: record {rid[:12]}: {why}")
            bad_refs.add(ref)
            continue
        assert record is not None
        docs.append((record, doc))
    # The join and the import are one transaction: committed apart, a kill between them
    # left a summit holding its genesis without the certificate that vouches for its
    # signature, which `check` rightly refuses (#11: all-or-nothing). Refs move after it.
    with ws.transaction():
        if slug is None:
            slug = join(ws, sid, [r for r, _ in docs], report, source)
            if slug is None:
                return
            known = known_ids(ws, slug)
        docs.sort(key=lambda pair: records.order_key(pair[0]))
        fresh, waiting = ready(docs, known)
        if waiting:
            report.pending += waiting
        if fresh:
            added, refused = ws.import_records(slug, fresh)
            report.imported[slug] = report.imported.get(slug, 0) + added
            report.refused += [f"{source}: {line}" for line in refused]
            before, known = known, known_ids(ws, slug)
            count_tabled(report, [r for r, _ in docs if r.id in known and r.id not in before],
                         bound(ws).home)
    for ref, tip, old, files in refs:
        if ref in bad_refs or not all(_rid(name) in known for name in files):
            continue
        try:
            git.update_ref(ref, tip, old)
        except GitError:
            continue  # moved by a concurrent sync: the next one looks again


def count_tabled(report: Report, new: list[Record], home: str) -> None:
    """Count the texts other delegations tabled among records just imported."""
    for record in new:
        if record.kind == records.REVISION and record.joint and record.author != home:
            report.tabled[record.author] = report.tabled.get(record.author, 0) + 1


def _rid(name: str) -> str:
    """The record id a file of a device ref is named after (names were checked)."""
    return name.removesuffix(".json")


def ready(pairs: list[tuple[Record, Any]], known: set[str]) -> tuple[list[Any], int]:
    """The new records whose causal past is here or comes with them, in order, and how many
    wait for records not received yet (pending, not refused: the next sync looks again)."""
    have = set(known)
    fresh, waiting = [], 0
    for record, doc in pairs:  # in (lamport, id) order: deps come first
        if record.id in have:
            continue
        if all(dep in have for dep in record.deps):
            have.add(record.id)
            fresh.append(doc)
        else:
            waiting += 1
    return fresh, waiting


def _check_blob(ref: str, rid: str, raw: bytes | None) -> tuple[str, Record | None, Any]:
    """Why a file of a ref cannot be one of that device's records ("" when it can)."""
    if raw is None:
        return "its object is missing", None, None
    try:
        doc = orjson.loads(raw)
        record = records.decode(doc)
    except (orjson.JSONDecodeError, records.RecordError) as error:
        return f"unreadable or altered ({str(error)[:80]})", None, None
    found = REF_RE.match(ref)
    assert found is not None
    scope, sid, code, device = found.groups()
    if record.id != rid:
        return "its file name is not its id", None, None
    if (record.summit or record.id) != sid:
        return "it belongs to another summit than its ref", None, None
    if record.author != code or record.signer != device:
        return (f"it is {record.author or 'nobody'}'s, signed by {str(record.signer)[:12]}, "
                f"but was found in {code}'s device ref {device[:12]}"), None, None
    if (scope == "joint") != record.joint:
        return f"a {record.scope} record found under refs/{scope}", None, None
    return "", record, doc


def known_ids(ws: Workspace, slug: str) -> set[str]:
    stored, _ = ws.stored(slug)
    return {doc["id"] for doc in stored if isinstance(doc, dict) and "id" in doc}


def join(ws: Workspace, sid: str, recs: list[Record], report: Report,
          source: str) -> str | None:
    """Adopt a summit met for the first time, if it is ours and from someone we trust."""
    identity = bound(ws)
    genesis = next((r for r in recs if r.kind == records.GENESIS and r.id == sid), None)
    if genesis is None:
        return None  # its genesis comes with another device's ref, maybe at the next sync
    parties = {d.get("code") for d in genesis.body.get("delegations", [])}
    chair = genesis.body.get("chair") or {}
    if identity.home not in parties | {chair.get("code")}:
        # A summit of others on a shared remote: remembered, so that its records are not
        # read again at every sync (its id is its genesis's hash: its parties cannot change).
        foreign = ws.exchange_get("foreign", [])
        if sid not in foreign:
            ws.exchange_put("foreign", [*foreign, sid])
        return None
    pinned = ws.pinned()
    if genesis.author not in pinned:
        report.refused.append(f"{source}: summit {genesis.body.get('title', sid[:12])!s} was "
                              f"created by {genesis.author or 'nobody'}, whose key is not "
                              "pinned here (summit keys trust)")
        return None
    certs = keys.certificates(recs, pinned, _trusted_certs(ws))
    why = keys.signature_problem(genesis, certs)
    if why:
        report.refused.append(f"{source}: genesis {genesis.short}: {why}")
        return None
    slug = ws.adopt(genesis)
    report.joined.append(slug)
    return slug


def _trusted_certs(ws: Workspace) -> list[Any]:
    return [cert for entry in ws.exchange_get("trust", {}).values()
            for cert in entry.get("certs", [])]


# Export and push ---------------------------------------------------------------------------

def export(ws: Workspace, git: Git, identity: keys.Identity, report: Report) -> None:
    """Append this device's records that its refs do not hold yet, one commit per ref."""
    # How far each summit's journal was exported, valid only for this very local repository:
    # a repository deleted or rebuilt has a new id, and everything is looked at again.
    repo_id = _repo_id(git)
    saved = ws.exchange_get("exported", {})
    marks = dict(saved.get("summits", {})) if saved.get("repo") == repo_id else {}
    changed = saved.get("repo") != repo_id
    entries = ws.summits()
    journals = dict(zip([e.slug for e in entries], ws.files()[1:], strict=False))
    for entry in entries:
        mark = marks.get(entry.slug, [0, None])
        size = _size(journals.get(entry.slug))
        if size == mark[1]:
            continue  # an append-only journal of the same size holds nothing new
        stored, _ = ws.stored(entry.slug)
        start = mark[0]
        if start > len(stored):
            start = 0  # a restored workspace: look at everything again
        own: dict[str, dict[str, bytes]] = {}
        sid = ""
        for doc in stored[start:]:
            record = records.decode(doc, verify=False)
            sid = record.summit or record.id
            if record.signer != identity.device:
                continue
            scope = "joint" if record.joint else "team"
            own.setdefault(scope, {})[f"{record.id}.json"] = _blob(doc)
        if not sid and stored:
            first = records.decode(stored[0], verify=False)
            sid = first.summit or first.id
        for scope, blobs in own.items():
            ref = f"refs/{scope}/{sid}/{identity.home}/{identity.device}"
            tip = git.refs(ref).get(ref)
            have = git.tree_files(tip) if tip else {}
            new = {name: raw for name, raw in blobs.items() if name not in have}
            if new:
                git.append_commit(ref, tip, new, identity.home, identity.device,
                                  int(time.time()))
                report.exported += len(new)
        ws.forget(entry.slug)
        marks[entry.slug] = [len(stored), size]
        changed = True
    if changed:
        ws.exchange_put("exported", {"repo": repo_id, "summits": marks})


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else -1
    except OSError:
        return -1


def _repo_id(git: Git) -> str:
    path = git.git_dir / "summit-id"
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        value = uuid.uuid4().hex
        path.write_text(value + "\n", "ascii")
        return value


def _blob(doc: Any) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def push(ws: Workspace, git: Git, remote: str, spec: dict[str, Any], report: Report) -> None:
    scopes = ("joint", "team") if spec["team"] else ("joint",)
    theirs = {name.removeprefix(f"refs/incoming/{remote}/"): tip
              for name, tip in git.refs(f"refs/incoming/{remote}/").items()}
    ours = {name: tip for scope in scopes for name, tip in git.refs(f"refs/{scope}/").items()}
    # Only refs we are ahead on: one we refused to follow (a rewritten or revoked device's)
    # stays behind the remote's, and is not pushed back.
    changed = {name: tip for name, tip in ours.items()
               if theirs.get(name.removeprefix("refs/")) is None
               or (theirs[name.removeprefix("refs/")] != tip
                   and git.is_ancestor(theirs[name.removeprefix("refs/")], tip))}
    if not changed:
        return
    if not spec["team"]:
        border_guard(git, list(changed.values()), list(theirs.values()))
    result = git.push(spec["url"], [f"{name}:{name}" for name in sorted(changed)])
    if result.code != 0:
        raise GitError(f"cannot push to {remote} ({spec['url']}): {reason(result.err)}")
    for name, tip in changed.items():
        git("update-ref", f"refs/incoming/{remote}/{name.removeprefix('refs/')}", tip)
    report.pushed.append(remote)


def border_guard(git: Git, tips: list[str], exclude: list[str]) -> None:
    """Refuse to send a joint remote anything that is not a joint record (second line of
    defence behind pushing only refs/joint/*)."""
    objects = git.objects_between(tips, exclude)
    types = git.object_types([sha for sha, _ in objects])
    blobs = [(sha, path) for sha, path in objects if types.get(sha) == "blob"]
    contents = git.read_blobs(sha for sha, _ in blobs)
    for sha, path in blobs:
        try:
            record = records.decode(orjson.loads(contents.get(sha, b"")))
        except (orjson.JSONDecodeError, records.RecordError):
            raise SyncError(f"Border guard: {path or sha[:12]} is not a record; nothing was "
                            "pushed to the joint remote") from None
        if not record.joint:
            raise SyncError(f"Border guard: {record.short} is {record.scope} material; "
                            "nothing was pushed to the joint remote")
