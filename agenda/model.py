"""The negotiation's vocabulary: frozen records, change codes, and the item status rules."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum

from agenda.digest import sha256
from agenda.frozen import cached, frozen
from agenda.pairs import plain_brackets


class AgendaError(Exception):
    """An operation was refused; the message is written for a delegate, not a programmer."""


class NotFound(AgendaError):
    """A summit, item, revision or delegation named by the user does not exist."""


class Status(StrEnum):
    PROPOSED = "proposed"
    NEGOTIATING = "negotiating"
    BRACKETED = "bracketed"
    AGREED_AD_REF = "agreed-ad-ref"
    FINAL = "final"
    DEFERRED = "deferred"
    WITHDRAWN = "withdrawn"


class Code(StrEnum):
    """ITU change codes, plus the chair's compilation text."""

    ADD = "ADD"
    MOD = "MOD"
    SUP = "SUP"
    NOC = "NOC"
    CMP = "CMP"


class Visibility(StrEnum):
    INTERNAL = "internal"
    TABLED = "tabled"


_TABLED = Visibility.TABLED  # a plain name: Revision.tabled is asked of every text

# The one table of legal status changes. Guards that depend on the item's history
# (agreement needs every delegation's acceptance) live in workspace.set_status.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PROPOSED: frozenset(
        {Status.NEGOTIATING, Status.BRACKETED, Status.AGREED_AD_REF, Status.DEFERRED,
         Status.WITHDRAWN}
    ),
    Status.NEGOTIATING: frozenset(
        {Status.BRACKETED, Status.AGREED_AD_REF, Status.DEFERRED, Status.WITHDRAWN}
    ),
    Status.BRACKETED: frozenset(
        {Status.NEGOTIATING, Status.AGREED_AD_REF, Status.DEFERRED, Status.WITHDRAWN}
    ),
    Status.AGREED_AD_REF: frozenset({Status.FINAL, Status.NEGOTIATING}),
    Status.FINAL: frozenset(),
    Status.DEFERRED: frozenset({Status.NEGOTIATING, Status.WITHDRAWN}),
    Status.WITHDRAWN: frozenset({Status.PROPOSED}),
}

# Statuses in which the text can still move; tabling on the others is refused.
OPEN_STATUSES = frozenset(
    {Status.PROPOSED, Status.NEGOTIATING, Status.BRACKETED, Status.AGREED_AD_REF,
     Status.DEFERRED}
)


def parse_status(value: str) -> Status:
    try:
        return Status(value.strip().lower().replace("_", "-").replace(" ", "-"))
    except ValueError:
        names = ", ".join(s.value for s in Status)
        raise AgendaError(f"Unknown status {value!r}: use one of {names}") from None


def check_transition(number: str, current: Status, target: Status) -> None:
    """Refuse a status change the transition table does not allow, saying what is allowed."""
    if target == current:
        raise AgendaError(f"Item {number} is already {current.value}")
    allowed = TRANSITIONS[current]
    if target not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "nothing (it is final)"
        raise AgendaError(
            f"Item {number} cannot go from {current.value} to {target.value}; "
            f"from {current.value} it can go to {options}"
        )


_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")


def check_delegation_code(code: str) -> str:
    code = code.strip().upper()
    if not _CODE_RE.match(code):
        raise AgendaError(
            f"Delegation code {code!r} must be 2–8 capital letters or digits, starting with a "
            "letter (e.g. IN, RU)"
        )
    return code


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def when(moment: datetime) -> str:
    """A timestamp as delegates read it in a list or table: UTC, to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def from_iso(text: str) -> datetime:
    """The moment an ISO 8601 time names, in UTC. Kept per string: the records of one
    operation share their time (an import of 20,000 items has a handful), and a summit's
    read asks this of every record; a datetime never changes, so one object serves all."""
    found = _MOMENTS.get(text)
    if found is None:
        found = _parsed(text)
        if len(_MOMENTS) >= _MOMENTS_KEPT:
            _MOMENTS.clear()  # a bound, not a policy: distinct times are the rare case
        _MOMENTS[text] = found
    return found


_MOMENTS_KEPT = 4096
_MOMENTS: dict[str, datetime] = {}


def _parsed(text: str) -> datetime:
    """`datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)`. A time as
    to_iso spells it, its one "Z" last, is parsed as it is: Python's parser reads a final "Z"
    as it reads "+00:00", and the UTC it gives is already UTC (a fifth of the time: a full
    read parses the distinct time of every record, 40,000 at 20,000 items). Anything else,
    or anything that parse refuses, takes the spelled-out way (tests/test_model.py holds
    the two equal)."""
    if type(text) is str and len(text) >= 12 and text.find("Z") == len(text) - 1:
        try:
            return _FROM_ISO(text)
        except ValueError:
            pass
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


_FROM_ISO = datetime.fromisoformat


@frozen
class Delegation:
    code: str
    name: str
    head: str = ""


@frozen
class Section:
    uuid: str
    title: str
    items: tuple[str, ...] = ()  # item uuids, in agenda order


@frozen
class Summit:
    uuid: str
    slug: str
    title: str
    venue: str
    dates: str
    delegations: tuple[Delegation, ...]
    sections: tuple[Section, ...]
    created: datetime
    # A chair drafts and tables (compilation texts above all) but is no party: it has no
    # position of its own, accepts nothing, and agreement does not wait for it.
    chair: Delegation | None = None
    host: str = ""
    preamble: str = ""  # Markdown: what an imported agenda says before its first section

    @property
    def actors(self) -> tuple[Delegation, ...]:
        """Everyone who may act in the summit: the delegations, then the chair."""
        return (*self.delegations, *((self.chair,) if self.chair else ()))

    def delegation(self, code: str) -> Delegation:
        """A delegation, or the chair, by code."""
        wanted = code.strip().upper()
        for delegation in self.actors:
            if delegation.code == wanted:
                return delegation
        known = ", ".join(d.code for d in self.delegations)
        if self.chair:
            known += f"; chair {self.chair.code}"
        raise NotFound(f"No delegation {code!r} in summit \"{self.title}\" (delegations: {known})")

    @property
    def codes(self) -> tuple[str, ...]:
        """The parties' codes: the delegations whose acceptance makes an agreement."""
        return tuple(d.code for d in self.delegations)


@frozen
class Item:
    uuid: str
    summit: str  # summit slug
    section: str  # section title
    section_uuid: str
    number: str  # "2.3": derived from order, for people
    title: str
    owner: str  # delegation code of the proposing side
    status: Status
    tags: tuple[str, ...]
    created: datetime


@frozen
class Revision:
    uuid: str
    item: str  # item uuid
    number: int
    delegation: str
    parents: tuple[str, ...]  # revision uuids
    text: str
    code: Code
    justification: str
    visibility: Visibility
    created: datetime
    hash: str  # the record id; for a revision converted from 0.1, its 0.1 hash
    id: str = ""  # the record id (SHA-256 of the record's canonical bytes)
    was: str = ""  # the label this workspace showed before concurrent texts met, if other
    after_final: bool = False  # tabled concurrently with the confirms that made it final

    @cached
    def brackets(self) -> int:
        """The rules' bracket count of this text, counted once: the status, the listing and
        the exports all ask for it (stored beside the fields, never compared or hashed)."""
        # Most texts have no "[" or plain pairs: a command that lists a summit loads the
        # scanner (and compiles its regexes) only for a text that needs it.
        count = plain_brackets(self.text)
        return count if count >= 0 else (_counter or _load_counter())(self.text)

    @property
    def short(self) -> str:
        """The stable short id people cite (`#7f3a2c`): unlike `v3`, it never changes."""
        return "#" + self.id[:6]

    @property
    def label(self) -> str:
        """`v3` for the third tabled text; `d2` for a delegation's second internal draft.

        Internal drafts are numbered apart so that the tabled sequence has no gaps that
        would tell the other side how many drafts were written.
        """
        return f"{'v' if self.tabled else 'd'}{self.number}"

    @property
    def tabled(self) -> bool:
        return self.visibility == _TABLED


def counted_apart(revision: Revision, count: int) -> None:
    """Give `revision.brackets` the count `pairs.plain_brackets` made of the same text
    elsewhere (a whole read's checker: records.checked_apart), when it is a count (not -1)
    and the revision has not counted it yet: as if it had (a cached value, never compared
    or hashed)."""
    if count >= 0:
        revision.__dict__.setdefault("brackets", count)


_counter: Callable[[str], int] | None = None


def _load_counter() -> Callable[[str], int]:
    """brackets.bracket_count, imported when a first text is counted (start-up needs no
    regexes) and kept: an import statement costs more than counting a short text."""
    global _counter
    from agenda.brackets import bracket_count

    _counter = bracket_count
    return bracket_count


@frozen
class Acceptance:
    uuid: str
    item: str
    revision: str  # revision uuid
    delegation: str
    created: datetime


@frozen
class Decision:
    """A recorded status decision or capital's confirmation, and whether the rules let it stand.

    `void` says why a decision was illegal at its place in the order of records (it is kept,
    and shown, but changes nothing).
    """

    uuid: str
    item: str
    delegation: str
    action: str  # "deferred", "negotiating", "withdrawn", "proposed", or "confirm"
    revision: str  # the confirmed revision's uuid, for a confirm
    created: datetime
    void: str = ""


@frozen
class Note:
    uuid: str
    item: str
    delegation: str
    text: str
    created: datetime


@frozen
class Event:
    uuid: str
    created: datetime
    actor: str  # delegation code, or "" for an act of the workspace itself
    action: str  # e.g. "revision.table", "item.status"
    item: str  # item uuid, or "" for summit-wide events
    detail: str
    private_to: str = ""  # a delegation code when the event concerns internal material


def revision_hash(
    *,
    item: str,
    number: int,
    delegation: str,
    parents: Iterable[tuple[str, str]],
    text: str,
    code: str,
    justification: str,
    visibility: str,
    created: str,
) -> str:
    """SHA-256 over a revision's content and its parents' hashes, so history is a chain."""
    payload = {
        "item": item,
        "number": number,
        "delegation": delegation,
        "parents": [f"{uuid}:{digest}" for uuid, digest in parents],
        "text": text,
        "code": code,
        "justification": justification,
        "visibility": visibility,
        "created": created,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256(canonical.encode("utf-8")).hexdigest()


def slugify(title: str) -> str:
    """A file- and URL-safe summit name derived from its title ("India–Russia 2021" → ...)."""
    decomposed = unicodedata.normalize("NFKD", title.lower())
    kept = "".join(
        ch if ch.isascii() and ch.isalnum() else "-"
        for ch in decomposed
        if not unicodedata.combining(ch)
    )
    slug = re.sub("-+", "-", kept).strip("-")
    return slug[:60].strip("-") or "summit"


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


# C0, DEL and C1: one regex scan, not a generator per character (a tenth of a large import).
_TITLE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_title(title: str, what: str = "title") -> str:
    """Titles are one line of real text: refuse empty ones and control characters."""
    stripped = title.strip()
    if not stripped:
        raise AgendaError(f"The {what} is empty; give it some text")
    if _TITLE_CONTROL.search(stripped):
        raise AgendaError(
            f"The {what} {stripped!r} contains control characters (line breaks, escape "
            "sequences); a title is one line of plain text"
        )
    if len(stripped) > 500:
        raise AgendaError(f"The {what} is {len(stripped)} characters long; keep it under 500")
    return stripped


def parse_delegation(value: str) -> Delegation:
    """`CODE=Name` or `CODE=Name:Head of delegation`: the one form, for the CLI and the app."""
    code, sep, rest = value.partition("=")
    name, _, head = rest.partition(":")
    if not sep or not code.strip() or not name.strip():
        raise AgendaError(f"{value.strip()!r} is not CODE=Name or CODE=Name:Head "
                          "(e.g. IN=India:Narendra Modi)")
    return Delegation(check_delegation_code(code), name.strip(), head.strip())
