"""The first frame's work: each widget styled once, the size class right from the start, no
exchange modules imported for an unbound workspace; a theme changed before a built screen is
first shown still reaches it; the workspace laid out and painted once before its first frame,
without the cyclic collector; a size report of the same size only repaints; the footer one
widget whose keys are clicked where they are drawn; the tab bar one widget too, and the header;
a full update asks the containers behind their children for no line."""

from __future__ import annotations

import gc
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from textual import events
from textual._compositor import Compositor
from textual.app import App
from textual.color import Color
from textual.dom import DOMNode
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import TextArea
from tui_helpers import make_app, screen_text, settle

from tui.screens import workspace as workspace_screen
from tui.screens.export import ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.styled import size_classes
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.footer import AgendaFooter
from tui.widgets.sync_state import SyncState
from tui.widgets.tab_bar import ItemTabs, TabBar


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


async def test_the_workspace_is_laid_out_and_painted_once_before_its_first_frame(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built inside Textual's start-up batch, it was laid out and painted with the frame held
    back, then laid out and painted again; the collector ran over the new objects meanwhile."""
    layouts: list[str] = []
    paints: list[tuple[bool, bool]] = []  # (held back by the batch, collector on)
    layout, refresh = Screen._refresh_layout, Screen._compositor_refresh

    def laid_out(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        if isinstance(self, WorkspaceScreen) and not paints:
            layouts.append("layout")
        layout(self, *args, **kwargs)

    def painted(self: Screen[Any]) -> None:
        if isinstance(self, WorkspaceScreen) and self.is_current:
            paints.append((bool(self.app._batch_count), gc.isenabled()))
        refresh(self)

    monkeypatch.setattr(Screen, "_refresh_layout", laid_out)
    monkeypatch.setattr(Screen, "_compositor_refresh", painted)
    collecting = gc.isenabled()
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert "proposed by IN" in screen_text(app)
        assert layouts == ["layout"]
        assert paints[0] == (False, False)  # written at once, with no collection under way
        if collecting:  # the collector is back, and what the first frame built is frozen
            assert gc.isenabled() and gc.get_freeze_count() > 0
    if collecting:
        assert gc.isenabled() and gc.get_freeze_count() == 0  # unfrozen with the app


async def test_a_size_report_of_the_same_size_repaints_without_a_layout(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        counts = {"layout": 0, "paint": 0}
        layout, refresh = Screen._refresh_layout, Screen._compositor_refresh

        def laid_out(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
            counts["layout"] += self is screen
            layout(self, *args, **kwargs)

        def painted(self: Screen[Any]) -> None:
            counts["paint"] += self is screen
            refresh(self)

        monkeypatch.setattr(Screen, "_refresh_layout", laid_out)
        monkeypatch.setattr(Screen, "_compositor_refresh", painted)
        app.post_message(events.Resize(app.size, app.size))
        await settle(pilot)
        assert counts == {"layout": 0, "paint": 1}
        # Another size is laid out as before.
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert counts["layout"] >= 1
        assert screen.size == (100, 30) and "Compilation of IN" in screen_text(app)


def _key_column(footer: AgendaFooter, description: str) -> int:
    line = footer.render().plain
    return line.index(f" {description} ") - 1  # on the key, left of its description


async def test_the_footer_is_one_widget_and_its_keys_are_clicked_where_drawn(
        demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(AgendaFooter)
        assert not footer.children
        assert [e.description for e in footer.entries[:3]] == ["Help", "Export", "Quit"]
        bottom = screen_text(app).splitlines()[-1]
        assert bottom.startswith(" ? Help  x Export  q Quit ")
        # Hovered, a key is drawn on the hover background, its neighbours are not.
        column = _key_column(footer, "Export")
        await pilot.hover(AgendaFooter, offset=(column, 0))
        hovered = footer.get_component_rich_style("footer-key--hover").bgcolor
        styles = {span.style.bgcolor for span in footer.render().spans  # type: ignore[union-attr]
                  if span.start <= column < span.end}
        assert hovered in styles
        await pilot.hover(AgendaFooter, offset=(_key_column(footer, "Help"), 0))
        styles = {span.style.bgcolor for span in footer.render().spans  # type: ignore[union-attr]
                  if span.start <= column < span.end}
        assert hovered not in styles
        await pilot.click(AgendaFooter, offset=(_key_column(footer, "Help"), 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


def _label_style(bar: TabBar, tab: str) -> Any:
    """The style the bar draws a label's first character with."""
    start = bar.spans()[tab][0] + 1
    text = bar.render()
    return next(span.style for span in text.spans if span.start <= start < span.end)


async def test_the_tab_bar_is_one_widget_clicked_hovered_and_stepped_where_drawn(
        demo_path: Path) -> None:
    """Textual's TabbedContent was 19 widgets at start; ItemTabs is the bar and one pane.
    Every label is still clicked and hovered where it is drawn, and left/right step through
    the tabs while the bar has focus, as with Textual's Tabs."""
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one(ItemTabs)
        bar = tabs.bar
        assert [type(w).__name__ for w in tabs.children] == ["TabBar", "PositionsView"]
        assert not bar.children
        first_line = bar.render().plain.splitlines()[0]
        assert first_line.startswith(" 1 Positions  2 Draft  3 History ")
        # The underline's highlight spans the active label's text, not its padding.
        underline = bar.render().plain.splitlines()[1]
        start, end = bar.spans()["positions"]
        assert underline[start + 1:end - 1] == "━" * (end - start - 2)
        assert underline[start + 1:end - 1] and underline[end - 1] == "╺"
        muted = _label_style(bar, "history")
        await pilot.hover(TabBar, offset=(bar.spans()["history"][0] + 2, 0))
        assert _label_style(bar, "history") != muted
        assert _label_style(bar, "history") == _label_style(bar, "positions")
        await pilot.click(TabBar, offset=(bar.spans()["history"][0] + 2, 0))
        await settle(pilot)
        assert tabs.active == "history" and bar.active == "history"
        history = tabs.pane("history")
        assert history is not None and history.display
        assert not cast(Widget, tabs.pane("positions")).display
        assert _label_style(bar, "positions") == muted  # no longer active: muted again
        # With focus, the active label is drawn as a cursor, and the arrows step.
        bar.focus()
        await settle(pilot)
        assert _label_style(bar, "history").bgcolor is not None
        await pilot.press("right")
        await settle(pilot)
        assert tabs.active == "diff"
        await pilot.press("left", "left", "left", "left")
        await settle(pilot)
        assert tabs.active == "log"  # past the first tab, back to the last
        # A pane built once stays: shown again, it is the same widget.
        await pilot.press("3")
        await settle(pilot)
        assert tabs.pane("history") is history and history.display


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_a_full_update_asks_only_for_rows_that_are_seen(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    """The first frame is a full update: the screen, the body and the tab container lie
    behind their children and are asked for no line; the frame is Textual's own, cell by
    cell."""
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        asked: list[Widget] = []
        render_lines = Widget.render_lines

        def watched(self: Widget, crop: Any) -> Any:
            asked.append(self)
            return render_lines(self, crop)

        monkeypatch.setattr(Widget, "render_lines", watched)
        compositor = screen._compositor
        ours = compositor.render_strips()
        monkeypatch.undo()
        assert asked and screen not in asked
        for behind in (screen.query_one("#body"), screen.query_one(ItemTabs),
                       screen.query_one("#item-pane")):
            assert behind not in asked
        compositor._get_renders = partial(  # type: ignore[method-assign]
            Compositor._get_renders, compositor)
        textual = compositor.render_strips()
        del compositor._get_renders

        def cells(strips: list[Strip]) -> list[list[tuple[str, object]]]:
            return [[(char, segment.style) for segment in strip for char in segment.text]
                    for strip in strips]

        assert cells(ours) == cells(textual)


async def test_the_header_is_one_widget_hovered_clicked_and_retitled_where_drawn(
        demo_path: Path) -> None:
    """It draws what Textual's Header drew with three widgets: the icon opens the command
    palette, a click elsewhere makes it three lines tall and back, the title follows the app's."""
    from textual.command import CommandPalette

    from tui.widgets.header import AgendaHeader

    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        header = app.screen.query_one(AgendaHeader)
        assert not header.children
        assert screen_text(app).splitlines()[0].strip().startswith(
            "⭘")  # the icon, then the title centred
        line = "".join(segment.text for segment in header.render_line(0))
        title = "India–Russia Annual Summit 2021 — Acting as IN (India)"
        assert line[:8] == " ⭘      " and line.strip().endswith(title)
        assert line.index(title) == 8 + (120 - 18 - len(title)) // 2
        plain = header.render_line(0)
        await pilot.hover(AgendaHeader, offset=(2, 0))
        assert header.tooltip == "Open the command palette"
        hovered = header.render_line(0)
        assert list(hovered)[0].style != list(plain)[0].style  # the icon's cells lit
        await pilot.hover(AgendaHeader, offset=(40, 0))
        assert header.tooltip is None
        app.sub_title = "Joint view (tabled texts only)"
        await pilot.pause()
        assert "Joint view (tabled texts only)" in "".join(
            segment.text for segment in header.render_line(0))
        await pilot.click(AgendaHeader, offset=(40, 0))
        await pilot.pause()
        assert header.has_class("-tall") and header.size.height == 3
        assert "⭘" not in "".join(segment.text for segment in header.render_line(0))
        assert "⭘" in "".join(segment.text for segment in header.render_line(1))
        await pilot.click(AgendaHeader, offset=(40, 1))
        await pilot.pause()
        assert not header.has_class("-tall") and header.size.height == 1
        await pilot.click(AgendaHeader, offset=(2, 0))
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)


async def test_every_widget_is_styled_once_the_tree_focused_from_the_start(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mounted, styled: no restyle for the size class, the first show, the tree's focus or a
    tab pane's class; the default screen under the workspace too. The tree still has the
    focus, and draws what a restyle of it draws."""
    from textual.css.stylesheet import Stylesheet

    from tui.screens.workspace import SideBar
    from tui.widgets.agenda_tree import AgendaTree

    styled: dict[Widget, list[str]] = {}  # the widgets kept: no id is reused meanwhile
    apply = Stylesheet.apply

    def counted(self: Stylesheet, node: DOMNode, **kwargs: Any) -> None:
        if isinstance(node, Widget):  # not the component classes' virtual nodes
            styled.setdefault(node, []).append(type(node).__name__)
        apply(self, node, **kwargs)

    monkeypatch.setattr(Stylesheet, "apply", counted)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monkeypatch.undo()
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        mine = {screen, app.screen_stack[0], *screen.walk_children()}
        ours = {node: names for node, names in styled.items() if node in mine}
        twice = [names for names in ours.values() if len(names) > 1]
        assert twice == []
        assert {"AgendaTree", "PositionsView", "SideBar", "_DefaultScreen"} <= {
            names[0] for names in ours.values()}
        tree = screen.query_one(AgendaTree)
        assert screen.focused is tree and tree.has_focus
        region = tree.size.region
        drawn = tree.render_lines(region)
        app.update_styles(tree)  # what Textual's focus restyle did
        tree.notify_style_update()
        tree._styles_cache.clear()
        assert tree.render_lines(region) == drawn
        # The side bar's one row stands for all of them: as Textual draws each.
        bar = screen.query_one(SideBar)
        whole = bar.size.region
        ours = bar.render_lines(whole)
        bar._styles_cache.clear()
        assert ours == Widget.render_lines(bar, whole)


async def test_the_tree_is_not_marked_focused_where_textual_will_not_focus_it(
        demo_path: Path) -> None:
    """Without the terminal's focus Textual focuses nothing at start: neither is the tree
    marked focused then."""
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.app_focus = False
        await settle(pilot)
        from tui.widgets.agenda_tree import AgendaTree

        screen = WorkspaceScreen(app.state)
        await app.push_screen(screen)
        await settle(pilot)
        tree = screen.query_one(AgendaTree)
        assert screen.focused is None and not tree.has_focus


async def test_the_theme_variables_are_the_apps_own_from_the_start(demo_path: Path) -> None:
    """App.__init__ is given no variables to compute twice: the stylesheet holds our theme's."""
    app = make_app(demo_path, as_="IN")
    assert app.stylesheet._variables == App.get_css_variables(app)
    assert app.theme_variables == app.stylesheet._variables and app.theme_variables


@pytest.mark.parametrize("collecting", [True, False])
def test_importing_the_app_leaves_the_collector_as_it_was(collecting: bool) -> None:
    """The collector is off while the app's modules import and back as it was after them;
    what they made is frozen only where it was on (a fresh process: the import is its own)."""
    import subprocess
    import sys

    code = ("import gc\n"
            f"{'' if collecting else 'gc.disable()'}\n"
            "import tui.app\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == [str(collecting), str(collecting)]
