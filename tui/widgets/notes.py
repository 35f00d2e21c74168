"""The Notes tab: your delegation's private notes on the item (never in a joint view)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from agenda.model import Item, when
from agenda.state import SummitState


def notes_content(state: SummitState, item: Item) -> Content:
    if state.viewer is None:
        return Content("Notes are private to a delegation: press v to act as one.")
    parts: list[str | tuple[str, str]] = [
        (f"{state.viewer} private notes on {item.number}", "bold"),
        ("  never shown to the other side or in a joint export · N adds one\n", "$text-muted"),
    ]
    notes = state.item_notes(item)
    if not notes:
        parts.append("\nNo notes yet.")
    for note in notes:
        parts.extend([("\n" + when(note.created) + "\n", "$text-accent"), note.text, "\n"])
    return Content.assemble(*parts)


class NotesPane(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="notes", markup=False)

    def show(self, state: SummitState, item: Item) -> None:
        self.query_one("#notes", Static).update(notes_content(state, item))
