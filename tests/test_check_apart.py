"""Record ids hashed by a forked process while the reader parses and decodes the same bytes
(journal.py's `check_apart`, records.py's `decode_all(docs, checked)`): the same records, the
same refusals, no child left behind, no fork beside a running thread."""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import shutil
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import TickingClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_snapshot import OPS, SLUG, apply, new_workspace, run
from test_write_kept import rewrite_line

from agenda import journal as journal_module
from agenda import records, snapshot
from agenda.model import Code
from agenda.workspace import Workspace


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every journal read whole has a checker (CHECK_APART_FROM 0); whether each started."""
    monkeypatch.setattr(journal_module, "CHECK_APART_FROM", 0)
    monkeypatch.setattr(journal_module, "_core_free", lambda *_: True)  # whatever else runs
    monkeypatch.setattr(journal_module, "_memory_for", lambda size: True)
    seen: list[bool] = []
    real = journal_module._Checker.start

    def start(*args: Any) -> Any:
        checker = real(*args)
        seen.append(checker is not None)
        return checker

    monkeypatch.setattr(journal_module._Checker, "start", staticmethod(start))
    return seen


def written(tmp_path: Path) -> Path:
    db = tmp_path / "ws.json"
    new_workspace(db)
    ws = Workspace(db, clock=TickingClock())
    try:
        ws.table(SLUG, "1.1", delegation="RU", text="The [Sides] agree.", code=Code.MOD)
        ws.table(SLUG, "1.1", delegation="IN", text="The Sides agree.", code=Code.MOD,
                 internal=True)
        ws.add_note(SLUG, "2.1", delegation="RU", text="A note.")
    finally:
        ws.close()
    return db


def read(db: Path, viewer: str | None, apart: bool,
         monkeypatch: pytest.MonkeyPatch) -> Any:
    """A command's whole read (`identify`, as snapshot.py's): what it shows, or its refusal."""
    with monkeypatch.context() as m:
        if not apart:
            m.setattr(journal_module, "CHECK_APART_FROM", 1 << 62)
        ws = Workspace(db)
        try:
            state = ws.state(SLUG, viewer, identify=True)
            return state.items, dict(state.views), state.summit, state.events
        except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
            return type(exc).__name__, str(exc)
        finally:
            ws.close()


def no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("viewer", [None, "IN", "RU"])
def test_a_read_checked_apart_is_the_read_that_hashes_every_id(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch,
        viewer: str | None) -> None:
    db = written(tmp_path)
    assert read(db, viewer, True, monkeypatch) == read(db, viewer, False, monkeypatch)
    assert started == [True] and no_child_left()


@pytest.mark.parametrize("damage", [
    lambda payload: payload.replace(b"A note.", b"A nose.", 1),  # content, id kept
    lambda payload: payload.replace(b'"id":"', b'"id":"0', 1).replace(b'","record"', b'"'
                                                                      b',"record"', 1),
])
def test_a_forged_record_is_refused_in_the_same_words(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch,
        damage: Any) -> None:
    db = written(tmp_path)
    rewrite_line(next((tmp_path / "ws.summits").iterdir()), damage)
    refused = read(db, None, True, monkeypatch)
    assert refused == read(db, None, False, monkeypatch)
    assert refused[0] in ("RecordError", "AgendaError", "StoreError"), refused
    assert started == [True] and no_child_left()


def test_no_fork_beside_a_running_thread(tmp_path: Path, started: list[bool],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread (the app's workers) would be missing in the child: every id hashed here."""
    db = written(tmp_path)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert read(db, "RU", True, monkeypatch) == read(db, "RU", False, monkeypatch)
    finally:
        stop.set()
        worker.join()
    assert started == [False]


def test_a_checker_not_asked_is_stopped_and_reaped(tmp_path: Path, started: list[bool]) -> None:
    db = written(tmp_path)
    journal = journal_module.Journal(next((tmp_path / "ws.summits").iterdir()),
                                     Workspace(db).lock)
    journal.check_apart = records.checked_apart
    journal.load()
    journal.load()  # loaded: no second read
    assert started == [True] and journal._checker is not None
    assert journal.ids_checked(whole=False) is None and no_child_left()


def journal_docs(tmp_path: Path) -> list[Any]:
    journal = journal_module.Journal(next((tmp_path / "ws.summits").iterdir()),
                                     Workspace(tmp_path / "ws.json").lock)
    journal.load()
    return list(journal.logs["records"])


def decoded(docs: list[Any], checked: Any = None) -> Any:
    try:
        return [vars(r) for r in records.decode_all(docs, checked)]
    except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
        return type(exc).__name__, str(exc)


CHANGES = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(
    ["id", "id-case", "no-id", "id-type", "content", "kind", "not-a-dict", "deps-type",
     "scope", "lamport-type"])), max_size=4)
# A wrong shape under a good id (the id made again for it): only the shapes' check finds it.
SHAPES = {"deps-type": ("deps", "x"), "scope": ("scope", "team:XX"),
          "lamport-type": ("lamport", "7")}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CHANGES)
def test_decoding_with_ids_checked_apart_is_decoding_that_hashes_them(
        tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[int, str]]) -> None:
    """Any damage: `decode_all(docs, checked)` with the verdict `checked_apart` gives (or a
    verdict that cannot tell, False) is `decode_all(docs)`: the same records or refusal."""
    tmp = tmp_path_factory.mktemp("apart")
    written(tmp)
    docs = copy.deepcopy(journal_docs(tmp))
    for at, change in changes:
        doc = docs[at % len(docs)]
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            continue  # already made unreadable
        if change == "id":
            doc["id"] = ("0" if doc["id"][0] != "0" else "1") + doc["id"][1:]
        elif change == "id-case":
            doc["id"] = doc["id"].upper()
        elif change == "no-id":
            doc.pop("id", None)
        elif change == "id-type":
            doc["id"] = 7
        elif change == "content" and isinstance(doc.get("record"), dict):
            lamport = doc["record"].get("lamport")  # a shape's change may have made it a str
            doc["record"]["lamport"] = lamport + 1 if isinstance(lamport, int) else 1
        elif change == "kind" and isinstance(doc.get("record"), dict):
            doc["record"]["kind"] = "no.such.kind"
        elif change in SHAPES and isinstance(doc.get("record"), dict):
            name, value = SHAPES[change]
            doc["record"][name] = value
            doc["id"] = hashlib.sha256(orjson.dumps(
                doc["record"], option=orjson.OPT_SORT_KEYS)).hexdigest()
            assert records.checked_apart(docs) is None
        else:
            docs[at % len(docs)] = orjson.loads(b'"a string"')
    expected = decoded(docs)
    assert decoded(docs, lambda: records.checked_apart(docs) is not None) == expected
    assert decoded(docs, lambda: False) == expected
    if records.checked_apart(docs) is not None:  # what a reader told so takes as it is
        shaped = records.decode_trusting(docs, shaped=True)
        assert shaped is not None and [vars(r) for r in shaped] == expected


def test_no_fork_without_a_free_core(tmp_path: Path, started: list[bool],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On one core, or with every core busy (a keeper of the command before still at work),
    the child's parse would come on top of the reader's: every id is hashed here."""
    db = written(tmp_path)
    monkeypatch.setattr(journal_module, "_core_free", lambda *_: False)
    assert read(db, None, True, monkeypatch) == read(db, None, False, monkeypatch)
    assert started == [False]


@pytest.mark.parametrize(("cores", "loadavg", "free"), [
    (2, b"0.50 0.40 0.30 1/312 4242\n", True),  # this process alone running
    (2, b"1.50 0.40 0.30 2/312 4242\n", False),  # another task on the other core
    (4, b"2.00 2.00 2.00 3/312 4242\n", True),
    (1, b"0.00 0.00 0.00 1/312 4242\n", False),  # one core
    (2, None, True),  # no /proc: assumed free
    (2, b"garbled", True),
])
def test_a_core_is_free_when_fewer_tasks_run_than_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, loadavg: bytes | None,
        free: bool) -> None:
    place = tmp_path / "loadavg"
    if loadavg is not None:
        place.write_bytes(loadavg)
    monkeypatch.setattr(journal_module, "_LOADAVG", str(place))
    monkeypatch.setattr(journal_module, "_cores", lambda: cores)
    assert journal_module._core_free() is free


BUSY = """
import os, sys
from agenda import detached
if sys.argv[1] == "background":
    detached.background()
print(os.nice(0), flush=True)
while True:
    pass
"""


@pytest.fixture
def busy() -> Iterator[Callable[[str], int]]:
    """Start a process that keeps a core busy, in a session of its own, in the background or
    not; its pid once it is busy."""
    import subprocess
    import sys

    started: list[subprocess.Popen[bytes]] = []

    def start(how: str) -> int:
        process = subprocess.Popen([sys.executable, "-c", BUSY, how], stdout=subprocess.PIPE,
                                   start_new_session=True)
        started.append(process)
        assert process.stdout is not None
        assert int(process.stdout.readline()) == (19 if how == "background" else 0)
        return process.pid

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture
def every_core_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two cores, both running a task at every look (loadavg), and a journal with its
    keeping lock's file made, for the test to name a keeper in: (journal, lock)."""
    from agenda.paths import keeping_lock

    monkeypatch.setattr(journal_module, "_cores", lambda: 2)
    monkeypatch.setattr(journal_module, "_running", lambda: 2)
    monkeypatch.setattr(journal_module, "_SAMPLE_GAP", 0)
    journal = tmp_path / "summit.json"
    place = keeping_lock(journal)
    place.parent.mkdir(parents=True, exist_ok=True)
    return journal, place


@pytest.mark.parametrize(("named", "free"), [
    ("background", True),  # the keeper before, lowered: its core is the checker's
    ("usual", False),  # a keeper at the usual priority takes it
    (None, False),  # a keeper that names no pid (an older version): counted
])
def test_a_keeper_in_the_background_leaves_its_core_to_the_checker(
        tmp_path: Path, every_core_busy: tuple[Path, Path], busy: Callable[[str], int],
        named: str | None, free: bool) -> None:
    """Every core looks busy (loadavg), one of them with the keeper of the command before:
    a keeper its lock names by pid and that runs in the background is not counted."""
    journal, place = every_core_busy
    pid = busy(named or "background")
    place.write_bytes(b"-\n" + (b"pid=%d\n" % pid if named else b""))
    assert journal_module._core_free(journal) is free
    assert journal_module._core_free(tmp_path / "another.json") is False  # not its keeper
    assert journal_module._core_free() is False


def test_a_keeper_that_is_not_running_is_not_discounted(
        every_core_busy: tuple[Path, Path]) -> None:
    """A pid that names no running task (a keeper gone, one asleep): the tasks loadavg
    counts are all someone else's."""
    import subprocess
    import sys

    from agenda import detached

    journal, place = every_core_busy
    asleep = subprocess.Popen([sys.executable, "-c", "import os, time; os.nice(19); "
                               "print(1, flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE)
    try:
        assert asleep.stdout is not None and asleep.stdout.readline()
        for _ in range(1000):  # it printed, then went to sleep: seen asleep (S) by now
            if (detached._stat(asleep.pid) or [b""])[0] == b"S":
                break
            time.sleep(0.01)
        for pid in (asleep.pid, 2**22 + 1, 0):
            place.write_bytes(b"-\npid=%d\n" % pid)
            assert journal_module._core_free(journal) is False
        place.write_bytes(b"-\npid=x1\npid=\n")  # garbled
        assert journal_module._core_free(journal) is False
    finally:
        asleep.kill()
        asleep.wait()


def group_nice() -> str:
    """This process's scheduling group's nice value: "/autogroup-N nice K" says K; nothing is
    said for the default group (a process whose session never left it, as CI's runner) and
    there is no file on a kernel without groups: "-" for both."""
    try:
        with open("/proc/self/autogroup") as group:
            said = group.read().split()
    except OSError:
        return "-"
    return said[-1] if said else "-"


BACKGROUND = inspect.getsource(group_nice) + """
import os
from agenda import detached
detached.background()
print(os.nice(0), group_nice(), detached.background_pid() == os.getpid())
"""


@pytest.mark.parametrize("own_session", [True, False])
def test_a_worker_in_the_background_runs_at_the_lowest_priority(own_session: bool) -> None:
    """`detached.background`: the worker's nice value and its session's scheduling group
    (Linux's autogroup) both lowered; never the group of a session it does not lead (the
    terminal's, or the test run's)."""
    import subprocess
    import sys

    said = subprocess.run([sys.executable, "-c", BACKGROUND], capture_output=True,
                          check=True, start_new_session=own_session).stdout.split()
    if own_session:  # its own group, lowered (where the kernel has groups)
        assert said[0] == b"19" and said[1] in (b"19", b"-") and said[2] == b"True"
    else:  # the caller's group, untouched: the same as this test run's
        here = group_nice()
        assert said[0] == b"19" and said[1] == here.encode() and here != "19"


@pytest.mark.parametrize(("meminfo", "size", "room"), [
    (b"MemTotal:  24000000 kB\nMemAvailable:  8000000 kB\n", 40_000_000, True),
    (b"MemTotal:  24000000 kB\nMemAvailable:   200000 kB\n", 40_000_000, False),
    (b"MemTotal:  24000000 kB\n", 40_000_000, True),  # not said: assumed
    (None, 40_000_000, True),  # no /proc
])
def test_a_checker_needs_memory_for_a_second_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meminfo: bytes | None, size: int,
        room: bool) -> None:
    place = tmp_path / "meminfo"
    if meminfo is not None:
        place.write_bytes(meminfo)
    monkeypatch.setattr(journal_module, "_MEMINFO", str(place))
    assert journal_module._memory_for(size) is room


def test_no_fork_without_memory_for_it(tmp_path: Path, started: list[bool],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = written(tmp_path)
    monkeypatch.setattr(journal_module, "_memory_for", lambda size: False)
    assert read(db, "IN", True, monkeypatch) == read(db, "IN", False, monkeypatch)
    assert started == [False]


def test_a_journal_that_cannot_be_parsed_leaves_no_checker(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """A line whose checksum fails is refused by the reader, in its words; the checker it
    had started is stopped and reaped."""
    db = written(tmp_path)
    journal = next((tmp_path / "ws.summits").iterdir())
    lines = journal.read_bytes().split(b"\n")
    lines[1] = lines[1][:20] + (b"X" if lines[1][20:21] != b"X" else b"Y") + lines[1][21:]
    journal.write_bytes(b"\n".join(lines))
    refused = read(db, None, True, monkeypatch)
    assert refused == read(db, None, False, monkeypatch) and isinstance(refused[0], str)
    assert started == [True] and no_child_left()


def forge(journal: Path, last: bool, change: Any) -> None:
    """The first (or `last`) commit line `change` changes, changed, its checksum made good
    again: what no crc32 catches."""
    lines = journal.read_bytes().split(b"\n")
    changed = [n for n, line in enumerate(lines[1:], start=1)
               if line and change(line[9:]) != line[9:]]
    assert changed, "no line to forge"
    index = changed[-1] if last else changed[0]
    payload = change(lines[index][9:])
    lines[index] = b"%08x " % zlib.crc32(payload) + payload
    journal.write_bytes(b"\n".join(lines))


def test_a_read_only_read_parses_the_other_tables_only_when_asked(
        tmp_path: Path, started: list[bool]) -> None:
    """`lazy_tables`: the records and puts of each line at once, the event and undo logs
    when first asked for, once the checker vouched for the lines; then every table is what
    a read that parses each line whole holds, and the events counted as it counts them."""
    db = written(tmp_path)
    path = next((tmp_path / "ws.summits").iterdir())
    lock = Workspace(db).lock
    whole = journal_module.Journal(path, lock)
    whole.load()
    lazy = journal_module.Journal(path, lock)
    lazy.check_apart, lazy.lazy_tables = records.checked_apart, True
    lazy.load()
    assert started == [True] and lazy.deferring
    assert lazy.records_log() == whole.logs["records"] and lazy.puts == whole.puts
    assert "events" not in lazy._logs
    count = lazy.count_later("events")
    assert lazy.logs == whole.logs and not lazy.deferring
    assert count() == len(whole.logs["events"]) and no_child_left()


# Each changes a commit line so that parsing its parts alone would read it otherwise than
# parsing it whole: the checker finds the line not as `orjson.dumps` spells it (or cannot
# parse it), and the read is made again, each line parsed whole.
FORGERIES = {
    "a repeated records table": lambda p: p.replace(b']},"p":{', b'],"records":[]},"p":{', 1),
    "a repeated a": lambda p: p.replace(b'},"p":{', b'},"a":{"records":[]},"p":{', 1),
    "a space in an event": lambda p: p.replace(b'"detail":', b'"detail": ', 1),
    "an event not JSON": lambda p: p.replace(b'"detail":"', b'"detail":', 1),
    "a table not a list": lambda p: p.replace(b'],"events":[', b'],"events":[],"x":5,"y":[', 1),
    "the split inside a record": lambda p: p.replace(b'"tags":[]', b'"tags":[],"events":[]', 1),
    "puts not objects": lambda p: p.replace(b'"p":{"labels":{', b'"p":{"x":1,"labels":{', 1),
    "a key beside a and p": lambda p: p.replace(b'},"p":{', b'},"x":{},"p":{', 1),
    "records repeated first": lambda p: p.replace(b'],"events":[', b'],"records":[],"events":[', 1),
    "events repeated": lambda p: p.replace(b']},"p":{', b'],"events":[]},"p":{', 1),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
@pytest.mark.parametrize("last", [False, True])
def test_a_forged_line_is_read_as_a_read_that_parses_it_whole(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch, forgery: str,
        last: bool) -> None:
    db = written(tmp_path)
    forge(next((tmp_path / "ws.summits").iterdir()), last, FORGERIES[forgery])
    for viewer in (None, "RU"):
        assert read(db, viewer, True, monkeypatch) == read(db, viewer, False, monkeypatch)
    assert no_child_left()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS, st.sampled_from([None, "IN", "RU"]))
def test_any_summit_read_lazily_is_the_summit_read_whole(
        tmp_path_factory: pytest.TempPathFactory, started: list[bool],
        monkeypatch: pytest.MonkeyPatch, ops: list[tuple[str, str, int, str]],
        viewer: str | None) -> None:
    """Random writes (undone ones among them): a read-only whole read that parses only the
    records and puts of each line, the logs when asked for, shows what a read that parses
    every line whole shows, its event log too."""
    db = tmp_path_factory.mktemp("lazy") / "ws.json"
    new_workspace(db)
    for op in ops:
        ws = Workspace(db, clock=TickingClock())
        apply(ws, *op)
        ws.close()
    assert read(db, viewer, True, monkeypatch) == read(db, viewer, False, monkeypatch)
    assert no_child_left()


@pytest.mark.parametrize("last", [False, True])
def test_a_line_failing_its_checksum_is_read_as_a_read_that_checks_it(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch,
        last: bool) -> None:
    """Lines parsed in parts are not checksummed by the reader: the checker's verdict covers
    them. A bad checksum on a line that parses: refused in the middle of the file, dropped
    as an unfinished commit at its end, as a read that checks every line."""
    db = written(tmp_path)
    journal = next((tmp_path / "ws.summits").iterdir())
    lines = journal.read_bytes().split(b"\n")
    at = len(lines) - 2 if last else 2
    lines[at] = (b"00000000" if lines[at][:8] != b"00000000" else b"00000001") + lines[at][8:]
    journal.write_bytes(b"\n".join(lines))
    for viewer in (None, "IN"):
        assert read(db, viewer, True, monkeypatch) == read(db, viewer, False, monkeypatch)
    assert no_child_left()


def test_lines_appended_after_a_read_in_parts_follow_its_tables(
        tmp_path: Path, started: list[bool]) -> None:
    """Another process's commits after a read whose logs are not parsed yet: read as a tail,
    after the read's own tables, as a read that parsed them at once reads them."""
    db = written(tmp_path)
    path = next((tmp_path / "ws.summits").iterdir())
    lazy = journal_module.Journal(path, Workspace(db).lock)
    lazy.check_apart, lazy.lazy_tables = records.checked_apart, True
    lazy.load()
    assert lazy.deferring
    count = lazy.count_later("events")  # as a state read now holds it
    before = journal_module.Journal(path, Workspace(db).lock)
    before.load()
    ws = Workspace(db, clock=TickingClock())
    try:
        ws.add_note(SLUG, "1.1", delegation="IN", text="Later.")
    finally:
        ws.close()
    assert lazy.refresh()
    whole = journal_module.Journal(path, Workspace(db).lock)
    whole.load()
    assert lazy.logs == whole.logs and lazy.puts == whole.puts and no_child_left()
    assert count() == len(before.logs["events"]) < len(whole.logs["events"])


def listed(db: Path, viewer: str | None, apart: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`summit items` with nothing kept (keeping after its output, as the script does): its
    listing, from the whole fold, or its refusal."""
    with monkeypatch.context() as m:
        if not apart:
            m.setattr(journal_module, "CHECK_APART_FROM", 1 << 62)
        snapshot.defer_keeping()
        ws = Workspace(db)
        try:
            return snapshot.items(ws, SLUG, viewer)
        except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
            return type(exc).__name__, str(exc)
        finally:
            ws.close()
            snapshot.drop_deferred()
            shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)


TEXTS = st.lists(st.text("ab []()`:\\", max_size=24), min_size=1, max_size=4)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS, TEXTS, st.sampled_from([None, "IN", "RU"]))
def test_brackets_counted_by_the_checker_are_the_readers_count(
        tmp_path_factory: pytest.TempPathFactory, started: list[bool],
        monkeypatch: pytest.MonkeyPatch, added: list[str], tabled: list[str],
        viewer: str | None) -> None:
    """The checker counts each revision's brackets (`records.checked_apart`) and the reader
    gives the counts to the latest texts (`state.take_counts`): the listing is the one a
    reader that counts every text itself makes, plain pairs, nested, unclosed, escaped
    and linked alike (the scanner's cases are left to the reader: -1)."""
    db = tmp_path_factory.mktemp("counted") / "ws.json"
    new_workspace(db)
    ws = Workspace(db, clock=TickingClock())
    try:
        for n, text in enumerate(added):
            ws.add_item(SLUG, section="One", title=f"Item {n}", text=f"T {text}",
                        delegation="IN")
        for n, text in enumerate(tabled):
            ws.table(SLUG, f"1.{n % (len(added) + 1) + 1}", delegation="RU",
                     text=f"U {text}", code=Code.MOD, internal=n % 3 == 2)
    finally:
        ws.close()
    assert listed(db, viewer, True, monkeypatch) == listed(db, viewer, False, monkeypatch)
    assert no_child_left()


def test_counts_said_for_other_documents_are_not_taken(tmp_path: Path) -> None:
    written(tmp_path)
    docs = journal_docs(tmp_path)
    said = records.checked_apart(docs)
    assert said is not None and len(records.counts_apart(docs, said)) > 0
    assert records.counts_apart(docs[1:], said) == {}  # one count a document, or none
    assert records.counts_apart(docs, said[:-1]) == {}


def after_writes(db: Path, apart: bool, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> Any:
    """`summit table`, a note and a status, as the script runs them (each keeping after its
    output, its read in parts with a checker when `apart`), in a copy of the workspace;
    then what a read that hashes every id shows: each answer, each item's texts and the
    event log, without the times and uuids each write makes anew."""
    copy_dir = db.parent.parent / f"{db.parent.name}-{'apart' if apart else 'whole'}"
    shutil.copytree(db.parent, copy_dir)
    there = copy_dir / db.name
    answers = []
    with monkeypatch.context() as m:
        if not apart:
            m.setattr(journal_module, "CHECK_APART_FROM", 1 << 62)
        for argv in (["table", "1.1", "--as", "RU", "--text", "The Sides [agree] now."],
                     ["note", "2.1", "Noted.", "--as", "IN"],
                     ["status", "2.1", "deferred", "--as", "IN"],
                     ["table", "9.9", "--as", "RU", "--text", "No such item."]):
            shutil.rmtree(snapshot.cache_dir(), ignore_errors=True)
            code, out, err = run(there, capsys, *argv)
            answers.append((code, err.replace(str(copy_dir), "<copy>"), out.count("\n")))
    m_ws = Workspace(there)
    try:
        state = m_ws.state(SLUG, "RU")
        shown = [(i.number, i.title, i.status, [(r.label, r.code, r.text, r.delegation)
                                               for r in state.history(i)])
                 for i in state.items]
        log = [(e.action, e.actor, e.detail) for e in state.events]
    except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
        shown, log = [type(exc).__name__], [str(exc).replace(str(copy_dir), "<copy>")]
    finally:
        m_ws.close()
    return answers, shown, log


def test_writes_that_read_in_parts_write_what_writes_that_read_whole_write(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A write on one item that keeps after its output reads the file in parts, its event
    and undo logs left unparsed: it appends after them, and the file holds them, in order,
    with what it appended, as a write that read the file whole leaves it."""
    db = written(tmp_path)
    whole = after_writes(db, False, monkeypatch, capsys)
    assert after_writes(db, True, monkeypatch, capsys) == whole
    assert any(started) and no_child_left()
    assert [code for code, _, _ in whole[0]] == [0, 0, 0, 1]


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_write_on_a_forged_line_does_what_a_write_that_reads_it_whole_does(
        tmp_path: Path, started: list[bool], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], forgery: str) -> None:
    db = written(tmp_path)
    forge(next((tmp_path / "ws.summits").iterdir()), True, FORGERIES[forgery])
    assert after_writes(db, True, monkeypatch, capsys) == \
        after_writes(db, False, monkeypatch, capsys)
    assert no_child_left()


def test_a_write_after_a_read_in_parts_keeps_the_log_in_order(
        tmp_path: Path, started: list[bool]) -> None:
    """A workspace that read a summit in parts (its log unparsed) and then writes to it:
    what it appends comes after the read's log, in memory as in the file, and a state read
    before the write still shows the log as it was."""
    db = written(tmp_path)
    ws = Workspace(db, clock=TickingClock())
    try:
        before = ws.state(SLUG, "IN", identify=True)
        assert ws._summits[SLUG].journal.deferring
        ws.add_note(SLUG, "1.1", delegation="IN", text="After the read.")
        after = ws.state(SLUG, "IN").events
    finally:
        ws.close()
    fresh = Workspace(db)
    try:
        assert after == fresh.state(SLUG, "IN").events
    finally:
        fresh.close()
    assert before.events == after[:len(before.events)] and len(after) > len(before.events)
    assert no_child_left()


@pytest.mark.parametrize(("looks", "free"), [
    ([2, 1], True),  # a kernel thread running for a moment: gone at the next look
    ([2, 2, 2], False),  # a keeper at work: there at every look
    ([None], True),  # cannot tell: assumed free
])
def test_a_core_is_free_at_any_of_a_few_looks(monkeypatch: pytest.MonkeyPatch,
                                             looks: list[int | None], free: bool) -> None:
    seen = iter(looks)
    monkeypatch.setattr(journal_module, "_cores", lambda: 2)
    monkeypatch.setattr(journal_module, "_running", lambda: next(seen))
    monkeypatch.setattr(journal_module, "_SAMPLE_GAP", 0)
    assert journal_module._core_free() is free
