"""Snapshots of the main screens on the demo summit, wide (120×36) and narrow (80×24)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from tui_helpers import make_app, settle

SIZES = [(120, 36), (80, 24)]


def steady(*keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press keys once the app has settled; cursors stop blinking for a stable picture."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, 2)
        for widget in pilot.app.screen.query("*"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=["wide", "narrow"])
def test_workspace_positions(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady())


@pytest.mark.parametrize("size", SIZES, ids=["wide", "narrow"])
def test_workspace_history(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("3"))


def test_workspace_diff_inline(snap_compare, demo_path: Path) -> None:
    assert snap_compare(make_app(demo_path, as_="RU"), terminal_size=(120, 36),
                        run_before=steady("4", "t"))


def test_joint_view_draft(snap_compare, demo_path: Path) -> None:
    assert snap_compare(make_app(demo_path), terminal_size=(80, 24), run_before=steady("2"))


def test_dashboard(snap_compare, demo_path: Path) -> None:
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=(120, 36),
                        run_before=steady("D"))


def test_welcome(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await steady()(pilot)
        pilot.app.screen.query_one("#workspace-path").display = False  # a temporary path
        await pilot.pause()

    assert snap_compare(make_app(tmp_path / "empty.json"), terminal_size=(80, 24),
                        run_before=run_before)
