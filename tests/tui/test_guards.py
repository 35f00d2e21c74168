"""No irreversible act by accident, no typed word lost: guards, the joint view, forms, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, TextArea
from tui_helpers import make_app, screen_text, settle, widget_text

from agenda import undo
from agenda.model import Status
from agenda.workspace import Workspace
from tui.screens.modals import AddItemScreen, ConfirmScreen, NoteScreen, TableDraftScreen
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.draft import DraftPane

SIZES = [(120, 36), (80, 24)]


def journal(path: Path) -> dict[str, bytes]:
    folder = path.with_name(path.stem + ".summits")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def status(path: Path, number: str = "1.1") -> Status:
    ws = Workspace(path)
    try:
        return ws.state("pair").item(number).status
    finally:
        ws.close()


def messages(app) -> str:  # noqa: ANN001 - the app under test
    return "\n".join(n.message for n in app._notifications)


async def choose_status(pilot, app, wanted: Status) -> None:  # noqa: ANN001
    await pilot.press("s")
    await settle(pilot, 1)
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(wanted.value)
    await pilot.press("enter")
    await settle(pilot, 1)


@pytest.mark.parametrize("size", SIZES, ids=["wide", "narrow"])
async def test_accept_asks_first_showing_text_label_and_outcome(pair_path: Path,
                                                                size: tuple[int, int]) -> None:
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        shown = widget_text(app)
        assert "Accept RU's v2 of item 1.1 as IN?" in shown
        assert "open Asia-Pacific region" in shown  # the text itself
        assert "v2 · MOD by RU" in shown and "agreed-ad-ref" in shown
        assert "A way back" in shown
        await pilot.press("enter")  # Enter takes the focused Cancel
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert journal(pair_path) == before
        await pilot.press("a")
        await settle(pilot, 1)
        await pilot.press("tab", "enter")
        await settle(pilot)
    assert journal(pair_path) != before
    assert status(pair_path) == Status.AGREED_AD_REF


async def test_final_asks_and_says_it_waits_for_the_other_capital(pair_path: Path) -> None:
    ws = Workspace(pair_path)
    ws.accept("pair", "1.1", delegation="IN")
    ws.close()
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await choose_status(pilot, app, Status.FINAL)
        assert isinstance(app.screen, ConfirmScreen)
        shown = widget_text(app)
        assert "on behalf of IN's capital" in shown and "until RU's capital confirms" in shown
        assert "no way back" in shown
        await pilot.press("enter")
        await settle(pilot)
        assert journal(pair_path) == before
        await choose_status(pilot, app, Status.FINAL)
        await pilot.press("tab", "enter")
        await settle(pilot)
    assert journal(pair_path) != before
    assert status(pair_path) == Status.AGREED_AD_REF  # final once RU's capital confirms too


async def test_withdraw_asks_and_offers_the_way_back(pair_path: Path) -> None:
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await choose_status(pilot, app, Status.WITHDRAWN)
        assert isinstance(app.screen, ConfirmScreen)
        assert "may reopen it" in widget_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert journal(pair_path) == before
        await choose_status(pilot, app, Status.WITHDRAWN)
        await pilot.press("tab", "enter")
        await settle(pilot)
    assert status(pair_path) == Status.WITHDRAWN


async def test_tabling_an_unchanged_text_without_a_reason_asks_a_second_time(
        pair_path: Path) -> None:
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot, 1)
        assert isinstance(app.screen, TableDraftScreen)
        shown = widget_text(app)
        assert "free and open Indo-Pacific" in shown  # what is being tabled
        assert "Tabled as v3" in shown and "negotiating" in shown
        assert "same as IN's standing text v1" in shown and "justification is empty" in shown
        await pilot.press("enter")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # "Back to the form"
        await settle(pilot, 1)
        assert isinstance(app.screen, TableDraftScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
    assert journal(pair_path) == before


async def test_restoring_an_internal_draft_never_names_it_to_the_other_side(
        pair_path: Path) -> None:
    ws = Workspace(pair_path)
    ws.table("pair", "1.1", delegation="IN", text="The Sides support a free region.",
             internal=True)
    ws.close()
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        table.focus()
        await pilot.press("end", "r")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        assert "label stays internal" in widget_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert journal(pair_path) == before
        await pilot.press("r", "tab", "enter")
        await settle(pilot)
    ws = Workspace(pair_path)
    state = ws.state("pair", None)
    last = state.tabled(state.item("1.1"))[-1]
    ws.close()
    assert last.text == "The Sides support a free region."
    assert last.justification == "Returns to an earlier wording"


JOINT_KEYS = ["a", "s", "n", "e", "K", "J", "m", "N", "c", "ctrl+z"]


async def test_the_joint_view_refuses_every_write(pair_path: Path) -> None:
    before = journal(pair_path)
    app = make_app(pair_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert app.acting_as is None
        for key in JOINT_KEYS:
            app._notifications.clear()
            await pilot.press(key)
            await settle(pilot, 1)
            assert isinstance(app.screen, WorkspaceScreen), key
            assert "Choose a delegation to act (v)" in messages(app), key
        # The palette's commands run the same actions, and are refused the same way.
        for action in ("save_draft", "table_draft", "restore_revision", "undo", "accept"):
            app._notifications.clear()
            await app.screen.run_action(action)
            await settle(pilot, 1)
            assert isinstance(app.screen, WorkspaceScreen), action
            assert "Choose a delegation to act (v)" in messages(app), action
    assert journal(pair_path) == before


@pytest.mark.parametrize("size", SIZES, ids=["wide", "narrow"])
async def test_a_refused_form_stays_open_with_the_reason_beside_the_field(
        pair_path: Path, size: tuple[int, int]) -> None:
    before = journal(pair_path)
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot, 1)
        modal = app.screen
        assert isinstance(modal, AddItemScreen)
        modal.query_one("#text", TextArea).load_text("Words I typed with care.")
        modal.query_one("#why", Input).value = "Because"
        await pilot.press("ctrl+s")  # no title: the workspace refuses
        await settle(pilot)
        assert app.screen is modal
        error = modal.query_one("#field-error")
        assert "title" in str(error.render()).lower()
        siblings = list(error.parent.children)  # type: ignore[union-attr]
        assert siblings[siblings.index(error) - 1].id == "title"
        assert modal.query_one("#text", TextArea).text == "Words I typed with care."
        assert modal.query_one("#why", Input).value == "Because"
        assert journal(pair_path) == before
        # Put right, the same form goes through.
        modal.query_one("#title", Input).value = "Energy"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
    assert journal(pair_path) != before


async def test_escape_on_typed_text_asks_and_keep_editing_keeps_it(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot, 1)
        note = app.screen
        assert isinstance(note, NoteScreen)
        await pilot.press("escape")  # nothing typed: it simply closes
        await settle(pilot, 1)
        assert isinstance(app.screen, WorkspaceScreen)
        await pilot.press("N")
        await settle(pilot, 1)
        note = app.screen
        await pilot.press(*"Red line")
        await pilot.press("escape")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Discard what you typed?" in widget_text(app)
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("enter")  # Keep editing
        await settle(pilot, 1)
        assert app.screen is note
        assert note.query_one(TextArea).text == "Red line"
        await pilot.press("escape", "tab", "enter")  # Discard, deliberately
        await settle(pilot, 1)
        assert isinstance(app.screen, WorkspaceScreen)


async def test_type_ahead_after_tab_lands_where_the_focus_went(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot, 1)
        await pilot.press(*"Ports", "tab", *"Quays", "tab", *"sea")
        modal = app.screen
        assert modal.query_one("#title", Input).value == "Ports"
        assert modal.query_one("#text", TextArea).text == "Quays"
        assert modal.query_one("#tags", Input).value == "sea"


async def test_undo_in_the_app_asks_then_takes_the_acceptance_back(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a", "tab", "enter")
        await settle(pilot)
        assert status(pair_path) == Status.AGREED_AD_REF
        after_accept = journal(pair_path)
        await pilot.press("ctrl+z")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        assert "IN accepted v2 of item 1.1" in widget_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert journal(pair_path) == after_accept
        await pilot.press("ctrl+z", "tab", "enter")
        await settle(pilot)
        assert status(pair_path) == Status.NEGOTIATING
        assert "Undone: IN accepted v2" in messages(app)
        assert "negotiating" in screen_text(app)


async def test_undo_in_the_app_is_refused_once_the_records_left(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a", "tab", "enter")
        await settle(pilot)
        ws = Workspace(pair_path)
        undo.mark_sent(ws, {"pair": len(ws.stored("pair")[0])})  # as a packet does
        ws.close()
        before = journal(pair_path)
        await pilot.press("ctrl+z")
        await settle(pilot, 1)
        assert isinstance(app.screen, WorkspaceScreen)
        assert "left this machine" in messages(app)
    assert journal(pair_path) == before


async def test_a_draft_whose_delegation_text_moved_shows_the_difference(
        pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        draft = app.screen.query_one(DraftPane)
        start = draft.start
        assert start is not None and start.label == "v1"
        draft.editor.focus()
        await pilot.press("end", *" Soon.")
        # Meanwhile a colleague of IN tables another text.
        colleague = Workspace(pair_path)
        colleague.table("pair", "1.1", delegation="IN", why="Colleague",
                        text="The Sides support a free, open and inclusive region.")
        colleague.close()
        app.load_state()
        await settle(pilot)
        assert draft.text.endswith("Soon.") and draft.start == start
        before = journal(pair_path)
        await pilot.press("ctrl+t")
        await settle(pilot, 1)
        assert isinstance(app.screen, ConfirmScreen)
        shown = widget_text(app)
        assert "your draft began from v1; it is now v3" in shown
        assert "Soon." in shown and "inclusive" in shown  # the difference, both sides
        await pilot.press("enter")
        await settle(pilot)
        assert journal(pair_path) == before
        await pilot.press("ctrl+t", "tab", "enter")
        await settle(pilot, 1)
        assert isinstance(app.screen, TableDraftScreen)
        app.screen.query_one("#justification", Input).value = "Keeps it short"
        await pilot.press("ctrl+s")
        await settle(pilot)
    ws = Workspace(pair_path)
    state = ws.state("pair", "IN")
    last = state.tabled(state.item("1.1"))[-1]
    ws.close()
    assert last.text.endswith("Soon.") and last.parents == (start.uuid,)
