"""Snapshots of every dialog on the demo summit, at 120×36 (dark) and 80×24 (light): each
fits, its buttons are labelled and its own keys are written in it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from test_snapshots import steady
from textual.pilot import Pilot
from textual.widgets import DataTable
from tui_helpers import make_app, settle

from tui.screens.modals import CreateSummitScreen

# (size, theme): each size on one theme, so that both themes are seen too.
LOOKS = [((120, 36), "textual-dark"), ((80, 24), "textual-light")]
IDS = ["wide-dark", "narrow-light"]

DIALOG_KEYS = {
    "accept": ("a",),
    "status": ("s",),
    "compile": ("c",),
    "add_item": ("n",),
    "title": ("e",),
    "note": ("N",),
    "act_as": ("v",),
    "table": ("2", "ctrl+t"),
    "discard": ("N", "R", "e", "d", "escape"),  # Escape on typed text asks first
}


def opened(theme: str, *keys: str,
           then: Callable[[Pilot[None]], Awaitable[None]] | None = None
           ) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        pilot.app.theme = theme
        await settle(pilot)
        if then is not None:
            await then(pilot)
        await steady(*keys)(pilot)

    return run_before


@pytest.mark.parametrize(("look"), LOOKS, ids=IDS)
@pytest.mark.parametrize("dialog", sorted(DIALOG_KEYS))
def test_dialog(snap_compare, demo_path: Path, dialog: str,
                look: tuple[tuple[int, int], str]) -> None:
    size, theme = look
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=opened(theme, *DIALOG_KEYS[dialog]))


@pytest.mark.parametrize(("look"), LOOKS, ids=IDS)
def test_dialog_revision(snap_compare, demo_path: Path,
                         look: tuple[tuple[int, int], str]) -> None:
    size, theme = look

    async def to_history(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await settle(pilot)
        pilot.app.screen.query_one(DataTable).focus()
        await pilot.pause()

    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=opened(theme, "enter", then=to_history))


@pytest.mark.parametrize(("look"), LOOKS, ids=IDS)
def test_dialog_create_summit(snap_compare, tmp_path: Path,
                              look: tuple[tuple[int, int], str]) -> None:
    size, theme = look

    async def create(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#workspace-path").display = False  # a temporary path
        pilot.app.push_screen(CreateSummitScreen())
        await settle(pilot)

    assert snap_compare(make_app(tmp_path / "empty.json"), terminal_size=size,
                        run_before=opened(theme, then=create))
