"""The workspace screen: the agenda tree on the left, the selected item's tabs on the right."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Header, Input, Static, TabbedContent, TabPane, Tree

from agenda.brackets import bracket_count
from agenda.model import AgendaError, Code, Item, Revision, Status
from agenda.state import SummitState
from tui.errors import ReportsWorkerErrors
from tui.messages import CompareRevisions, StateLoaded
from tui.render import status_label
from tui.widgets.agenda_tree import AgendaTree
from tui.widgets.footer import AgendaFooter
from tui.widgets.positions import PositionsView, StartDraft

if TYPE_CHECKING:
    from tui.app import SummitApp
    from tui.screens.modals import NewItem, TableForm
    from tui.widgets.diff_view import DiffView
    from tui.widgets.draft import DraftPane
    from tui.widgets.history import HistoryPane
    from tui.widgets.log import LogPane
    from tui.widgets.notes import NotesPane

JOINT = "__joint__"
TABS = ("positions", "draft", "history", "diff", "notes", "log")

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


class WorkspaceScreen(ReportsWorkerErrors, Screen[None]):
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
        Binding("x", "export", "Export"),
        # ctrl+o: the editor types x, and its ctrl+x cuts.
        Binding("ctrl+o", "export", "Export", show=False),
        # alt+N as well as N: the draft editor types digits.
        *(Binding(f"{n},alt+{n}", f"tab('{tab}')", tab.title(), show=False)
          for n, tab in enumerate(TABS, start=1)),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
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

        yield Header()
        yield SyncState()
        with Horizontal(id="body"):
            with Vertical(id="agenda-pane"):
                yield Input(placeholder="f filter: number, title, text, tag, status",
                            id="filter")
                yield AgendaTree(id="agenda")
            with Vertical(id="item-pane"):
                yield Static("Reading the summit…", id="item-heading", markup=False)
                # Only the first tab's content is built now: the others are mounted when
                # first opened, which keeps the first paint quick.
                with TabbedContent(id="tabs", initial="positions"):
                    for n, tab in enumerate(TABS, start=1):
                        with TabPane(f"{n} {tab.title()}", id=tab):
                            if tab == "positions":
                                yield make_pane(tab)
        yield AgendaFooter()

    def on_mount(self) -> None:
        self._ready.add("positions")

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
        self._sign(state)

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
        uuid = event.node.data
        if uuid is not None and uuid != self.item_uuid:
            self.show_item(uuid)

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data is not None:
            self._focus_tab()

    def _focus_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active not in self._ready:
            self._focus_when_ready = tabs.active  # focused once its content is mounted
            return
        pane = tabs.active_pane
        for widget in pane.query("*") if pane is not None else ():
            if widget.focusable and all(node.display for node in widget.ancestors_with_self
                                        if node is not pane and isinstance(node, Widget)):
                widget.focus()
                break

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id
        if tab is not None and tab not in self._ready:
            await self._mount_pane(tab)
        self._paint_active()

    async def _mount_pane(self, tab: str) -> None:
        """Build a tab's content the first time it is shown."""
        holder = self.query_one(f"#{tab}", TabPane)
        if holder.children:
            return  # being mounted by an earlier activation
        await holder.mount(make_pane(tab))
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
        heading.update(item_heading(state, item))
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
        tab = self.query_one(TabbedContent).active
        if tab not in self._ready:
            return  # painted once mounted
        key = (id(self.state), item.uuid)
        if self._painted.get(tab) == key:
            return
        self._painted[tab] = key
        pane = self.query_one(f"#{tab}", TabPane).children[0]
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
        current = self._current()
        if current is None:
            return None
        state, item = current
        if state.viewer is None:
            self.notify(f"{doing} needs a delegation: press v to act as one", severity="warning")
            return None
        return state, item, state.viewer

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
        self.query_one(TabbedContent).active = tab
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
        from tui.screens.export import ExportScreen, export_available

        if not export_available():
            self.notify("Export is not available in this version yet", severity="warning")
        elif self.state is not None:
            self.app.push_screen(ExportScreen(self.state))

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

    # Item actions -------------------------------------------------------------------------

    def action_accept(self) -> None:
        found = self._delegate("Accepting")
        if found is None:
            return
        state, item, code = found
        labels = {r.uuid: r.label for r in state.tabled(item)}
        self._write(lambda: self.summit_app.ws.accept(self.slug, item.uuid, delegation=code),
                    done=lambda accepted: f"{code} accepted "
                    f"{labels.get(accepted.revision, 'the text')} of item {item.number}")

    def action_status(self) -> None:
        from tui.screens.modals import StatusScreen

        current = self._current()
        if current is None:
            return
        state, item = current

        def chosen(status: Status | None) -> None:
            if status is not None:
                def said(after: Item) -> str:
                    if status == Status.FINAL and after.status != Status.FINAL:
                        return (f"{state.viewer}'s capital confirmed item {after.number}; it is "
                                "final once every delegation's capital has")
                    return f"Item {after.number} is now {after.status.value}"

                self._write(lambda: self.summit_app.ws.set_status(
                    self.slug, item.uuid, status, actor=state.viewer or ""), done=said)

        self.app.push_screen(StatusScreen(item), chosen)

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
        # The rules' count, as the tree will show it once this text is tabled.
        self.app.call_from_thread(self._offer_compilation, item, code, compiled.result.text,
                                  bracket_count(compiled.result.text), sides)

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

        if self.state is None:
            return
        state = self.state
        if state.viewer is None:
            self.notify("Proposing an item needs a delegation: press v to act as one",
                        severity="warning")
            return
        code = state.viewer
        current = self._find(self.item_uuid)
        sections = [(s.uuid, s.title) for s in state.summit.sections]

        def chosen(form: NewItem | None) -> None:
            if form is None:
                return

            def added(item: Item) -> None:
                self.item_uuid = item.uuid

            self._write(lambda: self.summit_app.ws.add_item(
                self.slug, section=form.section, title=form.title, text=form.text,
                delegation=code, why=form.why, tags=form.tags),
                done=lambda i: f"{code} proposed item {i.number}", then=added)

        self.app.push_screen(
            AddItemScreen(sections, current.section_uuid if current else None), chosen)

    def action_edit_title(self) -> None:
        from tui.screens.modals import TextScreen

        current = self._current()
        if current is None:
            return
        state, item = current

        def chosen(title: str | None) -> None:
            if title is not None and title != item.title:
                self._write(lambda: self.summit_app.ws.retitle_item(
                    self.slug, item.uuid, title, actor=state.viewer or ""),
                    done=f"Item {item.number} retitled")

        self.app.push_screen(TextScreen(f"Title of item {item.number}", item.title), chosen)

    def action_shift(self, offset: int) -> None:
        current = self._current()
        if current is None:
            return
        state, item = current
        self._write(lambda: self.summit_app.ws.shift_item(
            self.slug, item.uuid, offset, actor=state.viewer or ""),
            done=lambda moved: f"Item {item.number} is now {moved.number}")

    def action_move_to_section(self) -> None:
        from tui.screens.modals import ChoiceScreen

        current = self._current()
        if current is None:
            return
        state, item = current
        choices = [(s.uuid, f"{n}  {s.title}")
                   for n, s in enumerate(state.summit.sections, start=1)
                   if s.uuid != item.section_uuid]

        def chosen(section: str | None) -> None:
            if section is not None:
                self._write(lambda: self.summit_app.ws.move_item(
                    self.slug, item.uuid, section=section, actor=state.viewer or ""),
                    done=lambda moved: f"Item {item.number} is now {moved.number}")

        self.app.push_screen(ChoiceScreen(f"Move item {item.number} to section", choices),
                             chosen)

    def action_add_note(self) -> None:
        from tui.screens.modals import NoteScreen

        found = self._delegate("A private note")
        if found is None:
            return
        _, item, code = found

        def chosen(text: str | None) -> None:
            if text is not None and text.strip():
                self._write(lambda: self.summit_app.ws.add_note(
                    self.slug, item.uuid, delegation=code, text=text),
                    done=f"{code} note added to item {item.number}")

        self.app.push_screen(NoteScreen(f"{code} private note on item {item.number}"), chosen)

    # Draft actions ------------------------------------------------------------------------

    def action_save_draft(self) -> None:
        found = self._delegate("Drafting")
        if found is None:
            return
        _, item, code = found
        draft = self._draft()
        if draft is None or not draft.dirty:
            self.notify("No unsaved changes in the draft", markup=False)
            return
        text = draft.text
        self._write(lambda: self.summit_app.ws.table(
            self.slug, item.uuid, delegation=code, text=text, code=Code.MOD, internal=True),
            done=lambda r: f"Saved internal draft {r.label} of item {item.number}",
            then=lambda _: draft.saved((code, item.uuid), text))

    def action_table_draft(self) -> None:
        from tui.screens.modals import TableDraftScreen

        found = self._delegate("Tabling")
        if found is None:
            return
        state, item, code = found
        draft = self._draft()
        if draft is None:  # nothing written yet: open the editor first
            self.action_tab("draft")
            return
        text = draft.text
        others = [r.delegation for r in reversed(state.tabled(item))
                  if r.delegation != code and r.code != Code.CMP]

        def chosen(form: TableForm | None) -> None:
            if form is None:
                return
            body = None if form.code == Code.NOC else text
            self._write(lambda: self.summit_app.ws.table(
                self.slug, item.uuid, delegation=code, text=body, code=form.code,
                why=form.justification),
                done=lambda r: f"{code} tabled {r.label} ({r.code.value}) of item {item.number}",
                then=lambda _: draft.saved((code, item.uuid), text))

        self.app.push_screen(TableDraftScreen(item.number, others[0] if others else None),
                             chosen)

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
        from tui.screens.modals import ConfirmScreen

        draft = self._draft()
        if draft is None or not draft.dirty:
            return

        def chosen(yes: bool | None) -> None:
            if yes:
                draft.discard()

        self.app.push_screen(ConfirmScreen("Discard the unsaved draft text?", yes="Discard"),
                             chosen)

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
        from tui.screens.modals import ConfirmScreen

        found = self._delegate("Restoring a text")
        history = self._history()
        revision = history.selected if history is not None else None
        if found is None or revision is None:
            return
        _, item, code = found

        def chosen(yes: bool | None) -> None:
            if yes:
                self._write(lambda: self.summit_app.ws.table(
                    self.slug, item.uuid, delegation=code, text=revision.text, code=Code.MOD,
                    why=restore_justification(revision)),
                    done=lambda r: f"{code} tabled {revision.label}'s text again as {r.label}")

        self.app.push_screen(ConfirmScreen(
            f"Table the text of {revision.label} again, as {code}'s new MOD revision of item "
            f"{item.number}? History is kept; nothing is rewritten.", yes="Table it"), chosen)

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
