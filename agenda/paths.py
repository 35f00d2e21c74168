"""Every folder Summit Agenda reads or writes outside a workspace file, named in one place."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

APP_DIR = "summit-agenda"
ENV_DB = "SUMMIT_AGENDA_DB"
ENV_CONFIG_DIR = "SUMMIT_AGENDA_CONFIG_DIR"
ENV_BACKUPS = "SUMMIT_AGENDA_BACKUPS"
# In a workspace's backups folder: why the last detached daily backup failed, until the next
# command says so (backup.run_worker writes it, cli.take_daily_backups reads and removes it).
BACKUP_FAILED = "backup-failed.txt"

# platformdirs is imported inside the functions that need it: a command given --db (or
# $SUMMIT_AGENDA_DB) never asks where the user folders are, and starts without it.


def _user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_DIR)


def default_workspace_path() -> Path:
    """$SUMMIT_AGENDA_DB, else `workspace.json` in the user data folder of this platform."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return _user_data_dir() / "workspace.json"


def demo_path() -> Path:
    """The demo's own workspace, apart from the user's real one."""
    return _user_data_dir() / "demo.json"


def config_dir() -> Path:
    """$SUMMIT_AGENDA_CONFIG_DIR, else the platform's user config folder for the app."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_DIR)


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/summit-agenda (the platform's user cache folder where there is no
    XDG): kept item listings (snapshot.py) and the key that vouches for them."""
    env = os.environ.get("XDG_CACHE_HOME")
    if env and os.path.isabs(env):
        return Path(env) / APP_DIR
    if sys.platform.startswith("linux"):
        return Path.home() / ".cache" / APP_DIR  # as platformdirs, without importing it
    from platformdirs import user_cache_path

    return user_cache_path(APP_DIR)


@functools.lru_cache(maxsize=64)
def resolved(journal: str) -> str:
    """A journal's real path, looked up once a process (a read names its places 5 times)."""
    return str(Path(journal).resolve())


def journal_tag(resolved_path: str) -> str:
    """What every kept file of one journal's starts with (snapshot.py's `prune` finds them by
    it), and the name of its keeping lock."""
    from agenda.digest import sha256

    return sha256(os.fsencode(resolved_path)).hexdigest()[:32]


def keeping_lock(journal: Path) -> Path:
    """The lock a keeper of that journal's data holds while it reads and keeps (snapshot.py):
    a read of the same journal waits for it; one keeper a journal at a time. It names whose
    data the keeper keeps and, once the keeper runs in the background (agenda.detached),
    its pid: a reader does not count it against a checker (journal.py's `_core_free`)."""
    return cache_dir() / "keeping" / f"{journal_tag(resolved(str(journal)))}.lock"


def user_templates_dir() -> Path:
    """Where a user keeps their own templates (NAME.md.j2) and starter agendas (NAME.md)."""
    return config_dir() / "templates"


def backups_dir(workspace: Path) -> Path:
    """Where the automatic backups of one workspace go.

    Beside the workspace (`<stem>.backups/`), so its drafts and notes never end up in a
    folder the user did not choose; or, with $SUMMIT_AGENDA_BACKUPS, in a sub-folder there
    named after the workspace, so several workspaces can share that folder.
    """
    env = os.environ.get(ENV_BACKUPS)
    if not env:
        return workspace.with_name(f"{workspace.stem}.backups")
    from agenda.digest import sha256

    key = sha256(str(workspace.resolve()).encode()).hexdigest()[:10]
    return Path(env).expanduser() / f"{workspace.stem}-{key}"


def daily_backup_name(workspace: Path, day: str) -> str:
    """The file name of a workspace's daily backup of `day` (YYYY-MM-DD) in backups_dir."""
    return f"{workspace.stem}-{day}.backup"
