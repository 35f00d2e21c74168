"""The Footer: Help, Export and Quit first, no key the focused editor types; one widget."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.keys import _character_to_key
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input

# Keys a text field types rather than passes on: their bindings never fire while one has focus.
PRINTABLE = frozenset(_character_to_key(chr(code)) for code in range(32, 127))
# Shown first, so that a narrow terminal clips the others, never these.
FIRST = ("help", "export", "quit")


def typed(key: str) -> bool:
    return key in PRINTABLE or len(key) == 1


def shown_keys(active: Iterable[tuple[Binding, bool, str]], typing: bool
               ) -> list[tuple[Binding, bool, str]]:
    """The footer's keys in order: one per action, those of FIRST leading.

    While a text field has focus (`typing`), a printable key types a character, so its
    binding is not advertised; an action of FIRST is then shown under another key it has
    (F1, ctrl+o, ctrl+q) even when that binding is hidden from the footer.
    """
    by_action: dict[str, list[tuple[Binding, bool, str]]] = {}
    for entry in active:
        binding = entry[0]
        action = binding.action.removeprefix("app.").removeprefix("screen.")
        if typing and (typed(binding.key) or typed(binding.key_display or "")):
            continue
        if binding.show or action in FIRST:
            by_action.setdefault(action, []).append(entry)
    order = [a for a in FIRST if a in by_action] + [a for a in by_action if a not in FIRST]
    chosen = []
    for action in order:
        entries = by_action[action]
        # A shown binding's key and description before a hidden one's.
        chosen.append(next((e for e in entries if e[0].show), entries[0]))
    return chosen


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str  # what a click presses
    key_display: str
    description: str
    enabled: bool
    tooltip: str


class AgendaFooter(Widget, can_focus=False):
    """Textual's Footer drawn by one widget.

    Textual's Footer is a scrolling container of one FooterKey widget per key (17 on the
    workspace), each styled, laid out and rendered on its own, and all recomposed after every
    bindings update. Here the keys are one line of text: a change of keys repaints that line
    and lays nothing out. It looks the same (the same theme variables, paddings and styles),
    and a key is still clicked (pressed) and hovered where it is drawn.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer-key--hover"}
    DEFAULT_CSS = """
    AgendaFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        & > .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer-key--hover {
            background: $block-hover-background;
        }
    }
    """

    _rebuild_pending = False
    _entries: tuple[FooterEntry, ...] | None = None
    _hovered: int | None = None

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        # Where each key is drawn, from the last render: (start, end) columns.
        self._spans: list[tuple[int, int]] = []

    # What is shown ----------------------------------------------------------------------

    @property
    def entries(self) -> tuple[FooterEntry, ...]:
        """The keys shown, in order (read when first drawn, then after bindings updates)."""
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _source(self) -> Screen[object]:
        """Whose keys to show: the dialog's when one is open over this screen (a dialog's
        keys are the only ones that work then), else this screen's."""
        top = self.app.screen
        return top if isinstance(top, ModalScreen) and top is not self.screen else self.screen

    def _typing(self) -> bool:
        focused = self._source().focused
        if isinstance(focused, Input):
            return True
        # Not imported for the first frame (~10 ms): no editor exists before its module does.
        module = sys.modules.get("textual.widgets._text_area")
        return module is not None and isinstance(focused, module.TextArea) \
            and not focused.read_only

    def _read(self) -> tuple[FooterEntry, ...]:
        active = ((binding, enabled, tooltip) for _, binding, enabled, tooltip
                  in self._source().active_bindings.values())
        return tuple(
            FooterEntry(binding.key, self.app.get_key_display(binding),
                        binding.description or binding.action.title(), enabled, tooltip)
            for binding, enabled, tooltip in shown_keys(active, self._typing()))

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Opening a screen sends several updates in a row (screen stack, focus, tabs): those
        # that arrive while a rebuild is pending are folded into it, which reads the bindings
        # as they are when it runs.
        if not screen.app.app_focus:
            return
        if self.is_attached and (screen is self.screen or screen is self.app.screen) \
                and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        entries = self._read()
        if entries == self._entries:
            return  # focus moved between widgets with no shown bindings of their own
        self._entries = entries
        self._hovered = None
        self.refresh()
        if self.screen is not self.app.screen:
            # Under a dialog this screen is painted as the dialog's background: the dialog
            # is painted again to show the new keys.
            self.app.screen.refresh()

    # Drawing ----------------------------------------------------------------------------

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        hover = self.get_component_rich_style("footer-key--hover")
        hover = Style(bgcolor=hover.bgcolor)
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for index, entry in enumerate(self.entries):
            start = len(line)
            extra = hover if index == self._hovered else Style()
            if not entry.enabled:
                extra += Style(dim=True)
            line.append(f" {entry.key_display} ", key_style + extra)
            if entry.description:
                line.append(f"{entry.description} ", description_style + extra)
            self._spans.append((start, len(line)))
        return line

    def _at(self, x: int) -> int | None:
        return next((n for n, (start, end) in enumerate(self._spans) if start <= x < end),
                    None)

    # The mouse --------------------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._at(event.x)
        if index is None:
            return
        entry = self.entries[index]
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, index: int | None) -> None:
        if index == self._hovered:
            return
        self._hovered = index
        tooltip = self.entries[index].tooltip if index is not None else ""
        self.tooltip = tooltip or None
        self.styles.pointer = "pointer" if index is not None else "default"
        self.refresh()
