"""The app's error boundary: a full disk or a damaged file is a notification, never a closed
app, and no typed text is lost."""

from __future__ import annotations

import ast
import errno
import os
from pathlib import Path

import pytest
from textual.widgets import Button, Input, TextArea
from textual.worker import WorkerCancelled, WorkerFailed
from tui_helpers import make_app

from agenda.workspace import Workspace
from tui.app import SummitApp
from tui.screens.modals import NoteScreen, TableDraftScreen
from tui.screens.workspace import WorkspaceScreen

TUI = Path(__file__).resolve().parents[2] / "tui"
DRAFT = "The Sides support a free, open and inclusive Indo-Pacific region."


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file of the workspace, byte for byte (the app's preferences live elsewhere), less
    the daily backup, which the app's timer may take at any moment (see messages())."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.rglob(f"{path.stem}*"))
            if p.is_file() and p.suffix != ".backup"} | {p.name: p.read_bytes()
                               for p in sorted(path.parent.glob(f"{path.stem}.summits/*"))}


async def settle(pilot, rounds: int = 3) -> None:  # noqa: ANN001 - textual's Pilot
    """Let workers finish, those that fail included (the helpers' settle raises on those)."""
    for _ in range(rounds):
        for worker in list(pilot.app.workers):
            try:
                await worker.wait()
            except (WorkerFailed, WorkerCancelled):
                pass
        await pilot.pause()


def messages(app: SummitApp) -> list[str]:
    """What the app told the user, less the daily backup's own warnings: a backup timer may
    fire while the disk is full, and says so apart (tests/test_backup.py)."""
    return [n.message for n in app._notifications if "automatic backup" not in n.message]


def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)


async def type_a_draft(app: SummitApp, pilot) -> TextArea:  # noqa: ANN001 - textual's Pilot
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    editor = app.screen.query_one("#draft-editor", TextArea)
    editor.load_text(DRAFT)  # as if typed: the editor's text is the draft
    editor.focus()
    await pilot.press("end", "space", "X")
    await settle(pilot)
    assert app.unsaved_drafts() == ["1.1"]
    return editor


async def test_disk_full_while_adding_a_note_keeps_the_app_and_the_draft(
        pair_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(pair_path)
    # The daily backup (2 s after start) would land in the folder on a loaded machine.
    monkeypatch.setattr("tui.app.BACKUP_DELAY_SECONDS", 3600.0)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        editor = await type_a_draft(app, pilot)
        await pilot.press("escape")
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, NoteScreen)
        app.screen.query_one("#note", TextArea).load_text("Hold firm on Indo-Pacific.")
        disk_full(monkeypatch)
        app.screen.query_one("#ok", Button).press()
        await settle(pilot)
        monkeypatch.undo()
        assert app.is_running and app.return_code is None
        # The dialog stays open with the note as typed, to try again.
        assert isinstance(app.screen, NoteScreen)
        assert app.screen.query_one("#note", TextArea).text == "Hold firm on Indo-Pacific."
        (shown,) = [m for m in messages(app) if "No space left on device" in m]
        assert str(pair_path) in shown and "Nothing was changed" in shown
        assert "unsaved draft text on item 1.1 is kept" in shown
        assert editor.text == DRAFT + " X"
        assert app.unsaved_drafts() == ["1.1"]
    assert snapshot(pair_path) == before


async def test_disk_full_while_tabling_keeps_the_app_and_the_draft(
        pair_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        editor = await type_a_draft(app, pilot)
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, TableDraftScreen)
        app.screen.query_one("#justification", Input).value = "Inclusive"
        disk_full(monkeypatch)
        await pilot.press("enter")
        await settle(pilot)
        monkeypatch.undo()
        assert app.is_running and app.return_code is None
        assert any("No space left on device" in m for m in messages(app))
        assert editor.text == DRAFT + " X"
        assert app.unsaved_drafts() == ["1.1"]
        # Trying again on the full disk says so again: a repeated failure is never silent.
        await pilot.press("ctrl+t")
        app.screen.query_one("#justification", Input).value = "Inclusive"
        disk_full(monkeypatch)
        await pilot.press("enter")
        await settle(pilot)
        monkeypatch.undo()
        assert sum("No space left on device" in m for m in messages(app)) == 2
        # With room on the disk again, the same draft is tabled: nothing was lost.
        await pilot.press("ctrl+t")
        app.screen.query_one("#justification", Input).value = "Inclusive"
        await pilot.press("enter")
        await settle(pilot)
        assert app.unsaved_drafts() == []
    assert snapshot(pair_path) != before
    ws = Workspace(pair_path)
    state = ws.state("pair", "IN")
    assert state.history(state.item("1.1"))[-1].text == DRAFT + " X"
    ws.close()


async def test_a_summit_file_damaged_by_another_process(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await type_a_draft(app, pilot)
        ws = Workspace(pair_path)
        summit_file = next(p for p in pair_path.parent.rglob("*.json")
                           if p != pair_path and "pair" in p.name)
        ws.close()
        summit_file.write_bytes(b'{"_default": {"1": [not json')
        app._poll()  # the once-a-second check for changes made by others
        await settle(pilot)
        app.load_state()
        await settle(pilot)
        assert app.is_running and app.return_code is None
        failures = [m for m in messages(app) if summit_file.name in m]
        assert len(failures) == 1  # said once, not once a second
        assert app.unsaved_drafts() == ["1.1"]
        assert isinstance(app.screen, WorkspaceScreen)


async def test_an_unexpected_error_in_a_widget_worker_is_reported(
        pair_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.widgets.positions

    def broken(*args: object) -> None:
        raise RuntimeError("the comparison broke")

    monkeypatch.setattr(tui.widgets.positions, "compare_positions", broken)
    monkeypatch.setattr(tui.widgets.positions, "INLINE_CHARS", 0)  # compare in a worker
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert any("Unexpected error (RuntimeError): the comparison broke" in m
                   for m in messages(app))


def test_every_worker_leaves_its_errors_to_the_boundary() -> None:
    """No `@work` in the app may close it on an error (Textual's default)."""
    found = 0
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "work":
                found += 1
                options = {k.arg: k.value for k in node.keywords}
                assert "exit_on_error" in options, f"{path.name}:{node.lineno}"
                value = options["exit_on_error"]
                assert isinstance(value, ast.Constant) and value.value is False
    assert found >= 8
