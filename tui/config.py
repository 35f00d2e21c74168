"""Remembered choices (the delegation you act as, what you last saw) in the user config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from agenda.paths import ENV_CONFIG_DIR, config_dir

__all__ = ["ENV_CONFIG_DIR", "Preferences", "config_dir"]


class Preferences:
    """A small JSON file: {"acting_as": {"<workspace path>": "IN"}}.

    A missing or unreadable file means no preference; it is never a reason to refuse to start.
    The file says which delegation you work for, so only you may read it (0600), and it is
    replaced atomically: a crash while saving leaves the old choices, not half a file.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / "tui.json"

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acting_as(self, workspace: Path) -> str | None:
        choices = self._read().get("acting_as", {})
        value = choices.get(str(workspace.resolve())) if isinstance(choices, dict) else None
        return value if isinstance(value, str) and value else None

    def remember_acting_as(self, workspace: Path, code: str | None) -> None:
        data = self._read()
        choices = data.get("acting_as")
        if not isinstance(choices, dict):
            choices = data["acting_as"] = {}
        key, value = str(workspace.resolve()), code or ""
        if choices.get(key) == value:
            # `summit --as IN` at each start: writing the same choice again cost a flush to
            # disk (fsync, 5-50 ms) before the first frame, and changed nothing.
            return
        choices[key] = value
        try:
            self._save(json.dumps(data, indent=2).encode("utf-8"))
        except OSError:
            pass  # A preference that cannot be saved is only forgotten, never an error.

    def seen(self, workspace: Path, slug: str, viewer: str | None) -> dict[str, str] | None:
        """What each item looked like when this viewer last looked at it: item uuid →
        signature (see tui.widgets.agenda_tree.signature); None if never recorded."""
        found = self._read().get("seen", {})
        value = found.get(_seen_key(workspace, slug, viewer)) if isinstance(found, dict) else None
        if not isinstance(value, dict):
            return None
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}

    def remember_seen(self, workspace: Path, slug: str, viewer: str | None,
                      signatures: dict[str, str]) -> None:
        data = self._read()
        found = data.get("seen")
        if not isinstance(found, dict):
            found = data["seen"] = {}
        found[_seen_key(workspace, slug, viewer)] = signatures
        try:
            self._save(json.dumps(data, indent=2).encode("utf-8"))
        except OSError:
            pass  # forgotten marks are only shown again, never an error

    def _save(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _seen_key(workspace: Path, slug: str, viewer: str | None) -> str:
    # One delegation's drafts change what it sees: each viewer keeps its own marks.
    return f"{workspace.resolve()}#{slug}#{viewer or ''}"
