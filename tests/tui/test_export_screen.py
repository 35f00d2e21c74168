"""The export screen is kept between visits and shows a document already rendered at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select, TextArea
from tui_helpers import make_app, settle

from agenda import export
from agenda.demo import DEMO_SLUG
from agenda.model import AgendaError
from tui.messages import StateLoaded
from tui.screens import workspace as workspace_screen
from tui.screens.export import ExportScreen, cached_render, export_templates, open_export
from tui.screens.workspace import WorkspaceScreen


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """Every (template, viewer) the screen actually rendered."""
    calls: list[tuple[str, str | None]] = []
    real = export.render

    def counting(ws: Any, slug: str, template: str = "agenda", **options: Any) -> str:
        calls.append((template, options.get("viewer")))
        return real(ws, slug, template, **options)

    monkeypatch.setattr(export, "render", counting)
    return calls


async def test_a_second_visit_on_the_same_state_renders_nothing(
        demo_path: Path, renders: list[tuple[str, str | None]]) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, ExportScreen)
        agenda_text = first.query_one("#preview", TextArea).text
        first.query_one("#template", Select).value = "brief"
        await settle(pilot)
        brief_text = first.query_one("#preview", TextArea).text
        assert renders == [("agenda", None), ("brief", "IN")]
        assert brief_text != agenda_text

        # Back to the agenda, away and back again: each document comes from the cache.
        first.query_one("#template", Select).value = "agenda"
        await settle(pilot)
        assert first.query_one("#preview", TextArea).text == agenda_text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is first
        assert first.query_one("#preview", TextArea).text == agenda_text
        assert first.markdown == agenda_text
        assert renders == [("agenda", None), ("brief", "IN")]


async def test_a_newer_state_is_rendered_again_and_another_viewer_gets_its_own_screen(
        demo_path: Path, renders: list[tuple[str, str | None]]) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, ExportScreen)
        before = first.query_one("#preview", TextArea).text
        await pilot.press("escape")
        await settle(pilot)

        app.ws.retitle_item(DEMO_SLUG, "1.1", "A title the preview must show")
        newer = app.ws.state(DEMO_SLUG, "IN")
        open_export(app, newer)
        await settle(pilot)
        assert app.screen is first and first.state is newer
        after = first.query_one("#preview", TextArea).text
        assert "A title the preview must show" in after and after != before
        assert renders == [("agenda", None), ("agenda", None)]
        await pilot.press("escape")
        await settle(pilot)

        joint = app.ws.state(DEMO_SLUG, None)
        open_export(app, joint)
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen) and app.screen is not first
        assert "brief" not in app.screen.templates  # the joint view is offered no brief


@pytest.fixture
def prepare_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preparation waits half a second after the first frame; here, a hundredth."""
    monkeypatch.setattr(workspace_screen, "PREPARE_EXPORT_AFTER", 0.01)


async def test_the_first_visit_finds_the_agenda_prepared_once_the_workspace_is_painted(
        demo_path: Path, renders: list[tuple[str, str | None]], prepare_soon: None) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)  # the timer, then its worker
        await settle(pilot)
        # Prepared off the screen's thread before any x: the agenda, for the state shown.
        assert renders == [("agenda", None)]
        state = app.state
        assert state is not None
        prepared = cached_render(state, next(t for t in export_templates() if t.name == "agenda"),
                                 None)
        assert prepared == export.render(app.ws, DEMO_SLUG, "agenda")
        # The screen itself is built too, off the stack: composed, never shown.
        built = app.get_screen("export")
        assert isinstance(built, ExportScreen) and built.is_running
        assert built not in app.screen_stack and built.state is state
        assert built.query_one("#preview", TextArea).text == prepared
        # A newer read of the summit prepares nothing again: once per app.
        app.post_message(StateLoaded(app.ws.state(DEMO_SLUG, "IN")))
        await settle(pilot)
        await pilot.pause(0.1)
        await settle(pilot)
        assert renders == [("agenda", None), ("agenda", None)]  # the check above
        app.post_message(StateLoaded(state))
        await settle(pilot)

        await pilot.press("x")
        await settle(pilot)
        assert app.screen is built
        assert app.screen.query_one("#preview", TextArea).text == prepared
        assert renders == [("agenda", None), ("agenda", None)]  # nothing rendered on the visit
        await pilot.press("escape")
        await settle(pilot)

        # Another viewer gets its own screen; the one built for IN is removed, not left
        # running behind the stack.
        open_export(app, app.ws.state(DEMO_SLUG, None))
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen) and app.screen is not built
        assert not built.is_running


async def test_a_broken_template_leaves_the_preparation_quiet_and_the_screen_reports_it(
        demo_path: Path, renders: list[tuple[str, str | None]],
        monkeypatch: pytest.MonkeyPatch, prepare_soon: None) -> None:
    def broken(info: Any) -> Any:
        raise AgendaError("Template agenda failed (line 1): unexpected '}'")

    monkeypatch.setattr(export, "load_template", broken)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.pause(0.1)  # the timer, then its worker
        await settle(pilot)
        assert renders == []  # the preparation stopped at the template, silently
        assert not list(app._notifications)
        assert isinstance(app.screen, WorkspaceScreen)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert [n.message for n in app._notifications] == [
            "Template agenda failed (line 1): unexpected '}'"]
