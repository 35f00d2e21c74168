"""The one codec of records: every change to a summit is an immutable record named by its hash.

A record is canonical JSON (UTF-8, sorted keys, no insignificant whitespace; only strings,
integers, booleans, null, lists and objects), which for that value set is the same bytes as
RFC 8785. Its id is the SHA-256 of those bytes, so the id is never stored inside the record and
a receiver always recomputes it. Nothing else in the code builds or reads a record's fields
from a dict: the store writes and reads records only through `encode` and `decode`.

What a record does not carry is as deliberate as what it does: the label a person reads (`v3`)
is computed from the order of records (see state.py), so two delegations that table offline do
not both write "v3" into their hashes; the creation time is for display only.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field
from operator import itemgetter
from typing import Any

import orjson

from agenda.digest import expect, settled, sha256
from agenda.frozen import cached, frozen
from agenda.model import AgendaError, Code, Status
from agenda.pairs import plain_brackets

FORMAT = 1
JOINT = "joint"
TEAM_PREFIX = "team:"

# Kinds of record, by what they change. The chair may write only the kinds in CHAIR_KINDS.
GENESIS = "summit.genesis"
SUMMIT_UPDATE = "summit.update"
SECTION_ADD = "section.add"
SECTION_PLACE = "section.place"
SECTION_RENAME = "section.rename"
ITEM_ADD = "item.add"
ITEM_RETITLE = "item.retitle"
ITEM_PLACE = "item.place"
ITEM_TAG = "item.tag"
REVISION = "revision"
ACCEPTANCE = "acceptance"
CONFIRM = "confirm"
DECISION = "status.decide"
NOTE = "note"
# Written only by the migration of a 0.1 workspace: the status 0.1 had stored, where the
# rules computed from the converted history would say otherwise (a status set by hand).
LEGACY_STATUS = "status.legacy"
# A device introduces itself: its certificate from its delegation's root key, signed by the
# device itself (see exchange/keys.py). Joint, so that every party can check every signature.
KEY_CERT = "key.cert"
KEY_REVOKE = "key.revoke"  # a root-signed revocation of a device, carried like a certificate
# Written by `summit split`: the Merkle root of the history that predates keys (identical in
# every delegation's workspace), and each delegation's root-signed confirmation of it.
BASELINE = "baseline"
BASELINE_SIGN = "baseline.sign"

KINDS = frozenset({GENESIS, SUMMIT_UPDATE, SECTION_ADD, SECTION_PLACE, SECTION_RENAME,
                   ITEM_ADD, ITEM_RETITLE, ITEM_PLACE, ITEM_TAG, REVISION, ACCEPTANCE,
                   CONFIRM, DECISION, NOTE, LEGACY_STATUS, KEY_CERT,
                   KEY_REVOKE, BASELINE, BASELINE_SIGN})
TEAM_KINDS = frozenset({REVISION, NOTE})  # the kinds that may be internal to a delegation

MAX_INT = 2**53  # JSON numbers beyond this lose precision in other languages' parsers


class RecordError(AgendaError):
    """A record is malformed, or its bytes do not match its id."""


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value; refuses anything outside the restricted set."""
    if not _plainly_valid(value):
        _check_value(value, "record")  # refuses by name, or accepts what the fast walk left
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _plainly_valid(value: Any) -> bool:
    """The fast walk of `_check_value` over exact built-in types, with no paths built: every
    record written goes through here (an import of 100k items writes 200k). False means
    "ask `_check_value`", which decides subclasses and names what is wrong."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                return False
        elements: Any = value.values()
    elif kind is list or kind is tuple:
        elements = value
    else:
        elements = (value,)
    for element in elements:
        kind = type(element)
        if kind is str or element is None or kind is bool:
            continue
        if kind is int:
            if not -MAX_INT < element < MAX_INT:
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not _plainly_valid(element):
                return False
        else:
            return False
    return True


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if not -MAX_INT < value < MAX_INT:
            raise RecordError(f"{where}: the integer {value} is out of range")
        return
    if isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            _check_value(element, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                raise RecordError(f"{where}: a key {key!r} is not a string")
            _check_value(element, f"{where}.{key}")
        return
    raise RecordError(f"{where}: {type(value).__name__} is not allowed in a record")


def record_id(content: Mapping[str, Any]) -> str:
    return sha256(canonical(dict(content))).hexdigest()


def uuid_from_id(rid: str) -> str:
    """The uuid shown for a record: the first 128 bits of its id (nobody can choose it)."""
    bytes.fromhex(rid[:32])  # refuses what is not hex, as uuid.UUID would
    return _dashed(rid.lower())


def _dashed(h: str) -> str:
    """The first 32 of lowercase hex digits spelled as uuid.UUID spells them, without
    importing uuid at start-up."""
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def team(code: str) -> str:
    return f"{TEAM_PREFIX}{code}"


@frozen
class Record:
    """One immutable fact about a summit. `body` is never mutated once the record exists."""

    id: str
    kind: str
    summit: str  # the genesis record's id ("" for the genesis itself)
    scope: str  # "joint" or "team:IN"
    author: str  # delegation code ("" only for a 0.1 act made without --as)
    lamport: int
    deps: tuple[str, ...]
    created: str  # ISO UTC; display only
    body: Mapping[str, Any] = field(hash=False, compare=False)
    signer: str | None = None
    sig: str | None = None

    @property
    def legacy(self) -> bool:
        """Converted from a 0.1 workspace: keeps its old uuid and, for revisions, its old hash."""
        return bool(self.body.get("legacy"))

    @cached
    def uuid(self) -> str:
        old = _legacy_uuid(self.body)
        return old if old is not None else uuid_from_id(self.id)

    @property
    def short(self) -> str:
        """The stable short id people cite (`#7f3a2c`): it never changes, unlike `v3`."""
        return "#" + self.id[:6]

    @cached
    def joint(self) -> bool:
        # Kept, not a property: the order, the clock and the fold ask it of every record
        # several times (220,000 calls to open a summit of 20,000 items).
        return self.scope == JOINT

    def content(self, *, share: bool = False) -> dict[str, Any]:
        """The hashed fields; `share` keeps the record's own body (never mutated) instead of
        a copy, as a decoded record shares its stored document's."""
        body = self.body if share and type(self.body) is dict else dict(self.body)
        return {
            "v": FORMAT, "kind": self.kind, "summit": self.summit, "scope": self.scope,
            "author": self.author, "signer": self.signer, "lamport": self.lamport,
            "deps": list(self.deps), "created": self.created, "body": body,
        }


def make(*, kind: str, summit: str, scope: str, author: str, lamport: int,
         deps: Sequence[str], created: str, body: Mapping[str, Any],
         signer: str | None = None) -> Record:
    """A new record, its id computed from its canonical bytes (the signer's name included)."""
    content = {"v": FORMAT, "kind": kind, "summit": summit, "scope": scope, "author": author,
               "signer": signer, "lamport": lamport, "deps": sorted(deps), "created": created,
               "body": dict(body)}
    record = _from_content(content, record_id(content))
    return record


def make_own(*, kind: str, summit: str, scope: str, author: str, lamport: int,
             deps: list[str], created: str, body: dict[str, Any],
             signer: str | None = None, plain: bool = False) -> tuple[Record, dict[str, Any]]:
    """`make` for a record the workspace builds itself, of a shape `make` accepts by
    construction (strings where it wants strings, a sorted list of distinct deps from the
    clock, a `body` of this kind made for this record alone), and its stored form: the same
    bytes, id and document as `make` and `encode(share=True)` give, without checking again
    every field the caller just set. The values are still walked, so that nothing outside
    canonical JSON can be hashed; anything doubtful goes through `make`.

    The document holds the very content that was hashed (an import of 100k items: 200k
    contents not built twice), and the record keeps its fields in its instance's own slots
    rather than a dictionary of its own (about 600 bytes a record down to about 330).

    `plain`: the caller vouches that `body` holds only strings, integers within ±2**53 and
    lists of them (an import's bodies, built from checked text and fresh order keys), and
    the walk is skipped."""
    if not ((plain or _plainly_valid(body)) and 0 < lamport < MAX_INT):
        made = make(kind=kind, summit=summit, scope=scope, author=author, lamport=lamport,
                    deps=deps, created=created, body=body, signer=signer)
        return made, encode(made, share=True)
    content = {"v": FORMAT, "kind": kind, "summit": summit, "scope": scope, "author": author,
               "signer": signer, "lamport": lamport, "deps": deps, "created": created,
               "body": body}
    rid = sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    record: Record = _new(Record)
    # Set one by one, in the fields' order, they stay in the instance's own slots (a
    # dictionary of its own would be twice the size); unrolled: twice as fast as a loop.
    _set(record, "id", rid)
    _set(record, "kind", kind)
    _set(record, "summit", summit)
    _set(record, "scope", scope)
    _set(record, "author", author)
    _set(record, "lamport", lamport)
    _set(record, "deps", tuple(deps))
    _set(record, "created", created)
    _set(record, "body", body)
    _set(record, "signer", signer)
    _set(record, "sig", None)
    if "legacy" not in body:  # its uuid, as `Record.uuid` spells it from a lowercase hex id
        _set(record, "uuid", f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}")
    return record, {"id": rid, "record": content, "sig": None}


_set = object.__setattr__


def encode(record: Record, *, share: bool = False) -> dict[str, Any]:
    """The stored form of a record: its content, its id (checked on decode) and signature.

    `share`: the document keeps the record's own body, for a journal that holds both for
    every record it writes (an import of 100k items: 200k bodies, ~50 MB of copies); only
    where nothing will change the document.
    """
    return {"id": record.id, "record": record.content(share=share), "sig": record.sig}


def decode(doc: Any, *, verify: bool = True, strict: bool = True) -> Record:
    """A record from its stored form, refusing one whose bytes do not hash to its id.

    `strict=False` skips the walk over every value that refuses what canonical JSON does not
    allow (a float, say): for reading the workspace's own journal, whose records passed it
    when they were written or received; `summit check` reads strictly. `verify=False` takes
    the stored id on trust: only to name a damaged record in a report.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("record"), dict):
        raise RecordError("a stored record is not an object with a `record` field")
    content = doc["record"]
    rid = computed = record_id(content) if strict else sha256(
        orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if not verify and isinstance(doc.get("id"), str) and len(doc["id"]) == 64:
        rid = doc["id"]
    if doc.get("id") != rid:
        raise RecordError(f"record {str(doc.get('id'))[:12]} does not match its content "
                          f"(its bytes hash to {rid[:12]})")
    sig = doc.get("sig")
    if sig is not None and not isinstance(sig, str):
        raise RecordError(f"record {rid[:12]}: the signature is not a string")
    record = _from_content(content, rid, sig, shape=strict)
    # Asked of every record read, several times (ordering, clocks, the fold): kept now.
    _set(record, "joint", record.scope == JOINT)
    if rid is computed:
        # Its uuid, as `Record.uuid` spells it from a lowercase hex id (a digest just
        # computed: no check needed): the cached property's lookup and check cost more.
        _set(record, "uuid", _uuid_of(rid, record.body))
    return record


def _uuid_of(rid: str, body: Mapping[str, Any]) -> str:
    """`Record.uuid` of a record whose id `rid` was just computed (lowercase hex: no check)."""
    old = _legacy_uuid(body)
    return old if old is not None else _dashed(rid)


def _legacy_uuid(body: Mapping[str, Any]) -> str | None:
    """The old uuid a record converted from 0.1 keeps, if it is one."""
    old = body.get("uuid") if body.get("legacy") else None
    return old if isinstance(old, str) else None


def decode_all(docs: Iterable[Any], checked: Callable[[], bool] | None = None
               ) -> list[Record]:
    """`decode(doc, strict=False)` of every document, in order: what opening a summit reads
    (40,000 records at 20,000 items), in one loop. A record of the shape `make` writes (every
    field of its exact type, at most two deps, in order: a team's record follows a joint
    and a team head) is built here; anything else, a refusal included, goes through
    `decode`, which decides it and words the refusal alike (tests/test_records.py holds the
    two equal on any documents).

    `checked`: a function that says whether `checked_apart(docs)` said yes, computed apart (a
    forked process, journal.py's `check_apart`): each record then takes its stored id
    unhashed, and when that function says no (or cannot tell) the documents are decoded
    again here, every id hashed, to the same records or refusal as without it."""
    if checked is not None:
        docs = docs if isinstance(docs, list) else list(docs)
        out = decode_trusting(docs)
        if checked() and out is not None:
            return out
    return _decode_all(docs, trusted=False)


def decode_trusting(docs: list[Any], shaped: bool = False) -> list[Record] | None:
    """`decode_all(docs)` taking each stored id unhashed, for a caller that has them hashed
    apart (`checked_apart`) and uses the records only once that said yes; None where the
    decode refuses them (the refusal is then the one of the decode that hashes). `shaped`:
    their shapes are checked apart too (`checked_apart` says so), and taken as they are."""
    try:
        return _decode_all(docs, trusted=True, shaped=shaped)
    except Exception:  # refused: in the words of the decode that hashes every id
        return None


def checked_apart(docs: list[Any], counted: bool = True) -> bytes | None:
    """What a whole read's checker says of the records it parsed (journal.py's
    `check_apart`): None unless every stored record's id is the SHA-256 of its canonical
    content, and every document decodes without going through `decode` (`shapes_apart`);
    else, for each document in order, the bracket count of a revision's text as
    `pairs.plain_brackets` makes it (-1: not plain, or too large; -2: not a revision),
    packed as 16-bit integers (`counts_apart` reads them). The reader gives them to the
    latest texts (`state.take_counts`) instead of scanning 20,000 texts itself once it has
    folded them. Not `counted`: b"" for the counts (`ids_apart`)."""
    if not shapes_apart(docs):
        return None
    if not counted:
        return b""
    counts = array("h")
    add = counts.append
    for doc in docs:  # each of the shape `_decode_all` builds: a record, its body a mapping
        content = doc["record"]
        text = content["body"].get("text")
        if type(text) is str and content["kind"] == REVISION:
            count = plain_brackets(text)
            add(count if count < 32768 else -1)
        else:
            add(-2)
    return counts.tobytes()


def shapes_apart(docs: list[Any]) -> bool:
    """Whether every document is a record whose id is the SHA-256 of its canonical content
    and which decodes without going through `decode` (its fields of the types and values
    `_decode_all` checks): what a reader told so by `checked_apart` takes as it is
    (`decode_trusting(docs, shaped=True)`). `_decode_all`'s own loop, every id hashed,
    making no record."""
    try:
        _decode_all(docs, trusted=False, judged=True)
    except Exception:  # noqa: BLE001 - `_Apart`, or anything odd: for the decode that checks
        return False
    return True


def ids_apart(docs: list[Any]) -> bytes | None:
    """`checked_apart` without the bracket counts: what a write's checker says (it reads one
    item's texts, not every item's status)."""
    return checked_apart(docs, counted=False)


def counts_apart(docs: list[Any], packed: bytes) -> dict[str, int]:
    """The bracket counts `checked_apart` packed for the same documents (their ids vouched
    for), by record id: a revision's count, or -1; empty unless `packed` holds one count
    per document."""
    counts = array("h")
    counts.frombytes(packed[:len(packed) - len(packed) % 2])
    if len(counts) != len(docs):
        return {}
    return {doc["id"]: count for doc, count in zip(docs, counts, strict=True) if count != -2}


class _Apart(Exception):
    """A record `_decode_all` would decode through `decode` (`shapes_apart`)."""


def _apart(doc: Any) -> Record:
    raise _Apart


def _decode_all(docs: Iterable[Any], *, trusted: bool, shaped: bool = False,
                judged: bool = False) -> list[Record]:
    """`decode_all`: every record hashed, or with `trusted` its stored id taken. `shaped`:
    every document's shape checked apart too (`shapes_apart` said so: nothing goes through
    `decode`), so its fields are taken as they are. `judged`: that check itself, which
    makes no record and raises `_Apart` at the first one that would go through `decode`
    (an id that is not its content's hash among them, unless `trusted`)."""
    dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
    kinds, team_kinds, prefix = KINDS, TEAM_KINDS, TEAM_PREFIX
    fields, new, put = _CONTENT, _new, _set
    out: list[Record] = []
    add = out.append
    fast = None if trusted else _bulk_hasher(docs)
    odd = _apart if judged else functools.partial(decode, strict=False)
    for doc in docs:
        content = doc.get("record") if type(doc) is dict else None
        if type(content) is not dict:
            add(odd(doc))
            continue
        if trusted:  # hashed apart (`checked_apart`): trusted only once that said yes
            rid = doc.get("id")
            if type(rid) is not str:
                add(odd(doc))
                continue
        elif fast is None:  # digest.py's choice, until it is OpenSSL's for good
            rid = sha256(dumps(content, option=sort)).hexdigest()
            fast = settled()
        else:
            rid = fast(dumps(content, option=sort)).hexdigest()
        try:
            v, kind, summit, scope, author, lamport, deps, created, body, signer = \
                fields(content)
        except KeyError:
            add(odd(doc))
            continue
        sig = doc.get("sig")
        if not shaped and (
                doc.get("id") != rid or (sig is not None and type(sig) is not str)
                or v != FORMAT or kind not in kinds
                or type(summit) is not str or (kind == GENESIS) != (summit == "")
                or type(author) is not str or type(lamport) is not int or lamport < 1
                or type(deps) is not list
                or (deps and (type(deps[0]) is not str or (len(deps) > 1 and (
                    len(deps) > 2 or type(deps[1]) is not str or deps[0] >= deps[1]))))
                or type(created) is not str or type(body) is not dict
                or (signer is not None and type(signer) is not str)):
            add(odd(doc))
            continue
        if scope == JOINT:
            joint = True
        elif shaped or (type(scope) is str and scope.startswith(prefix)
                        and kind in team_kinds and scope == prefix + author):
            joint = False
        else:
            add(odd(doc))
            continue
        if judged:
            continue
        # A converted 0.1 record's old uuid (`_legacy_uuid`), asked of every record of a
        # converted summit: spelled out here, two calls cost more than the look-ups.
        old = body.get("uuid") if "legacy" in body and body["legacy"] else None
        # Its dictionary given whole, its uuid as `Record.uuid` spells it from a lowercase
        # hex id: a third of the time of setting the fields one by one (the same dictionary,
        # in the same order, as `decode` gives it).
        record: Record = new(Record)
        put(record, "__dict__", {
            "id": rid, "kind": kind, "summit": summit, "scope": scope, "author": author,
            "lamport": lamport, "deps": tuple(deps), "created": created, "body": body,
            "signer": signer, "sig": sig, "joint": joint,
            "uuid": old if isinstance(old, str) else
            f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}"})
        add(record)
    return out


_SAMPLED = 16


def _bulk_hasher(docs: Iterable[Any]) -> Any:
    """OpenSSL's SHA-256 to call straight for each record of `docs` (digest.py's `settled`),
    when the process has moved to it or `docs` are enough to move it: what the records will
    give the hasher, from the size of the first few, past the budget moves it before the
    first record, not after a budget's worth hashed at a tenth of the speed. None: the
    process's own module still serves (call `sha256`)."""
    fast = settled()
    if fast is None and type(docs) is list and len(docs) > _SAMPLED:
        sampled = sum(_hashed_size(doc) for doc in docs[:_SAMPLED])
        expect(sampled * len(docs) // _SAMPLED)
        fast = settled()
    return fast


def _hashed_size(doc: Any) -> int:
    """The bytes `decode_all` hashes for a stored record (0 for one it refuses unhashed)."""
    content = doc.get("record") if type(doc) is dict else None
    if type(content) is not dict:
        return 0
    try:
        return len(orjson.dumps(content, option=orjson.OPT_SORT_KEYS))
    except TypeError:
        return 0


def signed(record: Record, sig: str) -> Record:
    """The same record carrying its signature (which is outside the hashed content)."""
    return _with_sig(record, sig)


def _with_sig(record: Record, sig: Any) -> Record:
    if not isinstance(sig, str):
        raise RecordError(f"record {record.id[:12]}: the signature is not a string")
    return Record(record.id, record.kind, record.summit, record.scope, record.author,
                  record.lamport, record.deps, record.created, record.body, record.signer, sig)


def _from_content(content: Mapping[str, Any], rid: str, sig: str | None = None, *,
                  shape: bool = True) -> Record:
    def bad(why: str) -> RecordError:
        return RecordError(f"record {rid[:12]}: {why}")

    try:  # the fields every record written by make() holds, read in one C call
        v, kind, summit, scope, author, lamport, deps, created, body, signer = \
            _CONTENT(content)
    except KeyError:
        v, kind, summit, scope = (content.get("v"), content.get("kind"), content.get("summit"),
                                  content.get("scope"))
        author, lamport, deps = (content.get("author"), content.get("lamport"),
                                 content.get("deps"))
        created, body, signer = (content.get("created"), content.get("body"),
                                 content.get("signer"))
    if v != FORMAT:
        raise bad(f"format {v!r} is not {FORMAT}")
    if kind not in KINDS:
        raise bad(f"unknown kind {kind!r}")
    if not isinstance(summit, str) or (kind == GENESIS) != (summit == ""):
        raise bad("the summit id is missing or misplaced")
    if not isinstance(scope, str) or not (
        scope == JOINT or (scope.startswith(TEAM_PREFIX) and kind in TEAM_KINDS)
    ):
        raise bad(f"scope {scope!r} is not allowed for {kind}")
    if not isinstance(author, str):
        raise bad("the author is not a delegation code")
    if scope != JOINT and scope != team(author):
        raise bad(f"{author or 'nobody'} wrote into {scope}, which is another delegation's")
    if not isinstance(lamport, int) or isinstance(lamport, bool) or lamport < 1:
        raise bad("the lamport clock is not a positive integer")
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps) \
            or deps != sorted(set(deps)):
        raise bad("deps are not a sorted list of distinct record ids")
    if not isinstance(created, str) or not isinstance(body, dict):
        raise bad("the creation time or the body is missing")
    if signer is not None and not isinstance(signer, str):
        raise bad("the signer is not a key fingerprint")
    if shape:
        why = body_problem(kind, body)
        if why:
            raise bad(why)
    # Not `Record(...)`: a frozen dataclass sets its eleven fields one by one through
    # object.__setattr__, and every record of a summit is decoded each time it is opened.
    record: Record = _new(Record)
    record.__dict__.update(id=rid, kind=kind, summit=summit, scope=scope, author=author,
                           lamport=lamport, deps=tuple(deps), created=created, body=body,
                           signer=signer, sig=sig)
    return record


_new = object.__new__
_CONTENT = itemgetter("v", "kind", "summit", "scope", "author", "lamport", "deps", "created",
                      "body", "signer")


# What each kind's body must hold for the fold to read it: a record of the right kind but
# the wrong shape (valid JSON, a valid id, even a valid signature) is refused by name where it
# enters, instead of failing later in every command that folds the summit. Unknown extra
# fields are allowed: a later version may add some.
def _text(value: Any) -> bool:
    return isinstance(value, str)


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _order(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value))


def _party(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("code"), str)
            and isinstance(value.get("name"), str) and isinstance(value.get("head", ""), str)
            and set(value) <= {"code", "name", "head"})


def _parties(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_party(v) for v in value)


def _sections(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, dict) and isinstance(v.get("uuid"), str)
        and isinstance(v.get("title"), str) and _order(v.get("order")) for v in value)


def _fields(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


_CODE_VALUES = frozenset(code.value for code in Code)
_STATUS_VALUES = frozenset(status.value for status in Status)
_OPTIONAL = object()
_ITEM = {"item": _text}
_BODIES: dict[str, dict[str, Any]] = {
    GENESIS: {"title": _text, "delegations": _parties, "sections": (_sections, _OPTIONAL),
              "chair": (lambda v: v is None or _party(v), _OPTIONAL),
              **{name: (_text, _OPTIONAL) for name in ("venue", "dates", "host", "preamble")}},
    SUMMIT_UPDATE: {"fields": _fields},
    SECTION_ADD: {"title": _text, "order": _order},
    SECTION_PLACE: {"section": _text, "order": _order},
    SECTION_RENAME: {"section": _text, "title": _text},
    ITEM_ADD: {"title": _text, "section": _text, "order": _order, "tags": (_ids, _OPTIONAL)},
    ITEM_RETITLE: {**_ITEM, "title": _text},
    ITEM_PLACE: {**_ITEM, "section": _text, "order": _order},
    ITEM_TAG: {**_ITEM, "tags": _ids},
    REVISION: {**_ITEM, "text": _text, "code": lambda v: v in _CODE_VALUES,
               "justification": (_text, _OPTIONAL), "parents": (_ids, _OPTIONAL)},
    ACCEPTANCE: {**_ITEM, "revision": _text},
    CONFIRM: {**_ITEM, "revision": _text},
    DECISION: {**_ITEM, "status": _text},  # an unknown decision is kept and shown as void
    LEGACY_STATUS: {**_ITEM, "status": lambda v: v in _STATUS_VALUES},
    NOTE: {**_ITEM, "text": _text},
}


def body_problem(kind: str, body: Mapping[str, Any]) -> str:
    """What is wrong with a record body of this kind ("" when the fold can read it)."""
    for name, rule in _BODIES.get(kind, {}).items():
        check, optional = rule if isinstance(rule, tuple) else (rule, None)
        if name not in body:
            if optional is None:
                return f"its body has no {name!r}"
        elif not check(body[name]):
            return f"its body's {name!r} is not what a {kind} record holds"
    if kind == GENESIS and body.get("legacy") and not isinstance(body.get("uuid"), str):
        return "a converted 0.1 summit without its 0.1 uuid"
    if kind == REVISION and body.get("legacy") and not isinstance(body.get("hash"), str):
        return "a converted 0.1 revision without its 0.1 hash"
    return ""


def order_key(record: Record) -> tuple[int, str]:
    """The one total order of records: by lamport clock, ties to the lower id."""
    return (record.lamport, record.id)


def heads(records: Iterable[Record]) -> list[str]:
    """The ids that no record of the set depends on: what a new record has seen."""
    records = list(records)
    seen_as_dep = {dep for record in records for dep in record.deps}
    return sorted(r.id for r in records if r.id not in seen_as_dep)


def problem(record: Record, known: Mapping[str, Record], summit_id: str) -> str:
    """Why a record received from elsewhere cannot join this summit's records ("" if it can).

    Depends only on the record and its causal past, so every workspace decides alike.
    """
    if record.kind == GENESIS or record.summit != summit_id:
        return "it belongs to another summit"
    missing = [d[:12] for d in record.deps if d not in known]
    if missing:
        return f"it depends on records this workspace does not have ({', '.join(missing)})"
    deps = [known[d] for d in record.deps]
    expected = 1 + max((d.lamport for d in deps), default=0)
    if record.lamport != expected:
        return f"its clock says {record.lamport}, but what it depends on makes it {expected}"
    if record.joint and any(not d.joint for d in deps):
        return "a joint record depends on a delegation's internal material"
    if any(not d.joint and d.scope != record.scope for d in deps):
        return "it depends on another delegation's internal material"
    return ""
