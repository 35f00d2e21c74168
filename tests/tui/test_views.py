"""What the screens show: the compilation in Positions, the brief for its own delegation only,
one bracket count, search, the Log tab, changed marks, the footer, alt+N in the editor."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.text import Text
from scenarios import count_merges
from textual.widgets import (
    Button,
    Input,
    OptionList,
    Select,
    Static,
    TextArea,
)
from tui_helpers import make_app, screen_text, settle

from agenda.cli import main
from agenda.demo import DEMO_SLUG
from agenda.export import render
from agenda.model import Code, Delegation
from agenda.workspace import Workspace
from tui.screens.export import ExportScreen
from tui.screens.search import SearchScreen, search, snippet
from tui.screens.workspace import WorkspaceScreen, restore_justification
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.draft import DraftPane
from tui.widgets.footer import AgendaFooter
from tui.widgets.positions import PositionsView
from tui.widgets.tab_bar import ItemTabs

SIZES = [(120, 36), (80, 24)]
MARKER = "ZEBRAMARKER"


def read_state(path: Path, viewer: str | None, slug: str = "pair"):
    ws = Workspace(path)
    try:
        return ws.state(slug, viewer)
    finally:
        ws.close()


def static(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


# Positions -------------------------------------------------------------------------------


def view_text(view: PositionsView) -> str:
    """Every line the view draws, as plain text (the lines below the window included)."""
    width = view.scrollable_content_region.width
    return "\n".join(strip.text for strip in view._build(width))


@pytest.mark.parametrize("size", SIZES)
async def test_positions_shows_the_compilation_coloured_per_delegation(
        pair_path: Path, size: tuple[int, int]) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(PositionsView)
        assert view.compiled is not None
        heading = view.compiled.heading.plain
        assert heading.startswith("Compilation of IN v1 RU v2 · ")
        body = view.compiled.body
        assert "[IN: " in body.plain and "[RU: " in body.plain
        # Each side's options in its own colour.
        styles = {str(span.style) for span in body.spans}
        assert len(styles) >= 2
        why = [column.why.plain for column in view.columns]
        assert "Why: Regional term" in why
        assert "No justification given" in why
        # ...and all of it on the screen, drawn by the view itself.
        shown = " ".join(view_text(view).split())
        for text in (heading, "Why: Regional term", "No justification given",
                     "Start a draft from this text (ctrl+d)"):
            assert " ".join(text.split()) in shown


async def test_an_agreed_item_shows_its_text_once(pair_path: Path) -> None:
    ws = Workspace(pair_path)
    ws.accept("pair", "1.1", delegation="IN")
    text = ws.state("pair", "IN").current_text(ws.state("pair", "IN").item("1.1"))
    ws.close()
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(PositionsView)
        assert view.compiled is not None
        assert view.compiled.heading.plain.startswith("Agreed text v2")
        assert not view.columns
        assert view.compiled.body.plain == text
        # Shown once: no column repeats it.
        shown = view_text(view)
        assert shown.count(" ".join(text.split()[:4])) == 1


async def test_a_draft_starts_from_the_compilation(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(PositionsView)
        assert view.compiled is not None
        compiled = view.compiled.text
        app.screen.query_one(PositionsView).focus()
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "draft"
        draft = app.screen.query_one(DraftPane)
        assert draft.text == compiled
        assert draft.dirty  # unsaved: nothing is written until the user saves or tables
    ws = Workspace(pair_path)
    state = ws.state("pair", "IN")
    assert state.latest_draft(state.item("1.1")) is None
    ws.close()


async def test_draft_from_the_compilation_asks_before_replacing_typed_text(
        pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        draft = app.screen.query_one(DraftPane)
        draft.editor.insert("my own words ")
        await pilot.press("alt+1")
        await settle(pilot)
        app.screen.query_one(PositionsView).focus()
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert not isinstance(app.screen, WorkspaceScreen)  # the question
        await pilot.press("escape")
        await settle(pilot)
        assert "my own words" in draft.text


async def test_positions_count_is_the_shared_compilations(
        pair_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Positions tab's bracket count is the one kept with the state's merge of the item
    (MergeResult.brackets): shown again for the same state (another tab and back, another
    item and back, its drawn lines dropped) it neither merges nor counts again, and the
    compile dialog and Workspace.compile read that same count."""
    from agenda import state as state_module

    seen = count_merges(monkeypatch)
    merged, scanned = seen.merged, seen.scanned
    real_count = seen.real_count
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(PositionsView)
        assert view.compiled is not None
        assert (len(merged), len(scanned)) == (1, 1)  # item 1.1, merged and counted once
        (result,) = state_module._MERGES.values()
        count = result.brackets
        assert count == real_count(result.text) > 0
        heading = view.compiled.heading.plain
        assert heading.endswith(f"· {count} brackets")
        assert heading in " ".join(view_text(view).split())
        state = read_state(pair_path, "IN")
        first, second = (state.item(n).uuid for n in ("1.1", "1.2"))
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "draft"
        await pilot.press("alt+1")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "positions"
        for uuid in (second, first):
            # What the view kept and drew is dropped: it compiles the item again.
            view._kept.clear()
            view._drawn.clear()
            view._styled.clear()
            app.screen.go_to(uuid)
            await settle(pilot)
        assert view.compiled is not None and view.compiled.heading.plain == heading
        assert heading in " ".join(view_text(view).split())
        await pilot.press("c")  # the compile worker, on a thread
        await settle(pilot)
        dialog = " ".join(screen_text(app).split())
        assert f"Merged from IN v1, RU v2: {count} brackets." in dialog
        await pilot.press("escape")
        await settle(pilot)
        assert (len(merged), len(scanned)) == (1, 1)  # nothing merged or counted again
    ws = Workspace(pair_path)
    try:
        compiled = ws.compile("pair", "1.1", viewer="IN")
    finally:
        ws.close()
    assert compiled.result is result and "brackets" in result.__dict__
    assert (len(merged), len(scanned)) == (1, 1)


# The brief and the restore -------------------------------------------------------------


async def test_export_offers_only_the_acting_delegations_brief(demo_path: Path) -> None:
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert not screen.query("#delegation")  # no choice of someone else
        assert static(app, "#export-for") == "For IN only"
        screen.query_one("#template", Select).value = "brief"
        await settle(pilot)
        preview = screen.query_one("#preview", TextArea).text
        assert preview == render(app.ws, DEMO_SLUG, "brief", viewer="IN")
        assert preview != render(app.ws, DEMO_SLUG, "brief", viewer="RU")


async def test_the_joint_view_offers_no_brief(demo_path: Path) -> None:
    app = make_app(demo_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.act_as(None)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert "brief" not in screen.templates
        assert "agenda" in screen.templates
        assert static(app, "#export-for").startswith("Joint view")


def test_a_restored_draft_is_tabled_without_its_label(pair_path: Path) -> None:
    ws = Workspace(pair_path)
    ws.table("pair", "1.1", delegation="IN", text="A private wording.", code=Code.MOD,
             internal=True)
    state = ws.state("pair", "IN")
    draft = state.history(state.item("1.1"))[-1]
    assert not draft.tabled and draft.label.startswith("d")
    assert not re.search(r"\bd\d", restore_justification(draft))
    tabled = state.tabled(state.item("1.1"))[-1]
    assert restore_justification(tabled) == f"Restores {tabled.label}"
    ws.close()


def joint_records(path: Path) -> list[dict]:
    """Every joint record in the workspace's summit journals, as stored."""
    found = []
    for journal in (path.parent / f"{path.stem}.summits").glob("*.json"):
        for line in journal.read_text(encoding="utf-8").splitlines()[1:]:
            commit = json.loads(line.split(" ", 1)[1])
            found.extend(entry["record"] for entry in commit["a"]["records"]
                         if entry["record"]["scope"] == "joint")
    return found


async def test_restoring_a_draft_in_the_app_leaks_no_draft_label(pair_path: Path) -> None:
    ws = Workspace(pair_path)
    ws.table("pair", "1.1", delegation="IN", text="A private wording.", code=Code.MOD,
             internal=True)
    ws.close()
    before = len(joint_records(pair_path))
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        history = app.screen._history()
        assert history is not None and history.selected is not None
        assert history.selected.label == "d1"  # the cursor starts on the latest, the draft
        app.screen.action_restore_revision()
        await settle(pilot)
        app.screen.query_one("#ok", Button).press()
        await settle(pilot)
    records = joint_records(pair_path)
    assert len(records) > before  # the restore was tabled
    joint = read_state(pair_path, None)
    assert joint.tabled(joint.item("1.1"))[-1].text == "A private wording."
    # Ids and uuids are hex, and a segment like "-d963-" would read as a label: the words
    # people read are searched, the identifiers left out.
    ids = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{64}")
    for record in records:
        words = ids.sub("", json.dumps(record["body"]))
        assert not re.search(r"\bd\d+\b", words), record["body"]


# Import ---------------------------------------------------------------------------------

AGENDA = ("# Delhi talks\n\n## Trade\n\n### Payments in national currencies\n\n"
          "The Sides will settle trade in [IN: rupees][RU: roubles].\n\n"
          "A stray paragraph the importer cannot place.\n")


@pytest.mark.parametrize("size", SIZES)
async def test_import_shows_the_report_and_the_path_it_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "delhi-agenda.md").write_text(AGENDA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "empty.json")
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        source = app.screen.query_one("#source", Input)
        await pilot.press(*"pap")
        await settle(pilot)
        assert source._suggestion == "papers/"
        await pilot.press("right", *"de")
        await settle(pilot)
        assert source._suggestion == "papers/delhi-agenda.md"
        await pilot.press("right")
        await settle(pilot)
        assert source.value == "papers/delhi-agenda.md"
        assert static(app, "#source-path") == f"Reads {folder / 'delhi-agenda.md'}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        report = static(app, "#import-report-text")
        assert report.startswith("Created delhi-talks from delhi-agenda.md, tabled by IN")
        assert "1 added" in report and "item starts bracketed" in report
        assert "--literal-brackets" in report and "command line" in report
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)


@pytest.mark.parametrize(("source", "said"), [
    ("missing.md", "There is no file {tmp}/missing.md"),
    ("papers", "{tmp}/papers is a folder: choose a Markdown file in it"),
    ("binary.md", "{tmp}/binary.md is not UTF-8 text"),
    ("nul.md", "{tmp}/nul.md contains NUL bytes: is it a Markdown file?"),
    ("", "Choose the Markdown file to import"),
    ("again.md", "give the new summit another title"),
])
async def test_import_errors_speak_the_apps_words(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  source: str, said: str) -> None:
    (tmp_path / "papers").mkdir()
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00junk")
    (tmp_path / "nul.md").write_bytes(b"# Agenda\n\n1. Trade\x00\n")
    (tmp_path / "again.md").write_text(AGENDA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path / "ws.json", create=True)
    ws.create_summit("Delhi talks", [Delegation("IN", "India"), Delegation("RU", "Russia")])
    ws.close()
    app = make_app(tmp_path / "ws.json")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settle(pilot)
        app.screen.leave_summit()
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        app.screen.query_one("#source", Input).value = source
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = [n.message for n in app._notifications]
        assert any(said.format(tmp=tmp_path) in m for m in shown), shown
        assert not any("--slug" in m or "Errno" in m for m in shown)
        assert app.screen.query_one("#source", Input).value == source  # the form came back


# One bracket count -----------------------------------------------------------------------


async def test_one_bracket_count_everywhere_on_the_demo(demo_path: Path) -> None:
    ws = Workspace(demo_path)
    state = ws.state(DEMO_SLUG, "IN")
    expected = {item.number: state.bracket_count(item) for item in state.items}
    total = sum(expected.values())
    assert total  # the demo has disputes
    briefs = render(ws, DEMO_SLUG, "brief", viewer="IN")
    rolling = render(ws, DEMO_SLUG, "negotiating-text")
    ws.close()
    for document in (briefs, rolling):
        assert f"{total} in total" in document
        for number, count in expected.items():
            assert re.search(rf"^\| {re.escape(number)} \|.*\| {count} \|", document,
                             re.MULTILINE), number
    out = io.StringIO()
    with redirect_stdout(out):
        main(["--db", str(demo_path), "--summit", DEMO_SLUG, "brackets", "--json"])
    listed = json.loads(out.getvalue())
    assert listed["total"] == total
    assert {i["number"]: i["brackets"] for i in listed["items"]} == expected
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(AgendaTree)
        shown = {row.number: row.brackets for row in tree._rows.values()}
        assert shown == expected
        await pilot.press("D")
        await settle(pilot)
        assert f"{total} brackets open" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        disputed = next(n for n, c in expected.items() if c)
        app.screen.go_to(read_state(demo_path, "IN", DEMO_SLUG).item(disputed).uuid)
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        dialog = screen_text(app)
    ws = Workspace(demo_path)
    compiled = ws.compile(DEMO_SLUG, disputed)
    ws.table_compilation(DEMO_SLUG, disputed, delegation="IN")
    after = ws.state(DEMO_SLUG, "IN")
    ws.close()
    count = after.bracket_count(after.item(disputed))
    # The dialog announced the count the item has once the compilation is tabled.
    assert f"{count} bracket" in dialog and compiled.result.text


# Search -----------------------------------------------------------------------------------


@pytest.fixture
def secret_path(pair_path: Path) -> Path:
    """RU's internal draft and note, and IN's, each holding the marker word."""
    ws = Workspace(pair_path)
    ws.table("pair", "1.1", delegation="RU", text=f"RU internal {MARKER} wording",
             code=Code.MOD, internal=True)
    ws.add_note("pair", "1.1", delegation="RU", text=f"RU private {MARKER} note")
    ws.add_note("pair", "1.2", delegation="IN", text=f"IN private {MARKER} note")
    ws.table("pair", "1.2", delegation="RU", text="The Sides will meet every two years.",
             why="Budget cycle")
    ws.close()
    return pair_path


def test_search_finds_only_what_the_viewer_may_see(secret_path: Path) -> None:
    as_in = search(read_state(secret_path, "IN"), MARKER.lower())
    assert [(h.number, h.where) for h in as_in] == [("1.2", "IN note")]
    assert search(read_state(secret_path, None), MARKER) == []
    as_ru = search(read_state(secret_path, "RU"), MARKER)
    assert {h.where for h in as_ru} == {"d1 RU draft text", "RU note"}
    hits = search(read_state(secret_path, "IN"), "budget")
    assert [(h.number, h.where) for h in hits] == [("1.2", "v2 RU justification")]
    assert search(read_state(secret_path, "IN"), "Indo-Pacific open")  # all words, any order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=300),
       word=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Z", "Cc")),
                    min_size=1, max_size=6))
@example(text="\x0801", word="0")  # Text drops a backspace: the highlight had moved
@example(text="\x07a\x08b\x7f a", word="a")
def test_a_snippet_highlights_every_hit_and_only_hits(text: str, word: str) -> None:
    found = snippet(text, [re.compile(re.escape(word), re.IGNORECASE)])
    assert (found is None) == (re.search(re.escape(word), text, re.IGNORECASE) is None)
    if found is not None:
        assert isinstance(found, Text) and "\n" not in found.plain
        for span in found.spans:
            assert re.fullmatch(re.escape(word), found.plain[span.start:span.end],
                                re.IGNORECASE)
        assert found.spans


@pytest.mark.parametrize("size", SIZES)
async def test_search_in_the_app_highlights_and_opens_the_item(
        secret_path: Path, size: tuple[int, int]) -> None:
    app = make_app(secret_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*MARKER.lower())
        await settle(pilot)
        hits = app.screen.query_one("#search-hits", OptionList)
        assert hits.option_count == 1
        prompt = hits.get_option_at_index(0).prompt
        assert isinstance(prompt, Text) and "IN private" in prompt.plain
        assert any(prompt.plain[s.start:s.end] == MARKER for s in prompt.spans)
        assert "RU private" not in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.screen.item_uuid == read_state(secret_path, "IN").item("1.2").uuid
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)


# Log and marks --------------------------------------------------------------------------


async def test_the_log_tab_shows_the_viewers_audit_trail(secret_path: Path) -> None:
    app = make_app(secret_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        log = static(app, "#log-text")
        state = read_state(secret_path, "IN")
        mine = [e for e in state.events if e.item == state.item("1.1").uuid]
        assert mine and all(e.detail in log for e in mine)
        assert MARKER not in log
        hidden = [e for e in read_state(secret_path, "RU").events if e.private_to == "RU"]
        assert hidden and not any(e.detail in log for e in hidden if e.detail)


async def test_items_changed_since_last_look_are_marked(pair_path: Path,
                                                        config_dir: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(AgendaTree).changed_items() == []  # first look
    prefs = config_dir / "tui.json"
    assert prefs.stat().st_mode & 0o777 == 0o600
    ws = Workspace(pair_path)
    ws.table("pair", "1.2", delegation="RU", text="Every two years.", why="Budget")
    uuid = ws.state("pair", "IN").item("1.2").uuid
    ws.close()
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(AgendaTree)
        assert tree.changed_items() == [uuid]
        assert "● 1.2" in screen_text(app)
        app.screen.go_to(uuid)
        await settle(pilot)
        assert tree.changed_items() == []
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(AgendaTree).changed_items() == []


# Footer and tabs ------------------------------------------------------------------------


def footer_keys(app) -> list[tuple[str, str]]:
    return [(key.key_display, key.description)
            for key in app.screen.query_one(AgendaFooter).entries]


def visible_footer(app) -> str:
    return screen_text(app).splitlines()[-1]


@pytest.mark.parametrize("size", SIZES)
async def test_footer_keeps_help_export_quit_and_hides_typed_keys(
        pair_path: Path, size: tuple[int, int]) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        assert [d for _, d in keys[:3]] == ["Help", "Export", "Quit"]
        line = visible_footer(app)
        for word in ("Help", "Export", "Quit"):
            assert word in line
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one(DraftPane).editor.focus()
        await settle(pilot)
        keys = footer_keys(app)
        shown = {k for k, _ in keys}
        assert not shown & {"/", "K", "J", "?", "q", "x", "a", "1"}
        assert [d for _, d in keys[:3]] == ["Help", "Export", "Quit"]
        assert "Save draft" in {d for _, d in keys}
        line = visible_footer(app)
        for word in ("Help", "Export", "Quit"):
            assert word in line


@pytest.mark.parametrize("size", SIZES)
async def test_alt_digits_switch_tabs_from_inside_the_editor(
        pair_path: Path, size: tuple[int, int]) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        editor = app.screen.query_one("#draft-editor", TextArea)
        editor.focus()
        before = editor.text
        await pilot.press("1")  # typed: the editor has focus
        assert editor.text != before
        await pilot.press("alt+3")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "history"
        await pilot.press("alt+2")
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "draft"
        assert editor.text.replace("1", "", 1) == before


async def test_export_from_inside_the_editor(pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one("#draft-editor", TextArea).focus()
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.query_one("#file-name", Input).value


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_under_a_dialog_shows_the_dialogs_keys(
        pair_path: Path, size: tuple[int, int]) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        workspace = app.screen
        await pilot.press("N")  # a note: a dialog with a text field
        await settle(pilot)
        assert app.screen is not workspace
        keys = [(k.key_display, k.description)
                for k in workspace.query_one(AgendaFooter).entries]
        descriptions = {d for _, d in keys}
        assert "Cancel" in descriptions
        # The screen's keys do nothing under the dialog, so they are not offered there.
        assert not descriptions & {"Accept", "Filter", "Search", "Compile"}
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is workspace
        assert "Accept" in {d for _, d in footer_keys(app)}


@pytest.mark.parametrize("size", SIZES)
async def test_every_tab_label_is_on_screen(demo_path: Path, size: tuple[int, int]) -> None:
    """At 80 columns the six numbered labels were wider than the item pane and "6 Log"
    scrolled off; there the labels drop their numbers, and every one is painted."""
    app = make_app(demo_path, as_="IN")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(ItemTabs).bar
        shown = screen_text(app)
        spans = bar.spans()
        for n, pane in enumerate(("positions", "draft", "history", "diff", "notes", "log"),
                                 start=1):
            start, end = spans[pane]
            assert 0 <= start < end <= bar.region.width
            assert bar.region.right <= size[0]
            label = f"{n} {pane.title()}" if size[0] >= 100 else pane.title()
            assert bar.label(pane) == label
            assert label in shown
        row = next(line for line in shown.splitlines() if "Positions" in line and "Log" in line)
        assert row.rstrip().endswith("Log")
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert bar.label("log") == "6 Log"


async def test_a_click_on_the_draft_line_starts_a_draft_from_the_compilation(
        pair_path: Path) -> None:
    app = make_app(pair_path, as_="IN")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(PositionsView)
        assert view.compiled is not None
        lines = view_text(view).splitlines()
        row = next(n for n, line in enumerate(lines)
                   if "Start a draft from this text (ctrl+d)" in line)
        await pilot.click(view, offset=(4, row - 1))  # the line above: nothing happens
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "positions"
        await pilot.click(view, offset=(4, row))
        await settle(pilot)
        assert app.screen.query_one(ItemTabs).active == "draft"
        assert app.screen.query_one(DraftPane).text == view.compiled.text
