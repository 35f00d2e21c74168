"""Screens styled once when built: the terminal's size classes and the first focus from the
start, no restyle on their first show."""

from __future__ import annotations

from typing import Any, TypeVar

from textual import events
from textual._context import active_app
from textual.app import App
from textual.widget import Widget

W = TypeVar("W", bound=Widget)


def size_classes(app: App[Any]) -> set[str]:
    """The app's horizontal breakpoint class for its width now (as Textual's Screen sets it
    on its first resize)."""
    width = app.size.width
    reached = [(edge, name) for edge, name in app.HORIZONTAL_BREAKPOINTS or () if width >= edge]
    return {max(reached)[1]} if reached else set()


class StyledOnce:
    """Mixed into a Screen: each widget is styled once, when it is mounted.

    Textual styles a screen's widgets as they mount, then again on two occasions a screen
    built for the current terminal does not need: its first resize adds the size class
    (`-wide`, `-narrow`), which restyles every widget, and its first show restyles them all
    once more. Together these were about a fifth of the workspace's first frame. The size
    class is set here before anything is styled, and the first show skips the restyle when
    the theme is the one the widgets were styled with (a theme change restyles every
    screen, shown or not, in any case). The widget the screen focuses first can be styled
    focused from the start too (`focused_from_start`).
    """

    _shown_once = False
    _styled_theme: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            app = active_app.get()
        except LookupError:
            return  # built outside a running app: styled the ordinary way
        self.add_class(*size_classes(app), update=False)  # type: ignore[attr-defined]
        self._styled_theme = app.theme

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual's own handler (Screen's) runs after this one and reads the flag.
        if not self._shown_once:
            self._shown_once = True
            if self.app.theme == self._styled_theme:  # type: ignore[attr-defined]
                event.refresh_styles = False

    def focused_from_start(self, widget: W) -> W:
        """`widget`, styled as focused when it is mounted: for the screen's AUTO_FOCUS widget,
        yielded from compose.

        Textual styles a widget as it mounts, then focuses the screen's AUTO_FOCUS widget,
        which restyles it with `:focus`: for the agenda tree and its eighteen component
        classes some 5 ms of the first frame. Marked focused first, it is styled once, with
        `:focus`; Textual's focus then finds it already set and restyles nothing. Only where
        Textual will focus it at once: the app has the terminal's focus and nothing on the
        screen is focused yet (Screen._update_auto_focus, after compose).
        """
        app = active_app.get()
        if app.app_focus and getattr(self, "focused", None) is None \
                and widget.can_focus and not widget.disabled:
            widget.set_reactive(Widget.has_focus, True)
        return widget
