"""Remembered choices (the delegation you act as, per workspace) in the user config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV_CONFIG_DIR = "SUMMIT_AGENDA_CONFIG_DIR"


def config_dir() -> Path:
    """$SUMMIT_AGENDA_CONFIG_DIR, else the platform's user config folder for the app."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("summit-agenda")


class Preferences:
    """A small JSON file: {"acting_as": {"<workspace path>": "IN"}}.

    A missing or unreadable file means no preference; it is never a reason to refuse to start.
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
        value = self._read().get("acting_as", {}).get(str(workspace.resolve()))
        return value if isinstance(value, str) and value else None

    def remember_acting_as(self, workspace: Path, code: str | None) -> None:
        data = self._read()
        choices = data.setdefault("acting_as", {})
        choices[str(workspace.resolve())] = code or ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            pass  # A preference that cannot be saved is only forgotten, never an error.
