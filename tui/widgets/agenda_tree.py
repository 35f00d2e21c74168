"""The agenda as a tree: sections, then numbered items with status, bracket count and a mark
on items changed since the viewer last looked."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import PseudoClasses
from textual.widgets import Tree
from textual.widgets._tree import TOGGLE_STYLE
from textual.widgets.tree import TreeNode

from agenda.digest import sha256
from agenda.frozen import frozen
from agenda.model import Item, Status
from agenda.state import SummitState


@frozen
class ItemRow:
    number: str
    title: str
    status: Status
    brackets: int
    changed: bool = False


def signature(state: SummitState, item: Item) -> str:
    """What the viewer saw of an item, short: a new text, acceptance, note, title or status
    changes it."""
    parts = [item.title, item.status.value, item.section_uuid,
             *(r.id or r.uuid for r in state.history(item)),
             *(f"{code}={r.uuid}" for code, r in state.positions(item).items()),
             *(n.uuid for n in state.item_notes(item))]
    # agenda.digest's SHA-256: hashlib's loads OpenSSL (about 1 ms) before the first frame,
    # for signatures made after it.
    return sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def matches(query: str, item: Item, state: SummitState) -> bool:
    """Every word of the query appears in the item's number, title, text, tags or status."""
    words = query.casefold().split()
    if not words:
        return True
    haystack = " ".join([
        item.number, item.title, item.status.value, item.owner, " ".join(item.tags),
        state.current_text(item),
    ]).casefold()
    return all(word in haystack for word in words)


class AgendaTree(Tree[str]):
    """Items carry their uuid as data; section nodes carry none.

    Labels are built when painted, from plain text and component styles, so that a title is
    never read as markup and the status colours come from the theme.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agenda-tree--number",
        "agenda-tree--section",
        "agenda-tree--brackets",
        "agenda-tree--changed",
        *(f"agenda-tree--{status.value}" for status in Status),
    }

    DEFAULT_CSS = """
    AgendaTree {
        overflow-x: hidden;
        & > .agenda-tree--number { color: $text-muted; }
        & > .agenda-tree--section { text-style: bold; }
        & > .agenda-tree--brackets { color: $text-warning; }
        & > .agenda-tree--changed { color: $text-accent; text-style: bold; }
        & > .agenda-tree--proposed { color: $text-primary; }
        & > .agenda-tree--negotiating { color: $text-secondary; }
        & > .agenda-tree--bracketed { color: $text-warning; }
        & > .agenda-tree--agreed-ad-ref { color: $text-success; }
        & > .agenda-tree--final { color: $text-success; text-style: bold; }
        & > .agenda-tree--deferred { color: $text-muted; }
        & > .agenda-tree--withdrawn { color: $text-muted; text-style: strike; }
    }
    """

    # Called with the item under a moved cursor, at once (see watch_cursor_line).
    follow: Callable[[str], None] | None = None

    def __init__(self, *, id: str | None = None) -> None:
        self._label_styles: dict[str, Style] = {}
        # Tree looks up six component styles and its own style (each a walk up the DOM) for
        # every line it draws, and Textual forgets them at each refresh: an item switch
        # redraws two lines and paid for fourteen lookups. Kept here until the styles change.
        self._rich_styles: dict[tuple[object, ...], Style] = {}
        super().__init__(Text("Agenda"), id=id)  # a str is parsed as markup, with emoji
        self.show_root = False
        self.guide_depth = 2
        self._rows: dict[str, ItemRow] = {}

    def show(self, state: SummitState, query: str = "", keep: str | None = None,
             changed: Collection[str] = ()) -> None:
        """Rebuild from a state, keeping the cursor on item `keep` if it is still shown;
        items in `changed` are marked."""
        self._rows = {
            item.uuid: ItemRow(item.number, item.title, item.status, state.bracket_count(item),
                               item.uuid in changed)
            for item in state.items
        }
        self.clear()
        # The old cursor line may point at a removed node: start afresh so that moving the
        # cursor always announces the highlighted item, even on the same line.
        self.set_reactive(Tree.cursor_line, -1)
        target: TreeNode[str] | None = None
        by_section: dict[str, list[Item]] = {}
        for item in state.items:
            if matches(query, item, state):
                by_section.setdefault(item.section_uuid, []).append(item)
        for section in state.summit.sections:
            shown = by_section.get(section.uuid, [])
            if query and not shown:
                continue
            branch = self.root.add(Text(section.title), expand=True)
            for item in shown:
                leaf = branch.add_leaf(Text(item.title), data=item.uuid)
                if item.uuid == keep:
                    target = leaf
        if target is None:
            target = next((node for node in self._item_nodes()), None)
        if target is not None:
            # Node lines are laid out at the next refresh; the cursor can only go there then.
            self.call_after_refresh(self.move_cursor, target)

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        # The NodeHighlighted message reaches the screen after the moved cursor has been
        # painted: a frame with the old item beside the new cursor, then a second one. Shown
        # here, the item and the cursor reach the terminal in one frame.
        node = self.cursor_node
        if previous_line != line and self.follow is not None and node is not None \
                and node.data is not None:
            self.follow(node.data)

    def notify_style_update(self) -> None:
        # Tree caches painted lines by position and state, not by theme: without this, a
        # switch to the light theme kept the dark theme's colours in the labels.
        super().notify_style_update()
        self._label_styles.clear()
        self._rich_styles.clear()
        self._invalidate()

    def get_component_rich_style(self, *names: str, partial: bool = False,
                                 default: Style | None = None) -> Style:
        # Focus and hover change which rules apply (Tree:focus > .tree--cursor) without
        # always replacing the tree's own rules: they are part of the key.
        key = (names, partial, default, self._state(), self.app.theme)
        style = self._rich_styles.get(key)
        if style is None:
            style = self._rich_styles[key] = super().get_component_rich_style(
                *names, partial=partial, default=default)
        return style

    _drawing: PseudoClasses | None = None

    def _state(self) -> PseudoClasses:
        return self._drawing if self._drawing is not None else self.get_pseudo_class_state()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Focus and hover looked at once for the pass: each look walks up the DOM and asks
        # the screen what is under the mouse, and the style keys asked for it five times a
        # line (a third of drawing the tree, 100 items: 22 ms for the first frame).
        self._drawing = self.get_pseudo_class_state()
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    def render_line(self, y: int) -> Strip:
        key = ("rich_style", self._state(), self.app.theme)
        style = self._rich_styles.get(key)
        if style is None:
            style = self._rich_styles[key] = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """Tree's line, drawn without Rich's Text: the same cells, each in the same style.

        Tree builds each line as a Text (guides, then the label's spans) and renders it,
        combining every span's style, its meta included, cell run by cell run: some 0.4 ms
        a line, 12 ms of the demo's first frame. Here the styles without their meta are
        combined once per pass and kept, and each run gets the line's meta (its line, its
        node, the toggle of a section's arrow) added last, as Text would have merged it.
        tests/tui/test_agenda_tree.py compares the two, cell by cell.
        """
        tree_lines = self._tree_lines
        width = self.size.width
        if y >= len(tree_lines):
            return Strip.blank(width, base_style)
        line = tree_lines[y]
        is_hover = self.hover_line >= 0 and any(node._hover for node in line.path)
        cache_key = (y, is_hover, width, self._updates, self._pseudo_class_state,
                     tuple(node._updates for node in line.path))
        strip = self._line_cache.get(cache_key)
        if strip is None:
            strip = self._line_cache[cache_key] = self._draw_line(y, line, is_hover,
                                                                  width, base_style)
        return strip.crop(x1, x2)

    def _guides(self) -> tuple[dict[tuple[Style, bool], tuple[str, ...]], bool, bool, bool,
                               Style, Style, Style]:
        """What Tree looks up for every line's guides, once per focus, hover and theme."""
        key = ("guides", self._state(), self.app.theme, self.show_guides, self.guide_depth)
        kept = self._rich_styles.get(key)
        if kept is None:
            base = self.get_component_rich_style("tree--guides", partial=True)
            kept = (
                {},
                self.get_component_styles("tree--guides").color.a == 0,
                self.get_component_styles("tree--guides-hover").color.a == 0,
                self.get_component_styles("tree--guides-selected").color.a == 0,
                base,
                base + self.get_component_rich_style("tree--guides-hover", partial=True),
                base + self.get_component_rich_style("tree--guides-selected", partial=True),
            )
            self._rich_styles[key] = kept  # type: ignore[assignment]
        return kept  # type: ignore[return-value]

    def _guide_strings(self, style: Style, hidden: bool) -> tuple[str, ...]:
        found, *_ = self._guides()
        strings = found.get((style, hidden))
        if strings is None:
            if self.show_guides and not hidden:
                lines = self.LINES["default"]
                if style.bold:
                    lines = self.LINES["bold"]
                elif style.underline2:
                    lines = self.LINES["double"]
            else:
                lines = ("  ", "  ", "  ", "  ")
            depth = max(0, self.guide_depth - 2)
            strings = found[(style, hidden)] = tuple(
                f"{characters[0]}{characters[1] * depth} " for characters in lines)
        return strings

    def _plus(self, *styles: Style) -> Style:
        """Styles combined left to right (as Text renders spans), kept until the styles
        change (notify_style_update)."""
        key = ("plus", *styles)
        style = self._rich_styles.get(key)
        if style is None:
            style = self._rich_styles[key] = Style.combine(styles)  # type: ignore[index]
        return style

    def _draw_line(self, y: int, line: Any, is_hover: bool, width: int,
                   base_style: Style) -> Strip:
        _, base_hidden, hover_hidden, selected_hidden, base_guide, guide_hover, \
            guide_selected = self._guides()
        plain = (self.get_component_rich_style("tree--highlight-line") if is_hover
                 else base_style)
        line_meta = Style(meta={"line": y})
        line_style = plain + line_meta
        path = line.path
        node = path[-1]
        hover = path[0]._hover
        selected = path[0]._selected and self.has_focus
        guide_style, hidden = base_guide, True
        segments: list[Segment] = []
        for step in path[1:]:
            hidden = base_hidden
            if hover:
                guide_style, hidden = guide_hover, hover_hidden
            if selected:
                guide_style, hidden = guide_selected, selected_hidden
            space, vertical, _, _ = self._guide_strings(guide_style, hidden)
            if step != node:
                segments.append(Segment(space if step.is_last else vertical,
                                        self._plus(plain, guide_style) + line_meta))
            hover = hover or step._hover
            selected = (selected or step._selected) and self.has_focus
        if len(path) > 1:
            _, _, terminator, cross = self._guide_strings(guide_style, hidden)
            segments.append(Segment(terminator if line.last else cross,
                                    self._plus(plain, guide_style) + line_meta))
        label_style = self.get_component_rich_style("tree--label", partial=True)
        if self.hover_line == y:
            label_style += self.get_component_rich_style("tree--highlight", partial=True)
        if self.cursor_line == y:
            label_style += self.get_component_rich_style("tree--cursor", partial=False)
        meta = Style(meta={"line": y, "node": node._id})
        row = self._rows.get(node.data) if node.data else None
        if row is None:
            section = self._style("section")
            if node._allow_expand:
                # The arrow's own style holds the line's meta and the toggle's: combined
                # whole, as Text does (one a section line).
                arrow = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
                segments.append(Segment(arrow, line_style + (line_style + TOGGLE_STYLE)
                                        + section + Style(meta={"node": node._id})))
            runs = [(node._label.plain, (label_style, section))]
        else:
            runs = self._item_runs(row, label_style)
        for text, styles in runs:
            if text:
                segments.append(Segment(text, self._plus(plain, *styles) + meta))
        drawn = sum(segment.cell_length for segment in segments)
        pad = max(self.virtual_size.width, width) - drawn
        if pad > 0:
            segments.append(Segment(" " * pad, line_style))
        return Strip(segments)

    def _item_runs(self, row: ItemRow, label_style: Style) -> list[tuple[str, tuple[Style, ...]]]:
        """An item label's runs of text, each with its spans' styles in render_label's order
        (the label style covers the whole label, after the others)."""
        title = Text(row.title)
        room = _room(self.scrollable_content_region.width, row, _suffix_width(row))
        if self.scrollable_content_region.width and title.cell_len > room:
            title.truncate(max(room, 4), overflow="ellipsis")
        runs: list[tuple[str, tuple[Style, ...]]] = []
        if row.changed:
            runs.append(("● ", (self._style("changed"), label_style)))
        runs.append((f"{row.number} ", (self._style("number"), label_style)))
        runs.append((title.plain, (label_style,)))
        runs.append(("  ", (label_style,)))
        runs.append((row.status.value, (self._style(row.status.value), label_style)))
        if row.brackets:
            runs.append((f" ⟦{row.brackets}⟧", (self._style("brackets"), label_style)))
        return runs

    def _item_nodes(self) -> list[TreeNode[str]]:
        return [leaf for branch in self.root.children for leaf in branch.children]

    def set_changed(self, uuids: Collection[str]) -> None:
        self._rows = {uuid: ItemRow(row.number, row.title, row.status, row.brackets,
                                    uuid in uuids) for uuid, row in self._rows.items()}
        self._invalidate()

    def mark_seen(self, uuid: str) -> None:
        row = self._rows.get(uuid)
        if row is not None and row.changed:
            self._rows[uuid] = ItemRow(row.number, row.title, row.status, row.brackets)
            self._invalidate()

    def changed_items(self) -> list[str]:
        return [uuid for uuid, row in self._rows.items() if row.changed]

    def select_item(self, uuid: str) -> bool:
        for node in self._item_nodes():
            if node.data == uuid:
                self.move_cursor(node)
                return True
        return False

    @property
    def item_uuid(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def _style(self, component: str) -> Style:
        # Kept: looking a component style up takes longer than drawing the line it styles.
        kept = self._label_styles.get(component)
        if kept is not None:
            return kept
        try:
            # The full style, not the partial one: a partial style keeps a translucent colour
            # such as $text-muted unblended, which paints white on the light theme.
            full = self.get_component_rich_style(f"agenda-tree--{component}")
        except KeyError:
            # Labels are measured once before the stylesheet reaches the tree; widths do not
            # depend on colour.
            return Style.null()
        style = self._label_styles[component] = Style(color=full.color, bold=full.bold,
                                                         strike=full.strike)
        return style

    def get_label_width(self, node: TreeNode[str]) -> int:
        """The cells `render_label` takes, counted without building the label.

        Tree measures every label each time its lines are rebuilt (five times while the
        first frame is built: about 12 ms for 100 items); a label is built only to be drawn.
        """
        row = self._rows.get(node.data) if node.data else None
        if row is None:
            label = node._label.cell_len
            if node._allow_expand:
                label += cell_len(self.ICON_NODE_EXPANDED if node.is_expanded
                                  else self.ICON_NODE)
            return label
        suffix = _suffix_width(row)
        title = cell_len(row.title)
        width = self.scrollable_content_region.width
        room = _room(width, row, suffix)
        if width and title > room:
            title = min(title, max(room, 4))  # Text.truncate leaves a title that fits as is
        return (2 if row.changed else 0) + len(row.number) + 1 + title + suffix

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        row = self._rows.get(node.data) if node.data else None
        if row is None:
            label = super().render_label(node, base_style, style)
            label.stylize(self._style("section"))
            return label
        suffix = Text.assemble("  ", (row.status.value, self._style(row.status.value)))
        if row.brackets:
            suffix.append(f" ⟦{row.brackets}⟧", self._style("brackets"))
        title = Text(row.title)
        room = _room(self.scrollable_content_region.width, row, suffix.cell_len)
        mark = ("● ", self._style("changed")) if row.changed else ""
        if self.scrollable_content_region.width and title.cell_len > room:
            title.truncate(max(room, 4), overflow="ellipsis")
        label = Text.assemble(mark, (f"{row.number} ", self._style("number")), title, suffix)
        label.stylize(style)
        return label


def _suffix_width(row: ItemRow) -> int:
    """The cells of an item's status and bracket count, as render_label writes them."""
    width = 2 + cell_len(row.status.value)
    if row.brackets:
        width += cell_len(f" ⟦{row.brackets}⟧")
    return width


def _room(width: int, row: ItemRow, suffix: int) -> int:
    """The cells left for the title: the status stays in view, the title is shortened (the
    guide takes 2 cells, the changed mark 2)."""
    return width - 2 - len(row.number) - 1 - suffix - (2 if row.changed else 0)
