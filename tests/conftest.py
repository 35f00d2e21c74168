"""Shared fixtures: every test works in its own temporary workspace, never the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from agenda.model import Delegation
from agenda.workspace import Workspace

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the workspace default, HOME and platformdirs at a temp folder, whatever a test does.

    HOME too: platformdirs falls back on it, and so would `~` in any path a test expands.
    A MonkeyPatch of its own, not the test's `monkeypatch`: a test that calls
    `monkeypatch.undo()` would otherwise undo this too, and what it ran afterwards wrote kept
    data and preferences into the real user's folders.
    """
    home = tmp_path_factory.mktemp("home")
    isolation = pytest.MonkeyPatch()
    isolation.setenv("HOME", str(home))
    isolation.setenv("SUMMIT_AGENDA_DB", str(home / "default-workspace.json"))
    isolation.setenv("XDG_DATA_HOME", str(home / "data"))
    isolation.setenv("XDG_CONFIG_HOME", str(home / "config"))
    isolation.setenv("XDG_CACHE_HOME", str(home / "cache"))
    isolation.setenv("XDG_STATE_HOME", str(home / "state"))
    isolation.delenv("SUMMIT_AGENDA_BACKUPS", raising=False)
    isolation.delenv("SUMMIT_AGENDA_CONFIG_DIR", raising=False)
    yield
    isolation.undo()


def spy_found(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """`module.name` wrapped for the test: the list says, call by call, whether it returned
    something (not None): whether a read or a write found kept data to use."""
    found: list[bool] = []
    real = getattr(module, name)

    def spy(*args: Any) -> Any:
        result = real(*args)
        found.append(result is not None)
        return result

    monkeypatch.setattr(module, name, spy)
    return found


class TickingClock:
    """A deterministic clock: one minute later at every call."""

    def __init__(self) -> None:
        self.moment = datetime(2021, 2, 11, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(minutes=1)
        return self.moment


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "workspace.json"


@pytest.fixture
def ws(db_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(db_path, create=True, clock=TickingClock())
    yield workspace
    workspace.close()


@pytest.fixture
def slug(ws: Workspace) -> str:
    """A two-delegation summit with one item proposed by India."""
    entry = ws.create_summit(
        "India–Russia Summit 2021",
        [Delegation("IN", "India"), Delegation("RU", "Russia")],
        venue="New Delhi",
        sections=["Political & Strategic", "Connectivity", "Health"],
    )
    ws.add_item(entry.slug, section="Political & Strategic", title="Regional architecture",
                delegation="IN",
                text="The Sides support a free and open Indo-Pacific region.")
    return entry.slug


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Workspace]:
    from agenda.demo import build_demo

    workspace = Workspace(tmp_path / "demo.json", create=True)
    build_demo(workspace)
    yield workspace
    workspace.close()
