"""Generate a large, valid Summit Agenda workspace for the storage benchmarks.

Run:    python bench/scale.py OUT_PATH --summits 100 --revisions 100000 [--text-bytes 1000]
                                       [--seed 1] [--no-verify]
Import: from bench.scale import build; build(path, summits, revisions, text_bytes, seed)

Tabling 100k revisions through `Workspace.table()` one at a time would take long, so this
module writes the files directly, in the format Summit Agenda 0.1 wrote, and lets the
workspace convert them into journals of records (agenda/migrate.py) as it converts any 0.1
workspace, in its first write transaction:

* `OUT_PATH` - the index (tables `_meta`, `summits`);
* `OUT_PATH.stem + ".summits"/<slug>.json` - one TinyDB file per summit (tables `_meta`,
  `summit`, `events`, `items`, `revisions`, `notes`, `acceptances`).

The history is what the real operations would have produced: two delegations (IN, RU) take
turns modifying about ten revisions per item, sometimes restating the other side's text (NOC,
which agrees the item), sometimes the chair tables a compilation text with brackets (CMP),
sometimes a delegation saves an internal draft or a private note, and sometimes the other
side accepts the latest text. Revision numbers run v1..vn per item (d1..dn per delegation for
drafts), parents follow the workspace's default-parent rule, every `hash` is
`agenda.model.revision_hash` chained to the parents' hashes, item statuses follow the rules of
`Workspace._status_after_tabling`, and every act is logged as the same event the workspace
would log. Deterministic for a given seed (uuids included).

After writing, `build` re-checks the 0.1 hash chains and numbering, opens the result with
`Workspace` (which converts it), reads summits with `state()` for every viewer, and tables one
revision through `Workspace.table()`; the summit journal is then put back byte for byte, so
the workspace holds exactly the requested number of revisions.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid as uuidlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agenda.brackets import bracket_count  # noqa: E402
from agenda.model import revision_hash, to_iso  # noqa: E402
from agenda.store import APP, META_TABLE, atomic_write  # noqa: E402
from agenda.workspace import DEFAULT_SECTIONS, Workspace  # noqa: E402

CODES = ("IN", "RU")
DELEGATIONS = [
    {"code": "IN", "name": "India", "head": "Narendra Modi, Prime Minister"},
    {"code": "RU", "name": "Russian Federation", "head": "Vladimir Putin, President"},
]
OTHER = {"IN": "RU", "RU": "IN"}

# Shares of the acts after an item's first text (the rest are MODs by alternating sides).
P_DRAFT = 0.08  # an internal draft
P_NOC = 0.04  # the other side's latest text restated unchanged
P_CMP = 0.05  # a compilation text, with the difference in brackets
P_RESOLVE = 0.6  # a MOD on bracketed text settles the brackets on the author's option
P_NOTE = 0.25  # an item gets a private note
P_ACCEPT = 0.15  # the other side accepts an item's latest text at the end

# Joint-statement phrases (after the India–Russia statements of 2019-2021).
SUBJECTS = (
    "The Sides", "The Leaders", "Both Sides", "The two Leaders",
    "The Prime Minister of India and the President of the Russian Federation",
)
VERBS = (
    "reaffirmed their commitment to", "welcomed", "noted with satisfaction",
    "agreed to intensify", "underlined the importance of", "called for",
    "expressed support for", "looked forward to", "emphasised", "agreed to explore",
    "highly appreciated", "recognised the potential of", "agreed to work towards",
)
OBJECTS = (
    "the Special and Privileged Strategic Partnership between India and Russia",
    "cooperation in the peaceful uses of atomic energy, including the Kudankulam project",
    "the early conclusion of a free trade agreement between India and the Eurasian "
    "Economic Union",
    "the Chennai–Vladivostok Maritime Corridor",
    "the International North–South Transport Corridor",
    "bilateral trade of USD 30 billion and mutual investment of USD 50 billion by 2025",
    "a comprehensive reform of the UN Security Council",
    "joint efforts to counter terrorism and violent extremism in all its forms",
    "long-term supplies of fertilisers and pharmaceuticals",
    "Indian investment in the Russian Far East and the Arctic",
    "cooperation on the Northern Sea Route",
    "the Intergovernmental Commission on Trade, Economic, Scientific, Technological and "
    "Cultural Cooperation",
    "the 2+2 Dialogue of Foreign and Defence Ministers",
    "joint production of vaccines against COVID-19",
    "cooperation in human spaceflight and satellite navigation",
    "long-term contracts for crude oil and LNG",
    "the Programme for Military-Technical Cooperation for 2021-2031",
    "the joint manufacture of spare parts for Russian-origin equipment in India",
    "the use of national currencies in mutual settlements",
    "cultural exchanges, tourism and a simplified visa regime",
    "cooperation within the SCO, BRICS and RIC formats",
    "a free, open and inclusive Indo-Pacific region",
    "an equal and indivisible security architecture in the Asia-Pacific region",
)
QUALIFIERS = (
    "", "", "", "in accordance with international law",
    "on the basis of mutual respect and equality", "in a time-bound manner",
    "at the earliest", "including through the SCO and BRICS", "by 2025",
    "for the benefit of the peoples of both countries",
    "in line with the Joint Statement of 2019", "through the relevant mechanisms",
    "with the participation of the private sector", "as a matter of priority",
)
REASONS = (
    "Aligns the text with agreed language of 2019",
    "Our capital cannot accept this formulation",
    "Restores the balance of the paragraph",
    "Technical correction",
    "The Ministry of Commerce asks for a firmer commitment",
    "Moscow prefers established terminology",
    "New Delhi prefers a time-bound formulation",
    "Shortens the paragraph as suggested by the sherpas",
    "",
)
NOTES = (
    "Red line: keep the reference to the time frame. Fallback acceptable if pressed.",
    "Capital wants this closed before the sherpa meeting.",
    "MEA can live with a study; Commerce wants the figure.",
    "Do not raise again before the 2+2; park it.",
    "Line from the minister: no bloc language.",
)
TITLES = (
    "Regional security architecture", "Annual summit and 2+2 dialogue",
    "Maritime corridor", "Trade target", "Free trade agreement", "Nuclear energy",
    "Space cooperation", "Vaccines", "Fertilisers", "Arctic shipping", "Defence production",
    "UN Security Council reform", "Counter-terrorism", "Oil and gas", "National currencies",
    "Visa regime", "Tourism", "Far East investment", "North–South corridor", "Education",
)
TAGS = ("priority", "wording", "trade", "connectivity", "energy", "defence", "sherpa")
VENUES = ("New Delhi", "Moscow", "Vladivostok", "Sochi", "Goa")

Sentence = tuple[str, str, str, str]


class _Clock:
    """A clock that ticks a little per act, so created stamps rise through the file."""

    def __init__(self, start: datetime, rng: random.Random) -> None:
        self.moment = start
        self.rng = rng

    def __call__(self) -> str:
        self.moment += timedelta(seconds=self.rng.randint(30, 900),
                                 microseconds=self.rng.randint(0, 999_999))
        return to_iso(self.moment)


class _Text:
    """A joint-statement paragraph as sentences, edited cheaply into the next revision."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.size = size

    def sentence(self) -> Sentence:
        r = self.rng
        return (r.choice(SUBJECTS), r.choice(VERBS), r.choice(OBJECTS), r.choice(QUALIFIERS))

    def new(self) -> list[Sentence]:
        out = [self.sentence()]
        while self.length(out) < self.size:
            out.append(self.sentence())
        return out

    @staticmethod
    def render(sentences: Sequence[Sentence]) -> str:
        parts = []
        for i, (s, v, o, q) in enumerate(sentences):
            sep = "" if i == 0 else ("\n\n" if i % 3 == 0 else " ")
            parts.append(f"{sep}{s} {v} {o}{' ' + q if q else ''}.")
        return "".join(parts)

    def length(self, sentences: Sequence[Sentence]) -> int:
        return sum(len(s) + len(v) + len(o) + len(q) + 4 for s, v, o, q in sentences)

    def edit(self, sentences: Sequence[Sentence], author: str) -> list[Sentence]:
        """A MOD: a few phrases changed, a sentence added or dropped to stay near size."""
        r = self.rng
        out = list(sentences)
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(out))
            s, v, o, q = out[i]
            if "[" in o and r.random() < P_RESOLVE:
                o = _option(o, author)
            elif r.random() < 0.5:
                v = r.choice(VERBS)
            else:
                q = r.choice(QUALIFIERS)
            out[i] = (s, v, o, q)
        length = self.length(out)
        if length > self.size * 1.05 and len(out) > 1:
            del out[r.randrange(len(out))]
        elif length < self.size * 0.9 or r.random() < 0.2:
            out.insert(r.randrange(len(out) + 1), self.sentence())
        return out

    def compile(self, mine: Sequence[Sentence], theirs: Sequence[Sentence],
                first: str) -> list[Sentence]:
        """A CMP: one side's text with a phrase where the sides differ put in brackets."""
        out = list(mine)
        i = self.rng.randrange(len(out))
        s, v, o, q = out[i]
        if "[" not in o:
            alternative = self.rng.choice(OBJECTS)
            while alternative == o:
                alternative = self.rng.choice(OBJECTS)
            o = f"[{first}: {o}][{OTHER[first]}: {alternative}]"
        out[i] = (s, v, o, q)
        return out


def _option(bracketed: str, author: str) -> str:
    """Settle "[IN: x][RU: y]" on the author's option."""
    for option in bracketed[1:-1].split("]["):
        code, _, text = option.partition(": ")
        if code == author:
            return text
    return bracketed


def _meta(kind: str) -> dict[str, Any]:
    # Exactly what 0.1's AtomicStorage._meta() wrote.
    return {"app": APP, "kind": kind, "schema": 1}


class _Table:
    """A TinyDB table as stored: {"1": doc, "2": doc, ...}."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def insert(self, doc: dict[str, Any]) -> None:
        self.docs[str(len(self.docs) + 1)] = doc


class _ItemState:
    def __init__(self, uuid: str, owner: str, budget: int) -> None:
        self.uuid = uuid
        self.owner = owner
        self.budget = budget  # revisions still to write
        self.doc: dict[str, Any] | None = None  # the item document, once added
        self.number = ""
        self.status = "proposed"
        self.tabled: list[dict[str, Any]] = []  # tabled revision docs, in order
        self.sentences: dict[str, list[Sentence]] = {}  # revision uuid -> text as sentences
        self.drafts = {"IN": 0, "RU": 0}
        self.hashes: dict[str, str] = {}
        self.accepted: dict[str, set[str]] = {}  # revision uuid -> acceptors


class _SummitBuilder:
    """One summit's file, written act by act the way the workspace operations write it."""

    def __init__(self, index: int, n_revisions: int, rng: random.Random,
                 text_bytes: int) -> None:
        self.rng = rng
        self.text = _Text(rng, text_bytes)
        self.slug = f"summit-{index:04d}"
        self.title = f"India–Russia Consultations No. {index}"
        self.venue = VENUES[index % len(VENUES)]
        self.dates = f"{1 + index % 28} December {2000 + index % 100:04d}"
        self.clock = _Clock(datetime(2021, 1, 1, 9, 0, tzinfo=UTC) + timedelta(days=index), rng)
        self.uuid = self.new_uuid()
        self.created = self.clock()
        self.tables = {name: _Table() for name in
                       ("events", "items", "revisions", "notes", "acceptances")}
        n_items = max(1, round(n_revisions / 10))
        base, extra = divmod(n_revisions, n_items)
        self.items = [
            _ItemState(self.new_uuid(), CODES[i % 2], base + (1 if i < extra else 0))
            for i in range(n_items)
        ]
        self.sections = [{"uuid": self.new_uuid(), "title": title, "items": []}
                         for title in DEFAULT_SECTIONS]
        self.event("", "summit.create", "", f"created summit {self.title}")

    def new_uuid(self) -> str:
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    # Records ------------------------------------------------------------------------------

    def event(self, actor: str, action: str, item: str, detail: str,
              private_to: str = "") -> None:
        self.tables["events"].insert({
            "uuid": self.new_uuid(), "created": self.clock(), "actor": actor,
            "action": action, "item": item, "detail": detail, "private_to": private_to,
        })

    def revision(self, it: _ItemState, author: str, sentences: list[Sentence], code: str,
                 why: str, tabled: bool, parents: Sequence[str]) -> dict[str, Any]:
        if tabled:
            number = len(it.tabled) + 1
        else:
            it.drafts[author] += 1
            number = it.drafts[author]
        text = self.text.render(sentences)
        created = self.clock()
        visibility = "tabled" if tabled else "internal"
        digest = revision_hash(
            item=it.uuid, number=number, delegation=author,
            parents=[(p, it.hashes[p]) for p in parents], text=text, code=code,
            justification=why, visibility=visibility, created=created)
        doc = {
            "uuid": self.new_uuid(), "item": it.uuid, "number": number, "delegation": author,
            "parents": list(parents), "text": text, "code": code, "justification": why,
            "visibility": visibility, "created": created, "hash": digest,
        }
        self.tables["revisions"].insert(doc)
        it.hashes[doc["uuid"]] = digest
        it.budget -= 1
        if tabled:
            it.tabled.append(doc)
            it.sentences[doc["uuid"]] = sentences
            self.event(author, "revision.table", it.uuid,
                       f"{author} tabled v{number} ({code}) of item {it.number}")
            self.status_after_tabling(it, doc)
        else:
            self.event(author, "revision.draft", it.uuid,
                       f"{author} saved internal draft d{number} of item {it.number}",
                       private_to=author)
        return doc

    # The rules of history.SummitState and Workspace._status_after_tabling -----------------

    def accepted_by(self, it: _ItemState, doc: dict[str, Any]) -> set[str]:
        codes = set(it.accepted.get(doc["uuid"], ()))
        if doc["code"] != "CMP":
            codes.add(doc["delegation"])
        if doc["code"] == "NOC":
            by_uuid = {r["uuid"]: r for r in it.tabled}
            codes.update(by_uuid[p]["delegation"] for p in doc["parents"]
                         if p in by_uuid and by_uuid[p]["text"] == doc["text"]
                         and by_uuid[p]["code"] != "CMP")
        return codes

    def stands_on(self, it: _ItemState, code: str) -> dict[str, Any] | None:
        for doc in reversed(it.tabled):
            if code in self.accepted_by(it, doc):
                return doc
        return None

    def default_parents(self, it: _ItemState, author: str) -> list[str]:
        if not it.tabled:
            return []
        own = self.stands_on(it, author)
        cmp_ = next((r for r in reversed(it.tabled) if r["code"] == "CMP"), None)
        candidates = [r for r in (own, cmp_) if r]
        if not candidates:
            return [it.tabled[-1]["uuid"]]
        return [max(candidates, key=lambda r: r["number"])["uuid"]]

    def agreed(self, it: _ItemState) -> bool:
        latest = it.tabled[-1]
        return set(CODES) <= self.accepted_by(it, latest) and "[" not in latest["text"]

    def status_after_tabling(self, it: _ItemState, doc: dict[str, Any]) -> None:
        if self.agreed(it):
            target = "agreed-ad-ref"
        elif "[" in doc["text"]:  # generated texts have brackets only in bracket groups
            target = "bracketed"
        elif doc["code"] == "ADD":
            target = "proposed"
        else:
            target = "negotiating"
        if target != it.status:
            why = " (the agreement on the earlier text lapses)" \
                if it.status == "agreed-ad-ref" else ""
            self.set_status(it, target, doc["delegation"], why)

    def set_status(self, it: _ItemState, target: str, actor: str, why: str = "") -> None:
        assert it.doc is not None
        self.event(actor, "item.status", it.uuid,
                   f"item {it.number}: {it.status} → {target}{why}")
        it.status = target
        it.doc["status"] = target

    # Acts ---------------------------------------------------------------------------------

    def add_item(self, it: _ItemState) -> None:
        section_index = self.rng.randrange(len(self.sections))
        section = self.sections[section_index]
        section["items"].append(it.uuid)
        it.number = f"{section_index + 1}.{len(section['items'])}"
        title = f"{self.rng.choice(TITLES)} ({len(self.tables['items'].docs) + 1})"
        tags = self.rng.sample(TAGS, self.rng.randint(0, 2))
        it.doc = {"uuid": it.uuid, "title": title, "owner": it.owner, "status": "proposed",
                  "tags": tags, "created": self.clock()}
        self.tables["items"].insert(it.doc)
        self.event(it.owner, "item.add", it.uuid,
                   f"{it.owner} proposed item {it.number} {title}")
        self.revision(it, it.owner, self.text.new(), "ADD", self.rng.choice(REASONS),
                      True, [])

    def next_act(self, it: _ItemState) -> None:
        r = self.rng
        last = it.tabled[-1]
        roll = r.random()
        if roll < P_DRAFT:
            author = r.choice(CODES)
            base = it.sentences[last["uuid"]]
            self.revision(it, author, self.text.edit(base, author), "MOD",
                          r.choice(REASONS), False, [last["uuid"]])
            return
        roll -= P_DRAFT
        if roll < P_NOC:
            # Restate the other side's latest own text (Workspace._latest_other).
            author = OTHER[last["delegation"]] if last["code"] != "CMP" else r.choice(CODES)
            restated = next((d for d in reversed(it.tabled)
                             if d["delegation"] != author and d["code"] != "CMP"), None)
            if restated is not None:
                self.revision(it, author, it.sentences[restated["uuid"]], "NOC",
                              "", True, [restated["uuid"]])
                return
        roll -= P_NOC
        if 0 <= roll < P_CMP:
            positions = [p for p in (self.stands_on(it, c) for c in CODES) if p]
            if positions:
                first = r.choice(CODES)
                mine = it.sentences[positions[0]["uuid"]]
                theirs = it.sentences[positions[-1]["uuid"]]
                parents = list(dict.fromkeys(p["uuid"] for p in positions))
                sides = ", ".join(f"{p['delegation']} v{p['number']}" for p in positions)
                self.revision(it, first, self.text.compile(mine, theirs, first), "CMP",
                              f"Compilation of {sides}", True, parents)
                return
        author = OTHER[last["delegation"]] if last["code"] != "CMP" else r.choice(CODES)
        parents = self.default_parents(it, author)
        base = it.sentences[parents[0]] if parents else it.sentences[last["uuid"]]
        self.revision(it, author, self.text.edit(base, author), "MOD", r.choice(REASONS),
                      True, parents)

    def finish_item(self, it: _ItemState) -> None:
        r = self.rng
        if r.random() < P_NOTE:
            code = r.choice(CODES)
            self.tables["notes"].insert({"uuid": self.new_uuid(), "item": it.uuid,
                                         "delegation": code, "text": r.choice(NOTES),
                                         "created": self.clock()})
            self.event(code, "note.add", it.uuid, f"{code} noted on item {it.number}",
                       private_to=code)
        latest = it.tabled[-1]
        acceptor = OTHER[latest["delegation"]] if latest["code"] != "CMP" else r.choice(CODES)
        if r.random() < P_ACCEPT and acceptor not in self.accepted_by(it, latest):
            created = self.clock()
            self.tables["acceptances"].insert({
                "uuid": self.new_uuid(), "item": it.uuid, "revision": latest["uuid"],
                "delegation": acceptor, "created": created})
            it.accepted.setdefault(latest["uuid"], set()).add(acceptor)
            label = f"v{latest['number']}"
            self.event(acceptor, "revision.accept", it.uuid,
                       f"{acceptor} accepted {label} of item {it.number}")
            if self.agreed(it) and it.status != "agreed-ad-ref":
                self.set_status(it, "agreed-ad-ref", acceptor,
                                f" (every delegation accepted {label})")
        # Free the texts: only the hashes and tabled docs are needed from here on.
        it.sentences.clear()

    def run(self) -> None:
        """Interleave the items' negotiations, as a real summit's record would."""
        active = list(self.items)
        while active:
            k = self.rng.randrange(len(active))
            it = active[k]
            if it.doc is None:
                self.add_item(it)
            else:
                self.next_act(it)
            if it.budget <= 0:
                self.finish_item(it)
                active[k] = active[-1]
                active.pop()

    def file_data(self) -> dict[str, Any]:
        summit = {
            "uuid": self.uuid, "slug": self.slug, "title": self.title, "venue": self.venue,
            "dates": self.dates, "created": self.created, "delegations": DELEGATIONS,
            "sections": self.sections,
        }
        data: dict[str, Any] = {META_TABLE: {"1": _meta("summit")}, "summit": {"1": summit}}
        for name, table in self.tables.items():
            if table.docs:
                data[name] = table.docs
        return data

    def index_entry(self) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.uuid, "title": self.title,
                "venue": self.venue, "dates": self.dates, "file": f"{self.slug}.json",
                "created": self.created}


def _write_new(path: Path, payload: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def build(path: str | os.PathLike[str], summits: int, revisions: int,
          text_bytes: int = 1000, seed: int = 1, *, verify: bool = True) -> None:
    """Write a workspace of `summits` summits holding `revisions` revisions in all.

    Refuses to touch an existing path. With verify (the default) the result is opened with
    Workspace, read with state(), its hash chains re-checked and a revision tabled (then put
    back), so a format drift between this generator and agenda/ fails loudly here.
    """
    path = Path(path)
    if summits < 1 or revisions < summits:
        raise ValueError("need at least one summit and one revision per summit")
    if path.exists():
        raise FileExistsError(f"{path} exists; scale.py only writes new workspaces")
    summits_dir = path.with_name(path.stem + ".summits")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    summits_dir.mkdir(mode=0o700)
    rng = random.Random(seed)
    base, extra = divmod(revisions, summits)
    index: dict[str, Any] = {META_TABLE: {"1": _meta("workspace")}, "summits": {}}
    for n in range(summits):
        builder = _SummitBuilder(n + 1, base + (1 if n < extra else 0), rng, text_bytes)
        builder.run()
        _write_new(summits_dir / f"{builder.slug}.json", orjson.dumps(builder.file_data()))
        index["summits"][str(n + 1)] = builder.index_entry()
    # The index last: it never names a summit whose file is missing.
    _write_new(path, orjson.dumps(index))
    if verify:
        verify_workspace(path, revisions, seed=seed)


def check_summit_file(file: Path) -> int:
    """Re-check one summit file's hash chains and numbering; returns its revision count."""
    data = orjson.loads(file.read_bytes())
    hashes: dict[str, str] = {}
    numbers: dict[tuple[str, str, str], int] = {}
    for doc in data["revisions"].values():
        parents = [(p, hashes[p]) for p in doc["parents"]]  # parents always come first
        digest = revision_hash(
            item=doc["item"], number=doc["number"], delegation=doc["delegation"],
            parents=parents, text=doc["text"], code=doc["code"],
            justification=doc["justification"], visibility=doc["visibility"],
            created=doc["created"])
        if digest != doc["hash"]:
            raise AssertionError(f"{file}: bad hash on revision {doc['uuid']}")
        hashes[doc["uuid"]] = digest
        who = "" if doc["visibility"] == "tabled" else doc["delegation"]
        key = (doc["item"], doc["visibility"], who)
        numbers[key] = numbers.get(key, 0) + 1
        if doc["number"] != numbers[key]:
            raise AssertionError(f"{file}: revision {doc['uuid']} is number {doc['number']}, "
                                 f"expected {numbers[key]}")
        if doc["visibility"] == "tabled" and "[" in doc["text"] \
                and bracket_count(doc["text"]) == 0:
            raise AssertionError(f"{file}: brackets not read as brackets in {doc['uuid']}")
    return len(data["revisions"])


def verify_workspace(path: Path, revisions: int, *, seed: int = 1) -> None:
    """Re-check the 0.1 files, convert them by opening the workspace, read every view, table
    one revision, then put the journal back as it was."""
    ws = Workspace(path)
    try:
        entries = ws.summits()
        files = sorted(ws.summits_dir.glob("*.json"))
        if len(files) != len(entries):
            raise AssertionError(f"{len(entries)} summits listed, {len(files)} files")
        total = sum(check_summit_file(file) for file in files)
        if total != revisions:
            raise AssertionError(f"{total} revisions written, {revisions} asked for")
        from agenda.backup import automatic_backup

        automatic_backup(ws)  # a migration never runs without the backup taken before it
        with ws.transaction():
            pass  # the first write transaction converts every summit file into records
        rng = random.Random(seed)
        sample = {entries[0].slug, entries[-1].slug, rng.choice(entries).slug}
        for slug in sorted(sample):
            file = ws.summit_path(slug)  # the migration names its journals afresh
            state = ws.state(slug)
            for viewer in CODES:  # every view builds without error
                ws.state(slug, viewer)
            if not state.items:
                raise AssertionError(f"{slug}: no items")
            item = next(i for i in state.items if i.status.value != "final")
            tabled = state.tabled(item)
            before = file.read_bytes()
            author = OTHER[tabled[-1].delegation]
            revision = ws.table(slug, item.number, delegation=author,
                                text=tabled[-1].text + " The Sides agreed to review progress.")
            after = ws.state(slug)
            if revision.label != f"v{len(tabled) + 1}" or \
                    after.tabled(after.item(item.uuid))[-1].uuid != revision.uuid:
                raise AssertionError(f"{slug}: table() gave {revision.label} after "
                                     f"{len(tabled)} tabled revisions")
            with ws.lock.hold():
                atomic_write(file, before)  # exactly `revisions` revisions again
    finally:
        ws.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the workspace file to create (e.g. /tmp/ws.json)")
    parser.add_argument("--summits", type=int, default=100)
    parser.add_argument("--revisions", type=int, default=100_000)
    parser.add_argument("--text-bytes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-verify", action="store_true",
                        help="skip opening the result with Workspace and tabling into it")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build(args.out, args.summits, args.revisions, args.text_bytes, args.seed,
          verify=not args.no_verify)
    folder = args.out.with_name(args.out.stem + ".summits")
    size = args.out.stat().st_size + sum(f.stat().st_size for f in folder.iterdir())
    print(f"{args.out}: {args.summits} summits, {args.revisions:,} revisions, "
          f"{size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
          f"{'' if args.no_verify else ' (verified)'}")


if __name__ == "__main__":
    main()
