"""Backups and restore: consistent snapshots taken without the lock, daily and incremental,
kept beside the workspace, and restores that refuse hostile archives."""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import backup, integrity, paths
from agenda.cli import main
from agenda.model import AgendaError
from agenda.workspace import Workspace

SLUG = "india-russia-2021"


def _contents(ws: Workspace) -> dict[str, bytes]:
    index, *summits = ws.files()
    return {"workspace.json": index.read_bytes(),
            **{f"summits/{path.name}": path.read_bytes() for path in summits}}


def _on_day(monkeypatch: pytest.MonkeyPatch, day: datetime) -> None:
    monkeypatch.setattr(backup, "now_utc", lambda: day)


def _by_slug(ws: Workspace) -> dict[str, object]:
    """The workspace's contents, its summit files named by slug: a restore writes them under
    new names (the index, renamed once, is its one commit point)."""
    index = json.loads(ws.path.read_bytes())
    files = {doc["slug"]: (ws.summits_dir / doc.pop("file")).read_bytes()
             for doc in index["summits"].values()}
    present = sorted(p.name for p in ws.summits_dir.iterdir())
    return {"index": index, "files": files, "count": len(present)}


def test_backup_and_restore_round_trip(demo: Workspace, tmp_path: Path) -> None:
    saved = backup.backup(demo, tmp_path / "snap.backup")
    before = _by_slug(demo)
    demo.table(SLUG, "2.1", delegation="RU", text="After the backup.")
    aside = backup.restore(demo, saved)
    assert _by_slug(demo) == before
    assert not demo.intent.exists()
    kept = sorted(p.name for p in aside.iterdir())
    assert kept == [f"summits-{SLUG}.json", "workspace.json"]
    assert b"After the backup." in (aside / f"summits-{SLUG}.json").read_bytes()
    fresh = Workspace(demo.path)
    state = fresh.state(SLUG)
    assert "After the backup." not in [r.text for r in state.history(state.item("2.1"))]
    assert integrity.check(fresh) == []


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, raw in members.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


MANIFEST = b'{"format": "summit-agenda-backup"}'
GOOD = b'{"_meta": {"1": {"app": "summit-agenda", "kind": "workspace", "schema": 1}}}'


@pytest.mark.parametrize("content", [
    b"not a zip",
    _zip({"summit-agenda-backup.json": b'{"format": "other"}', "workspace.json": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": GOOD,
          "../../etc/passwd": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": GOOD,
          "summits/../../x.json": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": GOOD,
          "summits/a\\..\\..\\x.json": GOOD}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": b"{trunc"}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": b'{"_meta": {"1": {}}}'}),
    _zip({"summit-agenda-backup.json": MANIFEST, "workspace.json": b'{"_meta": {"1": 7}}'}),
    _zip({"summit-agenda-backup.json": MANIFEST}),
    _zip({"workspace.json": GOOD}),
])
def test_bad_backups_are_refused_before_anything_changes(demo: Workspace, tmp_path: Path,
                                                         content: bytes) -> None:
    bad = tmp_path / "bad.backup"
    bad.write_bytes(content)
    before = {p: p.read_bytes() for p in demo.files()}
    with pytest.raises(AgendaError):
        backup.restore(demo, bad)
    assert {p: p.read_bytes() for p in demo.files()} == before


def _bomb(path: Path, megabytes: int) -> None:
    """A valid-looking backup whose one member inflates a thousandfold."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("summit-agenda-backup.json", MANIFEST)
        archive.writestr("workspace.json", GOOD)
        with archive.open("summits/x.json", "w") as member:
            zeros = bytes(1 << 20)
            for _ in range(megabytes):
                member.write(zeros)


def test_a_zip_bomb_is_refused_without_inflating_it(demo: Workspace, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.backup"
    _bomb(bomb, 300)
    assert bomb.stat().st_size < 2 << 20
    before = {p: p.read_bytes() for p in demo.files()}
    tracemalloc.start()
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["restore", str(bomb), "--yes", "--db", str(demo.path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing was restored" in err.lower()
    assert peak < 16 << 20
    assert {p: p.read_bytes() for p in demo.files()} == before


def test_a_member_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    # The sizes in a zip's directory are the archive's word; the bytes are checked as read.
    lying = tmp_path / "lying.backup"
    _bomb(lying, 2)
    raw = bytearray(lying.read_bytes())
    with zipfile.ZipFile(lying) as archive:
        info = archive.getinfo("summits/x.json")
    for offset in (info.header_offset + 22, _central_entry(raw, "summits/x.json") + 24):
        raw[offset:offset + 4] = (1000).to_bytes(4, "little")
    lying.write_bytes(bytes(raw))
    with pytest.raises(AgendaError):
        backup.read_backup(lying)


def _central_entry(raw: bytearray, name: str) -> int:
    offset = raw.index(b"PK\x01\x02")
    while True:
        name_length = int.from_bytes(raw[offset + 28:offset + 30], "little")
        if raw[offset + 46:offset + 46 + name_length] == name.encode():
            return offset
        extra = int.from_bytes(raw[offset + 30:offset + 32], "little")
        comment = int.from_bytes(raw[offset + 32:offset + 34], "little")
        offset += 46 + name_length + extra + comment


def test_restore_command_asks_unless_yes(demo: Workspace, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    saved = backup.backup(demo, tmp_path / "snap.backup")
    monkeypatch.setattr(sys, "stdin", open(__file__))  # noqa: SIM115 - not a terminal
    with pytest.raises(SystemExit) as exit_:
        main(["restore", str(saved), "--db", str(demo.path)])
    assert exit_.value.code == 2 and "--yes" in capsys.readouterr().err
    main(["restore", str(saved), "--yes", "--db", str(demo.path)])
    assert "replaced files are in" in capsys.readouterr().out


def test_restore_twice_in_one_second_keeps_both_sets_aside(demo: Workspace,
                                                           tmp_path: Path) -> None:
    saved = backup.backup(demo, tmp_path / "snap.backup")
    asides = {backup.restore(demo, saved) for _ in range(3)}
    assert len(asides) == 3 and all(a.is_dir() for a in asides)


def test_a_crafted_index_naming_another_file_is_refused_by_name(demo: Workspace,
                                                                tmp_path: Path) -> None:
    import orjson

    secret = tmp_path / "secret.json"
    secret.write_bytes(b'{"not": "yours"}')
    index = orjson.loads(demo.path.read_bytes())
    doc = next(iter(index["summits"].values()))
    for crafted in ("../secret.json", str(secret)):
        doc["file"] = crafted
        demo.path.write_bytes(orjson.dumps(index))
        crafted_ws = Workspace(demo.path)
        with pytest.raises(AgendaError, match="outside its folder"):
            backup.backup(crafted_ws, tmp_path / "out.backup")
        with pytest.raises(AgendaError, match="outside its folder"):
            backup.automatic_backup(crafted_ws, tmp_path / "auto")
        assert not (tmp_path / "out.backup").exists()
        assert not list((tmp_path / "auto").glob("*.backup"))


WRITER = textwrap.dedent("""
    import sys
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    for n in range(200):
        ws.table("india-russia-2021", "2.1", delegation="RU", text=f"busy {n}")
""")


def test_backup_while_another_process_writes_is_consistent(demo: Workspace,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path)])
    snapshots = []
    while proc.poll() is None and len(snapshots) < 20:
        snapshots.append(backup.backup(demo, tmp_path / f"b{len(snapshots)}.backup"))
    proc.wait(timeout=120)
    assert proc.returncode == 0
    for n, snapshot in enumerate(snapshots):
        target = tmp_path / f"restored{n}" / "ws.json"
        ws = Workspace(target, create=True)
        backup.restore(ws, snapshot)
        assert integrity.check(Workspace(target)) == []


# Another process's commit between two of the backup's reads ------------------------------

def _new_summit(path: Path, slug: str) -> None:
    """What another process does meanwhile: its own Workspace creates a summit."""
    from agenda.model import Delegation

    other = Workspace(path)
    try:
        other.create_summit(slug.title(), [Delegation("IN", "India"),
                                           Delegation("FR", "France")],
                            slug=slug, sections=["One"])
    finally:
        other.close()


def _meanwhile(monkeypatch: pytest.MonkeyPatch, name: str, at: int,
               action: Callable[[], object]) -> list[int]:
    """Run `action` once, just before the at-th call (from 1) of backup.<name>: another
    process's commit between two of the backup's stats or reads. Returns [calls seen]."""
    real = getattr(backup, name)
    calls = [0]

    def wrapped(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == at:
            action()
        return real(*args)

    monkeypatch.setattr(backup, name, wrapped)
    return calls


def _whole(saved: Path) -> dict[str, bytes]:
    """A backup as restore reads it, holding exactly the summit files its index names."""
    files = backup.read_backup(saved)
    index = json.loads(files["workspace.json"])
    assert set(files) == {"workspace.json",
                          *(f"summits/{doc['file']}" for doc in index["summits"].values())}
    return files


def _restores(saved: Path, target: Path) -> None:
    ws = Workspace(target, create=True)
    backup.restore(ws, saved)
    assert integrity.check(Workspace(target)) == []


def _second_summit(ws: Workspace) -> None:
    from agenda.model import Delegation

    ws.create_summit("Second", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="second", sections=["One"])


# The reads of backup(): the index (1), then each summit file (2, 3).
@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_summit_created_during_a_backup_is_in_all_of_it_or_in_none(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    _second_summit(demo)
    calls = _meanwhile(monkeypatch, "_read_once", at, lambda: _new_summit(demo.path, "other"))
    saved = backup.backup(demo, tmp_path / "saved.backup")
    assert calls[0] >= at
    files = _whole(saved)
    # Created before the index was read: in the backup, whole; after: in none of it.
    assert ("summits/other.json" in files) == (at == 1)
    _restores(saved, tmp_path / "restored" / "ws.json")


# (whether yesterday's backup is there, which call, which one): the first daily backup
# reads the index then each summit; the next day's stats yesterday's backup, the index and
# each summit, then reads what changed.
@pytest.mark.parametrize(("yesterday", "name", "at"), [
    (False, "_read_once", 1), (False, "_read_once", 2), (False, "_read_once", 3),
    (True, "_stamp", 1), (True, "_stamp", 2), (True, "_stamp", 3), (True, "_stamp", 4),
    (True, "_read_once", 1)])
def test_a_summit_created_during_a_daily_backup_is_in_all_of_it_or_in_none(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yesterday: bool,
        name: str, at: int) -> None:
    def no_worker(*args: object) -> int:
        raise AssertionError("a small workspace is backed up in the command")

    monkeypatch.setattr(backup, "_spawn_worker", no_worker)
    _second_summit(demo)
    if yesterday:
        assert isinstance(backup.daily_backup(demo, "2021-03-01"), Path)
        demo.table(SLUG, "2.1", delegation="RU", text="Changed on the second day.")
    with monkeypatch.context() as patched:
        calls = _meanwhile(patched, name, at, lambda: _new_summit(demo.path, "other"))
        saved = backup.daily_backup(demo, "2021-03-02")
    assert calls[0] >= at
    assert isinstance(saved, Path)
    _whole(saved)
    _restores(saved, tmp_path / "restored" / "ws.json")
    # What the raced backup recorded still serves the next: it holds every file of its day.
    following = backup.daily_backup(demo, "2021-03-03")
    assert isinstance(following, Path)
    assert _whole(following) == _contents(demo)


@pytest.mark.parametrize("daily", [False, True])
def test_a_summit_file_removed_during_a_backup_is_read_again_from_the_index(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, daily: bool) -> None:
    earlier = backup.backup(demo, tmp_path / "earlier.backup")
    demo.table(SLUG, "2.1", delegation="RU", text="After the earlier backup.")

    def restore_elsewhere() -> None:
        # Every summit file gets a new name; the ones the index named go.
        other = Workspace(demo.path)
        try:
            backup.restore(other, earlier)
        finally:
            other.close()

    # Once the index is read (the first read), before the summit file it names.
    calls = _meanwhile(monkeypatch, "_read_once", 2, restore_elsewhere)
    if daily:
        (saved,) = backup.automatic_backup(demo, tmp_path / "auto")
    else:
        saved = backup.backup(demo, tmp_path / "saved.backup")
    assert calls[0] >= 2
    assert _whole(saved) == _contents(demo)  # the workspace as the restore left it
    assert f"summits/{SLUG}.json" not in _contents(demo)


def test_a_summit_file_missing_is_a_clear_error_and_no_backup(demo: Workspace,
                                                              tmp_path: Path) -> None:
    (demo.summits_dir / f"{SLUG}.json").unlink()
    with pytest.raises(AgendaError, match=rf"not there \({SLUG}\.json\).*nothing was backed up"):
        backup.backup(demo, tmp_path / "out" / "saved.backup")
    assert not (tmp_path / "out").exists()
    with pytest.raises(AgendaError, match="not there"):
        backup.automatic_backup(demo, tmp_path / "auto")
    assert sorted(p.name for p in (tmp_path / "auto").iterdir()) == [".lock"]


CREATOR = textwrap.dedent("""
    import sys
    from agenda.model import Delegation
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    for n in range(int(sys.argv[2])):
        ws.create_summit(f"Other {n}", [Delegation("IN", "India"), Delegation("FR", "France")],
                         slug=f"other-{n}", sections=["One"])
        ws.table("india-russia-2021", "2.1", delegation="RU", text=f"busy {n}")
""")


def test_daily_backups_while_another_process_creates_summits_are_whole(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker(*args: object) -> int:
        raise AssertionError("a small workspace is backed up in the command")

    monkeypatch.setattr(backup, "_spawn_worker", no_worker)
    script = tmp_path / "creator.py"
    script.write_text(CREATOR)
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path), "40"])
    taken = 0
    try:
        while proc.poll() is None and taken < 400:
            # A new day each time (the oldest beyond BACKUPS_KEPT go): checked as taken.
            day = (date(2021, 1, 1) + timedelta(days=taken)).isoformat()
            saved = backup.daily_backup(demo, day)
            assert isinstance(saved, Path)
            _whole(saved)
            taken += 1
    finally:
        proc.wait(timeout=120)
    assert proc.returncode == 0
    _restores(saved, tmp_path / "restored" / "ws.json")
    last = backup.daily_backup(demo, (date(2021, 1, 1) + timedelta(days=taken)).isoformat())
    assert isinstance(last, Path) and _whole(last) == _contents(demo)


HOLDER = textwrap.dedent("""
    import sys, time
    from agenda.workspace import Workspace
    ws = Workspace(sys.argv[1])
    with ws.lock.hold():
        print("held", flush=True)
        time.sleep(30)
""")


def test_the_daily_backup_does_not_wait_for_the_lock(demo: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        demo.lock.timeout = 0.2  # were the backup to take the lock, it would give up here
        written = backup.automatic_backup(demo)
        assert len(written) == 1
        assert backup.read_backup(written[0])["workspace.json"] == demo.path.read_bytes()
    finally:
        proc.kill()
        proc.wait()


def test_automatic_backups_live_beside_the_workspace(demo: Workspace, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data_home = Path(os.environ["XDG_DATA_HOME"])
    written = backup.automatic_backup(demo)
    assert [p.parent for p in written] == [tmp_path / "demo.backups"]
    assert not data_home.exists() or not any(data_home.rglob("*.backup"))
    shared = tmp_path / "shared"
    monkeypatch.setenv(paths.ENV_BACKUPS, str(shared))
    (written,) = backup.automatic_backup(demo)
    assert written.parent.parent == shared and written.parent.name.startswith("demo-")


def test_backups_keep_the_workspace_permissions(demo: Workspace) -> None:
    os.chmod(demo.path, 0o640)  # a workspace shared with a group on purpose
    (written,) = backup.automatic_backup(demo)
    assert written.stat().st_mode & 0o777 == 0o640
    assert written.parent.stat().st_mode & 0o777 == 0o750


def test_daily_backup_once_a_day_keeps_the_last_few(demo: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "backups"
    day = datetime(2021, 3, 1, tzinfo=UTC)
    for offset in range(10):
        _on_day(monkeypatch, day + timedelta(days=offset))
        assert len(backup.automatic_backup(demo, folder, keep=3)) == 1
        assert backup.automatic_backup(demo, folder, keep=3) == []  # same day: no second
    kept = sorted(p.name for p in folder.glob("*.backup"))
    assert len(kept) == 3 and kept[-1].endswith("2021-03-10.backup")


def test_the_daily_backup_rereads_only_changed_files(demo: Workspace, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from agenda.model import Delegation

    demo.create_summit("Other", [Delegation("IN", "India"), Delegation("FR", "France")],
                       sections=["One"])
    folder = tmp_path / "backups"
    _on_day(monkeypatch, datetime(2021, 3, 1, tzinfo=UTC))
    backup.automatic_backup(demo, folder)
    demo.table(SLUG, "2.1", delegation="RU", text="Changed on the second day.")
    read: list[str] = []
    real = backup._read_once
    monkeypatch.setattr(backup, "_read_once",
                        lambda path: read.append(path.name) or real(path))
    _on_day(monkeypatch, datetime(2021, 3, 2, tzinfo=UTC))
    (second,) = backup.automatic_backup(demo, folder)
    # Tabling rewrote one summit file; the index and the other summit were not touched.
    assert read == [f"{SLUG}.json"]
    with zipfile.ZipFile(second) as archive:
        assert archive.testzip() is None
    assert {n: r for n, r in backup.read_backup(second).items()} == _contents(demo)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.lists(st.sampled_from(["2.1", "1.1", "retitle", "touch", "new"]),
                              max_size=3), min_size=1, max_size=4),
       race=st.none() | st.tuples(st.integers(0, 3), st.sampled_from(["_stamp", "_read_once"]),
                                  st.integers(1, 4)))
def test_every_incremental_backup_holds_the_files_of_its_day(
        demo: Workspace, tmp_path_factory: pytest.TempPathFactory, days: list[list[str]],
        race: tuple[int, str, int] | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """And a day whose backup another process's new summit races (at the at-th stat or
    read) gets one that holds its index and exactly the files that index names."""
    folder = tmp_path_factory.mktemp("backups")
    for n, changes in enumerate(days):
        for change in changes:
            if change == "new":
                _new_summit(demo.path, f"new-{os.urandom(4).hex()}")
            elif change == "retitle":
                demo.retitle_item(SLUG, "1.2", f"Title {n}")
            elif change == "touch":
                # Same bytes, new mtime: re-read, found identical, copied compressed.
                path = demo.summits_dir / f"{SLUG}.json"
                os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
            else:
                demo.table(SLUG, change, delegation="RU", text=f"Day {n}, {change}.")
        _on_day(monkeypatch, datetime(2021, 3, 1, tzinfo=UTC) + timedelta(days=n))
        if race is not None and race[0] == n:
            with monkeypatch.context() as patched:
                _meanwhile(patched, race[1], race[2],
                           lambda: _new_summit(demo.path, f"race-{os.urandom(4).hex()}"))
                (written,) = backup.automatic_backup(demo, folder, keep=len(days) + 1)
            _whole(written)
            continue
        (written,) = backup.automatic_backup(demo, folder, keep=len(days) + 1)
        assert backup.read_backup(written) == _contents(demo)


# A backup that says "writing" once its first member is written, then waits to be killed.
SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from agenda import backup
    real = backup.ZipWriter.add
    def slow(self, name, data):
        placed = real(self, name, data)
        print("writing", flush=True)
        time.sleep(60)
        return placed
    backup.ZipWriter.add = slow
""")

KILLED = SLOW_WRITER + textwrap.dedent("""
    from agenda.workspace import Workspace
    backup.backup(Workspace(sys.argv[1]), Path(sys.argv[2]))
""")


def test_a_killed_backup_leaves_no_temp_file_after_the_next(demo: Workspace,
                                                            tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    dest = tmp_path / "out" / "snap.backup"
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path), str(dest)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    (leftover,) = dest.parent.glob(".snap.backup.*.tmp")
    assert leftover.stat().st_mode & 0o777 == 0o600
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    backup.backup(demo, dest)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["snap.backup"]


def test_a_live_backups_temp_file_is_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / f".x.backup.{os.getppid()}.0a0b0c0d.tmp"
    mine.write_bytes(b"")
    backup.remove_dead_temps(tmp_path)
    assert mine.exists()


def test_a_migration_is_preceded_by_a_backup_of_the_old_files(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agenda import store

    old_files = {p.name: p.read_bytes() for p in demo.files()}
    monkeypatch.setattr(store, "SCHEMA_VERSION", store.SCHEMA_VERSION + 1)
    monkeypatch.setitem(store.MIGRATIONS, store.SCHEMA_VERSION - 1, lambda data: data)
    upgraded = Workspace(demo.path)
    assert upgraded.pending_migration() == store.SCHEMA_VERSION - 1
    written = backup.automatic_backup(upgraded, tmp_path / "backups")
    old_schema = store.SCHEMA_VERSION - 1
    assert written[0].name.endswith(f"before-schema{old_schema}.backup")
    saved = backup.read_backup(written[0])
    assert saved["workspace.json"] == old_files[demo.path.name]
    upgraded.table(SLUG, "2.1", delegation="RU", text="After the upgrade.")
    assert upgraded.pending_migration() is None


def test_a_day_with_no_change_links_the_last_backup(demo: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "backups"
    _on_day(monkeypatch, datetime(2021, 3, 1, tzinfo=UTC))
    (first,) = backup.automatic_backup(demo, folder)
    _on_day(monkeypatch, datetime(2021, 3, 2, tzinfo=UTC))
    (second,) = backup.automatic_backup(demo, folder)
    assert first.stat().st_ino == second.stat().st_ino
    assert backup.read_backup(second) == _contents(demo)


def test_a_replaced_last_backup_is_not_trusted(demo: Workspace, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "backups"
    _on_day(monkeypatch, datetime(2021, 3, 1, tzinfo=UTC))
    (first,) = backup.automatic_backup(demo, folder)
    first.write_bytes(b"\0" * first.stat().st_size)  # same size, other bytes
    demo.table(SLUG, "2.1", delegation="RU", text="Changed on the second day.")
    _on_day(monkeypatch, datetime(2021, 3, 2, tzinfo=UTC))
    (second,) = backup.automatic_backup(demo, folder)
    with zipfile.ZipFile(second) as archive:
        assert archive.testzip() is None
    assert backup.read_backup(second) == _contents(demo)


def test_a_crafted_backup_whose_index_names_another_file_is_refused(demo: Workspace,
                                                                    tmp_path: Path) -> None:
    import orjson

    saved = backup.read_backup(backup.backup(demo, tmp_path / "snap.backup"))
    index = orjson.loads(saved["workspace.json"])
    before = {p: p.read_bytes() for p in demo.files()}
    for crafted in ("../other/ws.summits/x.json", "/etc/passwd", "missing.json"):
        next(iter(index["summits"].values()))["file"] = crafted
        members = {"summit-agenda-backup.json": MANIFEST, **saved,
                   "workspace.json": orjson.dumps(index)}
        bad = tmp_path / "crafted.backup"
        bad.write_bytes(_zip(members))
        with pytest.raises(AgendaError, match="outside the backup"):
            backup.restore(demo, bad)
        assert {p: p.read_bytes() for p in demo.files()} == before


def test_restore_mends_a_crafted_workspace_without_copying_outside_files(
        demo: Workspace, tmp_path: Path) -> None:
    import orjson

    good = backup.backup(demo, tmp_path / "snap.backup")
    secret = tmp_path / "secret.json"
    secret.write_bytes(b'{"not": "yours"}')
    index = orjson.loads(demo.path.read_bytes())
    next(iter(index["summits"].values()))["file"] = str(secret)
    demo.path.write_bytes(orjson.dumps(index))
    aside = backup.restore(Workspace(demo.path), good)
    # The summit file the crafted index no longer named is kept aside, the outside file not.
    assert sorted(p.name for p in aside.iterdir()) == [f"summits-{SLUG}.json", "workspace.json"]
    assert secret.read_bytes() == b'{"not": "yours"}'
    assert integrity.check(Workspace(demo.path)) == []


# The detached daily backup -----------------------------------------------------------------

def _big(tmp_path: Path) -> Workspace:
    """A workspace larger than DETACH_ABOVE: its first daily backup goes to the worker."""
    from agenda.model import Delegation
    from agenda.workspace import NewItem

    ws = Workspace(tmp_path / "big.json", create=True)
    ws.create_summit("Big", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="big", sections=["One"])
    ws.add_items("big", [NewItem("One", f"Item {n}", f"word{n} " * 700) for n in range(250)],
                 delegation="IN")
    assert sum(p.stat().st_size for p in ws.files()) > backup.DETACH_ABOVE
    return ws


def _wait_for_worker(folder: Path) -> None:
    """Returns once no process holds the backups folder's lock: the worker has exited (it
    holds the lock from before the command returns until its very end)."""
    fd = os.open(folder / ".lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)


def _held(folder: Path) -> bool:
    fd = os.open(folder / ".lock", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _summit(db: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agenda", *argv, "--db", str(db)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120)


def _daily(ws: Workspace) -> Path:
    return paths.backups_dir(ws.path) / paths.daily_backup_name(ws.path, backup.today())


# Imported by the worker's interpreter only: it waits there until the test opens the gate.
GATE = textwrap.dedent("""
    import os, sys

    class Gate:
        def find_spec(self, name, path=None, target=None):
            if name == "agenda.backup_worker":
                with open(os.environ["BACKUP_TEST_GATE"], "rb") as gate:
                    gate.read()
            return None

    if os.environ.get("BACKUP_TEST_GATE"):
        sys.meta_path.insert(0, Gate())
""")


def test_the_command_returns_while_its_worker_takes_the_backup(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _big(tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(GATE)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    monkeypatch.setenv("BACKUP_TEST_GATE", str(gate))
    # A caller reading the command's pipes gets its output and its end while the worker is
    # still stopped at the gate, before its backup.
    done = _summit(ws.path, "items")
    assert done.returncode == 0 and "Item 249" in done.stdout and done.stderr == ""
    folder = paths.backups_dir(ws.path)
    assert _held(folder) and not _daily(ws).exists()
    with open(gate, "wb"):
        pass  # the worker's read of the gate ends
    _wait_for_worker(folder)
    assert backup.read_backup(_daily(ws)) == _contents(ws)
    assert not (folder / paths.BACKUP_FAILED).exists()


def test_the_workers_backup_is_the_one_the_command_would_take(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _big(tmp_path)
    day = backup.today()
    pid = backup.daily_backup(ws, day)
    assert isinstance(pid, int)  # detached
    os.waitpid(pid, 0)
    folder = paths.backups_dir(ws.path)
    here = tmp_path / "here"
    (in_process,) = backup.automatic_backup(ws, here)
    assert backup.read_backup(_daily(ws)) == backup.read_backup(in_process) == _contents(ws)
    by_worker = json.loads((folder / backup.LAST_BACKUP).read_bytes())
    by_us = json.loads((here / backup.LAST_BACKUP).read_bytes())
    assert by_worker["backup"] == by_us["backup"] == _daily(ws).name
    # Where each member sits depends on the manifest's length (its time of creation).
    def kept(files: dict[str, dict[str, Any]]) -> dict[str, object]:
        return {n: (f["stamp"], f["sha256"], {k: v for k, v in f["placed"].items()
                                              if k != "offset"}) for n, f in files.items()}

    assert kept(by_worker["files"]) == kept(by_us["files"])
    # The next day's backup copies from the worker's as from one taken in the command.
    ws.table("big", "1.1", delegation="RU", text="Changed on the second day.")
    _on_day(monkeypatch, datetime(2100, 1, 2, tzinfo=UTC))
    pid = backup.daily_backup(ws)
    assert isinstance(pid, int)
    os.waitpid(pid, 0)
    (second,) = folder.glob("big-2100-01-02.backup")
    assert backup.read_backup(second) == _contents(ws)


def test_nothing_changed_or_a_small_workspace_is_backed_up_in_the_command(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker(*args: object) -> int:
        raise AssertionError("no worker for this")

    monkeypatch.setattr(backup, "_spawn_worker", no_worker)
    assert backup.daily_backup(demo) == _daily(demo)  # small: written here
    monkeypatch.setattr(backup, "DETACH_ABOVE", 0)
    _on_day(monkeypatch, datetime(2100, 1, 2, tzinfo=UTC))
    linked = backup.daily_backup(demo)
    assert isinstance(linked, Path) and linked.stat().st_nlink == 2  # unchanged: a link


def test_a_failed_worker_is_reported_once_by_the_next_command(
        demo: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    folder = paths.backups_dir(demo.path)
    folder.mkdir()
    with monkeypatch.context() as patched:
        patched.setattr(backup, "_write_backup", full)
        backup.run_worker(demo.path, folder, backup.today(),
                          os.open(folder / ".lock", os.O_RDWR | os.O_CREAT))
    assert sorted(p.name for p in folder.iterdir()) == [".lock", paths.BACKUP_FAILED]
    main(["items", "--db", str(demo.path)])
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "warning: the automatic backup" in err and "No space left on device" in err
    assert not (folder / paths.BACKUP_FAILED).exists()
    assert _daily(demo).exists()  # the command that reported it took the backup again
    main(["items", "--db", str(demo.path)])
    assert capsys.readouterr().err == ""


WORKER_KILLED = SLOW_WRITER + textwrap.dedent("""
    from agenda import backup_worker
    folder = Path(sys.argv[2])
    folder.mkdir(exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT)
    backup_worker.main(["--lock-fd", str(fd), "--folder", str(folder), "--day", sys.argv[3],
                        "--", sys.argv[1]])
""")


def test_a_killed_worker_leaves_nothing_half_written(demo: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(WORKER_KILLED)
    folder = paths.backups_dir(demo.path)
    proc = subprocess.Popen([sys.executable, str(script), str(demo.path), str(folder),
                             backup.today()], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    (leftover,) = folder.glob(".*.tmp")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert leftover.exists() and not _daily(demo).exists()
    main(["items", "--db", str(demo.path)])  # the next command's backup tidies up
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock", _daily(demo).name, backup.LAST_BACKUP]
    assert backup.read_backup(_daily(demo)) == _contents(demo)


def test_concurrent_commands_start_one_worker(demo: Workspace,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []

    def spawn(workspace: Path, folder: Path, day: str, lock_fd: int) -> int:
        started.append(os.dup(lock_fd))  # a worker still running: it holds the lock
        return 1

    monkeypatch.setattr(backup, "DETACH_ABOVE", 0)
    monkeypatch.setattr(backup, "_spawn_worker", spawn)
    for _ in range(3):
        main(["items", "--db", str(demo.path)])
    assert len(started) == 1
    os.close(started[0])  # that worker is done, and wrote nothing (as if killed)
    main(["items", "--db", str(demo.path)])
    assert len(started) == 2  # the backup is still due: the next command starts one
    os.close(started[1])


def test_commands_started_together_take_one_backup(tmp_path: Path) -> None:
    ws = _big(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-m", "agenda", "items", "--db", str(ws.path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(4)]
    assert [p.communicate(timeout=120)[1] for p in procs] == [b""] * 4
    folder = paths.backups_dir(ws.path)
    _wait_for_worker(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        ".lock", _daily(ws).name, backup.LAST_BACKUP]
    assert backup.read_backup(_daily(ws)) == _contents(ws)
