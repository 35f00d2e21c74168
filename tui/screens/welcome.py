"""The welcome screen: open a summit, create one, open the demo, or import an agenda."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.suggester import Suggester
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from agenda.model import AgendaError
from agenda.workspace import SummitEntry, Workspace
from tui.screens.modals import CreateSummitScreen, SummitForm
from tui.widgets.header import AgendaHeader

if TYPE_CHECKING:
    from agenda.importer import ImportReport
    from tui.app import SummitApp

AGENDA_SUFFIXES = (".md", ".markdown", ".txt")


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
        yield AgendaHeader()
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
                    then=self._imported,  # the report says what was imported
                    refused=lambda: self.import_agenda(form))

        self.app.push_screen(ImportAgendaScreen(initial, importing=True), chosen)

    def _imported(self, report: ImportReport) -> None:
        from agenda.importer import report_lines

        self.summit_app.open_summit(report.slug)
        lines = report_lines(report, report.source,
                             brackets_hint="if the agenda does not use them for disputed "
                                           "text, import it with the command line's "
                                           "--literal-brackets")
        self.app.push_screen(ImportReportScreen(lines))


def resolve_source(text: str, folder: Path | None = None) -> Path:
    """The file an import reads: a relative path is taken from the folder the app was
    started in, and shown in full so that nobody guesses."""
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else (folder or Path.cwd()) / path


class PathSuggester(Suggester):
    """Completes a path as it is typed (→ takes the suggestion): folders, then agendas."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value.strip():
            return None
        typed = resolve_source(value)
        folder, prefix = (typed, "") if value.endswith(os.sep) else (typed.parent, typed.name)
        try:
            names = sorted(os.scandir(folder), key=lambda e: (not e.is_dir(), e.name))
        except OSError:
            return None
        for entry in names:
            if not entry.name.startswith(prefix) or entry.name == prefix:
                continue
            if entry.name.startswith(".") and not prefix.startswith("."):
                continue  # hidden, unless asked for
            if entry.is_dir():
                return value + entry.name[len(prefix):] + os.sep
            if entry.name.endswith(AGENDA_SUFFIXES):
                return value + entry.name[len(prefix):]
        return None


def source_line(value: str) -> Content:
    if not value.strip():
        return Content.styled("Type a path; → completes it. Relative paths start in "
                              f"{Path.cwd()}", "$text-muted")
    path = resolve_source(value)
    state = ("" if path.is_file() else "  (a folder: choose a file in it)" if path.is_dir()
             else "  (no such file yet)")
    return Content.assemble(("Reads ", "$text-muted"), str(path),
                            (state, "$text-warning" if state else ""))


class ImportAgendaScreen(CreateSummitScreen):
    """The summit form with a file to import: the path completes, and resolves in full."""

    def on_mount(self) -> None:
        source = self.query_one("#source", Input)
        source.suggester = PathSuggester()
        source.parent.mount(Static(source_line(source.value), id="source-path",
                                   classes="hint", markup=False), after=source)  # type: ignore[union-attr]

    @on(Input.Changed, "#source")
    def _source_changed(self, event: Input.Changed) -> None:
        found = self.query("#source-path")
        if found:
            found.first(Static).update(source_line(event.value))


class ImportReportScreen(ModalScreen[None]):
    """What the import did, as `summit import` reports it, in the app's words."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="import-report"):
            yield Static("Import report", classes="dialog-title", markup=False)
            with VerticalScroll(classes="preview"):
                yield Static("\n".join(self.lines), id="import-report-text", markup=False)
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)


def create_from_form(ws: Workspace, form: SummitForm) -> str:
    """Create the summit the form describes, from a starter agenda if one was chosen."""
    if form.starter:
        from agenda.importer import new_summit_from_starter

        return new_summit_from_starter(ws, form.starter, form.title, form.delegations,
                                       venue=form.venue, dates=form.dates).slug
    return ws.create_summit(form.title, form.delegations, venue=form.venue,
                            dates=form.dates).slug


def import_file(ws: Workspace, form: SummitForm) -> ImportReport:
    """Read and import a Markdown agenda as a new summit; refusals in the app's words."""
    from agenda.importer import NotText, SourceLines, import_markdown

    if not form.source.strip():
        raise AgendaError("Choose the Markdown file to import")
    path = resolve_source(form.source)
    try:
        # Read a window of lines at a time, as `summit import` does: never held whole.
        text = SourceLines(path)
    except FileNotFoundError:
        raise AgendaError(f"There is no file {path}") from None
    except IsADirectoryError:
        raise AgendaError(f"{path} is a folder: choose a Markdown file in it") from None
    except NotText as error:
        what = "contains NUL bytes" if error.byte < 0 else "is not UTF-8 text"
        raise AgendaError(f"{path} {what}: is it a Markdown file?") from None
    except OSError as error:
        reason = (error.strerror or "unreadable").lower()
        raise AgendaError(f"Cannot read {path}: {reason}") from None
    try:
        if not form.delegations:
            raise AgendaError("Name the delegations, one per line: CODE=Name")
        return import_markdown(ws, text, delegation=form.delegations[0].code,
                               title=form.title or None, delegations=form.delegations,
                               venue=form.venue, dates=form.dates, source_name=path.name)
    except AgendaError as error:
        # The core speaks to the command line; the form has a title field instead.
        raise AgendaError(str(error).replace(
            "; choose another with --slug", ": give the new summit another title")) from None
    finally:
        text.close()


def summit_label(entry: SummitEntry) -> Content:
    details = " · ".join(part for part in (entry.venue, entry.dates) if part)
    return Content.assemble(
        Content.styled(entry.title, "bold"),
        (f"  {details}" if details else "", "$text-muted"),
        (f"  ({entry.slug})", "$text-muted"),
    )
