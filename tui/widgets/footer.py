"""The Footer: Help, Export and Quit first, no key the focused editor types, rebuilt cheaply."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.keys import _character_to_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

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


class AgendaFooter(Footer):
    """Looks and behaves like Textual's Footer; only cheaper to rebuild.

    * The Footer recomposes all its keys after every bindings update, and opening a screen
      sends several in a row (screen stack, focus, tabs). Requests that arrive while a
      rebuild is pending are folded into it: the rebuild reads the bindings as they are when
      it runs, so the result is the same.
    * The keys are built with the footer, and a rebuild that would show the same keys as the
      last one (focus moved between widgets with no shown bindings of their own) is skipped.
    * Each new key starts out compact (its own default) and is then bound to the footer's
      non-compact style, so it is restyled twice before it is shown. Bound keys are given
      the footer's style before they are mounted instead.
    """

    _rebuild_pending = False
    _shown: tuple[object, ...] | None = None  # what the keys were last built from

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

    def _keys(self) -> list[tuple[Binding, bool, str]]:
        return shown_keys(((binding, enabled, tooltip) for _, binding, enabled, tooltip
                           in self._source().active_bindings.values()), self._typing())

    def compose(self) -> ComposeResult:
        # Built at once, not only after the first bindings update: the first frame then has
        # its keys, and the rebuild that follows finds them unchanged (see _signature).
        keys = self._keys()
        self._shown = self._signature(keys)
        self.styles.grid_size_columns = len(keys)
        for binding, enabled, tooltip in keys:
            key = FooterKey(binding.key, self.app.get_key_display(binding),
                            binding.description or binding.action.title(), binding.action,
                            disabled=not enabled, tooltip=tooltip)
            # Given the footer's style before it is mounted (see the class docstring).
            key.set_reactive(FooterKey.compact, self.compact)
            key.set_class(self.compact, "-compact", update=False)
            yield key.data_bind(compact=Footer.compact)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and (screen is self.screen or screen is self.app.screen) \
                and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _signature(self, keys: list[tuple[Binding, bool, str]]) -> tuple[object, ...]:
        """What the footer shows: focus moving to a widget whose own bindings are all hidden
        (the tree's, on the first frame) changes nothing here."""
        return (self.compact, *(
            (binding.key, self.app.get_key_display(binding), binding.action,
             binding.description, enabled, tooltip)
            for binding, enabled, tooltip in keys))

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        if self._signature(self._keys()) != self._shown:
            await self.recompose()
            if self.screen is not self.app.screen:
                self.call_after_refresh(self._show_under_dialog)

    def _show_under_dialog(self) -> None:
        """Under a dialog this screen is painted as the dialog's background, and a layout it
        needs is not always run: with an export screen built in idle time just before the
        dialog opened, the new keys were mounted and never shown (the screen's own stayed
        under the dialog; tests/tui/test_footer_under_dialog.py)."""
        if self.is_attached and self.screen is not self.app.screen:
            self.screen._refresh_layout(self.app.size)  # Textual is pinned (pyproject)
            self.app.screen.refresh()
