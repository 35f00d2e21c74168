"""Soak: the app stays open on a workspace while another process tables revision after revision.

At the end every revision is in the app's history, the screen shows the latest texts, the
draft typed before the soak is still there unsaved, and the integrity check is clean. The
default run tables 150 revisions (a few seconds); the slow run tables the 1,000 of issue 6.
"""

from __future__ import annotations

import subprocess
import sys
import time
from itertools import cycle
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_helpers import make_app, settle

from agenda.integrity import check
from agenda.workspace import Workspace
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.draft import DraftPane
from tui.widgets.history import HistoryPane
from tui.widgets.positions import PositionsView

# Tables `count` revisions, alternating items 1.1/1.2 and delegations RU/IN, each with its own
# text and justification, pausing `pace` seconds between them so the app refreshes mid-run.
WRITER = """
import sys, time
from agenda.model import Code
from agenda.workspace import Workspace

path, count, pace = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ws = Workspace(path)
for n in range(count):
    ws.table("pair", "1.1" if n % 2 == 0 else "1.2", delegation="RU" if n % 4 < 2 else "IN",
             text=f"The Sides will review soak text {n} at the next round.", code=Code.MOD,
             why=f"soak {n}")
    time.sleep(pace)
ws.close()
print(count)
"""

# What the app is asked to do while the writer runs: move around the agenda and the tabs.
KEYS = ("down", "3", "escape", "up", "4", "escape", "1", "5", "escape", "1")


def latest_on_disk(path: Path, viewer: str) -> dict[str, list[str]]:
    ws = Workspace(path)
    try:
        state = ws.state("pair", viewer)
        return {item.number: [r.uuid for r in state.history(item)] for item in state.items}
    finally:
        ws.close()


async def soak(path: Path, count: int, pace: float, timeout: float) -> None:
    app = make_app(path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        # An unsaved draft on 1.1: the live refreshes must leave it alone.
        await pilot.press("2")
        await settle(pilot)
        draft = screen.query_one(DraftPane)
        draft.editor.focus()
        await pilot.press("end")
        draft.editor.insert(" UNSAVED-SOAK-DRAFT")
        typed = draft.text
        screen.query_one(AgendaTree).focus()
        await pilot.press("1")

        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(count), str(pace)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + timeout
            keys = cycle(KEYS)
            reads = [app.state]  # each live refresh brings a new state
            while writer.poll() is None:
                assert time.monotonic() < deadline, "the writer did not finish in time"
                await pilot.press(next(keys))
                await pilot.pause(0.05)
                if app.state is not reads[-1]:
                    reads.append(app.state)
            out, err = writer.communicate()
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
        assert writer.returncode == 0, err
        assert out.strip() == str(count)
        assert len(reads) > 1, "the app never refreshed while the writer was tabling"

        # The app notices the last commit by itself (it polls the file every second).
        expected = latest_on_disk(path, "IN")
        while True:
            state = app.state
            if state is not None and {
                    item.number: [r.uuid for r in state.history(item)]
                    for item in state.items} == expected:
                break
            assert time.monotonic() < deadline + 10, "the app did not catch up with the disk"
            await pilot.pause(0.05)
        await settle(pilot)

        # Every revision the writer tabled is in the app's history, in order.
        history = {item.number: state.history(item) for item in state.items}
        tabled = [r for revisions in history.values() for r in revisions
                  if r.justification.startswith("soak ")]
        assert sorted(int(r.justification.split()[1]) for r in tabled) == list(range(count))

        # The screen shows the latest: Positions of 1.1 hold each side's last text...
        screen.go_to(state.item("1.1").uuid)
        await pilot.press("1")
        await settle(pilot)
        item = state.item("1.1")
        shown = " ".join(column.body.plain for column in screen.query_one(PositionsView).columns)
        for code in ("IN", "RU"):
            assert state.positions(item)[code].text in shown
        # ...the History table ends with the latest revision...
        await pilot.press("3")
        await settle(pilot)
        table = screen.query_one(HistoryPane).query_one(DataTable)
        assert table.row_count == len(history["1.1"])
        last_key = table.coordinate_to_cell_key((table.row_count - 1, 0)).row_key
        assert last_key.value == history["1.1"][-1].uuid
        # ...and the draft typed before the soak is still there, unsaved.
        assert draft.text == typed and draft.dirty

    ws = Workspace(path)
    try:
        assert check(ws) == []
    finally:
        ws.close()


async def test_soak_while_another_process_tables(pair_path: Path) -> None:
    await soak(pair_path, count=150, pace=0.01, timeout=60)


@pytest.mark.slow
async def test_soak_1000_revisions(pair_path: Path) -> None:
    await soak(pair_path, count=1000, pace=0.02, timeout=110)
