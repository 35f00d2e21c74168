"""The one-pass `add_items` writes exactly what writing the items one by one writes: the same
records (ids), the same journal bytes, the same state, for new and existing summits, directly
and through `import_markdown`."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from conftest import TickingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import records
from agenda.importer import import_markdown
from agenda.model import Code, Delegation, Item, Status, clean_title, to_iso
from agenda.state import key_between
from agenda.workspace import (
    AddedItem,
    NewItem,
    Workspace,
    _item_key,
    _section_index,
    _stamp,
    check_text,
)

SIDES = [Delegation("IN", "India"), Delegation("RU", "Russia")]
SECTIONS = ["Opening", "Trade", "Closing"]


def add_items_one_by_one(ws: Workspace, slug: str, new: Sequence[NewItem], *,
                         delegation: str) -> list[Item]:
    """The reference: each item through the generic writers other operations use, one
    record and one event at a time (what `add_items` did before it went in one pass)."""
    specs = [NewItem(spec.section, clean_title(spec.title, "item title"),
                     check_text(spec.text), spec.why,
                     tuple(t.strip() for t in spec.tags if t.strip())) for spec in new]
    with ws.transaction():
        summit = ws._file(slug)
        code = summit.summit().delegation(delegation).code
        sections = list(summit.summit().sections)
        last_keys: dict[str, list[int] | None] = {
            s.uuid: (_item_key(summit, s.items[-1]) if s.items else None) for s in sections}
        counts = {s.uuid: len(s.items) for s in sections}
        added = []
        for spec in specs:
            index = _section_index(sections, spec.section)
            target = sections[index]
            key = key_between(last_keys[target.uuid], None)
            last_keys[target.uuid] = key
            counts[target.uuid] += 1
            number = f"{index + 1}.{counts[target.uuid]}"
            item = ws._write(summit, records.ITEM_ADD, code, {
                "title": spec.title, "section": target.uuid, "order": key,
                "tags": list(spec.tags)})
            ws._event(summit, code, "item.add", item.uuid,
                      f"{code} proposed item {number} {spec.title}")
            revision = ws._table_record(summit, item.uuid, code, spec.text, Code.ADD,
                                        spec.why, tabled=True, parents=())
            ws._event(summit, code, "revision.table", item.uuid,
                      f"{code} tabled {revision.label} (ADD) of item {number}")
            ws._log_status(summit, code, item.uuid, number, Status.PROPOSED)
            added.append(item.uuid)
        state = summit.fold(code).snapshot()
    by_uuid = {item.uuid: item for item in state.items}
    return [by_uuid[uuid] for uuid in added]


@contextmanager
def deterministic(folder: Path) -> Iterator[Workspace]:
    """A workspace whose clock and event uuids repeat from one run to the next."""
    counter = itertools.count()
    with mock.patch("agenda.workspace.new_uuid",
                    lambda: f"00000000-0000-4000-8000-{next(counter):012d}"):
        ws = Workspace(folder / "ws.json", create=True, clock=TickingClock())
        try:
            yield ws
        finally:
            ws.close()


def journal_bytes(ws: Workspace, slug: str) -> bytes:
    return ws._file(slug).journal.path.read_bytes()


def seen(ws: Workspace, slug: str, viewer: str | None) -> Any:
    state = ws.state(slug, viewer)
    return [(item, [(r.id, r.label, r.text, r.code) for r in state.history(item)])
            for item in state.items]


TITLES = st.text(alphabet="ab [](),.-", min_size=1, max_size=12).filter(str.strip)
TEXTS = st.text(alphabet="ab []()\n*", min_size=1, max_size=40).filter(str.strip)
SPECS = st.lists(st.builds(NewItem, st.sampled_from([*SECTIONS, "2", "trade"]), TITLES, TEXTS,
                           st.sampled_from(["", "Imported from a.md"]),
                           st.lists(st.sampled_from(["x", " y ", ""]), max_size=2)
                           .map(tuple)),
                 min_size=1, max_size=8)


CHAIR = Delegation("UN", "Chair")
# Who takes part, and who adds: the chair's text stands nowhere a party's does (the fast
# path's statuses and events must follow the rules as the fold applies them).
ROSTERS = st.sampled_from([(SIDES, None, "in"), ([*SIDES, Delegation("FR", "France")], None,
                                                 "FR"),
                           (SIDES, CHAIR, "ru"), (SIDES, CHAIR, "UN")])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=SPECS, second=st.lists(SPECS, max_size=2), roster=ROSTERS)
def test_one_pass_writes_what_one_by_one_writes(
        first: list[NewItem], second: list[list[NewItem]],
        roster: tuple[list[Delegation], Delegation | None, str]) -> None:
    sides, chair, author = roster
    outcomes = []
    for add in (Workspace.add_items, add_items_one_by_one):
        with tempfile.TemporaryDirectory() as folder, deterministic(Path(folder)) as ws:
            slug = ws.create_summit("Fast and slow", sides, sections=SECTIONS,
                                    chair=chair).slug
            returned = [add(ws, slug, batch, delegation=author)
                        for batch in [first, *second]]
            viewers = [None, *(d.code for d in sides)]
            outcomes.append((journal_bytes(ws, slug), returned,
                             [seen(ws, slug, viewer) for viewer in viewers],
                             [(e.action, e.detail) for e in ws.state(slug).events]))
    fast, slow = outcomes
    assert fast[0] == slow[0]  # the journal, byte for byte: records, events, labels, ops
    assert fast[1:] == slow[1:]
    assert any(e[0] == "item.add" for e in fast[3])


def agenda_text(sections: list[list[tuple[str, str]]]) -> str:
    lines = ["# Imported summit", ""]
    for n, items in enumerate(sections):
        lines += [f"## Section {n}", ""]
        lines += [f"- {title}: {text}" for title, text in items]
        lines.append("")
    return "\n".join(lines)


WORDS = st.text(alphabet="abc [x]", min_size=1, max_size=10).filter(lambda s: s.strip(" []"))


def streamed_one_by_one(ws: Workspace, slug: str, new: Iterable[NewItem], *,
                        delegation: str, each: Callable[[AddedItem], None]) -> None:
    """The reference for `add_items_streamed`: the items one by one, held in memory."""
    for i in add_items_one_by_one(ws, slug, list(new), delegation=delegation):
        each(AddedItem(i.uuid, i.number, i.title, i.status))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=5),
                min_size=1, max_size=3),
       st.sampled_from([1, 2, 3, 2048]), st.sampled_from([1, 2, 4096]))
def test_an_import_writes_what_one_by_one_writes(sections: list[list[tuple[str, str]]],
                                                 write_out: int, chunk: int) -> None:
    """Into a new summit the records are written out a few at a time (`write_out`), and the
    commit line copies them in beside those held (`chunk`): the bytes are the same."""
    from agenda import journal

    text = agenda_text(sections)
    outcomes = []
    for add, streamed in ((Workspace.add_items, Workspace.add_items_streamed),
                          (add_items_one_by_one, streamed_one_by_one)):
        with tempfile.TemporaryDirectory() as folder, deterministic(Path(folder)) as ws, \
                mock.patch.object(Workspace, "add_items", add), \
                mock.patch.object(Workspace, "add_items_streamed", streamed), \
                mock.patch("agenda.workspace._WRITE_OUT", write_out), \
                mock.patch.object(journal, "_CHUNK", chunk):
            report = import_markdown(ws, text, delegation="IN", source_name="a.md",
                                     delegations=SIDES)
            if streamed is not streamed_one_by_one:  # written out, not held
                assert report.slug not in {s.slug for s in ws._summits.values()}
            again = import_markdown(ws, text + "\n- One more: [new] text\n",
                                    delegation="IN", slug=report.slug, source_name="a.md")
            outcomes.append((journal_bytes(ws, report.slug), report.to_json(),
                             again.to_json(), seen(ws, report.slug, None),
                             seen(ws, report.slug, "IN")))
            assert not [p for p in ws.summits_dir.iterdir() if p.name.startswith(".")]
    fast, slow = outcomes
    assert fast[0] == slow[0]
    assert fast[1:] == slow[1:]
    assert len(fast[1]["items"]["added"]) == sum(map(len, sections))


DOCS = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=6)
BATCHES = st.fixed_dictionaries({}, optional={
    "a": st.dictionaries(st.sampled_from(["records", "events", "ops", "é\"x"]),
                         st.lists(DOCS, max_size=9), max_size=3),
    "p": st.dictionaries(st.sampled_from(["labels", "x"]),
                         st.dictionaries(st.text(max_size=4), DOCS, max_size=9), max_size=2)})


@settings(max_examples=200)
@given(BATCHES, st.integers(1, 4))
def test_a_commit_line_written_in_parts_is_the_line_written_whole(
        batch: dict[str, Any], chunk: int) -> None:
    import zlib

    import orjson

    from agenda import journal

    payload = orjson.dumps(batch)
    whole = b"%08x " % zlib.crc32(payload) + payload + b"\n"
    with mock.patch.object(journal, "_CHUNK", chunk):
        line = journal._Line(batch)
        assert b"".join(line) == whole
        assert b"".join(line) == whole  # a second reading writes the same bytes again
        assert line.size == len(whole)


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.text(max_size=8),
                                 st.integers(-2**60, 2**60), st.floats(allow_nan=False)),
                       lambda inner: st.one_of(st.lists(inner, max_size=3),
                                               st.dictionaries(st.text(max_size=4), inner,
                                                               max_size=3)),
                       max_leaves=8)


@settings(max_examples=300)
@given(kind=st.sampled_from([records.ITEM_ADD, records.REVISION]),
       title=st.text(max_size=20), order=st.lists(st.integers(-2**60, 2**60), min_size=1,
                                                  max_size=3),
       extra=JSONISH, lamport=st.integers(-1, 2**60), signer=st.none() | st.text(max_size=5))
def test_make_own_is_make_for_what_make_accepts(kind: str, title: str, order: list[int],
                                                extra: Any, lamport: int,
                                                signer: str | None) -> None:
    """The workspace's own records skip `make`'s field checks, never its bytes, its id or a
    refusal: whatever `make` refuses goes through `make`."""
    if kind == records.ITEM_ADD:
        body = {"title": title, "section": "s", "order": order, "tags": [], "extra": extra}
    else:
        body = {"item": "i", "code": Code.ADD.value, "text": title, "justification": "",
                "parents": [], "extra": extra}
    fields = dict(kind=kind, summit="g" * 64, scope=records.JOINT, author="IN",
                  lamport=lamport, deps=["d" * 64], created="2026-01-01T00:00:00.000000Z",
                  signer=signer)
    try:
        expected = records.make(body=dict(body), **fields)
    except records.RecordError as refused:
        try:
            records.make_own(body=dict(body), **fields)
        except records.RecordError as also:
            assert str(also) == str(refused)
        else:
            raise AssertionError("make_own accepted what make refuses") from None
        return
    own, doc = records.make_own(body=dict(body), **fields)
    assert own.uuid == expected.uuid  # kept in both instances' dictionaries from here
    assert own == expected and own.__dict__ == expected.__dict__
    assert records.encode(own) == records.encode(expected)
    assert doc == records.encode(expected, share=True)
    assert orjson.dumps(doc) == orjson.dumps(records.encode(expected, share=True))
    assert records.decode(doc) == expected


@settings(max_examples=300)
@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])
                    | st.timezones()))
def test_a_stamp_is_to_iso(moment: datetime) -> None:
    assert _stamp(moment) == to_iso(moment)
    assert _stamp(moment.astimezone(UTC)) == to_iso(moment)


def test_a_bound_workspace_signs_what_one_by_one_signs(tmp_path: Path) -> None:
    """With a device key the one-pass path writes through `_write` (certificate, signatures):
    the same bytes as one by one, from two copies of one bound workspace."""
    import shutil

    from agenda.exchange import identity

    origin = tmp_path / "origin"
    ws = Workspace(origin / "ws.json", create=True, clock=TickingClock())
    identity.init(ws, "IN")
    slug = ws.create_summit("Signed", SIDES, sections=SECTIONS).slug
    ws.close()
    batch = [NewItem("Trade", f"Item {n}", f"Text [{n}]" if n % 2 else f"Text {n}", "why",
                     ("t",)) for n in range(5)]
    outcomes = []
    for n, add in enumerate((Workspace.add_items, add_items_one_by_one)):
        copy = tmp_path / f"copy{n}"
        shutil.copytree(origin, copy)
        with deterministic(copy) as bound:
            returned = add(bound, slug, batch, delegation="IN")
            outcomes.append((journal_bytes(bound, slug), returned, seen(bound, slug, "IN")))
    fast, slow = outcomes
    assert fast == slow
    signed = fast[0].split(b"item.add", 1)[1]
    assert b'"sig":null' not in signed and b'"sig":"' in signed  # the items' records


class _Text(str):
    """A string subclass: hashed as its string by `make`, and so by the unwalked path."""


PLAIN = st.one_of(st.text(max_size=8), st.text(max_size=8).map(_Text),
                  st.integers(-2**53 + 1, 2**53 - 1))


@settings(max_examples=200)
@given(title=st.text(min_size=1, max_size=8),
       order=st.lists(st.integers(-2**53 + 1, 2**53 - 1), min_size=1, max_size=3),
       tags=st.lists(st.text(max_size=4) | st.text(max_size=4).map(_Text), max_size=3),
       values=st.dictionaries(st.text(max_size=6), PLAIN | st.lists(PLAIN, max_size=3),
                              max_size=3),
       lamport=st.integers(1, 2**53 - 1))
def test_make_own_unwalked_is_make_for_plain_bodies(title: str, order: list[int],
                                                    tags: list[str], values: dict[str, Any],
                                                    lamport: int) -> None:
    """`plain=True` skips the walk over a body the caller vouches for: for such a body (strings,
    their subclasses, integers in range, lists of them) the bytes, id and record are `make`'s."""
    values = {**values, "title": _Text(title), "section": "s", "order": order, "tags": tags}
    fields = dict(kind=records.ITEM_ADD, summit="g" * 64, scope=records.JOINT, author="IN",
                  lamport=lamport, deps=["d" * 64], created="2026-01-01T00:00:00.000000Z")
    expected = records.make(body=dict(values), **fields)
    own, doc = records.make_own(body=dict(values), plain=True, **fields)
    assert own == expected and own.uuid == expected.uuid
    assert records.encode(own) == records.encode(expected)
    assert doc == records.encode(expected, share=True)
    assert records.decode(orjson.loads(orjson.dumps(doc))) == expected


def test_event_uuids_are_random_version_4_and_never_repeat_across_a_fork() -> None:
    """`new_uuid` hands out uuids made in batches: each is `str(uuid.uuid4())`'s spelling,
    none repeats, and a forked child does not hand out its parent's."""
    import os
    import uuid

    from agenda import workspace

    made = [workspace.new_uuid() for _ in range(3000)]
    assert len(set(made)) == len(made)
    for value in made:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    workspace.new_uuid()  # the pool holds the rest of a batch now
    assert workspace._UUIDS
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports whether its first uuid is one its parent still holds
        os.close(reader)
        os.write(writer, workspace.new_uuid().encode())
        os._exit(0)
    os.close(writer)
    child = os.read(reader, 64).decode()
    os.close(reader)
    os.waitpid(pid, 0)
    assert uuid.UUID(child).version == 4 and child not in workspace._UUIDS


def test_an_import_failing_while_written_out_leaves_nothing(tmp_path: Path) -> None:
    """Records written out before a failure go with it: no summit, no file, nothing hidden
    beside the summits; the same import then succeeds, read back as a fresh process reads
    it."""
    from agenda import state

    text = "# Imported summit\n\n## Section\n\n" + "\n".join(
        f"- Item {n}\n\n  [x] text {n}\n" for n in range(12))
    ws = Workspace(tmp_path / "ws.json", create=True)
    real = state.fresh_item
    calls = itertools.count()

    def failing(*args: Any) -> Any:
        if next(calls) == 7:
            raise OSError(28, "No space left on device")
        return real(*args)

    with mock.patch("agenda.workspace._WRITE_OUT", 2), \
            mock.patch("agenda.workspace.fresh_item", failing), \
            pytest.raises(OSError):
        import_markdown(ws, text, delegation="IN", source_name="a.md", delegations=SIDES)
    assert ws.summits() == []
    assert not ws.summits_dir.exists() or list(ws.summits_dir.iterdir()) == []
    report = import_markdown(ws, text, delegation="IN", source_name="a.md",
                             delegations=SIDES)
    assert len(report.items_added) == 12 and report.bracketed == 12
    items = ws.state(report.slug).items
    again = Workspace(tmp_path / "ws.json").state(report.slug).items
    assert [(i.uuid, i.number, i.title, i.status) for i in items] == \
        [(i.uuid, i.number, i.title, i.status) for i in again]
    assert [f"{i.number} {i.title}" for i in items] == report.items_added
