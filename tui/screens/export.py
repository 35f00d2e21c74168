"""The export screen: pick a template, preview the Markdown, write it to a file."""

from __future__ import annotations

import threading
import weakref
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, TextArea
from textual.worker import get_current_worker

from agenda.model import AgendaError
from agenda.state import SummitState
from agenda.store import atomic_write
from tui.errors import ReportsWorkerErrors
from tui.messages import StateLoaded
from tui.screens.modals import ConfirmScreen
from tui.screens.styled import StyledOnce
from tui.widgets.header import AgendaHeader

if TYPE_CHECKING:
    from agenda.templates import TemplateInfo
    from tui.app import SummitApp


def export_available() -> bool:
    return find_spec("agenda.export") is not None


_TEMPLATES: list[TemplateInfo] = []
_TEMPLATES_LOCK = threading.Lock()


def export_templates() -> list[TemplateInfo]:
    """The export templates, read once per session: listing them opens every template file
    (starters included), ~45 ms each time the screen opened."""
    with _TEMPLATES_LOCK:  # the preparation lists them in a thread, the screen in its own
        if not _TEMPLATES:
            from agenda.templates import list_templates

            _TEMPLATES.extend([t for t in list_templates() if t.kind == "export"])
        return list(_TEMPLATES)


# What the preview showed, per state read and per (template, its file's version, viewer): a
# state never changes, so opening the screen again on it shows the same document at once
# instead of rendering it again (the whole demo brief: most of the preview's time).
_RENDERED: weakref.WeakKeyDictionary[SummitState, dict[tuple[str, int, str | None], str]] = (
    weakref.WeakKeyDictionary())
_RENDERED_LOCK = threading.Lock()


def _version(info: TemplateInfo) -> int:
    try:
        return info.path.stat().st_mtime_ns
    except OSError:
        return -1


def cached_render(state: SummitState, info: TemplateInfo, code: str | None) -> str | None:
    with _RENDERED_LOCK:
        return _RENDERED.get(state, {}).get((info.name, _version(info), code))


def keep_render(state: SummitState, info: TemplateInfo, code: str | None, text: str) -> None:
    with _RENDERED_LOCK:
        _RENDERED.setdefault(state, {})[(info.name, _version(info), code)] = text


# One render at a time: a visit that comes while the preparation renders the same document
# waits for it and finds it kept, instead of rendering it a second time beside it.
_RENDERING = threading.Lock()


def render_kept(ws: Any, state: SummitState, info: TemplateInfo, code: str | None,
                app: SummitApp | None = None) -> str:
    """The document for a state, template and viewer: kept, or rendered now and kept.

    Rendering reads the workspace, which takes in what another process committed since the
    app last read it; the app's once-a-second poll (`Workspace.changed_on_disk`) would then
    not see that commit, and the screen would go on showing the older state. So `app`'s
    workspace is asked first, and a change is handed to the app to read.
    """
    with _RENDERING:
        text = cached_render(state, info, code)
        if text is None:
            from agenda.export import render

            if app is not None and ws.changed_on_disk():
                try:
                    app.call_from_thread(app.load_state)
                except RuntimeError:
                    pass  # the app closed meanwhile

            text = render(ws, state.summit.slug, info.name, viewer=code)
            keep_render(state, info, code, text)
        return text


def default_file_name(slug: str, template: str, delegation: str | None) -> str:
    whose = f"-{delegation.lower()}" if delegation else ""
    return f"{slug}-{template}{whose}.md"


_SCREEN = "export"
_PREPARED: weakref.WeakSet[App[object]] = weakref.WeakSet()


def prepare_export(app: SummitApp, state: SummitState) -> None:
    """Once per app, after the workspace is painted: what the export screen's first visit
    would wait for, done off the screen's thread. The export module's imports (Jinja2),
    the template list, each template compiled, and the document the screen opens on (the
    agenda) rendered for this state into the cache: about 0.4 s of the demo's first visit.
    """
    if app in _PREPARED:
        return
    _PREPARED.add(app)
    app.run_worker(lambda: _prepare(app, state), thread=True, group="export-prepare",
                   exit_on_error=False)


def _prepare(app: SummitApp, state: SummitState) -> None:
    import jinja2

    from agenda import export

    try:
        infos = [t for t in export_templates()
                 if t.view != "delegation" or state.viewer is not None]
        for info in infos:
            export.load_template(info)
        first = next((t for t in infos if t.name == "agenda"), None)
        if first is not None:
            render_kept(app.ws, state, first, None, app)
    except (AgendaError, OSError, jinja2.TemplateError):
        # Only a head start: the screen reports the same failure when it is opened.
        return
    try:
        app.call_from_thread(_prebuild, app, state)
    except RuntimeError:
        return  # the app closed meanwhile


def _prebuild(app: App[object], state: SummitState) -> None:
    """Build the export screen now, while the user reads, so the first x only lays it out
    and paints it: its widgets and their styles were ~200 ms of that first visit.

    Registering an installed screen is what pushing it does first (Textual's
    `App._get_screen`); a screen that is not on the stack is neither laid out nor painted,
    so this costs no frame. Textual is pinned (pyproject) for this private call.
    """
    if not app.is_running or app._closing:
        return  # closing: nothing will be shown
    if app.is_screen_installed(_SCREEN) or getattr(app, "acting_as", None) != state.viewer:
        return  # visited already, or the viewer changed: open_export builds its own
    screen = ExportScreen(state)
    app.install_screen(screen, _SCREEN)
    app._register(app, screen)


def open_export(app: App[object], state: SummitState) -> None:
    """Show the export screen, the one already built when the viewer is the same.

    Building it (its widgets and their styles) was most of the time from the key to the
    preview; a kept screen only takes the newer state and shows its cached document.
    """
    if app.is_screen_installed(_SCREEN):
        screen = app.get_screen(_SCREEN)
        if isinstance(screen, ExportScreen) and screen.state.viewer == state.viewer:
            app.push_screen(_SCREEN)
            if screen.state is not state:
                screen.state = state
                screen.refresh_preview()
            return
        app.uninstall_screen(_SCREEN)
        if screen.is_running:
            screen.remove()  # an installed screen is never removed by Textual itself
    app.install_screen(ExportScreen(state), _SCREEN)
    app.push_screen(_SCREEN)


class ExportScreen(StyledOnce, ReportsWorkerErrors, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "write", "Write file"),
    ]

    def __init__(self, state: SummitState) -> None:
        super().__init__()
        self.state = state
        self.templates: dict[str, TemplateInfo] = {}
        self.markdown = ""
        self._in_flight: tuple[SummitState, str, str | None] | None = None

    @property
    def summit_app(self) -> SummitApp:
        return cast("SummitApp", self.app)

    def compose(self) -> ComposeResult:
        viewer = self.state.viewer
        try:
            # A delegation's document (the brief) holds its internal drafts and notes: it is
            # offered only to that delegation acting as itself, never to another one, and
            # not in the joint view.
            self.templates = {t.name: t for t in export_templates()
                              if t.view != "delegation" or viewer is not None}
        except AgendaError as error:
            self.notify(str(error), severity="error", markup=False)
        yield AgendaHeader()
        with Horizontal(id="export-controls"):
            yield Label("Template")
            yield Select([(Text(f"{t.name} — {t.description}" if t.description else t.name),
                           t.name) for t in self.templates.values()],
                         value="agenda" if "agenda" in self.templates else Select.BLANK,
                         allow_blank="agenda" not in self.templates, id="template")
            yield Label(f"For {viewer} only" if viewer else "Joint view: tabled texts only",
                        id="export-for", markup=False)
        with Horizontal(id="export-file"):
            yield Label("File")
            yield Input(id="file-name")
            yield Button("Write", id="write", variant="primary")
        # The document as it will be written, read-only. A TextArea draws only the lines in
        # view; the Markdown widget built a widget per block of the whole document first
        # (1.2 s for the demo's agenda, against a target of 300 ms).
        preview = TextArea(id="preview", read_only=True, soft_wrap=True,
                           show_line_numbers=False)
        preview.border_title = "Preview"
        yield preview
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_preview()

    def on_state_loaded(self, message: StateLoaded) -> None:
        self.state = message.state
        self.refresh_preview()

    @on(Select.Changed)
    def _changed(self) -> None:
        self.refresh_preview()

    def _choice(self) -> tuple[str, str | None] | None:
        name = self.query_one("#template", Select).value
        if not isinstance(name, str) or name not in self.templates:
            return None
        needs_delegation = self.templates[name].view == "delegation"
        return name, self.state.viewer if needs_delegation else None

    def refresh_preview(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        name, code = choice
        self.query_one("#file-name", Input).value = str(
            Path.cwd() / default_file_name(self.state.summit.slug, name, code))
        cached = cached_render(self.state, self.templates[name], code)
        if cached is not None:
            self.workers.cancel_group(self, "export")  # an older choice must not overwrite it
            self._in_flight = None
            self._show(cached)
            return
        # Mounting asks for the preview and so does the Select's first Changed: the render
        # already under way for the same state and choice is the one to wait for.
        wanted = (self.state, name, code)
        if self._rendering(wanted):
            return
        self._in_flight = wanted
        self._render_markdown(*wanted)

    def _rendering(self, key: tuple[SummitState, str, str | None]) -> bool:
        """Whether the render under way is this one (the same state read, not an equal one)."""
        return self._in_flight is not None and self._in_flight[0] is key[0] \
            and self._in_flight[1:] == key[1:]

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _render_markdown(self, state: SummitState, name: str, code: str | None) -> None:
        try:
            text = render_kept(self.summit_app.ws, state, self.templates[name], code,
                               self.summit_app)
        except AgendaError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._rendered, (state, name, code), text)

    def _failed(self, error: str) -> None:
        self._in_flight = None  # the same choice may be tried again
        self.notify(error, severity="error", markup=False)

    def _rendered(self, key: tuple[SummitState, str, str | None], text: str) -> None:
        if self._rendering(key):
            self._in_flight = None
        self._show(text)

    def _show(self, text: str) -> None:
        self.markdown = text
        preview = self.query_one("#preview", TextArea)
        with preview.prevent(TextArea.Changed):
            preview.load_text(text)

    @on(Button.Pressed, "#write")
    def action_write(self) -> None:
        if not self.markdown:
            self.notify("Nothing rendered yet", severity="warning")
            return
        path = Path(self.query_one("#file-name", Input).value.strip()).expanduser()
        text = self.markdown

        def chosen(yes: bool | None) -> None:
            if yes:
                self._write_file(path, text)

        if path.exists():
            self.app.push_screen(ConfirmScreen(f"{path} exists. Replace it?", yes="Replace"),
                                 chosen)
        else:
            self._write_file(path, text)

    @work(thread=True, group="export-write", exit_on_error=False)
    def _write_file(self, path: Path, text: str) -> None:
        try:
            atomic_write(path, text.encode("utf-8"))  # the whole document or nothing
        except OSError as error:
            self.app.call_from_thread(self.notify, f"Cannot write {path}: {error.strerror}",
                                      severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Wrote {path}", markup=False)
