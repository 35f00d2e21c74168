"""The summit dashboard: items by status per section, brackets, and how the sides converged."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from agenda.diff import similarity
from agenda.model import Item, Status
from agenda.state import SummitState
from tui.errors import ReportsWorkerErrors
from tui.messages import StateLoaded
from tui.render import percent
from tui.widgets.header import AgendaHeader

BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Convergence:
    item: Item
    rounds: tuple[float, ...]  # similarity of the sides' positions after each tabling/acceptance


def convergence(state: SummitState, item: Item) -> Convergence:
    """After each tabled text or acceptance, how alike the delegations' positions were (the
    positions as the rules define them: state.position_rounds)."""
    cache: dict[tuple[str, str], float] = {}
    rounds: list[float] = []
    for positions in state.position_rounds(item):
        texts = list(positions.values())
        if len(texts) < 2:
            continue
        pairs = []
        for a, b in combinations(texts, 2):
            key = (a.uuid, b.uuid)
            if key not in cache:
                cache[key] = 1.0 if a.uuid == b.uuid else similarity(a.text, b.text)
            pairs.append(cache[key])
        rounds.append(sum(pairs) / len(pairs))
    return Convergence(item, tuple(rounds))


def level_style(value: float) -> str:
    if value >= 0.999:
        return "$text-success"
    return "$text-warning" if value >= 0.75 else "$text-error"


def convergence_line(row: Convergence, width: int) -> Content:
    label = Content.assemble((f"{row.item.number} ", "bold"), row.item.title)
    label = label.truncate(width, ellipsis=True, pad=True)
    if not row.rounds:
        return Content.assemble(label, "  ", ("one side only so far", "$text-muted"))
    bars = Content.assemble(*(
        (BLOCKS[round(v * (len(BLOCKS) - 1))], level_style(v)) for v in row.rounds[-24:]
    ))
    trend = (f"{percent(row.rounds[0])} → {percent(row.rounds[-1])}"
             if len(row.rounds) > 1 else percent(row.rounds[-1]))
    return Content.assemble(label, "  ", bars, "  ", (trend, level_style(row.rounds[-1])))


STATUS_COLUMNS = (Status.PROPOSED, Status.NEGOTIATING, Status.BRACKETED, Status.AGREED_AD_REF,
                  Status.FINAL, Status.DEFERRED, Status.WITHDRAWN)


SHORT = {Status.PROPOSED: "Prop.", Status.NEGOTIATING: "Negot.", Status.BRACKETED: "Brack.",
         Status.AGREED_AD_REF: "Ad ref", Status.FINAL: "Final", Status.DEFERRED: "Def.",
         Status.WITHDRAWN: "Withdr."}


class DashboardScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("escape,D,q", "app.pop_screen", "Back")]

    def __init__(self, state: SummitState) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        yield AgendaHeader()
        with VerticalScroll(id="dashboard"):
            yield Static(id="dashboard-summary", markup=False)
            yield DataTable(id="sections", cursor_type="row", zebra_stripes=True)
            yield Static("Convergence: similarity of the sides' positions after each round "
                         "(▁ far apart … █ the same text)", classes="dashboard-title",
                         markup=False)
            yield Static("Measuring…", id="convergence", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#sections", DataTable)
        table.add_columns("Section", "Items", *(SHORT[s] for s in STATUS_COLUMNS), "Brackets")
        self.show(self.state)

    def on_state_loaded(self, message: StateLoaded) -> None:
        self.show(message.state)

    def show(self, state: SummitState) -> None:
        self.state = state
        live = [i for i in state.items if i.status != Status.WITHDRAWN]
        agreed = sum(1 for i in live if i.status in (Status.AGREED_AD_REF, Status.FINAL))
        brackets = state.total_brackets()
        verdict = "the whole agenda is agreed" if state.agreed() else \
            "nothing is agreed until everything is agreed"
        self.query_one("#dashboard-summary", Static).update(Content.assemble(
            (f"{agreed} of {len(live)} items agreed", "bold"),
            f" · {brackets} bracket{'s' if brackets != 1 else ''} open · ",
            (verdict, "$text-muted"),
        ))
        table = self.query_one("#sections", DataTable)
        table.clear()
        for section in state.summit.sections:
            items = [i for i in state.items if i.section_uuid == section.uuid]
            counts = [sum(1 for i in items if i.status == s) for s in STATUS_COLUMNS]
            table.add_row(Text(section.title), str(len(items)),
                          *(str(c) if c else "·" for c in counts),
                          str(sum(state.bracket_count(i) for i in items)))
        self._measure(state)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _measure(self, state: SummitState) -> None:
        """Similarity over every round of every item: long texts, so off the screen's thread."""
        rows = [convergence(state, item) for item in state.items]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paint, rows)

    def _paint(self, rows: list[Convergence]) -> None:
        width = min(40, max((len(r.item.number) + 1 + len(r.item.title) for r in rows),
                            default=10))
        lines = [convergence_line(row, width) for row in rows]
        self.query_one("#convergence", Static).update(
            Content("\n").join(lines) if lines else Content("No items yet."))
