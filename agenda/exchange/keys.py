"""Delegation and device keys: fingerprints, certificates, record signatures and their checks.

A delegation has one root key (Ed25519); each machine of the delegation has a device key,
certified by the root. Records are signed by device keys; the other side pins only the root
key, by its fingerprint read aloud, so a certificate is what ties a device to a delegation.
A certificate travels inside a `key.cert` record signed by the device it certifies, so any
device can introduce itself in any summit without the root key at hand.

This module imports no workspace: the workspace calls it to sign, and check and sync call it
to verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agenda import records
from agenda.model import AgendaError, check_delegation_code
from agenda.records import Record

# cryptography (with OpenSSL) is imported by the functions that make, load, sign or verify
# with a key: splitting a shared workspace, or showing its unsigned baselines, only hashes.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Domain prefixes: a signature made for one purpose can never be replayed as another.
RECORD_DOMAIN = b"summit-agenda/record/v1\x00"
CERT_DOMAIN = b"summit-agenda/cert/v1\x00"
PACKET_DOMAIN = b"summit-agenda/packet/v1\x00"
REVOKE_DOMAIN = b"summit-agenda/revoke/v1\x00"
BASELINE_DOMAIN = b"summit-agenda/baseline/v1\x00"
CARD_FORMAT = "summit-card/1"
REQUEST_FORMAT = "summit-enrol/1"

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class KeyProblem(AgendaError):
    """A key, card or certificate is missing, malformed or does not verify."""


# Fingerprints ------------------------------------------------------------------------------

def _luhn32(chunk: str) -> str:
    """Syncthing's check character: Luhn mod 32 over the base32 alphabet."""
    factor, total = 1, 0
    for char in chunk:
        addend = factor * _B32.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return _B32[(32 - total % 32) % 32]


def fingerprint(public: bytes) -> str:
    """SHA-256 of a root public key, base32, a check character per 13, in groups of 7."""
    text = base64.b32encode(hashlib.sha256(public).digest()).decode().rstrip("=")
    checked = "".join(text[i:i + 13] + _luhn32(text[i:i + 13]) for i in range(0, 52, 13))
    return "-".join(checked[i:i + 7] for i in range(0, 56, 7))


def normalise_fingerprint(typed: str) -> str:
    """A fingerprint as someone typed it (any case, spaces or dashes), checked and regrouped."""
    flat = "".join(c for c in typed.upper() if c not in " -\t")
    if len(flat) != 56 or any(c not in _B32 for c in flat):
        raise KeyProblem("A fingerprint is 56 letters and digits 2–7 (8 groups of 7)")
    for i in range(0, 56, 14):
        if _luhn32(flat[i:i + 13]) != flat[i + 13]:
            raise KeyProblem(f"Fingerprint group {i // 7 + 2} has a typing error (its check "
                            "character does not match)")
    return "-".join(flat[i:i + 7] for i in range(0, 56, 7))


def device_id(public: bytes) -> str:
    """A device's name in records and ref names: the first 128 bits of its key's SHA-256."""
    return hashlib.sha256(public).hexdigest()[:32]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyProblem(f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem(f"{what} is not valid base64") from None


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def _verify(public: bytes, sig: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# Key files ---------------------------------------------------------------------------------

def keys_dir(workspace: Path) -> Path:
    """Private keys live beside the workspace (never inside it, so never in a backup)."""
    return workspace.with_name(workspace.stem + ".keys")


def _write_private(path: Path, payload: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)


def new_key(path: Path) -> Ed25519PrivateKey:
    """A fresh Ed25519 key written to `path` with mode 0600; refuses to overwrite one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise KeyProblem(f"{path.name} already exists beside this workspace; keys are never "
                        "replaced silently")
    key = Ed25519PrivateKey.generate()
    _write_private(path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyProblem(f"The key file {path.name} is missing beside this workspace") from None
    except ValueError:
        raise KeyProblem(f"The key file {path.name} is damaged") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"The key file {path.name} does not hold an Ed25519 key")
    return key


def new_age_identity(path: Path) -> str:
    """The device's X25519 identity for packets (age); returns its public recipient."""
    import pyrage

    identity = pyrage.x25519.Identity.generate()
    _write_private(path, str(identity).encode("ascii"))
    return str(identity.to_public())


def load_age_identity(path: Path) -> Any:
    import pyrage

    try:
        return pyrage.x25519.Identity.from_str(path.read_text("ascii").strip())
    except FileNotFoundError:
        raise KeyProblem(f"The packet key {path.name} is missing beside this workspace") from None


# Certificates ------------------------------------------------------------------------------

def certify(root: Ed25519PrivateKey, code: str, device_public: bytes, age: str) -> dict[str, Any]:
    """A root-signed statement that this device speaks for the delegation `code`."""
    statement = {"v": 1, "delegation": code, "device": device_id(device_public),
                 "public": b64(device_public), "age": age, "root": b64(public_bytes(root)),
                 "label": f"{code} device {device_id(device_public)[:6]}"}
    sig = root.sign(CERT_DOMAIN + records.canonical(statement))
    return {"statement": statement, "sig": b64(sig)}


@dataclass(frozen=True)
class Certified:
    """A device whose certificate verified against a pinned root."""

    code: str
    device: str
    public: bytes
    age: str


def check_certificate(cert: Any, pinned: Mapping[str, bytes]) -> Certified:
    """The device a certificate vouches for, if a pinned root signed it; raises otherwise."""
    if not isinstance(cert, dict) or not isinstance(cert.get("statement"), dict):
        raise KeyProblem("the certificate is not an object with a statement")
    statement = cert["statement"]
    code = statement.get("delegation")
    if not isinstance(code, str) or code not in pinned:
        raise KeyProblem(f"the certificate is for {code!r}, whose root key is not pinned here")
    root = unb64(statement.get("root"), "the certificate's root key")
    if root != pinned[code]:
        raise KeyProblem(f"the certificate is signed by a root key that is not {code}'s pinned "
                        "one")
    try:
        message = CERT_DOMAIN + records.canonical(statement)
    except records.RecordError as error:
        raise KeyProblem(f"the certificate is malformed ({error})") from None
    if not _verify(root, unb64(cert.get("sig"), "the certificate's signature"), message):
        raise KeyProblem(f"{code}'s certificate signature does not match (altered?)")
    public = unb64(statement.get("public"), "the device key")
    if statement.get("device") != device_id(public):
        raise KeyProblem("the certificate's device name does not match its key")
    age = statement.get("age")
    return Certified(code, device_id(public), public, age if isinstance(age, str) else "")


def certificates(recs: Iterable[Record], pinned: Mapping[str, bytes],
                 extra: Iterable[Any] = ()) -> dict[str, Certified]:
    """Every device certified by a pinned root, from `key.cert` records and loose certificates.

    A `key.cert` record counts only if its device also signed it, so nobody can slip another
    delegation's certificate under their own name.
    """
    found: dict[str, Certified] = {}
    for cert in extra:
        try:
            device = check_certificate(cert, pinned)
        except KeyProblem:
            continue
        found[device.device] = device
    for record in recs:
        if record.kind != records.KEY_CERT:
            continue
        try:
            device = check_certificate(record.body.get("cert"), pinned)
        except KeyProblem:
            continue
        if device.device == record.signer and device.code == record.author and \
                _record_sig_ok(record, device.public):
            found[device.device] = device
    return found


def revoke(root: Ed25519PrivateKey, code: str, device: str) -> dict[str, Any]:
    """A root-signed statement that a device no longer speaks for the delegation."""
    statement = {"v": 1, "delegation": code, "device": device,
                 "root": b64(public_bytes(root))}
    return {"statement": statement,
            "sig": b64(root.sign(REVOKE_DOMAIN + records.canonical(statement)))}


def check_revocation(doc: Any, pinned: Mapping[str, bytes]) -> tuple[str, str]:
    """(delegation, device) of a revocation signed by a pinned root; raises otherwise."""
    if not isinstance(doc, dict) or not isinstance(doc.get("statement"), dict):
        raise KeyProblem("the revocation is not an object with a statement")
    statement = doc["statement"]
    code, device = statement.get("delegation"), statement.get("device")
    if not isinstance(code, str) or code not in pinned or not isinstance(device, str):
        raise KeyProblem(f"the revocation is for {code!r}, whose root key is not pinned here")
    root = unb64(statement.get("root"), "the revocation's root key")
    if root != pinned[code] or not verify_bytes(root, doc.get("sig"), REVOKE_DOMAIN,
                                                records.canonical(statement)):
        raise KeyProblem(f"the revocation is not signed by {code}'s pinned root key")
    return code, device


def revocations(recs: Iterable[Record], pinned: Mapping[str, bytes]) -> dict[str, set[str]]:
    """Revoked device -> the records that still count for it: the causal past of the
    revocation (what its delegation had seen when it revoked the device)."""
    recs = list(recs)
    by_id = {r.id: r for r in recs}
    revoked: dict[str, set[str]] = {}
    for record in recs:
        if record.kind != records.KEY_REVOKE:
            continue
        try:
            code, device = check_revocation(record.body.get("revocation"), pinned)
        except KeyProblem:
            continue
        if record.author != code:
            continue
        revoked.setdefault(device, set()).update({record.id}, causal_past(record, by_id))
    return revoked


# Records -----------------------------------------------------------------------------------

def sign(record: Record, key: Ed25519PrivateKey) -> Record:
    """The record with its signature: Ed25519 over the domain prefix and its id."""
    return records.signed(record, b64(key.sign(RECORD_DOMAIN + record.id.encode("ascii"))))


def _record_sig_ok(record: Record, public: bytes) -> bool:
    if record.sig is None:
        return False
    try:
        sig = unb64(record.sig, "the signature")
    except KeyProblem:
        return False
    return _verify(public, sig, RECORD_DOMAIN + record.id.encode("ascii"))


def signature_problem(record: Record, certs: Mapping[str, Certified],
                      revoked: Mapping[str, set[str]] | None = None,
                      covered: Set[str] = frozenset()) -> str:
    """Why a record's signature does not make it its author's ("" when it does).

    Records converted from 0.1 carry no signature and are accepted as they are: their
    history predates keys; so are the unsigned records a split's baseline covers.
    """
    if record.signer is None and record.sig is None and (record.legacy or record.id in covered):
        return ""
    if record.signer is None or record.sig is None:
        return "it is not signed"
    device = certs.get(record.signer)
    if device is None:
        return (f"it is signed by device {record.signer[:12]}, which no pinned delegation "
                "key has certified")
    if device.code != record.author:
        return (f"it claims to be {record.author or 'nobody'}'s but is signed by a "
                f"{device.code} device")
    if not _record_sig_ok(record, device.public):
        return "its signature does not match (altered after signing)"
    if revoked and record.signer in revoked and record.id not in revoked[record.signer]:
        return (f"it is signed by device {record.signer[:12]}, which {device.code} revoked "
                "before this record was written")
    return ""


def signature_problems(recs: Iterable[Record], pinned: Mapping[str, bytes],
                       extra_certs: Iterable[Any] = ()) -> list[tuple[Record, str]]:
    """Every record of a set whose signature does not verify, with why (for `summit check`)."""
    recs = list(recs)
    certs = certificates(recs, pinned, extra_certs)
    revoked = revocations(recs, pinned)
    covered = baseline_covered(recs, pinned)
    split = any(r.kind == records.BASELINE for r in recs)
    found = []
    for record in recs:
        why = signature_problem(record, certs, revoked, covered)
        if why and split and unsigned(record):
            why += (f"; no baseline confirmed by {record.author or 'its author'}'s root key "
                    "covers it (`summit baseline sign`)")
        if why:
            found.append((record, why))
    return found


# Baselines (summit split) -------------------------------------------------------------------

def merkle_root(ids: Sequence[str]) -> str:
    """The Merkle root (SHA-256, odd nodes carried up) of record ids in the order given."""
    level = [bytes.fromhex(rid) for rid in ids]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() if i + 1 < len(level)
                 else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def causal_past(record: Record, by_id: Mapping[str, Record]) -> set[str]:
    """The ids a record has in its causal past (itself excluded), among those known."""
    past: set[str] = set()
    stack = list(record.deps)
    while stack:
        rid = stack.pop()
        if rid in past or rid not in by_id:
            continue
        past.add(rid)
        stack.extend(by_id[rid].deps)
    return past


def unsigned(record: Record) -> bool:
    return record.signer is None and record.sig is None


def baseline_body(joint: Sequence[Record]) -> dict[str, Any]:
    """What a baseline says of the joint history before keys: its count and Merkle root."""
    ids = sorted(r.id for r in joint)
    return {"count": len(ids), "root": merkle_root(ids)}


def team_root(recs: Iterable[Record], code: str) -> str:
    """The Merkle root of a delegation's unsigned internal records (its drafts and notes
    from before keys), which its baseline signature vouches for without showing them."""
    return merkle_root(sorted(r.id for r in recs
                              if r.scope == records.team(code) and unsigned(r)))


def baseline_statement(baseline: str, code: str, team: str) -> bytes:
    return records.canonical({"v": 1, "baseline": baseline, "delegation": code, "team": team})


def sign_baseline(root: Ed25519PrivateKey, baseline: str, code: str,
                  team: str) -> dict[str, Any]:
    """The body of a `baseline.sign` record: the root key confirms the shared history."""
    return {"baseline": baseline, "delegation": code, "team": team,
            "root": b64(public_bytes(root)),
            "sig": b64(root.sign(BASELINE_DOMAIN + baseline_statement(baseline, code, team)))}


def _baseline_signer(record: Record, pinned: Mapping[str, bytes]) -> str:
    """The delegation whose pinned root signed a `baseline.sign` record ("" if none did)."""
    body = record.body
    code, baseline, team = body.get("delegation"), body.get("baseline"), body.get("team")
    if not (isinstance(code, str) and isinstance(baseline, str) and isinstance(team, str)) \
            or code != record.author or code not in pinned:
        return ""
    try:
        if unb64(body.get("root"), "the root key") != pinned[code]:
            return ""
    except KeyProblem:
        return ""
    ok = verify_bytes(pinned[code], body.get("sig"), BASELINE_DOMAIN,
                      baseline_statement(baseline, code, team))
    return code if ok else ""


def baseline_covered(recs: Iterable[Record], pinned: Mapping[str, bytes]) -> set[str]:
    """The unsigned records a baseline vouches for.

    Joint ones: the baseline itself and its causal past, when their count and Merkle root
    are what it says (a record slipped in later changes the root, so nothing is covered).
    A delegation's internal ones: when its root signed a baseline naming their Merkle root.
    """
    recs = list(recs)
    by_id = {r.id: r for r in recs}
    covered: set[str] = set()
    for record in recs:
        if record.kind == records.BASELINE and record.joint and unsigned(record):
            past = causal_past(record, by_id)
            if record.body == baseline_body([by_id[rid] for rid in past]):
                covered |= {rid for rid in past if unsigned(by_id[rid])} | {record.id}
        elif record.kind == records.BASELINE_SIGN:
            code = _baseline_signer(record, pinned)
            if code and record.body.get("baseline") in by_id and \
                    record.body.get("team") == team_root(recs, code):
                covered |= {r.id for r in recs
                            if r.scope == records.team(code) and unsigned(r)}
    return covered


def baseline_signers(recs: Iterable[Record], pinned: Mapping[str, bytes]) -> dict[str, set[str]]:
    """Baseline id -> the delegations whose pinned root confirmed it."""
    found: dict[str, set[str]] = {}
    for record in recs:
        if record.kind == records.BASELINE_SIGN:
            code = _baseline_signer(record, pinned)
            if code:
                found.setdefault(str(record.body["baseline"]), set()).add(code)
    return found


# Identity of a bound workspace -------------------------------------------------------------

@dataclass
class Identity:
    """The home delegation of a bound workspace and this machine's device key."""

    home: str
    device: str
    cert: dict[str, Any]
    key: Ed25519PrivateKey
    folder: Path

    def sign(self, record: Record) -> Record:
        return sign(record, self.key)

    def sign_bytes(self, domain: bytes, payload: bytes) -> str:
        return b64(self.key.sign(domain + payload))

    def age_identity(self) -> Any:
        return load_age_identity(self.folder / "device.age")


def load_identity(workspace: Path, doc: Mapping[str, Any]) -> Identity:
    folder = keys_dir(workspace)
    key = load_key(folder / "device.pem")
    if device_id(public_bytes(key)) != doc.get("device"):
        raise KeyProblem("The device key beside this workspace is not the one it was bound to")
    return Identity(doc["home"], doc["device"], doc["cert"], key, folder)


def verify_bytes(public: bytes, sig: Any, domain: bytes, payload: bytes) -> bool:
    try:
        raw = unb64(sig, "the signature")
    except KeyProblem:
        return False
    return _verify(public, raw, domain + payload)


def new_device(folder: Path) -> tuple[Ed25519PrivateKey, str]:
    """This machine's device key and packet identity (created once)."""
    return new_key(folder / "device.pem"), new_age_identity(folder / "device.age")


def code_of(value: str) -> str:
    return check_delegation_code(value.strip().upper())
