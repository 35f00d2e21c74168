"""Backups of a workspace: consistent zip snapshots, the daily incremental one, and restore.

A backup holds the index as `workspace.json` and exactly the summit files that those index
bytes name, each as `summits/<file name>`: the index is read first and the files it names
after it (a commit writes its summit files before the index that names them), so a summit
another process creates meanwhile is in neither, and one it removes meanwhile (a migration,
a restore) makes the backup start again from the index. Files are read without the
workspace lock: the store replaces them atomically (or appends to them), so a read whose
stamp did not move while it ran is one committed version; only a file that keeps changing
is read under the lock, for the moment its copy takes. Compression happens after, outside
any lock.

The daily backup that has real work to do (the first ever, or files changed on a large
workspace) runs in a detached worker (`agenda.backup_worker`), so the command that found it
due returns at once; the worker's failure waits in a status file for the next command.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import time
import zlib
from dataclasses import asdict, astuple
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from agenda.digest import sha256
from agenda.frozen import frozen
from agenda.journal import is_journal
from agenda.model import AgendaError, now_utc, to_iso
from agenda.paths import BACKUP_FAILED, backups_dir, daily_backup_name
from agenda.store import APP, _apply_mode, _write_fully, atomic_write, file_mode, replacing
from agenda.workspace import Workspace

if TYPE_CHECKING:
    import zipfile

BACKUP_FORMAT = "summit-agenda-backup"
MANIFEST = "summit-agenda-backup.json"
BACKUPS_KEPT = 7
# What the last automatic backup read of each file, so the next one re-reads only changes.
LAST_BACKUP = "last-backup.json"
READ_ATTEMPTS = 3
# A daily backup of a workspace larger than this (all files, in bytes) that cannot be a hard
# link to the last one is taken by a detached worker. Below it, reading and compressing in
# the command's own process (about 10 ms a MB, then one fsync) costs its caller a few ms and
# spares the machine an interpreter's start, and the backup is there when the command ends.
DETACH_ABOVE = 1 << 20

# Restore limits. Level-1 deflate shrinks our JSON about fivefold; a zip bomb shrinks a
# thousandfold. Whatever a backup says, we never inflate more than RATIO × its size on disk
# (with a floor so that small, very repetitive workspaces still restore), nor MAX_TOTAL.
MAX_RATIO = 100
MIN_ALLOWANCE = 64 << 20
MAX_TOTAL = 4 << 30
CHUNK = 1 << 20


@frozen
class Stamp:
    """What identifies one committed version of a file without reading it."""

    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns)


# Which files, read how ---------------------------------------------------------------------

INDEX = "workspace.json"


class _Moved(Exception):
    """A summit file the index read named is gone: another process removed or renamed it
    since (a migration, a restore), and the index now names others. Start again."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def summits_named(ws: Workspace, raw: bytes) -> list[str]:
    """The summit files that these bytes of the workspace index name, each once, refusing
    any outside the summits folder.

    A crafted index could name `../other.json` or an absolute path and have a backup copy
    any readable file into the zip.
    """
    try:
        index = orjson.loads(raw)
        app = index["_meta"]["1"].get("app")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise AgendaError(f"{ws.path} is damaged; nothing was backed up") from None
    if app != APP:
        raise AgendaError(f"{ws.path} is not a Summit Agenda workspace; nothing was backed up")
    found: list[str] = []
    for name in _named_files(index):
        if not isinstance(name, str) or not _plain(name):
            raise AgendaError(f"The workspace {ws.path} names a summit file outside its "
                              f"folder ({ws.summits_dir / str(name)}); nothing was backed up")
        if name not in found:
            found.append(name)
    return found


def _read_named(ws: Workspace, name: str) -> tuple[bytes, Stamp]:
    """A summit file the index names, read consistently; _Moved if it is gone."""
    try:
        return read_consistently(ws, ws.summits_dir / name)
    except FileNotFoundError:
        raise _Moved(name) from None


def _kept_moving(ws: Workspace, moved: _Moved | None) -> AgendaError:
    name = moved.name if moved is not None else "?"
    return AgendaError(f"The workspace {ws.path} names a summit file that is not there "
                       f"({name}), at each of {READ_ATTEMPTS} tries: another process kept "
                       "removing summit files while the backup read them, or the file is "
                       "missing (`summit check`); nothing was backed up")


def _member_name(ws: Workspace, path: Path) -> str | None:
    if path == ws.path:
        return INDEX
    if path.parent == ws.summits_dir and _plain(path.name):
        return f"summits/{path.name}"
    return None


def _plain(name: str) -> bool:
    """A file name that stays in its folder: no separator, not `.` or `..`."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _read_once(path: Path) -> tuple[bytes, Stamp, Stamp]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        before = Stamp.of(os.fstat(fd))
        chunks = []
        while chunk := os.read(fd, CHUNK):
            chunks.append(chunk)
        return b"".join(chunks), before, Stamp.of(os.fstat(fd))
    finally:
        os.close(fd)


def read_consistently(ws: Workspace, path: Path) -> tuple[bytes, Stamp]:
    """One committed version of path, read without the lock unless it keeps changing."""
    for _ in range(READ_ATTEMPTS):
        try:
            raw, before, after = _read_once(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise AgendaError(f"{path} is a symbolic link; nothing was backed up") from None
            raise
        # Same inode, size and mtime at both ends, and still the file at that name:
        # nobody wrote to what we read, and nobody replaced it meanwhile.
        if before == after and len(raw) == after.size and _stamp(path) == after:
            return raw, after
    with ws.lock.hold():
        raw, _, after = _read_once(path)
    return raw, after


def _stamp(path: Path) -> Stamp | None:
    try:
        return Stamp.of(os.stat(path, follow_symlinks=False))
    except FileNotFoundError:
        return None


# Writing a backup --------------------------------------------------------------------------

def _create_temp(dest: Path, mode: int, gid: int | None = None) -> tuple[Path, int]:
    """A new temp file beside dest: never an existing file, never through a symlink."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        # The umask must not narrow a group-shared workspace's copy, nor the group change.
        _apply_mode(fd, mode, gid)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    return tmp, fd


def remove_dead_temps(folder: Path, name: str = "*") -> None:
    """Delete temp files left by killed backups: those whose writing process is gone.

    A live process's temp file (another backup being written now) is left alone.
    """
    try:
        leftovers = list(folder.glob(f".{name}.*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        try:
            pid = int(leftover.name.rsplit(".", 3)[-3])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not _alive(pid):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@frozen
class Placed:
    """Where a member's compressed bytes sit in a backup, to copy them into the next one."""

    crc: int
    size: int
    csize: int
    offset: int  # of the compressed bytes, past the member's local header
    method: int


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_UTF8 = 0x800
_LIMIT = 0xFFFFFFFF


class ZipWriter:
    """Just the part of the zip format a backup needs: deflated members with UTF-8 names.

    zipfile would do, but importing it (with shutil, bz2 and lzma) costs more than writing
    the demo's daily backup; restore, which is rare, still reads backups with zipfile.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.offset = 0
        self.central: list[bytes] = []
        t = time.localtime()
        self.dos_time = t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2
        self.dos_date = (t.tm_year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday

    def _write(self, data: bytes) -> None:
        _write_fully(self.fd, data)
        self.offset += len(data)

    def _header(self, name: str, crc: int, size: int, csize: int, method: int) -> int:
        if max(size, csize, self.offset) >= _LIMIT or len(self.central) >= 0xFFFF:
            raise AgendaError("The workspace is too large for a backup file (4 GB, 65,535 "
                              "files); nothing was backed up")
        encoded = name.encode()
        header_offset = self.offset
        self._write(_LOCAL.pack(b"PK\x03\x04", 20, _UTF8, method, self.dos_time,
                                self.dos_date, crc, csize, size, len(encoded), 0) + encoded)
        self.central.append(_CENTRAL.pack(
            b"PK\x01\x02", 20, 20, _UTF8, method, self.dos_time, self.dos_date, crc, csize,
            size, len(encoded), 0, 0, 0, 0, 0o100600 << 16, header_offset) + encoded)
        return self.offset

    def add(self, name: str, data: bytes) -> Placed:
        # Level 1: JSON still shrinks about fivefold, at a fraction of the default's time.
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        crc = zlib.crc32(data)
        offset = self._header(name, crc, len(data), len(packed), 8)
        self._write(packed)
        return Placed(crc, len(data), len(packed), offset, 8)

    def copy(self, name: str, placed: Placed, source: int) -> Placed:
        """Copy a member's compressed bytes from the previous backup, without inflating them."""
        offset = self._header(name, placed.crc, placed.size, placed.csize, placed.method)
        _copy_range(source, self.fd, placed.offset, placed.csize)
        self.offset += placed.csize
        return Placed(placed.crc, placed.size, placed.csize, offset, placed.method)

    def close(self) -> None:
        start = self.offset
        self._write(b"".join(self.central))
        self._write(_END.pack(b"PK\x05\x06", 0, 0, len(self.central), len(self.central),
                              self.offset - start, start, 0))


def _copy_range(source: int, target: int, offset: int, count: int) -> None:
    """Copy count bytes at offset in source to target's position, in the kernel if it can."""
    end = offset + count
    while offset < end:
        try:
            copied = os.copy_file_range(source, target, end - offset, offset)
        except OSError:
            copied = 0
        if copied == 0:
            chunk = os.pread(source, min(CHUNK, end - offset), offset)
            if not chunk:
                raise AgendaError("The previous backup is shorter than it was; nothing was "
                                  "backed up")
            _write_fully(target, chunk)
            copied = len(chunk)
        offset += copied


def _write_backup(dest: Path, mode: int, manifest: dict[str, Any],
                  entries: list[tuple[str, bytes | Placed]],
                  previous: Path | None = None, gid: int | None = None) -> dict[str, Placed]:
    """Write the backup atomically; a Placed entry is copied as it is from `previous`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temps(dest.parent, dest.name)
    tmp, fd = _create_temp(dest, mode, gid)
    with replacing(tmp, dest):
        source = None
        try:
            # Opened inside: a previous backup that cannot be read leaves no temp file.
            if previous is not None:
                source = os.open(previous, os.O_RDONLY | os.O_NOFOLLOW)
            writer = ZipWriter(fd)
            writer.add(MANIFEST, orjson.dumps(manifest))
            placed = {}
            for name, data in entries:
                if isinstance(data, Placed):
                    assert source is not None
                    placed[name] = writer.copy(name, data, source)
                else:
                    placed[name] = writer.add(name, data)
            writer.close()
            os.fsync(fd)
        finally:
            os.close(fd)
            if source is not None:
                os.close(source)
    return placed


def _manifest(ws: Workspace) -> dict[str, Any]:
    return {"format": BACKUP_FORMAT, "app": APP, "version": 1,
            "created": to_iso(now_utc()), "workspace": ws.path.name}


def _file_mode(ws: Workspace) -> int:
    """A backup is readable by exactly whom the workspace file is."""
    try:
        return os.stat(ws.path).st_mode & 0o666
    except OSError:
        return 0o600


def backup(ws: Workspace, dest: Path) -> Path:
    """Write a consistent snapshot of the whole workspace to one zip file."""
    _write_backup(dest, _file_mode(ws), _manifest(ws), _read_all(ws), gid=file_mode(ws.path)[1])
    return dest


def _read_all(ws: Workspace) -> list[tuple[str, bytes | Placed]]:
    """The index, then every summit file those index bytes name; again from the index if
    one of them was removed meanwhile, at most READ_ATTEMPTS times."""
    moved = None
    for _ in range(READ_ATTEMPTS):
        raw = read_consistently(ws, ws.path)[0]
        entries: list[tuple[str, bytes | Placed]] = [(INDEX, raw)]
        try:
            for name in summits_named(ws, raw):
                entries.append((f"summits/{name}", _read_named(ws, name)[0]))
        except _Moved as exc:
            moved = exc
            continue
        return entries
    raise _kept_moving(ws, moved)


# The automatic backups ---------------------------------------------------------------------

def today() -> str:
    return f"{now_utc():%Y-%m-%d}"


def automatic_backup(ws: Workspace, folder: Path | None = None,
                     keep: int = BACKUPS_KEPT) -> list[Path]:
    """Snapshot the workspace before a schema migration, and once a day of use.

    Daily snapshots beyond the last `keep` are deleted; pre-migration ones are kept. Two
    processes starting the day at once take one backup: the other finds it under way.
    """
    folder = folder if folder is not None else backups_dir(ws.path)
    prefix = f"{ws.path.stem}-"
    wanted = []
    schema = ws.pending_migration()
    before = folder / f"{prefix}before-schema{schema}.backup"
    if schema is not None and not before.exists():
        wanted.append(before)
    daily = folder / daily_backup_name(ws.path, today())
    if not daily.exists():
        wanted.append(daily)
    if not wanted:
        if schema is not None:
            ws.migration_backup = before
        return []
    _make_folder(folder, _file_mode(ws))
    with _folder_lock(folder, _file_mode(ws)) as free:
        if not free:
            return []
        remove_dead_temps(folder)
        written = [_incremental_backup(ws, folder, dest) for dest in wanted
                   if not dest.exists()]
    if schema is not None and before.exists():
        # The workspace migrates only once this is so (Workspace._migrate_summits).
        ws.migration_backup = before
    _prune(folder, ws.path, keep)
    return written


def _prune(folder: Path, workspace: Path, keep: int) -> None:
    """Daily backups beyond the last `keep` go; pre-migration ones stay."""
    for old in sorted(folder.glob(f"{workspace.stem}-[0-9]*.backup"))[:-keep]:
        old.unlink(missing_ok=True)


def _make_folder(folder: Path, file_mode: int) -> None:
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    # Whoever may read the workspace file may list its backups; nobody else.
    os.chmod(folder, file_mode | ((file_mode & 0o444) >> 2))


class _folder_lock:
    """A non-blocking flock on the backups folder: True when this process got it.

    The lock belongs to the open file, so a worker that inherits `fd` holds it on: `keep()`
    hands it over, and the lock is free once the last process holding the file is gone.
    """

    def __init__(self, folder: Path, mode: int) -> None:
        self.path = folder / ".lock"
        self.mode = mode
        self.fd: int | None = None

    def __enter__(self) -> bool:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, self.mode)
        except PermissionError:
            # Created by a colleague sharing the folder: flock needs only to read it.
            self.fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)


class _Plan:
    """What the next daily backup starts from: the last one (if trusted), the index and the
    summit files it names, and each file's stamp, found by stat alone but for an index
    changed since the last backup, which is read here (`index`) to know the files it names.
    """

    def __init__(self, previous: Path | None, known: dict[str, dict[str, Any]],
                 files: list[tuple[str, Path, Stamp | None]], index: bytes | None,
                 named: list[str]) -> None:
        self.previous = previous
        self.known = known
        self.files = files
        self.index = index
        self.named = named

    @property
    def unchanged(self) -> bool:
        """Every file as the last backup read it: today's backup is a hard link to it."""
        return self.previous is not None and {n for n, _, _ in self.files} == set(
            self.known) and all(stamp is not None and list(astuple(stamp)) ==
                                self.known[name]["stamp"] for name, _, stamp in self.files)

    @property
    def size(self) -> int:
        return sum(stamp.size for _, _, stamp in self.files if stamp is not None)


def _plan(ws: Workspace, folder: Path) -> _Plan:
    last = _read_last(folder)
    previous = folder / last["backup"] if last else None
    if previous is not None and _stamp(previous) != Stamp(*last["stamp"]):
        previous, last = None, {}  # replaced or damaged since: trust nothing in it
    known = last.get("files", {})
    # The index as the last backup holds it names the files that backup holds; any other
    # index is read now, and its bytes are the ones this backup holds.
    index: bytes | None = None
    stamp = _stamp(ws.path)
    before = known.get(INDEX)
    if before is not None and "named" in before and stamp is not None \
            and list(astuple(stamp)) == before["stamp"]:
        named = list(before["named"])
    else:
        index, stamp = read_consistently(ws, ws.path)
        named = summits_named(ws, index)
    files: list[tuple[str, Path, Stamp | None]] = [(INDEX, ws.path, stamp)]
    for name in named:
        path = ws.summits_dir / name
        files.append((f"summits/{name}", path, _stamp(path)))
    return _Plan(previous, known, files, index, named)


def _incremental_backup(ws: Workspace, folder: Path, dest: Path,
                        plan: _Plan | None = None) -> Path:
    """A full snapshot that re-reads and re-compresses only the files changed since the last.

    The last backup's record says, per file, the stamp and digest it had and where its
    compressed bytes sit in that backup; an unchanged file is copied from there unread.
    When nothing changed at all, the last backup is today's too: a hard link. A summit file
    gone before it was read starts the backup again from the index, READ_ATTEMPTS times.
    """
    moved = None
    for _ in range(READ_ATTEMPTS):
        plan = plan if plan is not None else _plan(ws, folder)
        try:
            entries, records = _gather(ws, plan)
        except _Moved as exc:
            moved, plan = exc, None  # a summit file went: read the index again
            continue
        return _write_incremental(ws, folder, dest, plan, entries, records)
    raise _kept_moving(ws, moved)


def _gather(ws: Workspace, plan: _Plan) -> tuple[list[tuple[str, bytes | Placed]],
                                                 dict[str, dict[str, Any]]]:
    """Each file of the plan: copied from the last backup if unchanged, else read."""
    known = plan.known
    entries: list[tuple[str, bytes | Placed]] = []
    records: dict[str, dict[str, Any]] = {}
    for name, path, stamp in plan.files:
        before = known.get(name)
        if before is not None and stamp is not None and list(astuple(stamp)) == before["stamp"]:
            entries.append((name, Placed(**before["placed"])))
            records[name] = before
            continue
        if name == INDEX and plan.index is not None:
            raw = plan.index  # read by the plan, at that stamp
        elif stamp is None:
            raise _Moved(path.name)
        else:
            raw, stamp = _read_named(ws, path.name)
        assert stamp is not None
        digest = sha256(raw).hexdigest()
        same = before is not None and before["sha256"] == digest
        entries.append((name, Placed(**before["placed"]) if same and before else raw))
        records[name] = {"stamp": list(astuple(stamp)), "sha256": digest}
    records[INDEX]["named"] = plan.named
    return entries, records


def _write_incremental(ws: Workspace, folder: Path, dest: Path, plan: _Plan,
                       entries: list[tuple[str, bytes | Placed]],
                       records: dict[str, dict[str, Any]]) -> Path:
    previous, known = plan.previous, plan.known
    mode = _file_mode(ws)
    if previous is not None and set(records) == set(known) and all(
            isinstance(data, Placed) for _, data in entries):
        os.link(previous, dest)
        placed = {name: Placed(**known[name]["placed"]) for name in records}
    else:
        placed = _write_backup(dest, mode, _manifest(ws), entries, previous,
                               gid=file_mode(ws.path)[1])
    if "before-schema" not in dest.name:
        for name, record in records.items():
            record["placed"] = asdict(placed[name])
        written = _stamp(dest)
        assert written is not None
        _write_last(folder, {"backup": dest.name, "stamp": list(astuple(written)),
                             "files": records}, mode)
    return dest


def _read_last(folder: Path) -> dict[str, Any]:
    """The record of the last daily backup, or {} if there is none we can trust."""
    try:
        data = orjson.loads((folder / LAST_BACKUP).read_bytes())
        files = {name: {"stamp": [int(x) for x in record["stamp"]][:3],
                        "sha256": str(record["sha256"]),
                        "placed": asdict(Placed(**{k: int(v) for k, v in
                                                   record["placed"].items()}))}
                 for name, record in data["files"].items()}
        index = files.get(INDEX)
        named = data["files"][INDEX].get("named") if index is not None else None
        if index is not None and isinstance(named, list) and all(
                isinstance(n, str) and _plain(n) and f"summits/{n}" in files for n in named):
            index["named"] = named  # the summit files that backup's index names
        name = str(data["backup"])
        stamp = [int(x) for x in data["stamp"]]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError,
            AttributeError):
        return {}
    if "/" in name or name in ("", ".", "..") or len(stamp) != 3:
        return {}
    return {"backup": name, "stamp": stamp, "files": files}


def _write_last(folder: Path, data: dict[str, Any], mode: int) -> None:
    _write_small(folder / LAST_BACKUP, orjson.dumps(data), mode)


def _write_small(dest: Path, data: bytes, mode: int) -> None:
    """Put `data` in place of `dest` by a rename: no reader sees it half-written."""
    tmp, fd = _create_temp(dest, mode)
    try:
        try:
            _write_fully(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# The daily backup of a command -------------------------------------------------------------

def daily_backup(ws: Workspace, day: str | None = None) -> int | Path | None:
    """Today's backup, once the command's work is done: never making the command wait long.

    Taken here when it is cheap (nothing changed since the last one: a hard link; or a small
    workspace); otherwise by a detached worker, started holding the folder lock this process
    took, so that concurrent commands start one worker and tests can wait for it by taking
    that lock. Returns the backup written here, the worker's pid, or None (nothing to do, or
    another process is at it).
    """
    day = day or today()
    folder = backups_dir(ws.path)
    dest = folder / daily_backup_name(ws.path, day)
    if dest.exists():
        return None
    mode = _file_mode(ws)
    _make_folder(folder, mode)
    lock = _folder_lock(folder, mode)
    try:
        if not lock.__enter__() or dest.exists():
            return None  # under way in another process, or done since we looked
        plan = _plan(ws, folder)
        if plan.unchanged or plan.size <= DETACH_ABOVE:
            _take_daily(ws, folder, dest, plan)
            return dest
        assert lock.fd is not None
        return _spawn_worker(ws.path, folder, day, lock.fd)
    finally:
        lock.__exit__()


def _take_daily(ws: Workspace, folder: Path, dest: Path, plan: _Plan | None = None) -> None:
    """Today's backup, under the folder lock: leftovers of killed backups removed, the
    incremental backup written, the oldest daily ones beyond BACKUPS_KEPT gone."""
    remove_dead_temps(folder)
    _incremental_backup(ws, folder, dest, plan)
    _prune(folder, ws.path, BACKUPS_KEPT)


def _spawn_worker(workspace: Path, folder: Path, day: str, lock_fd: int) -> int:
    """Start `agenda.backup_worker` apart from the command (agenda.detached), holding the
    inherited folder lock."""
    from agenda import detached

    return detached.spawn("agenda.backup_worker", lock_fd, {"--folder": str(folder), "--day": day},
                          [str(workspace)])


def run_worker(workspace: Path, folder: Path, day: str, lock_fd: int) -> None:
    """The detached worker's work: the same incremental backup the command would have taken,
    holding the inherited folder lock until it exits; a failure is left in BACKUP_FAILED."""
    try:
        ws = Workspace(workspace)
        try:
            dest = folder / daily_backup_name(ws.path, day)
            if not dest.exists():
                _take_daily(ws, folder, dest)
        finally:
            ws.close()
        (folder / BACKUP_FAILED).unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - nobody is there to see it but the next command
        _record_failure(folder, workspace, getattr(exc, "strerror", None) or str(exc)
                        or type(exc).__name__)
    finally:
        os.close(lock_fd)


def _record_failure(folder: Path, workspace: Path, reason: str) -> None:
    """One line for the next command to say (cli.take_daily_backups), written atomically."""
    dest = folder / BACKUP_FAILED
    try:
        mode = os.stat(workspace).st_mode & 0o666
    except OSError:
        mode = 0o600
    try:
        _write_small(dest, " ".join(reason.split())[:500].encode(), mode)
    except OSError:
        pass  # a folder we cannot write to: the next command retries and says it then


# Restore -----------------------------------------------------------------------------------

def _member_ok(name: str) -> bool:
    if name == INDEX:
        return True
    rest = name.removeprefix("summits/")
    return rest != name and _plain(rest)


def _named_files(index: Any) -> list[Any]:
    """The summit files a workspace index names (tolerant of layouts without them)."""
    table = index.get("summits") if isinstance(index, dict) else None
    if not isinstance(table, dict):
        return []
    return [doc["file"] for doc in table.values() if isinstance(doc, dict) and "file" in doc]


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, path: Path) -> bytes:
    """A member's bytes, refusing as soon as it outgrows what it declared or the budget."""
    limit = min(info.file_size, budget)
    chunks, size = [], 0
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise AgendaError(f"{path} inflates beyond any real workspace (member "
                                  f"{info.filename}); nothing was restored")
            chunks.append(chunk)
    return b"".join(chunks)


def read_backup(path: Path) -> dict[str, bytes]:
    """The files of a backup, each already checked to be a readable Summit Agenda file."""
    import zipfile

    try:
        on_disk = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise AgendaError(f"{path} names a file twice; nothing was restored")
            budget = min(MAX_TOTAL, max(MIN_ALLOWANCE, MAX_RATIO * on_disk))
            if sum(i.file_size for i in infos) > budget:
                raise AgendaError(f"{path} would inflate to more than {budget >> 20} MB, far "
                                  "beyond its size; it is not a backup we wrote. Nothing was "
                                  "restored")
            if MANIFEST not in names:
                raise KeyError(MANIFEST)
            files: dict[str, bytes] = {}
            for info in infos:
                files[info.filename] = _inflate(archive, info, budget, path)
                budget -= len(files[info.filename])
    except (OSError, KeyError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise AgendaError(f"{path} is not a readable Summit Agenda backup ({exc})") from None
    try:
        manifest = orjson.loads(files.pop(MANIFEST))
    except orjson.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise AgendaError(f"{path} is not a Summit Agenda backup")
    if INDEX not in files or not all(_member_ok(n) for n in files):
        raise AgendaError(f"{path} has an unexpected layout; nothing was restored")
    for name, raw in files.items():
        try:
            if name != INDEX and is_journal(raw):
                app = orjson.loads(raw.split(b"\n", 1)[0]).get("app")  # a summit journal
            else:
                meta = orjson.loads(raw)["_meta"]["1"]
                app = meta.get("app")
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise AgendaError(f"{path}: {name} is damaged; nothing was restored") from None
        if app != APP:
            raise AgendaError(f"{path}: {name} is not a Summit Agenda file")
    # Once restored, the index is followed: it must name only files of the backup itself.
    for named in _named_files(orjson.loads(files[INDEX])):
        if not isinstance(named, str) or not _plain(named) or f"summits/{named}" not in files:
            raise AgendaError(f"{path}: its index names a summit file outside the backup "
                              f"({str(named)[:80]!r}); nothing was restored")
    return files


def _aside_name(ws: Workspace) -> Path:
    """A new folder's name for the replaced files; two restores in one second get two."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        aside = ws.path.with_name(f"{ws.path.stem}.replaced-{stamp}"
                                  + (f"-{attempt}" if attempt > 1 else ""))
        if not os.path.lexists(aside):
            return aside
    raise AgendaError(f"Too many restores of {ws.path} this second; nothing was restored")


def restore(ws: Workspace, source: Path) -> Path:
    """Put a backup in place of the workspace; the replaced files are kept aside.

    All or nothing: the backup's summit files are written under names no file has yet,
    the index naming them replaces the old one in one rename (the commit point), and only
    then are the old summit files removed. The workspace's intent log lists both sets
    first, the folder of copies, and the digest of the index about to be committed, so a
    kill anywhere leaves the old workspace (and no folder of copies) or the new one (and
    the copies), and the next writer removes whichever files the committed index does not
    name. Returns the folder where the replaced files now live.
    """
    files = read_backup(source)
    with ws.lock.hold():
        ws._recover()
        # The files being replaced, kept aside; a crafted index's outside files are no
        # concern of ours and are neither copied nor touched.
        current = [(name, path) for path in ws.files()
                   if (name := _member_name(ws, path)) is not None]
        # Summit files no index entry names belong to the workspace being replaced too: kept
        # aside with the rest, and gone from the folder once the restore has committed.
        orphans = ws.orphans()
        current += [(f"summits/{name}", ws.summits_dir / name) for name in orphans]
        mode = file_mode(ws.path)
        index = orjson.loads(files[INDEX])
        renamed: dict[str, str] = {}
        for doc in index.get("summits", {}).values():
            old = doc["file"]
            if old not in renamed:
                base = old.split(".", 1)[0] or "summit"
                renamed[old] = ws.fresh_file(base, set(renamed.values()))
            doc["file"] = renamed[old]
        new_index = orjson.dumps(index)
        replaced = [path.name for path in ws.files()[1:]] + orphans
        aside = _aside_name(ws)
        atomic_write(ws.intent, orjson.dumps({
            "files": sorted({*renamed.values(), *replaced}), "aside": aside.name,
            "index": sha256(new_index).hexdigest(), "pid": os.getpid()}), mode=mode)
        try:
            aside.mkdir(mode=0o700)
            for name, path in current:
                try:
                    raw, _ = read_consistently(ws, path)
                except FileNotFoundError:
                    continue
                atomic_write(aside / name.replace("/", "-"), raw, mode=mode)
            ws._summits_folder()
            for old, new in renamed.items():
                atomic_write(ws.summits_dir / new, files[f"summits/{old}"], mode=mode)
            atomic_write(ws.path, new_index)
        finally:
            # Done: the replaced files go; failed (a full disk): the new ones and the
            # copies do.
            ws._recover(report=False)
    return aside
