"""Each delegation's current position on an item, side by side, differences highlighted."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from agenda.diff import diff_stats, diff_words
from agenda.history import SummitState
from agenda.model import Item, Revision
from tui.render import op_content, percent, when


@dataclass(frozen=True)
class Column:
    heading: Content
    body: Content


def position_heading(state: SummitState, code: str, revision: Revision) -> Content:
    name = state.summit.delegation(code).name
    others = sorted(state.accepted_by(revision) - {code})
    also = f" · also {', '.join(others)}" if others else ""
    authored = "" if revision.delegation == code else f" by {revision.delegation}"
    return Content.assemble(
        (f"{code} {name}", "bold"),
        (f"  {revision.label} {revision.code.value}{authored} · {when(revision.created)}{also}",
         "$text-muted"),
    )


def compare_positions(state: SummitState, item: Item) -> tuple[Content, list[Column]]:
    """The summary line and one column per position, each diffed against the first.

    The viewer's own position comes first, so the highlights read as "what they changed".
    """
    positions = state.positions(item)
    if not positions:
        return Content("No tabled text yet."), []
    order = sorted(positions, key=lambda code: code != state.viewer)
    first_code = order[0]
    first = positions[first_code]
    if len(order) == 1:
        summary = Content(f"Only {first_code} has a position on this item.")
        return summary, [Column(position_heading(state, first_code, first), Content(first.text))]
    columns: list[Column] = []
    summaries: list[str] = []
    for code in order[1:]:
        other = positions[code]
        ops = diff_words(first.text, other.text)
        stats = diff_stats(ops)
        if not columns:
            columns.append(Column(position_heading(state, first_code, first),
                                  op_content(ops, show=frozenset({"equal", "delete"}))))
        columns.append(Column(position_heading(state, code, other),
                              op_content(ops, show=frozenset({"equal", "insert"}))))
        if first.uuid == other.uuid:
            summaries.append(f"{first_code} and {code} stand on the same text {first.label}")
        else:
            summaries.append(
                f"{first_code}–{code} similarity {percent(stats.similarity)} · "
                f"{stats.words_added} added, {stats.words_deleted} deleted, "
                f"{stats.words_changed} changed")
    return Content(" | ".join(summaries)), columns


class PositionsView(VerticalScroll):
    """Columns side by side when wide, stacked when narrow (see app.tcss)."""

    def compose(self) -> ComposeResult:
        yield Static(id="positions-summary", markup=False)
        yield Container(id="positions-columns")

    def show(self, state: SummitState, item: Item) -> None:
        self._compare(state, item)

    @work(thread=True, exclusive=True, group="positions")
    def _compare(self, state: SummitState, item: Item) -> None:
        """Word diffs of long texts take time: compute them off the screen's thread."""
        summary, columns = compare_positions(state, item)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, summary, columns)

    async def _paint(self, summary: Content, columns: list[Column]) -> None:
        self.query_one("#positions-summary", Static).update(summary)
        holder = self.query_one("#positions-columns", Container)
        await holder.remove_children()
        await holder.mount_all(
            Vertical(
                Static(column.heading, classes="position-heading"),
                Static(column.body, classes="position-text"),
                classes="position",
            )
            for column in columns
        )
