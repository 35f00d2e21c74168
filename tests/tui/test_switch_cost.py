"""What an item switch costs the screen: one layout, no widget mounted or removed, and the
first frame of a small workspace already holds its item."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widget import Widget
from tui_helpers import make_app, settle

from agenda.workspace import Workspace
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


async def test_an_item_switch_lays_out_once_and_mounts_nothing(
        mixed_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(mixed_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        tree = screen.query_one(AgendaTree)
        tree.focus()
        await settle(pilot)
        # Visit every item once, so that every column the view will need exists.
        for key in ("down", "down", "down", "up", "up", "up"):
            await pilot.press(key)
            await settle(pilot)
        view = screen.query_one(PositionsView)
        widgets = set(view.walk_children())

        layouts = 0
        original = Screen._refresh_layout

        def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
            nonlocal layouts
            if self is screen:
                layouts += 1
            original(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        # The tree: Political, 1.1, 1.2, Trade, 2.1; a section line keeps the item shown.
        keys = ["down", "down", "down", "up", "up", "up"] * 2
        shown_columns = set()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            state = app.state
            assert state is not None
            assert tree.cursor_node is not None
            if tree.cursor_node.data is not None:
                assert screen.item_uuid == tree.cursor_node.data  # the pane follows the cursor
            item = next(i for i in state.items if i.uuid == screen.item_uuid)
            columns = [w for w in view.query(".position") if w.display]
            shown_columns.add(len(columns))
            assert len(columns) == (0 if len({r.uuid for r in state.positions(item).values()})
                                    == 1 and len(state.positions(item)) > 1
                                    else len(state.positions(item)))
        assert shown_columns == {0, 1, 2}  # the moves went between every kind of item
        assert layouts <= len(keys)
        assert set(view.walk_children()) == widgets  # updated in place, never rebuilt


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
