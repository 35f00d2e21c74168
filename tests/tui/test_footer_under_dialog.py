"""The footer under a dialog shows the dialog's keys, whenever the export screen is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, screen_text, settle

from tui.screens import export as export_screen
from tui.screens import workspace as workspace_screen


async def _open_dialog(pilot: Pilot[None], order: str) -> None:
    ws = pilot.app.screen
    assert isinstance(ws, workspace_screen.WorkspaceScreen) and ws.state is not None
    if order == "built just before":  # the race a CI run found: keys mounted, never shown
        export_screen._prebuild(pilot.app, ws.state)
        await pilot.press("n")
    elif order == "built just after":
        await pilot.press("n")
        export_screen._prebuild(pilot.app, ws.state)
    else:
        await pilot.press("n")


@pytest.mark.parametrize("order", ["built just before", "built just after", "not built"])
async def test_the_footer_under_a_dialog_shows_its_keys(demo_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       order: str) -> None:
    # The export screen is built here by hand, at the moment each case names.
    monkeypatch.setattr(workspace_screen, "PREPARE_EXPORT_AFTER", 60)
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await _open_dialog(pilot, order)
        await settle(pilot, 2)
        footer = screen_text(app).splitlines()[-1]
        assert "esc Cancel" in footer and "Export" not in footer, footer
