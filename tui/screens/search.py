"""Search every text, justification, note and title the viewer may see; open the item hit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from agenda.state import SummitState

CONTEXT = 50  # characters shown either side of the first hit in a field
MAX_HITS = 500  # enough to scroll through; a query matching more needs another word
HIGHLIGHT = "bold reverse"


@dataclass(frozen=True)
class Hit:
    item: str  # uuid
    number: str
    where: str  # "title", "v2 RU text", "d1 IN justification", "IN note"
    snippet: Text


def _words(query: str) -> list[re.Pattern[str]]:
    return [re.compile(re.escape(word), re.IGNORECASE) for word in query.split()]


_FLATTENED = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def snippet(text: str, patterns: list[re.Pattern[str]]) -> Text | None:
    """The part of text around its first hit, every hit highlighted; None unless every word
    of the query is in text."""
    firsts = []
    for pattern in patterns:
        found = pattern.search(text)
        if found is None:
            return None
        firsts.append(found.start())
    start = max(0, min(firsts) - CONTEXT)
    end = min(len(text), max(firsts) + CONTEXT * 2)
    shown = text[start:end]
    # One line per hit: newlines and runs of spaces would break the list's rows. Control
    # characters are spaces too: `Text` drops some (a backspace, a bell), which moved every
    # highlight after them; a query's words, split at spaces, never hold a space.
    flat = _FLATTENED.sub(" ", shown)
    result = Text(("…" if start else "") + flat + ("…" if end < len(text) else ""))
    offset = 1 if start else 0
    for pattern in patterns:
        for found in pattern.finditer(flat):
            result.stylize(HIGHLIGHT, found.start() + offset, found.end() + offset)
    return result


def search(state: SummitState, query: str) -> list[Hit]:
    """Hits in item order. The state holds only what its viewer may see (tabled texts, and
    the viewer's own drafts and notes), so nothing else can be found."""
    patterns = _words(query)
    if not patterns:
        return []
    hits: list[Hit] = []
    for item in state.items:
        fields: list[tuple[str, str]] = [("title", item.title)]
        for revision in reversed(state.history(item)):
            kind = "" if revision.tabled else " draft"
            fields.append((f"{revision.label} {revision.delegation}{kind} text", revision.text))
            if revision.justification:
                fields.append((f"{revision.label} {revision.delegation}{kind} justification",
                               revision.justification))
        for note in state.item_notes(item):
            fields.append((f"{note.delegation} note", note.text))
        for where, text in fields:
            found = snippet(text, patterns)
            if found is not None:
                hits.append(Hit(item.uuid, item.number, where, found))
                if len(hits) >= MAX_HITS:
                    return hits
    return hits


def hit_prompt(hit: Hit) -> Text:
    return Text.assemble((f"{hit.number} ", "bold"), (hit.where, "dim"), "  ", hit.snippet)


class SearchScreen(ModalScreen[str | None]):
    """Type to search; Enter or a click on a hit opens its item (the uuid is returned)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "hits", "Hits", show=False),
    ]

    def __init__(self, state: SummitState, query: str = "") -> None:
        super().__init__()
        self.state = state
        self.query_text = query
        self.hits: list[Hit] = []

    def compose(self) -> ComposeResult:
        who = (f"{self.state.viewer}'s drafts and notes, and every tabled text"
               if self.state.viewer else "tabled texts only (joint view)")
        with Vertical(classes="dialog wide", id="search"):
            yield Static(f"Search: {who}", classes="dialog-title", markup=False)
            yield Input(self.query_text, placeholder="words to find (all of them)",
                        id="search-query")
            yield Static("", id="search-count", markup=False)
            yield OptionList(id="search-hits")
            yield Static("enter open · ↓ to the hits · escape close", classes="dialog-keys",
                         markup=False)

    def on_mount(self) -> None:
        if self.query_text:
            self._search(self.query_text)

    @on(Input.Changed, "#search-query")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._search(event.value)

    @on(Input.Submitted, "#search-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.hits:
            self.dismiss(self.hits[0].item)

    def action_hits(self) -> None:
        hits = self.query_one("#search-hits", OptionList)
        if hits.option_count:
            hits.focus()
            hits.highlighted = hits.highlighted or 0

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        """A summit of 100k revisions takes a while to read through: off the screen."""
        hits = search(self.state, query)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, query, hits)

    def _show(self, query: str, hits: list[Hit]) -> None:
        if query != self.query_one("#search-query", Input).value:
            return  # typed on since
        self.hits = hits
        listing = self.query_one("#search-hits", OptionList)
        listing.clear_options()
        listing.add_options(Option(hit_prompt(hit), id=str(n)) for n, hit in enumerate(hits))
        more = " (the first ones: add a word)" if len(hits) >= MAX_HITS else ""
        self.query_one("#search-count", Static).update(
            "" if not query.strip() else
            f"{len(hits)} hit{'s' if len(hits) != 1 else ''}{more}")

    @on(OptionList.OptionSelected, "#search-hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.dismiss(self.hits[int(event.option.id)].item)
