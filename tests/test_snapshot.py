"""The kept item listing: never a different answer from a full read, never forged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TickingClock, spy_found
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scenarios import tabled_against_final

from agenda import snapshot
from agenda.cli import main
from agenda.model import AgendaError, Delegation, Status
from agenda.state import ItemFold, SummitState
from agenda.workspace import NewItem, Workspace

SLUG = "s"
SECTIONS = ("One", "Two")


def run(db: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main([*argv, "--db", str(db)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def kept_files() -> list[Path]:
    folder = snapshot.cache_dir() / "kept"
    return sorted(folder.iterdir()) if folder.exists() else []


def full_read(db: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """What `summit` answers with no kept listing at all (in a cache folder of its own)."""
    before = os.environ["XDG_CACHE_HOME"]
    os.environ["XDG_CACHE_HOME"] = str(db.parent / "cache-of-a-full-read")
    shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
    try:
        return run(db, capsys, *argv)
    finally:
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
        os.environ["XDG_CACHE_HOME"] = before


def expected(db: Path, viewer: str | None) -> list[dict[str, Any]]:
    """`summit items --json` as it was computed before the kept listing, from the state."""
    ws = Workspace(db)
    try:
        state = ws.state(SLUG, viewer)
        return [{"number": i.number, "title": i.title, "section": i.section,
                 "status": i.status.value, "owner": i.owner, "tags": list(i.tags),
                 "brackets": state.bracket_count(i), "revisions": len(state.history(i)),
                 "uuid": i.uuid} for i in state.items]
    finally:
        ws.close()


def new_workspace(db: Path, titles: tuple[str, ...] = ("Trade", "Energy [corridor]")) -> None:
    ws = Workspace(db, create=True, clock=TickingClock())
    ws.create_summit("Summit", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug=SLUG, sections=SECTIONS)
    for n, title in enumerate(titles):
        ws.add_item(SLUG, section=SECTIONS[n % 2], title=title, text=f"The [Sides] agree {n}.",
                    delegation="IN")
    ws.close()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    path = tmp_path / "ws.json"
    new_workspace(path)
    return path


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each `summit items` found a kept listing."""
    found: list[bool] = []
    real = snapshot.load

    def spy(*args: Any) -> dict[str, Any] | None:
        shown = real(*args)
        found.append(shown is not None)
        return shown

    monkeypatch.setattr(snapshot, "load", spy)
    yield found


OPS = st.lists(st.tuples(
    st.sampled_from(["add", "table", "draft", "accept", "retitle", "move", "undo", "note",
                     "defer", "resume", "withdraw", "final"]),
    st.sampled_from(["IN", "RU"]), st.integers(0, 5), st.text("ab[] ", max_size=12)),
    min_size=1, max_size=6)


def apply(ws: Workspace, op: str, side: str, n: int, text: str) -> None:
    items = ws.state(SLUG).items
    # Undone writes can leave no item: then an item's operation names one that is not
    # there and is refused, as any refused operation is below.
    ref = items[n % len(items)].number if items else "1.1"
    body = f"Text {text} {n}"
    try:
        if op == "add":
            ws.add_item(SLUG, section=SECTIONS[n % 2], title=f"Item {text}x", text=body,
                        delegation=side)
        elif op in ("table", "draft"):
            ws.table(SLUG, ref, delegation=side, text=body, internal=op == "draft")
        elif op == "accept":
            ws.accept(SLUG, ref, delegation=side)
        elif op == "retitle":
            ws.retitle_item(SLUG, ref, f"Title {text}y", actor=side)
        elif op == "move":
            ws.move_item(SLUG, ref, section=SECTIONS[(n + 1) % 2], position=1, actor=side)
        elif op == "note":
            ws.add_note(SLUG, ref, delegation=side, text=body)
        elif op in ("defer", "resume", "withdraw", "final"):
            status = {"defer": Status.DEFERRED, "resume": Status.NEGOTIATING,
                      "withdraw": Status.WITHDRAWN, "final": Status.FINAL}[op]
            ws.set_status(SLUG, ref, status, actor=side)
        else:
            ws.undo(SLUG, side)
    except AgendaError:
        pass  # a refused operation (nothing to accept or undo) writes nothing


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_a_kept_listing_is_exactly_the_full_read(
        db: Path, capsys: pytest.CaptureFixture[str], loads: list[bool],
        ops: list[tuple[str, str, int, str]]) -> None:
    journal = next((db.parent / "ws.summits").iterdir())
    for op in ops:
        before = journal.read_bytes()
        ws = Workspace(db, clock=TickingClock())
        apply(ws, *op)
        ws.close()
        changed = journal.read_bytes() != before
        for viewer in (None, "IN", "RU"):
            argv = ("items", "--json", *(("--as", viewer) if viewer else ()))
            loads.clear()
            first = run(db, capsys, *argv)  # the listing kept before the write is stale
            second = run(db, capsys, *argv)  # the one just kept
            assert loads[1] and not (changed and loads[0])
            assert first == second
            assert json.loads(second[1]) == expected(db, viewer)
            plain = [a for a in argv if a != "--json"]
            assert run(db, capsys, *plain) == full_read(db, capsys, *plain)


def test_the_listing_is_kept_outside_the_workspace_0600(
        db: Path, capsys: pytest.CaptureFixture[str], loads: list[bool]) -> None:
    run(db, capsys, "items")
    run(db, capsys, "items")
    assert loads == [False, True]
    key = snapshot.cache_dir() / "kept.key"
    assert len(kept_files()) == 2  # the listing and the item readings
    for kept in kept_files():
        assert kept.stat().st_mode & 0o777 == key.stat().st_mode & 0o777 == 0o600
        assert db.parent not in kept.parents


def flip_a_byte_or_cut(data: st.DataObject, journal: Path, original: bytes, how: str) -> bool:
    """Write `original` with one byte changed ("byte") or cut short ("cut"); False for any
    other `how`, which the caller does itself."""
    # The strategies do not depend on the file: its length can differ between runs of one
    # example (a clock's or a uuid's digits), and hypothesis refuses a replay whose draws
    # change shape ("inconsistent data generation").
    if how == "byte":
        at = data.draw(st.integers(0, 2**32)) % len(original)
        value = (original[at] + data.draw(st.integers(1, 255))) % 256
        journal.write_bytes(original[:at] + bytes([value]) + original[at + 1:])
    elif how == "cut":
        journal.write_bytes(original[:data.draw(st.integers(0, 2**32)) % len(original)])
    else:
        return False
    return True


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_changed_journal_is_read_as_without_a_kept_listing(
        db: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    journal = next((db.parent / "ws.summits").iterdir())
    original = journal.read_bytes()
    try:
        run(db, capsys, "items")  # keeps a listing of the original
        flip_a_byte_or_cut(data, journal, original, data.draw(st.sampled_from(["byte", "cut"])))
        with_kept = run(db, capsys, "items")
        assert with_kept == full_read(db, capsys, "items")
    finally:
        journal.write_bytes(original)
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)


@pytest.mark.parametrize("argv", [("items",), ("show", "2.1")])
def test_another_file_of_the_same_size_is_read_in_full(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        loads: list[bool], readings: list[bool], argv: tuple[str, ...]) -> None:
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    a, b = tmp_path / "a" / "ws.json", tmp_path / "b" / "ws.json"
    new_workspace(a, ("Trade", "Space"))
    new_workspace(b, ("Trade", "Spice"))
    assert journal_of(a).stat().st_size == journal_of(b).stat().st_size
    assert "Space" in run(a, capsys, *argv)[1]
    shutil.copyfile(journal_of(b), journal_of(a))
    code, out, _ = run(a, capsys, *argv)
    assert code == 0 and "Spice" in out and "Space" not in out
    # Neither the listing (items) nor the readings (show) kept from a's file was used.
    assert (loads if argv[0] == "items" else readings) == [False, False]


def _keep_one(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, tuple[int, str, str]]:
    answer = run(db, capsys, "items")
    kept = snapshot._place(journal_of(db), SLUG, None)
    assert kept in kept_files()
    return kept, answer


def journal_of(db: Path) -> Path:
    return next((db.parent / "ws.summits").iterdir())


def test_a_forged_listing_is_ignored(db: Path, capsys: pytest.CaptureFixture[str],
                                     loads: list[bool]) -> None:
    kept, answer = _keep_one(db, capsys)
    mac, _, payload = kept.read_bytes().partition(b"\n")
    doc = json.loads(payload)
    doc["items"][0][1] = "Forged title"
    forged = json.dumps(doc).encode()
    for content in (mac + b"\n" + forged,  # the old HMAC over new bytes
                    b"0" * 64 + b"\n" + forged,
                    forged,
                    b"",
                    mac + b"\n" + payload[:-1]):
        kept.write_bytes(content)
        loads.clear()
        assert run(db, capsys, "items") == answer
        assert loads == [False]
        assert b"Forged" not in kept.read_bytes()  # the full read kept a true one again


def test_a_foreign_or_exposed_key_vouches_for_nothing(
        db: Path, capsys: pytest.CaptureFixture[str], loads: list[bool]) -> None:
    kept, answer = _keep_one(db, capsys)
    key = snapshot.cache_dir() / "kept.key"
    key.chmod(0o644)
    loads.clear()
    assert run(db, capsys, "items") == answer
    assert loads == [False]
    key.chmod(0o600)
    key.write_bytes(os.urandom(snapshot.KEY_BYTES))  # another user's, or a new one
    loads.clear()
    assert run(db, capsys, "items") == answer
    assert loads == [False]
    key.write_bytes(b"short")
    loads.clear()
    assert run(db, capsys, "items") == answer
    assert run(db, capsys, "items") == answer
    assert loads == [False, True]  # a key cut short was made anew, then vouched
    assert len(key.read_bytes()) == snapshot.KEY_BYTES


def test_a_listing_of_another_viewer_or_summit_is_not_used(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept, _ = _keep_one(db, capsys)
    place = snapshot._place(next((db.parent / "ws.summits").iterdir()), SLUG, "IN")
    place.write_bytes(kept.read_bytes())  # the joint listing where IN's would be
    journal = next((db.parent / "ws.summits").iterdir())
    assert snapshot.load(journal, SLUG, "IN") is None
    assert snapshot.load(journal, SLUG, None) is not None


def test_no_cache_folder_to_write_reads_fine(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    answer = full_read(db, capsys, "items")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # every mkdir there fails
    assert run(db, capsys, "items") == answer
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot, "_put", full_disk)
    assert run(db, capsys, "items") == answer
    assert kept_files() == []


def test_a_read_only_workspace_reads_from_its_kept_listing(
        db: Path, capsys: pytest.CaptureFixture[str], loads: list[bool]) -> None:
    answer = run(db, capsys, "items")
    folders = [db.parent, db.parent / "ws.summits"]
    files = [p for f in folders for p in f.iterdir() if p.is_file()]
    for path in files + folders:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        assert run(db, capsys, "items") == answer
        assert loads == [False, True]
    finally:
        for path in folders + files:
            path.chmod(path.stat().st_mode | 0o200)


def test_check_never_uses_it(db: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    run(db, capsys, "items")

    def refuse(*args: Any) -> None:
        raise AssertionError("check read a kept listing")

    monkeypatch.setattr(snapshot, "load", refuse)
    code, _, err = run(db, capsys, "check")
    assert code == 0, err


# Item readings (`summit show`, `summit history`) -----------------------------------------------

@pytest.fixture
def readings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each `summit show` / `history` found a kept reading."""
    found: list[bool] = []
    real = snapshot.load_item

    def spy(*args: Any) -> snapshot.ItemReading | None:
        shown = real(*args)
        found.append(shown is not None)
        return shown

    monkeypatch.setattr(snapshot, "load_item", spy)
    yield found


def reads(item: str, viewer: str | None) -> list[tuple[str, ...]]:
    """Every way `show` and `history` print an item."""
    who = ("--as", viewer) if viewer else ()
    return [("show", item, *who), ("show", item, "--json", *who),
            ("show", item, "v1", *who), ("history", item, *who),
            ("history", item, "--json", *who)]


def after_ops(db: Path, ops: list[tuple[str, str, int, str]],
              viewer: str | None) -> SummitState:
    """The summit as `viewer` sees it after `ops`, each in a workspace of its own."""
    for op in ops:
        ws = Workspace(db, clock=TickingClock())
        apply(ws, *op)
        ws.close()
    ws = Workspace(db)
    try:
        return ws.state(SLUG, viewer)
    finally:
        ws.close()


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.sampled_from([None, "IN", "RU"]), st.integers(0, 4))
def test_a_kept_reading_is_exactly_the_full_read(
        db: Path, capsys: pytest.CaptureFixture[str], readings: list[bool],
        ops: list[tuple[str, str, int, str]], viewer: str | None, way: int) -> None:
    state = after_ops(db, ops, viewer)
    run(db, capsys, "items", *(("--as", viewer) if viewer else ()))  # keeps them
    for shown in state.items:
        full = snapshot.ItemReading.of(state, shown)
        for ref in (shown.number, shown.uuid, f" {shown.number} "):
            kept = snapshot.load_item(journal_of(db), SLUG, viewer, ref)
            assert kept == full
            assert kept is not None and kept.latest() == state.latest(shown)
            assert kept.latest_draft() == state.latest_draft(shown)
    argv = reads(state.items[-1].number, viewer)[way]
    answer = full_read(db, capsys, *argv)
    readings.clear()
    assert run(db, capsys, *argv) == answer
    assert readings == [True]


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.sampled_from([None, "IN", "RU"]))
def test_a_read_narrowed_to_its_item_answers_and_keeps_as_the_full_read(
        db: Path, ops: list[tuple[str, str, int, str]], viewer: str | None) -> None:
    """`show` and `history` with nothing kept, keeping after their output, fold the
    structure and their item alone (`snapshot._item_read`): the reading (or the refusal) is
    the full read's, and the keeper then keeps the listing and readings a full read keeps."""
    state = after_ops(db, ops, viewer)
    refs = [ref for shown in state.items for ref in (shown.number, shown.uuid)] + ["9.9"]
    for ref in refs:
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
        snapshot.defer_keeping()
        ws = Workspace(db)
        try:
            narrowed: snapshot.ItemReading | str = snapshot.item(ws, SLUG, viewer, ref)
        except AgendaError as refused:
            narrowed = str(refused)
        finally:
            ws.close()
        snapshot.finish_keeping(detach=False)
        try:
            full: snapshot.ItemReading | str = snapshot.ItemReading.of(state, state.item(ref))
        except AgendaError as refused:
            full = str(refused)
        assert narrowed == full
        if isinstance(full, str):
            continue
        assert snapshot.load(journal_of(db), SLUG, viewer) == snapshot.listing(state)
        for shown in state.items:
            assert snapshot.load_item(journal_of(db), SLUG, viewer, shown.number) == \
                snapshot.ItemReading.of(state, shown)


def test_show_with_nothing_kept_folds_every_item_only_after_its_answer(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agenda import state as state_module

    folds: list[str] = []
    real = state_module.fold_all

    def spy(*args: Any, **kwargs: Any) -> Any:
        folds.append("whole")
        return real(*args, **kwargs)

    monkeypatch.setattr(state_module, "fold_all", spy)
    monkeypatch.setattr("agenda.workspace.fold_all", spy)
    snapshot.defer_keeping()
    ws = Workspace(db)
    try:
        reading = snapshot.item(ws, SLUG, "IN", "2.1")
    finally:
        ws.close()
    assert reading.number == "2.1" and folds == []
    snapshot.finish_keeping(detach=False)
    assert folds == ["whole"]
    assert snapshot.load_item(journal_of(db), SLUG, "IN", "2.1") == reading


def test_show_after_a_write_reads_in_full_then_keeps(
        db: Path, capsys: pytest.CaptureFixture[str], readings: list[bool]) -> None:
    first = run(db, capsys, "show", "1.1")
    assert run(db, capsys, "show", "1.1") == first
    assert readings == [False, True]
    assert run(db, capsys, "table", "1.1", "--as", "RU", "--text", "The Sides [agree].")[0] == 0
    readings.clear()
    after = run(db, capsys, "history", "1.1")
    assert "v2" in after[1] and after == run(db, capsys, "history", "1.1")
    assert readings == [False, True]


def test_refusals_come_from_the_full_read(
        db: Path, capsys: pytest.CaptureFixture[str], readings: list[bool]) -> None:
    run(db, capsys, "show", "1.1")
    for argv in (("show", "9.9"), ("history", "nope"), ("show", "1.1", "v7"),
                 ("show", "1.1", "--as", "XX"), ("show", "1.1", "#")):
        code, out, err = run(db, capsys, *argv)
        assert (code, out, err) == full_read(db, capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_changed_journal_is_shown_as_without_kept_readings(
        db: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    journal = journal_of(db)
    original = journal.read_bytes()
    argv = data.draw(st.sampled_from(reads("1.1", None) + reads("2.1", "IN")))
    try:
        run(db, capsys, *argv)  # keeps readings of the original
        how = data.draw(st.sampled_from(["byte", "cut", "grown"]))
        if not flip_a_byte_or_cut(data, journal, original, how):
            ws = Workspace(db, clock=TickingClock())
            ws.retitle_item(SLUG, "1.1", "Another title")
            ws.close()
        assert run(db, capsys, *argv) == full_read(db, capsys, *argv)
    finally:
        journal.write_bytes(original)
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)


def _kept_readings(db: Path, capsys: pytest.CaptureFixture[str],
                   viewer: str | None = None) -> tuple[Path, bytes]:
    run(db, capsys, "show", "1.1", *(("--as", viewer) if viewer else ()))
    place = snapshot._place(journal_of(db), SLUG, viewer, "readings")
    return place, place.read_bytes()


def test_forged_readings_are_ignored(db: Path, capsys: pytest.CaptureFixture[str],
                                     readings: list[bool]) -> None:
    answer = full_read(db, capsys, "show", "1.1")
    place, data = _kept_readings(db, capsys)
    mac, _, payload = data.partition(b"\n")
    forged = payload.replace(b"The [Sides] agree 0.", b"The Sides agree 0!!")
    assert forged != payload
    listing = snapshot._place(journal_of(db), SLUG, None).read_bytes()
    for content in (mac + b"\n" + forged,  # the old HMAC over new bytes
                    b"0" * 64 + b"\n" + forged, forged, b"", mac + b"\n" + payload[:-1],
                    listing):  # a vouched listing where the readings go
        place.write_bytes(content)
        readings.clear()
        assert run(db, capsys, "show", "1.1") == answer
        assert readings == [False]
        assert b"!!" not in place.read_bytes()  # the full read kept true ones again


def test_vouched_readings_of_a_wrong_shape_are_ignored(
        db: Path, capsys: pytest.CaptureFixture[str], readings: list[bool]) -> None:
    """Data our own key signed is still checked as input: a bug, or an older version."""
    answer = full_read(db, capsys, "show", "1.1")
    place, data = _kept_readings(db, capsys)
    payload = data.partition(b"\n")[2]
    head_bytes, _, body = payload.partition(b"\n")
    head = json.loads(head_bytes)
    line = json.loads(body.split(b"\n")[0])[0]  # 1.1's row, first in the first chunk
    key = (snapshot.cache_dir() / "kept.key").read_bytes()

    def signed(row: Any, change: dict[str, Any] | None = None) -> bytes:
        """1.1's row alone in a file our key vouches for, the header changed by `change`."""
        chunk = json.dumps([row]).encode()
        new = json.dumps({**head, "at": {"1.1": 0}, "lines": [[0, len(chunk)]],
                          "firsts": [0], **(change or {})}).encode() + b"\n" + chunk
        return snapshot._mac(key, new) + b"\n" + new

    broken: list[list[Any]] = []
    for at, value in ((0, 3), (6, "2"), (6, True), (7, "x"), (7, [["a"]]), (8, [[1, []]]),
                      (9, [[1]])):
        row = list(line)
        row[at] = value
        broken.append(row)
    bad_code = json.loads(json.dumps(line))
    bad_code[7][0][6] = "NOPE"
    bad_time = json.loads(json.dumps(line))
    bad_time[7][0][9] = "yesterday"
    other_item = json.loads(json.dumps(line))
    other_item[0] = "2.1"
    assert run(db, capsys, "show", "1.1") == answer
    for row in [*broken, bad_code, bad_time, other_item, "not a row"]:
        place.write_bytes(signed(row))
        readings.clear()
        assert run(db, capsys, "show", "1.1") == answer
        assert readings == [False]
    for change in ({"lines": [[5, 2]]}, {"lines": [[0, 10**9]]}, {"lines": {}},
                   {"at": {"1.1": 1}}, {"at": {"1.1": 64}}, {"at": {"1.1": -1}},
                   {"at": {"1.1": True}}, {"at": []}, {"firsts": [1]}, {"firsts": []},
                   {"firsts": [0, 0]}, {"code": "another"}, {"v": 1},
                   {"slug": "t"}, {"viewer": "IN"}, {"kind": "listing"},
                   {"size": head["size"] + 1}):
        place.write_bytes(signed(line, change))
        readings.clear()
        assert run(db, capsys, "show", "1.1") == answer
        assert readings == [False]
    place.write_bytes(signed(line))
    readings.clear()
    assert run(db, capsys, "show", "1.1") == answer
    assert readings == [True]  # the same, well formed: vouched and used


def test_readings_of_another_viewer_or_code_are_not_used(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    place, data = _kept_readings(db, capsys)
    journal = journal_of(db)
    snapshot._place(journal, SLUG, "IN", "readings").write_bytes(data)
    assert snapshot.load_item(journal, SLUG, "IN", "1.1") is None
    assert snapshot.load_item(journal, SLUG, None, "1.1") is not None
    monkeypatch.setattr(snapshot, "_CODE", ["another version of the code"])
    assert snapshot.load_item(journal, SLUG, None, "1.1") is None


def test_a_read_only_workspace_shows_from_kept_readings(
        db: Path, capsys: pytest.CaptureFixture[str], readings: list[bool]) -> None:
    answer = run(db, capsys, "history", "2.1")
    folders = [db.parent, db.parent / "ws.summits"]
    files = [p for f in folders for p in f.iterdir() if p.is_file()]
    for path in files + folders:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        assert run(db, capsys, "history", "2.1") == answer
        assert readings == [False, True]
    finally:
        for path in folders + files:
            path.chmod(path.stat().st_mode | 0o200)


def test_check_and_structural_writes_never_use_kept_data(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes on one item may be served from the kept checkpoint: test_write_kept.py holds
    them to the write after a full read."""
    run(db, capsys, "show", "1.1")
    run(db, capsys, "table", "1.1", "--as", "RU", "--text", "Kept words.")

    def refuse(*args: Any) -> None:
        raise AssertionError("kept data was read")

    monkeypatch.setattr(snapshot, "load_item", refuse)
    monkeypatch.setattr(snapshot, "load", refuse)
    monkeypatch.setattr(snapshot, "_resume", refuse)
    for argv in (("check",), ("retitle", "1.1", "Renamed"), ("move", "1.1", "--section", "Two")):
        code, _, err = run(db, capsys, *argv)
        assert code == 0, err


def test_only_a_read_that_asks_hashes_the_journal(db: Path) -> None:
    ws = Workspace(db)
    try:
        ws.state(SLUG)
        assert ws.read_identity(SLUG) is None
    finally:
        ws.close()
    ws = Workspace(db)
    try:
        ws.state(SLUG, identify=True)
        raw = journal_of(db).read_bytes()
        assert ws.read_identity(SLUG) == (len(raw), hashlib.sha256(raw).hexdigest())
        ws.retitle_item(SLUG, "1.1", "Renamed")
        assert ws.read_identity(SLUG) is None  # a write: the bytes are no longer those
    finally:
        ws.close()


def _kept_equals_full(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every item's kept reading, for every viewer, is the full read's; `history` prints the
    same either way."""
    ws = Workspace(db)
    try:
        states = {viewer: ws.state(SLUG, viewer) for viewer in (None, "IN", "RU")}
    finally:
        ws.close()
    for viewer, state in states.items():
        run(db, capsys, "items", *(("--as", viewer) if viewer else ()))  # keeps them
        for shown in state.items:
            kept = snapshot.load_item(journal_of(db), SLUG, viewer, shown.uuid)
            assert kept == snapshot.ItemReading.of(state, shown)
            argv = ("history", shown.number, *(("--as", viewer) if viewer else ()))
            assert run(db, capsys, *argv) == full_read(db, capsys, *argv)


def test_labels_that_met_and_void_or_late_acts_are_kept_as_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """What random writes in one workspace never make: "was v3" after two offline texts met,
    a text tabled after final or a confirm made void by one, a draft beside them."""
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    first, second = tmp_path / "a" / "ws.json", tmp_path / "b" / "ws.json"
    new_workspace(first, ("Trade",))
    ws_a = Workspace(first, clock=TickingClock())
    ws_a.table(SLUG, "1.1", delegation="RU", text="Trade v2.")
    # Made before the texts meet (an import after they met used to reset "was v3").
    tabled_against_final(ws_a, SLUG, SECTIONS[1], "2.1", title="Energy")
    ws_a.close()
    shutil.copytree(first.parent, second.parent)
    ws_a, ws_b = Workspace(first, clock=TickingClock()), Workspace(second, clock=TickingClock())
    ws_a.table(SLUG, "1.1", delegation="IN", text="India's v3.")
    ws_b.table(SLUG, "1.1", delegation="RU", text="Russia's v3.")
    ws_a.table(SLUG, "1.1", delegation="IN", text="A draft.", internal=True)
    ws_a.import_records(SLUG, ws_b.stored(SLUG)[0])
    ws_b.import_records(SLUG, ws_a.stored(SLUG)[0])

    def met(ws: Workspace) -> bool:
        state = ws.state(SLUG)
        return any(r.was for r in state.history(state.item("1.1")))

    if not met(ws_a):  # "was v3" shows where the text that sorts later had been v3
        (ws_a, ws_b), first = (ws_b, ws_a), second
    state = ws_a.state(SLUG)
    ws_a.close()
    ws_b.close()
    history = state.history(state.item("1.1"))
    assert any(r.was for r in history)
    energy = state.item("2.1")
    assert state.history(energy)[-1].after_final or state.decisions(energy)[-1].void
    _kept_equals_full(first, capsys)


# Kept data extended by the journal's tail (the fold's checkpoint) --------------------------------

@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each read that found its kept data stale extended it by the journal's tail."""
    yield spy_found(monkeypatch, snapshot, "_extend")


def kept_of(db: Path, viewer: str | None) -> tuple[bytes, bytes]:
    journal = journal_of(db)
    return (snapshot._place(journal, SLUG, viewer).read_bytes(),
            snapshot._place(journal, SLUG, viewer, "readings").read_bytes())


def kept_then_read_in_full(db: Path, viewer: str | None) -> tuple[tuple[bytes, bytes], Any]:
    """The kept files of `viewer` as they are, then every kept file dropped (the key kept) and
    the summit read in full (which keeps anew): what was kept, and the full read's state."""
    kept = kept_of(db, viewer)
    for place in kept_files():
        if place.name != "kept.key":
            place.unlink()
    ws = Workspace(db)
    try:
        return kept, snapshot._full_read(ws, SLUG, viewer)
    finally:
        ws.close()


def writes(db: Path, ops: list[tuple[str, str, int, str]]) -> None:
    for op in ops:
        ws = Workspace(db, clock=TickingClock())
        try:
            apply(ws, *op)
        finally:
            ws.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS, st.sampled_from([None, "IN", "RU"]), st.data())
def test_kept_data_extended_by_any_writes_is_exactly_a_full_read(
        db: Path, capsys: pytest.CaptureFixture[str], extended: list[bool],
        before: list[tuple[str, str, int, str]], after: list[tuple[str, str, int, str]],
        viewer: str | None, data: st.DataObject) -> None:
    """Split any writes anywhere: the data kept at the split, extended by what came after,
    is byte for byte what a full read keeps (every item's reading and fold, the listing, the
    checkpoint), and reads as the full read does."""
    new_workspace_again(db)
    writes(db, before)
    run(db, capsys, "items", *(("--as", viewer) if viewer else ()))  # kept at the split
    writes(db, after)
    ws = Workspace(db)
    try:
        numbers = [i.number for i in ws.state(SLUG, viewer).items]
    finally:
        ws.close()
    pick = data.draw(st.integers(-1, 40))
    # An item when there is one (undoing the writes can leave none), else the listing.
    ref = numbers[pick % len(numbers)] if pick >= 0 and numbers else None
    ws = Workspace(db)  # as a command opens it: nothing read yet
    try:
        extended.clear()
        if ref is None:
            shown: Any = snapshot.items(ws, SLUG, viewer)
        else:
            shown = snapshot.item(ws, SLUG, viewer, ref)
    finally:
        ws.close()
    kept, state = kept_then_read_in_full(db, viewer)
    assert kept_of(db, viewer) == kept
    if ref is None:
        assert shown == snapshot.listing(state)
    else:
        assert shown == snapshot.ItemReading.of(state, state.item(ref))
    assert extended in ([], [True], [False])
    event(f"extended: {extended}")


def test_a_write_then_a_read_extends_instead_of_reading_in_full(
        db: Path, capsys: pytest.CaptureFixture[str], extended: list[bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    fulls: list[str] = []
    real = snapshot._full_read

    def spy(*args: Any) -> Any:
        fulls.append(args[1])
        return real(*args)

    monkeypatch.setattr(snapshot, "_full_read", spy)
    run(db, capsys, "show", "1.1")
    run(db, capsys, "items", "--as", "IN")
    for argv in (("table", "1.1", "--as", "RU", "--text", "The Sides [agree]."),
                 ("table", "2.1", "--as", "IN", "--internal", "--text", "Draft [x]."),
                 ("accept", "1.1", "--as", "IN"), ("note", "2.1", "n", "--as", "RU"),
                 ("retitle", "1.1", "Trade and more")):
        assert run(db, capsys, *argv)[0] == 0, argv
        for read in (("show", "1.1"), ("items", "--as", "IN"), ("history", "2.1", "--as", "IN")):
            answer = full_read(db, capsys, *read)
            extended.clear()
            fulls.clear()
            assert run(db, capsys, *read) == answer, (argv, read)
            assert fulls == [] and extended in ([True], []), (argv, read)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_tampered_journal_is_never_extended(
        db: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    """A changed byte anywhere (before or after the kept point), a cut tail, another file of
    the same size: read as without kept data."""
    journal = journal_of(db)
    argv = data.draw(st.sampled_from([("items",), ("show", "1.1"),
                                      ("history", "2.1", "--as", "IN")]))
    run(db, capsys, *argv)  # kept at this point
    ws = Workspace(db, clock=TickingClock())
    ws.table(SLUG, "1.1", delegation="RU", text="The Sides [agree] again.")
    ws.close()
    grown = journal.read_bytes()
    how = data.draw(st.sampled_from(["byte", "cut", "same size"]))
    if not flip_a_byte_or_cut(data, journal, grown, how):
        first = grown.index(b"\n") + 1
        journal.write_bytes(grown[:first] + grown[first:].replace(b"RU", b"IN"))
    try:
        assert run(db, capsys, *argv) == full_read(db, capsys, *argv)
    finally:
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
        new_workspace_again(db)


def new_workspace_again(db: Path) -> None:
    shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir()
    new_workspace(db)


def test_a_forged_checkpoint_is_ignored(db: Path, capsys: pytest.CaptureFixture[str],
                                        extended: list[bool]) -> None:
    """Vouched by our key but of the wrong shape (a bug, an older version): a full read."""
    place, data = _kept_readings(db, capsys)
    payload = data.partition(b"\n")[2]
    head_bytes, _, body = payload.partition(b"\n")
    head = json.loads(head_bytes)
    key = (snapshot.cache_dir() / "kept.key").read_bytes()
    ws = Workspace(db, clock=TickingClock())
    ws.table(SLUG, "1.1", delegation="RU", text="The Sides [agree] again.")
    ws.close()
    answer = full_read(db, capsys, "show", "1.1")
    point = head["fold"]
    for change in ({"last": "x"}, {"last": [1, "a"]}, {"fields": {"title": 3}},
                   {"genesis": point["heads"][0]}, {"heads": [{"id": "x"}]},
                   {"anchors": {"a": point["genesis"]}}, {"orphans": []}, {"viewer": 5},
                   {"heads": []}, {"last": [10**6, "z", 0, 0, ""]}):
        new = json.dumps({**head, "fold": {**point, **change}}).encode() + b"\n" + body
        place.write_bytes(snapshot._mac(key, new) + b"\n" + new)
        extended.clear()
        assert run(db, capsys, "show", "1.1") == answer, change
        assert extended == [False], change


def test_a_read_as_a_delegation_folds_only_its_own_view(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The delegation is looked up in the genesis, not in a joint view folded for it; a
    refusal still names the summit as it is now."""
    from agenda import workspace

    folded: list[str | None] = []
    real = workspace.fold_all

    def spy(every: Any, viewer: str | None, *args: Any) -> Any:
        folded.append(viewer)
        return real(every, viewer, *args)

    monkeypatch.setattr(workspace, "fold_all", spy)
    ws = Workspace(db, clock=TickingClock())
    try:
        ws.update_details(SLUG, title="Renamed")
        folded.clear()
        ws.close()
        ws = Workspace(db)
        assert ws.state(SLUG, " in ").viewer == "IN"
        assert folded == ["IN"]
        with pytest.raises(AgendaError, match='No delegation .XX. in summit "Renamed"'):
            ws.state(SLUG, "XX")
    finally:
        ws.close()


def test_a_restored_item_fold_has_every_field_a_folded_one_has(db: Path) -> None:
    """A field added to ItemFold must be kept too (else every extension fails quietly, or
    worse): the restored fold is compared field by field with the fold it was kept from."""
    ws = Workspace(db, clock=TickingClock())
    try:
        ws.table(SLUG, "1.1", delegation="RU", text="The Sides [agree].")
        ws.accept(SLUG, "1.1", delegation="IN")
        ws.add_note(SLUG, "1.1", delegation="IN", text="a note")
        state = ws.state(SLUG, "IN")
        fold = ws._summits[SLUG].fold("IN")
    finally:
        ws.close()
    shown = state.items[0]
    kept = fold.items[shown.uuid]
    row = json.loads(orjson_dumps(snapshot._plain(shown, state.views[shown.uuid], kept)))
    restored = snapshot._item_fold(row)
    assert restored is not None
    fields = ItemFold.__slots__
    assert all(hasattr(restored, name) for name in fields)  # every field given
    assert fold.roster is not None
    restored.recompute(fold.roster)  # as Fold.resumed does
    assert restored.status == kept.status
    for name in fields:
        if name not in ("_summit", "_status", "_view", "_item"):  # caches, rebuilt on use
            assert getattr(restored, name) == getattr(kept, name), name


def orjson_dumps(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value)


# Tidying kept files --------------------------------------------------------------------------


def _later(days: float = 2) -> float:
    return time.time() + days * snapshot.PRUNE_EVERY


def test_kept_files_of_a_summit_file_gone_are_removed(
        db: Path, capsys: pytest.CaptureFixture[str], loads: list[bool],
        tmp_path: Path) -> None:
    answer = run(db, capsys, "items")
    run(db, capsys, "show", "1.1", "--as", "IN")
    other = tmp_path / "other" / "ws.json"
    new_workspace(other)
    run(other, capsys, "items")
    ours = set(kept_files())
    tags = [snapshot._tag(str(journal_of(w).resolve())) for w in (db, other)]
    theirs = {p for p in ours if p.name.startswith(tags[1])}
    assert len(theirs) == 2 and len(ours) == 6  # a listing and readings: as IN, as all, theirs
    notes = snapshot.cache_dir() / "journals"
    assert sorted(p.name for p in notes.iterdir()) == sorted(tags)
    locks = [snapshot.keeping_lock(journal_of(w)) for w in (db, other)]
    for lock in locks:  # as a forked keeper or a detached worker leaves them
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.touch()
    shutil.rmtree(other.parent)
    removed = set(snapshot.prune(_later()))
    assert removed == theirs | {notes / tags[1], locks[1]} and locks[0].exists()
    assert set(kept_files()) == ours - theirs and (notes / tags[0]).exists()
    loads.clear()
    assert run(db, capsys, "items") == answer and loads == [True]  # the live ones still serve


def test_kept_files_named_otherwise_and_stale_temporaries_are_removed(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(db, capsys, "items")
    folder = snapshot.cache_dir() / "kept"
    older = folder / (hashlib.sha256(b"an older version's name").hexdigest() + ".json")
    torn = folder / ".something.123.abcd.tmp"
    unnoted = folder / f"{'0' * 32}-{'1' * 64}.json"  # a journal noted after the scan
    for place in (older, torn, unnoted):
        place.write_bytes(b"x")
    kept = set(kept_files()) - {older, torn, unnoted}
    mark = snapshot.cache_dir() / "kept.pruned"
    mark.unlink()  # as if the last tidying were long ago
    assert snapshot.prune() == []  # fresh: a writer may be at work on them
    old = time.time() - 2 * snapshot.STALE_TMP
    for place in (older, torn, unnoted):
        os.utime(place, (old, old))
    mark.unlink()
    assert set(snapshot.prune()) == {older, torn, unnoted}
    assert set(kept_files()) == kept


def test_kept_files_are_tidied_at_most_once_a_day(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(db, capsys, "items")  # a full read that keeps tidies: the day's mark is set
    stray = snapshot.cache_dir() / "kept" / "stray.json"
    stray.write_bytes(b"x")
    old = time.time() - 2 * snapshot.STALE_TMP
    os.utime(stray, (old, old))
    assert snapshot.prune() == [] and stray.exists()
    assert snapshot.prune(_later(0.5)) == [] and stray.exists()
    assert snapshot.prune(_later(1.5)) == [stray]


def test_tidying_a_cache_that_cannot_be_written_is_no_error(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    answer = run(db, capsys, "items")
    journal = journal_of(db)
    run(db, capsys, "show", "1.1")
    stray = snapshot.cache_dir() / "kept" / "stray.json"
    stray.write_bytes(b"x")
    os.utime(stray, (0, 0))

    def refused(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied")

    # A context, not monkeypatch.undo(): that would also undo conftest's isolation of HOME
    # and XDG_*, and the reads after it kept their data in the real user's cache.
    with monkeypatch.context() as patched:
        patched.setattr(os, "unlink", refused)
        assert snapshot.prune(_later()) == []
    assert stray.exists() and run(db, capsys, "items") == answer
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert snapshot.prune(_later()) == []
    assert journal.exists()


def test_a_read_keeps_in_a_forked_child_once_its_output_is_out(db: Path) -> None:
    """`summit items`, `show`, `history` defer their keeping; the script leaves it to a forked
    child holding the keeping lock: the same files as keeping at once."""
    journal = next((db.parent / "ws.summits").iterdir())
    places = [snapshot._place(journal, SLUG, None, kind) for kind in ("listing", "readings")]
    ws = Workspace(db)
    try:
        snapshot.items(ws, SLUG, None)  # kept at once: the reference
    finally:
        ws.close()
    at_once = [p.read_bytes() for p in places]
    for place in places:
        place.unlink()
    snapshot.defer_keeping()
    ws = Workspace(db)
    try:
        shown = snapshot.items(ws, SLUG, None)
    finally:
        ws.close()
    assert not any(p.exists() for p in places)  # nothing until the output is out
    pid = snapshot.finish_keeping(detach=True)
    assert pid is not None
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [p.read_bytes() for p in places] == at_once
    assert snapshot.load(journal, SLUG, None) == shown
    assert snapshot.finish_keeping(detach=True) is None  # nothing deferred any more
    # It kept in the background (agenda.detached), its lock naming it for the next reader.
    assert snapshot.keeping_lock(journal).read_bytes() == b"-\npid=%d\n" % pid


def test_while_another_keeper_works_a_read_keeps_after_it(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keeper past `KEEPER_WAIT` (here one that never finishes): the read reads in full,
    and leaves its keeping to a forked child, which waits for that keeper at most
    `KEEPER_WAIT` and then keeps (its files renamed into place whole); the command does
    not wait for either."""
    import fcntl

    monkeypatch.setattr(snapshot, "KEEPER_WAIT", 0.2)

    journal = next((db.parent / "ws.summits").iterdir())
    place = snapshot.keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(place, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        snapshot.defer_keeping()
        ws = Workspace(db)
        try:
            snapshot.item(ws, SLUG, "RU", "1.1")
        finally:
            ws.close()
        started = time.monotonic()
        pid = snapshot.finish_keeping(detach=True)
        assert pid is not None and time.monotonic() - started < 0.15
        assert snapshot.load(journal, SLUG, "RU") is None  # not yet: the child waits
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert snapshot.load(journal, SLUG, "RU") is not None
    finally:
        os.close(fd)


def test_a_keeper_waiting_for_another_keeps_once_that_one_is_done(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other keeper finishes within `KEEPER_WAIT`: the waiting child takes the keeping
    lock after it, then keeps."""
    import subprocess

    journal = next((db.parent / "ws.summits").iterdir())
    place = snapshot.keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    place.write_bytes(b"-\n")  # it keeps the joint view: the read as IN does not wait for it
    # The other keeper: another process holding the lock until it is stopped (its pipes
    # are inherited by the forked keeper: closing them here would not reach it).
    other = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; "
         "fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
         "print('held', flush=True); time.sleep(60)", str(place)],
        stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None
    assert other.stdout.readline().strip() == "held"
    items_keeping_later(db, "IN")
    pid = snapshot.finish_keeping(detach=True)
    assert pid is not None
    time.sleep(0.1)
    assert snapshot.load(journal, SLUG, "IN") is None  # waiting for the lock
    other.terminate()  # the other keeper is done
    other.wait(timeout=10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert snapshot.load(journal, SLUG, "IN") is not None


KEEPER_IN_THE_BACKGROUND = """
import fcntl, os, sys, time
from agenda import detached, snapshot
detached.background()
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
snapshot.name_kept(fd, [None])
print("held", flush=True)
time.sleep(60 if sys.argv[2] == "starved" else 1.0)  # it gets no CPU; or done in a second
"""


@pytest.mark.parametrize("how", ["starved", "at work"])
def test_a_read_waits_for_a_keeper_in_the_background_only_while_it_runs(
        db: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A keeper at the lowest priority (agenda.detached) on a machine busy with other work
    may not finish for minutes: a read stops waiting for it once it had less than half a
    core over `STARVED_LOOK`, and reads in full. One at work is waited for as before: its
    CPU time is made to grow by a core's worth (a real one at the lowest priority would
    starve whenever the test run shares the machine)."""
    import subprocess

    from agenda import detached

    if how == "at work":
        monkeypatch.setattr(detached, "cpu_seconds", lambda pid: time.monotonic())
    monkeypatch.setattr(snapshot, "KEEPER_WAIT", 30.0)
    journal = next((db.parent / "ws.summits").iterdir())
    place = snapshot.keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    place.write_bytes(b"")
    keeper = subprocess.Popen([sys.executable, "-c", KEEPER_IN_THE_BACKGROUND, str(place), how],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert keeper.stdout is not None and keeper.stdout.readline().strip() == "held"
        assert place.read_bytes() == b"-\npid=%d\n" % keeper.pid
        started = time.monotonic()
        done = snapshot._keeper_done(journal, None)
        waited = time.monotonic() - started
        if how == "starved":
            assert done is False and waited < 5 * snapshot.STARVED_LOOK  # then reads in full
            assert keeper.poll() is None  # still holding its lock
        else:
            assert done is True and 0.5 < waited < 10
    finally:
        keeper.kill()
        keeper.wait()


def test_a_keeper_is_starved_below_half_a_core() -> None:
    assert snapshot._starved((10.0, 1.0), 10.25, 1.0)  # no CPU at all
    assert snapshot._starved((10.0, 1.0), 10.25, 1.1)  # 0.1 s of 0.25
    assert not snapshot._starved((10.0, 1.0), 10.25, 1.2)  # 0.2 s of 0.25
    assert not snapshot._starved((10.0, None), 10.25, 1.0)  # /proc cannot tell
    assert not snapshot._starved((10.0, 1.0), 10.25, None)


def items_keeping_later(db: Path, viewer: str | None) -> dict[str, Any]:
    """`summit items` in this process, its keeping deferred (`defer_keeping`) and not done."""
    snapshot.defer_keeping()
    ws = Workspace(db)
    try:
        return snapshot.items(ws, SLUG, viewer)
    finally:
        ws.close()


def test_a_failed_command_keeps_nothing_later(db: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """What a command that failed deferred is dropped by the next command, not kept then."""
    items_keeping_later(db, "IN")
    code, _, _ = run(db, capsys, "summits")
    assert code == 0
    journal = next((db.parent / "ws.summits").iterdir())
    assert snapshot.load(journal, SLUG, "IN") is None


def test_the_script_keeps_after_its_output_and_after_a_structural_write(
        tmp_path: Path) -> None:
    """End to end, as a person runs it: `summit items` and `summit add` return, and a forked
    child keeps what a full read keeps, for the file as the command left it."""
    import fcntl
    import subprocess

    db = tmp_path / "ws.json"
    new_workspace(db)
    ws = Workspace(db, clock=TickingClock())
    try:  # over snapshot.SERVE_FROM: a structural write on it keeps
        ws.add_items(SLUG, [NewItem(SECTIONS[n % 2], f"Item {n}", "The Sides agree. " * 60)
                            for n in range(300)], delegation="IN")
    finally:
        ws.close()
    journal = next((db.parent / "ws.summits").iterdir())
    assert journal.stat().st_size > snapshot.SERVE_FROM
    script = [sys.executable, "-c", "from agenda.__main__ import script; script()"]

    def summit(*argv: str) -> str:
        done = subprocess.run([*script, *argv, "--db", str(db)], check=True,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120)
        fd = os.open(snapshot.keeping_lock(journal), os.O_RDONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # until the forked keeper is done
        finally:
            os.close(fd)
        return done.stdout

    listed = summit("items", "--json")
    assert snapshot.load(journal, SLUG, None) == {"items": [
        [r[f] for f in snapshot.FIELDS] for r in json.loads(listed)], "empty": []}
    places = [snapshot._place(journal, SLUG, None, kind) for kind in ("listing", "readings")]
    # A move renumbers: the write keeps the data anew. An item added at the end of its
    # section moves nothing: the add reads the joint view's kept data (snapshot.serve_add)
    # and keeps it extended by its own commit.
    for argv in (("move", "1.2", "--section", "Two", "--position", "1", "--as", "IN"),
                 ("add", "--as", "IN", "--section", "One", "--title", "One more", "--text",
                  "Words.")):
        before = [p.read_bytes() for p in places]
        assert summit(*argv) == ("2.1\n" if argv[0] == "move" else "1.151\n")
        by_the_write = [p.read_bytes() for p in places]
        assert by_the_write != before
        for place in places:
            place.unlink()
        ws = Workspace(db)
        try:
            snapshot.items(ws, SLUG, None)  # a full read of the file as the write left it
        finally:
            ws.close()
        assert [p.read_bytes() for p in places] == by_the_write


def test_a_read_waits_for_the_keeper_at_work_rather_than_read_in_full(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command before left its keeping to a child still at work: the next read waits for
    it and reads what it kept, not the whole journal beside it."""
    import fcntl

    journal = next((db.parent / "ws.summits").iterdir())
    place = snapshot.keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(place, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    pid = os.fork()
    if pid == 0:  # the keeper: slow to start, then keeps and lets go
        try:
            snapshot.holding_keeping()
            time.sleep(0.3)
            ws = Workspace(db)
            snapshot.items(ws, SLUG, None)
            ws.close()
        finally:
            os._exit(0)
    os.close(fd)  # the child holds the lock
    full_reads: list[str | None] = []
    real = snapshot._full_read

    def spy(ws: Workspace, slug: str, viewer: str | None, read: Any = None) -> Any:
        full_reads.append(viewer)
        return real(ws, slug, viewer, read)

    monkeypatch.setattr(snapshot, "_full_read", spy)
    ws = Workspace(db)
    try:
        shown = snapshot.items(ws, SLUG, None)
        assert snapshot.item(ws, SLUG, None, "1.1").number == "1.1"
    finally:
        ws.close()
    os.waitpid(pid, 0)
    assert full_reads == []
    assert shown == snapshot.load(journal, SLUG, None)


def test_a_read_waits_only_for_a_keeper_that_may_keep_its_viewer(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The keeping lock names whose data its keeper keeps: a read or a write of another
    viewer does not wait for it (a `table` as RU right after an `items` that kept the joint
    view); one of a viewer it names, or of any when it names none, waits as before."""
    monkeypatch.setattr(snapshot, "KEEPER_WAIT", 0.05)
    journal = journal_of(db)
    waited: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(snapshot.time, "sleep", sleep)

    def waits(viewer: str | None = snapshot._ANY) -> bool:
        waited.clear()
        assert snapshot._keeper_done(journal, viewer) is False  # the keeper never finishes
        return bool(waited)

    for named, kept_for, not_for in (([None], [None, snapshot._ANY], ["RU", "IN"]),
                                     (["ru", None], ["RU", " ru", None], ["IN"]),
                                     (None, ["RU", None, snapshot._ANY], [])):
        fd = snapshot._take_keeping(journal, named)
        assert fd is not None
        try:
            assert [waits(v) for v in kept_for] == [True] * len(kept_for)
            assert [waits(v) for v in not_for] == [False] * len(not_for)
        finally:
            os.close(fd)
    # A lock held by a keeper that named nothing (an older version): waited for by all.
    import fcntl

    fd = os.open(snapshot.keeping_lock(journal), os.O_RDWR | os.O_TRUNC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert waits("RU") and waits(None)
        # End to end: a write as RU reads in full at once beside a keeper of the joint view.
        os.pwrite(fd, b"-\n", 0)
        waited.clear()
        code, out, _ = run(db, capsys, "table", "1.1", "--as", "RU", "--text", "The Sides met.")
        assert (code, out.split()[:2], waited) == (0, ["v2", "tabled"], [])
    finally:
        os.close(fd)


@pytest.mark.parametrize("write", ["table", "move"])
def test_a_read_that_can_extend_its_own_data_does_not_wait_for_a_keeper(
        db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        write: str) -> None:
    """A keeper at work (here: the keeping lock held) may be keeping another viewer's data:
    a read whose own kept data extends by the tail reads it without waiting, and reads and
    keeps what a full read does; one whose tail is structural waits for the keeper."""
    import fcntl

    run(db, capsys, "show", "1.1")  # the joint view's data kept
    ws = Workspace(db, clock=TickingClock())
    try:
        if write == "table":
            ws.table(SLUG, "1.1", delegation="RU", text="The Sides [agree] again.")
        else:
            ws.move_item(SLUG, "1.1", section=SECTIONS[1], position=1, actor="IN")
    finally:
        ws.close()
    ref = "1.1" if write == "table" else "2.1"
    asked: list[Path] = []

    def keeper_done(journal: Path, viewer: str | None = "*") -> bool:
        asked.append(journal)
        return False  # the keeper gave up: the read goes on as without one

    monkeypatch.setattr(snapshot, "_keeper_done", keeper_done)
    journal = journal_of(db)
    place = snapshot.keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(place, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        ws = Workspace(db)
        try:
            shown = snapshot.item(ws, SLUG, None, ref)
        finally:
            ws.close()
    finally:
        os.close(fd)
    assert asked == ([] if write == "table" else [journal])
    kept, state = kept_then_read_in_full(db, None)
    assert shown == snapshot.ItemReading.of(state, state.item(ref))
    assert kept_of(db, None) == kept


@pytest.mark.parametrize("then", ["add", "add twice and table", "import", "move then add"])
def test_an_item_added_at_the_end_of_a_section_extends_the_kept_data(
        db: Path, capsys: pytest.CaptureFixture[str], extended: list[bool], then: str) -> None:
    """`summit add` puts its item after its section's last: no other item moves, so the kept
    data extends by it (the new rows made as a full read makes them, in their place); an item
    added to a section with no kept row, or after a move, goes to the full read."""
    run(db, capsys, "items")  # the joint view's data kept
    extended.clear()
    ws = Workspace(db, clock=TickingClock())
    try:
        if then == "move then add":
            ws.move_item(SLUG, "2.1", section=SECTIONS[0], position=1, actor="IN")
        adds = 2 if then != "add" else 1
        for n in range(adds):
            ws.add_item(SLUG, section=SECTIONS[n % 2], title=f"New {n}", text=f"Text [{n}].",
                        delegation="RU" if n else "IN")
        if then == "add twice and table":
            ws.table(SLUG, "1.2", delegation="RU", text="The [Sides] agree.")
        if then == "import":
            ws.add_items(SLUG, [NewItem(SECTIONS[n % 2], f"Imported {n}", "Words.")
                                for n in range(3)], delegation="IN")
    finally:
        ws.close()
    ws = Workspace(db)
    try:
        shown = snapshot.item(ws, SLUG, None, "1.2")
        listed = snapshot.items(ws, SLUG, None)
    finally:
        ws.close()
    assert extended == [then != "move then add"]
    kept, state = kept_then_read_in_full(db, None)
    assert shown == snapshot.ItemReading.of(state, state.item("1.2"))
    assert listed == snapshot.listing(state)
    assert kept_of(db, None) == kept
