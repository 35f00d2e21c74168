"""What an item switch costs the screen: no layout, three widgets repainted, no widget mounted
or removed; and the first frame of a small workspace already holds its item."""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import ControlType
from rich.style import Style
from textual._compositor import Compositor, LayoutUpdate
from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from tui_helpers import make_app, screen_text, settle

from agenda.workspace import Workspace
from tui.app import SummitApp
from tui.screens.compositor import RowCompositor
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.positions import PositionsView


@pytest.fixture
def mixed_path(pair_path: Path) -> Path:
    """Item 1.1 disputed (two columns), 1.2 one position (one column), 2.1 agreed (none)."""
    ws = Workspace(pair_path)
    ws.add_item("pair", section="Trade", title="Tariffs", delegation="IN",
                text="The Sides will lower tariffs.")
    ws.accept("pair", "2.1", delegation="RU")
    ws.close()
    return pair_path


async def test_an_item_switch_lays_out_nothing_and_repaints_three_widgets(
        mixed_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(mixed_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        tree = screen.query_one(AgendaTree)
        tree.focus()
        await settle(pilot)
        view = screen.query_one(PositionsView)
        widgets = list(screen.walk_children())

        layouts = 0
        painted: Counter[Widget] = Counter()  # lines drawn again, by widget
        original_layout = Screen._refresh_layout
        original_render = StylesCache.render_widget

        def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
            nonlocal layouts
            if self is screen:
                layouts += 1
            original_layout(self, *args, **kwargs)  # type: ignore[arg-type]

        def rendered(cache: StylesCache, widget: Widget, crop: Region) -> list[Strip]:
            # The lines the cache holds no clean copy of are drawn again (Textual's own test).
            painted[widget] += sum(1 for y in crop.line_range
                                   if cache.is_dirty(y) or y not in cache._cache)
            return original_render(cache, widget, crop)

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        monkeypatch.setattr(StylesCache, "render_widget", rendered)
        draws = 0
        original_draw = PositionsView._draw

        def drawn_lines(self: PositionsView, width: int) -> list[Strip]:
            nonlocal draws
            draws += 1
            return original_draw(self, width)

        monkeypatch.setattr(PositionsView, "_draw", drawn_lines)
        # The tree: Political, 1.1, 1.2, Trade, 2.1; a section line keeps the item shown.
        keys = ["down", "down", "down", "up", "up", "up"] * 2
        shown_columns = set()
        heading = screen.query_one("#item-heading")
        seen = {screen.item_uuid}  # drawn and styled in the first frame
        for key in keys:
            before = screen.item_uuid
            await pilot.press(key)
            await pilot.pause()
            state = app.state
            assert state is not None
            assert tree.cursor_node is not None
            if tree.cursor_node.data is not None:
                assert screen.item_uuid == tree.cursor_node.data  # the pane follows the cursor
            item = next(i for i in state.items if i.uuid == screen.item_uuid)
            positions = state.positions(item)
            agreed = len({r.uuid for r in positions.values()}) == 1 and len(positions) > 1
            assert len(view.columns) == (0 if agreed else len(positions))
            shown_columns.add(len(view.columns))
            drawn = {widget for widget, lines in painted.items() if lines}
            # What was drawn: the tree's cursor lines, and on a new item its heading and the
            # view (before: some 34 widgets, 57 lines, after a layout of the screen).
            assert tree in drawn and drawn <= {tree, view, heading}, drawn
            assert painted[tree] <= 3 and painted[heading] <= heading.size.height
            assert painted[view] <= view.size.height
            if screen.item_uuid != before and screen.item_uuid in seen:
                # An item shown before: its styled lines are kept, nothing is styled again.
                assert painted[view] == 0, screen.item_uuid
            seen.add(screen.item_uuid)
            painted.clear()
        assert shown_columns == {0, 1, 2}  # the moves went between every kind of item
        assert layouts == 0  # none of these texts scrolls: nothing on the screen moved
        assert draws <= 3  # 1.1 was drawn before; 1.2 and 2.1 once each, then kept
        assert list(screen.walk_children()) == widgets  # nothing mounted or removed


async def test_a_text_that_scrolls_lays_out_only_when_its_scrollbar_comes_or_goes(
        pair_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(pair_path)
    long = " ".join(f"The Sides note point {n}." for n in range(200))
    ws.add_item("pair", section="Trade", title="Long", delegation="IN", text=long)
    ws.add_item("pair", section="Trade", title="Longer", delegation="IN", text=long * 2)
    ws.close()
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        tree = screen.query_one(AgendaTree)
        tree.focus()
        view = screen.query_one(PositionsView)
        layouts = 0
        original = Screen._refresh_layout

        def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
            nonlocal layouts
            if self is screen:
                layouts += 1
            original(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        bars = []
        for key in ("down",) * 6:  # 1.2, Trade, 2.1 (long), 2.2 (longer), then stays
            await pilot.press(key)
            await settle(pilot)
            bars.append(view.show_vertical_scrollbar)
        comes_or_goes = sum(a != b for a, b in zip([False, *bars], bars, strict=False))
        assert bars[-1] and not bars[0]
        # Textual lays out twice when a scrollbar is shown; moving between two long texts, none.
        assert layouts <= 2 * comes_or_goes
        # Scrolled to the end, the last words of the text are on the screen.
        view.focus()
        await pilot.press("end")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y > 0
        assert "point 199." in screen_text(app)


async def test_the_first_frame_of_a_small_workspace_holds_its_item(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    painted: list[str] = []
    original = Widget._size_updated

    def watched(self: Widget, *args: object, **kwargs: object) -> bool:
        if self.id == "item-heading" and not painted:
            painted.append(str(self.render()))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Widget, "_size_updated", watched)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        # Laid out for the first time already showing the item, not "Reading the summit…".
        assert painted and "proposed by" in painted[0]


class Terminal:
    """What a terminal shows after the app's updates: each cell's character and colours."""

    def __init__(self, width: int, height: int) -> None:
        self.cells: list[list[tuple[str, tuple[object, ...]]]] = [
            [(" ", ())] * width for _ in range(height)]

    def apply(self, app: SummitApp, update: object) -> None:
        console = app.console
        x = y = 0
        for segment in update.__rich_console__(console, console.options):  # type: ignore[attr-defined]
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = control[1], control[2]
                continue
            if segment.text == "\n":
                continue
            for char in segment.text:
                row = self.cells[y]
                if 0 <= x < len(row):
                    row[x] = (char, _look(segment.style))
                x += max(cell_len(char), 1)

    def text(self) -> str:
        return "\n".join("".join(char for char, _ in row) for row in self.cells)


def _look(style: Style | None) -> tuple[object, ...]:
    if style is None:
        return ()
    return (style.color, style.bgcolor, style.bold, style.italic, style.underline,
            style.strike, style.reverse, style.dim)


async def _flushed(pilot: Pilot[None]) -> None:
    """Until the screen has written every change it knows of."""
    screen = pilot.app.screen
    for _ in range(50):
        await pilot.pause(0.01)
        if not (screen._dirty_widgets or screen._compositor._dirty_regions
                or screen._layout_required or screen._repaint_required):
            return


KEYS = ("down", "up", "down", "pagedown", "home", "end", "up", "alt+3", "down", "alt+4",
        "up", "alt+1", "tab", "end", "home", "shift+tab", "down", "f", "t", "r", "escape",
        "up", "down", "down")


# Each example starts the app (seconds): a few, and no shrinking, which took minutes; the
# failing keys are printed whole.
@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(KEYS), min_size=8, max_size=24),
       size=st.sampled_from([(120, 36), (80, 24)]))
def test_what_the_terminal_shows_is_the_screen_drawn_whole(
        demo_path: Path, monkeypatch: pytest.MonkeyPatch, keys: list[str],
        size: tuple[int, int]) -> None:
    """Partial updates (RowCompositor draws only the rows that changed) leave the terminal
    showing what a full redraw of the screen shows, cell by cell, after every key."""
    sent: list[object] = []
    original = SummitApp._display

    def display(self: SummitApp, screen: Screen[object], renderable: object) -> None:
        if renderable is not None:
            sent.append(renderable)
        original(self, screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(SummitApp, "_display", display)

    async def run() -> None:
        app = make_app(demo_path, as_="IN")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await _flushed(pilot)
            terminal = Terminal(*size)
            for key in ["", *keys]:
                if key:
                    await pilot.press(key)
                await _flushed(pilot)
                for update in sent:
                    terminal.apply(app, update)
                sent.clear()
                whole = Terminal(*size)
                compositor = app.screen._compositor
                # Drawn whole by Textual's own pass: every widget asked for all its lines.
                compositor._get_renders = partial(  # type: ignore[method-assign]
                    Compositor._get_renders, compositor)
                try:
                    strips = compositor.render_strips()
                finally:
                    del compositor._get_renders
                whole.apply(app, LayoutUpdate([[strip] for strip in strips],
                                              compositor.size.region))
                assert terminal.text() == whole.text(), key
                assert terminal.cells == whole.cells, key
                _positions_as_textual_draws_them(app)
            # The workspace drew with RowCompositor (a key may have opened a dialog over it).
            workspace = next(s for s in app.screen_stack if isinstance(s, WorkspaceScreen))
            assert isinstance(workspace._compositor, RowCompositor)

    asyncio.run(run())


def _positions_as_textual_draws_them(app: SummitApp) -> None:
    """The Positions lines kept by PositionsView are the lines Textual styles afresh."""
    found = app.screen.query(PositionsView)
    if not found or not found.first().region:
        return
    view = found.first()
    whole = view.outer_size.region
    kept = view.render_lines(whole)
    view._styles_cache.clear()
    fresh = ScrollView.render_lines(view, whole)

    def cells(strips: list[Strip]) -> list[list[tuple[str, tuple[object, ...]]]]:
        return [[(char, _look(segment.style)) for segment in strip for char in segment.text]
                for strip in strips]

    assert cells(kept) == cells(fresh)
