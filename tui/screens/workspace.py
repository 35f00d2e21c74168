"""The workspace screen: the agenda tree on the left, the selected item's tabs on the right."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static, Tree

from agenda import rules
from agenda.model import AgendaError, Code, Item, Revision, Status, when
from agenda.state import SummitState
from tui.errors import ReportsWorkerErrors
from tui.messages import CompareRevisions, StateLoaded
from tui.render import status_label
from tui.screens.compositor import RowCompositor
from tui.screens.styled import StyledOnce
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.footer import AgendaFooter
from tui.widgets.header import AgendaHeader
from tui.widgets.positions import PositionsView, StartDraft
from tui.widgets.tab_bar import ItemTabs

if TYPE_CHECKING:
    from tui.app import SummitApp
    from tui.screens.modals import NewItem, TableForm, TablePreview
    from tui.widgets.diff_view import DiffView
    from tui.widgets.draft import DraftPane
    from tui.widgets.history import HistoryPane
    from tui.widgets.log import LogPane
    from tui.widgets.notes import NotesPane

JOINT = "__joint__"
TABS = ("positions", "draft", "history", "diff", "notes", "log")
NARROW_BELOW = 100  # columns; the app's own breakpoint between "-narrow" and "-wide"
# Seconds after a state is shown before the export screen's first document is prepared.
PREPARE_EXPORT_AFTER = 0.5


def _tab_label(n: int, tab: str, narrow: bool) -> str:
    return tab.title() if narrow else f"{n} {tab.title()}"


def _tab_labels(narrow: bool) -> dict[str, str]:
    return {tab: _tab_label(n, tab, narrow) for n, tab in enumerate(TABS, start=1)}


PaletteCommand = tuple[str, str, Callable[[], Any]]
P = TypeVar("P", bound=Widget)


def make_pane(tab: str) -> Widget:
    """The content of a tab, built (and its module imported) when the tab is first shown."""
    if tab == "positions":
        return PositionsView(id="positions-view")
    if tab == "draft":
        from tui.widgets.draft import DraftPane

        return DraftPane(id="draft-pane")
    if tab == "history":
        from tui.widgets.history import HistoryPane

        return HistoryPane(id="history-pane")
    if tab == "diff":
        from tui.widgets.diff_view import DiffView

        return DiffView(id="diff-view")
    if tab == "log":
        from tui.widgets.log import LogPane

        return LogPane(id="log-pane")
    from tui.widgets.notes import NotesPane

    return NotesPane(id="notes-pane")


class SideBar(Vertical):
    """The agenda's column: a Vertical whose rows all look alike, so one is drawn for all.

    Of it only its right border is seen, beside the filter and the tree; Textual drew that
    border's every row on its own (~3 ms of the first frame). A row here depends on nothing
    but its place across (no top or bottom border or padding, no title), so the first row
    asked for stands for the others; anything else is drawn the ordinary way.
    """

    def render_lines(self, crop: Region) -> list[Strip]:
        styles = self.styles
        if crop.height < 2 or styles.border_top[0] or styles.border_bottom[0] \
                or styles.padding.top or styles.padding.bottom \
                or self._border_title is not None or self._border_subtitle is not None:
            return super().render_lines(crop)
        return super().render_lines(Region(crop.x, crop.y, crop.width, 1)) * crop.height


class WorkspaceScreen(StyledOnce, ReportsWorkerErrors, Screen[None]):
    AUTO_FOCUS = "#agenda"
    BINDINGS = [
        Binding("slash,ctrl+f", "search", "Search", key_display="/"),
        Binding("f", "focus_filter", "Filter"),
        Binding("escape", "focus_agenda", "Agenda", show=False),
        Binding("a", "accept", "Accept"),
        Binding("c", "compile", "Compile"),
        Binding("s", "status", "Status"),
        Binding("n", "add_item", "New item"),
        Binding("e", "edit_title", "Title"),
        Binding("K,alt+up", "shift(-1)", "Up", key_display="K"),
        Binding("J,alt+down", "shift(1)", "Down", key_display="J"),
        Binding("m", "move_to_section", "Move…"),
        Binding("N", "add_note", "Note"),
        Binding("v", "act_as", "Act as"),
        Binding("D", "dashboard", "Dashboard"),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("x", "export", "Export"),
        # ctrl+o: the editor types x, and its ctrl+x cuts.
        Binding("ctrl+o", "export", "Export", show=False),
        # alt+N as well as N: the draft editor types digits.
        *(Binding(f"{n},alt+{n}", f"tab('{tab}')", tab.title(), show=False)
          for n, tab in enumerate(TABS, start=1)),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, state: SummitState | None = None) -> None:
        super().__init__()
        # An item switch redraws a few rows of three widgets; Textual's compositor would ask
        # every widget between them for all of its lines (see RowCompositor).
        self._compositor = RowCompositor()
        self._initial = state  # read before the screen was built: shown in its first frame
        self.state: SummitState | None = None
        self.item_uuid: str | None = None
        self._compare: tuple[str, tuple[Revision, Revision]] | None = None
        self._painted: dict[str, tuple[int, str]] = {}
        self._ready: set[str] = set()  # tabs whose content is mounted (see _mount_pane)
        self._focus_when_ready: str | None = None
        # Changed-since marks: what each item looked like when last seen (see _take_marks).
        self._seen: dict[str, str] | None = None
        self._signatures: dict[str, str] = {}
        self._marks_for: tuple[str, str | None] | None = None

    @property
    def summit_app(self) -> SummitApp:
        return cast("SummitApp", self.app)

    def compose(self) -> ComposeResult:
        from tui.widgets.sync_state import SyncState

        yield AgendaHeader()
        yield SyncState()
        with Horizontal(id="body"):
            with SideBar(id="agenda-pane"):
                yield Input(placeholder="f filter: number, title, text, tag, status",
                            id="filter")
                yield self.focused_from_start(AgendaTree(id="agenda"))  # AUTO_FOCUS
            with Vertical(id="item-pane"):
                yield Static("Reading the summit…", id="item-heading", markup=False)
                # Only the first tab's content is built now: the others are mounted when
                # first opened, which keeps the first paint quick.
                yield ItemTabs(_tab_labels(self._narrow()), make_pane("positions"), id="tabs")
        yield AgendaFooter()

    def on_mount(self) -> None:
        self.query_one(AgendaTree).follow = self._follow
        self._ready.add("positions")
        self._labelled_narrow = self._narrow()
        if self._initial is not None:
            self.on_state_loaded(StateLoaded(self._initial))
            self._initial = None

    def _narrow(self) -> bool:
        return self.app.size.width < NARROW_BELOW

    def on_resize(self) -> None:
        # Six numbered labels need 57 columns; the item pane of an 80-column terminal has 50.
        # There the numbers go (alt+1…6 stay in the help), and every tab keeps its name.
        narrow = self._narrow()
        if narrow != getattr(self, "_labelled_narrow", None):
            self._labelled_narrow = narrow
            self.query_one(ItemTabs).bar.set_labels(_tab_labels(narrow))

    # Showing ------------------------------------------------------------------------------

    def on_state_loaded(self, message: StateLoaded) -> None:
        state = message.state
        if self.state is not None and self.state.viewer != state.viewer:
            self._compare = None  # The revisions picked may not be visible to the new viewer.
        self.state = state
        if self.item_uuid is not None and not any(i.uuid == self.item_uuid for i in state.items):
            self.item_uuid = None
        tree = self.query_one(AgendaTree)
        tree.show(state, self.query_one("#filter", Input).value, keep=self.item_uuid,
                  changed=self._changed_items())
        self.show_item(self.item_uuid)
        # After the paint: a thread started now took turns with the first frame's building
        # for the interpreter (signing 100 items of 1,000 revisions: some 3 ms).
        self.call_after_refresh(self._sign, state)
        # Once the first frame is out and the app has settled: a thread started at once
        # competed with the first frame for the interpreter.
        self.set_timer(PREPARE_EXPORT_AFTER, lambda: self._prepare_export(state))

    def _prepare_export(self, state: SummitState) -> None:
        from tui.screens.export import prepare_export

        prepare_export(self.summit_app, state)

    # Changed-since marks ------------------------------------------------------------------

    def _changed_items(self) -> set[str]:
        if self._seen is None:
            return set()
        return {uuid for uuid, sig in self._signatures.items() if self._seen.get(uuid) != sig}

    @work(thread=True, exclusive=True, group="marks", exit_on_error=False)
    def _sign(self, state: SummitState) -> None:
        """Signatures read every revision id: off the screen's thread, after the paint."""
        from tui.widgets.agenda_tree import signature

        signatures = {item.uuid: signature(state, item) for item in state.items}
        key = (state.summit.slug, state.viewer)
        seen = (self._seen if key == self._marks_for else
                self.summit_app.preferences.seen(self.summit_app.ws.path, *key))
        self.app.call_from_thread(self._take_marks, state, key, signatures, seen)

    def _take_marks(self, state: SummitState, key: tuple[str, str | None],
                    signatures: dict[str, str], seen: dict[str, str] | None) -> None:
        if state is not self.state:
            return  # a newer read is being signed
        first = seen is None
        # The first look at a summit as this viewer marks nothing: all of it is new.
        self._seen = dict(signatures) if seen is None else seen
        self._signatures, self._marks_for = signatures, key
        tree = self.query_one(AgendaTree)
        tree.set_changed(self._changed_items())
        self._mark_seen(self.item_uuid, save=first)

    def _mark_seen(self, uuid: str | None, *, save: bool = False) -> None:
        if uuid is None or self._seen is None or uuid not in self._signatures:
            return
        if self._seen.get(uuid) != self._signatures[uuid]:
            self._seen[uuid] = self._signatures[uuid]
            save = True
        self.query_one(AgendaTree).mark_seen(uuid)
        if save:
            # One write per burst of moves through the agenda, not one per item.
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(1.0, self._save_seen)

    _save_timer: Timer | None = None

    def _save_seen(self) -> None:
        self._save_timer = None
        if self._seen is not None and self._marks_for is not None:
            self._write_seen(self._marks_for, dict(self._seen))

    @work(thread=True, group="seen", exit_on_error=False)
    def _write_seen(self, key: tuple[str, str | None], seen: dict[str, str]) -> None:
        self.summit_app.preferences.remember_seen(self.summit_app.ws.path, *key, seen)

    def on_unmount(self) -> None:
        if self._save_timer is not None and self._seen is not None and self._marks_for:
            self._save_timer.stop()
            self.summit_app.preferences.remember_seen(self.summit_app.ws.path,
                                                      *self._marks_for, self._seen)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self.state is not None:
            event.stop()
            self.query_one(AgendaTree).show(self.state, event.value, keep=self.item_uuid)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.query_one(AgendaTree).focus()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        if event.node.data is not None:
            self._follow(event.node.data)

    def _follow(self, uuid: str) -> None:
        """The agenda's cursor is on this item (at once, then again by its message)."""
        if uuid != self.item_uuid:
            self.show_item(uuid)

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data is not None:
            self._focus_tab()

    def _focus_tab(self) -> None:
        tabs = self.query_one(ItemTabs)
        if tabs.active not in self._ready:
            self._focus_when_ready = tabs.active  # focused once its content is mounted
            return
        pane = tabs.active_pane
        for widget in (pane, *pane.query("*")) if pane is not None else ():
            if widget.focusable and all(node.display for node in widget.ancestors_with_self
                                        if node is not pane and isinstance(node, Widget)):
                widget.focus()
                break

    async def on_item_tabs_tab_activated(self, event: ItemTabs.TabActivated) -> None:
        if event.tab not in self._ready:
            await self._mount_pane(event.tab)
        self._paint_active()

    async def _mount_pane(self, tab: str) -> None:
        """Build a tab's content the first time it is shown."""
        tabs = self.query_one(ItemTabs)
        if tabs.pane(tab) is not None:
            return  # being mounted by an earlier activation
        await tabs.add_pane(tab, make_pane(tab))
        self._ready.add(tab)
        if self._focus_when_ready == tab:
            self._focus_when_ready = None
            self.call_after_refresh(self._focus_tab)

    def pane(self, kind: type[P]) -> P | None:
        """A tab's content widget, or None if that tab has not been opened yet."""
        found = self.query(kind)
        return found.first() if found else None

    def show_item(self, uuid: str | None) -> None:
        """Show an item (None: the first one) in the heading and the active tab."""
        state = self.state
        if state is None:
            return
        heading = self.query_one("#item-heading", Static)
        if not state.items:
            self.item_uuid = None
            heading.update("No items yet: press n to propose one.")
            return
        item = self._find(uuid) or state.items[0]
        self.item_uuid = item.uuid
        if self._compare is not None and self._compare[0] != item.uuid:
            self._compare = None
        # Its height is fixed (app.tcss): new text needs no layout.
        heading.update(item_heading(state, item), layout=False)
        self._paint_active()
        self._mark_seen(item.uuid)

    def _find(self, uuid: str | None) -> Item | None:
        if self.state is None or uuid is None:
            return None
        return next((i for i in self.state.items if i.uuid == uuid), None)

    def _paint_active(self) -> None:
        """Fill only the visible tab; the others catch up when they are opened."""
        item = self._find(self.item_uuid)
        if self.state is None or item is None:
            return
        tabs = self.query_one(ItemTabs)
        tab = tabs.active
        if tab not in self._ready:
            return  # painted once mounted
        key = (id(self.state), item.uuid)
        if self._painted.get(tab) == key:
            return
        self._painted[tab] = key
        pane = tabs.pane(tab)
        if tab == "diff":
            pair = self._compare[1] if self._compare else None
            cast("DiffView", pane).show(self.state, item, pair)
        else:
            cast("PositionsView | DraftPane | HistoryPane | NotesPane | LogPane",
                 pane).show(self.state, item)

    def on_compare_revisions(self, message: CompareRevisions) -> None:
        if self.item_uuid is None:
            return
        self._compare = (self.item_uuid, (message.older, message.newer))
        self._painted.pop("diff", None)
        self.action_tab("diff")

    # Unsaved text -------------------------------------------------------------------------

    def unsaved_drafts(self) -> list[str]:
        draft = self._draft()
        uuids = draft.unsaved() if draft is not None else []
        if self.state is None:
            return uuids
        numbers = {i.uuid: i.number for i in self.state.items}
        return [numbers.get(uuid, uuid) for uuid in uuids]

    # Helpers ------------------------------------------------------------------------------

    def _draft(self) -> DraftPane | None:
        from tui.widgets.draft import DraftPane

        return self.pane(DraftPane)

    def _history(self) -> HistoryPane | None:
        from tui.widgets.history import HistoryPane

        return self.pane(HistoryPane)

    def _current(self) -> tuple[SummitState, Item] | None:
        item = self._find(self.item_uuid)
        if self.state is None or item is None:
            self.notify("Select an item first", severity="warning")
            return None
        return self.state, item

    def _delegate(self, doing: str) -> tuple[SummitState, Item, str] | None:
        """The state, item and acting delegation, or None (with a hint) in the joint view."""
        code = self._acting(doing)
        current = self._current() if code is not None else None
        if current is None or code is None:
            return None
        state, item = current
        return state, item, code

    def _write(self, job: Callable[[], Any], done: Callable[[Any], str] | str | None = None,
               then: Callable[[Any], Any] | None = None) -> None:
        self.summit_app.write(job, done=done, then=then)

    @property
    def slug(self) -> str:
        assert self.state is not None
        return self.state.summit.slug

    # Navigation actions -------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_search(self) -> None:
        from tui.screens.search import SearchScreen

        if self.state is None:
            return

        def chosen(uuid: str | None) -> None:
            if uuid is not None:
                self.go_to(uuid)

        self.app.push_screen(SearchScreen(self.state), chosen)

    def action_focus_agenda(self) -> None:
        self.query_one(AgendaTree).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(ItemTabs).active = tab
        self.call_after_refresh(self._focus_tab)

    def go_to(self, uuid: str) -> None:
        tree = self.query_one(AgendaTree)
        if not tree.select_item(uuid):
            self.query_one("#filter", Input).value = ""
            if self.state is not None:
                tree.show(self.state, "", keep=uuid)
        self.show_item(uuid)
        tree.focus()

    def action_dashboard(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        if self.state is not None:
            self.app.push_screen(DashboardScreen(self.state))

    def action_export(self) -> None:
        from tui.screens.export import export_available, open_export

        if not export_available():
            self.notify("Export is not available in this version yet", severity="warning")
        elif self.state is not None:
            open_export(self.app, self.state)

    def action_act_as(self) -> None:
        from tui.screens.modals import ChoiceScreen

        if self.state is None:
            return
        choices = [(d.code, f"{d.code}  {d.name}") for d in self.summit_app.actors(self.state)]
        choices.append((JOINT, "Joint view (tabled texts only)"))

        def chosen(value: str | None) -> None:
            if value is None:
                return
            code = None if value == JOINT else value
            if self.state is not None and code == self.state.viewer:
                return
            self.switch_viewer(code)

        self.app.push_screen(ChoiceScreen("Act as", choices), chosen)

    def switch_viewer(self, code: str | None) -> None:
        def proceed() -> None:
            draft = self._draft()
            if draft is not None:
                draft.forget_unsaved()
            self.summit_app.act_as(code)

        self.summit_app.confirm_unsaved("Switch delegation", proceed)

    # Acting -------------------------------------------------------------------------------

    def _acting(self, doing: str) -> str | None:
        """The acting delegation, or None (with a hint) in the joint view: it is for reading."""
        if self.state is None:
            return None
        if self.state.viewer is None:
            self.notify(f"Choose a delegation to act (v): {doing} needs one; the joint view "
                        "is for reading", severity="warning", markup=False)
            return None
        return self.state.viewer

    def _guard(self, question: str, yes: str, proceed: Callable[[], Any], *,
               details: Sequence[Content | str] = (), text: str | Content | None = None,
               title: str | None = None) -> None:
        """Ask first, focus on Cancel; `proceed` only on a deliberate yes."""
        from tui.screens.modals import ConfirmScreen

        def answered(yes_: bool | None) -> None:
            if yes_:
                proceed()

        self.app.push_screen(ConfirmScreen(question, yes=yes, details=details, text=text,
                                           title=title), answered)

    def _finished(self, message: Callable[[Any], str],
                  then: Callable[[Any], Any] | None = None) -> Callable[[Any], None]:
        """What a form's dismissal does once its job has been written."""

        def done(result: Any) -> None:
            if result is None:
                return
            if then is not None:
                then(result)
            self.notify(message(result), markup=False)
            self.summit_app.load_state()

        return done

    # Item actions -------------------------------------------------------------------------

    def action_accept(self) -> None:
        found = self._delegate("Accepting")
        if found is None:
            return
        state, item, code = found
        tabled = state.tabled(item)
        target = rules.text_to_accept(tabled, code)
        if target is None:
            self.notify(f"Item {item.number} has no text tabled by another delegation to "
                        "accept", severity="warning")
            return
        if state.stands_on(item, code) == target:
            self.notify(f"{code} stands on {target.label} of item {item.number} already",
                        severity="warning")
            return
        positions = {c: r.uuid for c, r in state.positions(item).items()}
        positions[code] = target.uuid
        after = item.status if item.status in rules.STICKY else \
            rules.text_status(state.summit, tabled, positions)
        gap = rules.agreement_gap(state.summit, tabled[-1], positions) if tabled else None
        details: list[Content | str] = [revision_line(target)]
        if target.justification:
            details.append(Content.assemble(("Justification: ", "bold"), target.justification))
        if target != tabled[-1]:
            details.append(Content.styled(f"{target.label} is not the latest tabled text "
                                          f"({tabled[-1].label} is).", "$text-warning"))
        details.append(Content.assemble("The item becomes ", status_label(after),
                                        f" ({gap})." if gap else "."))
        details.append(Content.styled(
            "A way back: before the other side acts on it, stand on your own text again by "
            "tabling it (Draft tab, ctrl+t); or undo (ctrl+z) while it has not left this "
            "machine.", "$text-muted"))
        self._guard(
            f"Accept {target.delegation}'s {target.label} of item {item.number} as {code}?",
            f"Accept {target.label}",
            lambda: self._write(lambda: self.summit_app.ws.accept(
                self.slug, item.uuid, delegation=code, revision=target.uuid),
                done=f"{code} accepted {target.label} of item {item.number}"),
            details=details, text=target.text, title="Accept a text")

    def action_status(self) -> None:
        from tui.screens.modals import StatusScreen

        found = self._delegate("Changing a status")
        if found is None:
            return
        state, item, code = found

        def write(status: Status) -> None:
            def said(after: Item) -> str:
                if status == Status.FINAL and after.status != Status.FINAL:
                    return (f"{code}'s capital confirmed item {after.number}; it is "
                            "final once every delegation's capital has")
                return f"Item {after.number} is now {after.status.value}"

            self._write(lambda: self.summit_app.ws.set_status(
                self.slug, item.uuid, status, actor=code), done=said)

        def chosen(status: Status | None) -> None:
            if status == Status.FINAL:
                self._guard_final(state, item, code, lambda: write(Status.FINAL))
            elif status == Status.WITHDRAWN:
                self._guard_withdraw(state, item, code, lambda: write(Status.WITHDRAWN))
            elif status is not None:
                write(status)

        self.app.push_screen(StatusScreen(item), chosen)

    def _guard_final(self, state: SummitState, item: Item, code: str,
                     proceed: Callable[[], Any]) -> None:
        latest = state.latest(item)
        confirmed = {d.delegation: d.revision for d in state.decisions(item)
                     if d.action == "confirm" and not d.void}
        agreed_on = latest.uuid if latest is not None and state.agreement_gap(item) is None \
            else None
        void = rules.confirm_void(state.summit, item.status, agreed_on, agreed_on or "", code,
                                  confirmed)
        if void or latest is None:
            self.notify(f"Item {item.number} cannot be confirmed: {void}", severity="error",
                        markup=False)
            return
        confirmed[code] = latest.uuid
        if rules.final_on(state.summit, confirmed):
            outcome = Content.assemble("The item becomes ", status_label(Status.FINAL),
                                       ": its text can never change again.")
        else:
            waiting = [c for c in state.summit.codes if confirmed.get(c) != latest.uuid]
            outcome = Content.assemble(
                "The item stays ", status_label(item.status),
                f" until {', '.join(waiting)}'s capital confirms too; then it is ",
                status_label(Status.FINAL), ".")
        self._guard(
            f"Confirm {latest.label} of item {item.number} on behalf of {code}'s capital?",
            "Confirm as final", proceed, title="Final: cannot be taken back",
            details=[revision_line(latest), outcome,
                     Content.styled("There is no way back from a capital's confirmation.",
                                    "$text-warning")],
            text=latest.text)

    def _guard_withdraw(self, state: SummitState, item: Item, code: str,
                        proceed: Callable[[], Any]) -> None:
        void = rules.decision_void(state.summit, item.owner, item.status, "withdrawn", code)
        if void:
            self.notify(f"Item {item.number} cannot be withdrawn: {void}", severity="error",
                        markup=False)
            return
        self._guard(
            f"Withdraw item {item.number} {item.title}?", "Withdraw", proceed,
            title="Withdraw an item",
            details=[Content.assemble("The item becomes ", status_label(Status.WITHDRAWN),
                                      " and its text can no longer change."),
                     Content.styled(f"A way back: its owner ({item.owner}) may reopen it "
                                    "later (s, then proposed).", "$text-muted")],
            text=state.current_text(item))

    def action_compile(self) -> None:
        found = self._delegate("Tabling a compilation")
        if found is not None:
            self._compile(found[1], found[2])

    @work(thread=True, exclusive=True, group="compile", exit_on_error=False)
    def _compile(self, item: Item, code: str) -> None:
        """A word-level merge of long texts takes time: off the screen's thread."""
        try:
            compiled = self.summit_app.ws.compile(self.slug, item.uuid)
        except AgendaError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        sides = ", ".join(f"{c} {r.label}" for c, r in compiled.positions.items())
        # The rules' count, as the tree will show it once this text is tabled: the count
        # kept with the state's merge, as the Positions tab shows it.
        self.app.call_from_thread(self._offer_compilation, item, code, compiled.result.text,
                                  compiled.result.brackets, sides)

    def _offer_compilation(self, item: Item, code: str, text: str, conflicts: int,
                           sides: str) -> None:
        from tui.screens.modals import CompilationScreen

        def chosen(yes: bool | None) -> None:
            if yes:
                self._write(lambda: self.summit_app.ws.table_compilation(
                    self.slug, item.uuid, delegation=code),
                    done=lambda r: f"{code} tabled the compilation text as {r.label} of item "
                                   f"{item.number}")

        self.app.push_screen(CompilationScreen(item.number, text, conflicts, sides), chosen)

    def action_add_item(self) -> None:
        from tui.screens.modals import AddItemScreen

        code = self._acting("Proposing an item")
        if code is None or self.state is None:
            return
        current = self._find(self.item_uuid)
        sections = [(s.uuid, s.title) for s in self.state.summit.sections]

        def propose(form: NewItem) -> Item:
            return self.summit_app.ws.add_item(
                self.slug, section=form.section, title=form.title, text=form.text,
                delegation=code, why=form.why, tags=form.tags)

        def added(item: Item) -> None:
            self.item_uuid = item.uuid

        self.app.push_screen(
            AddItemScreen(sections, current.section_uuid if current else None, submit=propose),
            self._finished(lambda i: f"{code} proposed item {i.number}", then=added))

    def action_edit_title(self) -> None:
        from tui.screens.modals import TextScreen

        found = self._delegate("Retitling an item")
        if found is None:
            return
        _, item, code = found

        def retitle(title: str) -> Item:
            if title == item.title:
                return item
            return self.summit_app.ws.retitle_item(self.slug, item.uuid, title, actor=code)

        self.app.push_screen(TextScreen(f"Title of item {item.number}", item.title,
                                        submit=retitle),
                             self._finished(lambda _: f"Item {item.number} retitled"))

    def action_shift(self, offset: int) -> None:
        found = self._delegate("Moving an item")
        if found is None:
            return
        _, item, code = found
        self._write(lambda: self.summit_app.ws.shift_item(
            self.slug, item.uuid, offset, actor=code),
            done=lambda moved: f"Item {item.number} is now {moved.number}")

    def action_move_to_section(self) -> None:
        from tui.screens.modals import ChoiceScreen

        found = self._delegate("Moving an item")
        if found is None:
            return
        state, item, code = found
        choices = [(s.uuid, f"{n}  {s.title}")
                   for n, s in enumerate(state.summit.sections, start=1)
                   if s.uuid != item.section_uuid]

        def chosen(section: str | None) -> None:
            if section is not None:
                self._write(lambda: self.summit_app.ws.move_item(
                    self.slug, item.uuid, section=section, actor=code),
                    done=lambda moved: f"Item {item.number} is now {moved.number}")

        self.app.push_screen(ChoiceScreen(f"Move item {item.number} to section", choices),
                             chosen)

    def action_add_note(self) -> None:
        from tui.screens.modals import NoteScreen

        found = self._delegate("A private note")
        if found is None:
            return
        _, item, code = found

        def note(text: str) -> Any:
            return self.summit_app.ws.add_note(self.slug, item.uuid, delegation=code, text=text)

        self.app.push_screen(NoteScreen(f"{code} private note on item {item.number}",
                                        submit=note),
                             self._finished(lambda _: f"{code} note added to item "
                                                      f"{item.number}"))

    def action_undo(self) -> None:
        code = self._acting("Undoing")
        if code is None:
            return
        try:
            found = self.summit_app.ws.undoable(self.slug, code)
        except AgendaError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        if not found.allowed:
            self.notify(f"Cannot undo {found.what}: {found.refusal}", title="No undo",
                        severity="warning", markup=False)
            return
        self._guard(
            f"Undo {code}'s last operation?", "Undo it",
            lambda: self._write(lambda: self.summit_app.ws.undo(self.slug, code),
                                done=lambda undone: f"Undone: {undone.what}"),
            title="Undo",
            details=[Content.assemble(("It was: ", "bold"), found.what),
                     Content.styled("Its records leave this workspace; the log keeps a line "
                                    "saying what was undone. Only what never left this "
                                    "machine can be undone.", "$text-muted")])

    # Draft actions ------------------------------------------------------------------------

    def _draft_moved(self, state: SummitState, item: Item, code: str, draft: DraftPane,
                     doing: str, proceed: Callable[[], Any]) -> None:
        """Go on at once, or, when the delegation's text moved while the draft was written
        (a colleague tabled or saved another), after showing how the draft differs from it."""
        from agenda.diff import diff_words
        from tui.render import inline_content
        from tui.widgets.draft import starting_point

        start = draft.start
        now = starting_point(state, item)
        moved = now is not None and now.delegation == code and \
            (start is None or now.uuid != start.uuid)
        if not moved:
            proceed()
            return
        assert now is not None
        began = f"from {start.label}" if start is not None else "as a new text"
        self._guard(
            f"{code}'s text of item {item.number} moved while you wrote: your draft began "
            f"{began}; it is now {now.label} ({'tabled' if now.tabled else 'internal draft'}, "
            f"{when(now.created)}). {doing} your draft anyway?",
            f"{doing} anyway", proceed, title="Your delegation's text moved",
            details=[Content.styled(f"From {now.label} to your draft: struck words are "
                                    "removed, highlighted words added.", "$text-muted")],
            text=inline_content(diff_words(now.text, draft.text)))

    def action_save_draft(self) -> None:
        found = self._delegate("Drafting")
        if found is None:
            return
        state, item, code = found
        draft = self._draft()
        if draft is None or not draft.dirty:
            self.notify("No unsaved changes in the draft", markup=False)
            return
        text, start = draft.text, draft.start

        def save() -> None:
            self._write(lambda: self.summit_app.ws.table(
                self.slug, item.uuid, delegation=code, text=text, code=Code.MOD,
                internal=True, base=start.uuid if start else None),
                done=lambda r: f"Saved internal draft {r.label} of item {item.number}",
                then=lambda r: draft.saved((code, item.uuid), text, r))

        self._draft_moved(state, item, code, draft, "Save", save)

    def action_table_draft(self) -> None:
        found = self._delegate("Tabling")
        if found is None:
            return
        state, item, code = found
        draft = self._draft()
        if draft is None:  # nothing written yet: open the editor first
            self.action_tab("draft")
            return
        self._draft_moved(state, item, code, draft, "Table",
                          lambda: self._table_dialog(state, item, code, draft))

    def _table_dialog(self, state: SummitState, item: Item, code: str,
                      draft: DraftPane) -> None:
        from tui.screens.modals import TableDraftScreen

        text, start = draft.text, draft.start
        others = [r.delegation for r in reversed(state.tabled(item))
                  if r.delegation != code and r.code != Code.CMP]

        def table(form: TableForm) -> Revision:
            body = None if form.code == Code.NOC else text
            return self.summit_app.ws.table(
                self.slug, item.uuid, delegation=code, text=body, code=form.code,
                why=form.justification, base=start.uuid if start else None)

        self.app.push_screen(
            TableDraftScreen(item.number, others[0] if others else None,
                             lambda c: table_preview(state, item, code, c, text),
                             submit=table),
            self._finished(lambda r: f"{code} tabled {r.label} ({r.code.value}) of item "
                                     f"{item.number}",
                           then=lambda r: draft.saved((code, item.uuid), text, r)))

    async def on_start_draft(self, message: StartDraft) -> None:
        """Positions' "Draft from this": the text goes into the editor as unsaved changes."""
        from tui.screens.modals import ConfirmScreen

        message.stop()
        if self._delegate("Drafting") is None:
            return
        if "draft" not in self._ready:
            await self._mount_pane("draft")
        self.action_tab("draft")
        draft = self._draft()
        item = self._find(self.item_uuid)
        if draft is None or item is None or self.state is None:
            return
        draft.show(self.state, item)
        text = message.text

        def load(yes: bool | None = True) -> None:
            if yes:
                draft._load(text)

        if draft.dirty and draft.text != text:
            # Never lose typed text: the editor holds unsaved words of this item.
            self.app.push_screen(ConfirmScreen(
                "Replace your unsaved draft with this text?", yes="Replace"), load)
        else:
            load()

    def action_discard_draft(self) -> None:
        draft = self._draft()
        if draft is None or not draft.dirty:
            return
        self._guard("Discard the unsaved draft text?", "Discard", draft.discard)

    # History actions ----------------------------------------------------------------------

    def action_view_revision(self) -> None:
        from tui.screens.modals import RevisionScreen

        current = self._current()
        history = self._history()
        revision = history.selected if history is not None else None
        if current is None or revision is None:
            return
        state, item = current
        self.app.push_screen(RevisionScreen(item.number, revision, state.accepted_by(revision)))

    def action_restore_revision(self) -> None:
        found = self._delegate("Restoring a text")
        history = self._history()
        revision = history.selected if history is not None else None
        if found is None or revision is None:
            return
        state, item, code = found
        # An internal draft's label is never told to the other side.
        why = restore_justification(revision)
        seen = table_preview(state, item, code, Code.MOD, revision.text)
        details: list[Content | str] = [revision_line(revision)]
        details.append(Content.assemble("Tabled as ", (f"{seen.label} (MOD)", "bold"),
                                        f" with the justification “{why}”" + (
                                            "." if revision.tabled else
                                            ": the draft's label stays internal.")))
        details.append(Content.assemble("The item becomes ", status_label(seen.status), "."))
        details += [Content.styled(w, "$text-warning") for w in seen.warnings]
        self._guard(
            f"Table the text of {revision.label} again, as {code}'s new revision of item "
            f"{item.number}? History is kept; nothing is rewritten.", "Table it",
            lambda: self._write(lambda: self.summit_app.ws.table(
                self.slug, item.uuid, delegation=code, text=revision.text, code=Code.MOD,
                why=why),
                done=lambda r: f"{code} tabled {revision.label}'s text again as {r.label}"),
            details=details, text=revision.text, title="Restore a text")

    # Palette ------------------------------------------------------------------------------

    def palette_commands(self) -> list[PaletteCommand]:
        """Commands for the palette: every item, then the actions on the selected one."""
        from tui.widgets.draft import DraftPane
        from tui.widgets.history import HistoryPane

        commands: list[PaletteCommand] = []
        if self.state is not None:
            for item in self.state.items:
                commands.append((f"Go to {item.number} {item.title}", "Show this item",
                                 lambda uuid=item.uuid: self.go_to(uuid)))
            for delegation in self.summit_app.actors(self.state):
                commands.append((f"Act as {delegation.code} ({delegation.name})",
                                 "See the summit as this delegation",
                                 lambda code=delegation.code: self.switch_viewer(code)))
            commands.append(("Joint view", "See tabled material only",
                             lambda: self.switch_viewer(None)))
        pane_bindings = [b for b in DraftPane.BINDINGS + HistoryPane.BINDINGS
                         if isinstance(b, Binding) and b.action.startswith("screen.")]
        for binding in [*self.BINDINGS, *pane_bindings]:
            assert isinstance(binding, Binding)
            if binding.show and not binding.action.startswith("app."):
                action = binding.action.removeprefix("screen.")
                commands.append((ACTION_TITLES.get(action, binding.description),
                                 f"Key: {binding.key_display or binding.key}",
                                 lambda a=action: self.run_action(a)))
        commands.append(("Open another summit", "Back to the list of summits",
                         self.leave_summit))
        return commands

    def leave_summit(self) -> None:
        from tui.screens.welcome import WelcomeScreen

        self.summit_app.confirm_unsaved(
            "Leave", lambda: self.app.switch_screen(WelcomeScreen()))


ACTION_TITLES = {
    "search": "Search texts, justifications and notes",
    "focus_filter": "Filter the agenda",
    "accept": "Accept the other side's latest text",
    "compile": "Propose the compilation text",
    "status": "Change the item's status",
    "add_item": "Add an item",
    "edit_title": "Edit the item's title",
    "shift(-1)": "Move the item up",
    "shift(1)": "Move the item down",
    "move_to_section": "Move the item to another section",
    "add_note": "Add a private note",
    "act_as": "Act as another delegation",
    "dashboard": "Open the dashboard",
    "export": "Export the agenda",
    "save_draft": "Save draft (internal)",
    "table_draft": "Table draft",
    "discard_draft": "Discard draft changes",
    "restore_revision": "Restore the selected revision",
    "undo": "Undo your last operation (if it has not left this machine)",
}


def item_heading(state: SummitState, item: Item) -> Content:
    parts: list[str | tuple[str, str] | Content] = [
        (f"{item.number} ", "bold"), Content.styled(item.title, "bold"), "  ",
        status_label(item.status),
        (f" · proposed by {item.owner}", "$text-muted"),
    ]
    brackets = state.bracket_count(item)
    if brackets:
        parts.append((f" · {brackets} bracket{'s' if brackets != 1 else ''}", "$text-warning"))
    if item.tags:
        parts.append((" · " + ", ".join(item.tags), "$text-muted"))
    return Content.assemble(*parts)



def restore_justification(revision: Revision) -> str:
    """The justification tabled with a restored text, which the other side reads.

    An internal draft's label (d1…) is the delegation's own business: naming it would tell
    the other side that a draft exists, so a restored draft is tabled without it.
    """
    if revision.tabled:
        return f"Restores {revision.label}"
    return "Returns to an earlier wording"


def revision_line(revision: Revision) -> Content:
    """A text's label, code, author and date: what a guard shows above the words."""
    kind = "tabled" if revision.tabled else "internal draft"
    return Content.assemble((revision.label, "bold"),
                            f" · {revision.code.value} by {revision.delegation} · {kind} "
                            f"{when(revision.created)} UTC")


def table_preview(state: SummitState, item: Item, code: str, change: Code,
                  text: str) -> TablePreview:
    """What tabling `text` with `change` would do, by the rules, before anything is written."""
    from tui.screens.modals import TablePreview

    tabled = state.tabled(item)
    restated = None
    if change == Code.NOC:
        restated = rules.text_to_restate(tabled, code)
        if restated is None:
            return TablePreview("", "", item.status,
                                refusal=f"Item {item.number} has no text tabled by another "
                                        "delegation to restate (NOC)")
        text = restated.text
    if not tabled:
        return TablePreview(text, "v1", item.status)
    new = replace(tabled[-1], uuid="(new)", id="", text=text, delegation=code, code=change,
                  parents=())
    positions = {c: r.uuid for c, r in state.positions(item).items()}
    for stands in rules.standing_on_new_text(new, restated, positions):
        positions[stands] = new.uuid
    after = item.status if item.status in rules.STICKY else \
        rules.text_status(state.summit, (*tabled, new), positions)
    warnings = []
    own = state.stands_on(item, code)
    if change == Code.MOD and own is not None and own.text == text:
        warnings.append(f"This text is the same as {code}'s standing text {own.label}: "
                        "tabling it again changes nothing but the record.")
    return TablePreview(text, f"v{len(tabled) + 1}", after, tuple(warnings))
