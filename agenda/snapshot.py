"""A kept item listing: what `summit items` prints, saved after a full read, vouched for by HMAC.

Reading a summit of 20,000 items decodes, checks and folds 40,000 records (seconds), while the
listing it ends in is a few hundred kilobytes. After a full read, that listing is kept as
plain data and, while the summit's file holds exactly the same bytes, read instead.

* **Keyed by the journal's bytes.** A full read records the length and SHA-256 of the bytes
  it parsed (`Journal.identity`, reset by any incremental read or write). The kept listing
  names that length and digest; a later read hashes the file as it is now and uses the
  listing only on an exact match. Any change (a byte anywhere, a cut tail, another file of
  the same size, a commit appended since) is a mismatch: a full read, then a new listing.
  The listing is not extended by the tail: a listing is cheap to rebuild from a full read,
  and the journal's per-line CRC32 is no digest to chain on.
* **Unforgeable (#11).** A workspace may be crafted by an attacker, so the listing is never
  pickled or evaluated: it is orjson, prefixed by an HMAC-SHA256 of its bytes under a key of
  32 random bytes made for this user, kept 0600 in the user's cache folder, never in a
  workspace. Only this user's own earlier full read, which refused or accepted those exact
  bytes, can vouch for a listing; a full read of the same bytes, as the same viewer, gives
  the same listing, so the kept one never accepts what a full read would refuse. A listing
  whose HMAC fails, or of an unexpected shape, is ignored (and replaced at the next full read).
* **Where.** `$XDG_CACHE_HOME/summit-agenda/kept/` (the platform's cache folder elsewhere),
  one file per summit file (its real path), slug and viewer. Not beside the workspace, so
  backups and exchange never carry it. Written atomically, 0600, best effort: a read-only
  or full disk skips it, never an error. `summit check` and every write read the journal in
  full, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agenda.journal import digest
from agenda.paths import cache_dir
from agenda.state import SummitState
from agenda.store import StoreError, atomic_write, read_file

if TYPE_CHECKING:
    from agenda.workspace import Workspace

VERSION = 1
KEY_BYTES = 32
FIELDS = ("number", "title", "section", "status", "owner", "tags", "brackets", "revisions",
          "uuid")


def listing(state: SummitState) -> dict[str, Any]:
    """What `summit items` shows of a state, as plain data."""
    return {
        "items": [[i.number, i.title, i.section, i.status.value, i.owner, list(i.tags),
                   state.bracket_count(i), len(state.history(i)), i.uuid]
                  for i in state.items],
        "empty": [s.title for s in state.summit.sections if not s.items],
    }


def items(ws: Workspace, slug: str, viewer: str | None) -> dict[str, Any]:
    """The listing of `summit items`: the kept one while it holds, else from a full read
    (then kept)."""
    path = ws.summit_path(slug)
    shown = load(path, slug, viewer)
    if shown is None:
        shown = listing(ws.state(slug, viewer))
        keep(path, ws.read_identity(slug), slug, viewer, shown)
    return shown


def _key(create: bool) -> bytes | None:
    """This user's HMAC key; made (0600, exclusively) when `create` and absent."""
    path = cache_dir() / "kept.key"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, os.urandom(KEY_BYTES))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            return None
        return _key(create=False)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        # Another user's key, or one others may read, vouches for nothing.
        if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return None
        key = os.read(fd, KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES and create:
        # A key cut short (a process killed while making it) would turn keeping off for good.
        try:
            path.unlink()
        except OSError:
            return None
        return _key(create=True)
    return key if len(key) == KEY_BYTES else None


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode()


def _place(journal: Path, slug: str, viewer: str | None) -> Path:
    name = orjson.dumps([str(journal.resolve()), slug, viewer])
    return cache_dir() / "kept" / (hashlib.sha256(name).hexdigest() + ".json")


def _identity(journal: Path) -> tuple[int, str] | None:
    try:
        raw = read_file(journal)  # as the journal reads it: a refusal is the full read's
    except (OSError, StoreError):
        return None
    return digest(raw)


def load(journal: Path, slug: str, viewer: str | None) -> dict[str, Any] | None:
    """The kept listing if this user's key vouches for it and the file is unchanged."""
    key = _key(create=False)
    if key is None:
        return None
    try:
        with open(_place(journal, slug, viewer), "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    mac, _, payload = data.partition(b"\n")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        return None
    try:
        kept = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not _well_formed(kept) or kept["slug"] != slug or kept["viewer"] != viewer:
        return None
    if [kept["size"], kept["sha256"]] != list(_identity(journal) or ()):
        return None
    return {"items": kept["items"], "empty": kept["empty"]}


def _well_formed(kept: Any) -> bool:
    """The shape `keep` writes; anything else (an older version, a bug) is not used."""
    if not (isinstance(kept, dict) and kept.get("v") == VERSION
            and isinstance(kept.get("size"), int) and isinstance(kept.get("sha256"), str)
            and isinstance(kept.get("slug"), str)
            and (kept.get("viewer") is None or isinstance(kept.get("viewer"), str))
            and isinstance(kept.get("items"), list) and isinstance(kept.get("empty"), list)
            and all(isinstance(t, str) for t in kept["empty"])):
        return False
    types = (str, str, str, str, str, list, int, int, str)
    return all(isinstance(row, list) and len(row) == len(types)
               and all(isinstance(v, t) for v, t in zip(row, types, strict=True))
               and all(isinstance(tag, str) for tag in row[5])
               for row in kept["items"])


def keep(journal: Path, identity: tuple[int, str] | None, slug: str, viewer: str | None,
         shown: dict[str, Any]) -> None:
    """Save a listing made by a full read of the bytes `identity` names; best effort."""
    if identity is None:
        return
    key = _key(create=True)
    if key is None:
        return
    payload = orjson.dumps({"v": VERSION, "size": identity[0], "sha256": identity[1],
                            "slug": slug, "viewer": viewer, **shown})
    mac = _mac(key, payload)
    place = _place(journal, slug, viewer)
    try:
        place.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(place, [mac, b"\n", payload], mode=(0o600, None))
    except (OSError, StoreError):
        pass  # a read-only or full disk: the next read is a full one, as without a cache
