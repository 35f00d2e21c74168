"""Undo of the last local operation: what it removes, what it refuses, and the CLI's door."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_exchange_sync import World, new_summit

from agenda import undo
from agenda.cli import main
from agenda.exchange import packets, sync
from agenda.integrity import check
from agenda.model import AgendaError, Delegation, NotFound, Status
from agenda.workspace import Workspace


def journal_bytes(ws: Workspace) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(ws.summits_dir.iterdir())}


def pair(path: Path) -> Workspace:
    ws = Workspace(path, create=True)
    ws.create_summit("Pair", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="pair", sections=["Political"])
    ws.add_item("pair", section="Political", title="Ports", delegation="IN",
                text="Ports by 2030.")
    ws.table("pair", "1.1", delegation="RU", text="Ports by 2035.", why="Time")
    return ws


def visible(ws: Workspace) -> Any:
    state = ws.state("pair", None)
    return [(i.number, i.title, i.status, [(r.label, r.text) for r in state.history(i)])
            for i in state.items]


def test_undo_takes_back_an_acceptance_and_the_state_returns(tmp_path: Path) -> None:
    ws = pair(tmp_path / "w.json")
    before, files = visible(ws), journal_bytes(ws)
    ws.accept("pair", "1.1", delegation="IN")
    assert ws.state("pair").items[0].status == Status.AGREED_AD_REF
    found = ws.undoable("pair", "IN")
    assert found.allowed and found.what.startswith("IN accepted v2 of item 1.1")
    ws.undo("pair", "IN")
    assert visible(ws) == before
    # Only the undo's own event is new; the records are as they were before the acceptance.
    fresh = Workspace(tmp_path / "w.json")
    assert visible(fresh) == before
    assert fresh.stored("pair")[0] == Workspace(tmp_path / "w.json").stored("pair")[0]
    assert [d["id"] for d in fresh.stored("pair")[0]] == \
        [d["id"] for d in _records(files["pair.json"])]
    assert fresh.state("pair").events[-1].detail.startswith("IN undid: IN accepted v2")
    assert check(fresh) == []


def _records(raw: bytes) -> list[Any]:
    import orjson

    docs: list[Any] = []
    for line in raw.splitlines()[1:]:
        docs.extend(orjson.loads(line[9:]).get("a", {}).get("records", []))
    return docs


def test_undo_refuses_what_another_record_builds_on(tmp_path: Path) -> None:
    ws = pair(tmp_path / "w.json")
    found = ws.undoable("pair", "IN")
    assert not found.allowed and "build" in found.refusal and "RU" in found.refusal
    files = journal_bytes(ws)
    with pytest.raises(AgendaError, match="Cannot undo IN proposed item 1.1"):
        ws.undo("pair", "IN")
    assert journal_bytes(ws) == files


def test_undo_walks_back_one_operation_at_a_time_but_never_a_creation(tmp_path: Path) -> None:
    ws = pair(tmp_path / "w.json")
    ws.undo("pair", "RU")
    ws.undo("pair", "IN")
    assert ws.state("pair").items == ()
    with pytest.raises(NotFound, match="Nothing to undo by IN"):
        ws.undo("pair", "IN")
    found = ws.undoable("pair", None)
    assert found.refusal == "a summit's creation is not undone"
    assert check(Workspace(tmp_path / "w.json")) == []


def test_undo_of_a_draft_and_a_note(tmp_path: Path) -> None:
    ws = pair(tmp_path / "w.json")
    ws.table("pair", "1.1", delegation="IN", text="Ports by 2032.", internal=True)
    ws.add_note("pair", "1.1", delegation="IN", text="Ask the minister")
    assert ws.undo("pair", "IN").what == "IN noted on item 1.1"
    assert ws.state("pair", "IN").notes == {}
    assert ws.undo("pair", "IN").what.startswith("IN saved internal draft d1")
    assert [r.label for r in ws.state("pair", "IN").history(ws.state("pair").items[0])] == \
        ["v1", "v2"]


def test_table_base_names_the_parent_and_must_be_a_revision_of_the_item(tmp_path: Path) -> None:
    ws = pair(tmp_path / "w.json")
    state = ws.state("pair", "IN")
    item = state.items[0]
    v1 = state.revision(item, "v1")
    revision = ws.table("pair", "1.1", delegation="IN", text="Ports by 2031.", base=v1.uuid)
    assert revision.parents == (v1.uuid,)
    ws.add_item("pair", section="Political", title="Other", delegation="IN", text="Other.")
    other = ws.state("pair", "IN").item("1.2")
    theirs = ws.state("pair", "IN").latest(other)
    assert theirs is not None
    with pytest.raises(NotFound):
        ws.table("pair", "1.1", delegation="IN", text="X.", base=theirs.uuid)
    # A tabled text written from an internal draft descends from the draft's tabled parent.
    d1 = ws.table("pair", "1.1", delegation="IN", text="Ports by 2033.", internal=True,
                  base=revision.uuid)
    assert d1.parents == (revision.uuid,)
    tabled = ws.table("pair", "1.1", delegation="IN", text="Ports by 2034.", base=d1.uuid)
    assert tabled.parents == (revision.uuid,)
    assert check(ws) == []


def test_a_record_carried_by_a_packet_or_pushed_cannot_be_undone(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        india, _ = world.delegation("in", "IN"), world.delegation("ru", "RU")
        world.trust_all()
        slug = new_summit(india, "IN", "RU")
        india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        assert india.undoable(slug, "IN").allowed
        packets.send(india, "RU", tmp_path / "p.summit")
        found = india.undoable(slug, "IN")
        assert "left this machine" in found.refusal
        india.add_note(slug, "1.1", delegation="IN", text="private")
        assert india.undoable(slug, "IN").allowed  # written after the packet
        india.undo(slug, "IN")
        india.table(slug, "1.1", delegation="IN", text="Ports soon.")
        assert india.undoable(slug, "IN").allowed
        sync.sync(india)
        assert "left this machine" in india.undoable(slug, "IN").refusal
        files = journal_bytes(india)
        with pytest.raises(AgendaError, match="left this machine"):
            india.undo(slug, "IN")
        assert journal_bytes(india) == files
    finally:
        world.close()


def test_cli_undo_dry_run_then_undo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.json"
    pair(db).close()
    main(["--db", str(db), "--as", "RU", "undo", "--dry-run"])
    assert capsys.readouterr().out.startswith("would undo: RU tabled v2 (MOD) of item 1.1")
    main(["--db", str(db), "--as", "RU", "undo"])
    assert capsys.readouterr().out.startswith("undone: RU tabled v2")
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db), "--as", "RU", "undo"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.strip() == "summit: Nothing to undo by RU in this workspace"
    before = (tmp_path / "w.summits" / "pair.json").read_bytes()
    main(["--db", str(db), "--as", "IN", "undo", "--dry-run"])
    assert capsys.readouterr().out.startswith("would undo: IN proposed item 1.1 Ports")
    assert (tmp_path / "w.summits" / "pair.json").read_bytes() == before

ACTS = st.lists(st.sampled_from(["table-in", "table-ru", "accept-in", "note-in", "draft-ru",
                                 "undo-in", "undo-ru"]), max_size=8)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acts=ACTS)
def test_undo_removes_exactly_the_operation(tmp_path_factory: Any, acts: list[str]) -> None:
    """Whatever came before, an allowed undo removes exactly the records of the actor's newest
    operation; when that was the last act, every view is as it was before it; the workspace
    still checks out."""
    ws = pair(tmp_path_factory.mktemp("u") / "w.json")

    def views() -> Any:
        items = ws.state("pair").items  # undoing IN's first act removes the item itself
        return [visible(ws), ws.state("pair", "IN").notes,
                [r.label for r in ws.state("pair", "RU").history(items[0])] if items else []]

    def ids() -> set[str]:
        return {d["id"] for d in ws.stored("pair")[0]}

    last: tuple[str, Any] | None = None  # (actor, views before) of the latest act
    for n, act in enumerate(acts):
        verb, code = act.split("-")
        code = code.upper()
        before = views()
        if verb == "undo":
            try:
                found = ws.undoable("pair", code)
            except NotFound:
                found = None
            if found is not None and found.allowed:
                held = ids()
                ws.undo("pair", code)
                assert ids() == held - set(found.ids)
                if last is not None and last[0] == code:
                    assert views() == last[1]
            last = None
            continue
        try:
            if verb == "table":
                ws.table("pair", "1.1", delegation=code, text=f"Text {n}.")
            elif verb == "accept":
                ws.accept("pair", "1.1", delegation=code)
            elif verb == "note":
                ws.add_note("pair", "1.1", delegation=code, text=f"Note {n}")
            else:
                ws.table("pair", "1.1", delegation=code, text=f"Draft {n}.", internal=True)
        except AgendaError:
            continue
        last = (code, before)
    assert check(Workspace(ws.path)) == []


def test_summary_of_a_large_operation_names_its_first_events() -> None:
    assert undo.summary(["a", "b", "c", "d", "e"]) == "a; b; c; and 2 more"
    assert undo.summary(["a"]) == "a"
