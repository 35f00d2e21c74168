"""The Log tab: the audit trail the viewer may see, for the item and for the whole summit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from agenda.model import Event, Item, when
from agenda.state import SummitState

# The trail of a long negotiation is thousands of lines; the latest ones are what a desk
# officer looks for here (the CLI's `summit log` prints them all).
MAX_SUMMIT_EVENTS = 200


def event_line(event: Event) -> Content:
    return Content.assemble((when(event.created), "$text-muted"), "  ",
                            (f"{event.actor or '--':<4}", "bold"), " ", event.detail)


def log_content(state: SummitState, item: Item) -> Content:
    """The item's events, then the latest summit-wide ones, oldest first in each."""
    events = state.events
    mine = [e for e in events if e.item == item.uuid]
    summit_wide = [e for e in events if not e.item][-MAX_SUMMIT_EVENTS:]
    who = f"as {state.viewer} sees it" if state.viewer else "joint view: tabled acts only"
    parts: list[Content | str | tuple[str, str]] = [
        (f"Log of item {item.number}", "bold"), " · ", (who, "$text-muted"), "\n"]
    parts.extend(part for event in mine for part in (event_line(event), "\n"))
    if not mine:
        parts.append("Nothing logged for this item.\n")
    parts.append(("\nSummit\n", "bold"))
    parts.extend(part for event in summit_wide for part in (event_line(event), "\n"))
    return Content.assemble(*parts)


class LogPane(VerticalScroll):
    DEFAULT_CSS = "LogPane { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield Static(id="log-text", markup=False)

    def show(self, state: SummitState, item: Item) -> None:
        self.query_one("#log-text", Static).update(log_content(state, item))
