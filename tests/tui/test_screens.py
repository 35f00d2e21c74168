"""Welcome, dashboard and export screens, and user text that looks like markup everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select, TextArea
from tui_helpers import make_app, screen_text, settle, widget_text

from agenda.demo import DEMO_SLUG, build_demo
from agenda.model import Delegation
from agenda.workspace import Workspace
from tui.screens.dashboard import DashboardScreen, convergence
from tui.screens.export import ExportScreen
from tui.screens.modals import CompilationScreen, RevisionScreen, StatusScreen
from tui.screens.welcome import WelcomeScreen
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.history import HistoryPane
from tui.widgets.tab_bar import ItemTabs

HOSTILE = ["[bold]x[/]", "[/]", "[@click=app.quit]q[/]", "[link=file:///etc/passwd]x[/link]"]


@pytest.fixture
def hostile_path(tmp_path: Path) -> Path:
    """A summit whose every user-written field looks like Textual/Rich markup."""
    path = tmp_path / "hostile.json"
    ws = Workspace(path, create=True)
    ws.create_summit("[bold]Summit[/] [/]", [Delegation("IN", "[/]India"),
                                             Delegation("RU", "[@click=app.quit]Russia[/]")],
                     slug="hostile", venue="[link=file:///etc/passwd]x[/link]",
                     sections=["[@click=app.quit]Politics[/]", "[/] Trade"])
    for n, title in enumerate(HOSTILE):
        ws.add_item("hostile", section="1", title=title, delegation="IN", tags=[title],
                    text=f"Text {n}: {' '.join(HOSTILE)} end.", why=HOSTILE[n - 1])
        ws.table("hostile", f"1.{n + 1}", delegation="RU", why=title,
                 text=f"Counter {n}: {' '.join(reversed(HOSTILE))} end.")
        ws.add_note("hostile", f"1.{n + 1}", delegation="IN", text=f"Note {title}")
    ws.close()
    return path


async def test_markup_like_text_is_shown_literally_on_every_screen(hostile_path: Path) -> None:
    app = make_app(hostile_path, as_="IN")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        painted = screen_text(app)
        assert "[bold]Summit[/] [/]" in painted
        assert "[@click=app.quit]Politics[/]" in painted
        for tab in ("positions", "draft", "history", "diff", "notes"):
            app.screen.query_one(ItemTabs).active = tab
            await settle(pilot, 2)
            held = widget_text(app)
            assert "[@click=app.quit]q[/]" in held, tab
        assert "Note [bold]x[/]" in screen_text(app)
        # Clicking where a markup click action would be does nothing.
        await pilot.click(offset=(10, 3))
        assert app.is_running

        app.screen.query_one(ItemTabs).active = "history"
        await settle(pilot)
        app.screen.query_one(HistoryPane).table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RevisionScreen)
        assert "[link=file:///etc/passwd]x[/link]" in screen_text(app)
        await pilot.press("escape")

        await pilot.press("escape", "s")
        assert isinstance(app.screen, StatusScreen)
        await pilot.press("escape", "c")
        await settle(pilot)
        assert isinstance(app.screen, CompilationScreen)
        assert "[@click=app.quit]q[/]" in widget_text(app)
        await pilot.press("escape", "e")
        assert app.screen.query_one(Input).value == "[bold]x[/]"
        await pilot.press("escape", "ctrl+p", *"[/]")
        await settle(pilot)
        assert "Go to 1.2 [/]" in screen_text(app)
        await pilot.press("escape", "D")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "[@click=app.quit]Politics[/]" in screen_text(app)
        await pilot.press("escape", "x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        app.pop_screen()
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        await pilot.press("v")
        assert "[@click=app.quit]Russia[/]" in screen_text(app)
        await pilot.press("escape")
        assert app.is_running


async def test_empty_workspace_opens_on_the_welcome_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        text = screen_text(app)
        assert "Create a summit" in text and "Open the demo" in text
        await pilot.press("c")
        form = app.screen
        form.query_one("#title", Input).value = "[b]Delhi[/b] 2025"
        form.query_one("#delegations", TextArea).load_text("IN=India\nFR=France")
        form.query_one("#venue", Input).value = "New Delhi"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.title == "[b]Delhi[/b] 2025"
    ws = Workspace(tmp_path / "empty.json")
    (entry,) = ws.summits()
    assert ws.state(entry.slug).summit.codes == ("IN", "FR")
    ws.close()


async def test_import_a_markdown_agenda(tmp_path: Path) -> None:
    source = tmp_path / "agenda.md"
    source.write_text("# Delhi talks\n\n## Trade\n\n### Payments in national currencies\n\n"
                      "The Sides will settle trade in rupees and roubles.\n", encoding="utf-8")
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("i")
        app.screen.query_one("#source", Input).value = str(source)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")  # the import report
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.state is not None
        assert [i.title for i in app.state.items] == ["Payments in national currencies"]


async def test_a_refused_summit_form_comes_back_filled_in(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        app.screen.query_one("#title", Input).value = "Lonely"
        app.screen.query_one("#delegations", TextArea).load_text("IN=India")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "at least two delegations" in screen_text(app)
        assert app.screen.query_one("#title", Input).value == "Lonely"


async def test_welcome_opens_the_demo(tmp_path: Path) -> None:
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.slug == DEMO_SLUG


async def test_several_summits_are_listed_to_choose_from(demo_path: Path) -> None:
    ws = Workspace(demo_path)
    ws.create_summit("Second", [Delegation("IN", "India"), Delegation("JP", "Japan")])
    ws.close()
    app = make_app(demo_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.slug == DEMO_SLUG


async def test_dashboard_counts_and_convergence(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        text = screen_text(app)
        assert "items agreed" in text
        assert "Political & Strategic" in text
        assert "→" in text  # a convergence trend
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)


def test_convergence_reaches_one_when_agreed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.json", create=True)
    build_demo(ws)
    state = ws.state(DEMO_SLUG)
    agreed = [i for i in state.items if i.status.value in ("agreed-ad-ref", "final")]
    assert agreed
    for item in agreed:
        rounds = convergence(state, item).rounds
        assert rounds and rounds[-1] == 1.0
        assert all(0.0 <= r <= 1.0 for r in rounds)
    ws.close()


async def test_export_previews_and_writes(demo_path: Path, tmp_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        preview = screen.query_one("#preview", TextArea)
        assert preview.text.startswith("# ")
        assert screen.query_one("#file-name", Input).value.endswith(
            f"{DEMO_SLUG}-agenda.md")
        screen.query_one("#template", Select).value = "brief"
        await settle(pilot)
        assert screen.query_one("#file-name", Input).value.endswith(
            f"{DEMO_SLUG}-brief-in.md")
        target = tmp_path / "brief.md"
        screen.query_one("#file-name", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Wrote" in screen_text(app)
    assert target.read_text(encoding="utf-8") == preview.text


@pytest.mark.parametrize("starter", ["", "trilateral"])
async def test_welcome_creates_a_summit_with_or_without_a_starter(tmp_path: Path,
                                                                  starter: str) -> None:
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Moscow Summit")
        app.screen.query_one("#delegations", TextArea).text = "IN=India\nRU=Russia\nJP=Japan"
        if starter:
            app.screen.query_one("#starter", Select).value = starter
        await pilot.click("#ok")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
    ws = Workspace(tmp_path / "empty.json")
    (entry,) = ws.summits()
    state = ws.state(entry.slug)
    assert entry.title == "Moscow Summit" and state.summit.codes == ("IN", "RU", "JP")
    if starter:
        assert state.items and {i.owner for i in state.items} == {"IN"}
    else:
        assert not state.items and len(state.summit.sections) == 7


async def test_agenda_labels_follow_a_switch_to_the_light_theme(demo_path: Path) -> None:
    from textual.color import Color

    from tui.widgets.agenda_tree import AgendaTree

    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.theme = "textual-light"
        await settle(pilot)
        tree = app.screen.query_one(AgendaTree)
        background = Color.from_rich_color(tree.rich_style.bgcolor)
        for part in ("number", "deferred"):
            colour = Color.from_rich_color(tree._style(part).color)
            # Muted text on a light background must still be darker than the background.
            assert colour.brightness < background.brightness - 0.2, (part, colour)
