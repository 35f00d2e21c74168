"""The sync line under the header: when this workspace last exchanged records, and what came."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static

if TYPE_CHECKING:
    from agenda.exchange.stability import Marks
    from agenda.model import Item, Revision
    from agenda.state import SummitState
    from agenda.workspace import Workspace

REFRESH_SECONDS = 30.0  # "2 min ago" moves on without a sync


class SyncState(Static):
    """"synced 2 min ago · RU tabled 2 texts", "not synced yet" or "no remote".

    Hidden in a workspace never bound to a delegation: it does not exchange, and the line
    would only take a row from the agenda.
    """

    DEFAULT_CSS = """
    SyncState {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        display: none;
    }
    SyncState.-shown { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_state)
        # Once the screen is painted: its thread read the workspace's settings while the
        # first frame was being built, taking turns with it for the interpreter (some 7 ms of
        # CPU before the first frame). The line it may show came after that frame anyway.
        self.call_after_refresh(self.refresh_state)

    @work(thread=True, exclusive=True, group="sync-state", exit_on_error=False)
    def refresh_state(self) -> None:
        """Read the state off the screen's thread (it opens the exchange's settings)."""
        app = self.app
        ws: Workspace = app.ws  # type: ignore[attr-defined]
        if ws.exchange_get("identity") is None:
            # Not bound: it exchanges nothing and the line stays hidden. Asked here, before the
            # exchange's modules (its keys import `cryptography`, ~100 ms holding the
            # interpreter) are imported in the middle of the first frame.
            app.call_from_thread(self._show, "")
            return
        from agenda.exchange.sync import status_line

        clock = getattr(ws, "clock", None)
        now: datetime = clock() if clock is not None else datetime.now()
        line = status_line(ws, now)
        app.call_from_thread(self._show, line)

    def _show(self, line: str) -> None:
        self.update(f"{line}  (S: sync)" if line else "")
        self.set_class(bool(line), "-shown")


# Marks from the exchange (see agenda/exchange/stability.py), read by History and Positions.

def star(marks: Marks | None, revision: Revision) -> str:
    """"*" after a label that may still move (not yet seen by every known device)."""
    return "*" if marks is not None and revision.id in marks.provisional else ""


def split_note(marks: Marks | None, state: SummitState, item: Item) -> str:
    """"IN has two positions: v8 and v9" when a delegation's devices stand apart."""
    split = marks.split.get(item.uuid, {}) if marks is not None else {}
    if not split:
        return ""
    labels = {r.id: r.label for r in state.history(item)}
    words = {2: "two", 3: "three"}
    notes = []
    for code, ids in sorted(split.items()):
        shown = [labels[i] for i in ids if i in labels]
        if len(shown) > 1:
            notes.append(f"{code} has {words.get(len(shown), str(len(shown)))} positions: "
                         f"{', '.join(shown[:-1])} and {shown[-1]}")
    return "; ".join(notes)
