"""The Diff tab: two revisions compared word by word, side by side or inline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from agenda.diff import Op, diff_stats, diff_words
from agenda.diff_render import side_by_side
from agenda.model import Item, Revision
from agenda.state import SummitState
from tui.errors import ReportsWorkerErrors
from tui.render import inline_content, op_content, percent

LEFT = frozenset({"equal", "delete"})
RIGHT = frozenset({"equal", "insert"})


@dataclass(frozen=True)
class DiffRow:
    left: Content
    right: Content | None  # None in the inline layout
    changed: bool


@dataclass(frozen=True)
class Rendered:
    heading: Content
    rows: tuple[DiffRow, ...]


def inline_rows(ops: Sequence[Op]) -> list[DiffRow]:
    """One row per line of the merged text; a row is changed if it holds an insert or delete."""
    lines: list[list[Op]] = [[]]
    for op in ops:
        for index, piece in enumerate(op.text.split("\n")):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(Op(op.op, piece))
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return [DiffRow(inline_content(line), None, any(op.op != "equal" for op in line))
            for line in lines]


def split_rows(ops: Sequence[Op]) -> list[DiffRow]:
    return [
        DiffRow(op_content(row.left, show=LEFT), op_content(row.right, show=RIGHT),
                any(op.op != "equal" for op in (*row.left, *row.right)))
        for row in side_by_side(ops)
    ]


def describe(revision: Revision) -> str:
    kind = "" if revision.tabled else " internal"
    return f"{revision.label} {revision.delegation} {revision.code.value}{kind}"


def render_diff(older: Revision, newer: Revision, inline: bool) -> Rendered:
    ops = diff_words(older.text, newer.text)
    stats = diff_stats(ops)
    heading = Content.assemble(
        (f"{describe(older)} → {describe(newer)}", "bold"),
        (f"  similarity {percent(stats.similarity)} · {stats.words_added} added, "
         f"{stats.words_deleted} deleted, {stats.words_changed} changed", "$text-muted"),
    )
    rows = inline_rows(ops) if inline else split_rows(ops)
    return Rendered(heading, tuple(rows))


def default_pair(state: SummitState, item: Item) -> tuple[Revision, Revision] | None:
    """The last change: the two latest revisions the viewer can see."""
    history = state.history(item)
    return (history[-2], history[-1]) if len(history) >= 2 else None


class DiffView(ReportsWorkerErrors, VerticalScroll):
    """Changes are coloured and struck through, never wrapped in bracket markers."""

    BINDINGS = [
        Binding("t", "toggle_layout", "Inline/side by side"),
        Binding("right_square_bracket", "next_change", "Next change", key_display="]"),
        Binding("left_square_bracket", "previous_change", "Prev change", key_display="["),
    ]

    inline: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pair: tuple[Revision, Revision] | None = None
        self._changes: list[int] = []
        self._current = -1

    def compose(self) -> ComposeResult:
        yield Static(id="diff-heading", markup=False)
        yield Vertical(id="diff-rows")

    def show(self, state: SummitState, item: Item,
             pair: tuple[Revision, Revision] | None = None) -> None:
        self._pair = pair or default_pair(state, item)
        self._refresh_diff()

    def watch_inline(self) -> None:
        if self.is_mounted:
            self._refresh_diff()

    def action_toggle_layout(self) -> None:
        self.inline = not self.inline

    def _refresh_diff(self) -> None:
        if self._pair is None:
            self.call_later(self._paint, Rendered(
                Content("Only one revision so far: nothing to compare yet."), ()))
        else:
            self._compute(*self._pair, self.inline)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _compute(self, older: Revision, newer: Revision, inline: bool) -> None:
        rendered = render_diff(older, newer, inline)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, rendered)

    async def _paint(self, rendered: Rendered) -> None:
        self.query_one("#diff-heading", Static).update(rendered.heading)
        holder = self.query_one("#diff-rows", Vertical)
        await holder.remove_children()
        widgets: list[Widget] = []
        for row in rendered.rows:
            classes = "diff-row -changed" if row.changed else "diff-row"
            if row.right is None:
                widgets.append(Static(row.left, classes=classes))
            else:
                widgets.append(Horizontal(Static(row.left, classes="diff-left"),
                                          Static(row.right, classes="diff-right"),
                                          classes=classes))
        await holder.mount_all(widgets)
        self._changes = [i for i, row in enumerate(rendered.rows) if row.changed]
        self._current = -1

    def _jump(self, step: int) -> None:
        if not self._changes:
            self.notify("No changes between these revisions", markup=False)
            return
        if self._current < 0:
            self._current = 0 if step > 0 else len(self._changes) - 1
        else:
            self._current = (self._current + step) % len(self._changes)
        rows = self.query_one("#diff-rows", Vertical).children
        for row in rows:
            row.remove_class("-current")
        target = rows[self._changes[self._current]]
        target.add_class("-current")
        self.scroll_to_widget(target, animate=False, center=True)

    def action_next_change(self) -> None:
        self._jump(1)

    def action_previous_change(self) -> None:
        self._jump(-1)
