"""Issue 11, what was left: operations over several files happen whole or not at all (SIGKILL
and a full disk at every step), writers queue fairly and say who holds the lock, readers
never wait, and files keep the mode a group-shared workspace gave them."""

from __future__ import annotations

import errno
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agenda import backup, integrity, store
from agenda.cli import main
from agenda.importer import import_markdown
from agenda.model import Delegation
from agenda.store import WorkspaceBusy, describe_holder
from agenda.workspace import NewItem, Workspace

TWO = [Delegation("IN", "India"), Delegation("RU", "Russia")]
FIXTURE = Path(__file__).parent / "fixtures" / "v010" / "workspace"
AGENDA = textwrap.dedent("""\
    # Imported summit

    ## Trade

    - Tariffs: both sides lower tariffs on [pharmaceuticals].
    - Payments: settle trade in national currencies.

    ## Energy

    - Nuclear: a second unit at Kudankulam.
    """)
# Every call that changes a file or its name: a kill before any of them is a kill "at any
# moment" as far as the files on disk can tell.
STEPS = ("write", "fsync", "replace", "rename", "unlink", "ftruncate", "mkdir", "link")


def _shape(path: Path) -> dict[str, Any]:
    """What a user sees of the workspace: summits, items and their texts."""
    ws = Workspace(path)
    shown: dict[str, Any] = {}
    for entry in ws.summits():
        state = ws.state(entry.slug)
        shown[entry.slug] = [(i.number, i.title, i.status.value, state.current_text(i))
                             for i in state.items]
    return shown


def _leftovers(path: Path) -> list[str]:
    folder = path.with_name(path.stem + ".summits")
    found = [p.name for p in path.parent.glob(f".{path.name}*.tmp")]
    found += [p.name for p in folder.glob(".*.tmp")] if folder.is_dir() else []
    if path.with_name(path.name + ".intent").exists():
        found.append("intent")
    return found


# The operations ---------------------------------------------------------------------------

class Operation:
    """One multi-file operation: a set-up, the operation, and the states it may leave."""

    name = ""

    def setup(self, folder: Path) -> Path:
        raise NotImplementedError

    def run(self, path: Path) -> None:
        raise NotImplementedError

    def done(self, path: Path) -> bool:
        """Whether the operation's commit happened (from what a reader sees)."""
        raise NotImplementedError


class New(Operation):
    name = "new"

    def setup(self, folder: Path) -> Path:
        ws = Workspace(folder / "ws.json", create=True)
        ws.create_summit("First", TWO, slug="first", sections=["One"])
        ws.add_item("first", section="One", title="Item", text="Base text.", delegation="IN")
        return ws.path

    def run(self, path: Path) -> None:
        Workspace(path).create_summit("Second", TWO, slug="second", sections=["A", "B"])

    def done(self, path: Path) -> bool:
        return "second" in _shape(path)


class Import(New):
    name = "import"

    def run(self, path: Path) -> None:
        import_markdown(Workspace(path), AGENDA, delegation="IN", delegations=TWO,
                        new_slug="second", source_name="agenda.md")


class Restore(Operation):
    name = "restore"

    def setup(self, folder: Path) -> Path:
        path = New().setup(folder)
        ws = Workspace(path)
        ws.create_summit("Other", TWO, slug="other", sections=["One"])
        backup.backup(ws, folder / "saved.backup")
        ws.table("first", "1.1", delegation="RU", text="After the backup.")
        ws.add_item("other", section="One", title="Late", text="Later.", delegation="RU")
        return path

    def run(self, path: Path) -> None:
        backup.restore(Workspace(path), path.parent / "saved.backup")

    def done(self, path: Path) -> bool:
        return "After the backup." not in json.dumps(_shape(path))


class Migration(Operation):
    name = "migration"

    def setup(self, folder: Path) -> Path:
        shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
        path = folder / "workspace.json"
        backup.automatic_backup(Workspace(path), folder / "backups")
        return path

    def run(self, path: Path) -> None:
        ws = Workspace(path)
        backup.automatic_backup(ws, path.parent / "backups")
        with ws.transaction():
            pass  # the first write transaction migrates

    def done(self, path: Path) -> bool:
        ws = Workspace(path)
        migrated = ws.pending_migration() is None
        for summit in ws.files()[1:]:
            # Never a mix: the index names 0.1 files until it names only journals.
            assert summit.read_bytes().startswith(b'{"app"') == migrated, summit
        return migrated


OPERATIONS = [New(), Import(), Restore(), Migration()]


def _counting(steps: list[str]) -> Callable[[], None]:
    """Patch every step to count itself; returns the undo."""
    originals = {name: getattr(os, name) for name in STEPS}

    def counted(name: str) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            steps.append(name)
            return originals[name](*args, **kwargs)
        return step

    for name in STEPS:
        setattr(os, name, counted(name))

    def undo() -> None:
        for name, original in originals.items():
            setattr(os, name, original)
    return undo


def _killed_at(op: Operation, path: Path, at: int, how: str = "before") -> None:
    """Run op in a forked child that SIGKILLs itself at its `at`-th step: just `before` it,
    just `after` it, or, for a write, `torn` halfway through its bytes."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            count = [0]
            kill = os.kill

            def wrapped(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
                def step(*args: Any, **kwargs: Any) -> Any:
                    count[0] += 1
                    if count[0] != at:
                        return real(*args, **kwargs)
                    if how == "torn" and name == "write" and len(args[1]) > 1:
                        real(args[0], bytes(args[1][: len(args[1]) // 2]))
                    elif how == "after":
                        real(*args, **kwargs)
                    kill(os.getpid(), signal.SIGKILL)
                return step

            for name in STEPS:
                setattr(os, name, wrapped(name, getattr(os, name)))
            op.run(path)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) or os.WTERMSIG(status) == signal.SIGKILL


def _steps_of(op: Operation, folder: Path) -> int:
    path = op.setup(folder)
    steps: list[str] = []
    undo = _counting(steps)
    try:
        op.run(path)
    finally:
        undo()
    assert op.done(path)
    return len(steps)


def _after_interruption(op: Operation, path: Path) -> None:
    """Whatever was interrupted, the workspace is the old one or the new one, nothing is
    left over once it is opened, check agrees, and the command then succeeds."""
    done = op.done(path)
    assert _leftovers(path) == []  # opening tidied up after the interrupted operation
    assert integrity.check(Workspace(path)) == []
    # A restore keeps the replaced files in one folder of copies once it has happened, and
    # leaves none behind when it has not.
    assert len(_asides(path)) == (1 if done and op.name == "restore" else 0)
    if not done:
        op.run(path)  # the retry of the same command succeeds
        assert op.done(path)
        assert integrity.check(Workspace(path)) == []
        assert len(_asides(path)) == (1 if op.name == "restore" else 0)
    assert _leftovers(path) == []


def _asides(path: Path) -> list[Path]:
    return list(path.parent.glob(f"{path.stem}.replaced-*"))


def _kill_sweep(op: Operation, tmp_path: Path, every: int, how: str = "before") -> int:
    total = _steps_of(op, tmp_path / "count")
    template = tmp_path / "template"
    name = op.setup(template).name
    trials = 0
    for at in range(1, total + 2, every):
        folder = tmp_path / f"kill{at}"
        shutil.copytree(template, folder)
        path = folder / name
        before = _shape(path)
        _killed_at(op, path, at, how)
        if not op.done(path):
            assert _shape(path) == before, f"{op.name} killed {how} step {at} changed it"
        _after_interruption(op, path)
        trials += 1
    return trials


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_a_kill_at_every_fourth_step_leaves_all_or_nothing(op: Operation,
                                                            tmp_path: Path) -> None:
    assert _kill_sweep(op, tmp_path, every=4) >= 3


@pytest.mark.slow
def test_sigkill_trials_of_every_multi_file_operation(tmp_path: Path) -> None:
    """Every step of every operation, killed before it, after it and halfway through its
    bytes: at least 300 kills in all."""
    trials = 0
    for how in ("before", "after", "torn"):
        for op in OPERATIONS:
            trials += _kill_sweep(op, tmp_path / f"{op.name}-{how}", every=1, how=how)
    assert trials >= 300, trials


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_a_full_disk_at_every_write_leaves_nothing_behind(op: Operation, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    steps: list[str] = []
    undo = _counting(steps)
    try:
        op.run(op.setup(tmp_path / "count"))
    finally:
        undo()
    writes = steps.count("write")
    assert writes >= 2
    real_write = os.write
    for fail_at in range(1, writes + 1):
        path = op.setup(tmp_path / f"full{fail_at}")
        before = _shape(path)
        seen = [0]

        def write(fd: int, data: Any, seen: list[int] = seen, fail_at: int = fail_at) -> int:
            seen[0] += 1
            if seen[0] == fail_at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", write)
        try:
            op.run(path)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            failed = True
        else:
            failed = False
        finally:
            monkeypatch.setattr(os, "write", real_write)
        if failed:
            # Nothing changed, nothing was left for the next start to find.
            assert _leftovers(path) == [], fail_at
            assert _shape(path) == before
        _after_interruption(op, path)


# Orphans and check -----------------------------------------------------------------------

def test_check_reports_an_orphan_by_name_and_new_still_succeeds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = New().setup(tmp_path)
    stray = path.with_name("ws.summits") / "second.json"
    shutil.copy(path.with_name("ws.summits") / "first.json", stray)
    problems = integrity.check(Workspace(path))
    assert [p.summit for p in problems] == ["ws.summits/second.json"]
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(path), "check"])
    assert exit_.value.code == 1
    assert "ws.summits/second.json" in capsys.readouterr().out
    # Every other command accepts the workspace, and `new` of that slug takes a free name.
    New().run(path)
    assert "second" in _shape(path) and stray.exists()


def test_an_interrupted_operation_is_tidied_at_the_next_start_and_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = New().setup(tmp_path)
    left = path.with_name("ws.summits") / "second.json"
    shutil.copy(path.with_name("ws.summits") / "first.json", left)
    path.with_name("ws.json.intent").write_bytes(b'{"files":["second.json"],"pid":1}')
    main(["--db", str(path), "items", "--summit", "first"])
    err = capsys.readouterr().err
    assert "second.json" in err and err.count("\n") == 1
    assert not left.exists() and _leftovers(path) == []
    assert integrity.check(Workspace(path)) == []


def test_a_damaged_intent_log_is_dropped_and_what_it_hid_is_reported(tmp_path: Path) -> None:
    path = New().setup(tmp_path)
    left = path.with_name("ws.summits") / "second.json"
    shutil.copy(path.with_name("ws.summits") / "first.json", left)
    path.with_name("ws.json.intent").write_bytes(b'{"files": [1, "../x"')  # torn
    problems = integrity.check(Workspace(path))
    assert [p.summit for p in problems] == ["ws.summits/second.json"]
    assert _leftovers(path) == []


def test_check_names_an_operation_that_could_not_be_tidied(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    path = New().setup(tmp_path)
    path.with_name("ws.json.intent").write_bytes(b'{"files":["second.json"],"pid":1}')
    real_unlink = Path.unlink

    def read_only(self: Path, missing_ok: bool = False) -> None:
        if self.name == "ws.json.intent":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", read_only)
    problems = integrity.check(Workspace(path))
    assert [p.summit for p in problems] == ["ws.json.intent"]


def test_a_migration_whose_backup_fails_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURE, tmp_path / "ws")
    path = tmp_path / "ws" / "workspace.json"
    before = {p: p.read_bytes() for p in path.parent.rglob("*") if p.is_file()}

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "backups")

    monkeypatch.setattr(backup, "_incremental_backup", full)
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(path), "--summit", "second", "note", "1.1", "--as", "IN", "Hello"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing was changed" in err and "Traceback" not in err
    after = {p: p.read_bytes() for p in path.parent.rglob("*") if p.is_file()
             and not p.name.endswith(".lock") and ".lock.d" not in str(p)}
    assert after == before


def test_the_workspace_api_never_migrates_without_the_backup(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "ws")
    path = tmp_path / "ws" / "workspace.json"
    before = {p: p.read_bytes() for p in path.parent.rglob("*.json")}
    with pytest.raises(store.StoreError, match="not been backed up"):
        Workspace(path).add_note("second", "1.1", delegation="IN", text="Hello")
    assert {p: p.read_bytes() for p in path.parent.rglob("*.json")} == before


# The lock ----------------------------------------------------------------------------------

HOLDER = textwrap.dedent("""\
    import sys, time
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    with ws.lock.hold():
        print("held", flush=True)
        sys.stdin.readline()  # hold until told to let go
    """)


def _notes(path: Path) -> list[str]:
    state = Workspace(path).state("first", "IN")
    return [note.text for note in state.item_notes(state.item("1.1"))]


def _holder(tmp_path: Path, path: Path) -> subprocess.Popen[str]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def _let_go(proc: subprocess.Popen[str]) -> None:
    proc.communicate("\n", timeout=60)
    assert proc.returncode == 0


def test_a_reader_completes_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = New().setup(tmp_path)
    proc = _holder(tmp_path, path)
    try:
        ws = Workspace(path)  # opening does not wait either
        ws.lock.timeout = 0.1  # were a read to take the lock, it would fail here
        assert ws.state("first").items[0].title == "Item"
        assert _shape(path)["first"][0][3] == "Base text."
        assert proc.poll() is None  # the writer still holds it
    finally:
        _let_go(proc)


def test_a_waiting_writer_is_told_once_who_holds_the_lock(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = New().setup(tmp_path)
    monkeypatch.setattr(store, "WAIT_NOTICE_AFTER", 0.2)
    proc = _holder(tmp_path, path)
    told = threading.Event()
    real_notify = store.WorkspaceLock._holder

    def holder(self: store.WorkspaceLock) -> str:
        said = real_notify(self)
        told.set()
        return said

    monkeypatch.setattr(store.WorkspaceLock, "_holder", holder)
    # The holder lets go only once the waiting writer has been told.
    threading.Thread(target=lambda: (told.wait(60), _let_go(proc)), daemon=True).start()
    main(["--db", str(path), "--summit", "first", "note", "1.1", "--as", "IN", "Waited."])
    err = capsys.readouterr().err
    assert err.count("waiting for the workspace lock") == 1
    assert f"process {proc.pid} (holder.py {path})" in err
    assert _notes(path) == ["Waited."]


def test_a_timeout_names_the_holder(tmp_path: Path) -> None:
    path = New().setup(tmp_path)
    proc = _holder(tmp_path, path)
    try:
        ws = Workspace(path)
        ws.lock.timeout = 0.3
        with pytest.raises(WorkspaceBusy, match=f"process {proc.pid} \\(holder.py"):
            ws.add_note("first", "1.1", delegation="IN", text="Too late.")
    finally:
        _let_go(proc)
    assert _leftovers(path) == []


@given(st.binary(max_size=300))
def test_any_ticket_is_described_or_called_another_process(raw: bytes) -> None:
    said = describe_holder(raw)
    assert said == "another process" or said.startswith("process ")
    assert all(c.isprintable() for c in said)


def test_a_killed_writers_ticket_does_not_block_the_queue(tmp_path: Path) -> None:
    path = New().setup(tmp_path)
    proc = _holder(tmp_path, path)
    proc.kill()
    proc.wait()
    queue = path.with_name("ws.json.lock.d")
    assert [p.name for p in queue.iterdir()]  # its ticket is still there
    ws = Workspace(path)
    ws.lock.timeout = 5
    ws.add_note("first", "1.1", delegation="IN", text="After the kill.")
    assert list(queue.iterdir()) == []


WRITER = textwrap.dedent("""\
    import sys
    from agenda.workspace import Workspace
    from agenda.store import WorkspaceBusy
    path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ws = Workspace(path)
    ws.lock.timeout = 600
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        ws.add_note("first", "1.1", delegation="IN", text=f"{who} {n}")
    print(ws.lock.waits, flush=True)
    """)
READER = textwrap.dedent("""\
    import sys
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    ws.lock.timeout = 0.01  # a read that took the lock would fail at once
    print("ready", flush=True)
    sys.stdin.readline()
    reads = 0
    while True:
        state = ws.state("first", "IN")
        notes = len(state.item_notes(state.item("1.1")))
        reads += 1
        if notes >= int(sys.argv[2]):
            break
    print(reads, flush=True)
    """)


def test_writers_take_turns_and_readers_never_wait(tmp_path: Path) -> None:
    """Four writers, two readers: between two commits of one writer, each other writer
    commits at most once (the queue is first come, first served), and no read waits."""
    path = New().setup(tmp_path)
    writers, count = 4, 12
    (tmp_path / "writer.py").write_text(WRITER)
    (tmp_path / "reader.py").write_text(READER)
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "writer.py"), str(path),
                               f"W{k}", str(count)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(writers)]
    procs += [subprocess.Popen([sys.executable, str(tmp_path / "reader.py"), str(path),
                                str(writers * count)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    order = [text.split()[0] for text in _notes(path)]
    assert sorted(order) == sorted(f"W{k}" for k in range(writers) for _ in range(count))
    # Turns, not timings: in the first half of the commits every writer had a fair share,
    # and while all of them still had work, none went more than twice in a row (the flock
    # alone let one writer take every turn until it was done: W1 ×12, W3 ×12, ...).
    half = order[: writers * count // 2]
    assert min(half.count(f"W{k}") for k in range(writers)) >= count // 4, order
    busy = min(max(i for i, w in enumerate(order) if w == f"W{k}") for k in range(writers))
    runs = [len(list(group)) for _, group in itertools.groupby(order[:busy])]
    assert max(runs) <= 2, order
    assert all(int(out.split()[-1]) > 0 for out, _ in outputs[writers:])  # reads happened


# Modes -------------------------------------------------------------------------------------

def _modes(path: Path) -> dict[str, int]:
    files = [path, *path.with_name(path.stem + ".summits").iterdir()]
    return {p.name: p.stat().st_mode & 0o777 for p in files if not p.name.startswith(".")}


def _share(path: Path, group: int) -> None:
    for p in [path, *path.with_name(path.stem + ".summits").iterdir()]:
        os.chown(p, -1, group)
        os.chmod(p, 0o660)


def _every_kind_of_write(path: Path, tmp_path: Path) -> None:
    ws = Workspace(path)
    ws.add_note("first", "1.1", delegation="IN", text="An append.")  # journal append
    summit = ws._file("first")
    with ws.transaction():  # the atomic rewrite a compaction does
        summit.journal.replace_all(summit.journal.logs, summit.journal.puts)
    ws.create_summit("Third", TWO, slug="third", sections=["One"])  # index commit, new file
    saved = backup.backup(ws, tmp_path / "saved.backup")
    assert saved.stat().st_mode & 0o777 == 0o660
    (auto,) = backup.automatic_backup(ws, tmp_path / "auto")
    assert auto.stat().st_mode & 0o777 == 0o660
    backup.restore(ws, saved)


def test_a_group_shared_workspace_stays_group_shared(tmp_path: Path) -> None:
    path = New().setup(tmp_path / "ws")
    group = 4242
    _share(path, group)
    _every_kind_of_write(path, tmp_path)
    assert set(_modes(path).values()) == {0o660}, _modes(path)
    for p in [path, *path.with_name("ws.summits").iterdir()]:
        assert p.stat().st_gid == group, p


def test_a_setgid_folder_shares_what_is_written_in_it(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chown(folder, -1, 4243)
    os.chmod(folder, 0o2770)
    ws = Workspace(folder / "ws.json", create=True)
    ws.create_summit("First", TWO, slug="first", sections=["One"])
    ws.add_item("first", section="One", title="Item", text="Base text.", delegation="IN")
    _every_kind_of_write(ws.path, tmp_path)
    assert set(_modes(ws.path).values()) == {0o660}, _modes(ws.path)
    assert {p.stat().st_gid for p in folder.rglob("*")} == {4243}


def test_a_private_workspace_stays_private(tmp_path: Path) -> None:
    path = New().setup(tmp_path / "ws")
    ws = Workspace(path)
    ws.add_note("first", "1.1", delegation="IN", text="An append.")
    ws.create_summit("Third", TWO, slug="third", sections=["One"])
    backup.restore(ws, backup.backup(ws, tmp_path / "saved.backup"))
    assert set(_modes(path).values()) == {0o600}


# Hostile summit files through every command ---------------------------------------------

COMMANDS = [
    ["items"], ["show", "1.1"], ["history", "1.1"], ["log"], ["notes", "1.1", "--as", "IN"],
    ["brackets"], ["export"], ["export", "--template", "redline"], ["check"],
    ["backup", "-o", "{tmp}/b.backup"], ["table", "1.1", "--as", "RU", "--text", "A counter."],
    ["diff", "1.1"], ["merge", "1.1"], ["accept", "1.1", "--as", "IN"],
    ["note", "1.1", "A note.", "--as", "IN"], ["status", "1.1", "deferred", "--as", "IN"],
    ["retitle", "1.1", "New"], ["move", "1.1", "--up"],
    ["new", "X", "--delegation", "IN=India", "--delegation", "RU=Russia", "--slug", "x"],
]


def test_every_command_of_the_hostile_run_works_on_a_sound_workspace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """So that the hostile run below tries each command for real, not its usage error."""
    path = New().setup(tmp_path)
    _run_every_command(path, tmp_path, capsys, sound=True)


def _crc_line(batch: Any) -> bytes:
    import zlib

    payload = json.dumps(batch).encode()
    return b"%08x " % zlib.crc32(payload) + payload + b"\n"


def _record(kind: str, body: Any, *, summit: str, deps: list[Any], lamport: Any = 5,
            author: Any = "IN", scope: Any = "joint") -> dict[str, Any]:
    """A record whose id is right for its (wrong) content: it passes the checksum and the
    id check, so only the structure can refuse it."""
    from agenda.records import FORMAT, record_id

    content = {"v": FORMAT, "kind": kind, "summit": summit, "scope": scope, "author": author,
               "signer": None, "lamport": lamport, "deps": deps, "created":
               "2021-02-11T09:03:00.000000Z", "body": body}
    try:
        rid = record_id(content)
    except Exception:  # noqa: BLE001 - content canonical JSON refuses: hash it as stored
        import hashlib

        rid = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return {"id": rid, "record": content, "sig": None}


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)
KINDS = st.sampled_from(["item.add", "revision", "acceptance", "status.decision", "note",
                         "item.place", "item.retitle", "section.add", "genesis", "confirm",
                         "summit.update", "nonsense"])


@st.composite
def hostile_lines(draw: st.DrawFn, summit: str, known: list[str]) -> list[bytes]:
    """Lines a summit journal might hold that pass their checksum but not the structure."""
    choice = draw(st.integers(0, 5))
    if choice == 0:  # any JSON at all as a batch
        return [_crc_line(draw(JSONISH))]
    if choice == 1:  # the right tables holding anything
        return [_crc_line({"a": {"records": draw(st.lists(JSONISH, max_size=3)),
                                 "events": draw(st.lists(JSONISH, max_size=3))},
                           "p": {"labels": draw(st.dictionaries(st.text(max_size=4), JSONISH,
                                                                max_size=2))}})]
    if choice == 2:  # records with right ids and wrong bodies, deps and clocks
        deps = draw(st.lists(st.sampled_from(known) | st.text(max_size=64), max_size=3))
        record = _record(draw(KINDS), draw(JSONISH), summit=summit, deps=deps,
                         lamport=draw(st.integers(-5, 2**53) | JSONISH),
                         author=draw(st.sampled_from(["IN", "RU", "", "ZZ"]) | JSONISH),
                         scope=draw(st.sampled_from(["joint", "team:IN", "team:", "x"])))
        return [_crc_line({"a": {"records": [record]}})]
    if choice == 3:  # a record of the file again: a duplicate id
        return [b"DUPLICATE"]
    if choice == 4:  # a revision whose parents name each other (or itself)
        first = _record("revision", {"item": "nope", "code": "MOD", "text": "a",
                                     "justification": "", "parents": ["b" * 32]},
                        summit=summit, deps=known[-1:])
        second = _record("revision", {"item": "nope", "code": "MOD", "text": "b",
                                      "justification": "", "parents": [first["id"][:32]]},
                         summit=summit, deps=[first["id"]])
        return [_crc_line({"a": {"records": [first, second]}})]
    return [_crc_line({"a": {"events": [draw(JSONISH)]}, "p": draw(JSONISH)})]


def _run_every_command(path: Path, tmp: Path, capsys: pytest.CaptureFixture[str],
                       sound: bool = False) -> None:
    for argv in COMMANDS:
        full = ["--db", str(path), *(["--summit", "first"] if argv[0] != "new" else []),
                *[a.replace("{tmp}", str(tmp)) for a in argv]]
        try:
            main(full)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert code in (0, 1), (full, code, err)
        assert "Traceback" not in out + err
        # On a sound workspace only the rules refuse: an agreed item is not deferred, and
        # the only item is first already.
        assert not sound or code == 0 or argv[0] in ("status", "move"), (full, err)
        if code == 1 and argv[0] != "check":
            assert err.count("\n") == 1, (full, err)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("where", ["end", "middle"])
def test_structurally_wrong_journals_never_give_a_traceback(
        where: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    tmp = tmp_path_factory.mktemp("hostile")
    path = New().setup(tmp)
    journal = tmp / "ws.summits" / "first.json"
    lines = journal.read_bytes().splitlines(keepends=True)
    summit = json.loads(lines[1][9:])["a"]["records"][0]["id"]
    known = [doc["id"] for line in lines[1:] for doc in
             json.loads(line[9:]).get("a", {}).get("records", [])]
    bad = data.draw(hostile_lines(summit, known))
    bad = [lines[-1] if line == b"DUPLICATE" else line for line in bad]
    cut = len(lines) if where == "end" else 2
    journal.write_bytes(b"".join(lines[:cut] + bad + lines[cut:]))
    _run_every_command(path, tmp, capsys)
    # `check` agrees with the other commands: a file it passes, every command can read.
    try:
        clean = integrity.check(Workspace(path)) == []
    except Exception:  # noqa: BLE001 - refused by name is fine; a pass must hold up
        clean = False
    if clean:
        for argv in (["items"], ["history", "1.1"], ["export"]):
            main(["--db", str(path), "--summit", "first", *argv])
        capsys.readouterr()


def test_a_010_file_with_a_parent_cycle_never_gives_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(FIXTURE, tmp_path / "ws")
    summit_file = tmp_path / "ws" / "workspace.summits" / "second.json"
    data = json.loads(summit_file.read_text())
    revisions = list(data["revisions"].values())
    revisions[0]["parents"] = [revisions[-1]["uuid"]]  # the first descends from the last
    revisions[-1]["parents"] = [revisions[0]["uuid"]]
    summit_file.write_text(json.dumps(data))
    path = tmp_path / "ws" / "workspace.json"
    for argv in (["items"], ["history", "1.1"], ["check"], ["export"]):
        try:
            main(["--db", str(path), "--summit", "second", *argv])
        except SystemExit as exc:
            assert exc.code in (0, 1)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err


# Imports compute first and lock to commit -------------------------------------------------

NOTE_NOW = textwrap.dedent("""\
    import sys
    from agenda.store import WorkspaceBusy
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    ws.lock.timeout = 0.5
    try:
        ws.add_note("first", "1.1", delegation="IN", text="Written during the import.")
    except WorkspaceBusy:
        sys.exit(3)
    """)


@pytest.mark.parametrize("reimport", [False, True], ids=["new", "re-import"])
def test_an_import_holds_the_lock_only_to_commit(reimport: bool, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """While an import matches and builds its records, another process writes (the lock is
    free); the import sees that at its commit, and runs again, under the lock this time."""
    from agenda import importer

    path = New().setup(tmp_path / "ws")
    if reimport:
        import_markdown(Workspace(path), AGENDA, delegation="IN", slug="first")
    script = tmp_path / "note.py"
    script.write_text(NOTE_NOW)
    free: list[bool] = []
    real_match = importer._match

    def match(*args: Any, **kwargs: Any) -> Any:
        done = subprocess.run([sys.executable, str(script), str(path)], check=False)
        free.append(done.returncode == 0)
        return real_match(*args, **kwargs)

    monkeypatch.setattr(importer, "_match", match)
    revised = AGENDA.replace("a second unit", "two more units") if reimport else AGENDA
    report = import_markdown(Workspace(path), revised, delegation="IN", slug="first")
    assert free == [True, False]  # computed without the lock; the second run held it
    assert _notes(path) == ["Written during the import."]
    assert (report.items_retitled if reimport else report.items_added)
    assert "two more units" in json.dumps(_shape(path)) or not reimport
    assert integrity.check(Workspace(path)) == []


def test_an_import_nobody_disturbs_runs_once(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from agenda import importer

    path = New().setup(tmp_path)
    runs: list[bool] = []
    real_match = importer._match

    def match(*args: Any, **kwargs: Any) -> Any:
        ws = Workspace(path)
        runs.append(ws.lock.path.exists() and not ws.lock.held())
        with ws.lock.try_hold() as free:  # another process's view: the lock is free
            runs.append(free)
        return real_match(*args, **kwargs)

    monkeypatch.setattr(importer, "_match", match)
    import_markdown(Workspace(path), AGENDA, delegation="IN", slug="first")
    assert runs == [True, True]
    assert len(_shape(path)["first"]) == 4


def test_an_intent_log_removes_only_a_restores_own_uncommitted_folder(tmp_path: Path) -> None:
    """The folder of copies is removed only in the shape a restore names it, beside the
    workspace, and only while the index is not the one the restore was committing."""
    path = New().setup(tmp_path)
    ws = Workspace(path)
    index_digest = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    names = {"foreign": tmp_path / "keep-me", "nested": tmp_path / "ws.replaced-x" / "deep",
             "committed": tmp_path / "ws.replaced-1", "uncommitted": tmp_path / "ws.replaced-2"}
    for folder in names.values():
        folder.mkdir(parents=True)
        (folder / "copy.json").write_text("{}")
    cases = [("foreign", "0" * 64), ("nested", "0" * 64), ("committed", index_digest),
             ("uncommitted", "0" * 64)]
    for case, digest in cases:
        aside = names[case].relative_to(tmp_path).as_posix()
        ws.intent.write_bytes(json.dumps({"files": [], "aside": aside, "index": digest,
                                          "pid": 1}).encode())
        Workspace(path)  # opening tidies up after the interrupted operation
        assert not ws.intent.exists()
        assert names[case].exists() == (case != "uncommitted"), case
    assert (tmp_path / "keep-me" / "copy.json").exists()


@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t))
def test_a_text_that_begins_with_a_dash_is_read_as_the_text(text: str) -> None:
    from agenda.cli import _attach_dash_texts, _option_strings, build_parser

    for words in (["table", "1.1", "--text", "-" + text],
                  ["add", "--section", "S", "--title", "T", "--text", "-" + text]):
        parser = build_parser(words[0])
        # A word that names one of the command's options stays an option (`--text --as IN`
        # forgot its text); any other is the text.
        assume(("-" + text).split("=", 1)[0] not in _option_strings(parser))
        assume("-" + text != "--")  # argparse's end of options: the text follows it
        args, extras = parser.parse_known_args(_attach_dash_texts(words, parser))
        assert (args.text, extras) == ("-" + text, [])


def test_table_takes_a_text_beginning_with_a_dash_end_to_end(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ws.json"
    ws = Workspace(path, create=True)
    slug = ws.create_summit("First", delegations=TWO).slug
    ws.add_items(slug, [NewItem(section="1", title="Tariffs", text="Lower tariffs.")],
                 delegation="IN")
    main(["--db", str(path), "--summit", slug, "table", "1.1", "--as", "RU", "--text",
          "-x and --file are words here"])
    state = Workspace(path).state(slug)
    assert state.current_text(state.item("1.1")) == "-x and --file are words here"
    # After `--`, words are positional as argparse reads them: nothing is glued there.
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(path), "--summit", slug, "table", "1.1", "--as", "RU", "--", "--text"])
    assert exit_.value.code == 2
    capsys.readouterr()
