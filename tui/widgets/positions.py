"""The Positions tab: the compilation text (brackets coloured per delegation), then each
delegation's current position side by side, differences highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events, work
from textual.binding import Binding
from textual.color import Color
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual
from textual.worker import get_current_worker

from agenda.brackets import parse
from agenda.diff import diff_stats
from agenda.frozen import frozen
from agenda.model import AgendaError, Item, Revision, when
from agenda.state import SummitState, compile_item
from tui.errors import ReportsWorkerErrors
from tui.kept_diffs import diff_words
from tui.render import op_content, percent, status_label
from tui.widgets.sync_state import split_note, star

if TYPE_CHECKING:
    from agenda.exchange.stability import Marks

# One colour per delegation, in the summit's order, for its bracketed options.
SIDE_STYLES = ("bold $text-primary", "bold $text-accent", "bold $text-success",
               "bold $text-secondary", "bold $text-error")
BRACKET_STYLE = "$text-warning"


@frozen
class Column:
    heading: Content
    body: Content
    why: Content = Content("")


@frozen
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
    count = compiled.result.brackets  # counted once with the state's merge, kept with it
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


# Texts up to this many characters in all are compared on the screen's thread: the word diff
# takes well under a millisecond there, less than handing it to a worker and back.
INLINE_CHARS = 20_000
NARROW_BELOW = 100  # columns of the terminal: the columns are stacked below this
BUTTON_LABEL = "Start a draft from this text (ctrl+d)"
KEPT_ITEMS = 64  # items whose drawn lines are kept (a few hundred KB at most)


@frozen
class Shown:
    """What the view holds: the compilation (or agreed text), the summary, the columns."""

    compiled: Compiled | None
    summary: Content
    columns: tuple[Column, ...]


class PositionsView(ReportsWorkerErrors, ScrollView, can_focus=True):
    """The compilation on top, then columns side by side when wide, stacked when narrow; an
    agreed item shows its one text and no columns.

    One widget that draws its own lines. Moving through the agenda changes only what this
    widget holds: no widget is mounted, shown, hidden or resized, so a switch needs no layout
    of the screen (only when its scrollbar comes or goes) and repaints this pane alone. Before,
    the pane was some 20 widgets whose heights changed with the texts: every switch laid the
    whole screen out again and rendered each of them.
    """

    BINDINGS = [Binding("ctrl+d", "start_draft", "Draft from this")]
    DEFAULT_CSS = """
    PositionsView {
        /* A text long enough to scroll must not narrow the columns. */
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    """

    _shown_count = 0  # which show() call the content is for; a late, older paint is dropped
    _start_text = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown = Shown(None, Content(""), ())
        self._lines: list[Strip] = []
        self._lines_key: tuple[int, int, str, bool] | None = None
        self._button_line = -1
        # What each item showed, and its lines by width: going back to an item (up, down,
        # up) draws nothing again. Dropped when the state or the exchange's marks change.
        self._kept_for: tuple[SummitState, Marks | None] | None = None
        self._kept: dict[str, Shown] = {}
        self._drawn: dict[tuple[int, int, str, bool], tuple[list[Strip], int]] = {}
        # The same lines as Textual styled them (padding, background, the app's filters), by
        # what they depend on: a revisited item skips Textual's per-line styling too, which
        # was most of what a switch cost. Dropped with _drawn.
        self._styled: dict[tuple[object, ...], tuple[Shown, list[Strip]]] = {}

    # What is shown ------------------------------------------------------------------------

    @property
    def compiled(self) -> Compiled | None:
        return self.shown.compiled

    @property
    def summary(self) -> Content:
        return self.shown.summary

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns on the screen (none for an agreed item)."""
        return self.shown.columns

    def _marks(self) -> Marks | None:
        return getattr(self.app, "marks", None)

    def show(self, state: SummitState, item: Item) -> None:
        self._shown_count += 1
        marks = self._marks()
        if self._kept_for != (state, marks):
            # What was shown holds for one state and one set of marks (read, synced).
            self._kept_for, self._kept, self._drawn = (state, marks), {}, {}
            self._styled = {}
        kept = self._kept.get(item.uuid)
        if kept is not None:
            self.workers.cancel_group(self, "positions")
            self._show(item.uuid, kept)
            return
        size = sum(len(r.text) for r in state.positions(item).values())
        if size <= INLINE_CHARS:
            self.workers.cancel_group(self, "positions")  # an older, longer comparison
            self._paint(self._shown_count, item.uuid, compilation(state, item),
                        *compare_positions(state, item, marks))
        else:
            self._compare(self._shown_count, state, item, marks)

    @work(thread=True, exclusive=True, group="positions", exit_on_error=False)
    def _compare(self, shown: int, state: SummitState, item: Item,
                 marks: Marks | None) -> None:
        """Word diffs and merges of long texts take time: off the screen's thread."""
        compiled = compilation(state, item)
        summary, columns = compare_positions(state, item, marks)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, shown, item.uuid, compiled, summary,
                                      columns)

    def action_start_draft(self) -> None:
        if self._start_text:
            self.post_message(StartDraft(self._start_text))

    def on_click(self, event: events.Click) -> None:
        if self._button_line >= 0 and event.y + int(self.scroll_y) == self._button_line:
            event.stop()
            self.action_start_draft()

    def _paint(self, shown: int, uuid: str, compiled: Compiled | None, summary: Content,
               columns: list[Column]) -> None:
        if shown != self._shown_count:
            return  # overtaken by a later show()
        if compiled is not None and compiled.agreed:
            columns = []
        self._show(uuid, Shown(compiled, summary, tuple(columns)))

    def _show(self, uuid: str, shown: Shown) -> None:
        if len(self._kept) >= KEPT_ITEMS and uuid not in self._kept:
            self._kept.clear()
            self._drawn.clear()
            self._styled.clear()
        self._kept[uuid] = shown
        compiled, columns = shown.compiled, shown.columns
        # A draft starts from the compilation, or from the one position there is.
        self._start_text = (compiled.text if compiled is not None else
                            columns[0].body.plain if columns else "")
        self.shown = shown
        self.scroll_to(y=0, animate=False, immediate=True)
        self._relayout()

    # Drawing ------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        """Build the lines for the present width and tell the scrollbars their number."""
        width = self.scrollable_content_region.width
        if width <= 0:
            self.refresh()
            return
        lines = self._build(width)
        size = Size(width, len(lines))
        if size != self.virtual_size:
            # The virtual size is a layout reactive: setting it lays the screen out again.
            # Only the scrollbar depends on it; it is laid out only if it comes or goes.
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
        self.refresh()

    def _build(self, width: int) -> list[Strip]:
        key = (width, id(self.shown), self.app.theme, self.app.size.width < NARROW_BELOW)
        if key != self._lines_key:
            self._lines_key = key
            drawn = self._drawn.get(key)
            if drawn is None:
                # Kept while the Shown it was drawn from is kept (its id stays its own).
                drawn = self._drawn[key] = (self._draw(width), self._button_line)
            self._lines, self._button_line = drawn
        return self._lines

    def _strips(self, content: Content, width: int, muted: bool = False) -> list[Strip]:
        style = self.visual_style + self._muted() if muted else self.visual_style
        strips = Visual.to_strips(self, content, max(width, 1), None, style, pad=True)
        return [strip.extend_cell_length(width, style.rich_style).crop(0, width)
                for strip in strips] or [Strip.blank(width, style.rich_style)]

    def _muted(self) -> VisualStyle:
        """`color: $text-muted` as CSS resolves it (a span's "$text-muted" keeps the
        foreground: its alpha is dropped)."""
        background = self.visual_style.background or Color(0, 0, 0)
        value = self.app.theme_variables.get("text-muted", "auto 60%").split()
        alpha = float(value[1].rstrip("%")) / 100 if len(value) > 1 else 1.0
        colour = (background.get_contrast_text(alpha) if value[0] == "auto"
                  else Color.parse(value[0]).multiply_alpha(alpha))
        return VisualStyle(foreground=background + colour)

    def _rule_style(self) -> RichStyle:
        """The colour of the frame lines: the foreground at 20% over the background."""
        background = self.visual_style.background or Color(0, 0, 0)
        foreground = self.visual_style.foreground or Color(255, 255, 255)
        colour = background + foreground.with_alpha(0.2)
        return RichStyle(color=colour.rich_color, bgcolor=background.rich_color)

    def _draw(self, width: int) -> list[Strip]:
        base = self.visual_style.rich_style
        blank = Strip.blank(width, base)
        rule = self._rule_style()
        lines: list[Strip] = []
        self._button_line = -1
        compiled = self.shown.compiled
        if compiled is not None:
            lines += self._strips(compiled.heading, width)
            inner = max(width - 3, 1)
            left = Strip([Segment("█", rule), Segment(" ", base)])
            right = Strip([Segment(" ", base)])
            lines += [Strip.join([left, strip, right])
                      for strip in self._strips(compiled.body, inner)]
            lines.append(blank)
            self._button_line = len(lines)
            lines += self._strips(
                Content.styled(f" {BUTTON_LABEL} ", "bold $button-foreground on $surface"),
                width)
            lines.append(blank)
        lines += self._strips(self.shown.summary, width, muted=True)
        lines.append(blank)
        columns = self.shown.columns
        if not columns:
            return lines
        narrow = self.app.size.width < NARROW_BELOW
        per_row = 1 if narrow else len(columns)
        widths = [width] if narrow else _fractions(width, per_row)
        for start in range(0, len(columns), per_row):
            blocks = [self._column(column, column_width, rule)
                      for column, column_width in zip(columns[start:start + per_row], widths,
                                                      strict=False)]
            height = max(len(block) for block in blocks)
            for y in range(height):
                lines.append(Strip.join(
                    block[y] if y < len(block) else Strip.blank(w, base)
                    for block, w in zip(blocks, widths, strict=False)))
        return lines

    def _column(self, column: Column, width: int, rule: RichStyle) -> list[Strip]:
        """One delegation's column: heading over a rule, its text, its justification; one
        cell of padding on its right and a line below."""
        base = self.visual_style.rich_style
        inner = max(width - 1, 1)
        pad = Strip([Segment(" ", base)])
        blank = Strip.blank(inner, base)
        body: list[Strip] = [*self._strips(column.heading, inner),
                             Strip([Segment("─" * inner, rule)]),
                             *self._strips(column.body, inner), blank,
                             *self._strips(column.why, inner, muted=True), blank]
        return [Strip.join([strip, pad]) for strip in body]

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width <= 0:
            return super().render_lines(crop)
        self._build(width)  # the key of the lines for the present width and theme
        # Whole lines: the compositor's crop counts the scrollbar's gutter, `size` does not.
        whole = self.outer_size.region
        key = (self._lines_key, self.scroll_offset, whole, self.background_colors,
               self.get_pseudo_class_state(), tuple(self.get_line_filters()))
        kept = self._styled.get(key)
        # The key holds the id of what is shown: a hit counts only for that very object.
        if kept is None or kept[0] is not self.shown:
            if len(self._styled) >= KEPT_ITEMS:
                self._styled.clear()
            # Textual's line cache may hold the lines of another item, shown meanwhile from
            # here: every line is styled again anyway.
            self._styles_cache.clear()
            kept = self._styled[key] = (self.shown, super().render_lines(whole))
        lines = kept[1][crop.y:crop.bottom]
        if crop.column_span != (0, whole.width):
            lines = [strip.crop(crop.x, crop.right) for strip in lines]
        return lines

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        lines = self._build(width) if width > 0 else []
        index = y + int(self.scroll_y)
        base = self.visual_style.rich_style
        if 0 <= index < len(lines):
            return lines[index].crop_extend(0, width, base)
        return Strip.blank(width, base)


def _fractions(width: int, count: int) -> list[int]:
    """`count` widths summing to `width`, as `1fr` each shares it out."""
    share, extra = divmod(width, count)
    return [share + (1 if n < extra else 0) for n in range(count)]
