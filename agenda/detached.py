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
