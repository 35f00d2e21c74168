"""TinyDB storage that never tears a file: atomic replace, a cross-process lock, schema checks.

TinyDB's own JSONStorage rewrites its file in place and has no lock; RESEARCH.md measured
torn and silently altered files after SIGKILL, and lost writes with two processes. This
module keeps TinyDB's Storage interface (`read`, `write`, `close`) and adds what a negotiating
text needs:

* every commit writes a temporary file in the same folder, fsyncs it, `os.replace`s it over
  the old one and fsyncs the folder, so a crash leaves either the old or the new file;
* writes happen only inside a transaction holding an `flock` on a lock file beside the
  workspace, and TinyDB's writes inside it are buffered and committed once;
* the parsed data is kept in memory and re-read only when the file changed on disk
  (inode, size and mtime), so a read costs a `stat`, not a parse;
* a damaged, foreign or newer-schema file is refused with a message naming it, and is
  never written to.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
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


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, payload: bytes) -> None:
    """Replace path with payload so that a crash at any instant leaves old or new, never half."""
    # A fresh name, never an existing file nor a symlink planted where the temp file goes.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            _write_fully(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp)):
            # Name the file the user knows, not our temp file (os.write names none at all).
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_folder(path.parent)


def remove_stale_temp_files(folder: Path, name: str = "*") -> None:
    """Delete temp files a killed writer left behind for file `name` (a glob) in folder.

    Call only while holding the lock, and name only files the lock guards: another
    program's temp files, or a backup being written beside the workspace, are not ours.
    """
    if not folder.is_dir():
        return
    for leftover in folder.glob(f".{name}.*.tmp"):
        leftover.unlink(missing_ok=True)


class WorkspaceLock:
    """An exclusive lock for the workspace: a thread lock inside the process, flock across.

    Re-entrant for the owning thread, so an operation can call another without deadlock.
    """

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None
        self._fd: int | None = None

    def held(self) -> bool:
        return self._depth > 0 and self._owner == threading.get_ident()

    @property
    def depth(self) -> int:
        """How many nested holds the current thread has (0 if it does not hold the lock)."""
        return self._depth if self.held() else 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._fd = self._acquire()
                self._owner = threading.get_ident()
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

    def _acquire(self) -> int | None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise
            # Read-only media or a lock file we may not write: flock needs only a read
            # descriptor; and where no lock file can be created, no temp file can be either,
            # so nobody writes here and reading without a lock is safe.
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if time.monotonic() > deadline:
                os.close(fd)
                raise WorkspaceBusy(
                    f"The workspace {self.path.with_suffix('')} is locked by another process "
                    f"(waited {self.timeout:.0f} s); try again when it has finished"
                )
            time.sleep(0.005)

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
        # Uncommitted changes of our own transaction are the truth while we hold the lock.
        if self._data is not None and (
            (self._dirty and self._lock.held()) or _stamp(self.path) == self._stamp
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
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{self.path} does not exist") from None
        except OSError as exc:
            raise StoreError(f"{self.path} cannot be read: {exc.strerror}") from None
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
