"""`summit split`: one workspace per delegation from a shared one, and its baseline.

A shared workspace (0.1, or a later one never bound to keys) holds every delegation's internal
drafts and notes side by side, hidden from each other only by a view filter. Splitting copies
each record as it is stored, byte for byte, into the workspaces allowed to hold it: joint records
into every one, a delegation's internal records into its own only. Copying rather than re-writing
keeps every id, uuid and label, so each delegation's lists, histories and exports are the ones
the shared workspace showed it. The local event log follows the same rule.

What predates keys carries no signature. A `baseline` record, written identically into every
output (the same bytes, so the same id), names the Merkle root and count of the joint history;
each delegation's root key confirms it in a `baseline.sign` record, which also vouches for the
delegation's own unsigned drafts and notes by their Merkle root (see exchange/keys.py).
"""

from __future__ import annotations

import os
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agenda import records
from agenda.journal import Journal
from agenda.model import AgendaError, to_iso
from agenda.records import Record
from agenda.workspace import Workspace


@dataclass
class Output:
    """One delegation's new workspace."""

    code: str
    path: Path
    summits: list[str] = field(default_factory=list)
    fingerprint: str = ""  # its root key's, when --keys bound it


@dataclass
class SplitReport:
    outputs: dict[str, Output]
    baselines: dict[str, str]  # summit slug -> baseline fingerprint (read aloud, as a key's)

    def lines(self, keyed: bool) -> list[str]:
        out = []
        for code, output in sorted(self.outputs.items()):
            bound = f", bound to {code} (root key {output.fingerprint})" if keyed else ""
            out.append(f"{code}: {output.path} ({len(output.summits)} summit"
                       f"{'s' if len(output.summits) != 1 else ''}{bound})")
        for slug, fp in sorted(self.baselines.items()):
            out.append(f"baseline of {slug}: {fp}")
        if keyed:
            out.append("Each delegation's root key has signed the baselines. Take each "
                       "workspace, with its .keys folder, to its delegation's machine; heads of "
                       "delegation compare the baseline fingerprints above.")
        else:
            out.append("Next, on each delegation's machine: `summit --db CODE.json keys init "
                       "--as CODE`, exchange cards (`keys card`, `keys trust`), compare the "
                       "baseline fingerprints above, then `summit --db CODE.json baseline sign`.")
        return out


def parties_of(genesis: Record) -> list[str]:
    """Every code that writes in a summit: its delegations, and its chair if it has one."""
    codes = [str(d["code"]) for d in genesis.body.get("delegations", [])]
    chair = genesis.body.get("chair")
    if isinstance(chair, dict) and chair.get("code"):
        codes.append(str(chair["code"]))
    return codes


def baseline_record(joint: list[Record], summit_id: str) -> Record:
    """The baseline of a summit's joint history: the same bytes from any copy of it."""
    from agenda.exchange.keys import baseline_body

    heads = records.heads(joint)
    by_id = {r.id: r for r in joint}
    return records.make(
        kind=records.BASELINE, summit=summit_id, scope=records.JOINT, author="",
        lamport=1 + max(by_id[h].lamport for h in heads), deps=heads,
        created=max(r.created for r in joint), body=baseline_body(joint))


def baseline_fingerprint(baseline_id: str) -> str:
    from agenda.exchange.keys import fingerprint

    return fingerprint(bytes.fromhex(baseline_id))


def _refuse_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AgendaError(f"{out} exists and is not an empty folder; split writes only into a "
                          "new one")


def split(ws: Workspace, out: Path, *, keyed: bool = False) -> SplitReport:
    """Write one workspace per delegation of `ws` into the new folder `out`; `ws` is only read."""
    if ws.exchange_get("identity") is not None:
        raise AgendaError("This workspace is bound to one delegation already; it holds only "
                          "that delegation's material, so there is nothing to split")
    _refuse_out(out)
    summits = []
    for entry in ws.summits():
        stored, events = ws.stored(entry.slug)
        ws.forget(entry.slug)
        decoded = [records.decode(doc) for doc in stored]
        if not decoded or decoded[0].kind != records.GENESIS:
            raise AgendaError(f"Summit {entry.slug} does not start with its genesis record")
        labels = _labels_stored(ws, entry.slug)
        summits.append((entry, stored, decoded, events, labels))
    codes = sorted({code for _, _, decoded, _, _ in summits for code in parties_of(decoded[0])})
    if len(codes) < 2:
        raise AgendaError("This workspace has fewer than two delegations; there is nothing to "
                          "split")
    # Everything is written in a hidden folder beside DIR and renamed into place at the end:
    # a split killed half-way leaves no DIR that looks complete (only the hidden folder).
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    building = out.with_name(f".{out.name}.split-{uuidlib.uuid4().hex[:12]}")
    building.mkdir(mode=0o700)
    report = SplitReport({code: Output(code, building / f"{code}.json") for code in codes}, {})
    try:
        for entry, stored, decoded, events, labels in summits:
            genesis = decoded[0]
            joint = [r for r in decoded if r.joint]
            baseline = baseline_record(joint, genesis.id)
            report.baselines[entry.slug] = baseline_fingerprint(baseline.id)
            for code in parties_of(genesis):
                keep = [doc for doc, record in zip(stored, decoded, strict=True)
                        if record.joint or record.scope == records.team(code)]
                kept_ids = {str(doc["id"]) for doc in keep}
                _install(report.outputs[code].path, entry, [*keep, records.encode(baseline)],
                         [e for e in events if e.get("private_to", "") in ("", code)],
                         {rid: label for rid, label in labels.items() if rid in kept_ids})
                report.outputs[code].summits.append(entry.slug)
        if keyed:
            _bind_all(report)
    except BaseException:
        import shutil  # only a failed split needs it (and `baseline` imports this module)

        shutil.rmtree(building, ignore_errors=True)  # nothing half-written is left behind
        raise
    if out.exists():
        out.rmdir()  # checked empty above
    os.rename(building, out)
    for output in report.outputs.values():
        output.path = out / output.path.name
    return report


def _labels_stored(ws: Workspace, slug: str) -> dict[str, str]:
    """The labels a summit remembers having shown ("was v3"), as stored."""
    with ws.lock.thread_only():
        journal = ws._file(slug, decode=False).journal
        return dict(journal.puts.get("labels", {})) if journal.legacy is None else {}


def _install(path: Path, entry: Any, docs: list[Any], events: list[dict[str, Any]],
             labels: dict[str, str]) -> None:
    """Add one summit, its records as stored, to a (new) workspace."""
    target = Workspace(path, create=True)
    try:
        with target.transaction():
            target.summits_dir.mkdir(mode=0o700, exist_ok=True)
            journal = Journal(target.summits_dir / f"{entry.slug}.json", target.lock)
            journal.create()
            journal.append("records", docs)
            journal.append("events", events)
            for rid, label in labels.items():
                journal.put("labels", rid, label)
            journal.commit()
            # The index entry as create_summit writes it (split is the workspace's own
            # kind of creation, so it reaches into the index rather than widen its API).
            target._index.table("summits").insert({
                "slug": entry.slug, "uuid": entry.uuid, "title": entry.title,
                "venue": entry.venue, "dates": entry.dates, "file": f"{entry.slug}.json",
                "created": to_iso(entry.created)})
    finally:
        target.close()


def _bind_all(report: SplitReport) -> None:
    """--keys: bind each output to its delegation, pin every other one's root (they were made
    together, on this machine), and sign each summit's baseline with the root key."""
    from agenda.exchange import identity

    cards: dict[str, dict[str, Any]] = {}
    for code, output in report.outputs.items():
        ws = Workspace(output.path)
        try:
            output.fingerprint = identity.init(ws, code)
            cards[code] = identity.card(ws)
        finally:
            ws.close()
    for code, output in report.outputs.items():
        ws = Workspace(output.path)
        try:
            for other, card in sorted(cards.items()):
                if other != code:
                    identity.trust(ws, card, report.outputs[other].fingerprint)
            sign_baselines(ws)
        finally:
            ws.close()


def sign_baselines(ws: Workspace) -> list[str]:
    """`summit baseline sign`: confirm, with the home root key, every summit's baseline this
    delegation has not confirmed yet. Returns the slugs signed."""
    from agenda.exchange import keys

    home = ws.identity()
    if home is None:
        raise AgendaError("This workspace has no keys yet; run `summit keys init --as CODE`")
    root_path = keys.keys_dir(ws.path) / "root.pem"
    if not root_path.exists():
        raise AgendaError("The root key is not on this machine; sign where it is kept")
    root = keys.load_key(root_path)
    signed = []
    for entry in ws.summits():
        stored, _ = ws.stored(entry.slug)
        ws.forget(entry.slug)
        decoded = [records.decode(doc, verify=False) for doc in stored]
        baselines = [r for r in decoded if r.kind == records.BASELINE]
        done = keys.baseline_signers(decoded, ws.pinned())
        for baseline in baselines:
            if home.home in done.get(baseline.id, set()):
                continue
            body = keys.sign_baseline(root, baseline.id, home.home,
                                      keys.team_root(decoded, home.home))
            ws.write_key_record(entry.slug, records.BASELINE_SIGN, body)
            signed.append(entry.slug)
    return signed


def baseline_status(ws: Workspace, slug: str) -> list[tuple[str, str, list[str]]]:
    """(baseline fingerprint, parties that confirmed it, parties that have not) per baseline."""
    from agenda.exchange import keys

    stored, _ = ws.stored(slug)
    decoded = [records.decode(doc, verify=False) for doc in stored]
    genesis = decoded[0] if decoded else None
    parties = parties_of(genesis) if genesis is not None else []
    done = keys.baseline_signers(decoded, ws.pinned())
    out = []
    for record in decoded:
        if record.kind == records.BASELINE:
            have = done.get(record.id, set())
            out.append((baseline_fingerprint(record.id), ", ".join(sorted(have)),
                        [p for p in parties if p not in have]))
    return out
