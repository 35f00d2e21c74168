"""Storage reliability: atomic writes under disk-full and SIGKILL, locking, refusal of bad files."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agenda import backup, store
from agenda.model import Delegation
from agenda.store import SCHEMA_VERSION, StoreError
from agenda.workspace import Workspace

TWO = [Delegation("IN", "India"), Delegation("RU", "Russia")]


def _make(path: Path, summits: int = 1) -> Workspace:
    ws = Workspace(path, create=True)
    for n in range(summits):
        slug = ws.create_summit(f"Summit {n}", TWO, slug=f"s{n}", sections=["One"]).slug
        ws.add_item(slug, section="One", title="Item", text="Base text.", delegation="IN")
    return ws


def _texts(path: Path, slug: str = "s0") -> list[str]:
    ws = Workspace(path)
    state = ws.state(slug)
    return [r.text for r in state.history(state.item("1.1"))]


def test_files_are_private_and_one_per_summit(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json", summits=2)
    assert (ws.path.stat().st_mode & 0o777) == 0o600
    files = sorted(p.name for p in ws.summits_dir.iterdir())
    assert files == ["s0.json", "s1.json"]
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in ws.summits_dir.iterdir())


def test_tabling_in_one_summit_never_rewrites_another(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json", summits=2)
    other = ws.summits_dir / "s1.json"
    index_before = ws.path.stat().st_ino
    before = (other.stat().st_ino, other.stat().st_mtime_ns, other.read_bytes())
    ws.table("s0", "1.1", delegation="RU", text="Counter.")
    assert (other.stat().st_ino, other.stat().st_mtime_ns, other.read_bytes()) == before
    assert ws.path.stat().st_ino == index_before  # the index is not rewritten either


@pytest.mark.parametrize("fail_after", [0, 1, 7, 100, 1000, 4096, 10_000])
def test_disk_full_mid_write_keeps_the_last_commit(tmp_path: Path, fail_after: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _make(tmp_path / "ws.json")
    ws.table("s0", "1.1", delegation="RU", text="Acknowledged revision. " * 50)
    before = (ws.summits_dir / "s0.json").read_bytes()
    real_write = os.write

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        budget = full_disk.left  # type: ignore[attr-defined]
        if budget <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        written = real_write(fd, bytes(data[:budget]))
        full_disk.left -= written  # type: ignore[attr-defined]
        return written

    full_disk.left = fail_after  # type: ignore[attr-defined]
    monkeypatch.setattr(store.os, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        ws.table("s0", "1.1", delegation="IN", text="This one does not fit. " * 500)
    monkeypatch.undo()
    assert (ws.summits_dir / "s0.json").read_bytes() == before
    assert not list(ws.summits_dir.glob(".*.tmp"))
    # The same instance recovers: it forgets the failed change and writes again.
    assert _texts(ws.path)[-1].startswith("Acknowledged")
    ws.table("s0", "1.1", delegation="IN", text="After the disk was freed.")
    assert _texts(ws.path)[-1] == "After the disk was freed."


def test_a_torn_last_commit_is_dropped_and_overwritten(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json")
    summit_file = ws.summits_dir / "s0.json"
    committed = summit_file.read_bytes()
    ws.table("s0", "1.1", delegation="RU", text="Cut short by a SIGKILL.")
    torn = summit_file.read_bytes()[:-40]
    summit_file.write_bytes(torn)  # the last commit was never finished
    assert _texts(ws.path) == ["Base text."]
    assert summit_file.read_bytes() == torn  # reading changes nothing
    Workspace(ws.path).table("s0", "1.1", delegation="RU", text="Written after.")
    assert _texts(ws.path) == ["Base text.", "Written after."]
    assert summit_file.read_bytes().startswith(committed)


def test_damage_before_the_last_commit_is_refused_and_left_byte_for_byte(
        tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json")
    ws.table("s0", "1.1", delegation="RU", text="A later commit.")
    summit_file = ws.summits_dir / "s0.json"
    raw = bytearray(summit_file.read_bytes())
    raw[raw.index(b"Base text")] ^= 0x20  # one flipped bit inside an earlier line
    damaged = bytes(raw)
    summit_file.write_bytes(damaged)
    with pytest.raises(StoreError, match="s0.json is damaged.*has not been changed"):
        Workspace(ws.path).state("s0")
    with pytest.raises(StoreError):
        Workspace(ws.path).table("s0", "1.1", delegation="RU", text="x")
    assert summit_file.read_bytes() == damaged


@pytest.mark.parametrize("content", [b"", b"{}", b'{"_default": {"1": {"a": 1}}}', b"[1, 2]",
                                     b'{"_meta": {"1": {"app": "other"}}}', b"\x89PNG\r\n"])
def test_foreign_or_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.json"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="notes.json"):
        Workspace(path, create=True)
    assert path.read_bytes() == content


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json")
    data = json.loads(ws.path.read_text())
    data["_meta"]["1"]["schema"] = SCHEMA_VERSION + 1
    ws.path.write_text(json.dumps(data))
    raw = ws.path.read_bytes()
    with pytest.raises(StoreError, match="newer Summit Agenda"):
        Workspace(ws.path)
    assert ws.path.read_bytes() == raw


def test_migration_hook_upgrades_the_index(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _make(tmp_path / "ws.json")
    ws.close()
    summit_before = (ws.summits_dir / "s0.json").read_bytes()
    monkeypatch.setattr(store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)

    def add_flag(data: dict) -> dict:
        data.setdefault("migrated", {})["1"] = {"from": SCHEMA_VERSION}
        return data

    monkeypatch.setitem(store.MIGRATIONS, SCHEMA_VERSION, add_flag)
    upgraded = Workspace(ws.path)
    assert upgraded.pending_migration() == SCHEMA_VERSION
    backup.automatic_backup(upgraded, tmp_path / "backups")
    upgraded.table("s0", "1.1", delegation="RU", text="After the upgrade.")
    index = json.loads(ws.path.read_text())
    assert index["_meta"]["1"]["schema"] == SCHEMA_VERSION + 1
    assert index["migrated"]["1"] == {"from": SCHEMA_VERSION}
    assert (ws.summits_dir / "s0.json").read_bytes().startswith(summit_before)


def test_stale_temp_files_are_cleaned_at_open(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json")
    leftover = ws.summits_dir / ".s0.json.999.1.tmp"
    leftover.write_bytes(b"half a file")
    Workspace(ws.path)
    assert not leftover.exists()


def test_a_read_does_not_reparse_an_unchanged_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _make(tmp_path / "ws.json")
    ws.state("s0")
    calls = []
    real = store.orjson.loads
    monkeypatch.setattr(store.orjson, "loads", lambda raw: calls.append(1) or real(raw))
    ws.state("s0")
    ws.state("s0")
    assert calls == []
    Workspace(ws.path).table("s0", "1.1", delegation="RU", text="Elsewhere.")
    calls.clear()
    ws.state("s0")
    assert len(calls) == 1  # only the summit file that changed


WRITER = textwrap.dedent("""
    import sys
    from agenda.workspace import Workspace
    path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ws = Workspace(path)
    for n in range(count):
        ws.table("s0", "1.1", delegation=who, text=f"{who} revision {n}")
        print(n, flush=True)
""")


def test_two_processes_tabling_at_once_lose_nothing(tmp_path: Path) -> None:
    ws = _make(tmp_path / "ws.json")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    count = 150
    procs = [subprocess.Popen([sys.executable, str(script), str(ws.path), who, str(count)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in ("IN", "RU")]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert len(out.split()) == count
    texts = _texts(ws.path)
    for who in ("IN", "RU"):
        assert [t for t in texts if t.startswith(who)] == [f"{who} revision {n}"
                                                           for n in range(count)]
    state = Workspace(ws.path).state("s0")
    labels = [r.label for r in state.history(state.item("1.1"))]
    assert labels == [f"v{n}" for n in range(1, 2 * count + 2)]


def _kill_trials(tmp_path: Path, trials: int) -> None:
    """Kill a writer at random moments; every surviving file opens with every acknowledged
    revision (the writer prints a revision's number only after its commit returned)."""
    import random

    rng = random.Random(2021)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    for trial in range(trials):
        path = tmp_path / f"kill{trial}" / "ws.json"
        path.parent.mkdir()
        _make(path).close()
        proc = subprocess.Popen([sys.executable, str(script), str(path), "RU", "100000"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        # Wait for the first commit, so every kill lands while the writer is writing,
        # however slowly the machine starts Python.
        first = proc.stdout.readline()
        time.sleep(rng.random() * 0.3)
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        acknowledged = [int(n) for n in (first + rest).split()]
        assert acknowledged, "the writer never committed"
        texts = _texts(path)
        assert texts[0] == "Base text."
        stored = [t for t in texts if t.startswith("RU")]
        assert stored[: len(acknowledged)] == [f"RU revision {n}" for n in acknowledged]
        assert len(stored) - len(acknowledged) in (0, 1)  # at most the one in flight


def test_sigkill_during_writes_leaves_a_readable_file(tmp_path: Path) -> None:
    _kill_trials(tmp_path, trials=5)


@pytest.mark.slow
def test_sigkill_trials_200(tmp_path: Path) -> None:
    _kill_trials(tmp_path, trials=200)


def test_threads_sharing_one_workspace(tmp_path: Path) -> None:
    """Textual workers are threads: one Workspace serves them all without losing writes."""
    from concurrent.futures import ThreadPoolExecutor

    ws = _make(tmp_path / "ws.json")

    def table(n: int) -> None:
        ws.table("s0", "1.1", delegation="RU" if n % 2 else "IN", text=f"thread {n}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(table, range(60)))
    texts = _texts(ws.path)
    assert sorted(t for t in texts if t.startswith("thread")) == sorted(
        f"thread {n}" for n in range(60))


@pytest.mark.parametrize("name", ["../other.json", "/etc/passwd", ".hidden.json", "", 7])
def test_a_crafted_index_cannot_send_a_summit_outside_its_folder(tmp_path: Path,
                                                                 name: object) -> None:
    ws = _make(tmp_path / "ws.json")
    ws.close()
    index = json.loads(ws.path.read_text())
    index["summits"]["1"]["file"] = name
    ws.path.write_text(json.dumps(index))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(StoreError, match="outside ws.summits/"):
        Workspace(ws.path).table("s0", "1.1", delegation="RU", text="x")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
