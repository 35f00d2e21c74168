"""TinyDB storage that never tears a file: atomic replace, a cross-process lock, schema checks.

TinyDB's own JSONStorage rewrites its file in place and has no lock; RESEARCH.md measured
torn and silently altered files after SIGKILL, and lost writes with two processes. This
module keeps TinyDB's Storage interface (`read`, `write`, `close`) and adds what a negotiating
text needs:

* every commit writes a temporary file in the same folder, fsyncs it, `os.replace`s it over
  the old one and fsyncs the folder, so a crash leaves either the old or the new file;
* writes happen only inside a transaction holding an `flock` on a lock file beside the
  workspace, and TinyDB's writes inside it are buffered and committed once; writers take
  that lock in the order they asked for it (a ticket queue in `NAME.lock.d/`), and one
  who waits over a second is told who holds it;
* a rewritten file keeps the mode and group it had, and a new file takes the workspace
  index's, so a workspace shared with a group on purpose stays shared;
* the parsed data is kept in memory and re-read only when the file changed on disk
  (inode, size and mtime), so a read costs a `stat`, not a parse;
* a damaged, foreign or newer-schema file is refused with a message naming it, and is
  never written to.
"""

from __future__ import annotations

import _thread  # the locks threading hands out, without importing threading
import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from agenda.model import AgendaError

APP = "summit-agenda"
SCHEMA_VERSION = 2
META_TABLE = "_meta"
LOCK_TIMEOUT = 15.0
WAIT_NOTICE_AFTER = 1.0  # seconds a writer waits before it is told who holds the lock
# Where a waiting writer is told who holds the lock, unless its lock has a `notify` of its
# own: the CLI sets it to its stderr; the app, which owns the terminal, leaves it unset.
notify_waiting: Callable[[str], None] | None = None

# Migrations of the workspace index from schema n to n + 1, applied in memory on read and
# written on the next commit. Schema 2 says that every summit file is a journal of records:
# the index itself does not change, and the workspace converts the summit files (migrate.py)
# in the same transaction, before the index is written.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda data: data}


class StoreError(AgendaError):
    """A workspace file cannot be used as it is; it has been left untouched."""


class WorkspaceBusy(StoreError):
    """Another process held the workspace lock for too long."""


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _write_fully(fd: int, payload: bytes) -> None:
    """Write all of payload; a short write (disk full) raises instead of leaving a stub."""
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_file(path: Path) -> bytes:
    """A store file's bytes, or one line saying why they cannot be had."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"{path} does not exist") from None
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}") from None


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_mode(path: Path, default: int = 0o600) -> tuple[int, int | None]:
    """The permission bits and group a file has, or `default` and no group if it is absent."""
    try:
        st = os.stat(path)
    except OSError:
        return default, None
    return st.st_mode & 0o7777, st.st_gid


def folder_mode(index: Path) -> int:
    """The mode for a folder of the workspace: whoever may read its index may enter it."""
    mode = new_file_mode(index) & 0o777
    return mode | ((mode & 0o444) >> 2)


def new_file_mode(index: Path) -> int:
    """The mode for a file the workspace creates: its index's; in a folder made setgid to
    share it with a group, the group reads and writes it too."""
    mode, _ = file_mode(index)
    try:
        if os.stat(index.parent).st_mode & 0o2000:
            mode |= (mode & 0o600) >> 3
    except OSError:
        pass
    return mode


def _apply_mode(fd: int, mode: int, gid: int | None) -> None:
    # The umask must not narrow a group-shared workspace, nor the owner's group replace
    # the one the file was shared with; a group we are not in is beyond us, and stays.
    if gid is not None and gid != os.fstat(fd).st_gid:
        try:
            os.fchown(fd, -1, gid)
        except OSError:
            pass
    os.fchmod(fd, mode & 0o777)


def atomic_write(path: Path, payload: bytes | Iterable[bytes], *,
                 mode: tuple[int, int | None] | None = None) -> None:
    """Replace path with payload (bytes, or parts written in turn, never joined in memory)
    so that a crash at any instant leaves old or new, never half.

    The new file keeps the mode and group of the one it replaces; a file that did not exist
    takes `mode` (the workspace's, see `file_mode`), else 0600.
    """
    # A fresh name, never an existing file nor a symlink planted where the temp file goes.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    keep = file_mode(path, -1)
    if keep[0] < 0:
        keep = mode if mode is not None else (new_file_mode(path), None)
    with replacing(tmp, path):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            _apply_mode(fd, *keep)
            for part in [payload] if isinstance(payload, bytes) else payload:
                _write_fully(fd, part)
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_folder(path.parent)


@contextmanager
def replacing(tmp: Path, dest: Path) -> Iterator[None]:
    """The temporary file written in the block takes dest's place at its end; on any failure
    it is removed and dest left as it was, and an OSError names dest, not the temp file."""
    try:
        yield
        os.replace(tmp, dest)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp)):
            # Name the file the user knows, not our temp file (os.write names none at all).
            raise OSError(exc.errno, exc.strerror, str(dest)) from exc
        raise


def remove_stale_temp_files(folder: Path, name: str = "*") -> None:
    """Delete temp files a killed writer left behind for file `name` (a glob) in folder.

    Call only while holding the lock, and name only files the lock guards: another
    program's temp files, or a backup being written beside the workspace, are not ours.
    """
    if not folder.is_dir():
        return
    for leftover in folder.glob(f".{name}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _holder_line() -> bytes:
    """Who takes the lock: written into the ticket, read by whoever waits for it."""
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "?"
    return orjson.dumps({"pid": os.getpid(), "command": command[:200],
                         "since": time.time()})


def describe_holder(raw: bytes) -> str:
    """A ticket's holder in words; a ticket of garbage is merely 'another process'."""
    try:
        info = orjson.loads(raw)
        pid, command, since = int(info["pid"]), str(info["command"]), float(info["since"])
        when = time.strftime("%H:%M:%S", time.localtime(since))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError, OSError):
        return "another process"
    # The command line is another user's text: no control character reaches a terminal.
    shown = "".join(c if c.isprintable() else "?" for c in command)[:120]
    return f"process {pid} ({shown}) since {when}"


class WorkspaceLock:
    """An exclusive lock for the workspace: a thread lock inside the process, flock across.

    Re-entrant for the owning thread, so an operation can call another without deadlock.
    Writers queue in the order they asked: each holds an flock on its own ticket file in
    `NAME.lock.d/` (named by the time it asked, so names sort in arrival order) and takes
    the lock only when no live ticket is older; a killed writer's ticket, whose flock the
    kernel released, is removed by the next writer that meets it. `notify` (if set) is told
    once, after `WAIT_NOTICE_AFTER` seconds of waiting, who holds the lock.
    """

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT,
                 notify: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.queue = path.with_name(path.name + ".d")
        self.timeout = timeout
        self.notify = notify
        self.waits = 0  # turns this process let another writer go first (for tests)
        self._thread_lock = _thread.RLock()
        self._depth = 0
        self._owner: int | None = None
        self._fd: int | None = None
        self._ticket: tuple[Path, int] | None = None
        self._deferring = False  # held in memory only, until `take` (see `deferred`)
        self._taken = False

    def held(self) -> bool:
        return self._depth > 0 and self._owner == _thread.get_ident()

    @property
    def depth(self) -> int:
        """How many nested holds the current thread has (0 if it does not hold the lock)."""
        return self._depth if self.held() else 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                # Under a deferred hold the lock is taken only to commit (`take`).
                self._fd = None if self._deferring else self._acquire()
                self._owner = _thread.get_ident()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fd, self._fd, self._owner = self._fd, None, None
                    if fd is not None:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                        os.close(fd)
                    if not self._deferring or self._taken:
                        self._leave_queue()
                    self._taken = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Holds of this thread are held in memory only: an operation computes its writes
        meanwhile, seeing the files as they were when it first read them (`frozen`), and
        `take`s the lock only to commit them. Readers and writers elsewhere go on."""
        with self._thread_lock:
            if self._depth > 0:
                raise RuntimeError("a deferred hold inside a hold")
            self._deferring, self._taken = True, False
            try:
                yield
            finally:
                self._deferring = False

    def frozen(self) -> bool:
        """Whether this thread computes under a deferred hold: files are not re-read."""
        return self._deferring and self.held()

    def pending(self) -> bool:
        """A deferred hold that has not taken the lock yet."""
        return self.frozen() and not self._taken

    def really_held(self) -> bool:
        """Whether this thread holds the lock across processes, not just in memory."""
        return self.held() and (not self._deferring or self._taken)

    def take(self) -> None:
        """Take the lock for real, for a deferred hold's commit (waiting in the queue)."""
        if self.pending():
            self._fd = self._acquire()
            self._taken = True

    @contextmanager
    def try_hold(self) -> Iterator[bool]:
        """The lock if nobody holds it or waits for it, else False at once (never waits)."""
        with self._thread_lock:
            if self._depth > 0:
                with self.hold():
                    yield True
                return
            if self._first_alive("u") is not None:  # "u" sorts after every ticket
                yield False
                return
            fd = self._open_lock()
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    yield False
                    return
            self._fd, self._owner, self._depth = fd, _thread.get_ident(), 1
            try:
                yield True
            finally:
                self._depth = 0
                self._fd, self._owner = None, None
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)

    def _open_lock(self) -> int | None:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                           file_mode(self.path.with_suffix(""))[0] & 0o666)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise
            # Read-only media or a lock file we may not write: flock needs only a read
            # descriptor; and where no lock file can be created, no temp file can be either,
            # so nobody writes here and reading without a lock is safe.
            try:
                return os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
            except FileNotFoundError:
                return None

    # The queue ------------------------------------------------------------------------------

    def _queue_names(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.queue) if n.startswith("t-"))
        except OSError:
            return []

    def _join_queue(self) -> None:
        """Take a ticket; where the queue folder cannot be written, go without one."""
        try:
            mode = file_mode(self.path.with_suffix(""))[0] & 0o777
            try:
                os.mkdir(self.queue, mode | ((mode & 0o444) >> 2))
            except FileExistsError:
                pass
            name = f"t-{time.time_ns():020d}-{os.getpid():08d}-{_thread.get_ident() % 10**8:08d}"
            tmp = self.queue / f"n-{name}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode & 0o666)
        except OSError:
            return
        try:
            # Locked before it is visible under its name: a ticket seen unlocked is dead.
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, _holder_line())
            os.rename(tmp, self.queue / name)
        except OSError:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            return
        self._ticket = (self.queue / name, fd)

    def _leave_queue(self) -> None:
        ticket, self._ticket = self._ticket, None
        if ticket is not None:
            path, fd = ticket
            path.unlink(missing_ok=True)
            os.close(fd)

    def _first_alive(self, mine: str) -> Path | None:
        """The oldest live ticket ahead of ours, removing dead ones on the way."""
        for name in self._queue_names():
            if name >= mine:
                return None
            other = self.queue / name
            try:
                fd = os.open(other, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return other  # locked: its writer lives
            else:
                try:
                    other.unlink(missing_ok=True)  # its writer was killed
                except OSError:
                    pass
            finally:
                os.close(fd)
        return None

    def _holder(self) -> str:
        for name in self._queue_names():
            try:
                with open(self.queue / name, "rb") as handle:
                    return describe_holder(handle.read(4096))
            except OSError:
                continue
        return "another process"

    def _acquire(self) -> int | None:
        fd = self._open_lock()
        if fd is None:
            return None
        self._join_queue()
        start = time.monotonic()
        told = False
        ahead: Path | None = None
        try:
            while True:
                first = self._first_alive(self._ticket[0].name) if self._ticket else None
                if first is None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        return fd
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                elif first != ahead:
                    ahead = first
                    self.waits += 1
                waited = time.monotonic() - start
                notify = self.notify if self.notify is not None else notify_waiting
                if not told and waited > WAIT_NOTICE_AFTER and notify is not None:
                    told = True
                    notify(f"waiting for the workspace lock, held by {self._holder()}")
                if waited > self.timeout:
                    raise WorkspaceBusy(
                        f"The workspace {self.path.with_suffix('')} is locked by "
                        f"{self._holder()} (waited {self.timeout:.0f} s); nothing was "
                        "changed; try again when it has finished")
                time.sleep(0.005)
        except BaseException:
            os.close(fd)
            self._leave_queue()
            raise

    @contextmanager
    def thread_only(self) -> Iterator[None]:
        """Serialise readers and writers of this process (Textual workers are threads)."""
        with self._thread_lock:
            yield


class AtomicStorage(Storage):
    """A TinyDB Storage over one JSON file, parsed once, committed atomically.

    `kind` names what the file must hold ("workspace" or "summit"); anything else is refused.
    """

    def __init__(self, path: str | os.PathLike[str], *, kind: str, lock: WorkspaceLock) -> None:
        self.path = Path(path)
        self.kind = kind
        self._lock = lock
        self._data: dict[str, Any] | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._dirty = False
        self.migrated_from: int | None = None  # the schema on disk, while a migration waits

    # TinyDB's interface -------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        if self._data is None:
            self._load()
        assert self._data is not None
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if not self._lock.held():
            raise RuntimeError("a write outside a transaction would bypass the workspace lock")
        self._data = data
        self._dirty = True

    def close(self) -> None:
        self._data = None

    # Transactions -------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Re-read the file if another process replaced it; True when the data changed."""
        # Uncommitted changes of our own transaction are the truth while we hold the lock;
        # a deferred hold computes on the file as first read (its commit checks it still is).
        if self._data is not None and (
            (self._dirty and self._lock.held()) or self._lock.frozen()
            or _stamp(self.path) == self._stamp
        ):
            return False
        self._load()
        return True

    def create(self) -> None:
        """Start an empty file of this kind, written at the next commit; only if absent."""
        assert self._lock.held()
        if self.path.exists():
            raise StoreError(f"{self.path} already exists; it has not been changed")
        self._data = {META_TABLE: {"1": self._meta()}}
        self._stamp = None
        self._dirty = True

    def unchanged(self) -> bool:
        """Whether the file is still what was last read (or still absent)."""
        return self._data is None or _stamp(self.path) == self._stamp

    def commit(self) -> None:
        if not self._dirty:
            return
        assert self._data is not None
        payload = orjson.dumps(self._data)
        try:
            atomic_write(self.path, payload)
        except BaseException:
            self.rollback()
            raise
        self._stamp = _stamp(self.path)
        self._dirty = False
        self.migrated_from = None

    def rollback(self) -> None:
        """Forget in-memory changes; TinyDB may have mutated documents in place."""
        self._data = None
        self._stamp = None
        self._dirty = False

    # Loading ------------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {"app": APP, "kind": self.kind, "schema": SCHEMA_VERSION}

    def _load(self) -> None:
        stamp = _stamp(self.path)
        raw = read_file(self.path)
        data = self._parse(raw)
        self._data = data
        self._stamp = stamp
        self._dirty = False
        schema = data[META_TABLE]["1"]["schema"]
        if schema < SCHEMA_VERSION:
            # The file on disk keeps its old schema until the next commit: time enough for
            # integrity.automatic_backup to save it first.
            self.migrated_from = schema
            self._data = migrate(data, schema)
            self._dirty = True

    def _parse(self, raw: bytes) -> dict[str, Any]:
        untouched = "It was not opened and has not been changed"
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            kind = "empty" if not raw.strip() else "damaged (not valid JSON: " + str(exc) + ")"
            raise StoreError(
                f"{self.path} is {kind}. {untouched}; restore it from a backup "
                "(summit restore FILE) or move it aside"
            ) from None
        meta = data.get(META_TABLE, {}).get("1") if isinstance(data, dict) else None
        if (
            not isinstance(meta, dict)
            or meta.get("app") != APP
            or meta.get("kind") != self.kind
            or not isinstance(meta.get("schema"), int)
            or not all(isinstance(table, dict) for table in data.values())
        ):
            raise StoreError(
                f"{self.path} is not a Summit Agenda {self.kind} file. {untouched}; "
                "point --db at a workspace file or a new path"
            )
        if meta["schema"] > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Summit Agenda (schema {meta['schema']}, "
                f"this one reads up to {SCHEMA_VERSION}). {untouched}; upgrade summit-agenda"
            )
        return data


def migrate(data: dict[str, Any], schema: int) -> dict[str, Any]:
    """Bring data from an older schema up to SCHEMA_VERSION, one step at a time."""
    while schema < SCHEMA_VERSION:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise StoreError(f"No migration from schema {schema}; this file cannot be upgraded")
        data = step(data)
        schema += 1
        data[META_TABLE]["1"]["schema"] = schema
    return data


def open_db(path: Path, *, kind: str, lock: WorkspaceLock) -> TinyDB:
    """A TinyDB over an AtomicStorage; the file must exist (see AtomicStorage.create)."""
    return TinyDB(path, kind=kind, lock=lock, storage=AtomicStorage)


def storage_of(db: TinyDB) -> AtomicStorage:
    storage = db.storage
    assert isinstance(storage, AtomicStorage)
    return storage


def forget_cached_ids(db: TinyDB) -> None:
    """TinyDB caches the next document id and query results per instance; after another
    process changed the file both are wrong (RESEARCH.md: 199/400 inserts failed)."""
    for table in db._tables.values():
        table.clear_cache()
        table._next_id = None
