"""The Footer, rebuilt once per burst of binding changes, without restyling each key twice."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class AgendaFooter(Footer):
    """Looks and behaves like Textual's Footer; only cheaper to rebuild.

    * The Footer recomposes all its keys after every bindings update, and opening a screen
      sends several in a row (screen stack, focus, tabs). Requests that arrive while a
      rebuild is pending are folded into it: the rebuild reads the bindings as they are when
      it runs, so the result is the same.
    * A rebuild that would show the same keys as the last one (focus moved between widgets
      with no bindings of their own) is skipped.
    * Each new key starts out compact (its own default) and is then bound to the footer's
      non-compact style, so it is restyled twice before it is shown. Bound keys are given
      the footer's style before they are mounted instead.
    """

    _rebuild_pending = False
    _shown: tuple[object, ...] | None = None  # what the keys were last built from

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # The palette key is not bound to the footer's style: it keeps its own.
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _signature(self) -> tuple[object, ...]:
        return (self.compact, self.show_command_palette, *(
            (binding.key, self.app.get_key_display(binding), binding.action,
             binding.description, binding.show, binding.group, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()))

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        signature = self._signature()
        if signature != self._shown:
            self._shown = signature
            await self.recompose()
