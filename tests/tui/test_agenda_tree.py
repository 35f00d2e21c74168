"""The agenda tree measures its labels without building them (the width it counts is the width
of the label it draws) and draws its lines without Rich's Text (each cell as Textual's Tree
draws it), for any title, number, status, bracket count, mark, pane width, cursor, hover, focus
and theme."""

from __future__ import annotations

import asyncio

from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Tree

from agenda.model import Status
from tui.widgets.agenda_tree import AgendaTree, ItemRow

COMPONENTS = ["number", "section", "brackets", "changed", *(s.value for s in Status)]
TITLES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


class SizedTree(AgendaTree):
    """An agenda tree with a given pane width, measured and drawn without an app."""

    width = 0

    @property
    def scrollable_content_region(self) -> Region:
        return Region(0, 0, self.width, 10)


NUMBERS = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2}){0,2}", fullmatch=True)


@given(rows=st.lists(st.tuples(TITLES, NUMBERS, st.sampled_from(list(Status)),
                               st.integers(0, 120), st.booleans()), min_size=1, max_size=8),
       sections=st.lists(TITLES, min_size=1, max_size=3),
       width=st.integers(0, 90), collapsed=st.booleans())
def test_a_label_is_as_wide_as_it_is_counted(
        rows: list[tuple[str, str, Status, int, bool]], sections: list[str], width: int,
        collapsed: bool) -> None:
    tree = SizedTree()
    tree.width = width
    tree._label_styles = {name: Style.null() for name in COMPONENTS}
    for n, (title, number, status, brackets, changed) in enumerate(rows):
        tree._rows[f"item-{n}"] = ItemRow(number, title, status, brackets, changed)
    branches = [tree.root.add(Text(title), expand=not collapsed) for title in sections]
    branches.append(tree.root.add_leaf(Text("no items")))  # a section that cannot expand
    leaves = [branches[n % len(sections)].add_leaf(Text(title), data=f"item-{n}")
              for n, (title, *_) in enumerate(rows)]
    for node in [*branches, *leaves]:
        drawn = tree.render_label(node, Style.null(), Style.null())
        assert tree.get_label_width(node) == drawn.cell_len, (node.data, width)


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AgendaTree(id="agenda")


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    return [(char, segment.style) for segment in strip for char in segment.text]


# Each example starts an app (a fraction of a second): a few dozen, and no shrinking (minutes).
@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.generate])
@given(rows=st.lists(st.tuples(TITLES, NUMBERS, st.sampled_from(list(Status)),
                               st.integers(0, 120), st.booleans()), min_size=1, max_size=7),
       sections=st.lists(TITLES, min_size=1, max_size=3), width=st.integers(24, 100),
       cursor=st.integers(-1, 12), hover=st.integers(-1, 12), focus=st.booleans(),
       collapsed=st.booleans(), light=st.booleans())
def test_a_line_has_the_cells_tree_draws(
        rows: list[tuple[str, str, Status, int, bool]], sections: list[str], width: int,
        cursor: int, hover: int, focus: bool, collapsed: bool, light: bool) -> None:
    """The agenda draws its lines itself: each cell holds what Textual's Tree draws there,
    character and style (colours, attributes, the meta that clicks read)."""

    async def run() -> None:
        app = TreeApp()
        async with app.run_test(size=(width, 20)) as pilot:
            if light:
                app.theme = "textual-light"
            tree = app.query_one(AgendaTree)
            for n, (title, number, status, brackets, changed) in enumerate(rows):
                tree._rows[f"item-{n}"] = ItemRow(number, title, status, brackets, changed)
            branches = [tree.root.add(Text(title), expand=not collapsed) for title in sections]
            branches.append(tree.root.add_leaf(Text("no items")))
            for n, (title, *_) in enumerate(rows):
                branches[n % len(sections)].add_leaf(Text(title), data=f"item-{n}")
            if focus:
                tree.focus()
            await pilot.pause()
            lines = len(tree._tree_lines)
            tree.cursor_line = min(cursor, lines - 1)
            tree.hover_line = min(hover, lines - 1)
            if tree.hover_line >= 0:
                tree._tree_lines[tree.hover_line].path[-1]._hover = True
            await pilot.pause()
            tree._pseudo_class_state = tree.get_pseudo_class_state()
            base = tree.rich_style
            for y in range(lines + 1):
                tree._line_cache.clear()
                ours = tree._render_line(y, 0, width, base)
                tree._line_cache.clear()
                textual = Tree._render_line(tree, y, 0, width, base)
                assert _cells(ours) == _cells(textual), y

    asyncio.run(run())
