"""The Summit Agenda terminal app: opens a workspace, keeps the summit state fresh, runs writes."""

from __future__ import annotations

import gc

# Importing the app (Textual, Rich, the core) makes some 65,000 objects that live as long as
# the process (modules, classes, functions), and the cyclic collector went over them again
# and again meanwhile and after: some 10 ms of the import alone on the test machine. It is off
# while these modules import; then every object tracked so far (what they made, and what the
# process made before: the command line's) is frozen, never gone over again, as the first
# frame's objects are once it is out, and the collector is back as it was. What the imports
# left as garbage (some 600 objects, ~120 KB: temporary classes) is kept; an app that ends
# after its first frame unfreezes everything (another app may run in the process: the tests).
_collecting = gc.isenabled()
gc.disable()
try:
    import sys
    import threading
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from pathlib import Path
    from typing import Any, TypeVar

    from textual import work
    from textual.app import App, SystemCommand
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.worker import Worker, WorkerState, get_current_worker

    from agenda.diff import diff_words
    from agenda.model import AgendaError, NotFound, now_utc
    from agenda.state import SummitState
    from agenda.text import inert
    from agenda.workspace import Workspace
    from tui.commands import AgendaCommands
    from tui.config import Preferences, config_dir
    from tui.css_cache import CssCache
    from tui.errors import failure_message
    from tui.kept_diffs import KeptDiffs
    from tui.messages import StateLoaded
    from tui.screens.styled import StyledOnce
    from tui.theme import THEMES
finally:
    if _collecting:
        gc.freeze()
        gc.enable()

T = TypeVar("T")

POLL_SECONDS = 1.0
# A summit whose file holds fewer bytes than this is read before its screen is built: the
# first frame then shows the item, not an empty shell painted, then laid out and painted
# again. The 100k-revision bench workspace spreads ~180 MB over 100 summits; one reads in
# about 15 ms (bench/bench_scale.py).
# A larger summit is read in a worker while the shell shows.
INLINE_READ_BYTES = 4_000_000
# The daily backup waits until the first screen is up: it is not needed to start working.
BACKUP_DELAY_SECONDS = 2.0
# The collector is back on this long after start even if no first frame was seen.
COLLECTOR_BACK_AFTER = 5.0
# The parsed CSS is kept this long after the first frame (not before it: it is not needed).
CSS_SAVE_AFTER = 0.25
# Until the first frame is out, a thread waiting for the interpreter gets it after this long,
# not Python's 5 ms (sys.getswitchinterval): Textual writes every frame from a thread of its
# own, and the screen's thread went on with the work that follows a first frame (the screen's
# own resize, the tree's relayout, a repaint) while the frame waited to be written, 0.1 to
# 14 ms on the test machine (bench/bench_tui.py), against 0.1 to 2.4 ms for a minimal app.
FIRST_FRAME_SWITCH = 0.0005


class _DefaultScreen(StyledOnce, Screen[Any]):
    """Textual's default screen, styled once (see get_default_screen)."""


class SummitApp(App[None]):
    """One workspace, one open summit at a time, seen as one delegation or as the joint view."""

    CSS_PATH = "app.tcss"
    TITLE = "Summit Agenda"
    COMMANDS = App.COMMANDS | {AgendaCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("f1", "help", "Help", show=False),
        Binding("S", "sync", "Sync", show=False),  # the sync line says so when it is shown
    ]

    def __init__(
        self,
        path: Path,
        *,
        summit: str | None = None,
        as_: str | None = None,
        clock: Callable[[], datetime] = now_utc,
        config: Path | None = None,
    ) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        # App.__init__ built the stylesheet before our themes were registered (with no
        # variables: see get_css_variables); here they are, from our theme.
        self._themes_registered = True
        self.stylesheet.set_variables(self.get_css_variables())
        # The CSS parsed by the last start (tui/css_cache.py): kept again once the first frame
        # is out, and at exit if a screen opened meanwhile parsed more.
        self.css_cache = CssCache()
        self.css_cache.install(self.stylesheet)
        # The first frame's diffs and merges as the last start computed them
        # (tui/kept_diffs.py): answered from there until that frame is out.
        self.kept_diffs = KeptDiffs()
        self.ws = Workspace(path, create=True, clock=clock)
        self.preferences = Preferences(config if config is not None else config_dir())
        self.requested_summit = summit
        self.requested_as = as_
        self.slug: str | None = None
        self.acting_as: str | None = None
        self.state: SummitState | None = None
        self._last_failure: str | None = None
        bound = self.ws.exchange_get("identity")
        # A bound workspace is one delegation's: it acts as that one, or sees the joint view.
        self.home: str | None = bound["home"] if bound else None
        self.marks: Any = None  # provisional labels and split positions (load_state)

    # Starting -----------------------------------------------------------------------------

    _themes_registered = False

    def get_css_variables(self) -> dict[str, str]:
        if not self._themes_registered:
            # Asked by App.__init__, before our themes are registered: the variables of
            # Textual's theme of the same name would be replaced at once (__init__), and
            # computing them took some 2 ms of the start.
            return {}
        return super().get_css_variables()

    def get_default_screen(self) -> Screen[Any]:
        # The screen under every other: styled once, as the workspace is (StyledOnce). As
        # Textual's, it was styled three times before the first frame (mounted, its size
        # class, its first show), though it is never seen while a summit is open.
        return _DefaultScreen(id="_default")

    def _check_resize(self) -> None:
        """A terminal size the screens are already laid out for repaints, not lays out.

        Textual builds the first screen inside a batch that holds back its frame, and paints
        it when the terminal's size report, which arrives at start, reaches the screen: that
        lays the whole workspace out a second time (~60 ms) and paints it in two frames. The
        same size is only a repaint; a new size, or a report while the batch is open (no
        repaint would follow it), still goes Textual's way (Textual is pinned: pyproject).
        """
        event = self._resize_event
        if (event is not None and self._resize_timer is None and not self._batch_count
                and self._is_mounted and self._size == event.size):
            screens = [self.screen, *self._background_screens]
            if all(screen._compositor.size == event.size for screen in screens):
                self._resize_event = None
                self.screen.refresh()
                return
        super()._check_resize()

    def on_mount(self) -> None:
        # Reading the summit and building the first screen allocate some hundred thousand
        # objects, and the cyclic collector went over them all, again and again, before the
        # first frame (80 to 250 ms in a pty, bench/bench_tui.py). It is off until then;
        # what was built by then is frozen: kept, and not gone over again by later
        # collections (an item switch met them).
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(FIRST_FRAME_SWITCH, self._switch_interval))
        if gc.isenabled():
            gc.disable()
            self._collector_off = True
            self.set_timer(COLLECTOR_BACK_AFTER, self._collector_on)
        self.kept_diffs.start()
        self.set_interval(POLL_SECONDS, self._poll)
        if self.ws.pending_migration() is not None:
            self.take_automatic_backup()  # at once: the next write commits the migration
        else:
            self.set_timer(BACKUP_DELAY_SECONDS, self.take_automatic_backup)
        # Once Textual's start-up batch is over: a screen built inside it was laid out and
        # painted for nothing (the batch holds the frame back), then laid out and painted
        # again after it. Built after it, its first layout's frame is the one written.
        self.call_later(self._first_screen)

    def _first_screen(self) -> None:
        slugs = [entry.slug for entry in self.ws.summits()]
        wanted = self.requested_summit
        if wanted is not None and wanted not in slugs:
            self.notify(f"No summit {wanted!r} in this workspace", severity="error",
                        markup=False)
            wanted = None
        if wanted is None and len(slugs) == 1:
            wanted = slugs[0]
        if wanted is None:
            from tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
        else:
            self.open_summit(wanted, as_=self.requested_as)
        # A screen's callbacks after refresh run once its frame is painted.
        self.screen.call_after_refresh(self._collector_on)
        self.screen.call_after_refresh(self._first_frame_out)

    _switch_interval: float | None = None  # Python's, while the first frame's is in force

    def _switch_back(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def _first_frame_out(self) -> None:
        self._switch_back()
        self.kept_diffs.settle()
        self.set_timer(CSS_SAVE_AFTER, self._after_first_frame)

    def _after_first_frame(self) -> None:
        self.kept_diffs.save()
        if self.slug is not None:
            self._warm_diff()

    @work(thread=True, group="warm", exit_on_error=False)
    def _warm_diff(self) -> None:
        """The word diff builds its patterns (and imports rapidfuzz) on first use: here, off
        the screen's thread and after the first frame, which had its diffs kept (an ASCII text
        needs only the light patterns; a text beyond ASCII builds the full token pattern,
        ~13 ms, when first diffed)."""
        diff_words("a", "b")

    _collector_off = False
    _frozen = False

    def _collector_on(self) -> None:
        if self._collector_off:
            self._collector_off = False
            gc.freeze()
            self._frozen = True
            gc.enable()
            self.set_timer(CSS_SAVE_AFTER, self.css_cache.save)

    def on_unmount(self) -> None:
        # What was frozen may be garbage once the app is gone (another app may run in this
        # process: the tests).
        if self._frozen:
            gc.unfreeze()
        if self._collector_off:
            self._collector_off = False
            gc.enable()
        self._switch_back()
        self.kept_diffs.settle()
        self.css_cache.save()

    def open_summit(self, slug: str, *, as_: str | None = None) -> None:
        """Show a summit's workspace, acting as `as_`, else as last time in this workspace."""
        from tui.screens.workspace import WorkspaceScreen

        self.slug = slug
        self.state = None
        chosen = as_ or self.preferences.acting_as(self.ws.path) or self.home
        self.acting_as = self.allowed_viewer(chosen.strip().upper() if chosen else None)
        if as_:
            self.preferences.remember_acting_as(self.ws.path, self.acting_as)
        state = None
        if self._small(slug):
            try:
                state = self._read_state()
            except Exception:  # noqa: BLE001 - the worker below reads again and reports it
                state = None
        if state is not None:
            self._take_state(state)
        screen = WorkspaceScreen(state)
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        if state is None:
            self.load_state()

    def _small(self, slug: str) -> bool:
        try:
            return self.ws.summit_path(slug).stat().st_size < INLINE_READ_BYTES
        except (OSError, AgendaError):
            return False  # the worker's read reports what is wrong

    @work(thread=True, group="backup", exit_on_error=False)
    def take_automatic_backup(self) -> None:
        """Before a migration and once a day of use, a snapshot of the workspace."""
        from agenda.backup import automatic_backup

        try:
            automatic_backup(self.ws)
        except (OSError, AgendaError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            self.call_from_thread(self.notify, f"The automatic backup failed: {reason}",
                                  severity="warning", markup=False)

    # Acting as ----------------------------------------------------------------------------

    def act_as(self, code: str | None) -> None:
        """Switch the viewer: a delegation code, or None for the joint view (tabled only)."""
        code = self.allowed_viewer(code)
        self.acting_as = code
        self.preferences.remember_acting_as(self.ws.path, code)
        self.load_state()

    def allowed_viewer(self, code: str | None) -> str | None:
        """The viewer asked for, unless a bound workspace is asked to act as another
        delegation: then its home one, with a word why."""
        if self.home is None or code in (None, self.home):
            return code
        self.notify(f"This workspace is {self.home}'s: it acts as {self.home} or shows the "
                    "joint view", severity="warning", markup=False)
        return self.home

    def actors(self, state: SummitState) -> list[Any]:
        """The delegations the app may act as (the delegation picker's choices)."""
        return [d for d in state.summit.actors if self.home is None or d.code == self.home]

    # Sync ---------------------------------------------------------------------------------

    def action_sync(self) -> None:
        if self.home is None:
            self.notify("This workspace exchanges nothing: bind it with `summit keys init "
                        "--as CODE` and add a remote first", severity="warning", markup=False)
            return
        self.notify("Syncing…", markup=False, timeout=2)
        self._sync()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync(self) -> None:
        """Sync in a thread: git over the network must not freeze the screen."""
        from agenda.exchange import sync

        try:
            report = sync.sync(self.ws)
        except AgendaError as error:
            self.call_from_thread(self.notify, str(error), title="Sync refused",
                                  severity="error", markup=False)
            return
        finally:
            self.call_from_thread(self._sync_shown)
        lines = [*report.lines(), *(f"refused: {line}" for line in report.refused)]
        self.call_from_thread(self.notify, "\n".join(lines), title="Synced",
                              severity="warning" if report.refused else "information",
                              markup=False, timeout=8)
        self.call_from_thread(self.load_state)

    def _sync_shown(self) -> None:
        from tui.widgets.sync_state import SyncState

        for widget in self.screen.query(SyncState):
            widget.refresh_state()

    def acting_as_label(self, state: SummitState) -> str:
        if state.viewer is None:
            return "Joint view (tabled texts only)"
        delegation = state.summit.delegation(state.viewer)
        return f"Acting as {delegation.code} ({delegation.name})"

    # Reading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_state(self) -> None:
        """Read the summit in a thread (a large workspace must not freeze the screen)."""
        if self.slug is None:
            return
        state = self._read_state()
        # The word diff builds its patterns on first use: here, off the screen's thread,
        # rather than when the Positions tab is first painted.
        diff_words("a", "b")
        if not get_current_worker().is_cancelled:
            self.post_message(StateLoaded(state))

    def _read_state(self) -> SummitState:
        assert self.slug is not None
        try:
            state = self.ws.state(self.slug, self.acting_as)
        except NotFound as error:
            if self.acting_as is None:
                raise
            self._notify_anywhere(f"{error}; showing the joint view")
            state = self.ws.state(self.slug, None)
        self.marks = self._exchange_marks(self.slug)
        return state

    def _notify_anywhere(self, message: str) -> None:
        """A warning from the screen's thread or from a worker's."""
        if self._thread_id == threading.get_ident():
            self.notify(message, severity="warning", markup=False)
        else:
            self.call_from_thread(self.notify, message, severity="warning", markup=False)

    def _exchange_marks(self, slug: str) -> Any:
        """Provisional labels and split positions, in a bound workspace; None in others: they
        exchange nothing, so every label there is final (None marks nothing, as empty Marks
        would, without importing the exchange before the first frame)."""
        if self.home is None:
            return None
        from agenda import records
        from agenda.exchange.stability import marks

        stored, _ = self.ws.stored(slug)
        return marks([records.decode(doc, verify=False) for doc in stored])

    def on_state_loaded(self, message: StateLoaded) -> None:
        if message.state.summit.slug != self.slug:
            return  # A read that opening another summit has overtaken.
        self._take_state(message.state)
        for screen in self.screen_stack:
            screen.post_message(StateLoaded(message.state))

    def _take_state(self, state: SummitState) -> None:
        self.state = state
        self._last_failure = None  # read again: a new failure is news
        self.acting_as = state.viewer
        self.title = state.summit.title
        self.sub_title = self.acting_as_label(state)

    def _poll(self) -> None:
        if self.slug is not None:
            self._check_disk()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _check_disk(self) -> None:
        """Another process (the CLI, a colleague) committed: read the summit again."""
        if self.ws.changed_on_disk():
            self.call_from_thread(self.load_state)

    # Writing ------------------------------------------------------------------------------

    def write(
        self,
        job: Callable[[], T],
        *,
        done: Callable[[T], str] | str | None = None,
        then: Callable[[T], Any] | None = None,
        refused: Callable[[], Any] | None = None,
    ) -> None:
        """Run one workspace operation in a thread; a refusal becomes a notification."""
        self._write(job, done, then, refused)

    @work(thread=True, group="write", exit_on_error=False)
    def _write(
        self,
        job: Callable[[], Any],
        done: Callable[[Any], str] | str | None,
        then: Callable[[Any], Any] | None,
        refused: Callable[[], Any] | None,
    ) -> None:
        try:
            result = job()
        except AgendaError as error:
            self.call_from_thread(self.notify, str(error), title="Refused",
                                  severity="error", markup=False)
            if refused is not None:
                self.call_from_thread(refused)
            return
        except Exception:
            # A full disk or a damaged file: the form comes back with what was typed, and
            # the error boundary (on_worker_state_changed) says what happened.
            if refused is not None:
                self.call_from_thread(refused)
            raise
        self.call_from_thread(self._written, result, done, then)

    def _written(self, result: Any, done: Callable[[Any], str] | str | None,
                 then: Callable[[Any], Any] | None) -> None:
        if then is not None:
            then(result)
        if done is not None:
            self.notify(done(result) if callable(done) else done, markup=False)
        self.load_state()

    # Failing ------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The error boundary: a worker that raised (a full disk, a file another program
        damaged, a bug) is reported here, for the app's workers and, through
        ReportsWorkerErrors, for the screens' and widgets'. The app stays open and every
        unsaved draft stays where it was: a failed write never reaches its `then`."""
        if event.state is WorkerState.ERROR:
            self.report_failure(event.worker)

    def report_failure(self, worker: Worker[Any]) -> None:
        message = failure_message(worker.error, self.ws.path)
        if worker.group in ("poll", "load"):
            if message == self._last_failure:
                return  # the once-a-second disk check would repeat it until the file is mended
            self._last_failure = message
        unsaved = self.unsaved_drafts()
        if unsaved:
            message += f" Your unsaved draft text on item {', '.join(unsaved)} is kept."
        self.notify(message, title="Not done", severity="error", markup=False, timeout=10)

    # Leaving ------------------------------------------------------------------------------

    def unsaved_drafts(self) -> list[str]:
        """Item numbers with draft text not yet saved, across the open screens."""
        from tui.screens.workspace import WorkspaceScreen

        found: list[str] = []
        for screen in self.screen_stack:
            if isinstance(screen, WorkspaceScreen):
                found.extend(screen.unsaved_drafts())
        return found

    def confirm_unsaved(self, doing: str, proceed: Callable[[], Any]) -> None:
        """Run `proceed` at once, or after the user agrees to leave unsaved drafts behind."""
        from tui.screens.modals import ConfirmScreen

        unsaved = self.unsaved_drafts()
        if not unsaved:
            proceed()
            return
        question = (f"Unsaved draft text on item {', '.join(unsaved)}. {doing} anyway and "
                    "lose it?")

        def answered(yes: bool | None) -> None:
            if yes:
                proceed()

        self.push_screen(ConfirmScreen(question, yes=f"{doing} anyway"), answered)

    async def action_quit(self) -> None:
        self.confirm_unsaved("Quit", self.exit)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "List every key binding", self.action_help)


def run(path: Path, *, summit: str | None = None, as_: str | None = None) -> None:
    """Open the app on a workspace file (the CLI's door into the terminal interface)."""
    try:
        app = SummitApp(path, summit=summit, as_=as_)
    except AgendaError as error:
        print(f"summit: {inert(str(error))}", file=sys.stderr)
        raise SystemExit(1) from None
    app.run()
