"""The History tab: every revision of the item the viewer may see, oldest first."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from agenda.model import Item, Revision, when
from agenda.state import SummitState
from tui.messages import CompareRevisions
from tui.widgets.sync_state import star

COLUMNS = ("Rev", "By", "Code", "Kind", "Time (UTC)", "Accepted by", "Justification")


class HistoryPane(Vertical):
    """Mark two rows with space to diff them; enter shows a revision's full text."""

    BINDINGS = [
        Binding("space", "mark", "Mark for diff"),
        Binding("r", "screen.restore_revision", "Restore"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._revisions: tuple[Revision, ...] = ()
        self._marked: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("space marks two revisions to compare · enter shows the full text · "
                     "r tables an old text again", id="history-hint", markup=False)
        table: DataTable[Text] = DataTable(id="history-table", cursor_type="row",
                                           zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        self.table.add_column("", key="mark")
        self.table.add_columns(*COLUMNS)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#history-table", DataTable)

    def show(self, state: SummitState, item: Item) -> None:
        previous = self.selected.uuid if self.selected else None
        if not self._revisions or self._revisions[0].item != item.uuid:
            self._marked.clear()
            previous = None
        self._revisions = state.history(item)
        table = self.table
        table.clear()
        for revision in self._revisions:
            table.add_row(*self._cells(state, revision), key=revision.uuid)
        if self._revisions:
            uuids = [r.uuid for r in self._revisions]
            row = uuids.index(previous) if previous in uuids else len(uuids) - 1
            table.move_cursor(row=row, animate=False)

    def _cells(self, state: SummitState, revision: Revision) -> list[Text]:
        accepted = ", ".join(sorted(state.accepted_by(revision))) if revision.tabled else ""
        return [
            Text("●" if revision.uuid in self._marked else ""),
            Text(revision.label + star(getattr(self.app, "marks", None), revision)
                 + (f" (was {revision.was})" if revision.was else "")
                 + (" after final" if revision.after_final else "")),
            Text(revision.delegation),
            Text(revision.code.value),
            Text("tabled" if revision.tabled else "internal"),
            Text(when(revision.created)),
            Text(accepted),
            Text(revision.justification),
        ]

    @property
    def selected(self) -> Revision | None:
        if not self._revisions:
            return None
        row = self.table.cursor_row
        return self._revisions[row] if 0 <= row < len(self._revisions) else None

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        await self.run_action("screen.view_revision")

    def action_mark(self) -> None:
        revision = self.selected
        if revision is None:
            return
        if revision.uuid in self._marked:
            self._marked.remove(revision.uuid)
        else:
            self._marked = [*self._marked[-1:], revision.uuid]
        for other in self._revisions:
            self.table.update_cell(other.uuid, "mark",
                                   Text("●" if other.uuid in self._marked else ""))
        if len(self._marked) == 2:
            by_uuid = {r.uuid: r for r in self._revisions}
            older, newer = sorted((by_uuid[u] for u in self._marked),
                                  key=self._revisions.index)
            self.post_message(CompareRevisions(older, newer))
