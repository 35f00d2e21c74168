"""The workspace screen: opening, acting as, the tree, the tabs, and the item actions."""

from __future__ import annotations

import time
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Select, TextArea
from tui_helpers import make_app, screen_text, settle, widget_text

from agenda.demo import DEMO_SLUG
from agenda.model import TRANSITIONS, Code, Status
from agenda.workspace import Workspace
from tui.screens.modals import ChoiceScreen, CompilationScreen, StatusScreen, TableDraftScreen
from tui.screens.workspace import WorkspaceScreen
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.diff_view import DiffView
from tui.widgets.draft import DraftPane
from tui.widgets.history import HistoryPane
from tui.widgets.tab_bar import ItemTabs


def state(path: Path, viewer: str | None = None, slug: str = "pair"):
    ws = Workspace(path)
    try:
        return ws.state(slug, viewer)
    finally:
        ws.close()


async def test_opens_the_demo_acting_as_a_delegation(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.sub_title == "Acting as IN (India)"
        assert app.title == "India–Russia Annual Summit 2021"
        text = screen_text(app)
        assert "Acting as IN (India)" in text
        assert "1.1 Regional security" in text
        assert "IN–RU similarity" in text


async def test_acting_as_is_remembered_per_workspace(pair_path: Path) -> None:
    async with make_app(pair_path, as_="RU").run_test() as pilot:
        await settle(pilot)
    app = make_app(pair_path)
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        assert app.acting_as == "RU"
        assert app.sub_title == "Acting as RU (Russia)"


async def test_switch_to_the_joint_view_and_back(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("v")
        assert isinstance(app.screen, ChoiceScreen)
        options = app.screen.query_one(OptionList)
        options.highlighted = options.option_count - 1  # the joint view comes last
        await pilot.press("enter")
        await settle(pilot)
        assert app.acting_as is None
        assert app.sub_title.startswith("Joint view")
        await pilot.press("2")
        await settle(pilot)
        assert "Drafting needs a delegation" in screen_text(app)
        await pilot.press("v")
        await pilot.press("enter")  # IN, the first delegation
        await settle(pilot)
        assert app.sub_title == "Acting as IN (India)"


async def test_unknown_delegation_falls_back_to_the_joint_view(pair_path: Path) -> None:
    app = make_app(pair_path, as_="XX")
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        assert app.acting_as is None
        assert app.sub_title.startswith("Joint view")


async def test_filter_as_you_type(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f", *"sputnik")
        await settle(pilot)
        tree = app.screen.query_one(AgendaTree)
        shown = [leaf.data for branch in tree.root.children for leaf in branch.children]
        assert len(shown) == 1
        assert app.screen.query_one("#filter", Input).value == "sputnik"
        await pilot.press("enter")  # back to the tree
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.screen.item_uuid == shown[0]
        state_ = state(demo_path, "IN", DEMO_SLUG)
        assert state_.item(shown[0]).number == "3.1"
        # Status words filter too.
        app.screen.query_one("#filter", Input).value = "deferred"
        await settle(pilot)
        shown = [leaf.data for branch in tree.root.children for leaf in branch.children]
        assert [state_.item(u).status for u in shown] == [Status.DEFERRED]


async def test_loading_a_draft_does_not_mark_it_unsaved(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        draft = app.screen.query_one(DraftPane)
        assert draft.text  # the starting text was loaded...
        assert not draft.dirty  # ...without counting as an edit
        assert app.unsaved_drafts() == []
        await pilot.press("down", "down")
        await settle(pilot)
        assert app.unsaved_drafts() == []


async def test_type_and_table_a_draft_with_code_and_justification(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        editor = app.screen.query_one("#draft-editor", TextArea)
        editor.focus()
        await pilot.press("end", "space", "B")
        editor.insert("oth sides agree.")
        assert app.unsaved_drafts() == ["1.1"]
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, TableDraftScreen)
        app.screen.query_one("#justification", Input).value = "Adds the agreement"
        await pilot.press("enter")
        await settle(pilot)
        assert app.unsaved_drafts() == []
    last = state(pair_path, "IN").history(state(pair_path).item("1.1"))[-1]
    assert last.delegation == "IN"
    assert last.code == Code.MOD
    assert last.tabled
    assert last.justification == "Adds the agreement"
    assert last.text.endswith("Both sides agree.")


async def test_table_with_sup_code(pair_path: Path) -> None:
    app = make_app(pair_path, as_="RU")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("ctrl+t")
        modal = app.screen
        assert isinstance(modal, TableDraftScreen)
        modal.query_one("#code", Select).value = Code.SUP
        modal.query_one("#justification", Input).value = "Not needed"
        await pilot.press("ctrl+s")
        await settle(pilot)
    last = state(pair_path, "RU").tabled(state(pair_path).item("1.1"))[-1]
    assert (last.code, last.justification, last.delegation) == (Code.SUP, "Not needed", "RU")


async def test_save_internal_draft_stays_out_of_the_joint_view(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        editor = app.screen.query_one("#draft-editor", TextArea)
        editor.focus()
        await pilot.press("end", "space")
        editor.insert("SECRETFALLBACK")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.unsaved_drafts() == []
        assert "unsaved" not in screen_text(app)
    item = state(pair_path).item("1.1")
    draft = state(pair_path, "IN").history(item)[-1]
    assert not draft.tabled and draft.text.endswith("SECRETFALLBACK")
    assert all("SECRETFALLBACK" not in r.text for r in state(pair_path).history(item))
    assert all("SECRETFALLBACK" not in r.text for r in state(pair_path, "RU").history(item))


def distinctive(text: str, public: str) -> str:
    """Three consecutive words of a private text that no tabled text contains."""
    words = text.split()
    for start in range(len(words) - 2):
        window = " ".join(words[start:start + 3])
        if window not in public:
            return window
    raise AssertionError(f"nothing distinctive in {text!r}")


async def test_the_joint_view_never_shows_an_internal_draft(demo_path: Path) -> None:
    ws = Workspace(demo_path)
    joint = ws.state(DEMO_SLUG)
    public = " ".join(" ".join(r.text.split()) for i in joint.items for r in joint.history(i))
    secrets: set[str] = set()
    private_items: set[str] = set()
    for code in ("IN", "RU"):
        private = ws.state(DEMO_SLUG, code)
        for item in private.items:
            texts = [r.text for r in private.history(item) if not r.tabled]
            texts += [n.text for n in private.item_notes(item)]
            secrets.update(distinctive(text, public) for text in texts)
            if texts:
                private_items.add(item.uuid)
    ws.close()
    assert len(secrets) >= 3
    app = make_app(demo_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(AgendaTree)
        for uuid in private_items:
            tree.select_item(uuid)
            for tab in ("positions", "draft", "history", "diff", "notes"):
                app.screen.query_one(ItemTabs).active = tab
                await settle(pilot, 1)
                held = " ".join(widget_text(app).split())
                assert held and not [secret for secret in secrets if secret in held]
                # The Draft tab's content is only built once the tab has been opened.
                assert all(draft.text == "" for draft in app.screen.query(DraftPane))


async def test_quitting_with_unsaved_text_asks_first(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one("#draft-editor", TextArea).focus()
        await pilot.press("w")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert "Unsaved draft text on item 1.1" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running
        assert app.screen.query_one(DraftPane).dirty
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")  # the focus starts on Cancel: Enter keeps the app open
        await pilot.pause()
        assert app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert not app.is_running


async def test_unsaved_text_survives_moving_to_another_item(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        draft = app.screen.query_one(DraftPane)
        draft.editor.focus()
        await pilot.press("end", "!")
        text = draft.text
        app.screen.query_one(AgendaTree).focus()
        await pilot.press("down")
        await settle(pilot)
        assert draft.text == "The Sides will meet every year."
        assert app.unsaved_drafts() == ["1.1"]
        await pilot.press("up")
        await settle(pilot)
        assert draft.text == text


async def test_status_modal_offers_only_legal_moves_and_survives_a_refusal(
        pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        modal = app.screen
        assert isinstance(modal, StatusScreen)
        options = modal.query_one(OptionList)
        offered = {options.get_option_at_index(i).id for i in range(options.option_count)}
        current = state(pair_path).item("1.1").status
        assert offered == {s.value for s in TRANSITIONS[current]}
        # Agreement needs every side's acceptance: the core refuses, the app says why.
        options.highlighted = [options.get_option_at_index(i).id
                               for i in range(options.option_count)].index("agreed-ad-ref")
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        assert "cannot be agreed" in screen_text(app)
        assert state(pair_path).item("1.1").status == current
        await pilot.press("s")
        options = app.screen.query_one(OptionList)
        options.highlighted = [options.get_option_at_index(i).id
                               for i in range(options.option_count)].index("deferred")
        await pilot.press("enter")
        await settle(pilot)
    assert state(pair_path).item("1.1").status == Status.DEFERRED


async def test_accept_the_other_sides_text_agrees_the_item(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("tab", "enter")  # the guard: Accept v2, past the focused Cancel
        await settle(pilot)
        assert "agreed-ad-ref" in screen_text(app)
    assert state(pair_path).item("1.1").status == Status.AGREED_AD_REF


async def test_accept_refused_in_the_joint_view(pair_path: Path) -> None:
    app = make_app(pair_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert "Choose a delegation to act (v)" in screen_text(app)
    assert state(pair_path).item("1.1").status == Status.NEGOTIATING


async def test_propose_the_compilation_text(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CompilationScreen)
        assert "IN: " in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
    last = state(pair_path).tabled(state(pair_path).item("1.1"))[-1]
    assert last.code == Code.CMP
    assert "[IN:" in last.text


async def test_add_retitle_move_and_note(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        modal = app.screen
        modal.query_one("#title", Input).value = "Energy dialogue"
        modal.query_one("#text", TextArea).load_text("The Sides will discuss energy.")
        modal.query_one("#tags", Input).value = "energy, new"
        await pilot.press("ctrl+s")
        await settle(pilot)
        added = state(pair_path).item("1.3")
        assert (added.title, added.tags, added.owner) == ("Energy dialogue", ("energy", "new"),
                                                          "IN")
        assert app.screen.item_uuid == added.uuid

        await pilot.press("e")
        app.screen.query_one("#value", Input).value = "Energy partnership"
        await pilot.press("enter")
        await settle(pilot)
        assert state(pair_path).item(added.uuid).title == "Energy partnership"

        await pilot.press("K")
        await settle(pilot)
        assert state(pair_path).item(added.uuid).number == "1.2"

        await pilot.press("m")
        await pilot.press("enter")  # the only other section: Trade
        await settle(pilot)
        assert state(pair_path).item(added.uuid).number == "2.1"

        await pilot.press("N")
        app.screen.query_one("#note", TextArea).load_text("Our red line: 2030.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "Our red line: 2030." in screen_text(app)
    moved = state(pair_path, "IN").item(added.uuid)
    assert [n.text for n in state(pair_path, "IN").item_notes(moved)] == ["Our red line: 2030."]
    assert state(pair_path, "RU").item_notes(moved) == ()


async def test_history_compare_two_and_restore(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        history = app.screen.query_one(HistoryPane)
        table = history.query_one(DataTable)
        table.focus()
        assert table.row_count == 2
        await pilot.press("up", "space", "down", "space")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "diff"
        assert "v1 IN ADD → v2 RU MOD" in screen_text(app)

        await pilot.press("3")
        await settle(pilot)
        table.focus()
        await pilot.press("up", "enter")
        await pilot.pause()
        assert "free and open Indo-Pacific" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("r")
        await pilot.press("tab", "enter")
        await settle(pilot)
    last = state(pair_path).tabled(state(pair_path).item("1.1"))[-1]
    assert (last.code, last.justification, last.delegation) == (Code.MOD, "Restores v1", "IN")
    assert last.text == "The Sides support a free and open Indo-Pacific region."


async def test_diff_toggles_layout_and_jumps_between_changes(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        diff = app.screen.query_one(DiffView)
        diff.focus()
        assert diff.query(".diff-left")  # side by side first
        await pilot.press("t")
        await settle(pilot)
        assert diff.inline
        assert not diff.query(".diff-left")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        current = diff.query(".-current")
        assert len(current) == 1 and current.first().has_class("-changed")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert len(diff.query(".-current")) == 1


async def test_palette_goes_to_an_item(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"3.1")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert state(demo_path, "IN", DEMO_SLUG).item(app.screen.item_uuid).number == "3.1"


async def test_help_lists_the_bindings(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = widget_text(app)
        assert "Accept the other side's latest text" in text
        assert "Table draft" in text
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert "Keys" in screen_text(app)


async def test_live_refresh_keeps_the_open_draft(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        draft = app.screen.query_one(DraftPane)
        draft.editor.focus()
        await pilot.press("end", "!")
        typed = draft.text
        other = Workspace(pair_path)
        other.table("pair", "1.1", delegation="RU", why="From the CLI",
                    text="The Sides support an open and inclusive Asia-Pacific region.")
        other.close()
        # The app polls the file every second: wait for it to notice, no longer.
        deadline = time.monotonic() + 5
        assert app.state is not None
        while len(app.state.history(app.state.item("1.1"))) < 3:
            assert time.monotonic() < deadline, "the app did not notice the other process"
            await pilot.pause(0.05)
        await settle(pilot)
        assert len(app.state.history(app.state.item("1.1"))) == 3
        assert draft.text == typed and draft.dirty
        await pilot.press("escape", "3")
        await settle(pilot)
        assert "From the CLI" in screen_text(app)


async def test_tabs_are_built_when_first_opened(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkspaceScreen)
        assert not screen.query(DraftPane) and not screen.query(HistoryPane)
        # Actions of tabs not opened yet are harmless: tabling opens the editor first.
        await screen.run_action("restore_revision")
        await screen.run_action("view_revision")
        await screen.run_action("save_draft")
        await screen.run_action("table_draft")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert screen.query_one(ItemTabs).active == "draft"
        assert isinstance(app.focused, TextArea)  # the editor, focused once it was built
        # IN's draft starts from IN's own position.
        assert screen.query_one(DraftPane).text == (
            "The Sides support a free and open Indo-Pacific region.")
        await pilot.press("escape", "3")
        await settle(pilot)
        assert isinstance(app.focused, DataTable)
        assert screen.query_one(HistoryPane).table.row_count == 2
