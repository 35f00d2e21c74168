"""The item's tabs: one widget draws the labels and underline; panes built when first shown."""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

BAR, HALF_BAR_LEFT, HALF_BAR_RIGHT = "━", "╺", "╸"  # Textual's Underline glyphs


class TabBar(Widget, can_focus=True):
    """Textual's Tabs drawn by one widget.

    Textual's Tabs is a scrolling container, a bar, a row, one Tab per label and an
    Underline: ten widgets here, each styled and laid out before the first frame. This one
    draws the same two lines (the labels, then the underline under the active one) with the
    same theme variables; a label is still clicked and hovered where it is drawn, and with
    focus left and right move between tabs.
    """

    ALLOW_SELECT = False
    BINDINGS = [
        Binding("left", "step(-1)", "Previous tab", show=False),
        Binding("right", "step(1)", "Next tab", show=False),
    ]
    COMPONENT_CLASSES = {"tab-bar--tab", "tab-bar--hover", "tab-bar--active", "tab-bar--bar"}
    DEFAULT_CSS = """
    TabBar {
        width: 100%;
        height: 2;
        text-wrap: nowrap;
        text-overflow: clip;
        & > .tab-bar--tab { color: $foreground 50%; }
        & > .tab-bar--hover { color: $foreground; }
        & > .tab-bar--active { color: $foreground; }
        & > .tab-bar--bar {
            color: $block-cursor-background;
            background: $foreground 10%;
        }
        &:ansi {
            & > .tab-bar--tab { text-style: dim; }
            & > .tab-bar--active { text-style: not dim bold; }
            & > .tab-bar--bar { background: $border-blurred; }
        }
        &:focus {
            & > .tab-bar--bar { background: $foreground 30%; }
            & > .tab-bar--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
        }
    }
    """

    class Clicked(Message):
        """A label was clicked."""

        def __init__(self, tab: str) -> None:
            self.tab = tab
            super().__init__()

    _hovered: str | None = None

    def __init__(self, labels: dict[str, str], active: str, *, id: str | None = None  # noqa: A002
                 ) -> None:
        super().__init__(id=id)
        self._labels = dict(labels)
        self._active = active

    @property
    def tabs(self) -> tuple[str, ...]:
        return tuple(self._labels)

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, tab: str) -> None:
        if tab != self._active:
            self._active = tab
            self.refresh()

    def label(self, tab: str) -> str:
        return self._labels[tab]

    def set_labels(self, labels: dict[str, str]) -> None:
        if labels != self._labels:
            self._labels = dict(labels)
            self.refresh()

    def spans(self) -> dict[str, tuple[int, int]]:
        """Where each label is drawn: (start, end) columns, its padding included."""
        spans, x = {}, 0
        for tab, label in self._labels.items():
            width = cell_len(label) + 2
            spans[tab] = (x, x + width)
            x += width
        return spans

    def render(self) -> Text:
        tab = self.get_component_rich_style("tab-bar--tab")
        hover = self.get_component_rich_style("tab-bar--hover")
        active = self.get_component_rich_style("tab-bar--active")
        bar = self.get_component_rich_style("tab-bar--bar")
        text = Text(no_wrap=True, overflow="crop", end="")
        background = self.rich_style.bgcolor
        for name, label in self._labels.items():
            style = active if name == self._active else hover if name == self._hovered else tab
            # The padding is a run of its own, never merged with the label (its space is
            # drawn in the background's colour), as when each Tab was a widget: an SVG
            # screenshot then places the label's glyphs where Tabs placed them.
            padding = style + Style(color=style.bgcolor or background)
            text.append(" ", padding)
            text.append(label, style)
            text.append(" ", padding)
        width = self.size.width
        text.append(" " * max(0, width - text.cell_len))
        text.append("\n")
        # Under the active label's text, not its padding (as Textual's Tabs does).
        start, end = self.spans().get(self._active, (-1, 1))
        start, end = start + 1, min(end - 1, width)
        # The underline as Textual's Bar draws it at rest: a half bar either side of the
        # highlight, the bar's background drawn as glyphs in its colour.
        rest = Style.from_color(bar.bgcolor)
        if start > 0:
            text.append(BAR * (start - 1) + HALF_BAR_RIGHT, rest)
        text.append(BAR * (end - start), Style.from_color(bar.color))
        if end < width:
            text.append(HALF_BAR_LEFT + BAR * (width - end - 1), rest)
        return text

    def _at(self, x: int) -> str | None:
        return next((tab for tab, (start, end) in self.spans().items() if start <= x < end),
                    None)

    def on_click(self, event: events.Click) -> None:
        tab = self._at(event.x)
        if tab is not None:
            self.post_message(self.Clicked(tab))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._at(event.x) if event.y == 0 else None)

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, tab: str | None) -> None:
        if tab != self._hovered:
            self._hovered = tab
            self.styles.pointer = "pointer" if tab is not None else "default"
            self.refresh()

    def action_step(self, step: int) -> None:
        tabs = self.tabs
        self.post_message(self.Clicked(tabs[(tabs.index(self._active) + step) % len(tabs)]))


class ItemTabs(Widget):
    """What TabbedContent did for the item pane, with two widgets and the panes shown.

    A pane is mounted the first time its tab is shown (`add_pane`) and only hidden when
    another is; TabbedContent's switcher and a TabPane around each pane are not needed.
    """

    DEFAULT_CSS = """
    ItemTabs {
        height: 1fr;
        & > .-tab-pane { height: 1fr; }
    }
    """

    class TabActivated(Message):
        """Another tab is shown (by a click, a key or `active`)."""

        def __init__(self, tabs: ItemTabs, tab: str) -> None:
            self.tabs = tabs
            self.tab = tab
            super().__init__()

        @property
        def control(self) -> ItemTabs:
            return self.tabs

    def __init__(self, labels: dict[str, str], first: Widget, *,
                 id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._active = next(iter(labels))
        self.bar = TabBar(labels, self._active)
        self._panes: dict[str, Widget] = {self._active: first}
        # Not mounted yet: styled when mounted, with its class (update=True styled it twice).
        first.add_class("-tab-pane", update=False)

    def compose(self) -> ComposeResult:
        yield self.bar
        yield self._panes[self._active]

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, tab: str) -> None:
        if tab == self._active:
            return
        if tab not in self.bar.tabs:
            raise ValueError(f"no tab {tab!r}")
        for name, pane in self._panes.items():
            pane.display = name == tab
        self._active = tab
        self.bar.active = tab
        self.post_message(self.TabActivated(self, tab))

    def pane(self, tab: str) -> Widget | None:
        """The tab's content, or None before it was first shown."""
        return self._panes.get(tab)

    @property
    def active_pane(self) -> Widget | None:
        return self._panes.get(self._active)

    async def add_pane(self, tab: str, pane: Widget) -> None:
        """Mount a tab's content (once; it stays, hidden while another tab is shown)."""
        if tab in self._panes:
            return
        self._panes[tab] = pane
        pane.add_class("-tab-pane", update=False)  # styled when mounted, just below
        pane.display = tab == self._active
        await self.mount(pane)

    def on_tab_bar_clicked(self, event: TabBar.Clicked) -> None:
        event.stop()
        self.active = event.tab
