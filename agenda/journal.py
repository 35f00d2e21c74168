"""A summit's file as an append-only journal: each commit appends one checksummed line.

0.1 rewrote a summit's whole file at every commit, so tabling cost grew with the history
(229 ms at 10k revisions, 1.2 s at 50k). Records never change, so the file can only grow:

* line 1 is a header naming the app, the kind of file and the schema;
* every commit appends one line `<crc32> <json>`, holding what the transaction added (`a`:
  documents appended to a table) and what it set (`p`: documents put under a key, for the
  few small tables that are updated, such as the labels a workspace has shown);
* the line is written (its checksum, its JSON, its newline, never joined), then fsynced;
  if that fails (disk full), the file is truncated back to its last commit, so it holds
  exactly the committed state;
* a line that is cut short or whose checksum fails, at the end of the file, is a commit that
  never finished (a SIGKILL): it is dropped on reading, and truncated by the next writer,
  which holds the workspace lock; the same damage anywhere else is refused by name;
* another process's commits are read incrementally: same inode and a longer file means only
  the new lines are parsed.

A full rewrite (a migration from 0.1, or a compaction once superseded puts make up half the
lines) goes through the atomic temp-file-and-rename path, as the workspace index does.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from agenda.digest import sha256
from agenda.store import (
    APP,
    StoreError,
    WorkspaceLock,
    _stamp,
    _write_fully,
    atomic_write,
    file_mode,
    new_file_mode,
    read_file,
)

SCHEMA = 2
KIND = "summit"


_CHUNK = 4096  # documents serialised at a time in a large commit line


class _Line:
    """A commit line, `<crc32> <json>\n`, as parts to write one after the other.

    A large one (an import of 100k items: 170 MB of JSON) is never held whole: its JSON is
    serialised a few thousand documents at a time, once for the checksum and again while
    it is written. Held whole, and joined to its checksum, it set the import's peak memory.
    The bytes are `orjson.dumps(batch)`'s exactly.
    """

    def __init__(self, batch: dict[str, Any],
                 spills: dict[tuple[str, str], _Spill] | None = None) -> None:
        self.batch = batch
        self.spills = spills or {}
        docs = sum(len(tables) for section in batch.values() for tables in section.values())
        self.whole = orjson.dumps(batch) if docs <= _CHUNK and not self.spills else None
        crc, size = 0, 0
        for part in self._json():
            crc, size = zlib.crc32(part, crc), size + len(part)
        self.prefix = b"%08x " % crc
        self.size = len(self.prefix) + size + 1

    def __iter__(self) -> Iterator[bytes]:
        yield self.prefix
        yield from self._json()
        yield b"\n"

    def _json(self) -> Iterator[bytes]:
        if self.whole is not None:
            yield self.whole
            return
        yield b"{"
        for n, (name, tables) in enumerate(self.batch.items()):
            yield (b"," if n else b"") + orjson.dumps(name) + b":{"
            for m, (table, docs) in enumerate(tables.items()):
                yield (b"," if m else b"") + orjson.dumps(table) + b":"
                spill = self.spills.get((name, table))
                if spill is None:
                    yield from _chunks(docs)
                    continue
                # The documents held in memory, then those written out: the bytes orjson
                # gives the whole table.
                opening, closing = _brackets(docs)
                yield opening
                yield from _inner(docs)
                if docs and spill.count:
                    yield b","
                yield from spill.parts()
                yield closing
            yield b"}"
        yield b"}"


def _chunks(docs: list[Any] | dict[str, Any]) -> Iterator[bytes]:
    """A list or an object in the bytes orjson gives it whole, a few thousand entries at a
    time."""
    if len(docs) <= _CHUNK:
        yield orjson.dumps(docs)
        return
    opening, closing = _brackets(docs)
    yield opening
    yield from _inner(docs)
    yield closing


def _brackets(docs: list[Any] | dict[str, Any]) -> tuple[bytes, bytes]:
    return (b"[", b"]") if isinstance(docs, list) else (b"{", b"}")


def _inner(docs: list[Any] | dict[str, Any]) -> Iterator[bytes]:
    """`_chunks(docs)` without its brackets (nothing for no documents)."""
    if len(docs) <= _CHUNK:
        if docs:
            yield orjson.dumps(docs)[1:-1]
        return
    if isinstance(docs, list):
        parts: Iterator[Any] = (docs[at:at + _CHUNK] for at in range(0, len(docs), _CHUNK))
    else:
        entries = iter(docs.items())
        parts = iter(lambda: dict(itertools.islice(entries, _CHUNK)), {})
    for n, part in enumerate(parts):
        yield (b"," if n else b"") + orjson.dumps(part)[1:-1]


class _Spill:
    """One table's documents, written out as they are made instead of held (an import into
    a new summit: 100k items made 170 MB of documents, every one held until the commit).

    An anonymous file in the summit's folder (never visible, so a killed writer leaves
    nothing), holding the documents' JSON as orjson spells them inside their list or object,
    comma-separated; the commit copies it into its line.
    """

    def __init__(self, folder: Path) -> None:
        import tempfile  # only here: it imports shutil, which no command's start needs

        self.file = tempfile.TemporaryFile(dir=folder)
        self.count = 0

    def add(self, docs: list[Any] | dict[str, Any]) -> None:
        if not docs:
            return
        self.file.write((b"," if self.count else b"") + orjson.dumps(docs)[1:-1])
        self.count += len(docs)

    def parts(self) -> Iterator[bytes]:
        self.file.flush()
        self.file.seek(0)
        while chunk := self.file.read(1 << 20):
            yield chunk

    def close(self) -> None:
        self.file.close()


def digest(raw: bytes) -> tuple[int, str]:
    """A journal's bytes named by their length and SHA-256 (what a kept listing is keyed by)."""
    return len(raw), sha256(raw).hexdigest()


CHECK_APART_FROM = 8 * 1024 * 1024  # bytes: below this a fork costs more than it saves


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_LOADAVG = "/proc/loadavg"
_MEMINFO = "/proc/meminfo"
# The child's parse holds about four times the file's size in objects (40 MB: ~150 MB).
_MEMORY_PER_BYTE = 8


def _memory_for(size: int) -> bool:
    """Whether the memory available (Linux's MemAvailable; elsewhere assumed) leaves room
    for a second parse of `size` bytes, with as much to spare: a checker must never push
    the machine into swapping, or the reader out of memory."""
    try:
        with open(_MEMINFO, "rb") as status:
            for line in status:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024 >= size * _MEMORY_PER_BYTE
    except (OSError, ValueError, IndexError):
        pass
    return True


_SAMPLES = 3  # looks at the tasks running, _SAMPLE_GAP seconds apart
_SAMPLE_GAP = 0.0005


def _core_free(journal: Path | None = None) -> bool:
    """Whether a core is idle now (this process aside): more than one core, and fewer tasks
    running than cores (Linux's /proc/loadavg, this process among them; elsewhere assumed)
    at any of a few looks a moment apart. A keeper still at work from the command before
    (its read's forked child) takes the other core of two in every look: at its usual
    priority, a checker beside it made `table` 0.56 s instead of 0.45. So a keeper of
    `journal` that runs in the background (agenda.detached: the lowest priority, which
    leaves the core to the checker) is not counted (`_keeper_in_background`). A kernel
    thread that runs for a moment (the kept data written back to the disk) is gone at the
    next look; at one look, a read of 20,000 items went without a checker one time in three
    (0.50 s instead of 0.38)."""
    cores = _cores()
    if cores < 2:
        return False
    for look in range(_SAMPLES):
        running = _running()
        if running is None or running < cores:
            return True
        if journal is not None and running - 1 < cores and _keeper_in_background(journal):
            return True
        if look + 1 < _SAMPLES:
            time.sleep(_SAMPLE_GAP)
    return False


def _keeper_in_background(journal: Path) -> bool:
    """Whether one of the tasks running now is a keeper of `journal` in the background: the
    pid its keeping lock names (`pid=N`, written by the keeper once it runs there), running
    at the background's priority."""
    from agenda import detached
    from agenda.paths import keeping_lock

    try:
        with open(keeping_lock(journal), "rb") as lock:
            pid = detached.pid_named(lock.read(4096))
    except OSError:
        return False
    return pid is not None and detached.running_in_background(pid)


def _running() -> int | None:
    """The tasks running now (/proc/loadavg's fourth field, before its slash); None where
    it cannot be read."""
    try:
        with open(_LOADAVG, "rb") as status:
            return int(status.read().split()[3].partition(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


class _Checker:
    """A forked child that parses the journal's bytes as the reader does and says, down a
    pipe, what the reader trusts until then (`first`, `whole`): that its lines are intact
    and each line parsed in parts is what its parts say, and what `check` says of the
    records (every id its content's hash, the texts' bracket counts). At 20,000 items
    (40 MB) that is done beside the reader's own parse, decode and fold, on the other core,
    instead of before them."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self._heard = b""

    @classmethod
    def start(cls, journal: Journal, raw: bytes, check: Callable[[list[Any]], bytes | None],
              spelled: bool = False) -> _Checker | None:
        """None where a fork is not safe or not possible (a thread running, no fork): the
        reader then hashes every id itself, as without a checker.

        The child reads the bytes as the reader does (`spelled`: parsing the lines `_Line`
        spells in parts, `Journal._apply_parts`), checking every line's checksum, and says
        first where its intact lines end, how many there are, and what `check` says of
        their records (`first`); then, having parsed what it left of each line parted, that
        each such line whole is what its parts say (`whole`): spelled after its records as
        `orjson.dumps` spells the rest of its tables (no repeated key, nothing between
        them), as a read that parses every line whole would take it."""
        from agenda import detached

        if not detached.may_fork() or not _core_free(journal.path) \
                or not _memory_for(len(raw)):
            return None  # else the child would come on top of ours: its work, or its memory
        try:
            readable, writable = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(readable)
            os.close(writable)
            return None
        if pid == 0:  # the child: its own copy of the journal; nothing it does is kept
            try:
                os.close(readable)
                detached.streams_on_devnull()
                journal._checker = None
                journal.lazy_tables, journal._checksummed = False, True
                journal._parse_all(raw, lazy=spelled)
                said = check(journal.records_log())
                if said is not None:
                    _write_fully(writable, b"%d %d %d\n" % (journal._valid, journal._lines,
                                                            len(said)) + said)
                    if journal._whole_in_parts():
                        _write_fully(writable, _WHOLE)
            finally:
                os._exit(0)
        os.close(writable)
        return cls(pid, readable)

    def first(self) -> tuple[tuple[int, int], bytes] | None:
        """What the child read (the bytes its intact lines end at, and their count) and what
        `check` said of their records; None when it said nothing (not every id is its
        content's hash) or could not tell (it failed, or was killed). Waits for it."""
        while b"\n" not in self._heard and self._hear():
            pass
        head, newline, rest = self._heard.partition(b"\n")
        fields = head.split(b" ")
        if not newline or len(fields) != 3 or not all(f.isdigit() for f in fields):
            return None
        size = int(fields[2])
        self._heard = rest
        while len(self._heard) < size and self._hear():
            pass
        if len(self._heard) < size:
            return None
        said, self._heard = self._heard[:size], self._heard[size:]
        return (int(fields[0]), int(fields[1])), said

    def whole(self) -> bool:
        """Whether the child, after `first`, found each line it parsed in parts whole what
        its parts say. Waits for it, then reaps it."""
        while self._hear():
            pass
        self._end()
        return self._heard == _WHOLE

    def _hear(self) -> bool:
        """Read what the child wrote next into `_heard`; False at its end (or a failure)."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self._heard += chunk
        return bool(chunk)

    def drop(self) -> None:
        """Not needed any more: the child is stopped and reaped."""
        import signal

        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self._end()

    def _end(self) -> None:
        """Close the pipe and reap the child, once (the descriptor's number may be reused)."""
        fd, pid, self.fd, self.pid = self.fd, self.pid, -1, 0
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
        if pid > 0:
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass


_WHOLE = b"whole\n"


def _digest_parts(raw: bytes, valid: int, appended: tuple[bytes, ...]) -> tuple[int, str]:
    """`digest` of the first `valid` bytes of `raw` followed by `appended`, unjoined."""
    hasher = sha256(memoryview(raw)[:valid])
    for part in appended:
        hasher.update(part)
    return valid + sum(map(len, appended)), hasher.hexdigest()


def _first_line(raw: bytes) -> bytes:
    """The bytes before the first newline (all of them if there is none), sliced: a split or
    a partition would copy the rest of the file too (28 ms of a 40 MB summit's read)."""
    end = raw.find(b"\n")
    return raw if end < 0 else raw[:end]


def _header() -> bytes:
    return orjson.dumps({"app": APP, "kind": KIND, "schema": SCHEMA}) + b"\n"


def is_journal(raw: bytes) -> bool:
    first = _first_line(raw)
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return isinstance(header, dict) and header.get("kind") == KIND and "schema" in header \
        and "_meta" not in header


class Journal:
    """The in-memory contents of one summit journal, and its appends.

    `logs` are append-only tables (lists of documents); `puts` are small keyed tables. A
    transaction's changes are applied in memory at once, so the operation reads its own
    writes, and either committed as one line or rolled back.
    """

    def __init__(self, path: Path, lock: WorkspaceLock) -> None:
        self.path = path
        self._lock = lock
        self._logs: dict[str, list[Any]] = {}
        # The tables other than `records` of lines a whole read left unparsed (`lazy_tables`),
        # in line order: the bytes of their JSON, or those of a line parsed whole since.
        self._deferred: list[memoryview | dict[str, Any]] = []
        self.puts: dict[str, dict[str, Any]] = {}
        self.generation = 0  # bumped whenever the contents are re-read from scratch
        self.legacy: dict[str, Any] | None = None  # a 0.1 file's tables, until migrated
        self._valid = 0  # bytes of the file that hold committed lines
        self._stamp: tuple[int, int, int] | None = None
        self._lines = 0
        self._superseded = 0
        self._pending_logs: dict[str, int] = {}  # table -> length before the transaction
        self._pending_puts: dict[str, dict[str, Any]] = {}
        self._undo_puts: list[tuple[str, str, Any]] = []
        self._rewrite = False
        self._loaded = False
        # (size, SHA-256) of the bytes the last whole read parsed, while the contents are
        # exactly those bytes' (None after an incremental read or a write): what kept data
        # (snapshot.py) is keyed by. Taken only when `identify` asks, at read time: hashing
        # the file later could name bytes a writer appended since, and every other reader
        # (writes, the app, check) would pay ~33 ms per 40 MB for nothing.
        self.identify = False
        self._identity: tuple[int, str] | None = None
        # Set by a write that keeps after its output (`Workspace.fold_later`): the bytes of
        # the last whole read, how many of them hold committed lines, and the lines this
        # process appended since, while the file is exactly those (`written_later`). Its
        # keeper hashes them instead of the write reading 40 MB again under the lock.
        self.hold_bytes = False
        self._held: tuple[bytes, int, list[bytes]] | None = None
        # Set by a command that reads a summit whole (records.checked_apart): a journal of
        # `CHECK_APART_FROM` bytes or more has its records' ids hashed by a forked process,
        # which parses the same bytes, while this one parses and decodes them (`ids_checked`).
        self.check_apart: Callable[[list[Any]], bytes | None] | None = None
        self._checker: _Checker | None = None
        # Set by a read-only command's whole read: while a checker parses every line whole,
        # this process parses of each line only its records and puts, and the other tables
        # (the event log, the undo log: a third of a summit's bytes) when first asked for,
        # once the checker vouched for the lines (`vouched`).
        self.lazy_tables = False
        self._checksummed = False  # the checker's: lines parsed in parts checksummed too
        self._verdict: bool | None = None
        self._records_verdict: bool | None = None
        self.checked_said = b""  # what `check_apart` said of the records, once vouched
        self.in_parts = False  # the last whole read parsed lines in parts (`vouched` needed)
        self._read_end: tuple[int, int] = (0, 0)
        self._read_counts: dict[str, int] = {}
        # Those bytes themselves, until `identity` is first asked for: a command that keeps
        # after its output leaves the hash to its keeper (`identity_later`).
        self._named: bytes | None = None
        # The file's bytes as a reader just read them, with the stamp they were read under
        # (`offer`): the next whole read uses them if the file still has that stamp, instead
        # of reading 40 MB a second time.
        self._offered: tuple[tuple[int, int, int], bytes] | None = None
        # A new journal's tables written out as they are made (`write_out`), until the commit.
        self._spills: dict[tuple[str, str], _Spill] = {}
        # Set by a commit of tables written out: nothing of the file is held in memory, and
        # the workspace drops this journal (its summit is read again when next asked for).
        self.released = False
        # Set by `serve`: the file's contents are not held, only what this process appends.
        self.partial = False

    @property
    def logs(self) -> dict[str, list[Any]]:
        """The appended tables, every one whole (the deferred ones parsed now: `vouched`)."""
        if self._deferred:
            self._take_deferred()
        return self._logs

    @logs.setter
    def logs(self, value: dict[str, list[Any]]) -> None:
        self._logs, self._deferred = value, []

    def records_log(self) -> list[Any]:
        """The `records` table, whole: never deferred."""
        return self._logs.get("records", [])

    @property
    def deferring(self) -> bool:
        """Whether tables other than `records` are left unparsed (`lazy_tables`)."""
        return bool(self._deferred)

    def count_later(self, table: str) -> Callable[[], int]:
        """The length of `table` now, as a function to ask later, while the last whole
        read's tables are deferred: what the read found in it (known once they are parsed,
        `_take_deferred`) and what this process has appended to it since."""
        appended = len(self._logs.get(table, ()))

        def count() -> int:
            if self._deferred:
                self._take_deferred()
            return self._read_counts.get(table, 0) + appended

        return count

    def vouched_records(self) -> bool:
        """Whether the forked checker read the last whole read's bytes into the same lines
        (each intact: its checksum checked), with every record's id its content's hash; then
        `checked_said` is what it said of them. Asked once, it waits for the checker's first
        word; False without one."""
        if self._records_verdict is None:
            heard = self._checker.first() if self._checker is not None else None
            self._records_verdict = heard is not None and heard[0] == self._read_end
            self.checked_said = heard[1] if heard is not None and self._records_verdict \
                else b""
        return self._records_verdict

    def vouched(self) -> bool:
        """`vouched_records`, and each line this read parsed in parts is, whole, what its
        parts say, so every table is what a read that parses every line whole holds. Asked
        once, it waits for the checker; False without one."""
        if self._verdict is None:
            self._verdict = self.vouched_records() and self._checker is not None \
                and self._checker.whole()
            self.drop_checker()
        return self._verdict

    def _take_deferred(self) -> None:
        """Parse the tables a read in parts left for later, and put them before what this
        process appended to them since (`append` needs them not): their lists keep their
        identity, a transaction's starts move with them, and `count_later` says how many
        the read had."""
        if not self.vouched():
            if self.dirty:  # a read in parts is vouched for before anything is appended
                raise RuntimeError(f"{self.path}: a transaction on lines not vouched for")
            # Never seen unless the checker vouched for the lines: else the file is read
            # again, each line parsed whole, as by a read without a checker.
            self.read_whole_again()
            self._read_counts = {table: len(docs) for table, docs in self._logs.items()}
            return
        deferred, self._deferred = self._deferred, []
        read: dict[str, list[Any]] = {}
        for part in deferred:
            tables = part if isinstance(part, dict) else orjson.loads(b"{" + bytes(part))
            for table, docs in tables.items():
                read.setdefault(table, []).extend(docs)
        for table, docs in read.items():
            self._logs.setdefault(table, [])[0:0] = docs
            if table in self._pending_logs:
                self._pending_logs[table] += len(docs)
        self._read_counts = {table: len(docs) for table, docs in read.items()}

    def read_whole_again(self) -> None:
        """Read the file again from scratch, every line parsed whole, without a checker
        (its verdict was no, or could not be had)."""
        self.check_apart, self.lazy_tables = None, False
        self._read_all()  # drops the checker and every table, parses every line whole

    @property
    def identity(self) -> tuple[int, str] | None:
        if self._identity is None and self._named is not None:
            self._identity, self._named = digest(self._named), None
        return self._identity

    @identity.setter
    def identity(self, value: tuple[int, str] | None) -> None:
        self._identity, self._named = value, None

    @property
    def identified(self) -> bool:
        """Whether `identity` names the bytes of the last whole read (without hashing them)."""
        return self._identity is not None or self._named is not None

    def identity_later(self) -> tuple[int, str] | Callable[[], tuple[int, str]] | None:
        """`identity`, or, when not hashed yet, a function that hashes the same bytes (they
        never change: a bytes object); for a keeper after the command's output."""
        if self._identity is None and self._named is not None:
            return functools.partial(digest, self._named)
        return self._identity

    def written_later(self) -> Callable[[], tuple[int, str]] | None:
        """The file's `identity` as this process's last commit left it, as a function that
        hashes the bytes it holds (`hold_bytes`: those of its whole read, the lines it
        appended since), for a keeper after the command's output; None when it does not
        hold them, or the file's size is not theirs. Under the lock that commit held."""
        held = self._held
        if held is None or self._rewrite or self.partial:
            return None
        raw, valid, appended = held
        size = valid + sum(map(len, appended))
        try:
            if size != self._valid or os.path.getsize(self.path) != size:
                return None
        except OSError:
            return None
        return functools.partial(_digest_parts, raw, valid, tuple(appended))

    # Reading --------------------------------------------------------------------------------

    def offer(self, stamp: tuple[int, int, int] | None, raw: bytes) -> None:
        """Bytes of this file read under `stamp`, for the next whole read (once)."""
        self._offered = (stamp, raw) if stamp is not None else None

    def load(self) -> None:
        if self._spills:
            raise RuntimeError(f"{self.path} is being written out: it can be read once the "
                               "transaction is committed")
        if not self._loaded:
            self._read_all()

    def refresh(self) -> bool:
        """See another process's commits; True when the contents changed."""
        if not self._loaded:
            self._read_all()
            return True
        self._offered = None
        if (self.dirty and self._lock.held()) or self._lock.frozen():
            return False
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return False
        if (stamp is not None and self._stamp is not None and stamp[0] == self._stamp[0]
                and stamp[1] > self._valid and self.legacy is None and not self.partial):
            if self._deferred:  # the read's tables whole before what follows them
                generation = self.generation
                self._take_deferred()
                if self.generation != generation:
                    return True  # read again whole (not vouched for): what follows with it
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self._valid)
                    tail = handle.read()
            except OSError as exc:
                raise StoreError(f"{self.path} cannot be read: {exc.strerror}") from None
            try:
                self.identity = None
                self._held = None
                self._apply_lines(tail, self._valid, final=True)
            except BaseException:
                self._loaded, self._stamp = False, None
                raise
            self._stamp = stamp
            return True
        self._read_all()
        return True

    def _read_all(self) -> None:
        self.partial = False
        stamp = _stamp(self.path)
        offered, self._offered = self._offered, None
        raw = offered[1] if offered is not None and offered[0] == stamp else \
            read_file(self.path)
        self.identity = None
        self.logs, self.puts, self.legacy = {}, {}, None
        self._lines = self._superseded = 0
        self.generation += 1
        self._stamp = stamp
        self._loaded = True
        self._held = None
        self.drop_checker()
        self._verdict = self._records_verdict = None
        self.checked_said = b""
        if self.check_apart is not None and len(raw) >= CHECK_APART_FROM:
            self._checker = _Checker.start(self, raw, self.check_apart, self.lazy_tables)
        try:
            lazy = self.in_parts = self.lazy_tables and self._checker is not None
            try:
                self._parse_all(raw, lazy=lazy)
            except Exception:
                if not lazy:
                    raise
                # Refused in the words of a read that parses every line whole.
                self.drop_checker()
                self.logs, self.puts, self.legacy = {}, {}, None
                self._lines = self._superseded = 0
                self.in_parts = False
                self._parse_all(raw)
            self._read_end = (self._valid, self._lines)
            if self.identify:
                self._named = raw  # hashed when `identity` is asked for
            if self.hold_bytes:
                self._held = (raw, self._valid, [])
        except BaseException:
            # Nothing half-read stays: the next reader reads the file again, and refuses it
            # again in the same words, until it is mended.
            self.logs, self.puts, self.legacy = {}, {}, None
            self._loaded, self._stamp = False, None
            self.drop_checker()
            raise

    def ids_checked(self, whole: bool) -> Callable[[], bool] | None:
        """For decoding the records of the last whole read (`whole`: all of them, from the
        first): a function that waits for the forked checker's verdict (`vouched`: True when
        every id is its content's hash and the lines are what they were read as), for
        `records.decode_all`; None without a checker. The checker is reaped by its verdict,
        or here when not `whole`."""
        if self._checker is not None and not whole:
            self.drop_checker()
            return None
        return self.vouched if self._checker is not None else None

    def _whole_in_parts(self) -> bool:
        """The checker's second word: whether what each line parsed in parts left for later
        (its tables after the records, up to its puts) is, parsed, a mapping of tables
        (lists) without `records`, spelled as `orjson.dumps` spells it: then the line, whole,
        is what its parts say."""
        for part in self._deferred:
            if isinstance(part, dict):
                continue
            spelled = b"{" + bytes(part)
            try:
                tables = orjson.loads(spelled)
            except orjson.JSONDecodeError:
                return False
            if type(tables) is not dict or "records" in tables \
                    or not all(type(docs) is list for docs in tables.values()) \
                    or orjson.dumps(tables) != spelled:
                return False
        return True

    def drop_checker(self) -> None:
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.drop()

    def _parse_all(self, raw: bytes, lazy: bool = False) -> None:
        untouched = "It was not opened and has not been changed"
        if not is_journal(raw):
            self.legacy = self._legacy(raw, untouched)
            self._valid = len(raw)
            return
        first = _first_line(raw)
        header = orjson.loads(first)
        if header.get("app") != APP:
            raise StoreError(f"{self.path} is not a Summit Agenda summit file. {untouched}")
        if not isinstance(header.get("schema"), int) or header["schema"] > SCHEMA:
            raise StoreError(
                f"{self.path} was written by a newer Summit Agenda (schema "
                f"{header.get('schema')}, this one reads up to {SCHEMA}). {untouched}; "
                "upgrade summit-agenda")
        self._valid = len(first) + 1
        # The lines after the header, where they lie in the file's bytes (not a copy of them).
        self._apply_lines(raw, 0, final=True, start=self._valid, lazy=lazy)

    def _apply_lines(self, data: bytes, offset: int, *, final: bool, start: int = 0,
                     lazy: bool = False) -> bool:
        """Apply complete, intact lines of `data` from `start` (file position `offset + start`);
        a damaged last line is an unfinished commit."""
        position = start
        view = memoryview(data)  # lines parsed where they lie: 40 MB not copied twice
        while position < len(data):
            end = data.find(b"\n", position)
            if end < 0:
                break  # cut short: a commit in flight, or killed
            if lazy and self._apply_parts(data, view, position, end):
                position = end + 1
                self._lines += 1
                continue
            batch = _parse_line(view[position:end])
            if batch is None:
                if data.find(b"\n", end + 1) >= 0 or end + 1 < len(data):
                    raise StoreError(
                        f"{self.path} is damaged at byte {offset + position} (a line fails "
                        "its checksum). It has not been changed; restore it from a backup "
                        "(summit restore FILE)")
                break
            self._apply_batch(batch)
            position = end + 1
            self._lines += 1
        self._valid = offset + position
        return True

    def _apply_batch(self, batch: dict[str, Any]) -> None:
        if not _well_shaped(batch):
            raise StoreError(f"{self.path} is damaged (a line of the wrong shape). It has not "
                             "been changed; restore it from a backup (summit restore FILE)")
        appended, put = batch.get("a", {}), batch.get("p", {})
        if self._deferred:  # after the deferred tables, in line order
            records = appended.get("records")
            if records is not None:
                self._logs.setdefault("records", []).extend(records)
            self._deferred.append({t: docs for t, docs in appended.items() if t != "records"})
        else:
            for table, docs in appended.items():
                self._logs.setdefault(table, []).extend(docs)
        self._apply_puts(put)

    def _apply_parts(self, data: bytes, view: memoryview, start: int, end: int) -> bool:
        """Apply the line `data[start:end]` parsing only its records and puts, its other
        tables deferred (`lazy_tables`), when it is spelled as this module writes a commit,
        `{"a":{"records":[…],"events":[…],…},"p":{…}}`; False, having applied nothing, for
        any other line (parsed whole by the caller, or refused).

        Each part is found by its delimiter and kept only if it parses alone. A JSON string
        holds no unescaped quote, so a delimiter is structure; a `[` that parses alone up to
        a `],"events":[` can only be the records list, and an object that parses alone from
        the last `},"p":` to the line's last byte only the puts. The checksum is not checked
        here, and the parts between are valid only if the line is: the checker, parsing
        every line whole as a read without it does (checksums, shapes, where the intact
        lines end), says so (`vouched`) before anything reads them or the read is used."""
        payload = start + 9
        if end - start < 10 or data[start + 8] != 32 or data[end - 1] != 125 \
                or not data.startswith(_LAZY_HEAD, payload):  # 32: " ", 125: "}"
            return False
        puts_at = data.rfind(_LAZY_PUTS, payload, end)
        split = data.rfind(_LAZY_SPLIT, payload, puts_at if puts_at >= 0 else end)
        if split < 0:
            return False
        if self._checksummed:  # the checker: every line's checksum, as a whole read
            try:
                if int(data[start:start + 8], 16) != zlib.crc32(view[payload:end]):
                    return False
            except ValueError:
                return False
        try:
            records = orjson.loads(view[payload + len(_LAZY_HEAD) - 1:split + 1])
            if puts_at >= 0:
                put = orjson.loads(view[puts_at + len(_LAZY_PUTS):end - 1])
                rest = view[split + 2:puts_at + 1]
            else:
                put, rest = {}, view[split + 2:end - 1]
        except orjson.JSONDecodeError:
            return False
        if type(put) is not dict or not all(type(docs) is dict for docs in put.values()):
            return False
        self._logs.setdefault("records", []).extend(records)
        self._deferred.append(rest)
        self._apply_puts(put)
        return True

    def _apply_puts(self, put: dict[str, Any]) -> None:
        for table, docs in put.items():
            target = self.puts.setdefault(table, {})
            for key, doc in docs.items():
                if key in target:
                    self._superseded += 1
                target[key] = doc

    def _legacy(self, raw: bytes, untouched: str) -> dict[str, Any]:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            kind = "empty" if not raw.strip() else "damaged (not valid JSON: " + str(exc) + ")"
            raise StoreError(f"{self.path} is {kind}. {untouched}; restore it from a backup "
                             "(summit restore FILE) or move it aside") from None
        meta = data.get("_meta", {}).get("1") if isinstance(data, dict) else None
        if (not isinstance(meta, dict) or meta.get("app") != APP or meta.get("kind") != KIND
                or meta.get("schema") != 1
                or not all(isinstance(table, dict) for table in data.values())):
            raise StoreError(f"{self.path} is not a Summit Agenda summit file. {untouched}")
        return data

    def counts(self) -> tuple[int, int]:
        """The file's commit lines and the puts they hold that a later one replaced: what
        decides a compaction (`commit`), for a checkpoint that serves a write (`serve`)."""
        return self._lines, self._superseded

    def serve(self, stamp: tuple[int, int, int] | None, size: int, lines: int,
              superseded: int) -> None:
        """Append to a file of `size` committed bytes, read under `stamp` by the caller under
        the lock, without holding its contents: `logs` and `puts` hold only what is appended
        from now on (snapshot.py's served write). `lines` and `superseded` are its `counts()`;
        a commit that would rewrite the file whole (a compaction) is refused, as it would
        write only what is held."""
        if self.dirty or self._spills:
            raise RuntimeError("a journal with changes cannot be served")
        self.logs, self.puts, self.legacy = {}, {}, None
        self._valid, self._stamp = size, stamp
        self._lines, self._superseded = lines, superseded
        self.identity, self._offered = None, None
        self.generation += 1
        self._loaded, self.partial = True, True

    def compaction_due(self, superseded: int = 0) -> bool:
        """Whether the next commit rewrites the file whole, `superseded` more puts replaced."""
        return (self._superseded + superseded) * 2 > max(self._lines, 1000)

    def unchanged(self) -> bool:
        """Whether the file is still what was last read (or still absent, if never read)."""
        return not self._loaded or _stamp(self.path) == self._stamp

    # Writing --------------------------------------------------------------------------------

    @property
    def rewriting(self) -> bool:
        """The commit writes the file whole (a new journal, a migration, a compaction)."""
        return self._rewrite

    @property
    def dirty(self) -> bool:
        return bool(self._pending_logs or self._pending_puts or self._rewrite)

    def append(self, table: str, docs: list[Any]) -> None:
        self._writable()
        self.identity = None
        if ("a", table) in self._spills:
            self._spills[("a", table)].add(docs)  # after those written out, in order
            return
        log = self._logs.setdefault(table, [])  # a deferred table's read comes before it
        self._pending_logs.setdefault(table, len(log))
        log.extend(docs)

    def put(self, table: str, key: str, doc: Any) -> None:
        self._writable()
        self.identity = None
        if ("p", table) in self._spills:
            raise RuntimeError("a put into a table written out (keys must not repeat there: "
                               "use write_out)")
        target = self.puts.setdefault(table, {})
        self._undo_puts.append((table, key, target.get(key)))
        target[key] = doc
        self._pending_puts.setdefault(table, {})[key] = doc

    def write_out(self, logs: dict[str, list[Any]], puts: dict[str, dict[str, Any]]) -> None:
        """Append documents to a new journal's tables (as `append` and `put` would) by writing
        them out at once rather than holding them: an import into a new summit keeps its
        memory bounded. Until the commit the journal cannot be read (the documents are not in
        `logs`); after it, the next reader reads the file. Once a table is written out, all
        of its later documents must be too, so they stay in order."""
        self._writable()
        if not self._rewrite:
            raise RuntimeError("only a journal written whole (a new one) can be written out")
        self.identity = None
        for section, tables, holder in (("a", logs, self.logs), ("p", puts, self.puts)):
            for table, docs in tables.items():
                held = holder.setdefault(table, {} if section == "p" else [])  # type: ignore[arg-type]
                spill = self._spills.get((section, table))
                if spill is None:
                    if not docs:
                        continue
                    if section == "p" and any(key in held for key in docs):
                        raise RuntimeError("a written-out put cannot replace a held one")
                    spill = self._spills[(section, table)] = _Spill(self.path.parent)
                spill.add(docs)

    def _drop_spills(self) -> None:
        spills, self._spills = self._spills, {}
        for spill in spills.values():
            spill.close()

    def replace_all(self, logs: dict[str, list[Any]], puts: dict[str, dict[str, Any]]) -> None:
        """New contents for the whole file (a migration or a new summit), written at commit."""
        self._writable(new=True)
        self.identity = None
        self._held = None
        self.logs, self.puts, self.legacy = logs, puts, None
        self._rewrite = True

    def _writable(self, new: bool = False) -> None:
        if not self._lock.held():
            raise RuntimeError("a write outside a transaction would bypass the workspace lock")
        if self.legacy is not None and not new:
            raise RuntimeError("a 0.1 summit file must be migrated before it is written")

    def commit(self) -> None:
        if not self.dirty:
            return
        try:
            if self._rewrite or self.compaction_due():
                if self.partial:
                    raise StoreError(f"{self.path} is due a compaction, which a write served "
                                     "from kept data cannot make; nothing was changed")
                self._held = None  # the file is written anew: its bytes are not held
                self._write_all()
            else:
                self._append_line()
        except BaseException:
            self.rollback()
            raise
        self._pending_logs, self._pending_puts, self._undo_puts = {}, {}, []
        self._rewrite = False

    def _write_all(self) -> None:
        batch: dict[str, Any] = {}
        spills = self._spills
        logs = {t: docs for t, docs in self.logs.items() if docs or ("a", t) in spills}
        puts = {t: docs for t, docs in self.puts.items() if docs or ("p", t) in spills}
        if logs:
            batch["a"] = logs
        if puts:
            batch["p"] = puts
        header, line = _header(), (_Line(batch, spills) if batch else None)
        payload = itertools.chain([header], line or ())
        # A new journal is shared as the workspace's index is (the lock file sits beside it).
        index = self._lock.path.with_suffix("")
        atomic_write(self.path, payload, mode=(new_file_mode(index), file_mode(index)[1]))
        self._valid = len(header) + (line.size if line else 0)
        self._stamp = _stamp(self.path)
        self._lines = 1 if batch else 0
        self._superseded = 0
        self.generation += 1
        if spills:
            # What was written out is not in memory: the next reader reads the file.
            self._drop_spills()
            self.logs, self.puts = {}, {}
            self._loaded, self._stamp = False, None
            self.released = True

    def _append_line(self) -> None:
        batch: dict[str, Any] = {}
        logs = self._logs  # what this transaction appended: never deferred
        added = {t: logs[t][start:] for t, start in self._pending_logs.items()
                 if len(logs[t]) > start}
        if added:
            batch["a"] = added
        if self._pending_puts:
            batch["p"] = self._pending_puts
        line = _Line(batch)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        try:
            if os.fstat(fd).st_size != self._valid:
                os.ftruncate(fd, self._valid)  # an unfinished commit a killed writer left
            try:
                for part in line:
                    view = memoryview(part)
                    while view:
                        view = view[os.write(fd, view):]
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, self._valid)
                self._held = None
                raise
        finally:
            os.close(fd)
        if self._held is not None:
            self._held[2].extend(bytes(part) for part in line)
        self._valid += line.size
        self._lines += 1
        self._superseded += sum(1 for t, _, old in self._undo_puts if old is not None)
        self._stamp = _stamp(self.path)

    def rollback(self) -> None:
        self._drop_spills()
        for table, start in self._pending_logs.items():
            del self.logs[table][start:]
        for table, key, old in reversed(self._undo_puts):
            if old is None:
                self.puts[table].pop(key, None)
            else:
                self.puts[table][key] = old
        if self._rewrite:
            self._loaded = False  # re-read the file as it is on disk
            self._stamp = None
        self._pending_logs, self._pending_puts, self._undo_puts = {}, {}, []
        self._rewrite = False

    def create(self) -> None:
        """Start an empty journal, written at the next commit; only if the file is absent."""
        if self.path.exists():
            raise StoreError(f"{self.path} already exists; it has not been changed")
        self._loaded = True
        self.replace_all({}, {})


# A commit line as `_Line` spells one of records and events (`Journal._apply_parts`).
_LAZY_HEAD = b'{"a":{"records":['
_LAZY_SPLIT = b'],"events":['
_LAZY_PUTS = b'},"p":'


def appended(data: bytes) -> list[dict[str, Any]] | None:
    """The commits of a journal's tail (the bytes after a line's end), each checked as a
    whole read checks it; None unless every line is whole, intact and of the right shape
    (a reader that needs the tail exactly leaves anything else to the whole read)."""
    batches = []
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        if end < 0:
            return None
        batch = _parse_line(data[position:end])
        if batch is None or not _well_shaped(batch):
            return None
        batches.append(batch)
        position = end + 1
    return batches


def _well_shaped(batch: dict[str, Any]) -> bool:
    """A commit's shape: tables of appended documents (lists) and of puts (objects)."""
    appended, put = batch.get("a", {}), batch.get("p", {})
    return (isinstance(appended, dict) and isinstance(put, dict)
            and all(isinstance(docs, list) for docs in appended.values())
            and all(isinstance(docs, dict) for docs in put.values()))


def _parse_line(line: bytes | memoryview) -> dict[str, Any] | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    payload = line[9:]
    try:
        if int(bytes(line[:8]), 16) != zlib.crc32(payload):
            return None
        batch = orjson.loads(payload)
    except (ValueError, orjson.JSONDecodeError):
        return None
    return batch if isinstance(batch, dict) else None

