"""Packets for the air gap, e-mail or USB: signed joint records, encrypted to the recipient.

A packet is `age( envelope( zip{ manifest.json, manifest.sig, records.json } ) )`, the
envelope being a format line and the zip's SHA-256. The manifest names the
sender's device (with its certificate), the recipient, and the SHA-256 of the records; the
signature covers the manifest. The receiver checks all of it before it writes anything, and
then imports the records as a sync does, so the same packet twice changes nothing.
A packet carries joint records only: the sender refuses to pack anything else, and the
receiver refuses any record of another scope. Each packet carries the sender's
acknowledgements (how many joint records of each device it holds); the next packet the other
side writes leaves out what they cover.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from agenda import records, undo
from agenda.exchange import keys, sync
from agenda.model import AgendaError, now_utc, to_iso
from agenda.records import Record
from agenda.store import atomic_write
from agenda.workspace import Workspace

FORMAT = "summit-packet/1"
AGE_MAGIC = b"age-encryption.org/v1"
ENVELOPE = b"summit-packet/1\n"
MAX_PACKET = 512 * 1024 * 1024


class PacketError(AgendaError):
    """A packet cannot be written, or is refused as a whole (nothing was imported)."""


@dataclass(frozen=True)
class Sent:
    to: str
    count: int
    encrypted: bool


def _parties(genesis: Record) -> set[str]:
    chair = genesis.body.get("chair") or {}
    codes = [d.get("code") for d in genesis.body.get("delegations", [])] + [chair.get("code")]
    return {code for code in codes if isinstance(code, str)}


def send(ws: Workspace, to: str, output: Path, *, encrypt: bool = True,
         full: bool = False) -> Sent:
    """Write a packet for `to`: the joint records `to` has not acknowledged (all with
    `full`), with this workspace's own acknowledgements, so that `to`'s next packet carries
    only what is new here."""
    identity = sync.bound(ws)
    to = keys.code_of(to)
    if to == identity.home:
        raise PacketError(f"{to} is this workspace's own delegation")
    docs: list[Any] = []
    summits: list[str] = []
    recipients: set[str] = set()  # the addressee's devices, and ours (to read the outbox)
    addressee = False
    pinned = ws.pinned()
    theirs = {} if full else ws.exchange_get("acks", {}).get(to, {})
    acks: dict[str, dict[str, int]] = {}
    carried: dict[str, int] = {}  # slug -> journal records looked at (see undo.mark_sent)
    for entry in ws.summits():
        stored, _ = ws.stored(entry.slug)
        carried[entry.slug] = len(stored)
        ws.forget(entry.slug)
        decoded = [records.decode(doc) for doc in stored]
        genesis = next((r for r in decoded if r.kind == records.GENESIS), None)
        if genesis is None or to not in _parties(genesis):
            continue
        summits.append(genesis.id)
        # The exporter's own guard: internal material never leaves.
        joint = [(r, d) for r, d in zip(decoded, stored, strict=True) if r.joint]
        acks[genesis.id] = ack_vector([r for r, _ in joint])
        held = theirs.get(genesis.id, {})
        seen: dict[str | None, int] = {}
        for record, doc in sorted(joint, key=lambda pair: records.order_key(pair[0])):
            seen[record.signer] = seen.get(record.signer, 0) + 1
            if record.signer is None or seen[record.signer] > held.get(record.signer, 0):
                docs.append(doc)
        certs = keys.certificates(decoded, pinned)
        revoked = keys.revocations(decoded, pinned)
        for device in certs.values():
            if device.code in (to, identity.home) and device.age and \
                    device.device not in revoked:
                recipients.add(device.age)
                addressee = addressee or device.code == to
    if not summits:
        raise PacketError(f"No summit of this workspace has {to} among its parties")
    for entry in ws.exchange_get("trust", {}).values():
        for cert in entry.get("certs", []):
            try:
                device = keys.check_certificate(cert, pinned)
            except keys.KeyProblem:
                continue
            if device.code in (to, identity.home) and device.age:
                recipients.add(device.age)
                addressee = addressee or device.code == to
    body = orjson.dumps({"records": docs})
    manifest = {"format": FORMAT, "uuid": str(uuid.uuid4()), "from": identity.home,
                "device": identity.device, "cert": identity.cert, "to": [to],
                "created": to_iso(now_utc()), "summits": summits, "count": len(docs),
                "acks": acks,
                "records_sha256": hashlib.sha256(body).hexdigest()}
    manifest_bytes = records.canonical(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest_bytes)
        archive.writestr("manifest.sig", identity.sign_bytes(keys.PACKET_DOMAIN,
                                                             manifest_bytes))
        archive.writestr("records.json", body)
    archive_bytes = buffer.getvalue()
    # The envelope's hash catches damage anywhere in the file, even in zip fields that zip
    # itself never checks; what the packet says is covered by the manifest's signature.
    payload = ENVELOPE + hashlib.sha256(archive_bytes).hexdigest().encode() + b"\n" + \
        archive_bytes
    if encrypt:
        import pyrage

        if not addressee:
            raise PacketError(f"No device key of {to} is known yet (pin {to}'s card or sync "
                              "once); --no-encrypt is for a channel already protected")
        payload = pyrage.encrypt(payload, [pyrage.x25519.Recipient.from_str(r)
                                           for r in sorted(recipients)])
    atomic_write(output, payload)
    # What a packet carried has left the machine: it can no longer be undone (undo.py).
    undo.mark_sent(ws, carried)
    return Sent(to, len(docs), encrypt)


def ack_vector(joint: list[Record]) -> dict[str, int]:
    """How many joint records of each device a workspace holds. A device's joint records form
    one causal chain, and a workspace only ever holds a causally complete set, so a count
    per device says exactly which records it has."""
    counts: dict[str, int] = {}
    for record in joint:
        if record.signer is not None:
            counts[record.signer] = counts.get(record.signer, 0) + 1
    return counts


def _remember_acks(ws: Workspace, manifest: dict[str, Any]) -> None:
    """What the sender holds, from a checked packet: the receipt for our next packet."""
    received = manifest.get("acks")
    if not isinstance(received, dict):
        return
    every = dict(ws.exchange_get("acks", {}))
    known = {sid: dict(v) for sid, v in every.get(manifest["from"], {}).items()}
    for sid, vector in received.items():
        if not isinstance(vector, dict):
            continue
        mine = known.setdefault(str(sid), {})
        for device, count in vector.items():
            if isinstance(count, int) and count > mine.get(device, 0):
                mine[str(device)] = count  # packets may arrive out of order: keep the most
    if known != every.get(manifest["from"]):
        every[manifest["from"]] = known
        ws.exchange_put("acks", every)


def open_packet(ws: Workspace, raw: bytes) -> tuple[dict[str, Any], list[Any]]:
    """The manifest and record documents of a packet, after every check; raises otherwise."""
    identity = sync.bound(ws)
    if raw.startswith(AGE_MAGIC):
        import pyrage

        try:
            raw = pyrage.decrypt(raw, [identity.age_identity()])
        except Exception:  # noqa: BLE001 - pyrage raises several kinds; all mean "refused"
            raise PacketError("The packet cannot be decrypted: altered, or not addressed to "
                              "this device; nothing was imported") from None
    if not raw.startswith(ENVELOPE):
        raise PacketError("This file is not a summit packet; nothing was imported")
    digest, _, raw = raw[len(ENVELOPE):].partition(b"\n")
    if digest != hashlib.sha256(raw).hexdigest().encode():
        raise PacketError("The packet is damaged (its checksum does not match); nothing was "
                          "imported")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > 4 * MAX_PACKET:
                raise PacketError("The packet unpacks to more than any packet holds; nothing "
                                  "was imported")
            manifest_bytes = archive.read("manifest.json")
            sig = archive.read("manifest.sig").decode("ascii", "replace")
            body = archive.read("records.json")
    except PacketError:
        raise
    except Exception:  # noqa: BLE001 - a hostile zip fails in many ways; all mean "refused"
        raise PacketError("This file is not a packet, or it is damaged; nothing was "
                          "imported") from None
    try:
        manifest = orjson.loads(manifest_bytes)
    except orjson.JSONDecodeError:
        raise PacketError("The packet's manifest is unreadable; nothing was imported") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PacketError("This file is not a summit packet; nothing was imported")
    pinned = ws.pinned()
    sender = manifest.get("from")
    try:
        device = keys.check_certificate(manifest.get("cert"), pinned)
    except keys.KeyProblem as problem:
        raise PacketError(f"The packet's signer cannot be trusted ({problem}); nothing was "
                          "imported") from None
    if device.code != sender or device.device != manifest.get("device"):
        raise PacketError(f"The packet claims to come from {sender!r} but its key says "
                          f"{device.code}; nothing was imported")
    if not keys.verify_bytes(device.public, sig, keys.PACKET_DOMAIN, manifest_bytes):
        raise PacketError("The packet's signature does not match (altered); nothing was "
                          "imported")
    if identity.home not in (manifest.get("to") or []):
        raise PacketError(f"The packet is addressed to {', '.join(manifest.get('to') or [])}, "
                          f"not to {identity.home}; nothing was imported")
    if hashlib.sha256(body).hexdigest() != manifest.get("records_sha256"):
        raise PacketError("The packet's records do not match its signed manifest; nothing "
                          "was imported")
    try:
        docs = orjson.loads(body)["records"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise PacketError("The packet's records are unreadable; nothing was imported") from None
    if not isinstance(docs, list):
        raise PacketError("The packet's records are unreadable; nothing was imported")
    return manifest, docs


def receive(ws: Workspace, path: Path) -> sync.Report:
    """Verify a packet as a whole, then import it; a packet that needs one not yet received
    waits in the inbox, and waiting packets are retried after every packet applied."""
    try:
        if path.stat().st_size > MAX_PACKET:
            raise PacketError(f"{path} is larger than any packet ({MAX_PACKET:,} bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        raise PacketError(f"Cannot read {path}: {exc.strerror}") from None
    manifest, docs = open_packet(ws, raw)
    report = sync.Report()
    _remember_acks(ws, manifest)
    if not _apply(ws, manifest, docs, report):
        inbox = sync.exchange_dir(ws) / "inbox"
        inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(inbox / f"{_safe_uuid(manifest)}.summit", raw)
        report.waiting.append(f"packet {_safe_uuid(manifest)[:8]} waits for the packet "
                              "before it (kept in the inbox)")
        return report
    retry_inbox(ws, report)
    return report


def retry_inbox(ws: Workspace, report: sync.Report) -> None:
    """Apply every waiting packet whose predecessors have arrived, until none moves."""
    inbox = sync.exchange_dir(ws) / "inbox"
    progress = True
    while progress and inbox.is_dir():
        progress = False
        for path in sorted(inbox.glob("*.summit")):
            try:
                manifest, docs = open_packet(ws, path.read_bytes())
            except PacketError as error:
                report.refused.append(f"{path.name}: {error}")
                path.unlink()
                continue
            if _apply(ws, manifest, docs, report):
                path.unlink()
                progress = True


def _safe_uuid(manifest: dict[str, Any]) -> str:
    value = str(manifest.get("uuid", ""))
    return "".join(c for c in value if c.isalnum() or c == "-")[:40] or "packet"


def _apply(ws: Workspace, manifest: dict[str, Any], docs: list[Any],
           report: sync.Report) -> bool:
    """Import a checked packet's records; False (nothing written) when some of them depend
    on records that neither the workspace nor the packet holds."""
    source = f"packet {_safe_uuid(manifest)[:8]}"
    refused: list[str] = []
    by_summit: dict[str, list[tuple[Record, Any]]] = {}
    for doc in docs:
        try:
            record = records.decode(doc)
        except records.RecordError as error:
            refused.append(f"{source}: {error}")
            continue
        if not record.joint:
            refused.append(f"{source}: record {record.short} is {record.scope} material, "
                           "which no packet may carry")
            continue
        by_summit.setdefault(record.summit or record.id, []).append((record, doc))
    slugs = {entry.uuid: entry.slug for entry in ws.summits()}
    for sid, pairs in by_summit.items():
        slug = slugs.get(records.uuid_from_id(sid))
        present = sync.known_ids(ws, slug) if slug else set()
        present |= {record.id for record, _ in pairs}
        if slug is None and sid not in present:
            return False  # the summit's genesis comes in an earlier packet
        if any(dep not in present for record, _ in pairs for dep in record.deps):
            return False
    report.refused += refused
    for sid, pairs in by_summit.items():
        # One transaction for the join and the import: committed apart, a kill between
        # them left a summit holding its genesis without the certificate that vouches for
        # its signature, which `check` rightly refuses (#11: all-or-nothing).
        with ws.transaction():
            _apply_summit(ws, sid, pairs, slugs.get(records.uuid_from_id(sid)), report,
                          source)
    return True


def _apply_summit(ws: Workspace, sid: str, pairs: list[tuple[Record, Any]],
                  slug: str | None, report: sync.Report, source: str) -> None:
    if slug is None:
        slug = sync.join(ws, sid, [r for r, _ in pairs], report, source)
        if slug is None:
            return
    known = sync.known_ids(ws, slug)
    pairs.sort(key=lambda pair: records.order_key(pair[0]))
    fresh = [doc for record, doc in pairs if record.id not in known]
    if fresh:
        added, refused_here = ws.import_records(slug, fresh)
        report.imported[slug] = report.imported.get(slug, 0) + added
        report.refused += [f"{source}: {line}" for line in refused_here]
