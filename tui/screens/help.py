"""The help screen: every key binding, grouped by where it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.diff_view import DiffView
from tui.widgets.draft import DraftPane
from tui.widgets.history import HistoryPane

NAVIGATION = [
    ("↑ ↓", "Move through the agenda (or a list)"),
    ("enter", "Open the selected item's tab; in History, show a revision's text"),
    ("tab / shift+tab", "Move between the agenda, the filter and the tabs"),
    ("1–6, alt+1–6", "Positions, Draft, History, Diff, Notes, Log (alt+N in the editor)"),
    ("escape", "Back to the agenda; close a dialog or screen"),
    ("ctrl+p", "Command palette: go to an item, run any action"),
    ("f1 / ?", "This help"),
    ("ctrl+q", "Quit (asks first if a draft is unsaved)"),
]


def binding_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    from tui.screens.workspace import ACTION_TITLES

    rows = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.show:
            action = binding.action.removeprefix("screen.")
            rows.append((binding.key_display or binding.key.split(",")[0],
                         ACTION_TITLES.get(action, binding.description)))
    return rows


def section(title: str, rows: list[tuple[str, str]]) -> Content:
    width = max(len(key) for key, _ in rows) + 2
    lines: list[str | tuple[str, str]] = [(title + "\n", "bold $text-accent")]
    for key, description in rows:
        lines.extend([(key.ljust(width), "bold"), description + "\n"])
    return Content.assemble(*lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        from tui.screens.workspace import WorkspaceScreen

        with Vertical(classes="dialog wide", id="help"):
            yield Static("Keys", classes="dialog-title", markup=False)
            with VerticalScroll(classes="preview"):
                yield Static(section("Everywhere", NAVIGATION))
                yield Static(section("Agenda and item",
                                     binding_rows(WorkspaceScreen.BINDINGS)))
                yield Static(section("Draft tab", binding_rows(DraftPane.BINDINGS)))
                yield Static(section("History tab", binding_rows(HistoryPane.BINDINGS)))
                yield Static(section("Diff tab", binding_rows(DiffView.BINDINGS)))
