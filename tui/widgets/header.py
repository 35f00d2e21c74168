"""The header as one widget: the palette icon, the title and sub-title centred, the clock's room."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

ICON = "⭘"
ICON_WIDTH = 8  # Textual's HeaderIcon: 8 cells, one of padding on the left
CLOCK_WIDTH = 10  # Textual's HeaderClockSpace: the room a clock would take on the right


class AgendaHeader(Widget):
    """Draws what Textual's Header draws with its three child widgets (icon, title, clock
    space), cell for cell: the same look, hover, tooltip and clicks (the icon opens the command
    palette, elsewhere the header grows to three lines and back).

    Each of those widgets was mounted, styled and painted on its own before the first frame.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"agenda-header--icon-hover"}
    DEFAULT_CSS = """
    AgendaHeader {
        dock: top;
        width: 100%;
        background: $panel;
        color: $foreground;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        content-align: center middle;
        & > .agenda-header--icon-hover { background: $foreground 10%; }
    }
    AgendaHeader.-tall {
        height: 3;
    }
    """

    _icon_hover = False

    def on_mount(self) -> None:
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self._retitle, init=False)
            self.watch(owner, "sub_title", self._retitle, init=False)

    def _retitle(self) -> None:
        self.refresh()

    def _title(self) -> object:
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub_title = screen.sub_title if screen.sub_title is not None else app.sub_title
        return app.format_title(title, sub_title)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.visual_style
        base = style.rich_style
        icon_style = base
        if self._icon_hover:
            hover = self.get_component_rich_style("agenda-header--icon-hover")
            icon_style = base + Style(bgcolor=hover.bgcolor)
        icon_width = min(ICON_WIDTH, width)
        middle = y == (self.size.height - 1) // 2  # the tall header centres its one line
        # In the pieces Textual's icon draws (padding, icon, its room, padding): a terminal
        # shows them alike, and so do the snapshots.
        icon = Strip([Segment(" ", icon_style), Segment(ICON if middle else " ", icon_style),
                      Segment(" " * (ICON_WIDTH - 3), icon_style), Segment(" ", icon_style)]
                     ).crop(0, icon_width)
        title_width = max(width - ICON_WIDTH - CLOCK_WIDTH, 0)
        parts = [icon]
        if title_width and not middle:
            parts.append(Strip.blank(title_width, base))
        elif title_width:
            title = Visual.to_strips(self, self._title(), title_width, 1,  # type: ignore[arg-type]
                                     style)[0]
            parts.append(title.extend_cell_length(title_width, base).crop(0, title_width))
        clock = max(width - icon_width - title_width, 0)
        if clock:
            parts.append(Strip.blank(clock, base))
        return Strip.join(parts)

    # The mouse --------------------------------------------------------------------------

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(event.x < ICON_WIDTH and self.app.ENABLE_COMMAND_PALETTE)

    def on_leave(self, event: events.Leave) -> None:
        self._hover(False)

    def _hover(self, on: bool) -> None:
        if on == self._icon_hover:
            return
        self._icon_hover = on
        self.tooltip = "Open the command palette" if on else None
        self.refresh()

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        if event.x < ICON_WIDTH and self.app.ENABLE_COMMAND_PALETTE:
            await self.run_action("app.command_palette")
        else:
            self.toggle_class("-tall")
