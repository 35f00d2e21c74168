"""The negotiation's operations: create summits, add items, table, accept, set status, notes.

A workspace is one JSON file (the summit index) and a folder beside it holding one TinyDB file
per summit, so tabling a revision in one summit never rewrites another summit's history. Every
operation runs in a transaction: the workspace lock is held, files changed by other processes
are re-read, and all of the operation's writes (records plus the event that logs them) land in
one atomic commit or not at all.
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb import Query, TinyDB

from agenda.brackets import bracket_count
from agenda.history import (
    Compilation,
    SummitState,
    compile_item,
    find_item,
    revision_from_doc,
    summit_from_doc,
    visible,
)
from agenda.model import (
    OPEN_STATUSES,
    SLUG_RE,
    Acceptance,
    AgendaError,
    Code,
    Delegation,
    Event,
    Item,
    Note,
    NotFound,
    Revision,
    Status,
    Summit,
    Visibility,
    check_delegation_code,
    check_transition,
    clean_title,
    from_iso,
    now_utc,
    revision_hash,
    slugify,
    to_iso,
)
from agenda.store import (
    StoreError,
    WorkspaceLock,
    forget_cached_ids,
    open_db,
    remove_stale_temp_files,
    storage_of,
)

MAX_TEXT_BYTES = 1_000_000

DEFAULT_SECTIONS = (
    "Political & Strategic",
    "Trade & Economic",
    "Connectivity",
    "Energy",
    "Health",
    "Defence & Military-Technical",
    "Multilateral",
)


@dataclass(frozen=True)
class NewItem:
    """An item to propose: where it goes, what it says, and why."""

    section: str  # title, number or uuid
    title: str
    text: str
    why: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SummitEntry:
    """A summit as listed in the workspace index (without opening its file)."""

    slug: str
    uuid: str
    title: str
    venue: str
    dates: str
    created: datetime


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def check_text(text: str, *, allow_empty: bool = False) -> str:
    """Bodies are stored faithfully, but a text must be text, and of a sane size."""
    if "\x00" in text:
        raise AgendaError("The text contains NUL bytes; is it a binary file?")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise AgendaError(
            f"The text is {size:,} bytes; a revision is limited to {MAX_TEXT_BYTES:,} bytes"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise AgendaError("The text is not valid Unicode (it contains lone surrogates)") from None
    if not allow_empty and not text.strip():
        raise AgendaError("The text is empty; give the item some text")
    return text


class Workspace:
    """A workspace file and its summits; safe to share between threads and processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.path = Path(path).expanduser()
        self.clock = clock
        self.summits_dir = self.path.with_name(self.path.stem + ".summits")
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; --db names a workspace file")
        self.lock = WorkspaceLock(self.path.with_name(self.path.name + ".lock"))
        if not self.path.exists():
            if not create:
                raise NotFound(
                    f"No workspace at {self.path}; create a summit with `summit new` "
                    "or try `summit demo`"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._index = open_db(self.path, kind="workspace", lock=self.lock)
        self._summits: dict[str, TinyDB] = {}
        self._records: dict[tuple[str, str, str], Any] = {}
        self._items: dict[tuple[Any, ...], Item] = {}
        with self.lock.hold():
            remove_stale_temp_files(self.path.parent, self.path.name)
            remove_stale_temp_files(self.summits_dir)
            if not self.path.exists():
                storage_of(self._index).create()
                storage_of(self._index).commit()
        self._refreshed(self._index)

    def close(self) -> None:
        for db in [self._index, *self._summits.values()]:
            db.close()

    # Transactions -------------------------------------------------------------------------

    def _reload(self, db: TinyDB) -> bool:
        """Re-read db if another process committed; True if it did."""
        if storage_of(db).refresh():
            forget_cached_ids(db)
            return True
        return False

    def _refreshed(self, db: TinyDB) -> TinyDB:
        self._reload(db)
        return db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock, see other processes' commits, and commit every change at the end."""
        with self.lock.hold():
            outermost = self.lock.depth == 1
            if outermost:
                for db in [self._index, *self._summits.values()]:
                    self._refreshed(db)
            try:
                yield
            except BaseException:
                if outermost:
                    self._rollback()
                raise
            if outermost:
                # Summit files first: the index never names a summit whose file is missing.
                try:
                    for db in [*self._summits.values(), self._index]:
                        storage_of(db).commit()
                except BaseException:
                    self._rollback()
                    raise

    def _rollback(self) -> None:
        """Forget uncommitted changes, and summits whose file was never written."""
        for db in [self._index, *self._summits.values()]:
            storage_of(db).rollback()
            forget_cached_ids(db)
        for slug, db in list(self._summits.items()):
            if not storage_of(db).path.exists():
                del self._summits[slug]

    def pending_migration(self) -> int | None:
        """The older schema the workspace file is still written in, until its next commit."""
        with self.lock.thread_only():
            return storage_of(self._refreshed(self._index)).migrated_from

    def changed_on_disk(self) -> bool:
        """True when another process committed since this workspace last read (for the TUI)."""
        with self.lock.thread_only():
            return any([self._reload(db) for db in [self._index, *self._summits.values()]])

    # Summits ------------------------------------------------------------------------------

    def summits(self) -> list[SummitEntry]:
        with self.lock.thread_only():
            docs = self._refreshed(self._index).table("summits").all()
        return [
            SummitEntry(d["slug"], d["uuid"], d["title"], d.get("venue", ""),
                        d.get("dates", ""), from_iso(d["created"]))
            for d in docs
        ]

    def resolve_slug(self, slug: str | None = None) -> str:
        """The summit named by slug, or the only one; a clear error otherwise."""
        entries = self.summits()
        slugs = [e.slug for e in entries]
        if slug is not None:
            if slug in slugs:
                return slug
            listed = ", ".join(slugs) or "none yet"
            raise NotFound(f"No summit {slug!r} in this workspace (summits: {listed})")
        if len(entries) == 1:
            return entries[0].slug
        if not entries:
            raise NotFound("The workspace has no summit yet; create one with `summit new` "
                           "or try `summit demo`")
        raise AgendaError(f"The workspace has {len(entries)} summits; pick one with "
                          f"--summit ({', '.join(slugs)})")

    def files(self) -> list[Path]:
        """The workspace index and every summit file it names, index first."""
        with self.lock.thread_only():
            docs = self._refreshed(self._index).table("summits").all()
        return [self.path, *(self.summits_dir / d["file"] for d in docs)]

    def records(self, slug: str) -> dict[str, list[dict[str, Any]]]:
        """A copy of every stored record of a summit, unfiltered: for integrity checks."""
        with self.lock.thread_only():
            db = self._summit_db(slug)
            tables = storage_of(db).read()
            names = ("summit", "items", "revisions", "acceptances", "notes", "events")
            # A round trip through orjson copies ten times faster than copy.deepcopy.
            return orjson.loads(orjson.dumps(
                {name: list(tables.get(name, {}).values()) for name in names}))

    def _summit_db(self, slug: str) -> TinyDB:
        db = self._summits.get(slug)
        if db is None:
            found = self._refreshed(self._index).table("summits").search(Query().slug == slug)
            if not found:
                raise NotFound(f"No summit {slug!r} in this workspace")
            db = open_db(self.summits_dir / found[0]["file"], kind="summit", lock=self.lock)
            self._summits[slug] = db
        return self._refreshed(db)

    def create_summit(
        self,
        title: str,
        delegations: Sequence[Delegation],
        *,
        slug: str | None = None,
        venue: str = "",
        dates: str = "",
        sections: Sequence[str] = DEFAULT_SECTIONS,
        chair: Delegation | None = None,
        host: str = "",
        preamble: str = "",
    ) -> SummitEntry:
        title = clean_title(title, "summit title")
        venue, dates, host = (_clean_detail(v, what) for v, what in
                              ((venue, "venue"), (dates, "dates"), (host, "host")))
        check_text(preamble, allow_empty=True)
        codes = [check_delegation_code(d.code) for d in delegations]
        if chair is not None:
            chair = Delegation(check_delegation_code(chair.code),
                               clean_title(chair.name, "name of the chair"), chair.head.strip())
            if chair.code in codes:
                raise AgendaError(f"The chair's code {chair.code} is also a delegation's; "
                                  "give the chair a code of its own (e.g. CH)")
        if len(codes) < 2:
            raise AgendaError("A summit needs at least two delegations (e.g. --delegation IN=India "
                              "--delegation RU=Russia)")
        if len(set(codes)) != len(codes):
            raise AgendaError(f"Delegation codes repeat: {', '.join(codes)}")
        delegations = [
            Delegation(code, clean_title(d.name, f"name of delegation {code}"), d.head.strip())
            for code, d in zip(codes, delegations, strict=True)
        ]
        section_titles = [clean_title(s, "section title") for s in sections]
        if len(set(section_titles)) != len(section_titles):
            raise AgendaError("Section titles repeat; each section needs its own title")
        slug = slug.strip() if slug is not None else slugify(title)
        if not SLUG_RE.match(slug):
            raise AgendaError(f"The slug {slug!r} must be lower-case letters, digits and dashes "
                              "(at most 60)")
        with self.transaction():
            index = self._index.table("summits")
            if index.search(Query().slug == slug):
                raise AgendaError(f"A summit with slug {slug!r} already exists; choose another "
                                  "with --slug")
            created = to_iso(self.clock())
            summit_uuid = new_uuid()
            self.summits_dir.mkdir(mode=0o700, exist_ok=True)
            path = self.summits_dir / f"{slug}.json"
            if path.exists():
                raise StoreError(f"{path} already exists but is not in the workspace index; "
                                 "it has not been changed; move it aside")
            db = open_db(path, kind="summit", lock=self.lock)
            storage_of(db).create()
            db.table("summit").insert({
                "uuid": summit_uuid, "slug": slug, "title": title, "venue": venue.strip(),
                "dates": dates.strip(), "host": host, "preamble": preamble, "created": created,
                "delegations": [{"code": d.code, "name": d.name, "head": d.head}
                                for d in delegations],
                "chair": {"code": chair.code, "name": chair.name, "head": chair.head}
                if chair else None,
                "sections": [{"uuid": new_uuid(), "title": s, "items": []}
                             for s in section_titles],
            })
            self._summits[slug] = db
            self._event(db, "", "summit.create", "", f"created summit {title}")
            index.insert({"slug": slug, "uuid": summit_uuid, "title": title,
                          "venue": venue.strip(), "dates": dates.strip(), "file": path.name,
                          "created": created})
        return SummitEntry(slug, summit_uuid, title, venue.strip(), dates.strip(),
                           from_iso(created))

    def update_details(self, slug: str, *, title: str | None = None, venue: str | None = None,
                       dates: str | None = None, host: str | None = None,
                       preamble: str | None = None, actor: str = "") -> None:
        """Change the summit's title, venue, dates, host or preamble (None: leave it)."""
        fields: dict[str, str] = {}
        if title is not None:
            fields["title"] = clean_title(title, "summit title")
        for name, value in (("venue", venue), ("dates", dates), ("host", host)):
            if value is not None:
                fields[name] = _clean_detail(value, name)
        if preamble is not None:
            fields["preamble"] = check_text(preamble, allow_empty=True)
        if not fields:
            return
        with self.transaction():
            db = self._summit_db(slug)
            self._set_summit(db, **fields)
            index = {k: v for k, v in fields.items() if k in ("title", "venue", "dates")}
            if index:
                self._index.table("summits").update(index, Query().slug == slug)
            self._event(db, actor, "summit.details", "",
                        "changed the summit's " + ", ".join(fields))

    # Reading ------------------------------------------------------------------------------

    def state(self, slug: str, viewer: str | None = None, *,
              item: str | None = None) -> SummitState:
        """The summit as `viewer` may see it (None: the joint view, tabled material only).

        `item` (a number or uuid) limits revisions, acceptances, notes and events to that one
        item: what an operation on it needs, at a fraction of the cost in a large summit.
        """
        with self.lock.thread_only():
            # Read TinyDB's parsed tables directly: .all() would copy every record first.
            tables = storage_of(self._summit_db(slug)).read()
            summit = summit_from_doc(tables["summit"]["1"])
            if viewer is not None:
                viewer = summit.delegation(viewer).code
            items = self._numbered_items(slug, summit, tables.get("items", {}))
            wanted = None
            if item is not None:
                wanted = find_item(summit, items, item).uuid
            revisions: dict[str, list[Revision]] = {}
            for doc in tables.get("revisions", {}).values():
                if (wanted is None or doc["item"] == wanted) and visible(doc, viewer):
                    revisions.setdefault(doc["item"], []).append(self._built(doc))
            acceptances: dict[str, list[Acceptance]] = {}
            for doc in tables.get("acceptances", {}).values():
                if wanted is None or doc["item"] == wanted:
                    acceptances.setdefault(doc["item"], []).append(self._built(doc))
            notes: dict[str, list[Note]] = {}
            for doc in tables.get("notes", {}).values():
                if doc["delegation"] == viewer and (wanted is None or doc["item"] == wanted):
                    notes.setdefault(doc["item"], []).append(self._built(doc))
            events = tuple(
                self._built(doc) for doc in tables.get("events", {}).values()
                if (not doc.get("private_to") or doc["private_to"] == viewer)
                and (wanted is None or doc["item"] == wanted)
            )
        return SummitState(
            summit=summit,
            items=items,
            revisions={k: tuple(v) for k, v in revisions.items()},
            acceptances={k: tuple(v) for k, v in acceptances.items()},
            notes={k: tuple(v) for k, v in notes.items()},
            events=events,
            viewer=viewer,
        )

    def summit(self, slug: str) -> Summit:
        """The summit's title, delegations and sections, without its items and history."""
        with self.lock.thread_only():
            return summit_from_doc(storage_of(self._summit_db(slug)).read()["summit"]["1"])

    def _numbered_items(self, slug: str, summit: Summit,
                        docs: dict[str, dict[str, Any]]) -> tuple[Item, ...]:
        """Items in agenda order, numbered section.position for people.

        An Item is rebuilt only when something it shows changed (its number, section, title,
        status...): the TUI and every operation read the whole agenda, often.
        """
        by_uuid = {d["uuid"]: d for d in docs.values()}
        if len(self._items) > 4 * len(by_uuid) + 256:
            self._items.clear()  # moves and status changes leave stale keys behind
        items = []
        for s_index, section in enumerate(summit.sections, start=1):
            for i_index, item_uuid in enumerate(section.items, start=1):
                doc = by_uuid[item_uuid]
                number = f"{s_index}.{i_index}"
                key = (slug, item_uuid, number, section.uuid, section.title, doc["title"],
                       doc["owner"], doc["status"], tuple(doc.get("tags", ())), doc["created"])
                item = self._items.get(key)
                if item is None:
                    item = Item(
                        uuid=item_uuid, summit=slug, section=section.title,
                        section_uuid=section.uuid, number=number, title=doc["title"],
                        owner=doc["owner"], status=Status(doc["status"]),
                        tags=tuple(doc.get("tags", ())), created=from_iso(doc["created"]))
                    self._items[key] = item
                items.append(item)
        return tuple(items)

    def _built(self, doc: dict[str, Any]) -> Any:
        """The frozen record for a stored doc; records never change, so each is built once.

        Keyed by uuid and creation time (every kind of record has both), and for revisions
        the hash as well, so a file restored from a backup can never serve a stale record.
        """
        key = (doc["uuid"], doc["created"], doc.get("hash", ""))
        record = self._records.get(key)
        if record is None:
            record = _record_from_doc(doc)
            self._records[key] = record
        return record

    # Writing ------------------------------------------------------------------------------

    def _event(self, db: TinyDB, actor: str, action: str, item: str, detail: str,
               private_to: str = "") -> None:
        db.table("events").insert(self._event_doc(actor, action, item, detail, private_to))

    def _event_doc(self, actor: str, action: str, item: str, detail: str,
                   private_to: str = "") -> dict[str, Any]:
        return {"uuid": new_uuid(), "created": to_iso(self.clock()), "actor": actor,
                "action": action, "item": item, "detail": detail, "private_to": private_to}

    def _revision_doc(self, item: str, number: int, author: str,
                      parents: Sequence[Revision], text: str, code: Code, why: str,
                      visibility: Visibility) -> dict[str, Any]:
        """A revision record, its hash chained to its parents' hashes."""
        created = to_iso(self.clock())
        digest = revision_hash(
            item=item, number=number, delegation=author,
            parents=[(p.uuid, p.hash) for p in parents], text=text, code=code.value,
            justification=why, visibility=visibility.value, created=created)
        return {"uuid": new_uuid(), "item": item, "number": number, "delegation": author,
                "parents": [p.uuid for p in parents], "text": text, "code": code.value,
                "justification": why, "visibility": visibility.value, "created": created,
                "hash": digest}

    def _set_summit(self, db: TinyDB, **fields: Any) -> None:
        db.table("summit").update(fields, doc_ids=[1])

    def add_section(self, slug: str, title: str, *, actor: str = "") -> None:
        title = clean_title(title, "section title")
        with self.transaction():
            db = self._summit_db(slug)
            doc = db.table("summit").get(doc_id=1)
            if any(s["title"].casefold() == title.casefold() for s in doc["sections"]):
                raise AgendaError(f"Section {title!r} already exists")
            sections = [*doc["sections"], {"uuid": new_uuid(), "title": title, "items": []}]
            self._set_summit(db, sections=sections)
            self._event(db, actor, "section.add", "", f"added section {title}")

    def move_section(self, slug: str, section: str, position: int, *, actor: str = "") -> None:
        """Move a section (by title or 1-based number) to a 1-based position."""
        with self.transaction():
            db = self._summit_db(slug)
            sections = list(db.table("summit").get(doc_id=1)["sections"])
            index = _section_index(sections, section)
            if not 1 <= position <= len(sections):
                raise AgendaError(f"Position {position} is outside 1–{len(sections)}")
            moved = sections.pop(index)
            sections.insert(position - 1, moved)
            self._set_summit(db, sections=sections)
            self._event(db, actor, "section.move", "",
                        f"moved section {moved['title']} to position {position}")

    def add_item(
        self,
        slug: str,
        *,
        section: str,
        title: str,
        text: str,
        delegation: str,
        why: str = "",
        tags: Sequence[str] = (),
    ) -> Item:
        """A new item at the end of its section, with its first revision: an ADD, tabled."""
        (item,) = self.add_items(slug, [NewItem(section, title, text, why, tuple(tags))],
                                 delegation=delegation)
        return item

    def add_items(self, slug: str, new: Sequence[NewItem], *, delegation: str) -> list[Item]:
        """Propose several items at once (an import), each with its ADD, in one write."""
        specs = [NewItem(spec.section, clean_title(spec.title, "item title"),
                         check_text(spec.text), spec.why,
                         tuple(t.strip() for t in spec.tags if t.strip()))
                 for spec in new]
        with self.transaction():
            db = self._summit_db(slug)
            code = self.summit(slug).delegation(delegation).code
            sections = [dict(s, items=list(s["items"]))
                        for s in db.table("summit").get(doc_id=1)["sections"]]
            items, revisions, events = [], [], []
            for spec in specs:
                target = sections[_section_index(sections, spec.section)]
                item_uuid = new_uuid()
                target["items"].append(item_uuid)
                number = f"{sections.index(target) + 1}.{len(target['items'])}"
                # The first text has no parent and no other side yet: proposed, or bracketed.
                status = Status.BRACKETED if bracket_count(spec.text) else Status.PROPOSED
                created = to_iso(self.clock())
                items.append({"uuid": item_uuid, "title": spec.title, "owner": code,
                              "status": status.value, "tags": list(spec.tags),
                              "created": created})
                events.append(self._event_doc(code, "item.add", item_uuid,
                                              f"{code} proposed item {number} {spec.title}"))
                revisions.append(self._revision_doc(item_uuid, 1, code, (), spec.text, Code.ADD,
                                                    spec.why, Visibility.TABLED))
                events.append(self._event_doc(code, "revision.table", item_uuid,
                                              f"{code} tabled v1 (ADD) of item {number}"))
                if status != Status.PROPOSED:
                    events.append(self._event_doc(
                        code, "item.status", item_uuid,
                        f"item {number}: {Status.PROPOSED.value} → {status.value}"))
            db.table("items").insert_multiple(items)
            db.table("revisions").insert_multiple(revisions)
            db.table("events").insert_multiple(events)
            self._set_summit(db, sections=sections)
            state = self.state(slug, code)
        return [state.item(doc["uuid"]) for doc in items]

    def table(
        self,
        slug: str,
        item_ref: str,
        *,
        delegation: str,
        text: str | None = None,
        code: Code = Code.MOD,
        why: str = "",
        internal: bool = False,
    ) -> Revision:
        """Table (or, internal=True, save as a draft) a new revision of an item's text.

        NOC restates the other side's latest tabled text (text may be omitted); SUP proposes
        to delete the item's text (text may be empty); ADD is only an item's first revision.
        """
        if code == Code.ADD:
            raise AgendaError("ADD is the code of an item's first revision; use MOD, SUP or NOC")
        if code == Code.CMP:
            raise AgendaError("A compilation text is made by `summit merge --table`, not typed")
        with self.transaction():
            db = self._summit_db(slug)
            state = self.state(slug, delegation, item=item_ref)
            author = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            parents: tuple[str, ...] | None = None
            if code == Code.NOC:
                restated = _latest_other(state, item, author)
                if text is not None and text != restated.text:
                    raise AgendaError(
                        f"NOC restates {restated.delegation}'s {restated.label} unchanged; "
                        "the text given differs from it (use MOD for a change)")
                text, parents = restated.text, (restated.uuid,)
            if text is None:
                raise AgendaError("No text given")
            check_text(text, allow_empty=code == Code.SUP)
            visibility = Visibility.INTERNAL if internal else Visibility.TABLED
            return self._insert_revision(db, state, item, author, text, code, why, visibility,
                                         parents)

    def _insert_revision(
        self,
        db: TinyDB,
        state: SummitState,
        item: Item,
        author: str,
        text: str,
        code: Code,
        why: str,
        visibility: Visibility,
        parents: tuple[str, ...] | None = None,
    ) -> Revision:
        if item.status not in OPEN_STATUSES:
            hint = "set it back to proposed first" if item.status == Status.WITHDRAWN else \
                "its text can no longer change"
            raise AgendaError(f"Item {item.number} is {item.status.value}; {hint}")
        history = state.history(item)
        if parents is None:
            parents = _default_parents(state, item, author)
        tabled = visibility == Visibility.TABLED
        # The state is the author's view: every tabled text and the author's own drafts.
        number = 1 + sum(1 for r in history if r.visibility == visibility
                         and (tabled or r.delegation == author))
        by_uuid = {r.uuid: r for r in history}
        doc = self._revision_doc(item.uuid, number, author, [by_uuid[p] for p in parents], text,
                                 code, why, visibility)
        db.table("revisions").insert(doc)
        revision = revision_from_doc(doc)
        if tabled:
            self._event(db, author, "revision.table", item.uuid,
                        f"{author} tabled {revision.label} ({code.value}) of item {item.number}")
            self._status_after_tabling(db, item, revision)
        else:
            self._event(db, author, "revision.draft", item.uuid,
                        f"{author} saved internal draft {revision.label} of item {item.number}",
                        private_to=author)
        return revision

    def _status_after_tabling(self, db: TinyDB, item: Item, revision: Revision) -> None:
        """A tabled text moves the item: agreed if every side stands on it and it is clean,
        bracketed while it has brackets, else negotiating."""
        if item.status == Status.DEFERRED:
            return
        state = self.state(item.summit, revision.delegation, item=item.uuid)
        if _agreement_gap(state, item) is None:
            target = Status.AGREED_AD_REF
        elif bracket_count(revision.text):
            target = Status.BRACKETED
        else:
            target = Status.NEGOTIATING
        if target != item.status:
            why = " (the agreement on the earlier text lapses)" \
                if item.status == Status.AGREED_AD_REF else ""
            self._write_status(db, item, target, revision.delegation, why)

    def _write_status(self, db: TinyDB, item: Item, status: Status, actor: str,
                      why: str = "") -> None:
        db.table("items").update({"status": status.value}, Query().uuid == item.uuid)
        self._event(db, actor, "item.status", item.uuid,
                    f"item {item.number}: {item.status.value} → {status.value}{why}")

    def accept(self, slug: str, item_ref: str, *, delegation: str,
               revision: str | None = None) -> Acceptance:
        """Accept a tabled revision (default: the other side's latest tabled text).

        When every delegation stands on the latest tabled text and it has no brackets, the
        item becomes agreed ad referendum.
        """
        with self.transaction():
            db = self._summit_db(slug)
            state = self.state(slug, delegation, item=item_ref)
            code = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            if item.status not in OPEN_STATUSES:
                raise AgendaError(f"Item {item.number} is {item.status.value}; nothing to accept")
            if revision is None:
                # The other side's latest tabled text (a compilation counts, whoever tabled it).
                target = next((r for r in reversed(state.tabled(item))
                               if r.delegation != code or r.code == Code.CMP), None)
                if target is None:
                    raise AgendaError(f"Item {item.number} has no text tabled by another "
                                      "delegation to accept")
            else:
                target = state.revision(item, revision)
            if not target.tabled:
                raise AgendaError(f"{target.label} is an internal draft; only a tabled text can "
                                  "be accepted")
            if state.summit.chair is not None and code == state.summit.chair.code:
                raise AgendaError(f"The chair ({code}) accepts no text; only the delegations "
                                  f"({', '.join(state.summit.codes)}) do")
            if code in state.accepted_by(target):
                whose = "its own text" if target.delegation == code and \
                    target.code != Code.CMP else "already accepted"
                raise AgendaError(f"{code} stands on {target.label} of item {item.number} "
                                  f"already ({whose})")
            acceptance = Acceptance(new_uuid(), item.uuid, target.uuid, code, self.clock())
            db.table("acceptances").insert({
                "uuid": acceptance.uuid, "item": item.uuid, "revision": target.uuid,
                "delegation": code, "created": to_iso(acceptance.created)})
            self._event(db, code, "revision.accept", item.uuid,
                        f"{code} accepted {target.label} of item {item.number}")
            after = self.state(slug, code, item=item.uuid)
            if _agreement_gap(after, after.item(item.uuid)) is None and \
                    item.status != Status.AGREED_AD_REF:
                self._write_status(db, item, Status.AGREED_AD_REF, code,
                                   " (every delegation accepted " + target.label + ")")
            return acceptance

    def set_status(self, slug: str, item_ref: str, status: Status, *,
                   actor: str = "") -> Item:
        with self.transaction():
            db = self._summit_db(slug)
            state = self.state(slug, None, item=item_ref)
            item = state.item(item_ref)
            check_transition(item.number, item.status, status)
            if status == Status.AGREED_AD_REF:
                gap = _agreement_gap(state, item)
                if gap is not None:
                    raise AgendaError(f"Item {item.number} cannot be agreed ad referendum: {gap}")
            self._write_status(db, item, status, actor)
            return self.state(slug, None, item=item.uuid).item(item.uuid)

    def add_note(self, slug: str, item_ref: str, *, delegation: str, text: str) -> Note:
        """A private note: seen only when acting as the delegation that wrote it."""
        check_text(text)
        with self.transaction():
            db = self._summit_db(slug)
            state = self.state(slug, delegation, item=item_ref)
            code = state.summit.delegation(delegation).code
            item = state.item(item_ref)
            note = Note(new_uuid(), item.uuid, code, text, self.clock())
            db.table("notes").insert({"uuid": note.uuid, "item": item.uuid, "delegation": code,
                                      "text": text, "created": to_iso(note.created)})
            self._event(db, code, "note.add", item.uuid,
                        f"{code} noted on item {item.number}", private_to=code)
            return note

    def retitle_item(self, slug: str, item_ref: str, title: str, *, actor: str = "") -> Item:
        title = clean_title(title, "item title")
        with self.transaction():
            db = self._summit_db(slug)
            item = self.state(slug, item=item_ref).item(item_ref)
            db.table("items").update({"title": title}, Query().uuid == item.uuid)
            self._event(db, actor, "item.retitle", item.uuid,
                        f"item {item.number}: {item.title} → {title}")
            return self.state(slug, item=item.uuid).item(item.uuid)

    def move_item(self, slug: str, item_ref: str, *, section: str | None = None,
                  position: int | None = None, actor: str = "") -> Item:
        """Move an item to a section (title or number) and 1-based position (default: end)."""
        with self.transaction():
            db = self._summit_db(slug)
            item = self.state(slug, item=item_ref).item(item_ref)
            sections = [dict(s, items=list(s["items"]))
                        for s in db.table("summit").get(doc_id=1)["sections"]]
            source = next(s for s in sections if item.uuid in s["items"])
            target = source if section is None else sections[_section_index(sections, section)]
            source["items"].remove(item.uuid)
            size = len(target["items"]) + 1
            position = size if position is None else position
            if not 1 <= position <= size:
                raise AgendaError(f"Position {position} is outside 1–{size} in section "
                                  f"{target['title']}")
            target["items"].insert(position - 1, item.uuid)
            self._set_summit(db, sections=sections)
            moved = self.state(slug, item=item.uuid).item(item.uuid)
            self._event(db, actor, "item.move", item.uuid,
                        f"item {item.number} moved to {moved.number}")
            return moved

    def shift_item(self, slug: str, item_ref: str, offset: int, *, actor: str = "") -> Item:
        """Move an item up (-1) or down (+1); past a section's edge it crosses into the next."""
        with self.transaction():
            state = self.state(slug, item=item_ref)
            item = state.item(item_ref)
            sections = state.summit.sections
            s_index = next(i for i, s in enumerate(sections) if s.uuid == item.section_uuid)
            position = sections[s_index].items.index(item.uuid) + 1 + offset
            if 1 <= position <= len(sections[s_index].items):
                return self.move_item(slug, item.uuid, position=position, actor=actor)
            n_index = s_index + (1 if offset > 0 else -1)
            if not 0 <= n_index < len(sections):
                raise AgendaError(f"Item {item.number} is already at the "
                                  f"{'end' if offset > 0 else 'top'} of the agenda")
            neighbour = sections[n_index]
            return self.move_item(slug, item.uuid, section=neighbour.uuid,
                                  position=1 if offset > 0 else len(neighbour.items) + 1,
                                  actor=actor)

    # Compilation --------------------------------------------------------------------------

    def compile(self, slug: str, item_ref: str, *, base: str | None = None,
                viewer: str | None = None) -> Compilation:
        """The compilation text of an item's positions (see history.compile_item)."""
        state = self.state(slug, viewer, item=item_ref)
        return compile_item(state, state.item(item_ref), base)

    def table_compilation(self, slug: str, item_ref: str, *, delegation: str,
                          base: str | None = None) -> Revision:
        """Table the compilation text as a CMP revision whose parents are the positions."""
        with self.transaction():
            db = self._summit_db(slug)
            compiled = self.compile(slug, item_ref, base=base)
            state = self.state(slug, delegation, item=item_ref)
            author = state.summit.delegation(delegation).code
            parents = tuple(dict.fromkeys(r.uuid for r in compiled.positions.values()))
            sides = ", ".join(f"{c} {r.label}" for c, r in compiled.positions.items())
            return self._insert_revision(
                db, state, compiled.item, author, compiled.result.text, Code.CMP,
                f"Compilation of {sides}", Visibility.TABLED, parents)


def _clean_detail(value: str, what: str) -> str:
    """A one-line detail (venue, dates, host): empty allowed, control characters refused."""
    return clean_title(value, what) if value.strip() else ""


def _section_index(sections: Sequence[dict[str, Any]], ref: str) -> int:
    """A section by uuid, 1-based number, or title (case-insensitive)."""
    wanted = ref.strip()
    for index, section in enumerate(sections):
        if wanted == section["uuid"] or wanted.casefold() == section["title"].casefold():
            return index
    if wanted.isdigit() and 1 <= int(wanted) <= len(sections):
        return int(wanted) - 1
    known = "; ".join(s["title"] for s in sections)
    raise NotFound(f"No section {wanted!r} (sections: {known})")


def _latest_other(state: SummitState, item: Item, author: str) -> Revision:
    for revision in reversed(state.tabled(item)):
        if revision.delegation != author and revision.code != Code.CMP:
            return revision
    raise AgendaError(f"Item {item.number} has no text tabled by another delegation to restate "
                      "(NOC)")


def _default_parents(state: SummitState, item: Item, author: str) -> tuple[str, ...]:
    """A new text descends from the author's position, or a later compilation text."""
    tabled = state.tabled(item)
    if not tabled:
        return ()
    own = state.stands_on(item, author)
    compilations = [r for r in tabled if r.code == Code.CMP]
    candidates = [r for r in (own, compilations[-1] if compilations else None) if r]
    if not candidates:
        return (tabled[-1].uuid,)
    return (max(candidates, key=lambda r: r.number).uuid,)


def _agreement_gap(state: SummitState, item: Item) -> str | None:
    """Why the item is not (yet) agreed ad referendum, or None if it is ready."""
    latest = state.latest(item)
    if latest is None:
        return "it has no tabled text"
    missing = [c for c in state.summit.codes if c not in state.accepted_by(latest)]
    if missing:
        return f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} not accepted " \
               f"{latest.label}"
    count = bracket_count(latest.text)
    if count:
        return f"{latest.label} still has {count} bracket{'s' if count != 1 else ''}"
    return None


def _record_from_doc(doc: dict[str, Any]) -> Revision | Acceptance | Note | Event:
    """Build whichever record a stored doc is, told apart by its fields."""
    if "hash" in doc:
        return revision_from_doc(doc)
    if "revision" in doc:
        return Acceptance(doc["uuid"], doc["item"], doc["revision"], doc["delegation"],
                          from_iso(doc["created"]))
    if "action" in doc:
        return Event(doc["uuid"], from_iso(doc["created"]), doc["actor"], doc["action"],
                     doc["item"], doc["detail"], doc.get("private_to", ""))
    return Note(doc["uuid"], doc["item"], doc["delegation"], doc["text"],
                from_iso(doc["created"]))
