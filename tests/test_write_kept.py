"""A write on one item served from the kept checkpoint (snapshot.serve) is the write after a
full read: the same journal bytes, record ids, events and refusals, whatever came before."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import spy_found
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_snapshot import SECTIONS, SLUG, new_workspace

from agenda import snapshot
from agenda import workspace as workspace_module
from agenda.importer import import_markdown
from agenda.model import AgendaError, Code, Delegation, Status
from agenda.workspace import NewItem, Workspace


class Clock:
    """The same minutes for the same operation, in either workspace."""

    def __init__(self, step: int) -> None:
        self.moment = datetime(2022, 3, 1, tzinfo=UTC) + timedelta(hours=step)

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=1)
        return self.moment


@pytest.fixture
def uuids(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Event uuids numbered from what the test sets before each operation."""
    counter = [0]

    def numbered() -> str:
        counter[0] += 1
        return f"00000000-0000-4000-8000-{counter[0]:012x}"

    monkeypatch.setattr(workspace_module, "new_uuid", numbered)
    monkeypatch.setattr(snapshot, "SERVE_FROM", 0)  # every summit here is small
    return counter


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each write that asked found kept data to serve it."""
    yield spy_found(monkeypatch, snapshot, "serve")


WRITES = ["table", "draft", "noc", "sup", "base", "accept", "accept v1", "note", "defer",
          "resume", "withdraw", "final"]
# An item added goes at the end of its section (its checkpoints extend by it, unless the
# section is empty); a move places one anywhere (they are kept anew).
OTHERS = ["add", "add", "add many", "retitle", "move", "move", "details", "undo", "read",
          "read", "forget", "tamper-kept"]
OPS = st.lists(st.tuples(
    st.sampled_from(WRITES * 3 + OTHERS), st.sampled_from(["IN", "RU", "ru", "XX", ""]),
    st.sampled_from(["1.1", "1.2", "2.1", "9.9", " 1.1"]), st.text("ab[] ", max_size=8)),
    min_size=1, max_size=10)


def act(ws: Workspace, op: str, side: str, ref: str, text: str) -> Any:
    """One operation; what it returned, or its refusal's words."""
    body = f"Text {text}."
    try:
        if op in ("table", "draft", "noc", "sup", "base"):
            code = {"noc": Code.NOC, "sup": Code.SUP}.get(op, Code.MOD)
            return ws.table(SLUG, ref, delegation=side, text=None if op == "noc" else body,
                            code=code, internal=op == "draft",
                            base="v1" if op == "base" else None)
        if op.startswith("accept"):
            return ws.accept(SLUG, ref, delegation=side, revision=op[7:] or None)
        if op == "note":
            return ws.add_note(SLUG, ref, delegation=side, text=body)
        if op in ("defer", "resume", "withdraw", "final"):
            status = {"defer": Status.DEFERRED, "resume": Status.NEGOTIATING,
                      "withdraw": Status.WITHDRAWN, "final": Status.FINAL}[op]
            return ws.set_status(SLUG, ref, status, actor=side)
        if op == "add":
            return ws.add_item(SLUG, section=SECTIONS[len(text) % 2], title=f"Item {text}x",
                               text=body, delegation=side)
        if op == "add many":  # more than the summit holds: written without a fold
            return ws.add_items(SLUG, [NewItem(SECTIONS[n % 2], f"Many {n} {text}x", body)
                                       for n in range(40)], delegation=side)
        if op == "retitle":
            return ws.retitle_item(SLUG, ref, f"Title {text}y", actor=side)
        if op == "move":  # to the start, the middle or the end of a section (or refused)
            return ws.move_item(SLUG, ref, section=SECTIONS[len(text) % 2],
                                position=(1, 2, None)[len(text) % 3], actor=side)
        if op == "details":
            ws.update_details(SLUG, title=f"Summit {text}z", actor=side)
            return None
        if op == "undo":
            return ws.undo(SLUG, side or None).what
    except AgendaError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError(op)


def files(db: Path) -> list[bytes]:
    return [db.read_bytes(), *(p.read_bytes() for p in sorted(db.parent.glob("*.summits/*")))]


def kept_folder() -> Path:
    return snapshot.cache_dir() / "kept"


def run_both(full: Path, fast: Path, uuids: list[int], step: int,
             op: str, side: str, ref: str, text: str, *, later: bool = False) -> None:
    """The operation on `full` read in full and on `fast` with serving on: the same. `later`:
    `fast` keeps after the operation, as the `summit` script does (`defer_keeping`)."""
    if op == "read":
        ws = Workspace(fast)
        try:
            snapshot.items(ws, SLUG, side or None)
        except AgendaError:
            pass  # an unknown viewer: refused, nothing kept
        finally:
            ws.close()
        return
    if op == "forget":
        shutil.rmtree(kept_folder(), ignore_errors=True)
        return
    if op == "tamper-kept":
        for place in kept_folder().glob("*.json"):
            data = bytearray(place.read_bytes())
            data[len(data) // 2] ^= 1
            place.write_bytes(bytes(data))
        return
    outcomes = []
    for db, serving in ((full, False), (fast, True)):
        uuids[0] = step * 1000
        ws = Workspace(db, clock=Clock(step))
        if serving:
            ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
            ws.keep_changed, ws.serve_add = snapshot.keep_changed, snapshot.serve_add
            if later:  # as cli._keeping_later
                snapshot.defer_keeping()
                ws.fold_later = True
        try:
            outcomes.append(act(ws, op, side, ref, text))
        finally:
            ws.close()
            if serving and later:
                snapshot.finish_keeping(detach=False)
    assert outcomes[0] == outcomes[1], (op, side, ref)
    assert files(full) == files(fast), (op, side, ref)
    assert kept_now(fast) == kept_by_a_full_read(fast), (op, side, ref)


def kept_now(db: Path, slug: str = SLUG) -> dict[str, bytes]:
    """The kept files (HMAC aside) of each viewer whose readings name the journal as it is."""
    journal = next(db.parent.glob("*.summits/*"))
    raw = journal.read_bytes()
    found = {}
    for viewer in (None, "IN", "RU"):
        places = [snapshot._place(journal, slug, viewer, kind) for kind in
                  ("listing", "readings")]
        vouched = [snapshot._vouched(p) for p in places]  # tampered: ignored by readers
        payloads = [p for p in vouched if p is not None]
        if len(payloads) != len(places):
            continue
        head = orjson.loads(payloads[1].partition(b"\n")[0])
        if head["size"] == len(raw) and head["sha256"] == hashlib.sha256(raw).hexdigest():
            found.update(zip((p.name for p in places), payloads, strict=True))
    return found


def kept_by_a_full_read(db: Path, slug: str = SLUG) -> dict[str, bytes]:
    """What a full read of each of those viewers keeps, in a cache folder of its own."""
    wanted = kept_now(db, slug)
    before = os.environ["XDG_CACHE_HOME"]
    os.environ["XDG_CACHE_HOME"] = str(db.parent.parent / "cache-of-full-reads")
    try:
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
        journal = next(db.parent.glob("*.summits/*"))
        for viewer in (None, "IN", "RU"):
            if snapshot._place(journal, slug, viewer).name in wanted:
                ws = Workspace(db)
                try:
                    snapshot._full_read(ws, slug, viewer)
                finally:
                    ws.close()
        return {name: place.read_bytes().partition(b"\n")[2]
                for name in wanted if (place := snapshot.cache_dir() / "kept" / name).exists()}
    finally:
        shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
        os.environ["XDG_CACHE_HOME"] = before


def pair(tmp: Path) -> tuple[Path, Path]:
    full = tmp / "full" / "ws.json"
    full.parent.mkdir(parents=True)
    new_workspace(full, ("Trade", "Energy [corridor]", "Space"))
    fast = tmp / "fast" / "ws.json"
    shutil.copytree(full.parent, fast.parent)
    return full, fast


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS)
def test_a_served_write_is_the_write_after_a_full_read(
        tmp_path_factory: pytest.TempPathFactory, uuids: list[int],
        first: list[tuple[str, str, str, str]], then: list[tuple[str, str, str, str]]) -> None:
    full, fast = pair(tmp_path_factory.mktemp("w"))
    for step, op in enumerate([*first, *then]):
        run_both(full, fast, uuids, step, *op)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, OPS)
def test_a_write_keeping_after_its_output_keeps_what_a_full_read_keeps(
        tmp_path_factory: pytest.TempPathFactory, uuids: list[int],
        first: list[tuple[str, str, str, str]], then: list[tuple[str, str, str, str]]) -> None:
    """As `summit table`, a note or a status keep (`defer_keeping`, `fold_later`): the bytes
    read under the lock hashed, the viewer's fold and state made, only once the output is
    out; a write read in full reads its item alone (`state.narrowed_alone`)."""
    full, fast = pair(tmp_path_factory.mktemp("w"))
    for step, op in enumerate([*first, *then]):
        run_both(full, fast, uuids, step, *op, later=True)


def test_kept_after_the_output_names_the_bytes_the_write_left(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    """A write read in full keeps later, after another process wrote: what it keeps names the
    file as its own commit left it (not as it is then), so the next write is served from it,
    extended by the other's commit, and keeps what a full read keeps."""
    full, fast = pair(tmp_path)
    for db in (full, fast):
        uuids[0] = 0
        ws = Workspace(db, clock=Clock(0))
        ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
        snapshot.defer_keeping()
        ws.fold_later = True
        try:
            ws.table(SLUG, "1.1", delegation="RU", text="Text a.", code=Code.MOD)
        finally:
            ws.close()
        uuids[0] = 1000
        ws = Workspace(db, clock=Clock(1))  # another process, before the keeping
        try:
            ws.table(SLUG, "1.2", delegation="IN", text="Text b.", code=Code.MOD)
        finally:
            ws.close()
        snapshot.finish_keeping(detach=False)
        if db == fast:
            break
        shutil.rmtree(kept_folder(), ignore_errors=True)
    assert served == [False, False]
    assert kept_now(fast) == {}  # it names the bytes before IN's commit
    run_both(full, fast, uuids, 2, "table", "RU", "1.1", "c")
    assert served == [False, False, True]
    assert kept_now(fast) == kept_by_a_full_read(fast) != {}


def test_a_write_read_in_full_hashes_the_bytes_it_read_and_appended(
        tmp_path: Path, uuids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that keeps after its output and read the file in full does not read it again
    to name it: its keeper hashes the bytes the journal read and the line it appended
    (`Journal.written_later`), which are the file's."""
    _, fast = pair(tmp_path)
    journal = next(fast.parent.glob("*.summits/*"))
    named: list[Any] = []
    real = Workspace.written_bytes_later

    def spy(self: Workspace, slug: str) -> Any:
        named.append(real(self, slug))
        return named[-1]

    monkeypatch.setattr(Workspace, "written_bytes_later", spy)
    reads: list[Path] = []
    real_read = snapshot.read_file
    monkeypatch.setattr(snapshot, "read_file",
                        lambda path, *a: reads.append(Path(path)) or real_read(path, *a))
    for step, side in enumerate(("RU", "IN")):
        ws = Workspace(fast, clock=Clock(step))
        ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
        snapshot.defer_keeping()
        ws.fold_later = True
        try:
            reads.clear()
            ws.table(SLUG, "1.1", delegation=side, text=f"Text {step}.", code=Code.MOD)
            assert reads == [journal]  # `serve`'s, under the lock: read once, not again
            raw = journal.read_bytes()
            assert len(named) == step + 1 and named[-1] is not None
            assert named[-1]() == (len(raw), hashlib.sha256(raw).hexdigest())
        finally:
            ws.close()
            snapshot.finish_keeping(detach=False)
        assert kept_now(fast) == kept_by_a_full_read(fast) != {}


def test_writes_are_served_once_a_write_kept_the_checkpoint(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    full, fast = pair(tmp_path)
    ops = [("table", "RU", "1.1", "a"), ("draft", "RU", "1.1", "b"), ("note", "RU", "1.1", ""),
           ("accept", "IN", "1.1", ""), ("table", "IN", "1.2", "c"),
           ("accept", "RU", "1.2", ""), ("defer", "IN", "2.1", ""),
           ("resume", "IN", "2.1", ""), ("table", "RU", "1.1", "[d]"),
           ("table", "RU", "9.9", ""), ("table", "XX", "1.1", ""),
           ("accept", "RU", "1.1", "")]
    for step, op in enumerate(ops):
        run_both(full, fast, uuids, step, *op)
    # The first write of each side (and of the joint view) reads in full and keeps; the
    # rest are served, but for the refusals, which the full read words.
    assert served == [False, True, True, False, True, True, False, True, True, False, False,
                      True]


def test_a_structural_write_keeps_the_checkpoints_it_made_stale(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    full, fast = pair(tmp_path)
    ops = [("table", "RU", "1.1", "a"), ("add", "IN", "", "new"), ("table", "RU", "1.1", "b"),
           ("move", "IN", "1.1", "c"), ("table", "RU", "2.1", "c"),
           ("add many", "IN", "", ""), ("table", "RU", "1.1", "d"),
           ("retitle", "RU", "2.1", ""), ("table", "IN", "2.1", "e")]
    for step, op in enumerate(ops):
        run_both(full, fast, uuids, step, *op)
    # RU's checkpoint, made stale by each structural write, is kept anew by it: served. IN
    # never read, so none is kept for it: its first write reads in full.
    assert served == [False, True, True, True, False]
    journal = next(fast.parent.glob("*.summits/*"))
    assert snapshot._place(journal, SLUG, None).exists()  # the joint view: always kept


def test_an_item_added_is_served_from_the_joint_view_checkpoint(
        tmp_path: Path, uuids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """`summit add` reads the joint view's checkpoint (snapshot.serve_add) once it is kept:
    the same journal bytes, item and refusals as after a full read, and the checkpoint kept
    anew by it is what a full read keeps (run_both checks each)."""
    found = spy_found(monkeypatch, snapshot, "serve_add")
    full, fast = pair(tmp_path)
    ops = [("add", "IN", "", "a"), ("read", "", "", ""), ("add", "IN", "", "bb"),
           ("add", "RU", "", "c"), ("table", "RU", "1.3", "d"), ("add", "XX", "", "e"),
           ("move", "IN", "1.1", "f"), ("add", "IN", "", "g"), ("read", "", "", ""),
           ("add", "ru", "", "hh")]
    for step, op in enumerate(ops):
        run_both(full, fast, uuids, step, *op)
    # Nothing kept for the joint view at first; then served, but after the move (a
    # structural write keeps the joint view anew: served again).
    assert found == [False, True, True, True, True, True]
    # Once the only item of "Two" moved to "One", an item added to the empty "Two" is read
    # in full (the checkpoints would not extend by it), which keeps the joint view anew
    # (`keep_changed`): the next add is served.
    found.clear()
    full, fast = pair(tmp_path / "empty")
    ops = [("read", "", "", ""), ("move", "IN", "2.1", "ab"), ("add", "IN", "", "j"),
           ("add", "IN", "", "k")]
    for step, op in enumerate(ops):
        run_both(full, fast, uuids, step, *op)
    assert found == [False, True]
    journal = next(fast.parent.glob("*.summits/*"))
    assert snapshot._place(journal, SLUG, None).name in kept_now(fast)


def test_without_the_hook_a_structural_write_keeps_nothing(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    """The app holds its summits in memory and never pays for keeping: no hook, no files."""
    _, fast = pair(tmp_path)
    ws = Workspace(fast, clock=Clock(0))
    try:
        ws.add_item(SLUG, section=SECTIONS[0], title="New", text="Text.", delegation="IN")
    finally:
        ws.close()
    assert not list(kept_folder().glob("*.json"))


def rewrite_line(journal: Path, change: Callable[[bytes], bytes]) -> None:
    """A commit line changed and its checksum made good again: damage no crc32 catches."""
    lines = journal.read_bytes().split(b"\n")
    at = next(n for n, line in enumerate(lines) if change(line) != line)
    payload = change(lines[at][9:])
    lines[at] = b"%08x " % zlib.crc32(payload) + payload
    journal.write_bytes(b"\n".join(lines))


def test_a_journal_changed_under_kept_data_is_read_in_full_and_refused(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    full, fast = pair(tmp_path)
    run_both(full, fast, uuids, 0, "table", "RU", "1.1", "a")
    for db in (full, fast):
        journal = next(db.parent.glob("*.summits/*"))
        rewrite_line(journal, lambda payload: payload.replace(b"Energy", b"Enerxy", 1))
    run_both(full, fast, uuids, 1, "table", "RU", "1.1", "b")
    assert served == [False, False]
    ws = Workspace(fast)
    try:
        with pytest.raises(AgendaError, match="does not match its content"):
            ws.table(SLUG, "1.1", delegation="RU", text="c")
    finally:
        ws.close()


def test_a_forged_checkpoint_is_ignored(tmp_path: Path, uuids: list[int],
                                        served: list[bool]) -> None:
    full, fast = pair(tmp_path)
    run_both(full, fast, uuids, 0, "table", "RU", "1.1", "a")
    for place in kept_folder().glob("*.json"):
        mac, _, payload = place.read_bytes().partition(b"\n")
        head, _, rest = payload.partition(b"\n")
        doc = orjson.loads(head)
        if doc.get("kind") == "readings":
            doc["fold"]["journal"] = [1, 0]  # a compaction hidden: refused by its HMAC
            place.write_bytes(mac + b"\n" + orjson.dumps(doc) + b"\n" + rest)
    run_both(full, fast, uuids, 1, "table", "RU", "1.1", "b")
    assert served == [False, False]


def test_a_compaction_due_is_left_to_the_full_read(
        tmp_path: Path, uuids: list[int], served: list[bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    full, fast = pair(tmp_path)
    run_both(full, fast, uuids, 0, "table", "RU", "1.1", "a")
    monkeypatch.setattr(workspace_module.Journal, "compaction_due",
                        lambda self, superseded=0: True)
    ws = Workspace(fast, clock=Clock(1))
    ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
    try:
        assert snapshot.serve(ws, SLUG, "RU", "1.1") is None
    finally:
        ws.close()


AGENDA = """# Summit

## Trade

- Tariffs: the Sides agree to lower [tariffs] on {n} goods.
- Customs: the Sides agree on one window.

## Energy

- Corridor: the Sides agree on the [northern] corridor.
"""


def wait_for_keeper() -> None:
    """Until no detached keeper (snapshot._spawn_keeper) holds a keeping lock; then the
    workers, children of this process here (of the command, in the CLI, which leaves them
    to init), are reaped, so that no later test finds a child it did not start."""
    for place in (snapshot.cache_dir() / "keeping").glob("*.lock"):
        fd = os.open(place, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            os.close(fd)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def test_an_import_keeps_what_a_full_read_keeps(
        tmp_path: Path, uuids: list[int], served: list[bool]) -> None:
    """Into a new summit (written out as it is made, then read again to keep) and into an
    existing one (its folds extended): the kept files are what a full read keeps, and the
    next write as a side whose checkpoint the import made stale is served."""
    db = tmp_path / "ws.json"

    def imported(text: str, **where: Any) -> None:
        ws = Workspace(db, create=True, clock=Clock(len(text)))
        ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
        ws.keep_changed = snapshot.keep_changed
        try:
            import_markdown(ws, text, delegation="IN", **where)
        finally:
            ws.close()

    imported(AGENDA.format(n=3), delegations=[Delegation("IN", "India"),
                                              Delegation("RU", "Russia")], new_slug=SLUG)
    wait_for_keeper()  # written out as it was made: read again and kept by a worker
    assert set(kept_now(db)) == {snapshot._place(next(db.parent.glob("*.summits/*")), SLUG,
                                                 viewer, kind).name
                                 for kind in ("listing", "readings")
                                 for viewer in (None, "IN", "RU")}
    assert kept_now(db) == kept_by_a_full_read(db)
    ws = Workspace(db, clock=Clock(1))
    ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
    try:
        ws.table(SLUG, "1.1", delegation="RU", text="The Sides agree.")  # served
    finally:
        ws.close()
    shutil.rmtree(kept_folder())
    ws = Workspace(db, clock=Clock(2))
    ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
    try:
        ws.table(SLUG, "1.1", delegation="RU", text="The Sides agree again.")  # keeps RU's
    finally:
        ws.close()
    imported(AGENDA.format(n=4) + "- Grid: the Sides agree to link their grids.\n", slug=SLUG)
    # The joint view's, which had none, for the file as it is now; RU's extends by the
    # import (each item added at the end of its section): kept anew by the write it serves.
    assert len(kept_now(db)) == 2
    assert kept_now(db) == kept_by_a_full_read(db)
    ws = Workspace(db, clock=Clock(3))
    ws.serve, ws.keep_written = snapshot.serve, snapshot.keep_written
    try:
        ws.table(SLUG, "2.1", delegation="RU", text="The Sides agree once more.")
    finally:
        ws.close()
    assert served == [True, False, True]
    journal = next(db.parent.glob("*.summits/*"))
    assert set(kept_now(db)) == {snapshot._place(journal, SLUG, "RU", kind).name
                                 for kind in ("listing", "readings")}  # extended, kept anew
    assert kept_now(db) == kept_by_a_full_read(db)
