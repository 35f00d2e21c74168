"""The append-only journal under the store: one checksummed line per commit, torn tails
dropped, damage refused, other processes' commits read incrementally, rewrites atomic."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agenda.journal import Journal, _first_line, is_journal
from agenda.store import StoreError, WorkspaceLock


def _journal(path: Path) -> tuple[Journal, WorkspaceLock]:
    lock = WorkspaceLock(path.with_name(path.name + ".lock"))
    return Journal(path, lock), lock


def _new(path: Path, batches: list[list[int]]) -> tuple[Journal, WorkspaceLock]:
    journal, lock = _journal(path)
    with lock.hold():
        journal.create()
        journal.commit()
        for batch in batches:
            journal.append("records", batch)
            journal.commit()
    return journal, lock


def _reader(path: Path) -> Journal:
    journal, _ = _journal(path)
    journal.load()
    return journal


def test_each_commit_is_one_checksummed_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _new(path, [[1, 2], [3]])
    header, *lines = path.read_bytes().splitlines()
    assert is_journal(path.read_bytes()) and b'"schema":2' in header
    assert len(lines) == 2
    for line in lines:
        crc, payload = line.split(b" ", 1)
        assert int(crc, 16) == zlib.crc32(payload)
    assert _reader(path).logs["records"] == [1, 2, 3]


@given(cut=st.integers(1, 30))
def test_a_torn_last_line_is_dropped_whatever_its_length(tmp_path_factory: pytest.TempPathFactory,
                                                          cut: int) -> None:
    path = tmp_path_factory.mktemp("torn") / "s.json"
    _new(path, [[1], [2, 3]])
    raw = path.read_bytes()
    path.write_bytes(raw[:-cut])
    assert _reader(path).logs["records"] == [1]


def test_the_next_writer_truncates_a_torn_tail_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _new(path, [[1], [2]])
    path.write_bytes(path.read_bytes()[:-5])
    journal, lock = _journal(path)
    with lock.hold():
        journal.load()
        journal.append("records", [9])
        journal.commit()
    assert _reader(path).logs["records"] == [1, 9]


def test_damage_before_the_last_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _new(path, [[1], [2]])
    raw = bytearray(path.read_bytes())
    # The position named is the damaged line's start in the file (the header's line counted).
    line = raw.rindex(b"\n", 0, raw.index(b"[1]")) + 1
    raw[raw.index(b"[1]") + 1] = ord("7")
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match=f"damaged at byte {line} "):
        _reader(path)


@given(raw=st.binary(max_size=40) | st.lists(st.sampled_from([b"\n", b"x", b"{}"])).map(b"".join))
def test_the_first_line_is_the_bytes_before_the_first_newline(raw: bytes) -> None:
    # Sliced where a split would copy the rest of the file (a 40 MB summit read whole).
    assert _first_line(raw) == raw.split(b"\n", 1)[0]
    assert is_journal(raw) == is_journal(raw.split(b"\n", 1)[0] + b"\n")


def test_another_process_commits_are_read_incrementally(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    writer, lock = _new(path, [[1]])
    reader = _reader(path)
    generation = reader.generation
    with lock.hold():
        writer.append("records", [2])
        writer.commit()
    assert reader.refresh() and reader.logs["records"] == [1, 2]
    assert reader.generation == generation  # the tail only, no re-read from scratch
    assert not reader.refresh()


def test_a_half_written_line_is_read_once_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _new(path, [[1]])
    reader = _reader(path)
    line = path.read_bytes().splitlines(keepends=True)[-1].replace(b"[1]", b"[2]")
    line = b"%08x " % zlib.crc32(line[9:-1]) + line[9:]
    with path.open("ab") as handle:
        handle.write(line[:10])
    assert reader.refresh() in (True, False) and reader.logs["records"] == [1]
    with path.open("ab") as handle:
        handle.write(line[10:])
    assert reader.refresh() and reader.logs["records"] == [1, 2]


def test_rollback_forgets_appends_and_puts(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    journal, lock = _new(path, [[1]])
    with lock.hold():
        journal.put("labels", "a", "v1")
        journal.commit()
        journal.append("records", [2])
        journal.put("labels", "a", "v9")
        journal.put("labels", "b", "v2")
        journal.rollback()
    assert journal.logs["records"] == [1] and journal.puts["labels"] == {"a": "v1"}
    assert _reader(path).puts["labels"] == {"a": "v1"}


def test_superseded_puts_are_compacted_by_an_atomic_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    journal, lock = _new(path, [[1]])
    with lock.hold():
        for n in range(2100):
            journal.put("labels", "a", f"v{n}")
            journal.commit()
    lines = path.read_bytes().splitlines()
    assert len(lines) < 2000  # rewritten at least once
    reread = _reader(path)
    assert reread.logs["records"] == [1] and reread.puts["labels"] == {"a": "v2099"}


def test_writes_need_the_lock(tmp_path: Path) -> None:
    journal, _ = _new(tmp_path / "s.json", [])
    with pytest.raises(RuntimeError, match="outside a transaction"):
        journal.append("records", [1])


def test_a_whole_read_names_its_bytes_hashed_now_or_later(tmp_path: Path) -> None:
    """`identity` hashes the bytes the whole read parsed when first asked for;
    `identity_later` hands those same bytes' digest to a keeper; a write forgets both."""
    import hashlib

    from agenda.journal import digest

    path = tmp_path / "s.json"
    _new(path, [[1, 2], [3]])
    raw = path.read_bytes()
    named = (len(raw), hashlib.sha256(raw).hexdigest())
    journal, lock = _journal(path)
    journal.identify = True
    journal.load()
    later = journal.identity_later()
    assert callable(later) and journal.identified
    path.write_bytes(raw + b"anything after the read")  # the file, not what was read
    assert later() == named == digest(raw)
    assert journal.identity == named and journal.identity_later() == named
    journal.load()  # loaded already: nothing read again
    assert journal.identity == named
    with lock.hold():
        journal.append("records", [4])
        assert journal.identity is None and not journal.identified
        assert journal.identity_later() is None
        journal.rollback()
