"""Fixtures for the terminal app: temporary workspaces and config, and helpers to let it settle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agenda.demo import build_demo
from agenda.model import Delegation
from agenda.workspace import Workspace
from tui.config import ENV_CONFIG_DIR


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's remembered choices go to a temporary folder, never the user's."""
    folder = tmp_path / "config"
    monkeypatch.setenv(ENV_CONFIG_DIR, str(folder))
    return folder


@pytest.fixture(autouse=True)
def cursors_never_blink(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In snapshots the cursors of text fields never blink. Setting `cursor_blink = False`
    before the picture was not enough under load: a blink already due when it was set could
    still hide the cursor (one cell apart, seen twice at load 5-7)."""
    if "snap_compare" in request.fixturenames:
        from textual.widgets import Input, TextArea

        monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)
        monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def demo_path(tmp_path: Path) -> Path:
    path = tmp_path / "demo.json"
    ws = Workspace(path, create=True)
    build_demo(ws)
    ws.close()
    return path


@pytest.fixture
def pair_path(tmp_path: Path) -> Iterator[Path]:
    """A small summit: item 1.1 proposed by IN, countered by RU; item 1.2 only IN's text."""
    path = tmp_path / "pair.json"
    ws = Workspace(path, create=True)
    ws.create_summit("Pair Summit", [Delegation("IN", "India"), Delegation("RU", "Russia")],
                     slug="pair", sections=["Political", "Trade"])
    ws.add_item("pair", section="Political", title="Regional architecture", delegation="IN",
                text="The Sides support a free and open Indo-Pacific region.")
    ws.table("pair", "1.1", delegation="RU", why="Regional term",
             text="The Sides support an open Asia-Pacific region.")
    ws.add_item("pair", section="Political", title="Annual summit", delegation="IN",
                text="The Sides will meet every year.")
    ws.close()
    yield path
