"""The agenda tree measures its labels without building them: the width it counts is the width
of the label it draws, for any title, number, status, bracket count, mark and pane width."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.style import Style
from rich.text import Text
from textual.geometry import Region

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
