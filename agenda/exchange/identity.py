"""Binding a workspace to its home delegation, cards, trust, and a second officer's device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from agenda import records
from agenda.exchange import keys
from agenda.exchange.keys import KeyProblem
from agenda.model import AgendaError
from agenda.workspace import Workspace

CERT_FORMAT = "summit-certificate/1"


def _unbound(ws: Workspace) -> None:
    identity = ws.exchange_get("identity")
    if identity is not None:
        raise AgendaError(f"This workspace is already bound to {identity['home']}; its keys "
                          "are never replaced")
    for entry in ws.summits():
        stored, _ = ws.stored(entry.slug)
        ws.forget(entry.slug)
        decoded = [records.decode(doc, verify=False) for doc in stored]
        if any(r.kind == records.BASELINE for r in decoded):
            continue  # split from a shared workspace: its baseline covers what predates keys
        for record in decoded:
            if not record.legacy and record.sig is None:
                raise AgendaError(f"Summit {entry.slug} was written without keys; bind a new, "
                                  "empty workspace (with --db) and join the summit from there")


def init(ws: Workspace, code: str, name: str = "") -> str:
    """Create the delegation's root key and this device's key; bind the workspace."""
    code = keys.code_of(code)
    _unbound(ws)
    folder = keys.keys_dir(ws.path)
    root = keys.new_key(folder / "root.pem")
    device, age = keys.new_device(folder)
    cert = keys.certify(root, code, keys.public_bytes(device), age)
    root_public = keys.public_bytes(root)
    fp = keys.fingerprint(root_public)
    ws.exchange_put("trust", {code: {"root": keys.b64(root_public), "fingerprint": fp,
                                     "name": name, "certs": [cert]}})
    ws.exchange_put("identity", {"home": code, "device": cert["statement"]["device"],
                                 "cert": cert})
    return fp


def show(ws: Workspace) -> dict[str, Any]:
    identity = ws.exchange_get("identity")
    if identity is None:
        raise AgendaError("This workspace has no keys yet; run `summit keys init --as CODE`")
    trust = ws.exchange_get("trust", {})
    mine = trust.get(identity["home"], {})
    return {"delegation": identity["home"], "fingerprint": mine.get("fingerprint", ""),
            "device": identity["device"],
            "trusted": {code: entry["fingerprint"] for code, entry in sorted(trust.items())
                        if code != identity["home"]}}


def card(ws: Workspace) -> dict[str, Any]:
    """The public card: code, root key, fingerprint and the certified devices (for packets)."""
    shown = show(ws)
    entry = ws.exchange_get("trust", {})[shown["delegation"]]
    return {"format": keys.CARD_FORMAT, "delegation": shown["delegation"],
            "name": entry.get("name", ""), "root": entry["root"],
            "fingerprint": entry["fingerprint"], "certs": entry.get("certs", [])}


def read_json(path: Path, what: str) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise AgendaError(f"Cannot read {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise AgendaError(f"{path} is not a {what} (not JSON)") from None


def trust(ws: Workspace, card_doc: Any, typed: str) -> str:
    """Pin another delegation's root key; refused unless the typed fingerprint matches."""
    if not isinstance(card_doc, dict) or card_doc.get("format") != keys.CARD_FORMAT:
        raise AgendaError("This file is not a delegation card (summit keys card)")
    code = keys.code_of(str(card_doc.get("delegation", "")))
    root = keys.unb64(card_doc.get("root"), "the card's root key")
    if len(root) != 32:
        raise KeyProblem("The card's root key is not an Ed25519 key")
    actual = keys.fingerprint(root)
    if keys.normalise_fingerprint(typed) != actual:
        raise AgendaError(f"The fingerprint typed does not match {code}'s card; nothing was "
                          "pinned (check it with the other delegation)")
    pinned = dict(ws.exchange_get("trust", {}))
    identity = ws.exchange_get("identity")
    if identity is not None and identity["home"] == code and pinned[code]["root"] != \
            keys.b64(root):
        raise AgendaError(f"{code} is this workspace's own delegation, with another root key")
    certs = []
    for cert in card_doc.get("certs", []) or []:
        try:
            keys.check_certificate(cert, {code: root})
        except KeyProblem:
            continue
        certs.append(cert)
    previous = pinned.get(code, {})
    if previous and previous["root"] != keys.b64(root):
        raise AgendaError(f"{code} is already pinned with another root key "
                          f"({previous['fingerprint']}); a new root is a new trust decision")
    known = previous.get("certs", [])
    pinned[code] = {"root": keys.b64(root), "fingerprint": actual,
                    "name": str(card_doc.get("name", "")),
                    "certs": known + [c for c in certs if c not in known]}
    ws.exchange_put("trust", pinned)
    return actual


def enrol(ws: Workspace, code: str) -> dict[str, Any]:
    """A new machine of a delegation: its device key, and the request the root holder signs."""
    code = keys.code_of(code)
    _unbound(ws)
    folder = keys.keys_dir(ws.path)
    device, age = keys.new_device(folder)
    public = keys.public_bytes(device)
    ws.exchange_put("enrolment", {"home": code, "device": keys.device_id(public)})
    return {"format": keys.REQUEST_FORMAT, "delegation": code, "public": keys.b64(public),
            "age": age}


def certify(ws: Workspace, request: Any) -> dict[str, Any]:
    """On the machine holding the root key: certify another device of the same delegation."""
    identity = ws.identity()
    if identity is None:
        raise AgendaError("This workspace has no keys; certify on the machine that ran "
                          "`summit keys init`")
    if not isinstance(request, dict) or request.get("format") != keys.REQUEST_FORMAT:
        raise AgendaError("This file is not an enrolment request (summit keys enrol)")
    if request.get("delegation") != identity.home:
        raise AgendaError(f"The request is for {request.get('delegation')!r}; this root key "
                          f"certifies {identity.home}'s devices only")
    root_path = keys.keys_dir(ws.path) / "root.pem"
    if not root_path.exists():
        raise AgendaError("The root key is not on this machine; certify where it is kept")
    root = keys.load_key(root_path)
    public = keys.unb64(request.get("public"), "the device key")
    cert = keys.certify(root, identity.home, public, str(request.get("age", "")))
    pinned = dict(ws.exchange_get("trust", {}))
    entry = dict(pinned[identity.home])
    entry["certs"] = [*entry.get("certs", []), cert]
    pinned[identity.home] = entry
    ws.exchange_put("trust", pinned)
    return {"format": CERT_FORMAT, "cert": cert, "card": card(ws)}


def install(ws: Workspace, answer: Any) -> str:
    """Finish an enrolment with the certificate the root holder made; binds the workspace."""
    enrolment = ws.exchange_get("enrolment")
    if enrolment is None:
        raise AgendaError("Run `summit keys enrol --as CODE` on this machine first")
    if not isinstance(answer, dict) or answer.get("format") != CERT_FORMAT:
        raise AgendaError("This file is not a certificate (summit keys certify)")
    home_card = answer.get("card") or {}
    root = keys.unb64(home_card.get("root"), "the root key")
    device = keys.check_certificate(answer.get("cert"), {enrolment["home"]: root})
    if device.device != enrolment["device"]:
        raise AgendaError("This certificate is for another machine's device key")
    fp = keys.fingerprint(root)
    trusted = dict(ws.exchange_get("trust", {}))
    trusted[enrolment["home"]] = {"root": keys.b64(root), "fingerprint": fp,
                                  "name": str(home_card.get("name", "")),
                                  "certs": list(home_card.get("certs", []))}
    ws.exchange_put("trust", trusted)
    ws.exchange_put("identity", {"home": enrolment["home"], "device": device.device,
                                 "cert": answer["cert"]})
    return fp


def revoke(ws: Workspace, device_ref: str) -> tuple[str, int]:
    """On the machine holding the root key: revoke one of the delegation's devices, in every
    summit. Its records written before count; anything it writes after is refused."""
    identity = ws.identity()
    if identity is None:
        raise AgendaError("This workspace has no keys; revoke on the machine that ran "
                          "`summit keys init`")
    root_path = keys.keys_dir(ws.path) / "root.pem"
    if not root_path.exists():
        raise AgendaError("The root key is not on this machine; revoke where it is kept")
    trusted = dict(ws.exchange_get("trust", {}))
    entry = dict(trusted[identity.home])
    devices = {c["statement"]["device"] for c in entry.get("certs", [])}
    wanted = device_ref.strip().lower()
    matches = sorted(d for d in devices if d.startswith(wanted)) if wanted else []
    if len(matches) != 1:
        raise AgendaError(f"{device_ref!r} names {len(matches)} of {identity.home}'s devices "
                          f"({', '.join(sorted(d[:12] for d in devices))}); give more of it")
    device = matches[0]
    if device == identity.device:
        raise AgendaError("That is this machine's own device; revoke it from another one")
    revocation = keys.revoke(keys.load_key(root_path), identity.home, device)
    entry["certs"] = [c for c in entry.get("certs", []) if c["statement"]["device"] != device]
    entry["revoked"] = [*entry.get("revoked", []), revocation]
    trusted[identity.home] = entry
    ws.exchange_put("trust", trusted)
    slugs = [e.slug for e in ws.summits()]
    for slug in slugs:
        ws.write_key_record(slug, records.KEY_REVOKE, {"revocation": revocation})
    return device, len(slugs)
