"""The welcome screen: open a summit, create one, open the demo, or import an agenda."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from agenda.model import AgendaError
from agenda.workspace import SummitEntry, Workspace
from tui.screens.modals import CreateSummitScreen, SummitForm

if TYPE_CHECKING:
    from tui.app import SummitApp


def importer_available() -> bool:
    return find_spec("agenda.importer") is not None


class WelcomeScreen(Screen[None]):
    BINDINGS = [
        Binding("c", "create", "Create a summit"),
        Binding("d", "demo", "Open the demo"),
        Binding("i", "import_agenda", "Import an agenda"),
        Binding("q", "app.quit", "Quit"),
    ]

    @property
    def summit_app(self) -> SummitApp:
        return cast("SummitApp", self.app)

    def compose(self) -> ComposeResult:
        entries = self.summit_app.ws.summits()
        yield Header()
        with Vertical(id="welcome"):
            yield Static(Content.assemble(
                ("Summit Agenda\n", "bold $text-accent"),
                "Negotiate a summit agenda item by item: each delegation's position side by "
                "side, every revision kept, brackets counted, a clean export at the end.",
            ), id="welcome-intro")
            if entries:
                yield Label("Open a summit")
                yield OptionList(*(Option(summit_label(e), id=e.slug) for e in entries),
                                 id="summits")
            else:
                yield Static("This workspace has no summit yet.", markup=False)
            with Horizontal(id="welcome-actions"):
                yield Button("Create a summit", id="create", variant="primary")
                yield Button("Open the demo", id="demo")
                yield Button("Import a Markdown agenda", id="import",
                             disabled=not importer_available())
            if not importer_available():
                yield Static("Importing a Markdown agenda is not available in this version.",
                             classes="hint", markup=False)
            yield Static(Content.assemble(("Workspace: ", "$text-muted"),
                                          str(self.summit_app.ws.path)), classes="hint",
                         id="workspace-path")
        yield Footer()

    def on_mount(self) -> None:
        self.summit_app.title = "Summit Agenda"
        self.summit_app.sub_title = "Welcome"
        self.query_one("#summits" if self.query("#summits") else "#create").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.summit_app.open_summit(event.option.id)

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        self.create_summit(None)

    def create_summit(self, initial: SummitForm | None) -> None:
        """The form; when the workspace refuses it, it stays open, the reason beside the field."""

        def created(slug: str | None) -> None:
            if slug is not None:
                self.notify(f"Created {self.summit_app.ws.summit(slug).title}", markup=False)
                self.summit_app.open_summit(slug)

        self.app.push_screen(CreateSummitScreen(
            initial, submit=lambda form: create_from_form(self.summit_app.ws, form)), created)

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        from agenda.demo import DEMO_SLUG, build_demo

        ws = self.summit_app.ws
        if DEMO_SLUG in {e.slug for e in ws.summits()}:
            self.summit_app.open_summit(DEMO_SLUG)
            return
        self.summit_app.write(lambda: build_demo(ws), done="Built the India–Russia demo summit",
                              then=self.summit_app.open_summit)

    @on(Button.Pressed, "#import")
    def action_import_agenda(self) -> None:
        if not importer_available():
            self.notify("Importing a Markdown agenda is not available in this version",
                        severity="warning")
            return
        self.import_agenda(None)

    def import_agenda(self, initial: SummitForm | None) -> None:
        def chosen(form: SummitForm | None) -> None:
            if form is not None:
                self.summit_app.write(
                    lambda: import_file(self.summit_app.ws, form),
                    done=lambda slug: f"Imported {form.source}",
                    then=self.summit_app.open_summit,
                    refused=lambda: self.import_agenda(form))

        self.app.push_screen(CreateSummitScreen(initial, importing=True), chosen)


def create_from_form(ws: Workspace, form: SummitForm) -> str:
    """Create the summit the form describes, from a starter agenda if one was chosen."""
    if form.starter:
        from agenda.importer import new_summit_from_starter

        return new_summit_from_starter(ws, form.starter, form.title, form.delegations,
                                       venue=form.venue, dates=form.dates).slug
    return ws.create_summit(form.title, form.delegations, venue=form.venue,
                            dates=form.dates).slug


def import_file(ws: Workspace, form: SummitForm) -> str:
    """Read and import a Markdown agenda as a new summit; returns its slug."""
    from agenda.importer import import_markdown

    path = Path(form.source).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AgendaError(f"Cannot read {path}: {error}") from None
    if not form.delegations:
        raise AgendaError("Name the delegations, one per line: CODE=Name")
    report = import_markdown(ws, text, delegation=form.delegations[0].code,
                             title=form.title or None, delegations=form.delegations,
                             venue=form.venue, dates=form.dates, source_name=path.name)
    return report.slug


def summit_label(entry: SummitEntry) -> Content:
    details = " · ".join(part for part in (entry.venue, entry.dates) if part)
    return Content.assemble(
        Content.styled(entry.title, "bold"),
        (f"  {details}" if details else "", "$text-muted"),
        (f"  ({entry.slug})", "$text-muted"),
    )
