"""Each delegation's current position on an item, side by side, differences highlighted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from agenda.diff import diff_stats, diff_words
from agenda.model import Item, Revision, when
from agenda.state import SummitState
from tui.errors import ReportsWorkerErrors
from tui.render import op_content, percent
from tui.widgets.sync_state import split_note, star

if TYPE_CHECKING:
    from agenda.exchange.stability import Marks


@dataclass(frozen=True)
class Column:
    heading: Content
    body: Content


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
                                          Content(first.text))]
    columns: list[Column] = []
    summaries: list[str] = []
    for code in order[1:]:
        other = positions[code]
        ops = diff_words(first.text, other.text)
        stats = diff_stats(ops)
        if not columns:
            columns.append(Column(position_heading(state, first_code, first,
                                                   star(marks, first)),
                                  op_content(ops, show=frozenset({"equal", "delete"}))))
        columns.append(Column(position_heading(state, code, other, star(marks, other)),
                              op_content(ops, show=frozenset({"equal", "insert"}))))
        if first.uuid == other.uuid:
            summaries.append(f"{first_code} and {code} stand on the same text {first.label}")
        else:
            summaries.append(
                f"{first_code}–{code} similarity {percent(stats.similarity)} · "
                f"{stats.words_added} added, {stats.words_deleted} deleted, "
                f"{stats.words_changed} changed")
    return Content(" | ".join(summaries)), columns


# Texts up to this many characters in all are compared on the screen's thread: the word diff
# takes well under a millisecond there, less than handing it to a worker and back.
INLINE_CHARS = 20_000


class PositionsView(ReportsWorkerErrors, VerticalScroll):
    """Columns side by side when wide, stacked when narrow (see app.tcss).

    Moving through the agenda repaints the same columns with new texts: the column widgets are
    kept and updated, and only added or removed when the number of positions changes.
    """

    _shown = 0  # which show() call the columns are for; a late, older paint is dropped

    def compose(self) -> ComposeResult:
        yield Static(id="positions-summary", markup=False)
        yield Container(id="positions-columns")

    def _marks(self) -> Marks | None:
        return getattr(self.app, "marks", None)

    def show(self, state: SummitState, item: Item) -> None:
        self._shown += 1
        size = sum(len(r.text) for r in state.positions(item).values())
        if size <= INLINE_CHARS:
            self.workers.cancel_group(self, "positions")  # an older, longer comparison
            self._paint(self._shown, *compare_positions(state, item, self._marks()))
        else:
            self._compare(self._shown, state, item)

    @work(thread=True, exclusive=True, group="positions", exit_on_error=False)
    def _compare(self, shown: int, state: SummitState, item: Item) -> None:
        """Word diffs of long texts take time: compute them off the screen's thread."""
        summary, columns = compare_positions(state, item, self._marks())
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, shown, summary, columns)

    def _paint(self, shown: int, summary: Content, columns: list[Column]) -> None:
        """Update the columns in place (the tree's cursor and the texts then reach the
        screen in the same frame); add or remove columns only when their number changes."""
        if shown != self._shown:
            return  # overtaken by a later show()
        self.query_one("#positions-summary", Static).update(summary)
        holder = self.query_one("#positions-columns", Container)
        present = list(holder.query_children(".position"))
        for widget, column in zip(present, columns, strict=False):
            heading, body = widget.query_children(Static)
            heading.update(column.heading)
            body.update(column.body)
        if len(present) > len(columns):
            holder.remove_children(present[len(columns):])
        elif len(columns) > len(present):
            holder.mount_all(
                Vertical(
                    Static(column.heading, classes="position-heading", markup=False),
                    Static(column.body, classes="position-text", markup=False),
                    classes="position",
                )
                for column in columns[len(present):]
            )
