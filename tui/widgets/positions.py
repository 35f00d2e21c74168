"""The Positions tab: the compilation text (brackets coloured per delegation), then each
delegation's current position side by side, differences highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import get_current_worker

from agenda.brackets import bracket_count, parse
from agenda.diff import diff_stats, diff_words
from agenda.model import AgendaError, Item, Revision, when
from agenda.state import SummitState, compile_item
from tui.errors import ReportsWorkerErrors
from tui.render import op_content, percent, status_label
from tui.widgets.sync_state import split_note, star

if TYPE_CHECKING:
    from agenda.exchange.stability import Marks

# One colour per delegation, in the summit's order, for its bracketed options.
SIDE_STYLES = ("bold $text-primary", "bold $text-accent", "bold $text-success",
               "bold $text-secondary", "bold $text-error")
BRACKET_STYLE = "$text-warning"


@dataclass(frozen=True)
class Column:
    heading: Content
    body: Content
    why: Content = Content("")


@dataclass(frozen=True)
class Compiled:
    """What the top of the tab shows: the compilation, or the one agreed text."""

    heading: Content
    body: Content
    text: str  # plain, for a new draft
    agreed: bool = False  # every side stands on this one text


class StartDraft(Message):
    """Start the viewer's draft of the item from this text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def coloured(state: SummitState, text: str) -> Content:
    """The compilation text with each labelled bracket option in its delegation's colour."""
    codes = state.summit.codes
    content = Content(text)
    for group in parse(text):
        for option in group.options:
            side = option.label
            style = (SIDE_STYLES[codes.index(side) % len(SIDE_STYLES)]
                     if side in codes else BRACKET_STYLE)
            content = content.stylize(style, option.start, option.end)
    return content


def compilation(state: SummitState, item: Item) -> Compiled | None:
    positions = state.positions(item)
    if len(positions) < 2:
        return None  # the one position's column says it all
    if len({r.uuid for r in positions.values()}) == 1:
        # Every side stands on one text: shown once, here, rather than in identical columns.
        revision = next(iter(positions.values()))
        heading = Content.assemble(
            ("Agreed text ", "bold"), (f"{revision.label} · ", "$text-muted"),
            status_label(item.status),
            (f" · {', '.join(positions)} stand on it", "$text-muted"))
        return Compiled(heading, Content(revision.text), revision.text, agreed=True)
    try:
        compiled = compile_item(state, item)
    except AgendaError:
        return None
    text = compiled.result.text
    count = bracket_count(text)
    # The sides, each in the colour of its options: the legend of the text below.
    sides: list[str | tuple[str, str]] = []
    for code, revision in compiled.positions.items():
        index = state.summit.codes.index(code)
        sides.extend([(f"{code} {revision.label}", SIDE_STYLES[index % len(SIDE_STYLES)]),
                      " "])
    heading = Content.assemble(
        ("Compilation ", "bold"), ("of ", "$text-muted"), *sides, ("· ", "$text-muted"),
        (f"{count} bracket{'s' if count != 1 else ''}", BRACKET_STYLE if count else
         "$text-success"))
    return Compiled(heading, coloured(state, text), text)


def position_why(revision: Revision) -> Content:
    if not revision.justification:
        return Content.styled("No justification given", "$text-muted italic")
    return Content.assemble(("Why: ", "bold $text-muted"), revision.justification)


def position_heading(state: SummitState, code: str, revision: Revision,
                     mark: str = "") -> Content:
    name = state.summit.delegation(code).name
    others = sorted(state.accepted_by(revision) - {code})
    also = f" · also {', '.join(others)}" if others else ""
    authored = "" if revision.delegation == code else f" by {revision.delegation}"
    # Two lines, so that side-by-side headings stay level however long the names are.
    return Content.assemble(
        (f"{code} {name}", "bold"),
        (f"\n{revision.label}{mark} {revision.code.value}{authored} · "
         f"{when(revision.created)}{also}",
         "$text-muted"),
    )


def compare_positions(state: SummitState, item: Item,
                      marks: Marks | None = None) -> tuple[Content, list[Column]]:
    """The summary line and one column per position, each diffed against the first.

    The viewer's own position comes first, so the highlights read as "what they changed".
    `marks` (from the exchange) add `*` to provisional labels and name split positions.
    """
    summary, columns = _compare_positions(state, item, marks)
    note = split_note(marks, state, item)
    return (Content.assemble(summary, (f" | {note}", "$text-warning")) if note else summary,
            columns)


def _compare_positions(state: SummitState, item: Item,
                       marks: Marks | None) -> tuple[Content, list[Column]]:
    positions = state.positions(item)
    if not positions:
        return Content("No tabled text yet."), []
    order = sorted(positions, key=lambda code: code != state.viewer)
    first_code = order[0]
    first = positions[first_code]
    if len(order) == 1:
        summary = Content(f"Only {first_code} has a position on this item.")
        return summary, [Column(position_heading(state, first_code, first, star(marks, first)),
                                Content(first.text), position_why(first))]
    columns: list[Column] = []
    summaries: list[str] = []
    for code in order[1:]:
        other = positions[code]
        ops = diff_words(first.text, other.text)
        stats = diff_stats(ops)
        if not columns:
            columns.append(Column(position_heading(state, first_code, first,
                                                   star(marks, first)),
                                  op_content(ops, show=frozenset({"equal", "delete"})),
                                  position_why(first)))
        columns.append(Column(position_heading(state, code, other, star(marks, other)),
                              op_content(ops, show=frozenset({"equal", "insert"})),
                              position_why(other)))
        if first.uuid == other.uuid:
            summaries.append(f"{first_code} and {code} stand on the same text {first.label}")
        else:
            summaries.append(
                f"{first_code}–{code} similarity {percent(stats.similarity)} · "
                f"{stats.words_added} added, {stats.words_deleted} deleted, "
                f"{stats.words_changed} changed")
    return Content(" | ".join(summaries)), columns


class _LaidOut:
    """A widget that takes its new size without asking for a second layout.

    Textual sets a resized widget's `virtual_size`, a reactive that asks for another layout of
    the screen: after an item switch the texts are laid out at their new heights, then the whole
    screen is laid out again for nothing (twice the work of a switch). These widgets do not
    scroll, and their sizes were computed by the layout that gave them, so nothing is lost.
    """

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        return super()._size_updated(  # type: ignore[misc]
            size, virtual_size, container_size, layout=False)


class _Text(_LaidOut, Static):
    pass


class _Column(_LaidOut, Vertical):
    pass


class _Columns(_LaidOut, Container):
    pass


def _position(heading: Content | str = "", body: Content | str = "",
              why: Content | str = "") -> _Column:
    """One delegation's column: its heading, its text and its justification."""
    return _Column(_Text(heading, classes="position-heading", markup=False),
                   _Text(body, classes="position-text", markup=False),
                   _Text(why, classes="position-why", markup=False),
                   classes="position")


# Texts up to this many characters in all are compared on the screen's thread: the word diff
# takes well under a millisecond there, less than handing it to a worker and back.
INLINE_CHARS = 20_000


class PositionsView(ReportsWorkerErrors, VerticalScroll):
    """The compilation on top, then columns side by side when wide, stacked when narrow (see
    app.tcss); an agreed item shows its one text and no columns.

    Moving through the agenda repaints the same columns with new texts: the column widgets are
    kept and updated, added only when more positions are shown than ever before, and hidden
    (never removed) when fewer are.
    """

    BINDINGS = [Binding("ctrl+d", "start_draft", "Draft from this")]
    DEFAULT_CSS = """
    PositionsView {
        /* A text long enough to scroll must not narrow the columns: that lays them out
           twice on a move to it. */
        scrollbar-gutter: stable;
        #compilation { height: auto; margin-bottom: 1; }
        #start-draft { width: auto; min-width: 0; margin-top: 1; }
        #compilation-text { padding: 0 1; border-left: thick $foreground 20%; }
        .position-why { margin-top: 1; color: $text-muted; }
    }
    """

    _shown = 0  # which show() call the columns are for; a late, older paint is dropped
    _start_text = ""

    def __init__(self, *, columns: int = 2, id: str | None = None) -> None:
        super().__init__(id=id)
        # Columns built with the view (hidden until filled): the first paint then updates
        # them in place rather than mounting them after the first frame (a second layout).
        self._spares = columns

    def compose(self) -> ComposeResult:
        with _Column(id="compilation"):
            yield _Text(id="compilation-heading", markup=False)
            yield _Text(id="compilation-text", markup=False)
            yield Button("Start a draft from this text (ctrl+d)", id="start-draft",
                         compact=True)
        yield _Text(id="positions-summary", markup=False)
        with _Columns(id="positions-columns"):
            for _ in range(self._spares):
                column = _position()
                column.display = False
                yield column

    def _marks(self) -> Marks | None:
        return getattr(self.app, "marks", None)

    def show(self, state: SummitState, item: Item) -> None:
        self._shown += 1
        size = sum(len(r.text) for r in state.positions(item).values())
        if size <= INLINE_CHARS:
            self.workers.cancel_group(self, "positions")  # an older, longer comparison
            self._paint(self._shown, compilation(state, item),
                        *compare_positions(state, item, self._marks()))
        else:
            self._compare(self._shown, state, item)

    @work(thread=True, exclusive=True, group="positions", exit_on_error=False)
    def _compare(self, shown: int, state: SummitState, item: Item) -> None:
        """Word diffs and merges of long texts take time: off the screen's thread."""
        compiled = compilation(state, item)
        summary, columns = compare_positions(state, item, self._marks())
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, shown, compiled, summary, columns)

    def action_start_draft(self) -> None:
        if self._start_text:
            self.post_message(StartDraft(self._start_text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start-draft":
            event.stop()
            self.action_start_draft()

    def _paint(self, shown: int, compiled: Compiled | None, summary: Content,
               columns: list[Column]) -> None:
        """Update the columns in place (the tree's cursor and the texts then reach the
        screen in the same frame); add or remove columns only when their number changes."""
        if shown != self._shown:
            return  # overtaken by a later show()
        self.query_one("#compilation").display = compiled is not None
        if compiled is not None:
            self._start_text = compiled.text
            self.query_one("#compilation-heading", Static).update(compiled.heading)
            self.query_one("#compilation-text", Static).update(compiled.body)
            if compiled.agreed:
                columns = []
        else:  # one position (or none): a draft starts from it
            self._start_text = columns[0].body.plain if columns else ""
        self.query_one("#positions-summary", Static).update(summary)
        holder = self.query_one("#positions-columns", Container)
        # Columns no longer needed are kept hidden as spares, not removed: a move between an
        # agreed item (no columns) and a disputed one would otherwise remove and mount widgets,
        # a second layout of the screen on each move.
        present = list(holder.children)
        for widget, column in zip(present, columns, strict=False):
            heading, body, why = widget.query_children(Static)
            heading.update(column.heading)
            body.update(column.body)
            why.update(column.why)
            if not widget.display:
                widget.display = True
        # Only `display` changes, never classes: a class change restyles after this frame,
        # a second layout.
        for widget in present[len(columns):]:
            if widget.display:
                widget.display = False
                for text in widget.query_children(Static):
                    text.update("", layout=False)
        if len(columns) > len(present):
            holder.mount_all(_position(column.heading, column.body, column.why)
                             for column in columns[len(present):])
