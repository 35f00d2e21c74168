"""The first frame's work: each widget styled once, the size class right from the start, no
exchange modules imported for an unbound workspace; a theme changed before a built screen is
first shown still reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.color import Color
from textual.dom import DOMNode
from textual.widgets import TextArea
from tui_helpers import make_app, settle

from tui.screens import workspace as workspace_screen
from tui.screens.export import ExportScreen
from tui.screens.styled import size_classes
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.sync_state import SyncState


@pytest.mark.parametrize(("width", "expected"), [(80, "-narrow"), (120, "-wide")])
async def test_the_workspace_is_styled_once_with_its_size_class(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch, width: int, expected: str) -> None:
    restyled: list[str] = []
    original = App.update_styles

    def watched(self: App[object], node: DOMNode, animate: bool = True) -> None:
        if isinstance(node, WorkspaceScreen):
            restyled.append(type(node).__name__)  # every widget of the screen styled again
        original(self, node, animate)

    monkeypatch.setattr(App, "update_styles", watched)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(width, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert screen.has_class(expected) and size_classes(app) == {expected}
        assert restyled == []  # neither its first resize nor its first show restyled it
        # Resizing across the breakpoint still restyles, as before.
        await pilot.resize_terminal(200 - width, 36)
        await settle(pilot)
        assert not screen.has_class(expected)
        assert restyled


async def test_an_unbound_workspace_starts_without_the_exchange_modules(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its sync line stays hidden without asking the exchange: importing it (its keys module
    imports cryptography) held the interpreter for ~100 ms of the first frame."""
    from agenda.exchange import sync

    asked: list[object] = []
    monkeypatch.setattr(sync, "status_line", lambda *args: asked.append(args) or "")
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert app.home is None
        assert asked == []
        assert not app.screen.query_one(SyncState).display


async def test_a_theme_changed_before_the_built_export_screen_is_shown_reaches_it(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace_screen, "PREPARE_EXPORT_AFTER", 0.01)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)
        await settle(pilot)
        built = app.get_screen("export")
        assert isinstance(built, ExportScreen)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is built
        background = Color.parse(app.current_theme.background or "")
        assert built.styles.background == background
        assert built.query_one("#preview", TextArea).styles.background.a > 0
