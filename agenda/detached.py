"""A worker started apart from the command that found its work: `python -m <module>` in a
session of its own, its standard streams on /dev/null, holding a lock the command took.

The daily backup (agenda.backup_worker) and the keeping of an imported summit
(agenda.keep_worker) start this way, so a caller reading the command's pipes is not kept
waiting and the worker outlives the command without its terminal.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def may_fork() -> bool:
    """Whether this process may fork a child that goes on with a copy of it: the platform
    forks, and no thread is running (it would be missing in the child, in whatever state it
    was, its locks held)."""
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


def streams_on_devnull() -> None:
    """In a forked child: its standard streams on /dev/null. Nobody reads what it says, and
    a pipe the command writes to ends when the command does, not when the child does."""
    null = os.open(os.devnull, os.O_RDWR)
    for stream in (0, 1, 2):
        os.dup2(null, stream)


BACKGROUND_NICE = 19  # the lowest priority: a worker apart runs on what the commands leave
_AUTOGROUP = "/proc/self/autogroup"
_BACKGROUND: list[int] = []  # this process's pid, once it runs in the background


def background() -> None:
    """In a worker apart from its command (a forked keeper, `spawn`'s workers), once in its
    own session: run at the lowest priority, so that the next command, and its checker on the
    other core (journal.py), go first. A session of its own is a scheduling group of its own
    on Linux (the autogroup), weighed against the command's group whatever the worker's own
    nice value, so the group is lowered too. At 20,000 items, a `table` right after an
    `items` whose keeper was at work took 0.44 s beside a keeper at the usual priority (no
    core free: no checker), 0.38 s beside one in the background (a checker beside it).
    Best effort: where either cannot be lowered, the worker is not said to run in the
    background (`background_pid`)."""
    try:
        os.nice(BACKGROUND_NICE - os.nice(0))
        if os.getsid(0) == os.getpid() and os.path.exists(_AUTOGROUP):  # never the caller's
            with open(_AUTOGROUP, "w") as group:
                group.write(str(BACKGROUND_NICE))
    except (OSError, ValueError):
        return
    _BACKGROUND[:] = [os.getpid()]


def background_pid() -> int | None:
    """This process's pid when it runs in the background (`background`), else None."""
    return _BACKGROUND[0] if _BACKGROUND and _BACKGROUND[0] == os.getpid() else None


def naming(pid: int) -> bytes:
    """How a worker in the background names its pid in a lock's text (snapshot.name_kept)."""
    return b"pid=%d" % pid  # lower case: never a delegation's tag


def pid_named(text: bytes) -> int | None:
    """The pid a lock's text names (`naming`), else None."""
    for word in text.split():
        if word.startswith(b"pid=") and word[4:].isdigit():
            return int(word[4:])
    return None


def running_in_background(pid: int) -> bool:
    """Whether the process `pid` is running now (or ready to) at the background's priority:
    a task that loadavg counts and a command need not (journal.py's `_core_free`). False
    where /proc cannot tell."""
    fields = _stat(pid)
    try:
        return fields is not None and fields[0] == b"R" and int(fields[16]) >= BACKGROUND_NICE
    except (ValueError, IndexError):
        return False


def cpu_seconds(pid: int) -> float | None:
    """The CPU time the process `pid` has had so far (user and system, /proc's ticks); None
    where /proc cannot tell."""
    fields = _stat(pid)
    try:
        return None if fields is None else \
            (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (ValueError, IndexError, OSError):
        return None


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command's name (the state first: field 3
    of proc(5) at index 0); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as status:
            return status.read().rpartition(b")")[2].split()
    except OSError:
        return None


def spawn(module: str, lock_fd: int, options: dict[str, str], args: list[str]) -> int:
    """Start `python -m module --lock-fd N [options] -- args` holding `lock_fd` (inherited
    by the worker only); its pid. OSError when it cannot start."""
    argv = [sys.executable, "-P", "-m", module, "--lock-fd", str(lock_fd)]
    for name, value in options.items():
        argv += [name, value]
    argv += ["--", *args]
    env = dict(os.environ)
    # The worker finds this very package, installed or not (-P: never the current folder).
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    os.set_inheritable(lock_fd, True)
    try:
        # posix_spawn, not subprocess: importing subprocess costs the command more than this.
        return os.posix_spawn(sys.executable, argv, env, setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, 1, 2)])
    except (AttributeError, NotImplementedError):  # a platform without posix_spawn's setsid
        import subprocess

        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=(lock_fd,)).pid
    finally:
        os.set_inheritable(lock_fd, False)


def worker_args(argv: list[str] | None = None) -> tuple[dict[str, str], list[str]]:
    """A worker's own command line, as `spawn` wrote it: its options, and what follows `--`."""
    args = sys.argv[1:] if argv is None else argv
    options: dict[str, str] = {}
    while args and args[0] != "--":
        options[args[0]] = args[1]
        args = args[2:]
    return options, args[1:]
