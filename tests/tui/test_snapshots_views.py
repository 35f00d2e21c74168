"""Snapshots of the views this round changed, wide (120×36) and narrow (80×24): the
compilation of an agreed item, search, the Log tab, the export screen, the draft editor's
footer, the import dialog and its report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea
from tui_helpers import make_app, settle

from tui.app import SummitApp

SIZES = [(120, 36), (80, 24)]
IDS = ["wide", "narrow"]

AGENDA = ("# Delhi talks\n\n## Trade\n\n### Payments in national currencies\n\n"
          "The Sides will settle trade in [IN: rupees][RU: roubles].\n\n"
          "A stray paragraph the importer cannot place.\n")


def still(pilot: Pilot[None]) -> None:
    for widget in pilot.app.screen.query("*"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


def steady(*keys: str, then: Callable[[Pilot[None]], Awaitable[None]] | None = None
           ) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, 2)
        if then is not None:
            await then(pilot)
            await settle(pilot, 2)
        still(pilot)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_agreed_item_positions(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    # 1.2 is agreed ad referendum in the demo: its text once, no columns.
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("down"))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_search(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("ctrl+f", *"Pacific"))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_log_tab(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("6"))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_export_brief(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    async def brief(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#template", Select).value = "brief"
        await settle(pilot)
        # The default file name holds the folder the app was started in: fixed here.
        pilot.app.screen.query_one("#file-name", Input).value = "brief-in.md"

    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("x", then=brief))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_draft_editor_footer(snap_compare, demo_path: Path, size: tuple[int, int]) -> None:
    async def focus_editor(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#draft-editor", TextArea).focus()

    assert snap_compare(make_app(demo_path, as_="IN"), terminal_size=size,
                        run_before=steady("2", then=focus_editor))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_import_dialog(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    async def source(pilot: Pilot[None]) -> None:
        # An absolute path that exists nowhere: the picture is the same on every machine.
        pilot.app.screen.query_one("#source", Input).value = "/nonexistent/agenda.md"

    assert snap_compare(make_app(tmp_path / "empty.json"), terminal_size=size,
                        run_before=steady("i", then=source))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_import_report(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    agenda = tmp_path / "delhi-agenda.md"
    agenda.write_text(AGENDA, encoding="utf-8")

    async def run(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one("#source", Input).value = str(agenda)
        await pilot.press("ctrl+s")

    # A fixed clock: the imported text's time is on the screen.
    app = SummitApp(tmp_path / "empty.json", clock=lambda: datetime(2021, 11, 1, 9, tzinfo=UTC))
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=size, run_before=steady("i", then=run))
